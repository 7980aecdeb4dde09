//! Guards without macros (`Require<R>`, `Authorize` on a scope) and the role resolver.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{App, FromRequest, HttpResponse, test, web};
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{
    Authorize, Claims, Identity, JwtAuth, NamedRule, Optional, Require, ResolveError, RoleRequest,
    Rule, Verified,
};
use serde::Deserialize;
use tests::audit_log::AuditLog;
use tests::{send, status_and_body};

struct Editors;
impl NamedRule for Editors {
    const RULE: Rule = Rule::all_roles(&["editor", "verified"]);
}

struct ReadItems;
impl NamedRule for ReadItems {
    const RULE: Rule = Rule::any_scope(&["read:items", "admin:items"]);
}

async fn edit(caller: Require<Editors>) -> HttpResponse {
    HttpResponse::Ok().body(caller.subject.clone())
}

async fn items(_: Require<ReadItems>) -> HttpResponse {
    HttpResponse::Ok().body("items")
}

async fn agent(identity: Verified<Identity>, path: web::Path<String>) -> HttpResponse {
    let roles: Vec<&str> = identity.roles.iter().map(String::as_str).collect();
    HttpResponse::Ok().body(format!("{} {}", path.into_inner(), roles.join(",")))
}

async fn agent_of_org(
    identity: Verified<Identity>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let roles: Vec<&str> = identity.roles.iter().map(String::as_str).collect();
    HttpResponse::Ok().body(format!("{} {}", path.into_inner().1, roles.join(",")))
}

