//! Attacks on issue 34's protected resources (RFC 8707 audience binding, RFC 9728 metadata, the
//! challenges pointing at it). Each test is named after the attack and fails while it succeeds.
//! The issuer's keys are fetched over loopback HTTP; the app runs in actix's test service.

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, test, web};
use auth_actix::testing::TestIssuer;
use auth_actix::{AuthRejection, Authorize, Identity, JwtAuth, Rule, Verified, authorize};
use auth_core::Provider;

use serde_json::Value;
use tests::{get_bearer, send};

fn bound(issuer: &TestIssuer, resources: &[&str]) -> Provider {
    resources.iter().fold(
        Provider::oidc(issuer.issuer()).key_settings(TestIssuer::fast_key_settings()),
        |provider, resource| provider.resource(resource),
    )
}

fn me() -> actix_web::Route {
    web::get().to(|id: Verified<Identity>| async move { id.subject.clone() })
}

/// Two protected resources on one server (one provider, as `Provider::resource` invites: "call
/// again for several resources"). A token the authorization server minted for `/admin` (RFC 8707
/// `resource=https://api.example.com/admin`) is replayed at `/mcp`: the MCP spec says a server
/// MUST refuse tokens not issued for it, and issue 34 says the resource "refuses tokens for any
/// other resource". Expected 401 `invalid_token`; observed 200: the audience check accepts any
/// configured resource on any path, and `owning()` (which knows `/mcp` belongs to the `/mcp`
/// resource) is used only for the challenge.
#[actix_web::test]
async fn a_token_for_one_resource_is_replayed_at_another_resource_of_the_same_server() {
    let issuer = TestIssuer::start().await;
    let mcp = "https://api.example.com/mcp";
    let admin = "https://api.example.com/admin";
    let auth = JwtAuth::new(bound(&issuer, &[mcp, admin])).unwrap();
    let app = test::init_service(
        App::new()
            .wrap(auth)
            .route("/mcp/me", me())
            .route("/admin/me", me()),
    )
    .await;
    let for_admin = issuer.token().subject("ada").audience(admin).sign();
    let own = get_bearer(&app, "/admin/me", &for_admin).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let replayed = get_bearer(&app, "/mcp/me", &for_admin).await;
    assert_eq!(
        replayed.status,
        StatusCode::UNAUTHORIZED,
        "a token whose aud is {admin} reached the {mcp} resource's handler: {}",
        replayed.body
    );
}

/// The alias side of the same rule, as `Provider::resource` documents it: a provider's audience
/// that names no resource (an explicit `.audience(..)`, or a preset's own identifier such as Entra
/// v2's client ID) is accepted at every resource that provider serves, and outside them; a token
/// bound to one resource is refused outside every resource's path.
#[actix_web::test]
async fn an_alias_audience_serves_every_resource_and_a_bound_token_no_other_path() {
    let issuer = TestIssuer::start().await;
    let mcp = "https://api.example.com/mcp";
    let admin = "https://api.example.com/admin";
    let provider = bound(&issuer, &[mcp, admin]).audience("orders-api");
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(provider).unwrap())
            .route("/mcp/me", me())
            .route("/admin/me", me())
            .route("/other/me", me()),
    )
    .await;
    let alias = issuer.token().subject("ada").audience("orders-api").sign();
    for path in ["/mcp/me", "/admin/me", "/other/me"] {
        let reply = get_bearer(&app, path, &alias).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
    }
    let for_mcp = issuer.token().subject("ada").audience(mcp).sign();
    let own = get_bearer(&app, "/mcp/me", &for_mcp).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let outside = get_bearer(&app, "/other/me", &for_mcp).await;
    assert_eq!(outside.status, StatusCode::UNAUTHORIZED, "{}", outside.body);
    assert!(outside.body.contains("INVALID_TOKEN"), "{}", outside.body);
}

/// A resource-only provider (its tokens name a resource and nothing else) used outside that
/// resource's path: the token was not issued for the rest of the server.
#[actix_web::test]
async fn a_resource_only_providers_token_is_refused_outside_its_resource() {
    let issuer = TestIssuer::start().await;
    let mcp = "https://api.example.com/mcp";
    let auth = JwtAuth::new(bound(&issuer, &[mcp])).unwrap();
    let app = test::init_service(
        App::new()
            .wrap(auth)
            .route("/mcp/me", me())
            .route("/internal/me", me()),
    )
    .await;
    let token = issuer.token().subject("ada").audience(mcp).sign();
    let own = get_bearer(&app, "/mcp/me", &token).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let outside = get_bearer(&app, "/internal/me", &token).await;
    assert_eq!(outside.status, StatusCode::UNAUTHORIZED, "{}", outside.body);
}

