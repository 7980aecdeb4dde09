//! The verification engine against a real issuer on loopback: every accepted algorithm, and one
//! test per refusal, each asserting the exact error.

use std::time::Duration;

use auth_core::limits::MAX_TOKEN_LEN;
use auth_core::testing::TestIssuer;
use auth_core::{
    Algorithm, AuthError, Claims, ErrorCode, IdentityKind, Malformed, Provider, StandardClaims,
    Verifier,
};
use serde::Deserialize;
use serde_json::json;
use tests::{
    assemble, b64, init_tracing, payload, segments, with_flipped_signature_bit, with_payload,
};

async fn setup() -> (TestIssuer, Verifier) {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(issuer.provider()).expect("test provider is valid");
    (issuer, verifier)
}

async fn refusal(verifier: &Verifier, token: &str) -> AuthError {
    match verifier.verify::<StandardClaims>(token).await {
        Ok(claims) => panic!("token was accepted: {claims:?}"),
        Err(err) => err,
    }
}

#[tokio::test]
async fn accepts_each_default_algorithm() {
    let (issuer, verifier) = setup().await;
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
        let token = issuer
            .token()
            .algorithm(alg)
            .subject("alice")
            .email("alice@example.com")
            .roles(["admin", "viewer"])
            .scopes(["read:items", "write:items"])
            .sign();
        let claims = verifier
            .verify::<StandardClaims>(&token)
            .await
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(claims.sub, "alice");
        assert_eq!(claims.iss, issuer.issuer());
        assert!(claims.aud.contains(issuer.audience()));
        let id = claims.identity();
        assert_eq!(id.subject, "alice");
        assert_eq!(id.issuer, issuer.issuer());
        assert_eq!(id.email.as_deref(), Some("alice@example.com"));
        assert!(id.has_role("admin") && id.has_role("viewer") && !id.has_role("owner"));
        assert!(id.has_scope("read:items") && id.has_scope("write:items"));
        assert_eq!(id.kind, IdentityKind::User);
    }
    assert_eq!(
        issuer.jwks_fetches(),
        1,
        "one key set serves every algorithm"
    );
}

#[tokio::test]
async fn accepts_every_supported_algorithm() {
    init_tracing();
    let issuer = TestIssuer::start_with(&Algorithm::ALL).await;
    let verifier = Verifier::new(issuer.provider()).unwrap();
    for alg in Algorithm::ALL {
        let token = issuer.token().algorithm(alg).sign();
        let claims = verifier
            .verify_token(&token)
            .await
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(claims.algorithm(), Some(alg));
        assert_eq!(claims.kid(), issuer.kid(alg).as_deref());
    }
}

#[tokio::test]
async fn oidc_accepts_what_the_issuer_advertises_each_key_its_own_algorithm() {
    init_tracing();
    for alg in [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ] {
        let issuer = TestIssuer::start_with(&[alg]).await;
        // No `.algorithms(..)`: the default of `Provider::oidc`.
        let verifier =
            Verifier::new(Provider::oidc(issuer.issuer()).audience(issuer.audience())).unwrap();
        let claims = verifier
            .verify_token(&issuer.token().sign())
            .await
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(claims.algorithm(), Some(alg));
        for other in ["RS256", "PS256", "RS384", "ES256", "EdDSA"]
            .into_iter()
            .filter(|name| *name != alg.as_str())
        {
            let token = issuer.token().header("alg", other).sign();
            assert_eq!(
                refusal(&verifier, &token).await,
                AuthError::AlgorithmNotAllowed,
                "{alg} key, {other} header"
            );
        }
    }
    // An RSA key without `alg` verifies the RSA algorithms discovery lists: PS256 here, not RS256.
    let issuer = TestIssuer::start_with(&[Algorithm::PS256]).await;
    let jwks: serde_json::Value = tests::get_json(&issuer.jwks_url()).await;
    let mut keys = jwks["keys"].as_array().unwrap().clone();
    keys[0].as_object_mut().unwrap().remove("alg");
    issuer.set_jwks_body(Some(json!({ "keys": keys }).to_string()));
    let verifier =
        Verifier::new(Provider::oidc(issuer.issuer()).audience(issuer.audience())).unwrap();
    verifier.verify_token(&issuer.token().sign()).await.unwrap();
    let rs256 = issuer.token().header("alg", "RS256").sign();
    assert_eq!(
        refusal(&verifier, &rs256).await,
        AuthError::AlgorithmNotAllowed
    );
    // `.algorithms(..)` narrows the default.
    let narrowed = Provider::oidc(issuer.issuer())
        .audience(issuer.audience())
        .algorithms([Algorithm::ES256]);
    let err = Verifier::new(narrowed)
        .unwrap()
        .prefetch()
        .await
        .unwrap_err();
    assert!(
        err.is_misconfiguration() && err.to_string().contains("no usable keys"),
        "{err}"
    );
}