#[actix_web::test]
async fn require_extractor_checks_roles_and_scopes() {
    let issuer = TestIssuer::start().await;
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(issuer.provider()).unwrap())
            .route("/edit", web::get().to(edit))
            .route("/items", web::get().to(items)),
    )
    .await;
    let both = issuer
        .token()
        .subject("ed")
        .roles(["editor", "verified"])
        .sign();
    assert_eq!(
        status_and_body(&app, test::TestRequest::get().uri("/edit").bearer(&both)).await,
        (StatusCode::OK, "ed".into())
    );
    let one = issuer.token().roles(["editor"]).sign();
    assert_eq!(
        status_and_body(&app, test::TestRequest::get().uri("/edit").bearer(&one))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let scoped = issuer.token().scopes(["openid", "read:items"]).sign();
    assert_eq!(
        status_and_body(&app, test::TestRequest::get().uri("/items").bearer(&scoped))
            .await
            .0,
        StatusCode::OK
    );
    let unscoped = issuer.token().scopes(["openid"]).sign();
    assert_eq!(
        status_and_body(
            &app,
            test::TestRequest::get().uri("/items").bearer(&unscoped)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status_and_body(&app, test::TestRequest::get().uri("/items"))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn authorize_guards_a_whole_scope() {
    let issuer = TestIssuer::start().await;
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(issuer.provider()).unwrap().public(["/*"]))
            .service(
                web::scope("/admin")
                    .wrap(Authorize::any_role(["admin", "owner"]))
                    .route(
                        "/a",
                        web::get().to(|| async { HttpResponse::Ok().body("a") }),
                    )
                    .route(
                        "/b",
                        web::get().to(|| async { HttpResponse::Ok().body("b") }),
                    ),
            ),
    )
    .await;
    let admin = issuer.token().roles(["admin"]).sign();
    for uri in ["/admin/a", "/admin/b"] {
        assert_eq!(
            status_and_body(&app, test::TestRequest::get().uri(uri).bearer(&admin))
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(
            status_and_body(&app, test::TestRequest::get().uri(uri))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        let viewer = issuer.token().roles(["viewer"]).sign();
        assert_eq!(
            status_and_body(&app, test::TestRequest::get().uri(uri).bearer(&viewer))
                .await
                .0,
            StatusCode::FORBIDDEN
        );
    }
}

#[actix_web::test]
async fn resolver_roles_merge_with_claim_roles_and_see_path_parameters() {
    let issuer = TestIssuer::start().await;
    let auth =
        JwtAuth::new(issuer.provider())
            .unwrap()
            .role_resolver(|req: RoleRequest| async move {
                let agent = req.param("id").unwrap_or_default();
                match (agent.as_str(), req.identity().subject.as_str()) {
                    ("down", _) => Err(ResolveError::Unavailable(
                        "agent database unreachable".into(),
                    )),
                    ("broken", _) => Err(ResolveError::Failed("query failed".into())),
                    ("7", "owner-of-7") => Ok(vec!["owner".to_owned()]),
                    _ => Ok(vec![]),
                }
            });
    let app = test::init_service(
        App::new()
            .wrap(auth)
            .route("/agents/{id}", web::get().to(agent))
            .service(
                web::scope("/agents/{id}/admin")
                    .wrap(Authorize::any_role(["owner"]))
                    .route(
                        "",
                        web::get().to(|| async { HttpResponse::Ok().body("owner area") }),
                    ),
            ),
    )
    .await;
    let owner = issuer
        .token()
        .subject("owner-of-7")
        .roles(["viewer"])
        .sign();
    let other = issuer.token().subject("someone").roles(["viewer"]).sign();

    let (code, body) = status_and_body(
        &app,
        test::TestRequest::get().uri("/agents/7").bearer(&owner),
    )
    .await;
    assert_eq!((code, body.as_str()), (StatusCode::OK, "7 owner,viewer"));
    let (code, body) = status_and_body(
        &app,
        test::TestRequest::get().uri("/agents/8").bearer(&owner),
    )
    .await;
    assert_eq!((code, body.as_str()), (StatusCode::OK, "8 viewer"));

    assert_eq!(
        status_and_body(
            &app,
            test::TestRequest::get()
                .uri("/agents/7/admin")
                .bearer(&owner)
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        status_and_body(
            &app,
            test::TestRequest::get()
                .uri("/agents/7/admin")
                .bearer(&other)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );

    let down = send(
        &app,
        test::TestRequest::get().uri("/agents/down").bearer(&owner),
    )
    .await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(down.header("retry-after").is_some());
    let body = down.body;
    assert!(
        body.contains("AUTH_UNAVAILABLE") && !body.contains("unreachable"),
        "{body}"
    );

    let (code, body) = status_and_body(
        &app,
        test::TestRequest::get()
            .uri("/agents/broken")
            .bearer(&owner),
    )
    .await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        body.contains("INTERNAL_ERROR") && !body.contains("query failed"),
        "{body}"
    );
}

#[actix_web::test]
async fn resolver_runs_once_per_request_however_many_extractors_need_it() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Owners;
    impl NamedRule for Owners {
        const RULE: Rule = Rule::any_role(&["owner"]);
    }
    async fn handler(
        identity: Verified<Identity>,
        owner: Require<Owners>,
        again: Verified<Identity>,
    ) -> HttpResponse {
        assert!(identity.has_role("owner") && again.has_role("owner"));
        HttpResponse::Ok().body(owner.subject.clone())
    }

    let issuer = TestIssuer::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let auth = JwtAuth::new(issuer.provider())
        .unwrap()
        .role_resolver(move |_: RoleRequest| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, ResolveError>(vec!["owner".to_owned()]) }
        });
    let app = test::init_service(
        App::new()
            .wrap(auth.clone())
            .route("/x", web::get().to(handler)),
    )
    .await;
    let token = issuer.token().subject("solo").sign();
    assert_eq!(
        status_and_body(&app, test::TestRequest::get().uri("/x").bearer(&token))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1, "middleware");

    calls.store(0, Ordering::SeqCst);
    let app = test::init_service(
        App::new()
            .app_data(auth.clone())
            .route("/x", web::get().to(handler)),
    )
    .await;
    let token = issuer.token().subject("solo").sign();
    assert_eq!(
        status_and_body(&app, test::TestRequest::get().uri("/x").bearer(&token))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1, "app data");
}

#[std::prelude::v1::test]
#[should_panic(expected = "an empty list would admit every caller")]
fn authorize_with_no_names_refuses_to_be_built() {
    let _ = Authorize::all_roles(Vec::<String>::new());
}

#[std::prelude::v1::test]
#[should_panic(expected = "an empty list would admit every caller")]
fn a_rule_with_no_names_refuses_to_be_built() {
    // Out of a constant the check runs at startup; in one it is a compile error (see Rule's doc
    // test).
    let no_names: &'static [&'static str] = Vec::new().leak();
    let _ = Rule::all_scopes(no_names);
}

