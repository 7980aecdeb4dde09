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

/// Logs `auth` decisions and actix's own lines at info unless `RUST_LOG` says otherwise.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,auth=info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

/// One way to send a token with `curl`.
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
pub fn print_demo(name: &str, base: &str, carrier: Carrier<'_>, user: &str, admin: &str, expired: &str) {
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
    println!("curl -i {} {base}/admin", carrier.flag(admin));
    println!("# an expired token: 401 TOKEN_EXPIRED");
    println!("curl -i {} {base}/me", carrier.flag(expired));
    println!();
}
