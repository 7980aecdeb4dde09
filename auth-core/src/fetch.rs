//! HTTP GETs for discovery documents and key sets: bounded in time and size, with `max-age` read off.

use std::time::Duration;

use serde::Deserialize;

use crate::error::ConfigError;
use crate::issuer_url;

/// A successful response body and its freshness.
pub(crate) struct Fetched {
    pub(crate) body: Vec<u8>,
    pub(crate) max_age: Option<Duration>,
}

/// One HTTP client shared by every provider of a verifier.
pub(crate) fn client() -> Result<reqwest::Client, ConfigError> {
    reqwest::Client::builder()
        // Fetches are rare and may come from different runtimes (each actix worker has its own); a
        // pooled connection would tie them to the runtime that opened it.
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            match redirect_refusal(attempt.previous(), attempt.url()) {
                Some(reason) => attempt.error(reason),
                None => attempt.follow(),
            }
        }))
        .user_agent(concat!("auth-core/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| ConfigError::new("HTTP client", format!("cannot start the TLS client: {err}")))
}

/// Why a redirect from the last of `previous` (which holds the first URL and every hop already followed)
/// to `next` is refused, if it is.
///
/// Only URLs the configuration itself could name are followed: https, or http on loopback; a downgrade to
/// plain http elsewhere would let a network attacker serve the keys. Loopback is reachable only from
/// loopback, so a remote issuer cannot point the fetch at the API host's own local services.
fn redirect_refusal(previous: &[reqwest::Url], next: &reqwest::Url) -> Option<&'static str> {
    if previous.len() > 3 {
        return Some("more than 3 redirects");
    }
    if issuer_url::checked("redirect", next.as_str()).is_err() {
        return Some("redirect to a URL that is neither https nor loopback http");
    }
    if issuer_url::is_loopback(next) && !previous.last().is_some_and(issuer_url::is_loopback) {
        return Some("redirect from a remote host to loopback");
    }
    None
}

/// GETs `url`, failing with a message that names the URL and the cause.
pub(crate) async fn get(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
    max_bytes: usize,
) -> Result<Fetched, String> {
    let fetch = async {
        let mut response = client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|err| format!("GET {url}: {}", describe(&err)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("GET {url}: HTTP {status}"));
        }
        if response.content_length().is_some_and(|len| len > max_bytes as u64) {
            return Err(format!("GET {url}: body larger than {max_bytes} bytes"));
        }
        let max_age = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|value| value.to_str().ok())
            .and_then(max_age);
        let mut body = Vec::new();
        while let Some(chunk) =
            response.chunk().await.map_err(|err| format!("GET {url}: reading body: {}", describe(&err)))?
        {
            if body.len() + chunk.len() > max_bytes {
                return Err(format!("GET {url}: body larger than {max_bytes} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched { body, max_age })
    };
    tokio::time::timeout(timeout, fetch)
        .await
        .unwrap_or_else(|_| Err(format!("GET {url}: no complete response within {timeout:?}")))
}

fn describe(err: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// `max-age` from a `Cache-Control` value; `no-cache`/`no-store` count as zero (the clamp then applies).
fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').map(str::trim).find_map(|directive| {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-cache" || lower == "no-store" {
            return Some(Duration::ZERO);
        }
        lower.strip_prefix("max-age=")?.trim_matches('"').parse().ok().map(Duration::from_secs)
    })
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// Reads the JWKS URL from a discovery document, insisting that it names `expected_issuer`.
pub(crate) fn jwks_uri(url: &str, body: &[u8], expected_issuer: &str) -> Result<String, String> {
    let document: Discovery = serde_json::from_slice(body)
        .map_err(|err| format!("{url}: not an OpenID Connect discovery document ({err})"))?;
    if document.issuer != expected_issuer {
        return Err(format!(
            "{url}: discovery names issuer {:?}, not the configured {expected_issuer:?}; \
             configure exactly the issuer your tokens carry in iss",
            document.issuer
        ));
    }
    issuer_url::checked("jwks_uri", &document.jwks_uri).map_err(|err| format!("{url}: {err}"))?;
    Ok(document.jwks_uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_https_or_within_loopback() {
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        let remote = [url("https://idp.example.com/keys")];
        let local = [url("http://127.0.0.1:8080/keys")];
        assert_eq!(redirect_refusal(&remote, &url("https://cdn.example.com/keys")), None);
        assert_eq!(redirect_refusal(&local, &url("http://localhost:9/keys")), None);
        assert_eq!(redirect_refusal(&local, &url("https://idp.example.com/keys")), None);
        let downgrade = redirect_refusal(&remote, &url("http://cdn.example.com/keys"));
        assert_eq!(downgrade, Some("redirect to a URL that is neither https nor loopback http"));
        for inward in ["http://127.0.0.1:2375/", "https://localhost/keys", "http://[::1]:9/"] {
            assert_eq!(redirect_refusal(&remote, &url(inward)), Some("redirect from a remote host to loopback"));
        }
        let hops = [&local[..], &local[..], &local[..], &local[..]].concat();
        assert_eq!(redirect_refusal(&hops[..3], &local[0]), None);
        assert_eq!(redirect_refusal(&hops, &local[0]), Some("more than 3 redirects"));
    }

    #[test]
    fn reads_max_age() {
        assert_eq!(max_age("public, max-age=300"), Some(Duration::from_secs(300)));
        assert_eq!(max_age("Max-Age=5, must-revalidate"), Some(Duration::from_secs(5)));
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=abc"), None);
    }

    #[test]
    fn discovery_must_name_the_issuer() {
        let doc = br#"{"issuer":"https://a.example.com","jwks_uri":"https://a.example.com/keys"}"#;
        assert_eq!(jwks_uri("u", doc, "https://a.example.com").unwrap(), "https://a.example.com/keys");
        let err = jwks_uri("u", doc, "https://b.example.com").unwrap_err();
        assert!(err.contains("not the configured"), "{err}");
        let plain = br#"{"issuer":"https://a.example.com","jwks_uri":"http://a.example.com/keys"}"#;
        assert!(jwks_uri("u", plain, "https://a.example.com").is_err());
    }
}
