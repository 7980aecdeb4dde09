//! The MCP example against clients nobody here wrote: the official MCP TypeScript SDK
//! (`tests/mcp-client`, `@modelcontextprotocol/sdk` 1.32.2) discovers the resource's metadata, the
//! authorization server (the embedded test issuer, or the npm `oidc-provider`), obtains a token for
//! the resource by client credentials and calls the tools; the scope-guarded tool yields the
//! insufficient-scope challenge the SDK understands. Over plain HTTP: tokens for another
//! resource, without `aud` or in the query string are refused, the metadata answers without a
//! token, and the streamable HTTP transport's rules hold. One example process per test.

use std::process::Stdio;
use std::time::Duration;

use auth_actix::testing::TestIssuer;
use serde_json::{Value, json};
use tests::mcp_client;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BINARY: &str = env!("CARGO_BIN_EXE_mcp");

/// The SDK's message when a retry with a new token is refused with the same challenge.
const UPSCOPING_FAILED: &str = "Streamable HTTP error: Server returned 403 after trying upscoping";

/// A running example and what it printed.
struct Example {
    _child: Child,
    /// Every line up to the MCP client command (demo mode) or the listening line.
    lines: Vec<String>,
    /// The resource URL clients call.
    resource: String,
}

impl Example {
    /// Starts the example with `env`; waits for its demo banner's last line, or (with
    /// `AUTH_ISSUER`) the line naming the address and resource.
    async fn start(env: &[(&str, &str)]) -> Example {
        let mut child = Command::new(BINARY)
            .env("BIND", "127.0.0.1:0")
            .env_remove("AUTH_ISSUER")
            .env_remove("AUTH_RESOURCE")
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("the example starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let (lines, resource) = tokio::time::timeout(Duration::from_secs(30), async {
            let mut lines = Vec::new();
            while let Ok(Some(line)) = stdout.next_line().await {
                let words: Vec<&str> = line.split(' ').collect();
                let resource = match words[..] {
                    ["node", _, resource, ..] => Some(resource.to_owned()),
                    ["mcp:", "listening", "on", _, "resource", resource] => {
                        Some(resource.to_owned())
                    }
                    _ => None,
                };
                lines.push(line);
                if let Some(resource) = resource {
                    return (lines, resource);
                }
            }
            panic!("the example ended before it was ready: {lines:#?}");
        })
        .await
        .expect("the example is ready in time");
        // Kept reading: a closed pipe would end the example at its next line.
        tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
        Example {
            _child: child,
            lines,
            resource,
        }
    }

    /// The printed `curl` lines, in order.
    fn curls(&self) -> Vec<&str> {
        let curls = self.lines.iter().filter(|line| line.starts_with("curl "));
        curls.map(String::as_str).collect()
    }

    /// `<origin>/.well-known/oauth-protected-resource/mcp`.
    fn metadata_url(&self) -> String {
        let origin = self.resource.trim_end_matches("/mcp");
        format!("{origin}/.well-known/oauth-protected-resource/mcp")
    }
}

/// An HTTP answer: status, headers, body.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map_or("", |value| value.to_str().unwrap())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    let body = response.text().await.unwrap();
    Answer {
        status,
        headers,
        body,
    }
}

/// Splits a printed command line into words, honouring single quotes.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Sends what a printed `curl` line describes (`-i`, `-X`, `-H`, `-d`, then the URL).
async fn replay(line: &str) -> Answer {
    let words = words(line);
    let mut request = reqwest::Client::new().get(words.last().unwrap());
    let mut rest = words[1..words.len() - 1].iter();
    while let Some(flag) = rest.next() {
        request = match flag.as_str() {
            "-i" => request,
            "-X" => {
                assert_eq!(rest.next().unwrap(), "POST", "{line}");
                reqwest::Client::new().post(words.last().unwrap())
            }
            "-H" => {
                let (name, value) = rest.next().unwrap().split_once(": ").unwrap();
                request.header(name, value)
            }
            "-d" => request.body(rest.next().unwrap().clone()),
            other => panic!("unexpected curl flag {other} in {line}"),
        };
    }
    send(request).await
}

