//! Step-up authentication (RFC 9470): `Rule::acr`, `Rule::authenticated_within`, `Authorize::acr`
//! and `#[require_acr]` over the loopback test issuer, for signed and introspected tokens alike,
//! and the challenge a refused client reads on the wire.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, HttpServer, post, test, web};
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{
    Authorize, Identity, JwtAuth, NamedRule, Provider, Require, Rule, Verified, require_acr,
    require_scope,
};
use serde_json::json;
use tests::audit_log::AuditLog;
use tests::{send, unix_now};

/// The leeway the tests' provider gives, so the recency limits below are max_age plus it.
const LEEWAY: u64 = 60;

const INSUFFICIENT: &str = "INSUFFICIENT_USER_AUTHENTICATION";

struct TwoFactor;
impl NamedRule for TwoFactor {
    const RULE: Rule = Rule::acr(&["urn:okta:loa:2fa:any", "urn:okta:loa:2fa:any:ifpossible"]);
}

struct Recent;
impl NamedRule for Recent {
    const RULE: Rule = Rule::authenticated_within(300);
}

async fn two_factor(caller: Require<TwoFactor>) -> HttpResponse {
    let acr = caller.authentication.as_ref().and_then(|a| a.acr.clone());
    HttpResponse::Ok().body(acr.unwrap_or_default())
}

async fn recent(_: Require<Recent>) -> HttpResponse {
    HttpResponse::Ok().body("recent")
}

#[post("/payments")]
#[require_acr("urn:okta:loa:2fa:any", max_age = 300)]
async fn payments() -> HttpResponse {
    HttpResponse::Created().finish()
}

#[post("/either")]
#[require_acr(any("2", "gold"))]
async fn either() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[post("/fresh")]
#[require_acr(max_age = 120)]
async fn fresh() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// A scope and a step-up: two guards, each with its own answer.
#[post("/reports")]
#[require_scope("reports:read")]
#[require_acr("2")]
async fn reports() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn provider(issuer: &TestIssuer) -> Provider {
    issuer.provider().leeway(Duration::from_secs(LEEWAY))
}

fn app_routes(config: &mut web::ServiceConfig) {
    config
        .route("/two-factor", web::get().to(two_factor))
        .route("/recent", web::get().to(recent))
        .service(payments)
        .service(either)
        .service(fresh)
        .service(reports)
        .service(
            web::scope("/scoped-acr")
                .wrap(Authorize::acr(["gold"]).max_age(Duration::from_secs(300)))
                .route("", web::get().to(|| async { HttpResponse::Ok().finish() })),
        )
        .service(
            web::scope("/scoped-recent")
                .wrap(Authorize::authenticated_within(Duration::from_secs(300)))
                .route("", web::get().to(|| async { HttpResponse::Ok().finish() })),
        );
}

#[actix_web::test]
async fn an_acr_rule_admits_a_listed_value_and_refuses_others_with_one_decision() {
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(provider(&issuer)).unwrap();
    let app = test::init_service(App::new().wrap(auth).configure(app_routes)).await;
    let get = |token: &str| test::TestRequest::get().uri("/two-factor").bearer(token);

    let listed = issuer
        .token()
        .claim("acr", "urn:okta:loa:2fa:any:ifpossible")
        .sign();
    let reply = send(&app, get(&listed)).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "urn:okta:loa:2fa:any:ifpossible")
    );

    let (log, _guard) = AuditLog::install();
    let weaker = issuer.token().claim("acr", "urn:okta:loa:1fa:any").sign();
    let reply = send(&app, get(&weaker)).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNAUTHORIZED, INSUFFICIENT.into())
    );
    assert_eq!(
        reply.json()["error"]["message"],
        "A stronger or more recent sign-in is required"
    );
    let bearer = &reply.challenges()[0];
    assert!(
        bearer.starts_with(
            "Bearer realm=\"api\", error=\"insufficient_user_authentication\", \
             error_description=\"a stronger or more recent authentication is required\", \
             acr_values=\"urn:okta:loa:2fa:any urn:okta:loa:2fa:any:ifpossible\""
        ),
        "{bearer}"
    );
    assert!(!bearer.contains("max_age"), "{bearer}");
    let decisions = log.with_outcome("rejected");
    assert_eq!(decisions.len(), 1, "{decisions:?}");
    assert_eq!(decisions[0]["code"], INSUFFICIENT);
    let reason = &decisions[0]["reason"];
    assert!(
        reason.contains(r#"acr "urn:okta:loa:1fa:any" is not one of [urn:okta:loa:2fa:any, "#),
        "{reason}"
    );

    // No acr, or one that is not a string, is refused alike.
    for token in [
        issuer.token().sign(),
        issuer.token().claim("acr", 2).sign(),
        issuer
            .token()
            .claim("acr", json!(["urn:okta:loa:2fa:any"]))
            .sign(),
    ] {
        let reply = send(&app, get(&token)).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::UNAUTHORIZED, INSUFFICIENT.into())
        );
    }
    // Without a token: the plain 401, no step-up parameters.
    let reply = send(&app, test::TestRequest::get().uri("/two-factor")).await;
    assert_eq!(reply.code(), "UNAUTHORIZED");
    assert!(!reply.challenges()[0].contains("acr_values"));
}

