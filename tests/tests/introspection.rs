//! Opaque tokens by RFC 7662 introspection: against the loopback test issuer (every branch), and
//! against `oidc-provider` (an OpenID Certified provider) with each client authentication it
//! offers: client_secret_basic, client_secret_post and private_key_jwt.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, get, test};
use auth_actix::testing::{
    DpopKey, ServiceUserGrant, TestIssuer, TestRequestExt, ZITADEL_WEB_CLIENT_ID,
};
use auth_actix::{
    AuthError, Introspection, JwtAuth, Provider, Revocations, StandardClaims, Verifier,
};
use auth_core::{ClientKey, DpopRequest};
use base64::Engine;
use serde_json::{Value, json};
use tests::audit_log::AuditLog;
use tests::oidc_provider::{OidcProvider, available};
use tests::{init_tracing, send};

#[get("/admin")]
#[auth_actix::require_role("admin")]
async fn admin() -> HttpResponse {
    HttpResponse::Ok().body("admin")
}

#[get("/me/password")]
#[auth_actix::require_user]
async fn password() -> HttpResponse {
    HttpResponse::Ok().body("people only")
}

#[get("/jobs")]
#[auth_actix::require_service]
async fn jobs() -> HttpResponse {
    HttpResponse::Ok().body("machines only")
}

fn introspecting(issuer: &TestIssuer) -> Verifier {
    Verifier::new(issuer.provider().introspection(issuer.introspection())).expect("valid settings")
}

#[actix_web::test]
async fn an_opaque_token_is_introspected_and_its_roles_guard_routes() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider().introspection(issuer.introspection())).unwrap();
    let app = test::init_service(App::new().wrap(auth).service(admin)).await;

    let ada = issuer.token().subject("ada").roles(["admin"]).opaque();
    let bob = issuer.token().subject("bob").roles(["viewer"]).opaque();
    let get = |token: &str| test::TestRequest::get().uri("/admin").bearer(token);
    assert_eq!(send(&app, get(&ada)).await.status, StatusCode::OK);
    let refused = send(&app, get(&bob)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "FORBIDDEN");
    assert_eq!(issuer.introspections(), 2);

    // Signed tokens are still verified locally: introspection is for what cannot be.
    let jwt = issuer.token().roles(["admin"]).sign();
    assert_eq!(send(&app, get(&jwt)).await.status, StatusCode::OK);
    assert_eq!(issuer.introspections(), 2);
}

#[tokio::test]
async fn an_introspected_identity_carries_the_issuer_subject_and_scopes() {
    let issuer = TestIssuer::start().await;
    let verifier = introspecting(&issuer);
    let token = issuer
        .token()
        .subject("ada")
        .scopes(["read:items"])
        .opaque();
    let claims = verifier.verify::<StandardClaims>(&token).await.unwrap();
    let identity = claims.identity();
    assert_eq!(identity.subject, "ada");
    assert_eq!(identity.issuer, issuer.issuer());
    assert!(identity.has_scope("read:items"));
    let verified = verifier.verify_token(&token).await.unwrap();
    assert!(verified.is_introspected());
    assert_eq!(verified.algorithm(), None);
}

#[actix_web::test]
async fn an_unknown_opaque_token_is_401_and_the_answer_is_cached_briefly() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider().introspection(issuer.introspection())).unwrap();
    let app = test::init_service(App::new().wrap(auth).service(admin)).await;
    let get = || {
        test::TestRequest::get()
            .uri("/admin")
            .bearer("ot_never_issued")
    };
    let refused = send(&app, get()).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.code(), "INVALID_TOKEN");
    assert!(
        refused
            .header("www-authenticate")
            .unwrap()
            .contains("token not active")
    );
    send(&app, get()).await;
    assert_eq!(issuer.introspections(), 1, "the inactive answer is cached");
}

#[tokio::test]
async fn answers_are_cached_for_the_ttl_then_revocation_at_the_issuer_counts() {
    let issuer = TestIssuer::start().await;
    let verifier = introspecting(&issuer); // cache_ttl 1 s
    let token = issuer.token().subject("ada").opaque();
    verifier.verify_token(&token).await.unwrap();
    verifier.verify_token(&token).await.unwrap();
    assert_eq!(issuer.introspections(), 1);

    issuer.revoke(&token);
    // Within the cache lifetime the earlier answer stands: the price of not asking every time.
    verifier.verify_token(&token).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::InactiveToken
    );
}

#[tokio::test]
async fn concurrent_requests_for_one_token_share_one_introspection() {
    let issuer = TestIssuer::start().await;
    issuer.set_delay(Duration::from_millis(200));
    let verifier = introspecting(&issuer);
    let token = issuer.token().opaque();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (verifier, token) = (verifier.clone(), token.clone());
            tokio::spawn(async move { verifier.verify_token(&token).await.map(|_| ()) })
        })
        .collect();
    for result in tests::join_within(Duration::from_secs(10), tasks).await {
        result.unwrap();
    }
    assert_eq!(issuer.introspections(), 1);
}

#[tokio::test]
async fn the_dates_of_an_introspected_token_are_checked_even_when_the_issuer_calls_it_active() {
    let issuer = TestIssuer::start().await;
    let verifier = introspecting(&issuer);
    let token = issuer
        .token()
        .not_before_in(Duration::from_secs(600))
        .opaque();
    assert_eq!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::NotYetValid
    );
    let expired = issuer.token().expired().opaque();
    assert_eq!(
        verifier.verify_token(&expired).await.unwrap_err(),
        AuthError::InactiveToken
    );
}

#[tokio::test]
async fn the_audience_of_an_introspected_token_is_checked() {
    let issuer = TestIssuer::start().await;
    let verifier = introspecting(&issuer);
    let token = issuer
        .token()
        .audience("https://another-api.example.com")
        .opaque();
    assert_eq!(
        verifier.verify_token(&token).await.unwrap_err().reason(),
        "bad_audience"
    );
}

