//! Revoking JWTs before they expire: one token by `jti`, every token of a subject (sign out
//! everywhere), in memory and shared across instances through a real `redis-server` on loopback.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, get, post, test, web};
use auth_actix::core::RevocationSettings;
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{AuthError, Identity, JwtAuth, Revocations, Verified, Verifier};
use tests::audit_log::AuditLog;
use tests::redis_server::{RedisServer, available};
use tests::tcp_proxy::FreezableProxy;
use tests::{init_tracing, send, unix_now, wait_until};

/// How long past its `until` a revocation is kept.
const MAX_LEEWAY_SECS: i64 = auth_actix::core::limits::MAX_LEEWAY.as_secs() as i64;

#[get("/me")]
async fn me(caller: Verified<Identity>) -> HttpResponse {
    HttpResponse::Ok().body(caller.subject.clone())
}

/// Signs this token out (its `jti`, until its `exp`).
#[post("/sign-out")]
async fn sign_out(caller: Verified<Identity>, revocations: web::Data<Revocations>) -> HttpResponse {
    match revocations.revoke(caller.token()).await {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(error) => HttpResponse::ServiceUnavailable().body(error.to_string()),
    }
}

/// Signs every token of the caller out.
#[post("/sign-out-everywhere")]
async fn sign_out_everywhere(
    caller: Verified<Identity>,
    revocations: web::Data<Revocations>,
) -> HttpResponse {
    match revocations
        .revoke_subject(&caller.issuer, &caller.subject, unix_now() + 1)
        .await
    {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(error) => HttpResponse::ServiceUnavailable().body(error.to_string()),
    }
}

