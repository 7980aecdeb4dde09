//! One `tracing` event per request that authentication decided, target `auth`, logged when the
//! request ends: an access log is one subscriber away. Never the token; a refused token's claimed
//! `iss`, `aud` and `tid` (unverified, at most 200 bytes each), so a wrong issuer, audience or
//! tenant shows beside the configured one. The same decision counts
//! in `auth_decisions_total{issuer, outcome, code, reason}` through the `metrics` facade.

use std::sync::Arc;

use auth_core::metrics::{DECISIONS, LazyCounter};
use auth_core::{
    AuthError, ErrorCode, Identity, UnverifiedClaims, UnverifiedHeader, VerifiedToken, Verifier,
};
use metrics::counter;

use crate::response::TARGET;
use crate::response::rejection::AuthRejection;

/// The label of decisions no configured issuer is known for (no token, or an `iss` none accepts).
const NO_ISSUER: &str = "none";

/// Counters for the frequent decisions, each registered on its first use with a recorder
/// installed, so a recorder installed after `JwtAuth::new` counts them too (the refusals register
/// as they come).
pub(crate) struct DecisionMeters {
    /// Allowed, per provider index.
    allowed: Vec<LazyCounter>,
    anonymous: LazyCounter,
    preflight: LazyCounter,
}

impl DecisionMeters {
    pub(crate) fn new(verifier: &Verifier) -> DecisionMeters {
        let ok = |issuer: String, outcome: &'static str| {
            let labels = [("issuer", issuer), ("outcome", outcome.to_owned())];
            LazyCounter::new(DECISIONS, ok_labels(labels))
        };
        DecisionMeters {
            allowed: (0..)
                .map_while(|index| verifier.issuer_label(index))
                .map(|label| ok(label.to_owned(), "allowed"))
                .collect(),
            anonymous: ok(NO_ISSUER.to_owned(), "anonymous"),
            preflight: ok(NO_ISSUER.to_owned(), "preflight"),
        }
    }
}

