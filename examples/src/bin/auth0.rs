//! Auth0 access tokens for an API.
//!
//! ```text
//! cargo run -p examples --bin auth0
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `AUTH0_DOMAIN` | tenant or custom domain, e.g. `my-tenant.us.auth0.com` (unset: embedded demo issuer) |
//! | `AUTH0_AUDIENCE` | the API Identifier, e.g. `https://api.example.com` |
//! | `AUTH0_ROLES_CLAIM` | claim your Action fills with roles, quoted when it holds dots (default `"https://example.com/roles"`) |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! `/admin` needs the role `admin` in the roles claim a Post-Login Action writes.

use actix_web::{Responder, get, web};
use auth_actix::{Identity, JwtAuth, Provider, Verified, require_role};
use examples::server::{listen, log_decisions};
use examples::settings::{address, named, required, setting};
use examples::{Carrier, Demo};

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

/// The app's routes, every one behind `JwtAuth`.
fn routes(config: &mut web::ServiceConfig) {
    config.service(public).service(me).service(admin);
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    log_decisions();
    let bind = address("BIND", "127.0.0.1:8080")?;

    let roles_claim =
        setting("AUTH0_ROLES_CLAIM").unwrap_or_else(|| "\"https://example.com/roles\"".to_owned());
    let (provider, demo) = match setting("AUTH0_DOMAIN") {
        Some(domain) => {
            let audience = required(
                "AUTH0_AUDIENCE",
                "the API Identifier from Applications > APIs",
            )?;
            (
                Provider::auth0(&domain, &audience).roles_claim(&roles_claim),
                None,
            )
        }
        None => {
            let demo = Demo::start("auth0", bind).await?;
            (
                demo.adopt(
                    Provider::auth0("tenant.us.auth0.com", "https://api.example.com")
                        .roles_claim(&roles_claim),
                ),
                Some(demo),
            )
        }
    };
    let auth = JwtAuth::new(provider.clone())
        .map_err(named("AUTH0_DOMAIN / AUTH0_AUDIENCE / AUTH0_ROLES_CLAIM"))?
        .public(["/public"]);
    // Stops on a misconfiguration; an unreachable issuer is a warning, and protected routes answer
    // 503 until its keys arrive.
    auth.warm_up()
        .await
        .map_err(named("AUTH0_DOMAIN / AUTH0_AUDIENCE / AUTH0_ROLES_CLAIM"))?;

    let (server, base) = listen(auth, bind, routes)?;
    match &demo {
        Some(demo) => {
            let mint = |subject: &str, roles: &[&str]| {
                demo.token_for(&provider)
                    .subject(subject)
                    .claim("azp", "aBcDeFgHiJkLmNoPqRsTuVwXyZ")
                    .claim("permissions", ["read:items"])
                    .roles(roles.iter().copied())
            };
            let user_token = mint("auth0|6543a1b2c3d4e5f6a7b8c9d0", &["viewer"]).sign();
            let admin_token = mint("auth0|6543a1b2c3d4e5f6a7b8c9ad", &["admin"]).sign();
            let expired_token = mint("auth0|6543a1b2c3d4e5f6a7b8c9d0", &[]).expired().sign();
            demo.print(
                &base,
                Carrier::Bearer,
                &user_token,
                &admin_token,
                &expired_token,
            );
        }
        None => println!("auth0: listening on {base}"),
    }
    server.await?;
    Ok(())
}
