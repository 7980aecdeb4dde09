//! One `tracing` event per decision, target `auth`: an access log is one subscriber away. Never the token.

use auth_core::{AuthError, ErrorCode, UnverifiedHeader, VerifiedToken};

/// Target of every decision event.
pub const TARGET: &str = "auth";

pub(crate) fn allowed(path: &str, token: &VerifiedToken) {
    let identity = token.identity();
    tracing::info!(
        target: TARGET,
        outcome = "allowed",
        code = "OK",
        sub = %identity.subject,
        iss = %identity.issuer,
        kid = token.kid().unwrap_or(""),
        alg = token.algorithm().as_str(),
        path,
    );
}

pub(crate) fn anonymous(path: &str) {
    tracing::info!(target: TARGET, outcome = "anonymous", code = "OK", path);
}

pub(crate) fn public(path: &str) {
    tracing::debug!(target: TARGET, outcome = "public", code = "OK", path);
}

pub(crate) fn rejected(path: &str, error: &AuthError, token: Option<&str>) {
    // The header is re-read only on this path, so successful requests never pay for it.
    let header = token.and_then(UnverifiedHeader::peek);
    let (alg, kid) = header.as_ref().map_or(("", ""), |h| (h.alg.as_str(), h.kid.as_deref().unwrap_or("")));
    let code = error.code();
    match code {
        ErrorCode::AuthUnavailable | ErrorCode::Internal => tracing::warn!(
            target: TARGET, outcome = "rejected", code = code.as_str(), reason = %error, kid, alg, path,
        ),
        _ => tracing::info!(
            target: TARGET, outcome = "rejected", code = code.as_str(), reason = %error, kid, alg, path,
        ),
    }
}

pub(crate) fn forbidden(path: &str, identity: &auth_core::Identity, error: &AuthError) {
    tracing::info!(
        target: TARGET,
        outcome = "forbidden",
        code = error.code().as_str(),
        reason = %error,
        sub = %identity.subject,
        iss = %identity.issuer,
        path,
    );
}
