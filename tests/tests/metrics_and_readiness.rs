//! What operators see: readiness that follows the keys, and metrics recorded with bounded labels.
//! One process-wide recorder serves this file (a recorder is global), and snapshots reset the
//! counters, so the metrics checks live in one test.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, test, web};
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{Identity, JwtAuth, Revocations, Verified, Verifier, require_role};
use auth_core::metrics::METRIC_NAMES;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use tests::{init_tracing, send};

#[tokio::test]
async fn readiness_follows_the_keys_and_the_revocations() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    issuer.set_outage(true);
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(Revocations::in_memory());

    let before = verifier.readiness();
    assert!(!before.ready, "{before:?}");
    assert_eq!(before.issuers[0].issuer, issuer.issuer());
    assert_eq!((before.issuers[0].keys, before.issuers[0].age), (0, None));
    assert_eq!(before.revocations_loaded, Some(true));

    assert!(verifier.prefetch().await.is_err());
    let down = verifier.readiness();
    assert!(!down.ready);
    let error = down.issuers[0].last_error.as_deref().unwrap_or_default();
    assert!(
        error.contains(&issuer.jwks_url()) || error.contains(issuer.issuer()),
        "{error}"
    );

    issuer.set_outage(false);
    tokio::time::sleep(TestIssuer::fast_key_settings().failure_backoff).await;
    verifier.prefetch().await.unwrap();
    let up = verifier.readiness();
    assert!(up.ready, "{up:?}");
    assert!(up.issuers[0].usable && up.issuers[0].keys >= 1);
    assert!(up.issuers[0].age.is_some() && up.issuers[0].last_error.is_none());

    // Keys survive a later outage: still ready, the last error reported beside usable keys.
    issuer.set_outage(true);
    let _ = verifier
        .verify::<serde_json::Value>(&issuer.token().kid("rotated-away").sign())
        .await;
    let outage = verifier.readiness();
    assert!(outage.ready, "{outage:?}");
    let json = serde_json::to_value(&outage).unwrap();
    assert!(json["issuers"][0]["age"].is_u64(), "{json}");
}

#[require_role("admin")]
async fn admin(_: Verified<Identity>) -> HttpResponse {
    HttpResponse::Ok().finish()
}

async fn me(caller: Verified<Identity>) -> HttpResponse {
    HttpResponse::Ok().body(caller.subject.clone())
}

/// Sums of every series by name and labels, rendered `name{k=v,...}` with sorted labels.
type Series = HashMap<String, f64>;

fn snapshot(recorder: &metrics_util::debugging::Snapshotter) -> Series {
    let mut series = Series::new();
    for (key, _, _, value) in recorder.snapshot().into_vec() {
        let mut labels: Vec<String> = key
            .key()
            .labels()
            .map(|label| format!("{}={}", label.key(), label.value()))
            .collect();
        labels.sort();
        let name = format!("{}{{{}}}", key.key().name(), labels.join(","));
        let value = match value {
            DebugValue::Counter(count) => count as f64,
            DebugValue::Gauge(gauge) => gauge.into_inner(),
            DebugValue::Histogram(samples) => samples.len() as f64,
        };
        *series.entry(name).or_default() += value;
    }
    series
}

fn value(series: &Series, name: &str, labels: &[&str]) -> f64 {
    let mut labels: Vec<&str> = labels.to_vec();
    labels.sort_unstable();
    series
        .get(&format!("{name}{{{}}}", labels.join(",")))
        .copied()
        .unwrap_or(0.0)
}