/// Two providers on one server: one serves the `/mcp` resource, the other names no resource (an
/// older API's issuer). The second provider's valid token is not for `/mcp`.
#[actix_web::test]
async fn a_token_of_a_provider_without_the_resource_is_refused_at_the_resource() {
    let resource_issuer = TestIssuer::start().await;
    let legacy_issuer = TestIssuer::start().await;
    let mcp = "https://api.example.com/mcp";
    let legacy = legacy_issuer
        .provider()
        .key_settings(TestIssuer::fast_key_settings());
    let auth = JwtAuth::any_of([bound(&resource_issuer, &[mcp]), legacy]).unwrap();
    let app = test::init_service(
        App::new()
            .wrap(auth)
            .route("/mcp/me", me())
            .route("/legacy/me", me()),
    )
    .await;
    let token = legacy_issuer.token().subject("ada").sign();
    let own = get_bearer(&app, "/legacy/me", &token).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let at_mcp = get_bearer(&app, "/mcp/me", &token).await;
    assert_eq!(at_mcp.status, StatusCode::UNAUTHORIZED, "{}", at_mcp.body);
}

/// The replay of the first attack with an opaque token the issuer vouches for by introspection
/// (RFC 7662 answers carry `aud` as a JWT does).
#[actix_web::test]
async fn an_introspected_token_for_one_resource_is_refused_at_another() {
    let issuer = TestIssuer::start().await;
    let mcp = "https://api.example.com/mcp";
    let admin = "https://api.example.com/admin";
    let provider = bound(&issuer, &[mcp, admin]).introspection(issuer.introspection());
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(provider).unwrap())
            .route("/mcp/me", me())
            .route("/admin/me", me()),
    )
    .await;
    let for_admin = issuer.token().subject("ada").audience(admin).opaque();
    let own = get_bearer(&app, "/admin/me", &for_admin).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let replayed = get_bearer(&app, "/mcp/me", &for_admin).await;
    assert_eq!(
        replayed.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        replayed.body
    );
}

