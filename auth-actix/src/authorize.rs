//! `Authorize`: a role or scope requirement for a whole `web::scope` or resource, as middleware.

use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, ResponseError};
use auth_core::Identity;
use futures_util::future::{LocalBoxFuture, Ready, ready};

use crate::request_state;
use crate::requirement::{self, RuleKind};

/// Middleware that admits only callers with the given roles or scopes (401 without a valid token,
/// 403 without the role), for every route of the scope it wraps. A
/// [`RoleResolver`](crate::RoleResolver) sees the path parameters routing has matched so far: those
/// of the scope's own path.
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
///
/// # Panics
/// Each constructor panics on an empty list, which would admit every caller.
#[derive(Clone, Debug)]
pub struct Authorize {
    kind: RuleKind,
    names: Arc<[Box<str>]>,
}

impl Authorize {
    fn new<I, S>(kind: RuleKind, names: I) -> Authorize
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let names: Arc<[Box<str>]> = names
            .into_iter()
            .map(|name| name.into().into_boxed_str())
            .collect();
        assert!(
            !names.is_empty(),
            "Authorize: give at least one name; an empty list would admit every caller"
        );
        Authorize { kind, names }
    }

    /// At least one of these roles.
    pub fn any_role<I: IntoIterator<Item = S>, S: Into<String>>(roles: I) -> Authorize {
        Authorize::new(RuleKind::AnyRole, roles)
    }

    /// Every one of these roles.
    pub fn all_roles<I: IntoIterator<Item = S>, S: Into<String>>(roles: I) -> Authorize {
        Authorize::new(RuleKind::AllRoles, roles)
    }

    /// At least one of these roles granted by the caller's organisation.
    pub fn any_org_role<I: IntoIterator<Item = S>, S: Into<String>>(roles: I) -> Authorize {
        Authorize::new(RuleKind::AnyOrgRole, roles)
    }

    /// Every one of these roles granted by the caller's organisation.
    pub fn all_org_roles<I: IntoIterator<Item = S>, S: Into<String>>(roles: I) -> Authorize {
        Authorize::new(RuleKind::AllOrgRoles, roles)
    }

    /// People only, no machine credentials.
    pub fn user() -> Authorize {
        Authorize {
            kind: RuleKind::User,
            names: Arc::from([]),
        }
    }

    /// Machine credentials only.
    pub fn service() -> Authorize {
        Authorize {
            kind: RuleKind::Service,
            names: Arc::from([]),
        }
    }

    /// At least one of these scopes.
    pub fn any_scope<I: IntoIterator<Item = S>, S: Into<String>>(scopes: I) -> Authorize {
        Authorize::new(RuleKind::AnyScope, scopes)
    }

    /// Every one of these scopes.
    pub fn all_scopes<I: IntoIterator<Item = S>, S: Into<String>>(scopes: I) -> Authorize {
        Authorize::new(RuleKind::AllScopes, scopes)
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|name| &**name)
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
        ready(Ok(AuthorizeMiddleware {
            service: Rc::new(service),
            rule: self.clone(),
        }))
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
            let verdict = request_state::authenticate(http).await.and_then(|caller| {
                let allows = |identity: &Identity| rule.kind.allows(identity, rule.names());
                let describe = |identity: &Identity| rule.kind.describe(identity, rule.names());
                requirement::admit(http, caller, allows, describe)
            });
            match verdict {
                Ok(_) => service
                    .call(req)
                    .await
                    .map(ServiceResponse::map_into_left_body),
                Err(rejection) => Ok(req
                    .into_response(rejection.error_response())
                    .map_into_right_body()),
            }
        })
    }
}
