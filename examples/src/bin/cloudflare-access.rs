//! Cloudflare Access in front of an Actix Web API.
//!
//! ```text
//! cargo run -p examples --bin cloudflare-access
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `CF_TEAM_DOMAIN` | team URL, `https://<team>.cloudflareaccess.com` (unset: embedded demo issuer) |
//! | `CF_POLICY_AUD` | the application's Audience (AUD) tag, 64 hex characters |
//! | `ADMIN_EMAILS` | comma-separated e-mails given the `admin` role (Access tokens carry no roles) |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! Tokens arrive in the `Cf-Access-Jwt-Assertion` header (or the `CF_Authorization` cookie).

use std::net::SocketAddr;

use actix_web::{App, HttpServer, Responder, get, web};
use auth_actix::{Identity, JwtAuth, Provider, ResolveError, RoleRequest, Verified, require_role};
use examples::{Carrier, Demo};
use tracing_subscriber::EnvFilter;

const DEMO_AUD: &str = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";

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

    let (provider, demo) = match setting("CF_TEAM_DOMAIN") {
        Some(team) => {
            let aud = required(
                "CF_POLICY_AUD",
                "the Access application's AUD tag (64 hex characters)",
            )?;
            (Provider::cloudflare_access(&team, &aud), None)
        }
        None => {
            let demo = Demo::start("cloudflare-access", bind).await?;
            (
                demo.adopt(Provider::cloudflare_access(
                    "https://demo.cloudflareaccess.com",
                    DEMO_AUD,
                )),
                Some(demo),
            )
        }
    };
    let auth = JwtAuth::new(provider.clone())
        .map_err(|err| format!("CF_TEAM_DOMAIN / CF_POLICY_AUD: {err}"))?
        .public(["/public"])
        // Access tokens carry identity, not roles: the application decides who is an admin.
        .role_resolver(admins);
    // Stops on a misconfiguration; an unreachable issuer is a warning, and protected routes answer
    // 503 until its keys arrive.
    auth.warm_up()
        .await
        .map_err(|err| format!("CF_TEAM_DOMAIN / CF_POLICY_AUD: {err}"))?;

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
            let mint = |subject: &str, email: &str| {
                demo.token_for(&provider)
                    .subject(subject)
                    .email(email)
                    .claim("country", "US")
            };
            let user_token =
                mint("7335d417-61da-459d-899c-0a01c76a2f94", "user@example.com").sign();
            let admin_token =
                mint("0b8f2c1e-8d3a-4c55-9a0e-5f1d2e3c4b5a", "admin@example.com").sign();
            let expired_token = mint("7335d417-61da-459d-899c-0a01c76a2f94", "user@example.com")
                .expired()
                .sign();
            demo.print(
                &base,
                Carrier::Header("Cf-Access-Jwt-Assertion"),
                &user_token,
                &admin_token,
                &expired_token,
            );
        }
        None => println!("cloudflare-access: listening on {base}"),
    }
    server.run().await?;
    Ok(())
}

/// The `admin` role for the e-mails in `ADMIN_EMAILS` (in demo mode, admin@example.com).
async fn admins(request: RoleRequest) -> Result<Vec<String>, ResolveError> {
    let listed = setting("ADMIN_EMAILS").unwrap_or_else(|| "admin@example.com".to_owned());
    let email = request.identity().email.as_deref().unwrap_or_default();
    let is_admin = !email.is_empty()
        && listed
            .split(',')
            .any(|listed| listed.trim().eq_ignore_ascii_case(email));
    Ok(if is_admin {
        vec!["admin".to_owned()]
    } else {
        Vec::new()
    })
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