#[actix_web::test]
async fn an_introspection_outage_is_503_with_retry_after() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider().introspection(issuer.introspection())).unwrap();
    auth.prefetch().await.unwrap();
    let app = test::init_service(App::new().wrap(auth).service(admin)).await;
    let token = issuer.token().roles(["admin"]).opaque();
    issuer.set_outage(true);
    let refused = send(&app, test::TestRequest::get().uri("/admin").bearer(&token)).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.code(), "AUTH_UNAVAILABLE");
    assert!(refused.header("retry-after").is_some());

    // Outages are not cached: the next request asks again and passes.
    issuer.set_outage(false);
    let passed = send(&app, test::TestRequest::get().uri("/admin").bearer(&token)).await;
    assert_eq!(passed.status, StatusCode::OK);
}

#[tokio::test]
async fn wrong_client_credentials_never_let_a_token_through() {
    let issuer = TestIssuer::start().await;
    let provider = issuer
        .provider()
        .introspection(Introspection::client_secret_basic(
            "test-introspector",
            "wrong-secret",
        ));
    let verifier = Verifier::new(provider).unwrap();
    let token = issuer.token().opaque();
    let error = verifier.verify_token(&token).await.unwrap_err();
    // A setting to fix, not an outage: its own refusal, naming the client.
    let AuthError::IntrospectionUnauthorized {
        setting, reason, ..
    } = &error
    else {
        panic!("expected refused credentials, got {error:?}");
    };
    assert!(setting.contains("\"test-introspector\""), "{setting}");
    assert!(reason.contains("401"), "{reason}");
    assert_eq!(error.code().as_str(), "AUTH_UNAVAILABLE");
    assert!(
        !reason.contains("wrong-secret"),
        "the secret is never logged"
    );
}

#[tokio::test]
async fn client_secret_post_authenticates_in_the_form() {
    let issuer = TestIssuer::start().await;
    let provider = issuer
        .provider()
        .introspection(Introspection::client_secret_post(
            "test-introspector",
            "test-secret",
        ));
    let verifier = Verifier::new(provider).unwrap();
    let token = issuer.token().subject("ada").opaque();
    let claims = verifier.verify::<StandardClaims>(&token).await.unwrap();
    assert_eq!(claims.identity().subject, "ada");
}

#[tokio::test]
async fn without_introspection_an_opaque_token_is_refused_saying_so() {
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(issuer.provider()).unwrap();
    let token = issuer.token().opaque();
    assert_eq!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::OpaqueToken("this provider is configured without introspection")
    );
    assert_eq!(issuer.introspections(), 0);
}

#[tokio::test]
async fn all_tokens_introspects_signed_tokens_too() {
    let issuer = TestIssuer::start().await;
    let provider = issuer
        .provider()
        .introspection(issuer.introspection().all_tokens());
    let verifier = Verifier::new(provider).unwrap();
    let token = issuer.token().subject("ada").sign();
    verifier.verify_token(&token).await.unwrap();
    assert_eq!(issuer.introspections(), 1);

    issuer.revoke(&token);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::InactiveToken
    );
    // A forged signature is refused before the issuer is asked.
    let before = issuer.introspections();
    let forged = tests::with_flipped_signature_bit(&issuer.token().sign());
    assert_eq!(
        verifier.verify_token(&forged).await.unwrap_err(),
        AuthError::InvalidSignature
    );
    assert_eq!(issuer.introspections(), before);
}

// ------------------------------------------ all_tokens: what the signed token says holds ---

/// Where the DPoP proofs below say they were sent.
const ITEMS: &str = "https://api.example.com/items";

fn all_tokens(issuer: &TestIssuer) -> Verifier {
    let provider = issuer
        .provider()
        .introspection(issuer.introspection().all_tokens());
    Verifier::new(provider).unwrap()
}

/// The refusal of an answer that contradicts the signed token: an invalid claim, named first.
fn contradicted(error: &AuthError, claim: &str) -> bool {
    matches!(error, AuthError::InvalidClaim(reason)
        if reason.starts_with(&format!("{claim}: ")) && reason.contains("introspection answer"))
}

#[actix_web::test]
async fn all_tokens_keeps_the_dpop_binding_an_answer_leaves_out() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let key = DpopKey::generate();
    let token = issuer.token().subject("ada").dpop_bound(&key).sign();
    // The issuer's answer says nothing of the binding: a bearer token, by its account.
    issuer.shape_introspection(&token, |answer| {
        answer.remove("cnf");
        answer.insert("token_type".into(), "Bearer".into());
    });
    let verifier = all_tokens(&issuer);
    assert!(matches!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::DpopBinding(_)
    ));
    let auth = JwtAuth::new(
        issuer
            .provider()
            .introspection(issuer.introspection().all_tokens()),
    )
    .unwrap();
    let app = test::init_service(App::new().wrap(auth).service(admin)).await;
    let as_bearer = send(&app, test::TestRequest::get().uri("/admin").bearer(&token)).await;
    assert_eq!(as_bearer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(as_bearer.code(), "INVALID_TOKEN");

    // With a proof by its key, it passes, bound to that key.
    let proof = key.proof("GET", ITEMS, &token);
    let request = DpopRequest {
        proof: &proof,
        method: "GET",
        url: ITEMS,
    };
    let verified = verifier.verify_dpop(&token, &request).await.unwrap();
    assert_eq!(verified.dpop_thumbprint(), Some(key.thumbprint()));
    assert_eq!(verified.identity().subject, "ada");
    let thief = DpopKey::generate();
    let proof = thief.proof("GET", ITEMS, &token);
    let stolen = DpopRequest {
        proof: &proof,
        ..request
    };
    assert!(matches!(
        verifier.verify_dpop(&token, &stolen).await.unwrap_err(),
        AuthError::DpopBinding(_)
    ));
}

