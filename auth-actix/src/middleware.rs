//! The middleware [`JwtAuth`] puts around an app or scope: it decides each request before any
//! handler runs, answers preflights and refusals itself, and passes the rest on. The service types
//! are public for naming in type signatures; [`AuthorizeMiddleware`] is [`Authorize`]'s.
//!
//! [`Authorize`]: crate::Authorize

use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header;
use actix_web::{Error, ResponseError};
use futures_util::future::{LocalBoxFuture, Ready, ready};

pub use crate::guard::authorize::AuthorizeMiddleware;
use crate::jwt_auth::JwtAuth;
use crate::request::paths::Access;
use crate::request::preflight;
use crate::request::resource;
use crate::request::token;
use crate::response::TARGET;
use crate::response::resource_metadata;
use crate::state::verify::verify_request;
use crate::state::{AuthState, RequestAuth};

impl<S, B> Transform<S, ServiceRequest> for JwtAuth
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<EitherBody<B>>>;
    type Error = Error;
    type Transform = JwtAuthMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let auth = AuthService {
            service: Rc::new(service),
            auth: self.clone(),
        };
        #[cfg(feature = "cors")]
        if let Some(cors) = &self.config.cors {
            // CORS outermost: it answers preflights before authentication and adds its headers to
            // refusals too.
            let layers = match cors().new_transform(auth).into_inner() {
                Ok(cors) => Ok(JwtAuthMiddleware {
                    layers: Layers::Cors(cors, self.clone()),
                }),
                Err(()) => {
                    tracing::error!(
                        target: TARGET,
                        "JwtAuth::cors: the CORS layer cannot start (actix-cors logged why: an \
                         origin that does not parse, or credentials allowed with every origin \
                         and send_wildcard)"
                    );
                    Err(())
                }
            };
            return ready(layers);
        }
        ready(Ok(JwtAuthMiddleware {
            layers: Layers::Auth(auth),
        }))
    }
}

/// The service [`JwtAuth`] wraps around an app or scope: authentication, inside the CORS layer
/// given to [`JwtAuth::cors`] if any. One response type either way (the body of a response
/// without a CORS layer is the left one, moved, not copied).
pub struct JwtAuthMiddleware<S> {
    layers: Layers<S>,
}

enum Layers<S> {
    Auth(AuthService<S>),
    /// The CORS layer around authentication, and the configuration, to record the preflights it
    /// answers.
    #[cfg(feature = "cors")]
    Cors(actix_cors::CorsMiddleware<AuthService<S>>, JwtAuth),
}

impl<S, B> Service<ServiceRequest> for JwtAuthMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<EitherBody<B>>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match &self.layers {
            Layers::Auth(auth) => auth.poll_ready(cx),
            #[cfg(feature = "cors")]
            Layers::Cors(cors, _) => cors.poll_ready(cx),
        }
    }

    fn call(&self, req: ServiceRequest) -> Self::Future {
        match &self.layers {
            Layers::Auth(auth) => {
                let response = auth.authenticate(req);
                Box::pin(async move { Ok(response.await?.map_into_left_body()) })
            }
            #[cfg(feature = "cors")]
            Layers::Cors(cors, auth) => {
                // The CORS layer answers preflights without calling further in: the decision
                // log still gets the request's one `preflight` decision.
                if preflight::is_preflight(req.request())
                    && auth.config.paths.access(req.path()) != Access::Skipped
                {
                    RequestAuth::install(req.request(), auth.clone(), AuthState::Preflight);
                }
                cors.call(req)
            }
        }
    }
}

/// Authentication itself: decides the request, then calls the application or answers for it.
pub(crate) struct AuthService<S> {
    service: Rc<S>,
    auth: JwtAuth,
}

