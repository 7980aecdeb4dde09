//! Introspection an operator can run: client credentials the issuer refuses stop `warm_up` with a
//! `ConfigError` naming them, and at request time are their own refusal, metric result and
//! readiness state, apart from an outage; opaque tokens' decisions carry the configured issuer.
//! One process-wide metrics recorder serves this file (a recorder is global), so the metrics
//! checks live in one test and look only at series labelled with their own issuer.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, get, test};
use auth_actix::core::health::IntrospectionStatus;
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{AuthError, Introspection, JwtAuth, PrefetchError, Provider, Verifier};
use base64::Engine;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use serde_json::json;
use tests::audit_log::AuditLog;
use tests::{init_tracing, send};

#[get("/me")]
async fn me() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn wrong_secret(issuer: &TestIssuer) -> Provider {
    issuer
        .provider()
        .introspection(Introspection::client_secret_basic(
            "test-introspector",
            "wrong-secret",
        ))
}

/// The recorder, installed once for the whole binary, before any verifier of a metrics test.
fn recorder() -> &'static Snapshotter {
    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder
            .install()
            .expect("the only recorder of this binary");
        snapshotter
    })
}

/// Counter values by `name{sorted labels}`.
fn counters(snapshotter: &Snapshotter) -> HashMap<String, u64> {
    let mut series = HashMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let DebugValue::Counter(count) = value else {
            continue;
        };
        let mut labels: Vec<String> = key
            .key()
            .labels()
            .map(|label| format!("{}={}", label.key(), label.value()))
            .collect();
        labels.sort();
        let name = format!("{}{{{}}}", key.key().name(), labels.join(","));
        *series.entry(name).or_default() += count;
    }
    series
}

fn count(series: &HashMap<String, u64>, name: &str, labels: &[&str]) -> u64 {
    let mut labels = labels.to_vec();
    labels.sort_unstable();
    series
        .get(&format!("{name}{{{}}}", labels.join(",")))
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn warm_up_stops_on_client_credentials_the_issuer_refuses_naming_them() {
    init_tracing();
    let issuer = TestIssuer::start().await;

    // A wrong secret: HTTP 401 invalid_client.
    let verifier = Verifier::new(wrong_secret(&issuer)).unwrap();
    let error = verifier.warm_up().await.unwrap_err();
    assert_eq!(
        error.setting,
        "Introspection::client_secret_basic(\"test-introspector\", ..)"
    );
    assert!(
        error
            .problem
            .contains("refuses this API's client credentials")
            && error.problem.contains("HTTP 401 invalid_client")
            && error.problem.contains("secret is the one the issuer holds"),
        "{error}"
    );
    assert!(
        !error.to_string().contains("wrong-secret"),
        "never the secret"
    );
    assert!(matches!(
        verifier.prefetch().await,
        Err(PrefetchError::Misconfigured(_))
    ));

    // Zitadel's answer to a deleted key: HTTP 400 unauthorized_client, naming the key file.
    let key_file = std::env::temp_dir().join(format!(
        "introspection-operations-key-{}.json",
        std::process::id()
    ));
    std::fs::write(&key_file, zitadel_key_file().to_string()).unwrap();
    issuer.refuse_introspection_clients(true);
    let path = key_file.to_str().unwrap();
    let keyed = issuer.provider().zitadel_key_file(path);
    let error = Verifier::new(keyed).unwrap().warm_up().await.unwrap_err();
    let _ = std::fs::remove_file(&key_file);
    assert_eq!(
        error.setting,
        format!("Provider::zitadel_key_file({path:?})")
    );
    assert!(
        error.problem.contains("HTTP 400 unauthorized_client")
            && error.problem.contains("Keys in the Zitadel console")
            && error.problem.contains("api-client@orders"),
        "{error}"
    );

    // The right credentials: the probe passes, and readiness says how the endpoint answered.
    issuer.refuse_introspection_clients(false);
    let before = issuer.introspections();
    let verifier = Verifier::new(issuer.provider().introspection(issuer.introspection())).unwrap();
    let unchecked = verifier.readiness().issuers[0]
        .introspection
        .clone()
        .unwrap();
    assert_eq!(unchecked.status, IntrospectionStatus::Unchecked);
    verifier.warm_up().await.unwrap();
    assert_eq!(issuer.introspections(), before + 1, "one probe");
    let readiness = verifier.readiness();
    assert!(readiness.ready, "{readiness:?}");
    let endpoint = readiness.issuers[0].introspection.clone().unwrap();
    assert_eq!(endpoint.status, IntrospectionStatus::Ok);
    assert_eq!(
        endpoint.endpoint.as_deref(),
        Some(format!("{}/introspect", issuer.issuer()).as_str())
    );
}

#[tokio::test]
async fn an_unreachable_introspection_endpoint_is_an_outage_not_a_misconfiguration() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let closed = "http://127.0.0.1:9/introspect";
    let provider = issuer
        .provider()
        .introspection(issuer.introspection().endpoint(closed));
    let verifier = Verifier::new(provider).unwrap();
    verifier
        .warm_up()
        .await
        .expect("an unreachable endpoint is a warning");
    let Err(PrefetchError::Unreachable {
        issuer: name,
        reason,
    }) = verifier.prefetch().await
    else {
        panic!("an outage, not a misconfiguration");
    };
    assert_eq!(name, issuer.issuer());
    assert!(reason.contains(closed), "{reason}");
    // Keys are there and the outage is every instance's: still ready, the cause reported.
    let readiness = verifier.readiness();
    assert!(readiness.ready, "{readiness:?}");
    let endpoint = readiness.issuers[0].introspection.clone().unwrap();
    assert_eq!(endpoint.status, IntrospectionStatus::Unreachable);
    assert!(endpoint.last_error.unwrap().contains(closed));
    // At request time, the outage keeps its own reason.
    let refused = verifier
        .verify_token(&issuer.token().opaque())
        .await
        .unwrap_err();
    assert_eq!(refused.reason(), "introspection_unavailable");
}

