//! Clerk session tokens (a bearer token, or the `__session` cookie on same-origin requests).
//!
//! ```text
//! cargo run -p examples --bin clerk
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `CLERK_ISSUER` | Frontend API URL, e.g. `https://<slug>.clerk.accounts.dev` (unset: embedded demo issuer) |
//! | `CLERK_AUTHORIZED_PARTIES` | comma-separated origins of your front end, e.g. `https://app.example.com` |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! `/admin` here is the admin of the caller's active organisation, `org:admin`
//! (`#[require_org_role]`): whoever creates an organisation is its admin, so it never satisfies the
//! application's own `#[require_role("admin")]`. Name your staff organisation with
//! `.trusted_organizations([...])` to make its roles application roles.

use actix_web::{Responder, get, web};
use auth_actix::{Identity, JwtAuth, Provider, Verified, require_org_role};
use examples::server::{listen, log_decisions};
use examples::settings::{address, list, named, required, setting};
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
#[require_org_role("org:admin")]
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

    let (provider, demo) = match setting("CLERK_ISSUER") {
        Some(issuer) => {
            let parties = required(
                "CLERK_AUTHORIZED_PARTIES",
                "comma-separated origins of your front end",
            )?;
            (Provider::clerk(&issuer, list(&parties)), None)
        }
        None => {
            let demo = Demo::start("clerk", bind).await?;
            (
                demo.adopt(Provider::clerk(
                    "https://clerk.example.com",
                    ["http://localhost:3000"],
                )),
                Some(demo),
            )
        }
    };
    let auth = JwtAuth::new(provider.clone())
        .map_err(named("CLERK_ISSUER / CLERK_AUTHORIZED_PARTIES"))?
        .public(["/public"]);
    // Stops on a misconfiguration; an unreachable issuer is a warning, and protected routes answer
    // 503 until its keys arrive.
    auth.warm_up()
        .await
        .map_err(named("CLERK_ISSUER / CLERK_AUTHORIZED_PARTIES"))?;

    let (server, base) = listen(auth, bind, routes)?;
    match &demo {
        Some(demo) => {
            let mint = |subject: &str, role: &str| {
                demo.token_for(&provider)
                    .subject(subject)
                    .claim("sid", "sess_2NNEqL2nrIRdJ194ndJqAHwEfxD")
                    .organization("org_2abc", [role])
            };
            let user_token = mint("user_2NNEqL2nrIRdJ194ndJqAHwEfxC", "member").sign();
            let admin_token = mint("user_2NNEqL2nrIRdJ194ndJqAHwAdmn", "admin").sign();
            let expired_token = mint("user_2NNEqL2nrIRdJ194ndJqAHwEfxC", "member")
                .expired()
                .sign();
            demo.print(
                &base,
                Carrier::Cookie("__session"),
                &user_token,
                &admin_token,
                &expired_token,
            );
        }
        None => println!("clerk: listening on {base}"),
    }
    server.await?;
    Ok(())
}
