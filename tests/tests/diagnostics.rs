//! What the logs and startup say when a setting or a token is wrong in the ways new users hit first:
//! an Auth0 token requested without `audience`, an audience or issuer that does not match, a
//! custom domain configured as the tenant domain, and no noise on a correct start.

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, test, web};
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{Identity, JwtAuth, Provider, Verified, Verifier};
use auth_core::{Algorithm, PrefetchError};
use tests::audit_log::AuditLog;
use tests::{b64, send};

async fn me(caller: Verified<Identity>) -> HttpResponse {
    HttpResponse::Ok().body(caller.subject.clone())
}

/// `GET /me` through an app protected by `auth`, with `token` as a bearer token.
async fn call(auth: JwtAuth, token: &str) -> tests::Reply {
    let app = test::init_service(App::new().wrap(auth).route("/me", web::get().to(me))).await;
    send(&app, test::TestRequest::get().uri("/me").bearer(token)).await
}

/// The one decision event of the request just sent.
fn decision(log: &AuditLog) -> tests::audit_log::Fields {
    let events: Vec<_> = log
        .events()
        .into_iter()
        .filter(|event| event.contains_key("outcome"))
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    events.into_iter().next().unwrap_or_default()
}

#[actix_web::test]
async fn an_auth0_opaque_token_is_refused_with_the_audience_hint() {
    let (log, _guard) = AuditLog::install();
    let issuer = TestIssuer::start().await;
    let auth0 = issuer.adopt(Provider::auth0(
        "tenant.eu.auth0.com",
        "https://api.example.com",
    ));
    // What Auth0 issues without `audience`: an encrypted JWE (five segments, `alg` `dir`), or in
    // older tenants a short random string.
    let header = b64(r#"{"alg":"dir","enc":"A256GCM","iss":"https://tenant.eu.auth0.com/"}"#);
    let jwe = format!("{header}..aXYtaXYtaXYt.Y2lwaGVydGV4dA.dGFnLXRhZy10YWc");
    for opaque in [jwe.as_str(), "dGhpcyBpcyBub3QgYSBKV1QgYXQgYWxs"] {
        log.clear();
        let reply = call(JwtAuth::new(auth0.clone()).unwrap(), opaque).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.code(), "INVALID_TOKEN");
        assert!(
            !reply.body.contains("audience"),
            "the client sees the fixed message"
        );
        let event = decision(&log);
        assert_eq!(
            event["reason"],
            "not a JWT: an opaque token; for Auth0 request the token with your API identifier as \
             `audience` (without it Auth0 issues an opaque token for its /userinfo alone)"
        );
    }
    // Any other shape that is no JWT stays malformed.
    log.clear();
    let reply = call(JwtAuth::new(auth0).unwrap(), "a.b").await;
    assert_eq!(reply.code(), "INVALID_TOKEN");
    assert_eq!(decision(&log)["reason"], "malformed token: Segments");
}

#[actix_web::test]
async fn a_refusal_names_what_the_token_claims_beside_what_was_expected() {
    let (log, _guard) = AuditLog::install();
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider()).unwrap();
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let elsewhere = issuer
        .token()
        .audiences(["other-api", "https://graph.microsoft.com"])
        .claim("tid", tenant)
        .sign();
    let reply = call(auth.clone(), &elsewhere).await;
    assert_eq!(reply.code(), "INVALID_TOKEN");
    let event = decision(&log);
    assert_eq!(event["iss"], issuer.issuer());
    assert_eq!(event["issuer"], issuer.issuer());
    assert_eq!(event["aud"], "other-api, https://graph.microsoft.com");
    assert_eq!(event["tid"], tenant);
    assert_eq!(
        event["reason"],
        format!(
            "audience mismatch: the token carries aud [\"other-api\", \
             \"https://graph.microsoft.com\"]; accepted: {}",
            issuer.audience()
        )
    );
    assert!(
        !event.values().any(|value| value.contains(&elsewhere)),
        "never the token"
    );

    // An issuer no provider accepts: the claimed one, and the accepted ones in the reason.
    log.clear();
    let stranger = TestIssuer::start().await;
    let reply = call(auth, &stranger.token().sign()).await;
    assert_eq!(reply.code(), "INVALID_TOKEN");
    let event = decision(&log);
    assert_eq!(
        (event["iss"].as_str(), event["issuer"].as_str()),
        (stranger.issuer(), "none")
    );
    assert_eq!(event["aud"], issuer.audience());
    assert_eq!(event["tid"], "");
    assert!(event["reason"].contains(issuer.issuer()), "{event:?}");
}

