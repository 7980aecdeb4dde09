//! Framework-free JWT verification for tokens from real identity providers.
//!
//! `auth-core` fetches and caches each provider's keys (lock-free reads, single-flight refetches,
//! outage survival), verifies compact JWS tokens under RFC 8725's rules with aws-lc-rs keys parsed
//! once per key set (not per request), checks claims, and maps provider-specific claims onto one
//! [`Identity`]. The web integration lives in `auth-actix`.
//!
//! The root holds what an application names in ordinary code. Details live in modules:
//! [`limits`] (every limit and default), [`metrics`] (metric names), [`health`] (what readiness
//! reports per issuer), and, with the `testing` feature, [`testing`] (a real issuer on loopback).
//!
//! The source reads as the pipeline a token goes through: `token/` (the compact JWS as it
//! arrives, its payload read in place, claim paths, token sources, the verified token), `keys/`
//! (discovery, fetch under the network policy, key sets, the key store, the signature step),
//! `checks/` (every claim rule behind one entry), `identity/` (who the token speaks for, its
//! organisation, whether it is a machine), `introspection/` (RFC 7662 for opaque tokens),
//! `revocation` and `dpop` (whether it still stands, and who holds it), `provider/` and
//! `presets/` (what one provider's tokens look like), and `verifier.rs`, which runs the steps.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use auth_core::{Provider, StandardClaims, Verifier};
//!
//! let verifier = Verifier::new(Provider::oidc("https://issuer.example.com").audience("my-api"))?;
//! let claims = verifier.verify::<StandardClaims>("eyJ...").await?;
//! println!("{} has roles {:?}", claims.sub, claims.identity().roles);
//! # Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod challenge_value;
mod checks;
mod dpop;
mod error;
pub mod health;
mod identity;
mod introspection;
mod keys;
pub mod limits;
pub mod metrics;
mod presets;
mod provider;
#[cfg(feature = "redis")]
mod redis_store;
mod revocation;
mod token;
mod verified_cache;
mod verifier;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

#[doc(hidden)]
pub use challenge_value::{MAX_CHALLENGE_NAME, is_challenge_name, is_challenge_value};
pub use dpop::{Dpop, DpopRequest};
pub use error::{AuthError, ConfigError, ErrorCode, Malformed, PrefetchError};
pub use health::Readiness;
pub use identity::authentication::Authentication;
pub use identity::organization::Organization;
pub use identity::service_marker::ServiceMarker;
pub use identity::{Identity, IdentityKind};
pub use introspection::Introspection;
pub use introspection::client_key::ClientKey;
pub use keys::algorithm::{Algorithm, AlgorithmSet};
#[doc(hidden)]
pub use keys::issuer_url::checked as checked_issuer_url;
pub use keys::settings::KeySettings;
pub use provider::Provider;
pub use provider::endpoints::TokenEndpoints;
pub use provider::resource::ProtectedResource;
pub use revocation::Revocations;
pub use revocation::entry::RevocationError;
pub use revocation::settings::RevocationSettings;
pub use token::claim_path::ClaimPath;
pub use token::claims::{Audience, Claims, StandardClaims};
pub use token::compact::{UnverifiedClaims, UnverifiedHeader};
pub use token::source::TokenSource;
pub use token::verified::VerifiedToken;
pub use verifier::Verifier;

/// The crate README's examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
