//! What a request proved: set by the middleware or by the first extractor, read by every later one, so a
//! token is verified and roles are resolved at most once per request.

use std::sync::Arc;

use actix_web::http::header::HeaderMap;
use actix_web::{HttpMessage, HttpRequest, web};
use auth_core::{AuthError, Identity, VerifiedToken};
use std::rc::Rc;

use tokio::sync::Notify;

use crate::audit;
use crate::jwt_auth::{DEFAULT_REALM, JwtAuth};
use crate::rejection::AuthRejection;
use crate::token_lookup::{self, Lookup};

/// The outcome of authentication, kept in the request's extensions.
#[derive(Clone)]
pub(crate) enum Outcome {
    /// A valid token.
    Verified(Arc<VerifiedToken>),
    /// No token, and the configuration allows that.
    Anonymous,
}

/// Set once roles are final: `None` when no resolver is configured (the token's identity stands),
/// else the identity with the resolver's roles merged in.
#[derive(Clone)]
pub(crate) struct Resolved(pub(crate) Option<Arc<Identity>>);

/// Everything authentication keeps in a request's extensions, in one entry (one allocation).
#[derive(Clone, Default)]
pub(crate) struct RequestAuth {
    /// The middleware's configuration, for extractors on public routes.
    pub(crate) auth: Option<JwtAuth>,
    pub(crate) outcome: Option<Outcome>,
    pub(crate) resolved: Option<Resolved>,
    in_flight: Option<InFlight>,
    /// A refusal already decided for this request, so later extractors answer the same without redoing it.
    rejected: Option<AuthRejection>,
}

impl RequestAuth {
    /// What the middleware stores: its configuration and, unless the path is public, the outcome.
    pub(crate) fn from_middleware(auth: JwtAuth, outcome: Option<Outcome>) -> RequestAuth {
        let resolved = (outcome.is_some() && auth.config.resolver.is_none()).then_some(Resolved(None));
        RequestAuth { auth: Some(auth), outcome, resolved, in_flight: None, rejected: None }
    }
}

/// Updates the request's entry, creating it if needed.
fn update<R>(req: &HttpRequest, f: impl FnOnce(&mut RequestAuth) -> R) -> R {
    let mut extensions = req.extensions_mut();
    if let Some(state) = extensions.get_mut::<RequestAuth>() {
        return f(state);
    }
    let mut state = RequestAuth::default();
    let result = f(&mut state);
    extensions.insert(state);
    result
}

/// A verified caller as guards and extractors see it: reference counts only, nothing copied.
#[derive(Clone)]
pub(crate) struct Authenticated {
    pub(crate) token: Arc<VerifiedToken>,
    resolved: Option<Arc<Identity>>,
}

impl Authenticated {
    /// The caller's identity, resolver roles included.
    pub(crate) fn identity(&self) -> &Identity {
        self.resolved.as_deref().unwrap_or_else(|| self.token.identity())
    }
}

/// Finds the `JwtAuth` for a request: the middleware's, else app data.
pub(crate) fn jwt_auth(req: &HttpRequest) -> Option<JwtAuth> {
    if let Some(auth) = req.extensions().get::<RequestAuth>().and_then(|state| state.auth.clone()) {
        return Some(auth);
    }
    req.app_data::<JwtAuth>()
        .cloned()
        .or_else(|| req.app_data::<web::Data<JwtAuth>>().map(|data| data.get_ref().clone()))
}

/// The misconfiguration answer: a 500 whose log line names the fix.
pub(crate) fn not_configured(req: &HttpRequest) -> AuthRejection {
    let reason = "no JwtAuth for this request: wrap the app with `App::new().wrap(auth.clone())` or register \
                  it with `App::new().app_data(auth.clone())`";
    tracing::error!(target: audit::TARGET, path = req.path(), "{reason}");
    AuthRejection::new(AuthError::Internal(reason.to_owned()), false, Arc::from(DEFAULT_REALM), None)
}

/// What earlier steps settled, without doing any work: `Some` when nothing is left to do.
pub(crate) fn settled(req: &HttpRequest) -> Option<Option<Authenticated>> {
    let extensions = req.extensions();
    let state = extensions.get::<RequestAuth>()?;
    match state.outcome.as_ref()? {
        Outcome::Anonymous => Some(None),
        Outcome::Verified(token) => {
            let Resolved(resolved) = state.resolved.as_ref()?;
            Some(Some(Authenticated { token: Arc::clone(token), resolved: resolved.clone() }))
        }
    }
}

/// Verifies the request's token unless that already happened, storing the outcome.
pub(crate) async fn outcome(req: &HttpRequest, auth: &JwtAuth) -> Result<Outcome, AuthRejection> {
    if let Some(outcome) = req.extensions().get::<RequestAuth>().and_then(|state| state.outcome.clone()) {
        return Ok(outcome);
    }
    // Extractors decide for themselves whether an anonymous caller will do.
    let outcome = verify_request(req.headers(), req.path(), auth, true).await?;
    update(req, |state| {
        state.outcome = Some(outcome.clone());
        if auth.config.resolver.is_none() {
            state.resolved = Some(Resolved(None));
        }
    });
    Ok(outcome)
}

