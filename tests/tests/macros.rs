//! The attribute macros at run time, against the loopback issuer: 200 with the role, 403 without,
//! 401 without a token; enum roles, both attribute orders, methods, scopes, `all`, stacked
//! attributes.

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, Responder, get, test, web};
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{
    Claims, Identity, JwtAuth, Provider, Role, Verified, require_org_member, require_org_role,
    require_role, require_scope,
};

#[derive(Role)]
enum AppRole {
    Owner,
    #[role("admin")]
    Administrator,
}

/// Docs and other attributes survive the expansion.
#[get("/route-above")]
#[require_role("admin")]
#[allow(clippy::unused_async)]
async fn route_above(claims: Verified<Claims>) -> impl Responder {
    format!("above {}", claims.sub)
}

#[require_role("admin")]
#[get("/route-below")]
async fn route_below(identity: Verified<Identity>) -> impl Responder {
    format!("below {}", identity.subject)
}

#[get("/enum")]
#[require_role(AppRole::Administrator)]
async fn enum_role() -> HttpResponse {
    HttpResponse::Ok().body("enum")
}

#[get("/any")]
#[require_role(any(AppRole::Owner, "admin"))]
async fn any_role() -> HttpResponse {
    HttpResponse::Ok().body("any")
}

#[get("/all")]
#[require_role(all("editor", "verified"))]
async fn all_roles() -> HttpResponse {
    HttpResponse::Ok().body("all")
}

#[get("/scope")]
#[require_scope("read:items")]
async fn scoped() -> HttpResponse {
    HttpResponse::Ok().body("scope")
}

#[get("/stacked")]
#[require_role("admin")]
#[require_scope(any("write:items", "admin:items"))]
async fn stacked(
    identity: Verified<Identity>,
    path: web::Query<std::collections::HashMap<String, String>>,
) -> HttpResponse {
    HttpResponse::Ok().body(format!("stacked {} {}", identity.subject, path.len()))
}

struct Handlers;

impl Handlers {
    #[require_role("admin")]
    async fn method(identity: Verified<Identity>) -> HttpResponse {
        HttpResponse::Ok().body(format!("method {}", identity.subject))
    }
}

async fn status<S, B>(app: &S, uri: &str, token: Option<&str>) -> (StatusCode, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let req = test::TestRequest::get().uri(uri);
    tests::status_and_body(
        app,
        match token {
            Some(token) => req.bearer(token),
            None => req,
        },
    )
    .await
}

#[actix_web::test]
async fn attributes_admit_refuse_and_challenge() {
    let issuer = TestIssuer::start().await;
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(issuer.provider()).unwrap())
            .service(route_above)
            .service(route_below)
            .service(enum_role)
            .service(any_role)
            .service(all_roles)
            .service(scoped)
            .service(stacked)
            .service(web::resource("/method").to(Handlers::method)),
    )
    .await;

    let admin = issuer.token().subject("ada").roles(["admin"]).sign();
    let owner = issuer.token().subject("olga").roles(["owner"]).sign();
    let viewer = issuer.token().subject("vic").roles(["viewer"]).sign();
    let editor = issuer.token().roles(["editor", "verified"]).sign();
    let half_editor = issuer.token().roles(["editor"]).sign();
    let reader = issuer.token().scopes(["read:items"]).sign();
    let admin_writer = issuer
        .token()
        .subject("wes")
        .roles(["admin"])
        .scopes(["write:items"])
        .sign();

    let cases: &[(&str, Option<&str>, StatusCode, &str)] = &[
        ("/route-above", Some(&admin), StatusCode::OK, "above ada"),
        ("/route-above", Some(&viewer), StatusCode::FORBIDDEN, ""),
        ("/route-above", None, StatusCode::UNAUTHORIZED, ""),
        ("/route-below", Some(&admin), StatusCode::OK, "below ada"),
        ("/route-below", Some(&viewer), StatusCode::FORBIDDEN, ""),
        ("/route-below", None, StatusCode::UNAUTHORIZED, ""),
        ("/enum", Some(&admin), StatusCode::OK, "enum"),
        ("/enum", Some(&owner), StatusCode::FORBIDDEN, ""),
        ("/any", Some(&owner), StatusCode::OK, "any"),
        ("/any", Some(&admin), StatusCode::OK, "any"),
        ("/any", Some(&viewer), StatusCode::FORBIDDEN, ""),
        ("/all", Some(&editor), StatusCode::OK, "all"),
        ("/all", Some(&half_editor), StatusCode::FORBIDDEN, ""),
        ("/scope", Some(&reader), StatusCode::OK, "scope"),
        ("/scope", Some(&admin), StatusCode::FORBIDDEN, ""),
        ("/scope", None, StatusCode::UNAUTHORIZED, ""),
        (
            "/stacked?x=1",
            Some(&admin_writer),
            StatusCode::OK,
            "stacked wes 1",
        ),
        ("/stacked", Some(&admin), StatusCode::FORBIDDEN, ""),
        ("/method", Some(&admin), StatusCode::OK, "method ada"),
        ("/method", Some(&viewer), StatusCode::FORBIDDEN, ""),
        ("/method", None, StatusCode::UNAUTHORIZED, ""),
    ];
    for (uri, token, expected, body) in cases {
        let (status, text) = status(&app, uri, *token).await;
        assert_eq!(
            status,
            *expected,
            "{uri} with {}",
            if token.is_some() { "token" } else { "no token" }
        );
        if !body.is_empty() {
            assert_eq!(text, *body, "{uri}");
        }
    }
}

