//! Amazon Cognito user pool access tokens.
//!
//! ```text
//! cargo run -p examples --bin cognito
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `COGNITO_REGION` | e.g. `eu-west-1` (unset: embedded issuer) |
//! | `COGNITO_USER_POOL_ID` | e.g. `eu-west-1_AbCdEf123` |
//! | `COGNITO_CLIENT_ID` | the app client ID (access tokens carry it in `client_id`) |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! `/admin` needs membership of the user pool group `admin` (`cognito:groups`).

use auth_actix::testing::TestIssuer;
use auth_actix::{Algorithm, JwtAuth, Provider};
use examples::{Carrier, Demo, env_opt, env_required, init_logging, serve};

const DEMO_POOL: &str = "eu-west-1_Demo12345";
const DEMO_CLIENT: &str = "5h4n3cl1ent1d";

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let (provider, demo) = match env_opt("COGNITO_REGION") {
        Some(region) => {
            let pool = env_required("COGNITO_USER_POOL_ID", "the user pool ID, e.g. eu-west-1_AbCdEf123")?;
            let client = env_required("COGNITO_CLIENT_ID", "the app client ID")?;
            (Provider::cognito(&region, &pool, &client), None)
        }
        None => {
            let issuer = TestIssuer::start_with(&[Algorithm::RS256]).await;
            let iss = format!("{}/{DEMO_POOL}", issuer.issuer());
            let mint = |groups: &[&str]| {
                issuer
                    .token()
                    .issuer(&iss)
                    .without_claim("aud")
                    .claim("client_id", DEMO_CLIENT)
                    .claim("token_use", "access")
                    .claim("cognito:groups", groups)
                    .claim("username", "demo-user")
                    .scopes(["aws.cognito.signin.user.admin"])
            };
            let demo = Demo {
                user: mint(&["staff"]).subject("a1b2c3d4-0000-4000-8000-000000000001").sign(),
                admin: mint(&["admin"]).subject("a1b2c3d4-0000-4000-8000-000000000002").sign(),
                expired: mint(&[]).expired().sign(),
                carrier: Carrier::Bearer,
                issuer,
            };
            (Provider::cognito("eu-west-1", DEMO_POOL, DEMO_CLIENT).relocate(demo.issuer.issuer()), Some(demo))
        }
    };
    let auth = JwtAuth::new(provider)
        .map_err(|err| format!("COGNITO_REGION / COGNITO_USER_POOL_ID / COGNITO_CLIENT_ID: {err}"))?;
    serve("cognito", auth, demo).await
}
