//! Keycloak access tokens.
//!
//! ```text
//! cargo run -p examples --bin keycloak
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `KEYCLOAK_URL` | server URL, e.g. `https://sso.example.com` (unset: embedded issuer) |
//! | `KEYCLOAK_REALM` | realm name |
//! | `KEYCLOAK_CLIENT_ID` | the API's client (add an Audience mapper so tokens carry it in `aud`) |
//! | `BIND` | listen address, default `127.0.0.1:8080` |

use auth_actix::testing::TestIssuer;
use auth_actix::{JwtAuth, Provider};
use examples::{Carrier, Demo, env_opt, env_required, init_logging, serve};
use serde_json::json;

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let (provider, demo) = match env_opt("KEYCLOAK_URL") {
        Some(url) => {
            let realm = env_required("KEYCLOAK_REALM", "the realm name")?;
            let client = env_required("KEYCLOAK_CLIENT_ID", "the API's client ID")?;
            (Provider::keycloak(&url, &realm, &client), None)
        }
        None => {
            let issuer = TestIssuer::start().await;
            let iss = format!("{}/realms/demo", issuer.issuer());
            let mint = |realm_roles: &[&str]| {
                issuer
                    .token()
                    .issuer(&iss)
                    .audiences(["demo-api", "account"])
                    .claim("azp", "demo-web")
                    .claim("typ", "Bearer")
                    .claim("realm_access", json!({"roles": realm_roles}))
                    .claim("resource_access", json!({"demo-api": {"roles": ["items:read"]}}))
                    .claim("preferred_username", "demo")
                    .scopes(["openid", "email", "profile"])
            };
            let demo = Demo {
                user: mint(&["offline_access"]).subject("f1b2c3d4-0000-4000-8000-000000000001").sign(),
                admin: mint(&["offline_access", "admin"]).subject("f1b2c3d4-0000-4000-8000-000000000002").sign(),
                expired: mint(&[]).expired().sign(),
                carrier: Carrier::Bearer,
                issuer,
            };
            (Provider::keycloak(demo.issuer.issuer(), "demo", "demo-api"), Some(demo))
        }
    };
    let auth =
        JwtAuth::new(provider).map_err(|err| format!("KEYCLOAK_URL / KEYCLOAK_REALM / KEYCLOAK_CLIENT_ID: {err}"))?;
    serve("keycloak", auth, demo).await
}
