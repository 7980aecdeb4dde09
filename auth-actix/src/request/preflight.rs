//! What a CORS preflight looks like. Preflights never reach the application: a CORS layer answers
//! them, or [`JwtAuth`](crate::JwtAuth) does.
//!
//! A browser sends `OPTIONS` with `Origin` and `Access-Control-Request-Method`, and never
//! credentials, before a cross-origin request that carries `Authorization`: refusing it would stop
//! the real request from ever being sent. Passing it on unauthenticated would let anyone run a
//! handler registered for every method (`web::resource(..).to(..)`) by sending that shape with a
//! body of their choosing. So whatever reaches `JwtAuth` in that shape, on a path it protects or
//! welcomes anonymous callers on, is answered by its middleware: an empty `204`. With
//! [`JwtAuth::cors`](crate::JwtAuth::cors) the CORS layer sits outside authentication and answers
//! first, with its headers; a CORS layer wrapped outside `JwtAuth` does the same. Only a CORS
//! layer wrapped inside `JwtAuth` (which never sees the preflight now) or none at all leaves the
//! answer to the middleware, and the browser then refuses the cross-origin request, as it would
//! with no CORS at all; the log says how to fix it.

use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::HttpRequest;
use actix_web::http::{Method, header};

/// A genuine preflight: `OPTIONS` with `Origin` and an `Access-Control-Request-Method` that names
/// a method (what actix-cors takes for one, so a CORS layer and this check agree).
pub(crate) fn is_preflight(req: &HttpRequest) -> bool {
    req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|method| Method::from_bytes(method.as_bytes()).is_ok())
}

/// Whether a `JwtAuth` has warned about an unanswered preflight yet: once per configuration, so a
/// misconfigured app says so without filling its log.
#[derive(Debug, Default)]
pub(crate) struct PreflightWarning(AtomicBool);

impl PreflightWarning {
    /// True the first time only.
    pub(crate) fn first(&self) -> bool {
        !self.0.swap(true, Ordering::Relaxed)
    }
}

impl Clone for PreflightWarning {
    /// A changed configuration is another `JwtAuth`: it warns for itself.
    fn clone(&self) -> PreflightWarning {
        PreflightWarning::default()
    }
}

/// Builds the application's CORS layer, once per worker (actix-cors's `Cors` is not `Send`).
#[cfg(feature = "cors")]
pub(crate) type CorsFactory = std::sync::Arc<dyn Fn() -> actix_cors::Cors + Send + Sync>;
