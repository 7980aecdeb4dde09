//! Okta access tokens from a custom authorization server.
//!
//! ```text
//! cargo run -p examples --bin okta
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `OKTA_ISSUER` | e.g. `https://dev-123456.okta.com/oauth2/default` (unset: embedded demo issuer) |
//! | `OKTA_AUDIENCE` | the authorization server's audience, e.g. `api://default` |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! `/admin` needs the group `admin` in the `groups` claim (add a groups claim to the authorization
//! server).

use std::net::SocketAddr;

use actix_web::{App, HttpServer, Responder, get, web};
use auth_actix::{Identity, JwtAuth, Provider, Verified, require_role};
use examples::{Carrier, Demo};
use tracing_subscriber::EnvFilter;

#[get("/public")]
async fn public() -> impl Responder {
    "anyone can see this\n"
}

#[get("/me")]
async fn me(identity: Verified<Identity>) -> impl Responder {
    web::Json(identity)
}

#[get("/admin")]
#[require_role("admin")]
async fn admin(identity: Verified<Identity>) -> impl Responder {
    format!("hello admin {}\n", identity.subject)
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Authentication decisions are `tracing` events (target `auth`): without a subscriber, nothing
    // is logged.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let bind: SocketAddr = setting("BIND")
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
        .parse()
        .map_err(|err| format!("BIND: {err}"))?;

    let (provider, demo) = match setting("OKTA_ISSUER") {
        Some(issuer) => {
            let audience = required(
                "OKTA_AUDIENCE",
                "the authorization server's audience, e.g. api://default",
            )?;
            (Provider::okta(&issuer, &audience), None)
        }
        None => {
            let demo = Demo::start("okta", bind).await?;
            (
                demo.adopt(Provider::okta(
                    "https://dev-123456.okta.com/oauth2/default",
                    "api://default",
                )),
                Some(demo),
            )
        }
    };
    let auth = JwtAuth::new(provider.clone())
        .map_err(|err| format!("OKTA_ISSUER / OKTA_AUDIENCE: {err}"))?
        .public(["/public"]);
    // Stops on a misconfiguration; an unreachable issuer is a warning, and protected routes answer
    // 503 until its keys arrive.
    auth.warm_up()
        .await
        .map_err(|err| format!("OKTA_ISSUER / OKTA_AUDIENCE: {err}"))?;

    let app_auth = auth.clone();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(app_auth.clone())
            .service(public)
            .service(me)
            .service(admin)
    })
    .bind(bind)
    .map_err(|err| format!("BIND={bind}: cannot listen there: {err}"))?;
    let base = format!("http://{}", server.addrs().first().unwrap_or(&bind));
    match &demo {
        Some(demo) => {
            let mint = |subject: &str, groups: &[&str]| {
                demo.token_for(&provider)
                    .subject(subject)
                    .claim("cid", "0oa1b2c3d4e5f6g7h8i9")
                    .claim("uid", "00u1b2c3d4e5f6g7h8i9")
                    .scopes(["openid", "items:read"])
                    .roles(groups.iter().copied())
            };
            let user_token = mint("user@example.com", &["Everyone"]).sign();
            let admin_token = mint("admin@example.com", &["Everyone", "admin"]).sign();
            let expired_token = mint("user@example.com", &[]).expired().sign();
            demo.print(
                &base,
                Carrier::Bearer,
                &user_token,
                &admin_token,
                &expired_token,
            );
        }
        None => println!("okta: listening on {base}"),
    }
    server.run().await?;
    Ok(())
}

/// An environment variable; empty counts as unset.
fn setting(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// A variable that must be set once the provider is configured.
fn required(name: &str, what: &str) -> Result<String, String> {
    setting(name).ok_or_else(|| format!("{name} is not set: {what}"))
}
