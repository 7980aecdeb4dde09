//! Key handling over real HTTP: rotation, removal, refresh by max-age, unknown-kid storms, outages,
//! slow and garbage responses, discovery checks, several issuers. Waits are bounded polls, never
//! fixed sleeps asserting timing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use auth_core::testing::TestIssuer;
use auth_core::{
    Algorithm, AuthError, ErrorCode, KeySettings, PrefetchError, Provider, StandardClaims, Verifier,
};
use tests::{init_tracing, join_within, poll, wait_until};

async fn verify(verifier: &Verifier, token: &str) -> Result<StandardClaims, AuthError> {
    verifier
        .verify::<StandardClaims>(token)
        .await
        .map(|claims| claims.into_inner())
}

fn settings(adjust: impl FnOnce(&mut KeySettings)) -> KeySettings {
    let mut settings = TestIssuer::fast_key_settings();
    adjust(&mut settings);
    settings
}

#[tokio::test]
async fn rotation_is_accepted_without_restart() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    // No verified-token cache: every call must select its key.
    let verifier = Verifier::new(issuer.provider()).unwrap().verified_cache(0);
    let before = issuer.token().sign();
    verify(&verifier, &before).await.unwrap();
    assert_eq!(issuer.jwks_fetches(), 1);

    issuer.rotate();
    let after = issuer.token().sign();
    verify(&verifier, &after)
        .await
        .expect("new kid triggers one refetch and verifies");
    assert_eq!(issuer.jwks_fetches(), 2);
    verify(&verifier, &before)
        .await
        .expect("previous key still published");
    assert_eq!(issuer.jwks_fetches(), 2, "known kids never refetch");
}

#[tokio::test]
async fn a_key_published_ahead_of_use_needs_no_refetch() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let first_kid = issuer.kid(Algorithm::RS256);
    issuer.publish_next_keys();
    let verifier = Verifier::new(issuer.provider()).unwrap().verified_cache(0);
    verify(&verifier, &issuer.token().sign()).await.unwrap();
    assert_eq!(issuer.jwks_fetches(), 1);

    issuer.rotate();
    assert_ne!(
        issuer.kid(Algorithm::RS256),
        first_kid,
        "rotation moved to the next key"
    );
    let after = issuer.token().sign();
    verify(&verifier, &after)
        .await
        .expect("the pre-published key verifies");
    assert_eq!(
        issuer.jwks_fetches(),
        1,
        "the key was known before its first token"
    );
}

