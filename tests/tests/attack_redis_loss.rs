//! Attacker's read of the Redis loss recovery (marker, owed write-back, no time-based fail-open).
//! Each test FAILS on the code it was written against and names the attack in its doc comment.
//! Public API only, real redis-server, bounded waits.

use std::time::Duration;

use auth_actix::core::RevocationSettings;
use auth_actix::testing::TestIssuer;
use auth_actix::{AuthError, Revocations, Verifier};
use tests::redis_server::{RedisServer, available};
use tests::tcp_proxy::FreezableProxy;
use tests::{init_tracing, wait_until};

fn settings() -> RevocationSettings {
    RevocationSettings::default()
        .startup_wait(Duration::from_secs(5))
        .heartbeat(Duration::from_millis(200), 3)
}

/// A mirror cut off from Redis (half-open path: not ready, SILENT) misses a revocation made
/// meanwhile by another instance, which then goes away (a deploy). Redis loses its keys. When the
/// cut-off mirror reconnects it notices the loss and counts its set as complete (only NOT_LOADED
/// and WIPED are looked at, not SILENT), so it "owes" the loss: it writes back its stale set,
/// marks the marker restored and vouches again. The revoked token is accepted by it, and by
/// every instance started afterwards, until it expires. A mirror that was silent (or overflowed)
/// when it noticed the loss did not hold a complete set and must not mark it restored: with no
/// other holder left, the loss should stay pending (503) for the operator.
#[tokio::test]
async fn a_mirror_that_was_cut_off_does_not_mark_a_loss_restored_with_its_stale_set() {
    init_tracing();
    if !available("a_mirror_that_was_cut_off_does_not_mark_a_loss_restored_with_its_stale_set") {
        return;
    }
    let redis = RedisServer::start().await;
    let proxy = FreezableProxy::start(redis.address()).await;
    let issuer = TestIssuer::start().await;
    let cut_off = Revocations::redis_with(&proxy.redis_url(), settings())
        .await
        .unwrap();
    assert!(cut_off.is_ready());
    let token = issuer.token().subject("ada").sign();

    // The path to Redis goes half-open for this instance only; it stops vouching.
    proxy.freeze();
    assert!(wait_until(Duration::from_secs(10), || !cut_off.is_ready()).await);

    // Another instance revokes the token meanwhile, then goes away (a rolling deploy).
    {
        let other = Revocations::redis_with(&redis.url(), settings())
            .await
            .unwrap();
        assert!(other.is_ready());
        let verifier = Verifier::new(issuer.provider())
            .unwrap()
            .revocations(other.clone());
        let verified = verifier.verify_token(&token).await.unwrap();
        other.revoke(&verified).await.unwrap();
        assert_eq!(
            verifier.verify_token(&token).await.unwrap_err(),
            AuthError::Revoked
        );
    }
    // Its mirror task ends at its next heartbeat.
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Redis loses every key (a restart without persistence, a flush).
    assert_eq!(redis.command(&["FLUSHALL"]).await, "+OK");
    // The cut-off instance's path comes back.
    proxy.thaw();
    // Give it ample time to reconnect and do whatever it does about the loss.
    let _ = wait_until(Duration::from_secs(15), || cut_off.is_ready()).await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let outcome = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(cut_off.clone())
        .verify_token(&token)
        .await
        .map(|_| ());
    assert!(
        outcome.is_err(),
        "the mirror that missed the revocation while cut off marked the loss restored with its \
         stale set and accepts the revoked token"
    );
    // And an instance started now must not vouch for the store either.
    let started = Revocations::redis_with(&redis.url(), settings())
        .await
        .unwrap();
    let _ = wait_until(Duration::from_secs(3), || started.is_ready()).await;
    let outcome = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(started)
        .verify_token(&token)
        .await
        .map(|_| ());
    assert!(
        outcome.is_err(),
        "an instance started after the stale write-back accepts the revoked token"
    );
}

/// Whether the marker says the last loss was written back.
async fn marker_restored(redis: &RedisServer) -> bool {
    redis
        .command(&[
            "EVAL",
            "local m = redis.call('GET', KEYS[1]) or '' \
             if string.find(m, ':restored$') then return 1 end return 0",
            "1",
            "auth:store-marker",
        ])
        .await
        == ":1"
}

/// Instances may have different `max_token_lifetime`s (Redis keeps a subject's revocation 366
/// days "so that an instance whose setting is longer than the writer's still finds it"). A
/// sign-out everywhere two days old is no longer held by a 24 h instance (its own reckoning), but
/// is still in Redis and still needed by an 8-day instance. Redis loses its keys; the 24 h
/// instance, the only one running, owes the loss, writes back its set (without that sign-out) and
/// marks the loss restored. An 8-day instance started afterwards vouches for the store and
/// accepts a token of the signed-out subject issued three days ago. A write-back that cannot
/// restore what longer-lived readers need must not mark the loss restored (or the write-back must
/// keep what it read from Redis for `subject_kept_until`, not for its own lifetime).
#[tokio::test]
async fn a_write_back_by_a_shorter_lived_instance_does_not_drop_a_subject_revocation() {
    init_tracing();
    if !available("a_write_back_by_a_shorter_lived_instance_does_not_drop_a_subject_revocation") {
        return;
    }
    let redis = RedisServer::start().await;
    let issuer = TestIssuer::start().await;
    let day = 24 * 3600;
    let long = || settings().max_token_lifetime(Duration::from_secs(8 * day as u64));
    let short = Revocations::redis_with(&redis.url(), settings())
        .await
        .unwrap();
    assert!(short.is_ready());
    let now = tests::unix_now();
    short
        .revoke_subject(issuer.issuer(), "ada", now - 2 * day)
        .await
        .unwrap();
    // Issued three days ago, for a week: within the 8-day instance's limit, signed out since.
    let token = issuer
        .token()
        .subject("ada")
        .claim("iat", now - 3 * day)
        .expires_in(Duration::from_secs(4 * day as u64))
        .sign();
    {
        let before = Revocations::redis_with(&redis.url(), long()).await.unwrap();
        assert!(before.is_ready());
        let outcome = Verifier::new(issuer.provider())
            .unwrap()
            .revocations(before)
            .verify_token(&token)
            .await
            .map(|_| ());
        assert_eq!(outcome, Err(AuthError::Revoked), "refused before the loss");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Redis loses every key; the 24 h instance writes back what it holds and marks it restored.
    assert_eq!(redis.command(&["FLUSHALL"]).await, "+OK");
    let mut restored = false;
    for _ in 0..150 {
        if marker_restored(&redis).await && short.is_ready() {
            restored = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let started = Revocations::redis_with(&redis.url(), long()).await.unwrap();
    let _ = wait_until(Duration::from_secs(5), || started.is_ready()).await;
    let outcome = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(started)
        .verify_token(&token)
        .await
        .map(|_| ());
    assert!(
        outcome.is_err(),
        "after a write-back by a 24 h instance (marker restored: {restored}), an 8-day instance \
         accepts a token of a subject signed out two days ago"
    );
}
