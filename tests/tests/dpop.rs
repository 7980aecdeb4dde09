//! DPoP (RFC 9449): a bound token is accepted only with a fresh proof by its key, for this request.
//! Every refusal path against the loopback test issuer; interop with `oidc-provider`, which binds
//! its tokens when the client sends a proof; replays shared through a real `redis-server`.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, get, test};
use auth_actix::testing::{DpopKey, TestIssuer, TestRequestExt};
use auth_actix::{AuthError, Dpop, Identity, JwtAuth, Provider, Verified, Verifier};
use auth_core::DpopRequest;
use serde_json::{Value, json};
use tests::audit_log::AuditLog;
use tests::{Reply, get_bearer, init_tracing, send, unix_now};

/// Where actix's test requests say they were sent.
const URL: &str = "http://localhost:8080/items";

#[get("/items")]
async fn items(caller: Verified<Identity>) -> HttpResponse {
    let bound_to = caller.token().dpop_thumbprint().unwrap_or("nothing");
    HttpResponse::Ok().body(format!("{} {bound_to}", caller.subject))
}

/// Sends `GET /items` through an app protected by `auth`.
async fn call(auth: JwtAuth, request: test::TestRequest) -> Reply {
    let app = test::init_service(App::new().wrap(auth).service(items)).await;
    send(&app, request.uri("/items")).await
}

