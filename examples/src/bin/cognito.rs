//! Amazon Cognito user pool access tokens.
//!
//! ```text
//! cargo run -p examples --bin cognito
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `COGNITO_REGION` | e.g. `eu-west-1` (unset: embedded demo issuer) |
//! | `COGNITO_USER_POOL_ID` | e.g. `eu-west-1_AbCdEf123` |
//! | `COGNITO_CLIENT_ID` | the app client ID (access tokens carry it in `client_id`) |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! `/admin` needs membership of the user pool group `admin` (`cognito:groups`).

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

    let (provider, demo) = match setting("COGNITO_REGION") {
        Some(region) => {
            let pool = required(
                "COGNITO_USER_POOL_ID",
                "the user pool ID, e.g. eu-west-1_AbCdEf123",
            )?;
            let client = required("COGNITO_CLIENT_ID", "the app client ID")?;
            (Provider::cognito(&region, &pool, &client), None)
        }
        None => {
            let demo = Demo::start("cognito", bind).await?;
            (
                demo.adopt(Provider::cognito(
                    "eu-west-1",
                    "eu-west-1_Demo12345",
                    "5h4n3cl1ent1d",
                )),
                Some(demo),
            )
        }
    };
    let auth = JwtAuth::new(provider.clone())
        .map_err(named(
            "COGNITO_REGION / COGNITO_USER_POOL_ID / COGNITO_CLIENT_ID",
        ))?
        .public(["/public"]);
    // Stops on a misconfiguration; an unreachable issuer is a warning, and protected routes answer
    // 503 until its keys arrive.
    auth.warm_up().await.map_err(named(
        "COGNITO_REGION / COGNITO_USER_POOL_ID / COGNITO_CLIENT_ID",
    ))?;

    let (server, base) = listen(auth, bind, routes)?;
    match &demo {
        Some(demo) => {
            let mint = |subject: &str, groups: &[&str]| {
                demo.token_for(&provider)
                    .subject(subject)
                    .claim("username", "demo-user")
                    .scopes(["aws.cognito.signin.user.admin"])
                    .roles(groups.iter().copied())
            };
            let user_token = mint("a1b2c3d4-0000-4000-8000-000000000001", &["staff"]).sign();
            let admin_token = mint("a1b2c3d4-0000-4000-8000-000000000002", &["admin"]).sign();
            let expired_token = mint("a1b2c3d4-0000-4000-8000-000000000001", &[])
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
        None => println!("cognito: listening on {base}"),
    }
    server.await?;
    Ok(())
}
