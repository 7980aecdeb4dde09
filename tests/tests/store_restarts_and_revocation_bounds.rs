//! The shared stores through a Redis that loses its keys (a restart without persistence, a
//! failover) or serves several databases, and how long revocations hold: a sign-out everywhere
//! against an issuer's clock ahead and against a reader's longer `max_token_lifetime`, and an
//! introspected token's made-up `exp` kept from the application (second attacker read). Public
//! API only. Each test states what should hold; its doc comment names the attack.

use std::time::Duration;

use auth_actix::core::RevocationSettings;
use auth_actix::testing::{DpopKey, TestIssuer};
use auth_actix::{AuthError, Dpop, Revocations, Verifier};
use auth_core::DpopRequest;
use tests::redis_server::{RedisServer, available};
use tests::{init_tracing, unix_now, wait_until};

/// Redis is required to keep proofs (`maxmemory-policy noeviction`, checked once per store), but
/// nothing notices when the server loses them another way: a restart without persistence (the
/// default of most container images and of the test server), a crash between RDB snapshots, or a
/// failover to a replica that had not yet received the last writes. The `ConnectionManager`
/// reconnects, reloads the script on `NOSCRIPT`, and the script finds no key for the proof: a
/// proof captured (from a log, a proxy, a browser extension) within its 5.5-minute window replays
/// against every instance. The eviction verdict is also never read again, so the new server's
/// policy is whatever it happens to be.
#[tokio::test]
async fn a_captured_dpop_proof_does_not_replay_after_redis_restarts_empty() {
    init_tracing();
    if !available("a_captured_dpop_proof_does_not_replay_after_redis_restarts_empty") {
        return;
    }
    const URL: &str = "http://localhost:8080/items";
    let mut redis = RedisServer::start().await;
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .dpop(Dpop::default().redis(&redis.url()))
        .unwrap();
    verifier.warm_up().await.unwrap();
    let key = DpopKey::generate();
    let token = issuer.token().subject("victim").dpop_bound(&key).sign();
    let proof = key.proof("GET", URL, &token);
    let request = DpopRequest {
        proof: &proof,
        method: "GET",
        url: URL,
    };
    verifier.verify_dpop(&token, &request).await.unwrap();
    assert_eq!(
        verifier.verify_dpop(&token, &request).await.unwrap_err(),
        AuthError::DpopReplay
    );

    // The server restarts (or fails over) and comes back without the proofs.
    redis.resume().await;
    let mut outcome = verifier.verify_dpop(&token, &request).await.map(|_| ());
    for _ in 0..40 {
        if !matches!(outcome, Err(AuthError::StoreUnavailable(_))) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        outcome = verifier.verify_dpop(&token, &request).await.map(|_| ());
    }
    assert!(
        outcome.is_err(),
        "a proof already used is accepted again once Redis restarted empty: {outcome:?}"
    );
}

/// The same loss for revocations. Every running instance keeps what it loaded (its local set never
/// forgets), so the loss goes unseen; but the mirrors only ever read Redis, none writes back what
/// it holds, and the next instance to start (a deploy, an autoscaler, a crash loop) loads an empty
/// set and is ready at once: a signed-out user's stolen token works again there until it expires,
/// up to `max_token_lifetime` for a sign-out everywhere.
#[tokio::test]
async fn an_instance_started_after_redis_restarted_empty_still_refuses_a_revoked_token() {
    init_tracing();
    if !available("an_instance_started_after_redis_restarted_empty_still_refuses_a_revoked_token") {
        return;
    }
    let mut redis = RedisServer::start().await;
    let issuer = TestIssuer::start().await;
    let settings = || {
        RevocationSettings::default()
            .startup_wait(Duration::from_secs(5))
            .heartbeat(Duration::from_millis(200), 3)
    };
    let running = Revocations::redis_with(&redis.url(), settings())
        .await
        .unwrap();
    assert!(running.is_ready());
    let token = issuer.token().subject("ada").sign();
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(running.clone());
    let verified = verifier.verify_token(&token).await.unwrap();
    running.revoke(&verified).await.unwrap();
    running
        .revoke_subject(issuer.issuer(), "ada", unix_now() + 1)
        .await
        .unwrap();
    assert_eq!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::Revoked
    );

    redis.resume().await;
    // The running instance reconnects, reloads (nothing) and vouches for its set again.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(wait_until(Duration::from_secs(10), || running.is_ready()).await);
    assert_eq!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::Revoked,
        "the running instance still holds it"
    );

    let started = Revocations::redis_with(&redis.url(), settings())
        .await
        .unwrap();
    assert!(started.is_ready());
    let outcome = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(started)
        .verify_token(&token)
        .await
        .map(|_| ());
    assert_eq!(
        outcome,
        Err(AuthError::Revoked),
        "an instance started after Redis lost its keys accepts the revoked token"
    );
}