#[tokio::test]
async fn removed_key_is_refused_after_the_next_refresh() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    issuer.set_max_age(Some(1));
    let verifier = Verifier::new(issuer.provider()).unwrap();
    let old = issuer.token().sign();
    verify(&verifier, &old).await.unwrap();

    issuer.rotate();
    issuer.drop_previous_keys();
    let fetched = issuer.jwks_fetches();
    assert!(
        wait_until(Duration::from_secs(5), || issuer.jwks_fetches() > fetched).await,
        "background refresh honours max-age=1"
    );
    // Give the refreshed set a moment to be swapped in after the response was served.
    let result = poll(
        Duration::from_secs(3),
        || verify(&verifier, &old),
        Result::is_err,
    )
    .await;
    assert_eq!(result.unwrap_err(), AuthError::UnknownKey);
    verify(&verifier, &issuer.token().sign())
        .await
        .expect("the new key verifies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_kid_storm_costs_one_fetch_per_cooldown() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let provider = issuer.provider().key_settings(settings(|s| {
        s.unknown_kid_cooldown = Duration::from_secs(30)
    }));
    let verifier = Verifier::new(provider).unwrap();

    // 100 concurrent first requests share one initial load.
    let good = issuer.token().algorithm(Algorithm::EdDSA).sign();
    let first: Vec<_> = (0..100)
        .map(|_| {
            let (verifier, token) = (verifier.clone(), good.clone());
            tokio::spawn(async move { verify(&verifier, &token).await })
        })
        .collect();
    for result in join_within(Duration::from_secs(60), first).await {
        result.expect("known key verifies");
    }
    assert_eq!(
        issuer.jwks_fetches(),
        1,
        "single flight on the initial load"
    );

    let storm: Vec<_> = (0..1000)
        .map(|i| {
            let token = issuer
                .token()
                .algorithm(Algorithm::EdDSA)
                .kid(format!("random-{i}-{}", i * 7919))
                .sign();
            let verifier = verifier.clone();
            tokio::spawn(async move { verify(&verifier, &token).await })
        })
        .collect();
    for result in join_within(Duration::from_secs(60), storm).await {
        assert_eq!(result.unwrap_err(), AuthError::UnknownKey);
    }
    assert_eq!(
        issuer.jwks_fetches(),
        2,
        "1,000 random kids cost one refetch"
    );
    verify(&verifier, &good)
        .await
        .expect("known keys unaffected");

    // A second storm inside the cooldown costs nothing.
    for i in 0..50 {
        let token = issuer
            .token()
            .algorithm(Algorithm::EdDSA)
            .kid(format!("again-{i}"))
            .sign();
        assert_eq!(
            verify(&verifier, &token).await.unwrap_err(),
            AuthError::UnknownKey
        );
    }
    assert_eq!(issuer.jwks_fetches(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_with_a_freshly_rotated_kid_all_wait_for_one_refetch() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    issuer.set_delay(Duration::from_millis(300));
    let provider = issuer.provider().key_settings(settings(|s| {
        s.unknown_kid_cooldown = Duration::from_secs(30)
    }));
    let verifier = Verifier::new(provider).unwrap().verified_cache(0);
    verifier.prefetch().await.unwrap();
    issuer.rotate();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let token = issuer
                .token()
                .subject(format!("user-{i}"))
                .algorithm(Algorithm::EdDSA)
                .sign();
            let verifier = verifier.clone();
            tokio::spawn(async move { verify(&verifier, &token).await })
        })
        .collect();
    for result in join_within(Duration::from_secs(60), tasks).await {
        result.expect("requests arriving during the refetch wait for it instead of failing");
    }
    assert_eq!(issuer.jwks_fetches(), 2, "the load plus one refetch");
}

#[tokio::test]
async fn unknown_kid_cooldown_counts_from_the_last_kid_refetch_not_the_load() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let provider = issuer.provider().key_settings(settings(|s| {
        s.unknown_kid_cooldown = Duration::from_secs(30)
    }));
    let verifier = Verifier::new(provider).unwrap();
    verify(&verifier, &issuer.token().sign()).await.unwrap();
    // Rotated right after start: the cooldown has not begun, so the new key is picked up at once.
    issuer.rotate();
    verify(&verifier, &issuer.token().sign())
        .await
        .expect("picked up at once");
    issuer.rotate();
    assert_eq!(
        verify(&verifier, &issuer.token().sign()).await.unwrap_err(),
        AuthError::UnknownKey,
        "a second rotation within the cooldown waits for the schedule"
    );
    assert_eq!(issuer.jwks_fetches(), 2);
}

#[tokio::test]
async fn outage_keeps_serving_known_keys() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    issuer.set_max_age(Some(1));
    let verifier = Verifier::new(issuer.provider()).unwrap().verified_cache(0);
    let token = issuer.token().sign();
    verify(&verifier, &token).await.unwrap();

    issuer.set_outage(true);
    // After a failure the refresh starts again from discovery, so count both documents.
    let fetches = || issuer.jwks_fetches() + issuer.discovery_fetches();
    let fetched = fetches();
    // Two failed refreshes: the second is only asked for once the first failure has been handled.
    assert!(
        wait_until(Duration::from_secs(8), || fetches() > fetched + 1).await,
        "refreshes were tried"
    );
    verify(&verifier, &token)
        .await
        .expect("last good keys survive the outage");

    issuer.set_outage(false);
    issuer.rotate();
    issuer.drop_previous_keys();
    let new = issuer.token().sign();
    let during = issuer.jwks_fetches();
    assert!(
        wait_until(Duration::from_secs(8), || issuer.jwks_fetches() > during).await,
        "refresh resumes after the outage"
    );
    let recovered = poll(
        Duration::from_secs(5),
        || verify(&verifier, &new),
        Result::is_ok,
    )
    .await;
    recovered.expect("recovered");
}