#[tokio::test]
async fn typed_claims_are_deserialised_from_the_verified_payload() {
    #[derive(Debug, Deserialize)]
    struct Mine {
        sub: String,
        tenant: String,
        level: u8,
    }
    let (issuer, verifier) = setup().await;
    let token = issuer
        .token()
        .subject("bob")
        .claim("tenant", "acme")
        .claim("level", 3)
        .sign();
    let claims: Claims<Mine> = verifier.verify(&token).await.unwrap();
    assert_eq!(
        (claims.sub.as_str(), claims.tenant.as_str(), claims.level),
        ("bob", "acme", 3)
    );
    assert_eq!(claims.identity().subject, "bob");

    let wrong_type = issuer.token().claim("tenant", 5).claim("level", 3).sign();
    let err = verifier.verify::<Mine>(&wrong_type).await.unwrap_err();
    assert!(matches!(err, AuthError::ClaimsType(_)), "{err:?}");
    assert_eq!(err.code(), ErrorCode::InvalidToken);
}

#[tokio::test]
async fn refuses_alg_none() {
    let (issuer, verifier) = setup().await;
    let claims = payload(&issuer.token().sign());
    let unsigned = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"}).to_string()),
        b64(claims.to_string())
    );
    assert_eq!(
        refusal(&verifier, &unsigned).await,
        AuthError::AlgorithmNotAllowed
    );
    let with_sig = assemble(&json!({"alg": "none"}), &claims, b"x");
    assert_eq!(
        refusal(&verifier, &with_sig).await,
        AuthError::AlgorithmNotAllowed
    );
}

#[tokio::test]
async fn refuses_hmac_signed_with_the_rsa_public_key() {
    // CVE-2015-9235 and kin: the attacker signs HS256 using the published public key as the secret.
    let (issuer, verifier) = setup().await;
    let jwks: serde_json::Value = tests::get_json(&issuer.jwks_url()).await;
    let rsa = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kty"] == "RSA")
        .unwrap()
        .clone();
    let kid = rsa["kid"].as_str().unwrap().to_owned();
    let claims = payload(&issuer.token().sign());
    for secret in [rsa.to_string(), rsa["n"].as_str().unwrap().to_owned()] {
        let header = json!({"alg": "HS256", "typ": "JWT", "kid": kid});
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
        let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
        let forged = format!("{input}.{}", b64(tag.as_ref()));
        assert_eq!(
            refusal(&verifier, &forged).await,
            AuthError::AlgorithmNotAllowed
        );
    }
}

#[tokio::test]
async fn header_cannot_choose_the_algorithm() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    // Every algorithm allowed, so only the key can refuse: an RS256 key asked to verify another
    // one.
    let verifier = Verifier::new(issuer.provider().algorithms(Algorithm::ALL)).unwrap();
    for alg in ["PS256", "RS512", "ES256", "EdDSA"] {
        let token = issuer
            .token()
            .algorithm(Algorithm::RS256)
            .header("alg", alg)
            .sign();
        assert_eq!(
            refusal(&verifier, &token).await,
            AuthError::AlgorithmNotAllowed,
            "{alg}"
        );
    }
}

