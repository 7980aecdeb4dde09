//! Okta access tokens from a custom authorization server.
//!
//! ```text
//! cargo run -p examples --bin okta
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `OKTA_ISSUER` | e.g. `https://dev-123456.okta.com/oauth2/default` (unset: embedded issuer) |
//! | `OKTA_AUDIENCE` | the authorization server's audience, e.g. `api://default` |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! `/admin` needs the group `admin` in the `groups` claim (add a groups claim to the authorization server).

use auth_actix::testing::TestIssuer;
use auth_actix::{Algorithm, JwtAuth, Provider};
use examples::{Carrier, Demo, env_opt, env_required, init_logging, serve};

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let (provider, demo) = match env_opt("OKTA_ISSUER") {
        Some(issuer) => {
            let audience = env_required("OKTA_AUDIENCE", "the authorization server's audience, e.g. api://default")?;
            (Provider::okta(&issuer, &audience), None)
        }
        None => {
            let issuer = TestIssuer::start_with(&[Algorithm::RS256]).await;
            let iss = format!("{}/oauth2/default", issuer.issuer());
            let mint = |groups: &[&str]| {
                issuer
                    .token()
                    .issuer(&iss)
                    .audience("api://default")
                    .claim("cid", "0oa1b2c3d4e5f6g7h8i9")
                    .claim("uid", "00u1b2c3d4e5f6g7h8i9")
                    .claim("scp", ["openid", "items:read"])
                    .claim("groups", groups)
            };
            let demo = Demo {
                user: mint(&["Everyone"]).subject("user@example.com").sign(),
                admin: mint(&["Everyone", "admin"]).subject("admin@example.com").sign(),
                expired: mint(&[]).expired().sign(),
                carrier: Carrier::Bearer,
                issuer,
            };
            (Provider::okta(&iss, "api://default"), Some(demo))
        }
    };
    let auth = JwtAuth::new(provider).map_err(|err| format!("OKTA_ISSUER / OKTA_AUDIENCE: {err}"))?;
    serve("okta", auth, demo).await
}