#[tokio::test]
async fn all_tokens_refuses_an_answer_that_binds_another_key() {
    let issuer = TestIssuer::start().await;
    let key = DpopKey::generate();
    let other = DpopKey::generate();
    let token = issuer.token().dpop_bound(&key).sign();
    let jkt = other.thumbprint().to_owned();
    issuer.shape_introspection(&token, move |answer| {
        answer.insert("cnf".into(), json!({ "jkt": jkt }));
    });
    let verifier = all_tokens(&issuer);
    // Neither the token's key nor the one the answer names makes it good.
    for holder in [&key, &other] {
        let proof = holder.proof("GET", ITEMS, &token);
        let request = DpopRequest {
            proof: &proof,
            method: "GET",
            url: ITEMS,
        };
        let refused = verifier.verify_dpop(&token, &request).await.unwrap_err();
        assert!(contradicted(&refused, "cnf"), "{refused:?}");
    }
    assert_eq!(issuer.introspections(), 1, "the refusal is cached");
}

#[tokio::test]
async fn all_tokens_refuses_an_answer_naming_another_subject_audience_party_issuer_or_token() {
    let issuer = TestIssuer::start().await;
    let own_audience = issuer.audience().to_owned();
    let cases: Vec<(&str, serde_json::Value)> = vec![
        ("sub", json!({"sub": "bob"})),
        // The API's audience is there, with another the token was never minted for.
        (
            "aud",
            json!({"aud": [own_audience.clone(), "https://billing.example.com"]}),
        ),
        ("azp", json!({"azp": "https://elsewhere.example.com"})),
        ("iss", json!({"iss": "https://issuer.example.com"})),
        ("jti", json!({"jti": "another-token"})),
    ];
    let verifier = all_tokens(&issuer);
    for (claim, members) in cases {
        let token = issuer
            .token()
            .subject("ada")
            .claim("azp", "https://app.example.com")
            .sign();
        issuer.shape_introspection(&token, move |answer| {
            answer.extend(members.as_object().cloned().unwrap_or_default());
        });
        let refused = verifier.verify_token(&token).await.unwrap_err();
        assert!(contradicted(&refused, claim), "{claim}: {refused:?}");
    }
    // The other way round: the token names an audience the answer leaves out.
    let token = issuer
        .token()
        .audiences([own_audience.as_str(), "https://billing.example.com"])
        .sign();
    let only_ours = own_audience.clone();
    issuer.shape_introspection(&token, move |answer| {
        answer.insert("aud".into(), only_ours.clone().into());
    });
    let refused = verifier.verify_token(&token).await.unwrap_err();
    assert!(contradicted(&refused, "aud"), "{refused:?}");
}

#[tokio::test]
async fn all_tokens_takes_roles_from_the_answer_and_fills_in_what_it_leaves_out() {
    let issuer = TestIssuer::start().await;
    let verifier = all_tokens(&issuer);
    // A lightweight token (Keycloak's carry no roles): the answer names them, and says no more.
    let token = issuer.token().subject("ada").sign();
    issuer.shape_introspection(&token, |answer| {
        answer.retain(|name, _| name == "active" || name == "exp");
        answer.insert("roles".into(), json!(["admin"]));
    });
    let verified = verifier.verify_token(&token).await.unwrap();
    let identity = verified.identity();
    assert!(identity.has_role("admin"));
    assert_eq!(identity.subject, "ada", "the token's own sub");
    assert_eq!(identity.issuer, issuer.issuer(), "the token's own iss");
    assert_eq!(
        verified.payload()["aud"],
        issuer.audience(),
        "the token's aud"
    );
    // An answer that agrees in other words: the same audiences as an array.
    let token = issuer.token().sign();
    let audience = issuer.audience().to_owned();
    issuer.shape_introspection(&token, move |answer| {
        answer.insert("aud".into(), json!([audience.clone(), audience.clone()]));
    });
    verifier.verify_token(&token).await.unwrap();
}

#[tokio::test]
async fn all_tokens_never_outlives_the_signed_exp() {
    let issuer = TestIssuer::start().await;
    let verifier = all_tokens(&issuer);
    // Expired an hour ago, but the issuer's answer calls it active for another hour.
    let token = issuer.token().expired().sign();
    let later = tests::unix_now() + 3600;
    issuer.shape_introspection(&token, move |answer| {
        answer.insert("exp".into(), later.into());
    });
    assert_eq!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::Expired
    );
}

#[tokio::test]
async fn all_tokens_holds_the_signed_tokens_own_dates_and_kind() {
    let issuer = TestIssuer::start().await;
    // Not valid for another hour, though the issuer's answer leaves `nbf` out.
    let early = issuer.token().claim("nbf", tests::unix_now() + 3600).sign();
    issuer.shape_introspection(&early, |answer| {
        answer.remove("nbf");
    });
    assert_eq!(
        all_tokens(&issuer).verify_token(&early).await.unwrap_err(),
        AuthError::NotYetValid
    );
    // An ID token (its `nonce`) stays one, though the answer does not repeat the `nonce`.
    let zitadel = issuer.adopt(
        Provider::zitadel("https://acme.zitadel.cloud", "263514598346711111")
            .introspection(issuer.introspection().all_tokens()),
    );
    let id_token = issuer.token_for(&zitadel).claim("nonce", "n-1").sign();
    issuer.shape_introspection(&id_token, |answer| {
        answer.remove("nonce");
    });
    let verifier = Verifier::new(zitadel).unwrap();
    assert!(matches!(
        verifier.verify_token(&id_token).await.unwrap_err(),
        AuthError::WrongTokenKind(_)
    ));
}

