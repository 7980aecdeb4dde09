//! What authentication knows about one request, as one state machine kept in the request's
//! extensions.
//!
//! The middleware (or, without it, the first extractor) verifies the token once; later extractors
//! read the result. Roles from a [`RoleResolver`](crate::RoleResolver) are resolved at most once
//! per routing stage. Every refusal is built here, by [`refuse`], and the request's one decision is
//! logged when the request ends ([`RequestAuth`]'s `Drop`): an extractor that refuses after the
//! middleware admitted the token changes the decision instead of adding a second one.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::http::Uri;
use actix_web::{HttpMessage, HttpRequest, web};
use auth_core::{
    AuthError, DpopRequest, Identity, Malformed, UnverifiedClaims, UnverifiedHeader, VerifiedToken,
};
use tokio::sync::Notify;

use crate::jwt_auth::{DEFAULT_REALM, JwtAuth};
use crate::rejection::AuthRejection;
use crate::request_origin;
use crate::role_resolver::{ResolveError, RoleRequest};
use crate::token_lookup::{self, Lookup};
use crate::{audit, cookie_site};

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
    Refused(Refusal),
}

/// A verified caller.
pub(crate) struct Caller {
    token: Arc<VerifiedToken>,
    roles: Roles,
}

/// Whether a role resolver's roles are in the caller's identity yet.
enum Roles {
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

/// A refusal, with what the decision log says about it.
pub(crate) struct Refusal {
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
        audit::decision(self.uri.path(), &self.state, meters);
    }
}

impl RequestAuth {
    /// Stores what the middleware decided, with its configuration for later extractors. An outer
    /// `JwtAuth`'s entry is updated in place: replacing it would log a decision for it.
    pub(crate) fn install(req: &HttpRequest, auth: JwtAuth, state: AuthState) {
        let mut extensions = req.extensions_mut();
        match extensions.get_mut::<RequestAuth>() {
            Some(entry) => {
                entry.auth = Some(auth);
                entry.state = state;
            }
            None => {
                extensions.insert(RequestAuth {
                    auth: Some(auth),
                    state,
                    uri: req.uri().clone(),
                });
            }
        }
    }
}

impl AuthState {
    /// The state of a freshly verified token.
    fn verified(auth: &JwtAuth, token: Arc<VerifiedToken>) -> AuthState {
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
            AuthState::Refused(refusal) => Some(&refusal.rejection),
            _ => None,
        }
    }
}

impl Refusal {
    pub(crate) fn rejection(&self) -> &AuthRejection {
        &self.rejection
    }

    pub(crate) fn caller(&self) -> Option<&Identity> {
        self.caller.as_deref()
    }

    pub(crate) fn header(&self) -> Option<&UnverifiedHeader> {
        self.header.as_ref()
    }

    pub(crate) fn claims(&self) -> Option<&UnverifiedClaims> {
        self.claims.as_ref()
    }

    pub(crate) fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }
}

impl Caller {
    pub(crate) fn token(&self) -> &VerifiedToken {
        &self.token
    }
}

