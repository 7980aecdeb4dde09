//! The request edge after the second attacker read: a DPoP proof behind a proxy that forwards the
//! client's `Host`, and a role resolver that extracts its caller in a task of its own. Public API
//! only. Each test states what should hold; its doc comment names the attack.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use actix_web::{App, FromRequest, HttpResponse, web};
use auth_actix::testing::{DpopKey, TestIssuer, TestRequestExt};
use auth_actix::{Identity, JwtAuth, ResolveError, RoleRequest, Verified};
use tests::{init_tracing, send};

#[actix_web::get("/items")]
async fn items(caller: Verified<Identity>) -> HttpResponse {
    HttpResponse::Ok().body(caller.subject.clone())
}

/// Issue 30 (Low 2) refuses DPoP without a public origin because the `Host` a client sends is its
/// own choice, unless the host is listed with `JwtAuth::allowed_hosts`. With
/// `trust_forwarded_headers()` no list applies: the host is whatever the proxy forwards, and a
/// proxy that does everything the docs ask (sets `X-Forwarded-Host $host` and
/// `X-Forwarded-Proto`, strips the client's `Forwarded`) forwards the `Host` the client sent
/// wherever it has a catch-all server (nginx's `default_server`, a load balancer's default rule,
/// any proxy reached by IP). A proof captured at instance A (`https://a.example.com`) replays at
/// instance B, which accepts the same audience, by sending `Host: a.example.com` to B's proxy.
/// `JwtAuth::allowed_hosts` is documented not to apply here, so B cannot even name its host; and
/// the forwarded host is not read as a host at all (`X-Forwarded-Host: a.example.com/admin?` makes
/// the URL `https://a.example.com/admin?/items`, whose `htu` form is A's `/admin`).
#[actix_web::test]
async fn a_proof_for_another_host_is_refused_behind_a_proxy_that_forwards_the_clients_host() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let key = DpopKey::generate();
    let token = issuer.token().subject("victim").dpop_bound(&key).sign();
    let instance_b = JwtAuth::new(issuer.provider())
        .unwrap()
        .trust_forwarded_headers()
        .allowed_hosts(["b.example.com"])
        .unwrap();
    let app = actix_web::test::init_service(App::new().wrap(instance_b).service(items)).await;
    // A proof made for A, captured.
    let proof = key.proof("GET", "https://a.example.com/items", &token);
    // What B's proxy sends on: the client's Host as X-Forwarded-Host, its own scheme, no Forwarded.
    let replay = TestRequest::get()
        .uri("/items")
        .insert_header(("host", "10.0.0.7:8080"))
        .insert_header(("x-forwarded-proto", "https"))
        .insert_header(("x-forwarded-host", "a.example.com"))
        .dpop(&token, &proof);
    let reply = send(&app, replay).await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "A's proof accepted at B, though B lists only its own host: {}",
        reply.body
    );
}

/// The re-entrant extraction check is a task-local set while the resolver is polled. A resolver
/// that does its work in a task of its own (`actix_web::rt::spawn`, to look several things up at
/// once or to reuse a helper that takes the request and extracts its caller) escapes it: in the
/// spawned task the extraction sees a resolution in progress that is not its own and waits for
/// it, while the resolver waits for the task. The request never completes and holds its
/// connection and task: the hang issue 32.9 asked to turn into a 500.
#[actix_web::test]
async fn a_resolver_extracting_its_caller_in_a_spawned_task_fails_instead_of_hanging() {
    async fn resolve(req: RoleRequest) -> Result<Vec<String>, ResolveError> {
        let request = req.request().clone();
        let caller = actix_web::rt::spawn(async move {
            Verified::<Identity>::extract(&request)
                .await
                .map(|caller| caller.subject.clone())
        })
        .await
        .map_err(|error| ResolveError::Failed(error.to_string()))?;
        Ok(caller
            .map(|_| vec!["reader".to_owned()])
            .unwrap_or_default())
    }
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider())
        .unwrap()
        .role_resolver(resolve);
    let app = actix_web::test::init_service(App::new().wrap(auth).route(
        "/agents/{id}",
        web::get().to(|caller: Verified<Identity>| async move {
            HttpResponse::Ok().body(caller.roles.iter().cloned().collect::<Vec<_>>().join(","))
        }),
    ))
    .await;
    let token = issuer.token().subject("ada").sign();
    let request = TestRequest::get().uri("/agents/1").bearer(&token);
    let reply = tokio::time::timeout(Duration::from_secs(10), send(&app, request)).await;
    let Ok(reply) = reply else {
        panic!(
            "the request hangs: the spawned extraction waits for the resolver that waits for it"
        );
    };
    assert_eq!(
        reply.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "the resolver's own caller cannot be extracted, in whatever task: {}",
        reply.body
    );
}