/// Finds and verifies the request's token, with the audit event for the decision. Shared by the
/// middleware (which admits anonymous callers only in optional mode) and on-demand extraction.
pub(crate) async fn verify_request(
    headers: &HeaderMap,
    path: &str,
    auth: &JwtAuth,
    anonymous_allowed: bool,
) -> Result<Outcome, AuthRejection> {
    let (error, token_sent) = match token_lookup::find(headers, &auth.config.sources) {
        Lookup::Found(token) => match auth.verifier.verify_token(token.as_str()).await {
            Ok(verified) => {
                audit::allowed(path, &verified);
                return Ok(Outcome::Verified(verified));
            }
            Err(error) => {
                audit::rejected(path, &error, Some(token.as_str()));
                return Err(auth.reject(error, true));
            }
        },
        Lookup::Missing if anonymous_allowed => {
            audit::anonymous(path);
            return Ok(Outcome::Anonymous);
        }
        Lookup::Missing => (AuthError::MissingToken, false),
        Lookup::Malformed => (AuthError::Malformed(auth_core::Malformed::Segments), true),
    };
    audit::rejected(path, &error, None);
    Err(auth.reject(error, token_sent))
}

/// Authentication under way for a request. Actix builds every extractor of a handler before polling
/// any, so without this each would verify (and resolve roles) on its own. It holds no reference to the
/// request (the request owns it), so a cancelled extraction cannot keep the request alive.
#[derive(Clone)]
struct InFlight(Rc<Notify>);

/// Clears the in-flight mark and wakes waiters when the leading extraction ends, finished or cancelled;
/// after a cancellation the next waiter takes the lead.
struct LeadGuard {
    req: HttpRequest,
    done: Rc<Notify>,
}

impl Drop for LeadGuard {
    fn drop(&mut self) {
        update(&self.req, |state| state.in_flight = None);
        self.done.notify_waiters();
    }
}

/// The verified caller with resolved roles, or `None` when anonymous.
pub(crate) async fn authenticate(req: &HttpRequest) -> Result<Option<Authenticated>, AuthRejection> {
    loop {
        if let Some(settled) = settled(req) {
            return Ok(settled);
        }
        if let Some(rejection) = req.extensions().get::<RequestAuth>().and_then(|state| state.rejected.clone()) {
            return Err(rejection);
        }
        let waiting = req.extensions().get::<RequestAuth>().and_then(|state| state.in_flight.clone());
        match waiting {
            Some(InFlight(done)) => {
                let mut notified = std::pin::pin!(done.notified());
                // Registered before the re-check, so a wake-up between the two cannot be missed.
                notified.as_mut().enable();
                if settled(req).is_some() {
                    continue;
                }
                notified.await;
            }
            None => {
                let done = Rc::new(Notify::new());
                update(req, |state| state.in_flight = Some(InFlight(Rc::clone(&done))));
                let _lead = LeadGuard { req: req.clone(), done };
                let result = authenticate_once(req).await;
                if let Err(rejection) = &result {
                    update(req, |state| state.rejected = Some(rejection.clone()));
                }
                return result;
            }
        }
    }
}

async fn authenticate_once(req: &HttpRequest) -> Result<Option<Authenticated>, AuthRejection> {
    let Some(auth) = jwt_auth(req) else { return Err(not_configured(req)) };
    let token = match outcome(req, &auth).await? {
        Outcome::Anonymous => return Ok(None),
        Outcome::Verified(token) => token,
    };
    let resolved = match &auth.config.resolver {
        None => None,
        Some(resolver) => {
            let extra = resolver.resolve(req.clone(), token.identity().clone()).await.map_err(|err| {
                let error = match err {
                    crate::ResolveError::Unavailable(reason) => AuthError::RolesUnavailable(reason),
                    crate::ResolveError::Failed(reason) => AuthError::Internal(reason),
                };
                audit::rejected(req.path(), &error, None);
                auth.reject(error, true)
            })?;
            let mut identity = token.identity().clone();
            identity.roles.extend(extra);
            Some(Arc::new(identity))
        }
    };
    update(req, |state| state.resolved = Some(Resolved(resolved.clone())));
    Ok(Some(Authenticated { token, resolved }))
}

/// The 401 for a caller without a token, logged.
pub(crate) fn missing_token(req: &HttpRequest) -> AuthRejection {
    match jwt_auth(req) {
        Some(auth) => {
            let error = AuthError::MissingToken;
            audit::rejected(req.path(), &error, None);
            auth.reject(error, false)
        }
        None => not_configured(req),
    }
}

/// Refusal of a request whose token verified but failed a later step (claims type), logged.
pub(crate) fn reject_verified(req: &HttpRequest, error: AuthError) -> AuthRejection {
    audit::rejected(req.path(), &error, None);
    forbid(req, error)
}

/// The refusal of a request that sent a token, rendered as its `JwtAuth` configures (not logged here).
pub(crate) fn forbid(req: &HttpRequest, error: AuthError) -> AuthRejection {
    match jwt_auth(req) {
        Some(auth) => auth.reject(error, true),
        None => AuthRejection::new(error, true, Arc::from(DEFAULT_REALM), None),
    }
}
