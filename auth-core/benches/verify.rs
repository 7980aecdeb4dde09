//! Verification cost against bare `jsonwebtoken::decode` on the same key and token, per algorithm,
//! and the verified-token cache against a full verification; what the revocation check adds to a
//! cache hit, and a cached introspection answer against a cache hit. Keys come from the loopback
//! test issuer.
//!
//! ```text
//! cargo bench -p auth-core --features testing --bench verify
//! cargo bench -p auth-core --features testing,redis --bench verify -- current/dpop
//! ```
//!
//! DPoP is measured with the table of parsed proof keys (the default) and without it
//! (`_no_key_cache`: every proof's key parsed, as before the table).
//!
//! With the `redis` feature the DPoP requests are measured twice: replays remembered in memory, and
//! in a `redis-server` (`REDIS_URL`, or one started on a free loopback port when the binary is on
//! `PATH`; without either that variant is skipped with a note); so is the revocation check, against
//! a set mirrored from that server (which also reads a clock, to notice a mirror gone quiet).

use std::hint::black_box;

use auth_core::limits::DEFAULT_REPLAY_CAPACITY;
use auth_core::testing::{DpopKey, TestIssuer};
use auth_core::{Algorithm, DpopRequest, Revocations, StandardClaims, Verifier};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};

struct Setup {
    runtime: tokio::runtime::Runtime,
    issuer: TestIssuer,
    uncached: Verifier,
    cached: Verifier,
    tokens: Vec<(Algorithm, String, DecodingKey, Validation)>,
}

fn setup() -> Setup {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (issuer, uncached, cached, jwks) = runtime.block_on(async {
        let issuer = TestIssuer::start().await;
        let uncached = Verifier::new(issuer.provider()).unwrap().verified_cache(0);
        uncached.prefetch().await.unwrap();
        let cached = uncached.clone().verified_cache(1000);
        let body = reqwest::get(issuer.jwks_url())
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let jwks: JwkSet = serde_json::from_slice(&body).unwrap();
        (issuer, uncached, cached, jwks)
    });
    let tokens = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA]
        .into_iter()
        .map(|alg| {
            // A realistic access token: roles, scopes, e-mail, about 500 bytes signed with RS256.
            let token = issuer
                .token()
                .algorithm(alg)
                .subject("user-3f1c9a7e-4b8d-4e2a-9c61-5d0e8f7a2b13")
                .email("someone@example.com")
                .roles(["admin", "viewer"])
                .scopes(["openid", "profile", "read:items", "write:items"])
                .sign();
            let kid = issuer.kid(alg).unwrap();
            let key = DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
            let mut validation = Validation::new(match alg {
                Algorithm::RS256 => jsonwebtoken::Algorithm::RS256,
                Algorithm::ES256 => jsonwebtoken::Algorithm::ES256,
                _ => jsonwebtoken::Algorithm::EdDSA,
            });
            validation.set_issuer(&[issuer.issuer()]);
            validation.set_audience(&[issuer.audience()]);
            (alg, token, key, validation)
        })
        .collect();
    Setup {
        runtime,
        issuer,
        uncached,
        cached,
        tokens,
    }
}

fn verify(c: &mut Criterion) {
    let setup = setup();
    for (alg, token, key, validation) in &setup.tokens {
        let mut group = c.benchmark_group(format!("verify/{alg}"));
        group.bench_function("jsonwebtoken_decode", |b| {
            b.iter(|| {
                jsonwebtoken::decode::<serde_json::Value>(black_box(token), key, validation)
                    .unwrap()
            })
        });
        group.bench_function("auth_core_full", |b| {
            b.iter(|| {
                setup
                    .runtime
                    .block_on(setup.uncached.verify::<StandardClaims>(black_box(token)))
                    .unwrap()
            })
        });
        setup
            .runtime
            .block_on(setup.cached.verify_token(token))
            .unwrap();
        group.bench_function("auth_core_cache_hit", |b| {
            b.iter(|| {
                setup
                    .runtime
                    .block_on(setup.cached.verify_token(black_box(token)))
                    .unwrap()
            })
        });
        group.finish();
    }
    let (_, token, _, _) = &setup.tokens[0];
    current(c, &setup, token);
    let mut group = c.benchmark_group("floor");
    group.bench_function("sha256_token", |b| {
        b.iter(|| {
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, black_box(token.as_bytes()))
        })
    });
    group.bench_function("insecure_decode", |b| {
        b.iter(|| {
            jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(black_box(token)).unwrap()
        })
    });
    group.finish();
}