#[actix_web::test]
async fn a_signed_out_token_is_refused_even_from_the_verified_cache() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let revocations = Revocations::in_memory();
    let auth = JwtAuth::new(issuer.provider())
        .unwrap()
        .revocations(revocations.clone());
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(revocations))
            .wrap(auth)
            .service(me)
            .service(sign_out),
    )
    .await;
    let token = issuer.token().subject("ada").sign();
    let other = issuer.token().subject("ada").sign();
    let me_with = |token: &str| test::TestRequest::get().uri("/me").bearer(token);
    // Verified once, so the next request is a cache hit.
    assert_eq!(send(&app, me_with(&token)).await.status, StatusCode::OK);
    let out = send(
        &app,
        test::TestRequest::post().uri("/sign-out").bearer(&token),
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);

    let refused = send(&app, me_with(&token)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.code(), "INVALID_TOKEN");
    assert!(
        refused
            .header("www-authenticate")
            .unwrap()
            .contains("token revoked")
    );
    // Only that token: the same user's other session goes on.
    assert_eq!(send(&app, me_with(&other)).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn signing_out_everywhere_refuses_every_earlier_token_of_the_subject_only() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let revocations = Revocations::in_memory();
    // A second of leeway: a token issued within it after the sign-out is refused too (an issuer
    // whose clock runs ahead may have minted it before), so signing in again waits it out.
    let auth = JwtAuth::new(issuer.provider().leeway(Duration::from_secs(1)))
        .unwrap()
        .revocations(revocations.clone());
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(revocations))
            .wrap(auth)
            .service(me)
            .service(sign_out_everywhere),
    )
    .await;
    let laptop = issuer.token().subject("ada").sign();
    let phone = issuer.token().subject("ada").sign();
    let bob = issuer.token().subject("bob").sign();
    let me_with = |token: &str| test::TestRequest::get().uri("/me").bearer(token);
    let out = send(
        &app,
        test::TestRequest::post()
            .uri("/sign-out-everywhere")
            .bearer(&laptop),
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        send(&app, me_with(&laptop)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, me_with(&phone)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(send(&app, me_with(&bob)).await.status, StatusCode::OK);

    // Signing in again afterwards works: the new token was issued more than the leeway after the
    // revocation (named now + 1 s).
    let signed_out = unix_now();
    assert!(wait_until(Duration::from_secs(10), || unix_now() >= signed_out + 3).await);
    let again = issuer.token().subject("ada").sign();
    assert_eq!(send(&app, me_with(&again)).await.status, StatusCode::OK);
    // A token without `iat` cannot show it is newer.
    let undated = issuer.token().subject("ada").without_claim("iat").sign();
    assert_eq!(
        send(&app, me_with(&undated)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn revocations_are_per_issuer_and_a_token_without_jti_cannot_be_named() {
    let issuer = TestIssuer::start().await;
    let other = TestIssuer::start().await;
    let revocations = Revocations::in_memory();
    let verifier = Verifier::any_of([issuer.provider(), other.provider()])
        .unwrap()
        .revocations(revocations.clone());
    let token = issuer.token().claim("jti", "same").sign();
    let from_other = other.token().claim("jti", "same").sign();
    revocations
        .revoke(&verifier.verify_token(&token).await.unwrap())
        .await
        .unwrap();
    assert_eq!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::Revoked
    );
    verifier.verify_token(&from_other).await.unwrap();

    let nameless = issuer.token().without_claim("jti").sign();
    let verified = verifier.verify_token(&nameless).await.unwrap();
    let error = revocations.revoke(&verified).await.unwrap_err();
    assert!(error.to_string().contains("jti"), "{error}");
}

#[tokio::test]
async fn a_revocation_that_has_run_its_course_is_forgotten() {
    let issuer = TestIssuer::start().await;
    let revocations = Revocations::in_memory();
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(revocations.clone());
    let token = issuer.token().sign();
    // Revoked until a time past by more than any leeway a verifier gives: nothing to remember.
    let verified = verifier.verify_token(&token).await.unwrap();
    let jti = verified.payload()["jti"].as_str().unwrap().to_owned();
    revocations
        .revoke_token(issuer.issuer(), &jti, unix_now() - MAX_LEEWAY_SECS - 1)
        .await
        .unwrap();
    verifier.verify_token(&token).await.unwrap();
    // Within it, the revocation is kept: a token is accepted until `exp` plus the leeway.
    revocations
        .revoke_token(issuer.issuer(), &jti, unix_now() - MAX_LEEWAY_SECS + 60)
        .await
        .unwrap();
    assert_eq!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::Revoked
    );
}

#[tokio::test]
async fn introspected_tokens_are_checked_against_revocations_too() {
    let issuer = TestIssuer::start().await;
    let revocations = Revocations::in_memory();
    let verifier = Verifier::new(issuer.provider().introspection(issuer.introspection()))
        .unwrap()
        .revocations(revocations.clone());
    let token = issuer.token().subject("ada").opaque();
    verifier.verify_token(&token).await.unwrap();
    revocations
        .revoke_subject(issuer.issuer(), "ada", unix_now() + 1)
        .await
        .unwrap();
    assert_eq!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::Revoked
    );
}

#[tokio::test]
async fn a_full_set_refuses_a_new_revocation_loudly_and_keeps_every_one_it_holds() {
    let issuer = TestIssuer::start().await;
    let (log, _guard) = AuditLog::install();
    let revocations =
        Revocations::in_memory_with(RevocationSettings::default().capacity(2)).unwrap();
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(revocations.clone());
    let tokens: Vec<String> = (0..3).map(|_| issuer.token().sign()).collect();
    for token in &tokens[..2] {
        revocations
            .revoke(&verifier.verify_token(token).await.unwrap())
            .await
            .unwrap();
    }
    let refused = revocations
        .revoke(&verifier.verify_token(&tokens[2]).await.unwrap())
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("full"), "{refused}");
    assert!(
        refused.to_string().contains("RevocationSettings::capacity"),
        "{refused}"
    );
    let logged = log.events().into_iter().any(|event| {
        event
            .get("message")
            .is_some_and(|message| message.contains("revocation refused"))
    });
    assert!(logged, "an error names the full set: {:?}", log.events());
    // Nothing was evicted to make room.
    for token in &tokens[..2] {
        assert_eq!(
            verifier.verify_token(token).await.unwrap_err(),
            AuthError::Revoked
        );
    }
    verifier.verify_token(&tokens[2]).await.unwrap();

    let error = Revocations::in_memory_with(RevocationSettings::default().capacity(0)).unwrap_err();
    assert_eq!(error.setting, "RevocationSettings::capacity");
}

// -------------------------------------------------------------------------------- Redis ---

const STARTUP: Duration = Duration::from_secs(5);