#[tokio::test]
async fn no_keys_at_all_is_unavailable_not_invalid() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    issuer.set_outage(true);
    let verifier = Verifier::new(issuer.provider()).unwrap();
    let token = issuer.token().sign();
    let err = verify(&verifier, &token).await.unwrap_err();
    assert!(matches!(err, AuthError::KeysUnavailable { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::AuthUnavailable);
    assert_eq!(err.code(), ErrorCode::AuthUnavailable);
    assert!(
        err.retry_after()
            .is_some_and(|d| d >= Duration::from_secs(1))
    );
    assert!(
        err.to_string().contains("503"),
        "reason names the cause: {err}"
    );

    let fetched = issuer.jwks_fetches() + issuer.discovery_fetches();
    for _ in 0..20 {
        assert!(matches!(
            verify(&verifier, &token).await,
            Err(AuthError::KeysUnavailable { .. })
        ));
    }
    assert_eq!(
        issuer.jwks_fetches() + issuer.discovery_fetches(),
        fetched,
        "requests during the failure backoff do not hit the issuer"
    );

    issuer.set_outage(false);
    let result = poll(
        Duration::from_secs(5),
        || verify(&verifier, &token),
        Result::is_ok,
    )
    .await;
    result.expect("keys load once the issuer is back");
}

#[tokio::test]
async fn garbage_jwks_is_unavailable_and_never_replaces_good_keys() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    issuer.set_jwks_body(Some("<html>502 Bad Gateway</html>".to_owned()));
    let verifier = Verifier::new(issuer.provider()).unwrap();
    let token = issuer.token().sign();
    let err = verify(&verifier, &token).await.unwrap_err();
    assert!(
        matches!(&err, AuthError::KeysUnavailable { reason, .. }
            if reason.contains("not a JWK Set")),
        "{err:?}"
    );

    issuer.set_jwks_body(None);
    issuer.set_max_age(Some(1));
    // No verified-token cache: the last verify must select its key from the current set.
    let verifier = Verifier::new(issuer.provider()).unwrap().verified_cache(0);
    verify(&verifier, &token).await.unwrap();
    issuer.set_jwks_body(Some(
        r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}"#.to_owned(),
    ));
    let fetched = issuer.jwks_fetches();
    // A second fetch of the useless set is only asked for once the first has been handled.
    assert!(
        wait_until(Duration::from_secs(8), || issuer.jwks_fetches()
            > fetched + 1)
        .await
    );
    verify(&verifier, &token)
        .await
        .expect("a key set with no usable key keeps the old keys");
}

#[tokio::test]
async fn slow_jwks_hits_the_timeout() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    issuer.set_delay(Duration::from_secs(4));
    let provider = issuer
        .provider()
        .key_settings(settings(|s| s.fetch_timeout = Duration::from_millis(500)));
    let verifier = Verifier::new(provider).unwrap();
    let started = Instant::now();
    let err = verify(&verifier, &issuer.token().sign()).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "gave up at the timeout, not the response"
    );
    assert!(
        matches!(&err, AuthError::KeysUnavailable { reason, .. } if reason.contains("no complete \
                                                                                     response \
                                                                                     within")),
        "{err:?}"
    );
}

#[tokio::test]
async fn oversized_jwks_is_refused() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    issuer.set_jwks_body(Some(format!(
        r#"{{"keys":[],"pad":"{}"}}"#,
        "x".repeat(300 * 1024)
    )));
    let verifier = Verifier::new(issuer.provider()).unwrap();
    let err = verify(&verifier, &issuer.token().sign()).await.unwrap_err();
    assert!(
        matches!(&err, AuthError::KeysUnavailable { reason, .. } if reason.contains("larger than")),
        "{err:?}"
    );
}

#[tokio::test]
async fn discovery_must_name_the_configured_issuer() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    issuer.set_discovery_issuer(Some("https://impostor.example.com".to_owned()));
    let verifier = Verifier::new(issuer.provider()).unwrap();
    let err = verifier.prefetch().await.unwrap_err();
    assert!(err.is_misconfiguration(), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("impostor.example.com") && message.contains("not the configured"),
        "{message}"
    );
    assert_eq!(
        issuer.jwks_fetches(),
        0,
        "no keys are taken from a mismatched document"
    );
    assert!(matches!(
        verify(&verifier, &issuer.token().sign()).await,
        Err(AuthError::KeysUnavailable { .. })
    ));
}

