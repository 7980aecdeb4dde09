//! The verified-token cache: repeats skip the signature, but never outlive `exp`, a removed key, or
//! the claim checks.

use std::sync::Arc;
use std::time::Duration;

use auth_core::testing::TestIssuer;
use auth_core::{AuthError, Verifier};
use tests::{init_tracing, poll, wait_until};

#[tokio::test]
async fn a_repeat_is_served_from_the_cache() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(issuer.provider()).unwrap();
    let token = issuer.token().sign();
    let first = verifier.verify_token(&token).await.unwrap();
    let second = verifier.verify_token(&token).await.unwrap();
    assert!(
        Arc::ptr_eq(&first, &second),
        "the second verification is the cached one"
    );
    assert_eq!(verifier.cached_tokens(), 1);

    let uncached = verifier.clone().verified_cache(0);
    let a = uncached.verify_token(&token).await.unwrap();
    let b = uncached.verify_token(&token).await.unwrap();
    assert!(
        !Arc::ptr_eq(&a, &b),
        "without the cache every call verifies"
    );
    assert_eq!(uncached.cached_tokens(), 0);
}

#[tokio::test]
async fn an_expired_token_is_never_served_from_the_cache() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(issuer.provider().leeway(Duration::ZERO)).unwrap();
    let token = issuer.token().expires_in(Duration::from_secs(2)).sign();
    verifier.verify_token(&token).await.unwrap();
    verifier.verify_token(&token).await.unwrap();
    let result = poll(
        Duration::from_secs(6),
        || verifier.verify_token(&token),
        Result::is_err,
    )
    .await;
    assert_eq!(result.unwrap_err(), AuthError::Expired);
}

#[tokio::test]
async fn past_exp_a_cached_token_is_judged_afresh_with_the_leeway() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(issuer.provider().leeway(Duration::from_secs(60))).unwrap();
    let token = issuer.token().expires_in(Duration::from_secs(1)).sign();
    verifier.verify_token(&token).await.unwrap();
    let exp = tests::payload(&token)["exp"].as_i64().unwrap();
    let past_exp = || tests::unix_now() > exp;
    assert!(wait_until(Duration::from_secs(5), past_exp).await);
    verifier
        .verify_token(&token)
        .await
        .expect("within the leeway after exp, the token still stands");
}

#[tokio::test]
async fn a_cached_token_dies_with_its_key() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    issuer.set_max_age(Some(1));
    let verifier = Verifier::new(issuer.provider()).unwrap();
    let token = issuer.token().sign();
    verifier.verify_token(&token).await.unwrap();
    issuer.rotate();
    issuer.drop_previous_keys();
    let result = poll(
        Duration::from_secs(6),
        || verifier.verify_token(&token),
        Result::is_err,
    )
    .await;
    assert_eq!(
        result.unwrap_err(),
        AuthError::UnknownKey,
        "removed key: the cache entry no longer stands"
    );
}

#[tokio::test]
async fn a_refetch_of_the_same_keys_keeps_cached_entries() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    issuer.set_max_age(Some(1));
    let verifier = Verifier::new(issuer.provider()).unwrap();
    let token = issuer.token().sign();
    let first = verifier.verify_token(&token).await.unwrap();
    let fetched = issuer.jwks_fetches();
    assert!(
        wait_until(Duration::from_secs(6), || issuer.jwks_fetches()
            > fetched + 1)
        .await,
        "keys were refreshed"
    );
    let again = verifier.verify_token(&token).await.unwrap();
    assert!(
        Arc::ptr_eq(&first, &again),
        "same key material: the cached verification still stands"
    );
}

#[tokio::test]
async fn the_cache_is_bounded_by_its_capacity() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(issuer.provider()).unwrap().verified_cache(10);
    for i in 0..60 {
        let token = issuer
            .token()
            .subject(format!("user-{i}"))
            .algorithm(auth_core::Algorithm::EdDSA)
            .sign();
        verifier.verify_token(&token).await.unwrap();
    }
    let held = verifier.cached_tokens();
    assert!(held > 0 && held <= 10, "{held} entries");
}

#[tokio::test]
async fn refusals_are_not_cached() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(issuer.provider()).unwrap();
    let wrong_audience = issuer.token().audience("other").sign();
    for _ in 0..3 {
        assert_eq!(
            verifier
                .verify_token(&wrong_audience)
                .await
                .unwrap_err()
                .reason(),
            "bad_audience"
        );
    }
    assert_eq!(verifier.cached_tokens(), 0);
}
