//! Test support for applications: the loopback issuer, and requests that carry its tokens.
//!
//! ```
//! use actix_web::{test, web, App};
//! use auth_actix::testing::{TestIssuer, TestRequestExt};
//! use auth_actix::{Identity, JwtAuth, Verified};
//!
//! async fn me(id: Verified<Identity>) -> String {
//!     id.subject.clone()
//! }
//!
//! # #[actix_web::main] async fn main() {
//! let issuer = TestIssuer::start().await;
//! let auth = JwtAuth::new(issuer.provider()).unwrap();
//! let app = test::init_service(
//!     App::new().wrap(auth).route("/me", web::get().to(me)),
//! )
//! .await;
//! let token = issuer.token().subject("alice").sign();
//! let req = test::TestRequest::get().uri("/me").bearer(&token).to_request();
//! let body = test::call_and_read_body(&app, req).await;
//! assert_eq!(body, "alice");
//! # }
//! ```

pub use auth_core::testing::{
    DpopKey, ProofBuilder, ServiceUserGrant, TestIssuer, TokenBuilder, ZITADEL_WEB_CLIENT_ID,
};

use actix_web::http::header;
use actix_web::test::TestRequest;

/// Adds a token to an `actix_web::test::TestRequest`.
pub trait TestRequestExt {
    /// Sends the token as `Authorization: Bearer <token>`.
    fn bearer(self, token: &str) -> Self;
    /// Sends the token in a cookie.
    fn token_cookie(self, name: &str, token: &str) -> Self;
    /// Sends a DPoP-bound token as `Authorization: DPoP <token>` with its proof in the `DPoP`
    /// header (make one with [`DpopKey::proof`] for the request's method and URL, e.g.
    /// `http://localhost:8080/items` for a test request to `/items`).
    fn dpop(self, token: &str, proof: &str) -> Self;
}

impl TestRequestExt for TestRequest {
    fn bearer(self, token: &str) -> Self {
        self.insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
    }

    fn token_cookie(self, name: &str, token: &str) -> Self {
        self.insert_header((header::COOKIE, format!("{name}={token}")))
    }

    fn dpop(self, token: &str, proof: &str) -> Self {
        self.insert_header((header::AUTHORIZATION, format!("DPoP {token}")))
            .insert_header(("dpop", proof))
    }
}