#[tokio::test]
async fn explicit_jwks_url_skips_discovery() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(issuer.provider().jwks_url(issuer.jwks_url())).unwrap();
    verifier.prefetch().await.unwrap();
    verify(&verifier, &issuer.token().sign()).await.unwrap();
    assert_eq!(issuer.discovery_fetches(), 0);
    assert_eq!(issuer.jwks_fetches(), 1);
}

#[tokio::test]
async fn prefetch_fails_fast_naming_the_url_and_cause() {
    init_tracing();
    // Bind then drop a listener to find a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let verifier = Verifier::new(
        Provider::oidc(url.clone())
            .audience("api")
            .key_settings(TestIssuer::fast_key_settings()),
    )
    .unwrap();
    let started = Instant::now();
    let err = verifier.prefetch().await.unwrap_err();
    assert!(
        matches!(err, PrefetchError::Unreachable { .. }),
        "no answer is an outage: {err:?}"
    );
    let err = err.to_string();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        err.contains(&format!("{url}/.well-known/openid-configuration")),
        "{err}"
    );
    assert!(
        err.to_lowercase().contains("connect"),
        "names the cause: {err}"
    );
}

#[tokio::test]
async fn prefetch_tells_an_outage_from_a_misconfiguration() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    issuer.set_outage(true);
    let verifier = Verifier::new(issuer.provider()).unwrap();
    let err = verifier.prefetch().await.unwrap_err();
    assert!(
        matches!(&err, PrefetchError::Unreachable { reason, .. } if reason.contains("503")),
        "{err:?}"
    );
    issuer.set_outage(false);
    issuer.set_delay(Duration::from_secs(3));
    let err = Verifier::new(issuer.provider())
        .unwrap()
        .prefetch()
        .await
        .unwrap_err();
    assert!(
        !err.is_misconfiguration(),
        "a timeout is an outage: {err:?}"
    );
    issuer.set_delay(Duration::ZERO);

    let not_found = Verifier::new(
        issuer
            .provider()
            .jwks_url(format!("{}/no-such-keys", issuer.issuer())),
    )
    .unwrap();
    let err = not_found.prefetch().await.unwrap_err();
    assert!(
        err.is_misconfiguration() && err.to_string().contains("404"),
        "{err:?}"
    );
    issuer.set_jwks_body(Some(
        r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#.to_owned(),
    ));
    let err = Verifier::new(issuer.provider())
        .unwrap()
        .prefetch()
        .await
        .unwrap_err();
    assert!(
        err.is_misconfiguration() && err.to_string().contains("no usable keys"),
        "{err:?}"
    );
    issuer.set_jwks_body(Some("<html>".to_owned()));
    let err = Verifier::new(issuer.provider())
        .unwrap()
        .prefetch()
        .await
        .unwrap_err();
    assert!(err.is_misconfiguration(), "{err:?}");
}

/// A loopback server that answers every request with `302 Found` to `location` and counts the
/// requests. `location` may contain `{self}`, replaced by the redirector's own URL.
async fn redirector(location: &str) -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/keys", listener.local_addr().unwrap());
    let response = format!(
        "HTTP/1.1 302 Found\r\nLocation: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        location.replace("{self}", &url)
    );
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let response = response.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut chunk = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&chunk[..n]),
                    }
                }
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    (url, hits)
}

#[tokio::test]
async fn jwks_redirects_are_followed_to_loopback_http() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let (url, hits) = redirector(&issuer.jwks_url()).await;
    let verifier = Verifier::new(issuer.provider().jwks_url(url)).unwrap();
    verifier.prefetch().await.unwrap();
    verify(&verifier, &issuer.token().sign()).await.unwrap();
    assert_eq!((hits.load(Ordering::SeqCst), issuer.jwks_fetches()), (1, 1));
}

