//! What every example shares: reading settings from the environment, the three demo routes, and the
//! ready-to-paste `curl` lines printed when running on the embedded issuer.

use std::fmt::Display;
use std::str::FromStr;

/// Reads an optional environment variable; an empty value counts as unset.
pub fn env_opt(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Reads a required environment variable, failing with a message that names it.
pub fn env_required(name: &str, what: &str) -> Result<String, String> {
    env_opt(name).ok_or_else(|| format!("{name} is not set: {what}"))
}

/// Reads and parses an environment variable, with a default when unset.
pub fn env_parse<T: FromStr>(name: &str, default: T) -> Result<T, String>
where
    T::Err: Display,
{
    match env_opt(name) {
        None => Ok(default),
        Some(value) => value.parse().map_err(|err| format!("{name}={value:?} is not valid: {err}")),
    }
}

/// The address to listen on: `BIND`, default `127.0.0.1:8080`.
pub fn bind_address() -> Result<std::net::SocketAddr, String> {
    env_parse("BIND", std::net::SocketAddr::from(([127, 0, 0, 1], 8080)))
}

/// The URL a bound server answers on: its actual address, so `BIND=127.0.0.1:0` shows the port the system
/// chose (`bind` when the server reports none).
pub fn base_url(bound: &[std::net::SocketAddr], bind: std::net::SocketAddr) -> String {
    format!("http://{}", bound.first().unwrap_or(&bind))
}

/// Logs `auth` decisions and actix's own lines at info unless `RUST_LOG` says otherwise.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,auth=info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

/// One way to send a token with `curl`.
#[derive(Clone, Copy)]
pub enum Carrier<'a> {
    /// `Authorization: Bearer`.
    Bearer,
    /// A named header.
    Header(&'a str),
    /// A named cookie.
    Cookie(&'a str),
}

impl Carrier<'_> {
    fn flag(&self, token: &str) -> String {
        match self {
            Carrier::Bearer => format!("-H 'Authorization: Bearer {token}'"),
            Carrier::Header(name) => format!("-H '{name}: {token}'"),
            Carrier::Cookie(name) => format!("--cookie '{name}={token}'"),
        }
    }
}

/// Prints the banner with `curl` lines for a user token, an admin token and an expired token.
pub fn print_demo(name: &str, base: &str, carrier: Carrier<'_>, user: &str, admin_token: &str, expired: &str) {
    println!();
    println!("{name}: running on the embedded test issuer (no provider settings found).");
    println!("Paste these into another terminal:");
    println!();
    println!("# public, no token");
    println!("curl -i {base}/public");
    println!("# a user token: /me answers 200, /admin 403");
    println!("curl -i {} {base}/me", carrier.flag(user));
    println!("curl -i {} {base}/admin", carrier.flag(user));
    println!("# an admin token: /admin answers 200");
    println!("curl -i {} {base}/admin", carrier.flag(admin_token));
    println!("# an expired token: 401 TOKEN_EXPIRED");
    println!("curl -i {} {base}/me", carrier.flag(expired));
    println!();
}

use actix_web::{App, HttpResponse, HttpServer, Responder, get, web};
use auth_actix::testing::TestIssuer;
use auth_actix::{Identity, JwtAuth, require_role};

/// `GET /public`: no authentication.
#[get("/public")]
pub async fn public() -> impl Responder {
    HttpResponse::Ok().body("anyone can see this\n")
}

/// `GET /me`: the caller's identity as JSON.
#[get("/me")]
pub async fn me(identity: Identity) -> impl Responder {
    web::Json(identity)
}

/// `GET /admin`: callers with the `admin` role.
#[get("/admin")]
#[require_role("admin")]
pub async fn admin(identity: Identity) -> impl Responder {
    HttpResponse::Ok().body(format!("hello admin {}\n", identity.subject))
}

/// The embedded issuer and the three tokens printed at start.
pub struct Demo {
    /// Kept alive while the server runs.
    pub issuer: TestIssuer,
    /// A token without the admin role.
    pub user: String,
    /// A token with the admin role.
    pub admin: String,
    /// An expired token.
    pub expired: String,
    /// How the provider's clients send tokens.
    pub carrier: Carrier<'static>,
}

/// Starts the three-route app: fails fast if the issuer's keys cannot be loaded, prints the demo `curl`
/// lines when running on the embedded issuer, then serves until stopped.
pub async fn serve(name: &str, auth: JwtAuth, demo: Option<Demo>) -> Result<(), Box<dyn std::error::Error>> {
    let bind = bind_address()?;
    let auth = auth.public(["/public"]);
    auth.prefetch().await.map_err(|err| format!("{name}: cannot load the issuer's keys: {err}"))?;
    let server = HttpServer::new(move || App::new().wrap(auth.clone()).service(public).service(me).service(admin))
        .bind(bind)
        .map_err(|err| format!("BIND={bind}: cannot listen there: {err}"))?;
    let base = base_url(&server.addrs(), bind);
    match &demo {
        Some(demo) => print_demo(name, &base, demo.carrier, &demo.user, &demo.admin, &demo.expired),
        None => println!("{name}: listening on {base}"),
    }
    server.run().await?;
    Ok(())
}

/// Splits a comma-separated setting, dropping empty items.
pub fn list(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect()
}
