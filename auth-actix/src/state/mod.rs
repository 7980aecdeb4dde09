//! What authentication knows about one request, as one state machine kept in the request's
//! extensions.
//!
//! The middleware (or, without it, the first extractor) verifies the token once ([`verify`]);
//! later extractors read the result. Roles from a [`RoleResolver`](crate::RoleResolver) are
//! resolved at most once per routing stage ([`resolve`]). Every refusal is built by
//! [`refusal::refuse`], and the request's one decision is logged when the request ends
//! ([`RequestAuth`]'s `Drop`): an extractor that refuses after the middleware admitted the token
//! changes the decision instead of adding a second one.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::http::Uri;
use actix_web::{HttpMessage, HttpRequest, web};
use auth_core::{AuthError, Identity, VerifiedToken};
use tokio::sync::Notify;

use crate::jwt_auth::JwtAuth;
use crate::response::audit::{self, Decision, RefusalRecord};
use crate::response::rejection::AuthRejection;

pub(crate) mod refusal;
pub(crate) mod resolve;
pub(crate) mod verify;

/// Where authentication stands for a request.
pub(crate) enum AuthState {
    /// Nothing checked yet: a skipped path, or no middleware (extractors verify on demand).
    Unverified,
    /// An extractor is verifying the token; the others wait for it.
    Verifying(Rc<Notify>),
    /// No token, where anonymous callers are welcome; or only a cookie token, which did not count
    /// for this request (why, for the log and for a later extractor that needs a caller).
    Anonymous(Option<AuthError>),
    /// A CORS preflight: never authenticated (browsers send no credentials with it), and no
    /// caller for any extractor.
    Preflight,
    /// A verified token; its roles as far as they are resolved.
    Verified(Caller),
    /// Refused; every later extractor answers the same.
    Refused(RefusalRecord),
}

/// A verified caller.
pub(crate) struct Caller {
    pub(crate) token: Arc<VerifiedToken>,
    pub(crate) roles: Roles,
}

/// Whether a role resolver's roles are in the caller's identity yet.
pub(crate) enum Roles {
    /// No resolver is configured: the token's roles are final.
    FromToken,
    /// The resolver has not run for the current routing stage.
    Unresolved,
    /// The resolver is running; the others wait for it.
    Resolving(Rc<ResolverRun>),
    /// Resolved while routing stood at `stage` (the length of the path not yet matched).
    Resolved {
        stage: usize,
        identity: Arc<Identity>,
    },
}

/// A verified caller as guards and extractors see it: reference counts only, nothing copied.
#[derive(Clone)]
pub(crate) struct Authenticated {
    pub(crate) token: Arc<VerifiedToken>,
    /// The token's identity, plus resolver roles.
    pub(crate) identity: Arc<Identity>,
}

/// Everything authentication keeps in a request's extensions, in one entry.
pub(crate) struct RequestAuth {
    /// The middleware's configuration, so extractors on skipped paths can verify on demand with it.
    auth: Option<JwtAuth>,
    pub(crate) state: AuthState,
    /// For the decision log.
    uri: Uri,
}

impl Drop for RequestAuth {
    fn drop(&mut self) {
        let meters = self.auth.as_ref().map(|auth| &auth.config.meters);
        audit::decision(self.uri.path(), self.state.decision(), meters);
    }
}

impl RequestAuth {
    /// Stores what the middleware decided, with its configuration for later extractors. An outer
    /// `JwtAuth`'s entry is updated in place: replacing it would log a decision for it.
    pub(crate) fn install(req: &HttpRequest, auth: JwtAuth, state: AuthState) {
        RequestAuth::update(req, |entry| {
            entry.auth = Some(auth);
            entry.state = state;
        });
    }

    /// Changes the request's entry, creating it (with no configuration, nothing checked) on first
    /// use: the one place it is inserted. Never replaced, as dropping an entry logs its decision.
    pub(crate) fn update<T>(req: &HttpRequest, change: impl FnOnce(&mut RequestAuth) -> T) -> T {
        let mut extensions = req.extensions_mut();
        if let Some(entry) = extensions.get_mut::<RequestAuth>() {
            return change(entry);
        }
        let mut entry = RequestAuth {
            auth: None,
            state: AuthState::Unverified,
            uri: req.uri().clone(),
        };
        let changed = change(&mut entry);
        extensions.insert(entry);
        changed
    }
}

/// Replaces the request's state, creating its entry on first use.
pub(crate) fn set_state(req: &HttpRequest, state: AuthState) {
    RequestAuth::update(req, |entry| entry.state = state);
}

impl AuthState {
    /// The state of a freshly verified token.
    pub(crate) fn verified(auth: &JwtAuth, token: Arc<VerifiedToken>) -> AuthState {
        let roles = if auth.config.resolver.is_some() {
            Roles::Unresolved
        } else {
            Roles::FromToken
        };
        AuthState::Verified(Caller { token, roles })
    }

    /// The refusal, if the state is one.
    pub(crate) fn rejection(&self) -> Option<&AuthRejection> {
        match self {
            AuthState::Refused(refusal) => Some(refusal.rejection()),
            _ => None,
        }
    }

