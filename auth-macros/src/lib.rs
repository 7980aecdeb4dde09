//! Attribute and derive macros for `auth-actix`; use them through `auth_actix`, which re-exports
//! them.
//!
//! `#[require_role(...)]` and `#[require_scope(...)]` add one typed guard argument to an async
//! handler, leaving its name, body, attributes and return type as written. The guard's
//! `FromRequest` runs before the body: 401 without a valid token, 403 without the role or scope.
//! `#[derive(Role)]` turns an enum into role names, so `#[require_role(Role::Admin)]` is checked by
//! the compiler.

mod acr_args;
mod derive_role;
mod guard;
mod rule_args;

use proc_macro::TokenStream;

/// Admits only callers holding a role: 401 without a valid token, 403 without the role.
///
/// Forms: `#[require_role("admin")]`, `#[require_role(any("owner", "admin"))]`,
/// `#[require_role(all("editor", "verified"))]`, and enum variants from `#[derive(Role)]` in place
/// of any string: `#[require_role(Role::Admin)]`, `#[require_role(any(Role::Owner, "admin"))]`.
///
/// Place it above or below actix's route attribute; the handler keeps its name, body, attributes
/// and return type, and gains one guard argument checked before the body runs. The role list is a
/// `'static` slice built at compile time: checking it allocates nothing.
///
/// ```
/// use actix_web::{get, test, web, App, HttpResponse, Responder};
/// use auth_actix::testing::{TestIssuer, TestRequestExt};
/// use auth_actix::{require_role, Claims, JwtAuth, Role, Verified};
///
/// #[derive(Role)]
/// enum AppRole {
///     Owner,
///     #[role("admin")]
///     Administrator,
/// }
///
/// #[get("/admin")]
/// #[require_role("admin")]
/// async fn admin(claims: Verified<Claims>) -> impl Responder {
///     format!("hello {}", claims.sub)
/// }
///
/// #[require_role(any(AppRole::Owner, AppRole::Administrator))]
/// #[get("/settings")]
/// async fn settings() -> HttpResponse {
///     HttpResponse::Ok().finish()
/// }
///
/// struct Agents;
/// impl Agents {
///     #[require_role(all("admin", "auditor"))]
///     async fn audit() -> &'static str {
///         "audit log"
///     }
/// }
///
/// # #[actix_web::main] async fn main() {
/// let issuer = TestIssuer::start().await;
/// let app = test::init_service(
///     App::new()
///         .wrap(JwtAuth::new(issuer.provider()).unwrap())
///         .service(admin)
///         .service(settings)
///         .service(web::resource("/audit").to(Agents::audit)),
/// )
/// .await;
/// let admin_token = issuer.token().subject("ada").roles(["admin"]).sign();
/// let viewer_token = issuer.token().roles(["viewer"]).sign();
/// let call = |uri: &str, token: &str| {
///     test::TestRequest::get().uri(uri).bearer(token).to_request()
/// };
/// assert_eq!(test::call_service(&app, call("/admin", &admin_token)).await.status(), 200);
/// assert_eq!(test::call_service(&app, call("/settings", &admin_token)).await.status(), 200);
/// assert_eq!(test::call_service(&app, call("/admin", &viewer_token)).await.status(), 403);
/// assert_eq!(test::call_service(&app, call("/audit", &admin_token)).await.status(), 403);
/// let anonymous = test::TestRequest::get().uri("/admin").to_request();
/// assert_eq!(test::call_service(&app, anonymous).await.status(), 401);
/// # }
/// ```
#[proc_macro_attribute]
pub fn require_role(args: TokenStream, item: TokenStream) -> TokenStream {
    guard::expand(guard::Kind::Role, args.into(), item.into()).into()
}