/// Polls until `verifier` gives `expected` for `token` (a revocation travels by pub/sub).
async fn settles(verifier: &Verifier, token: &str, expected: Result<(), AuthError>) -> bool {
    tests::poll(
        Duration::from_secs(5),
        || async { verifier.verify_token(token).await.map(|_| ()) },
        |outcome| *outcome == expected,
    )
    .await
        == expected
}

#[tokio::test]
async fn a_revocation_on_one_instance_is_refused_by_every_instance() {
    if !available("a_revocation_on_one_instance_is_refused_by_every_instance") {
        return;
    }
    init_tracing();
    let redis = RedisServer::start().await;
    let issuer = TestIssuer::start().await;
    let instance = || async {
        let revocations = Revocations::redis(&redis.url(), STARTUP).await.unwrap();
        assert!(revocations.is_ready());
        let verifier = Verifier::new(issuer.provider())
            .unwrap()
            .revocations(revocations.clone());
        (revocations, verifier)
    };
    let (a, verifier_a) = instance().await;
    let (_b, verifier_b) = instance().await;
    let token = issuer.token().subject("ada").sign();
    let other = issuer.token().subject("bob").sign();
    verifier_b.verify_token(&token).await.unwrap();

    a.revoke(&verifier_a.verify_token(&token).await.unwrap())
        .await
        .unwrap();
    assert_eq!(
        verifier_a.verify_token(&token).await.unwrap_err(),
        AuthError::Revoked
    );
    assert!(settles(&verifier_b, &token, Err(AuthError::Revoked)).await);
    verifier_b.verify_token(&other).await.unwrap();

    // An instance started later loads what was revoked before it.
    let (_c, verifier_c) = instance().await;
    assert_eq!(
        verifier_c.verify_token(&token).await.unwrap_err(),
        AuthError::Revoked
    );
    verifier_c.verify_token(&other).await.unwrap();

    // Sign out everywhere, from another instance.
    a.revoke_subject(issuer.issuer(), "bob", unix_now() + 1)
        .await
        .unwrap();
    assert!(settles(&verifier_c, &other, Err(AuthError::Revoked)).await);
}

#[actix_web::test]
async fn until_the_shared_list_is_loaded_tokens_are_503_and_then_pass() {
    if !available("until_the_shared_list_is_loaded_tokens_are_503_and_then_pass") {
        return;
    }
    init_tracing();
    let mut redis = RedisServer::start().await;
    redis.stop().await;
    let issuer = TestIssuer::start().await;
    let revocations = Revocations::redis(&redis.url(), Duration::from_millis(300))
        .await
        .unwrap();
    assert!(!revocations.is_ready());
    let auth = JwtAuth::new(issuer.provider())
        .unwrap()
        .revocations(revocations.clone());
    let app = test::init_service(App::new().wrap(auth).service(me)).await;
    let token = issuer.token().sign();
    let refused = send(&app, test::TestRequest::get().uri("/me").bearer(&token)).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.code(), "AUTH_UNAVAILABLE");
    assert_eq!(refused.header("retry-after"), Some("1"));

    redis.resume().await;
    let ready = tests::wait_until(Duration::from_secs(15), || revocations.is_ready()).await;
    assert!(ready, "the mirror loads once Redis is reachable");
    let passed = send(&app, test::TestRequest::get().uri("/me").bearer(&token)).await;
    assert_eq!(passed.status, StatusCode::OK);
}