#[actix_web::test]
async fn refused_credentials_at_request_time_are_their_own_reason_metric_and_readiness_state() {
    init_tracing();
    let snapshotter = recorder();
    let (log, _guard) = AuditLog::install();
    let issuer = TestIssuer::start().await;
    let label = format!("issuer={}", issuer.issuer());
    let auth = JwtAuth::new(issuer.provider().introspection(issuer.introspection())).unwrap();
    auth.warm_up().await.unwrap();
    let app = test::init_service(App::new().wrap(auth.clone()).service(me)).await;
    let get = |token: &str| test::TestRequest::get().uri("/me").bearer(token);

    let accepted = issuer.token().subject("ada").opaque();
    assert_eq!(send(&app, get(&accepted)).await.status, StatusCode::OK);
    // An opaque token's refusal names the configured issuer: no `iss` says it.
    log.clear();
    let unknown = send(&app, get("ot_never_issued")).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let events = log.with_outcome("rejected");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["issuer"], issuer.issuer(), "{events:?}");

    // The key is deleted (the secret rotated) at the issuer while the API runs.
    issuer.refuse_introspection_clients(true);
    log.clear();
    let refused = send(&app, get(&issuer.token().subject("bob").opaque())).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.code(), "AUTH_UNAVAILABLE");
    assert!(refused.header("retry-after").is_some());
    let decisions = log.with_outcome("unavailable");
    assert_eq!(decisions.len(), 1, "{:?}", log.events());
    let decision = &decisions[0];
    assert_eq!(decision["issuer"], issuer.issuer());
    assert!(
        decision["reason"].contains("Introspection::client_secret_basic(\"test-introspector\"")
            && decision["reason"].contains("unauthorized_client"),
        "{decision:?}"
    );
    // One error line for the operator, when the endpoint starts refusing, not one per request.
    send(&app, get(&issuer.token().subject("carol").opaque())).await;
    let errors: Vec<_> = log
        .events()
        .into_iter()
        .filter(|event| {
            event
                .get("message")
                .is_some_and(|message| message.contains("refuses this API's client credentials"))
        })
        .collect();
    assert_eq!(errors.len(), 1, "{:?}", log.events());
    assert_eq!(
        errors[0]["setting"],
        "Introspection::client_secret_basic(\"test-introspector\", ..)"
    );

    let down = auth.readiness();
    assert!(!down.ready, "{down:?}");
    let endpoint = down.issuers[0].introspection.clone().unwrap();
    assert_eq!(endpoint.status, IntrospectionStatus::Unauthorized);
    let json = serde_json::to_value(&down).unwrap();
    assert_eq!(
        json["issuers"][0]["introspection"]["status"],
        "unauthorized"
    );

    let series = counters(snapshotter);
    let introspections = "auth_introspections_total";
    assert_eq!(
        count(&series, introspections, &[&label, "result=unauthorized"]),
        2,
        "{series:#?}"
    );
    assert_eq!(
        count(&series, introspections, &[&label, "result=error"]),
        0,
        "not an outage: {series:#?}"
    );
    assert_eq!(
        count(&series, introspections, &[&label, "result=active"]),
        1
    );
    let decisions = "auth_decisions_total";
    let unauthorized = [
        "code=AUTH_UNAVAILABLE",
        "outcome=unavailable",
        "reason=introspection_unauthorized",
        &label,
    ];
    assert_eq!(count(&series, decisions, &unauthorized), 2, "{series:#?}");
    let inactive = [
        "code=INVALID_TOKEN",
        "outcome=rejected",
        "reason=inactive",
        &label,
    ];
    assert_eq!(count(&series, decisions, &inactive), 1, "{series:#?}");
    assert!(
        !series
            .keys()
            .any(|name| name.contains("reason=introspection_") && name.contains("issuer=none")),
        "{series:#?}"
    );

    // Fixed at the issuer: readiness probes again by itself and the instance comes back.
    issuer.refuse_introspection_clients(false);
    let back = tests::poll(
        Duration::from_secs(20),
        || std::future::ready(auth.readiness()),
        |readiness| readiness.ready,
    )
    .await;
    assert!(back.ready, "{back:?}");
    assert_eq!(
        send(&app, get(&issuer.token().opaque())).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn refused_credentials_never_count_as_inactive_or_pass() {
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::new(wrong_secret(&issuer)).unwrap();
    let token = issuer.token().opaque();
    for _ in 0..2 {
        let error = verifier.verify_token(&token).await.unwrap_err();
        assert!(
            matches!(&error, AuthError::IntrospectionUnauthorized { setting, .. }
                if setting.contains("test-introspector")),
            "{error:?}"
        );
        assert_eq!(error.reason(), "introspection_unauthorized");
        assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
    }
    // Not cached as an answer: each request asks again (and would pass once fixed).
    assert_eq!(issuer.introspections(), 2);
}

/// A Zitadel API application's key file for a key the issuer never registered.
fn zitadel_key_file() -> serde_json::Value {
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::RsaKeyPair;

    let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let der: Pkcs8V1Der<'_> = pair.as_der().unwrap();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(der.as_ref())
    );
    json!({
        "type": "application", "keyId": "277781216222222222", "key": pem,
        "appId": "277781216111111111", "clientId": "api-client@orders",
    })
}