/// Redis pub/sub channels belong to the server, not to a database: `redis://host/0` (production)
/// and `redis://host/1` (staging, a second application, a load test), which the URL form
/// `[/db]` invites as separate stores, share `auth:revocations`. Every revocation made through one
/// is applied by the other's mirrors (the keys are hashed "so no issuer or subject appears in key
/// listings", but every subscriber of any database receives the names in clear). A staging job
/// revoking more tokens than production's `capacity` fills production's sets, and each production
/// instance refuses every token with 503 until those foreign revocations expire.
#[tokio::test]
async fn revocations_made_through_another_redis_database_do_not_reach_this_one() {
    init_tracing();
    if !available("revocations_made_through_another_redis_database_do_not_reach_this_one") {
        return;
    }
    let redis = RedisServer::start().await;
    let issuer = TestIssuer::start().await;
    let production = Revocations::redis_with(
        &format!("{}/0", redis.url()),
        RevocationSettings::default()
            .startup_wait(Duration::from_secs(5))
            .capacity(10),
    )
    .await
    .unwrap();
    let staging = Revocations::redis(&format!("{}/1", redis.url()), Duration::from_secs(5))
        .await
        .unwrap();
    assert!(production.is_ready() && staging.is_ready());
    for n in 0..20 {
        staging
            .revoke_token(issuer.issuer(), &format!("staging-{n}"), unix_now() + 3600)
            .await
            .unwrap();
    }
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(production.clone());
    let token = issuer.token().subject("bob").sign();
    // Give the announcements time to arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let outcome = verifier.verify_token(&token).await.map(|_| ());
    assert!(
        outcome.is_ok() && production.is_ready(),
        "another database's revocations reached this one's mirror: {outcome:?}, ready {}",
        production.is_ready()
    );
}

/// `revoke_subject` spares tokens whose `iat` is at or after the time it names, and its docs say
/// to name "now, for sign out everywhere" (the quickstart adds one second). But `iat` is the
/// issuer's clock, which the verifier allows to run ahead of its own by the leeway (30 s by
/// default): an issuer a few seconds ahead stamps a token minted *before* the sign-out with a
/// later `iat`. An attacker holding a stolen refresh token refreshes continuously; when the victim
/// signs out everywhere (the provider ending the refresh token at the same moment), the
/// attacker's newest access token, minted in the seconds before, survives to its `exp` (up to
/// 24 hours). With the documented "now", a token minted earlier in the same second survives even
/// with no skew at all.
#[tokio::test]
async fn a_sign_out_everywhere_refuses_a_token_minted_before_it_by_an_issuer_a_few_seconds_ahead() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let revocations = Revocations::in_memory();
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(revocations.clone());
    // Minted now by an issuer whose clock runs 5 s ahead: accepted within the default leeway.
    let now = unix_now();
    let stolen = issuer
        .token()
        .subject("ada")
        .claim("iat", now + 5)
        .claim("nbf", now + 5)
        .sign();
    verifier.verify_token(&stolen).await.unwrap();
    // Then Ada signs out everywhere, as the quickstart does it (now + 1).
    revocations
        .revoke_subject(issuer.issuer(), "ada", now + 1)
        .await
        .unwrap();
    let outcome = verifier.verify_token(&stolen).await.map(|_| ());
    assert_eq!(
        outcome,
        Err(AuthError::Revoked),
        "a token minted before the sign-out outlives it"
    );
}

