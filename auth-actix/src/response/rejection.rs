//! Refusals rendered as responses: the JSON body, `WWW-Authenticate` (RFC 6750 §3) and
//! `Retry-After`.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use auth_core::{AuthError, ErrorCode};
use serde_json::json;

use crate::response::TARGET;

/// The `realm` of `WWW-Authenticate` unless [`JwtAuth::realm`](crate::JwtAuth::realm) sets
/// another.
pub(crate) const DEFAULT_REALM: &str = "api";

/// Replaces the JSON body of refusals with the application's own format. `WWW-Authenticate` and
/// `Retry-After` are still added when the handler's response lacks them.
pub type ErrorHandler = Arc<dyn Fn(&AuthRejection) -> HttpResponse + Send + Sync>;

/// A refused request: the reason, and how to answer it.
///
/// It is the error type of every extractor and guard, and renders itself: the JSON body of the
/// error table, `WWW-Authenticate` and `Retry-After`.
///
/// ```
/// use actix_web::{test, web, App};
/// use auth_actix::testing::{TestIssuer, TestRequestExt};
/// use auth_actix::{Identity, JwtAuth, Verified};
///
/// # #[actix_web::main] async fn main() {
/// let issuer = TestIssuer::start().await;
/// let app = test::init_service(
///     App::new()
///         .wrap(JwtAuth::new(issuer.provider()).unwrap().realm("orders"))
///         .route("/me", web::get().to(|_: Verified<Identity>| async { "hi" })),
/// )
/// .await;
/// let expired = issuer.token().expired().sign();
/// let req = test::TestRequest::get().uri("/me").bearer(&expired).to_request();
/// let response = test::call_service(&app, req).await;
/// assert_eq!(response.status(), 401);
/// let challenge = response.headers().get("www-authenticate").unwrap().to_str().unwrap();
/// assert!(challenge.starts_with(r#"Bearer realm="orders", error="invalid_token""#));
/// let body: serde_json::Value = test::read_body_json(response).await;
/// assert_eq!(body["error"]["code"], "TOKEN_EXPIRED");
/// # }
/// ```
#[derive(Clone)]
pub struct AuthRejection {
    error: AuthError,
    realm: Arc<str>,
    handler: Option<ErrorHandler>,
    dpop: Option<Box<DpopChallenge>>,
    resource: Option<Box<ResourceChallenge>>,
}

/// What challenges say about the protected resource a refused request belongs to (RFC 9728 §5.1,
/// RFC 6750 §3, MCP authorization 2025-11-25), in every challenge.
#[derive(Clone, Debug)]
pub(crate) struct ResourceChallenge {
    /// The resource's metadata URL, `resource_metadata`.
    pub(crate) metadata_url: String,
    /// The scopes the route asks for, else the resource's `scopes_supported`, space-separated;
    /// `None` rather than an empty `scope` (the MCP TypeScript SDK would read `""` literally).
    pub(crate) scope: Option<String>,
}

/// What the `DPoP` challenge (RFC 9449 §7.1) says beside the `Bearer` one.
#[derive(Clone, Debug)]
pub(crate) struct DpopChallenge {
    /// The proof algorithms accepted, space-separated.
    pub(crate) algs: Arc<str>,
    /// The refused token came with the DPoP scheme, so the error belongs to that challenge.
    pub(crate) presented: bool,
    /// A fresh server nonce, sent as `DPoP-Nonce` when the proof lacked a current one.
    pub(crate) nonce: Option<String>,
}

impl AuthRejection {
    /// The one way a refusal is made: `error`, answered in `realm`, with the application's body
    /// format (`handler`) if any, and the `DPoP` challenge beside the `Bearer` one where a
    /// configured provider can issue DPoP-bound tokens (`dpop`).
    pub(crate) fn new(
        error: AuthError,
        realm: Arc<str>,
        handler: Option<ErrorHandler>,
        dpop: Option<DpopChallenge>,
    ) -> Self {
        AuthRejection {
            error,
            realm,
            handler,
            dpop: dpop.map(Box::new),
            resource: None,
        }
    }