#[actix_web::test]
async fn every_decision_and_key_fetch_is_counted_with_bounded_labels() {
    init_tracing();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    let issuer = TestIssuer::start().await;
    let label = format!("issuer={}", issuer.issuer());
    let label = label.as_str();
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(issuer.provider()).unwrap())
            .route("/me", web::get().to(me))
            .route("/admin", web::get().to(admin)),
    )
    .await;

    let secret_subject = "subject-that-must-not-be-a-label";
    let user = issuer
        .token()
        .subject(secret_subject)
        .roles(["user"])
        .sign();
    let get = |uri: &str| test::TestRequest::get().uri(uri);
    assert_eq!(
        send(&app, get("/me").bearer(&user)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, get("/me").bearer(&user)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, get("/admin").bearer(&user)).await.status,
        StatusCode::FORBIDDEN
    );
    let expired = issuer.token().subject(secret_subject).expired().sign();
    assert_eq!(
        send(&app, get("/me").bearer(&expired)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let elsewhere = issuer.token().audience("https://other.example").sign();
    assert_eq!(
        send(&app, get("/me").bearer(&elsewhere)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, get("/me")).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Two random kids inside one cooldown: one refetch, then a refusal without a fetch.
    for kid in ["random-kid-1", "random-kid-2"] {
        let token = issuer.token().kid(kid).sign();
        assert_eq!(
            send(&app, get("/me").bearer(&token)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let foreign = issuer.token().issuer("https://attacker.example").sign();
    assert_eq!(
        send(&app, get("/me").bearer(&foreign)).await.status,
        StatusCode::UNAUTHORIZED
    );

    let series = snapshot(&snapshotter);
    let decisions = "auth_decisions_total";
    let allowed = ["code=OK", "outcome=allowed", "reason=ok", label];
    assert_eq!(value(&series, decisions, &allowed), 2.0, "{series:#?}");
    let forbidden = [
        "code=FORBIDDEN",
        "outcome=forbidden",
        "reason=forbidden",
        label,
    ];
    assert_eq!(value(&series, decisions, &forbidden), 1.0, "{series:#?}");
    let expired = [
        "code=TOKEN_EXPIRED",
        "outcome=rejected",
        "reason=expired",
        label,
    ];
    assert_eq!(value(&series, decisions, &expired), 1.0, "{series:#?}");
    let audience = [
        "code=INVALID_TOKEN",
        "outcome=rejected",
        "reason=bad_audience",
        label,
    ];
    assert_eq!(value(&series, decisions, &audience), 1.0, "{series:#?}");
    let unknown = [
        "code=INVALID_TOKEN",
        "outcome=rejected",
        "reason=unknown_key",
        label,
    ];
    assert_eq!(value(&series, decisions, &unknown), 2.0, "{series:#?}");
    let missing = series
        .iter()
        .filter(|(name, _)| name.contains("reason=missing"))
        .map(|(_, count)| *count)
        .sum::<f64>();
    assert_eq!(missing, 1.0, "{series:#?}");

    assert!(
        value(&series, "auth_verify_seconds", &[label]) >= 2.0,
        "{series:#?}"
    );
    assert_eq!(
        value(&series, "auth_verified_cache_total", &["result=hit"]),
        2.0
    );
    assert!(
        value(
            &series,
            "auth_jwks_fetches_total",
            &[label, "result=success"]
        ) >= 2.0
    );
    assert_eq!(
        value(&series, "auth_jwks_unknown_kid_refetches_total", &[label]),
        1.0
    );
    assert_eq!(
        value(&series, "auth_jwks_cooldown_refusals_total", &[label]),
        1.0
    );
    assert!(value(&series, "auth_jwks_keys", &[label]) >= 1.0);
    assert!(
        value(
            &series,
            "auth_jwks_last_success_timestamp_seconds",
            &[label]
        ) > 1.7e9
    );

    for name in series.keys() {
        let base = name.split('{').next().unwrap_or_default();
        assert!(
            METRIC_NAMES.contains(&base),
            "{name} is not in METRIC_NAMES"
        );
        assert!(
            !name.contains(secret_subject),
            "a subject became a label: {name}"
        );
        assert!(
            !name.contains("attacker.example"),
            "a token's iss became a label: {name}"
        );
    }
    // The foreign issuer's refusal is counted, under a fixed label rather than its `iss`.
    let unknown_issuer = series
        .iter()
        .filter(|(name, _)| name.contains("reason=unknown_issuer"))
        .map(|(_, count)| *count)
        .sum::<f64>();
    assert_eq!(unknown_issuer, 1.0, "{series:#?}");
}
