//! The introspection client at run time: one provider's endpoint, how the API authenticates to it,
//! how many calls at once, and how it answered last (for readiness).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;

use crate::error::{AuthError, ConfigError};
use crate::health::{IntrospectionHealth, IntrospectionStatus};
use crate::introspection::{ClientAuth, Introspection};
use crate::keys::fetch::{self, FetchError};
use crate::keys::store::KeyStore;

/// Largest introspection response read.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Introspection requests in flight at once per provider; more wait their turn, within the timeout.
/// A flood of made-up opaque tokens can thus cost the issuer this much concurrency, not more.
const MAX_IN_FLIGHT: usize = 16;

/// `Retry-After` of a refusal an operator must fix (refused credentials, a token type the issuer
/// does not introspect): retrying sooner cannot help.
const MISCONFIGURED_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Most of an issuer's `error_description` kept for logs.
const MAX_DESCRIPTION_LEN: usize = 200;

/// One provider's introspection at run time: where to ask, how to authenticate, how many at once,
/// and how the endpoint answered last.
pub(crate) struct IntrospectionClient {
    pub(crate) config: Introspection,
    client: reqwest::Client,
    keys: Arc<KeyStore>,
    /// The issuer, the audience of client assertions.
    issuer: String,
    timeout: Duration,
    gate: Semaphore,
    /// How long an endpoint that refused this API waits before readiness probes it again.
    recheck_after: Duration,
    state: Mutex<EndpointState>,
    /// A background probe is running (at most one).
    probing: AtomicBool,
}

impl std::fmt::Debug for IntrospectionClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectionClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// How the endpoint answered its last call, for readiness.
struct EndpointState {
    endpoint: Option<String>,
    status: IntrospectionStatus,
    refuses_jwts: bool,
    at: Option<Instant>,
    last_error: Option<String>,
}

/// What the issuer said of a token.
pub(crate) enum Answer {
    /// Active, with the response's claims.
    Active(Map<String, Value>),
    /// Not active: revoked, expired, unknown, or not for this client.
    Inactive,
}

/// Why the startup probe of an endpoint failed.
pub(crate) enum ProbeFailure {
    /// The issuer answered, and the settings cannot work: refused credentials, no endpoint, JWTs
    /// refused under `all_tokens`.
    Misconfigured(ConfigError),
    /// No usable answer for now (URL and cause).
    Unreachable(String),
}

/// A change in how the endpoint stands that an operator must hear of once, not per request.
enum Turn {
    Refused(String),
    Readmitted,
    JwtsRefused(String),
    JwtsTaken,
}

impl IntrospectionClient {
    pub(crate) fn new(
        config: Introspection,
        client: reqwest::Client,
        keys: Arc<KeyStore>,
        issuer: String,
        timeout: Duration,
        recheck_after: Duration,
    ) -> IntrospectionClient {
        IntrospectionClient {
            config,
            client,
            keys,
            issuer,
            timeout,
            gate: Semaphore::new(MAX_IN_FLIGHT),
            recheck_after,
            state: Mutex::new(EndpointState {
                endpoint: None,
                status: IntrospectionStatus::Unchecked,
                refuses_jwts: false,
                at: None,
                last_error: None,
            }),
            probing: AtomicBool::new(false),
        }
    }

    /// The introspection request for `token`: authenticated as the client is configured to be.
    fn request(
        &self,
        endpoint: &str,
        token: &str,
    ) -> Result<(reqwest::RequestBuilder, String), String> {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("token", token)
            .append_pair("token_type_hint", "access_token");
        let mut request = self.client.post(endpoint);
        match &self.config.client {
            ClientAuth::Basic { client_id, secret } => {
                request =
                    request.header(reqwest::header::AUTHORIZATION, basic(client_id, &secret.0));
            }
            ClientAuth::Post { client_id, secret } => {
                form.append_pair("client_id", client_id)
                    .append_pair("client_secret", &secret.0);
            }
            ClientAuth::PrivateKeyJwt { client_id, key } => {
                let assertion = key.assertion(client_id, &self.issuer)?;
                form.append_pair(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                )
                .append_pair("client_assertion", &assertion)
                .append_pair("client_id", client_id);
            }
        }
        Ok((request, form.finish()))
    }

