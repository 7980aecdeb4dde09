//! The extractors: [`Verified<T>`](crate::Verified) for a caller a route requires,
//! [`Optional<T>`](crate::Optional) where anonymous callers are welcome, and
//! [`Require<R>`](crate::Require) for a caller satisfying a rule. `T` is [`Identity`] or
//! [`Claims<C>`], the same types `auth-core` returns ([`Extract`]). Each reads the request's state
//! synchronously when the middleware settled it, and otherwise verifies on demand, once per request
//! however many extractors ask.

use std::sync::Arc;

use actix_web::HttpRequest;
use auth_core::{AuthError, Claims, Identity, VerifiedToken};
use futures_util::future::{Either, LocalBoxFuture, Ready, ready};
use serde::de::DeserializeOwned;

use crate::response::rejection::AuthRejection;
use crate::state::resolve::authenticate;
use crate::state::{Authenticated, Step, step};

pub(crate) mod optional;
pub(crate) mod require;
pub(crate) mod verified;

/// What [`Verified`](crate::Verified) and [`Optional`](crate::Optional) can extract: [`Identity`]
/// and [`Claims<C>`]. Sealed.
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

/// The future of an extraction: ready at once when the middleware settled everything, else boxed.
pub(crate) type Extraction<T> =
    Either<Ready<Result<T, AuthRejection>>, LocalBoxFuture<'static, Result<T, AuthRejection>>>;

/// Runs `convert` on the request's caller (`None` when anonymous), synchronously when nothing is
/// left to verify or resolve.
pub(crate) fn extract<T: 'static>(
    req: &HttpRequest,
    convert: fn(&HttpRequest, Option<Authenticated>) -> Result<T, AuthRejection>,
) -> Extraction<T> {
    if let Step::Ready(outcome) = step(req) {
        return Either::Left(ready(outcome.and_then(|caller| convert(req, caller))));
    }
    let req = req.clone();
    Either::Right(Box::pin(async move {
        let caller = authenticate(&req).await?;
        convert(&req, caller)
    }))
}
