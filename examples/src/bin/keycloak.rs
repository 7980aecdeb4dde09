//! Keycloak access tokens.
//!
//! ```text
//! cargo run -p examples --bin keycloak
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `KEYCLOAK_URL` | server URL, e.g. `https://sso.example.com` (unset: embedded demo issuer) |
//! | `KEYCLOAK_REALM` | realm name |
//! | `KEYCLOAK_CLIENT_ID` | the API's client (add an Audience mapper so tokens carry it in `aud`) |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! `/admin` needs the realm role `admin` (`realm_access.roles`) or the client role `admin`
//! (`resource_access.<client>.roles`).

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

    let (provider, demo) = match setting("KEYCLOAK_URL") {
        Some(url) => {
            let realm = required("KEYCLOAK_REALM", "the realm name")?;
            let client = required("KEYCLOAK_CLIENT_ID", "the API's client ID")?;
            (Provider::keycloak(&url, &realm, &client), None)
        }
        None => {
            let demo = Demo::start("keycloak", bind).await?;
            (
                demo.adopt(Provider::keycloak(
                    "https://sso.example.com",
                    "demo",
                    "demo-api",
                )),
                Some(demo),
            )
        }
    };
    let auth = JwtAuth::new(provider.clone())
        .map_err(named("KEYCLOAK_URL / KEYCLOAK_REALM / KEYCLOAK_CLIENT_ID"))?
        .public(["/public"]);
    // Stops on a misconfiguration; an unreachable issuer is a warning, and protected routes answer
    // 503 until its keys arrive.
    auth.warm_up()
        .await
        .map_err(named("KEYCLOAK_URL / KEYCLOAK_REALM / KEYCLOAK_CLIENT_ID"))?;

    let (server, base) = listen(auth, bind, routes)?;
    match &demo {
        Some(demo) => {
            let mint = |subject: &str, roles: &[&str]| {
                demo.token_for(&provider)
                    .subject(subject)
                    .claim("azp", "demo-web")
                    .claim("preferred_username", "demo")
                    .scopes(["openid", "email", "profile"])
                    .roles(roles.iter().copied())
            };
            let user_token =
                mint("f1b2c3d4-0000-4000-8000-000000000001", &["offline_access"]).sign();
            let admin_token = mint(
                "f1b2c3d4-0000-4000-8000-000000000002",
                &["offline_access", "admin"],
            )
            .sign();
            let expired_token = mint("f1b2c3d4-0000-4000-8000-000000000001", &[])
                .expired()
                .sign();
            demo.print(
                &base,
                Carrier::Bearer,
                &user_token,
                &admin_token,
                &expired_token,
            );
        }
        None => println!("keycloak: listening on {base}"),
    }
    server.await?;
    Ok(())
}