#[actix_web::test]
async fn recency_counts_auth_time_with_the_providers_leeway_both_ways() {
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(provider(&issuer)).unwrap();
    let app = test::init_service(App::new().wrap(auth).configure(app_routes)).await;
    let status = |token: String| {
        let app = &app;
        async move {
            let req = test::TestRequest::get().uri("/recent").bearer(&token);
            let reply = send(app, req).await;
            (reply.status, reply.challenges().join(" | "))
        }
    };
    let at = |auth_time: serde_json::Value| issuer.token().claim("auth_time", auth_time).sign();
    let now = unix_now();
    // max_age 300 and leeway 60: up to 360 s ago is recent enough.
    assert_eq!(status(at(json!(now - 100))).await.0, StatusCode::OK);
    assert_eq!(
        status(at(json!(now - 330))).await.0,
        StatusCode::OK,
        "within the leeway"
    );
    assert_eq!(
        status(at(json!(now + 30))).await.0,
        StatusCode::OK,
        "a clock ahead, within it"
    );
    for (token, case) in [
        (at(json!(now - 420)), "too old"),
        (at(json!(now + 200)), "in the future beyond the leeway"),
        (issuer.token().sign(), "no auth_time"),
        (at(json!(format!("{now}"))), "auth_time as a string"),
    ] {
        let (status, challenge) = status(token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}");
        assert!(
            challenge.contains(
                "error=\"insufficient_user_authentication\", error_description=\"a stronger or \
                 more recent authentication is required\", max_age=\"300\""
            ),
            "{case}: {challenge}"
        );
        assert!(!challenge.contains("acr_values"), "{case}: {challenge}");
    }
}

#[actix_web::test]
async fn the_attribute_and_authorize_check_acr_and_max_age_together() {
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(provider(&issuer)).unwrap();
    let app = test::init_service(App::new().wrap(auth).configure(app_routes)).await;
    let now = unix_now();
    let token = |acr: &str, ago: i64| {
        issuer
            .token()
            .scopes(["reports:read"])
            .claim("acr", acr)
            .claim("auth_time", now - ago)
            .sign()
    };
    let post = |uri: &str, token: &str| test::TestRequest::post().uri(uri).bearer(token);
    let get = |uri: &str, token: &str| test::TestRequest::get().uri(uri).bearer(token);

    let strong_now = token("urn:okta:loa:2fa:any", 10);
    assert_eq!(
        send(&app, post("/payments", &strong_now)).await.status,
        StatusCode::CREATED
    );
    for refused in [
        token("urn:okta:loa:2fa:any", 1000),
        token("urn:okta:loa:1fa:any", 10),
    ] {
        let reply = send(&app, post("/payments", &refused)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        let bearer = &reply.challenges()[0];
        assert!(
            bearer.ends_with("acr_values=\"urn:okta:loa:2fa:any\", max_age=\"300\""),
            "{bearer}"
        );
    }

    assert_eq!(
        send(&app, post("/either", &token("gold", 10))).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, post("/either", &token("2", 10))).await.status,
        StatusCode::OK
    );
    let reply = send(&app, post("/either", &token("1", 10))).await;
    assert!(
        reply.challenges()[0].ends_with("acr_values=\"2 gold\""),
        "{reply:?}"
    );

    assert_eq!(
        send(&app, post("/fresh", &token("1", 100))).await.status,
        StatusCode::OK
    );
    let reply = send(&app, post("/fresh", &token("1", 1000))).await;
    assert!(
        reply.challenges()[0].ends_with("max_age=\"120\""),
        "{reply:?}"
    );

    // Stacked with a scope guard: each refuses with its own answer.
    assert_eq!(
        send(&app, post("/reports", &token("2", 10))).await.status,
        StatusCode::OK
    );
    let weak = send(&app, post("/reports", &token("1", 10))).await;
    assert_eq!(weak.code(), INSUFFICIENT);
    let unscoped = issuer.token().claim("acr", "2").sign();
    assert_eq!(
        send(&app, post("/reports", &unscoped)).await.code(),
        "FORBIDDEN"
    );

    assert_eq!(
        send(&app, get("/scoped-acr", &token("gold", 10)))
            .await
            .status,
        StatusCode::OK
    );
    for refused in [token("gold", 1000), token("2", 10)] {
        let reply = send(&app, get("/scoped-acr", &refused)).await;
        assert_eq!(reply.code(), INSUFFICIENT);
        assert!(reply.challenges()[0].ends_with("acr_values=\"gold\", max_age=\"300\""));
    }
    assert_eq!(
        send(&app, get("/scoped-recent", &token("1", 10)))
            .await
            .status,
        StatusCode::OK
    );
    let reply = send(&app, get("/scoped-recent", &token("1", 1000))).await;
    assert!(
        reply.challenges()[0].ends_with("max_age=\"300\""),
        "{reply:?}"
    );
}

