//! HTTP GETs for discovery documents and key sets: bounded in time and size, with `max-age` read
//! off.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::error::ConfigError;
use crate::keys::algorithm::{Algorithm, AlgorithmSet};
use crate::keys::issuer_url;
use crate::keys::network_policy::{NetworkPolicy, PolicyRefusal, PolicyResolver};

/// A successful response body and its freshness.
pub(crate) struct Fetched {
    pub(crate) body: Vec<u8>,
    pub(crate) max_age: Option<Duration>,
}

/// The HTTP client of one provider: its resolver and redirects obey the provider's network policy.
pub(crate) fn client(policy: &Arc<NetworkPolicy>) -> Result<reqwest::Client, ConfigError> {
    let redirects = Arc::clone(policy);
    reqwest::Client::builder()
        // Fetches are rare and may come from different runtimes (each actix worker has its own); a
        // pooled connection would tie them to the runtime that opened it. Without a pool, every
        // fetch also resolves its host again, through the policy.
        .pool_max_idle_per_host(0)
        .dns_resolver(PolicyResolver(Arc::clone(policy)))
        .redirect(reqwest::redirect::Policy::custom(
            move |attempt| match redirect_refusal(&redirects, attempt.previous(), attempt.url()) {
                Some(reason) => attempt.error(reason),
                None => attempt.follow(),
            },
        ))
        .user_agent(concat!("auth-core/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| {
            ConfigError::new("HTTP client", format!("cannot start the TLS client: {err}"))
        })
}

/// Why a redirect to `next` is refused, if it is; `previous` holds the first URL and every hop
/// already followed.
fn redirect_refusal(
    policy: &NetworkPolicy,
    previous: &[reqwest::Url],
    next: &reqwest::Url,
) -> Option<String> {
    if previous.len() > 3 {
        return Some("more than 3 redirects".to_owned());
    }
    named_url_refusal(policy, next).map(|reason| format!("redirect to {reason}"))
}

/// Why a URL that a server named (a redirect target, a discovery document's `jwks_uri`) must not be
/// fetched, if it must not.
///
/// Only URLs the configuration itself could name are fetched: https, or http on loopback; a
/// downgrade to plain http elsewhere would let a network attacker serve the keys. Where the URL may
/// lead is the network policy's decision: a literal address here, a name once resolved.
fn named_url_refusal(policy: &NetworkPolicy, to: &reqwest::Url) -> Option<&'static str> {
    if issuer_url::checked("", to.as_str()).is_err() {
        Some("a URL that is neither https nor loopback http")
    } else {
        policy.refusal(to)
    }
}

/// Why a fetch failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FetchError {
    /// What went wrong: the URL and the cause, for logs and startup errors.
    pub(crate) reason: String,
    /// The issuer answered, and the answer cannot work (404, another issuer, no usable key, a URL
    /// the policy refuses): a misconfiguration, not an outage.
    pub(crate) definite: bool,
}

impl FetchError {
    /// A failure that may pass: no connection, a timeout, a 5xx, a 429.
    pub(crate) fn transient(reason: String) -> FetchError {
        FetchError {
            reason,
            definite: false,
        }
    }

    /// A failure that repeats until the configuration or the issuer changes.
    pub(crate) fn definite(reason: String) -> FetchError {
        FetchError {
            reason,
            definite: true,
        }
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// GETs `url`, failing with a message that names the URL and the cause.
pub(crate) async fn get(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
    max_bytes: usize,
) -> Result<Fetched, FetchError> {
    let fetch = async {
        let response = client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|err| send_error(url, &err))?;
        let status = response.status();
        if !status.is_success() {
            let reason = format!("GET {url}: HTTP {status}");
            let passing = status.is_server_error()
                || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                || status == reqwest::StatusCode::REQUEST_TIMEOUT;
            return Err(if passing {
                FetchError::transient(reason)
            } else {
                FetchError::definite(reason)
            });
        }
        let too_large =
            || FetchError::definite(format!("GET {url}: body larger than {max_bytes} bytes"));
        let max_age = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|value| value.to_str().ok())
            .and_then(max_age);
        let body = read_body(response, max_bytes)
            .await
            .map_err(|err| match err {
                BodyError::TooLarge => too_large(),
                BodyError::Read(err) => {
                    FetchError::transient(format!("GET {url}: reading body: {err}"))
                }
            })?;
        Ok(Fetched { body, max_age })
    };
    tokio::time::timeout(timeout, fetch)
        .await
        .unwrap_or_else(|_| {
            Err(FetchError::transient(format!(
                "GET {url}: no complete response within {timeout:?}"
            )))
        })
}

