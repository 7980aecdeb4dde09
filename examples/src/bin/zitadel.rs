//! Zitadel access tokens (application token type "JWT").
//!
//! ```text
//! cargo run -p examples --bin zitadel
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `ZITADEL_ISSUER` | instance URL, e.g. `https://my-instance.zitadel.cloud` (unset: embedded demo issuer) |
//! | `ZITADEL_PROJECT_ID` | the project's ID, digits shown on the project's page (in `aud`) |
//! | `ZITADEL_ORG_ID` | the owning organisation's ID (digits); the roles it grants are the app's |
//! | `ZITADEL_USER_CLIENTS` | comma-separated client IDs of the applications people sign in through; only their tokens are people's (unset: a token shaped like a person's passes neither `#[require_user]` nor `#[require_service]`). Client IDs only, never usernames |
//! | `ZITADEL_KEY_FILE` | the API application's JSON key (authentication method "JWT"), to accept Zitadel's default opaque tokens by introspection |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! Routes, and which organisation each guard checks (the guide: `docs/providers/zitadel.md`):
//!
//! - `/admin` needs the project role `admin` as an application role: granted by the organisation
//!   owning the project (`ZITADEL_ORG_ID`). A customer organisation the project is granted to may
//!   grant `admin` to its own users too; that makes them admins of their organisation, not of this
//!   application.
//! - `GET /orgs/{org}/invoices` needs a project role (`viewer` or `admin`) granted by the
//!   organisation the path names, and `POST` needs its `admin`: the guard compares the caller's
//!   organisation with `{org}`, so organisation A's admin cannot touch organisation B's invoices.
//! - `/jobs` is for service users (machine users: JWT profile, client credentials or a personal
//!   access token), never for people, nor for tokens that may be either (`ZITADEL_USER_CLIENTS`).

use actix_web::{Responder, get, post, web};
use auth_actix::testing::{ServiceUserGrant, ZITADEL_WEB_CLIENT_ID};
use auth_actix::{
    Identity, JwtAuth, Provider, Verified, require_org_role, require_role, require_service,
};
use examples::server::{listen, log_decisions};
use examples::settings::{address, named, named_by, setting};
use examples::{Carrier, Demo};

const DEMO_PROJECT: &str = "263514598346711111";
const DEMO_OWNER_ORG: &str = "263514100000000001";
/// Two customer organisations the demo project is granted to.
const DEMO_CUSTOMER: &str = "263514200000000002";
const DEMO_OTHER_CUSTOMER: &str = "263514300000000003";

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

/// An organisation's invoices, for anyone it granted a role of this project.
#[get("/orgs/{org}/invoices")]
#[require_org_role(any("viewer", "admin"), org = "org")]
async fn invoices(org: web::Path<String>) -> impl Responder {
    format!("invoices of organisation {org}\n")
}

/// A new invoice, for the organisation's own admins only.
#[post("/orgs/{org}/invoices")]
#[require_org_role("admin", org = "org")]
async fn create_invoice(org: web::Path<String>, identity: Verified<Identity>) -> impl Responder {
    format!("invoice created in {org} by {}\n", identity.subject)
}

/// Work for machines: a service user's token, never a person's.
#[get("/jobs")]
#[require_service]
async fn jobs(identity: Verified<Identity>) -> impl Responder {
    format!("jobs for service user {}\n", identity.subject)
}

