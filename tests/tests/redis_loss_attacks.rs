//! Attacker read of the fourth Redis-loss fix (who owes a loss; write-backs not announced).
//! Public API only, real redis-server, bounded waits. Each test states what should hold; its doc
//! comment names the attack.

use std::time::Duration;

use auth_actix::core::RevocationSettings;
use auth_actix::testing::TestIssuer;
use auth_actix::{AuthError, Revocations, Verifier};
use tests::redis_server::{RedisServer, available};
use tests::tcp_proxy::FreezableProxy;
use tests::{init_tracing, wait_until};

/// How many revocation keys Redis holds (the marker aside).
async fn stored_revocations(redis: &RedisServer) -> String {
    redis
        .command(&[
            "EVAL",
            "local n = 0 for _, k in ipairs(redis.call('KEYS', '*')) do \
             if k ~= 'auth:store-marker' then n = n + 1 end end return n",
            "0",
        ])
        .await
}

/// "Complete since the last marker check" does not see a subscription that broke and came back
/// within the heartbeat bound (no SILENT, no gap counted), although every revocation announced
/// while it was down is missing from the set until the reload that follows the reconnection. If
/// Redis loses its keys in that window, the reconnecting mirror checks the marker BEFORE that
/// reload, notices the loss, counts its set as complete, owes the loss: it writes back a set
/// without the revocation, marks the loss restored and reloads (still without it). The instance
/// that does hold it notices later and writes it back, but write-backs are no longer announced,
/// so the first mirror never learns it and accepts the revoked token until it expires (and so
/// does every instance that reloaded on the restored marker before that write-back).
#[tokio::test]
async fn a_mirror_that_missed_a_message_while_reconnecting_does_not_accept_the_revoked_token() {
    init_tracing();
    if !available(
        "a_mirror_that_missed_a_message_while_reconnecting_does_not_accept_the_revoked_token",
    ) {
        return;
    }
    let redis = RedisServer::start().await;
    let proxy = FreezableProxy::start(redis.address()).await;
    let issuer = TestIssuer::start().await;
    // The reconnecting instance: a short heartbeat, a bound (10 s) far longer than the blip.
    let blip = Revocations::redis_with(
        &proxy.redis_url(),
        RevocationSettings::default()
            .startup_wait(Duration::from_secs(5))
            .heartbeat(Duration::from_millis(500), 20),
    )
    .await
    .unwrap();
    assert!(blip.is_ready());
    // The instance that revokes: the default-ish slow heartbeat, so it notices the loss later.
    let holder = Revocations::redis_with(
        &redis.url(),
        RevocationSettings::default()
            .startup_wait(Duration::from_secs(5))
            .heartbeat(Duration::from_secs(20), 3),
    )
    .await
    .unwrap();
    assert!(holder.is_ready());
    let token = issuer.token().subject("ada").sign();

    // A network blip on the first instance's path: its heartbeat goes unanswered, it drops the
    // subscription and retries (well within its bound: it keeps vouching).
    proxy.freeze();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The token is revoked meanwhile; the announcement does not reach the first instance.
    let holder_verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(holder.clone());
    let verified = holder_verifier.verify_token(&token).await.unwrap();
    holder.revoke(&verified).await.unwrap();
    // Redis loses its keys before the first instance is back.
    assert_eq!(redis.command(&["FLUSHALL"]).await, "+OK");
    proxy.thaw();

    // The holder notices the loss at its next heartbeat (within 20 s) and writes the revocation
    // back.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    while stored_revocations(&redis).await != ":1" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the holder never wrote its revocation back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Give the first instance ample time to learn of it (several of its heartbeats).
    let _ = wait_until(Duration::from_secs(5), || blip.is_ready()).await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let outcome = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(blip.clone())
        .verify_token(&token)
        .await
        .map(|_| ());
    assert_ne!(
        outcome,
        Ok(()),
        "the instance whose subscription blipped owed the loss with a set missing the revocation, \
         marked it restored, and never heard the holder's (unannounced) write-back: it accepts \
         the revoked token"
    );
    assert_eq!(
        holder_verifier.verify_token(&token).await.unwrap_err(),
        AuthError::Revoked
    );
}

/// A mirrored set now holds every sign-out everywhere 366 days, whatever its own
/// `max_token_lifetime`, and capacity is never freed by eviction. Sign-outs are made by the
/// application for its users (`revoke_subject`, typically behind a "sign out everywhere"
/// button), one per subject (repeats merge), so anyone who can register accounts at the
/// provider fills the set at 366 days per entry instead of `max_token_lifetime` (8,784 times
/// faster with 1 h tokens; ordinary traffic of ~2,740 distinct sign-outs a day fills the default
/// 1,000,000). Full, every later revocation fails (a sign-out or a stolen token's revocation is
/// not recorded) and an instance receiving one that does not fit refuses every token (503),
/// for up to 366 days. Here a fleet of 1 h instances: sign-outs two days old (what a sign-out
/// made now becomes in two days) name no token any instance could still accept, yet they keep
/// the room, and the next revocation is refused. Retention should follow the longest
/// `max_token_lifetime` actually in the fleet (e.g. recorded in Redis), not the 366-day ceiling.
#[tokio::test]
async fn sign_outs_no_instance_needs_do_not_fill_a_mirrored_set() {
    init_tracing();
    if !available("sign_outs_no_instance_needs_do_not_fill_a_mirrored_set") {
        return;
    }
    let redis = RedisServer::start().await;
    let settings = || {
        RevocationSettings::default()
            .startup_wait(Duration::from_secs(5))
            .heartbeat(Duration::from_millis(200), 3)
            .max_token_lifetime(Duration::from_secs(3600))
            .capacity(2)
    };
    let writer = Revocations::redis_with(&redis.url(), settings())
        .await
        .unwrap();
    let reader = Revocations::redis_with(&redis.url(), settings())
        .await
        .unwrap();
    assert!(writer.is_ready() && reader.is_ready());
    let two_days_ago = tests::unix_now() - 2 * 24 * 3600;
    for user in ["mallory-1", "mallory-2"] {
        writer
            .revoke_subject("https://issuer.example", user, two_days_ago)
            .await
            .unwrap();
    }
    let outcome = writer
        .revoke_token("https://issuer.example", "stolen", tests::unix_now() + 600)
        .await;
    assert!(
        outcome.is_ok(),
        "sign-outs no 1 h instance needs hold the room for 366 days: a stolen token's revocation \
         is refused ({outcome:?})"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(reader.is_ready(), "the other instance refuses every token");
}