#[actix_web::test]
async fn an_introspected_token_is_stepped_up_as_a_signed_one() {
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(provider(&issuer).introspection(issuer.introspection())).unwrap();
    let app = test::init_service(App::new().wrap(auth).configure(app_routes)).await;
    let now = unix_now();
    let opaque = |acr: &str| {
        issuer
            .token()
            .claim("acr", acr)
            .claim("amr", json!(["pwd", "otp"]))
            .claim("auth_time", now - 10)
            .opaque()
    };
    let post = |token: &str| test::TestRequest::post().uri("/payments").bearer(token);
    assert_eq!(
        send(&app, post(&opaque("urn:okta:loa:2fa:any")))
            .await
            .status,
        StatusCode::CREATED
    );
    let reply = send(&app, post(&opaque("urn:okta:loa:1fa:any"))).await;
    assert_eq!(reply.code(), INSUFFICIENT);
    assert_eq!(issuer.introspections(), 2);

    let verifier =
        auth_actix::Verifier::new(provider(&issuer).introspection(issuer.introspection())).unwrap();
    let token = verifier.verify_token(&opaque("2")).await.unwrap();
    assert!(token.is_introspected());
    let authentication = token.identity().authentication.clone().unwrap();
    assert_eq!(authentication.acr.as_deref(), Some("2"));
    assert!(authentication.amr.contains("otp"));
    assert_eq!(authentication.time, Some(now - 10));
}

/// The challenge as a client reads it from a real server: `Bearer` first with the error and the
/// step-up parameters, the `DPoP` challenge beside it without them (the token came as a bearer
/// token).
#[actix_web::test]
async fn the_challenge_on_the_wire_is_exact() {
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(provider(&issuer)).unwrap();
    let server = HttpServer::new(move || {
        App::new().wrap(auth.clone()).service(payments).route(
            "/me",
            web::get().to(|identity: Verified<Identity>| async move {
                HttpResponse::Ok().json(&*identity)
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let base = format!("http://{}", server.addrs()[0]);
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let token = issuer
        .token()
        .claim("acr", "urn:okta:loa:1fa:any")
        .claim("auth_time", unix_now() - 1000)
        .sign();
    let response = tests::client()
        .post(format!("{base}/payments"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let values: Vec<&str> = response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|value| value.to_str().unwrap())
        .collect();
    assert_eq!(
        values[0],
        "Bearer realm=\"api\", error=\"insufficient_user_authentication\", \
         error_description=\"a stronger or more recent authentication is required\", \
         acr_values=\"urn:okta:loa:2fa:any\", max_age=\"300\""
    );
    assert!(values.get(1).is_none_or(|dpop| {
        dpop.starts_with("DPoP realm=\"api\", algs=") && !dpop.contains("error")
    }));
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], INSUFFICIENT);

    // The identity serialises the authentication when the token carries one, and not otherwise.
    let me = |token: String| {
        let base = base.clone();
        async move {
            let response = tests::client()
                .get(format!("{base}/me"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            serde_json::from_str::<serde_json::Value>(&response.text().await.unwrap()).unwrap()
        }
    };
    let plain = me(issuer.token().sign()).await;
    assert!(plain.get("authentication").is_none(), "{plain}");
    let stepped = me(issuer
        .token()
        .claim("acr", "2")
        .claim("amr", ["otp"])
        .sign())
    .await;
    assert_eq!(
        stepped["authentication"],
        json!({"acr": "2", "amr": ["otp"]})
    );
    handle.stop(true).await;
}

#[core::prelude::v1::test]
fn authorize_refuses_acr_values_the_challenge_cannot_carry() {
    for bad in ["two words", "quo\"te", "", "back\\slash", "é"] {
        let built = std::panic::catch_unwind(|| Authorize::acr([bad]));
        assert!(built.is_err(), "{bad:?}");
    }
    let empty: [&str; 0] = [];
    assert!(std::panic::catch_unwind(|| Authorize::acr(empty)).is_err());
    let on_roles = std::panic::catch_unwind(|| {
        Authorize::any_role(["admin"]).max_age(Duration::from_secs(60))
    });
    assert!(on_roles.is_err());
}
