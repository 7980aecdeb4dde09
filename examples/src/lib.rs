//! The embedded demo issuer the examples fall back to when no provider is configured, so each runs
//! offline and prints `curl` lines with working tokens. Never part of a production app: a copied
//! example keeps its `Some(..)` branch and drops the demo. [`settings`] reads every example's
//! environment variables and names them in its errors, [`server::listen`] starts a provider
//! example's app, [`unknown_kids`] serves the load and soak targets, [`signature_floor`] the load
//! target and `signature-cost`.

pub mod server;
pub mod settings;
pub mod signature_floor;
pub mod unknown_kids;

use std::net::SocketAddr;

use auth_actix::Provider;
use auth_actix::testing::{TestIssuer, TokenBuilder};

/// A loopback identity provider and the tokens it printed. Lives as long as the server.
pub struct Demo {
    issuer: TestIssuer,
    name: &'static str,
}

/// How the demo's `curl` lines send a token.
#[derive(Clone, Copy)]
pub enum Carrier {
    /// `Authorization: Bearer`.
    Bearer,
    /// A named header.
    Header(&'static str),
    /// A named cookie.
    Cookie(&'static str),
}

impl Carrier {
    /// The `curl` flag that sends `token` this way.
    pub fn flag(self, token: &str) -> String {
        match self {
            Carrier::Bearer => format!("-H 'Authorization: Bearer {token}'"),
            Carrier::Header(name) => format!("-H '{name}: {token}'"),
            Carrier::Cookie(name) => format!("--cookie '{name}={token}'"),
        }
    }
}

/// Refuses to listen beyond loopback with an embedded issuer whose tokens anyone who reaches the app
/// could get (the demo's console, the bench targets' `GET /_mint`), unless `DEMO_ALLOW_ANY_BIND=1`
/// says exposing it is meant. `exposed` says what would be reachable, `instead` the way out. One
/// check for the demo and the bench targets, so none of them drifts from the others.
pub fn loopback_only(bind: SocketAddr, exposed: &str, instead: &str) -> Result<(), String> {
    let forced = std::env::var("DEMO_ALLOW_ANY_BIND").is_ok_and(|value| value == "1");
    if bind.ip().is_loopback() || forced {
        return Ok(());
    }
    Err(format!(
        "BIND={bind}: {exposed}; it listens on loopback only (127.0.0.1). {instead}, or set \
         DEMO_ALLOW_ANY_BIND=1 if exposing it is what you want"
    ))
}

impl Demo {
    /// Starts the demo issuer for the example `name`. It mints admin tokens for anyone who reads
    /// the console, so the app must listen on loopback only: a `bind` elsewhere is refused unless
    /// `DEMO_ALLOW_ANY_BIND=1` says it is meant.
    pub async fn start(name: &'static str, bind: SocketAddr) -> Result<Demo, String> {
        loopback_only(
            bind,
            &format!(
                "{name} has no provider settings and would run on its embedded demo issuer, which \
                 hands out admin tokens"
            ),
            "Configure the provider (see the file's header)",
        )?;
        let issuer = TestIssuer::try_start().await?;
        Ok(Demo { issuer, name })
    }

    /// `provider` served by the demo issuer.
    pub fn adopt(&self, provider: Provider) -> Provider {
        self.issuer.adopt(provider)
    }

    /// A token shaped for `provider`, valid for an hour so a printed one outlives copy and paste.
    pub fn token_for(&self, provider: &Provider) -> TokenBuilder<'_> {
        self.issuer
            .token_for(provider)
            .expires_in(std::time::Duration::from_secs(3600))
    }

    /// The demo issuer itself: for an example that has it act as an authorization server
    /// ([`TestIssuer::add_resource`]).
    pub fn issuer(&self) -> &TestIssuer {
        &self.issuer
    }

    /// The demo issuer's introspection client, for opaque tokens ([`TokenBuilder::opaque`]).
    pub fn introspection(&self) -> auth_actix::Introspection {
        self.issuer.introspection()
    }

    /// The banner and the `curl` lines: public, a user token on `/me` and `/admin`, an admin token
    /// on `/admin`, an expired token on `/me`.
    pub fn print(&self, base: &str, carrier: Carrier, user: &str, admin: &str, expired: &str) {
        let rule = "=".repeat(78);
        println!();
        println!("{rule}");
        println!(
            "  DEMO MODE: {} runs on an embedded test issuer, because no provider is configured.",
            self.name
        );
        println!(
            "  Anyone who can read this console can call it as an admin. Never deploy it like this."
        );
        println!("{rule}");
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
}