/// What the log is told of a request's final state: the decision alone, not how it was reached.
pub(crate) enum Decision<'a> {
    /// Nothing was decided: a skipped path no extractor asked about, or an extraction cancelled
    /// midway.
    Undecided,
    /// No caller, where anonymous callers are welcome; or only a cookie token, which did not count
    /// for this request (why).
    Anonymous(Option<&'a AuthError>),
    /// A CORS preflight, never authenticated.
    Preflight,
    /// A verified token.
    Allowed(&'a VerifiedToken),
    /// Refused.
    Refused(&'a RefusalRecord),
}

/// The decision log's record of a refusal: the rejection, and what the log says beside it.
pub(crate) struct RefusalRecord {
    rejection: AuthRejection,
    /// The caller, when a verified token was refused later (a role it lacks, a claims type it does
    /// not fit).
    caller: Option<Arc<Identity>>,
    /// The header the refused token claimed, when one was sent.
    header: Option<UnverifiedHeader>,
    /// Where the refused token claimed to come from and whom it claimed to be for, when one was
    /// sent and its payload reads.
    claims: Option<UnverifiedClaims>,
    /// The configured issuer the refused token or caller belongs to, for metrics.
    issuer: Option<String>,
}

impl RefusalRecord {
    pub(crate) fn new(
        rejection: AuthRejection,
        caller: Option<Arc<Identity>>,
        header: Option<UnverifiedHeader>,
        claims: Option<UnverifiedClaims>,
        issuer: Option<String>,
    ) -> RefusalRecord {
        RefusalRecord {
            rejection,
            caller,
            header,
            claims,
            issuer,
        }
    }

    pub(crate) fn rejection(&self) -> &AuthRejection {
        &self.rejection
    }

    fn caller(&self) -> Option<&Identity> {
        self.caller.as_deref()
    }

    fn header(&self) -> Option<&UnverifiedHeader> {
        self.header.as_ref()
    }

    fn claims(&self) -> Option<&UnverifiedClaims> {
        self.claims.as_ref()
    }

    fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }
}

/// Logs the request's one decision from its final state, and counts it.
pub(crate) fn decision(path: &str, decision: Decision<'_>, meters: Option<&Arc<DecisionMeters>>) {
    count(&decision, meters);
    match decision {
        Decision::Undecided => {}
        Decision::Anonymous(None) => {
            tracing::info!(target: TARGET, outcome = "anonymous", code = "OK", path)
        }
        // Served as anonymous: say which cookie rule left the caller without an identity.
        Decision::Anonymous(Some(reason)) => {
            tracing::info!(target: TARGET, outcome = "anonymous", code = "OK", %reason, path)
        }
        Decision::Preflight => {
            tracing::info!(target: TARGET, outcome = "preflight", code = "OK", path)
        }
        Decision::Allowed(token) => {
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
        Decision::Refused(refusal) => {
            let error = refusal.rejection().error();
            let code = error.code();
            let outcome = refused_outcome(code);
            // A verified caller's issuer; else what the refused token claims, unverified, beside
            // the configured `issuer` (and, in `reason`, any other value expected).
            let claimed = refusal.claims();
            let claim = |read: fn(&UnverifiedClaims) -> &Option<String>| {
                claimed
                    .and_then(|claims| read(claims).as_deref())
                    .unwrap_or("")
            };
            let (sub, iss) = refusal.caller().map_or(("", claim(|c| &c.iss)), |caller| {
                (&*caller.subject, &*caller.issuer)
            });
            let (aud, tid) = (claim(|c| &c.aud), claim(|c| &c.tid));
            let (alg, kid) = refusal.header().map_or(("", ""), |header| {
                (header.alg.as_str(), header.kid.as_deref().unwrap_or(""))
            });
            let alarming = matches!(code, ErrorCode::AuthUnavailable | ErrorCode::Internal);
            let (code, reason) = (code.as_str(), error);
            // The configured issuer, as the metric labels it: for an opaque token, the provider
            // it was sent to, which no `iss` names.
            let issuer = refusal.issuer().unwrap_or(NO_ISSUER);
            if alarming {
                tracing::warn!(
                    target: TARGET, outcome, code, %reason, issuer, sub, iss, aud, tid, kid, alg,
                    path
                );
            } else {
                tracing::info!(
                    target: TARGET, outcome, code, %reason, issuer, sub, iss, aud, tid, kid, alg,
                    path
                );
            }
        }
    }
}

fn count(decision: &Decision<'_>, meters: Option<&Arc<DecisionMeters>>) {
    match (decision, meters) {
        (Decision::Undecided, _) => {}
        (Decision::Anonymous(_), Some(meters)) => meters.anonymous.increment(1),
        (Decision::Preflight, Some(meters)) => meters.preflight.increment(1),
        (Decision::Allowed(token), Some(meters)) => {
            if let Some(counter) = meters.allowed.get(token.provider()) {
                counter.increment(1);
            }
        }
        (Decision::Anonymous(_), None) => ok_without_meters("anonymous"),
        (Decision::Preflight, None) => ok_without_meters("preflight"),
        (Decision::Allowed(_), None) => ok_without_meters("allowed"),
        (Decision::Refused(refusal), _) => {
            let error = refusal.rejection().error();
            let code = error.code();
            let outcome = refused_outcome(code);
            counter!(
                DECISIONS,
                "issuer" => refusal.issuer().unwrap_or(NO_ISSUER).to_owned(),
                "outcome" => outcome,
                "code" => code.as_str(),
                "reason" => error.reason(),
            )
            .increment(1);
        }
    }
}

/// A decision by extractors with no `JwtAuth` configuration at hand (rare: misconfigured apps).
fn ok_without_meters(outcome: &'static str) {
    let labels = [
        ("issuer", NO_ISSUER.to_owned()),
        ("outcome", outcome.to_owned()),
    ];
    let labels: Vec<metrics::Label> = ok_labels(labels)
        .map(|(key, value)| metrics::Label::new(key, value))
        .collect();
    counter!(DECISIONS, labels).increment(1);
}

/// The labels of a decision that refused nothing.
fn ok_labels(labels: [(&'static str, String); 2]) -> impl Iterator<Item = (&'static str, String)> {
    labels
        .into_iter()
        .chain([("code", "OK".to_owned()), ("reason", "ok".to_owned())])
}

/// The outcome word of a refusal: `forbidden` (403), `unavailable` (503), `error` (500), else
/// `rejected` (401).
fn refused_outcome(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Forbidden => "forbidden",
        ErrorCode::AuthUnavailable => "unavailable",
        ErrorCode::Internal => "error",
        _ => "rejected",
    }
}
