//! One `tracing` event per request that authentication decided, target `auth`, logged when the
//! request ends: an access log is one subscriber away. Never the token.

use auth_core::ErrorCode;

use crate::request_state::AuthState;

/// Target of every decision event.
pub const TARGET: &str = "auth";

/// Logs the request's one decision from its final state.
pub(crate) fn decision(path: &str, state: &AuthState) {
    match state {
        // Nothing was decided: a skipped path no extractor asked about, or an extraction cancelled
        // midway.
        AuthState::Unverified | AuthState::Verifying(_) => {}
        AuthState::Anonymous => {
            tracing::info!(target: TARGET, outcome = "anonymous", code = "OK", path)
        }
        AuthState::Preflight => {
            tracing::info!(target: TARGET, outcome = "preflight", code = "OK", path)
        }
        AuthState::Verified(caller) => {
            let token = caller.token();
            let identity = token.identity();
            tracing::info!(
                target: TARGET,
                outcome = "allowed",
                code = "OK",
                sub = %identity.subject,
                iss = %identity.issuer,
                kid = token.kid().unwrap_or(""),
                alg = token.algorithm().map_or("introspected", |alg| alg.as_str()),
                path,
            );
        }
        AuthState::Refused(refusal) => {
            let error = refusal.rejection().error();
            let code = error.code();
            let outcome = if code == ErrorCode::Forbidden {
                "forbidden"
            } else {
                "rejected"
            };
            let (sub, iss) = refusal
                .caller()
                .map_or(("", ""), |caller| (&*caller.subject, &*caller.issuer));
            let (alg, kid) = refusal.header().map_or(("", ""), |header| {
                (header.alg.as_str(), header.kid.as_deref().unwrap_or(""))
            });
            let alarming = matches!(code, ErrorCode::AuthUnavailable | ErrorCode::Internal);
            let (code, reason) = (code.as_str(), error);
            if alarming {
                tracing::warn!(target: TARGET, outcome, code, %reason, sub, iss, kid, alg, path);
            } else {
                tracing::info!(target: TARGET, outcome, code, %reason, sub, iss, kid, alg, path);
            }
        }
    }
}