/// Admits only callers whose token grants a scope: 401 without a valid token, 403 without the
/// scope.
///
/// Forms as for [`macro@require_role`]: `#[require_scope("read:items")]`,
/// `#[require_scope(any("read:items", "admin:items"))]`, `#[require_scope(all(...))]`. Scopes come
/// from the provider's scope claims (`scope`, `scp`, `permissions`, ...).
///
/// ```
/// use actix_web::{get, test, App, Responder};
/// use auth_actix::testing::{TestIssuer, TestRequestExt};
/// use auth_actix::{require_scope, Identity, JwtAuth, Verified};
///
/// #[get("/items")]
/// #[require_scope("read:items")]
/// async fn items(caller: Verified<Identity>) -> impl Responder {
///     format!("items for {}", caller.subject)
/// }
///
/// # #[actix_web::main] async fn main() {
/// let issuer = TestIssuer::start().await;
/// let auth = JwtAuth::new(issuer.provider()).unwrap();
/// let app = test::init_service(App::new().wrap(auth).service(items)).await;
/// let reader = issuer.token().scopes(["openid", "read:items"]).sign();
/// let req = test::TestRequest::get().uri("/items").bearer(&reader).to_request();
/// assert_eq!(test::call_service(&app, req).await.status(), 200);
/// let other = issuer.token().scopes(["openid"]).sign();
/// let req = test::TestRequest::get().uri("/items").bearer(&other).to_request();
/// assert_eq!(test::call_service(&app, req).await.status(), 403);
/// # }
/// ```
#[proc_macro_attribute]
pub fn require_scope(args: TokenStream, item: TokenStream) -> TokenStream {
    guard::expand(guard::Kind::Scope, args.into(), item.into()).into()
}

/// Admits only callers whose organisation granted them a role: 401 without a valid token, 403
/// without it. Organisation roles (Clerk's `org:admin`, a Zitadel customer organisation's grants,
/// an Entra customer tenant's assignments, an Auth0 organisation member's roles) are kept apart
/// from application roles, since an organisation's own administrators hand them out; see
/// `auth_actix::Organization`.
///
/// Forms as for [`macro@require_role`]: `#[require_org_role("org:admin")]`,
/// `#[require_org_role(any("org:admin", "org:billing"))]`, `#[require_org_role(all(...))]`, each
/// optionally with `org = "<path parameter>"`.
///
/// **Which organisation it checks.**
/// - With `org = "org"`: the organisation the request addresses. The path parameter `org`
///   (decoded as `web::Path` decodes it) must be the caller's own organisation's ID, else 403,
///   and the role must be one that organisation granted. `#[require_org_role("admin", org =
///   "org")]` on `POST /orgs/{org}/invoices` admits organisation A's admin to A's invoices only.
/// - Without it: the caller's own active organisation, **whatever the request addresses**. On a
///   route that names an organisation (`/orgs/{org}/...`), organisation A's admin would pass for
///   organisation B. Use the bound form on every route that names an organisation; the unbound
///   one fits routes about the caller's own organisation (`/my-organisation/settings`).
///
/// A route whose path lacks the parameter answers 500 with a log line naming the fix. For
/// organisations that grant no roles (Keycloak's) see [`macro@require_org_member`].
///
/// ```
/// use actix_web::{post, test, App, HttpResponse};
/// use auth_actix::testing::{TestIssuer, TestRequestExt};
/// use auth_actix::{require_org_role, JwtAuth, Provider};
///
/// #[post("/orgs/{org}/invoices")]
/// #[require_org_role("org:admin", org = "org")]
/// async fn create_invoice() -> HttpResponse {
///     HttpResponse::Created().finish()
/// }
///
/// # #[actix_web::main] async fn main() {
/// let issuer = TestIssuer::start().await;
/// let clerk = Provider::clerk("https://clerk.example.com", ["https://app.example.com"]);
/// let clerk = issuer.adopt(clerk);
/// let app = App::new().wrap(JwtAuth::new(clerk.clone()).unwrap()).service(create_invoice);
/// let app = test::init_service(app).await;
/// let admin_of_a = issuer.token_for(&clerk).organization("org_a", ["org:admin"]).sign();
/// let call = |uri: &str| test::TestRequest::post().uri(uri).bearer(&admin_of_a).to_request();
/// assert_eq!(test::call_service(&app, call("/orgs/org_a/invoices")).await.status(), 201);
/// assert_eq!(test::call_service(&app, call("/orgs/org_b/invoices")).await.status(), 403);
/// # }
/// ```
///
/// The unbound form, for what concerns the caller's own organisation:
///
/// ```
/// use actix_web::{get, test, App, HttpResponse};
/// use auth_actix::testing::{TestIssuer, TestRequestExt};
/// use auth_actix::{require_org_role, require_role, JwtAuth, Provider};
///
/// #[get("/org/settings")]
/// #[require_org_role("org:admin")]
/// async fn org_settings() -> HttpResponse {
///     HttpResponse::Ok().finish()
/// }
///
/// #[get("/admin")]
/// #[require_role("org:admin")]
/// async fn app_admin() -> HttpResponse {
///     HttpResponse::Ok().finish()
/// }
///
/// # #[actix_web::main] async fn main() {
/// let issuer = TestIssuer::start().await;
/// let clerk = Provider::clerk("https://clerk.example.com", ["https://app.example.com"]);
/// let clerk = issuer.adopt(clerk);
/// let auth = JwtAuth::new(clerk.clone()).unwrap();
/// let app = App::new().wrap(auth).service(org_settings).service(app_admin);
/// let app = test::init_service(app).await;
/// // Whoever creates a Clerk organisation is its admin...
/// let token = issuer.token_for(&clerk).organization("org_1", ["org:admin"]).sign();
/// let call = |uri: &str| test::TestRequest::get().uri(uri).bearer(&token).to_request();
/// assert_eq!(test::call_service(&app, call("/org/settings")).await.status(), 200);
/// // ...and no more an admin of the application than before.
/// assert_eq!(test::call_service(&app, call("/admin")).await.status(), 403);
/// # }
/// ```
#[proc_macro_attribute]
pub fn require_org_role(args: TokenStream, item: TokenStream) -> TokenStream {
    guard::expand(guard::Kind::OrgRole, args.into(), item.into()).into()
}

