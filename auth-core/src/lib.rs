//! Framework-free JWT verification for tokens from real identity providers.
//!
//! `auth-core` fetches and caches each provider's keys (lock-free reads, single-flight refetches,
//! outage survival), verifies compact JWS tokens under RFC 8725's rules with aws-lc-rs keys parsed
//! once per key set (not per request), checks claims, and maps provider-specific claims onto one
//! [`Identity`]. The web integration lives in `auth-actix`.
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

mod checks;
mod dpop;
mod error;
mod health;
mod identity;
mod introspection;
mod keys;
mod meters;
mod presets;
mod provider;
#[cfg(feature = "redis")]
mod redis_store;
mod replay_store;
mod revocation;
mod revocation_set;
mod token;
mod verified_cache;
mod verifier;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use checks::issuer::TENANT_PLACEHOLDER;
pub use dpop::{DEFAULT_DPOP_ALGORITHMS, Dpop, DpopRequest, MAX_PROOF_LEN};
pub use error::{AuthError, ConfigError, ErrorCode, Malformed, PrefetchError};
pub use health::{IntrospectionHealth, IntrospectionStatus, IssuerHealth, Readiness};
pub use identity::organization::Organization;
pub use identity::service::ServiceRule;
pub use identity::{Identity, IdentityKind};
pub use introspection::client_key::ClientKey;
pub use introspection::{DEFAULT_INTROSPECTION_TTL, Introspection};
pub use keys::algorithm::{Algorithm, AlgorithmSet};
pub use keys::jwks::MAX_KEYS;
pub use keys::settings::KeySettings;
pub use meters::{
    DECISIONS, DPOP_PROOFS, INTROSPECTION_CACHE, INTROSPECTIONS, JWKS_COOLDOWN_REFUSALS,
    JWKS_FETCHES, JWKS_KEYS, JWKS_LAST_SUCCESS, JWKS_UNKNOWN_KID_REFETCHES, KEYS_AGE, METRIC_NAMES,
    REVOCATION_STORE_READY, VERIFIED_CACHE, VERIFY_SECONDS,
};
#[doc(hidden)]
pub use meters::{LazyCounter, LazyMeter};
pub use provider::endpoints::TokenEndpoints;
pub use provider::{DEFAULT_LEEWAY, MAX_LEEWAY, Provider};
pub use replay_store::DEFAULT_REPLAY_CAPACITY;
pub use revocation::{
    DEFAULT_MAX_TOKEN_LIFETIME, DEFAULT_REVOCATION_CAPACITY, RevocationError, RevocationSettings,
    Revocations,
};
pub use token::claim_path::ClaimPath;
pub use token::claims::{Audience, Claims, StandardClaims};
pub use token::compact::{MAX_TOKEN_LEN, UnverifiedClaims, UnverifiedHeader};
pub use token::source::TokenSource;
pub use token::verified::VerifiedToken;
pub use verified_cache::DEFAULT_CACHE_CAPACITY;
pub use verifier::Verifier;

/// The crate README's examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
