//! A browser front end on one origin calling an API on another: a CORS preflight before a `fetch`
//! with `Authorization`, and a WebSocket that carries its token in `Sec-WebSocket-Protocol`. At
//! `/cookie`, the same page authenticates with a session cookie instead, which counts for the
//! API's own site only: the page on `127.0.0.1` (the API's site, its origin listed with
//! `JwtAuth::cookie_origins`) is served, the same page on `localhost` (another site, for the
//! browser) gets 401 for its `fetch`, its WebSocket and its form, though the browser sends the
//! cookie with each.
//!
//! ```text
//! cargo run -p examples --bin browser
//! ```
//!
//! Then open the printed page URL. Settings (environment variables):
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `AUTH_ISSUER`, `AUTH_AUDIENCE` | the provider, as in the quickstart (the page then asks for a token) | embedded demo issuer |
//! | `BIND` | the API's listen address | `127.0.0.1:8080` |
//! | `PAGE_BIND` | the page's listen address (another origin) | `127.0.0.1:8081` |
//! | `WRAP_ORDER` | `auth-cors` (`JwtAuth::cors`), `cors-outside` (actix-cors wrapped outside `JwtAuth`), or `cors-inside` (a misconfiguration, for the tests: the browser refuses the cross-origin `fetch`) | `auth-cors` |
//!
//! A WebSocket lives longer than a request, so it can outlive its token: the socket here is closed
//! with 1008 (policy violation) when the token expires, and the client reconnects with a fresh one.
//! The middleware only sees the upgrade; the application owns the connection, so it decides (it
//! could also re-check a revocation list on each message).

use actix_cors::Cors;
use actix_web::middleware::Condition;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, Responder, get, post, web};
use actix_ws::{CloseCode, CloseReason, Message};
use auth_actix::{Identity, JwtAuth, Provider, TokenSource, Verified};
use examples::Demo;
use examples::server::log_decisions;
use examples::settings::{address, cannot_listen, named, required, setting};
use futures_util::StreamExt;

#[get("/me")]
async fn me(identity: Verified<Identity>) -> impl Responder {
    web::Json(identity)
}

/// A state-changing action a page on another site must not be able to trigger with the cookie.
#[post("/transfer")]
async fn transfer(identity: Verified<Identity>) -> impl Responder {
    format!("transferred for {}", identity.subject)
}

/// The cookie the page's token travels in at `/cookie`.
const SESSION_COOKIE: &str = "session";

/// Greets the caller by subject, echoes what it sends, and ends when its token does.
#[get("/ws")]
async fn socket(
    req: HttpRequest,
    body: web::Payload,
    caller: Verified<Identity>,
) -> actix_web::Result<HttpResponse> {
    let (response, mut session, mut messages) = actix_ws::handle(&req, body)?;
    let subject = caller.subject.clone();
    let lifetime = caller.token().expires_in().unwrap_or_default();
    actix_web::rt::spawn(async move {
        let expiry = tokio::time::sleep(lifetime);
        tokio::pin!(expiry);
        if session.text(format!("hello {subject}")).await.is_err() {
            return;
        }
        loop {
            tokio::select! {
                () = &mut expiry => {
                    let reason = CloseReason {
                        code: CloseCode::Policy,
                        description: Some("token expired".to_owned()),
                    };
                    let _ = session.close(Some(reason)).await;
                    return;
                }
                message = messages.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        if session.text(format!("{subject}: {text}")).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(Message::Ping(bytes))) => {
                        if session.pong(&bytes).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => {}
                },
            }
        }
    });
    Ok(response)
}

/// The front end: a page from another origin that calls the API with its token.
fn page(api: &str, token: &str) -> String {
    let config = serde_json::json!({ "api": api, "token": token, "cookie": SESSION_COOKIE });
    PAGE.replace("__CONFIG__", &config.to_string())
}