/// Admits only members of the organisation a request addresses: 401 without a valid token, 403
/// when the path parameter named by `org` is not the caller's own organisation's ID
/// (`auth_actix::Organization::id`). For providers whose organisations grant no roles in tokens
/// (Keycloak); where they do, [`macro@require_org_role`] with `org` checks a role there too.
///
/// The one form: `#[require_org_member(org = "org")]`, naming the path parameter (decoded as
/// `web::Path` decodes it). A route whose path lacks it answers 500 with a log line naming the fix.
///
/// ```
/// use actix_web::{get, test, App, HttpResponse};
/// use auth_actix::testing::{TestIssuer, TestRequestExt};
/// use auth_actix::{require_org_member, JwtAuth, Provider};
///
/// #[get("/orgs/{org}/projects")]
/// #[require_org_member(org = "org")]
/// async fn projects() -> HttpResponse {
///     HttpResponse::Ok().finish()
/// }
///
/// # #[actix_web::main] async fn main() {
/// let issuer = TestIssuer::start().await;
/// let keycloak = Provider::keycloak("https://sso.example.com", "demo", "projects-api");
/// let keycloak = issuer.adopt(keycloak);
/// let app = App::new().wrap(JwtAuth::new(keycloak.clone()).unwrap()).service(projects);
/// let app = test::init_service(app).await;
/// let member = issuer.token_for(&keycloak).organization("acme", Vec::<String>::new()).sign();
/// let call = |uri: &str| test::TestRequest::get().uri(uri).bearer(&member).to_request();
/// assert_eq!(test::call_service(&app, call("/orgs/acme/projects")).await.status(), 200);
/// assert_eq!(test::call_service(&app, call("/orgs/globex/projects")).await.status(), 403);
/// # }
/// ```
#[proc_macro_attribute]
pub fn require_org_member(args: TokenStream, item: TokenStream) -> TokenStream {
    guard::expand(guard::Kind::OrgMember, args.into(), item.into()).into()
}

/// Admits only people: 401 without a valid token, 403 for a machine credential (a service token,
/// a client-credentials or app-only token; see `auth_actix::IdentityKind`), and 403 for a caller
/// whose token does not say (`IdentityKind::Unknown`: a Zitadel token shaped like a person's while
/// `Provider::zitadel_user_clients` is not set; the log names that setting). Takes no arguments.
///
/// ```
/// use actix_web::{post, HttpResponse};
/// use auth_actix::require_user;
///
/// #[post("/profile/password")]
/// #[require_user]
/// async fn change_password() -> HttpResponse {
///     HttpResponse::NoContent().finish()
/// }
/// ```
#[proc_macro_attribute]
pub fn require_user(args: TokenStream, item: TokenStream) -> TokenStream {
    guard::expand(guard::Kind::User, args.into(), item.into()).into()
}

