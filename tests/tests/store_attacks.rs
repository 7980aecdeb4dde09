//! Attacks on the stores (revocations, their Redis mirror, DPoP replays in Redis) found by the
//! third review's attacker read of auth-core. Each test states what should hold; the doc comment
//! names the attack.

use std::time::Duration;

use auth_actix::core::RevocationSettings;
use auth_actix::testing::{DpopKey, TestIssuer};
use auth_actix::{AuthError, Dpop, Revocations, Verifier};
use auth_core::DpopRequest;
use tests::redis_server::{RedisServer, available};
use tests::{init_tracing, unix_now, wait_until};

/// A token is accepted until `exp + leeway` (30 s by default), but a revocation by `jti` is kept
/// only until `exp`, and `record` drops one whose `until` has passed without a word. So signing
/// out a token in the last 30 s of its acceptance (its `exp` passed, the leeway not) returns
/// `Ok(())` and changes nothing: the token keeps working.
#[tokio::test]
async fn a_token_revoked_within_its_leeway_is_refused() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let revocations = Revocations::in_memory();
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(revocations.clone());
    // Expired 5 seconds ago: inside the default 30-second leeway, so still accepted.
    let token = issuer
        .token()
        .subject("ada")
        .claim("exp", unix_now() - 5)
        .sign();
    let verified = verifier.verify_token(&token).await.unwrap();
    revocations.revoke(&verified).await.unwrap();
    let outcome = verifier.verify_token(&token).await.map(|_| ());
    assert_eq!(
        outcome,
        Err(AuthError::Revoked),
        "the signed-out token is still accepted"
    );
}

/// The same arithmetic across instances: the Redis key of a revocation expires at the token's
/// `exp` (`SET .. EXAT until`), so an instance that loads the set after `exp` never learns of it,
/// while it still accepts the token for the leeway.
#[tokio::test]
async fn an_instance_loading_after_exp_still_refuses_a_token_revoked_elsewhere() {
    init_tracing();
    if !available("an_instance_loading_after_exp_still_refuses_a_token_revoked_elsewhere") {
        return;
    }
    let redis = RedisServer::start().await;
    let issuer = TestIssuer::start().await;
    let first = Revocations::redis(&redis.url(), Duration::from_secs(5))
        .await
        .unwrap();
    assert!(first.is_ready());
    // Expires in 2 seconds; revoked now, while it is plainly valid.
    let token = issuer
        .token()
        .subject("ada")
        .claim("exp", unix_now() + 2)
        .sign();
    let verifier = Verifier::new(issuer.provider()).unwrap();
    let verified = verifier.verify_token(&token).await.unwrap();
    first.revoke(&verified).await.unwrap();
    // Past `exp`, well inside the leeway: a second instance starts.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let second = Revocations::redis(&redis.url(), Duration::from_secs(5))
        .await
        .unwrap();
    assert!(second.is_ready());
    let second_verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(second);
    let outcome = second_verifier.verify_token(&token).await.map(|_| ());
    assert_eq!(
        outcome,
        Err(AuthError::Revoked),
        "a token revoked elsewhere is accepted by an instance that loaded after its exp"
    );
}

/// "Sign out everywhere" was kept for a fixed 24 hours after the time it names
/// (`DEFAULT_MAX_TOKEN_LIFETIME`, with no setting and no check that tokens live shorter), and the
/// leeway was not added. Auth0 API tokens live 24 hours by default and up to 30 days; a token
/// issued a second before the sign-out was accepted again once the revocation was forgotten. Now
/// it is kept for `RevocationSettings::max_token_lifetime` plus `MAX_LEEWAY`, and a verifier that
/// checks revocations refuses a token living longer than that setting, so the operator raises it.
#[tokio::test]
async fn a_subject_revocation_outlives_every_token_it_revokes() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    // The sign-out names a time 24 h 10 s ago, as a revocation recorded then would stand now.
    let signed_out_at = unix_now() - 24 * 3600 - 10;
    let issued = |lifetime: i64| {
        issuer
            .token()
            .subject("ada")
            .claim("iat", signed_out_at - 1)
            .claim("nbf", signed_out_at - 1)
            .claim("exp", signed_out_at - 1 + lifetime)
            .sign()
    };

    // The default 24 hours: a token living exactly that long, issued just before the sign-out,
    // expired 11 s ago and is still accepted for the leeway; so is its revocation kept.
    let revocations = Revocations::in_memory();
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(revocations.clone());
    let day_long = issued(24 * 3600);
    verifier.verify_token(&day_long).await.unwrap();
    revocations
        .revoke_subject(issuer.issuer(), "ada", signed_out_at)
        .await
        .unwrap();
    assert_eq!(
        verifier.verify_token(&day_long).await.map(|_| ()),
        Err(AuthError::Revoked),
        "a token of the longest lifetime is accepted again in its leeway"
    );

    // A 25-hour token could outlive that memory: refused, naming the setting to raise.
    let token = issued(25 * 3600);
    let Err(AuthError::InvalidClaim(reason)) = verifier.verify_token(&token).await else {
        panic!("a token living longer than the revocations are kept is accepted");
    };
    assert!(
        reason.contains("RevocationSettings::max_token_lifetime") && reason.contains("90000 s"),
        "{reason}"
    );
    // Without revocations, nothing is forgotten too early: the lifetime is the provider's call.
    Verifier::new(issuer.provider())
        .unwrap()
        .verify_token(&token)
        .await
        .unwrap();

    // Raised to what the provider issues (Auth0: up to 30 days), the same token is accepted, and
    // a sign-out 24 h 10 s ago still revokes it.
    let revocations = Revocations::in_memory_with(
        RevocationSettings::default().max_token_lifetime(Duration::from_secs(30 * 24 * 3600)),
    )
    .unwrap();
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(revocations.clone());
    verifier.verify_token(&token).await.unwrap();
    revocations
        .revoke_subject(issuer.issuer(), "ada", signed_out_at)
        .await
        .unwrap();
    let outcome = verifier.verify_token(&token).await.map(|_| ());
    assert_eq!(
        outcome,
        Err(AuthError::Revoked),
        "a token issued before the sign-out is accepted once 24 hours have passed"
    );
}