#[tokio::test]
async fn a_key_without_alg_allows_its_family_only() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let jwks: serde_json::Value = tests::get_json(&issuer.jwks_url()).await;
    let mut keys = jwks["keys"].as_array().unwrap().clone();
    for key in &mut keys {
        key.as_object_mut().unwrap().remove("alg");
    }
    issuer.set_jwks_body(Some(json!({ "keys": keys }).to_string()));
    let verifier = Verifier::new(issuer.provider().algorithms(Algorithm::ALL)).unwrap();
    verifier
        .verify::<StandardClaims>(&issuer.token().algorithm(Algorithm::RS256).sign())
        .await
        .unwrap();
    // Same family: the header may name RS384, but the RS256 signature does not verify as RS384.
    let rs384 = issuer
        .token()
        .algorithm(Algorithm::RS256)
        .header("alg", "RS384")
        .sign();
    assert_eq!(
        refusal(&verifier, &rs384).await,
        AuthError::InvalidSignature
    );
    // Another family: refused by the key before any signature check.
    let es256 = issuer
        .token()
        .algorithm(Algorithm::RS256)
        .header("alg", "ES256")
        .sign();
    assert_eq!(
        refusal(&verifier, &es256).await,
        AuthError::AlgorithmNotAllowed
    );
}

#[tokio::test]
async fn refuses_algorithms_outside_the_allow_list_without_fetching() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(issuer.provider().algorithms([Algorithm::RS256])).unwrap();
    let token = issuer.token().algorithm(Algorithm::EdDSA).sign();
    assert_eq!(
        refusal(&verifier, &token).await,
        AuthError::AlgorithmNotAllowed
    );
    assert_eq!(issuer.jwks_fetches(), 0);
    assert!(
        verifier
            .verify::<StandardClaims>(&issuer.token().sign())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn refuses_header_borne_keys() {
    let (issuer, verifier) = setup().await;
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64([1u8; 32])});
    for (name, value) in [
        ("jwk", jwk),
        ("jku", json!("https://attacker.example/jwks")),
        ("x5u", json!("https://attacker.example/cert.pem")),
        ("x5c", json!(["MIIB"])),
    ] {
        let token = issuer.token().header(name, value).sign();
        assert_eq!(
            refusal(&verifier, &token).await,
            AuthError::ForbiddenHeader(name)
        );
    }
}

#[tokio::test]
async fn refuses_unknown_critical_headers() {
    let (issuer, verifier) = setup().await;
    let token = issuer
        .token()
        .header("crit", ["exp"])
        .header("exp", 1)
        .sign();
    assert_eq!(refusal(&verifier, &token).await, AuthError::UnknownCritical);
    let b64_off = issuer
        .token()
        .header("crit", ["b64"])
        .header("b64", false)
        .sign();
    assert_eq!(
        refusal(&verifier, &b64_off).await,
        AuthError::UnknownCritical
    );
}

#[tokio::test]
async fn refuses_oversized_tokens() {
    let (issuer, verifier) = setup().await;
    let token = issuer
        .token()
        .claim("padding", "x".repeat(MAX_TOKEN_LEN))
        .sign();
    assert!(token.len() > MAX_TOKEN_LEN);
    assert_eq!(
        refusal(&verifier, &token).await,
        AuthError::TooLarge {
            len: token.len(),
            max: MAX_TOKEN_LEN
        }
    );
    assert_eq!(issuer.jwks_fetches(), 0, "refused before any key work");
}

