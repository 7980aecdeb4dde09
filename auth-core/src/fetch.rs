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
fn redirect_refusal(previous: &[reqwest::Url], next: &reqwest::Url) -> Option<String> {
    if previous.len() > 3 {
        return Some("more than 3 redirects".to_owned());
    }
    let Some(from) = previous.last() else { return Some("redirect with no origin".to_owned()) };
    named_url_refusal(from, next).map(|reason| format!("redirect to {reason}"))
}

/// Why a URL that the server at `from` named (a redirect target, a discovery document's `jwks_uri`)
/// must not be fetched, if it must not.
///
/// Only URLs the configuration itself could name are fetched: https, or http on loopback; a downgrade to
/// plain http elsewhere would let a network attacker serve the keys. Loopback is reachable only from
/// loopback, so a remote issuer cannot point the fetch at the API host's own local services.
fn named_url_refusal(from: &reqwest::Url, to: &reqwest::Url) -> Option<&'static str> {
    if issuer_url::checked("", to.as_str()).is_err() {
        Some("a URL that is neither https nor loopback http")
    } else if issuer_url::is_loopback(to) && !issuer_url::is_loopback(from) {
        Some("a loopback URL named by a remote host")
    } else {
        None
    }
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
    let jwks_uri = issuer_url::checked("jwks_uri", &document.jwks_uri).map_err(|err| format!("{url}: {err}"))?;
    if let Ok(from) = reqwest::Url::parse(url)
        && let Some(reason) = named_url_refusal(&from, &jwks_uri)
    {
        return Err(format!("{url}: jwks_uri {:?} is {reason}", document.jwks_uri));
    }
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
        let refused = |previous: &[reqwest::Url], next: &str| redirect_refusal(previous, &url(next));
        assert_eq!(refused(&remote, "https://cdn.example.com/keys"), None);
        assert_eq!(refused(&local, "http://localhost:9/keys"), None);
        assert_eq!(refused(&local, "https://idp.example.com/keys"), None);
        let downgrade = refused(&remote, "http://cdn.example.com/keys");
        assert_eq!(downgrade.as_deref(), Some("redirect to a URL that is neither https nor loopback http"));
        for inward in ["http://127.0.0.1:2375/", "https://localhost/keys", "http://[::1]:9/"] {
            assert_eq!(refused(&remote, inward).as_deref(), Some("redirect to a loopback URL named by a remote host"));
        }
        let hops = [&local[..], &local[..], &local[..], &local[..]].concat();
        assert_eq!(redirect_refusal(&hops[..3], &local[0]), None);
        assert_eq!(redirect_refusal(&hops, &local[0]).as_deref(), Some("more than 3 redirects"));
        assert!(redirect_refusal(&[], &local[0]).is_some(), "no origin: refused");
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
        let inward = br#"{"issuer":"https://a.example.com","jwks_uri":"http://127.0.0.1:2375/keys"}"#;
        let err = jwks_uri("https://a.example.com/.well-known/openid-configuration", inward, "https://a.example.com")
            .unwrap_err();
        assert!(err.contains("a loopback URL named by a remote host"), "{err}");
        let local = br#"{"issuer":"http://127.0.0.1:9","jwks_uri":"http://127.0.0.1:9/keys"}"#;
        assert!(jwks_uri("http://127.0.0.1:9/.well-known/openid-configuration", local, "http://127.0.0.1:9").is_ok());
    }
}
