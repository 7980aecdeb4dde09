//! MCP: a minimal Model Context Protocol server over streamable HTTP, an OAuth protected resource
//! that agents discover on their own (the MCP authorization specification, revisions 2025-06-18
//! and 2025-11-25).
//!
//! ```text
//! cargo run -p examples --bin mcp
//! ```
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `AUTH_ISSUER` | a real authorization server's issuer URL (its tokens must carry `AUTH_RESOURCE` in `aud`); switches off the embedded one | embedded demo issuer |
//! | `AUTH_RESOURCE` | the URL clients call, the resource tokens are for (RFC 8707) | `http://<BIND>/mcp` |
//! | `BIND` | listen address | `127.0.0.1:8080` |
//!
//! `JwtAuth` serves the protected-resource metadata (RFC 9728) at
//! `/.well-known/oauth-protected-resource/mcp` without a token, and every 401 points to it, so a
//! client such as the official MCP SDK finds the authorization server, gets a token for this
//! resource and retries. One endpoint, `/mcp`: `POST` takes one JSON-RPC message and answers
//! `application/json` (a notification or response 202); `GET` and `DELETE` answer 405, as the
//! streamable HTTP transport allows for a server that opens no stream and keeps no session.
//!
//! Tools: `whoami` (scope `mcp:tools`), `admin_reset` (`mcp:tools` and `mcp:admin`: without
//! the latter, 403 `insufficient_scope` naming both), `sensitive_report` (`mcp:tools` and a
//! step-up: `acr` [`STRONG_ACR`] within the last five minutes, else 401
//! `insufficient_user_authentication`). `initialize` and `ping` need a valid token only;
//! `tools/list` and `tools/call` need `mcp:tools`. The same with an external issuer: give its
//! clients these scopes.

use std::net::TcpListener;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use auth_actix::testing::TestIssuer;
use auth_actix::{AuthRejection, Identity, JwtAuth, Provider, Rule, Verified, authorize};
use examples::Demo;
use examples::server::{listen_on, log_decisions};
use examples::settings::{address, cannot_listen, named_by, setting};
use serde_json::{Value, json};

/// The protocol revisions this server speaks; `initialize` echoes the client's if it is one of
/// them, else offers the first (MCP lifecycle, version negotiation).
const PROTOCOL_VERSIONS: [&str; 2] = ["2025-11-25", "2025-06-18"];

/// `tools/list` and `tools/call`.
const TOOLS: Rule = Rule::all_scopes(&["mcp:tools"]);

/// `admin_reset`: every scope the call needs, so the 403's `scope` names all of them (MCP
/// 2025-11-25, "Runtime Insufficient Scope Errors": a client asks for the challenged scopes, not
/// added to those it has).
const ADMIN: Rule = Rule::all_scopes(&["mcp:tools", "mcp:admin"]);

/// The authentication context `sensitive_report` asks for (RFC 9470).
const STRONG_ACR: &str = "urn:example:acr:mfa";

/// How recent that authentication must be, in seconds.
const STEP_UP_MAX_AGE: u64 = 300;

/// `sensitive_report`'s step-up (RFC 9470): refused 401 `insufficient_user_authentication` with
/// `acr_values` and `max_age` in the challenge.
const STEP_UP: Rule = Rule::acr(&[STRONG_ACR]).max_age(STEP_UP_MAX_AGE);

/// The server's name and version in `initialize`.
const SERVER_INFO: (&str, &str) = ("jwt-auth-mcp-example", env!("CARGO_PKG_VERSION"));

/// The JSON-RPC 2.0 error codes this server answers with.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;

/// What the handler knows beyond the request: the origin clients call it at (for the `Origin`
/// check the transport asks for).
#[derive(Clone)]
struct Endpoint {
    origin: String,
}

/// What the handlers answer: a refusal renders itself, with the challenge a client follows.
type Reply = Result<HttpResponse, AuthRejection>;

