//! Clerk session tokens (the `__session` cookie or a bearer token).
//!
//! ```text
//! cargo run -p examples --bin clerk
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `CLERK_ISSUER` | Frontend API URL, e.g. `https://<slug>.clerk.accounts.dev` (unset: embedded issuer) |
//! | `CLERK_AUTHORIZED_PARTIES` | comma-separated origins of your front end, e.g. `https://app.example.com` |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! `/admin` needs the organisation role `admin` (`o.rol` in v2 session tokens; v1 tokens carry
//! `org_role: "org:admin"`, so require that name instead if you still issue v1 tokens).

use std::time::Duration;

use auth_actix::testing::TestIssuer;
use auth_actix::{Algorithm, JwtAuth, Provider};
use examples::{Carrier, Demo, env_opt, env_required, init_logging, list, serve};
use serde_json::json;

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let (provider, demo) = match env_opt("CLERK_ISSUER") {
        Some(issuer) => {
            let parties = list(&env_required("CLERK_AUTHORIZED_PARTIES", "comma-separated origins of your front end")?);
            (Provider::clerk(&issuer, parties), None)
        }
        None => {
            let issuer = TestIssuer::start_with(&[Algorithm::RS256]).await;
            let mint = |role: &str| {
                issuer
                    .token()
                    .without_claim("aud")
                    .claim("azp", "http://localhost:3000")
                    .claim("sid", "sess_2NNEqL2nrIRdJ194ndJqAHwEfxD")
                    .claim("v", 2)
                    .claim("o", json!({"id": "org_2abc", "rol": role, "slg": "acme", "per": "read"}))
                    // Printed tokens must outlive copy and paste; real session tokens live 60 s.
                    .expires_in(Duration::from_secs(3600))
            };
            let demo = Demo {
                user: mint("member").subject("user_2NNEqL2nrIRdJ194ndJqAHwEfxC").sign(),
                admin: mint("admin").subject("user_2NNEqL2nrIRdJ194ndJqAHwAdmn").sign(),
                expired: mint("member").expired().sign(),
                carrier: Carrier::Cookie("__session"),
                issuer,
            };
            (Provider::clerk(demo.issuer.issuer(), ["http://localhost:3000"]), Some(demo))
        }
    };
    let auth = JwtAuth::new(provider).map_err(|err| format!("CLERK_ISSUER / CLERK_AUTHORIZED_PARTIES: {err}"))?;
    serve("clerk", auth, demo).await
}
