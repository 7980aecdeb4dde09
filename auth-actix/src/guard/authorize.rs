//! `Authorize`: a role, scope or step-up requirement for a whole `web::scope` or resource, as
//! middleware.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, ResponseError};
use auth_core::{Identity, is_challenge_name};
use futures_util::future::{LocalBoxFuture, Ready, ready};

use crate::guard::rule::{RuleKind, admit};
use crate::guard::scope_registry;
use crate::guard::step_up::admit_step_up;
use crate::state::refusal::RouteScopes;
use crate::state::resolve::authenticate;

/// Middleware that admits only callers with the given roles or scopes (401 without a valid token,
/// 403 without the role), or with a step-up authentication ([`Authorize::acr`],
/// [`Authorize::authenticated_within`]: 401 `INSUFFICIENT_USER_AUTHENTICATION` without it), for
/// every route of the scope it wraps. A
/// [`RoleResolver`](crate::RoleResolver) sees the path parameters routing has matched so far: those
/// of the scope's own path.
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use auth_actix::Authorize;
///
/// let app = App::new()
///     .service(
///         web::scope("/admin")
///             .wrap(Authorize::any_role(["admin"]))
///             .route("/stats", web::get().to(|| async { HttpResponse::Ok() })),
///     )
///     .service(
///         // Admins of the organisation in the path, not of whichever the caller acts in.
///         web::scope("/orgs/{org}")
///             .wrap(Authorize::any_org_role(["admin"]).in_path_param("org"))
///             .route("/invoices", web::post().to(|| async { HttpResponse::Created() })),
///     );
/// ```
///
/// # Panics
/// Each constructor panics on an empty list, which would admit every caller; see also
/// [`Authorize::in_path_param`] and [`Authorize::org_member`].
#[derive(Clone, Debug)]
pub struct Authorize {
    kind: RuleKind,
    names: Arc<[Box<str>]>,
    /// The path parameter naming the organisation the request addresses.
    org_param: Option<Arc<str>>,
    /// A step-up requirement's `max_age`.
    max_age: Option<Duration>,
}

