//! A Redis that loses this library's revocations or comes back with an older copy of them (third,
//! fourth and fifth attacker reads): the running mirrors write back what they hold on every
//! reconnection (announced only because of a loss), and a mirror whose set stayed complete since
//! its last marker check before a loss retries until it has written back and marked it restored,
//! while no instance vouches for a store still missing the revocations. Public API only, real
//! redis-server, bounded waits. Each test states what should hold; its doc comment names the
//! attack.
//!
//! A DPoP proof recorded after the snapshot Redis comes back from can replay: the marker cannot
//! tell an older copy, and the operator requirement (AOF with `appendfsync always`, no failover to
//! an asynchronous replica) is documented in SECURITY.md and docs/dpop.md instead.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use auth_actix::core::RevocationSettings;
use auth_actix::testing::TestIssuer;
use auth_actix::{AuthError, Revocations, Verifier};
use tests::redis_server::{RedisServer, available};
use tests::tcp_proxy::FreezableProxy;
use tests::{init_tracing, wait_until};

/// A directory of its own for one test's RDB snapshot, removed when dropped.
struct SnapshotDir(PathBuf);

impl SnapshotDir {
    fn new(test: &str) -> SnapshotDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("{test}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        SnapshotDir(dir)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for SnapshotDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server that comes back with an older copy of its keys (its last RDB snapshot after a crash, a
/// lagging replica promoted) keeps the marker, so the loss of what was stored since goes
/// unnoticed: the running instance still holds a revocation made after the snapshot, but wrote
/// nothing back, and the next instance to start (a deploy, an autoscaler) loaded a set without it,
/// was ready at once, and accepted the revoked token until it expired. The running mirror writes
/// its set back whenever it reconnects, and the restart broke its connection.
#[tokio::test]
async fn a_revocation_made_after_the_last_snapshot_survives_redis_reloading_that_snapshot() {
    init_tracing();
    if !available(
        "a_revocation_made_after_the_last_snapshot_survives_redis_reloading_that_snapshot",
    ) {
        return;
    }
    let dir = SnapshotDir::new("revocation-snapshot");
    let mut redis = RedisServer::start_with(&["--dir", dir.path()]).await;
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
    // The periodic snapshot (or the replica's last sync) happens here, marker included.
    assert_eq!(redis.command(&["SAVE"]).await, "+OK");

    let token = issuer.token().subject("ada").sign();
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(running.clone());
    let verified = verifier.verify_token(&token).await.unwrap();
    running.revoke(&verified).await.unwrap();
    assert_eq!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::Revoked
    );

    // The server crashes and reloads its last snapshot (or a lagging replica is promoted).
    redis.resume().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(wait_until(Duration::from_secs(10), || running.is_ready()).await);
    assert_eq!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::Revoked,
        "the running instance still holds it"
    );
    // A few heartbeats for the write-back on reconnection to happen.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let started = Revocations::redis_with(&redis.url(), settings())
        .await
        .unwrap();
    assert!(wait_until(Duration::from_secs(90), || started.is_ready()).await);
    let outcome = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(started)
        .verify_token(&token)
        .await
        .map(|_| ());
    assert_eq!(
        outcome,
        Err(AuthError::Revoked),
        "an instance started after Redis reloaded an older snapshot accepts the revoked token"
    );
}

