//! Where tokens are read from, and the optional and public modes.

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, test, web};
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{Identity, JwtAuth, Optional, TokenSource, Verified};
use tests::{init_tracing, status_and_body};

async fn me(identity: Verified<Identity>) -> HttpResponse {
    HttpResponse::Ok().body(identity.subject.clone())
}

async fn maybe(identity: Optional<Identity>) -> HttpResponse {
    HttpResponse::Ok().body(
        identity
            .as_ref()
            .map_or_else(|| "anonymous".to_owned(), |id| id.subject.clone()),
    )
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

macro_rules! app {
    ($auth:expr) => {
        test::init_service(
            App::new()
                .wrap($auth)
                .route("/me", web::get().to(me))
                .route("/maybe", web::get().to(maybe))
                .route("/health", web::get().to(health))
                .route("/docs/{page}", web::get().to(health)),
        )
        .await
    };
}

#[actix_web::test]
async fn bearer_scheme_is_case_insensitive() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let app = app!(JwtAuth::new(issuer.provider()).unwrap());
    let token = issuer.token().subject("alice").sign();
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let req = test::TestRequest::get()
            .uri("/me")
            .insert_header(("Authorization", format!("{scheme} {token}")));
        assert_eq!(
            status_and_body(&app, req).await,
            (StatusCode::OK, "alice".to_owned()),
            "{scheme}"
        );
    }
    let basic = test::TestRequest::get()
        .uri("/me")
        .insert_header(("Authorization", "Basic dXNlcjpwYXNz"));
    assert_eq!(
        status_and_body(&app, basic).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn named_header_and_cookie_sources() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider()).unwrap().token_sources([
        TokenSource::header("Cf-Access-Jwt-Assertion"),
        TokenSource::cookie("CF_Authorization"),
    ]);
    let app = app!(auth);
    let token = issuer.token().subject("carol").sign();
    let by_header = test::TestRequest::get()
        .uri("/me")
        .insert_header(("cf-access-jwt-assertion", token.clone()));
    assert_eq!(
        status_and_body(&app, by_header).await,
        (StatusCode::OK, "carol".to_owned())
    );
    let by_cookie = test::TestRequest::get()
        .uri("/me")
        .token_cookie("CF_Authorization", &token);
    assert_eq!(
        status_and_body(&app, by_cookie).await,
        (StatusCode::OK, "carol".to_owned())
    );
    let among_cookies = test::TestRequest::get().uri("/me").insert_header((
        "cookie",
        format!("theme=dark; CF_Authorization={token}; lang=en"),
    ));
    assert_eq!(status_and_body(&app, among_cookies).await.0, StatusCode::OK);
    let bearer_not_configured = test::TestRequest::get().uri("/me").bearer(&token);
    assert_eq!(
        status_and_body(&app, bearer_not_configured).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn a_header_token_outranks_any_cookie_whatever_the_configured_order() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider())
        .unwrap()
        .token_sources([TokenSource::cookie("__session"), TokenSource::Bearer]);
    let app = app!(auth);
    let planted = issuer.token().subject("attacker").sign();
    let own = issuer.token().subject("victim").sign();
    // A cookie set from a sibling subdomain does not decide who a caller with a bearer header is.
    let both = test::TestRequest::get()
        .uri("/me")
        .token_cookie("__session", &planted)
        .bearer(&own);
    assert_eq!(status_and_body(&app, both).await.1, "victim");
    // Nor can a malformed cookie lock that caller out.
    let garbage = test::TestRequest::get()
        .uri("/me")
        .token_cookie("__session", "not a token")
        .bearer(&own);
    assert_eq!(
        status_and_body(&app, garbage).await,
        (StatusCode::OK, "victim".to_owned())
    );
    let cookie_only = test::TestRequest::get()
        .uri("/me")
        .token_cookie("__session", &planted);
    assert_eq!(status_and_body(&app, cookie_only).await.1, "attacker");
    let bearer_only = test::TestRequest::get().uri("/me").bearer(&own);
    assert_eq!(status_and_body(&app, bearer_only).await.1, "victim");
}

#[actix_web::test]
async fn query_string_is_never_a_token_source() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let app = app!(JwtAuth::new(issuer.provider()).unwrap());
    let token = issuer.token().sign();
    for uri in [
        format!("/me?access_token={token}"),
        format!("/me?token={token}"),
        format!("/me?jwt={token}"),
    ] {
        assert_eq!(
            status_and_body(&app, test::TestRequest::get().uri(&uri))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[actix_web::test]
async fn public_paths_welcome_anonymous_callers_but_not_bad_tokens() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let app = app!(
        JwtAuth::new(issuer.provider())
            .unwrap()
            .public(["/maybe", "/docs/*"])
    );
    let anonymous = status_and_body(&app, test::TestRequest::get().uri("/maybe")).await;
    assert_eq!(anonymous, (StatusCode::OK, "anonymous".to_owned()));
    let good = issuer.token().subject("dave").sign();
    assert_eq!(
        status_and_body(&app, test::TestRequest::get().uri("/maybe").bearer(&good))
            .await
            .1,
        "dave"
    );
    // A token that is sent is checked: the client learns to refresh it instead of being served as a
    // stranger.
    for bad in [
        issuer.token().expired().sign(),
        "not.a.jwt".to_owned(),
        "garbage".to_owned(),
    ] {
        let req = test::TestRequest::get().uri("/maybe").bearer(&bad);
        assert_eq!(
            status_and_body(&app, req).await.0,
            StatusCode::UNAUTHORIZED,
            "{bad}"
        );
    }
    let req = test::TestRequest::get()
        .uri("/docs/index")
        .bearer("not.a.jwt");
    assert_eq!(status_and_body(&app, req).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        status_and_body(&app, test::TestRequest::get().uri("/docs/index"))
            .await
            .0,
        StatusCode::OK
    );
    // A handler that needs an identity still refuses anonymous callers, and other paths stay
    // protected.
    assert_eq!(
        status_and_body(&app, test::TestRequest::get().uri("/me"))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_and_body(&app, test::TestRequest::get().uri("/health"))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );

    let everywhere = app!(JwtAuth::new(issuer.provider()).unwrap().public(["/*"]));
    assert_eq!(
        status_and_body(&everywhere, test::TestRequest::get().uri("/health"))
            .await
            .0,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn skipped_paths_are_not_checked_at_all() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let app = app!(
        JwtAuth::new(issuer.provider())
            .unwrap()
            .skip(["/health", "/docs/*"])
    );
    for uri in ["/health", "/docs/index"] {
        assert_eq!(
            status_and_body(&app, test::TestRequest::get().uri(uri))
                .await
                .0,
            StatusCode::OK,
            "{uri}"
        );
        let garbage = test::TestRequest::get().uri(uri).bearer("not-a-token");
        assert_eq!(
            status_and_body(&app, garbage).await.0,
            StatusCode::OK,
            "{uri} with a bad token"
        );
    }
    let valid = issuer.token().sign();
    assert_eq!(
        status_and_body(&app, test::TestRequest::get().uri("/health").bearer(&valid))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        issuer.jwks_fetches(),
        0,
        "skipped paths never verify, not even a valid token"
    );
    assert_eq!(
        status_and_body(&app, test::TestRequest::get().uri("/me"))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
#[should_panic(expected = "does not start with '/'")]
async fn a_malformed_path_pattern_stops_the_application_at_startup() {
    let issuer = TestIssuer::start().await;
    let _ = JwtAuth::new(issuer.provider()).unwrap().public(["health"]);
}
