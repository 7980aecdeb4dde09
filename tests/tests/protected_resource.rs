//! Protected resources (issue 34): the audience bound to the resource (RFC 8707), the RFC 9728
//! metadata `JwtAuth` serves, the challenges that point clients at it, and `authorize` in a
//! handler. Real servers on loopback, a real issuer's keys over loopback HTTP.

use std::net::TcpListener;

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, test, web};
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{
    AuthRejection, Authorize, Identity, JwtAuth, Rule, Verified, authorize, require_scope,
};
use auth_core::{AuthError, Provider, Verifier};
use serde_json::{Value, json};
use tests::audit_log::AuditLog;
use tests::{client, send};

/// Scopes one handler of this file asks for, so the registry has something to list.
#[require_scope("mcp:tools")]
async fn tools() -> HttpResponse {
    HttpResponse::Ok().body("tools")
}

#[require_scope(all("mcp:tools", "mcp:write"))]
async fn write() -> HttpResponse {
    HttpResponse::Ok().body("written")
}

/// A guard attribute inside an `impl` block registers its scope too.
struct Handlers;

impl Handlers {
    #[require_scope("mcp:impl")]
    async fn in_impl() -> HttpResponse {
        HttpResponse::Ok().body("impl")
    }
}

const ADMIN: Rule = Rule::all_scopes(&["mcp:tools", "mcp:admin"]);

/// An MCP-like handler: the tool named in the body decides the rule.
async fn call(req: HttpRequest, body: web::Json<Value>) -> Result<HttpResponse, AuthRejection> {
    if body["params"]["name"] == "admin_reset" {
        let caller = authorize(&req, &ADMIN).await?;
        return Ok(HttpResponse::Ok().body(format!("reset by {}", caller.subject)));
    }
    Ok(HttpResponse::Ok().body("called"))
}

/// A provider for `issuer`'s tokens bound to `resource` alone (no `.audience(..)`).
fn bound(issuer: &TestIssuer, resource: &str) -> Provider {
    Provider::oidc(issuer.issuer())
        .resource(resource)
        .key_settings(TestIssuer::fast_key_settings())
}

/// A loopback listener, so the resource URL can name its port before the app is built.
fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    (listener, origin)
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/mcp", web::post().to(call))
        .route("/mcp/tools", web::get().to(tools))
        .route("/mcp/write", web::get().to(write))
        .route(
            "/mcp/me",
            web::get().to(|id: Verified<Identity>| async move { id.subject.clone() }),
        )
        .route("/other", web::get().to(|| async { "other" }))
        .route("/mcp/impl", web::get().to(Handlers::in_impl))
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            web::get().to(|| async { "the application" }),
        )
        .service(
            web::scope("/mcp/reports")
                .wrap(Authorize::any_scope(["reports:read"]))
                .route("", web::get().to(|| async { "reports" })),
        );
}

/// Serves `auth` around [`routes`] on `listener`.
fn serve(listener: TcpListener, auth: JwtAuth) -> actix_web::dev::ServerHandle {
    let server = HttpServer::new(move || App::new().wrap(auth.clone()).configure(routes))
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    handle
}

