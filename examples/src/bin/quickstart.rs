//! Quickstart: any OpenID Connect issuer.
//!
//! ```text
//! cargo run -p examples --bin quickstart
//! ```
//!
//! Settings (environment variables; with `AUTH_ISSUER` unset the app runs on an embedded test issuer
//! and prints ready-to-paste `curl` lines):
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `AUTH_ISSUER` | issuer URL; keys through `<issuer>/.well-known/openid-configuration` | embedded issuer |
//! | `AUTH_JWKS_URL` | JWKS URL, skipping discovery | from discovery |
//! | `AUTH_AUDIENCE` | the `aud` your API's tokens carry (required with `AUTH_ISSUER`) | |
//! | `AUTH_ROLES_CLAIM` | claim path holding roles, e.g. `realm_access.roles` | `roles` |
//! | `AUTH_LEEWAY_SECS` | clock-skew tolerance in seconds | `30` |
//! | `BIND` | listen address | `127.0.0.1:8080` |

use std::time::Duration;

use actix_web::{App, HttpServer, Responder, get, web};
use auth_actix::testing::TestIssuer;
use auth_actix::{Claims, Identity, JwtAuth, Provider, require_role};
use examples::{Carrier, bind_address, env_opt, env_parse, env_required, init_logging, print_demo};

#[get("/public")]
async fn public() -> impl Responder {
    "anyone can see this\n"
}

#[get("/me")]
async fn me(identity: Identity) -> impl Responder {
    web::Json(identity)
}

#[get("/admin")]
#[require_role("admin")]
async fn admin(claims: Claims) -> impl Responder {
    format!("hello admin {}\n", claims.sub)
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let bind = bind_address()?;
    let roles_claim = env_opt("AUTH_ROLES_CLAIM").unwrap_or_else(|| "roles".to_owned());
    let leeway = Duration::from_secs(env_parse("AUTH_LEEWAY_SECS", 30u64)?);

    // Kept alive for as long as the server runs.
    let mut embedded = None;
    let provider = match env_opt("AUTH_ISSUER") {
        Some(issuer) => {
            let audience = env_required("AUTH_AUDIENCE", "the audience (aud) your API's tokens carry")?;
            let mut provider = Provider::oidc(issuer).audience(audience);
            if let Some(jwks) = env_opt("AUTH_JWKS_URL") {
                provider = provider.jwks_url(jwks);
            }
            provider
        }
        None => {
            let issuer = TestIssuer::start().await;
            let provider = issuer.provider();
            embedded = Some(issuer);
            provider
        }
    };
    let auth = JwtAuth::new(provider.roles_claim(&roles_claim).leeway(leeway))
        .map_err(|err| format!("invalid settings: {err}"))?
        .public(["/public"]);
    auth.prefetch().await.map_err(|err| format!("cannot load the issuer's keys: {err}"))?;

    if let Some(issuer) = &embedded {
        let user = issuer.token().subject("user-1").email("user@example.com").roles(["viewer"]).sign();
        let admin_token = issuer.token().subject("admin-1").email("admin@example.com").roles(["admin"]).sign();
        let expired = issuer.token().subject("user-1").expired().sign();
        print_demo("quickstart", &format!("http://{bind}"), Carrier::Bearer, &user, &admin_token, &expired);
    }

    HttpServer::new(move || App::new().wrap(auth.clone()).service(public).service(me).service(admin))
        .bind(bind)?
        .run()
        .await?;
    Ok(())
}