#[actix_web::test]
async fn resolvers_see_path_parameters_decoded_as_the_handler_does() {
    let issuer = TestIssuer::start().await;
    let auth =
        JwtAuth::new(issuer.provider())
            .unwrap()
            .role_resolver(|req: RoleRequest| async move {
                // The handler's web::Path<String> sees "a/b" for "a%2Fb"; so does the resolver.
                Ok(if req.param("id").as_deref() == Some("a/b") {
                    vec!["owner".to_owned()]
                } else {
                    vec![]
                })
            });
    let app = test::init_service(
        App::new()
            .wrap(auth)
            .route("/agents/{id}", web::get().to(agent)),
    )
    .await;
    let token = issuer.token().sign();
    let (code, body) = status_and_body(
        &app,
        test::TestRequest::get().uri("/agents/a%2Fb").bearer(&token),
    )
    .await;
    assert_eq!((code, body.as_str()), (StatusCode::OK, "a/b owner"));
    let (_, body) = status_and_body(
        &app,
        test::TestRequest::get()
            .uri("/agents/a%252Fb")
            .bearer(&token),
    )
    .await;
    assert_eq!(body, "a%2Fb ", "one decoding, in both places");
}

#[actix_web::test]
async fn a_scope_guard_never_resolves_roles_for_a_parameter_routing_has_not_matched() {
    let (log, _guard) = tests::audit_log::AuditLog::install();
    let issuer = TestIssuer::start().await;
    let auth =
        JwtAuth::new(issuer.provider())
            .unwrap()
            .role_resolver(|req: RoleRequest| async move {
                // With no agent in the path, an app-wide admin list would answer: the trap a scope
                // guard sets.
                Ok(match req.param("id") {
                    Some(id) if id == "7" => vec!["owner".to_owned()],
                    Some(_) => vec![],
                    None => vec!["owner".to_owned()],
                })
            });
    let app = test::init_service(
        App::new().wrap(auth).service(
            web::scope("/agents")
                .wrap(Authorize::any_role(["owner"]))
                .route(
                    "/{id}",
                    web::get().to(|| async { HttpResponse::Ok().body("agent") }),
                ),
        ),
    )
    .await;
    let token = issuer.token().sign();
    let answer = send(
        &app,
        test::TestRequest::get().uri("/agents/8").bearer(&token),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "refused, never resolved for the wrong resource"
    );
    assert_eq!(answer.code(), "INTERNAL_ERROR");
    assert!(
        !answer.body.contains("scope"),
        "the fix is in the log, not the body: {}",
        answer.body
    );
    let errors = log.with_outcome("error");
    assert_eq!(errors.len(), 1, "{:?}", log.events());
    assert!(
        errors[0]["reason"].contains("read path parameter `id` before routing matched it"),
        "{errors:?}"
    );
}

#[actix_web::test]
async fn roles_are_resolved_again_once_routing_has_matched_more_of_the_path() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let issuer = TestIssuer::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let auth = JwtAuth::new(issuer.provider())
        .unwrap()
        .role_resolver(move |req: RoleRequest| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                let mut roles = vec![format!("org-{}", req.param("org").unwrap_or_default())];
                if let Some(agent) = req.match_info().get("agent") {
                    roles.push(format!("agent-{agent}"));
                }
                Ok(roles)
            }
        });
    let app = test::init_service(
        App::new().wrap(auth).service(
            web::scope("/orgs/{org}")
                .wrap(Authorize::any_role(["org-acme"]))
                .route("/agents/{agent}", web::get().to(agent_of_org)),
        ),
    )
    .await;
    let token = issuer.token().roles(["viewer"]).sign();
    let (code, body) = status_and_body(
        &app,
        test::TestRequest::get()
            .uri("/orgs/acme/agents/7")
            .bearer(&token),
    )
    .await;
    // The handler's roles were resolved with the route's own parameter, not the scope's partial
    // view.
    assert_eq!(
        (code, body.as_str()),
        (StatusCode::OK, "7 agent-7,org-acme,viewer")
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "once for the scope, once for the matched route"
    );
    let (code, _) = status_and_body(
        &app,
        test::TestRequest::get()
            .uri("/orgs/other/agents/7")
            .bearer(&token),
    )
    .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
}