    /// Asks the issuer about `token`; `signed` says it is a JWT whose signature verified (sent
    /// because of [`Introspection::all_tokens`]). Records how the endpoint answered.
    pub(crate) async fn introspect(&self, token: &str, signed: bool) -> Result<Answer, AuthError> {
        let started = std::time::Instant::now();
        let unavailable = |reason: String| AuthError::IntrospectionUnavailable {
            reason,
            retry_after: Duration::from_secs(5),
        };
        let work = async {
            let _turn = self
                .gate
                .acquire()
                .await
                .map_err(|_| unavailable("closed".into()))?;
            let endpoint = self
                .endpoint()
                .await
                .map_err(|err| unavailable(err.reason))?;
            let (request, body) = self.request(&endpoint, token).map_err(unavailable)?;
            let response = request
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .header(reqwest::header::ACCEPT, "application/json")
                .body(body)
                .send()
                .await
                .map_err(|err| unavailable(format!("POST {endpoint}: {err}")))?;
            let status = response.status();
            let body = fetch::read_body(response, MAX_RESPONSE_BYTES)
                .await
                .map_err(|err| unavailable(format!("POST {endpoint}: {err}")))?;
            if !status.is_success() {
                return Err(self.refusal(&endpoint, status, &body, signed));
            }
            let mut document: Map<String, Value> = serde_json::from_slice(&body)
                .map_err(|_| unavailable(format!("POST {endpoint}: not a JSON object")))?;
            if document.get("active") != Some(&Value::Bool(true)) {
                return Ok(Answer::Inactive);
            }
            document.remove("active");
            Ok(Answer::Active(document))
        };
        let answer = tokio::time::timeout(self.timeout, work)
            .await
            .unwrap_or_else(|_| {
                Err(unavailable(format!(
                    "no introspection answer within {:?}",
                    self.timeout
                )))
            });
        tracing::debug!(
            target: "auth",
            elapsed = ?started.elapsed(),
            active = matches!(answer, Ok(Answer::Active(_))),
            "token introspected"
        );
        self.record(&answer, signed);
        answer
    }

    /// The refusal of a non-2xx answer: refused credentials and a refused token type are settings
    /// to fix, told apart from an outage by the issuer's status and OAuth `error` code.
    fn refusal(
        &self,
        endpoint: &str,
        status: reqwest::StatusCode,
        body: &[u8],
        signed: bool,
    ) -> AuthError {
        let error: Option<Map<String, Value>> = serde_json::from_slice(body).ok();
        let text = |name: &str| {
            error
                .as_ref()
                .and_then(|error| error.get(name))
                .and_then(Value::as_str)
        };
        let code = text("error");
        let mut answer = format!("HTTP {}", status.as_u16());
        if let Some(code) = code {
            answer = format!("{answer} {}", clipped(code));
        }
        if let Some(description) = text("error_description") {
            answer = format!("{answer} ({})", clipped(description));
        }
        let client_error = status.is_client_error();
        if status == reqwest::StatusCode::UNAUTHORIZED
            || (client_error && matches!(code, Some("invalid_client" | "unauthorized_client")))
        {
            return AuthError::IntrospectionUnauthorized {
                setting: self.config.credentials(),
                reason: format!(
                    "POST {endpoint}: {answer}; {}",
                    self.config.credentials_hint()
                ),
                retry_after: MISCONFIGURED_RETRY_AFTER,
            };
        }
        if client_error && code == Some("unsupported_token_type") {
            let reason = if signed {
                format!(
                    "POST {endpoint}: {answer}: the issuer does not introspect signed JWTs, which \
                     Introspection::all_tokens sends it, so every JWT of this issuer is refused; \
                     remove .all_tokens() for it (its JWTs are then verified here alone, and a \
                     revocation at the issuer waits for their exp: keep their lifetime short)"
                )
            } else {
                format!("POST {endpoint}: {answer}: the issuer does not introspect this token")
            };
            return AuthError::IntrospectionUnsupportedToken {
                reason,
                retry_after: MISCONFIGURED_RETRY_AFTER,
            };
        }
        AuthError::IntrospectionUnavailable {
            reason: format!("POST {endpoint}: {answer}"),
            retry_after: Duration::from_secs(5),
        }
    }