fn challenges(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_resource_is_its_only_audience_compared_exactly() {
    let issuer = TestIssuer::start().await;
    let resource = "https://api.example.com/mcp";
    let verifier = Verifier::new(bound(&issuer, "HTTPS://API.example.com:443/mcp/")).unwrap();
    assert_eq!(verifier.protected_resources()[0].resource, resource);
    let own = issuer.token().audience(resource).sign();
    assert!(verifier.verify_token(&own).await.is_ok());
    let among = issuer.token().audiences(["other", resource]).sign();
    assert!(verifier.verify_token(&among).await.is_ok());
    for refused in [
        issuer
            .token()
            .audience("https://api.example.com/other")
            .sign(),
        issuer
            .token()
            .audience("https://api.example.com/mcp/x")
            .sign(),
        issuer
            .token()
            .audience("https://api.example.com/mcp/")
            .sign(),
        issuer
            .token()
            .audience("https://API.example.com/mcp")
            .sign(),
        issuer.token().audience("https://api.example.com").sign(),
        // The issuer's default audience: another application of the same issuer.
        issuer.token().sign(),
        issuer.token().without_claim("aud").sign(),
    ] {
        let err = verifier.verify_token(&refused).await.unwrap_err();
        assert!(matches!(err, AuthError::InvalidAudience { .. }), "{err:?}");
    }
}

#[actix_web::test]
async fn presets_keep_their_own_audience_beside_the_resource() {
    let issuer = TestIssuer::start().await;
    let resource = "https://api.example.com/mcp";
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    for (preset, own) in [
        (
            Provider::keycloak("https://sso.example.com", "demo", "orders-api"),
            "orders-api",
        ),
        (Provider::entra(tenant, "app-id"), "app-id"),
        (
            Provider::auth0("tenant.eu.auth0.com", "https://orders"),
            "https://orders",
        ),
    ] {
        let provider = issuer.adopt(preset.resource(resource));
        let verifier = Verifier::new(provider.clone()).unwrap();
        for aud in [own, resource] {
            let token = issuer.token_for(&provider).audience(aud).sign();
            let verified = verifier.verify_token(&token).await;
            assert!(verified.is_ok(), "{aud}: {verified:?}");
        }
        let other = issuer
            .token_for(&provider)
            .audience("https://api.example.com/x")
            .sign();
        assert!(verifier.verify_token(&other).await.is_err());
    }
}

#[actix_web::test]
async fn metadata_is_served_before_authentication_whatever_skip_and_public_say() {
    let issuer = TestIssuer::start().await;
    let (listener, origin) = listener();
    let resource = format!("{origin}/mcp");
    let auth = JwtAuth::new(bound(&issuer, &resource))
        .unwrap()
        .skip(["/.well-known/*"])
        .public(["/*"])
        .resource_name("Test MCP server")
        .resource_documentation("https://docs.example.com/mcp")
        .unwrap();
    let server = serve(listener, auth);
    let url = format!("{origin}/.well-known/oauth-protected-resource/mcp");
    let response = client().get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(header("cache-control"), "public, max-age=3600");
    assert!(header("content-type").starts_with("application/json"));
    let doc: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(doc["resource"], resource);
    assert_eq!(doc["authorization_servers"], json!([issuer.issuer()]));
    assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
    assert_eq!(doc["resource_name"], "Test MCP server");
    assert_eq!(
        doc["resource_documentation"],
        "https://docs.example.com/mcp"
    );
    // The test issuer's provider may issue DPoP-bound tokens, and none is required.
    assert!(doc["dpop_signing_alg_values_supported"].is_array());
    assert!(doc.get("dpop_bound_access_tokens_required").is_none());
    let scopes: Vec<&str> = doc["scopes_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    // From #[require_scope] here and Authorize::any_scope (every scope guard compiled into the
    // binary), sorted, without repeats; a hand-written rule's scope (ADMIN's mcp:admin) is not
    // registered.
    for scope in ["mcp:impl", "mcp:tools", "mcp:write", "reports:read"] {
        assert!(scopes.contains(&scope), "{scope} in {scopes:?}");
    }
    assert!(!scopes.contains(&"mcp:admin"), "{scopes:?}");
    let mut sorted = scopes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(scopes, sorted);
    assert!(
        doc.as_object()
            .unwrap()
            .values()
            .all(|value| !value.is_null())
    );

    let head = client().head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    let post = client().post(&url).send().await.unwrap();
    assert_eq!(post.status(), 405);
    // Neither the root form (this resource has a path) nor a trailing slash is its document.
    let root = client()
        .get(format!("{origin}/.well-known/oauth-protected-resource"))
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 404);
    server.stop(true).await;

    // JwtAuth::scopes_supported names the exact list, registered guards or not.
    let named = JwtAuth::new(bound(&issuer, &resource))
        .unwrap()
        .scopes_supported(["mcp:tools", "mcp:admin", "mcp:tools"])
        .unwrap();
    let app = test::init_service(App::new().wrap(named).configure(routes)).await;
    let req = test::TestRequest::get().uri("/.well-known/oauth-protected-resource/mcp");
    let doc: Value = test::call_and_read_body_json(&app, req.to_request()).await;
    assert_eq!(doc["scopes_supported"], json!(["mcp:admin", "mcp:tools"]));
}

#[actix_web::test]
async fn a_bare_origin_resource_has_its_document_at_the_root_form() {
    let issuer = TestIssuer::start().await;
    let (listener, origin) = listener();
    let server = serve(
        listener,
        JwtAuth::new(bound(&issuer, &format!("{origin}/"))).unwrap(),
    );
    let url = format!("{origin}/.well-known/oauth-protected-resource");
    let body = client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["resource"], origin);
    // Every path belongs to it.
    let refused = client()
        .get(format!("{origin}/other"))
        .send()
        .await
        .unwrap();
    let first = &challenges(&refused)[0];
    assert!(
        first.contains(&format!(r#"resource_metadata="{url}""#)),
        "{first}"
    );
    server.stop(true).await;
}

#[actix_web::test]
async fn challenges_point_at_the_metadata_and_name_the_scopes() {
    let issuer = TestIssuer::start().await;
    let (listener, origin) = listener();
    let resource = format!("{origin}/mcp");
    let metadata = format!("{origin}/.well-known/oauth-protected-resource/mcp");
    let auth = JwtAuth::new(bound(&issuer, &resource)).unwrap();
    let server = serve(listener, auth);
    let get = |path: &str| client().get(format!("{origin}{path}"));

    // No token: a bare challenge (RFC 6750 §3) with scope and resource_metadata, Bearer first,
    // then DPoP with the same parameters.
    let missing = get("/mcp/me").send().await.unwrap();
    assert_eq!(missing.status(), 401);
    let found = challenges(&missing);
    assert_eq!(found.len(), 2, "{found:?}");
    let scopes = r#"scope="mcp:impl mcp:tools mcp:write reports:read""#;
    assert!(
        found[0].starts_with(r#"Bearer realm="api", scope=""#),
        "{found:?}"
    );
    for challenge in &found {
        assert!(
            challenge.contains(&format!(r#"resource_metadata="{metadata}""#)),
            "{challenge}"
        );
        assert!(!challenge.contains("error="), "{challenge}");
        assert!(!challenge.contains("  "), "{challenge}");
    }
    assert!(
        found[1].starts_with(r#"DPoP realm="api", algs=""#),
        "{found:?}"
    );
    // No rule refused this request: the resource's scopes_supported, every scope this binary's
    // guards registered (other test files are other binaries).
    assert!(found[0].contains(scopes), "{found:?}");
    assert!(found[1].contains(scopes), "{found:?}");

    // A token for another resource, or with the resource's URL plus a slash: invalid_token.
    for aud in [format!("{origin}/other"), format!("{resource}/")] {
        let token = issuer.token().audience(aud).sign();
        let refused = get("/mcp/me").bearer_auth(&token).send().await.unwrap();
        assert_eq!(refused.status(), 401);
        let first = &challenges(&refused)[0];
        assert!(first.contains(r#"error="invalid_token""#), "{first}");
        assert!(
            first.contains(&format!(r#"resource_metadata="{metadata}""#)),
            "{first}"
        );
    }
    // A token in the query string is no token at all.
    let token = issuer
        .token()
        .audience(resource.as_str())
        .subject("ada")
        .sign();
    let query = get(&format!("/mcp/me?access_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 401);
    let ok = get("/mcp/me").bearer_auth(&token).send().await.unwrap();
    assert_eq!(ok.text().await.unwrap(), "ada");

    // A 403 names every scope its rule names, with the metadata.
    let unscoped = issuer
        .token()
        .audience(resource.as_str())
        .scopes(["mcp:tools"])
        .sign();
    let refused = get("/mcp/write")
        .bearer_auth(&unscoped)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let first = challenges(&refused).remove(0);
    assert!(first.starts_with("Bearer "), "{first}");
    assert!(first.contains(r#"error="insufficient_scope""#), "{first}");
    assert!(first.contains(r#"scope="mcp:tools mcp:write""#), "{first}");
    assert!(
        first.contains(&format!(r#"resource_metadata="{metadata}""#)),
        "{first}"
    );
    let description = first.split(r#"error_description=""#).nth(1).unwrap();
    let description = description.split('"').next().unwrap();
    assert!(!description.contains('='), "{description}");
    // So is an Authorize on a scope.
    let refused = get("/mcp/reports")
        .bearer_auth(&unscoped)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(challenges(&refused)[0].contains(r#"scope="reports:read""#));

    // Outside every resource: no resource parameters.
    let elsewhere = get("/other").send().await.unwrap();
    let first = &challenges(&elsewhere)[0];
    assert!(
        !first.contains("resource_metadata") && !first.contains("scope="),
        "{first}"
    );
    server.stop(true).await;
}

#[actix_web::test]
async fn authorize_in_a_handler_refuses_as_the_extractor_would() {
    let (log, _guard) = AuditLog::install();
    let issuer = TestIssuer::start().await;
    let resource = "http://127.0.0.1:9/mcp";
    let auth = JwtAuth::new(bound(&issuer, resource))
        .unwrap()
        .public(["/mcp"]);
    let app = test::init_service(App::new().wrap(auth).configure(routes)).await;
    let reset = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "admin_reset", "arguments": {}}});
    let post = || test::TestRequest::post().uri("/mcp").set_json(&reset);

    let tools = issuer
        .token()
        .audience(resource)
        .scopes(["mcp:tools"])
        .sign();
    log.clear();
    let refused = send(&app, post().bearer(&tools)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "FORBIDDEN");
    let challenge = refused.header("www-authenticate").unwrap();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    assert!(
        challenge.contains(r#"scope="mcp:tools mcp:admin""#),
        "{challenge}"
    );
    assert!(
        challenge.contains(
            r#"resource_metadata="http://127.0.0.1:9/.well-known/oauth-protected-resource/mcp""#
        ),
        "{challenge}"
    );
    // One decision for the request: the refusal, not the admission before it.
    let decisions: Vec<_> = log
        .events()
        .into_iter()
        .filter(|event| event.contains_key("outcome"))
        .collect();
    assert_eq!(decisions.len(), 1, "{decisions:?}");
    assert_eq!(decisions[0]["outcome"], "forbidden", "{decisions:?}");

    // Anonymous on a public path: 401 naming the rule's scopes.
    let anonymous = send(&app, post()).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let challenge = anonymous.header("www-authenticate").unwrap();
    assert!(
        challenge.contains(r#"scope="mcp:tools mcp:admin""#),
        "{challenge}"
    );

    let admin = issuer
        .token()
        .audience(resource)
        .subject("ada")
        .scopes(["mcp:tools", "mcp:admin"])
        .sign();
    let done = send(&app, post().bearer(&admin)).await;
    assert_eq!(
        (done.status, done.body.as_str()),
        (StatusCode::OK, "reset by ada")
    );
    // Another tool needs nothing more.
    let other = json!({"method": "tools/call", "params": {"name": "whoami"}});
    let req = test::TestRequest::post()
        .uri("/mcp")
        .set_json(&other)
        .bearer(&tools);
    assert_eq!(send(&app, req).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn the_metadata_answers_cross_origin_in_both_wrap_orders() {
    let issuer = TestIssuer::start().await;
    let resource = "http://127.0.0.1:9/mcp";
    let cors = || {
        actix_cors::Cors::default()
            .allowed_origin("https://app.example.com")
            .allowed_methods(["GET", "POST"])
            .allowed_headers(["authorization", "content-type", "mcp-protocol-version"])
    };
    let url = "/.well-known/oauth-protected-resource/mcp";
    let get = || {
        test::TestRequest::get()
            .uri(url)
            .insert_header(("origin", "https://app.example.com"))
    };
    let preflight = || {
        test::TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri(url)
            .insert_header(("origin", "https://app.example.com"))
            .insert_header(("access-control-request-method", "GET"))
            .insert_header(("access-control-request-headers", "mcp-protocol-version"))
    };
    let inside = JwtAuth::new(bound(&issuer, resource)).unwrap().cors(cors);
    let app = test::init_service(App::new().wrap(inside).configure(routes)).await;
    let outside = JwtAuth::new(bound(&issuer, resource)).unwrap();
    let app2 = test::init_service(App::new().wrap(outside).wrap(cors()).configure(routes)).await;
    for reply in [send(&app, get()).await, send(&app2, get()).await] {
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.json()["resource"], resource);
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("https://app.example.com")
        );
    }
    for reply in [
        send(&app, preflight()).await,
        send(&app2, preflight()).await,
    ] {
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("https://app.example.com")
        );
    }
}

#[actix_web::test]
async fn behind_a_prefix_stripping_proxy_the_resource_path_loses_the_prefix() {
    let issuer = TestIssuer::start().await;
    let resource = "https://example.com/api/mcp";
    let auth = JwtAuth::new(bound(&issuer, resource))
        .unwrap()
        .public_origin("https://example.com/api")
        .unwrap();
    let app = test::init_service(App::new().wrap(auth).configure(routes)).await;
    // The proxy forwards /api/mcp/me as /mcp/me.
    let refused = send(&app, test::TestRequest::get().uri("/mcp/me")).await;
    let challenge = refused.header("www-authenticate").unwrap();
    let metadata = "https://example.com/.well-known/oauth-protected-resource/api/mcp";
    assert!(
        challenge.contains(&format!(r#"resource_metadata="{metadata}""#)),
        "{challenge}"
    );
    for path in [
        "/.well-known/oauth-protected-resource/api/mcp",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let doc = send(&app, test::TestRequest::get().uri(path)).await;
        assert_eq!(doc.json()["resource"], resource, "{path}");
    }
}