#[tokio::test]
async fn refuses_non_base64url_segments() {
    let (issuer, verifier) = setup().await;
    let [header, body, signature] = segments(&issuer.token().sign());
    for bad in [
        format!("{header}.{body}=.{signature}"),
        format!(
            "{header}.{}.{signature}",
            body.replacen(|c: char| c.is_ascii_alphabetic(), "+", 1)
        ),
        format!("{header}.{body}.{signature}/"),
        format!("{header}.{body}. {signature}"),
        format!("{header}..{signature}"),
    ] {
        assert_eq!(
            refusal(&verifier, &bad).await,
            AuthError::Malformed(Malformed::Base64),
            "{bad}"
        );
    }
    let padded_header = format!("{header}=.{body}.{signature}");
    assert_eq!(
        refusal(&verifier, &padded_header).await,
        AuthError::Malformed(Malformed::Base64)
    );
}

#[tokio::test]
async fn refuses_anything_but_three_segments() {
    let (issuer, verifier) = setup().await;
    let token = issuer.token().sign();
    let [header, body, signature] = segments(&token);
    let jwe = format!(
        "{}.{}.{}.{}.{}",
        b64(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#),
        "a",
        "b",
        "c",
        "d"
    );
    for bad in [
        String::new(),
        format!("{header}.{body}"),
        format!("{token}.{signature}"),
        format!("{token}.{signature}.{signature}.{signature}"),
    ] {
        assert_eq!(
            refusal(&verifier, &bad).await,
            AuthError::Malformed(Malformed::Segments),
            "{bad}"
        );
    }
    // One segment, or the five of a JWE, is what an opaque token looks like: the log says so,
    // and that this provider introspects nothing.
    for opaque in ["not-a-token".to_owned(), jwe] {
        let refused = refusal(&verifier, &opaque).await;
        assert_eq!(
            refused.to_string(),
            "not a JWT: an opaque token; this provider is configured without introspection",
            "{opaque}"
        );
        assert_eq!(
            (refused.reason(), refused.code().as_str()),
            ("opaque_token", "INVALID_TOKEN")
        );
    }
    let jwe_shaped = format!(
        "{}.{body}.{signature}",
        b64(r#"{"alg":"RS256","enc":"A256GCM"}"#)
    );
    assert_eq!(
        refusal(&verifier, &jwe_shaped).await,
        AuthError::Malformed(Malformed::Segments)
    );
}

#[tokio::test]
async fn refuses_malformed_header_and_payload() {
    let (issuer, verifier) = setup().await;
    let [_, body, signature] = segments(&issuer.token().sign());
    let not_json = format!("{}.{body}.{signature}", b64("not json"));
    assert_eq!(
        refusal(&verifier, &not_json).await,
        AuthError::Malformed(Malformed::Header)
    );
    let [header, _, signature] = segments(&issuer.token().sign());
    for bad_payload in ["not json", "[1,2]", "\"string\""] {
        let token = format!("{header}.{}.{signature}", b64(bad_payload));
        assert_eq!(
            refusal(&verifier, &token).await,
            AuthError::Malformed(Malformed::Payload)
        );
    }
}

#[tokio::test]
async fn refuses_ecdsa_zero_signature() {
    // CVE-2022-21449 ("psychic signatures"): r = s = 0 must never verify.
    let (issuer, verifier) = setup().await;
    let token = issuer.token().algorithm(Algorithm::ES256).sign();
    let [header, body, _] = segments(&token);
    let zero = format!("{header}.{body}.{}", b64([0u8; 64]));
    assert_eq!(refusal(&verifier, &zero).await, AuthError::InvalidSignature);
    let short = format!("{header}.{body}.{}", b64([0u8; 8]));
    assert_eq!(
        refusal(&verifier, &short).await,
        AuthError::InvalidSignature
    );
}

#[tokio::test]
async fn refuses_path_traversal_kid() {
    let (issuer, verifier) = setup().await;
    for kid in [
        "../../../../etc/passwd",
        "/dev/null",
        "' OR 1=1 --",
        "rs256-0\u{0}",
    ] {
        let token = issuer.token().kid(kid).sign();
        assert_eq!(
            refusal(&verifier, &token).await,
            AuthError::UnknownKey,
            "{kid:?}"
        );
    }
    assert!(
        issuer.jwks_fetches() <= 2,
        "at most the first load plus one refetch per cooldown"
    );
}

#[tokio::test]
async fn refuses_tampered_payload() {
    let (issuer, verifier) = setup().await;
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
        let token = issuer.token().algorithm(alg).roles(["viewer"]).sign();
        let mut claims = payload(&token);
        claims["roles"] = json!(["admin"]);
        assert_eq!(
            refusal(&verifier, &with_payload(&token, &claims)).await,
            AuthError::InvalidSignature,
            "{alg}"
        );
    }
}

#[tokio::test]
async fn refuses_tampered_signature() {
    let (issuer, verifier) = setup().await;
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
        let token = issuer.token().algorithm(alg).sign();
        assert_eq!(
            refusal(&verifier, &with_flipped_signature_bit(&token)).await,
            AuthError::InvalidSignature,
            "{alg}"
        );
    }
}

