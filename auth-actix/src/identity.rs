//! The `Identity` extractor: who the verified caller is, with resolver roles merged in.

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{Either, LocalBoxFuture, Ready, ready};
use serde::{Serialize, Serializer};

use crate::rejection::AuthRejection;
use crate::request_auth::{self, Authenticated};

/// The verified caller, provider-normalised; rejects with 401 when there is no valid token.
///
/// Dereferences to [`auth_core::Identity`] (`subject`, `issuer`, `email`, `roles`, `scopes`, `kind`)
/// and serialises as it, so `web::Json(identity)` answers `/me`. Extraction copies nothing: it shares
/// what the middleware verified.
#[derive(Clone)]
pub struct Identity(pub(crate) Authenticated);

impl Identity {
    /// The verified token behind the identity (payload, algorithm, `kid`).
    pub fn token(&self) -> &auth_core::VerifiedToken {
        &self.0.token
    }

    /// An owned copy of the identity.
    pub fn to_core(&self) -> auth_core::Identity {
        self.0.identity().clone()
    }
}

impl Deref for Identity {
    type Target = auth_core::Identity;

    fn deref(&self) -> &auth_core::Identity {
        self.0.identity()
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.identity().fmt(f)
    }
}

impl Serialize for Identity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.identity().serialize(serializer)
    }
}

pub(crate) type Extraction<T> =
    Either<Ready<Result<T, AuthRejection>>, LocalBoxFuture<'static, Result<T, AuthRejection>>>;

/// Runs `convert` on the authenticated caller, synchronously when the middleware settled everything.
pub(crate) fn extract<T: 'static>(
    req: &HttpRequest,
    convert: fn(&HttpRequest, Option<Authenticated>) -> Result<T, AuthRejection>,
) -> Extraction<T> {
    if let Some(settled) = request_auth::settled(req) {
        return Either::Left(ready(convert(req, settled)));
    }
    let req = req.clone();
    Either::Right(Box::pin(async move {
        let authenticated = request_auth::authenticate(&req).await?;
        convert(&req, authenticated)
    }))
}

/// Anonymous callers are refused with 401.
pub(crate) fn required(
    req: &HttpRequest,
    authenticated: Option<Authenticated>,
) -> Result<Authenticated, AuthRejection> {
    authenticated.ok_or_else(|| request_auth::missing_token(req))
}

impl FromRequest for Identity {
    type Error = AuthRejection;
    type Future = Extraction<Identity>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, |req, authenticated| required(req, authenticated).map(Identity))
    }
}
