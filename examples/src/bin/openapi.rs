//! OpenAPI: Swagger UI at `/docs` (assets embedded, works offline) and the spec at `/openapi.json`, with
//! security schemes from the provider and per-operation requirements from the guards.
//!
//! ```text
//! cargo run -p examples --bin openapi      # then open http://127.0.0.1:8080/docs
//! ```
//!
//! Settings as for `quickstart`: `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_JWKS_URL` (unset: embedded issuer),
//! and `BIND` (default `127.0.0.1:8080`).

use actix_web::{App, HttpResponse, HttpServer, Responder, get, web};
use auth_actix::openapi::SecurityDocs;
use auth_actix::testing::TestIssuer;
use auth_actix::{Identity, JwtAuth, Provider, require_role, require_scope};
use examples::{Carrier, base_url, bind_address, env_opt, env_required, init_logging, print_demo};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

/// No authentication.
#[utoipa::path(get, path = "/public", responses((status = 200, description = "Anyone can see this")))]
#[get("/public")]
async fn public() -> impl Responder {
    HttpResponse::Ok().body("anyone can see this\n")
}

/// The caller's identity.
#[utoipa::path(
    get,
    path = "/me",
    responses((status = 200, description = "The verified identity"), (status = 401, description = "No valid token")),
    security(("bearer" = []))
)]
#[get("/me")]
async fn me(identity: Identity) -> impl Responder {
    web::Json(identity)
}

/// Administrators only.
#[require_role("admin")]
#[utoipa::path(
    get,
    path = "/admin",
    responses((status = 200, description = "Hello, admin"), (status = 401, description = "No valid token"), (status = 403, description = "Not an admin"))
)]
#[get("/admin")]
async fn admin(identity: Identity) -> impl Responder {
    HttpResponse::Ok().body(format!("hello admin {}\n", identity.subject))
}

/// Items, for tokens granted `read:items`.
#[require_scope("read:items")]
#[utoipa::path(
    get,
    path = "/items",
    responses((status = 200, description = "The items"), (status = 401, description = "No valid token"), (status = 403, description = "Scope missing"))
)]
#[get("/items")]
async fn items() -> impl Responder {
    web::Json(["apple", "pear"])
}

#[derive(OpenApi)]
#[openapi(paths(public, me, admin, items), info(title = "auth-actix example API", version = "1.0.0"))]
struct ApiDoc;

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let mut embedded = None;
    let provider = match env_opt("AUTH_ISSUER") {
        Some(issuer) => {
            let audience = env_required("AUTH_AUDIENCE", "the audience (aud) your API's tokens carry")?;
            let provider = Provider::oidc(issuer).audience(audience);
            env_opt("AUTH_JWKS_URL").map_or(provider.clone(), |jwks| provider.jwks_url(jwks))
        }
        None => {
            let issuer = TestIssuer::start().await;
            let provider = issuer.provider();
            embedded = Some(issuer);
            provider
        }
    };
    let auth = JwtAuth::new(provider).map_err(|err| format!("AUTH_ISSUER / AUTH_AUDIENCE: {err}"))?.public([
        "/public",
        "/docs/*",
        "/openapi.json",
    ]);
    auth.prefetch().await.map_err(|err| format!("openapi: cannot load the issuer's keys: {err}"))?;
    let spec = SecurityDocs::new(&auth).apply(ApiDoc::openapi());

    let bind = bind_address()?;
    let server = HttpServer::new(move || {
        App::new().wrap(auth.clone()).service(public).service(me).service(admin).service(items).service(
            SwaggerUi::new("/docs/{_:.*}")
                .url("/openapi.json", spec.clone())
                // The authorization code flow from the browser, as OAuth 2.0 for browser apps requires.
                .oauth(utoipa_swagger_ui::oauth::Config::new().use_pkce_with_authorization_code_grant(true)),
        )
    })
    .bind(bind)
    .map_err(|err| format!("BIND={bind}: cannot listen there: {err}"))?;
    let base = base_url(&server.addrs(), bind);
    if let Some(issuer) = &embedded {
        let user = issuer.token().subject("user-1").roles(["viewer"]).scopes(["read:items"]).sign();
        let admin_token = issuer.token().subject("admin-1").roles(["admin"]).sign();
        let expired = issuer.token().subject("user-1").expired().sign();
        print_demo("openapi", &base, Carrier::Bearer, &user, &admin_token, &expired);
        println!("# Swagger UI (Authorize with one of the tokens above): {base}/docs/");
        println!("# the spec: curl {base}/openapi.json");
        println!();
    } else {
        println!("openapi: Swagger UI at {base}/docs/");
    }
    server.run().await?;
    Ok(())
}
