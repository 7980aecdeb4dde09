//! Every resource bound holds and answers with its documented error: token size, header and cookie
//! size over real HTTP, header count, keys per JWKS, JSON nesting (see SECURITY.md, "Resource
//! bounds").

use actix_web::{App, HttpResponse, HttpServer, web};
use auth_actix::testing::TestIssuer;
use auth_actix::{Identity, JwtAuth, TokenSource, Verified};
use auth_core::limits::{MAX_KEYS, MAX_TOKEN_LEN};
use auth_core::{AuthError, Malformed, Verifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tests::{error_code as code, init_tracing};

/// A real server on loopback with the middleware, so actix's own HTTP parsing limits apply.
async fn serve(auth: JwtAuth) -> (String, actix_web::dev::ServerHandle) {
    let server = HttpServer::new(move || {
        App::new().wrap(auth.clone()).route(
            "/me",
            web::get().to(|id: Verified<Identity>| async move {
                HttpResponse::Ok().body(id.subject.clone())
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://{}/me", server.addrs()[0]);
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (url, handle)
}

#[actix_web::test]
async fn oversized_tokens_in_headers_and_cookies_are_invalid_tokens() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider())
        .unwrap()
        .token_sources([TokenSource::Bearer, TokenSource::cookie("session")]);
    let (url, server) = serve(auth).await;
    let client = tests::client();
    let big = issuer
        .token()
        .claim("pad", "x".repeat(MAX_TOKEN_LEN))
        .sign();
    assert!(big.len() > MAX_TOKEN_LEN && big.len() < 24 * 1024);

    let response = client.get(&url).bearer_auth(&big).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(code(&response.text().await.unwrap()), "INVALID_TOKEN");

    let response = client
        .get(&url)
        .header("cookie", format!("session={big}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(code(&response.text().await.unwrap()), "INVALID_TOKEN");

    let fine = issuer.token().subject("ok").sign();
    let response = client.get(&url).bearer_auth(&fine).send().await.unwrap();
    assert_eq!(response.status(), 200, "the server is still serving");
    server.stop(true).await;
}

#[actix_web::test]
async fn request_heads_over_actix_limits_are_refused_before_any_handler() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let (url, server) = serve(JwtAuth::new(issuer.provider()).unwrap()).await;
    let client = tests::client();

    let mut many = client.get(&url);
    for i in 0..120 {
        many = many.header(format!("x-filler-{i}"), "1");
    }
    let status = many.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
    assert_eq!(
        status, 431,
        "too many headers: Request Header Fields Too Large"
    );

    let huge_cookie = format!("a={}", "b".repeat(200 * 1024));
    let status = client
        .get(&url)
        .header("cookie", huge_cookie)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    assert_eq!(
        status, 431,
        "oversized head: Request Header Fields Too Large"
    );

    let fine = issuer.token().subject("ok").sign();
    assert_eq!(
        client
            .get(&url)
            .bearer_auth(&fine)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    server.stop(true).await;
    assert_eq!(
        issuer.jwks_fetches(),
        1,
        "refused heads never reached the verifier"
    );
}

#[tokio::test]
async fn only_the_first_keys_of_a_jwks_are_used() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let real: serde_json::Value = tests::get_json(&issuer.jwks_url()).await;
    let spam: Vec<serde_json::Value> = (0..MAX_KEYS)
        .map(|i| {
            let x = URL_SAFE_NO_PAD.encode([i as u8; 32]);
            serde_json::json!({"kty": "OKP", "crv": "Ed25519", "kid": format!("spam-{i}"), "x": x})
        })
        .collect();
    let keys: Vec<serde_json::Value> = spam
        .into_iter()
        .chain(real["keys"].as_array().unwrap().iter().cloned())
        .collect();
    issuer.set_jwks_body(Some(serde_json::json!({ "keys": keys }).to_string()));
    let verifier = Verifier::new(issuer.provider()).unwrap();
    let err = verifier
        .verify_token(&issuer.token().sign())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AuthError::UnknownKey,
        "keys past the first {MAX_KEYS} are ignored"
    );
}

#[tokio::test]
async fn deep_json_nesting_is_refused_not_a_stack_overflow() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(issuer.provider()).unwrap();
    let token = issuer.token().sign();
    let header = token.split('.').next().unwrap();
    let depth = 5000;
    let nested = format!("{{\"a\":{}1{}}}", "[".repeat(depth), "]".repeat(depth));
    let forged = format!("{header}.{}.c2ln", URL_SAFE_NO_PAD.encode(&nested));
    assert!(forged.len() < MAX_TOKEN_LEN);
    assert_eq!(
        verifier.verify_token(&forged).await.unwrap_err(),
        AuthError::Malformed(Malformed::Payload)
    );

    let mut deep = serde_json::json!(1);
    for _ in 0..200 {
        deep = serde_json::json!([deep]);
    }
    let signed = issuer.token().claim("deep", deep).sign();
    assert_eq!(
        verifier.verify_token(&signed).await.unwrap_err(),
        AuthError::Malformed(Malformed::Payload)
    );

    issuer.set_jwks_body(Some(format!(
        "{{\"keys\":{}{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    )));
    let fresh = Verifier::new(issuer.provider()).unwrap();
    assert!(matches!(
        fresh.verify_token(&token).await,
        Err(AuthError::KeysUnavailable { .. })
    ));
}