struct InvoiceAdmins;
impl NamedRule for InvoiceAdmins {
    const RULE: Rule = Rule::any_org_role(&["org:admin"]).in_path_param("org");
}

fn clerk_admin_of(issuer: &TestIssuer, org: &str) -> (auth_actix::Provider, String) {
    let clerk = issuer.adopt(auth_actix::Provider::clerk(
        "https://clerk.example.com",
        ["https://app.example.com"],
    ));
    let token = issuer
        .token_for(&clerk)
        .organization(org, ["org:admin"])
        .sign();
    (clerk, token)
}

#[actix_web::test]
async fn an_organisation_guard_on_a_parameter_routing_has_not_matched_answers_500() {
    let (log, _guard) = tests::audit_log::AuditLog::install();
    let issuer = TestIssuer::start().await;
    let (clerk, admin) = clerk_admin_of(&issuer, "org_a");
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(clerk).unwrap())
            .service(
                // The scope's own path lacks {org}: the middleware runs before its routes match.
                web::scope("/orgs")
                    .wrap(Authorize::any_org_role(["org:admin"]).in_path_param("org"))
                    .route(
                        "/{org}/invoices",
                        web::get().to(|| async { HttpResponse::Ok().body("invoices") }),
                    ),
            )
            .route(
                "/invoices",
                web::get().to(|_: Require<InvoiceAdmins>| async { HttpResponse::Ok().finish() }),
            ),
    )
    .await;
    let get = |uri: &str| test::TestRequest::get().uri(uri).bearer(&admin);
    let answer = send(&app, get("/orgs/org_a/invoices")).await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
        "never guessed, even for the caller's own organisation"
    );
    assert!(!answer.body.contains("scope"), "{}", answer.body);
    let errors = log.with_outcome("error");
    assert_eq!(errors.len(), 1, "{:?}", log.events());
    assert!(
        errors[0]["reason"].contains("read path parameter `org` before routing matched it")
            && errors[0]["reason"].contains("web::scope(\"/orgs/{org}\")"),
        "{errors:?}"
    );

    log.clear();
    let answer = send(&app, get("/invoices")).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    let errors = log.with_outcome("error");
    assert!(
        errors[0]["reason"].contains("reads path parameter `org`, which this route does not have"),
        "{errors:?}"
    );
}

#[std::prelude::v1::test]
#[should_panic(expected = "application roles and scopes belong to no organisation")]
fn authorize_binds_only_organisation_requirements_to_a_path() {
    let _ = Authorize::any_role(["admin"]).in_path_param("org");
}

#[std::prelude::v1::test]
#[should_panic(expected = "application roles and scopes belong to no organisation")]
fn a_rule_binds_only_organisation_rules_to_a_path() {
    // In a constant this is a compile error (see Rule's doc tests).
    let scopes: &'static [&'static str] = vec!["read:items"].leak();
    let _ = Rule::any_scope(scopes).in_path_param("org");
}

#[std::prelude::v1::test]
#[should_panic(expected = "without braces")]
fn authorize_takes_the_parameter_name_without_braces() {
    let _ = Authorize::org_member().in_path_param("{org}");
}

#[actix_web::test]
#[should_panic(expected = "Authorize::org_member() names no organisation")]
async fn an_unbound_membership_requirement_stops_the_app_from_starting() {
    let _ = test::init_service(
        App::new().service(
            web::scope("/orgs/{org}")
                .wrap(Authorize::org_member())
                .route("/projects", web::get().to(HttpResponse::Ok)),
        ),
    )
    .await;
}

#[std::prelude::v1::test]
fn a_bound_rule_holds_only_for_a_request() {
    let identity: Identity = serde_json::from_value(serde_json::json!({
        "subject": "ada", "issuer": "i", "email": null, "roles": [], "scopes": [],
        "kind": "user",
        "organization": {"id": "org_a", "roles": ["org:admin"], "permissions": []}
    }))
    .unwrap();
    assert!(Rule::any_org_role(&["org:admin"]).allows(&identity));
    assert!(
        !InvoiceAdmins::RULE.allows(&identity),
        "the organisation the request addresses is unknown here"
    );
    assert!(
        !Rule::org_member().allows(&identity),
        "names no organisation"
    );
    assert_eq!(InvoiceAdmins::RULE.org_param(), Some("org"));
}

