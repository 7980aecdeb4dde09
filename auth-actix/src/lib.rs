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
//! Every request authentication decides leaves one `tracing` event, target `auth`: outcome, code,
//! reason, subject, issuer, key id, algorithm, path, and for a refused token the `iss`, `aud` and
//! `tid` it claims (unverified, at most 200 bytes each); never the token. Nothing is logged until the
//! application installs a subscriber, for example:
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

mod audit;
mod authorize;
mod cookie_site;
mod cors_preflight;
mod jwt_auth;
#[doc(hidden)]
pub mod macro_support;
#[cfg(feature = "openapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
pub mod openapi;
mod path_rules;
mod rejection;
mod request_origin;
mod request_state;
mod requirement;
mod role_enum;
mod role_resolver;
mod token_lookup;
mod verified;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

/// The framework-free engine: verifier, providers, claims, identities.
pub use auth_core as core;
pub use auth_core::{
    Algorithm, AuthError, ClaimPath, Claims, ClientKey, ConfigError, Dpop, ErrorCode, Identity,
    IdentityKind, Introspection, KeySettings, Organization, PrefetchError, Provider, Readiness,
    Revocations, ServiceMarker, StandardClaims, TokenSource, Verifier,
};

pub use audit::TARGET as AUDIT_TARGET;
pub use authorize::{Authorize, AuthorizeMiddleware};
pub use jwt_auth::{JwtAuth, JwtAuthMiddleware};
pub use rejection::{AuthRejection, ErrorHandler};
pub use requirement::{Require, Requirement, Rule};
pub use role_enum::RoleEnum;
pub use role_resolver::{ResolveError, RoleRequest, RoleResolver};
pub use token_lookup::WEBSOCKET_PROTOCOL;
pub use verified::{Extract, Optional, Verified};

pub use auth_macros::{
    Role, require_org_member, require_org_role, require_role, require_scope, require_service,
    require_user,
};

/// The crate README's examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
