//! What a token builder asks of the issuer that mints its tokens: its names, its current keys,
//! and where opaque tokens are registered for introspection. The test issuer provides it; the
//! builder knows nothing else of the server.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::signing_key::SigningKey;
use crate::keys::algorithm::Algorithm;

/// The issuer side of minting a token.
pub(crate) trait Mint: Send + Sync {
    /// The `iss` of tokens shaped for the issuer's own provider.
    fn issuer(&self) -> &str;
    /// The `aud` of tokens shaped for the issuer's own provider.
    fn audience(&self) -> &str;
    /// The algorithms the issuer signs with, its default first.
    fn algorithms(&self) -> Vec<Algorithm>;
    /// The algorithm a token is signed with unless the test picks one.
    fn default_algorithm(&self) -> Algorithm;
    /// The key now published for `algorithm`, if any.
    fn current_key(&self, algorithm: Algorithm) -> Option<Arc<SigningKey>>;
    /// What every opaque token of this issuer starts with.
    fn opaque_prefix(&self) -> String;
    /// Remembers an opaque token's claims, for the introspection endpoint.
    fn register_opaque(&self, token: String, claims: Map<String, Value>);
}