const PAGE: &str = include_str!("../browser.html");

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    log_decisions();
    let bind = address("BIND", "127.0.0.1:8080")?;
    let page_bind = address("PAGE_BIND", "127.0.0.1:8081")?;
    let order = match setting("WRAP_ORDER").as_deref() {
        None | Some("auth-cors") => WrapOrder::AuthCors,
        Some("cors-outside") => WrapOrder::CorsOutside,
        Some("cors-inside") => WrapOrder::CorsInside,
        Some(other) => {
            return Err(format!(
                "WRAP_ORDER={other:?}: write auth-cors, cors-outside or cors-inside"
            )
            .into());
        }
    };

    let (provider, demo) = match setting("AUTH_ISSUER") {
        Some(issuer) => {
            let audience = required("AUTH_AUDIENCE", "give the aud your API's tokens carry")?;
            (Provider::oidc(issuer).audience(audience), None)
        }
        None => {
            let demo = Demo::start("browser", bind).await?;
            (
                demo.adopt(Provider::oidc("https://issuer.example.com").audience("my-api")),
                Some(demo),
            )
        }
    };
    // The page server first: the API's CORS policy and cookie rule name its origin.
    let page_listener =
        std::net::TcpListener::bind(page_bind).map_err(cannot_listen("PAGE_BIND", page_bind))?;
    let page_address = page_listener.local_addr()?;
    let page_origin = format!("http://{page_address}");
    // The same page under another name is another site for the browser (sites are compared by
    // host name, not address): a stand-in for an attacker's page.
    let other_site = (page_address.ip() == std::net::Ipv4Addr::LOCALHOST)
        .then(|| format!("http://localhost:{}", page_address.port()));
    let api_listener = std::net::TcpListener::bind(bind).map_err(cannot_listen("BIND", bind))?;
    let api = format!("http://{}", api_listener.local_addr()?);

    // The session cookie counts for the page's origin (the API's site, another port) and the API's
    // own; the Authorization header and the WebSocket subprotocol come first.
    let auth = JwtAuth::new(provider.clone())
        .map_err(named("AUTH_ISSUER"))?
        .token_sources([
            TokenSource::Bearer,
            TokenSource::WebSocketProtocol,
            TokenSource::cookie(SESSION_COOKIE),
        ])
        .cookie_origins([&page_origin])?;
    auth.warm_up().await.map_err(named("AUTH_ISSUER"))?;

    // The other site may read answers (as a partner's front end calling with a bearer token
    // would): what stops it acting with the cookie is the cookie rule, not CORS.
    let allowed: Vec<String> = std::iter::once(page_origin.clone())
        .chain(other_site.clone())
        .collect();
    let cors = move || {
        allowed
            .iter()
            .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
            .allowed_methods(["GET", "POST"])
            .allowed_headers(["authorization"])
            .supports_credentials()
            .max_age(600)
    };
    let auth = match order {
        WrapOrder::AuthCors => auth.cors(cors.clone()),
        WrapOrder::CorsOutside | WrapOrder::CorsInside => auth,
    };
    let api_server = HttpServer::new(move || {
        let (outside, inside) = match order {
            WrapOrder::AuthCors => (false, false),
            WrapOrder::CorsOutside => (true, false),
            WrapOrder::CorsInside => (false, true),
        };
        // The last wrap is the outermost layer.
        App::new()
            .wrap(Condition::new(inside, cors()))
            .wrap(auth.clone())
            .wrap(Condition::new(outside, cors()))
            .service(me)
            .service(transfer)
            .service(socket)
    })
    .listen(api_listener)?
    .run();

    let token = demo.as_ref().map_or(String::new(), |demo| {
        demo.token_for(&provider)
            .subject("browser-user")
            .email("user@example.com")
            .sign()
    });
    let body = page(&api, &token);
    let page_server = HttpServer::new(move || {
        let body = body.clone();
        let serve = move || {
            let body = body.clone();
            async move {
                HttpResponse::Ok()
                    .content_type("text/html; charset=utf-8")
                    .body(body)
            }
        };
        // `/cookie` is the same page in its cookie mode.
        App::new()
            .route("/", web::get().to(serve.clone()))
            .route("/cookie", web::get().to(serve))
    })
    .workers(1)
    .listen(page_listener)?
    .run();

    if demo.is_some() {
        println!("DEMO MODE: an embedded test issuer signs the page's token. Never deploy this.");
    }
    println!("api: {api}");
    println!("page: {page_origin}/");
    if let Some(other_site) = &other_site {
        println!("other site: {other_site}/");
    }
    println!(
        "Open the page in a browser: it calls {api}/me and opens {api}/ws from {page_origin}; \
         {page_origin}/cookie does the same with a session cookie, which the API refuses from \
         {}/cookie.",
        other_site.as_deref().unwrap_or("another site")
    );
    futures_util::future::try_join(api_server, page_server).await?;
    Ok(())
}

/// Where the CORS layer goes.
#[derive(Clone, Copy)]
enum WrapOrder {
    /// Given to `JwtAuth::cors`: one `.wrap(auth)`, CORS outside authentication.
    AuthCors,
    /// actix-cors wrapped outside `JwtAuth` by the application.
    CorsOutside,
    /// actix-cors wrapped inside `JwtAuth` without telling it: `JwtAuth` answers preflights
    /// itself, without CORS headers, and logs a warning naming `JwtAuth::cors`.
    CorsInside,
}