#[tokio::test]
async fn when_redis_goes_away_the_mirror_keeps_refusing_and_new_revocations_fail_loudly() {
    if !available("when_redis_goes_away_the_mirror_keeps_refusing_and_new_revocations_fail_loudly")
    {
        return;
    }
    init_tracing();
    let mut redis = RedisServer::start().await;
    let issuer = TestIssuer::start().await;
    let revocations = Revocations::redis(&redis.url(), STARTUP).await.unwrap();
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(revocations.clone());
    let revoked = issuer.token().sign();
    let kept = issuer.token().sign();
    revocations
        .revoke(&verifier.verify_token(&revoked).await.unwrap())
        .await
        .unwrap();

    redis.stop().await;
    assert_eq!(
        verifier.verify_token(&revoked).await.unwrap_err(),
        AuthError::Revoked
    );
    verifier.verify_token(&kept).await.unwrap();
    let failed = revocations
        .revoke(&verifier.verify_token(&kept).await.unwrap())
        .await
        .unwrap_err();
    assert!(failed.to_string().contains("Redis"), "{failed}");
    verifier.verify_token(&kept).await.unwrap();

    // Back (empty, as it has no persistence here): revocations work again, across reconnection.
    redis.resume().await;
    let revoked_again = tests::poll(
        Duration::from_secs(10),
        || async {
            let verified = verifier.verify_token(&kept).await.unwrap();
            revocations.revoke(&verified).await
        },
        Result::is_ok,
    )
    .await;
    assert!(revoked_again.is_ok(), "revoking works once Redis is back");
    assert_eq!(
        verifier.verify_token(&kept).await.unwrap_err(),
        AuthError::Revoked
    );
}

#[tokio::test]
async fn a_redis_url_that_is_not_one_fails_at_startup_naming_the_setting() {
    let error = Revocations::redis("http://localhost:6379", STARTUP)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("Revocations::redis"), "{error}");
}

/// A heartbeat fast enough for tests: 200 ms, three of which may be missed.
fn quick_heartbeat() -> RevocationSettings {
    RevocationSettings::default()
        .startup_wait(STARTUP)
        .heartbeat(Duration::from_millis(200), 3)
}

#[tokio::test]
async fn a_half_open_connection_stops_readiness_and_the_mirror_reloads_what_it_missed() {
    if !available("a_half_open_connection_stops_readiness_and_the_mirror_reloads_what_it_missed") {
        return;
    }
    init_tracing();
    let (log, _guard) = AuditLog::install();
    let redis = RedisServer::start().await;
    let proxy = FreezableProxy::start(redis.address()).await;
    let issuer = TestIssuer::start().await;
    let direct = Revocations::redis_with(&redis.url(), quick_heartbeat())
        .await
        .unwrap();
    let behind = Revocations::redis_with(&proxy.redis_url(), quick_heartbeat())
        .await
        .unwrap();
    assert!(behind.is_ready());
    let revoker = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(direct.clone());
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(behind.clone());
    let token = issuer.token().subject("ada").sign();
    let other = issuer.token().subject("bob").sign();
    verifier.verify_token(&token).await.unwrap();

    // The path to Redis goes silent: no error, no data, every socket still open.
    proxy.freeze();
    direct
        .revoke(&revoker.verify_token(&token).await.unwrap())
        .await
        .unwrap();
    let stopped = wait_until(Duration::from_secs(20), || !behind.is_ready()).await;
    assert!(stopped, "a silent mirror stops vouching within the bound");
    assert!(!verifier.readiness().ready);
    assert_eq!(verifier.readiness().revocations_loaded, Some(false));
    assert!(matches!(
        verifier.verify_token(&other).await.unwrap_err(),
        AuthError::StoreUnavailable(reason) if reason.contains("heartbeat")
    ));
    let warned = log.events().into_iter().any(|event| {
        event
            .get("message")
            .is_some_and(|message| message.contains("heartbeat bound"))
    });
    assert!(warned, "the silence is logged: {:?}", log.events());

    proxy.thaw();
    let back = wait_until(Duration::from_secs(30), || behind.is_ready()).await;
    assert!(
        back,
        "the mirror reconnects and reloads once the path works again"
    );
    // What was revoked during the silence came with the reload.
    assert_eq!(
        verifier.verify_token(&token).await.unwrap_err(),
        AuthError::Revoked
    );
    verifier.verify_token(&other).await.unwrap();
    assert!(verifier.readiness().ready);
}

