//! Checks on the URLs a provider is configured with: `https://`, or `http://` on loopback only.

use url::{Host, Url};

use crate::error::ConfigError;

/// Parses `value` as a URL the verifier may fetch from or match against: absolute `https://`
/// (`http://` on loopback only), with a host and no credentials; else a [`ConfigError`] naming
/// `setting`. Hidden from the docs: the web layer checks the authorization servers it publishes
/// by the same rule.
pub fn checked(setting: &str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|err| {
        ConfigError::new(
            setting,
            format!(
                "{value:?} is not a URL ({err}); write it in full, e.g. https://issuer.example.com"
            ),
        )
    })?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(ConfigError::new(
                setting,
                format!(
                    "{value:?} uses http://, allowed only for 127.0.0.1, ::1 and localhost; use \
                     https://"
                ),
            ));
        }
        other => {
            return Err(ConfigError::new(
                setting,
                format!("{value:?} has scheme {other:?}; use https://"),
            ));
        }
    }
    if url.host().is_none() {
        return Err(ConfigError::new(setting, format!("{value:?} has no host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::new(
            setting,
            format!("{value:?} must not hold credentials"),
        ));
    }
    Ok(url)
}

/// Whether the URL names this host: 127.0.0.0/8, ::1 or `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_on_loopback_only() {
        assert!(checked("issuer", "https://team.cloudflareaccess.com").is_ok());
        assert!(checked("issuer", "http://127.0.0.1:8080/realms/x").is_ok());
        assert!(checked("issuer", "http://[::1]:9/").is_ok());
        assert!(checked("issuer", "http://localhost:9").is_ok());
        let err = checked("issuer", "http://example.com").unwrap_err();
        assert!(err.problem.contains("use https://"), "{err}");
        assert!(checked("issuer", "ftp://example.com").is_err());
        assert!(checked("issuer", "example.com").is_err());
        assert!(checked("issuer", "https://user:pw@example.com").is_err());
    }
}