/// The local set never weakens a revocation named again, but Redis keeps the last `SET`: a
/// later, weaker "sign out everywhere" (an older `issued_before`, say a retried job) overwrites the
/// stronger one in the store, so every instance that loads afterwards admits tokens the stronger
/// one revoked.
#[tokio::test]
async fn a_weaker_revocation_named_again_does_not_weaken_the_shared_store() {
    init_tracing();
    if !available("a_weaker_revocation_named_again_does_not_weaken_the_shared_store") {
        return;
    }
    let redis = RedisServer::start().await;
    let issuer = TestIssuer::start().await;
    let first = Revocations::redis(&redis.url(), Duration::from_secs(5))
        .await
        .unwrap();
    let now = unix_now();
    let token = issuer.token().subject("ada").claim("iat", now - 60).sign();
    first
        .revoke_subject(issuer.issuer(), "ada", now)
        .await
        .unwrap();
    // The same subject again, naming an older time.
    first
        .revoke_subject(issuer.issuer(), "ada", now - 3600)
        .await
        .unwrap();
    let first_verifier = Verifier::new(issuer.provider()).unwrap().revocations(first);
    assert_eq!(
        first_verifier.verify_token(&token).await.unwrap_err(),
        AuthError::Revoked
    );
    let second = Revocations::redis_with(
        &redis.url(),
        RevocationSettings::default().startup_wait(Duration::from_secs(5)),
    )
    .await
    .unwrap();
    assert!(wait_until(Duration::from_secs(5), || second.is_ready()).await);
    let second_verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(second);
    let outcome = second_verifier.verify_token(&token).await.map(|_| ());
    assert_eq!(
        outcome,
        Err(AuthError::Revoked),
        "an instance loading from Redis sees only the weaker revocation"
    );
}

