//! What browsers send: CORS preflights (answered by a CORS layer or by `JwtAuth`, never by the
//! application, whichever way the CORS middleware and `JwtAuth` are wrapped) and WebSocket upgrades
//! carrying the token in `Sec-WebSocket-Protocol`. The Chromium run of the same is
//! `examples/tests/embedded.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_cors::Cors;
use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use actix_web::{App, HttpRequest, HttpResponse, web};
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{Identity, JwtAuth, Optional, TokenSource, Verified};
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

fn preflight(uri: &str) -> TestRequest {
    TestRequest::default()
        .method(Method::OPTIONS)
        .uri(uri)
        .insert_header(("origin", FRONT_END))
        .insert_header(("access-control-request-method", "GET"))
        .insert_header(("access-control-request-headers", "authorization"))
}

/// The attacker's page: another site, which no CORS policy here allows.
const ATTACKER: &str = "https://evil.example";

/// Counts what a handler did, so a test can prove it never ran.
#[derive(Clone, Default)]
struct Calls(Arc<AtomicUsize>);

impl Calls {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// The routes of the two exploits the third review found, registered the usual actix way (every
/// method, no guard), and a protected `/me`.
macro_rules! exploit_app {
    ($app:expr, $calls:expr) => {{
        let (delete, keys) = ($calls.clone(), $calls.clone());
        actix_web::test::init_service(
            $app.service(
                web::resource("/accounts/delete").to(move |body: web::Bytes| {
                    delete.0.fetch_add(1, Ordering::SeqCst);
                    async move {
                        let user = String::from_utf8_lossy(&body).into_owned();
                        HttpResponse::Ok().body(format!("deleted {user}"))
                    }
                }),
            )
            .service(web::resource("/keys").to(move || {
                keys.0.fetch_add(1, Ordering::SeqCst);
                // A handler that sets its own CORS header is no CORS layer.
                async {
                    HttpResponse::Ok()
                        .insert_header(("access-control-allow-origin", "*"))
                        .json(serde_json::json!({"api_key": "sk-live-0123456789"}))
                }
            }))
            .route("/me", web::get().to(me)),
        )
        .await
    }};
}

/// A preflight-shaped `OPTIONS` with a body, as a script (not a browser) sends it.
fn shaped_like_a_preflight(uri: &str, origin: &str, method: &str) -> TestRequest {
    TestRequest::default()
        .method(Method::OPTIONS)
        .uri(uri)
        .insert_header(("origin", origin))
        .insert_header(("access-control-request-method", method))
        .insert_header(("content-type", "application/json"))
        .set_payload(r#"{"user":"victim"}"#)
}

/// Neither exploit works against `app`: no handler runs, no handler body gets out.
async fn exploits_fail<S, B>(app: &S, calls: &Calls, setup: &str)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    for origin in [ATTACKER, FRONT_END] {
        for method in ["POST", "DELETE", "GET"] {
            let reply = send(
                app,
                shaped_like_a_preflight("/accounts/delete", origin, method),
            )
            .await;
            assert!(!reply.body.contains("deleted"), "{setup}: {reply:?}");
            let reply = send(app, shaped_like_a_preflight("/keys", origin, method)).await;
            assert!(!reply.body.contains("api_key"), "{setup}: {reply:?}");
        }
    }
    // Not a preflight at all: an OPTIONS without a token is just refused.
    let plain = TestRequest::default()
        .method(Method::OPTIONS)
        .uri("/accounts/delete")
        .set_payload(r#"{"user":"victim"}"#);
    assert_eq!(
        send(app, plain).await.status,
        StatusCode::UNAUTHORIZED,
        "{setup}"
    );
    assert_eq!(calls.count(), 0, "{setup}: a handler ran without a token");
}

#[actix_web::test]
async fn a_request_shaped_like_a_preflight_never_runs_a_handler_whatever_the_wrap_order() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider()).unwrap();

    let calls = Calls::default();
    let app = exploit_app!(App::new().wrap(auth.clone()), calls);
    exploits_fail(&app, &calls, "JwtAuth alone").await;

    let calls = Calls::default();
    let app = exploit_app!(App::new().wrap(auth.clone().cors(cors)), calls);
    exploits_fail(&app, &calls, "JwtAuth::cors").await;

