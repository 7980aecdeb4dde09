//! Peer (b): jwt-authorizer on axum, one runtime thread. Settings: BIND, JWKS_URL, ISSUER, AUDIENCE.
//! Serves GET /open and GET /protected with the same body as the load target.

use axum::Router;
use axum::routing::get;
use jwt_authorizer::{Authorizer, IntoLayer, JwtAuthorizer, JwtClaims, RegisteredClaims, Validation};

async fn open() -> &'static str {
    "ok"
}

async fn protected(JwtClaims(_): JwtClaims<RegisteredClaims>) -> &'static str {
    "ok"
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let setting = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is required"));
    let issuer = setting("ISSUER");
    let audience = setting("AUDIENCE");
    let validation = Validation::new().iss(&[issuer.as_str()]).aud(&[audience.as_str()]);
    let auth: Authorizer = JwtAuthorizer::from_jwks_url(&setting("JWKS_URL"))
        .validation(validation)
        .build()
        .await
        .expect("the authorizer starts");
    let app = Router::new()
        .route("/protected", get(protected))
        .layer(auth.into_layer())
        .route("/open", get(open));
    let listener = tokio::net::TcpListener::bind(setting("BIND")).await.expect("BIND");
    axum::serve(listener, app).await.expect("serve");
}
