//! Where verification keys come from: a provider's discovery document or JWKS URL, fetched
//! over HTTPS under the network policy, parsed into a key set, and held by the key store
//! (lock-free reads, single-flight refetches, a floor between refetches).
//!
//! The signature step reads a key from the store for the token's `kid` and algorithm;
//! nothing here reads claims.

pub(crate) mod algorithm;
pub(crate) mod fetch;
pub(crate) mod issuer_url;
pub(crate) mod jwks;
pub(crate) mod network_policy;
pub(crate) mod settings;
pub(crate) mod signature;
pub(crate) mod source;
pub(crate) mod store;