#[tokio::test]
async fn all_tokens_revocations_go_by_the_signed_jti() {
    let issuer = TestIssuer::start().await;
    let revocations = Revocations::in_memory();
    let verifier = all_tokens(&issuer).revocations(revocations.clone());
    // An answer without `jti`: the token can still be named, and revoked, by its own.
    let token = issuer.token().subject("ada").sign();
    issuer.shape_introspection(&token, |answer| {
        answer.remove("jti");
    });
    let verified = verifier.verify_token(&token).await.unwrap();
    revocations.revoke(&verified).await.unwrap();
    assert_eq!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::Revoked
    );
}

#[tokio::test]
async fn all_tokens_answers_cannot_make_a_token_look_issued_after_a_sign_out() {
    let issuer = TestIssuer::start().await;
    let revocations = Revocations::in_memory();
    let verifier = all_tokens(&issuer).revocations(revocations.clone());
    // "Sign out everywhere" for bob; his token's answer says it was issued after that.
    let token = issuer.token().subject("bob").sign();
    let later = tests::unix_now() + 20;
    issuer.shape_introspection(&token, move |answer| {
        answer.insert("iat".into(), later.into());
    });
    revocations
        .revoke_subject(issuer.issuer(), "bob", tests::unix_now() + 1)
        .await
        .unwrap();
    assert_eq!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::Revoked
    );
}

// ---------------------------------------------- revocation at the issuer, for JWTs too ---

#[actix_web::test]
async fn all_tokens_refuses_a_jwt_revoked_at_the_issuer_within_the_cache_ttl_and_without_it_waits_for_exp()
 {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let ttl = Duration::from_secs(1);
    let asking = issuer
        .provider()
        .introspection(issuer.introspection().cache_ttl(ttl).all_tokens());
    let asking = test::init_service(
        App::new()
            .wrap(JwtAuth::new(asking).unwrap())
            .service(admin),
    )
    .await;
    let trusting = JwtAuth::new(issuer.provider().introspection(issuer.introspection())).unwrap();
    let trusting = test::init_service(App::new().wrap(trusting).service(admin)).await;
    let token = issuer.token().subject("ada").roles(["admin"]).sign();
    let get = || test::TestRequest::get().uri("/admin").bearer(&token);
    assert_eq!(send(&asking, get()).await.status, StatusCode::OK);
    assert_eq!(send(&trusting, get()).await.status, StatusCode::OK);

    // Signed out at the provider: the token is still signed and unexpired.
    issuer.revoke(&token);
    let refused = tests::poll(
        ttl * 10,
        || send(&asking, get()),
        |reply| reply.status != StatusCode::OK,
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert!(
        refused
            .header("www-authenticate")
            .unwrap()
            .contains("token not active")
    );
    // Without all_tokens nothing asks the issuer: the revoked token works until its exp.
    tokio::time::sleep(ttl).await;
    assert_eq!(send(&trusting, get()).await.status, StatusCode::OK);
}

// ---------------------------------------- answers without `aud` (LemonLDAP::NG and others) ---

/// An opaque token whose introspection answer names no audience, only the relying party that
/// obtained it, as LemonLDAP::NG answers.
fn without_aud(issuer: &TestIssuer, client_id: Option<&str>) -> String {
    let token = issuer
        .token()
        .subject("ada")
        .roles(["admin"])
        .without_claim("aud");
    match client_id {
        Some(client_id) => token.claim("client_id", client_id).opaque(),
        None => token.opaque(),
    }
}

#[actix_web::test]
async fn an_answer_without_aud_is_refused_and_the_log_says_so() {
    let (log, _guard) = AuditLog::install();
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider().introspection(issuer.introspection())).unwrap();
    let app = test::init_service(App::new().wrap(auth).service(admin)).await;
    let token = without_aud(&issuer, Some("orders-web"));
    log.clear();
    let refused = send(&app, test::TestRequest::get().uri("/admin").bearer(&token)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.code(), "INVALID_TOKEN");
    let events = log.with_outcome("rejected");
    assert_eq!(events.len(), 1, "{:?}", log.events());
    let reason = &events[0]["reason"];
    assert!(
        reason.contains("the introspection answer carries no `aud`")
            && reason.contains("Introspection::accept_missing_audience_for_clients")
            && !reason.contains("audience mismatch"),
        "{reason}"
    );
    // An answer naming another audience is a mismatch, said as one.
    let elsewhere = issuer
        .token()
        .audience("https://billing.example.com")
        .opaque();
    log.clear();
    send(
        &app,
        test::TestRequest::get().uri("/admin").bearer(&elsewhere),
    )
    .await;
    let events = log.with_outcome("rejected");
    assert!(
        !events[0]["reason"].contains("carries no `aud`"),
        "{events:?}"
    );
}