/// The app's routes, every one behind `JwtAuth`.
fn routes(config: &mut web::ServiceConfig) {
    config
        .service(public)
        .service(me)
        .service(admin)
        .service(invoices)
        .service(create_invoice)
        .service(jobs);
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    log_decisions();
    let bind = address("BIND", "127.0.0.1:8080")?;

    let (provider, demo) = match setting("ZITADEL_ISSUER") {
        Some(issuer) => {
            // Not `required`: these say "(or empty)", as a blank line left in a template is the
            // likely mistake here.
            let project = setting("ZITADEL_PROJECT_ID").ok_or(
                "ZITADEL_PROJECT_ID is not set (or empty): the project's ID (digits, shown on the \
                 project's page in the console), which tokens carry in aud",
            )?;
            let owner = setting("ZITADEL_ORG_ID").ok_or(
                "ZITADEL_ORG_ID is not set (or empty): the ID of the organisation owning the project \
                 (digits, shown on the organisation's page in the console); the roles it grants \
                 are the application's",
            )?;
            if !is_zitadel_id(&owner) {
                return Err(format!(
                    "ZITADEL_ORG_ID: {owner:?} is not a Zitadel organisation ID (10 to 25 digits, \
                     e.g. 263514100000000001): copy the ID of the organisation owning the project, \
                     shown on the organisation's page in the console, not its name or domain"
                )
                .into());
            }
            let mut provider = Provider::zitadel(&issuer, &project).trusted_organizations([owner]);
            if let Some(clients) = setting("ZITADEL_USER_CLIENTS") {
                provider = provider.zitadel_user_clients(clients.split(',').map(str::trim));
            }
            if let Some(key_file) = setting("ZITADEL_KEY_FILE") {
                provider = provider.zitadel_key_file(&key_file);
            }
            (provider, None)
        }
        None => {
            let demo = Demo::start("zitadel", bind).await?;
            (
                // Zitadel's default tokens are opaque: the demo issuer mints those too.
                demo.adopt(
                    Provider::zitadel("https://acme.zitadel.cloud", DEMO_PROJECT)
                        .trusted_organizations([DEMO_OWNER_ORG])
                        // The demo front end's client ID, in the tokens the demo issuer mints.
                        .zitadel_user_clients([ZITADEL_WEB_CLIENT_ID]),
                )
                .introspection(demo.introspection()),
                Some(demo),
            )
        }
    };
    let auth = JwtAuth::new(provider.clone())
        .map_err(named_by(variable))?
        .public(["/public"]);
    // Stops on a misconfiguration; an unreachable issuer is a warning, and protected routes answer
    // 503 until its keys arrive.
    auth.warm_up()
        .await
        .map_err(named("ZITADEL_ISSUER / ZITADEL_PROJECT_ID"))?;

    let (server, base) = listen(auth, bind, routes)?;
    match &demo {
        Some(demo) => {
            let mint = |subject: &str, roles: &[&str]| {
                demo.token_for(&provider)
                    .subject(subject)
                    .scopes(["openid", "profile", "email"])
                    .roles(roles.iter().copied())
            };
            let user_token = mint("263514-user", &["viewer"])
                .email("user@example.com")
                .sign();
            let admin_token = mint("263514-admin", &["admin"])
                .email("admin@example.com")
                .sign();
            let expired_token = mint("263514-user", &[]).expired().sign();
            demo.print(
                &base,
                Carrier::Bearer,
                &user_token,
                &admin_token,
                &expired_token,
            );
            let opaque = mint("263514-admin", &["admin"]).opaque();
            println!("# an opaque admin token (Zitadel's default), accepted by introspection");
            println!("curl -i {} {base}/admin", Carrier::Bearer.flag(&opaque));
            let customer_admin = demo
                .token_for(&provider)
                .subject("263514-customer-admin")
                .organization(DEMO_CUSTOMER, ["admin"])
                .sign();
            let bearer = Carrier::Bearer.flag(&customer_admin);
            println!("# a customer organisation's admin: its own invoices 200, another's 403");
            println!("curl -i -X POST {bearer} {base}/orgs/{DEMO_CUSTOMER}/invoices");
            println!("curl -i -X POST {bearer} {base}/orgs/{DEMO_OTHER_CUSTOMER}/invoices");
            let service = demo
                .token_for(&provider)
                .zitadel_service_user(ServiceUserGrant::ClientCredentials)
                .opaque();
            println!("# a service user (client credentials, opaque) on /jobs 200; a person 403");
            println!("curl -i {} {base}/jobs", Carrier::Bearer.flag(&service));
            println!("curl -i {bearer} {base}/jobs");
            println!();
        }
        None => println!("zitadel: listening on {base}"),
    }
    server.await?;
    Ok(())
}

/// The environment variable a setting `JwtAuth::new` refused came from.
fn variable(setting: &str) -> &'static str {
    if setting.contains("zitadel_key_file") {
        "ZITADEL_KEY_FILE"
    } else if setting.contains("zitadel_user_clients") {
        "ZITADEL_USER_CLIENTS"
    } else if setting.contains("project_id") {
        "ZITADEL_PROJECT_ID"
    } else {
        "ZITADEL_ISSUER / ZITADEL_PROJECT_ID"
    }
}

/// Whether `value` has the form of a Zitadel resource ID (its IDs are numbers, 17 to 19 digits in
/// its documentation), as `Provider::zitadel` requires of the project ID.
fn is_zitadel_id(value: &str) -> bool {
    (10..=25).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit())
}
