//! `Optional<T>`: a caller who may be anonymous.

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use crate::extract::verified::Verified;
use crate::extract::{Extract, Extraction, extract};
use crate::response::rejection::AuthRejection;

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