impl Authorize {
    fn new<I, S>(kind: RuleKind, names: I) -> Authorize
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let names: Arc<[Box<str>]> = names
            .into_iter()
            .map(|name| name.into().into_boxed_str())
            .collect();
        assert!(
            !names.is_empty(),
            "Authorize: give at least one name; an empty list would admit every caller"
        );
        Authorize {
            kind,
            names,
            org_param: None,
            max_age: None,
        }
    }

    fn unnamed(kind: RuleKind) -> Authorize {
        Authorize {
            kind,
            names: Arc::from([]),
            org_param: None,
            max_age: None,
        }
    }

    /// At least one of these roles.
    pub fn any_role<I: IntoIterator<Item = S>, S: Into<String>>(roles: I) -> Authorize {
        Authorize::new(RuleKind::AnyRole, roles)
    }

    /// Every one of these roles.
    pub fn all_roles<I: IntoIterator<Item = S>, S: Into<String>>(roles: I) -> Authorize {
        Authorize::new(RuleKind::AllRoles, roles)
    }

    /// At least one of these roles, granted by the caller's own active organisation
    /// ([`Identity::organization`]).
    ///
    /// **Which organisation.** As it stands, the one the caller acts in, whatever organisation the
    /// request addresses: on `web::scope("/orgs/{org}")` an admin of organisation A would pass for
    /// organisation B. On any scope that names an organisation, bind it to that path parameter
    /// with [`Authorize::in_path_param`].
    pub fn any_org_role<I: IntoIterator<Item = S>, S: Into<String>>(roles: I) -> Authorize {
        Authorize::new(RuleKind::AnyOrgRole, roles)
    }

    /// Every one of these roles, granted by the caller's own active organisation; bind it to the
    /// organisation a request addresses with [`Authorize::in_path_param`], as for
    /// [`Authorize::any_org_role`].
    pub fn all_org_roles<I: IntoIterator<Item = S>, S: Into<String>>(roles: I) -> Authorize {
        Authorize::new(RuleKind::AllOrgRoles, roles)
    }

    /// Members of the organisation a request addresses, whatever their roles there: for providers
    /// whose organisations grant no roles in tokens (Keycloak). Bind it with
    /// [`Authorize::in_path_param`]: `Authorize::org_member().in_path_param("org")`.
    ///
    /// # Panics
    /// When the app is built (the scope's service is created) if it was not bound to a path
    /// parameter: a membership of no particular organisation would admit anyone who joined one.
    pub fn org_member() -> Authorize {
        Authorize::unnamed(RuleKind::OrgMember)
    }

    /// Binds an organisation requirement to the organisation a request addresses: the path
    /// parameter `param` (decoded as `web::Path` decodes it) must equal the caller's
    /// [`Organization::id`](auth_core::Organization::id), else 403; roles are then checked there.
    /// The parameter must be one the wrapped scope's own path names (`web::scope("/orgs/{org}")`):
    /// the middleware runs before the scope's routes are matched, and a parameter not matched yet
    /// answers 500 with a log line naming the fix.
    ///
    /// # Panics
    /// For a requirement that is not about organisations ([`Authorize::any_org_role`],
    /// [`Authorize::all_org_roles`], [`Authorize::org_member`]), or an empty parameter name.
    pub fn in_path_param(mut self, param: &str) -> Authorize {
        assert!(
            self.kind.is_org(),
            "Authorize::in_path_param binds organisation requirements (any_org_role, \
             all_org_roles, org_member) to the organisation a request addresses; application \
             roles and scopes belong to no organisation"
        );
        assert!(
            !param.is_empty() && !param.contains(['{', '}']),
            "Authorize::in_path_param: give the path parameter's name without braces, e.g. \
             \"org\" for web::scope(\"/orgs/{{org}}\")"
        );
        self.org_param = Some(Arc::from(param));
        self
    }

    /// People only, no machine credentials, nor callers whose token does not say
    /// ([`IdentityKind::Unknown`](auth_core::IdentityKind::Unknown)); as
    /// [`Rule::user`](crate::Rule::user).
    pub fn user() -> Authorize {
        Authorize::unnamed(RuleKind::User)
    }

    /// Machine credentials only (not [`IdentityKind::Unknown`](auth_core::IdentityKind::Unknown)).
    pub fn service() -> Authorize {
        Authorize::unnamed(RuleKind::Service)
    }

    /// At least one of these scopes. The scopes join `scopes_supported` of the protected-resource
    /// metadata [`JwtAuth`](crate::JwtAuth) serves (RFC 9728 §2), unless
    /// [`JwtAuth::scopes_supported`](crate::JwtAuth::scopes_supported) names that list.
    ///
    /// Scope names are configuration, never request data: build scope guards at startup (a name
    /// from a request could be malformed, which panics, and each new name is kept for the life of
    /// the process; the registry stops at 1,024 names or 16 KiB).
    ///
    /// # Panics
    /// If a scope is not one the challenge's `scope` can carry, as for
    /// [`Rule::any_scope`](crate::Rule::any_scope): an RFC 6749 §3.3 scope-token of at most 256
    /// bytes without commas or equals signs.
    pub fn any_scope<I: IntoIterator<Item = S>, S: Into<String>>(scopes: I) -> Authorize {
        Authorize::new(RuleKind::AnyScope, scopes).registered("Authorize::any_scope")
    }

    /// Every one of these scopes; checked and registered as for [`Authorize::any_scope`].
    ///
    /// # Panics
    /// As [`Authorize::any_scope`].
    pub fn all_scopes<I: IntoIterator<Item = S>, S: Into<String>>(scopes: I) -> Authorize {
        Authorize::new(RuleKind::AllScopes, scopes).registered("Authorize::all_scopes")
    }

    /// Checks a scope requirement's names and records them for `scopes_supported`.
    fn registered(self, constructor: &str) -> Authorize {
        for scope in self.names() {
            assert!(
                is_challenge_name(scope),
                "{constructor}: {:?} is not a scope the challenge can carry: an RFC 6749 \
                 scope-token of at most 256 bytes without commas or equals signs (visible ASCII \
                 without spaces, quotes, backslashes, commas or equals signs), e.g. \
                 \"mcp:tools\"; scope names are configuration, never request data",
                shown(scope)
            );
        }
        scope_registry::register(self.names());
        self
    }

    /// A step-up authentication (RFC 9470), as [`Rule::acr`](crate::Rule::acr): the token's `acr`
    /// must be one of `values` (listed in this order in the challenge's `acr_values`), else 401
    /// `INSUFFICIENT_USER_AUTHENTICATION`. Add recency with [`Authorize::max_age`].
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use actix_web::{web, App, HttpResponse};
    /// use auth_actix::Authorize;
    ///
    /// let app = App::new().service(
    ///     web::scope("/payments")
    ///         .wrap(Authorize::acr(["urn:okta:loa:2fa:any"]).max_age(Duration::from_secs(300)))
    ///         .route("", web::post().to(|| async { HttpResponse::Created() })),
    /// );
    /// ```
    ///
    /// # Panics
    /// If `values` is empty, or a value is longer than 256 bytes or holds a space, a quote, a
    /// backslash, a comma, an equals sign or a character outside visible ASCII, which the
    /// challenge cannot carry.
    pub fn acr<I: IntoIterator<Item = S>, S: Into<String>>(values: I) -> Authorize {
        let authorize = Authorize::new(RuleKind::StepUp, values);
        for value in authorize.names() {
            assert!(
                is_challenge_name(value),
                "Authorize::acr: {:?} is not an acr value the challenge can carry: at most 256 \
                 bytes of visible ASCII without spaces, quotes, backslashes, commas or equals \
                 signs, e.g. \"urn:okta:loa:2fa:any\"",
                shown(value)
            );
        }
        authorize
    }

    /// A step-up authentication on recency alone, as
    /// [`Rule::authenticated_within`](crate::Rule::authenticated_within): the token's
    /// `auth_time` no older than `max_age` (whole seconds), plus the provider's leeway.
    pub fn authenticated_within(max_age: Duration) -> Authorize {
        Authorize::unnamed(RuleKind::StepUp).max_age(max_age)
    }

    /// Adds recency to a step-up requirement ([`Authorize::acr`]): the token's `auth_time` no
    /// older than `max_age` (whole seconds: the challenge's `max_age`), plus the provider's
    /// leeway.
    ///
    /// # Panics
    /// On a requirement that is not a step-up one: a role or scope requirement stacks with a
    /// separate `Authorize::acr` or `Authorize::authenticated_within`.
    pub fn max_age(mut self, max_age: Duration) -> Authorize {
        assert!(
            self.kind == RuleKind::StepUp,
            "Authorize::max_age applies to step-up requirements: Authorize::acr([..]).max_age(..), \
             or Authorize::authenticated_within(..) for recency alone; wrap a role or scope \
             requirement separately"
        );
        self.max_age = Some(max_age);
        self
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|name| &**name)
    }
}

