//! A Redis that loses this library's revocations or comes back with an older copy of them (third
//! attacker read): the running mirrors write back what they hold on every reconnection, and the
//! one that noticed a loss retries until it has written back and marked it restored, while no
//! instance vouches for a store still missing the revocations. Public API only, real
//! redis-server. Each test states what should hold; its doc comment names the attack.
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
