//! `Optional<T>`: anonymous is fine, a bad token is still refused, with or without the middleware.

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::claims::{Claims, typed};
use crate::identity::{Extraction, Identity, extract};
use crate::rejection::AuthRejection;

/// `Some` for a verified caller, `None` for an anonymous one; an invalid token is refused (401).
///
/// Behind the [`JwtAuth`](crate::JwtAuth) middleware, plain `Option<Identity>` and
/// `Option<Claims<T>>` mean the same, because the middleware refuses bad tokens before the handler. When
/// verifying on demand (no middleware), actix's own `Option<T>` turns every extraction error into `None`,
/// so a forged token would look anonymous; `Optional<T>` keeps refusing it.
#[derive(Debug)]
pub struct Optional<T>(pub Option<T>);

impl<T> Optional<T> {
    /// The inner option.
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

impl<T> Deref for Optional<T> {
    type Target = Option<T>;

    fn deref(&self) -> &Option<T> {
        &self.0
    }
}

impl FromRequest for Optional<Identity> {
    type Error = AuthRejection;
    type Future = Extraction<Optional<Identity>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, |_, authenticated| Ok(Optional(authenticated.map(Identity))))
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Optional<Claims<T>> {
    type Error = AuthRejection;
    type Future = Extraction<Optional<Claims<T>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, |req, authenticated| {
            authenticated.map(|authenticated| typed(req, authenticated)).transpose().map(Optional)
        })
    }
}