/// Finds and verifies the request's token. Shared by the middleware (`anonymous_welcome` on public
/// paths) and on-demand extraction (always, as extractors decide for themselves whether anonymous
/// will do).
pub(crate) async fn verify_request(
    req: &HttpRequest,
    auth: &JwtAuth,
    anonymous_welcome: bool,
) -> AuthState {
    let headers = req.headers();
    let token = match token_lookup::find(headers, &auth.config.sources) {
        Lookup::Found(token) => token,
        Lookup::Missing if anonymous_welcome => return AuthState::Anonymous(None),
        Lookup::Missing => return refused(auth, AuthError::MissingToken, None, None),
        Lookup::Malformed => {
            return refused(auth, AuthError::Malformed(Malformed::Segments), None, None);
        }
    };
    // A cookie is sent with any site's requests: it authenticates same-site requests only. It did
    // not come from this request's sender, so it is no bad token to refuse where anonymous
    // callers are welcome.
    if token.from_cookie
        && let Err(error) = cookie_site::admit(req, &auth.config)
    {
        return if anonymous_welcome {
            AuthState::Anonymous(Some(error))
        } else {
            refused(auth, error, None, None)
        };
    }
    let outcome = if token.dpop {
        match token_lookup::dpop_proof(headers) {
            Some(proof) => match request_origin::dpop_url(req, &auth.config) {
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
    match outcome {
        Ok(verified) => AuthState::verified(auth, verified),
        // The claimed header and claims are read again only on this path, so admitted requests
        // never pay for them.
        Err(error) => AuthState::Refused(Refusal {
            rejection: auth.rejection_for(error, token.dpop),
            caller: None,
            header: UnverifiedHeader::peek(token.as_str()),
            claims: UnverifiedClaims::peek(token.as_str()),
            issuer: auth
                .verifier
                .issuer_label_of(token.as_str())
                .map(str::to_owned),
        }),
    }
}

fn refused(
    auth: &JwtAuth,
    error: AuthError,
    caller: Option<Arc<Identity>>,
    header: Option<UnverifiedHeader>,
) -> AuthState {
    // A verified caller's issuer names the configured provider that accepted it.
    let issuer = caller
        .as_deref()
        .and_then(|caller| auth.verifier.issuer_label_of_iss(&caller.issuer))
        .map(str::to_owned);
    AuthState::Refused(Refusal {
        rejection: auth.rejection(error),
        caller,
        header,
        claims: None,
        issuer,
    })
}

/// Refuses the request: the one place refusals of a request are built and recorded for its decision
/// log. `caller` is the verified caller a later check refused, if any.
pub(crate) fn refuse(
    req: &HttpRequest,
    error: AuthError,
    caller: Option<Arc<Identity>>,
) -> AuthRejection {
    let auth = jwt_auth(req);
    let rejection = match &auth {
        Some(auth) => auth.rejection(error),
        None => AuthRejection::new(error, Arc::from(DEFAULT_REALM), None),
    };
    let issuer = auth.zip(caller.as_ref()).and_then(|(auth, caller)| {
        auth.verifier
            .issuer_label_of_iss(&caller.issuer)
            .map(str::to_owned)
    });
    let refusal = Refusal {
        rejection: rejection.clone(),
        caller,
        header: None,
        claims: None,
        issuer,
    };
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
    refuse(req, ignored.unwrap_or(AuthError::MissingToken), None)
}

/// The answer when no `JwtAuth` is configured for a request: 500, with a log line naming the fix.
fn not_configured(req: &HttpRequest) -> AuthRejection {
    let reason = "no JwtAuth for this request: wrap the app with `App::new().wrap(auth.clone())` \
                  or register it with `App::new().app_data(auth.clone())`";
    refuse(req, AuthError::Internal(reason.to_owned()), None)
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

/// Replaces the request's state, creating its entry on first use.
fn set_state(req: &HttpRequest, state: AuthState) {
    let mut extensions = req.extensions_mut();
    match extensions.get_mut::<RequestAuth>() {
        Some(entry) => entry.state = state,
        None => {
            extensions.insert(RequestAuth {
                auth: None,
                state,
                uri: req.uri().clone(),
            });
        }
    }
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
    static RESOLVING: Rc<ResolverRun>;
}

/// One run of a role resolver.
struct ResolverRun {
    /// What the request's waiters wait on while it runs: names the run in the request's state.
    done: Rc<Notify>,
    /// The resolver asked for its own request's caller.
    reentered: Cell<bool>,
    /// The task running the request (`None` outside any, as in a test's `block_on`). Another
    /// extractor of the request waits its turn in this task; an extraction from another task
    /// while the resolver runs is one the resolver spawned and awaits (the task-local cannot
    /// follow it there), and waiting would hang the request.
    task: Option<tokio::task::Id>,
}

/// Why a resolver that extracted its own request's caller is refused, and the fix.
const REENTRANT: &str = "the role resolver asked for the caller of the request it resolves roles \
                         for (a Verified or Optional extractor, or a guard, on the RoleRequest, \
                         in the resolver or in a task it spawned), which waits for the resolver \
                         itself: read the caller with \
                         RoleRequest::identity(), RoleRequest::token() or RoleRequest::claims()";

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
        AuthState::Refused(refusal) => return Step::Ready(Err(refusal.rejection.clone())),
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
fn routing_stage(req: &HttpRequest) -> usize {
    req.match_info().unprocessed().len()
}

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
                return Err(match jwt_auth(req) {
                    Some(auth) => auth.rejection(error),
                    None => AuthRejection::new(error, Arc::from(DEFAULT_REALM), None),
                });
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
    let identity = || Some(Arc::clone(token.shared_identity()));
    let state = match (resolved, too_early) {
        // Whatever it made of the refusal, the resolver cannot have seen the caller it asked for.
        _ if run.reentered.get() => refused(
            auth,
            AuthError::Internal(REENTRANT.to_owned()),
            identity(),
            None,
        ),
        (_, Some(param)) => {
            let reason = format!(
                "the role resolver read path parameter `{param}` before routing matched it: an \
                 Authorize on a scope runs before the scope's routes; name the parameter in the \
                 scope's own path (web::scope(\"/agents/{{{param}}}\")) or guard the handler with \
                 #[require_role] or Require"
            );
            refused(auth, AuthError::Internal(reason), identity(), None)
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
            refused(auth, error, identity(), None)
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
        let mut extensions = req.extensions_mut();
        let before = match extensions.get_mut::<RequestAuth>() {
            Some(entry) => std::mem::replace(&mut entry.state, state),
            None => {
                extensions.insert(RequestAuth {
                    auth: None,
                    state,
                    uri: req.uri().clone(),
                });
                AuthState::Unverified
            }
        };
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