#[tokio::test]
async fn accept_missing_audience_for_clients_admits_answers_of_the_named_clients_only() {
    let issuer = TestIssuer::start().await;
    let provider = issuer.provider().introspection(
        issuer
            .introspection()
            .accept_missing_audience_for_clients(["orders-web", "orders-cli"]),
    );
    let verifier = Verifier::new(provider).unwrap();
    let named = without_aud(&issuer, Some("orders-web"));
    let claims = verifier.verify::<StandardClaims>(&named).await.unwrap();
    assert_eq!(claims.identity().subject, "ada");
    assert!(claims.identity().has_role("admin"));

    let stranger = without_aud(&issuer, Some("billing-web"));
    let error = verifier.verify_token(&stranger).await.unwrap_err();
    assert!(
        matches!(&error, AuthError::MissingClaim(reason)
            if reason.contains("carries no `aud`") && reason.contains("\"billing-web\"")),
        "{error:?}"
    );
    let nobody = without_aud(&issuer, None);
    assert!(matches!(
        verifier.verify_token(&nobody).await.unwrap_err(),
        AuthError::MissingClaim(_)
    ));
    // An answer that names an audience is checked against it, whoever the client.
    let elsewhere = issuer
        .token()
        .audience("https://billing.example.com")
        .claim("client_id", "orders-web")
        .opaque();
    assert_eq!(
        verifier
            .verify_token(&elsewhere)
            .await
            .unwrap_err()
            .reason(),
        "bad_audience"
    );
    // A signed JWT keeps its own audience rule under all_tokens: the list is for answers only.
    let provider = issuer.provider().introspection(
        issuer
            .introspection()
            .all_tokens()
            .accept_missing_audience_for_clients(["orders-web"]),
    );
    let jwt = issuer
        .token()
        .without_claim("aud")
        .claim("client_id", "orders-web")
        .sign();
    assert_eq!(
        Verifier::new(provider)
            .unwrap()
            .verify_token(&jwt)
            .await
            .unwrap_err()
            .reason(),
        "bad_audience"
    );

    let blank = issuer.provider().introspection(
        issuer
            .introspection()
            .accept_missing_audience_for_clients([" "]),
    );
    let error = Verifier::new(blank).unwrap_err();
    assert!(
        error
            .setting
            .ends_with("Introspection::accept_missing_audience_for_clients"),
        "{error}"
    );
}

// --------------------------------------------------------------------------- Auth0 ---

#[tokio::test]
async fn auth0_has_no_introspection_endpoint_and_says_what_to_do_instead() {
    let introspection = Introspection::client_secret_basic("api", "secret");
    for introspection in [
        introspection.clone(),
        introspection.endpoint("https://tenant.us.auth0.com/oauth/introspect"),
    ] {
        let provider = Provider::auth0("tenant.us.auth0.com", "https://api.example.com")
            .introspection(introspection);
        let error = Verifier::new(provider).unwrap_err();
        assert_eq!(
            error.setting,
            "Provider::auth0(domain, audience): introspection"
        );
        assert!(
            error.problem.contains("no RFC 7662 introspection endpoint")
                && error.problem.contains("API Identifier as `audience`"),
            "{error}"
        );
    }
    assert!(
        Verifier::new(Provider::auth0(
            "tenant.us.auth0.com",
            "https://api.example.com"
        ))
        .is_ok()
    );
}

// ----------------------------------------------- opaque tokens go to one provider only ---

/// Two issuers, each minting opaque tokens with its own prefix.
async fn two_issuers() -> (TestIssuer, TestIssuer) {
    let (a, b) = (TestIssuer::start().await, TestIssuer::start().await);
    a.set_opaque_prefix("a_");
    b.set_opaque_prefix("b_");
    (a, b)
}

fn prefixed(issuer: &TestIssuer, prefix: Option<&str>) -> Provider {
    let introspection = issuer.introspection();
    let introspection = match prefix {
        Some(prefix) => introspection.token_prefix(prefix),
        None => introspection,
    };
    issuer.provider().introspection(introspection)
}

#[tokio::test]
async fn an_opaque_token_is_sent_to_the_provider_its_prefix_names_only() {
    let (a, b) = two_issuers().await;
    // B first: it used to be asked about every opaque token before A.
    let verifier = Verifier::any_of([prefixed(&b, Some("b_")), prefixed(&a, Some("a_"))]).unwrap();
    let from_a = a.token().subject("ada").opaque();
    let claims = verifier.verify::<StandardClaims>(&from_a).await.unwrap();
    assert_eq!(claims.identity().issuer, a.issuer());
    assert_eq!((a.introspections(), b.introspections()), (1, 0));
    let from_b = b.token().subject("bob").opaque();
    let claims = verifier.verify::<StandardClaims>(&from_b).await.unwrap();
    assert_eq!(claims.identity().issuer, b.issuer());
    assert_eq!((a.introspections(), b.introspections()), (1, 1));
    // B's prefix on a token B never issued: B alone is asked, and says no.
    let unknown = "b_never_issued";
    assert_eq!(
        verifier.verify_token(unknown).await.unwrap_err(),
        AuthError::InactiveToken
    );
    assert_eq!((a.introspections(), b.introspections()), (1, 2));

    // A provider without a prefix takes the tokens no prefix claims, and only those.
    let verifier = Verifier::any_of([prefixed(&b, Some("b_")), prefixed(&a, None)]).unwrap();
    let from_a = a.token().subject("ada").opaque();
    verifier.verify_token(&from_a).await.unwrap();
    assert_eq!((a.introspections(), b.introspections()), (2, 2));
    let from_b = b.token().subject("bob").opaque();
    verifier.verify_token(&from_b).await.unwrap();
    assert_eq!((a.introspections(), b.introspections()), (2, 3));
}

#[actix_web::test]
async fn an_opaque_token_no_provider_claims_is_refused_without_a_call() {
    init_tracing();
    let (a, b) = two_issuers().await;
    let auth = JwtAuth::any_of([prefixed(&a, Some("a_")), prefixed(&b, Some("b_"))]).unwrap();
    let app = test::init_service(App::new().wrap(auth).service(admin)).await;
    a.set_opaque_prefix("c_");
    let stray = a.token().roles(["admin"]).opaque();
    let refused = send(&app, test::TestRequest::get().uri("/admin").bearer(&stray)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.code(), "INVALID_TOKEN");
    assert_eq!((a.introspections(), b.introspections()), (0, 0));

    // One introspecting provider with a prefix is sent only the tokens that carry it.
    let verifier = Verifier::new(prefixed(&a, Some("a_"))).unwrap();
    let refused = verifier.verify_token(&stray).await.unwrap_err();
    assert!(
        matches!(refused, AuthError::OpaqueToken(hint) if hint.contains("token_prefix")),
        "{refused}"
    );
    assert_eq!(a.introspections(), 0);
}

