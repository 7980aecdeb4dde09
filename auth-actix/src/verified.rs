//! The extractors: `Verified<T>` for a caller a route requires, `Optional<T>` where anonymous
//! callers are welcome. `T` is [`Identity`] or [`Claims<C>`], the same types `auth-core` returns.

use std::ops::Deref;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use auth_core::{AuthError, Claims, Identity, VerifiedToken};
use futures_util::future::{Either, LocalBoxFuture, Ready, ready};
use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};

use crate::rejection::AuthRejection;
use crate::request_state::{self, Authenticated, Step};

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

/// What [`Verified`] and [`Optional`] can extract: [`Identity`] and [`Claims<C>`]. Sealed.
pub trait Extract: Sized + sealed::Sealed {
    #[doc(hidden)]
    type Held;
    #[doc(hidden)]
    fn hold(token: &VerifiedToken, identity: &Arc<Identity>) -> Result<Self::Held, AuthError>;
    #[doc(hidden)]
    fn view(held: &Self::Held) -> &Self;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for auth_core::Identity {}
    impl<C> Sealed for auth_core::Claims<C> {}
}

impl Extract for Identity {
    type Held = Arc<Identity>;

    fn hold(_: &VerifiedToken, identity: &Arc<Identity>) -> Result<Arc<Identity>, AuthError> {
        Ok(Arc::clone(identity))
    }

    fn view(held: &Arc<Identity>) -> &Identity {
        held
    }
}

impl<C: DeserializeOwned> Extract for Claims<C> {
    type Held = Claims<C>;

    fn hold(token: &VerifiedToken, identity: &Arc<Identity>) -> Result<Claims<C>, AuthError> {
        let claims = token.deserialize::<C>()?;
        Ok(Claims::new(claims, Arc::clone(identity)))
    }

    fn view(held: &Claims<C>) -> &Claims<C> {
        held
    }
}

impl<T: Extract> Verified<T> {
    fn from_caller(
        req: &HttpRequest,
        caller: Option<Authenticated>,
    ) -> Result<Verified<T>, AuthRejection> {
        let Some(caller) = caller else {
            return Err(request_state::refuse_anonymous(req));
        };
        match T::hold(&caller.token, &caller.identity) {
            Ok(held) => Ok(Verified {
                held,
                token: caller.token,
            }),
            Err(error) => Err(request_state::refuse(req, error, Some(caller.identity))),
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

/// The future of an extraction: ready at once when the middleware settled everything, else boxed.
pub(crate) type Extraction<T> =
    Either<Ready<Result<T, AuthRejection>>, LocalBoxFuture<'static, Result<T, AuthRejection>>>;

/// Runs `convert` on the request's caller (`None` when anonymous), synchronously when nothing is
/// left to verify or resolve.
pub(crate) fn extract<T: 'static>(
    req: &HttpRequest,
    convert: fn(&HttpRequest, Option<Authenticated>) -> Result<T, AuthRejection>,
) -> Extraction<T> {
    if let Step::Ready(outcome) = request_state::step(req) {
        return Either::Left(ready(outcome.and_then(|caller| convert(req, caller))));
    }
    let req = req.clone();
    Either::Right(Box::pin(async move {
        let caller = request_state::authenticate(&req).await?;
        convert(&req, caller)
    }))
}

impl<T: Extract + 'static> FromRequest for Verified<T> {
    type Error = AuthRejection;
    type Future = Extraction<Verified<T>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, Verified::from_caller)
    }
}

/// A caller who may be anonymous: `Some` for a verified caller, `None` when no token was sent; a
/// token that is sent but invalid is refused (401), with or without the middleware. Dereferences to
/// `Option<Verified<T>>`.
///
/// Take it on the paths given to [`JwtAuth::public`](crate::JwtAuth::public). Prefer it to actix's
/// own `Option<Verified<T>>`, which turns every refusal into `None`: behind the middleware that is
/// harmless (bad tokens are refused before the handler), but when verifying on demand a forged
/// token would look anonymous.
///
/// ```
/// use actix_web::{test, web, App};
/// use auth_actix::testing::{TestIssuer, TestRequestExt};
/// use auth_actix::{Identity, JwtAuth, Optional};
///
/// async fn greet(caller: Optional<Identity>) -> String {
///     match &*caller {
///         Some(id) => format!("hello {}", id.subject),
///         None => "hello stranger".to_owned(),
///     }
/// }
///
/// # #[actix_web::main] async fn main() {
/// let issuer = TestIssuer::start().await;
/// // No middleware: the extractor verifies on demand with the JwtAuth in app data.
/// let app = test::init_service(
///     App::new()
///         .app_data(JwtAuth::new(issuer.provider()).unwrap())
///         .route("/", web::get().to(greet)),
/// )
/// .await;
/// let anonymous = test::TestRequest::get().uri("/").to_request();
/// assert_eq!(test::call_and_read_body(&app, anonymous).await, "hello stranger");
/// let expired_token = issuer.token().expired().sign();
/// let expired = test::TestRequest::get().uri("/").bearer(&expired_token).to_request();
/// assert_eq!(test::call_service(&app, expired).await.status(), 401);
/// # }
/// ```
pub struct Optional<T: Extract>(pub Option<Verified<T>>);

impl<T: Extract> Optional<T> {
    /// The inner option.
    pub fn into_inner(self) -> Option<Verified<T>> {
        self.0
    }
}

impl<T: Extract> Deref for Optional<T> {
    type Target = Option<Verified<T>>;

    fn deref(&self) -> &Option<Verified<T>> {
        &self.0
    }
}

impl<T: Extract + std::fmt::Debug> std::fmt::Debug for Optional<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Optional").field(&self.0).finish()
    }
}

impl<T: Extract + 'static> FromRequest for Optional<T> {
    type Error = AuthRejection;
    type Future = Extraction<Optional<T>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, |req, caller| match caller {
            None => Ok(Optional(None)),
            caller => Verified::from_caller(req, caller).map(|verified| Optional(Some(verified))),
        })
    }
}
