//! A token read from a cookie counts for same-site requests only: a page on another site that
//! posts a form or opens a WebSocket with the victim's cookie gets nothing done. The Chromium run
//! of the same is `examples/tests/embedded.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use actix_web::{App, HttpRequest, HttpResponse, web};
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{Identity, JwtAuth, Optional, Provider, TokenSource, Verified};
use tests::audit_log::AuditLog;
use tests::{init_tracing, send};

const API: &str = "api.example.com";
const ATTACKER: &str = "https://evil.example";
const SIBLING: &str = "https://app.example.com";

/// How many times the state-changing handler ran.
#[derive(Clone, Default)]
struct Calls(Arc<AtomicUsize>);

impl Calls {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

async fn me(caller: Verified<Identity>) -> HttpResponse {
    HttpResponse::Ok().body(caller.subject.clone())
}

async fn feed(caller: Optional<Identity>) -> HttpResponse {
    let who = caller
        .as_ref()
        .map_or_else(|| "anonymous".to_owned(), |id| id.subject.clone());
    HttpResponse::Ok().body(who)
}

/// Accepts the upgrade for a verified caller.
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

/// The API: `/transfer` acts for whoever the middleware admitted (every method, no extractor:
/// only authentication stands in front of it), `/me` and `/ws` need a caller, `/feed` is public.
macro_rules! api {
    ($auth:expr, $calls:expr) => {{
        let calls = $calls.clone();
        actix_web::test::init_service(
            App::new()
                .wrap($auth.public(["/feed"]))
                .service(web::resource("/transfer").to(move || {
                    calls.0.fetch_add(1, Ordering::SeqCst);
                    async { HttpResponse::Ok().body("transferred") }
                }))
                .route("/me", web::get().to(me))
                .route("/feed", web::get().to(feed))
                .route("/ws", web::get().to(socket)),
        )
        .await
    }};
}

fn auth(issuer: &TestIssuer) -> JwtAuth {
    JwtAuth::new(issuer.provider()).unwrap().token_sources([
        TokenSource::Bearer,
        TokenSource::WebSocketProtocol,
        TokenSource::cookie("session"),
    ])
}

/// A browser request to the API with the session cookie: `Origin` and `Sec-Fetch-Site` as given.
fn browser(
    method: &str,
    uri: &str,
    token: &str,
    origin: Option<&str>,
    site: Option<&str>,
) -> TestRequest {
    let mut request = TestRequest::default()
        .method(method.parse().unwrap())
        .uri(uri)
        .insert_header(("host", API))
        .token_cookie("session", token);
    if let Some(origin) = origin {
        request = request.insert_header(("origin", origin));
    }
    if let Some(site) = site {
        request = request.insert_header(("sec-fetch-site", site));
    }
    request
}

/// Status and body of `request`.
async fn answer<S, B>(app: &S, request: TestRequest) -> (StatusCode, String)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let reply = send(app, request).await;
    (reply.status, reply.body)
}

#[actix_web::test]
async fn a_cross_site_request_with_the_cookie_gets_nothing_done() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let token = issuer.token().subject("victim").sign();
    let calls = Calls::default();
    let app = api!(auth(&issuer), calls);
    let (log, _guard) = AuditLog::install();
    for (what, origin, site) in [
        (
            "a browser with Fetch Metadata",
            Some(ATTACKER),
            Some("cross-site"),
        ),
        ("a browser without Fetch Metadata", Some(ATTACKER), None),
        ("Sec-Fetch-Site alone", None, Some("cross-site")),
        ("an opaque origin", Some("null"), Some("cross-site")),
        ("an opaque origin, no Fetch Metadata", Some("null"), None),
        ("an unknown Sec-Fetch-Site", None, Some("cross-origin")),
        (
            "another port of the API's host",
            Some("https://api.example.com:8443"),
            None,
        ),
    ] {
        for method in ["POST", "GET", "DELETE"] {
            let reply = send(&app, browser(method, "/transfer", &token, origin, site)).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}: {method}");
            assert_eq!(reply.code(), "UNAUTHORIZED", "{what}");
            assert_eq!(
                reply.header("www-authenticate"),
                Some(r#"Bearer realm="api""#),
                "no credentials that count: a bare challenge"
            );
        }
    }
    assert_eq!(calls.count(), 0, "the handler never ran");
    let refusals = log.with_outcome("rejected");
    assert_eq!(refusals.len(), 21);
    let first = &refusals[0]["reason"];
    assert!(
        first.contains("Sec-Fetch-Site is cross-site")
            && first.contains("\"https://evil.example\"")
            && first.contains("JwtAuth::cookie_origins"),
        "{first}"
    );
    let origin_only = &refusals[3]["reason"];
    assert!(
        origin_only.contains("neither this service's origin")
            && origin_only.contains("JwtAuth::public_origin"),
        "{origin_only}"
    );
    // Twice the same header is no answer either.
    let twice = browser("POST", "/transfer", &token, Some(SIBLING), None)
        .append_header(("origin", "https://api.example.com"));
    assert_eq!(answer(&app, twice).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(calls.count(), 0);
}

