//! The generic OIDC path against a real, independent, OpenID Certified provider: the npm package
//! `oidc-provider` on loopback, issuing RFC 9068 access tokens (`typ: at+jwt`) by the client
//! credentials grant with resource indicators. Keys, rotation and outages go over the same wire as
//! production.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, test};
use auth_actix::testing::TestRequestExt;
use auth_actix::{
    AuthError, Identity, JwtAuth, Provider, StandardClaims, Verified, Verifier, require_role,
};
use serde_json::{Value, json};
use tests::oidc_provider::{OidcProvider, available};
use tests::{init_tracing, send};

const API: &str = "https://api.example.com";
const OTHER_API: &str = "https://billing.example.com";
const SHORT: &str = "https://short.example.com";

fn config(alg: &str) -> Value {
    json!({
        "alg": alg,
        "resources": [
            {"indicator": API, "format": "jwt", "scope": "read:items write:items", "ttl": 300},
            {"indicator": OTHER_API, "format": "jwt", "scope": "read:items", "ttl": 300},
            {"indicator": SHORT, "format": "jwt", "scope": "read:items", "ttl": 2},
        ],
        "clients": [
            {"client_id": "admin-app", "client_secret": "admin-secret", "scope": "read:items"},
            {"client_id": "reader-app", "client_secret": "reader-secret", "scope": "read:items"},
        ],
        "roles": {"admin-app": ["admin"]},
        "features": {"dpop": false},
    })
}

/// The configuration with its signing keys kept in `file`, so a restart can keep or replace them.
fn with_keys(mut config: Value, file: &std::path::Path) -> Value {
    config["jwks_file"] = file.to_string_lossy().into_owned().into();
    config
}

/// The API's provider for an `oidc-provider` issuer: nothing but the generic preset and the
/// audience.
fn provider(issuer: &str) -> Provider {
    Provider::oidc(issuer)
        .audience(API)
        .key_settings(auth_actix::testing::TestIssuer::fast_key_settings())
}

#[actix_web::get("/admin")]
#[require_role("admin")]
async fn admin(caller: Verified<Identity>) -> HttpResponse {
    HttpResponse::Ok().body(caller.subject.clone())
}

#[actix_web::get("/items")]
#[auth_actix::require_scope("read:items")]
async fn items(caller: Verified<Identity>) -> HttpResponse {
    HttpResponse::Ok().body(format!("items for {}", caller.subject))
}

#[actix_web::test]
async fn every_algorithm_the_provider_signs_with_is_accepted_by_the_generic_preset() {
    init_tracing();
    if !available("oidc_provider") {
        return;
    }
    for alg in ["RS256", "PS256", "ES256", "EdDSA"] {
        let op = OidcProvider::start(config(alg)).await;
        let token = op
            .token("reader-app", "reader-secret", API, "read:items")
            .await;
        let header: Value =
            serde_json::from_slice(&tests::unb64(&tests::segments(&token)[0])).unwrap();
        assert_eq!(
            (header["typ"].as_str(), header["alg"].as_str()),
            (Some("at+jwt"), Some(alg))
        );
        // Its access tokens are RFC 9068 ones: strict mode takes them.
        let verifier = Verifier::new(provider(op.issuer()).rfc9068()).unwrap();
        let claims = verifier
            .verify::<StandardClaims>(&token)
            .await
            .unwrap_or_else(|err| panic!("{alg}: {err}"));
        assert_eq!(claims.sub, "reader-app", "{alg}");
        assert_eq!(
            claims.identity().kind,
            auth_actix::IdentityKind::Service,
            "client credentials"
        );
        assert!(
            claims.identity().has_scope("read:items"),
            "{alg}: {:?}",
            claims.identity()
        );
        assert_eq!(claims.extra["client_id"], "reader-app");
    }
}

#[actix_web::test]
async fn roles_from_the_provider_reach_the_guards() {
    init_tracing();
    if !available("oidc_provider") {
        return;
    }
    let op = OidcProvider::start(config("ES256")).await;
    let auth = JwtAuth::new(provider(op.issuer())).unwrap();
    let app = test::init_service(App::new().wrap(auth).service(admin).service(items)).await;
    let admin_token = op
        .token("admin-app", "admin-secret", API, "read:items")
        .await;
    let reader_token = op
        .token("reader-app", "reader-secret", API, "read:items")
        .await;
    let get = |uri: &str, token: &str| test::TestRequest::get().uri(uri).bearer(token);
    let answer = send(&app, get("/admin", &admin_token)).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, "admin-app")
    );
    assert_eq!(
        send(&app, get("/admin", &reader_token)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&app, get("/items", &reader_token)).await.status,
        StatusCode::OK
    );
    let no_scope = op.token("reader-app", "reader-secret", API, "").await;
    assert_eq!(
        send(&app, get("/items", &no_scope)).await.status,
        StatusCode::FORBIDDEN
    );
}

