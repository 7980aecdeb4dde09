//! Finding and verifying a request's token: the middleware's work, and an extractor's when there
//! is no middleware.

use actix_web::HttpRequest;
use auth_core::{AuthError, DpopRequest, Malformed};

use crate::jwt_auth::JwtAuth;
use crate::request::cookie_site;
use crate::request::origin;
use crate::request::resource;
use crate::request::token::{self, Lookup};
use crate::state::AuthState;
use crate::state::refusal::refuse;

/// Finds and verifies the request's token. Shared by the middleware (`anonymous_welcome` on public
/// paths) and on-demand extraction (always, as extractors decide for themselves whether anonymous
/// will do).
pub(crate) async fn verify_request(
    req: &HttpRequest,
    auth: &JwtAuth,
    anonymous_welcome: bool,
) -> AuthState {
    let headers = req.headers();
    let token = match token::find(headers, &auth.config.sources) {
        Lookup::Found(token) => Ok(token),
        Lookup::Missing if anonymous_welcome => return AuthState::Anonymous(None),
        Lookup::Missing => Err(AuthError::MissingToken),
        Lookup::Malformed => Err(AuthError::Malformed(Malformed::Segments)),
    };
    let token = match token {
        Ok(token) => token,
        Err(error) => return AuthState::Refused(refuse(req, Some(auth), error, None, None)),
    };
    // A cookie is sent with any site's requests: it authenticates same-site requests only. It did
    // not come from this request's sender, so it is no bad token to refuse where anonymous
    // callers are welcome.
    if token.from_cookie
        && let Err(error) = cookie_site::admit(req, &auth.config.origins)
    {
        return if anonymous_welcome {
            AuthState::Anonymous(Some(error))
        } else {
            AuthState::Refused(refuse(req, Some(auth), error, None, None))
        };
    }
    let outcome = if token.dpop {
        match token::dpop_proof(headers) {
            Some(proof) => match origin::dpop_url(req, &auth.config.origins) {
                Ok(url) => {
                    let request = DpopRequest {
                        proof,
                        method: req.method().as_str(),
                        url: &url,
                    };
                    auth.verifier.verify_dpop(token.as_str(), &request).await
                }
                Err(error) => Err(error),
            },
            None => Err(AuthError::InvalidDpopProof(
                "not exactly one DPoP header".into(),
            )),
        }
    } else if token.from_cookie {
        // A token that counts only from a header (a Clerk session without `azp`) is refused here.
        auth.verifier.verify_cookie_token(token.as_str()).await
    } else {
        auth.verifier.verify_token(token.as_str()).await
    };
    // RFC 8707 §2: a token verified for this server may still be for another of its resources
    // (whether it came from the verified-token cache or not).
    let outcome = outcome.and_then(|verified| {
        let resources = auth.verifier.protected_resources();
        if resources.is_empty() {
            return Ok(verified);
        }
        // The router (and a `NormalizePath` inside `JwtAuth`) may see the path decoded: the
        // token must be for the resource of either form.
        resource::owners(resources, &auth.config.origins, req.path())
            .each()
            .try_for_each(|resource| {
                auth.verifier
                    .check_resource(&verified, resource.map(|r| r.resource.as_str()))
            })
            .map(|()| verified)
    });
    match outcome {
        Ok(verified) => AuthState::verified(auth, verified),
        Err(error) => AuthState::Refused(refuse(req, Some(auth), error, None, Some(&token))),
    }
}
