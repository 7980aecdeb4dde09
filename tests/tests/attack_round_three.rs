//! The third attacker read, of the fixes made after the second: the Redis store marker
//! (`auth:store-marker`) that is meant to notice a Redis that lost this library's keys. Public API
//! only, real redis-server. Each test states what should hold; its doc comment names the attack.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use auth_actix::core::RevocationSettings;
use auth_actix::testing::{DpopKey, TestIssuer};
use auth_actix::{AuthError, Dpop, Revocations, Verifier};
use auth_core::DpopRequest;
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

/// The marker is written once, at first contact, and never changes while nothing is lost, so it
/// is in every snapshot and on every replica from then on. A server that comes back with an older
/// copy of its keys, as the docs list among the losses the marker notices ("a failover to a
/// replica that lagged"), and as Redis's default RDB persistence (`save 3600 1 300 100 60 10000`)
/// does after any crash (it reloads the last snapshot, minutes old), has the marker but not the
/// proofs recorded since: the marker matches what the instance knows, the record script finds no
/// key for the proof, and a proof captured in that gap replays.
#[tokio::test]
async fn a_dpop_proof_does_not_replay_after_redis_comes_back_from_an_older_snapshot() {
    init_tracing();
    if !available("a_dpop_proof_does_not_replay_after_redis_comes_back_from_an_older_snapshot") {
        return;
    }
    const URL: &str = "http://localhost:8080/items";
    let dir = SnapshotDir::new("dpop-snapshot");
    let mut redis = RedisServer::start_with(&["--dir", dir.path()]).await;
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .dpop(Dpop::default().redis(&redis.url()))
        .unwrap();
    verifier.warm_up().await.unwrap();
    // Some earlier traffic: the marker is written at this first contact.
    let other = DpopKey::generate();
    let earlier = issuer.token().subject("someone").dpop_bound(&other).sign();
    let earlier_proof = other.proof("GET", URL, &earlier);
    verifier
        .verify_dpop(
            &earlier,
            &DpopRequest {
                proof: &earlier_proof,
                method: "GET",
                url: URL,
            },
        )
        .await
        .unwrap();
    // The periodic snapshot (or the replica's last sync) happens here.
    assert_eq!(redis.command(&["SAVE"]).await, "+OK");

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

    // The server crashes and reloads its last snapshot (or a lagging replica is promoted).
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
        "a proof already used is accepted again once Redis came back from an older snapshot \
         (the marker was in the snapshot, so the loss went unnoticed): {outcome:?}"
    );
}

/// The same older copy for revocations: the running instance keeps the revocation in its own set,
/// but finds the marker unchanged, so it writes nothing back; the next instance to start (a
/// deploy, an autoscaler) loads a set without it, is ready at once, and accepts the revoked token
/// until it expires.
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
    // A few heartbeats for any write-back to happen.
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

/// The mirror that notices a loss remembers the new marker (in `ensure_marker`) before it writes
/// its set back. If the write-back then fails once (the 2 s command timeout on a large set, a
/// connection dropped while the restarted server settles, a server still refusing writes), the
/// mirror reconnects, finds the marker it already knows, and never writes back again: it waits
/// for "another instance" (there may be none, or every one failed the same way), and 60 s after
/// the loss every instance vouches for what Redis holds. Here the restarted server refuses writes
/// to revocation keys until the test lifts that (an ACL stands in for the transient failure);
/// Redis then accepts everything, but the revocation is never written back, and an instance that
/// starts loads a set without it and, after the 60 s wait, accepts the revoked token.
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
        "a write-back that failed once is never retried: once the 60 s wait ends, an instance \
         that started after the loss accepts the revoked token"
    );
}