#[actix_web::test]
async fn tokens_for_another_resource_server_or_past_their_expiry_are_refused() {
    init_tracing();
    if !available("oidc_provider") {
        return;
    }
    let op = OidcProvider::start(config("RS256")).await;
    let verifier = Verifier::new(provider(op.issuer()).leeway(Duration::ZERO)).unwrap();
    let billing = op
        .token("admin-app", "admin-secret", OTHER_API, "read:items")
        .await;
    assert_eq!(
        verifier
            .verify::<StandardClaims>(&billing)
            .await
            .unwrap_err()
            .reason(),
        "bad_audience"
    );

    let short = Provider::oidc(op.issuer())
        .audience("https://short.example.com")
        .leeway(Duration::ZERO);
    let short_verifier = Verifier::new(short).unwrap();
    let token = op
        .token(
            "reader-app",
            "reader-secret",
            "https://short.example.com",
            "read:items",
        )
        .await;
    short_verifier
        .verify::<StandardClaims>(&token)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(
        short_verifier
            .verify::<StandardClaims>(&token)
            .await
            .unwrap_err(),
        AuthError::Expired
    );
}

#[actix_web::test]
async fn a_rotation_without_overlap_is_picked_up_and_the_old_key_dies() {
    init_tracing();
    if !available("oidc_provider") {
        return;
    }
    let keys = std::env::temp_dir().join(format!("oidc-provider-keys-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&keys);
    let mut op = OidcProvider::start(with_keys(config("ES256"), &keys)).await;
    let verifier = Verifier::new(provider(op.issuer())).unwrap();
    let before = op
        .token("reader-app", "reader-secret", API, "read:items")
        .await;
    verifier.verify::<StandardClaims>(&before).await.unwrap();

    op.restart(true).await;
    let after = op
        .token("reader-app", "reader-secret", API, "read:items")
        .await;
    assert_ne!(
        tests::segments(&before)[0],
        tests::segments(&after)[0],
        "a new kid"
    );
    // The new kid is unknown to the cached key set: one refetch, then it verifies.
    verifier.verify::<StandardClaims>(&after).await.unwrap();
    // The old key is gone from the set, and with it every token it signed, cached or not.
    let err = verifier
        .verify::<StandardClaims>(&before)
        .await
        .unwrap_err();
    assert_eq!(err, AuthError::UnknownKey);
    let _ = std::fs::remove_file(&keys);
}

#[actix_web::test]
async fn keys_survive_an_outage_and_an_api_started_during_one_recovers() {
    init_tracing();
    if !available("oidc_provider") {
        return;
    }
    let keys =
        std::env::temp_dir().join(format!("oidc-provider-outage-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&keys);
    let mut op = OidcProvider::start(with_keys(config("EdDSA"), &keys)).await;
    let running = JwtAuth::new(provider(op.issuer()))
        .unwrap()
        .verified_cache(0);
    running.prefetch().await.unwrap();
    let token = op
        .token("admin-app", "admin-secret", API, "read:items")
        .await;

    op.stop().await;
    // An API that had its keys keeps verifying with them.
    let app = test::init_service(App::new().wrap(running).service(admin)).await;
    let req = || test::TestRequest::get().uri("/admin").bearer(&token);
    assert_eq!(send(&app, req()).await.status, StatusCode::OK);

    // An API that starts now comes up anyway, answering 503 until the provider is back.
    let starting = JwtAuth::new(provider(op.issuer())).unwrap();
    starting
        .warm_up()
        .await
        .expect("an unreachable issuer is not a misconfiguration");
    let app = test::init_service(App::new().wrap(starting).service(admin)).await;
    let during = send(&app, req()).await;
    assert_eq!(during.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(during.code(), "AUTH_UNAVAILABLE");
    assert!(during.header("retry-after").is_some());

    op.restart(false).await;
    let recovered = tests::poll(
        Duration::from_secs(15),
        || send(&app, req()),
        |reply| reply.status == StatusCode::OK,
    )
    .await;
    assert_eq!(
        recovered.status,
        StatusCode::OK,
        "recovered without a restart: {}",
        recovered.body
    );
    let _ = std::fs::remove_file(&keys);
}
