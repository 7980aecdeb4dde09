//! `Require<R>`: the extractor that admits only callers satisfying `R`'s rule.

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use auth_core::Identity;

use crate::extract::{Extraction, extract};
use crate::guard::rule::NamedRule;
use crate::response::rejection::AuthRejection;

/// An extractor that admits only callers satisfying `R`'s rule: 401 without a valid token, 403
/// without the role or scope. Dereferences to the caller's [`Identity`].
///
/// ```
/// use actix_web::{test, web, App};
/// use auth_actix::testing::{TestIssuer, TestRequestExt};
/// use auth_actix::{JwtAuth, Require, NamedRule, Rule};
///
/// struct Editors;
/// impl NamedRule for Editors {
///     const RULE: Rule = Rule::all_roles(&["editor", "verified"]);
/// }
///
/// async fn edit(caller: Require<Editors>) -> String {
///     format!("{} may edit", caller.subject)
/// }
///
/// # #[actix_web::main] async fn main() {
/// let issuer = TestIssuer::start().await;
/// let app = test::init_service(
///     App::new()
///         .wrap(JwtAuth::new(issuer.provider()).unwrap())
///         .route("/edit", web::post().to(edit)),
/// )
/// .await;
/// let call = |token: &str| test::TestRequest::post().uri("/edit").bearer(token).to_request();
/// let editor = issuer.token().subject("ada").roles(["editor", "verified"]).sign();
/// assert_eq!(test::call_and_read_body(&app, call(&editor)).await, "ada may edit");
/// let half = issuer.token().roles(["editor"]).sign();
/// assert_eq!(test::call_service(&app, call(&half)).await.status(), 403);
/// # }
/// ```
pub struct Require<R: NamedRule> {
    identity: Arc<Identity>,
    _rule: PhantomData<fn() -> R>,
}

impl<R: NamedRule> Require<R> {
    /// The admitted caller.
    pub fn into_identity(self) -> Identity {
        Arc::unwrap_or_clone(self.identity)
    }
}

impl<R: NamedRule> Deref for Require<R> {
    type Target = Identity;

    fn deref(&self) -> &Identity {
        &self.identity
    }
}

impl<R: NamedRule> std::fmt::Debug for Require<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Require")
            .field("rule", &R::RULE)
            .field("identity", &self.identity)
            .finish()
    }
}

impl<R: NamedRule> FromRequest for Require<R> {
    type Error = AuthRejection;
    type Future = Extraction<Require<R>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        const {
            assert!(
                R::RULE.is_complete(),
                "Rule::org_member() names no organisation: bind it to the path parameter naming \
                 one, e.g. Rule::org_member().in_path_param(\"org\")"
            );
        }
        extract(req, |req, caller| {
            let identity = R::RULE.admit(req, caller)?;
            Ok(Require {
                identity,
                _rule: PhantomData,
            })
        })
    }
}
