//! JWT authentication for Actix Web, with tokens from real identity providers.
//!
//! One dependency gives the [`JwtAuth`] middleware, the [`Verified`] and [`Optional`] extractors
//! (of an [`Identity`] or [`Claims`]), role and scope guards ([`Require`], [`Authorize`], and the
//! `require_role` / `require_scope` / `require_org_role` attributes), a [`RoleResolver`] hook, and
//! error responses with a JSON body and RFC 6750 `WWW-Authenticate`. Verification, key caching and
//! provider presets come from [`auth_core`], re-exported here.
//!
//! ```no_run
//! use actix_web::{get, web, App, HttpServer, Responder};
//! use auth_actix::{Identity, JwtAuth, Provider, Verified};
//!
//! #[get("/me")]
//! async fn me(id: Verified<Identity>) -> impl Responder {
//!     web::Json(id.into_inner())
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let auth = JwtAuth::new(Provider::oidc("https://issuer.example.com").audience("my-api"))?;
//!     HttpServer::new(move || App::new().wrap(auth.clone()).service(me))
//!         .bind("127.0.0.1:8080")?
//!         .run()
//!         .await?;
//!     Ok(())
//! }
//! ```

//!
//! # Seeing decisions
//!
//! Every request authentication decides leaves one `tracing` event, target `auth`
//! ([`metrics::AUDIT_TARGET`], beside the metric names): outcome, code, reason, subject, issuer,
//! key id, algorithm, path, and for a refused token the `iss`, `aud` and `tid` it claims
//! (unverified, at most 200 bytes each); never the token. Nothing is logged until the application
//! installs a subscriber, for example:
//!
//! ```
//! use tracing_subscriber::EnvFilter;
//!
//! let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
//! tracing_subscriber::fmt().with_env_filter(filter).init();
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod extract;
mod guard;
mod jwt_auth;
#[doc(hidden)]
pub mod macro_support;
pub mod middleware;
#[cfg(feature = "openapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
pub mod openapi;
mod request;
mod response;
mod state;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

/// The framework-free engine: verifier, providers, claims, identities.
pub use auth_core as core;
pub use auth_core::{
    AuthError, Authentication, Claims, ConfigError, Dpop, ErrorCode, Identity, IdentityKind,
    Introspection, Organization, PrefetchError, Provider, Readiness, Revocations, StandardClaims,
    TokenSource, Verifier,
};

pub use extract::optional::Optional;
pub use extract::require::Require;
pub use extract::verified::Verified;
pub use guard::authorize::Authorize;
pub use guard::in_handler::authorize;
pub use guard::role_enum::RoleEnum;
pub use guard::role_resolver::{ResolveError, RoleRequest, RoleResolver};
pub use guard::rule::{NamedRule, Rule};
pub use jwt_auth::JwtAuth;
pub use request::token::WEBSOCKET_PROTOCOL;
pub use response::rejection::{AuthRejection, ErrorHandler};

pub use auth_macros::{
    Role, require_acr, require_org_member, require_org_role, require_role, require_scope,
    require_service, require_user,
};

/// What operators watch: the `tracing` target of the decision log and the names of the metrics
/// recorded through the `metrics` facade (the application installs the exporter).
///
/// ```
/// use auth_actix::metrics::{AUDIT_TARGET, DECISIONS, METRIC_NAMES};
///
/// // Keep the decision log at info while the rest of the application logs warnings:
/// let filter = format!("warn,{AUDIT_TARGET}=info");
/// assert_eq!(filter, "warn,auth=info");
/// assert!(METRIC_NAMES.contains(&DECISIONS));
/// ```
pub mod metrics {
    /// The `tracing` target of the decision log: one event per request authentication decided.
    pub use crate::response::TARGET as AUDIT_TARGET;
    pub use auth_core::metrics::{
        DECISIONS, DPOP_PROOFS, INTROSPECTION_CACHE, INTROSPECTIONS, JWKS_COOLDOWN_REFUSALS,
        JWKS_FETCHES, JWKS_KEYS, JWKS_LAST_SUCCESS, JWKS_UNKNOWN_KID_REFETCHES, KEYS_AGE,
        METRIC_NAMES, REVOCATION_STORE_READY, VERIFIED_CACHE, VERIFY_SECONDS,
    };
}

/// The crate README's examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
