//! Zitadel access tokens (application token type "JWT").
//!
//! ```text
//! cargo run -p examples --bin zitadel
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `ZITADEL_ISSUER` | instance URL, e.g. `https://my-instance.zitadel.cloud` (unset: embedded issuer) |
//! | `ZITADEL_PROJECT_ID` | the project's resource ID (in `aud`) |
//! | `BIND` | listen address, default `127.0.0.1:8080` |

use auth_actix::testing::TestIssuer;
use auth_actix::{JwtAuth, Provider};
use examples::{Carrier, Demo, env_opt, env_required, init_logging, serve};
use serde_json::json;

const DEMO_PROJECT: &str = "263514598346711111";

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let (provider, demo) = match env_opt("ZITADEL_ISSUER") {
        Some(issuer) => {
            let project = env_required("ZITADEL_PROJECT_ID", "the project's Resource Id, which tokens carry in aud")?;
            (Provider::zitadel(&issuer, &project), None)
        }
        None => {
            let issuer = TestIssuer::start().await;
            let mint = |roles: serde_json::Value| {
                issuer
                    .token()
                    .audiences([DEMO_PROJECT, "263514598346722222@demo-app"])
                    .claim("urn:zitadel:iam:org:project:roles", roles)
                    .scopes(["openid", "profile", "email"])
            };
            let demo = Demo {
                user: mint(json!({"viewer": {"263514": "acme.zitadel.cloud"}}))
                    .subject("263514-user")
                    .email("user@example.com")
                    .sign(),
                admin: mint(json!({"admin": {"263514": "acme.zitadel.cloud"}}))
                    .subject("263514-admin")
                    .email("admin@example.com")
                    .sign(),
                expired: mint(json!({})).expired().sign(),
                carrier: Carrier::Bearer,
                issuer,
            };
            (Provider::zitadel(demo.issuer.issuer(), DEMO_PROJECT), Some(demo))
        }
    };
    let auth = JwtAuth::new(provider).map_err(|err| format!("ZITADEL_ISSUER / ZITADEL_PROJECT_ID: {err}"))?;
    serve("zitadel", auth, demo).await
}
