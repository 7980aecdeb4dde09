//! A real identity provider on loopback for tests, examples and applications' own test suites.
//!
//! [`TestIssuer::start`] serves OpenID Connect discovery and a JWKS over HTTP on 127.0.0.1 with an
//! RS256, an ES256 and an EdDSA key, and mints tokens with [`TestIssuer::token`]. It can rotate
//! keys, count fetches and simulate outages, slow or garbage responses, so key handling is tested
//! over the same wire as production. It is also an OAuth authorization server for machine clients
//! (RFC 8414 metadata, the client credentials grant for resources it is told about: see
//! [`TestIssuer::demo_client`]), so a real client such as the MCP SDK discovers it and obtains
//! tokens offline. Test-only: never a production issuer.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use auth_core::testing::TestIssuer;
//! use auth_core::{StandardClaims, Verifier};
//!
//! let issuer = TestIssuer::start().await;
//! let verifier = Verifier::new(issuer.provider()).unwrap();
//! let token = issuer.token().subject("alice").roles(["admin"]).sign();
//! let claims = verifier.verify::<StandardClaims>(&token).await.unwrap();
//! assert_eq!(claims.sub, "alice");
//! assert!(claims.identity().has_role("admin"));
//! # }
//! ```

mod dpop_key;
mod json_reply;
mod mint;
mod signing_key;
mod test_issuer;
mod token_builder;
mod token_endpoint;

pub use dpop_key::{DpopKey, ProofBuilder};
pub use test_issuer::TestIssuer;
pub use token_builder::{ServiceUserGrant, TokenBuilder, ZITADEL_WEB_CLIENT_ID};