    /// The same refusal pointing clients at the protected resource the request belongs to.
    pub(crate) fn for_resource(mut self, resource: Option<ResourceChallenge>) -> Self {
        self.resource = resource.map(Box::new);
        self
    }

    /// Why the request was refused (for logs; the client sees only the code's safe message).
    pub fn error(&self) -> &AuthError {
        &self.error
    }

    /// The public error code.
    pub fn code(&self) -> ErrorCode {
        self.error.code()
    }

    /// The HTTP status the code is answered with: 401, 403, 503 or 500.
    pub fn status(&self) -> StatusCode {
        match self.code() {
            ErrorCode::Unauthorized
            | ErrorCode::InvalidToken
            | ErrorCode::TokenExpired
            | ErrorCode::InvalidDpopProof
            | ErrorCode::UseDpopNonce
            | ErrorCode::InsufficientAuthentication => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::AuthUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The RFC 6750 §3 challenges, and RFC 9449 §7.1's `DPoP` one where a configured provider can
    /// issue DPoP-bound tokens: `error="invalid_token"` when a token was sent and refused,
    /// `insufficient_scope` when the caller lacks a role or scope,
    /// `insufficient_user_authentication` with `acr_values` and `max_age` for a step-up (RFC 9470
    /// §3), `invalid_dpop_proof` or
    /// `use_dpop_nonce` for a proof, a bare challenge when no token came. The scheme the token came
    /// with carries the error; `Bearer` always comes first, as some clients (the MCP TypeScript
    /// SDK) read only the first. On a configured protected resource, every challenge also carries
    /// `scope` (RFC 6750 §3) and `resource_metadata` (RFC 9728 §5.1). Every value is quoted, one
    /// space follows the scheme, and no value holds `=` or a quote (the SDK finds parameters with
    /// a regular expression over the whole header).
    fn www_authenticate(&self) -> Vec<String> {
        let Some(error_params) = self.error_parameters() else {
            return Vec::new();
        };
        let mut shared = Vec::new();
        if let Some(resource) = &self.resource {
            if let Some(scope) = &resource.scope {
                shared.push(("scope", scope.as_str()));
            }
            shared.push(("resource_metadata", resource.metadata_url.as_str()));
        }
        let realm = [("realm", &*self.realm)];
        let challenge = |scheme: &str, params: &[(&str, &str)]| {
            let params: Vec<String> = params
                .iter()
                .map(|(name, value)| format!("{name}=\"{value}\""))
                .collect();
            format!("{scheme} {}", params.join(", "))
        };
        let error_params: Vec<(&str, &str)> = error_params
            .iter()
            .map(|(name, value)| (*name, value.as_ref()))
            .collect();
        let Some(dpop) = &self.dpop else {
            let params = [&realm[..], &error_params, &shared].concat();
            return vec![challenge("Bearer", &params)];
        };
        let on_dpop = dpop.presented
            || matches!(
                self.error,
                AuthError::InvalidDpopProof(_)
                    | AuthError::UseDpopNonce
                    | AuthError::DpopBinding(_)
            );
        let (bearer_error, dpop_error): (&[_], &[_]) = match on_dpop {
            true => (&[], &error_params),
            false => (&error_params, &[]),
        };
        let algs = [("algs", &*dpop.algs)];
        vec![
            challenge("Bearer", &[&realm[..], bearer_error, &shared].concat()),
            challenge("DPoP", &[&realm[..], dpop_error, &algs, &shared].concat()),
        ]
    }

    /// The parameters naming what went wrong, for the challenge of the scheme the token came with
    /// (none when no token came); `None` when the refusal carries no challenge at all (503, 500).
    /// One place, so another kind of refusal adds its parameters here.
    fn error_parameters(&self) -> Option<Vec<(&'static str, Cow<'static, str>)>> {
        let error = match self.code() {
            ErrorCode::Unauthorized => return Some(Vec::new()),
            ErrorCode::InvalidToken | ErrorCode::TokenExpired => "invalid_token",
            ErrorCode::Forbidden => "insufficient_scope",
            ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            ErrorCode::UseDpopNonce => "use_dpop_nonce",
            ErrorCode::InsufficientAuthentication => "insufficient_user_authentication",
            ErrorCode::AuthUnavailable | ErrorCode::Internal => return None,
        };
        let mut params = vec![
            ("error", Cow::Borrowed(error)),
            ("error_description", Cow::Borrowed(self.error.description())),
        ];
        params.extend(step_up_params(&self.error));
        Some(params)
    }
}

/// What a step-up refusal asks for (RFC 9470 §3, §4): `acr_values` space-separated in the rule's
/// order, and `max_age`; nothing for other refusals.
fn step_up_params(error: &AuthError) -> Vec<(&'static str, Cow<'static, str>)> {
    let mut params = Vec::new();
    if let AuthError::InsufficientAuthentication {
        acr_values,
        max_age,
        ..
    } = error
    {
        if !acr_values.is_empty() {
            params.push(("acr_values", Cow::Owned(acr_values.join(" "))));
        }
        if let Some(max_age) = max_age {
            params.push(("max_age", Cow::Owned(max_age.to_string())));
        }
    }
    params
}

impl fmt::Debug for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthRejection")
            .field("error", &self.error)
            .finish()
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Shown by actix in its own logs: the safe message, never the internal reason.
        f.write_str(self.code().message())
    }
}

