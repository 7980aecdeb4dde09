//! What recording metrics costs a request: a whole Actix request through `JwtAuth` with a
//! verified-token cache hit, with no recorder (the facade's no-op) and with the Prometheus recorder
//! the quickstart uses, interleaved twice in the same run to expose drift.
//!
//! ```text
//! cargo bench -p auth-actix --features testing --bench metrics
//! ```

use actix_web::{App, HttpResponse, test, web};
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{Identity, JwtAuth, Verified};
use criterion::{Criterion, criterion_group, criterion_main};

async fn me(caller: Verified<Identity>) -> HttpResponse {
    HttpResponse::Ok().body(caller.subject.clone())
}

fn requests(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let issuer = local.block_on(&runtime, TestIssuer::start());
    let token = issuer.token().subject("ada").roles(["admin"]).sign();
    let build = || {
        local.block_on(&runtime, async {
            let auth = JwtAuth::new(issuer.provider()).unwrap();
            auth.prefetch().await.unwrap();
            test::init_service(App::new().wrap(auth).route("/me", web::get().to(me))).await
        })
    };
    // Handles register on first use with the recorder present then: the recorded app serves
    // under the local recorder (its first request registers them), the plain one never does.
    let plain = build();
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let recorded = build();
    let mut group = c.benchmark_group("request");
    for (case, app, recording) in [
        ("no_recorder", &plain, false),
        ("prometheus_recorder", &recorded, true),
        ("no_recorder_again", &plain, false),
        ("prometheus_recorder_again", &recorded, true),
    ] {
        group.bench_function(case, |b| {
            let _local = recording.then(|| metrics::set_default_local_recorder(&recorder));
            b.iter(|| {
                local.block_on(&runtime, async {
                    let request = test::TestRequest::get().uri("/me").bearer(&token);
                    let response = test::call_service(app, request.to_request()).await;
                    assert!(response.status().is_success());
                })
            })
        });
    }
    // What the recorder adds per admitted request, alone: the decision and cache counters, the
    // timing and the histogram sample (the request path does exactly these).
    let (decision, cache_hit, seconds) = metrics::with_local_recorder(&recorder, || {
        (
            metrics::counter!("bench_decisions_total", "issuer" => "x", "outcome" => "allowed"),
            metrics::counter!("bench_cache_total", "result" => "hit"),
            metrics::histogram!("bench_verify_seconds", "issuer" => "x"),
        )
    });
    group.bench_function("recording_alone", |b| {
        b.iter(|| {
            let started = quanta::Instant::now();
            cache_hit.increment(1);
            seconds.record(started.elapsed());
            decision.increment(1);
        })
    });
    group.bench_function("clock_pair_alone", |b| {
        b.iter(|| std::hint::black_box(std::time::Instant::now().elapsed()))
    });
    group.bench_function("quanta_pair_alone", |b| {
        b.iter(|| std::hint::black_box(quanta::Instant::now().elapsed()))
    });
    group.bench_function("histogram_alone", |b| {
        b.iter(|| seconds.record(std::hint::black_box(0.000_001)))
    });
    group.finish();
    assert!(
        handle.render().contains("auth_decisions_total"),
        "the recorded app counted its decisions"
    );
}

criterion_group!(benches, requests);
criterion_main!(benches);