    let calls = Calls::default();
    let app = exploit_app!(App::new().wrap(auth.clone()).wrap(cors()), calls);
    exploits_fail(&app, &calls, "actix-cors outside JwtAuth").await;

    let calls = Calls::default();
    let app = exploit_app!(App::new().wrap(cors()).wrap(auth.clone()), calls);
    exploits_fail(&app, &calls, "actix-cors inside JwtAuth").await;

    let calls = Calls::default();
    let no_preflights = auth.clone().cors(|| cors().disable_preflight());
    let app = exploit_app!(App::new().wrap(no_preflights), calls);
    exploits_fail(&app, &calls, "JwtAuth::cors with preflights disabled").await;

    // A token still opens the route, in every method: the rule is about shape, not OPTIONS.
    let token = issuer.token().sign();
    let calls = Calls::default();
    let app = exploit_app!(App::new().wrap(auth.clone()), calls);
    let with_token = TestRequest::default()
        .method(Method::OPTIONS)
        .uri("/accounts/delete")
        .bearer(&token)
        .set_payload("{}");
    assert_eq!(send(&app, with_token).await.status, StatusCode::OK);
    assert_eq!(calls.count(), 1);
}

fn real_request(token: Option<&str>) -> TestRequest {
    let request = TestRequest::get()
        .uri("/me")
        .insert_header(("origin", FRONT_END));
    match token {
        Some(token) => request.bearer(token),
        None => request,
    }
}

#[actix_web::test]
async fn jwt_auth_cors_answers_preflights_and_puts_cors_headers_on_refusals() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider()).unwrap().cors(cors);
    let app =
        actix_web::test::init_service(App::new().wrap(auth).route("/me", web::get().to(me))).await;
    let (log, _guard) = AuditLog::install();
    let reply = send(&app, preflight("/me")).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.header("access-control-allow-origin"), Some(FRONT_END));
    assert!(
        reply
            .header("access-control-allow-methods")
            .is_some_and(|methods| methods.contains("GET")),
        "{reply:?}"
    );
    assert_eq!(log.with_outcome("preflight").len(), 1, "one decision");
    assert!(
        log.events().iter().all(|event| event
            .get("message")
            .is_none_or(|m| !m.contains("JwtAuth::cors"))),
        "nothing to warn about"
    );

    let token = issuer.token().subject("ada").sign();
    let reply = send(&app, real_request(Some(&token))).await;
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, "ada"));
    assert_eq!(reply.header("access-control-allow-origin"), Some(FRONT_END));

    // The browser can read why it was refused.
    let reply = send(&app, real_request(None)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.code(), "UNAUTHORIZED");
    assert_eq!(reply.header("access-control-allow-origin"), Some(FRONT_END));
    assert!(reply.header("www-authenticate").is_some());
}

#[actix_web::test]
async fn actix_cors_wrapped_outside_jwt_auth_keeps_working() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider()).unwrap();
    let app = actix_web::test::init_service(
        App::new()
            .wrap(auth)
            .wrap(cors())
            .route("/me", web::get().to(me)),
    )
    .await;
    let reply = send(&app, preflight("/me")).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.header("access-control-allow-origin"), Some(FRONT_END));
    let token = issuer.token().subject("ada").sign();
    let reply = send(&app, real_request(Some(&token))).await;
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, "ada"));
    assert_eq!(reply.header("access-control-allow-origin"), Some(FRONT_END));
    let reply = send(&app, real_request(None)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.header("access-control-allow-origin"), Some(FRONT_END));
}

#[actix_web::test]
async fn actix_cors_wrapped_inside_jwt_auth_gets_no_preflight_and_a_warning_names_the_fix() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider()).unwrap().public(["/open"]);
    let calls = Calls::default();
    let counted = calls.clone();
    let app = actix_web::test::init_service(
        App::new()
            .wrap(cors())
            .wrap(auth)
            .route("/me", web::get().to(me))
            .service(web::resource("/open").to(move || {
                counted.0.fetch_add(1, Ordering::SeqCst);
                async { HttpResponse::Ok().body("open") }
            })),
    )
    .await;
    let (log, _guard) = AuditLog::install();
    for uri in ["/me", "/open", "/me"] {
        let reply = send(&app, preflight(uri)).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{uri}: {reply:?}");
        assert_eq!(reply.body, "", "{uri}");
        assert_eq!(reply.header("access-control-allow-origin"), None, "{uri}");
    }
    assert_eq!(calls.count(), 0, "a public path's handler never ran either");
    assert_eq!(log.with_outcome("preflight").len(), 3);
    // The warning (later ones are debug lines, which name JwtAuth::cors alone).
    let warnings: Vec<_> = log
        .events()
        .into_iter()
        .filter(|event| {
            event.get("message").is_some_and(|m| {
                m.contains("JwtAuth::cors") && m.contains("wrap actix-cors outside JwtAuth")
            })
        })
        .collect();
    assert_eq!(warnings.len(), 1, "warned once: {warnings:?}");
}