#[actix_web::test]
async fn guards_work_without_the_middleware() {
    let issuer = TestIssuer::start().await;
    let app = test::init_service(
        App::new()
            .app_data(JwtAuth::new(issuer.provider()).unwrap())
            .service(route_below),
    )
    .await;
    let admin = issuer.token().subject("ada").roles(["admin"]).sign();
    assert_eq!(
        status(&app, "/route-below", Some(&admin)).await,
        (StatusCode::OK, "below ada".into())
    );
    assert_eq!(
        status(&app, "/route-below", None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[derive(Role)]
enum OrgRole {
    #[role("org:owner")]
    Owner,
    #[role("org:admin")]
    Admin,
}

#[get("/orgs/{org}/settings")]
#[require_org_role(any(OrgRole::Owner, OrgRole::Admin), org = "org")]
async fn org_settings(org: web::Path<String>) -> String {
    format!("settings of {org}")
}

#[get("/tenants/{tenant}/audit")]
#[require_org_role(all("org:admin", "org:auditor"), org = "tenant")]
async fn tenant_audit() -> HttpResponse {
    HttpResponse::Ok().body("audit")
}

#[get("/orgs/{org}/members")]
#[require_org_member(org = "org")]
async fn org_members() -> HttpResponse {
    HttpResponse::Ok().body("members")
}

/// A guard naming a parameter its route lacks: a misconfiguration, never a guess.
#[get("/settings")]
#[require_org_role("org:admin", org = "org")]
async fn misnamed() -> HttpResponse {
    HttpResponse::Ok().body("settings")
}

#[actix_web::test]
async fn organisation_attributes_check_the_organisation_the_path_names() {
    let issuer = TestIssuer::start().await;
    let clerk = issuer.adopt(Provider::clerk(
        "https://clerk.example.com",
        ["https://app.example.com"],
    ));
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(clerk.clone()).unwrap())
            .service(org_settings)
            .service(tenant_audit)
            .service(org_members)
            .service(misnamed),
    )
    .await;
    let owner = issuer
        .token_for(&clerk)
        .organization("org_a", ["org:owner"])
        .sign();
    // Clerk names one role per organisation; an auditor that is also admin comes from elsewhere.
    let member = issuer
        .token_for(&clerk)
        .organization("org_a", ["org:member"])
        .sign();
    let cases: &[(&str, &str, StatusCode, &str)] = &[
        (
            "/orgs/org_a/settings",
            &owner,
            StatusCode::OK,
            "settings of org_a",
        ),
        (
            "/orgs/org%5Fa/settings",
            &owner,
            StatusCode::OK,
            "settings of org_a",
        ),
        ("/orgs/org_b/settings", &owner, StatusCode::FORBIDDEN, ""),
        ("/orgs/org_a/settings", &member, StatusCode::FORBIDDEN, ""),
        ("/tenants/org_a/audit", &owner, StatusCode::FORBIDDEN, ""),
        ("/orgs/org_a/members", &member, StatusCode::OK, "members"),
        ("/orgs/org_b/members", &member, StatusCode::FORBIDDEN, ""),
        ("/settings", &owner, StatusCode::INTERNAL_SERVER_ERROR, ""),
    ];
    for (uri, token, expected, body) in cases {
        let (status, text) = status(&app, uri, Some(token)).await;
        assert_eq!(status, *expected, "{uri}");
        if !body.is_empty() {
            assert_eq!(text, *body, "{uri}");
        }
    }
}
