//! The protected resource a provider's tokens are for (RFC 8707): its URL checked and kept in
//! canonical form, how a preset's tokens name it in `aud`, and what the web layer publishes about
//! it (RFC 9728 protected-resource metadata).

use crate::challenge_value::is_challenge_value;
use crate::error::ConfigError;
use crate::keys::issuer_url;

/// How a provider's tokens name a protected resource in `aud`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResourceBinding {
    /// The authorization server puts the resource URL the client asked for in `aud` (RFC 8707
    /// §2): the canonical URL joins the accepted audiences, beside any audience configured
    /// explicitly.
    Url,
    /// The provider names the API by an identifier of its own (Entra v2: the application's client
    /// ID; Keycloak: the client ID; Auth0: the API identifier): the preset's audience stays
    /// accepted beside the canonical URL. Each preset's rustdoc cites where the provider says so.
    PresetAudience,
    /// The provider's tokens cannot be bound to a resource URL in a way this crate can check
    /// without guessing: `.resource(..)` is a configuration error saying what to do instead.
    Refused(&'static str),
}

/// Checks `value` as a protected resource's URL and returns its canonical form (RFC 8707 §2, RFC
/// 9728 §1.2, MCP's "Canonical Server URI"): lowercase scheme and host (the URL parser does both),
/// no default port, no query, no fragment, no trailing slash (a bare origin is written without
/// one: `https://api.example.com`). `https://` anywhere, `http://` on loopback only, as issuer
/// URLs. The path keeps its case: it is the resource's own.
pub(crate) fn canonical(setting: &str, value: &str) -> Result<String, ConfigError> {
    let url = issuer_url::checked(setting, value.trim())?;
    if url.query().is_some() {
        return Err(ConfigError::new(
            setting,
            format!(
                "{value:?} has a query; a resource identifier has none (RFC 8707 §2): write the \
                 URL clients call without it, e.g. https://api.example.com/mcp"
            ),
        ));
    }
    if url.fragment().is_some() {
        return Err(ConfigError::new(
            setting,
            format!(
                "{value:?} has a fragment; a resource identifier must not (RFC 8707 §2): write \
                 e.g. https://api.example.com/mcp"
            ),
        ));
    }
    let mut canonical = url.as_str().to_owned();
    while canonical.ends_with('/') {
        canonical.pop();
    }
    if path_of(&canonical).contains("//") {
        return Err(ConfigError::new(
            setting,
            format!("{value:?} has an empty path segment; write e.g. https://api.example.com/mcp"),
        ));
    }
    // RFC 9728 §5.1: challenges carry the metadata URL, derived from this one, in a quoted
    // parameter; a character clients' parsers misread there would inject or hide parameters.
    if !is_challenge_value(&canonical) {
        return Err(ConfigError::new(
            setting,
            format!(
                "{value:?} holds a character a WWW-Authenticate challenge cannot carry (a quote, \
                 backslash, comma, equals sign, space or control character): write the URL \
                 without it, e.g. https://api.example.com/mcp"
            ),
        ));
    }
    Ok(canonical)
}

/// The path of a canonical resource URL: `""` for a bare origin, else `/mcp`-like.
pub(crate) fn path_of(resource: &str) -> &str {
    let after_scheme = resource
        .split_once("://")
        .map_or(resource, |(_, rest)| rest);
    after_scheme
        .find('/')
        .map_or("", |slash| &after_scheme[slash..])
}

/// A protected resource as a verifier knows it: its canonical URL and what RFC 9728
/// protected-resource metadata says about the providers whose tokens are for it. The web layer
/// serves it; see [`Verifier::protected_resources`](crate::Verifier::protected_resources).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProtectedResource {
    /// The canonical resource URL (RFC 8707 §2), as
    /// [`Provider::resource`](crate::Provider::resource) was given it: what clients call, ask tokens for, and find in the metadata's `resource`.
    pub resource: String,
    /// The issuers of the providers serving it (RFC 9728 §2 `authorization_servers`), in the
    /// order given, without repeats. A multi-tenant template's tenants are not listed (each is a
    /// customer of the service, which public metadata should not enumerate): the web layer's
    /// `JwtAuth::authorization_servers` names the list to publish.
    pub authorization_servers: Vec<String>,
    /// Whether any provider serving it can issue DPoP-bound tokens.
    pub dpop_offered: bool,
    /// Whether every provider serving it refuses bearer tokens (RFC 9728 §2
    /// `dpop_bound_access_tokens_required`).
    pub dpop_required: bool,
}

impl ProtectedResource {
    /// The path part of [`ProtectedResource::resource`]: `""` for a bare origin, else e.g. `/mcp`.
    pub fn path(&self) -> &str {
        path_of(&self.resource)
    }