/// A JSON-RPC POST to the resource as the SDK sends it, with `token` if any.
async fn rpc(resource: &str, token: Option<&str>, message: &Value) -> Answer {
    let mut request = reqwest::Client::new()
        .post(resource)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(message.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    send(request).await
}

fn call(tool: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
           "params": {"name": tool, "arguments": {}}})
}

fn list() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
}

/// What the SDK's run must show of the OAuth dance, whoever the authorization server: a first
/// POST without a token refused 401 with a `Bearer` challenge naming the metadata; the metadata
/// fetched at the path-suffixed URL (RFC 9728 §3.1); the authorization server's RFC 8414
/// metadata; a client-credentials token request for exactly the resource; the retry with it.
fn assert_discovery(run: &mcp_client::Run, example: &Example, issuer: &str, scope: &str) {
    let metadata = example.metadata_url();
    let [first, prm, as_metadata, token, retry, ..] = &run.fetches[..] else {
        panic!("too few exchanges: {:#?}", run.fetches);
    };
    assert_eq!(
        (&first["method"], &first["url"], &first["status"]),
        (&json!("POST"), &json!(example.resource), &json!(401)),
        "{first}"
    );
    assert_eq!(first["authorization"], Value::Null, "{first}");
    let challenge = first["wwwAuthenticate"].as_str().unwrap();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(&format!("resource_metadata=\"{metadata}\"")),
        "{challenge}"
    );
    assert_eq!(
        (&prm["url"], &prm["status"], &prm["authorization"]),
        (&json!(metadata), &json!(200), &Value::Null),
        "{prm}"
    );
    assert_eq!(
        (&as_metadata["url"], &as_metadata["status"]),
        (
            &json!(format!("{issuer}/.well-known/oauth-authorization-server")),
            &json!(200)
        ),
        "{as_metadata}"
    );
    assert_eq!(token["status"], 200, "{token}");
    assert_eq!(token["authorization"], "Basic", "{token}");
    assert_eq!(
        token["form"],
        json!({"grant_type": "client_credentials", "scope": scope, "resource": example.resource}),
        "{token}"
    );
    assert_eq!(
        (&retry["rpc"], &retry["status"], &retry["authorization"]),
        (&json!("initialize"), &json!(200), &json!("Bearer")),
        "{retry}"
    );
}