#[actix_web::test]
async fn only_a_genuine_preflight_is_answered_and_it_is_logged_as_one() {
    let issuer = TestIssuer::start().await;
    let app = actix_web::test::init_service(
        App::new()
            .wrap(JwtAuth::new(issuer.provider()).unwrap())
            .route("/me", web::get().to(me)),
    )
    .await;
    let (log, _guard) = AuditLog::install();
    let options = || TestRequest::default().method(Method::OPTIONS).uri("/me");
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
            "a requested method that is no method",
            options()
                .insert_header(("origin", FRONT_END))
                .insert_header(("access-control-request-method", "GET /me")),
        ),
        (
            "a GET with both headers",
            TestRequest::get()
                .uri("/me")
                .insert_header(("origin", FRONT_END))
                .insert_header(("access-control-request-method", "GET")),
        ),
    ];
    let count = shapes.len();
    for (what, request) in shapes {
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}");
    }
    assert_eq!(log.with_outcome("rejected").len(), count);
    log.clear();
    send(&app, preflight("/me")).await;
    assert_eq!(log.with_outcome("preflight").len(), 1);
}

#[actix_web::test]
async fn a_skipped_path_still_sees_its_preflights() {
    let issuer = TestIssuer::start().await;
    let app = actix_web::test::init_service(
        App::new()
            .wrap(JwtAuth::new(issuer.provider()).unwrap().skip(["/health"]))
            .service(web::resource("/health").to(|| async { HttpResponse::Ok().body("ok") })),
    )
    .await;
    let reply = send(&app, preflight("/health")).await;
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, "ok"));
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

/// A handshake on a path where anonymous callers are welcome, answered without a WebSocket
/// session: who the caller is travels in `x-caller`.
async fn lobby(caller: Optional<Identity>) -> HttpResponse {
    let who = caller.as_ref().map_or("stranger", |id| id.subject.as_str());
    HttpResponse::SwitchingProtocols()
        .insert_header(("x-caller", who.to_owned()))
        .finish()
}

/// The subprotocol is one of the configured token sources (`TokenSource::WebSocketProtocol`, in
/// the providers' defaults right after `Authorization`): a list without it reads no token from an
/// upgrade, and the handshake answer does not claim the marker.
#[actix_web::test]
async fn a_websocket_token_is_not_read_where_the_subprotocol_is_not_a_configured_source() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let token = issuer.token().subject("ada").sign();
    let offered = format!("bearer, {token}");
    for (sources, caller) in [
        (vec![TokenSource::Bearer], "stranger"),
        (
            vec![TokenSource::Bearer, TokenSource::WebSocketProtocol],
            "ada",
        ),
    ] {
        let configured = format!("{sources:?}");
        let auth = JwtAuth::new(issuer.provider())
            .unwrap()
            .token_sources(sources)
            .public(["/lobby"]);
        let app = actix_web::test::init_service(
            App::new()
                .wrap(auth)
                .route("/ws", web::get().to(socket))
                .route("/lobby", web::get().to(lobby)),
        )
        .await;
        let reply = send(&app, upgrade(Some(&offered)).uri("/lobby")).await;
        assert_eq!(
            reply.status,
            StatusCode::SWITCHING_PROTOCOLS,
            "{configured}"
        );
        assert_eq!(reply.header("x-caller"), Some(caller), "{configured}");
        let marker = (caller == "ada").then_some("bearer");
        assert_eq!(
            reply.header("sec-websocket-protocol"),
            marker,
            "{configured}"
        );
        let reply = send(&app, upgrade(Some(&offered))).await;
        let status = match caller {
            "ada" => StatusCode::SWITCHING_PROTOCOLS,
            _ => StatusCode::UNAUTHORIZED,
        };
        assert_eq!(reply.status, status, "{configured}");
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
