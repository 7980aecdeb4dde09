//! Request-scoped roles: an async hook that adds roles the token cannot carry, such as a user's role on
//! the one resource the path names.

use std::future::Future;

use actix_web::HttpRequest;
use futures_util::future::LocalBoxFuture;

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
/// It runs at most once per request, after routing (so path parameters are there), and only when a
/// guard or extractor needs the identity. Implement it on a type, or pass an async closure taking the
/// request and the token's identity:
///
/// ```
/// use auth_actix::{Identity, JwtAuth, ResolveError};
/// # fn setup(auth: JwtAuth) -> JwtAuth {
/// auth.role_resolver(|req: actix_web::HttpRequest, identity: auth_actix::core::Identity| async move {
///     let agent = req.match_info().get("id").unwrap_or_default().to_owned();
///     // Look the caller up, e.g. in agent_admins(agent_id, email, role).
///     let _ = (agent, identity.email);
///     Ok::<_, ResolveError>(vec!["viewer".to_owned()])
/// })
/// # }
/// ```
pub trait RoleResolver: Send + Sync + 'static {
    /// The extra roles of `identity` for `request`.
    fn resolve(
        &self,
        request: HttpRequest,
        identity: auth_core::Identity,
    ) -> LocalBoxFuture<'static, Result<Vec<String>, ResolveError>>;
}

impl<F, Fut> RoleResolver for F
where
    F: Fn(HttpRequest, auth_core::Identity) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<String>, ResolveError>> + 'static,
{
    fn resolve(
        &self,
        request: HttpRequest,
        identity: auth_core::Identity,
    ) -> LocalBoxFuture<'static, Result<Vec<String>, ResolveError>> {
        Box::pin(self(request, identity))
    }
}