#[actix_web::test]
async fn a_bound_token_with_its_proof_passes_and_the_handler_sees_the_key() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let key = DpopKey::generate();
    let token = issuer.token().subject("ada").dpop_bound(&key).sign();
    let proof = key.proof("GET", URL, &token);
    let reply = call(
        JwtAuth::new(issuer.provider()).unwrap(),
        test::TestRequest::get().dpop(&token, &proof),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, format!("ada {}", key.thumbprint()));

    // Ed25519 keys too.
    let key = DpopKey::generate_ed25519();
    let token = issuer.token().dpop_bound(&key).sign();
    let proof = key.proof("GET", URL, &token);
    let reply = call(
        JwtAuth::new(issuer.provider()).unwrap(),
        test::TestRequest::get().dpop(&token, &proof),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[actix_web::test]
async fn a_stolen_bound_token_is_useless_as_a_bearer_token() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let key = DpopKey::generate();
    let token = issuer.token().dpop_bound(&key).sign();
    let reply = call(
        JwtAuth::new(issuer.provider()).unwrap(),
        test::TestRequest::get().bearer(&token),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.code(), "INVALID_TOKEN");
    // The error belongs to the DPoP challenge; Bearer still comes first, for clients (the MCP
    // TypeScript SDK) that read only the first.
    let challenges = reply.challenges();
    assert_eq!(challenges[0], r#"Bearer realm="api""#);
    assert!(
        challenges[1].starts_with(r#"DPoP realm="api", error="invalid_token""#),
        "{challenges:?}"
    );
    assert!(
        challenges[1].ends_with(r#"algs="RS256 PS256 ES256 EdDSA""#),
        "{challenges:?}"
    );
}

#[actix_web::test]
async fn without_a_token_both_schemes_are_offered() {
    let issuer = TestIssuer::start().await;
    let reply = call(
        JwtAuth::new(issuer.provider()).unwrap(),
        test::TestRequest::get(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.challenges(),
        [
            r#"Bearer realm="api""#,
            r#"DPoP realm="api", algs="RS256 PS256 ES256 EdDSA""#
        ]
    );
    // An unbound token keeps working as a bearer token.
    let plain = issuer.token().sign();
    let reply = call(
        JwtAuth::new(issuer.provider()).unwrap(),
        test::TestRequest::get().bearer(&plain),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
}

/// Only providers that can issue DPoP-bound tokens are offered the `DPoP` challenge, each preset as
/// its provider documents; Bearer first whenever both are.
#[actix_web::test]
async fn the_dpop_challenge_is_offered_only_where_a_provider_can_bind_tokens() {
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let client = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
    let bearer_only = [
        Provider::entra(tenant, client),
        Provider::entra_v1(tenant, client),
        Provider::entra_multi_tenant(client, [tenant]),
        Provider::zitadel("https://acme.zitadel.cloud", "263514598346711111"),
        Provider::google("1234.apps.googleusercontent.com"),
        Provider::firebase("my-project"),
        Provider::cognito("eu-west-1", "eu-west-1_AbCdEf123", "client"),
        Provider::clerk("https://clerk.example.com", ["https://app.example.com"]),
        Provider::cloudflare_access("https://team.cloudflareaccess.com", &"a".repeat(64)),
    ];
    let binding = [
        Provider::oidc("https://issuer.example.com").audience("api"),
        Provider::okta("https://acme.okta.com/oauth2/default", "api://default"),
        Provider::auth0("acme.eu.auth0.com", "https://api.example.com"),
        Provider::keycloak("https://sso.example.com", "demo", "api"),
        Provider::entra(tenant, client).require_dpop(),
    ];
    let offered = [
        r#"Bearer realm="api""#,
        r#"DPoP realm="api", algs="RS256 PS256 ES256 EdDSA""#,
    ];
    for provider in bearer_only.clone() {
        let name = format!("{provider:?}").chars().take(50).collect::<String>();
        let auth = JwtAuth::new(provider).unwrap();
        let reply = call(auth.clone(), test::TestRequest::get()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.challenges(), [r#"Bearer realm="api""#], "{name}");
        // A refused token too (Cloudflare Access reads its own header, so it sees none).
        let reply = call(auth, test::TestRequest::get().bearer("not-a-jwt")).await;
        let refused = reply.challenges();
        assert_eq!(refused.len(), 1, "{name}: {refused:?}");
        assert!(
            refused[0].starts_with(r#"Bearer realm="api""#),
            "{name}: {refused:?}"
        );
    }
    for provider in binding {
        let name = format!("{provider:?}").chars().take(50).collect::<String>();
        let reply = call(JwtAuth::new(provider).unwrap(), test::TestRequest::get()).await;
        assert_eq!(reply.challenges(), offered, "{name}");
    }
    // One provider that can bind is enough, and Bearer stays first.
    let mixed = JwtAuth::any_of([
        bearer_only[0].clone(),
        Provider::auth0("acme.eu.auth0.com", "https://api.example.com"),
    ])
    .unwrap();
    assert!(mixed.verifier().offers_dpop());
    assert_eq!(
        call(mixed, test::TestRequest::get()).await.challenges(),
        offered
    );
    let entra = JwtAuth::new(bearer_only[0].clone()).unwrap();
    assert!(!entra.verifier().offers_dpop());
}

/// Every way a proof can be wrong, each refused with `INVALID_DPOP_PROOF` and the DPoP challenge.
#[actix_web::test]
async fn every_faulty_proof_is_refused() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let key = DpopKey::generate();
    let token = issuer.token().dpop_bound(&key).sign();
    let other_token = issuer.token().dpop_bound(&key).sign();
    let mut private_jwk = key.public_jwk();
    private_jwk["d"] = json!("c2VjcmV0");
    let faulty: Vec<(&str, String)> = vec![
        (
            "another URL",
            key.proof("GET", "http://localhost:8080/other", &token),
        ),
        (
            "another host",
            key.proof("GET", "http://evil.example/items", &token),
        ),
        ("another method", key.proof("POST", URL, &token)),
        ("no ath", key.proof_for("GET", URL).sign()),
        ("ath of another token", key.proof("GET", URL, &other_token)),
        (
            "too old",
            key.proof_for("GET", URL)
                .access_token(&token)
                .claim("iat", unix_now() - 600)
                .sign(),
        ),
        (
            "from the future",
            key.proof_for("GET", URL)
                .access_token(&token)
                .claim("iat", unix_now() + 120)
                .sign(),
        ),
        (
            "iat as a string",
            key.proof_for("GET", URL)
                .access_token(&token)
                .claim("iat", unix_now().to_string())
                .sign(),
        ),
        (
            "no jti",
            key.proof_for("GET", URL)
                .access_token(&token)
                .without_claim("jti")
                .sign(),
        ),
        (
            "a huge jti",
            key.proof_for("GET", URL)
                .access_token(&token)
                .claim("jti", "j".repeat(300))
                .sign(),
        ),
        (
            "typ JWT",
            key.proof_for("GET", URL)
                .access_token(&token)
                .header("typ", "JWT")
                .sign(),
        ),
        (
            "a private key in the header",
            key.proof_for("GET", URL)
                .access_token(&token)
                .header("jwk", &private_jwk)
                .sign(),
        ),
        (
            "no jwk",
            key.proof_for("GET", URL)
                .access_token(&token)
                .header("jwk", Value::Null)
                .sign(),
        ),
        (
            "alg none",
            key.proof_for("GET", URL)
                .access_token(&token)
                .header("alg", "none")
                .sign(),
        ),
        (
            "alg HS256",
            key.proof_for("GET", URL)
                .access_token(&token)
                .header("alg", "HS256")
                .sign(),
        ),
        (
            "alg for another key type",
            key.proof_for("GET", URL)
                .access_token(&token)
                .header("alg", "RS256")
                .sign(),
        ),
        (
            "crit",
            key.proof_for("GET", URL)
                .access_token(&token)
                .header("crit", ["exp"])
                .sign(),
        ),
        (
            "a flipped signature bit",
            tests::with_flipped_signature_bit(&key.proof("GET", URL, &token)),
        ),
        ("not a JWS", "not-a-proof".to_owned()),
        (
            "four segments",
            format!("{}.e30", key.proof("GET", URL, &token)),
        ),
        ("too large", format!("{}.{}.x", "a".repeat(9000), "b")),
    ];
    for (what, proof) in faulty {
        let reply = call(
            JwtAuth::new(issuer.provider()).unwrap(),
            test::TestRequest::get().dpop(&token, &proof),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(reply.code(), "INVALID_DPOP_PROOF", "{what}: {}", reply.body);
        assert!(
            reply.challenges()[1].starts_with(r#"DPoP realm="api", error="invalid_dpop_proof""#),
            "{what}: {:?}",
            reply.challenges()
        );
    }
}

#[actix_web::test]
async fn a_proof_is_good_once() {
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider()).unwrap();
    let app = test::init_service(App::new().wrap(auth).service(items)).await;
    let key = DpopKey::generate();
    let token = issuer.token().dpop_bound(&key).sign();
    let proof = key.proof("GET", URL, &token);
    let request = || test::TestRequest::get().uri("/items").dpop(&token, &proof);
    assert_eq!(send(&app, request()).await.status, StatusCode::OK);
    let replayed = send(&app, request()).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replayed.code(), "INVALID_DPOP_PROOF");
    // A fresh proof for the same token works: the token is not spent, the proof is.
    let fresh = key.proof("GET", URL, &token);
    let again = test::TestRequest::get().uri("/items").dpop(&token, &fresh);
    assert_eq!(send(&app, again).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn binding_failures_are_invalid_token() {
    let issuer = TestIssuer::start().await;
    let key = DpopKey::generate();
    let thief = DpopKey::generate();
    let token = issuer.token().dpop_bound(&key).sign();
    let unbound = issuer.token().sign();
    let cases = [
        (
            "a proof by another key",
            token.clone(),
            thief.proof("GET", URL, &token),
        ),
        (
            "an unbound token with the DPoP scheme",
            unbound.clone(),
            key.proof("GET", URL, &unbound),
        ),
    ];
    for (what, token, proof) in cases {
        let reply = call(
            JwtAuth::new(issuer.provider()).unwrap(),
            test::TestRequest::get().dpop(&token, &proof),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(reply.code(), "INVALID_TOKEN", "{what}");
        assert!(
            reply.challenges()[1].starts_with(r#"DPoP realm="api", error="invalid_token""#),
            "{what}"
        );
    }
    // The DPoP scheme without exactly one DPoP header.
    for request in [
        test::TestRequest::get().insert_header(("authorization", format!("DPoP {token}"))),
        test::TestRequest::get()
            .insert_header(("authorization", format!("DPoP {token}")))
            .append_header(("dpop", key.proof("GET", URL, &token)))
            .append_header(("dpop", key.proof("GET", URL, &token))),
    ] {
        let reply = call(JwtAuth::new(issuer.provider()).unwrap(), request).await;
        assert_eq!(reply.code(), "INVALID_DPOP_PROOF");
    }
}

#[actix_web::test]
async fn htu_is_compared_after_normalisation() {
    let issuer = TestIssuer::start().await;
    let key = DpopKey::generate();
    let token = issuer.token().dpop_bound(&key).sign();
    for htu in [
        "HTTP://LOCALHOST:8080/items",
        "http://localhost:8080/./items",
        "http://localhost:8080/items?page=2",
        "http://localhost:8080/items#top",
        "http://localhost:8080/%69tems",
    ] {
        let proof = key.proof("GET", htu, &token);
        let reply = call(
            JwtAuth::new(issuer.provider()).unwrap(),
            test::TestRequest::get().dpop(&token, &proof),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{htu}: {}", reply.body);
    }
    // The default port is dropped; another one is another URL.
    let app_on = |port: &str| format!("http://localhost:{port}/items");
    let proof = key.proof("GET", &app_on("8081"), &token);
    let reply = call(
        JwtAuth::new(issuer.provider()).unwrap(),
        test::TestRequest::get().dpop(&token, &proof),
    )
    .await;
    assert_eq!(reply.code(), "INVALID_DPOP_PROOF");
}

#[actix_web::test]
async fn behind_a_proxy_the_public_origin_decides() {
    let issuer = TestIssuer::start().await;
    let key = DpopKey::generate();
    let token = issuer.token().dpop_bound(&key).sign();
    let public = || {
        JwtAuth::new(issuer.provider())
            .unwrap()
            .public_origin("https://api.example.com/")
            .unwrap()
    };
    let proof = key.proof("GET", "https://api.example.com/items", &token);
    let reply = call(public(), test::TestRequest::get().dpop(&token, &proof)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let internal = key.proof("GET", URL, &token);
    let reply = call(public(), test::TestRequest::get().dpop(&token, &internal)).await;
    assert_eq!(reply.code(), "INVALID_DPOP_PROOF");

    // Forwarded headers count only when the application says a proxy sets them.
    let forwarded = || {
        test::TestRequest::get()
            .insert_header(("x-forwarded-proto", "https"))
            .insert_header(("x-forwarded-host", "api.example.com"))
    };
    let proof = key.proof("GET", "https://api.example.com/items", &token);
    let ignored = call(
        JwtAuth::new(issuer.provider()).unwrap(),
        forwarded().dpop(&token, &proof),
    )
    .await;
    assert_eq!(ignored.code(), "INVALID_DPOP_PROOF");
    // Trusted, the forwarded host counts only when the application lists it.
    let proof = key.proof("GET", "https://api.example.com/items", &token);
    let unlisted = call(
        JwtAuth::new(issuer.provider())
            .unwrap()
            .trust_forwarded_headers(),
        forwarded().dpop(&token, &proof),
    )
    .await;
    assert_eq!(unlisted.code(), "INVALID_DPOP_PROOF");
    let proof = key.proof("GET", "https://api.example.com/items", &token);
    let trusted = call(
        JwtAuth::new(issuer.provider())
            .unwrap()
            .trust_forwarded_headers()
            .allowed_hosts(["api.example.com"])
            .unwrap(),
        forwarded().dpop(&token, &proof),
    )
    .await;
    assert_eq!(trusted.status, StatusCode::OK, "{}", trusted.body);

    for bad in [
        "api.example.com",
        "ftp://api.example.com",
        "https://api.example.com/?q=1",
    ] {
        let error = JwtAuth::new(issuer.provider())
            .unwrap()
            .public_origin(bad)
            .unwrap_err();
        assert_eq!(error.setting, "JwtAuth::public_origin", "{bad}");
    }
}

/// A real server (one worker) at `bind` with `GET /items` behind `auth`; its port and handle.
async fn serve(auth: JwtAuth, bind: &str) -> (u16, actix_web::dev::ServerHandle) {
    let server = actix_web::HttpServer::new(move || App::new().wrap(auth.clone()).service(items))
        .workers(1)
        .bind(bind)
        .unwrap();
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (port, handle)
}

/// `GET /items` over loopback to `port`, naming `host` in `Host`, with a token and its proof for
/// `htu`.
async fn get_items(port: u16, host: &str, token: &str, proof: &str) -> (u16, String, String) {
    let response = tests::client()
        .get(format!("http://127.0.0.1:{port}/items"))
        .header("host", host)
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", proof)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join(" | ");
    (status, challenge, response.text().await.unwrap())
}

#[actix_web::test]
async fn without_a_public_origin_a_proof_for_another_host_does_not_replay_here() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let key = DpopKey::generate();
    let token = issuer.token().subject("ada").dpop_bound(&key).sign();
    // Captured by an attacker at instance A, which accepts the same audience.
    let captured = key.proof("GET", "http://api-a.example.com/items", &token);

    // Instance B listens on every address (as in a container) and has no public origin: the URL a
    // proof is checked against would be the attacker's `Host`.
    let (port, b) = serve(JwtAuth::new(issuer.provider()).unwrap(), "0.0.0.0:0").await;
    let (status, challenge, body) = get_items(port, "api-a.example.com", &token, &captured).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(tests::error_code(&body), "INVALID_DPOP_PROOF");
    assert!(
        challenge.contains(r#"error_description="DPoP not accepted for this host""#),
        "{challenge}"
    );
    // Its own name does not help either: the Host is still the client's word.
    let own = format!("127.0.0.1:{port}");
    let proof = key.proof("GET", &format!("http://{own}/items"), &token);
    assert_eq!(get_items(port, &own, &token, &proof).await.0, 401);
    b.stop(true).await;

    // Hosts the application lists are taken, and only those.
    let listed = JwtAuth::new(issuer.provider())
        .unwrap()
        .allowed_hosts(["API-B.example.com"])
        .unwrap();
    let (port, b) = serve(listed, "0.0.0.0:0").await;
    let proof = key.proof("GET", "http://api-b.example.com/items", &token);
    let (status, _, body) = get_items(port, "api-b.example.com", &token, &proof).await;
    assert_eq!(status, 200, "{body}");
    let captured = key.proof("GET", "http://api-a.example.com/items", &token);
    assert_eq!(
        get_items(port, "api-a.example.com", &token, &captured)
            .await
            .0,
        401
    );
    b.stop(true).await;

    // A public origin decides the URL, whatever the Host.
    let public = JwtAuth::new(issuer.provider())
        .unwrap()
        .public_origin("https://api-b.example.com")
        .unwrap();
    let (port, b) = serve(public, "0.0.0.0:0").await;
    let proof = key.proof("GET", "https://api-b.example.com/items", &token);
    let (status, _, body) = get_items(port, "api-a.example.com", &token, &proof).await;
    assert_eq!(status, 200, "{body}");
    let captured = key.proof("GET", "http://api-a.example.com/items", &token);
    assert_eq!(
        get_items(port, "api-a.example.com", &token, &captured)
            .await
            .0,
        401
    );
    b.stop(true).await;
}

#[actix_web::test]
async fn on_loopback_a_proof_is_taken_for_a_loopback_host_only() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let key = DpopKey::generate();
    let token = issuer.token().subject("ada").dpop_bound(&key).sign();
    let (port, server) = serve(JwtAuth::new(issuer.provider()).unwrap(), "127.0.0.1:0").await;
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let proof = key.proof("GET", &format!("http://{host}/items"), &token);
        let (status, _, body) = get_items(port, &host, &token, &proof).await;
        assert_eq!(status, 200, "{host}: {body}");
    }
    // Behind a proxy on this machine, the Host is a public name the client chose.
    let captured = key.proof("GET", "http://api-a.example.com/items", &token);
    let (status, _, body) = get_items(port, "api-a.example.com", &token, &captured).await;
    assert_eq!(status, 401);
    assert_eq!(tests::error_code(&body), "INVALID_DPOP_PROOF");
    server.stop(true).await;

    for bad in ["https://api.example.com", "", "a b"] {
        let error = JwtAuth::new(issuer.provider())
            .unwrap()
            .allowed_hosts([bad])
            .unwrap_err();
        assert_eq!(error.setting, "JwtAuth::allowed_hosts", "{bad}");
    }
}

#[actix_web::test]
async fn warm_up_says_when_dpop_is_taken_on_loopback_only() {
    let issuer = TestIssuer::start().await;
    let (log, _guard) = tests::audit_log::AuditLog::install();
    let says = |log: &tests::audit_log::AuditLog| {
        log.events().iter().any(|event| {
            event
                .get("message")
                .is_some_and(|m| m.contains("loopback") && m.contains("JwtAuth::public_origin"))
        })
    };
    JwtAuth::new(issuer.provider())
        .unwrap()
        .warm_up()
        .await
        .unwrap();
    assert!(says(&log), "{:?}", log.events());
    log.clear();
    JwtAuth::new(issuer.provider())
        .unwrap()
        .public_origin("https://api.example.com")
        .unwrap()
        .warm_up()
        .await
        .unwrap();
    assert!(!says(&log), "{:?}", log.events());
}

#[actix_web::test]
async fn a_provider_can_refuse_bearer_tokens() {
    let issuer = TestIssuer::start().await;
    let strict = || JwtAuth::new(issuer.provider().require_dpop()).unwrap();
    let plain = issuer.token().sign();
    let reply = call(strict(), test::TestRequest::get().bearer(&plain)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.code(), "INVALID_TOKEN");
    let key = DpopKey::generate();
    let token = issuer.token().dpop_bound(&key).sign();
    let proof = key.proof("GET", URL, &token);
    let reply = call(strict(), test::TestRequest::get().dpop(&token, &proof)).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[actix_web::test]
async fn server_nonces_are_handed_out_and_required() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider())
        .unwrap()
        .dpop(Dpop::default().nonces(None, Duration::from_secs(60)))
        .unwrap();
    let app = test::init_service(App::new().wrap(auth).service(items)).await;
    let key = DpopKey::generate();
    let token = issuer.token().dpop_bound(&key).sign();

    let first = key.proof("GET", URL, &token);
    let reply = send(
        &app,
        test::TestRequest::get().uri("/items").dpop(&token, &first),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.code(), "USE_DPOP_NONCE");
    assert!(reply.challenges()[1].starts_with(r#"DPoP realm="api", error="use_dpop_nonce""#));
    let nonce = reply
        .header("dpop-nonce")
        .expect("a nonce to retry with")
        .to_owned();

    let retry = key
        .proof_for("GET", URL)
        .access_token(&token)
        .nonce(&nonce)
        .sign();
    let reply = send(
        &app,
        test::TestRequest::get().uri("/items").dpop(&token, &retry),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply.header("dpop-nonce").is_some(),
        "answers keep the client current"
    );

    let forged = key
        .proof_for("GET", URL)
        .access_token(&token)
        .nonce("AAAAAAAAAAA")
        .sign();
    let reply = send(
        &app,
        test::TestRequest::get().uri("/items").dpop(&token, &forged),
    )
    .await;
    assert_eq!(reply.code(), "USE_DPOP_NONCE");

    let error = Dpop::default()
        .nonces(None, Duration::from_secs(1))
        .algorithms([]);
    let error = Verifier::new(issuer.provider())
        .unwrap()
        .dpop(error)
        .unwrap_err();
    assert!(error.setting.starts_with("Dpop::"), "{error}");
}

#[tokio::test]
async fn an_introspected_bound_token_needs_its_proof_too() {
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(issuer.provider().introspection(issuer.introspection())).unwrap();
    let key = DpopKey::generate();
    let token = issuer.token().dpop_bound(&key).opaque();
    assert!(matches!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::DpopBinding(_)
    ));
    let proof = key.proof("GET", URL, &token);
    let request = DpopRequest {
        proof: &proof,
        method: "GET",
        url: URL,
    };
    let verified = verifier.verify_dpop(&token, &request).await.unwrap();
    assert_eq!(verified.dpop_thumbprint(), Some(key.thumbprint()));
}

#[tokio::test]
async fn the_verified_token_cache_never_skips_the_proof() {
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(issuer.provider()).unwrap();
    let key = DpopKey::generate();
    let token = issuer.token().dpop_bound(&key).sign();
    let proof = key.proof("GET", URL, &token);
    let request = DpopRequest {
        proof: &proof,
        method: "GET",
        url: URL,
    };
    verifier.verify_dpop(&token, &request).await.unwrap();
    assert_eq!(verifier.cached_tokens(), 1);
    let thief = DpopKey::generate().proof("GET", URL, &token);
    let stolen = DpopRequest {
        proof: &thief,
        ..request
    };
    assert!(matches!(
        verifier.verify_dpop(&token, &stolen).await.unwrap_err(),
        AuthError::DpopBinding(_)
    ));
}

// ------------------------------------------------------------------------ replay store ---

/// Sends `GET /items` with `token` and a fresh proof by `key`.
async fn fresh<S, B>(app: &S, key: &DpopKey, token: &str) -> Reply
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let proof = key.proof("GET", URL, token);
    send(
        app,
        test::TestRequest::get().uri("/items").dpop(token, &proof),
    )
    .await
}

#[actix_web::test]
async fn a_flood_from_one_key_neither_pushes_out_nor_crowds_out_another_clients_proofs() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let (log, _guard) = AuditLog::install();
    let dpop = Dpop::default().replay_capacity(64).replay_per_key(8);
    let auth = JwtAuth::new(issuer.provider()).unwrap().dpop(dpop).unwrap();
    let app = test::init_service(App::new().wrap(auth).service(items)).await;
    let victim = DpopKey::generate();
    let victim_token = issuer.token().dpop_bound(&victim).sign();
    let captured = victim.proof("GET", URL, &victim_token);
    let with_captured = || {
        test::TestRequest::get()
            .uri("/items")
            .dpop(&victim_token, &captured)
    };
    assert_eq!(send(&app, with_captured()).await.status, StatusCode::OK);

    // One client with a valid bound token sends proof after proof.
    let flooder = DpopKey::generate();
    let flood_token = issuer.token().dpop_bound(&flooder).sign();
    let mut passed = 0;
    for _ in 0..100 {
        let reply = fresh(&app, &flooder, &flood_token).await;
        if reply.status == StatusCode::OK {
            passed += 1;
            continue;
        }
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            reply.body
        );
        assert_eq!(reply.code(), "AUTH_UNAVAILABLE");
        assert_eq!(reply.header("retry-after"), Some("1"));
    }
    assert_eq!(
        passed, 8,
        "the flooder gets its share of the store and no more"
    );
    let refusal = log
        .with_outcome("unavailable")
        .pop()
        .expect("a logged refusal");
    assert!(
        refusal["reason"].contains("Dpop::replay_per_key"),
        "{refusal:?}"
    );

    // The captured proof was not pushed out: it is still a replay.
    log.clear();
    let replayed = send(&app, with_captured()).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replayed.code(), "INVALID_DPOP_PROOF");
    let refusal = log
        .with_outcome("rejected")
        .pop()
        .expect("a logged refusal");
    assert_eq!(refusal["reason"], AuthError::DpopReplay.to_string());
    // And other clients keep working.
    assert_eq!(
        fresh(&app, &victim, &victim_token).await.status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn a_full_replay_store_refuses_new_proofs_with_503_until_some_expire() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let (log, _guard) = AuditLog::install();
    // Proofs accepted for 3 seconds, so remembered for 4.
    let dpop = Dpop::default()
        .proof_age(Duration::from_secs(3), Duration::ZERO)
        .replay_capacity(4)
        .replay_per_key(4);
    let auth = JwtAuth::new(issuer.provider()).unwrap().dpop(dpop).unwrap();
    let app = test::init_service(App::new().wrap(auth).service(items)).await;
    let first = DpopKey::generate();
    let first_token = issuer.token().dpop_bound(&first).sign();
    for _ in 0..4 {
        let reply = fresh(&app, &first, &first_token).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let late = DpopKey::generate();
    let late_token = issuer.token().dpop_bound(&late).sign();
    let refused = fresh(&app, &late, &late_token).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.code(), "AUTH_UNAVAILABLE");
    assert_eq!(refused.header("retry-after"), Some("1"));
    let refusal = log
        .with_outcome("unavailable")
        .pop()
        .expect("a logged refusal");
    assert!(
        refusal["reason"].contains("replay store is full"),
        "{refusal:?}"
    );
    assert!(
        refusal["reason"].contains("Dpop::replay_capacity"),
        "the reason says how to size it: {refusal:?}"
    );

    // Accepted again once the remembered proofs expire.
    let accepted = tests::poll(
        Duration::from_secs(20),
        || fresh(&app, &late, &late_token),
        |reply| reply.status == StatusCode::OK,
    )
    .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
}

#[tokio::test]
async fn replay_store_sizes_that_cannot_work_fail_at_startup() {
    let issuer = TestIssuer::start().await;
    let error = |dpop: Dpop| {
        Verifier::new(issuer.provider())
            .unwrap()
            .dpop(dpop)
            .unwrap_err()
            .setting
    };
    assert_eq!(
        error(Dpop::default().replay_capacity(0)),
        "Dpop::replay_capacity"
    );
    assert_eq!(
        error(Dpop::default().replay_per_key(0)),
        "Dpop::replay_per_key"
    );
    assert_eq!(
        error(Dpop::default().replay_capacity(10).replay_per_key(11)),
        "Dpop::replay_per_key"
    );
}

/// Records a proof just after a second starts and replays it 1.1 s later, in the last instant its
/// whole-second `iat` is still accepted (window 1 s), which is after the window has passed since
/// it was recorded: it must still be remembered.
async fn replayed_just_past_the_window_is_refused(issuer: &TestIssuer, verifier: &Verifier) {
    let key = DpopKey::generate();
    let token = issuer.token().dpop_bound(&key).sign();
    for _ in 0..5 {
        let into_second = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let to_next = Duration::from_nanos(u64::from(1_000_000_000 - into_second));
        tokio::time::sleep(to_next + Duration::from_millis(20)).await;
        let second = unix_now();
        let proof = key.proof("GET", URL, &token);
        let request = DpopRequest {
            proof: &proof,
            method: "GET",
            url: URL,
        };
        verifier.verify_dpop(&token, &request).await.unwrap();
        let recorded = tokio::time::Instant::now();
        tokio::time::sleep_until(recorded + Duration::from_millis(1100)).await;
        let before = unix_now();
        let replay = verifier.verify_dpop(&token, &request).await;
        let after = unix_now();
        let iat = tests::payload(&proof)["iat"].as_i64();
        if iat == Some(second) && before == second + 1 && after == second + 1 {
            assert_eq!(replay.unwrap_err(), AuthError::DpopReplay);
            return;
        }
        // Too slow to land in that second (a loaded machine): the age check decided. Again.
    }
    panic!("no attempt replayed the proof within the second after its window");
}

#[tokio::test]
async fn a_proof_is_remembered_a_second_longer_than_its_window() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let window = || Dpop::default().proof_age(Duration::from_secs(1), Duration::ZERO);
    let in_memory = Verifier::new(issuer.provider())
        .unwrap()
        .dpop(window())
        .unwrap();
    replayed_just_past_the_window_is_refused(&issuer, &in_memory).await;

    use tests::redis_server::{RedisServer, available};
    if !available("a_proof_is_remembered_a_second_longer_than_its_window") {
        return;
    }
    let redis = RedisServer::start().await;
    let shared = Verifier::new(issuer.provider())
        .unwrap()
        .dpop(window().redis(&redis.url()))
        .unwrap();
    replayed_just_past_the_window_is_refused(&issuer, &shared).await;
}

// -------------------------------------------------------------------------------- Redis ---

#[tokio::test]
async fn a_proof_replayed_against_another_instance_is_refused() {
    use tests::redis_server::{RedisServer, available};
    if !available("a_proof_replayed_against_another_instance_is_refused") {
        return;
    }
    let mut redis = RedisServer::start().await;
    let issuer = TestIssuer::start().await;
    let instance = || {
        Verifier::new(issuer.provider())
            .unwrap()
            .dpop(Dpop::default().redis(&redis.url()))
            .unwrap()
    };
    let (a, b) = (instance(), instance());
    let key = DpopKey::generate();
    let token = issuer.token().dpop_bound(&key).sign();
    let proof = key.proof("GET", URL, &token);
    let request = DpopRequest {
        proof: &proof,
        method: "GET",
        url: URL,
    };
    a.verify_dpop(&token, &request).await.unwrap();
    assert_eq!(
        b.verify_dpop(&token, &request).await.unwrap_err(),
        AuthError::DpopReplay
    );

    // Without Redis a replay cannot be ruled out: 503, not a pass.
    redis.stop().await;
    let fresh = key.proof("GET", URL, &token);
    let request = DpopRequest {
        proof: &fresh,
        ..request
    };
    assert!(matches!(
        a.verify_dpop(&token, &request).await.unwrap_err(),
        AuthError::StoreUnavailable(_)
    ));
}

/// Under any `maxmemory-policy` but `noeviction` Redis may evict a remembered proof, which could
/// then be replayed; a managed Redis that refuses `CONFIG` may too, for all anyone here knows.
/// Such a server serves no proof (503) and fails `warm_up`, unless the application accepted the
/// risk.
#[tokio::test]
async fn a_redis_that_may_evict_proofs_is_refused_unless_the_risk_is_accepted() {
    use tests::redis_server::{RedisServer, available};
    if !available("a_redis_that_may_evict_proofs_is_refused_unless_the_risk_is_accepted") {
        return;
    }
    let (log, _guard) = AuditLog::install();
    let evicting = RedisServer::start_with(&["--maxmemory-policy", "volatile-lru"]).await;
    let managed = RedisServer::start_with(&["--rename-command", "CONFIG", ""]).await;
    let issuer = TestIssuer::start().await;
    let key = DpopKey::generate();
    let token = issuer.token().dpop_bound(&key).sign();
    let send = |verifier: Verifier| {
        let proof = key.proof("GET", URL, &token);
        let token = token.clone();
        async move {
            let request = DpopRequest {
                proof: &proof,
                method: "GET",
                url: URL,
            };
            verifier.verify_dpop(&token, &request).await.map(|_| ())
        }
    };
    let verifier = |dpop: Dpop| {
        Verifier::new(issuer.provider())
            .unwrap()
            .dpop(dpop)
            .unwrap()
    };

    for (redis, found) in [
        (&evicting, "maxmemory-policy volatile-lru"),
        (&managed, "CONFIG GET refused"),
    ] {
        // On first use, without warm_up: refused, and the policy read once.
        let refusing = verifier(Dpop::default().redis(&redis.url()));
        for _ in 0..2 {
            let Err(AuthError::StoreUnavailable(reason)) = send(refusing.clone()).await else {
                panic!("a proof is accepted by a Redis that may evict it");
            };
            assert!(
                reason.contains(found) && reason.contains("Dpop::redis_eviction_accepted"),
                "{reason}"
            );
        }
        let error = refusing.warm_up().await.unwrap_err();
        assert_eq!(error.setting, "Dpop::redis");
        assert!(error.problem.contains(found), "{error}");
        let prefetched = refusing.prefetch().await.unwrap_err();
        assert!(prefetched.is_misconfiguration(), "{prefetched}");

        // Accepted: served, one warning per store.
        log.clear();
        let accepting = verifier(
            Dpop::default()
                .redis(&redis.url())
                .redis_eviction_accepted(),
        );
        accepting.warm_up().await.unwrap();
        send(accepting.clone()).await.unwrap();
        send(accepting).await.unwrap();
        let warned: Vec<_> = log
            .events()
            .into_iter()
            .filter(|event| event.contains_key("found"))
            .collect();
        assert_eq!(warned.len(), 1, "{warned:?}");
        assert!(
            warned[0]["message"].contains("a risk the application accepted"),
            "{warned:?}"
        );
    }
}

/// Each DPoP request is one Redis call: the proof and its key's share in one script.
#[tokio::test]
async fn a_proof_in_redis_costs_one_command_and_a_key_keeps_to_its_share() {
    use tests::redis_server::{RedisServer, available};
    if !available("a_proof_in_redis_costs_one_command_and_a_key_keeps_to_its_share") {
        return;
    }
    let redis = RedisServer::start().await;
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .dpop(Dpop::default().redis(&redis.url()).replay_per_key(3))
        .unwrap();
    verifier.warm_up().await.unwrap();
    let (key, other) = (DpopKey::generate(), DpopKey::generate());
    let token = issuer.token().dpop_bound(&key).sign();
    let others = issuer.token().dpop_bound(&other).sign();
    let send = |key: &DpopKey, token: &str| {
        let proof = key.proof("GET", URL, token);
        let verifier = verifier.clone();
        let token = token.to_owned();
        async move {
            let request = DpopRequest {
                proof: &proof,
                method: "GET",
                url: URL,
            };
            verifier.verify_dpop(&token, &request).await.map(|_| ())
        }
    };
    // Loads the script, so what follows counts requests only.
    send(&other, &others).await.unwrap();
    assert_eq!(redis.command(&["CONFIG", "RESETSTAT"]).await, "+OK");
    for _ in 0..3 {
        send(&key, &token).await.unwrap();
    }
    let Err(AuthError::StoreUnavailable(reason)) = send(&key, &token).await else {
        panic!("a key is served past its share");
    };
    assert!(reason.contains("Dpop::replay_per_key"), "{reason}");
    send(&other, &others).await.unwrap();
    // Five requests, five commands from the client (EVALSHA); the rest ran inside the script. A
    // proof costs a GET of the store's marker (the keys were not lost meanwhile) and EXISTS, a
    // stored one INCR and SET too, a key's first also PEXPIRE; a refused one stores nothing.
    let summary = "local info = redis.call('INFO', 'commandstats') \
        local calls = {} \
        for name, count in string.gmatch(info, 'cmdstat_([%w|]+):calls=(%d+)') do \
            table.insert(calls, name .. '=' .. count) \
        end \
        table.sort(calls) \
        return {ok = table.concat(calls, ' ')}";
    assert_eq!(
        redis.command(&["EVAL", summary, "0"]).await,
        "+config|resetstat=1 evalsha=5 exists=5 get=5 incr=5 pexpire=1 set=4"
    );
}

// ------------------------------------------------------------------------ oidc-provider ---

mod oidc_provider {
    use super::*;
    use tests::oidc_provider::{OidcProvider, available};

    const API: &str = "https://api.example.com";

    fn config() -> Value {
        json!({
            "alg": "ES256",
            "resources": [
                {"indicator": API, "format": "jwt", "scope": "read:items", "ttl": 300},
            ],
            "clients": [
                {
                    "client_id": "agent", "client_secret": "agent-secret",
                    "scope": "read:items", "dpop_bound": true,
                },
            ],
            "features": {"dpop": true},
        })
    }

    /// The API's URL as its clients address it, behind its public origin.
    const ITEMS: &str = "https://api.example.com/items";

    fn auth(issuer: &str) -> JwtAuth {
        JwtAuth::new(
            Provider::oidc(issuer)
                .audience(API)
                .key_settings(TestIssuer::fast_key_settings()),
        )
        .unwrap()
        .public_origin("https://api.example.com")
        .unwrap()
    }

    #[actix_web::test]
    async fn oidc_provider_bound_tokens_need_a_valid_proof() {
        if !available("oidc_provider_bound_tokens_need_a_valid_proof") {
            return;
        }
        init_tracing();
        let op = OidcProvider::start(config()).await;
        let key = DpopKey::generate();
        let token_proof = key.proof_for("POST", &op.token_endpoint()).sign();
        let token = op
            .token_with(
                "agent",
                "agent-secret",
                API,
                "read:items",
                Some(&token_proof),
            )
            .await;
        let payload = tests::payload(&token);
        assert_eq!(
            payload["cnf"]["jkt"],
            key.thumbprint(),
            "oidc-provider bound the token"
        );

        let auth = auth(op.issuer());
        auth.prefetch().await.unwrap();
        let app = test::init_service(App::new().wrap(auth).service(items)).await;
        let request = |proof: &str| test::TestRequest::get().uri("/items").dpop(&token, proof);

        let good = key.proof("GET", ITEMS, &token);
        let reply = send(&app, request(&good)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

        let mut private_jwk = key.public_jwk();
        private_jwk["d"] = json!("c2VjcmV0");
        let refusals = [
            ("replayed", good.clone(), "INVALID_DPOP_PROOF"),
            (
                "signed by another key",
                DpopKey::generate().proof("GET", ITEMS, &token),
                "INVALID_TOKEN",
            ),
            (
                "for another URL",
                key.proof("GET", "https://api.example.com/admin", &token),
                "INVALID_DPOP_PROOF",
            ),
            (
                "for another method",
                key.proof("DELETE", ITEMS, &token),
                "INVALID_DPOP_PROOF",
            ),
            (
                "without ath",
                key.proof_for("GET", ITEMS).sign(),
                "INVALID_DPOP_PROOF",
            ),
            (
                "stale",
                key.proof_for("GET", ITEMS)
                    .access_token(&token)
                    .claim("iat", unix_now() - 3600)
                    .sign(),
                "INVALID_DPOP_PROOF",
            ),
            (
                "with a private key in the header",
                key.proof_for("GET", ITEMS)
                    .access_token(&token)
                    .header("jwk", &private_jwk)
                    .sign(),
                "INVALID_DPOP_PROOF",
            ),
            // The proof that obtained the token is for the token endpoint, not the API.
            (
                "the token request's proof",
                token_proof.clone(),
                "INVALID_DPOP_PROOF",
            ),
        ];
        for (what, proof, code) in refusals {
            let reply = send(&app, request(&proof)).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}");
            assert_eq!(reply.code(), code, "{what}: {}", reply.body);
        }
        let as_bearer = get_bearer(&app, "/items", &token).await;
        assert_eq!(as_bearer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(as_bearer.code(), "INVALID_TOKEN");
    }
}