/// The mirror that notices a loss remembers the new marker before it writes its set back. A
/// write-back that failed once (the 2 s command timeout on a large set, a connection dropped
/// while the restarted server settles, a server still refusing writes) was never tried again: the
/// mirror reconnected, found the marker it already knew, and waited for "another instance" (there
/// may be none), and 60 s after the loss every instance vouched for what Redis held. The mirror
/// that noticed the loss now retries until it has written back and marked it restored, and no
/// instance vouches for the store before then, however long that takes. Here the restarted
/// server refuses writes to revocation keys until the test lifts that (an ACL stands in for the
/// transient failure).
#[tokio::test]
async fn a_write_back_that_failed_once_is_retried_before_anyone_vouches_for_the_store() {
    init_tracing();
    if !available("a_write_back_that_failed_once_is_retried_before_anyone_vouches_for_the_store") {
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

    // Redis restarts empty; the first write-back attempt fails (writes to revocation keys are
    // refused), while the marker itself can still be written.
    redis.stop().await;
    let port = redis.address().port().to_string();
    let mut restarted = tokio::process::Command::new("redis-server")
        .args(["--port", &port, "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .args([
            "--user",
            "default",
            "reset",
            "on",
            "nopass",
            "~auth:store-marker",
            "%R~auth:revoked:*",
            "&*",
            "+@all",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server starts");
    let address = redis.address();
    assert!(
        wait_until(Duration::from_secs(10), || {
            std::net::TcpStream::connect(address).is_ok()
        })
        .await
    );
    // The running mirror notices the loss and fails its write-back (it stays blocked meanwhile).
    let mut noticed = false;
    for _ in 0..100 {
        if redis.command(&["EXISTS", "auth:store-marker"]).await == ":1" {
            noticed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(noticed, "the running mirror writes the marker of the loss");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !running.is_ready(),
        "blocked while the loss is not written back"
    );
    // The transient failure ends: Redis accepts every write again.
    assert_eq!(
        redis
            .command(&[
                "ACL",
                "SETUSER",
                "default",
                "allkeys",
                "allchannels",
                "+@all"
            ])
            .await,
        "+OK"
    );

    let started = Revocations::redis_with(&redis.url(), settings())
        .await
        .unwrap();
    assert!(wait_until(Duration::from_secs(90), || started.is_ready()).await);
    let outcome = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(started)
        .verify_token(&token)
        .await
        .map(|_| ());
    let _ = restarted.start_kill();
    let _ = restarted.wait().await;
    assert_eq!(
        outcome,
        Err(AuthError::Revoked),
        "a write-back that failed once is never retried: an instance that started after the loss \
         accepts the revoked token"
    );
}

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

/// Write-back storm: every reconnection of every instance writes back its whole set, and each
/// write-back used to announce every revocation again on the channel (N instances x M
/// revocations messages to each of N instances). The routine write-back on a reconnection (the
/// marker unchanged, no loss) merges without announcing: the other instances hold those
/// revocations already. (A write-back because of a loss is announced: see
/// `a_mirror_that_missed_a_message_while_reconnecting_does_not_accept_the_revoked_token`.) Here
/// the revocation's key is deleted behind the instance's back and its path to Redis blips; the
/// reconnection writes the key back, and a sentinel published afterwards is the first thing a
/// subscriber to the channel receives.
#[tokio::test]
async fn a_routine_write_back_does_not_announce_the_revocations_again() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    init_tracing();
    if !available("a_routine_write_back_does_not_announce_the_revocations_again") {
        return;
    }
    let redis = RedisServer::start().await;
    let proxy = FreezableProxy::start(redis.address()).await;
    let issuer = TestIssuer::start().await;
    let running = Revocations::redis_with(&proxy.redis_url(), settings())
        .await
        .unwrap();
    assert!(running.is_ready());
    running
        .revoke_subject(issuer.issuer(), "ada", tests::unix_now())
        .await
        .unwrap();

    // A subscriber of its own, straight to Redis, after the revocation was announced.
    let mut subscriber = tokio::net::TcpStream::connect(redis.address())
        .await
        .unwrap();
    subscriber
        .write_all(b"*2\r\n$9\r\nSUBSCRIBE\r\n$16\r\nauth:revocations\r\n")
        .await
        .unwrap();
    let mut received = Vec::new();
    let mut read_until = async |received: &mut Vec<u8>, needle: &str| {
        let mut buffer = [0u8; 4096];
        while !String::from_utf8_lossy(received).contains(needle) {
            let read = tokio::time::timeout(Duration::from_secs(10), subscriber.read(&mut buffer))
                .await
                .expect("the subscriber received nothing within 10 s")
                .unwrap();
            assert!(read > 0, "the subscription closed");
            received.extend_from_slice(&buffer[..read]);
        }
    };
    read_until(&mut received, ":1\r\n").await;
    received.clear();

    // The key goes (no loss: the marker stays), and the instance's path blips.
    let revoked = "return #redis.call('KEYS', 'auth:revoked:*')";
    assert_eq!(
        redis
            .command(&[
                "EVAL",
                "return redis.call('DEL', unpack(redis.call('KEYS', 'auth:revoked:*')))",
                "0"
            ])
            .await,
        ":1"
    );
    proxy.freeze();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    proxy.thaw();
    let mut written_back = false;
    for _ in 0..150 {
        if redis.command(&["EVAL", revoked, "0"]).await == ":1" && running.is_ready() {
            written_back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        written_back,
        "the reconnection did not write the revocation back within 15 s"
    );
    assert!(marker_restored(&redis).await, "no loss was recorded");

    assert_eq!(
        redis
            .command(&["PUBLISH", "auth:revocations", "sentinel"])
            .await,
        ":2"
    );
    read_until(&mut received, "sentinel").await;
    let received = String::from_utf8_lossy(&received);
    assert!(
        !received.contains("\"ada\""),
        "the routine write-back announced the revocation again: {received:?}"
    );
}

/// How many revocation keys Redis holds.
async fn stored_revocations(redis: &RedisServer) -> String {
    redis
        .command(&["EVAL", "return #redis.call('KEYS', 'auth:revoked:*')", "0"])
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
