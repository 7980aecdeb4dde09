//! RFC 9728 protected-resource metadata: the document [`JwtAuth`] serves for each configured
//! resource, before any authentication, and the URL challenges point clients at (§5.1).

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use auth_core::ProtectedResource;
use serde_json::{Map, Value, json};

use crate::guard::scope_registry;
use crate::jwt_auth::JwtAuth;

/// How long clients and caches may keep a document: it changes only with a deployment.
const MAX_AGE: &str = "public, max-age=3600";

/// The metadata of `resource` (RFC 9728 §2, served as §3.2 says): `resource`,
/// `authorization_servers` (when any), `scopes_supported` (when any),
/// `bearer_methods_supported`, the name and documentation where set, and the DPoP members where
/// true. No member is ever `null`: the MCP TypeScript SDK's schema refuses one.
pub(crate) fn document(auth: &JwtAuth, resource: &ProtectedResource) -> Value {
    let mut doc = Map::new();
    // RFC 9728 §3.3: clients refuse a document whose `resource` is not the identifier they built
    // its URL from, so this is the configured canonical URL, never one derived from the request.
    doc.insert("resource".into(), json!(resource.resource));
    // RFC 9728 §2 makes the member optional; MCP clients need it to find where to get a token.
    let servers = auth
        .config
        .authorization_servers
        .as_deref()
        .unwrap_or(&resource.authorization_servers);
    if !servers.is_empty() {
        doc.insert("authorization_servers".into(), json!(servers));
    }
    let scopes = scopes_supported(auth);
    if !scopes.is_empty() {
        doc.insert("scopes_supported".into(), json!(scopes));
    }
    // Tokens in the query string are refused, and a cookie is no bearer method clients pick.
    doc.insert("bearer_methods_supported".into(), json!(["header"]));
    if let Some(name) = &auth.config.resource_name {
        doc.insert("resource_name".into(), json!(name));
    }
    if let Some(url) = &auth.config.resource_documentation {
        doc.insert("resource_documentation".into(), json!(url));
    }
    if resource.dpop_offered {
        let algs: Vec<&str> = auth
            .verifier
            .dpop_settings()
            .accepted_algorithms()
            .iter()
            .map(|alg| alg.as_str())
            .collect();
        doc.insert("dpop_signing_alg_values_supported".into(), json!(algs));
    }
    if resource.dpop_required {
        doc.insert("dpop_bound_access_tokens_required".into(), json!(true));
    }
    Value::Object(doc)
}

/// The scopes named with [`JwtAuth::scopes_supported`](crate::JwtAuth::scopes_supported),
/// exactly; without it, those of every guard registered in the binary. Sorted, without repeats.
pub(crate) fn scopes_supported(auth: &JwtAuth) -> Vec<String> {
    match &auth.config.scopes_supported {
        Some(named) => named.iter().cloned().collect(),
        None => scope_registry::scopes_supported(),
    }
}

/// The answer to a request for a metadata document: the document for `GET` and `HEAD` (actix
/// drops the body of a `HEAD` answer), `405` for anything else. Never authenticated: a client
/// reads it to learn where to get a token (RFC 9728 §3).
pub(crate) fn answer(
    req: &HttpRequest,
    auth: &JwtAuth,
    resource: &ProtectedResource,
) -> HttpResponse {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return HttpResponse::build(StatusCode::METHOD_NOT_ALLOWED)
            .insert_header((header::ALLOW, "GET, HEAD"))
            .finish();
    }
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, MAX_AGE))
        .json(document(auth, resource))
}
