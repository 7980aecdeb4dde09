//! `authorize`: the guard a handler applies itself, once it knows what the request asks.

use actix_web::HttpRequest;
use auth_core::{AuthError, Identity};

use crate::extract::verified::Verified;
use crate::guard::rule::Rule;
use crate::response::rejection::AuthRejection;
use crate::state::refusal::refuse_request;
use crate::state::resolve::authenticate;

/// Admits the request's caller if it satisfies `rule`, else refuses it exactly as
/// [`Require`](crate::Require) would: 401 without a valid token, 403 without the role or scope,
/// with the same body, the same challenges (on a protected resource, `scope` naming every scope the
/// rule names and `resource_metadata`: RFC 6750 §3, RFC 9728 §5.1) and the request's one decision
/// log line. For a handler that learns what it must check only from the request itself: an MCP
/// `tools/call` names its tool in the JSON-RPC body, and each tool needs its own scope.
///
/// Return the rejection as the handler's error (it renders itself), or answer otherwise. Name the
/// rule's scopes with [`JwtAuth::scopes_supported`](crate::JwtAuth::scopes_supported) if clients
/// should find them in the protected-resource metadata: no attribute registers them here.
///
/// ```
/// use actix_web::{test, web, App, HttpRequest, HttpResponse};
/// use auth_actix::testing::{TestIssuer, TestRequestExt};
/// use auth_actix::{authorize, AuthRejection, JwtAuth, Rule};
///
/// const ADMIN: Rule = Rule::all_scopes(&["mcp:tools", "mcp:admin"]);
///
/// type Reply = Result<HttpResponse, AuthRejection>;
///
/// async fn call(req: HttpRequest, body: web::Json<serde_json::Value>) -> Reply {
///     if body["params"]["name"] == "admin_reset" {
///         let caller = authorize(&req, &ADMIN).await?;
///         return Ok(HttpResponse::Ok().body(format!("reset by {}", caller.subject)));
///     }
///     Ok(HttpResponse::Ok().body("done"))
/// }
///
/// # #[actix_web::main] async fn main() {
/// let issuer = TestIssuer::start().await;
/// let auth = JwtAuth::new(issuer.provider().resource("https://api.example.com/mcp")).unwrap();
/// let app = test::init_service(App::new().wrap(auth).route("/mcp", web::post().to(call))).await;
/// let token = issuer.token().subject("ada").scopes(["mcp:tools"]).sign();
/// let reset = serde_json::json!({"method": "tools/call", "params": {"name": "admin_reset"}});
/// let req = test::TestRequest::post().uri("/mcp").bearer(&token).set_json(&reset);
/// let refused = test::call_service(&app, req.to_request()).await;
/// assert_eq!(refused.status(), 403);
/// let challenge = refused.headers().get("www-authenticate").unwrap().to_str().unwrap();
/// assert!(challenge.contains(r#"scope="mcp:tools mcp:admin""#), "{challenge}");
/// # }
/// ```
pub async fn authorize(
    req: &HttpRequest,
    rule: &Rule,
) -> Result<Verified<Identity>, AuthRejection> {
    if !rule.is_complete() {
        let reason = "authorize: Rule::org_member() names no organisation: bind it to the path \
                      parameter naming one, e.g. Rule::org_member().in_path_param(\"org\")";
        return Err(refuse_request(
            req,
            AuthError::Internal(reason.to_owned()),
            None,
        ));
    }
    let caller = authenticate(req).await?;
    rule.admit(req, caller.clone())?;
    Verified::from_caller(req, caller)
}
