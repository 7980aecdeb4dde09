//! What browsers send: CORS preflights (never authenticated, whichever way the CORS middleware and
//! `JwtAuth` are wrapped, and opening nothing) and WebSocket upgrades carrying the token in
//! `Sec-WebSocket-Protocol`. The Chromium run of the same is `examples/tests/embedded.rs`.

use actix_cors::Cors;
use actix_web::http::{Method, StatusCode};
use actix_web::{App, HttpRequest, HttpResponse, web};
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{Identity, JwtAuth, Verified};
use tests::audit_log::AuditLog;
use tests::{init_tracing, send};

const FRONT_END: &str = "http://127.0.0.1:5173";

fn cors() -> Cors {
    Cors::default()
        .allowed_origin(FRONT_END)
        .allowed_methods(["GET", "POST"])
        .allowed_headers(["authorization", "content-type"])
}

async fn me(caller: Verified<Identity>) -> HttpResponse {
    HttpResponse::Ok().body(caller.subject.clone())
}

/// A handler for every method that relies on the middleware alone: what a preflight must not reach.
async fn purge() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("x-purged", "yes"))
        .body("purged everything")
}

fn preflight(uri: &str) -> actix_web::test::TestRequest {
    actix_web::test::TestRequest::default()
        .method(Method::OPTIONS)
        .uri(uri)
        .insert_header(("origin", FRONT_END))
        .insert_header(("access-control-request-method", "GET"))
        .insert_header(("access-control-request-headers", "authorization"))
}

#[actix_web::test]
async fn a_preflight_passes_whichever_way_cors_and_auth_are_wrapped() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider()).unwrap();
    let token = issuer.token().subject("ada").sign();

    let auth_outside = actix_web::test::init_service(
        App::new()
            .wrap(cors())
            .wrap(auth.clone())
            .route("/me", web::get().to(me)),
    )
    .await;
    let cors_outside = actix_web::test::init_service(
        App::new()
            .wrap(auth.clone())
            .wrap(cors())
            .route("/me", web::get().to(me)),
    )
    .await;
    for reply in [
        send(&auth_outside, preflight("/me")).await,
        send(&cors_outside, preflight("/me")).await,
    ] {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.header("access-control-allow-origin"), Some(FRONT_END));
    }
    // And the real request after it, in both orders.
    let real = || {
        actix_web::test::TestRequest::get()
            .uri("/me")
            .insert_header(("origin", FRONT_END))
            .bearer(&token)
    };
    for reply in [
        send(&auth_outside, real()).await,
        send(&cors_outside, real()).await,
    ] {
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body, "ada");
        assert_eq!(reply.header("access-control-allow-origin"), Some(FRONT_END));
    }
}

#[actix_web::test]
async fn only_a_genuine_preflight_passes_and_it_is_logged_as_one() {
    let issuer = TestIssuer::start().await;
    let app = actix_web::test::init_service(
        App::new()
            .wrap(cors())
            .wrap(JwtAuth::new(issuer.provider()).unwrap())
            .route("/me", web::get().to(me)),
    )
    .await;
    let (log, _guard) = AuditLog::install();
    let options = || {
        actix_web::test::TestRequest::default()
            .method(Method::OPTIONS)
            .uri("/me")
    };
    let shapes = [
        ("no headers", options()),
        (
            "Origin alone",
            options().insert_header(("origin", FRONT_END)),
        ),
        (
            "Access-Control-Request-Method alone",
            options().insert_header(("access-control-request-method", "GET")),
        ),
        (
            "a GET with both headers",
            actix_web::test::TestRequest::get()
                .uri("/me")
                .insert_header(("origin", FRONT_END))
                .insert_header(("access-control-request-method", "GET")),
        ),
    ];
    for (what, request) in shapes {
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}");
    }
    assert_eq!(log.with_outcome("rejected").len(), 4);
    log.clear();
    send(&app, preflight("/me")).await;
    assert_eq!(log.with_outcome("preflight").len(), 1);
}

#[actix_web::test]
async fn a_preflight_no_cors_layer_answers_gets_nothing_out_of_the_app() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let app = actix_web::test::init_service(
        App::new()
            .wrap(JwtAuth::new(issuer.provider()).unwrap())
            .route("/purge", web::to(purge))
            .route("/me", web::to(me)),
    )
    .await;
    let reply = send(&app, preflight("/purge")).await;
    assert_eq!(reply.body, "", "no handler body");
    assert_eq!(reply.header("x-purged"), None, "no handler headers");
    // A handler that asks who called gets nobody, so it refuses; that body stays in too.
    let reply = send(&app, preflight("/me")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, "");
}

/// Accepts the upgrade and tells the caller who it is on the socket (what the example does over a
/// real connection).
async fn socket(
    req: HttpRequest,
    body: web::Payload,
    caller: Verified<Identity>,
) -> actix_web::Result<HttpResponse> {
    let (response, mut session, _stream) = actix_ws::handle(&req, body)?;
    let subject = caller.subject.clone();
    actix_web::rt::spawn(async move {
        let _ = session.text(format!("hello {subject}")).await;
    });
    Ok(response)
}

fn upgrade(protocols: Option<&str>) -> actix_web::test::TestRequest {
    let request = actix_web::test::TestRequest::get()
        .uri("/ws")
        .insert_header(("upgrade", "websocket"))
        .insert_header(("connection", "upgrade"))
        .insert_header(("sec-websocket-version", "13"))
        .insert_header(("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="));
    match protocols {
        Some(protocols) => request.insert_header(("sec-websocket-protocol", protocols)),
        None => request,
    }
}

#[actix_web::test]
async fn a_websocket_upgrade_carries_the_token_in_its_subprotocols() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let app = actix_web::test::init_service(
        App::new()
            .wrap(JwtAuth::new(issuer.provider()).unwrap())
            .route("/ws", web::get().to(socket)),
    )
    .await;
    let token = issuer.token().subject("ada").sign();
    let reply = send(&app, upgrade(Some(&format!("bearer, {token}")))).await;
    assert_eq!(reply.status, StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(
        reply.header("sec-websocket-protocol"),
        Some("bearer"),
        "the marker is echoed, never the token"
    );

    let expired = issuer.token().expired().sign();
    for (what, protocols) in [
        ("no token", None),
        ("the marker without a token", Some("bearer".to_owned())),
        ("an expired token", Some(format!("bearer, {expired}"))),
        ("another subprotocol only", Some("chat".to_owned())),
    ] {
        let reply = send(&app, upgrade(protocols.as_deref())).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{what}: refused before the upgrade"
        );
    }
    // The query string is never a token source.
    let reply = send(
        &app,
        upgrade(None).uri(&format!("/ws?access_token={token}")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}