#[tokio::test]
async fn an_announced_revocation_that_does_not_fit_stops_the_instance_until_it_does() {
    if !available("an_announced_revocation_that_does_not_fit_stops_the_instance_until_it_does") {
        return;
    }
    init_tracing();
    let (log, _guard) = AuditLog::install();
    let redis = RedisServer::start().await;
    let issuer = TestIssuer::start().await;
    let roomy = Revocations::redis(&redis.url(), STARTUP).await.unwrap();
    let small = Revocations::redis_with(&redis.url(), quick_heartbeat().capacity(1))
        .await
        .unwrap();
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(small.clone());
    let named = |jti: &str| issuer.token().claim("jti", jti).sign();
    let (first, second, third) = (named("first"), named("second"), named("third"));

    // "first" fits, and is forgotten in a few seconds (its token expired, its leeway ending).
    roomy
        .revoke_token(issuer.issuer(), "first", unix_now() - MAX_LEEWAY_SECS + 8)
        .await
        .unwrap();
    assert!(settles(&verifier, &first, Err(AuthError::Revoked)).await);
    roomy
        .revoke_token(issuer.issuer(), "second", unix_now() + 600)
        .await
        .unwrap();
    let stopped = wait_until(Duration::from_secs(10), || !small.is_ready()).await;
    assert!(
        stopped,
        "a revocation that does not fit is never dropped silently"
    );
    assert!(matches!(
        verifier.verify_token(&third).await.unwrap_err(),
        AuthError::StoreUnavailable(reason) if reason.contains("full")
    ));
    let logged = log.events().into_iter().any(|event| {
        event
            .get("message")
            .is_some_and(|message| message.contains("does not fit"))
    });
    assert!(logged, "an error says so: {:?}", log.events());

    // Once "first" runs its course there is room: the mirror reloads and holds "second".
    let back = wait_until(Duration::from_secs(30), || small.is_ready()).await;
    assert!(back, "the instance serves again once every revocation fits");
    assert_eq!(
        verifier.verify_token(&second).await.unwrap_err(),
        AuthError::Revoked
    );
    verifier.verify_token(&third).await.unwrap();

    // Full again: its own new revocation is refused before it is announced to anyone.
    let refused = small
        .revoke_token(issuer.issuer(), "third", unix_now() + 600)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("full"), "{refused}");
    let elsewhere = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(roomy.clone());
    elsewhere.verify_token(&third).await.unwrap();
    assert!(small.is_ready());
}

/// Redis evicts keys with an expiry when it runs short of memory under any policy but
/// `noeviction`; an evicted revocation is lost for every instance that loads the set afterwards.
/// Such a server, or one that does not say (a managed Redis refusing `CONFIG`), is refused at
/// startup unless the application accepted the risk.
#[tokio::test]
async fn a_redis_that_may_evict_revocations_is_refused_unless_the_risk_is_accepted() {
    if !available("a_redis_that_may_evict_revocations_is_refused_unless_the_risk_is_accepted") {
        return;
    }
    init_tracing();
    let (log, _guard) = AuditLog::install();
    let policy_logs = |log: &AuditLog| {
        log.events()
            .into_iter()
            .filter(|event| event.contains_key("found"))
            .collect::<Vec<_>>()
    };
    let safe = RedisServer::start().await;
    let revocations = Revocations::redis(&safe.url(), STARTUP).await.unwrap();
    assert!(revocations.is_ready());
    assert!(policy_logs(&log).is_empty(), "noeviction is fine");

    let evicting = RedisServer::start_with(&["--maxmemory-policy", "allkeys-lru"]).await;
    let refused = Revocations::redis(&evicting.url(), STARTUP)
        .await
        .unwrap_err();
    assert_eq!(refused.setting, "Revocations::redis");
    assert!(
        refused.problem.contains("maxmemory-policy allkeys-lru")
            && refused.problem.contains("noeviction")
            && refused
                .problem
                .contains("RevocationSettings::redis_eviction_accepted"),
        "{refused}"
    );
    let logged = policy_logs(&log);
    assert!(
        logged.len() == 1 && logged[0]["message"].contains("accept the risk with"),
        "once, saying what to do: {logged:?}"
    );

    // A managed Redis that refuses CONFIG: not trusted blindly either.
    let managed = RedisServer::start_with(&["--rename-command", "CONFIG", ""]).await;
    let refused = Revocations::redis(&managed.url(), STARTUP)
        .await
        .unwrap_err();
    assert!(refused.problem.contains("CONFIG GET refused"), "{refused}");

    // Accepted explicitly: served, with a warning.
    log.clear();
    let accepted = Revocations::redis_with(
        &managed.url(),
        RevocationSettings::default()
            .startup_wait(STARTUP)
            .redis_eviction_accepted(),
    )
    .await
    .unwrap();
    assert!(accepted.is_ready());
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(accepted);
    verifier.warm_up().await.unwrap();
    verifier.verify_token(&issuer.token().sign()).await.unwrap();
    let warned = policy_logs(&log);
    assert!(
        warned.len() == 1 && warned[0]["message"].contains("a risk the application accepted"),
        "{warned:?}"
    );
}