/// Whether a token still stands: the revocation check on a cache hit (with revocations held, so the
/// set is consulted), and a cached introspection answer for an opaque token.
fn current(c: &mut Criterion, setup: &Setup, token: &str) {
    let issuer = &setup.issuer;
    let (revoking, introspecting, opaque) = setup.runtime.block_on(async {
        let revocations = Revocations::in_memory();
        revocations
            .revoke_subject(issuer.issuer(), "someone-else", i64::MAX / 2)
            .await
            .unwrap();
        let revoking = setup.cached.clone().revocations(revocations);
        revoking.verify_token(token).await.unwrap();
        let introspection = issuer
            .introspection()
            .cache_ttl(std::time::Duration::from_secs(3600));
        let introspecting = Verifier::new(issuer.provider().introspection(introspection)).unwrap();
        let opaque = issuer
            .token()
            .roles(["admin"])
            .scopes(["read:items"])
            .opaque();
        introspecting.verify_token(&opaque).await.unwrap();
        (revoking, introspecting, opaque)
    });
    let mut group = c.benchmark_group("current");
    let mut bench = |name: &str, verifier: &Verifier, token: &str| {
        group.bench_function(name, |b| {
            b.iter(|| {
                setup
                    .runtime
                    .block_on(verifier.verify_token(black_box(token)))
                    .unwrap()
            })
        });
    };
    bench("cache_hit", &setup.cached, token);
    bench("cache_hit_revocation_checked", &revoking, token);
    #[cfg(feature = "redis")]
    let redis = redis_server::RedisServer::start();
    // The mirror's task runs on a runtime of its own, since the measured one is only driven
    // while a verification waits (a cache hit never does), and a mirror that does not run goes
    // stale.
    #[cfg(feature = "redis")]
    let mirror_runtime = tokio::runtime::Runtime::new().unwrap();
    #[cfg(feature = "redis")]
    if let Some(redis) = &redis {
        let mirrored = mirror_runtime.block_on(async {
            let revocations = Revocations::redis(&redis.url, std::time::Duration::from_secs(5))
                .await
                .unwrap();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            revocations
                .revoke_subject(issuer.issuer(), "someone-else", now.cast_signed())
                .await
                .unwrap();
            revocations
        });
        let revoking = setup.cached.clone().revocations(mirrored);
        setup
            .runtime
            .block_on(revoking.verify_token(token))
            .unwrap();
        bench("cache_hit_revocation_checked_redis", &revoking, token);
    }
    bench("introspection_cache_hit", &introspecting, &opaque);

    // DPoP: the same cached token check plus the proof (an ES256 and an EdDSA signature check,
    // the proof's claims, the replay cache). Proofs are made outside the measurement.
    let url = "https://api.example.com/items";
    // One key sends every proof of a measurement, more than its default share of the replay store
    // (62,500) in the time criterion takes: it may fill the whole store.
    let whole_store = || auth_core::Dpop::default().replay_per_key(DEFAULT_REPLAY_CAPACITY);
    let kept = setup.cached.clone().dpop(whole_store()).unwrap();
    // And without the table of parsed proof keys: every proof's key parsed, as before it.
    let unkept = setup
        .cached
        .clone()
        .dpop(whole_store().key_cache(0))
        .unwrap();
    #[cfg_attr(not(feature = "redis"), allow(unused_mut))]
    let mut dpop_verifiers = vec![("", kept), ("_no_key_cache", unkept)];
    #[cfg(feature = "redis")]
    let _entered = setup.runtime.enter();
    #[cfg(feature = "redis")]
    match &redis {
        Some(redis) => {
            let dpop = whole_store().redis(&redis.url);
            let shared = setup.cached.clone().dpop(dpop).unwrap();
            dpop_verifiers.push(("_redis_replays", shared));
        }
        None => eprintln!("no REDIS_URL and no redis-server on PATH: DPoP with Redis not measured"),
    }
    for (suffix, verifier) in &dpop_verifiers {
        for (alg, key) in [
            ("es256", DpopKey::generate()),
            ("eddsa", DpopKey::generate_ed25519()),
        ] {
            let name = format!("dpop_{alg}_cache_hit{suffix}");
            dpop_bench(&mut group, &name, setup, verifier, &key, url);
        }
    }
    group.finish();
}

/// A DPoP request: `verifier`'s cached token check plus a new proof from `key` each iteration.
fn dpop_bench(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    setup: &Setup,
    verifier: &Verifier,
    key: &DpopKey,
    url: &str,
) {
    let bound = setup.issuer.token().dpop_bound(key).sign();
    group.bench_function(name, |b| {
        b.iter_batched(
            || key.proof("GET", url, &bound),
            |proof| {
                let request = DpopRequest {
                    proof: &proof,
                    method: "GET",
                    url,
                };
                setup
                    .runtime
                    .block_on(verifier.verify_dpop(black_box(&bound), &request))
                    .unwrap()
            },
            BatchSize::SmallInput,
        )
    });
}

/// A `redis-server` for the shared replay store: `REDIS_URL`, or one started here on a free
/// loopback port without persistence and stopped when the bench ends.
#[cfg(feature = "redis")]
mod redis_server {
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    pub struct RedisServer {
        pub url: String,
        child: Option<Child>,
    }

    impl RedisServer {
        pub fn start() -> Option<RedisServer> {
            if let Ok(url) = std::env::var("REDIS_URL") {
                return Some(RedisServer { url, child: None });
            }
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .ok()?
                .local_addr()
                .ok()?
                .port();
            let child = Command::new("redis-server")
                .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .ok()?;
            let server = RedisServer {
                url: format!("redis://127.0.0.1:{port}/"),
                child: Some(child),
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                if Instant::now() > deadline {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Some(server)
        }
    }

    impl Drop for RedisServer {
        fn drop(&mut self) {
            if let Some(child) = &mut self.child {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

criterion_group!(benches, verify);
criterion_main!(benches);