/// A scope named in configuration holding a quote breaks out of the quoted `scope` value and
/// injects its own `resource_metadata` ahead of the real one; the MCP TypeScript SDK takes the
/// first match of its regular expression over the header, so clients fetch the attacker's
/// metadata and are sent to the attacker's authorization server. The rejection's own doc says "no
/// value holds `=` or a quote". Expected: the setting refused when built (a panic or an error
/// naming `scopes_supported`), or the value never written raw; observed: the injected parameter
/// comes first in both challenges.
#[actix_web::test]
async fn a_configured_scope_with_a_quote_injects_a_resource_metadata_parameter() {
    let issuer = TestIssuer::start().await;
    let evil =
        r#"read", resource_metadata="https://evil.example/.well-known/oauth-protected-resource"#;
    let auth = JwtAuth::new(bound(&issuer, &["https://api.example.com/mcp"])).unwrap();
    // Refused when built, naming the setting: the value never reaches a challenge.
    let err = auth.clone().scopes_supported([evil]).unwrap_err();
    assert_eq!(err.setting, "JwtAuth::scopes_supported", "{err}");
    for separator in ["read,write", "read=1"] {
        let err = auth.clone().scopes_supported([separator]).unwrap_err();
        assert_eq!(
            err.setting, "JwtAuth::scopes_supported",
            "{separator}: {err}"
        );
    }
    // A well-formed scope is still written raw, and exactly one resource_metadata goes out.
    let auth = auth.scopes_supported(["read"]).unwrap();
    let app = test::init_service(App::new().wrap(auth).route("/mcp/me", me())).await;
    let reply = send(&app, test::TestRequest::get().uri("/mcp/me")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    for challenge in reply.challenges() {
        assert_eq!(
            challenge.matches("resource_metadata=").count(),
            1,
            "a configured scope injected a parameter: {challenge}"
        );
        assert!(!challenge.contains("evil.example"), "{challenge}");
    }
}

/// A resource URL holding a character challenge parsers split on (`,` or `=`): the metadata URL
/// derived from it is written into every challenge, so it is refused when configured.
#[actix_web::test]
async fn a_resource_url_with_a_challenge_separator_is_refused_when_configured() {
    for url in [
        "https://api.example.com/a,b",
        "https://api.example.com/mcp=1",
    ] {
        let provider = Provider::oidc("https://issuer.example.com").resource(url);
        let err = JwtAuth::new(provider).unwrap_err();
        assert!(err.setting.ends_with(": resource"), "{url}: {err}");
    }
}

/// The same with a guard's rule: `Rule::acr` refuses a value the challenge cannot carry, but
/// `Rule::any_scope` does not, and `authorize()`'s 403 writes every scope of the rule into
/// `scope="..."`. Expected: no injected parameter (the rule refused at compile time as `Rule::acr`
/// is, or the value escaped); observed: `error="invalid_token"` injected into an
/// `insufficient_scope` challenge.
#[actix_web::test]
async fn a_rule_scope_with_a_quote_injects_parameters_into_the_403_challenge() {
    // Built at run time, so a fix that refuses the name (panicking) closes the attack here too.
    let names: &'static [&'static str] = Box::leak(Box::new([r#"x", error="invalid_token"#]));
    // Refused when built, as `Rule::acr` refuses a value the challenge cannot carry (and at
    // compile time in a constant: the rustdoc `compile_fail` example), and so is the middleware.
    assert!(std::panic::catch_unwind(|| Rule::any_scope(names)).is_err());
    assert!(std::panic::catch_unwind(|| Rule::all_scopes(&["a,b"])).is_err());
    assert!(std::panic::catch_unwind(|| Authorize::any_scope(names.iter().copied())).is_err());
    assert!(std::panic::catch_unwind(|| Authorize::all_scopes(["a=b"])).is_err());
    // A well-formed rule's 403 still carries exactly one `error`.
    let quoted: &'static Rule = Box::leak(Box::new(Rule::any_scope(&["write"])));
    let guarded = move |req: HttpRequest| async move {
        authorize(&req, quoted).await?;
        Ok::<_, AuthRejection>(HttpResponse::Ok().finish())
    };
    let issuer = TestIssuer::start().await;
    let resource = "https://api.example.com/mcp";
    let auth = JwtAuth::new(bound(&issuer, &[resource])).unwrap();
    let app = test::init_service(App::new().wrap(auth).route("/mcp", web::get().to(guarded))).await;
    let token = issuer.token().audience(resource).scopes(["read"]).sign();
    let reply = get_bearer(&app, "/mcp", &token).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    for challenge in reply.challenges() {
        assert!(
            challenge.matches("error=").count() <= 1,
            "a rule's scope injected a parameter: {challenge}"
        );
    }
}

/// A configured scope with CR/LF (or any byte a header cannot hold) makes `HeaderValue::from_str`
/// fail, and the rejection silently drops the whole challenge: every 401 of the resource goes out
/// without `WWW-Authenticate`, against RFC 6750 §3 / RFC 9728 §5.1, and MCP clients can no longer
/// discover the metadata. Expected: refused when configured, or the challenge still sent; observed:
/// a 401 with no challenge at all.
#[actix_web::test]
async fn a_configured_scope_with_a_newline_strips_every_challenge() {
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(bound(&issuer, &["https://api.example.com/mcp"])).unwrap();
    let err = auth
        .clone()
        .scopes_supported(["read\r\nX-Injected: 1"])
        .unwrap_err();
    assert_eq!(err.setting, "JwtAuth::scopes_supported", "{err}");
    // The resource's 401 keeps its challenges.
    let app = test::init_service(App::new().wrap(auth).route("/mcp/me", me())).await;
    let reply = send(&app, test::TestRequest::get().uri("/mcp/me")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.headers.get("x-injected").is_none());
    assert!(
        !reply.challenges().is_empty(),
        "a 401 went out without WWW-Authenticate"
    );
}

/// The scope registry is one process-wide set: an `Authorize::any_scope` built for a different
/// application (another `JwtAuth`, another resource, e.g. an internal admin listener in the same
/// binary) joins the binary's registered scopes, which a `JwtAuth` publishes by default (every
/// scope guard compiled into the binary, as `JwtAuth::scopes_supported` documents). An
/// application that names its list with `JwtAuth::scopes_supported` publishes and challenges with
/// exactly that list: `internal:break-glass` never appears on the public resource.
#[actix_web::test]
async fn scopes_of_another_application_leak_into_this_resources_metadata() {
    let issuer = TestIssuer::start().await;
    // The internal application: its own verifier, resource and guard.
    let internal = JwtAuth::new(bound(&issuer, &["https://admin.internal.example.com"])).unwrap();
    let _internal_app = test::init_service(
        App::new().wrap(internal).service(
            web::scope("/ops")
                .wrap(Authorize::any_scope(["internal:break-glass"]))
                .route("", web::get().to(|| async { "ops" })),
        ),
    )
    .await;
    // The public application names the scopes it publishes.
    let public = JwtAuth::new(bound(&issuer, &["https://api.example.com/mcp"]))
        .unwrap()
        .scopes_supported(["read"])
        .unwrap();
    let app = test::init_service(App::new().wrap(public).route("/mcp/me", me())).await;
    let doc = send(
        &app,
        test::TestRequest::get().uri("/.well-known/oauth-protected-resource/mcp"),
    )
    .await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc: Value = serde_json::from_str(&doc.body).unwrap();
    assert_eq!(
        doc["scopes_supported"],
        serde_json::json!(["read"]),
        "the public resource publishes another application's scope: {doc}"
    );
    let reply = send(&app, test::TestRequest::get().uri("/mcp/me")).await;
    let challenges = reply.challenges();
    assert!(!challenges.is_empty());
    for challenge in challenges {
        assert!(challenge.contains(r#"scope="read""#), "{challenge}");
        assert!(
            !challenge.contains("internal:break-glass"),
            "the public challenge names another application's scope: {challenge}"
        );
    }
}

/// RFC 9728 metadata is public and unauthenticated. For a multi-tenant template it listed the
/// issuer of every accepted tenant, so anyone who fetched it read the service's customer list
/// (each customer's Entra tenant ID), which Microsoft treats as an identifier worth keeping out of
/// sight and which a SaaS operator rarely means to publish. Now a template's tenants are not
/// published by default (the member is left out: RFC 9728 §2 makes it optional), and
/// `JwtAuth::authorization_servers` publishes exactly the list the operator names.
#[actix_web::test]
async fn the_public_metadata_enumerates_every_customer_tenant_of_a_multi_tenant_template() {
    let customers = [
        "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "4a4bbd5f-7a9e-4d2c-9d11-6a4f0a4f3c11",
    ];
    let provider = || {
        Provider::entra_multi_tenant("6e74172b-be56-4843-9ff4-e66a39bb12e3", customers)
            .resource("https://api.example.com/mcp")
    };
    let metadata = |auth: JwtAuth| async move {
        let app = test::init_service(App::new().wrap(auth).route("/mcp/me", me())).await;
        let doc = send(
            &app,
            test::TestRequest::get().uri("/.well-known/oauth-protected-resource/mcp"),
        )
        .await;
        assert_eq!(doc.status, StatusCode::OK);
        for customer in customers {
            assert!(
                !doc.body.contains(customer),
                "anyone can read customer tenant {customer} in the public metadata: {}",
                doc.body
            );
        }
        serde_json::from_str::<Value>(&doc.body).unwrap()
    };
    // By default: no tenant, and no member at all.
    let doc = metadata(JwtAuth::new(provider()).unwrap()).await;
    assert!(doc.get("authorization_servers").is_none(), "{doc}");
    // Named: exactly the list.
    let authority = "https://login.microsoftonline.com/organizations/v2.0";
    let named = JwtAuth::new(provider())
        .unwrap()
        .authorization_servers([authority])
        .unwrap();
    let doc = metadata(named).await;
    assert_eq!(
        doc["authorization_servers"],
        serde_json::json!([authority]),
        "{doc}"
    );
    // Checked as issuers are.
    for bad in [
        "http://login.example.com",
        "not a url",
        "https://a.example.com/?x=1",
    ] {
        let err = JwtAuth::new(provider())
            .unwrap()
            .authorization_servers([bad])
            .unwrap_err();
        assert_eq!(
            err.setting, "JwtAuth::authorization_servers",
            "{bad}: {err}"
        );
    }
}