#[tokio::test]
async fn refuses_a_signature_by_another_key_under_a_known_kid() {
    let (issuer, verifier) = setup().await;
    let impostor = TestIssuer::start().await;
    let kid = issuer.kid(Algorithm::RS256).unwrap();
    let forged = impostor
        .token()
        .issuer(issuer.issuer())
        .audience(issuer.audience())
        .kid(kid)
        .sign();
    assert_eq!(
        refusal(&verifier, &forged).await,
        AuthError::InvalidSignature
    );
}

#[tokio::test]
async fn refuses_wrong_issuer_without_network() {
    let (issuer, verifier) = setup().await;
    let other = issuer.token().issuer("https://evil.example.com").sign();
    let refused = refusal(&verifier, &other).await;
    assert!(matches!(refused, AuthError::UnknownIssuer { .. }));
    // The log line says what was sent and what would have been accepted.
    let reason = refused.to_string();
    assert!(
        reason.contains("\"https://evil.example.com\"") && reason.contains(issuer.issuer()),
        "{reason}"
    );
    let long = issuer.token().issuer("x".repeat(5000)).sign();
    assert!(
        refusal(&verifier, &long).await.to_string().len() < 400,
        "a client-sent issuer is cut short"
    );
    let trailing_slash = issuer
        .token()
        .issuer(format!("{}/", issuer.issuer()))
        .sign();
    assert!(matches!(
        refusal(&verifier, &trailing_slash).await,
        AuthError::UnknownIssuer { .. }
    ));
    let missing = issuer.token().without_claim("iss").sign();
    assert_eq!(
        refusal(&verifier, &missing).await,
        AuthError::MissingClaim("iss".into())
    );
    assert_eq!(issuer.jwks_fetches(), 0);
    assert_eq!(issuer.discovery_fetches(), 0);
}

