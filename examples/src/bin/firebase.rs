//! Firebase Authentication ID tokens.
//!
//! ```text
//! cargo run -p examples --bin firebase
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `FIREBASE_PROJECT_ID` | the Firebase project ID (unset: embedded demo issuer) |
//! | `BIND` | listen address, default `127.0.0.1:8080` |
//!
//! `/admin` needs a custom claim `roles: ["admin"]` (set with the Admin SDK's
//! `setCustomUserClaims`).

use actix_web::{Responder, get, web};
use auth_actix::{Identity, JwtAuth, Provider, Verified, require_role};
use examples::server::{listen, log_decisions};
use examples::settings::{address, named, setting};
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

    let (provider, demo) = match setting("FIREBASE_PROJECT_ID") {
        Some(project) => (Provider::firebase(&project), None),
        None => {
            let demo = Demo::start("firebase", bind).await?;
            (demo.adopt(Provider::firebase("demo-project")), Some(demo))
        }
    };
    let auth = JwtAuth::new(provider.clone())
        .map_err(named("FIREBASE_PROJECT_ID"))?
        .public(["/public"]);
    // Stops on a misconfiguration; an unreachable issuer is a warning, and protected routes answer
    // 503 until its keys arrive.
    auth.warm_up().await.map_err(named("FIREBASE_PROJECT_ID"))?;

    let (server, base) = listen(auth, bind, routes)?;
    match &demo {
        Some(demo) => {
            let mint = |uid: &str, roles: &[&str]| {
                demo.token_for(&provider)
                    .subject(uid)
                    .claim("user_id", uid)
                    .claim(
                        "firebase",
                        serde_json::json!({"identities": {}, "sign_in_provider": "password"}),
                    )
                    .roles(roles.iter().copied())
            };
            let user_token = mint("kX3fUserUid0000000000000001", &[])
                .email("user@example.com")
                .sign();
            let admin_token = mint("kX3fAdminUid000000000000002", &["admin"])
                .email("admin@example.com")
                .sign();
            let expired_token = mint("kX3fUserUid0000000000000001", &[]).expired().sign();
            demo.print(
                &base,
                Carrier::Bearer,
                &user_token,
                &admin_token,
                &expired_token,
            );
        }
        None => println!("firebase: listening on {base}"),
    }
    server.await?;
    Ok(())
}