impl<S, B> AuthService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    fn authenticate(
        &self,
        req: ServiceRequest,
    ) -> impl Future<Output = Result<ServiceResponse<EitherBody<B>>, Error>> + 'static {
        let service = Rc::clone(&self.service);
        let auth = self.auth.clone();
        async move {
            // RFC 9728 §3: a resource's metadata is for clients that hold no token yet, so it is
            // answered before anything else, whatever `skip` and `public` say, and never reaches
            // the application; a preflight for it is answered as any other.
            let resources = auth.verifier.protected_resources();
            if let Some(resource) =
                resource::metadata_of(resources, &auth.config.origins, req.path())
            {
                if preflight::is_preflight(req.request()) {
                    return Ok(answer_preflight(req, &auth).map_into_right_body());
                }
                let answer = resource_metadata::answer(req.request(), &auth, resource);
                return Ok(req.into_response(answer).map_into_right_body());
            }
            let access = auth.config.paths.access(req.path());
            // Nothing reaches the application unauthenticated because of its shape: a preflight
            // is answered here unless the path is skipped (the application then sees everything).
            if access != Access::Skipped && preflight::is_preflight(req.request()) {
                return Ok(answer_preflight(req, &auth).map_into_right_body());
            }
            let state = match access {
                // Extractors on a skipped path may still verify on demand, with this configuration.
                Access::Skipped => AuthState::Unverified,
                Access::Public => verify_request(req.request(), &auth, true).await,
                Access::Protected => verify_request(req.request(), &auth, false).await,
            };
            let refused = state.rejection().map(ResponseError::error_response);
            // With server nonces, every answer to a DPoP request carries the current one, so
            // clients keep up with rotation without a refusal (RFC 9449 §8.2).
            let nonce = req
                .headers()
                .contains_key("dpop")
                .then(|| auth.verifier.dpop_settings().current_nonce())
                .flatten();
            let token_protocol = token::answers_token_protocol(req.headers(), &auth.config.sources);
            RequestAuth::install(req.request(), auth, state);
            let mut response = match refused {
                Some(response) => req.into_response(response).map_into_right_body(),
                None => service.call(req).await?.map_into_left_body(),
            };
            // A browser drops a WebSocket whose handshake answer names none of the subprotocols
            // it offered: name the marker, never the token.
            if token_protocol
                && response.status() == actix_web::http::StatusCode::SWITCHING_PROTOCOLS
                && !response
                    .headers()
                    .contains_key(header::SEC_WEBSOCKET_PROTOCOL)
            {
                response.headers_mut().insert(
                    header::SEC_WEBSOCKET_PROTOCOL,
                    header::HeaderValue::from_static(token::WEBSOCKET_PROTOCOL),
                );
            }
            if let Some(nonce) = nonce
                && let Ok(value) = header::HeaderValue::from_str(&nonce)
            {
                let name = header::HeaderName::from_static("dpop-nonce");
                if !response.headers().contains_key(&name) {
                    response.headers_mut().insert(name, value);
                }
            }
            Ok(response)
        }
    }
}

impl<S, B> Service<ServiceRequest> for AuthService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        Box::pin(self.authenticate(req))
    }
}

/// Answers a preflight that reached authentication: `204`, no body, no CORS headers, and the
/// inner service never called. Logged as the request's `preflight` decision.
fn answer_preflight(req: ServiceRequest, auth: &JwtAuth) -> ServiceResponse<BoxBody> {
    let path = req.path().to_owned();
    if auth.cors_layer_configured() {
        // The application gave JwtAuth a CORS layer with preflights turned off (actix-cors's
        // `disable_preflight`): answering here is what it asked for.
        tracing::debug!(
            target: TARGET,
            path,
            "CORS preflight answered by JwtAuth: the CORS layer given to JwtAuth::cors does not \
             answer preflights"
        );
    } else if auth.config.preflight_warning.first() {
        tracing::warn!(
            target: TARGET,
            path,
            "a CORS preflight reached JwtAuth, so no CORS layer answered it first: JwtAuth answers \
             it with an empty 204 and no CORS headers, and browsers will refuse the cross-origin \
             request. Give JwtAuth the CORS configuration with JwtAuth::cors (feature `cors`), or \
             wrap actix-cors outside JwtAuth (a CORS layer wrapped inside JwtAuth never sees a \
             preflight). Further preflights are logged at debug level"
        );
    } else {
        tracing::debug!(
            target: TARGET,
            path,
            "CORS preflight answered by JwtAuth without CORS headers: see JwtAuth::cors"
        );
    }
    RequestAuth::install(req.request(), auth.clone(), AuthState::Preflight);
    req.into_response(actix_web::HttpResponse::NoContent().finish())
}
