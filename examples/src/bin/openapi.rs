//! OpenAPI: Swagger UI at `/docs` (assets embedded, works offline) and the spec at `/openapi.json`,
//! with security schemes from the provider and per-operation requirements from the guards.
//!
//! ```text
//! cargo run -p examples --bin openapi      # then open http://127.0.0.1:8080/docs
//! ```
//!
//! Settings as for `quickstart`: `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_JWKS_URL` (unset: embedded
//! demo issuer), and `BIND` (default `127.0.0.1:8080`).

use std::net::SocketAddr;

use actix_web::{App, HttpResponse, HttpServer, Responder, get, web};
use auth_actix::openapi::SecurityDocs;
use auth_actix::{Identity, JwtAuth, Provider, Verified, require_role, require_scope};
use examples::{Carrier, Demo};
use tracing_subscriber::EnvFilter;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

/// No authentication.
#[utoipa::path(
    get,
    path = "/public",
    responses(
        (status = 200, description = "Anyone can see this")
    )
)]
#[get("/public")]
async fn public() -> impl Responder {
    HttpResponse::Ok().body("anyone can see this\n")
}

/// The caller's identity.
#[utoipa::path(
    get,
    path = "/me",
    responses(
        (status = 200, description = "The verified identity"),
        (status = 401, description = "No valid token")
    ),
    security(("bearer" = []))
)]
#[get("/me")]
async fn me(identity: Verified<Identity>) -> impl Responder {
    web::Json(identity)
}

/// Administrators only.
#[require_role("admin")]
#[utoipa::path(
    get,
    path = "/admin",
    responses(
        (status = 200, description = "Hello, admin"),
        (status = 401, description = "No valid token"),
        (status = 403, description = "Not an admin")
    )
)]
#[get("/admin")]
async fn admin(identity: Verified<Identity>) -> impl Responder {
    HttpResponse::Ok().body(format!("hello admin {}\n", identity.subject))
}

/// Items, for tokens granted `read:items`.
#[require_scope("read:items")]
#[utoipa::path(
    get,
    path = "/items",
    responses(
        (status = 200, description = "The items"),
        (status = 401, description = "No valid token"),
        (status = 403, description = "Scope missing")
    )
)]
#[get("/items")]
async fn items() -> impl Responder {
    web::Json(["apple", "pear"])
}

#[derive(OpenApi)]
#[openapi(
    paths(public, me, admin, items),
    info(title = "auth-actix example API", version = "1.0.0")
)]
struct ApiDoc;

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let bind: SocketAddr = setting("BIND")
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
        .parse()
        .map_err(|err| format!("BIND: {err}"))?;
    let (provider, demo) = match setting("AUTH_ISSUER") {
        Some(issuer) => {
            let audience = setting("AUTH_AUDIENCE")
                .ok_or("AUTH_AUDIENCE is not set: give the aud your API's tokens carry")?;
            let provider = Provider::oidc(issuer).audience(audience);
            (
                setting("AUTH_JWKS_URL").map_or(provider.clone(), |jwks| provider.jwks_url(jwks)),
                None,
            )
        }
        None => {
            let demo = Demo::start("openapi", bind).await?;
            (
                demo.adopt(Provider::oidc("https://issuer.example.com").audience("my-api")),
                Some(demo),
            )
        }
    };
    let auth = JwtAuth::new(provider.clone())
        .map_err(|err| format!("AUTH_ISSUER / AUTH_AUDIENCE: {err}"))?
        .public(["/public"])
        .skip(["/docs/*", "/openapi.json"]);
    auth.warm_up()
        .await
        .map_err(|err| format!("AUTH_ISSUER / AUTH_AUDIENCE: {err}"))?;
    let spec = SecurityDocs::new(&auth).apply(ApiDoc::openapi());

    let server = HttpServer::new(move || {
        App::new()
            .wrap(auth.clone())
            .service(public)
            .service(me)
            .service(admin)
            .service(items)
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .url("/openapi.json", spec.clone())
                    // The authorization code flow from the browser, as OAuth 2.0 for browser apps
                    // requires.
                    .oauth(
                        utoipa_swagger_ui::oauth::Config::new()
                            .use_pkce_with_authorization_code_grant(true),
                    ),
            )
    })
    .bind(bind)
    .map_err(|err| format!("BIND={bind}: cannot listen there: {err}"))?;
    let base = format!("http://{}", server.addrs().first().unwrap_or(&bind));
    match &demo {
        Some(demo) => {
            let user = demo
                .token_for(&provider)
                .subject("user-1")
                .roles(["viewer"])
                .scopes(["read:items"])
                .sign();
            let admin_token = demo
                .token_for(&provider)
                .subject("admin-1")
                .roles(["admin"])
                .sign();
            let expired = demo.token_for(&provider).subject("user-1").expired().sign();
            demo.print(&base, Carrier::Bearer, &user, &admin_token, &expired);
            println!("# Swagger UI (Authorize with one of the tokens above): {base}/docs/");
            println!("# the spec: curl {base}/openapi.json");
            println!();
        }
        None => println!("openapi: Swagger UI at {base}/docs/"),
    }
    server.run().await?;
    Ok(())
}

/// An environment variable; empty counts as unset.
fn setting(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}
