//! Okta access tokens from a custom authorization server.
//!
//! ```text
//! cargo run -p examples --bin okta
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `OKTA_ISSUER` | e.g. `https://dev-123456.okta.com/oauth2/default` (unset: embedded demo issuer) |
//! | `OKTA_AUDIENCE` | the authorization server's audience, e.g. `api://default` |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! `/admin` needs the group `admin` in the `groups` claim (add a groups claim to the authorization
//! server).

use actix_web::{Responder, get, web};
use auth_actix::{Identity, JwtAuth, Provider, Verified, require_role};
use examples::server::{listen, log_decisions};
use examples::settings::{address, named, required, setting};
use examples::{Carrier, Demo};

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

    let (provider, demo) = match setting("OKTA_ISSUER") {
        Some(issuer) => {
            let audience = required(
                "OKTA_AUDIENCE",
                "the authorization server's audience, e.g. api://default",
            )?;
            (Provider::okta(&issuer, &audience), None)
        }
        None => {
            let demo = Demo::start("okta", bind).await?;
            (
                demo.adopt(Provider::okta(
                    "https://dev-123456.okta.com/oauth2/default",
                    "api://default",
                )),
                Some(demo),
            )
        }
    };
    let auth = JwtAuth::new(provider.clone())
        .map_err(named("OKTA_ISSUER / OKTA_AUDIENCE"))?
        .public(["/public"]);
    // Stops on a misconfiguration; an unreachable issuer is a warning, and protected routes answer
    // 503 until its keys arrive.
    auth.warm_up()
        .await
        .map_err(named("OKTA_ISSUER / OKTA_AUDIENCE"))?;

    let (server, base) = listen(auth, bind, routes)?;
    match &demo {
        Some(demo) => {
            let mint = |subject: &str, groups: &[&str]| {
                demo.token_for(&provider)
                    .subject(subject)
                    .claim("cid", "0oa1b2c3d4e5f6g7h8i9")
                    .claim("uid", "00u1b2c3d4e5f6g7h8i9")
                    .scopes(["openid", "items:read"])
                    .roles(groups.iter().copied())
            };
            let user_token = mint("user@example.com", &["Everyone"]).sign();
            let admin_token = mint("admin@example.com", &["Everyone", "admin"]).sign();
            let expired_token = mint("user@example.com", &[]).expired().sign();
            demo.print(
                &base,
                Carrier::Bearer,
                &user_token,
                &admin_token,
                &expired_token,
            );
        }
        None => println!("okta: listening on {base}"),
    }
    server.await?;
    Ok(())
}
