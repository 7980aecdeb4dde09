//! `JwtAuth` as middleware: verifies each request's token once, before routing reaches a handler.

use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpMessage, ResponseError};
use futures_util::future::{LocalBoxFuture, Ready, ready};

use crate::audit;
use crate::jwt_auth::JwtAuth;
use crate::request_auth::{RequestAuth, verify_request};

impl<S, B> Transform<S, ServiceRequest> for JwtAuth
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = JwtAuthMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(JwtAuthMiddleware { service: Rc::new(service), auth: self.clone() }))
    }
}

/// The service [`JwtAuth`] wraps around an app or scope.
pub struct JwtAuthMiddleware<S> {
    service: Rc<S>,
    auth: JwtAuth,
}

impl<S, B> Service<ServiceRequest> for JwtAuthMiddleware<S>
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
        let auth = self.auth.clone();
        Box::pin(async move {
            if auth.is_public(req.path()) {
                audit::public(req.path());
                // Extractors on public routes may still verify on demand with this configuration.
                req.extensions_mut().insert(RequestAuth::from_middleware(auth, None));
                return service.call(req).await.map(ServiceResponse::map_into_left_body);
            }
            let outcome = verify_request(req.headers(), req.path(), &auth, auth.config.optional).await;
            match outcome {
                Ok(outcome) => {
                    req.extensions_mut().insert(RequestAuth::from_middleware(auth, Some(outcome)));
                    service.call(req).await.map(ServiceResponse::map_into_left_body)
                }
                Err(rejection) => Ok(req.into_response(rejection.error_response()).map_into_right_body()),
            }
        })
    }
}