/// Why a response body could not be read.
pub(crate) enum BodyError {
    /// Longer than allowed.
    TooLarge,
    /// The connection failed midway.
    Read(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::TooLarge => f.write_str("body too large"),
            BodyError::Read(err) => f.write_str(err),
        }
    }
}

/// Reads a response body, refusing more than `max_bytes` without buffering them.
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|len| len > max_bytes as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| BodyError::Read(describe(&err)))?
    {
        if body.len() + chunk.len() > max_bytes {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A request that got no response: refused by the policy (a redirect, or a name resolving inward)
/// is a misconfiguration; anything else (no route, refused connection, DNS down) may pass.
fn send_error(url: &str, err: &reqwest::Error) -> FetchError {
    use std::error::Error as _;
    let reason = format!("GET {url}: {}", describe(err));
    let mut source = err.source();
    let mut refused = err.is_redirect();
    while let Some(cause) = source {
        refused |= cause.is::<PolicyRefusal>();
        source = cause.source();
    }
    if refused {
        FetchError::definite(reason)
    } else {
        FetchError::transient(reason)
    }
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

/// `max-age` from a `Cache-Control` value; `no-cache`/`no-store` count as zero (the clamp then
/// applies).
fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control
        .split(',')
        .map(str::trim)
        .find_map(|directive| {
            let lower = directive.to_ascii_lowercase();
            if lower == "no-cache" || lower == "no-store" {
                return Some(Duration::ZERO);
            }
            lower
                .strip_prefix("max-age=")?
                .trim_matches('"')
                .parse()
                .ok()
                .map(Duration::from_secs)
        })
}

#[derive(Deserialize)]
struct DiscoveryDocument {
    issuer: String,
    jwks_uri: String,
    // The lists of algorithms the issuer signs with (OpenID Connect Discovery §3, RFC 8414, RFC
    // 9701).
    #[serde(default)]
    id_token_signing_alg_values_supported: Vec<String>,
    #[serde(default)]
    userinfo_signing_alg_values_supported: Vec<String>,
    #[serde(default)]
    introspection_signing_alg_values_supported: Vec<String>,
    #[serde(default)]
    authorization_signing_alg_values_supported: Vec<String>,
    #[serde(default)]
    introspection_endpoint: Option<String>,
    // Where a person's browser signs in (API documentation only: never fetched by the verifier).
    #[serde(default)]
    authorization_endpoint: Option<String>,
    #[serde(default)]
    token_endpoint: Option<String>,
}

/// What the verifier takes from a discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Discovery {
    pub(crate) jwks_uri: String,
    /// The algorithms the issuer says it signs with, as far as this crate supports them.
    pub(crate) advertised: AlgorithmSet,
    /// Where opaque tokens are introspected (RFC 8414), when the issuer says.
    pub(crate) introspection_endpoint: Option<String>,
    /// The authorization and token endpoints, when the issuer names both as usable URLs: for API
    /// documentation (a browser signs in there), never fetched by the verifier.
    pub(crate) sign_in: Option<SignIn>,
}

/// The OAuth 2.0 endpoints a browser signs in with, as a discovery document names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignIn {
    pub(crate) authorization_endpoint: String,
    pub(crate) token_endpoint: String,
}