    /// What the decision log is told of this state.
    fn decision(&self) -> Decision<'_> {
        match self {
            AuthState::Unverified | AuthState::Verifying(_) => Decision::Undecided,
            AuthState::Anonymous(reason) => Decision::Anonymous(reason.as_ref()),
            AuthState::Preflight => Decision::Preflight,
            AuthState::Verified(caller) => Decision::Allowed(&caller.token),
            AuthState::Refused(refusal) => Decision::Refused(refusal),
        }
    }
}

/// The `JwtAuth` for a request: the middleware's, else app data.
pub(crate) fn jwt_auth(req: &HttpRequest) -> Option<JwtAuth> {
    if let Some(auth) = req
        .extensions()
        .get::<RequestAuth>()
        .and_then(|entry| entry.auth.clone())
    {
        return Some(auth);
    }
    req.app_data::<JwtAuth>().cloned().or_else(|| {
        req.app_data::<web::Data<JwtAuth>>()
            .map(|data| data.get_ref().clone())
    })
}

/// What a request's state asks of whoever needs the caller next.
pub(crate) enum Step {
    /// The answer is known: a caller, an anonymous one (`None`), or a refusal.
    Ready(Result<Option<Authenticated>, AuthRejection>),
    /// Another extractor of this request is at work; wait for it.
    Wait(Rc<Notify>),
    /// Verify the token.
    Verify(JwtAuth),
    /// Run the role resolver for the current routing stage.
    Resolve(JwtAuth, Arc<VerifiedToken>),
    /// The role resolver asks for the caller of the request it resolves roles for: waiting would
    /// wait on itself.
    Reentrant,
    /// No `JwtAuth` is configured.
    NotConfigured,
}

tokio::task_local! {
    /// The role resolver being polled in this task, while it is: what tells its own extractions
    /// (which would wait on it forever) apart from another extractor of the request waiting its
    /// turn.
    pub(crate) static RESOLVING: Rc<ResolverRun>;
}

/// One run of a role resolver.
pub(crate) struct ResolverRun {
    /// What the request's waiters wait on while it runs: names the run in the request's state.
    pub(crate) done: Rc<Notify>,
    /// The resolver asked for its own request's caller.
    pub(crate) reentered: Cell<bool>,
    /// The task running the request (`None` outside any, as in a test's `block_on`). Another
    /// extractor of the request waits its turn in this task; an extraction from another task
    /// while the resolver runs is one the resolver spawned and awaits (the task-local cannot
    /// follow it there), and waiting would hang the request.
    pub(crate) task: Option<tokio::task::Id>,
}

/// Whether the resolver run `run` is the one this task is polling, or the extraction comes from
/// another task (one the resolver spawned), noting it if so: either would wait on the resolver.
fn reentrant(run: &Rc<ResolverRun>) -> bool {
    let polled = RESOLVING
        .try_with(|polling| Rc::ptr_eq(&polling.done, &run.done))
        .unwrap_or(false);
    if polled || tokio::task::try_id() != run.task {
        run.reentered.set(true);
        return true;
    }
    false
}

/// The next step for `req`, decided without doing any work.
pub(crate) fn step(req: &HttpRequest) -> Step {
    let extensions = req.extensions();
    let Some(entry) = extensions.get::<RequestAuth>() else {
        drop(extensions);
        return jwt_auth(req).map_or(Step::NotConfigured, Step::Verify);
    };
    let caller = match &entry.state {
        AuthState::Unverified => {
            let auth = entry.auth.clone();
            drop(extensions);
            return auth
                .or_else(|| jwt_auth(req))
                .map_or(Step::NotConfigured, Step::Verify);
        }
        AuthState::Verifying(done) => return Step::Wait(Rc::clone(done)),
        AuthState::Anonymous(_) | AuthState::Preflight => return Step::Ready(Ok(None)),
        AuthState::Refused(refusal) => return Step::Ready(Err(refusal.rejection().clone())),
        AuthState::Verified(caller) => caller,
    };
    let ready = |identity: &Arc<Identity>| {
        Step::Ready(Ok(Some(Authenticated {
            token: Arc::clone(&caller.token),
            identity: Arc::clone(identity),
        })))
    };
    match &caller.roles {
        Roles::FromToken => ready(caller.token.shared_identity()),
        Roles::Resolved { stage, identity } if *stage == routing_stage(req) => ready(identity),
        Roles::Resolving(run) if reentrant(run) => Step::Reentrant,
        Roles::Resolving(run) => Step::Wait(Rc::clone(&run.done)),
        Roles::Unresolved | Roles::Resolved { .. } => {
            let token = Arc::clone(&caller.token);
            let auth = entry.auth.clone();
            drop(extensions);
            match auth.or_else(|| jwt_auth(req)) {
                Some(auth) => Step::Resolve(auth, token),
                None => Step::NotConfigured,
            }
        }
    }
}

/// How far routing has got: the length of the path it has not matched yet. Resolver roles belong to
/// one stage, since a scope's middleware runs before the scope's routes match their parameters.
pub(crate) fn routing_stage(req: &HttpRequest) -> usize {
    req.match_info().unprocessed().len()
}