impl ResponseError for AuthRejection {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let code = self.code();
        let mut response = match &self.handler {
            Some(handler) => handler(self),
            None => HttpResponse::build(self.status_code())
                .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
                .json(json!({ "error": { "code": code.as_str(), "message": code.message() } })),
        };
        let headers = response.headers_mut();
        if !headers.contains_key(header::WWW_AUTHENTICATE) {
            for challenge in self.www_authenticate() {
                match HeaderValue::from_str(&challenge) {
                    Ok(value) => headers.append(header::WWW_AUTHENTICATE, value),
                    // Every configured value is checked when built, so this is a bug: say so
                    // rather than answer a 401 without a challenge (RFC 6750 §3) unnoticed.
                    Err(_) => tracing::error!(
                        target: TARGET,
                        challenge = %challenge.escape_debug(),
                        "a WWW-Authenticate challenge holds bytes a header cannot carry and was \
                         left out of the response"
                    ),
                }
            }
        }
        if let Some(nonce) = self.dpop.as_ref().and_then(|dpop| dpop.nonce.as_deref())
            && let Ok(value) = HeaderValue::from_str(nonce)
        {
            headers.insert(header::HeaderName::from_static("dpop-nonce"), value);
        }
        if let Some(retry) = self.error.retry_after()
            && !headers.contains_key(header::RETRY_AFTER)
        {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry.as_secs().max(1)),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use actix_web::ResponseError;
    use actix_web::http::header;
    use auth_core::AuthError;

    use super::AuthRejection;

    /// A log sink the test reads back.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_challenge_no_header_can_carry_is_logged_not_dropped_silently() {
        // Rules refuse such a value when built; an error carrying one anyway is a bug to report.
        let error = AuthError::InsufficientAuthentication {
            acr_values: vec!["a\r\nX-Injected: 1".to_owned()],
            max_age: None,
            reason: "test".to_owned(),
        };
        let rejection = AuthRejection::new(error, Arc::from("api"), None, None);
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let response = tracing::subscriber::with_default(subscriber, || rejection.error_response());
        assert!(response.headers().get("x-injected").is_none());
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_none());
        let logged = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert!(logged.contains("ERROR"), "{logged}");
        assert!(logged.contains("auth"), "{logged}");
        assert!(logged.contains("left out of the response"), "{logged}");
    }
}
