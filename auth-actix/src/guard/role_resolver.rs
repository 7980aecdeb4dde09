//! Request-scoped roles: an async hook that adds roles the token cannot carry, such as a user's
//! role on the one resource the path names.

use std::borrow::Cow;
use std::cell::RefCell;
use std::future::Future;
use std::ops::Deref;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::HttpRequest;
use auth_core::{AuthError, Identity, VerifiedToken};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

/// Why roles could not be resolved. Clients see only the safe message of the mapped code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// A dependency is down for now (database, directory): answered 503 with `Retry-After`.
    #[error("role source unavailable: {0}")]
    Unavailable(String),
    /// Anything else: answered 500.
    #[error("role resolution failed: {0}")]
    Failed(String),
}

/// Adds roles for the current request to those the token carries.
///
/// It runs after routing has matched the route (so its path parameters are there), at most once per
/// request and route, and only when a guard or extractor needs the caller's roles. It reads the
/// caller from the [`RoleRequest`] ([`RoleRequest::identity`], [`RoleRequest::token`],
/// [`RoleRequest::claims`]), never with an extractor or guard of its own request (in the resolver
/// or in a task it spawns): those wait for the roles this resolver is computing, so such a request
/// is answered 500 at once, with a log line naming the fix. The most direct form is an `async fn`, with whatever it needs from the app's
/// data:
///
/// ```
/// use actix_web::web;
/// use auth_actix::{JwtAuth, ResolveError, RoleRequest};
///
/// struct AgentAdmins; // e.g. a database pool
/// impl AgentAdmins {
///     async fn role(&self, agent: &str, email: &str) -> Result<Option<String>, String> {
///         Ok((agent == "7" && email == "ada@example.com").then(|| "owner".to_owned()))
///     }
/// }
///
/// async fn agent_roles(request: RoleRequest) -> Result<Vec<String>, ResolveError> {
///     let email = request.identity().email.as_deref();
///     let (Some(agent), Some(email)) = (request.param("id"), email) else {
///         return Ok(Vec::new());
///     };
///     let Some(store) = request.app_data::<web::Data<AgentAdmins>>() else {
///         return Err(ResolveError::Failed("AgentAdmins is not registered as app data".into()));
///     };
///     let role = store.role(&agent, email).await.map_err(ResolveError::Unavailable)?;
///     Ok(role.into_iter().collect())
/// }
///
/// # fn setup(auth: JwtAuth) -> JwtAuth {
/// auth.role_resolver(agent_roles)
/// # }
/// ```
///
/// A type can implement the trait with an `async fn` just the same:
///
/// ```
/// use auth_actix::{ResolveError, RoleRequest, RoleResolver};
///
/// struct StaffDirectory;
///
/// impl RoleResolver for StaffDirectory {
///     async fn resolve(&self, request: RoleRequest) -> Result<Vec<String>, ResolveError> {
///         let email = request.identity().email.as_deref();
///         let staff = email.is_some_and(|email| email.ends_with("@example.com"));
///         Ok(if staff { vec!["staff".to_owned()] } else { Vec::new() })
///     }
/// }
/// ```
pub trait RoleResolver: Send + Sync + 'static {
    /// The extra roles of the caller for this request.
    fn resolve(
        &self,
        request: RoleRequest,
    ) -> impl Future<Output = Result<Vec<String>, ResolveError>>;
}

impl<F, Fut> RoleResolver for F
where
    F: Fn(RoleRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<String>, ResolveError>>,
{
    fn resolve(
        &self,
        request: RoleRequest,
    ) -> impl Future<Output = Result<Vec<String>, ResolveError>> {
        self(request)
    }
}

/// A resolver behind a pointer, so `JwtAuth` can hold any of them.
pub(crate) trait SharedResolver: Send + Sync {
    fn resolve_shared(
        self: Arc<Self>,
        request: RoleRequest,
    ) -> LocalBoxFuture<'static, Result<Vec<String>, ResolveError>>;
}

impl<R: RoleResolver> SharedResolver for R {
    fn resolve_shared(
        self: Arc<Self>,
        request: RoleRequest,
    ) -> LocalBoxFuture<'static, Result<Vec<String>, ResolveError>> {
        Box::pin(async move { self.resolve(request).await })
    }
}