#[derive(Deserialize)]
struct TenantClaims {
    tenant: String,
}

#[actix_web::test]
async fn a_resolver_reads_the_verified_token_and_its_claims() {
    let issuer = TestIssuer::start().await;
    let auth =
        JwtAuth::new(issuer.provider())
            .unwrap()
            .role_resolver(|req: RoleRequest| async move {
                let claims: TenantClaims = req
                    .claims()
                    .map_err(|err| ResolveError::Failed(err.to_string()))?;
                let signed = req.token().algorithm().is_some();
                let kid = req.token().kid().unwrap_or_default().to_owned();
                Ok(if claims.tenant == "acme" && signed {
                    vec![format!("acme-staff:{kid}")]
                } else {
                    Vec::new()
                })
            });
    let app = test::init_service(
        App::new()
            .wrap(auth)
            .route("/agents/{id}", web::get().to(agent)),
    )
    .await;
    let acme = issuer.token().claim("tenant", "acme").sign();
    let kid = auth_core::UnverifiedHeader::peek(&acme)
        .unwrap()
        .kid
        .unwrap();
    let (code, body) = status_and_body(
        &app,
        test::TestRequest::get().uri("/agents/1").bearer(&acme),
    )
    .await;
    assert_eq!(
        (code, body),
        (StatusCode::OK, format!("1 acme-staff:{kid}"))
    );
    // The claims type the token does not fit: the resolver's own refusal.
    let none = issuer.token().sign();
    let (code, _) = status_and_body(
        &app,
        test::TestRequest::get().uri("/agents/1").bearer(&none),
    )
    .await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR);
}

/// A resolver that extracts its own request's caller would wait on itself: every such extraction
/// is refused at once and the request answered 500, whatever the resolver makes of the refusal.
/// Each request is bounded, so a regression fails here instead of hanging the run.
#[actix_web::test]
async fn a_resolver_extracting_its_own_caller_fails_the_request_instead_of_hanging() {
    async fn resolve(req: RoleRequest) -> Result<Vec<String>, ResolveError> {
        let extracted = match req.param("id").unwrap_or_default().as_str() {
            "claims" => Verified::<Claims<serde_json::Value>>::extract(&req)
                .await
                .map(drop),
            "identity" => Verified::<Identity>::extract(&req).await.map(drop),
            "optional" => Optional::<Identity>::extract(&req).await.map(drop),
            "guard" => Require::<Editors>::extract(&req).await.map(drop),
            _ => Ok(()),
        };
        // Ignoring the refusal does not save the request.
        let _ = extracted;
        Ok(vec!["reader".to_owned()])
    }
    let (log, _guard) = AuditLog::install();
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider())
        .unwrap()
        .role_resolver(resolve);
    let app = test::init_service(
        App::new()
            .wrap(auth)
            .route("/agents/{id}", web::get().to(agent)),
    )
    .await;
    let token = issuer.token().subject("ada").sign();
    let call = |id: &str| {
        let request = test::TestRequest::get()
            .uri(&format!("/agents/{id}"))
            .bearer(&token);
        tokio::time::timeout(Duration::from_secs(30), status_and_body(&app, request))
    };
    // Another test of this binary may have met the warning's callsite first, with no subscriber
    // of its own, while this one's was being installed: ask every callsite again.
    tracing::callsite::rebuild_interest_cache();
    for id in ["claims", "identity", "optional", "guard"] {
        log.clear();
        let (code, _) = call(id).await.expect("the request must not hang");
        assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR, "{id}");
        let refused = log.with_outcome("error");
        assert_eq!(refused.len(), 1, "{id}: {:?}", log.events());
        let reason = &refused[0]["reason"];
        assert!(
            reason.contains("waits for the resolver itself")
                && reason.contains("RoleRequest::token()")
                && reason.contains("RoleRequest::claims()"),
            "{id}: {reason}"
        );
        assert_eq!(refused[0]["sub"], "ada", "{id}");
    }
    // The same resolver, not asking for the caller, admits the request.
    let (code, body) = call("7").await.expect("the request must not hang");
    assert_eq!((code, body.as_str()), (StatusCode::OK, "7 reader"));
}
