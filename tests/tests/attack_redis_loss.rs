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
