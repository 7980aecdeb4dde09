//! OpenAPI security from the configured providers (feature `openapi`, with `utoipa`).
//!
//! [`SecurityDocs`] adds the security schemes clients can use — one per token source the
//! [`JwtAuth`] reads (`Authorization: Bearer` as HTTP bearer JWT, a named header or cookie as an
//! API key there); and, where the token travels as a bearer token, OAuth 2.0 authorization code
//! and OpenID Connect discovery wherever the provider has them — and completes the `security`
//! requirement that `#[require_role]` / `#[require_scope]` write into each guarded operation's
//! `#[utoipa::path]`, so the guard is written once and Swagger UI's Authorize button sends the
//! token. Public operations stay unmarked. [`SwaggerOAuth`] is Swagger UI's sign-in configuration
//! for that authorization code scheme: a public client with PKCE, asking for the scopes the guards
//! need.
//!
//! ```
//! use actix_web::{get, HttpResponse};
//! use auth_actix::openapi::{SecurityDocs, SwaggerOAuth};
//! use auth_actix::{require_role, JwtAuth, Provider};
//! use utoipa::OpenApi;
//!
//! #[require_role("admin")]
//! #[utoipa::path(get, path = "/admin", responses((status = 200, description = "hello")))]
//! #[get("/admin")]
//! async fn admin() -> HttpResponse {
//!     HttpResponse::Ok().finish()
//! }
//!
//! #[derive(OpenApi)]
//! #[openapi(paths(admin))]
//! struct ApiDoc;
//!
//! let auth = JwtAuth::new(Provider::keycloak("https://sso.example.com", "demo", "api")).unwrap();
//! let spec = SecurityDocs::new(&auth).apply(ApiDoc::openapi());
//! let json = serde_json::to_value(&spec).unwrap();
//! assert_eq!(json["paths"]["/admin"]["get"]["security"][0]["bearer"][0], "admin");
//! assert!(json["components"]["securitySchemes"]["oauth2"].is_object());
//!
//! // Swagger UI's `initOAuth` settings for the public client `api-docs`.
//! let sign_in = SwaggerOAuth::from_openapi(&spec, "api-docs").unwrap();
//! assert_eq!(
//!     serde_json::to_value(&sign_in).unwrap(),
//!     serde_json::json!({
//!         "clientId": "api-docs",
//!         "scopes": ["openid"],
//!         "usePkceWithAuthorizationCodeGrant": true
//!     })
//! );
//! ```
//!
//! Place `#[require_role]` above `#[utoipa::path]` (which goes above actix's route attribute): an
//! attribute only sees the attributes below it. An operation whose `#[utoipa::path]` already has a
//! `security(...)` keeps it, completed with the same alternatives.
//!
//! A generic OpenID Connect provider's authorization and token endpoints come from its discovery
//! document, which [`JwtAuth::warm_up`] reads: build the documentation after it.

use std::collections::BTreeMap;

use auth_core::{ConfigError, TokenSource};
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, AuthorizationCode, Flow, HttpAuthScheme, HttpBuilder, OAuth2,
    OpenIdConnect, Scopes, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Components, OpenApi, RefOr};

use crate::guard::role_enum::RoleEnum;
use crate::jwt_auth::JwtAuth;
use crate::request::token::lookup_order;

/// Scheme name of the HTTP bearer JWT scheme (`Authorization: Bearer`), which the guard
/// attributes write into operations; it stands for every scheme that carries the token.
pub const BEARER: &str = "bearer";
/// Scheme name of the OAuth 2.0 authorization code scheme (scope guards write their scopes under
/// it).
pub const OAUTH2: &str = "oauth2";
/// Scheme name of the OpenID Connect discovery scheme.
pub const OPENID_CONNECT: &str = "openid_connect";
/// Scheme name of the first header token source other than `Authorization` (Cloudflare's
/// `Cf-Access-Jwt-Assertion`); further ones are `token_header_2`, `token_header_3`, ...
pub const TOKEN_HEADER: &str = "token_header";
/// Scheme name of the first cookie token source (Clerk's `__session`); further ones are
/// `token_cookie_2`, `token_cookie_3`, ...
pub const TOKEN_COOKIE: &str = "token_cookie";

