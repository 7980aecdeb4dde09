//! The `Claims<T>` extractor: the verified payload as the application's own type.

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use auth_core::StandardClaims;
use serde::de::DeserializeOwned;

use crate::identity::{Extraction, extract, required};
use crate::rejection::AuthRejection;
use crate::request_auth::{self, Authenticated};

/// The verified payload deserialised into `T`; rejects with 401 when there is no valid token.
///
/// Dereferences to `T`, so `claims.sub` reads [`StandardClaims::sub`] or a field of the application's
/// struct. A payload that does not fit `T` is refused as `INVALID_TOKEN`.
pub struct Claims<T = StandardClaims> {
    claims: T,
    authenticated: Authenticated,
}

impl<T> Claims<T> {
    /// The caller's identity, resolver roles included.
    pub fn identity(&self) -> &auth_core::Identity {
        self.authenticated.identity()
    }

    /// The typed payload.
    pub fn into_inner(self) -> T {
        self.claims
    }
}

impl<T> Deref for Claims<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.claims
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Claims<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claims").field("claims", &self.claims).field("identity", self.identity()).finish()
    }
}

pub(crate) fn typed<T: DeserializeOwned>(
    req: &HttpRequest,
    authenticated: Authenticated,
) -> Result<Claims<T>, AuthRejection> {
    match authenticated.token.deserialize::<T>() {
        Ok(claims) => Ok(Claims { claims, authenticated }),
        Err(error) => Err(request_auth::reject_verified(req, error)),
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Claims<T> {
    type Error = AuthRejection;
    type Future = Extraction<Claims<T>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, |req, authenticated| typed(req, required(req, authenticated)?))
    }
}