/// The steps of a client allowed only `mcp:tools`: everything but `admin_reset`, which fails
/// with the SDK's insufficient-scope error after one new token with the same scope.
fn assert_tools_only(run: &mcp_client::Run, subject: &str) {
    assert_eq!(run.code, Some(1), "admin_reset fails: {:#?}", run.steps);
    let connect = run.step("connect");
    assert_eq!(connect["ok"], true, "{connect}");
    assert_eq!(connect["protocolVersion"], "2025-11-25");
    assert_eq!(
        run.step("list")["tools"],
        json!(["whoami", "admin_reset", "sensitive_report"])
    );
    let whoami = run.call("whoami");
    assert_eq!(whoami["ok"], true, "{whoami}");
    let said: Value = serde_json::from_str(whoami["text"].as_str().unwrap()).unwrap();
    assert_eq!(said["subject"], subject);
    assert_eq!(said["scopes"], json!(["mcp:tools"]));
    let admin = run.call("admin_reset");
    assert_eq!(
        (&admin["error"], &admin["code"], &admin["message"]),
        (
            &json!("StreamableHTTPError"),
            &json!(403),
            &json!(UPSCOPING_FAILED)
        ),
        "{admin}"
    );
    let refusals: Vec<&Value> = run
        .fetches
        .iter()
        .filter(|fetch| fetch["status"] == 403)
        .collect();
    assert_eq!(refusals.len(), 2, "the call and its retry: {refusals:#?}");
    for refusal in refusals {
        let challenge = refusal["wwwAuthenticate"].as_str().unwrap();
        assert!(
            challenge.starts_with("Bearer ")
                && challenge.contains(r#"error="insufficient_scope""#)
                && challenge.contains(r#"scope="mcp:tools mcp:admin""#),
            "{challenge}"
        );
    }
    let tokens = run.fetches.iter().filter(|fetch| fetch["form"].is_object());
    let expected = if run
        .steps
        .iter()
        .any(|step| step["tool"] == "sensitive_report")
    {
        3 // and one more on the step-up's 401
    } else {
        2
    };
    assert_eq!(
        tokens.count(),
        expected,
        "one token, then one more on the 403"
    );
}

/// Offline, as a user runs it: the printed lines answer as they say, and the SDK client
/// discovers the embedded issuer through the resource's metadata and gets its tokens there.
#[tokio::test]
async fn offline_on_the_embedded_issuer_the_sdk_client_discovers_everything() {
    let example = Example::start(&[]).await;
    let curls = example.curls();
    let expected = [200, 401, 200, 403, 200, 401, 200, 200];
    assert_eq!(curls.len(), expected.len(), "{curls:#?}");
    let mut answers = Vec::new();
    for (line, status) in curls.iter().zip(expected) {
        let answer = replay(line).await;
        assert_eq!(answer.status, status, "{line}: {}", answer.body);
        answers.push(answer);
    }
    let metadata = answers[0].json();
    assert_eq!(metadata["resource"], example.resource);
    let issuer = metadata["authorization_servers"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(metadata["scopes_supported"], json!(["mcp:tools"]));
    assert!(
        answers[1]
            .header("www-authenticate")
            .contains(&format!("resource_metadata=\"{}\"", example.metadata_url())),
        "the bare 401 names the metadata"
    );
    assert!(
        answers[3]
            .header("www-authenticate")
            .contains(r#"scope="mcp:tools mcp:admin""#)
    );
    let step_up = answers[5].header("www-authenticate");
    assert!(
        step_up.starts_with("Bearer ")
            && step_up.contains(r#"error="insufficient_user_authentication""#)
            && step_up.contains(r#"acr_values="urn:example:acr:mfa""#)
            && step_up.contains(r#"max_age="300""#),
        "{step_up}"
    );
    let token = answers[7].json();
    assert_eq!(token["token_type"], "Bearer", "{token}");
    assert_eq!(token["scope"], "mcp:tools", "{token}");
    let with_it = rpc(&example.resource, token["access_token"].as_str(), &list()).await;
    assert_eq!(with_it.status, 200, "the issued token is for the resource");

    if !mcp_client::available("the MCP SDK interop test") {
        return;
    }
    let command = example.lines.last().unwrap();
    assert!(
        command.contains(&format!("{} {issuer} ", example.resource)),
        "{command}"
    );
    let demo = TestIssuer::demo_client();
    let tools = ["whoami", "admin_reset", "sensitive_report"];
    let run = mcp_client::run(&example.resource, &issuer, demo, Some("mcp:tools"), &tools).await;
    assert_discovery(&run, &example, &issuer, "mcp:tools");
    assert_tools_only(&run, demo.0);
    // The SDK does not act on RFC 9470's error: a new token, the same refusal, and it stops.
    let report = run.call("sensitive_report");
    assert_eq!(
        (&report["code"], &report["message"]),
        (
            &json!(401),
            &json!("Streamable HTTP error: Server returned 401 after successful authentication")
        ),
        "{report}"
    );

    let both = Some("mcp:tools mcp:admin");
    let run = mcp_client::run(&example.resource, &issuer, demo, both, &["admin_reset"]).await;
    assert_eq!(run.code, Some(0), "{:#?}", run.steps);
    assert_eq!(
        run.call("admin_reset")["text"],
        "demo state reset by demo-client"
    );
}

/// With `oidc-provider` (npm, OpenID Certified) as the authorization server, configured with
/// resource indicators: the same dance, a client allowed `mcp:admin` resets, and a token the
/// provider issued for another of its resources is refused.
#[tokio::test]
async fn with_oidc_provider_as_the_authorization_server() {
    if !tests::oidc_provider::available("the MCP interop test with oidc-provider")
        || !mcp_client::available("the MCP interop test with oidc-provider")
    {
        return;
    }
    // The provider must know the resource before the example starts, so the port comes first.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let resource = format!("http://127.0.0.1:{port}/mcp");
    let other = format!("http://127.0.0.1:{port}/other");
    let provider = tests::oidc_provider::OidcProvider::start(json!({
        "alg": "ES256",
        "resources": [
            { "indicator": resource, "format": "jwt", "scope": "mcp:tools mcp:admin" },
            { "indicator": other, "format": "jwt", "scope": "mcp:tools" },
        ],
        "clients": [
            { "client_id": "mcp-reader", "client_secret": "reader-secret", "scope": "mcp:tools" },
            {
                "client_id": "mcp-admin",
                "client_secret": "admin-secret",
                "scope": "mcp:tools mcp:admin"
            },
        ],
    }))
    .await;
    let issuer = provider.issuer().to_owned();
    let bind = format!("127.0.0.1:{port}");
    let example = Example::start(&[("AUTH_ISSUER", &issuer), ("BIND", &bind)]).await;
    assert_eq!(example.resource, resource);

    let reader = ("mcp-reader", "reader-secret");
    let tools = ["whoami", "admin_reset"];
    let run = mcp_client::run(&resource, &issuer, reader, Some("mcp:tools"), &tools).await;
    assert_discovery(&run, &example, &issuer, "mcp:tools");
    assert_tools_only(&run, "mcp-reader");

    let admin = ("mcp-admin", "admin-secret");
    let both = Some("mcp:tools mcp:admin");
    let run = mcp_client::run(&resource, &issuer, admin, both, &["admin_reset"]).await;
    assert_eq!(run.code, Some(0), "{:#?}", run.steps);
    assert_eq!(
        run.call("admin_reset")["text"],
        "demo state reset by mcp-admin"
    );

    // RFC 8707: the provider's token for its other resource is not for this one.
    let (id, secret) = admin;
    let for_other = provider.token(id, secret, &other, "mcp:tools").await;
    let refused = rpc(&resource, Some(&for_other), &list()).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(
        refused
            .header("www-authenticate")
            .contains(r#"error="invalid_token""#)
    );
    let for_this = provider.token(id, secret, &resource, "mcp:tools").await;
    assert_eq!(rpc(&resource, Some(&for_this), &list()).await.status, 200);
}

/// With an external issuer (here a test issuer the test mints with): the metadata answers without
/// a token; tokens for another resource, without `aud`, or in the query string are refused; and
/// the transport's rules hold.
#[tokio::test]
async fn with_an_external_issuer_only_tokens_for_the_resource_in_the_header_pass() {
    let issuer = TestIssuer::start().await;
    let example = Example::start(&[("AUTH_ISSUER", issuer.issuer())]).await;
    let resource = example.resource.clone();
    let metadata = send(reqwest::Client::new().get(example.metadata_url())).await;
    assert_eq!(metadata.status, 200, "{}", metadata.body);
    assert_eq!(
        metadata.json(),
        json!({
            "resource": resource,
            "authorization_servers": [issuer.issuer()],
            "scopes_supported": ["mcp:tools"],
            "bearer_methods_supported": ["header"],
            // DPoP-bound tokens are accepted too (JwtAuth's default), with these proofs.
            "dpop_signing_alg_values_supported": ["RS256", "PS256", "ES256", "EdDSA"],
            "resource_name": "JwtAuth MCP example",
        })
    );
    let token = |audience: Option<&str>| {
        let builder = issuer.token().scopes(["mcp:tools"]).header("typ", "at+jwt");
        match audience {
            Some(audience) => builder.audience(audience).sign(),
            None => builder.without_claim("aud").sign(),
        }
    };
    let good = token(Some(&resource));
    assert_eq!(rpc(&resource, Some(&good), &list()).await.status, 200);
    let origin = resource.trim_end_matches("/mcp");
    let refused = [
        ("another resource", token(Some(&format!("{origin}/other")))),
        ("a sub-path", token(Some(&format!("{resource}/x")))),
        ("a trailing slash", token(Some(&format!("{resource}/")))),
        ("no aud", token(None)),
    ];
    for (case, token) in refused {
        let answer = rpc(&resource, Some(&token), &list()).await;
        assert_eq!(answer.status, 401, "{case}: {}", answer.body);
        let challenge = answer.header("www-authenticate");
        assert!(
            challenge.starts_with("Bearer ") && challenge.contains(r#"error="invalid_token""#),
            "{case}: {challenge}"
        );
    }
    // RFC 6750 §2.3 is not offered: a token in the query string is no token.
    let in_query = format!("{resource}?access_token={good}");
    let answer = rpc(&in_query, None, &list()).await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert!(!answer.header("www-authenticate").contains("error="));

    // The transport: one JSON-RPC message per POST, notifications 202, no stream, no nulls.
    let client = reqwest::Client::new();
    let get = send(client.get(&resource).bearer_auth(&good)).await;
    assert_eq!((get.status, get.header("allow")), (405, "POST"));
    let get = send(client.get(&resource)).await;
    assert_eq!(get.status, 401, "authentication before the method");
    let delete = send(client.delete(&resource).bearer_auth(&good)).await;
    assert_eq!(delete.status, 405);
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let notified = rpc(&resource, Some(&good), &initialized).await;
    assert_eq!((notified.status, notified.body.as_str()), (202, ""));
    let initialize = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "t", "version": "1"}}});
    let initialized = rpc(&resource, Some(&good), &initialize).await.json();
    assert_eq!(initialized["result"]["protocolVersion"], "2025-06-18");
    let mut future = initialize.clone();
    future["params"]["protocolVersion"] = "2099-01-01".into();
    let offered = rpc(&resource, Some(&good), &future).await.json();
    assert_eq!(offered["result"]["protocolVersion"], "2025-11-25");
    let unknown = rpc(&resource, Some(&good), &call("nope")).await.json();
    assert_eq!(
        unknown,
        json!({"jsonrpc": "2.0", "id": 7, "error": {"code": -32602, "message": "Unknown tool"}})
    );
    let parse = send(
        client
            .post(&resource)
            .bearer_auth(&good)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body("{"),
    )
    .await;
    assert_eq!(parse.status, 400);
    assert_eq!(
        parse.json(),
        json!({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}}),
        "no id rather than a null one"
    );
    let with = |name: &'static str, value: &str| {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        let accept = "application/json, text/event-stream";
        headers.insert("accept", accept.parse().unwrap());
        headers.insert(name, value.parse().unwrap());
        client
            .post(&resource)
            .bearer_auth(&good)
            .headers(headers)
            .body(list().to_string())
    };
    let cases = [
        ("mcp-protocol-version", "2024-01-01", 400),
        ("mcp-protocol-version", "2025-06-18", 200),
        ("origin", "http://evil.example", 403),
        ("accept", "application/json", 406),
        ("content-type", "text/plain", 415),
    ];
    for (name, value, status) in cases {
        let answer = send(with(name, value)).await;
        assert_eq!(answer.status, status, "{name}: {value}: {}", answer.body);
    }
    let same_origin = send(with("origin", origin)).await;
    assert_eq!(same_origin.status, 200, "the resource's own origin");
}

/// Settings that cannot work stop the example at startup, naming the variable.
#[tokio::test]
async fn bad_settings_fail_at_startup_naming_the_variable() {
    let cases = [
        (
            ("AUTH_RESOURCE", "http://127.0.0.1:8080/mcp#frag"),
            "AUTH_RESOURCE",
        ),
        (
            ("AUTH_RESOURCE", "http://api.example.com/mcp"),
            "AUTH_RESOURCE",
        ),
        (("AUTH_RESOURCE", "mcp"), "AUTH_RESOURCE"),
        (("AUTH_ISSUER", "not a url"), "AUTH_ISSUER"),
    ];
    for ((name, value), expected) in cases {
        let output = tokio::time::timeout(
            Duration::from_secs(30),
            Command::new(BINARY)
                .env("BIND", "127.0.0.1:0")
                .env_remove("AUTH_ISSUER")
                .env_remove("AUTH_RESOURCE")
                .env(name, value)
                .stdin(Stdio::null())
                .kill_on_drop(true)
                .output(),
        )
        .await
        .expect("the example stops in time")
        .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{name}={value} started");
        assert!(stderr.contains(expected), "{name}={value}: {stderr}");
    }
}
