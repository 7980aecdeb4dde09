//! Refusals of a request, built in one place: the rejection its configuration renders, and the
//! record the decision log keeps of it.

use std::sync::Arc;

use actix_web::{HttpMessage, HttpRequest};
use auth_core::{AuthError, UnverifiedClaims, UnverifiedHeader};

use crate::jwt_auth::JwtAuth;
use crate::request::token::FoundToken;
use crate::response::audit::RefusalRecord;
use crate::response::rejection::{AuthRejection, DEFAULT_REALM, DpopChallenge};
use crate::state::{AuthState, Authenticated, RequestAuth, jwt_auth, set_state};

/// Refuses with `error`: the one place a refusal is built, with the decision log's record of it.
/// `auth` renders it (without one, the defaults do); `caller` is the verified caller a later check
/// refused, if any; `token` the refused token, when its own verification refused it (its claimed
/// header and claims are read again only here, so admitted requests never pay for them).
pub(crate) fn refuse(
    auth: Option<&JwtAuth>,
    error: AuthError,
    caller: Option<Authenticated>,
    token: Option<&FoundToken>,
) -> RefusalRecord {
    let rejection = rejection(auth, error, token.is_some_and(|token| token.dpop));
    // The configured issuer: the one the refused token names, else the provider that accepted
    // the verified caller.
    let issuer = auth
        .and_then(|auth| match (token, &caller) {
            (Some(token), _) => auth.verifier.issuer_label_of(token.as_str()),
            (None, Some(caller)) => auth.verifier.issuer_label(caller.token.provider()),
            (None, None) => None,
        })
        .map(str::to_owned);
    let caller = caller.map(|caller| caller.identity);
    let header = token.and_then(|token| UnverifiedHeader::peek(token.as_str()));
    let claims = token.and_then(|token| UnverifiedClaims::peek(token.as_str()));
    RefusalRecord::new(rejection, caller, header, claims, issuer)
}

/// The refusal of `error` as `auth` renders it (without one, in the default realm): a token sent
/// with the DPoP scheme (`dpop`) or another way. It offers the `DPoP` challenge only where a
/// configured provider can issue DPoP-bound tokens.
pub(crate) fn rejection(auth: Option<&JwtAuth>, error: AuthError, dpop: bool) -> AuthRejection {
    let Some(auth) = auth else {
        return AuthRejection::new(error, Arc::from(DEFAULT_REALM), None, None);
    };
    let nonce = matches!(error, AuthError::UseDpopNonce)
        .then(|| auth.verifier.dpop_settings().current_nonce())
        .flatten();
    let challenge = auth.verifier.offers_dpop().then(|| DpopChallenge {
        algs: Arc::clone(&auth.config.dpop_algs),
        presented: dpop,
        nonce,
    });
    AuthRejection::new(
        error,
        Arc::clone(&auth.config.realm),
        auth.config.error_handler.clone(),
        challenge,
    )
}

/// Refuses the request where an extractor or guard decides, and records the refusal as its
/// state for the decision log. `caller` is the verified caller a later check refused, if any.
pub(crate) fn refuse_request(
    req: &HttpRequest,
    error: AuthError,
    caller: Option<Authenticated>,
) -> AuthRejection {
    let refusal = refuse(jwt_auth(req).as_ref(), error, caller, None);
    let rejection = refusal.rejection().clone();
    set_state(req, AuthState::Refused(refusal));
    rejection
}

/// Refuses a request without a caller where one is required: for the reason its cookie did not
/// count, if that is why, else for the missing token.
pub(crate) fn refuse_anonymous(req: &HttpRequest) -> AuthRejection {
    let ignored = match req.extensions().get::<RequestAuth>() {
        Some(RequestAuth {
            state: AuthState::Anonymous(Some(error)),
            ..
        }) => Some(error.clone()),
        _ => None,
    };
    refuse_request(req, ignored.unwrap_or(AuthError::MissingToken), None)
}

/// The answer when no `JwtAuth` is configured for a request: 500, with a log line naming the fix.
pub(crate) fn not_configured(req: &HttpRequest) -> AuthRejection {
    let reason = "no JwtAuth for this request: wrap the app with `App::new().wrap(auth.clone())` \
                  or register it with `App::new().app_data(auth.clone())`";
    refuse_request(req, AuthError::Internal(reason.to_owned()), None)
}
