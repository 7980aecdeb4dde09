//! OpenAPI: Swagger UI at `/docs` (assets embedded, works offline) and the spec at `/openapi.json`,
//! with security schemes from the provider and per-operation requirements from the guards.
//!
//! ```text
//! cargo run -p examples --bin openapi      # then open http://127.0.0.1:8080/docs
//! ```
//!
//! Settings as for `quickstart`: `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_JWKS_URL` (unset: embedded
//! demo issuer, whose tokens you paste into Authorize), and `BIND` (default `127.0.0.1:8080`).
//!
//! Signing in from Swagger UI's Authorize button (authorization code with PKCE), with a real
//! provider (`AUTH_ISSUER`):
//! - `OPENAPI_CLIENT_ID`: a public client at the provider (no secret; authorization code grant,
//!   PKCE), whose redirect URI is this server's `/docs/oauth2-redirect.html`, e.g.
//!   `http://127.0.0.1:8080/docs/oauth2-redirect.html`, and, where the provider asks, whose web
//!   origin is this server's. Its access tokens must carry `AUTH_AUDIENCE`.
//! - `OPENAPI_SCOPES` (optional): the scopes to ask for, space-separated. Default: `openid` and the
//!   scopes the guards need (`read:items` here).
//! - `OPENAPI_AUTHORIZE_PARAMS` (optional): extra parameters for the authorization request,
//!   `name=value` pairs separated by `&`, e.g. `audience=https://api.example.com` for Auth0, which
//!   issues no JWT for the API without it.

use actix_web::{HttpResponse, Responder, get, web};
use auth_actix::openapi::{SecurityDocs, SwaggerOAuth};
use auth_actix::{Identity, JwtAuth, Provider, Verified, require_role, require_scope};
use examples::server::{listen, log_decisions};
use examples::settings::{address, named, oidc_provider, setting};
use examples::{Carrier, Demo};
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
    log_decisions();
    let bind = address("BIND", "127.0.0.1:8080")?;
    let (provider, demo) = match oidc_provider()? {
        Some(provider) => (provider, None),
        None => {
            let demo = Demo::start("openapi", bind).await?;
            (
                demo.adopt(Provider::oidc("https://issuer.example.com").audience("my-api")),
                Some(demo),
            )
        }
    };
    let auth = JwtAuth::new(provider.clone())
        .map_err(named("AUTH_ISSUER / AUTH_AUDIENCE"))?
        .public(["/public"])
        .skip(["/docs/*", "/openapi.json"]);
    auth.warm_up()
        .await
        .map_err(named("AUTH_ISSUER / AUTH_AUDIENCE"))?;
    // After warm_up: a generic provider's sign-in endpoints come from its discovery document.
    let spec = SecurityDocs::new(&auth).apply(ApiDoc::openapi());
    let sign_in = match setting("OPENAPI_CLIENT_ID") {
        Some(_) if demo.is_some() => {
            return Err(
                "OPENAPI_CLIENT_ID: the embedded demo issuer has no sign-in page; set \
                        AUTH_ISSUER and AUTH_AUDIENCE to your provider, or unset \
                        OPENAPI_CLIENT_ID and paste a printed token into Authorize"
                    .into(),
            );
        }
        Some(client_id) => Some(swagger_sign_in(&spec, &client_id)?),
        None => None,
    };
    let oauth = match &sign_in {
        Some(sign_in) => sign_in.clone().into_swagger_ui_config(),
        // Without a client ID Swagger UI asks for one; PKCE either way, as OAuth 2.0 for
        // browser apps requires.
        None => {
            utoipa_swagger_ui::oauth::Config::new().use_pkce_with_authorization_code_grant(true)
        }
    };

    let routes = move |config: &mut web::ServiceConfig| {
        config
            .service(public)
            .service(me)
            .service(admin)
            .service(items)
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .url("/openapi.json", spec.clone())
                    .oauth(oauth.clone()),
            );
    };
    let (server, base) = listen(auth, bind, routes)?;
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
        None => {
            println!("openapi: listening on {base}");
            match &sign_in {
                Some(sign_in) => println!(
                    "# Swagger UI: {base}/docs/ (Authorize signs in at {} as client {}, asking \
                     for {}; its redirect URI: {base}/docs/oauth2-redirect.html)",
                    sign_in.authorization_url(),
                    sign_in.client_id(),
                    sign_in.scopes().join(" ")
                ),
                None => println!("# Swagger UI: {base}/docs/"),
            }
        }
    }
    server.await?;
    Ok(())
}

/// Swagger UI's sign-in for the public client `client_id`, with `OPENAPI_SCOPES` and
/// `OPENAPI_AUTHORIZE_PARAMS` if set.
fn swagger_sign_in(
    spec: &utoipa::openapi::OpenApi,
    client_id: &str,
) -> Result<SwaggerOAuth, String> {
    let mut sign_in = SwaggerOAuth::from_openapi(spec, client_id)
        .map_err(named("OPENAPI_CLIENT_ID / AUTH_ISSUER"))?;
    if let Some(scopes) = setting("OPENAPI_SCOPES") {
        sign_in = sign_in
            .with_scopes(scopes.split_whitespace())
            .map_err(named("OPENAPI_SCOPES"))?;
    }
    if let Some(params) = setting("OPENAPI_AUTHORIZE_PARAMS") {
        for pair in params.split('&') {
            let (name, value) = pair
                .split_once('=')
                .filter(|(name, _)| !name.trim().is_empty())
                .ok_or_else(|| {
                    format!(
                        "OPENAPI_AUTHORIZE_PARAMS: {pair:?} is not name=value; write e.g. \
                         audience=https://api.example.com"
                    )
                })?;
            sign_in = sign_in.with_authorization_param(name.trim(), value.trim());
        }
    }
    Ok(sign_in)
}
