//! Attacks on how a request names its origin, found by the third review's attacker read: an http
//! page on an https API's host, a cross-site link without Fetch Metadata, and a client's forwarded
//! header choosing a DPoP proof's URL. Each test states the attack.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use actix_web::{App, HttpRequest, HttpResponse, web};
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{Identity, JwtAuth, TokenSource, Verified};
use tests::{init_tracing, send};

const API: &str = "api.example.com";

#[derive(Clone, Default)]
struct Calls(Arc<AtomicUsize>);

impl Calls {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

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

macro_rules! api {
    ($auth:expr, $calls:expr) => {{
        let calls = $calls.clone();
        actix_web::test::init_service(
            App::new()
                .wrap($auth)
                .service(web::resource("/transfer").to(move || {
                    calls.0.fetch_add(1, Ordering::SeqCst);
                    async { HttpResponse::Ok().body("transferred") }
                }))
                .route("/ws", web::get().to(socket)),
        )
        .await
    }};
}

fn auth(issuer: &TestIssuer) -> JwtAuth {
    JwtAuth::new(issuer.provider())
        .unwrap()
        .token_sources([TokenSource::Bearer, TokenSource::cookie("session")])
}

/// An API behind a TLS proxy that says so (`X-Forwarded-Proto: https`, trusted): the service knows
/// its origin is `https://api.example.com`. A network attacker who answers for
/// `http://api.example.com` (no HSTS on the API host, a café's Wi-Fi) serves a page there that
/// opens `wss://api.example.com/ws`. The browser sends the victim's (Secure, SameSite=None) cookie
/// and `Origin: http://api.example.com`, and Chromium sends no `Sec-Fetch-Site` with the handshake
/// (docs/browsers.md). `is_own_origin` compares no scheme and takes the implied port of `Host` from the
/// *Origin's* scheme (80), so the http page counts as this https service: the socket opens as the
/// victim, and the attacker reads it (no CORS applies to WebSockets).
#[actix_web::test]
async fn a_plain_http_page_on_the_api_host_opens_a_websocket_as_the_victim_of_an_https_api() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let token = issuer.token().subject("victim").sign();
    let app = api!(auth(&issuer).trust_forwarded_headers(), Calls::default());
    let hijack = TestRequest::get()
        .uri("/ws")
        .insert_header(("host", API))
        .insert_header(("x-forwarded-proto", "https"))
        .insert_header(("x-forwarded-host", API))
        .insert_header(("origin", "http://api.example.com"))
        .insert_header(("upgrade", "websocket"))
        .insert_header(("connection", "upgrade"))
        .insert_header(("sec-websocket-version", "13"))
        .insert_header(("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="))
        .token_cookie("session", &token);
    let reply = send(&app, hijack).await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "http://api.example.com is another origin (and, schemefully, another site) than the \
         https service the trusted proxy names: {reply:?}"
    );

    // The same with a form post from that page, in a browser without Fetch Metadata.
    let calls = Calls::default();
    let app = api!(auth(&issuer).trust_forwarded_headers(), calls);
    let post = TestRequest::post()
        .uri("/transfer")
        .insert_header(("host", API))
        .insert_header(("x-forwarded-proto", "https"))
        .insert_header(("origin", "http://api.example.com"))
        .token_cookie("session", &token);
    let _ = send(&app, post).await;
    assert_eq!(calls.count(), 0, "the transfer ran for the http page");
}

/// SECURITY.md: "other sites' requests are refused whatever the flags". A link (or
/// `window.location`) on `https://evil.example` to `http://api.example.com/transfer`: over plain
/// http the browser sends no Fetch Metadata (only to potentially trustworthy URLs) and a GET has no
/// `Origin`, but it does send the (default Lax) cookie on a top-level navigation, and says where it
/// came from in `Referer`. The same holds for Safari before 16.4 over https, with an `<img>` and a
/// SameSite=None cookie. `web::resource(..).to(..)`, the usual actix shape the review's tests use,
/// answers GET too: the transfer runs as the victim. The `Referer` naming another site is ignored.
#[actix_web::test]
async fn a_cross_site_link_without_fetch_metadata_acts_with_the_cookie() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let token = issuer.token().subject("victim").sign();
    let calls = Calls::default();
    let app = api!(auth(&issuer), calls);
    let link = TestRequest::get()
        .uri("/transfer?to=attacker")
        .insert_header(("host", API))
        .insert_header(("referer", "https://evil.example/cats.html"))
        .token_cookie("session", &token);
    let _ = send(&app, link).await;
    assert_eq!(
        calls.count(),
        0,
        "a request another site's page made (Referer https://evil.example) acted with the cookie"
    );
}

#[actix_web::get("/items")]
async fn items(caller: Verified<Identity>) -> HttpResponse {
    HttpResponse::Ok().body(caller.subject.clone())
}

/// Issue 30 (Low 2): a DPoP proof captured at instance A (`https://a.example.com`) must not replay
/// at instance B, which accepts the same audience. B sits behind a proxy that does what the docs
/// ask of it for `X-Forwarded-Proto` / `X-Forwarded-Host` (nginx's usual `proxy_set_header
/// X-Forwarded-Host $host`), with `JwtAuth::trust_forwarded_headers()`. The proxy passes a
/// client's `Forwarded` header through (it sets none), and actix's `ConnectionInfo` prefers
/// `Forwarded` over the `X-Forwarded-*` the proxy set: the replayer adds
/// `Forwarded: host=a.example.com;proto=https` and B checks the proof's `htu` against A's URL. An
/// appended `X-Forwarded-Host` (the client's value first) does the same.
#[actix_web::test]
async fn a_client_forwarded_header_beats_the_proxys_x_forwarded_host_and_a_proof_replays() {
    use auth_actix::testing::DpopKey;
    init_tracing();
    let issuer = TestIssuer::start().await;
    let key = DpopKey::generate();
    let token = issuer.token().subject("victim").dpop_bound(&key).sign();
    let instance_b = || {
        JwtAuth::new(issuer.provider())
            .unwrap()
            .trust_forwarded_headers()
    };
    // What the proxy in front of B sets on every request.
    let via_proxy = || {
        TestRequest::get()
            .uri("/items")
            .insert_header(("host", "10.0.0.7:8080"))
            .insert_header(("x-forwarded-proto", "https"))
            .insert_header(("x-forwarded-host", "b.example.com"))
    };
    // A proof made for A, captured.
    let proof = key.proof("GET", "https://a.example.com/items", &token);
    let app = actix_web::test::init_service(App::new().wrap(instance_b()).service(items)).await;
    let replay = via_proxy()
        .insert_header(("forwarded", "host=a.example.com;proto=https"))
        .dpop(&token, &proof);
    let reply = send(&app, replay).await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "A's proof accepted at B through a client's Forwarded header: {}",
        reply.body
    );

    // The client's value first in an X-Forwarded-Host the proxy appends to.
    let proof = key.proof("GET", "https://a.example.com/items", &token);
    let appended = TestRequest::get()
        .uri("/items")
        .insert_header(("host", "10.0.0.7:8080"))
        .insert_header(("x-forwarded-proto", "https"))
        .insert_header(("x-forwarded-host", "a.example.com, b.example.com"))
        .dpop(&token, &proof);
    let reply = send(&app, appended).await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "A's proof accepted at B through an appended X-Forwarded-Host: {}",
        reply.body
    );
}
