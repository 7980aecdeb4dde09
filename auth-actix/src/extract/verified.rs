//! `Verified<T>`: the caller a route requires.

use std::ops::Deref;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use auth_core::{Claims, Identity, VerifiedToken};
use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};

use crate::extract::{Extract, Extraction, extract};
use crate::response::rejection::AuthRejection;
use crate::state::Authenticated;
use crate::state::refusal::{refuse_anonymous, refuse_request};

/// A verified caller, as `T`: [`Identity`] (who, with roles a resolver added) or [`Claims<C>`] (the
/// payload as the application's type `C`, plus the identity). Refuses with 401 when there is no
/// valid token; dereferences to `T`.
///
/// Behind the [`JwtAuth`](crate::JwtAuth) middleware it reads what the middleware verified, copying
/// nothing; without it (the `JwtAuth` registered as app data) it verifies on demand, once per
/// request however many extractors ask.
///
/// ```
/// use actix_web::{test, web, App};
/// use auth_actix::testing::{TestIssuer, TestRequestExt};
/// use auth_actix::{Claims, Identity, JwtAuth, Verified};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct MyClaims {
///     sub: String,
///     tenant: String,
/// }
///
/// async fn me(id: Verified<Identity>) -> web::Json<Identity> {
///     web::Json(id.into_inner())
/// }
///
/// async fn tenant(claims: Verified<Claims<MyClaims>>) -> String {
///     format!("{} of {}", claims.sub, claims.tenant)
/// }
///
/// # #[actix_web::main] async fn main() {
/// let issuer = TestIssuer::start().await;
/// let app = test::init_service(
///     App::new()
///         .wrap(JwtAuth::new(issuer.provider()).unwrap())
///         .route("/me", web::get().to(me))
///         .route("/tenant", web::get().to(tenant)),
/// )
/// .await;
/// let token = issuer.token().subject("ada").claim("tenant", "acme").sign();
/// let req = test::TestRequest::get().uri("/tenant").bearer(&token).to_request();
/// assert_eq!(test::call_and_read_body(&app, req).await, "ada of acme");
/// # }
/// ```
pub struct Verified<T: Extract> {
    held: T::Held,
    token: Arc<VerifiedToken>,
}

impl<T: Extract> Verified<T> {
    pub(crate) fn from_caller(
        req: &HttpRequest,
        caller: Option<Authenticated>,
    ) -> Result<Verified<T>, AuthRejection> {
        let Some(caller) = caller else {
            return Err(refuse_anonymous(req));
        };
        match T::hold(&caller.token, &caller.identity) {
            Ok(held) => Ok(Verified {
                held,
                token: caller.token,
            }),
            Err(error) => Err(refuse_request(req, error, Some(caller))),
        }
    }

    /// The verified token behind the caller: payload, algorithm, `kid`.
    pub fn token(&self) -> &VerifiedToken {
        &self.token
    }
}

impl Verified<Identity> {
    /// The identity, owned (copied only if another extractor of the request still shares it).
    pub fn into_inner(self) -> Identity {
        Arc::unwrap_or_clone(self.held)
    }
}

impl<C: DeserializeOwned> Verified<Claims<C>> {
    /// The claims.
    pub fn into_inner(self) -> Claims<C> {
        self.held
    }
}

impl<T: Extract> Deref for Verified<T> {
    type Target = T;

    fn deref(&self) -> &T {
        T::view(&self.held)
    }
}

impl<T: Extract + std::fmt::Debug> std::fmt::Debug for Verified<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Verified").field(&**self).finish()
    }
}

impl<T: Extract + Serialize> Serialize for Verified<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<T: Extract + 'static> FromRequest for Verified<T> {
    type Error = AuthRejection;
    type Future = Extraction<Verified<T>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, Verified::from_caller)
    }
}