#[tokio::test]
async fn jwks_redirect_to_plain_http_off_loopback_is_refused() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    // Never contacted: the policy refuses the hop before any connection (the machine has no route
    // there anyway).
    let (url, hits) = redirector("http://jwks.example.com/keys").await;
    let verifier = Verifier::new(issuer.provider().jwks_url(url.clone())).unwrap();
    let err = verifier.prefetch().await.unwrap_err().to_string();
    assert!(
        err.contains(&url) && err.contains("neither https nor loopback http"),
        "{err}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let err = verify(&verifier, &issuer.token().sign()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::AuthUnavailable, "{err:?}");
}

#[tokio::test]
async fn jwks_redirect_loops_stop_after_three_hops() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let (url, hits) = redirector("{self}").await;
    let verifier = Verifier::new(issuer.provider().jwks_url(url)).unwrap();
    let err = verifier.prefetch().await.unwrap_err().to_string();
    assert!(err.contains("more than 3 redirects"), "{err}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        4,
        "the first request and three redirects"
    );
}

#[tokio::test]
async fn max_age_decides_when_keys_are_refreshed() {
    init_tracing();
    let short = TestIssuer::start().await;
    short.set_max_age(Some(1));
    let long = TestIssuer::start().await;
    long.set_max_age(Some(3600));
    let absent = TestIssuer::start().await;
    absent.set_max_age(None);
    let verifier =
        Verifier::any_of([short.provider(), long.provider(), absent.provider()]).unwrap();
    verifier.prefetch().await.unwrap();

    assert!(
        wait_until(Duration::from_secs(5), || short.jwks_fetches() >= 3).await,
        "max-age=1 refreshes"
    );
    assert_eq!(long.jwks_fetches(), 1, "max-age=3600 does not");
    assert_eq!(absent.jwks_fetches(), 1, "no header: the 10-minute default");
}

#[tokio::test]
async fn background_refresh_stops_when_the_verifier_is_dropped() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    issuer.set_max_age(Some(1));
    let verifier = Verifier::new(issuer.provider()).unwrap();
    verifier.prefetch().await.unwrap();
    assert!(wait_until(Duration::from_secs(5), || issuer.jwks_fetches() >= 2).await);
    drop(verifier);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after_drop = issuer.jwks_fetches();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        issuer.jwks_fetches(),
        after_drop,
        "no refresh after the last handle is gone"
    );
}

#[tokio::test]
async fn keys_older_than_the_stale_limit_are_not_used() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    issuer.set_max_age(Some(1));
    let provider = issuer
        .provider()
        .key_settings(settings(|s| s.max_stale = Duration::from_secs(1)));
    let verifier = Verifier::new(provider).unwrap();
    let token = issuer.token().sign();
    verify(&verifier, &token).await.unwrap();
    issuer.set_outage(true);
    let result = poll(
        Duration::from_secs(6),
        || verify(&verifier, &token),
        Result::is_err,
    )
    .await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, AuthError::KeysUnavailable { reason, .. } if reason.contains("stale")),
        "{err:?}"
    );
}

#[tokio::test]
async fn several_issuers_route_by_iss_and_unknown_issuers_cost_nothing() {
    init_tracing();
    let a = TestIssuer::start().await;
    let b = TestIssuer::start().await;
    let stranger = TestIssuer::start().await;
    let verifier = Verifier::any_of([a.provider(), b.provider()]).unwrap();
    assert_eq!(
        verify(&verifier, &a.token().subject("from-a").sign())
            .await
            .unwrap()
            .sub,
        "from-a"
    );
    assert_eq!(
        verify(&verifier, &b.token().subject("from-b").sign())
            .await
            .unwrap()
            .sub,
        "from-b"
    );
    assert!(matches!(
        verify(&verifier, &stranger.token().sign())
            .await
            .unwrap_err(),
        AuthError::UnknownIssuer { .. }
    ));
    assert_eq!(stranger.jwks_fetches() + stranger.discovery_fetches(), 0);

    // A token from b claiming to be from a is checked against a's keys, and fails.
    let kid = a.kid(Algorithm::RS256).unwrap();
    let crossed = b.token().issuer(a.issuer()).kid(kid).sign();
    assert_eq!(
        verify(&verifier, &crossed).await.unwrap_err(),
        AuthError::InvalidSignature
    );
}

