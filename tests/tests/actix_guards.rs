//! Guards without macros (`Require<R>`, `Authorize` on a scope) and the role resolver.

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, test, web};
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{Authorize, Identity, JwtAuth, Require, Requirement, ResolveError, Rule};
use tests::{send, status_and_body};

struct Editors;
impl Requirement for Editors {
    const RULE: Rule = Rule::AllRoles(&["editor", "verified"]);
}

struct ReadItems;
impl Requirement for ReadItems {
    const RULE: Rule = Rule::AnyScope(&["read:items", "admin:items"]);
}

async fn edit(caller: Require<Editors>) -> HttpResponse {
    HttpResponse::Ok().body(caller.subject.clone())
}

async fn items(_: Require<ReadItems>) -> HttpResponse {
    HttpResponse::Ok().body("items")
}

async fn agent(identity: Identity, path: web::Path<String>) -> HttpResponse {
    let roles: Vec<&str> = identity.roles.iter().map(String::as_str).collect();
    HttpResponse::Ok().body(format!("{} {}", path.into_inner(), roles.join(",")))
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
    let both = issuer.token().subject("ed").roles(["editor", "verified"]).sign();
    assert_eq!(
        status_and_body(&app, test::TestRequest::get().uri("/edit").bearer(&both)).await,
        (StatusCode::OK, "ed".into())
    );
    let one = issuer.token().roles(["editor"]).sign();
    assert_eq!(
        status_and_body(&app, test::TestRequest::get().uri("/edit").bearer(&one)).await.0,
        StatusCode::FORBIDDEN
    );
    let scoped = issuer.token().scopes(["openid", "read:items"]).sign();
    assert_eq!(status_and_body(&app, test::TestRequest::get().uri("/items").bearer(&scoped)).await.0, StatusCode::OK);
    let unscoped = issuer.token().scopes(["openid"]).sign();
    assert_eq!(
        status_and_body(&app, test::TestRequest::get().uri("/items").bearer(&unscoped)).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(status_and_body(&app, test::TestRequest::get().uri("/items")).await.0, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn authorize_guards_a_whole_scope() {
    let issuer = TestIssuer::start().await;
    let app = test::init_service(
        App::new().wrap(JwtAuth::new(issuer.provider()).unwrap().optional()).service(
            web::scope("/admin")
                .wrap(Authorize::any_role(["admin", "owner"]))
                .route("/a", web::get().to(|| async { HttpResponse::Ok().body("a") }))
                .route("/b", web::get().to(|| async { HttpResponse::Ok().body("b") })),
        ),
    )
    .await;
    let admin = issuer.token().roles(["admin"]).sign();
    for uri in ["/admin/a", "/admin/b"] {
        assert_eq!(status_and_body(&app, test::TestRequest::get().uri(uri).bearer(&admin)).await.0, StatusCode::OK);
        assert_eq!(status_and_body(&app, test::TestRequest::get().uri(uri)).await.0, StatusCode::UNAUTHORIZED);
        let viewer = issuer.token().roles(["viewer"]).sign();
        assert_eq!(
            status_and_body(&app, test::TestRequest::get().uri(uri).bearer(&viewer)).await.0,
            StatusCode::FORBIDDEN
        );
    }
}

#[actix_web::test]
async fn resolver_roles_merge_with_claim_roles_and_see_path_parameters() {
    let issuer = TestIssuer::start().await;
    let auth = JwtAuth::new(issuer.provider()).unwrap().role_resolver(
        |req: HttpRequest, identity: auth_actix::core::Identity| async move {
            let agent = req.match_info().get("id").unwrap_or_default().to_owned();
            match (agent.as_str(), identity.subject.as_str()) {
                ("down", _) => Err(ResolveError::Unavailable("agent database unreachable".into())),
                ("broken", _) => Err(ResolveError::Failed("query failed".into())),
                ("7", "owner-of-7") => Ok(vec!["owner".to_owned()]),
                _ => Ok(vec![]),
            }
        },
    );
    let app = test::init_service(
        App::new().wrap(auth).route("/agents/{id}", web::get().to(agent)).service(
            web::scope("/agents/{id}/admin")
                .wrap(Authorize::any_role(["owner"]))
                .route("", web::get().to(|| async { HttpResponse::Ok().body("owner area") })),
        ),
    )
    .await;
    let owner = issuer.token().subject("owner-of-7").roles(["viewer"]).sign();
    let other = issuer.token().subject("someone").roles(["viewer"]).sign();

    let (code, body) = status_and_body(&app, test::TestRequest::get().uri("/agents/7").bearer(&owner)).await;
    assert_eq!((code, body.as_str()), (StatusCode::OK, "7 owner,viewer"));
    let (code, body) = status_and_body(&app, test::TestRequest::get().uri("/agents/8").bearer(&owner)).await;
    assert_eq!((code, body.as_str()), (StatusCode::OK, "8 viewer"));

    assert_eq!(
        status_and_body(&app, test::TestRequest::get().uri("/agents/7/admin").bearer(&owner)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        status_and_body(&app, test::TestRequest::get().uri("/agents/7/admin").bearer(&other)).await.0,
        StatusCode::FORBIDDEN
    );

    let down = send(&app, test::TestRequest::get().uri("/agents/down").bearer(&owner)).await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(down.header("retry-after").is_some());
    let body = down.body;
    assert!(body.contains("AUTH_UNAVAILABLE") && !body.contains("unreachable"), "{body}");

    let (code, body) = status_and_body(&app, test::TestRequest::get().uri("/agents/broken").bearer(&owner)).await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("INTERNAL_ERROR") && !body.contains("query failed"), "{body}");
}

#[actix_web::test]
async fn resolver_runs_once_per_request_however_many_extractors_need_it() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Owners;
    impl Requirement for Owners {
        const RULE: Rule = Rule::AnyRole(&["owner"]);
    }
    async fn handler(identity: Identity, owner: Require<Owners>, again: Identity) -> HttpResponse {
        assert!(identity.has_role("owner") && again.has_role("owner"));
        HttpResponse::Ok().body(owner.subject.clone())
    }

    let issuer = TestIssuer::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let auth =
        JwtAuth::new(issuer.provider()).unwrap().role_resolver(move |_: HttpRequest, _: auth_actix::core::Identity| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, ResolveError>(vec!["owner".to_owned()]) }
        });
    let app = test::init_service(App::new().wrap(auth.clone()).route("/x", web::get().to(handler))).await;
    let token = issuer.token().subject("solo").sign();
    assert_eq!(status_and_body(&app, test::TestRequest::get().uri("/x").bearer(&token)).await.0, StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "middleware");

    calls.store(0, Ordering::SeqCst);
    let app = test::init_service(App::new().app_data(auth.clone()).route("/x", web::get().to(handler))).await;
    let token = issuer.token().subject("solo").sign();
    assert_eq!(status_and_body(&app, test::TestRequest::get().uri("/x").bearer(&token)).await.0, StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "app data");
}