#[tokio::test]
async fn introspecting_providers_whose_tokens_cannot_be_told_apart_are_refused_at_startup() {
    let (a, b) = two_issuers().await;
    let error = Verifier::any_of([prefixed(&a, None), prefixed(&b, None)]).unwrap_err();
    assert_eq!(error.setting, "Introspection::token_prefix");
    assert!(
        error.problem.contains(a.issuer()) && error.problem.contains(b.issuer()),
        "{error}"
    );
    let error = JwtAuth::any_of([prefixed(&a, None), prefixed(&b, None)]).unwrap_err();
    assert_eq!(error.setting, "Introspection::token_prefix");

    let error =
        Verifier::any_of([prefixed(&a, Some("at_")), prefixed(&b, Some("at_b"))]).unwrap_err();
    assert_eq!(error.setting, "Introspection::token_prefix");
    assert!(
        error.problem.contains("\"at_\"") && error.problem.contains("\"at_b\""),
        "{error}"
    );
    let error = prefixed(&a, Some(""));
    let error = Verifier::new(error).unwrap_err();
    assert!(
        error.setting.ends_with("Introspection::token_prefix"),
        "{error}"
    );

    // One introspecting provider beside one that only verifies JWTs needs no prefix.
    assert!(Verifier::any_of([prefixed(&a, None), b.provider()]).is_ok());
}

#[tokio::test]
async fn introspection_needs_an_endpoint_when_keys_come_from_a_jwks_url() {
    let issuer = TestIssuer::start().await;
    let provider = Provider::oidc(issuer.issuer())
        .jwks_url(issuer.jwks_url())
        .audience(issuer.audience())
        .introspection(issuer.introspection());
    let error = Verifier::new(provider).unwrap_err();
    assert!(error.to_string().contains("endpoint"), "{error}");
}

// ------------------------------------------------------------------ oidc-provider ---

const API: &str = "https://api.example.com";
const OTHER_API: &str = "https://billing.example.com";

/// An `oidc-provider` issuing opaque tokens for both APIs, with the API itself registered as a
/// client for each way of authenticating at the introspection endpoint.
fn opaque_config(api_key: &Value) -> Value {
    json!({
        "alg": "ES256",
        "resources": [
            {"indicator": API, "format": "opaque", "scope": "read:items", "ttl": 300},
            {"indicator": OTHER_API, "format": "opaque", "scope": "read:items", "ttl": 300},
        ],
        "clients": [
            {"client_id": "admin-app", "client_secret": "admin-secret", "scope": "read:items"},
            {"client_id": "reader-app", "client_secret": "reader-secret", "scope": "read:items"},
            {"client_id": "api-basic", "client_secret": "api-basic-secret"},
            {
                "client_id": "api-post", "client_secret": "api-post-secret",
                "token_endpoint_auth_method": "client_secret_post",
            },
            {
                "client_id": "api-key", "token_endpoint_auth_method": "private_key_jwt",
                "token_endpoint_auth_signing_alg": "ES256",
                "jwks": {"keys": [api_key]},
            },
        ],
        "roles": {"admin-app": ["admin"]},
        "features": {"dpop": false},
    })
}

/// A P-256 key for private_key_jwt: its PKCS#8 PEM and its public JWK.
fn client_key() -> (String, Value) {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let der = pair.private_key().as_der().unwrap();
    let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----\n",
        lines.join("\n")
    );
    let point = pair.public_key().as_ref();
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "api-key-1",
        "x": tests::b64(&point[1..33]), "y": tests::b64(&point[33..65]),
    });
    (pem, jwk)
}

fn api(issuer: &str, introspection: Introspection) -> Provider {
    Provider::oidc(issuer)
        .audience(API)
        .key_settings(TestIssuer::fast_key_settings())
        .introspection(introspection.cache_ttl(Duration::from_secs(1)))
}

#[actix_web::test]
async fn oidc_provider_opaque_tokens_pass_with_each_client_authentication() {
    if !available("oidc_provider_opaque_tokens_pass_with_each_client_authentication") {
        return;
    }
    init_tracing();
    let (pem, jwk) = client_key();
    let op = OidcProvider::start(opaque_config(&jwk)).await;
    let key = ClientKey::from_pem(&pem, Some("api-key-1")).unwrap();
    let ways = [
        Introspection::client_secret_basic("api-basic", "api-basic-secret"),
        Introspection::client_secret_post("api-post", "api-post-secret"),
        Introspection::private_key_jwt("api-key", key),
    ];
    let admin_token = op
        .token("admin-app", "admin-secret", API, "read:items")
        .await;
    let reader_token = op
        .token("reader-app", "reader-secret", API, "read:items")
        .await;
    assert_eq!(
        admin_token.matches('.').count(),
        0,
        "oidc-provider issues opaque tokens here"
    );
    for way in ways {
        let described = format!("{way:?}");
        let auth = JwtAuth::new(api(op.issuer(), way)).unwrap();
        auth.prefetch().await.unwrap();
        let app = test::init_service(App::new().wrap(auth).service(admin)).await;
        let get = |token: &str| test::TestRequest::get().uri("/admin").bearer(token);
        let reply = send(&app, get(&admin_token)).await;
        assert_eq!(reply.status, StatusCode::OK, "{described}: {}", reply.body);
        let reply = send(&app, get(&reader_token)).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{described}: {}",
            reply.body
        );
    }
}

