//! A recorder installed after `JwtAuth::new` (and after the keys were fetched) still counts every
//! decision: handles register on first use, not when the middleware is built. A binary of its own,
//! as a recorder is process-global and this one must be installed late.

use actix_web::{App, HttpResponse, HttpServer, web};
use auth_actix::testing::TestIssuer;
use auth_actix::{Identity, JwtAuth, Verified};
use tests::init_tracing;

async fn me(caller: Verified<Identity>) -> HttpResponse {
    HttpResponse::Ok().body(caller.subject.clone())
}

/// The value of the one rendered series named `name` whose labels include every one of `labels`.
fn series(rendered: &str, name: &str, labels: &[&str]) -> Option<f64> {
    rendered
        .lines()
        .filter(|line| line.starts_with(&format!("{name}{{")))
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[actix_web::test]
async fn a_recorder_installed_after_the_middleware_counts_allowed_decisions() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider()).unwrap();
    auth.prefetch().await.unwrap();
    // Late, as an application that builds its configuration first and its exporter second.
    let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .unwrap();

    let server = HttpServer::new(move || {
        App::new()
            .wrap(auth.clone())
            .route("/me", web::get().to(me))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://{}/me", server.addrs()[0]);
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let client = tests::client();
    let token = issuer.token().subject("ada").sign();
    for _ in 0..2 {
        let reply = client.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(reply.status(), 200);
    }
    let refused = client
        .get(&url)
        .bearer_auth(issuer.token().expired().sign())
        .send();
    assert_eq!(refused.await.unwrap().status(), 401);
    handle.stop(true).await;

    let rendered = prometheus.render();
    let issuer_label = format!("issuer=\"{}\"", issuer.issuer());
    let decisions = |outcome: &str| {
        let outcome = format!("outcome=\"{outcome}\"");
        series(
            &rendered,
            "auth_decisions_total",
            &[&issuer_label, &outcome],
        )
    };
    assert_eq!(decisions("allowed"), Some(2.0), "{rendered}");
    assert_eq!(decisions("rejected"), Some(1.0), "{rendered}");
    let cache = |result: &str| {
        let result = format!("result=\"{result}\"");
        series(&rendered, "auth_verified_cache_total", &[&result])
    };
    assert_eq!(
        (cache("miss"), cache("hit")),
        (Some(2.0), Some(1.0)),
        "{rendered}"
    );
    let timed = series(&rendered, "auth_verify_seconds_count", &[&issuer_label]);
    assert_eq!(timed, Some(2.0), "{rendered}");
}
