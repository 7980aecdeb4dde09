//! Refusals rendered as responses: the JSON body, `WWW-Authenticate` (RFC 6750 §3) and
//! `Retry-After`.

use std::fmt;
use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use auth_core::{AuthError, ErrorCode};
use serde_json::json;

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
}

impl AuthRejection {
    pub(crate) fn new(error: AuthError, realm: Arc<str>, handler: Option<ErrorHandler>) -> Self {
        AuthRejection {
            error,
            realm,
            handler,
        }
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
            ErrorCode::Unauthorized | ErrorCode::InvalidToken | ErrorCode::TokenExpired => {
                StatusCode::UNAUTHORIZED
            }
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::AuthUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The RFC 6750 §3 challenge: `error="invalid_token"` when a token was sent and refused,
    /// `insufficient_scope` when the caller lacks a role or scope, a bare challenge when no token
    /// came.
    fn www_authenticate(&self) -> Option<String> {
        let realm = &self.realm;
        match self.code() {
            ErrorCode::Unauthorized => Some(format!("Bearer realm=\"{realm}\"")),
            ErrorCode::InvalidToken | ErrorCode::TokenExpired => Some(format!(
                "Bearer realm=\"{realm}\", error=\"invalid_token\", error_description=\"{}\"",
                self.error.description()
            )),
            ErrorCode::Forbidden => Some(format!(
                "Bearer realm=\"{realm}\", error=\"insufficient_scope\", error_description=\"{}\"",
                self.error.description()
            )),
            ErrorCode::AuthUnavailable | ErrorCode::Internal => None,
        }
    }
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
        if let Some(challenge) = self.www_authenticate()
            && !headers.contains_key(header::WWW_AUTHENTICATE)
            && let Ok(value) = HeaderValue::from_str(&challenge)
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
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
