//! Firebase Authentication ID tokens.
//!
//! ```text
//! cargo run -p examples --bin firebase
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `FIREBASE_PROJECT_ID` | the Firebase project ID (unset: embedded issuer) |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! `/admin` needs a custom claim `roles: ["admin"]` (set with the Admin SDK's `setCustomUserClaims`).

use auth_actix::testing::TestIssuer;
use auth_actix::{Algorithm, JwtAuth, Provider};
use examples::{Carrier, Demo, env_opt, init_logging, serve};
use serde_json::json;

const DEMO_PROJECT: &str = "demo-project";

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let (provider, demo) = match env_opt("FIREBASE_PROJECT_ID") {
        Some(project) => (Provider::firebase(&project), None),
        None => {
            let issuer = TestIssuer::start_with(&[Algorithm::RS256]).await;
            let iss = format!("{}/{DEMO_PROJECT}", issuer.issuer());
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
            let mint = |uid: &str, roles: &[&str]| {
                issuer
                    .token()
                    .issuer(&iss)
                    .audience(DEMO_PROJECT)
                    .subject(uid)
                    .claim("user_id", uid)
                    .claim("auth_time", now - 60)
                    .claim("roles", roles)
                    .claim("firebase", json!({"identities": {}, "sign_in_provider": "password"}))
            };
            let demo = Demo {
                user: mint("kX3fUserUid0000000000000001", &[]).email("user@example.com").sign(),
                admin: mint("kX3fAdminUid000000000000002", &["admin"]).email("admin@example.com").sign(),
                expired: mint("kX3fUserUid0000000000000001", &[]).expired().sign(),
                carrier: Carrier::Bearer,
                issuer,
            };
            (Provider::firebase(DEMO_PROJECT).relocate(demo.issuer.issuer()), Some(demo))
        }
    };
    let auth = JwtAuth::new(provider).map_err(|err| format!("FIREBASE_PROJECT_ID: {err}"))?;
    serve("firebase", auth, demo).await
}
