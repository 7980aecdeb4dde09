//! Cloudflare Access in front of an Actix Web API.
//!
//! ```text
//! cargo run -p examples --bin cloudflare-access
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `CF_TEAM_DOMAIN` | team URL, `https://<team>.cloudflareaccess.com` (unset: embedded issuer) |
//! | `CF_POLICY_AUD` | the application's Audience (AUD) tag, 64 hex characters |
//! | `ADMIN_EMAILS` | comma-separated e-mails given the `admin` role (Access tokens carry no roles) |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! Tokens arrive in the `Cf-Access-Jwt-Assertion` header (or the `CF_Authorization` cookie).

use actix_web::HttpRequest;
use auth_actix::testing::TestIssuer;
use auth_actix::{Algorithm, JwtAuth, Provider, ResolveError};
use examples::{Carrier, Demo, env_opt, env_required, init_logging, list, serve};

const DEMO_AUD: &str = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let (provider, demo, default_admins) = match env_opt("CF_TEAM_DOMAIN") {
        Some(team) => {
            let aud = env_required("CF_POLICY_AUD", "the Access application's AUD tag (64 hex characters)")?;
            (Provider::cloudflare_access(&team, &aud), None, String::new())
        }
        None => {
            let issuer = TestIssuer::start_with(&[Algorithm::RS256]).await;
            let mint = |email: &str| {
                issuer.token().audiences([DEMO_AUD]).email(email).claim("type", "app").claim("country", "US")
            };
            let demo = Demo {
                user: mint("user@example.com").subject("7335d417-61da-459d-899c-0a01c76a2f94").sign(),
                admin: mint("admin@example.com").subject("0b8f2c1e-8d3a-4c55-9a0e-5f1d2e3c4b5a").sign(),
                expired: mint("user@example.com").expired().sign(),
                carrier: Carrier::Header("Cf-Access-Jwt-Assertion"),
                issuer,
            };
            (Provider::cloudflare_access(demo.issuer.issuer(), DEMO_AUD), Some(demo), "admin@example.com".to_owned())
        }
    };
    let admins = list(&env_opt("ADMIN_EMAILS").unwrap_or(default_admins));
    // Access tokens carry identity, not roles: the application decides who is an admin.
    let auth = JwtAuth::new(provider).map_err(|err| format!("CF_TEAM_DOMAIN / CF_POLICY_AUD: {err}"))?.role_resolver(
        move |_: HttpRequest, identity: auth_actix::core::Identity| {
            let is_admin =
                identity.email.as_ref().is_some_and(|email| admins.iter().any(|a| a.eq_ignore_ascii_case(email)));
            async move { Ok::<_, ResolveError>(if is_admin { vec!["admin".to_owned()] } else { vec![] }) }
        },
    );
    serve("cloudflare-access", auth, demo).await
}
