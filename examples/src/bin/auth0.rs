//! Auth0 access tokens for an API.
//!
//! ```text
//! cargo run -p examples --bin auth0
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `AUTH0_DOMAIN` | tenant or custom domain, e.g. `my-tenant.us.auth0.com` (unset: embedded issuer) |
//! | `AUTH0_AUDIENCE` | the API Identifier, e.g. `https://api.example.com` |
//! | `AUTH0_ROLES_CLAIM` | claim your Action fills with roles, quoted when it holds dots (default `"https://example.com/roles"`) |
//! | `BIND` | listen address, default `127.0.0.1:8080` |

use auth_actix::testing::TestIssuer;
use auth_actix::{Algorithm, JwtAuth, Provider};
use examples::{Carrier, Demo, env_opt, env_required, init_logging, serve};

const DEMO_AUDIENCE: &str = "https://api.example.com";
const DEMO_ROLES_CLAIM: &str = "https://example.com/roles";

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let (provider, demo) = match env_opt("AUTH0_DOMAIN") {
        Some(domain) => {
            let audience = env_required("AUTH0_AUDIENCE", "the API Identifier from Applications > APIs")?;
            (Provider::auth0(&domain, &audience), None)
        }
        None => {
            let issuer = TestIssuer::start_with(&[Algorithm::RS256]).await;
            let iss = format!("{}/", issuer.issuer());
            let mint = |roles: &[&str]| {
                issuer
                    .token()
                    .issuer(&iss)
                    .audiences([DEMO_AUDIENCE.to_owned(), format!("{iss}userinfo")])
                    .claim("azp", "aBcDeFgHiJkLmNoPqRsTuVwXyZ")
                    .claim(DEMO_ROLES_CLAIM, roles)
                    .claim("permissions", ["read:items"])
                    .scopes(["openid", "profile", "email"])
            };
            let demo = Demo {
                user: mint(&["viewer"]).subject("auth0|6543a1b2c3d4e5f6a7b8c9d0").sign(),
                admin: mint(&["admin"]).subject("auth0|6543a1b2c3d4e5f6a7b8c9ad").sign(),
                expired: mint(&[]).expired().sign(),
                carrier: Carrier::Bearer,
                issuer,
            };
            (Provider::auth0(demo.issuer.issuer(), DEMO_AUDIENCE), Some(demo))
        }
    };
    let roles_claim = env_opt("AUTH0_ROLES_CLAIM").unwrap_or_else(|| format!("\"{DEMO_ROLES_CLAIM}\""));
    let provider = provider.roles_claim(&roles_claim);
    let auth =
        JwtAuth::new(provider).map_err(|err| format!("AUTH0_DOMAIN / AUTH0_AUDIENCE / AUTH0_ROLES_CLAIM: {err}"))?;
    serve("auth0", auth, demo).await
}