/// `POST /mcp`: one JSON-RPC message. `JwtAuth` has admitted a valid token for this resource;
/// what the message asks decides which scopes it needs.
async fn post(req: HttpRequest, body: web::Bytes, endpoint: web::Data<Endpoint>) -> Reply {
    if let Some(refused) = transport_refusal(&req, &endpoint) {
        return Ok(refused);
    }
    let Ok(message) = serde_json::from_slice::<Value>(&body) else {
        return Ok(rpc_failure(None, PARSE_ERROR, "Parse error"));
    };
    let Some(object) = message.as_object() else {
        // Batches were removed in 2025-06-18.
        return Ok(rpc_failure(
            None,
            INVALID_REQUEST,
            "one JSON-RPC object per request",
        ));
    };
    let id = object.get("id").filter(|id| id.is_string() || id.is_i64());
    let Some(method) = object.get("method").and_then(Value::as_str) else {
        // A response to a request of ours (this server sends none): accepted, unread.
        let response = object.contains_key("result") || object.contains_key("error");
        return Ok(if id.is_some() && response {
            HttpResponse::Accepted().finish()
        } else {
            rpc_failure(None, INVALID_REQUEST, "no method")
        });
    };
    let Some(id) = id.cloned() else {
        if object.contains_key("id") {
            // MCP: a request id is a string or an integer, never null.
            let why = "id must be a string or an integer";
            return Ok(rpc_failure(None, INVALID_REQUEST, why));
        }
        // A notification (notifications/initialized, cancelled, ...): nothing to answer.
        return Ok(HttpResponse::Accepted().finish());
    };
    let params = object.get("params").cloned().unwrap_or(Value::Null);
    Ok(match method {
        "initialize" => rpc_result(id, initialize(&params)),
        "ping" => rpc_result(id, json!({})),
        "tools/list" => {
            authorize(&req, &TOOLS).await?;
            rpc_result(id, json!({ "tools": tool_list() }))
        }
        "tools/call" => call(&req, id, &params).await?,
        _ => rpc_failure(Some(id), METHOD_NOT_FOUND, "Method not found"),
    })
}

/// `GET` (the server-sent event stream) and `DELETE` (ending a session) of `/mcp`: neither is
/// offered, after authentication as for every request (the transport lets a server answer 405).
async fn not_allowed(_identity: Verified<Identity>) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "POST"))
        .finish()
}

/// The streamable HTTP transport's rules for a `POST`, before the message is read: the answer
/// to a request that breaks one.
fn transport_refusal(req: &HttpRequest, endpoint: &Endpoint) -> Option<HttpResponse> {
    let text = |name| {
        req.headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    // MUST: refuse another site's page, which DNS rebinding could otherwise point here.
    if let Some(origin) = req.headers().get(header::ORIGIN)
        && origin.as_bytes() != endpoint.origin.as_bytes()
    {
        return Some(HttpResponse::Forbidden().body("Origin not allowed\n"));
    }
    // MUST: an unsupported protocol version is a 400; none means the client's first request.
    if let Some(version) = req.headers().get("mcp-protocol-version")
        && !PROTOCOL_VERSIONS.iter().any(|known| version == known)
    {
        return Some(HttpResponse::BadRequest().body("unsupported MCP-Protocol-Version\n"));
    }
    let media_type = text(header::CONTENT_TYPE).and_then(|value| value.split(';').next());
    if !media_type.is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json")) {
        return Some(HttpResponse::UnsupportedMediaType().body("send application/json\n"));
    }
    // The client MUST accept both answers a server may give.
    let accept = text(header::ACCEPT).unwrap_or_default();
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return Some(
            HttpResponse::NotAcceptable()
                .body("Accept must list application/json and text/event-stream\n"),
        );
    }
    None
}

/// The `initialize` result.
fn initialize(params: &Value) -> Value {
    let asked = params.get("protocolVersion").and_then(Value::as_str);
    let version = PROTOCOL_VERSIONS
        .into_iter()
        .find(|known| Some(*known) == asked)
        .unwrap_or(PROTOCOL_VERSIONS[0]);
    let (name, version_of_server) = SERVER_INFO;
    json!({
        "protocolVersion": version,
        "capabilities": { "tools": {} },
        "serverInfo": { "name": name, "version": version_of_server },
    })
}

/// The tools, as `tools/list` describes them.
fn tool_list() -> Value {
    let no_arguments = json!({ "type": "object", "properties": {} });
    json!([
        {
            "name": "whoami",
            "description": "Who the token says the caller is. Scope mcp:tools.",
            "inputSchema": no_arguments,
        },
        {
            "name": "admin_reset",
            "description": "Resets the demo state. Scopes mcp:tools and mcp:admin.",
            "inputSchema": no_arguments,
        },
        {
            "name": "sensitive_report",
            "description": format!(
                "A report behind a recent strong sign-in (acr {STRONG_ACR}, at most \
                 {STEP_UP_MAX_AGE} s ago). Scope mcp:tools."
            ),
            "inputSchema": no_arguments,
        },
    ])
}