/// What a [`RoleResolver`] is asked about: the request, once routed, and the verified caller.
///
/// Dereferences to the `HttpRequest` (for `app_data`, headers, the method). Read path parameters
/// with [`RoleRequest::param`], which decodes them as `web::Path` does, so the resolver and the
/// handler always agree on which resource is meant. Read the caller here ([`RoleRequest::identity`],
/// [`RoleRequest::token`], [`RoleRequest::claims`]): a `Verified<..>` or `Optional<..>` extracted
/// from this request, or a guard run on it, would wait for this very resolver, and is refused.
///
/// ```
/// use auth_actix::{ResolveError, RoleRequest};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Tenant {
///     tenant: String,
/// }
///
/// async fn tenant_roles(request: RoleRequest) -> Result<Vec<String>, ResolveError> {
///     let claims: Tenant = request
///         .claims()
///         .map_err(|err| ResolveError::Failed(format!("token without a tenant: {err}")))?;
///     Ok(if claims.tenant == "acme" { vec!["acme-staff".to_owned()] } else { Vec::new() })
/// }
/// ```
pub struct RoleRequest {
    request: HttpRequest,
    token: Arc<VerifiedToken>,
    /// The first parameter asked for before routing had matched it (an `Authorize` on a scope runs
    /// before the scope's own routes).
    unrouted: Rc<RefCell<Option<String>>>,
}

impl RoleRequest {
    pub(crate) fn new(
        request: HttpRequest,
        token: Arc<VerifiedToken>,
    ) -> (RoleRequest, Rc<RefCell<Option<String>>>) {
        let unrouted = Rc::new(RefCell::new(None));
        (
            RoleRequest {
                request,
                token,
                unrouted: Rc::clone(&unrouted),
            },
            unrouted,
        )
    }

    /// The caller, with the roles the token carries.
    pub fn identity(&self) -> &Identity {
        self.token.identity()
    }

    /// The verified token behind the caller: payload, algorithm, `kid`, as
    /// [`Verified::token`](crate::Verified::token) gives it to handlers.
    pub fn token(&self) -> &VerifiedToken {
        &self.token
    }

    /// The token's payload as the application's type `T`, as
    /// [`Verified<Claims<T>>`](crate::Verified) reads it; the error is the one that extractor
    /// would refuse with ([`AuthError::ClaimsType`]).
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, AuthError> {
        self.token.deserialize()
    }

    /// The request.
    pub fn request(&self) -> &HttpRequest {
        &self.request
    }

    /// A path parameter of the matched route, percent-decoded exactly as `web::Path` decodes it
    /// (`a%2Fb` is `a/b` here and in the handler). `None` when the route has no such parameter.
    ///
    /// Asking for a parameter that routing has not reached yet (an [`Authorize`](crate::Authorize)
    /// on `web::scope("/agents")` runs before the scope's `/{id}` route is matched) fails the
    /// request with 500 and a log line naming the fix, rather than resolving roles for the wrong
    /// resource.
    pub fn param(&self, name: &str) -> Option<String> {
        let info = self.request.match_info();
        match info.get(name) {
            Some(raw) => Some(decoded(raw).into_owned()),
            None => {
                if !info.unprocessed().is_empty() {
                    self.unrouted
                        .borrow_mut()
                        .get_or_insert_with(|| name.to_owned());
                }
                None
            }
        }
    }
}

impl Deref for RoleRequest {
    type Target = HttpRequest;

    fn deref(&self) -> &HttpRequest {
        &self.request
    }
}

impl std::fmt::Debug for RoleRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleRequest")
            .field("path", &self.request.path())
            .field("identity", self.token.identity())
            .finish()
    }
}

/// Percent-decodes a path segment as actix's `web::Path` deserializer does; borrows `raw` when it
/// holds nothing to decode.
pub(crate) fn decoded(raw: &str) -> Cow<'_, str> {
    match actix_router::Quoter::new(b"", b"").requote(raw.as_bytes()) {
        Some(decoded) => Cow::Owned(String::from_utf8_lossy(&decoded).into_owned()),
        None => Cow::Borrowed(raw),
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::decoded;

    fn decode(raw: &str) -> String {
        decoded(raw).into_owned()
    }

    #[test]
    fn borrows_what_needs_no_decoding() {
        assert!(matches!(decoded("org_1"), Cow::Borrowed("org_1")));
    }

    #[test]
    fn decodes_like_web_path() {
        assert_eq!(decode("a%2Fb"), "a/b");
        assert_eq!(decode("caf%C3%A9"), "café");
        assert_eq!(decode("plain"), "plain");
        assert_eq!(decode("%zz"), "%zz");
    }
}