#[tokio::test]
async fn oidc_provider_tokens_for_another_resource_or_revoked_or_unknown_are_refused() {
    if !available("oidc_provider_tokens_for_another_resource_or_revoked_or_unknown_are_refused") {
        return;
    }
    let (_, jwk) = client_key();
    let op = OidcProvider::start(opaque_config(&jwk)).await;
    let verifier = Verifier::new(api(
        op.issuer(),
        Introspection::client_secret_basic("api-basic", "api-basic-secret"),
    ))
    .unwrap();

    let billing = op
        .token("reader-app", "reader-secret", OTHER_API, "read:items")
        .await;
    assert_eq!(
        verifier.verify_token(&billing).await.unwrap_err().reason(),
        "bad_audience"
    );
    assert_eq!(
        verifier
            .verify_token("not-a-token-it-issued")
            .await
            .unwrap_err(),
        AuthError::InactiveToken
    );

    let token = op
        .token("reader-app", "reader-secret", API, "read:items")
        .await;
    let claims = verifier.verify::<StandardClaims>(&token).await.unwrap();
    assert_eq!(
        claims.identity().subject,
        "reader-app",
        "sub falls back to client_id"
    );
    assert!(claims.identity().has_scope("read:items"));
    // The client revokes its token at the provider (RFC 7009).
    let revoked = tests::client()
        .post(format!("{}/token/revocation", op.issuer()))
        .basic_auth("reader-app", Some("reader-secret"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success(), "{}", revoked.status());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::InactiveToken
    );
}

#[tokio::test]
async fn oidc_provider_down_is_503_not_a_pass() {
    if !available("oidc_provider_down_is_503_not_a_pass") {
        return;
    }
    let (_, jwk) = client_key();
    let mut op = OidcProvider::start(opaque_config(&jwk)).await;
    let verifier = Verifier::new(api(
        op.issuer(),
        Introspection::client_secret_basic("api-basic", "api-basic-secret"),
    ))
    .unwrap();
    verifier.prefetch().await.unwrap();
    let token = op
        .token("reader-app", "reader-secret", API, "read:items")
        .await;
    op.stop().await;
    assert!(matches!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::IntrospectionUnavailable { .. }
    ));
}

#[tokio::test]
async fn a_zitadel_key_file_signs_in_with_private_key_jwt() {
    if !available("a_zitadel_key_file_signs_in_with_private_key_jwt") {
        return;
    }
    let (pem, jwk) = client_key();
    let op = OidcProvider::start(opaque_config(&jwk)).await;
    // The JSON Zitadel's console downloads for an API application with a private key JWT.
    let key_file = json!({
        "type": "application", "keyId": "api-key-1", "key": pem,
        "appId": "263514598346712222", "clientId": "api-key",
    });
    let provider = Provider::oidc(op.issuer())
        .audience(API)
        .key_settings(TestIssuer::fast_key_settings())
        .zitadel_key_file(&key_file.to_string());
    let verifier = Verifier::new(provider).unwrap();
    let token = op
        .token("admin-app", "admin-secret", API, "read:items")
        .await;
    let claims = verifier.verify::<StandardClaims>(&token).await.unwrap();
    assert!(claims.identity().has_role("admin"));

    let missing = Provider::oidc(op.issuer())
        .audience(API)
        .zitadel_key_file("/nonexistent/zitadel-key.json");
    let error = Verifier::new(missing).unwrap_err();
    assert!(error.to_string().contains("zitadel_key_file"), "{error}");
}

/// An `oidc-provider` issuing JWT access tokens, the API registered as a client that may
/// introspect.
fn jwt_config() -> Value {
    json!({
        "alg": "ES256",
        "resources": [
            {"indicator": API, "format": "jwt", "scope": "read:items", "ttl": 300},
        ],
        "clients": [
            {"client_id": "admin-app", "client_secret": "admin-secret", "scope": "read:items"},
            {"client_id": "api-basic", "client_secret": "api-basic-secret"},
        ],
        "roles": {"admin-app": ["admin"]},
        "features": {"dpop": false, "introspection": true, "revocation": true},
    })
}

