//! Keycloak access tokens.
//!
//! ```text
//! cargo run -p examples --bin keycloak
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `KEYCLOAK_URL` | server URL, e.g. `https://sso.example.com` (unset: embedded demo issuer) |
//! | `KEYCLOAK_REALM` | realm name |
//! | `KEYCLOAK_CLIENT_ID` | the API's client (add an Audience mapper so tokens carry it in `aud`) |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! `/admin` needs the realm role `admin` (`realm_access.roles`) or the client role `admin`
//! (`resource_access.<client>.roles`).

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

    let (provider, demo) = match setting("KEYCLOAK_URL") {
        Some(url) => {
            let realm = required("KEYCLOAK_REALM", "the realm name")?;
            let client = required("KEYCLOAK_CLIENT_ID", "the API's client ID")?;
            (Provider::keycloak(&url, &realm, &client), None)
        }
        None => {
            let demo = Demo::start("keycloak", bind).await?;
            (
                demo.adopt(Provider::keycloak(
                    "https://sso.example.com",
                    "demo",
                    "demo-api",
                )),
                Some(demo),
            )
        }
    };
    let auth = JwtAuth::new(provider.clone())
        .map_err(|err| format!("KEYCLOAK_URL / KEYCLOAK_REALM / KEYCLOAK_CLIENT_ID: {err}"))?
        .public(["/public"]);
    // Stops on a misconfiguration; an unreachable issuer is a warning, and protected routes answer
    // 503 until its keys arrive.
    auth.warm_up()
        .await
        .map_err(|err| format!("KEYCLOAK_URL / KEYCLOAK_REALM / KEYCLOAK_CLIENT_ID: {err}"))?;

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
            let mint = |subject: &str, roles: &[&str]| {
                demo.token_for(&provider)
                    .subject(subject)
                    .claim("azp", "demo-web")
                    .claim("preferred_username", "demo")
                    .scopes(["openid", "email", "profile"])
                    .roles(roles.iter().copied())
            };
            let user_token =
                mint("f1b2c3d4-0000-4000-8000-000000000001", &["offline_access"]).sign();
            let admin_token = mint(
                "f1b2c3d4-0000-4000-8000-000000000002",
                &["offline_access", "admin"],
            )
            .sign();
            let expired_token = mint("f1b2c3d4-0000-4000-8000-000000000001", &[])
                .expired()
                .sign();
            demo.print(
                &base,
                Carrier::Bearer,
                &user_token,
                &admin_token,
                &expired_token,
            );
        }
        None => println!("keycloak: listening on {base}"),
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