#[tokio::test]
async fn startup_refuses_an_issuer_the_providers_discovery_document_does_not_name() {
    tests::init_tracing();
    let issuer = TestIssuer::start().await;
    let auth0 = issuer.adopt(Provider::auth0(
        "acme.eu.auth0.com",
        "https://api.example.com",
    ));
    // What Auth0's document names (the issuer with its trailing slash) passes.
    Verifier::new(auth0.clone())
        .unwrap()
        .prefetch()
        .await
        .unwrap();
    Verifier::new(auth0.clone())
        .unwrap()
        .warm_up()
        .await
        .unwrap();

    // The tokens come from a custom domain, and the tenant domain was configured (or the
    // reverse): the document names the issuer every token would carry.
    let custom_domain = "https://login.acme.example.com/";
    issuer.set_discovery_issuer(Some(custom_domain.to_owned()));
    let configured = format!("{}/", issuer.issuer());
    let error = Verifier::new(auth0.clone())
        .unwrap()
        .warm_up()
        .await
        .unwrap_err();
    assert_eq!(error.setting, "Provider::auth0(domain, audience): issuer");
    assert!(
        error.problem.contains(&format!("{custom_domain:?}"))
            && error.problem.contains(&format!("{configured:?}")),
        "{error}"
    );
    let error = Verifier::new(auth0).unwrap().prefetch().await.unwrap_err();
    assert!(
        matches!(&error, PrefetchError::Misconfigured(error) if error.setting.ends_with("issuer")),
        "{error}"
    );

    // Okta, Cognito and Entra are checked the same way.
    for preset in [
        Provider::okta("https://acme.okta.com/oauth2/default", "api://default"),
        Provider::cognito("eu-west-1", "eu-west-1_AbCdEf123", "client"),
        Provider::entra(
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "6e74172b-be56-4843-9ff4-e66a39bb12e3",
        ),
    ] {
        let provider = issuer.adopt(preset);
        let error = Verifier::new(provider)
            .unwrap()
            .warm_up()
            .await
            .unwrap_err();
        assert!(error.setting.ends_with(": issuer"), "{error}");
    }
}

#[tokio::test]
async fn an_unreadable_discovery_document_only_warns() {
    let (log, _guard) = AuditLog::install();
    let issuer = TestIssuer::start().await;
    // Keys from the test issuer; the issuer (and its document) on a port nothing listens on.
    let auth0 = Provider::auth0("acme.eu.auth0.com", "https://api.example.com")
        .relocate("http://127.0.0.1:9")
        .jwks_url(issuer.jwks_url())
        .key_settings(TestIssuer::fast_key_settings());
    Verifier::new(auth0).unwrap().warm_up().await.unwrap();
    let warned = log.events().into_iter().any(|event| {
        event
            .get("url")
            .is_some_and(|url| url.contains("127.0.0.1:9/.well-known"))
            && event["message"].contains("could not read the provider's discovery document")
    });
    assert!(warned, "{:?}", log.events());
}

#[tokio::test]
async fn adopting_a_preset_serves_only_keys_it_takes_so_no_key_is_skipped() {
    let (log, _guard) = AuditLog::install();
    // RS256, ES256 and EdDSA keys; Entra signs with RS256 alone.
    let issuer = TestIssuer::start().await;
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let client = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
    for preset in [
        Provider::entra(tenant, client),
        Provider::entra_v1(tenant, client),
        Provider::entra_multi_tenant(client, [tenant]),
        Provider::auth0("acme.eu.auth0.com", "https://api.example.com"),
        Provider::keycloak("https://sso.example.com", "demo", "api"),
    ] {
        let provider = issuer.adopt(preset);
        let verifier = Verifier::new(provider.clone()).unwrap();
        verifier.warm_up().await.unwrap();
        let token = issuer.token_for(&provider).sign();
        verifier.verify_token(&token).await.unwrap();
    }
    let skipped: Vec<_> = log
        .events()
        .into_iter()
        .filter(|event| {
            event
                .get("message")
                .is_some_and(|m| m.contains("skipping JWK"))
        })
        .collect();
    assert!(skipped.is_empty(), "{skipped:?}");

    // A key the provider cannot use still warns: an issuer holding no RSA key at all.
    let elliptic = TestIssuer::start_with(&[Algorithm::ES256]).await;
    let entra = elliptic.adopt(Provider::entra(tenant, client));
    let _ = Verifier::new(entra).unwrap().warm_up().await;
    let skipped = log.events().into_iter().any(|event| {
        event
            .get("message")
            .is_some_and(|m| m.contains("skipping JWK"))
    });
    assert!(skipped, "{:?}", log.events());
}
