//! Microsoft Entra ID (Azure AD) v2.0 access tokens.
//!
//! ```text
//! cargo run -p examples --bin entra
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `ENTRA_TENANT_ID` | directory (tenant) ID, or `common` / `organizations` for a multi-tenant app (unset: embedded demo issuer) |
//! | `ENTRA_CLIENT_ID` | the API's application (client) ID |
//! | `ENTRA_ALLOWED_TENANTS` | with `common`/`organizations`: comma-separated tenant IDs to accept |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! `/admin` needs the app role `admin` (App roles in the app registration, assigned to users or
//! groups).

use std::net::SocketAddr;

use actix_web::{App, HttpServer, Responder, get, web};
use auth_actix::{Identity, JwtAuth, Provider, Verified, require_role};
use examples::{Carrier, Demo};
use tracing_subscriber::EnvFilter;

const DEMO_TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const DEMO_CLIENT: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

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

    let (provider, demo) = match setting("ENTRA_TENANT_ID") {
        Some(tenant) => {
            let client = required("ENTRA_CLIENT_ID", "the application (client) ID of your API")?;
            let provider =
                if ["common", "organizations"].contains(&tenant.to_ascii_lowercase().as_str()) {
                    let tenants = required(
                        "ENTRA_ALLOWED_TENANTS",
                        "comma-separated tenant IDs a multi-tenant app accepts",
                    )?;
                    Provider::entra_multi_tenant(
                        &client,
                        tenants.split(',').map(str::trim).filter(|t| !t.is_empty()),
                    )
                } else {
                    Provider::entra(&tenant, &client)
                };
            (provider, None)
        }
        None => {
            let demo = Demo::start("entra", bind).await?;
            (
                demo.adopt(Provider::entra(DEMO_TENANT, DEMO_CLIENT)),
                Some(demo),
            )
        }
    };
    let auth = JwtAuth::new(provider.clone())
        .map_err(|err| format!("ENTRA_TENANT_ID / ENTRA_CLIENT_ID / ENTRA_ALLOWED_TENANTS: {err}"))?
        .public(["/public"]);
    // Stops on a misconfiguration; an unreachable issuer is a warning, and protected routes answer
    // 503 until its keys arrive.
    auth.warm_up().await.map_err(|err| {
        format!("ENTRA_TENANT_ID / ENTRA_CLIENT_ID / ENTRA_ALLOWED_TENANTS: {err}")
    })?;

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
                    .claim("tid", DEMO_TENANT)
                    .claim("oid", "00000000-0000-0000-66f3-3332eca7ea81")
                    .claim("ver", "2.0")
                    .claim("preferred_username", "user@contoso.com")
                    .scopes(["Items.Read"])
                    .roles(roles.iter().copied())
            };
            let user_token =
                mint("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", &["reader"]).sign();
            let admin_token =
                mint("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbADM", &["admin"]).sign();
            let expired_token = mint("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", &[])
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
        None => println!("entra: listening on {base}"),
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