#[tokio::test]
async fn refuses_wrong_audience() {
    let (issuer, verifier) = setup().await;
    // The log names what was expected and what came; the client sees the fixed message only.
    let expected = issuer.audience().to_owned();
    let refused = refusal(&verifier, &issuer.token().audience("other-api").sign()).await;
    assert_eq!(
        refused,
        AuthError::InvalidAudience {
            expected: expected.clone(),
            received: r#"aud "other-api""#.into(),
        }
    );
    assert_eq!(
        refused.to_string(),
        format!(r#"audience mismatch: the token carries aud "other-api"; accepted: {expected}"#)
    );
    assert_eq!(refused.description(), "audience not accepted");
    let several = issuer.token().audiences(["a", "b"]).sign();
    assert_eq!(
        refusal(&verifier, &several).await,
        AuthError::InvalidAudience {
            expected: expected.clone(),
            received: r#"aud ["a", "b"]"#.into(),
        }
    );
    assert_eq!(
        refusal(&verifier, &issuer.token().without_claim("aud").sign()).await,
        AuthError::InvalidAudience {
            expected,
            received: "no aud".into(),
        }
    );
    let many = issuer
        .token()
        .audiences(["other", issuer.audience()])
        .sign();
    assert!(verifier.verify::<StandardClaims>(&many).await.is_ok());
}

#[tokio::test]
async fn refuses_expired_tokens() {
    let (issuer, verifier) = setup().await;
    let err = refusal(&verifier, &issuer.token().expired().sign()).await;
    assert_eq!(err, AuthError::Expired);
    assert_eq!(err.code(), ErrorCode::TokenExpired);
    let no_exp = issuer.token().without_claim("exp").sign();
    assert_eq!(
        refusal(&verifier, &no_exp).await,
        AuthError::MissingClaim("exp".into())
    );
}

#[tokio::test]
async fn leeway_covers_small_clock_skew_only() {
    let (issuer, verifier) = setup().await;
    let now = payload(&issuer.token().sign())["iat"].as_i64().unwrap();
    let just_expired = issuer.token().claim("exp", now - 5).sign();
    assert!(
        verifier
            .verify::<StandardClaims>(&just_expired)
            .await
            .is_ok(),
        "within the 30 s leeway"
    );
    let strict = Verifier::new(issuer.provider().leeway(Duration::ZERO)).unwrap();
    assert_eq!(refusal(&strict, &just_expired).await, AuthError::Expired);
}

#[tokio::test]
async fn refuses_tokens_not_yet_valid() {
    let (issuer, verifier) = setup().await;
    let later = issuer
        .token()
        .not_before_in(Duration::from_secs(600))
        .sign();
    assert_eq!(refusal(&verifier, &later).await, AuthError::NotYetValid);
    let now = payload(&issuer.token().sign())["iat"].as_i64().unwrap();
    let future_iat = issuer.token().claim("iat", now + 600).sign();
    assert_eq!(
        refusal(&verifier, &future_iat).await,
        AuthError::IssuedInFuture
    );
}

#[tokio::test]
async fn refuses_dates_that_are_not_numeric_dates() {
    let (issuer, verifier) = setup().await;
    let now = payload(&issuer.token().sign())["iat"].as_i64().unwrap();
    for (claim, value) in [
        ("exp", json!((now + 600).to_string())),
        ("exp", json!(-1)),
        ("exp", json!(1e300)),
        ("nbf", json!("0")),
        ("iat", json!(-5)),
        ("iat", json!({"at": 1})),
    ] {
        let token = issuer.token().claim(claim, value.clone()).sign();
        assert_eq!(
            refusal(&verifier, &token).await,
            AuthError::InvalidClaim(claim.into()),
            "{claim}={value}"
        );
    }
}

#[tokio::test]
async fn checks_authorized_parties_when_configured() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(
        issuer
            .provider()
            .authorized_parties(["https://app.example.com"]),
    )
    .unwrap();
    let good = issuer
        .token()
        .claim("azp", "https://app.example.com")
        .sign();
    assert!(verifier.verify::<StandardClaims>(&good).await.is_ok());
    let other = issuer
        .token()
        .claim("azp", "https://evil.example.com")
        .sign();
    let expected = "https://app.example.com".to_owned();
    assert_eq!(
        refusal(&verifier, &other).await,
        AuthError::InvalidAuthorizedParty {
            expected: expected.clone(),
            received: r#"azp "https://evil.example.com""#.into(),
        }
    );
    let refused = refusal(&verifier, &issuer.token().sign()).await;
    assert_eq!(
        refused.to_string(),
        "authorized party mismatch: the token carries no azp; accepted: https://app.example.com"
    );
    assert_eq!(refused.reason(), "bad_azp");
}