/// `tools/call`: the tool the body names decides the rule, so the handler applies it itself
/// (MCP 2025-11-25, "Scope Challenge Handling": 403 `insufficient_scope` naming every scope the
/// call needs).
async fn call(req: &HttpRequest, id: Value, params: &Value) -> Reply {
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return Ok(rpc_failure(
            Some(id),
            INVALID_PARAMS,
            "params.name is missing",
        ));
    };
    let text = match name {
        "whoami" => {
            let caller = authorize(req, &TOOLS).await?;
            json!({
                "subject": caller.subject,
                "issuer": caller.issuer,
                "scopes": caller.scopes,
            })
            .to_string()
        }
        "admin_reset" => {
            let caller = authorize(req, &ADMIN).await?;
            format!("demo state reset by {}", caller.subject)
        }
        "sensitive_report" => {
            authorize(req, &TOOLS).await?;
            let caller = authorize(req, &STEP_UP).await?;
            format!("sensitive report for {}: nothing to report", caller.subject)
        }
        _ => return Ok(rpc_failure(Some(id), INVALID_PARAMS, "Unknown tool")),
    };
    let result = json!({ "content": [{ "type": "text", "text": text }], "isError": false });
    Ok(rpc_result(id, result))
}

fn rpc_result(id: Value, result: Value) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "jsonrpc": "2.0", "id": id, "result": result }))
}

/// A JSON-RPC error. Without an id (the request's could not be read) the member is left out: the
/// MCP SDK refuses `"id": null`.
fn rpc_failure(id: Option<Value>, code: i64, message: &str) -> HttpResponse {
    let mut answer = json!({ "jsonrpc": "2.0", "error": { "code": code, "message": message } });
    match id {
        Some(id) => {
            answer["id"] = id;
            HttpResponse::Ok().json(answer)
        }
        None => HttpResponse::BadRequest().json(answer),
    }
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    log_decisions();
    let bind = address("BIND", "127.0.0.1:8080")?;
    // Bound first: the default resource URL names the port, which BIND=127.0.0.1:0 leaves to
    // the system.
    let listener = TcpListener::bind(bind).map_err(cannot_listen("BIND", bind))?;
    let bound = listener.local_addr().map_err(cannot_listen("BIND", bind))?;
    let resource = setting("AUTH_RESOURCE").unwrap_or_else(|| format!("http://{bound}/mcp"));
    let (provider, demo) = match setting("AUTH_ISSUER") {
        Some(issuer) => (Provider::oidc(issuer).resource(&resource), None),
        None => {
            let demo = Demo::start("mcp", bound).await?;
            let provider = Provider::oidc(demo.issuer().issuer()).resource(&resource);
            (provider, Some(demo))
        }
    };
    // Checked and made canonical (RFC 8707 §2) by the provider; refused here naming the variable.
    // The baseline scope only: a client asks for mcp:admin when a 403 names it (MCP
    // 2025-11-25 recommends scopes_supported hold what basic use needs, least privilege).
    let auth = JwtAuth::new(provider)
        .map_err(named_by(variable))?
        .scopes_supported(["mcp:tools"])
        .map_err(|err| err.to_string())?
        .resource_name("JwtAuth MCP example");
    let resource = auth
        .verifier()
        .protected_resources()
        .first()
        .map(|protected| protected.resource.clone())
        .ok_or("AUTH_RESOURCE: no resource configured")?;
    if let Some(demo) = &demo {
        demo.issuer()
            .add_resource(&resource, ["mcp:tools", "mcp:admin"]);
    }
    auth.warm_up().await.map_err(named_by(variable))?;
    let origin = origin_of(&resource);

    let endpoint = Endpoint { origin };
    let path = resource_path(&resource);
    let routes = move |config: &mut web::ServiceConfig| {
        config.app_data(web::Data::new(endpoint.clone())).service(
            web::resource(path.clone())
                .route(web::post().to(post))
                .route(web::get().to(not_allowed))
                .route(web::delete().to(not_allowed)),
        );
    };
    let (server, base) = listen_on(auth, listener, routes)?;
    match &demo {
        Some(demo) => print_demo(demo.issuer(), &base, &resource),
        None => println!("mcp: listening on {base}, resource {resource}"),
    }
    server.await?;
    Ok(())
}