    /// The path of this resource's metadata document on its origin (RFC 9728 §3.1):
    /// `/.well-known/oauth-protected-resource` followed by the resource's path.
    pub fn metadata_path(&self) -> String {
        format!("{WELL_KNOWN}{}", self.path())
    }

    /// The URL of this resource's metadata document (RFC 9728 §3.1): the well-known path
    /// `/.well-known/oauth-protected-resource` inserted between the origin and the resource's
    /// path.
    pub fn metadata_url(&self) -> String {
        let path = self.path();
        let origin = &self.resource[..self.resource.len() - path.len()];
        format!("{origin}{WELL_KNOWN}{path}")
    }
}

/// RFC 9728 §3's well-known URI suffix.
const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(value: &str) -> String {
        canonical("resource", value).unwrap_or_else(|err| panic!("{value}: {err}"))
    }

    #[test]
    fn canonical_form_lowercases_scheme_and_host_and_drops_default_ports() {
        assert_eq!(
            ok("HTTPS://API.Example.COM/mcp"),
            "https://api.example.com/mcp"
        );
        assert_eq!(
            ok("https://api.example.com:443/mcp"),
            "https://api.example.com/mcp"
        );
        assert_eq!(
            ok("https://api.example.com:8443/mcp"),
            "https://api.example.com:8443/mcp"
        );
        assert_eq!(ok("http://127.0.0.1:80/mcp"), "http://127.0.0.1/mcp");
        // The path is the resource's own: its case stays.
        assert_eq!(
            ok("https://api.example.com/MCP"),
            "https://api.example.com/MCP"
        );
    }

    #[test]
    fn canonical_form_has_no_trailing_slash() {
        assert_eq!(
            ok("https://api.example.com/mcp/"),
            "https://api.example.com/mcp"
        );
        assert_eq!(ok("https://api.example.com/"), "https://api.example.com");
        assert_eq!(ok("https://api.example.com"), "https://api.example.com");
        assert_eq!(
            ok("https://api.example.com/a/b"),
            "https://api.example.com/a/b"
        );
    }

    #[test]
    fn queries_fragments_and_remote_http_are_refused_naming_the_setting() {
        for bad in [
            "https://api.example.com/mcp?x=1",
            "https://api.example.com/mcp?",
            "https://api.example.com/mcp#top",
            "http://api.example.com/mcp",
            "ftp://api.example.com/mcp",
            "/mcp",
            "https://user:pw@api.example.com/mcp",
            "https://api.example.com//mcp",
            "https://api.example.com/a,b",
            "https://api.example.com/a=b",
        ] {
            let err = canonical("Provider::oidc(issuer): resource", bad).unwrap_err();
            assert_eq!(err.setting, "Provider::oidc(issuer): resource", "{bad}");
        }
        assert!(
            canonical("r", "https://a.example.com/mcp#x")
                .unwrap_err()
                .problem
                .contains("fragment")
        );
        assert!(
            canonical("r", "https://api.example.com/a,b")
                .unwrap_err()
                .problem
                .contains("challenge")
        );
        assert!(canonical("r", "http://localhost:9/mcp").is_ok());
        assert!(canonical("r", "http://[::1]:9/mcp").is_ok());
    }

    #[test]
    fn two_resources_with_one_path_on_two_hosts_are_refused() {
        let provider = |issuer: &str, url: &str| crate::Provider::oidc(issuer).resource(url);
        let err = crate::Verifier::any_of([
            provider("https://one.example.com", "https://a.example.com/mcp"),
            provider("https://two.example.com", "https://b.example.com/mcp"),
        ])
        .unwrap_err();
        assert_eq!(err.setting, "Provider::resource");
        assert!(
            err.problem.contains("same path \"/mcp\""),
            "{}",
            err.problem
        );
        let err = crate::Verifier::new(
            crate::Provider::oidc("https://one.example.com")
                .resource("https://a.example.com")
                .resource("https://b.example.com"),
        )
        .unwrap_err();
        assert_eq!(err.setting, "Provider::resource");
        // One resource served by two providers, and two paths on two hosts, are fine.
        assert!(
            crate::Verifier::any_of([
                provider("https://one.example.com", "https://a.example.com/mcp"),
                provider("https://two.example.com", "https://a.example.com/mcp"),
                provider("https://three.example.com", "https://b.example.com/other"),
            ])
            .is_ok()
        );
    }

    #[test]
    fn metadata_url_inserts_the_well_known_path_before_the_resource_path() {
        let resource = |url: &str| ProtectedResource {
            resource: url.to_owned(),
            authorization_servers: Vec::new(),
            dpop_offered: false,
            dpop_required: false,
        };
        assert_eq!(
            resource("https://api.example.com/mcp").metadata_url(),
            "https://api.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            resource("https://api.example.com").metadata_url(),
            "https://api.example.com/.well-known/oauth-protected-resource"
        );
        assert_eq!(resource("https://api.example.com:8443/a/b").path(), "/a/b");
    }
}