    /// Keeps how the endpoint answered, and tells the operator once when it starts or stops
    /// refusing this API.
    fn record(&self, answer: &Result<Answer, AuthError>, signed: bool) {
        let turn = {
            let mut state = self.state();
            state.at = Some(Instant::now());
            let was_refused = state.status == IntrospectionStatus::Unauthorized;
            let mut turn = None;
            match answer {
                Ok(_) => {
                    state.status = IntrospectionStatus::Ok;
                    state.last_error = None;
                    if was_refused {
                        turn = Some(Turn::Readmitted);
                    }
                    if signed && std::mem::take(&mut state.refuses_jwts) {
                        turn = Some(Turn::JwtsTaken);
                    }
                }
                Err(error @ AuthError::IntrospectionUnauthorized { .. }) => {
                    state.status = IntrospectionStatus::Unauthorized;
                    state.last_error = Some(error.to_string());
                    if !was_refused {
                        turn = Some(Turn::Refused(error.to_string()));
                    }
                }
                Err(error @ AuthError::IntrospectionUnsupportedToken { .. }) => {
                    // The issuer took the credentials to answer that.
                    state.status = IntrospectionStatus::Ok;
                    state.last_error = Some(error.to_string());
                    if signed && !std::mem::replace(&mut state.refuses_jwts, true) {
                        turn = Some(Turn::JwtsRefused(error.to_string()));
                    }
                }
                Err(error) => {
                    state.status = IntrospectionStatus::Unreachable;
                    state.last_error = Some(error.to_string());
                }
            }
            turn
        };
        let issuer = &self.issuer;
        match turn {
            Some(Turn::Refused(reason)) => tracing::error!(
                target: "auth",
                %issuer,
                setting = %self.config.credentials(),
                %reason,
                "the introspection endpoint refuses this API's client credentials: opaque tokens \
                 are refused with 503 and readiness fails until they are fixed"
            ),
            Some(Turn::JwtsRefused(reason)) => tracing::error!(
                target: "auth",
                %issuer,
                setting = "Introspection::all_tokens",
                %reason,
                "the issuer does not introspect signed JWTs: every JWT is refused with 503 and \
                 readiness fails while Introspection::all_tokens stays on"
            ),
            Some(Turn::Readmitted) => tracing::info!(
                target: "auth",
                %issuer,
                "the introspection endpoint accepts this API's client credentials again"
            ),
            Some(Turn::JwtsTaken) => tracing::info!(
                target: "auth",
                %issuer,
                "the issuer introspects signed JWTs again"
            ),
            None => {}
        }
    }

    /// Asks the endpoint about tokens that cannot be active, to learn whether the settings work:
    /// a random opaque value proves the credentials (the issuer answers `active: false`); under
    /// [`Introspection::all_tokens`], a JWT-shaped one shows whether it introspects JWTs at all.
    pub(crate) async fn probe(&self) -> Result<(), ProbeFailure> {
        if let Err(err) = self.endpoint().await {
            let failure = if err.definite {
                ProbeFailure::Misconfigured(ConfigError::new("Introspection::endpoint", err.reason))
            } else {
                ProbeFailure::Unreachable(err.reason)
            };
            return Err(failure);
        }
        let mut probes = vec![(random_value(), false)];
        if self.config.all_tokens {
            probes.push((self.jwt_probe(), true));
        }
        for (token, signed) in probes {
            match self.introspect(&token, signed).await {
                Ok(_) => {}
                Err(AuthError::IntrospectionUnauthorized {
                    setting, reason, ..
                }) => {
                    return Err(ProbeFailure::Misconfigured(ConfigError::new(
                        setting,
                        format!(
                            "the introspection endpoint refuses this API's client credentials: \
                             {reason}"
                        ),
                    )));
                }
                Err(AuthError::IntrospectionUnsupportedToken { reason, .. }) if signed => {
                    return Err(ProbeFailure::Misconfigured(ConfigError::new(
                        "Introspection::all_tokens",
                        reason,
                    )));
                }
                Err(other) => return Err(ProbeFailure::Unreachable(other.to_string())),
            }
        }
        Ok(())
    }

    /// A JWT no issuer can call active: made-up signature, long expired. Never verified here.
    fn jwt_probe(&self) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": "introspection-probe"});
        let claims = json!({"iss": self.issuer, "jti": random_value(), "iat": 1, "exp": 2});
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            random_value()
        )
    }

    /// How the endpoint stands, for readiness.
    pub(crate) fn health(&self) -> IntrospectionHealth {
        let state = self.state();
        IntrospectionHealth {
            endpoint: state
                .endpoint
                .clone()
                .or_else(|| self.config.endpoint.clone()),
            status: state.status,
            refuses_jwts: state.refuses_jwts,
            age: state.at.map(|at| at.elapsed()),
            last_error: state.last_error.clone(),
        }
    }

    /// Probes again in the background, when the endpoint refused this API and has not been asked
    /// for `recheck_after`: an instance that readiness takes out of service gets no requests
    /// whose answers could bring it back. Needs a Tokio runtime; without one, does nothing.
    pub(crate) fn recheck_if_due(self: &Arc<Self>) {
        let due = {
            let state = self.state();
            (state.status == IntrospectionStatus::Unauthorized || state.refuses_jwts)
                && state.at.is_none_or(|at| at.elapsed() >= self.recheck_after)
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if !due || self.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = Arc::clone(self);
        runtime.spawn(async move {
            let _done = ProbeDone(&this.probing);
            // The outcome is recorded in the state, and logged on a change.
            let _ = this.probe().await;
        });
    }

    fn state(&self) -> MutexGuard<'_, EndpointState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn endpoint(&self) -> Result<String, FetchError> {
        let endpoint = match &self.config.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => self.keys.introspection_endpoint().await?,
        };
        let mut state = self.state();
        if state.endpoint.as_deref() != Some(endpoint.as_str()) {
            state.endpoint = Some(endpoint.clone());
        }
        Ok(endpoint)
    }
}

