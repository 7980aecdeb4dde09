//! `Authorize`: a role or scope requirement for a whole `web::scope` or resource, as middleware.

use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, ResponseError};
use futures_util::future::{LocalBoxFuture, Ready, ready};

use crate::request_auth;
use crate::requirement::{self, Mode};

/// Middleware that admits only callers with the given roles or scopes (401 without a valid token, 403
/// without the role), for every route of the scope it wraps. It runs after routing, so a
/// [`RoleResolver`](crate::RoleResolver) sees the scope's path parameters.
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use auth_actix::Authorize;
///
/// let app = App::new().service(
///     web::scope("/admin")
///         .wrap(Authorize::any_role(["admin"]))
///         .route("/stats", web::get().to(|| async { HttpResponse::Ok() })),
/// );
/// ```
#[derive(Clone, Debug)]
pub struct Authorize {
    mode: Mode,
    names: Arc<[String]>,
}

impl Authorize {
    fn new<I, S>(mode: Mode, names: I) -> Authorize
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Authorize { mode, names: names.into_iter().map(Into::into).collect() }
    }

    /// At least one of these roles.
    pub fn any_role<I: IntoIterator<Item = S>, S: Into<String>>(roles: I) -> Authorize {
        Authorize::new(Mode::AnyRole, roles)
    }

    /// Every one of these roles.
    pub fn all_roles<I: IntoIterator<Item = S>, S: Into<String>>(roles: I) -> Authorize {
        Authorize::new(Mode::AllRoles, roles)
    }

    /// At least one of these scopes.
    pub fn any_scope<I: IntoIterator<Item = S>, S: Into<String>>(scopes: I) -> Authorize {
        Authorize::new(Mode::AnyScope, scopes)
    }

    /// Every one of these scopes.
    pub fn all_scopes<I: IntoIterator<Item = S>, S: Into<String>>(scopes: I) -> Authorize {
        Authorize::new(Mode::AllScopes, scopes)
    }

    fn allows(&self, identity: &auth_core::Identity) -> bool {
        self.mode.allows(identity, self.names.iter().map(String::as_str))
    }

    fn describe(&self) -> String {
        self.mode.describe(self.names.iter().map(String::as_str))
    }
}

impl<S, B> Transform<S, ServiceRequest> for Authorize
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = AuthorizeMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuthorizeMiddleware { service: Rc::new(service), rule: self.clone() }))
    }
}

/// The service [`Authorize`] wraps around a scope.
pub struct AuthorizeMiddleware<S> {
    service: Rc<S>,
    rule: Authorize,
}

impl<S, B> Service<ServiceRequest> for AuthorizeMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let rule = self.rule.clone();
        Box::pin(async move {
            let http = req.request();
            let verdict = match request_auth::authenticate(http).await {
                Err(rejection) => Err(rejection),
                Ok(None) => Err(request_auth::missing_token(http)),
                Ok(Some(authenticated)) if rule.allows(authenticated.identity()) => Ok(()),
                Ok(Some(authenticated)) => Err(requirement::refuse(http, authenticated.identity(), rule.describe())),
            };
            match verdict {
                Ok(()) => service.call(req).await.map(ServiceResponse::map_into_left_body),
                Err(rejection) => Ok(req.into_response(rejection.error_response()).map_into_right_body()),
            }
        })
    }
}
