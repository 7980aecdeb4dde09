//! Provider presets: each hosted identity provider's issuer form, key location, audience semantics,
//! token sources and claim mapping, from its own documentation (cited on each constructor).

mod auth0;
mod clerk;
mod cloudflare;
mod cognito;
mod entra;
mod google;
mod keycloak;
mod okta;
mod zitadel;

/// `https://` prepended when a host is given bare (`team.cloudflareaccess.com`), trailing slashes
/// dropped.
pub(crate) fn https_url(value: &str) -> String {
    let value = value.trim();
    let with_scheme = if value.contains("://") {
        value.to_owned()
    } else {
        format!("https://{value}")
    };
    with_scheme.trim_end_matches('/').to_owned()
}

/// Whether `value` can sit in a URL path segment as given.
pub(crate) fn is_path_segment(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}