#[tokio::test]
async fn checks_required_claims() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let provider = issuer
        .provider()
        .require_claim("tenant")
        .require_claim_value("token_use", ["access"]);
    let verifier = Verifier::new(provider).unwrap();
    let good = issuer
        .token()
        .claim("tenant", "acme")
        .claim("token_use", "access")
        .sign();
    assert!(verifier.verify::<StandardClaims>(&good).await.is_ok());
    let missing = issuer.token().claim("token_use", "access").sign();
    assert_eq!(
        refusal(&verifier, &missing).await,
        AuthError::MissingClaim("tenant".into())
    );
    let wrong = issuer
        .token()
        .claim("tenant", "acme")
        .claim("token_use", "id")
        .sign();
    assert_eq!(
        refusal(&verifier, &wrong).await,
        AuthError::InvalidClaim("token_use".into())
    );
}

#[tokio::test]
async fn token_without_kid_needs_exactly_one_fitting_key() {
    let (issuer, verifier) = setup().await;
    let token = issuer
        .token()
        .algorithm(Algorithm::EdDSA)
        .without_kid()
        .sign();
    assert!(
        verifier.verify::<StandardClaims>(&token).await.is_ok(),
        "one EdDSA key: unambiguous"
    );

    issuer.rotate();
    let fresh = Verifier::new(issuer.provider()).unwrap();
    let token = issuer
        .token()
        .algorithm(Algorithm::EdDSA)
        .without_kid()
        .sign();
    assert_eq!(refusal(&fresh, &token).await, AuthError::AmbiguousKey);
}

#[tokio::test]
async fn maps_roles_and_scopes_from_configured_claim_paths() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let provider = issuer
        .provider()
        .roles_claims([
            "realm_access.roles",
            r#"resource_access."my.app".roles"#,
            "urn:zitadel:iam:org:project:roles",
        ])
        .scopes_claims(["permissions", "scope"]);
    let verifier = Verifier::new(provider).unwrap();
    let token = issuer
        .token()
        .claim("realm_access", json!({"roles": ["realm-admin"]}))
        .claim("resource_access", json!({"my.app": {"roles": ["editor"]}}))
        .claim(
            "urn:zitadel:iam:org:project:roles",
            json!({"owner": {"123": "acme.example.com"}}),
        )
        .claim("permissions", json!(["read:items"]))
        .claim("scope", "openid profile")
        .sign();
    let claims = verifier.verify::<StandardClaims>(&token).await.unwrap();
    let roles: Vec<&str> = claims.identity().roles.iter().map(String::as_str).collect();
    assert_eq!(roles, ["editor", "owner", "realm-admin"]);
    let scopes: Vec<&str> = claims
        .identity()
        .scopes
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(scopes, ["openid", "profile", "read:items"]);
    // A role is one name even when it holds a space or a comma; only scope claims are lists in a
    // string.
    let spaced = issuer
        .token()
        .claim("realm_access", json!({"roles": "Support Lead"}))
        .sign();
    let claims = verifier.verify::<StandardClaims>(&spaced).await.unwrap();
    assert!(
        claims.identity().has_role("Support Lead"),
        "{:?}",
        claims.identity().roles
    );
    assert!(!claims.identity().has_role("Support") && !claims.identity().has_role("Lead"));
}

#[tokio::test]
async fn construction_rejects_bad_settings_with_the_setting_named() {
    let err = Verifier::new(Provider::oidc("https://issuer.example.com")).unwrap_err();
    assert!(err.to_string().contains("audience"), "{err}");
    let err = Verifier::new(Provider::oidc("not a url").audience("a")).unwrap_err();
    assert!(err.to_string().contains("issuer"), "{err}");
    let err = Verifier::any_of(Vec::<Provider>::new()).unwrap_err();
    assert!(err.to_string().contains("provider"), "{err}");
    let forever = auth_core::KeySettings {
        max_stale: Duration::MAX,
        ..auth_core::KeySettings::default()
    };
    let err = Verifier::new(
        Provider::oidc("https://i.example.com")
            .audience("a")
            .key_settings(forever),
    )
    .unwrap_err();
    assert!(err.to_string().contains("key_settings.max_stale"), "{err}");
}