/// Issue 30 (Low 3) in Redis mode: with `Dpop::redis`, the per-key share did not apply and the
/// only guard against eviction was a log line. On a Redis whose policy evicts keys with an expiry
/// (`volatile-lru`, the default of the big managed Redis services, which also refuse `CONFIG`, so
/// the check only warned), one client holding one bound token sends enough proofs to fill the
/// server, Redis evicts the oldest keys, and a captured proof of another client is accepted again.
///
/// Now such a server serves no DPoP proof at all (`a_redis_that_may_evict_proofs_is_refused_
/// unless_the_risk_is_accepted` in dpop.rs); where the application accepted the risk, each key's
/// share holds in Redis too, so one client's flood stays within its share.
#[tokio::test]
async fn a_flood_of_proofs_from_one_client_cannot_push_a_captured_proof_out_of_redis() {
    init_tracing();
    if !available("a_flood_of_proofs_from_one_client_cannot_push_a_captured_proof_out_of_redis") {
        return;
    }
    const URL: &str = "http://localhost:8080/items";
    const SHARE: usize = 500;
    let redis = RedisServer::start_with(&["--maxmemory-policy", "volatile-lru"]).await;
    // About 2,000 remembered proofs' worth of room above an empty server.
    assert_eq!(
        redis
            .command(&["CONFIG", "SET", "maxmemory", "1400000"])
            .await,
        "+OK"
    );
    let issuer = TestIssuer::start().await;
    // The risk accepted (before naming the server: the order does not matter), and a share a
    // quarter of the room.
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .dpop(
            Dpop::default()
                .redis_eviction_accepted()
                .replay_per_key(SHARE)
                .redis(&redis.url()),
        )
        .unwrap();
    verifier.warm_up().await.unwrap();
    let victim = DpopKey::generate();
    let victim_token = issuer.token().subject("victim").dpop_bound(&victim).sign();
    let captured = victim.proof("GET", URL, &victim_token);
    let request = |proof: &'static str| DpopRequest {
        proof,
        method: "GET",
        url: URL,
    };
    let captured: &'static str = Box::leak(captured.into_boxed_str());
    verifier
        .verify_dpop(&victim_token, &request(captured))
        .await
        .unwrap();

    let flooder = DpopKey::generate();
    let flood_token = issuer
        .token()
        .subject("mallory")
        .dpop_bound(&flooder)
        .sign();
    let mut refused = 0;
    for _ in 0..8_000 {
        let proof = flooder.proof("GET", URL, &flood_token);
        let request = DpopRequest {
            proof: &proof,
            method: "GET",
            url: URL,
        };
        match verifier.verify_dpop(&flood_token, &request).await {
            Ok(_) => {}
            Err(AuthError::StoreUnavailable(reason)) => {
                assert!(reason.contains("Dpop::replay_per_key"), "{reason}");
                refused += 1;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    eprintln!("flood: {refused} of 8000 proofs refused");
    // Its share once, or twice should the loop outlast one proof window (5.5 minutes).
    assert!(refused >= 8_000 - 2 * SHARE, "{refused} refused");
    let replay = verifier
        .verify_dpop(&victim_token, &request(captured))
        .await
        .map(|_| ());
    assert_eq!(
        replay,
        Err(AuthError::DpopReplay),
        "the captured proof was evicted by another client's proofs and replays"
    );
}

/// RFC 7662 makes `exp` optional; where an answer leaves it out, the verifier sets it to now plus
/// the cache lifetime, and `Revocations::revoke` keeps the revocation only until that `exp`. Once
/// the cached answer is gone the token is introspected again, the issuer (which still calls it
/// active: the API revoked it, not the issuer) answers as before, and the token is accepted, its
/// revocation forgotten as soon as any later revocation sweeps that shard.
#[tokio::test]
async fn a_revoked_opaque_token_whose_answer_has_no_exp_stays_revoked() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let revocations = Revocations::in_memory();
    let provider = issuer.provider().introspection(issuer.introspection());
    let verifier = Verifier::new(provider)
        .unwrap()
        .revocations(revocations.clone());
    let token = issuer.token().subject("ada").opaque();
    issuer.shape_introspection(&token, |answer| {
        answer.remove("exp");
    });
    let verified = verifier.verify_token(&token).await.unwrap();
    revocations.revoke(&verified).await.unwrap();
    assert_eq!(
        verifier.verify_token(&token).await.map(|_| ()),
        Err(AuthError::Revoked)
    );
    // The cached answer (1 s here, 60 s by default) runs out; other users sign out meanwhile.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    for n in 0..1_000 {
        revocations
            .revoke_token(issuer.issuer(), &format!("other-{n}"), unix_now() + 3600)
            .await
            .unwrap();
    }
    let outcome = verifier.verify_token(&token).await.map(|_| ());
    assert_eq!(
        outcome,
        Err(AuthError::Revoked),
        "the revoked opaque token is accepted again"
    );
}

/// Only the mirror task ever marks the set stale (`check_silence` runs inside it). If that task
/// stops (its runtime dropped, as when the set is built in a runtime used only for setup, or a
/// panic inside it), nothing does: the instance keeps answering from a set that no longer
/// updates, and `is_ready` stays true, past any heartbeat bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_whose_task_has_stopped_stops_vouching_for_the_set() {
    init_tracing();
    if !available("a_mirror_whose_task_has_stopped_stops_vouching_for_the_set") {
        return;
    }
    let redis = RedisServer::start().await;
    let url = redis.url();
    let settings = RevocationSettings::default()
        .startup_wait(Duration::from_secs(5))
        .heartbeat(Duration::from_millis(200), 2);
    // Built in a runtime used for setup only, then dropped with its tasks.
    let mirrored = std::thread::spawn(move || {
        let setup = tokio::runtime::Runtime::new().unwrap();
        setup
            .block_on(Revocations::redis_with(&url, settings))
            .unwrap()
    })
    .join()
    .unwrap();
    assert!(mirrored.is_ready());

    let issuer = TestIssuer::start().await;
    let token = issuer.token().subject("ada").sign();
    let elsewhere = Revocations::redis(&redis.url(), Duration::from_secs(5))
        .await
        .unwrap();
    let verified = Verifier::new(issuer.provider())
        .unwrap()
        .verify_token(&token)
        .await
        .unwrap();
    elsewhere.revoke(&verified).await.unwrap();
    // Well past the heartbeat bound (400 ms).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(mirrored.clone());
    let outcome = verifier.verify_token(&token).await.map(|_| ());
    assert!(
        !mirrored.is_ready() && matches!(outcome, Err(AuthError::StoreUnavailable(_))),
        "a mirror that no longer updates still vouches for its set: ready {}, {outcome:?}",
        mirrored.is_ready()
    );
}
