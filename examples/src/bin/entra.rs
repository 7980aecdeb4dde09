//! Microsoft Entra ID (Azure AD) v2.0 access tokens.
//!
//! ```text
//! cargo run -p examples --bin entra
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `ENTRA_TENANT_ID` | directory (tenant) ID, or `common` / `organizations` for a multi-tenant app (unset: embedded issuer) |
//! | `ENTRA_CLIENT_ID` | the API's application (client) ID |
//! | `ENTRA_ALLOWED_TENANTS` | with `common`/`organizations`: comma-separated tenant IDs to accept |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! `/admin` needs the app role `admin` (App roles in the app registration, assigned to users or groups).

use auth_actix::testing::TestIssuer;
use auth_actix::{Algorithm, JwtAuth, Provider};
use examples::{Carrier, Demo, env_opt, env_required, init_logging, list, serve};

const DEMO_TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const DEMO_CLIENT: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let (provider, demo) = match env_opt("ENTRA_TENANT_ID") {
        Some(tenant) => {
            let client = env_required("ENTRA_CLIENT_ID", "the application (client) ID of your API")?;
            let provider = if ["common", "organizations"].contains(&tenant.to_ascii_lowercase().as_str()) {
                let tenants =
                    env_required("ENTRA_ALLOWED_TENANTS", "comma-separated tenant IDs a multi-tenant app accepts")?;
                Provider::entra_multi_tenant(&client, list(&tenants))
            } else {
                Provider::entra(&tenant, &client)
            };
            (provider, None)
        }
        None => {
            let issuer = TestIssuer::start_with(&[Algorithm::RS256]).await;
            let iss = format!("{}/{DEMO_TENANT}/v2.0", issuer.issuer());
            let mint = |roles: &[&str]| {
                issuer
                    .token()
                    .issuer(&iss)
                    .audience(DEMO_CLIENT)
                    .claim("tid", DEMO_TENANT)
                    .claim("oid", "00000000-0000-0000-66f3-3332eca7ea81")
                    .claim("ver", "2.0")
                    .claim("roles", roles)
                    .claim("scp", "Items.Read")
                    .claim("preferred_username", "user@contoso.com")
            };
            let demo = Demo {
                user: mint(&["reader"]).subject("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ").sign(),
                admin: mint(&["admin"]).subject("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbADM").sign(),
                expired: mint(&[]).expired().sign(),
                carrier: Carrier::Bearer,
                issuer,
            };
            (Provider::entra(DEMO_TENANT, DEMO_CLIENT).relocate(demo.issuer.issuer()), Some(demo))
        }
    };
    let auth = JwtAuth::new(provider).map_err(|err| format!("ENTRA_TENANT_ID / ENTRA_CLIENT_ID: {err}"))?;
    serve("entra", auth, demo).await
}