/// Admits only machine credentials (service tokens, client-credentials and app-only tokens): 401
/// without a valid token, 403 for a person or a caller whose token does not say
/// (`IdentityKind::Unknown`, as for `require_user`). Takes no arguments.
///
/// ```
/// use actix_web::{post, HttpResponse};
/// use auth_actix::require_service;
///
/// #[post("/jobs/nightly")]
/// #[require_service]
/// async fn nightly() -> HttpResponse {
///     HttpResponse::Accepted().finish()
/// }
/// ```
#[proc_macro_attribute]
pub fn require_service(args: TokenStream, item: TokenStream) -> TokenStream {
    guard::expand(guard::Kind::Service, args.into(), item.into()).into()
}

/// Makes a fieldless enum a set of role names: `#[role("name")]` per variant, or by default the
/// variant name in snake_case. `#[require_role(Role::Admin)]` then names roles the compiler checks.
///
/// `name()` and `NAMES` need no import; the [`RoleEnum`](../auth_actix/trait.RoleEnum.html) trait
/// they also implement is for code generic over role enums.
///
/// ```
/// #[derive(auth_actix::Role)]
/// enum Role {
///     #[role("admin")]
///     Admin,
///     BillingViewer,
/// }
///
/// assert_eq!(Role::Admin.name(), "admin");
/// assert_eq!(Role::BillingViewer.name(), "billing_viewer");
/// assert_eq!(Role::NAMES, ["admin", "billing_viewer"]);
/// ```
/// Admits only callers whose sign-in was strong or recent enough (step-up authentication, RFC
/// 9470): 401 without a valid token, and 401 `INSUFFICIENT_USER_AUTHENTICATION` with the challenge
/// `Bearer error="insufficient_user_authentication", ..., acr_values="a b", max_age="300"` when the
/// token's `acr` is not one listed, or its `auth_time` is older than `max_age` seconds (plus the
/// provider's leeway), in the future, or missing.
///
/// Forms: `#[require_acr("urn:okta:loa:2fa:any")]`, `#[require_acr(any("a", "b"))]` (any of them,
/// listed in this order in the challenge), `#[require_acr("a", max_age = 300)]`, and
/// `#[require_acr(max_age = 300)]` for recency alone. Stack it with `#[require_scope]` or
/// `#[require_role]` for a route that needs both: each guard is one requirement. What providers
/// put in `acr` differs (Okta's `urn:okta:loa:…`, Keycloak's levels; Cognito, Auth0 access tokens
/// and Entra carry none): see `docs/step-up.md`.
///
/// ```
/// use actix_web::{post, test, App, HttpResponse};
/// use auth_actix::testing::{TestIssuer, TestRequestExt};
/// use auth_actix::{require_acr, JwtAuth};
///
/// #[post("/payments")]
/// #[require_acr("urn:okta:loa:2fa:any", max_age = 300)]
/// async fn pay() -> HttpResponse {
///     HttpResponse::Created().finish()
/// }
///
/// # #[actix_web::main] async fn main() {
/// let issuer = TestIssuer::start().await;
/// let auth = JwtAuth::new(issuer.provider()).unwrap();
/// let app = test::init_service(App::new().wrap(auth).service(pay)).await;
/// let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
/// let token = issuer
///     .token()
///     .claim("acr", "urn:okta:loa:1fa:any")
///     .claim("auth_time", now.as_secs())
///     .sign();
/// let req = test::TestRequest::post().uri("/payments").bearer(&token).to_request();
/// let response = test::call_service(&app, req).await;
/// assert_eq!(response.status(), 401);
/// let challenge = response.headers().get("www-authenticate").unwrap().to_str().unwrap();
/// assert!(challenge.contains(r#"acr_values="urn:okta:loa:2fa:any", max_age="300""#));
/// # }
/// ```
#[proc_macro_attribute]
pub fn require_acr(args: TokenStream, item: TokenStream) -> TokenStream {
    guard::expand(guard::Kind::Acr, args.into(), item.into()).into()
}

#[proc_macro_derive(Role, attributes(role))]
pub fn derive_role(input: TokenStream) -> TokenStream {
    derive_role::expand(input.into()).into()
}

/// The crate README's examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
#[allow(dead_code)]
struct ReadmeDoctests;