/// Clears the probing flag however the probe ends (a runtime shutting down drops it midway).
struct ProbeDone<'a>(&'a AtomicBool);

impl Drop for ProbeDone<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// 32 random bytes, base64url: a token value no issuer has issued.
fn random_value() -> String {
    let mut bytes = [0u8; 32];
    // Randomness failing is next to impossible; the fixed value is as unissued.
    if SystemRandom::new().fill(&mut bytes).is_err() {
        return "introspection-probe".to_owned();
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// At most `MAX_DESCRIPTION_LEN` bytes of an issuer's text, cut at a character boundary.
fn clipped(text: &str) -> &str {
    let mut end = text.len().min(MAX_DESCRIPTION_LEN);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `Authorization: Basic`, each part form-encoded first as RFC 6749 §2.3.1 asks.
fn basic(client_id: &str, secret: &str) -> String {
    let encode =
        |part: &str| url::form_urlencoded::byte_serialize(part.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)))
    )
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::RsaKeyPair;

    use super::*;
    use crate::introspection::client_key::ClientKey;
    use crate::introspection::{check_routing, zitadel_key_file};

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        assert_eq!(
            basic("api", "s3cret"),
            format!("Basic {}", STANDARD.encode("api:s3cret"))
        );
        assert_eq!(
            basic("a b", "x:y"),
            format!("Basic {}", STANDARD.encode("a+b:x%3Ay"))
        );
    }

    #[test]
    fn opaque_tokens_must_be_routable_to_one_provider() {
        let named = |list: &[(&str, Option<&str>)]| -> Vec<(String, Option<String>)> {
            list.iter()
                .map(|(name, prefix)| ((*name).to_owned(), prefix.map(str::to_owned)))
                .collect()
        };
        assert!(check_routing(&named(&[("a", None)])).is_ok());
        assert!(check_routing(&named(&[("a", Some("a_")), ("b", None)])).is_ok());
        assert!(check_routing(&named(&[("a", Some("a_")), ("b", Some("b_"))])).is_ok());
        let both =
            check_routing(&named(&[("a", None), ("b", Some("b_")), ("c", None)])).unwrap_err();
        assert_eq!(both.setting, "Introspection::token_prefix");
        assert!(both.problem.contains("a and c"), "{both}");
        for (first, second) in [("at_", "at_x"), ("at_x", "at_"), ("at_", "at_")] {
            let overlap =
                check_routing(&named(&[("a", Some(first)), ("b", Some(second))])).unwrap_err();
            assert!(overlap.problem.contains("overlap"), "{overlap}");
        }
        let empty = Introspection::client_secret_basic("api", "s")
            .token_prefix("")
            .validate("Provider::oidc(issuer)")
            .unwrap_err();
        assert!(empty.setting.ends_with("token_prefix"), "{empty}");
    }

    #[test]
    fn zitadel_key_files_are_read_and_explained() {
        use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let der: Pkcs8V1Der<'_> = pair.as_der().unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(der.as_ref())
        );
        let file = json!({
            "type": "application", "keyId": "k1", "key": pem, "appId": "a1", "clientId": "c1@p",
        });
        let introspection = zitadel_key_file(&file.to_string()).unwrap();
        assert_eq!(introspection.client_id(), "c1@p");
        let ClientAuth::PrivateKeyJwt { key, .. } = &introspection.client else {
            panic!()
        };
        let assertion = key.assertion("c1@p", "https://issuer").unwrap();
        let payload: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(assertion.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            (payload["iss"].as_str(), payload["aud"].as_str()),
            (Some("c1@p"), Some("https://issuer"))
        );
        let missing = zitadel_key_file(r#"{"keyId": "k1"}"#).unwrap_err();
        assert!(
            missing.problem.contains("keyId, key and clientId"),
            "{missing}"
        );
        let unreadable = zitadel_key_file("/no/such/file.json").unwrap_err();
        assert!(unreadable.problem.contains("cannot read"), "{unreadable}");
        assert!(ClientKey::from_pem("not pem", None).is_err());
    }
}