#[actix_web::test]
async fn same_origin_and_headerless_requests_keep_working() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let token = issuer.token().subject("ada").sign();
    let calls = Calls::default();
    let app = api!(auth(&issuer), calls);
    for (what, origin, site) in [
        (
            "a same-origin fetch",
            Some("https://api.example.com"),
            Some("same-origin"),
        ),
        (
            "a same-origin form, no Fetch Metadata",
            Some("https://API.example.com:443"),
            None,
        ),
        // TLS ends at a proxy that does not say so: this server sees plain http, the browser
        // names the https origin it called.
        (
            "behind a TLS proxy",
            Some("https://api.example.com"),
            Some("same-origin"),
        ),
        ("a navigation typed in", None, Some("none")),
        ("curl", None, None),
    ] {
        let reply = answer(&app, browser("POST", "/transfer", &token, origin, site)).await;
        assert_eq!(reply, (StatusCode::OK, "transferred".to_owned()), "{what}");
    }
    assert_eq!(calls.count(), 5);

    // With a public origin, its scheme, host and port decide, whatever the Host.
    let public = auth(&issuer)
        .public_origin("https://api.example.com/v1")
        .unwrap();
    let app = api!(public, calls);
    let same = browser("GET", "/me", &token, Some("https://api.example.com"), None)
        .insert_header(("host", "10.0.0.5:8080"));
    assert_eq!(answer(&app, same).await, (StatusCode::OK, "ada".to_owned()));
    let plain_http = browser("GET", "/me", &token, Some("http://api.example.com"), None);
    assert_eq!(answer(&app, plain_http).await.0, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn a_sibling_origin_counts_only_when_listed() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let token = issuer.token().subject("ada").sign();
    let calls = Calls::default();
    let sibling = |site| browser("POST", "/transfer", &token, Some(SIBLING), site);

    let app = api!(auth(&issuer), calls);
    let (log, _guard) = AuditLog::install();
    for site in [Some("same-site"), None] {
        assert_eq!(
            answer(&app, sibling(site)).await.0,
            StatusCode::UNAUTHORIZED,
            "{site:?}"
        );
    }
    let reason = &log.with_outcome("rejected")[0]["reason"];
    assert!(
        reason.contains("same-site") && reason.contains("JwtAuth::cookie_origins"),
        "{reason}"
    );
    assert_eq!(calls.count(), 0);

    let listed = auth(&issuer)
        .cookie_origins([SIBLING, "http://localhost:5173"])
        .unwrap();
    let app = api!(listed, calls);
    for site in [Some("same-site"), None] {
        assert_eq!(
            answer(&app, sibling(site)).await,
            (StatusCode::OK, "transferred".to_owned()),
            "{site:?}"
        );
    }
    // Another sibling is still another site's page as far as cookies go.
    let other = browser(
        "POST",
        "/transfer",
        &token,
        Some("https://blog.example.com"),
        Some("same-site"),
    );
    assert_eq!(answer(&app, other).await.0, StatusCode::UNAUTHORIZED);
    // A listed origin on another site: the browser says cross-site, and that decides.
    let cross = browser(
        "POST",
        "/transfer",
        &token,
        Some(SIBLING),
        Some("cross-site"),
    );
    assert_eq!(answer(&app, cross).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(calls.count(), 2);

    for bad in [
        "app.example.com",
        "https://app.example.com/login",
        "https://app.example.com?x=1",
        "ftp://app.example.com",
    ] {
        let error = auth(&issuer).cookie_origins([SIBLING, bad]).unwrap_err();
        assert_eq!(error.setting, "JwtAuth::cookie_origins", "{bad}");
        assert!(error.problem.contains(bad), "{bad}: {error}");
    }
}

fn upgrade(token: &str, origin: &str) -> TestRequest {
    browser("GET", "/ws", token, Some(origin), None)
        .insert_header(("upgrade", "websocket"))
        .insert_header(("connection", "upgrade"))
        .insert_header(("sec-websocket-version", "13"))
        .insert_header(("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="))
}

#[actix_web::test]
async fn a_cross_site_websocket_with_only_the_cookie_is_refused_before_the_handshake() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let token = issuer.token().subject("victim").sign();
    let app = api!(auth(&issuer), Calls::default());
    // Browsers apply no CORS to WebSockets, and Chromium sends no Sec-Fetch-Site with the
    // handshake: Origin decides.
    let hijack = send(&app, upgrade(&token, ATTACKER)).await;
    assert_eq!(hijack.status, StatusCode::UNAUTHORIZED);
    assert_eq!(hijack.header("upgrade"), None);
    let own = send(&app, upgrade(&token, "https://api.example.com")).await;
    assert_eq!(own.status, StatusCode::SWITCHING_PROTOCOLS);
    // The token as a subprotocol is the page's own doing: no cookie rule applies.
    let other_token = issuer.token().subject("page-user").sign();
    let offered = upgrade("", ATTACKER)
        .insert_header(("sec-websocket-protocol", format!("bearer, {other_token}")));
    assert_eq!(
        send(&app, offered).await.status,
        StatusCode::SWITCHING_PROTOCOLS
    );
}

