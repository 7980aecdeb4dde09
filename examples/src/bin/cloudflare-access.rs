//! Cloudflare Access in front of an Actix Web API.
//!
//! ```text
//! cargo run -p examples --bin cloudflare-access
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `CF_TEAM_DOMAIN` | team URL, `https://<team>.cloudflareaccess.com` (unset: embedded demo issuer) |
//! | `CF_POLICY_AUD` | the application's Audience (AUD) tag, 64 hex characters |
//! | `ADMIN_EMAILS` | comma-separated e-mails given the `admin` role (Access tokens carry no roles) |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! Tokens arrive in the `Cf-Access-Jwt-Assertion` header (or the `CF_Authorization` cookie).

use actix_web::{Responder, get, web};
use auth_actix::{Identity, JwtAuth, Provider, ResolveError, RoleRequest, Verified, require_role};
use examples::server::{listen, log_decisions};
use examples::settings::{address, list, named, required, setting};
use examples::{Carrier, Demo};

const DEMO_AUD: &str = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";

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

/// The app's routes, every one behind `JwtAuth`.
fn routes(config: &mut web::ServiceConfig) {
    config.service(public).service(me).service(admin);
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    log_decisions();
    let bind = address("BIND", "127.0.0.1:8080")?;

    let (provider, demo) = match setting("CF_TEAM_DOMAIN") {
        Some(team) => {
            let aud = required(
                "CF_POLICY_AUD",
                "the Access application's AUD tag (64 hex characters)",
            )?;
            (Provider::cloudflare_access(&team, &aud), None)
        }
        None => {
            let demo = Demo::start("cloudflare-access", bind).await?;
            (
                demo.adopt(Provider::cloudflare_access(
                    "https://demo.cloudflareaccess.com",
                    DEMO_AUD,
                )),
                Some(demo),
            )
        }
    };
    let auth = JwtAuth::new(provider.clone())
        .map_err(named("CF_TEAM_DOMAIN / CF_POLICY_AUD"))?
        .public(["/public"])
        // Access tokens carry identity, not roles: the application decides who is an admin.
        .role_resolver(admins);
    // Stops on a misconfiguration; an unreachable issuer is a warning, and protected routes answer
    // 503 until its keys arrive.
    auth.warm_up()
        .await
        .map_err(named("CF_TEAM_DOMAIN / CF_POLICY_AUD"))?;

    let (server, base) = listen(auth, bind, routes)?;
    match &demo {
        Some(demo) => {
            let mint = |subject: &str, email: &str| {
                demo.token_for(&provider)
                    .subject(subject)
                    .email(email)
                    .claim("country", "US")
            };
            let user_token =
                mint("7335d417-61da-459d-899c-0a01c76a2f94", "user@example.com").sign();
            let admin_token =
                mint("0b8f2c1e-8d3a-4c55-9a0e-5f1d2e3c4b5a", "admin@example.com").sign();
            let expired_token = mint("7335d417-61da-459d-899c-0a01c76a2f94", "user@example.com")
                .expired()
                .sign();
            demo.print(
                &base,
                Carrier::Header("Cf-Access-Jwt-Assertion"),
                &user_token,
                &admin_token,
                &expired_token,
            );
        }
        None => println!("cloudflare-access: listening on {base}"),
    }
    server.await?;
    Ok(())
}

/// The `admin` role for the e-mails in `ADMIN_EMAILS` (in demo mode, admin@example.com).
async fn admins(request: RoleRequest) -> Result<Vec<String>, ResolveError> {
    let listed = setting("ADMIN_EMAILS").unwrap_or_else(|| "admin@example.com".to_owned());
    let email = request.identity().email.as_deref().unwrap_or_default();
    let is_admin =
        !email.is_empty() && list(&listed).any(|listed| listed.eq_ignore_ascii_case(email));
    Ok(if is_admin {
        vec!["admin".to_owned()]
    } else {
        Vec::new()
    })
}
