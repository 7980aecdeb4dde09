//! The signature step: the token's algorithm allowed, a key for its `kid` and algorithm (one
//! rate-limited refetch for a `kid` the set lacks), the key allowed to sign for the token's
//! issuer, then the signature itself.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::checks::issuer::IssuerMatch;
use crate::error::AuthError;
use crate::keys::algorithm::AlgorithmSet;
use crate::keys::store::KeyStore;
use crate::token::compact::CompactToken;

/// Largest signature accepted: an 8192-bit RSA signature. Decoded on the stack.
const MAX_SIGNATURE_LEN: usize = 1024;

/// Verifies the signature of a token from `iss` (already matched by `issuer`) with a key from
/// `keys`; returns the fingerprint of the key that verified it.
pub(crate) async fn verify(
    keys: &Arc<KeyStore>,
    algorithms: AlgorithmSet,
    issuer: &IssuerMatch,
    token: &CompactToken<'_>,
    iss: &str,
) -> Result<u64, AuthError> {
    // Before any key lookup, so a disallowed algorithm can never cause a fetch.
    if !algorithms.contains(token.alg) {
        return Err(AuthError::AlgorithmNotAllowed);
    }
    keys.ensure_loaded().await?;
    match check(keys, issuer, token, iss) {
        // A key the set lacks may have just been rotated in: one rate-limited refetch, then a
        // last look.
        Err(AuthError::UnknownKey)
            if token.kid.is_some() && keys.refetch_for_unknown_kid().await =>
        {
            check(keys, issuer, token, iss)
        }
        result => result,
    }
}

/// Checks the signature against the keys loaded now. Synchronous, so the key-set guard it holds
/// can never live across an `.await`.
fn check(
    keys: &KeyStore,
    issuer: &IssuerMatch,
    token: &CompactToken<'_>,
    iss: &str,
) -> Result<u64, AuthError> {
    let state = keys.current();
    let key = state.keys.select(token.kid.as_deref(), token.alg)?;
    if !key.algorithms.contains(token.alg) {
        return Err(AuthError::AlgorithmNotAllowed);
    }
    // Before the signature: a cheap comparison that spares a forged tenant the RSA work.
    if let Some(key_issuer) = key.issuer.as_deref()
        && !issuer.key_signs_for(key_issuer, iss)
    {
        return Err(AuthError::KeyIssuerMismatch);
    }
    let mut signature = [0u8; MAX_SIGNATURE_LEN];
    let valid = URL_SAFE_NO_PAD
        .decode_slice(token.signature, &mut signature)
        .is_ok_and(|len| key.verify(token.alg, token.signing_input.as_bytes(), &signature[..len]));
    if valid {
        Ok(key.fingerprint)
    } else {
        Err(AuthError::InvalidSignature)
    }
}