/// The scope that makes an authorization request an OpenID Connect sign-in.
const OPENID: &str = "openid";

/// Security schemes and requirements for an OpenAPI document, from a [`JwtAuth`]'s token sources
/// and providers.
#[derive(Clone)]
pub struct SecurityDocs {
    /// One scheme per token source, in the order the middleware looks: these carry the token.
    carriers: Vec<(String, SecurityScheme)>,
    /// The authorization and token endpoints of the authorization code scheme.
    authorization_code: Option<(String, String)>,
    /// The discovery document of the OpenID Connect scheme.
    openid_connect: Option<String>,
    enums: Vec<(
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
    )>,
}

impl std::fmt::Debug for SecurityDocs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecurityDocs")
            .field("schemes", &self.scheme_names().collect::<Vec<_>>())
            .finish()
    }
}

impl SecurityDocs {
    /// The schemes for the token sources `auth` reads ([`JwtAuth::token_sources`], by default the
    /// providers' own) and, when one of them is `Authorization: Bearer`, the first provider's
    /// authorization code and OpenID Connect schemes: a client that signs in there sends the token
    /// as a bearer token. Build it after [`JwtAuth::warm_up`]: a generic OpenID Connect provider's
    /// authorization and token endpoints come from its discovery document.
    pub fn new(auth: &JwtAuth) -> SecurityDocs {
        // In the order the middleware looks, from the same list.
        let sources = &auth.config.sources;
        let (mut headers, mut cookies) = (0, 0);
        let mut carriers = Vec::new();
        for source in lookup_order(sources) {
            let (name, scheme) = match source {
                // OpenAPI describes no WebSocket subprotocol, and a WebSocket upgrade is no
                // operation a documentation client calls.
                TokenSource::WebSocketProtocol => continue,
                TokenSource::Bearer => {
                    let bearer = HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .description(Some("An access token from the identity provider"))
                        .build();
                    (BEARER.to_owned(), SecurityScheme::Http(bearer))
                }
                TokenSource::Header(header) => {
                    headers += 1;
                    let key = ApiKeyValue::with_description(
                        header.clone(),
                        format!("The bare token in the {header} header"),
                    );
                    (
                        numbered(TOKEN_HEADER, headers),
                        SecurityScheme::ApiKey(ApiKey::Header(key)),
                    )
                }
                TokenSource::Cookie(cookie) => {
                    cookies += 1;
                    let key = ApiKeyValue::with_description(
                        cookie.clone(),
                        format!(
                            "The bare token in the {cookie} cookie; it counts for same-site \
                             requests only"
                        ),
                    );
                    (
                        numbered(TOKEN_COOKIE, cookies),
                        SecurityScheme::ApiKey(ApiKey::Cookie(key)),
                    )
                }
            };
            if !carriers.iter().any(|(known, _)| *known == name) {
                carriers.push((name, scheme));
            }
        }
        let mut docs = SecurityDocs {
            carriers,
            authorization_code: None,
            openid_connect: None,
            enums: Vec::new(),
        };
        if sources.contains(&TokenSource::Bearer) {
            let endpoints = auth.verifier().token_endpoints();
            docs.authorization_code = endpoints
                .iter()
                .find_map(|e| Some((e.authorization_url.clone()?, e.token_url.clone()?)));
            docs.openid_connect = endpoints.iter().find_map(|e| e.openid_connect_url.clone());
        }
        docs
    }

    /// Lets role names written as `Role::Admin` in guards appear as the role's name (`admin`).
    pub fn role_enum<E: RoleEnum>(mut self) -> SecurityDocs {
        let name = std::any::type_name::<E>()
            .rsplit("::")
            .next()
            .unwrap_or_default();
        self.enums.push((name, E::VARIANTS, E::NAMES));
        self
    }

