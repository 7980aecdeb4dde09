//! OpenAPI security from the configured providers (feature `openapi`, with `utoipa`).
//!
//! [`SecurityDocs`] adds the security schemes clients can use — HTTP bearer JWT always; OAuth 2.0
//! authorization code and OpenID Connect discovery where the provider has them; an API-key header
//! for Cloudflare's `Cf-Access-Jwt-Assertion` — and completes the `security` requirement that
//! `#[require_role]` / `#[require_scope]` write into each guarded operation's `#[utoipa::path]`, so
//! the guard is written once and Swagger UI's Authorize button sends the token. Public operations
//! stay unmarked.
//!
//! ```
//! use actix_web::{get, HttpResponse};
//! use auth_actix::openapi::SecurityDocs;
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
//! ```
//!
//! Place `#[require_role]` above `#[utoipa::path]` (which goes above actix's route attribute): an
//! attribute only sees the attributes below it. An operation whose `#[utoipa::path]` already has a
//! `security(...)` is left as written.

use serde_json::Value;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, AuthorizationCode, Flow, HttpAuthScheme, HttpBuilder, OAuth2,
    OpenIdConnect, Scopes, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Components, OpenApi};

use crate::jwt_auth::JwtAuth;
use crate::role_enum::RoleEnum;

/// Scheme name of the HTTP bearer JWT scheme, which the guard attributes write into operations.
pub const BEARER: &str = "bearer";
/// Scheme name of the OAuth 2.0 authorization code scheme (scope guards write their scopes under
/// it).
pub const OAUTH2: &str = "oauth2";
/// Scheme name of the OpenID Connect discovery scheme.
pub const OPENID_CONNECT: &str = "openid_connect";
/// Scheme name of the API-key header scheme (Cloudflare's `Cf-Access-Jwt-Assertion`).
pub const TOKEN_HEADER: &str = "token_header";

/// Security schemes and requirements for an OpenAPI document, from a [`JwtAuth`]'s providers.
#[derive(Clone)]
pub struct SecurityDocs {
    schemes: Vec<(&'static str, SecurityScheme)>,
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
    /// The schemes of every provider `auth` is configured with.
    pub fn new(auth: &JwtAuth) -> SecurityDocs {
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some("An access token from the identity provider"))
            .build();
        let mut schemes = vec![(BEARER, SecurityScheme::Http(bearer))];
        let endpoints = auth.verifier().token_endpoints();
        let oauth = endpoints
            .iter()
            .find_map(|e| Some((e.authorization_url.clone()?, e.token_url.clone()?)));
        if let Some((authorization, token)) = oauth {
            let flow = Flow::AuthorizationCode(AuthorizationCode::new(
                authorization,
                token,
                Scopes::new(),
            ));
            let scheme = OAuth2::with_description([flow], "Authorization code with PKCE");
            schemes.push((OAUTH2, SecurityScheme::OAuth2(scheme)));
        }
        if let Some(url) = endpoints.iter().find_map(|e| e.openid_connect_url.clone()) {
            schemes.push((
                OPENID_CONNECT,
                SecurityScheme::OpenIdConnect(OpenIdConnect::new(url)),
            ));
        }
        if let Some(header) = endpoints.iter().find_map(|e| e.header.clone()) {
            let key = ApiKeyValue::with_description(
                header,
                "The bare token, as the proxy forwards it".to_owned(),
            );
            schemes.push((TOKEN_HEADER, SecurityScheme::ApiKey(ApiKey::Header(key))));
        }
        SecurityDocs {
            schemes,
            enums: Vec::new(),
        }
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
    pub fn scheme_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.schemes.iter().map(|(name, _)| *name)
    }

    /// Adds the schemes to `openapi` and completes every guarded operation's requirements.
    pub fn apply(&self, mut openapi: OpenApi) -> OpenApi {
        let components = openapi.components.get_or_insert_with(Components::new);
        for (name, scheme) in &self.schemes {
            components.add_security_scheme(*name, scheme.clone());
        }
        let defined: Vec<&str> = self.scheme_names().collect();
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                if let Some(security) = &mut operation.security {
                    *security = self.complete(security, &defined);
                }
            }
        }
        openapi
    }

    /// Alternatives for every defined scheme: roles stay on bearer and the header scheme; scopes
    /// also go to OAuth 2.0 and OpenID Connect; a role-guarded operation accepts a token from those
    /// with any scope.
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
                        push(BEARER, names);
                        push(TOKEN_HEADER, names);
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
