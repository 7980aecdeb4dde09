//! Step-up authentication (RFC 9470): a route that needs a stronger or more recent sign-in than
//! the token shows refuses it with 401 `insufficient_user_authentication`, the challenge naming
//! the acceptable `acr` values and `max_age` (§3, §4) so the client can ask its authorization
//! server for a token that will do. Checked on every request, against the accepting provider's
//! leeway ([`Verifier::check_authentication`](auth_core::Verifier::check_authentication)).

use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpRequest;
use auth_core::Identity;

use crate::response::rejection::AuthRejection;
use crate::state::refusal::{not_configured, refuse_anonymous, refuse_request};
use crate::state::{Authenticated, jwt_auth};

/// Admits `caller` if its authentication meets `acr_values` (any of them, when listed) and
/// `max_age`, else refuses: 401 without a caller, 401 `INSUFFICIENT_USER_AUTHENTICATION` with
/// one.
pub(crate) fn admit_step_up<S: AsRef<str>>(
    req: &HttpRequest,
    caller: Option<Authenticated>,
    acr_values: &[S],
    max_age: Option<Duration>,
) -> Result<Arc<Identity>, AuthRejection> {
    let Some(caller) = caller else {
        return Err(refuse_anonymous(req));
    };
    let Some(auth) = jwt_auth(req) else {
        return Err(not_configured(req));
    };
    match auth
        .verifier
        .check_authentication(&caller.token, acr_values, max_age)
    {
        Ok(()) => Ok(caller.identity),
        Err(error) => Err(refuse_request(req, error, Some(caller))),
    }
}
