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

use auth_actix::testing::TestIssuer;
use auth_actix::{JwtAuth, Provider};
use examples::{Carrier, Demo, env_opt, env_parse, env_required, init_logging, serve};

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let roles_claim = env_opt("AUTH_ROLES_CLAIM").unwrap_or_else(|| "roles".to_owned());
    let leeway = Duration::from_secs(env_parse("AUTH_LEEWAY_SECS", 30u64)?);

    let (provider, demo) = match env_opt("AUTH_ISSUER") {
        Some(issuer) => {
            let audience = env_required("AUTH_AUDIENCE", "the audience (aud) your API's tokens carry")?;
            let provider = Provider::oidc(issuer).audience(audience);
            match env_opt("AUTH_JWKS_URL") {
                Some(jwks) => (provider.jwks_url(jwks), None),
                None => (provider, None),
            }
        }
        None => {
            let issuer = TestIssuer::start().await;
            let demo = Demo {
                user: issuer.token().subject("user-1").email("user@example.com").roles(["viewer"]).sign(),
                admin: issuer.token().subject("admin-1").email("admin@example.com").roles(["admin"]).sign(),
                expired: issuer.token().subject("user-1").expired().sign(),
                carrier: Carrier::Bearer,
                issuer,
            };
            (demo.issuer.provider(), Some(demo))
        }
    };
    let auth = JwtAuth::new(provider.roles_claim(&roles_claim).leeway(leeway))
        .map_err(|err| format!("AUTH_ISSUER / AUTH_AUDIENCE / AUTH_ROLES_CLAIM: {err}"))?;
    serve("quickstart", auth, demo).await
}