/// Reads a discovery document, insisting that it names `expected_issuer`.
pub(crate) fn discovery(
    policy: &NetworkPolicy,
    url: &str,
    body: &[u8],
    expected_issuer: &str,
) -> Result<Discovery, FetchError> {
    let document: DiscoveryDocument = serde_json::from_slice(body).map_err(|err| {
        FetchError::definite(format!(
            "{url}: not an OpenID Connect discovery document ({err})"
        ))
    })?;
    if document.issuer != expected_issuer {
        return Err(FetchError::definite(format!(
            "{url}: discovery names issuer {:?}, not the configured {expected_issuer:?}; configure \
             exactly the issuer your tokens carry in iss",
            document.issuer
        )));
    }
    let jwks_uri = issuer_url::checked("jwks_uri", &document.jwks_uri)
        .map_err(|err| FetchError::definite(format!("{url}: {err}")))?;
    if let Some(reason) = named_url_refusal(policy, &jwks_uri) {
        return Err(FetchError::definite(format!(
            "{url}: jwks_uri {:?} is {reason}",
            document.jwks_uri
        )));
    }
    let advertised = [
        &document.id_token_signing_alg_values_supported,
        &document.userinfo_signing_alg_values_supported,
        &document.introspection_signing_alg_values_supported,
        &document.authorization_signing_alg_values_supported,
    ]
    .into_iter()
    .flatten()
    .filter_map(|name| Algorithm::from_name(name))
    .collect();
    let introspection_endpoint = document.introspection_endpoint.filter(|endpoint| {
        let admitted = issuer_url::checked("introspection_endpoint", endpoint)
            .is_ok_and(|url| named_url_refusal(policy, &url).is_none());
        if !admitted {
            tracing::warn!(
                target: "auth",
                %url,
                endpoint,
                "ignoring an introspection_endpoint it may not call"
            );
        }
        admitted
    });
    // A browser, not this process, goes there, so the network policy does not apply; the URL
    // rules for issuers do (https, or http on loopback; no credentials).
    let sign_in = match (document.authorization_endpoint, document.token_endpoint) {
        (Some(authorization), Some(token)) => {
            let usable = issuer_url::checked("authorization_endpoint", &authorization)
                .and_then(|_| issuer_url::checked("token_endpoint", &token));
            match usable {
                Ok(_) => Some(SignIn {
                    authorization_endpoint: authorization,
                    token_endpoint: token,
                }),
                Err(err) => {
                    tracing::warn!(
                        target: "auth",
                        %url,
                        problem = %err,
                        "leaving the sign-in endpoints out of the API documentation"
                    );
                    None
                }
            }
        }
        _ => None,
    };
    Ok(Discovery {
        jwks_uri: document.jwks_uri,
        advertised,
        introspection_endpoint,
        sign_in,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_https_and_off_this_hosts_network() {
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        let remote = NetworkPolicy::new(["https://idp.example.com/keys"]);
        let local = NetworkPolicy::new(["http://127.0.0.1:8080/keys"]);
        let from_remote = [url("https://idp.example.com/keys")];
        let from_local = [url("http://127.0.0.1:8080/keys")];
        assert_eq!(
            redirect_refusal(&remote, &from_remote, &url("https://cdn.example.com/keys")),
            None
        );
        assert_eq!(
            redirect_refusal(&local, &from_local, &url("http://localhost:9/keys")),
            None
        );
        assert_eq!(
            redirect_refusal(&local, &from_local, &url("https://idp.example.com/keys")),
            None
        );
        let downgrade =
            redirect_refusal(&remote, &from_remote, &url("http://cdn.example.com/keys"));
        assert_eq!(
            downgrade.as_deref(),
            Some("redirect to a URL that is neither https nor loopback http")
        );
        for inward in [
            "http://127.0.0.1:2375/",
            "https://[::ffff:127.0.0.1]/keys",
            "https://0.0.0.0/",
            "http://[::1]:9/",
        ] {
            let refusal = redirect_refusal(&remote, &from_remote, &url(inward));
            assert_eq!(
                refusal.as_deref(),
                Some("redirect to an address on this host's own network"),
                "{inward}"
            );
        }
        let hops = [
            &from_local[..],
            &from_local[..],
            &from_local[..],
            &from_local[..],
        ]
        .concat();
        assert_eq!(redirect_refusal(&local, &hops[..3], &from_local[0]), None);
        assert_eq!(
            redirect_refusal(&local, &hops, &from_local[0]).as_deref(),
            Some("more than 3 redirects")
        );
    }

    #[test]
    fn reads_max_age() {
        assert_eq!(
            max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            max_age("Max-Age=5, must-revalidate"),
            Some(Duration::from_secs(5))
        );
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=abc"), None);
    }

    #[test]
    fn discovery_must_name_the_issuer() {
        let remote = NetworkPolicy::new(["https://a.example.com/.well-known/openid-configuration"]);
        let doc = br#"{"issuer":"https://a.example.com","jwks_uri":"https://a.example.com/keys"}"#;
        let found = discovery(&remote, "u", doc, "https://a.example.com").unwrap();
        assert_eq!(
            found,
            Discovery {
                jwks_uri: "https://a.example.com/keys".into(),
                advertised: AlgorithmSet::EMPTY,
                introspection_endpoint: None,
                sign_in: None,
            }
        );
        let err = discovery(&remote, "u", doc, "https://b.example.com").unwrap_err();
        assert!(
            err.definite && err.reason.contains("not the configured"),
            "{err}"
        );
        let plain = br#"{"issuer":"https://a.example.com","jwks_uri":"http://a.example.com/keys"}"#;
        assert!(discovery(&remote, "u", plain, "https://a.example.com").is_err());
        for inward in [
            "http://127.0.0.1:2375/keys",
            "https://169.254.169.254/keys",
            "https://[fd00::1]/keys",
        ] {
            let doc = format!(r#"{{"issuer":"https://a.example.com","jwks_uri":"{inward}"}}"#);
            let err = discovery(&remote, "u", doc.as_bytes(), "https://a.example.com").unwrap_err();
            assert!(
                err.definite && err.reason.contains("this host's own network"),
                "{inward}: {err}"
            );
        }
        let local = NetworkPolicy::new(["http://127.0.0.1:9/.well-known/openid-configuration"]);
        let doc = br#"{"issuer":"http://127.0.0.1:9","jwks_uri":"http://127.0.0.1:9/keys"}"#;
        assert!(discovery(&local, "u", doc, "http://127.0.0.1:9").is_ok());
    }

    #[test]
    fn discovery_names_the_sign_in_endpoints_only_as_usable_urls() {
        let policy = NetworkPolicy::new(["https://a.example.com/"]);
        let with = |authorization: &str, token: &str| {
            let doc = format!(
                r#"{{"issuer":"https://a.example.com","jwks_uri":"https://a.example.com/keys",
                "authorization_endpoint":"{authorization}","token_endpoint":"{token}"}}"#
            );
            discovery(&policy, "u", doc.as_bytes(), "https://a.example.com")
                .unwrap()
                .sign_in
        };
        assert_eq!(
            with("https://a.example.com/auth", "https://a.example.com/token"),
            Some(SignIn {
                authorization_endpoint: "https://a.example.com/auth".into(),
                token_endpoint: "https://a.example.com/token".into(),
            })
        );
        assert!(with("http://127.0.0.1:9/auth", "http://127.0.0.1:9/token").is_some());
        for (authorization, token) in [
            ("http://a.example.com/auth", "https://a.example.com/token"),
            ("https://a.example.com/auth", "javascript:alert(1)"),
            (
                "https://user:pw@a.example.com/auth",
                "https://a.example.com/token",
            ),
        ] {
            assert_eq!(with(authorization, token), None, "{authorization} {token}");
        }
        let one = br#"{"issuer":"https://a.example.com","jwks_uri":"https://a.example.com/keys",
            "authorization_endpoint":"https://a.example.com/auth"}"#;
        let found = discovery(&policy, "u", one, "https://a.example.com").unwrap();
        assert_eq!(found.sign_in, None, "a token endpoint is needed too");
    }

    #[test]
    fn discovery_lists_the_algorithms_the_issuer_signs_with() {
        let policy = NetworkPolicy::new(["https://a.example.com/"]);
        let doc = br#"{"issuer":"https://a.example.com","jwks_uri":"https://a.example.com/keys",
            "id_token_signing_alg_values_supported":["PS256","HS256","none"],
            "userinfo_signing_alg_values_supported":["ES256"],
            "token_endpoint_auth_signing_alg_values_supported":["RS512"]}"#;
        let found = discovery(&policy, "u", doc, "https://a.example.com").unwrap();
        assert_eq!(
            found.advertised,
            AlgorithmSet::of(&[Algorithm::PS256, Algorithm::ES256])
        );
    }

    /// The client connects through the policy's resolver: a remote provider's client never reaches
    /// a loopback server by a name, and a local provider's client does.
    #[tokio::test]
    async fn the_client_resolves_through_the_policy() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
                let _ = stream.write_all(reply.as_bytes()).await;
            }
        });
        let url = format!("http://localhost:{port}/keys");
        let remote = client(&NetworkPolicy::new(["https://idp.example.com/keys"])).unwrap();
        let err = get(&remote, &url, Duration::from_secs(2), 1024)
            .await
            .err()
            .unwrap();
        assert!(err.definite && err.reason.contains("own network"), "{err}");
        assert_eq!(
            connections.load(Ordering::SeqCst),
            0,
            "nothing was connected to"
        );
        let local = client(&NetworkPolicy::new([url.as_str()])).unwrap();
        assert_eq!(
            get(&local, &url, Duration::from_secs(2), 1024)
                .await
                .unwrap()
                .body,
            b"{}"
        );
    }
}
