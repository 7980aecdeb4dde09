//! CORS preflights pass authentication untouched, whichever order the CORS middleware and
//! [`JwtAuth`](crate::JwtAuth) are wrapped in, and open nothing.
//!
//! A browser sends `OPTIONS` with `Origin` and `Access-Control-Request-Method`, and never
//! credentials, before a cross-origin request that carries `Authorization`: refusing it would stop
//! the real request from ever being sent. Only that exact shape passes. It reaches the CORS layer
//! (which answers it without calling further in); if nothing answers it as a preflight, no
//! handler's body or headers get out: the client gets an empty response with the status the app
//! chose.

use actix_web::HttpRequest;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{Method, header};

/// A genuine preflight: `OPTIONS` with both `Origin` and `Access-Control-Request-Method`.
pub(crate) fn is_preflight(req: &HttpRequest) -> bool {
    req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The preflight's response as it may leave: a CORS layer's answer as is; anything else (it
/// reached the router: no CORS layer inside) emptied of body and headers.
pub(crate) fn answered<B: MessageBody + 'static>(
    response: ServiceResponse<B>,
) -> ServiceResponse<EitherBody<B>> {
    let headers = response.headers();
    let from_cors = headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        || headers.contains_key(header::ACCESS_CONTROL_ALLOW_METHODS);
    if from_cors {
        return response.map_into_left_body();
    }
    tracing::warn!(
        target: "auth",
        path = response.request().path(),
        "a CORS preflight reached the application: no CORS middleware answered it, so it gets \
         an empty response; wrap actix-cors around or inside JwtAuth"
    );
    let status = response.status();
    response.into_response(
        actix_web::HttpResponse::build(status)
            .finish()
            .map_into_right_body(),
    )
}