#[actix_web::test]
async fn oidc_provider_does_not_introspect_jwts_so_all_tokens_stops_at_warm_up() {
    if !available("oidc_provider_does_not_introspect_jwts_so_all_tokens_stops_at_warm_up") {
        return;
    }
    init_tracing();
    let op = OidcProvider::start(jwt_config()).await;
    let credentials = || Introspection::client_secret_basic("api-basic", "api-basic-secret");
    let error = Verifier::new(api(op.issuer(), credentials().all_tokens()))
        .unwrap()
        .warm_up()
        .await
        .unwrap_err();
    assert_eq!(error.setting, "Introspection::all_tokens");
    assert!(
        error.problem.contains("HTTP 400 unsupported_token_type")
            && error
                .problem
                .contains("Structured JWT Tokens cannot be introspected")
            && error.problem.contains("remove .all_tokens()"),
        "{error}"
    );
    // The same credentials without all_tokens: the probe proves them, and JWTs verify here.
    let auth = JwtAuth::new(api(op.issuer(), credentials())).unwrap();
    auth.warm_up().await.unwrap();
    let app = test::init_service(App::new().wrap(auth).service(admin)).await;
    let token = op
        .token("admin-app", "admin-secret", API, "read:items")
        .await;
    assert_eq!(token.matches('.').count(), 2, "a JWT");
    let get = || test::TestRequest::get().uri("/admin").bearer(&token);
    assert_eq!(send(&app, get()).await.status, StatusCode::OK);
    // Nor does it revoke JWTs: a revocation at the provider cannot reach them, with or without
    // all_tokens; only their lifetime ends them.
    let revoked = tests::client()
        .post(format!("{}/token/revocation", op.issuer()))
        .basic_auth("admin-app", Some("admin-secret"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), reqwest::StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_slice(&revoked.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"], "unsupported_token_type");
    assert_eq!(send(&app, get()).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn oidc_provider_refusing_to_introspect_a_jwt_is_its_own_reason_not_an_outage() {
    if !available("oidc_provider_refusing_to_introspect_a_jwt_is_its_own_reason_not_an_outage") {
        return;
    }
    let (log, _guard) = AuditLog::install();
    let op = OidcProvider::start(jwt_config()).await;
    let introspection =
        Introspection::client_secret_basic("api-basic", "api-basic-secret").all_tokens();
    // Started without warm_up: the first JWT finds out.
    let auth = JwtAuth::new(api(op.issuer(), introspection)).unwrap();
    let app = test::init_service(App::new().wrap(auth.clone()).service(admin)).await;
    let token = op
        .token("admin-app", "admin-secret", API, "read:items")
        .await;
    log.clear();
    let refused = send(&app, test::TestRequest::get().uri("/admin").bearer(&token)).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.code(), "AUTH_UNAVAILABLE");
    let decisions = log.with_outcome("unavailable");
    assert_eq!(decisions.len(), 1, "{:?}", log.events());
    assert!(
        decisions[0]["reason"].contains("Introspection::all_tokens"),
        "{decisions:?}"
    );
    let errors: Vec<_> = log
        .events()
        .into_iter()
        .filter(|event| {
            event.get("setting").map(String::as_str) == Some("Introspection::all_tokens")
        })
        .collect();
    assert_eq!(errors.len(), 1, "{:?}", log.events());
    assert!(
        errors[0]["reason"].contains("Structured JWT Tokens cannot be introspected"),
        "{errors:?}"
    );
    let error = Verifier::new(api(
        op.issuer(),
        Introspection::client_secret_basic("api-basic", "api-basic-secret").all_tokens(),
    ))
    .unwrap()
    .verify_token(&token)
    .await
    .unwrap_err();
    assert_eq!(error.reason(), "introspection_unsupported_token");
    let readiness = auth.readiness();
    assert!(!readiness.ready, "{readiness:?}");
    let endpoint = readiness.issuers[0].introspection.clone().unwrap();
    assert!(endpoint.refuses_jwts, "{endpoint:?}");
}

/// Zitadel's default opaque tokens, end to end: the API application's key file signs the
/// introspection request in (`private_key_jwt`, checked by the test issuer as Zitadel checks it),
/// and each caller's answer comes in Zitadel's field names. People (the code flow) are users;
/// service users are machines whichever way they got their token.
#[actix_web::test]
async fn zitadel_opaque_tokens_are_introspected_with_the_key_file() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let project = "263514598346711111";
    let owner = "263514100000000001";
    let key_file = issuer.zitadel_key_file();
    let zitadel = issuer.adopt(
        Provider::zitadel("https://acme.zitadel.cloud", project)
            .trusted_organizations([owner])
            .zitadel_user_clients([ZITADEL_WEB_CLIENT_ID])
            .zitadel_key_file(&key_file.to_string_lossy()),
    );
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(zitadel.clone()).unwrap())
            .service(admin)
            .service(password)
            .service(jobs),
    )
    .await;
    let get = |uri: &str, token: &str| test::TestRequest::get().uri(uri).bearer(token);

    let person = issuer
        .token_for(&zitadel)
        .subject("263514598346700007")
        .roles(["admin"])
        .opaque();
    for (uri, status) in [
        ("/admin", StatusCode::OK),
        ("/me/password", StatusCode::OK),
        ("/jobs", StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            send(&app, get(uri, &person)).await.status,
            status,
            "person {uri}"
        );
    }
    let claims = Verifier::new(zitadel.clone())
        .unwrap()
        .verify::<StandardClaims>(&person)
        .await
        .unwrap();
    assert_eq!(
        claims.extra["username"], "263514598346700007@acme.zitadel.example",
        "Zitadel's name for the login name"
    );
    assert_eq!(claims.extra["token_type"], "Bearer");

    let grants = [
        ServiceUserGrant::JwtProfile,
        ServiceUserGrant::ClientCredentials,
        ServiceUserGrant::PersonalAccessToken,
    ];
    for grant in grants {
        let machine = issuer
            .token_for(&zitadel)
            .zitadel_service_user(grant)
            .roles(["admin"])
            .opaque();
        for (uri, status) in [
            ("/admin", StatusCode::OK),
            ("/me/password", StatusCode::FORBIDDEN),
            ("/jobs", StatusCode::OK),
        ] {
            assert_eq!(
                send(&app, get(uri, &machine)).await.status,
                status,
                "{grant:?} {uri}"
            );
        }
    }
    let introspected = issuer.introspections();
    assert!(introspected >= 4, "{introspected}");

    // Zitadel's answers carry `jti`; one without it is no access token's.
    let verifier = Verifier::new(zitadel.clone()).unwrap();
    let no_jti = issuer.token_for(&zitadel).opaque();
    issuer.shape_introspection(&no_jti, |answer| {
        answer.remove("jti");
    });
    assert!(matches!(
        verifier.verify_token(&no_jti).await.unwrap_err(),
        AuthError::WrongTokenKind(_)
    ));
}

/// A key file the issuer never registered (another instance's, a deleted key): Zitadel answers
/// HTTP 400 `unauthorized_client`, which is this API's misconfiguration, never "token inactive".
#[tokio::test]
async fn a_zitadel_key_the_issuer_never_registered_is_an_introspection_error() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let elsewhere = TestIssuer::start().await;
    let stranger = elsewhere.zitadel_key_file();
    let zitadel = issuer.adopt(
        Provider::zitadel("https://acme.zitadel.cloud", "263514598346711111")
            .zitadel_key_file(&stranger.to_string_lossy()),
    );
    let token = issuer.token_for(&zitadel).opaque();
    let refused = Verifier::new(zitadel)
        .unwrap()
        .verify_token(&token)
        .await
        .unwrap_err();
    let AuthError::IntrospectionUnauthorized {
        setting, reason, ..
    } = &refused
    else {
        panic!("expected refused credentials, got {refused:?}");
    };
    assert!(setting.contains("zitadel_key_file"), "{setting}");
    assert!(reason.contains("unauthorized_client"), "{reason}");
    assert_eq!(issuer.introspections(), 1);
}
