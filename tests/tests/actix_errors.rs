//! Every row of the error table through the middleware: status, JSON body, `WWW-Authenticate`,
//! `Retry-After`, and the custom error handler.

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, test, web};
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{AuthRejection, Identity, JwtAuth, NamedRule, Require, Rule, Verified};
use tests::{init_tracing, send};

struct Admin;
impl NamedRule for Admin {
    const RULE: Rule = Rule::any_role(&["admin"]);
}

async fn me(identity: Verified<Identity>) -> HttpResponse {
    HttpResponse::Ok().body(identity.subject.clone())
}

async fn admin(_: Require<Admin>) -> HttpResponse {
    HttpResponse::Ok().body("admin")
}

macro_rules! app {
    ($auth:expr) => {
        test::init_service(
            App::new()
                .wrap($auth)
                .route("/me", web::get().to(me))
                .route("/admin", web::get().to(admin)),
        )
        .await
    };
}

#[actix_web::test]
async fn no_token_is_401_unauthorized_without_error_attribute() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let app = app!(JwtAuth::new(issuer.provider()).unwrap());
    let answer = send(&app, test::TestRequest::get().uri("/me")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), "UNAUTHORIZED");
    assert_eq!(answer.json()["error"]["message"], "Authentication required");
    assert_eq!(
        answer.header("www-authenticate"),
        Some(r#"Bearer realm="api""#)
    );
}

#[actix_web::test]
async fn invalid_token_is_401_invalid_token() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let app = app!(JwtAuth::new(issuer.provider()).unwrap().realm("orders"));
    for token in [
        "garbage".to_owned(),
        issuer.token().audience("someone-else").sign(),
        issuer
            .token()
            .header("jku", "https://attacker.example")
            .sign(),
        tests::with_flipped_signature_bit(&issuer.token().sign()),
    ] {
        let answer = send(&app, test::TestRequest::get().uri("/me").bearer(&token)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(answer.code(), "INVALID_TOKEN");
        assert_eq!(
            answer.json()["error"]["message"],
            "The access token is invalid"
        );
        let challenge = answer.header("www-authenticate").unwrap();
        assert!(
            challenge.starts_with(
                r#"Bearer realm="orders", error="invalid_token", error_description=""#
            ),
            "{challenge}"
        );
        assert!(
            !answer.body.contains(&token),
            "the body never echoes the token"
        );
    }
    let empty_bearer = send(
        &app,
        test::TestRequest::get()
            .uri("/me")
            .insert_header(("authorization", "Bearer ")),
    )
    .await;
    assert_eq!(empty_bearer.code(), "INVALID_TOKEN");
}

#[actix_web::test]
async fn expired_token_is_401_token_expired() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let app = app!(JwtAuth::new(issuer.provider()).unwrap());
    let answer = send(
        &app,
        test::TestRequest::get()
            .uri("/me")
            .bearer(&issuer.token().expired().sign()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), "TOKEN_EXPIRED");
    assert_eq!(
        answer.header("www-authenticate"),
        Some(r#"Bearer realm="api", error="invalid_token", error_description="token expired""#)
    );
}

#[actix_web::test]
async fn lacking_role_is_403_insufficient_scope() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let app = app!(JwtAuth::new(issuer.provider()).unwrap());
    let viewer = issuer.token().roles(["viewer"]).sign();
    let answer = send(&app, test::TestRequest::get().uri("/admin").bearer(&viewer)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.code(), "FORBIDDEN");
    assert!(
        answer
            .header("www-authenticate")
            .unwrap()
            .contains(r#"error="insufficient_scope""#)
    );
    let admin = issuer.token().roles(["admin"]).sign();
    let answer = send(&app, test::TestRequest::get().uri("/admin").bearer(&admin)).await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[actix_web::test]
async fn keys_unavailable_is_503_with_retry_after() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    issuer.set_outage(true);
    let app = app!(JwtAuth::new(issuer.provider()).unwrap());
    let answer = send(
        &app,
        test::TestRequest::get()
            .uri("/me")
            .bearer(&issuer.token().sign()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.code(), "AUTH_UNAVAILABLE");
    let retry: u64 = answer
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=5).contains(&retry), "{retry}");
    assert!(answer.header("www-authenticate").is_none());
    assert!(
        !answer.body.contains("127.0.0.1"),
        "internal causes stay in the logs"
    );
}

#[actix_web::test]
async fn missing_configuration_is_500_not_a_panic() {
    init_tracing();
    let app = test::init_service(App::new().route("/me", web::get().to(me))).await;
    let answer = send(&app, test::TestRequest::get().uri("/me").bearer("a.b.c")).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.code(), "INTERNAL_ERROR");
    assert_eq!(answer.json()["error"]["message"], "Internal server error");
}

#[actix_web::test]
async fn custom_error_handler_replaces_the_body_and_keeps_the_challenge() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth =
        JwtAuth::new(issuer.provider())
            .unwrap()
            .error_handler(|rejection: &AuthRejection| {
                HttpResponse::build(rejection.status())
                    .json(serde_json::json!({ "ok": false, "reason": rejection.code().as_str() }))
            });
    let app = app!(auth);
    let answer = send(&app, test::TestRequest::get().uri("/me")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.json(),
        serde_json::json!({ "ok": false, "reason": "UNAUTHORIZED" })
    );
    assert_eq!(
        answer.header("www-authenticate"),
        Some(r#"Bearer realm="api""#)
    );
    let viewer = issuer.token().roles(["viewer"]).sign();
    let answer = send(&app, test::TestRequest::get().uri("/admin").bearer(&viewer)).await;
    assert_eq!(
        answer.json()["reason"],
        "FORBIDDEN",
        "guards use the handler too"
    );
}
