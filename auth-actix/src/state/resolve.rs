//! Role resolution, and the one extractor that does a request's work while the others wait
//! ([`Lead`]).

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::HttpRequest;
use auth_core::{AuthError, VerifiedToken};
use tokio::sync::Notify;

use crate::guard::role_resolver::{ResolveError, RoleRequest};
use crate::jwt_auth::JwtAuth;
use crate::response::rejection::AuthRejection;
use crate::state::refusal::{not_configured, refuse, rejection};
use crate::state::verify::verify_request;
use crate::state::{
    AuthState, Authenticated, Caller, RESOLVING, RequestAuth, ResolverRun, Roles, Step, jwt_auth,
    routing_stage, set_state, step,
};

/// Why a resolver that extracted its own request's caller is refused, and the fix.
const REENTRANT: &str = "the role resolver asked for the caller of the request it resolves roles \
                         for (a Verified or Optional extractor, or a guard, on the RoleRequest, \
                         in the resolver or in a task it spawned), which waits for the resolver \
                         itself: read the caller with \
                         RoleRequest::identity(), RoleRequest::token() or RoleRequest::claims()";

/// The verified caller with resolved roles, or `None` when anonymous; verifying and resolving as
/// needed, once per request (and routing stage) however many extractors ask.
pub(crate) async fn authenticate(
    req: &HttpRequest,
) -> Result<Option<Authenticated>, AuthRejection> {
    loop {
        match step(req) {
            Step::Ready(outcome) => return outcome,
            Step::NotConfigured => return Err(not_configured(req)),
            // Refused at once, leaving the state to the resolver's run, which fails the request
            // when it ends.
            Step::Reentrant => {
                let error = AuthError::Internal(REENTRANT.to_owned());
                return Err(rejection(req, jwt_auth(req).as_ref(), error, false));
            }
            Step::Wait(done) => {
                let mut notified = std::pin::pin!(done.notified());
                // Registered before the re-check, so a wake-up between the two cannot be missed.
                notified.as_mut().enable();
                if !matches!(step(req), Step::Wait(_)) {
                    continue;
                }
                notified.await;
            }
            Step::Verify(auth) => {
                let lead = Lead::start(req, AuthState::Verifying);
                let state = verify_request(req, &auth, true).await;
                lead.finish(state);
            }
            Step::Resolve(auth, token) => resolve(req, &auth, token).await,
        }
    }
}

/// Runs the role resolver and records what it found, or the refusal it caused.
async fn resolve(req: &HttpRequest, auth: &JwtAuth, token: Arc<VerifiedToken>) {
    let Some(resolver) = auth.config.resolver.clone() else {
        return;
    };
    let stage = routing_stage(req);
    let caller = |roles| {
        AuthState::Verified(Caller {
            token: Arc::clone(&token),
            roles,
        })
    };
    let mut started = None;
    let lead = Lead::start(req, |done| {
        let run = Rc::new(ResolverRun {
            done,
            reentered: Cell::new(false),
            task: tokio::task::try_id(),
        });
        started = Some(Rc::clone(&run));
        caller(Roles::Resolving(run))
    });
    let Some(run) = started else {
        return;
    };
    let (request, unrouted) = RoleRequest::new(req.clone(), Arc::clone(&token));
    let resolved = RESOLVING
        .scope(Rc::clone(&run), resolver.resolve_shared(request))
        .await;
    let too_early = unrouted.borrow_mut().take();
    let identity = || {
        Some(Authenticated {
            token: Arc::clone(&token),
            identity: Arc::clone(token.shared_identity()),
        })
    };
    let state = match (resolved, too_early) {
        // Whatever it made of the refusal, the resolver cannot have seen the caller it asked for.
        _ if run.reentered.get() => {
            let error = AuthError::Internal(REENTRANT.to_owned());
            AuthState::Refused(refuse(req, Some(auth), error, identity(), None))
        }
        (_, Some(param)) => {
            let reason = format!(
                "the role resolver read path parameter `{param}` before routing matched it: an \
                 Authorize on a scope runs before the scope's routes; name the parameter in the \
                 scope's own path (web::scope(\"/agents/{{{param}}}\")) or guard the handler with \
                 #[require_role] or Require"
            );
            let error = AuthError::Internal(reason);
            AuthState::Refused(refuse(req, Some(auth), error, identity(), None))
        }
        (Ok(extra), None) => {
            let mut identity = token.identity().clone();
            identity.roles.extend(extra);
            caller(Roles::Resolved {
                stage,
                identity: Arc::new(identity),
            })
        }
        (Err(error), None) => {
            let error = match error {
                ResolveError::Unavailable(reason) => AuthError::RolesUnavailable(reason),
                ResolveError::Failed(reason) => AuthError::Internal(reason),
            };
            AuthState::Refused(refuse(req, Some(auth), error, identity(), None))
        }
    };
    lead.finish(state);
}

/// The extractor doing a request's work while others wait. If it is dropped unfinished (the
/// extraction was cancelled), the state goes back to what it was before and the next waiter takes
/// the lead.
struct Lead {
    req: HttpRequest,
    done: Rc<Notify>,
    before: Option<AuthState>,
}

impl Lead {
    fn start(req: &HttpRequest, working: impl FnOnce(Rc<Notify>) -> AuthState) -> Lead {
        let done = Rc::new(Notify::new());
        let state = working(Rc::clone(&done));
        let before = RequestAuth::update(req, |entry| std::mem::replace(&mut entry.state, state));
        Lead {
            req: req.clone(),
            done,
            before: Some(before),
        }
    }

    fn finish(mut self, state: AuthState) {
        self.before = None;
        set_state(&self.req, state);
    }
}

impl Drop for Lead {
    fn drop(&mut self) {
        if let Some(before) = self.before.take() {
            set_state(&self.req, before);
        }
        self.done.notify_waiters();
    }
}