    /// The scheme names this document defines.
    pub fn scheme_names(&self) -> impl Iterator<Item = &str> + '_ {
        let carriers = self.carriers.iter().map(|(name, _)| name.as_str());
        let oauth = self.authorization_code.as_ref().map(|_| OAUTH2);
        let openid = self.openid_connect.as_ref().map(|_| OPENID_CONNECT);
        carriers.chain(oauth).chain(openid)
    }

    /// Adds the schemes to `openapi` and completes every guarded operation's requirements. The
    /// authorization code scheme offers `openid` and every scope a guard (or a hand-written
    /// requirement) asks for, the list [`SwaggerOAuth::from_openapi`] requests by default.
    pub fn apply(&self, mut openapi: OpenApi) -> OpenApi {
        let scopes = self.scopes_asked_for(&mut openapi);
        let components = openapi.components.get_or_insert_with(Components::new);
        for (name, scheme) in &self.carriers {
            components.add_security_scheme(name, scheme.clone());
        }
        if let Some((authorization, token)) = &self.authorization_code {
            let offered = std::iter::once((OPENID.to_owned(), "Sign in".to_owned())).chain(
                scopes
                    .iter()
                    .filter(|scope| *scope != OPENID)
                    .map(|scope| (scope.clone(), "Asked for by a guarded operation".to_owned())),
            );
            let flow = Flow::AuthorizationCode(AuthorizationCode::new(
                authorization.clone(),
                token.clone(),
                Scopes::from_iter(offered),
            ));
            let scheme = OAuth2::with_description([flow], "Authorization code with PKCE");
            components.add_security_scheme(OAUTH2, SecurityScheme::OAuth2(scheme));
        }
        if let Some(url) = &self.openid_connect {
            components.add_security_scheme(
                OPENID_CONNECT,
                SecurityScheme::OpenIdConnect(OpenIdConnect::new(url.clone())),
            );
        }
        let defined: Vec<&str> = self.scheme_names().collect();
        for operation in operations(&mut openapi) {
            if let Some(security) = &mut operation.security {
                *security = self.complete(security, &defined);
            }
        }
        openapi
    }

    /// The scopes operations ask for under the OAuth 2.0 or OpenID Connect scheme (every
    /// `#[require_scope]` writes its scopes there), in order of first mention.
    fn scopes_asked_for(&self, openapi: &mut OpenApi) -> Vec<String> {
        let mut scopes: Vec<String> = Vec::new();
        for operation in operations(openapi) {
            let requirements = operation.security.iter().flatten();
            for (scheme, names) in requirements.flat_map(|r| self.entries(r)) {
                if scheme != OAUTH2 && scheme != OPENID_CONNECT {
                    continue;
                }
                for name in names {
                    if !scopes.contains(&name) {
                        scopes.push(name);
                    }
                }
            }
        }
        scopes
    }

    /// Alternatives for every defined scheme: roles and scopes go to each scheme that carries the
    /// token; scopes also go to OAuth 2.0 and OpenID Connect; a role-guarded operation accepts a
    /// token from those with any scope.
    fn complete(
        &self,
        requirements: &[SecurityRequirement],
        defined: &[&str],
    ) -> Vec<SecurityRequirement> {
        let parsed: Vec<Vec<(String, Vec<String>)>> =
            requirements.iter().map(|r| self.entries(r)).collect();
        let scope_guarded = parsed.iter().flatten().any(|(scheme, _)| scheme == OAUTH2);
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        let mut push = |scheme: &str, names: &[String]| {
            let entry = (scheme.to_owned(), names.to_vec());
            if defined.contains(&scheme) && !out.contains(&entry) {
                out.push(entry);
            }
        };
        let mut empty = Vec::new();
        for entries in &parsed {
            if entries.is_empty() {
                empty.push(SecurityRequirement::default());
            }
            for (scheme, names) in entries {
                match scheme.as_str() {
                    BEARER => {
                        for (carrier, _) in &self.carriers {
                            push(carrier, names);
                        }
                    }
                    OAUTH2 => {
                        push(OAUTH2, names);
                        push(OPENID_CONNECT, names);
                    }
                    other => push(other, names),
                }
            }
        }
        if !scope_guarded {
            push(OAUTH2, &[]);
            push(OPENID_CONNECT, &[]);
        }
        empty
            .into_iter()
            .chain(
                out.into_iter()
                    .map(|(scheme, names)| SecurityRequirement::new(scheme, names)),
            )
            .collect()
    }

    /// The `scheme: [names]` pairs of a requirement, enum placeholders resolved.
    fn entries(&self, requirement: &SecurityRequirement) -> Vec<(String, Vec<String>)> {
        let Ok(Value::Object(map)) = serde_json::to_value(requirement) else {
            return Vec::new();
        };
        map.into_iter()
            .map(|(scheme, names)| {
                let names = names.as_array().map(|names| {
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|n| self.name(n))
                        .collect()
                });
                (scheme, names.unwrap_or_default())
            })
            .collect()
    }

    /// A role name, with an `Enum::Variant` placeholder from a guard replaced by the variant's
    /// name.
    fn name(&self, text: &str) -> String {
        let resolved = text.split_once("::").and_then(|(enum_name, variant)| {
            let (_, variants, names) = self.enums.iter().find(|(e, _, _)| *e == enum_name)?;
            variants
                .iter()
                .position(|v| *v == variant)
                .and_then(|i| names.get(i))
        });
        resolved.map_or(text, |name| name).to_owned()
    }
}