impl<S, B> Transform<S, ServiceRequest> for Authorize
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = AuthorizeMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        assert!(
            self.kind != RuleKind::OrgMember || self.org_param.is_some(),
            "Authorize::org_member() names no organisation: bind it to the path parameter naming \
             one, e.g. Authorize::org_member().in_path_param(\"org\")"
        );
        ready(Ok(AuthorizeMiddleware {
            service: Rc::new(service),
            rule: self.clone(),
        }))
    }
}

/// The service [`Authorize`] wraps around a scope.
pub struct AuthorizeMiddleware<S> {
    service: Rc<S>,
    rule: Authorize,
}

impl<S, B> Service<ServiceRequest> for AuthorizeMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let rule = self.rule.clone();
        Box::pin(async move {
            let http = req.request();
            let verdict = authenticate(http).await.and_then(|caller| {
                if rule.kind == RuleKind::StepUp {
                    return admit_step_up(http, caller, &rule.names, rule.max_age);
                }
                let allows = |identity: &Identity| rule.kind.allows(identity, rule.names());
                let describe = |identity: &Identity| rule.kind.describe(identity, rule.names());
                // A refusal's challenge names the scopes asked for (RFC 6750 §3, RFC 9728 §5.1).
                let scopes = matches!(rule.kind, RuleKind::AnyScope | RuleKind::AllScopes)
                    .then_some(|| rule.names().collect::<Vec<_>>().join(" "));
                RouteScopes::around(http, scopes, || {
                    admit(http, caller, rule.org_param.as_deref(), allows, describe)
                })
            });
            match verdict {
                Ok(_) => service
                    .call(req)
                    .await
                    .map(ServiceResponse::map_into_left_body),
                Err(rejection) => Ok(req
                    .into_response(rejection.error_response())
                    .map_into_right_body()),
            }
        })
    }
}

/// `name` as a panic message shows it: its first 64 characters, then `…` if it goes on.
fn shown(name: &str) -> String {
    let mut chars = name.chars();
    let shown: String = chars.by_ref().take(64).collect();
    if chars.next().is_some() {
        format!("{shown}…")
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::{Authorize, shown};

    #[test]
    #[should_panic(expected = "scope-token of at most 256 bytes")]
    fn a_scope_name_over_256_bytes_panics() {
        let _ = Authorize::any_scope(["a".repeat(257)]);
    }

    #[test]
    #[should_panic(expected = "at most 256")]
    fn an_acr_value_over_256_bytes_panics() {
        let _ = Authorize::acr(["a".repeat(257)]);
    }

    #[test]
    fn names_of_256_bytes_are_accepted_and_panic_messages_shorten_names() {
        let _ = Authorize::acr(["a".repeat(256)]);
        assert_eq!(shown(&"é".repeat(65)), format!("{}…", "é".repeat(64)));
        assert_eq!(shown("read"), "read");
    }
}