#[actix_web::test]
async fn header_tokens_are_not_judged_by_the_cookie_rule() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let cookie = issuer.token().subject("victim").sign();
    let bearer = issuer.token().subject("partner").sign();
    let app = api!(auth(&issuer), Calls::default());
    let request =
        browser("GET", "/me", &cookie, Some(ATTACKER), Some("cross-site")).bearer(&bearer);
    assert_eq!(
        answer(&app, request).await,
        (StatusCode::OK, "partner".to_owned())
    );
}

#[actix_web::test]
async fn on_a_public_path_a_cross_site_cookie_leaves_the_caller_anonymous() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let token = issuer.token().subject("victim").sign();
    let app = api!(auth(&issuer), Calls::default());
    let (log, _guard) = AuditLog::install();
    let cross = browser("GET", "/feed", &token, Some(ATTACKER), Some("cross-site"));
    assert_eq!(
        answer(&app, cross).await,
        (StatusCode::OK, "anonymous".to_owned())
    );
    let anonymous = log.with_outcome("anonymous");
    assert_eq!(anonymous.len(), 1);
    assert!(
        anonymous[0]["reason"].contains("cross-site"),
        "{anonymous:?}"
    );
    let same = browser("GET", "/feed", &token, None, Some("same-origin"));
    assert_eq!(
        answer(&app, same).await,
        (StatusCode::OK, "victim".to_owned())
    );
}

#[actix_web::test]
async fn extractors_without_the_middleware_apply_the_same_rule() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let token = issuer.token().subject("ada").sign();
    let app = actix_web::test::init_service(
        App::new()
            .app_data(auth(&issuer))
            .route("/me", web::get().to(me))
            .route("/feed", web::get().to(feed)),
    )
    .await;
    let (log, _guard) = AuditLog::install();
    let cross = browser("GET", "/me", &token, Some(ATTACKER), Some("cross-site"));
    let reply = send(&app, cross).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.code(), "UNAUTHORIZED");
    let refusals = log.with_outcome("rejected");
    assert_eq!(refusals.len(), 1, "one decision");
    assert!(
        refusals[0]["reason"].contains("cross-site"),
        "the log says why, not just 'no token': {refusals:?}"
    );
    let cross = browser("GET", "/feed", &token, Some(ATTACKER), Some("cross-site"));
    assert_eq!(answer(&app, cross).await.1, "anonymous");
    let same = browser("GET", "/me", &token, Some("https://api.example.com"), None);
    assert_eq!(answer(&app, same).await, (StatusCode::OK, "ada".to_owned()));
}

#[actix_web::test]
async fn the_clerk_session_cookie_acts_for_its_own_site_only() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let provider = issuer.adopt(Provider::clerk(
        "https://clerk.example.com",
        ["https://api.example.com"],
    ));
    let token = issuer.token_for(&provider).subject("user_2N").sign();
    let calls = Calls::default();
    let app = api!(JwtAuth::new(provider).unwrap(), calls);
    let session = |origin, site| {
        TestRequest::post()
            .uri("/transfer")
            .insert_header(("host", API))
            .token_cookie("__session", &token)
            .insert_header(("origin", origin))
            .insert_header(("sec-fetch-site", site))
    };
    assert_eq!(
        answer(&app, session(ATTACKER, "cross-site")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(calls.count(), 0);
    assert_eq!(
        answer(&app, session("https://api.example.com", "same-origin")).await,
        (StatusCode::OK, "transferred".to_owned())
    );
}
