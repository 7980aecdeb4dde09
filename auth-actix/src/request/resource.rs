//! Which protected resource (RFC 8707) a request belongs to, and whether it asks for a resource's
//! metadata document (RFC 9728 §3.1). Paths are compared as the application receives them: behind
//! a proxy that strips the public origin's path prefix
//! ([`JwtAuth::public_origin`](crate::JwtAuth::public_origin)), a resource's path is matched
//! without that prefix.

use auth_core::ProtectedResource;

use crate::request::origin::OriginConfig;

/// The resource whose path is the longest to prefix `path` (whole segments: `/mcp` holds `/mcp`
/// and `/mcp/x`, never `/mcpx`); a bare-origin resource holds every path.
pub(crate) fn owning<'a>(
    resources: &'a [ProtectedResource],
    origins: &OriginConfig,
    path: &str,
) -> Option<&'a ProtectedResource> {
    let prefix = public_prefix(origins);
    resources
        .iter()
        .filter_map(|resource| {
            let local = local_path(resource.path(), prefix);
            let holds = local.is_empty()
                || path
                    .strip_prefix(local)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
            holds.then_some((local.len(), resource))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, resource)| resource)
}

/// The resource whose metadata document `path` names: the well-known path followed by the
/// resource's path (RFC 9728 §3.1), with or without the public origin's prefix (whether the proxy
/// forwards `/.well-known/…` as it is or under the prefix it strips).
pub(crate) fn metadata_of<'a>(
    resources: &'a [ProtectedResource],
    origins: &OriginConfig,
    path: &str,
) -> Option<&'a ProtectedResource> {
    let prefix = public_prefix(origins);
    resources.iter().find(|resource| {
        let full = resource.metadata_path();
        if path == full {
            return true;
        }
        let local = local_path(resource.path(), prefix);
        local.len() != resource.path().len()
            && path
                .strip_prefix(WELL_KNOWN)
                .is_some_and(|rest| rest == local)
    })
}

/// RFC 9728 §3's well-known path (also the start of every resource's `metadata_path`).
const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// The path prefix of the public origin (`/api` for `https://example.com/api`), `""` without one.
fn public_prefix(origins: &OriginConfig) -> &str {
    let Some(origin) = &origins.public_origin else {
        return "";
    };
    let base: &str = &origin.base;
    let after_scheme = base.split_once("://").map_or(base, |(_, rest)| rest);
    after_scheme
        .find('/')
        .map_or("", |slash| &after_scheme[slash..])
}

/// `path` as the application receives it: without `prefix` where the resource lies under it.
fn local_path<'a>(path: &'a str, prefix: &str) -> &'a str {
    match path.strip_prefix(prefix) {
        Some(rest) if !prefix.is_empty() && (rest.is_empty() || rest.starts_with('/')) => rest,
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::origin::PublicOrigin;

    fn resources(urls: &[&str]) -> Vec<ProtectedResource> {
        let provider = urls.iter().fold(
            auth_core::Provider::oidc("https://issuer.example.com"),
            |provider, url| provider.resource(url),
        );
        auth_core::Verifier::new(provider)
            .unwrap()
            .protected_resources()
            .to_vec()
    }

    #[test]
    fn the_longest_resource_path_owns_a_request() {
        let list = resources(&[
            "https://api.example.com",
            "https://api.example.com/mcp",
            "https://api.example.com/mcp/admin",
        ]);
        let origins = OriginConfig::default();
        let owner = |path| owning(&list, &origins, path).map(|r| r.resource.as_str());
        assert_eq!(owner("/mcp"), Some("https://api.example.com/mcp"));
        assert_eq!(owner("/mcp/tools"), Some("https://api.example.com/mcp"));
        assert_eq!(
            owner("/mcp/admin/x"),
            Some("https://api.example.com/mcp/admin")
        );
        assert_eq!(owner("/mcpx"), Some("https://api.example.com"));
        let list = resources(&["https://api.example.com/mcp"]);
        assert_eq!(owning(&list, &origins, "/other"), None);
        assert_eq!(owning(&list, &origins, "/mcpx"), None);
    }

    #[test]
    fn behind_a_prefix_stripping_proxy_paths_match_without_the_prefix() {
        let list = resources(&["https://example.com/api/mcp"]);
        let origins = OriginConfig {
            public_origin: Some(PublicOrigin::parse("https://example.com/api").unwrap()),
            ..OriginConfig::default()
        };
        assert!(owning(&list, &origins, "/mcp").is_some());
        assert!(owning(&list, &origins, "/api/mcp").is_none());
        assert!(
            metadata_of(
                &list,
                &origins,
                "/.well-known/oauth-protected-resource/api/mcp"
            )
            .is_some()
        );
        assert!(
            metadata_of(&list, &origins, "/.well-known/oauth-protected-resource/mcp").is_some()
        );
        assert!(metadata_of(&list, &origins, "/.well-known/oauth-protected-resource").is_none());
    }

    #[test]
    fn metadata_paths_follow_rfc_9728_section_3_1() {
        let list = resources(&["https://api.example.com/mcp", "https://other.example.com"]);
        let origins = OriginConfig::default();
        let doc = |path| metadata_of(&list, &origins, path).map(|r| r.resource.as_str());
        assert_eq!(
            doc("/.well-known/oauth-protected-resource/mcp"),
            Some("https://api.example.com/mcp")
        );
        assert_eq!(
            doc("/.well-known/oauth-protected-resource"),
            Some("https://other.example.com")
        );
        assert_eq!(doc("/.well-known/oauth-protected-resource/mcp/"), None);
        assert_eq!(doc("/.well-known/oauth-protected-resource/mc"), None);
    }
}
