//! Which protected resource (RFC 8707) a request belongs to, and whether it asks for a resource's
//! metadata document (RFC 9728 §3.1). Paths are compared as the application receives them: behind
//! a proxy that strips the public origin's path prefix
//! ([`JwtAuth::public_origin`](crate::JwtAuth::public_origin)), a resource's path is matched
//! without that prefix.

use std::borrow::Cow;

use auth_core::ProtectedResource;

use crate::request::origin::OriginConfig;

/// The resources that own a request: by its path as received and, where that differs, by the
/// path a router or `NormalizePath` may decide instead ([`normalised`]). A token must be for both
/// when they differ, so neither percent-encoding nor doubled slashes nor the order of
/// `NormalizePath` and `JwtAuth` can move a request out of its resource.
pub(crate) struct Owners<'a> {
    /// The owner of the path as received.
    pub(crate) raw: Option<&'a ProtectedResource>,
    /// The owner of the normalised path, when it is another one.
    pub(crate) normalised: Option<Option<&'a ProtectedResource>>,
}

impl<'a> Owners<'a> {
    /// Every distinct owner (`None`: outside every resource), the raw path's first.
    pub(crate) fn each(&self) -> impl Iterator<Item = Option<&'a ProtectedResource>> {
        std::iter::once(self.raw).chain(self.normalised)
    }

    /// The first resource among the owners, for the challenge's metadata URL.
    pub(crate) fn any(&self) -> Option<&'a ProtectedResource> {
        self.raw.or(self.normalised.flatten())
    }
}

/// The owners of `path` (see [`Owners`]); a path without `%` or `//` is decided once, without
/// allocating.
pub(crate) fn owners<'a>(
    resources: &'a [ProtectedResource],
    origins: &OriginConfig,
    path: &str,
) -> Owners<'a> {
    let raw = owning(resources, origins, path, false);
    let normalised = needs_normalising(path)
        .then(|| owning(resources, origins, &normalised(path), true))
        .filter(|other| other.map(|r| &r.resource) != raw.map(|r| &r.resource));
    Owners { raw, normalised }
}

/// The resource whose path is the longest to prefix `path` (whole segments: `/mcp` holds `/mcp`
/// and `/mcp/x`, never `/mcpx`); a bare-origin resource holds every path. With `normalise`,
/// `path` is a [`normalised`] one, compared with the resources' paths normalised alike.
fn owning<'a, P: AsRef<[u8]> + ?Sized>(
    resources: &'a [ProtectedResource],
    origins: &OriginConfig,
    path: &P,
    normalise: bool,
) -> Option<&'a ProtectedResource> {
    let path = path.as_ref();
    let prefix = public_prefix(origins);
    resources
        .iter()
        .filter_map(|resource| {
            let local = local_path(resource.path(), prefix);
            let local: Cow<'_, [u8]> = if normalise && needs_normalising(local) {
                Cow::Owned(normalised(local))
            } else {
                Cow::Borrowed(local.as_bytes())
            };
            let holds = local.is_empty()
                || path
                    .strip_prefix(&*local)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(b"/"));
            holds.then_some((local.len(), resource))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, resource)| resource)
}

/// Whether [`normalised`] could change `path`.
fn needs_normalising(path: &str) -> bool {
    path.contains('%') || path.contains("//")
}

/// `path` as a router may match it: every `%XX` escape decoded except `%2F` and `%25` (which
/// would change the segments, or let a later decoding pass decode again), malformed escapes
/// kept as they are, and runs of `/` merged into one (`NormalizePath`). Dot segments are not
/// resolved (actix's router does not resolve them either). Bytes, since a decoded escape need
/// not be UTF-8.
fn normalised(path: &str) -> Vec<u8> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        let escaped = (byte == b'%')
            .then(|| Some((hex(*bytes.get(i + 1)?)?, hex(*bytes.get(i + 2)?)?)))
            .flatten()
            .map(|(high, low)| high << 4 | low)
            .filter(|decoded| !matches!(decoded, b'/' | b'%'));
        let byte = match escaped {
            Some(decoded) => {
                i += 2;
                decoded
            }
            None => byte,
        };
        // A decoded byte is never `/`, so only slashes written as such merge.
        if !(byte == b'/' && out.last() == Some(&b'/')) {
            out.push(byte);
        }
        i += 1;
    }
    out
}

/// The value of one hexadecimal digit.
fn hex(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).map(|value| value as u8)
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
        let owner = |path| owning(&list, &origins, path, false).map(|r| r.resource.as_str());
        assert_eq!(owner("/mcp"), Some("https://api.example.com/mcp"));
        assert_eq!(owner("/mcp/tools"), Some("https://api.example.com/mcp"));
        assert_eq!(
            owner("/mcp/admin/x"),
            Some("https://api.example.com/mcp/admin")
        );
        assert_eq!(owner("/mcpx"), Some("https://api.example.com"));
        let list = resources(&["https://api.example.com/mcp"]);
        assert_eq!(owning(&list, &origins, "/other", false), None);
        assert_eq!(owning(&list, &origins, "/mcpx", false), None);
    }

    #[test]
    fn behind_a_prefix_stripping_proxy_paths_match_without_the_prefix() {
        let list = resources(&["https://example.com/api/mcp"]);
        let origins = OriginConfig {
            public_origin: Some(PublicOrigin::parse("https://example.com/api").unwrap()),
            ..OriginConfig::default()
        };
        assert!(owning(&list, &origins, "/mcp", false).is_some());
        assert!(owning(&list, &origins, "/api/mcp", false).is_none());
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
    fn a_path_is_normalised_as_a_router_may_decode_it() {
        let norm = |path| String::from_utf8(normalised(path)).unwrap();
        assert_eq!(norm("/%6Dcp/%6dE"), "/mcp/mE");
        assert_eq!(norm("//mcp//me/"), "/mcp/me/");
        assert_eq!(norm("/a%2Fb%2f%25%252F"), "/a%2Fb%2f%25%252F");
        assert_eq!(norm("/bad%zz%4%"), "/bad%zz%4%");
        assert_eq!(norm("/my%20doc"), "/my doc");
        assert_eq!(normalised("/%FF"), b"/\xff");
        assert!(!needs_normalising("/mcp/me/"));
    }

    #[test]
    fn an_encoded_or_doubled_path_has_the_owner_of_its_decoded_form_too() {
        let list = resources(&["https://api.example.com", "https://api.example.com/admin"]);
        let origins = OriginConfig::default();
        let names = |path| {
            owners(&list, &origins, path)
                .each()
                .map(|r| r.map(|r| r.resource.as_str()))
                .collect::<Vec<_>>()
        };
        let (origin, admin) = (
            Some("https://api.example.com"),
            Some("https://api.example.com/admin"),
        );
        assert_eq!(names("/admin/me"), [admin]);
        assert_eq!(names("/%61dmin/me"), [origin, admin]);
        assert_eq!(names("//admin/me"), [origin, admin]);
        assert_eq!(names("/other%20x"), [origin]);
        // A resource whose own path is encoded is matched by the decoded request path too.
        let list = resources(&["https://api.example.com/my%20api"]);
        let owner = |path| {
            owners(&list, &origins, path)
                .each()
                .collect::<Vec<_>>()
                .len()
        };
        assert_eq!(owner("/my%20api/x"), 1);
        assert_eq!(owner("/my%20api//x"), 1);
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
