//! Refusals of a request, built in one place: the rejection its configuration renders, and the
//! record the decision log keeps of it.

use std::sync::Arc;

use actix_web::{HttpMessage, HttpRequest};
use auth_core::{AuthError, ErrorCode, UnverifiedClaims, UnverifiedHeader};

use crate::jwt_auth::JwtAuth;
use crate::request::resource;
use crate::request::token::FoundToken;
use crate::response::audit::RefusalRecord;
use crate::response::rejection::{AuthRejection, DEFAULT_REALM, DpopChallenge, ResourceChallenge};
use crate::response::resource_metadata;
use crate::state::{AuthState, Authenticated, RequestAuth, jwt_auth, set_state};

/// Refuses with `error`: the one place a refusal is built, with the decision log's record of it.
/// `auth` renders it (without one, the defaults do); `caller` is the verified caller a later check
/// refused, if any; `token` the refused token, when its own verification refused it (its claimed
/// header and claims are read again only here, so admitted requests never pay for them).
pub(crate) fn refuse(
    req: &HttpRequest,
    auth: Option<&JwtAuth>,
    error: AuthError,
    caller: Option<Authenticated>,
    token: Option<&FoundToken>,
) -> RefusalRecord {
    let rejection = rejection(req, auth, error, token.is_some_and(|token| token.dpop));
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
/// configured provider can issue DPoP-bound tokens, and points at the protected resource `req`
/// belongs to, if any.
pub(crate) fn rejection(
    req: &HttpRequest,
    auth: Option<&JwtAuth>,
    error: AuthError,
    dpop: bool,
) -> AuthRejection {
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
    let resource = resource_challenge(req, auth, &error);
    AuthRejection::new(
        error,
        Arc::clone(&auth.config.realm),
        auth.config.error_handler.clone(),
        challenge,
    )
    .for_resource(resource)
}

/// The scopes of the rule a guard refused a request by, for the challenge's `scope`: kept in the
/// request's extensions by the guard just before it refuses.
pub(crate) struct RouteScopes(pub(crate) String);

impl RouteScopes {
    /// Runs a guard's check, keeping the scopes it names (none for a guard about roles) where a
    /// refusal built meanwhile finds them; they are gone again once the check is over, whatever
    /// its outcome (a refusal has captured them; a refusal an `Option<Require<_>>` swallowed must
    /// not lend them to a later, unrelated one). Only a challenge on a protected resource names
    /// them, so without one configured the check runs as it is: an admitted request pays nothing.
    pub(crate) fn around<T, E>(
        req: &HttpRequest,
        scopes: Option<impl FnOnce() -> String>,
        check: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let serves_resources =
            || jwt_auth(req).is_some_and(|auth| !auth.verifier.protected_resources().is_empty());
        let Some(scopes) = scopes.filter(|_| serves_resources()) else {
            return check();
        };
        req.extensions_mut().insert(RouteScopes(scopes()));
        let outcome = check();
        req.extensions_mut().remove::<RouteScopes>();
        outcome
    }
}

/// What the challenges say about the protected resource `req` belongs to (the longest resource
/// path prefixing its path; RFC 9728 §5.1): its metadata URL, and `scope` (RFC 6750 §3): the
/// refusing rule's scopes, else, for a 401, the resource's `scopes_supported`. A 403 names every
/// scope its rule names, or none when the rule is about roles.
fn resource_challenge(
    req: &HttpRequest,
    auth: &JwtAuth,
    error: &AuthError,
) -> Option<ResourceChallenge> {
    let resources = auth.verifier.protected_resources();
    let resource = resource::owners(resources, &auth.config.origins, req.path()).any()?;
    let route = req
        .extensions()
        .get::<RouteScopes>()
        .map(|scopes| scopes.0.clone());
    let scope = match error.code() {
        ErrorCode::Forbidden => route,
        _ => route.or_else(|| {
            let supported = resource_metadata::scopes_supported(auth);
            (!supported.is_empty()).then(|| supported.join(" "))
        }),
    };
    Some(ResourceChallenge {
        metadata_url: resource.metadata_url(),
        scope: scope.filter(|scope| !scope.is_empty()),
    })
}

/// Refuses the request where an extractor or guard decides, and records the refusal as its
/// state for the decision log. `caller` is the verified caller a later check refused, if any.
pub(crate) fn refuse_request(
    req: &HttpRequest,
    error: AuthError,
    caller: Option<Authenticated>,
) -> AuthRejection {
    let refusal = refuse(req, jwt_auth(req).as_ref(), error, caller, None);
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

#[cfg(test)]
mod tests {
    use actix_web::HttpMessage;
    use actix_web::test::TestRequest;

    use super::RouteScopes;

    #[test]
    fn route_scopes_are_gone_after_the_check_whatever_its_outcome() {
        let provider = auth_core::Provider::oidc("https://issuer.example.com")
            .resource("https://api.example.com/mcp");
        let auth = crate::JwtAuth::new(provider).unwrap();
        let req = TestRequest::default().app_data(auth).to_http_request();
        // A refusal the handler swallowed (`Option<Require<_>>`) lends its scopes to no later one.
        let refused: Result<(), ()> =
            RouteScopes::around(&req, Some(|| "mcp:admin".into()), || {
                assert!(req.extensions().get::<RouteScopes>().is_some());
                Err(())
            });
        assert!(refused.is_err());
        assert!(req.extensions().get::<RouteScopes>().is_none());
        let admitted: Result<(), ()> = RouteScopes::around(&req, Some(|| "read".into()), || Ok(()));
        assert!(admitted.is_ok());
        assert!(req.extensions().get::<RouteScopes>().is_none());
    }

    #[test]
    fn route_scopes_are_not_kept_where_no_resource_is_configured() {
        let provider = auth_core::Provider::oidc("https://issuer.example.com").audience("api");
        let auth = crate::JwtAuth::new(provider).unwrap();
        let req = TestRequest::default().app_data(auth).to_http_request();
        let outcome: Result<(), ()> = RouteScopes::around(
            &req,
            Some(|| -> String { panic!("scopes joined for no challenge") }),
            || {
                assert!(req.extensions().get::<RouteScopes>().is_none());
                Ok(())
            },
        );
        assert!(outcome.is_ok());
    }
}