impl utoipa::Modify for SecurityDocs {
    fn modify(&self, openapi: &mut OpenApi) {
        *openapi = self.apply(std::mem::take(openapi));
    }
}

/// `base` for the first of its kind, `base_2`, `base_3`, ... after it.
fn numbered(base: &str, n: usize) -> String {
    if n <= 1 {
        base.to_owned()
    } else {
        format!("{base}_{n}")
    }
}

/// Every operation of every path.
fn operations(
    openapi: &mut OpenApi,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
    })
}

/// Swagger UI's sign-in settings (its `initOAuth` configuration) for the authorization code scheme
/// [`SecurityDocs::apply`] wrote: a public client (no secret, which any visitor of the page could
/// read) using PKCE, asking for the scopes the scheme offers: `openid` and those the guards need.
///
/// Serialized, it is the object Swagger UI's `ui.initOAuth(..)` takes; with the `swagger-ui`
/// feature, [`SwaggerOAuth::into_swagger_ui_config`] gives `utoipa-swagger-ui`'s configuration.
/// Register the Swagger UI page's `oauth2-redirect.html` (e.g.
/// `https://api.example.com/docs/oauth2-redirect.html`) as the client's redirect URI at the
/// provider, and the page's origin as an allowed web origin where the provider asks for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SwaggerOAuth {
    client_id: String,
    scopes: Vec<String>,
    use_pkce_with_authorization_code_grant: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    additional_query_string_params: BTreeMap<String, String>,
    #[serde(skip)]
    authorization_url: String,
    #[serde(skip)]
    token_url: String,
}

