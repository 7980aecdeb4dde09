//! Microsoft Entra ID (Azure AD) v2.0 access tokens, for one tenant or several (a multi-tenant
//! SaaS API).
//!
//! ```text
//! cargo run -p examples --bin entra
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `ENTRA_TENANT_ID` | your tenant ID, a GUID (Entra admin center > Overview > Tenant ID), or `common` / `organizations` for a multi-tenant app (unset: embedded demo issuer) |
//! | `ENTRA_CLIENT_ID` | the API's application (client) ID |
//! | `ENTRA_ALLOWED_TENANTS` | with `common`/`organizations`: comma-separated tenant IDs (GUIDs) to accept |
//! | `ENTRA_HOME_TENANT` | with `common`/`organizations`, optional: your own tenant ID, whose roles are the application's; list it in `ENTRA_ALLOWED_TENANTS` too |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! `/admin` needs the app role `admin` as an application role: assigned in your own tenant (App
//! roles in the app registration, assigned to users or groups). In a multi-tenant app each
//! customer tenant's administrators assign the app's roles in their own directory: those roles
//! are the tenant's, so a customer's `admin` is refused `/admin` and admitted to
//! `/tenants/{tenant}/admin` for their own tenant only (`#[require_org_role("admin", org =
//! "tenant")]`). The demo runs multi-tenant, with a home tenant and a customer tenant.
//!
//! Store users by `oid` together with `tid` (shown by `/me`), never by the per-application `sub`.

use actix_web::{Responder, get, web};
use auth_actix::{Identity, JwtAuth, Provider, Verified, require_org_role, require_role};
use examples::server::{listen, log_decisions};
use examples::settings::{address, list, named_by, required, setting};
use examples::{Carrier, Demo};

const DEMO_TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const DEMO_CUSTOMER: &str = "fa15d692-e9c7-4460-a743-29f2956fd429";
const DEMO_CLIENT: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

#[get("/public")]
async fn public() -> impl Responder {
    "anyone can see this\n"
}

#[get("/me")]
async fn me(identity: Verified<Identity>) -> impl Responder {
    web::Json(identity)
}

#[get("/admin")]
#[require_role("admin")]
async fn admin(identity: Verified<Identity>) -> impl Responder {
    format!("hello admin {}\n", identity.subject)
}

/// A tenant's own administration: its admins, for that tenant only.
#[get("/tenants/{tenant}/admin")]
#[require_org_role("admin", org = "tenant")]
async fn tenant_admin(tenant: web::Path<String>) -> impl Responder {
    format!("hello admin of tenant {tenant}\n")
}

/// The app's routes, every one behind `JwtAuth`.
fn routes(config: &mut web::ServiceConfig) {
    config
        .service(public)
        .service(me)
        .service(admin)
        .service(tenant_admin);
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    log_decisions();
    let bind = address("BIND", "127.0.0.1:8080")?;

    let (provider, demo) = match setting("ENTRA_TENANT_ID") {
        Some(tenant) => {
            let client = required("ENTRA_CLIENT_ID", "the application (client) ID of your API")?;
            let provider =
                if ["common", "organizations"].contains(&tenant.to_ascii_lowercase().as_str()) {
                    let tenants = required(
                        "ENTRA_ALLOWED_TENANTS",
                        "comma-separated tenant IDs a multi-tenant app accepts",
                    )?;
                    let provider = Provider::entra_multi_tenant(&client, list(&tenants));
                    match setting("ENTRA_HOME_TENANT") {
                        Some(home) => provider.trusted_organizations([home]),
                        None => provider,
                    }
                } else {
                    Provider::entra(&tenant, &client)
                };
            (provider, None)
        }
        None => {
            let demo = Demo::start("entra", bind).await?;
            let provider = Provider::entra_multi_tenant(DEMO_CLIENT, [DEMO_TENANT, DEMO_CUSTOMER])
                .trusted_organizations([DEMO_TENANT]);
            (demo.adopt(provider), Some(demo))
        }
    };
    let auth = JwtAuth::new(provider.clone())
        .map_err(named_by(variable))?
        .public(["/public"]);
    // Stops on a misconfiguration; an unreachable issuer is a warning, and protected routes answer
    // 503 until its keys arrive.
    auth.warm_up().await.map_err(named_by(variable))?;

    let (server, base) = listen(auth, bind, routes)?;
    match &demo {
        Some(demo) => {
            // People of the home tenant (trusted: its roles are the application's).
            let mint = |subject: &str, roles: &[&str]| {
                demo.token_for(&provider)
                    .subject(subject)
                    .claim("preferred_username", "user@contoso.com")
                    .scopes(["Items.Read"])
                    .roles(roles.iter().copied())
            };
            let user_token =
                mint("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", &["reader"]).sign();
            let admin_token =
                mint("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbADM", &["admin"]).sign();
            let expired_token = mint("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", &[])
                .expired()
                .sign();
            demo.print(
                &base,
                Carrier::Bearer,
                &user_token,
                &admin_token,
                &expired_token,
            );
            // A customer tenant's administrator: its roles are the customer's.
            let customer_admin = demo
                .token_for(&provider)
                .subject("AAAAAAAAAAAAAAAAAAAAAKvN0Kz1xJx6oQ4d3G2cLvQ")
                .claim("preferred_username", "admin@fabrikam.com")
                .organization(DEMO_CUSTOMER, ["admin"])
                .sign();
            let bearer = Carrier::Bearer.flag(&customer_admin);
            println!("# a customer tenant's admin: not the application's admin (/admin 403),");
            println!("# its own tenant's admin (200), not another tenant's (403)");
            println!("curl -i {bearer} {base}/admin");
            println!("curl -i {bearer} {base}/tenants/{DEMO_CUSTOMER}/admin");
            println!("curl -i {bearer} {base}/tenants/{DEMO_TENANT}/admin");
            println!();
        }
        None => println!("entra: listening on {base}"),
    }
    server.await?;
    Ok(())
}

/// The environment variable a refused setting came from.
fn variable(setting: &str) -> &'static str {
    if setting.ends_with("tenants") {
        "ENTRA_ALLOWED_TENANTS"
    } else if setting.ends_with("trusted_organizations") {
        "ENTRA_HOME_TENANT"
    } else if setting.ends_with("client_id") {
        "ENTRA_CLIENT_ID"
    } else if setting.ends_with("tenant") {
        "ENTRA_TENANT_ID"
    } else {
        "ENTRA_TENANT_ID / ENTRA_CLIENT_ID / ENTRA_ALLOWED_TENANTS"
    }
}