/// The variable that sets what a refused setting is about.
fn variable(setting: &str) -> &'static str {
    if setting.ends_with("resource") {
        "AUTH_RESOURCE"
    } else {
        "AUTH_ISSUER"
    }
}

/// The origin (`scheme://host[:port]`) of the canonical resource URL: what a browser's `Origin`
/// names.
fn origin_of(resource: &str) -> String {
    let (scheme, rest) = resource.split_once("://").unwrap_or(("", resource));
    let authority = rest.split('/').next().unwrap_or_default();
    format!("{scheme}://{authority}")
}

/// The path of the resource URL, where the endpoint is routed (`/` for a bare origin).
fn resource_path(resource: &str) -> String {
    let rest = resource
        .split_once("://")
        .map_or(resource, |(_, rest)| rest);
    let path = rest.find('/').map_or("/", |start| &rest[start..]);
    path.split(['?', '#']).next().unwrap_or("/").to_owned()
}

/// The demo banner: the metadata, calls with tokens of each kind, and the MCP client command.
fn print_demo(issuer: &TestIssuer, base: &str, resource: &str) {
    let rule = "=".repeat(78);
    println!();
    println!("{rule}");
    println!("  DEMO MODE: mcp runs on an embedded test issuer, because AUTH_ISSUER is not set.");
    println!("  Its client secret is printed below: never deploy it like this.");
    println!("{rule}");
    let token = |scopes: &[&str]| {
        issuer
            .token()
            .subject("agent-1")
            .audience(resource)
            .scopes(scopes.iter().copied())
            .header("typ", "at+jwt")
            .sign()
    };
    let tools = token(&["mcp:tools"]);
    let admin = token(&["mcp:tools", "mcp:admin"]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let stepped_up = issuer
        .token()
        .subject("alice")
        .audience(resource)
        .scopes(["mcp:tools"])
        .claim("acr", STRONG_ACR)
        .claim("auth_time", now)
        .sign();
    let call = |token: Option<&str>, body: &str| {
        let bearer = token.map_or(String::new(), |token| {
            format!("-H 'Authorization: Bearer {token}' ")
        });
        format!(
            "curl -i -X POST {bearer}-H 'Content-Type: application/json' \
             -H 'Accept: application/json, text/event-stream' -d '{body}' {resource}"
        )
    };
    let tool = |name: &str| {
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
               "params": {"name": name, "arguments": {}}})
        .to_string()
    };
    let path = resource_path(resource);
    let metadata_path = if path == "/" { String::new() } else { path };
    let (client, secret) = TestIssuer::demo_client();
    println!("Paste these into another terminal:");
    println!();
    println!("# the protected-resource metadata (RFC 9728), no token needed");
    println!("curl -i {base}/.well-known/oauth-protected-resource{metadata_path}");
    println!("# no token: 401, the challenge names the metadata and the scope");
    println!(
        "curl -i -X POST -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d '{}' {resource}",
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    );
    println!("# a token with mcp:tools: whoami answers");
    println!("{}", call(Some(&tools), &tool("whoami")));
    println!(
        "# the same token on admin_reset: 403 insufficient_scope, scope=\"mcp:tools mcp:admin\""
    );
    println!("{}", call(Some(&tools), &tool("admin_reset")));
    println!("# a token with mcp:tools and mcp:admin: admin_reset answers");
    println!("{}", call(Some(&admin), &tool("admin_reset")));
    println!(
        "# sensitive_report without a recent strong sign-in: 401 insufficient_user_authentication"
    );
    println!("{}", call(Some(&tools), &tool("sensitive_report")));
    println!("# after a step-up (acr {STRONG_ACR}, just now): sensitive_report answers");
    println!("{}", call(Some(&stepped_up), &tool("sensitive_report")));
    println!("# a token from the embedded issuer's token endpoint, by client credentials");
    let basic = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("{client}:{secret}"))
    };
    println!(
        "curl -i -X POST -H 'Authorization: Basic {basic}' -H 'Content-Type: \
         application/x-www-form-urlencoded' -d 'grant_type=client_credentials&scope=mcp:tools&resource={resource}' {}",
        issuer.token_endpoint()
    );
    println!();
    println!("# the official MCP TypeScript SDK (npm ci --prefix tests/mcp-client first):");
    println!(
        "node tests/mcp-client/client.mjs {resource} {} {client} {secret} mcp:tools whoami admin_reset",
        issuer.issuer()
    );
    println!();
}