impl SwaggerOAuth {
    /// The sign-in settings for `client_id` (a public client registered at the provider) from the
    /// authorization code scheme of `openapi` (a document [`SecurityDocs::apply`] completed).
    ///
    /// Fails, naming the setting, when `client_id` is empty or the document has no authorization
    /// code scheme: the tokens are not read from `Authorization: Bearer`, no provider names an
    /// authorization endpoint, or the document was built before [`JwtAuth::warm_up`] read a
    /// generic OpenID Connect provider's discovery document.
    pub fn from_openapi(openapi: &OpenApi, client_id: &str) -> Result<SwaggerOAuth, ConfigError> {
        let client_id = client_id.trim();
        if client_id.is_empty() || client_id.chars().any(char::is_control) {
            return Err(ConfigError {
                setting: "SwaggerOAuth client_id".to_owned(),
                problem: "empty or not printable: copy the client ID of the public client \
                          (authorization code with PKCE, no secret) registered for the API \
                          documentation at the provider"
                    .to_owned(),
            });
        }
        let missing = || ConfigError {
            setting: "SwaggerOAuth".to_owned(),
            problem: format!(
                "the OpenAPI document has no {OAUTH2:?} authorization code scheme: apply \
                 SecurityDocs to it after JwtAuth::warm_up (a generic OpenID Connect provider's \
                 discovery document names the endpoints), read tokens from Authorization: Bearer, \
                 or give the provider Provider::token_endpoints(..)"
            ),
        };
        let scheme = openapi
            .components
            .as_ref()
            .and_then(|components| components.security_schemes.get(OAUTH2))
            .ok_or_else(missing)?;
        let RefOr::T(SecurityScheme::OAuth2(_)) = scheme else {
            return Err(missing());
        };
        let json = serde_json::to_value(scheme).map_err(|_| missing())?;
        let flow = &json["flows"]["authorizationCode"];
        let url = |field: &str| flow[field].as_str().map(str::to_owned);
        let (Some(authorization_url), Some(token_url)) = (url("authorizationUrl"), url("tokenUrl"))
        else {
            return Err(missing());
        };
        let mut scopes = vec![OPENID.to_owned()];
        if let Some(offered) = flow["scopes"].as_object() {
            scopes.extend(offered.keys().filter(|s| *s != OPENID).cloned());
        }
        Ok(SwaggerOAuth {
            client_id: client_id.to_owned(),
            scopes,
            use_pkce_with_authorization_code_grant: true,
            additional_query_string_params: BTreeMap::new(),
            authorization_url,
            token_url,
        })
    }

    /// Asks for these scopes instead, e.g. where the provider names them otherwise than the token
    /// does (Entra: `api://<application-id>/read` for the `read` in `scp`). Fails on an empty list
    /// or a scope that is not an RFC 6749 §3.3 scope token.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Result<SwaggerOAuth, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        // scope-token = 1*( %x21 / %x23-5B / %x5D-7E ): no space, quote or backslash.
        let bad = scopes.iter().find(|scope| {
            scope.is_empty()
                || !scope
                    .bytes()
                    .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
        });
        if scopes.is_empty() || bad.is_some() {
            return Err(ConfigError {
                setting: "SwaggerOAuth::with_scopes".to_owned(),
                problem: format!(
                    "{bad:?} is not a scope: give one or more scope names, each without spaces, \
                     quotes or backslashes, e.g. [\"openid\", \"read:items\"]"
                ),
            });
        }
        self.scopes = scopes;
        Ok(self)
    }

    /// Adds a parameter to the authorization request, e.g. Auth0's `audience` (the API
    /// identifier), without which Auth0 issues no JWT for the API.
    pub fn with_authorization_param(mut self, name: &str, value: &str) -> SwaggerOAuth {
        self.additional_query_string_params
            .insert(name.to_owned(), value.to_owned());
        self
    }

    /// The public client's ID.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The scopes the sign-in asks for.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// Whether the code exchange uses PKCE (always: the client is public).
    pub fn use_pkce(&self) -> bool {
        self.use_pkce_with_authorization_code_grant
    }

    /// The authorization endpoint the scheme names (where the browser signs in).
    pub fn authorization_url(&self) -> &str {
        &self.authorization_url
    }

    /// The token endpoint the scheme names (where the browser exchanges the code).
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// The same settings as `utoipa-swagger-ui`'s configuration, for `SwaggerUi::oauth(..)`.
    #[cfg(feature = "swagger-ui")]
    #[cfg_attr(docsrs, doc(cfg(feature = "swagger-ui")))]
    pub fn into_swagger_ui_config(self) -> utoipa_swagger_ui::oauth::Config {
        let mut config = utoipa_swagger_ui::oauth::Config::new()
            .client_id(&self.client_id)
            .scopes(self.scopes)
            .use_pkce_with_authorization_code_grant(self.use_pkce_with_authorization_code_grant);
        if !self.additional_query_string_params.is_empty() {
            config = config.additional_query_string_params(
                self.additional_query_string_params.into_iter().collect(),
            );
        }
        config
    }
}