#[tokio::test]
async fn multi_tenant_issuer_accepts_listed_tenants_only() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let template = format!("{}/{{tenantid}}/v2.0", issuer.issuer());
    let provider = Provider::multi_tenant(&template, ["tenant-a", "tenant-b"])
        .audience(issuer.audience())
        .jwks_url(issuer.jwks_url())
        .key_settings(TestIssuer::fast_key_settings());
    let verifier = Verifier::new(provider).unwrap();
    let token = |tenant: &str| {
        issuer
            .token()
            .issuer(format!("{}/{tenant}/v2.0", issuer.issuer()))
            .sign()
    };
    let claims = verify(&verifier, &token("tenant-a")).await.unwrap();
    assert_eq!(claims.iss, format!("{}/tenant-a/v2.0", issuer.issuer()));
    verify(&verifier, &token("tenant-b")).await.unwrap();
    let fetched = issuer.jwks_fetches();
    assert!(matches!(
        verify(&verifier, &token("tenant-c")).await.unwrap_err(),
        AuthError::UnknownIssuer { .. }
    ));
    assert!(matches!(
        verify(&verifier, &token("tenant-a/x")).await.unwrap_err(),
        AuthError::UnknownIssuer { .. }
    ));
    assert_eq!(issuer.jwks_fetches(), fetched);

    let err = Verifier::new(
        Provider::multi_tenant("https://login.example.com/v2.0", ["t"]).audience("a"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("{tenantid}"), "{err}");
    let err = Verifier::new(Provider::multi_tenant(&template, Vec::<String>::new()).audience("a"))
        .unwrap_err();
    assert!(err.to_string().contains("tenant"), "{err}");
}

/// The test issuer's JWKS with every key tagged `"issuer": tag`, as Entra's shared key set tags its
/// keys.
async fn jwks_tagged_with(issuer: &TestIssuer, tag: &str) -> String {
    let mut jwks = tests::get_json(&issuer.jwks_url()).await;
    for key in jwks["keys"].as_array_mut().unwrap() {
        key["issuer"] = tag.into();
    }
    jwks.to_string()
}

#[tokio::test]
async fn multi_tenant_keys_sign_only_for_the_issuer_they_name() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let template = format!("{}/{{tenantid}}/v2.0", issuer.issuer());
    let verifier = || {
        let provider = Provider::multi_tenant(&template, ["tenant-a", "tenant-b"])
            .audience(issuer.audience())
            .jwks_url(issuer.jwks_url())
            .key_settings(TestIssuer::fast_key_settings());
        Verifier::new(provider).unwrap().verified_cache(0)
    };
    let token = |tenant: &str| {
        issuer
            .token()
            .issuer(format!("{}/{tenant}/v2.0", issuer.issuer()))
            .sign()
    };

    // Tagged with the template: any listed tenant.
    issuer.set_jwks_body(Some(jwks_tagged_with(&issuer, &template).await));
    let shared = verifier();
    verify(&shared, &token("tenant-a")).await.unwrap();
    verify(&shared, &token("tenant-b")).await.unwrap();

    // Tagged with one tenant (a tenant-specific key): that tenant only, though both are configured.
    issuer.set_jwks_body(Some(
        jwks_tagged_with(&issuer, &format!("{}/tenant-a/v2.0", issuer.issuer())).await,
    ));
    let tenant_key = verifier();
    verify(&tenant_key, &token("tenant-a")).await.unwrap();
    assert_eq!(
        verify(&tenant_key, &token("tenant-b")).await.unwrap_err(),
        AuthError::KeyIssuerMismatch
    );

    // Tagged with another cloud's template.
    issuer.set_jwks_body(Some(
        jwks_tagged_with(&issuer, "https://login.microsoftonline.us/{tenantid}/v2.0").await,
    ));
    let other_cloud = verifier();
    let err = verify(&other_cloud, &token("tenant-a")).await.unwrap_err();
    assert_eq!(
        (err.code(), err.description()),
        (ErrorCode::InvalidToken, "signing key not recognised")
    );

    // A single-issuer provider trusts its whole key set and ignores the tag.
    let single = Verifier::new(issuer.provider().jwks_url(issuer.jwks_url())).unwrap();
    verify(&single, &issuer.token().sign()).await.unwrap();
}