/// RFC 7662 makes `exp` optional. Where an answer leaves it out, the verifier writes a made-up
/// one (now plus the cache lifetime, 60 s by default) into the token's payload, and from there into
/// `Verified<Claims<..>>` and `VerifiedToken::expires_in`, indistinguishable from the issuer's.
/// `Revocations::revoke` now knows better (issue: "an assumed exp no longer ends its revocation"),
/// but `Revocations::revoke_token(issuer, jti, expires_at)`, documented as taking "its `exp`", is
/// the call an application makes when it records `jti` and `exp` at sign-in and revokes at
/// sign-out: fed the made-up `exp`, the revocation is forgotten `MAX_LEEWAY` after it, and the
/// token, which the issuer still calls active, is accepted again. (A WebSocket closed at
/// `expires_in` also drops every opaque-token connection after a minute.)
#[tokio::test]
async fn an_opaque_token_whose_answer_has_no_exp_shows_the_application_no_made_up_exp() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let provider = issuer.provider().introspection(issuer.introspection());
    let verifier = Verifier::new(provider).unwrap();
    let token = issuer.token().subject("ada").opaque();
    issuer.shape_introspection(&token, |answer| {
        answer.remove("exp");
    });
    let verified = verifier.verify_token(&token).await.unwrap();
    assert!(verified.is_introspected());
    assert_eq!(
        (verified.payload().get("exp"), verified.expires_in()),
        (None, None),
        "the issuer gave no exp, but the application is shown one it would revoke the token until"
    );
}

/// A subject's revocation is stored with its `until` computed from the *writer's*
/// `max_token_lifetime`, and every reader (and Redis's `EXAT`) forgets it then. The refusal of a
/// long-lived token tells the operator to "raise RevocationSettings::max_token_lifetime to the
/// longest lifetime the provider issues" (Auth0: up to 30 days). During the rolling deploy that
/// raises it, and ever after for any instance or second API sharing the store with the old
/// setting, a sign-out everywhere recorded under 24 hours is forgotten after 24 hours while the
/// raised instances accept 30-day tokens issued before it: the stolen token works again there.
#[tokio::test]
async fn a_sign_out_recorded_under_a_shorter_max_token_lifetime_holds_for_an_instance_with_a_longer_one()
 {
    init_tracing();
    if !available(
        "a_sign_out_recorded_under_a_shorter_max_token_lifetime_holds_for_an_instance_with_a_longer_one",
    ) {
        return;
    }
    const DAY: i64 = 24 * 3600;
    let redis = RedisServer::start().await;
    let issuer = TestIssuer::start().await;
    // An instance still on the default 24 hours records Ada's sign-out everywhere; it named a time
    // long enough ago that this instance forgets it in 3 seconds.
    let old = Revocations::redis(&redis.url(), Duration::from_secs(5))
        .await
        .unwrap();
    let signed_out_at = unix_now() - DAY - 297;
    old.revoke_subject(issuer.issuer(), "ada", signed_out_at)
        .await
        .unwrap();
    // A 25-hour token issued just before the sign-out: refused by the old instances (too long),
    // accepted by those raised to 30 days, and still a day from its exp.
    let stolen = issuer
        .token()
        .subject("ada")
        .claim("iat", signed_out_at - 1)
        .claim("nbf", signed_out_at - 1)
        .claim("exp", signed_out_at - 1 + DAY + 3600)
        .sign();
    tokio::time::sleep(Duration::from_secs(5)).await;
    // An instance raised to 30 days starts (the rolling deploy goes on).
    let raised = Revocations::redis_with(
        &redis.url(),
        RevocationSettings::default()
            .startup_wait(Duration::from_secs(5))
            .max_token_lifetime(Duration::from_secs(30 * 24 * 3600)),
    )
    .await
    .unwrap();
    assert!(raised.is_ready());
    let outcome = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(raised)
        .verify_token(&stolen)
        .await
        .map(|_| ());
    assert_eq!(
        outcome,
        Err(AuthError::Revoked),
        "a token issued before a sign-out everywhere is accepted by an instance whose setting \
         says the sign-out still stands"
    );
}