/// A Redis unreachable when the set is built is checked when the mirror reaches it: found
/// evicting, the set refuses every token (503) and is not ready, and `warm_up` fails naming the
/// setting.
#[tokio::test]
async fn a_redis_found_evicting_after_startup_stops_the_set_and_fails_warm_up() {
    if !available("a_redis_found_evicting_after_startup_stops_the_set_and_fails_warm_up") {
        return;
    }
    init_tracing();
    let mut redis = RedisServer::start_with(&["--maxmemory-policy", "volatile-lru"]).await;
    redis.stop().await;
    let revocations = Revocations::redis(&redis.url(), Duration::from_millis(300))
        .await
        .unwrap();
    assert!(!revocations.is_ready());
    redis.resume().await;
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(revocations.clone());
    let token = issuer.token().sign();
    let refused = tests::poll(
        Duration::from_secs(20),
        || async { verifier.verify_token(&token).await.map(|_| ()) },
        |outcome| {
            matches!(outcome, Err(AuthError::StoreUnavailable(reason))
                if reason.contains("RevocationSettings::redis_eviction_accepted"))
        },
    )
    .await;
    assert!(
        matches!(&refused, Err(AuthError::StoreUnavailable(reason)) if reason.contains("evict")),
        "{refused:?}"
    );
    assert!(!revocations.is_ready());
    let error = verifier.warm_up().await.unwrap_err();
    assert_eq!(error.setting, "Revocations::redis");
    assert!(error.problem.contains("volatile-lru"), "{error}");
}

/// Two instances may keep sign-outs for different lifetimes: a later sign-out with a shorter
/// `until`, and an earlier one with a longer, merge in Redis into the later `before` and the later
/// `until`, which the key's expiry follows.
#[tokio::test]
async fn a_revocation_merged_in_redis_keeps_the_later_before_and_the_later_until() {
    if !available("a_revocation_merged_in_redis_keeps_the_later_before_and_the_later_until") {
        return;
    }
    init_tracing();
    let redis = RedisServer::start().await;
    let issuer = TestIssuer::start().await;
    let now = unix_now();
    let day = RevocationSettings::default().startup_wait(STARTUP);
    let month = day
        .clone()
        .max_token_lifetime(Duration::from_secs(30 * 24 * 3600));
    let daily = Revocations::redis_with(&redis.url(), day.clone())
        .await
        .unwrap();
    let monthly = Revocations::redis_with(&redis.url(), month).await.unwrap();
    // The later sign-out, kept a day; then an earlier one, kept a month.
    daily
        .revoke_subject(issuer.issuer(), "ada", now)
        .await
        .unwrap();
    monthly
        .revoke_subject(issuer.issuer(), "ada", now - 3600)
        .await
        .unwrap();
    let loaded = Revocations::redis_with(&redis.url(), day).await.unwrap();
    let verifier = Verifier::new(issuer.provider())
        .unwrap()
        .revocations(loaded);
    // Issued between the two: only the later `before` revokes it.
    let between = issuer.token().subject("ada").claim("iat", now - 60).sign();
    assert_eq!(
        verifier.verify_token(&between).await.unwrap_err(),
        AuthError::Revoked
    );
    let keys = redis.command(&["KEYS", "auth:revoked:subject:*"]).await;
    assert_eq!(keys, "*1", "one key for the subject");
    let ttl = redis_ttl(&redis).await;
    assert!(
        ttl > 29 * 24 * 3600,
        "the key lives as long as the longer until: {ttl} s"
    );
}

/// The remaining lifetime of the one revocation key, in seconds.
async fn redis_ttl(redis: &RedisServer) -> i64 {
    let script = "return redis.call('TTL', redis.call('KEYS', 'auth:revoked:*')[1])";
    let answer = redis.command(&["EVAL", script, "0"]).await;
    answer.trim_start_matches(':').parse().unwrap()
}
