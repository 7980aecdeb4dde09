//! What a verified token means, per provider: organisation roles are not application roles, ID
//! tokens (and other kinds) are not access tokens, machines are not users. Provider-shaped tokens
//! from the loopback issuer, as each provider documents them.

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, get, post, test, web};
use auth_actix::testing::{ServiceUserGrant, TestIssuer, TestRequestExt, ZITADEL_WEB_CLIENT_ID};
use auth_actix::{
    AuthError, Authorize, IdentityKind, JwtAuth, NamedRule, Provider, Require, Rule,
    StandardClaims, Verifier, require_org_member, require_org_role, require_role, require_service,
    require_user,
};
use serde_json::json;
use tests::{init_tracing, send};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OTHER_TENANT: &str = "11111111-2222-3333-4444-555555555555";
const CLIENT: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

async fn verify(provider: &Provider, token: &str) -> Result<auth_core_claims::Claims, AuthError> {
    Verifier::new(provider.clone())
        .expect("valid settings")
        .verify::<StandardClaims>(token)
        .await
}

mod auth_core_claims {
    pub type Claims = auth_actix::Claims<auth_actix::StandardClaims>;
}

fn kind_refusal(err: &AuthError) -> bool {
    matches!(err, AuthError::WrongTokenKind(_))
}

#[get("/admin")]
#[require_role("admin")]
async fn app_admin() -> HttpResponse {
    HttpResponse::Ok().body("application admin")
}

#[get("/org/settings")]
#[require_org_role("org:admin")]
async fn org_settings() -> HttpResponse {
    HttpResponse::Ok().body("organisation settings")
}

#[get("/me/password")]
#[require_user]
async fn password() -> HttpResponse {
    HttpResponse::Ok().body("people only")
}

#[get("/jobs")]
#[require_service]
async fn jobs() -> HttpResponse {
    HttpResponse::Ok().body("machines only")
}

#[actix_web::test]
async fn a_clerk_organisation_admin_is_not_an_application_admin() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let clerk = issuer.adopt(Provider::clerk(
        "https://clerk.example.com",
        ["https://app.example.com"],
    ));
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(clerk.clone()).unwrap())
            .service(app_admin)
            .service(org_settings),
    )
    .await;
    // Anyone may create an organisation from the front end, and becomes its admin.
    let self_made = issuer
        .token_for(&clerk)
        .organization("org_self_made", ["admin"])
        .sign();
    let get = |uri: &str| test::TestRequest::get().uri(uri).bearer(&self_made);
    assert_eq!(
        send(&app, get("/admin")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&app, get("/org/settings")).await.status,
        StatusCode::OK
    );

    // The application names its own staff organisation; that one's admins are its admins.
    let staff = clerk
        .clone()
        .trusted_organizations(["org_staff"])
        .roles_claim("roles");
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(staff.clone()).unwrap())
            .service(app_admin)
            .service(org_settings),
    )
    .await;
    let staff_admin = issuer
        .token_for(&staff)
        .organization("org_staff", ["org:admin"])
        .sign();
    let get = |uri: &str, token: &str| test::TestRequest::get().uri(uri).bearer(token);
    assert_eq!(
        send(&app, get("/org/settings", &staff_admin)).await.status,
        StatusCode::OK
    );
    let self_made = issuer
        .token_for(&staff)
        .organization("org_self_made", ["admin"])
        .sign();
    assert_eq!(
        send(&app, get("/admin", &self_made)).await.status,
        StatusCode::FORBIDDEN
    );
    // Application roles come from a claim the application adds to its session tokens.
    let app_admin_token = issuer.token_for(&staff).roles(["admin"]).sign();
    assert_eq!(
        send(&app, get("/admin", &app_admin_token)).await.status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn clerk_accepts_session_tokens_only() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let clerk = issuer.adopt(Provider::clerk(
        "https://clerk.example.com",
        ["https://app.example.com"],
    ));
    assert!(
        verify(&clerk, &issuer.token_for(&clerk).sign())
            .await
            .is_ok()
    );

    // A JWT template token: same issuer and keys, no session, a third party's audience.
    let template = issuer
        .token_for(&clerk)
        .without_claim("sid")
        .audience("https://partner.example.com")
        .sign();
    assert!(kind_refusal(&verify(&clerk, &template).await.unwrap_err()));
    let opted_in = clerk
        .clone()
        .accept_jwt_templates(["https://partner.example.com"]);
    assert!(verify(&opted_in, &template).await.is_ok());
    let other_template = issuer
        .token_for(&clerk)
        .without_claim("sid")
        .audience("https://x.example")
        .sign();
    assert!(kind_refusal(
        &verify(&opted_in, &other_template).await.unwrap_err()
    ));

    // A pending session (an organisation must still be chosen) counts as signed out.
    let pending = issuer.token_for(&clerk).claim("sts", "pending").sign();
    assert!(kind_refusal(&verify(&clerk, &pending).await.unwrap_err()));
    let active = issuer.token_for(&clerk).claim("sts", "active").sign();
    assert!(verify(&clerk, &active).await.is_ok());

    let err = Verifier::new(
        Provider::oidc("https://i.example.com")
            .audience("a")
            .accept_jwt_templates(["x"]),
    );
    assert!(err.unwrap_err().problem.contains("Clerk"));
}

#[tokio::test]
async fn clerk_refuses_a_session_token_minted_for_another_audience() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let clerk = issuer
        .adopt(Provider::clerk(
            "https://clerk.example.com",
            ["https://app.example.com"],
        ))
        .accept_jwt_templates(["https://orders-api.example.com"]);
    // A session token: `sid`, no `aud`.
    let session = issuer.token_for(&clerk).sign();
    assert!(tests::payload(&session).get("aud").is_none());
    assert!(verify(&clerk, &session).await.is_ok());
    // A template minted for this API, which also names the session it came from.
    let ours = issuer
        .token_for(&clerk)
        .audience("https://orders-api.example.com")
        .sign();
    assert!(verify(&clerk, &ours).await.is_ok());
    // The same session's token minted for a third party: its `sid` does not make it ours.
    for foreign in [
        json!("https://partner.example.com"),
        json!(["https://partner.example.com"]),
        json!([]),
    ] {
        let token = issuer.token_for(&clerk).claim("aud", &foreign).sign();
        assert_eq!(tests::payload(&token)["sid"], "sess_test");
        let refused = verify(&clerk, &token).await.unwrap_err();
        let AuthError::WrongTokenKind(reason) = &refused else {
            panic!("{foreign}: expected a kind refusal, got {refused:?}");
        };
        assert!(reason.contains("aud"), "{foreign}: {reason}");
    }
    // Without any template accepted, a `sid` and a foreign `aud` are refused just the same.
    let plain = issuer.adopt(Provider::clerk(
        "https://clerk.example.com",
        ["https://app.example.com"],
    ));
    let foreign = issuer
        .token_for(&plain)
        .audience("https://partner.example.com")
        .sign();
    assert!(kind_refusal(&verify(&plain, &foreign).await.unwrap_err()));
}

#[actix_web::test]
async fn zitadel_customer_organisations_grant_organisation_roles_only() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let owner = "263514100000000001";
    let zitadel = issuer.adopt(
        Provider::zitadel("https://acme.zitadel.cloud", "263514598346711111")
            .trusted_organizations([owner]),
    );
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(zitadel.clone()).unwrap())
            .service(app_admin)
            .service(
                web::scope("/customers")
                    .wrap(Authorize::any_org_role(["admin"]))
                    .route(
                        "/settings",
                        web::get().to(|| async { HttpResponse::Ok().body("customer settings") }),
                    ),
            ),
    )
    .await;
    let staff = issuer.token_for(&zitadel).roles(["admin"]).sign();
    let customer_admin = issuer
        .token_for(&zitadel)
        .organization("customer-org", ["admin"])
        .sign();
    let get = |uri: &str, token: &str| test::TestRequest::get().uri(uri).bearer(token);
    assert_eq!(
        send(&app, get("/admin", &staff)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, get("/admin", &customer_admin)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&app, get("/customers/settings", &customer_admin))
            .await
            .status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn entra_customer_tenants_assign_tenant_roles() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let multi = issuer.adopt(Provider::entra_multi_tenant(CLIENT, [TENANT, OTHER_TENANT]));
    let token = issuer.token_for(&multi).roles(["admin"]).sign();
    let claims = verify(&multi, &token).await.unwrap();
    assert!(
        !claims.identity().has_role("admin"),
        "a customer tenant's admin assigned it"
    );
    let tenant = claims.identity().organization.clone().unwrap();
    assert_eq!(tenant.id, TENANT);
    assert!(tenant.has_role("admin"));
    let own = multi.clone().trusted_organizations([TENANT]);
    assert!(
        verify(&own, &token)
            .await
            .unwrap()
            .identity()
            .has_role("admin"),
        "the home tenant"
    );

    // One tenant's preset trusts that tenant: its roles are the application's.
    let single = issuer.adopt(Provider::entra(TENANT, CLIENT));
    let token = issuer.token_for(&single).roles(["admin"]).sign();
    assert!(
        verify(&single, &token)
            .await
            .unwrap()
            .identity()
            .has_role("admin")
    );
}

#[actix_web::test]
async fn id_tokens_are_refused_where_the_provider_tells_them_apart() {
    init_tracing();
    let issuer = TestIssuer::start().await;

    let keycloak = issuer.adopt(Provider::keycloak(
        "https://sso.example.com",
        "demo",
        "orders-api",
    ));
    assert!(
        verify(&keycloak, &issuer.token_for(&keycloak).sign())
            .await
            .is_ok()
    );
    for typ in ["ID", "Refresh", "Offline"] {
        let token = issuer.token_for(&keycloak).claim("typ", typ).sign();
        assert_eq!(
            verify(&keycloak, &token).await.unwrap_err(),
            AuthError::InvalidClaim("typ".into()),
            "{typ}"
        );
    }

    // One app registration for front end and API: the ID token's aud is the API's client ID too.
    let entra = issuer.adopt(Provider::entra(TENANT, CLIENT));
    let id_token = issuer
        .token_for(&entra)
        .without_claim("azp")
        .claim("nonce", "n-0S6_WzA2Mj")
        .sign();
    assert_eq!(
        verify(&entra, &id_token).await.unwrap_err(),
        AuthError::MissingClaim("azp".into())
    );
    let v1 = issuer.adopt(Provider::entra_v1(TENANT, CLIENT));
    let v1_id_token = issuer.token_for(&v1).without_claim("appid").sign();
    assert_eq!(
        verify(&v1, &v1_id_token).await.unwrap_err(),
        AuthError::MissingClaim("appid".into())
    );

    let okta = issuer.adopt(Provider::okta(
        "https://dev-1.okta.com/oauth2/default",
        "api://default",
    ));
    let id_token = issuer.token_for(&okta).without_claim("cid").sign();
    assert_eq!(
        verify(&okta, &id_token).await.unwrap_err(),
        AuthError::MissingClaim("cid".into())
    );

    let zitadel = issuer.adopt(Provider::zitadel(
        "https://acme.zitadel.cloud",
        "263514598346711111",
    ));
    for claim in ["at_hash", "c_hash", "nonce", "sid"] {
        let id_token = issuer.token_for(&zitadel).claim(claim, "x").sign();
        assert!(
            kind_refusal(&verify(&zitadel, &id_token).await.unwrap_err()),
            "{claim}"
        );
    }
    // An ID token as Zitadel's `NewIDTokenClaims` and `createIDToken` write one: no `jti`, and
    // `azp`, `amr`, `auth_time` beside the markers above; its `aud` names the project too.
    let id_token = issuer
        .token_for(&zitadel)
        .without_claim("jti")
        .claim("azp", "263514598346722222@invoices")
        .claim("amr", ["pwd"])
        .claim("auth_time", tests::unix_now())
        .claim("sid", "V1_263514598346744444")
        .claim("at_hash", "2dG1R1L0Ruu3mEE0Gh39Gg")
        .sign();
    assert!(kind_refusal(
        &verify(&zitadel, &id_token).await.unwrap_err()
    ));
    // Without the markers, a token lacking `jti` is still no Zitadel access token.
    let no_jti = issuer.token_for(&zitadel).without_claim("jti").sign();
    let refused = verify(&zitadel, &no_jti).await.unwrap_err();
    assert!(
        matches!(&refused, AuthError::WrongTokenKind(reason) if reason.contains("jti")),
        "{refused:?}"
    );
    // Zitadel types its access tokens `JWT`, never `at+jwt`.
    let typed = issuer.token_for(&zitadel).header("typ", "JWT").sign();
    assert!(verify(&zitadel, &typed).await.is_ok());

    let auth0 = issuer.adopt(Provider::auth0(
        "tenant.us.auth0.com",
        "https://api.example.com",
    ));
    let id_token = issuer.token_for(&auth0).claim("nonce", "abc").sign();
    assert!(kind_refusal(&verify(&auth0, &id_token).await.unwrap_err()));

    let cognito = issuer.adopt(Provider::cognito(
        "eu-west-1",
        "eu-west-1_AbCdEf123",
        "client-1",
    ));
    let id_token = issuer.token_for(&cognito).claim("token_use", "id").sign();
    assert_eq!(
        verify(&cognito, &id_token).await.unwrap_err(),
        AuthError::InvalidClaim("token_use".into())
    );
}

#[actix_web::test]
async fn rfc9068_strict_mode_takes_typed_access_tokens_only() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let strict = issuer.adopt(
        Provider::oidc("https://issuer.example.com")
            .audience("my-api")
            .rfc9068(),
    );
    let access = || {
        issuer
            .token_for(&strict)
            .header("typ", "at+jwt")
            .claim("client_id", "web-app")
    };
    assert!(verify(&strict, &access().sign()).await.is_ok());
    assert!(
        verify(
            &strict,
            &access().header("typ", "application/at+jwt").sign()
        )
        .await
        .is_ok()
    );
    let id_token = issuer
        .token_for(&strict)
        .claim("client_id", "web-app")
        .sign();
    assert!(
        kind_refusal(&verify(&strict, &id_token).await.unwrap_err()),
        "typ JWT"
    );
    for claim in ["client_id", "jti", "sub", "iat"] {
        let token = access().without_claim(claim).sign();
        assert_eq!(
            verify(&strict, &token).await.unwrap_err(),
            AuthError::MissingClaim(claim.into()),
            "{claim}"
        );
    }
}

#[actix_web::test]
async fn other_kinds_of_jwt_are_never_bearer_tokens() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let presets = [
        Provider::oidc("https://issuer.example.com").audience("my-api"),
        Provider::keycloak("https://sso.example.com", "demo", "orders-api"),
        Provider::auth0("tenant.us.auth0.com", "https://api.example.com"),
    ];
    for preset in presets {
        let provider = issuer.adopt(preset);
        for typ in [
            "dpop+jwt",
            "logout+jwt",
            "secevent+jwt",
            "application/dpop+jwt",
        ] {
            let token = issuer.token_for(&provider).header("typ", typ).sign();
            assert!(
                kind_refusal(&verify(&provider, &token).await.unwrap_err()),
                "{typ}"
            );
        }
        for typ in ["JWT", "jwt", "at+jwt", "application/at+jwt"] {
            assert!(
                verify(
                    &provider,
                    &issuer.token_for(&provider).header("typ", typ).sign()
                )
                .await
                .is_ok()
            );
        }
    }
}

#[actix_web::test]
async fn app_only_callers_are_services_for_every_provider_that_issues_them() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let kind = |claims: &auth_core_claims::Claims| claims.identity().kind;

    let entra = issuer.adopt(Provider::entra(TENANT, CLIENT));
    let user = issuer
        .token_for(&entra)
        .claim("scp", "Items.Read")
        .claim("oid", "o-1")
        .subject("s-1")
        .sign();
    assert_eq!(
        kind(&verify(&entra, &user).await.unwrap()),
        IdentityKind::User
    );
    let tagged = issuer
        .token_for(&entra)
        .claim("idtyp", "app")
        .roles(["Jobs.Run"])
        .sign();
    assert_eq!(
        kind(&verify(&entra, &tagged).await.unwrap()),
        IdentityKind::Service
    );
    let untagged = issuer
        .token_for(&entra)
        .claim("oid", "app-1")
        .subject("app-1")
        .roles(["Jobs.Run"])
        .sign();
    assert_eq!(
        kind(&verify(&entra, &untagged).await.unwrap()),
        IdentityKind::Service
    );
    // Entra hands app-only tokens to any application that asks: without an app role, refused.
    let roleless = issuer.token_for(&entra).claim("idtyp", "app").sign();
    assert_eq!(
        verify(&entra, &roleless).await.unwrap_err(),
        AuthError::MissingClaim("roles".into())
    );

    let keycloak = issuer.adopt(Provider::keycloak(
        "https://sso.example.com",
        "demo",
        "orders-api",
    ));
    for client_claim in ["client_id", "clientId"] {
        let token = issuer
            .token_for(&keycloak)
            .claim("preferred_username", "service-account-billing")
            .claim(client_claim, "billing")
            .sign();
        assert_eq!(
            kind(&verify(&keycloak, &token).await.unwrap()),
            IdentityKind::Service,
            "{client_claim}"
        );
    }
    let person = issuer
        .token_for(&keycloak)
        .claim("preferred_username", "service-account-fan")
        .sign();
    assert_eq!(
        kind(&verify(&keycloak, &person).await.unwrap()),
        IdentityKind::User,
        "a username alone"
    );

    let auth0 = issuer.adopt(Provider::auth0(
        "tenant.us.auth0.com",
        "https://api.example.com",
    ));
    let m2m = issuer
        .token_for(&auth0)
        .subject("aBcD1234@clients")
        .claim("azp", "aBcD1234")
        .claim("gty", "client-credentials")
        .sign();
    assert_eq!(
        kind(&verify(&auth0, &m2m).await.unwrap()),
        IdentityKind::Service
    );
    let rfc9068_profile = issuer
        .token_for(&auth0)
        .subject("aBcD1234@clients")
        .claim("client_id", "aBcD1234")
        .sign();
    assert_eq!(
        kind(&verify(&auth0, &rfc9068_profile).await.unwrap()),
        IdentityKind::Service
    );
    let user = issuer.token_for(&auth0).subject("auth0|123").sign();
    assert_eq!(
        kind(&verify(&auth0, &user).await.unwrap()),
        IdentityKind::User
    );

    let okta = issuer.adopt(Provider::okta(
        "https://dev-1.okta.com/oauth2/default",
        "api://default",
    ));
    // No user bound: Okta leaves `uid` out.
    let cc = issuer
        .token_for(&okta)
        .subject("0oa1client")
        .claim("cid", "0oa1client")
        .without_claim("uid")
        .sign();
    assert_eq!(
        kind(&verify(&okta, &cc).await.unwrap()),
        IdentityKind::Service
    );
    let user = issuer
        .token_for(&okta)
        .subject("ada@example.com")
        .claim("cid", "0oa1client")
        .claim("uid", "00u1")
        .sign();
    assert_eq!(
        kind(&verify(&okta, &user).await.unwrap()),
        IdentityKind::User
    );

    let zitadel = issuer.adopt(
        Provider::zitadel("https://acme.zitadel.cloud", "263514598346711111")
            .zitadel_user_clients([ZITADEL_WEB_CLIENT_ID]),
    );
    let machine = issuer
        .token_for(&zitadel)
        .zitadel_service_user(ServiceUserGrant::JwtProfile)
        .sign();
    assert_eq!(
        kind(&verify(&zitadel, &machine).await.unwrap()),
        IdentityKind::Service
    );
    let person = issuer.token_for(&zitadel).subject("2635148").sign();
    assert_eq!(
        kind(&verify(&zitadel, &person).await.unwrap()),
        IdentityKind::User
    );

    let cognito = issuer.adopt(Provider::cognito(
        "eu-west-1",
        "eu-west-1_AbCdEf123",
        "client-1",
    ));
    let m2m = issuer.token_for(&cognito).subject("client-1").sign();
    assert_eq!(
        kind(&verify(&cognito, &m2m).await.unwrap()),
        IdentityKind::Service
    );
    let user = issuer
        .token_for(&cognito)
        .subject("a1b2")
        .claim("username", "ada")
        .sign();
    assert_eq!(
        kind(&verify(&cognito, &user).await.unwrap()),
        IdentityKind::User
    );

    let oidc = issuer.adopt(Provider::oidc("https://issuer.example.com").audience("my-api"));
    let cc = issuer
        .token_for(&oidc)
        .subject("svc")
        .claim("client_id", "svc")
        .sign();
    assert_eq!(
        kind(&verify(&oidc, &cc).await.unwrap()),
        IdentityKind::Service
    );
}

#[actix_web::test]
async fn guards_tell_people_from_machines() {
    init_tracing();
    struct People;
    impl NamedRule for People {
        const RULE: Rule = Rule::user();
    }
    async fn people(_: Require<People>) -> HttpResponse {
        HttpResponse::Ok().finish()
    }
    let issuer = TestIssuer::start().await;
    let okta = issuer.adopt(Provider::okta(
        "https://dev-1.okta.com/oauth2/default",
        "api://default",
    ));
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(okta.clone()).unwrap())
            .service(password)
            .service(jobs)
            .route("/people", web::get().to(people))
            .service(web::scope("/machines").wrap(Authorize::service()).route(
                "/x",
                web::get().to(|| async { HttpResponse::Ok().finish() }),
            )),
    )
    .await;
    let machine = issuer
        .token_for(&okta)
        .subject("0oa1")
        .claim("cid", "0oa1")
        .without_claim("uid")
        .sign();
    let person = issuer
        .token_for(&okta)
        .subject("ada")
        .claim("cid", "0oa1")
        .claim("uid", "00u1")
        .sign();
    let get = |uri: &str, token: &str| test::TestRequest::get().uri(uri).bearer(token);
    for (uri, machine_status, person_status) in [
        ("/me/password", StatusCode::FORBIDDEN, StatusCode::OK),
        ("/people", StatusCode::FORBIDDEN, StatusCode::OK),
        ("/jobs", StatusCode::OK, StatusCode::FORBIDDEN),
        ("/machines/x", StatusCode::OK, StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            send(&app, get(uri, &machine)).await.status,
            machine_status,
            "{uri} machine"
        );
        assert_eq!(
            send(&app, get(uri, &person)).await.status,
            person_status,
            "{uri} person"
        );
    }
}

// Organisation guards bound to the organisation a request addresses: the same routes through the
// attribute, `Require` with a `Rule` constant, and `Authorize` on a scope, for every provider whose
// tokens name an organisation. Clerk writes its admin role `org:admin`, the others `admin`.

#[post("/macro/orgs/{org}/invoices")]
#[require_org_role(any("admin", "org:admin"), org = "org")]
async fn macro_invoices(org: web::Path<String>) -> String {
    format!("invoices of {org}")
}

#[get("/macro/orgs/{org}/projects")]
#[require_org_member(org = "org")]
async fn macro_projects(org: web::Path<String>) -> String {
    format!("projects of {org}")
}

/// The unbound form: the caller's own organisation, whatever the path says.
#[post("/unbound/orgs/{org}/invoices")]
#[require_org_role(any("admin", "org:admin"))]
async fn unbound_invoices(org: web::Path<String>) -> String {
    format!("invoices of {org}")
}

struct InvoiceAdmins;
impl NamedRule for InvoiceAdmins {
    const RULE: Rule = Rule::any_org_role(&["admin", "org:admin"]).in_path_param("org");
}

struct Members;
impl NamedRule for Members {
    const RULE: Rule = Rule::org_member().in_path_param("org");
}

async fn require_invoices(_: Require<InvoiceAdmins>, org: web::Path<String>) -> String {
    format!("invoices of {org}")
}

async fn require_projects(_: Require<Members>, org: web::Path<String>) -> String {
    format!("projects of {org}")
}

async fn scoped_invoices(org: web::Path<String>) -> String {
    format!("invoices of {org}")
}

async fn scoped_projects(org: web::Path<String>) -> String {
    format!("projects of {org}")
}

/// Every character percent-encoded, as a client may send it.
fn percent_encoded(id: &str) -> String {
    id.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Checks the bound guards for `provider`: `admin` is an admin of organisation `a` (or, where
/// organisations grant no roles, `None`, and `member` just a member); `b` is another organisation.
async fn bound_guards_hold(
    provider: &Provider,
    admin: Option<&str>,
    member: &str,
    a: &str,
    b: &str,
) {
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(provider.clone()).unwrap())
            .service(macro_invoices)
            .service(macro_projects)
            .service(unbound_invoices)
            .route(
                "/require/orgs/{org}/invoices",
                web::post().to(require_invoices),
            )
            .route(
                "/require/orgs/{org}/projects",
                web::get().to(require_projects),
            )
            .service(
                web::scope("/scope/orgs/{org}/invoices")
                    .wrap(Authorize::any_org_role(["admin", "org:admin"]).in_path_param("org"))
                    .route("", web::post().to(scoped_invoices)),
            )
            .service(
                web::scope("/scope/orgs/{org}/projects")
                    .wrap(Authorize::org_member().in_path_param("org"))
                    .route("", web::get().to(scoped_projects)),
            ),
    )
    .await;
    let name = &provider_name(provider);
    for form in ["macro", "require", "scope"] {
        let invoices = |org: &str| format!("/{form}/orgs/{org}/invoices");
        let projects = |org: &str| format!("/{form}/orgs/{org}/projects");
        let post = |uri: String, token: &str| test::TestRequest::post().uri(&uri).bearer(token);
        let get = |uri: String, token: &str| test::TestRequest::get().uri(&uri).bearer(token);
        if let Some(admin) = admin {
            let own = send(&app, post(invoices(a), admin)).await;
            assert_eq!(
                (own.status, own.body.as_str()),
                (StatusCode::OK, format!("invoices of {a}").as_str()),
                "{name} {form}: an admin of {a} on {a}'s invoices"
            );
            let encoded = send(&app, post(invoices(&percent_encoded(a)), admin)).await;
            assert_eq!(encoded.status, StatusCode::OK, "{name} {form}: decoded");
            let other = send(&app, post(invoices(b), admin)).await;
            assert_eq!(
                (other.status, other.code().as_str()),
                (StatusCode::FORBIDDEN, "FORBIDDEN"),
                "{name} {form}: an admin of {a} on {b}'s invoices"
            );
            let not_admin = send(&app, post(invoices(a), member)).await;
            assert_eq!(
                not_admin.status,
                StatusCode::FORBIDDEN,
                "{name} {form}: a member of {a} is no admin there"
            );
            assert_eq!(
                send(&app, get(projects(a), admin)).await.status,
                StatusCode::OK,
                "{name} {form}: an admin is a member"
            );
        }
        assert_eq!(
            send(&app, get(projects(a), member)).await.status,
            StatusCode::OK,
            "{name} {form}: a member of {a} on {a}'s projects"
        );
        assert_eq!(
            send(&app, get(projects(b), member)).await.status,
            StatusCode::FORBIDDEN,
            "{name} {form}: a member of {a} on {b}'s projects"
        );
        let anonymous = test::TestRequest::post().uri(&invoices(a));
        assert_eq!(
            send(&app, anonymous).await.status,
            StatusCode::UNAUTHORIZED,
            "{name} {form}"
        );
    }
    if let Some(admin) = admin {
        // What the bound form closes: the unbound guard checks the caller's own organisation.
        let uri = format!("/unbound/orgs/{b}/invoices");
        let trap = send(&app, test::TestRequest::post().uri(&uri).bearer(admin)).await;
        assert_eq!(trap.status, StatusCode::OK, "{name}: the unbound form");
    }
}

fn provider_name(provider: &Provider) -> String {
    format!("{provider:?}").chars().take(50).collect()
}

#[actix_web::test]
async fn organisation_guards_bound_to_the_path_admit_only_that_organisations_callers() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let roles = |roles: &[&str]| roles.iter().map(|r| (*r).to_owned()).collect::<Vec<_>>();

    let clerk = issuer.adopt(Provider::clerk(
        "https://clerk.example.com",
        ["https://app.example.com"],
    ));
    let token = |org: &str, role: &str| {
        issuer
            .token_for(&clerk)
            .organization(org, roles(&[role]))
            .sign()
    };
    let (admin, member) = (token("org_a", "org:admin"), token("org_a", "org:member"));
    bound_guards_hold(&clerk, Some(&admin), &member, "org_a", "org_b").await;

    let zitadel = issuer.adopt(Provider::zitadel(
        "https://acme.zitadel.cloud",
        "263514598346711111",
    ));
    let (a, b) = ("263514200000000002", "263514300000000003");
    let token = |role: &str| {
        issuer
            .token_for(&zitadel)
            .organization(a, roles(&[role]))
            .sign()
    };
    bound_guards_hold(&zitadel, Some(&token("admin")), &token("viewer"), a, b).await;

    let (a, b) = ("org_9ybsU1dN2dKfDkBi", "org_vIK75NKFvaozQsFy");
    let auth0 = issuer.adopt(
        Provider::auth0("exampleco.auth0.com", "https://example-api/")
            .roles_claim("\"https://example.com/roles\"")
            .accept_organizations([a, b]),
    );
    let token = |role: &str| {
        issuer
            .token_for(&auth0)
            .organization(a, roles(&[role]))
            .claim("permissions", ["read:reports"])
            .sign()
    };
    bound_guards_hold(&auth0, Some(&token("admin")), &token("viewer"), a, b).await;

    let entra = issuer.adopt(Provider::entra_multi_tenant(CLIENT, [TENANT, OTHER_TENANT]));
    let token = |tenant: &str, role: &str| {
        issuer
            .token_for(&entra)
            .organization(tenant, roles(&[role]))
            .sign()
    };
    let (admin, member) = (token(TENANT, "admin"), token(TENANT, "reader"));
    bound_guards_hold(&entra, Some(&admin), &member, TENANT, OTHER_TENANT).await;
    // The other tenant's token (its `iss` and `tid` moved together) is that tenant's admin.
    let (admin, member) = (token(OTHER_TENANT, "admin"), token(OTHER_TENANT, "reader"));
    bound_guards_hold(&entra, Some(&admin), &member, OTHER_TENANT, TENANT).await;

    // Keycloak's organisations grant no roles: membership only.
    let keycloak = issuer.adopt(Provider::keycloak(
        "https://sso.example.com",
        "demo",
        "invoices-api",
    ));
    let member = issuer
        .token_for(&keycloak)
        .organization("acme", roles(&[]))
        .sign();
    bound_guards_hold(&keycloak, None, &member, "acme", "globex").await;
}

#[actix_web::test]
async fn a_refused_organisation_names_both_organisations_in_the_log() {
    let (log, _guard) = tests::audit_log::AuditLog::install();
    let issuer = TestIssuer::start().await;
    let clerk = issuer.adopt(Provider::clerk(
        "https://clerk.example.com",
        ["https://app.example.com"],
    ));
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(clerk.clone()).unwrap())
            .service(macro_invoices),
    )
    .await;
    let admin = issuer
        .token_for(&clerk)
        .organization("org_a", ["org:admin"])
        .sign();
    let req = test::TestRequest::post()
        .uri("/macro/orgs/org_b/invoices")
        .bearer(&admin);
    let answer = send(&app, req).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(!answer.body.contains("org_a"), "{}", answer.body);
    let refusals = log.with_outcome("forbidden");
    assert_eq!(refusals.len(), 1, "{:?}", log.events());
    assert!(
        refusals[0]["reason"].contains(
            "the caller acts in organisation \"org_a\"; the request addresses organisation \
             \"org_b\" (path parameter `org`)"
        ),
        "{refusals:?}"
    );
    // A caller in no organisation is told apart.
    log.clear();
    let personal = issuer.token_for(&clerk).sign();
    let req = test::TestRequest::post()
        .uri("/macro/orgs/org_b/invoices")
        .bearer(&personal);
    assert_eq!(send(&app, req).await.status, StatusCode::FORBIDDEN);
    assert!(
        log.with_outcome("forbidden")[0]["reason"].contains("the caller acts in no organisation"),
        "{:?}",
        log.events()
    );
}

/// Auth0's "Work with Tokens and Organizations" example access token, issued in an
/// organisation's context (iat/exp renewed; the roles claim an Action adds).
fn auth0_organisation_token(issuer: &TestIssuer, provider: &Provider, org_id: &str) -> String {
    issuer
        .token_for(provider)
        .subject("auth0|602c0dcab993d10073daf680")
        .audiences([
            "https://example-api/",
            &format!("{}/userinfo", issuer.issuer()),
        ])
        .claim("azp", "ENDmmAJsbwI1hOG1KPJddQ8LHjV6kLkV")
        .claim("scope", "openid profile email read:reports")
        .organization(org_id, ["admin"])
        .claim("permissions", ["read:reports", "write:reports"])
        .sign()
}

#[actix_web::test]
async fn auth0_tokens_of_organisations_the_api_has_not_named_are_refused() {
    let (log, _guard) = tests::audit_log::AuditLog::install();
    let issuer = TestIssuer::start().await;
    let org = "org_9ybsU1dN2dKfDkBi";
    let auth0 = || {
        issuer.adopt(
            Provider::auth0("exampleco.auth0.com", "https://example-api/")
                .roles_claim("\"https://example.com/roles\""),
        )
    };
    let app = |provider: Provider| {
        test::init_service(
            App::new()
                .wrap(JwtAuth::new(provider).unwrap())
                .service(app_admin)
                .service(macro_invoices),
        )
    };
    let token = auth0_organisation_token(&issuer, &auth0(), org);
    let invoices = |token: &str| {
        test::TestRequest::post()
            .uri(&format!("/macro/orgs/{org}/invoices"))
            .bearer(token)
    };

    // No accept setting: Auth0 asks the API to deem such a token invalid.
    let unset = app(auth0()).await;
    let answer = send(&unset, invoices(&token)).await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (StatusCode::UNAUTHORIZED, "INVALID_TOKEN")
    );
    let refused = log.with_outcome("rejected");
    assert_eq!(refused.len(), 1, "{:?}", log.events());
    assert!(
        refused[0]["reason"].contains("Provider::accept_organizations")
            && refused[0]["reason"].contains(org),
        "{refused:?}"
    );

    // Named: admitted, as the organisation's admin and not the application's.
    let named = app(auth0().accept_organizations([org])).await;
    assert_eq!(send(&named, invoices(&token)).await.status, StatusCode::OK);
    let admin = test::TestRequest::get().uri("/admin").bearer(&token);
    assert_eq!(send(&named, admin).await.status, StatusCode::FORBIDDEN);

    // Another organisation's token, with a list that does not name it.
    let other = auth0_organisation_token(&issuer, &auth0(), "org_vIK75NKFvaozQsFy");
    let answer = send(&named, invoices(&other)).await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (StatusCode::UNAUTHORIZED, "INVALID_TOKEN")
    );

    // Any organisation, explicitly; the path still decides which one a request may touch.
    let any = app(auth0().accept_any_organization()).await;
    assert_eq!(send(&any, invoices(&token)).await.status, StatusCode::OK);
    assert_eq!(
        send(&any, invoices(&other)).await.status,
        StatusCode::FORBIDDEN
    );

    // A token without org_id is as before, whatever the setting: its roles are the application's.
    for app in [&unset, &named] {
        let plain = issuer.token_for(&auth0()).roles(["admin"]).sign();
        let admin = test::TestRequest::get().uri("/admin").bearer(&plain);
        assert_eq!(send(app, admin).await.status, StatusCode::OK);
    }
}

/// Zitadel names no user type in its tokens: a service user's JWT access token is told from a
/// person's by `client_id` (the user itself, not one of the applications people sign in through,
/// `zitadel_user_clients`). Each grant's shape, as Zitadel's code writes it, against the guards for
/// people and machines.
#[actix_web::test]
async fn zitadel_service_users_are_machines_whatever_their_grant() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let project = "263514598346711111";
    let zitadel = issuer.adopt(
        Provider::zitadel("https://acme.zitadel.cloud", project)
            .zitadel_user_clients([ZITADEL_WEB_CLIENT_ID]),
    );
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(zitadel.clone()).unwrap())
            .service(password)
            .service(jobs)
            .route("/people", web::get().to(people)),
    )
    .await;
    let jwt_profile = issuer
        .token_for(&zitadel)
        .zitadel_service_user(ServiceUserGrant::JwtProfile)
        .sign();
    let client_credentials = issuer
        .token_for(&zitadel)
        .zitadel_service_user(ServiceUserGrant::ClientCredentials)
        .sign();
    // What a person's token carries: the application's client ID, listed in `aud` with the project.
    let person = issuer
        .token_for(&zitadel)
        .subject("263514598346700007")
        .sign();
    let shape = tests::payload(&person);
    assert_eq!(
        shape["aud"],
        json!([project, shape["client_id"]]),
        "{shape}"
    );
    assert!(shape.get("preferred_username").is_none() && shape.get("azp").is_none());
    let machine = tests::payload(&client_credentials);
    assert!(machine["client_id"] != machine["sub"] && machine["aud"] == json!([project]));

    let get = |uri: &str, token: &str| test::TestRequest::get().uri(uri).bearer(token);
    for (name, machine) in [
        ("JWT profile", &jwt_profile),
        ("client credentials", &client_credentials),
    ] {
        for (uri, status) in [
            ("/me/password", StatusCode::FORBIDDEN),
            ("/people", StatusCode::FORBIDDEN),
            ("/jobs", StatusCode::OK),
        ] {
            assert_eq!(
                send(&app, get(uri, machine)).await.status,
                status,
                "{name} {uri}"
            );
        }
    }
    for (uri, status) in [
        ("/me/password", StatusCode::OK),
        ("/people", StatusCode::OK),
        ("/jobs", StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            send(&app, get(uri, &person)).await.status,
            status,
            "person {uri}"
        );
    }
    // A person's client that is not among the audiences (or no client at all) is no person's.
    for token in [
        issuer.token_for(&zitadel).audiences([project]).sign(),
        issuer.token_for(&zitadel).without_claim("client_id").sign(),
    ] {
        assert_eq!(
            send(&app, get("/me/password", &token)).await.status,
            StatusCode::FORBIDDEN
        );
    }
    // Nor is a client that is not listed, though Zitadel put it in `aud` (any `:aud` scope does);
    // and nor is it a machine's: a person signing in through an unlisted application looks so.
    let unlisted = issuer
        .token_for(&zitadel)
        .audiences([project, "263514598346799999@other"])
        .claim("client_id", "263514598346799999@other")
        .sign();
    for (uri, status) in [
        ("/me/password", StatusCode::FORBIDDEN),
        ("/jobs", StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            send(&app, get(uri, &unlisted)).await.status,
            status,
            "{uri}"
        );
    }
}

struct People;
impl NamedRule for People {
    const RULE: Rule = Rule::user();
}
async fn people(_: Require<People>) -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// Without `zitadel_user_clients`, a Zitadel token shaped like a person's may be a service user's
/// (one extra `:aud` scope makes it so): `IdentityKind::Unknown`, which the person's guards (the
/// attribute, `Rule::user`, `Authorize::user`) and the machine's refuse with 403, the log naming
/// the setting. Machines' own shapes stay machines.
#[actix_web::test]
async fn zitadel_tokens_that_may_be_a_persons_or_a_machines_pass_neither_guard() {
    let (log, _guard) = tests::audit_log::AuditLog::install();
    let issuer = TestIssuer::start().await;
    let project = "263514598346711111";
    let zitadel = issuer.adopt(Provider::zitadel("https://acme.zitadel.cloud", project));
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(zitadel.clone()).unwrap())
            .service(password)
            .service(jobs)
            .route("/people", web::get().to(people))
            .service(
                web::resource("/people-too")
                    .wrap(Authorize::user())
                    .to(HttpResponse::Ok),
            )
            .service(
                web::resource("/machines-too")
                    .wrap(Authorize::service())
                    .to(HttpResponse::Ok),
            ),
    )
    .await;
    let person = issuer
        .token_for(&zitadel)
        .subject("263514598346700007")
        .sign();
    let claims = verify(&zitadel, &person).await.unwrap();
    assert_eq!(claims.identity().kind, IdentityKind::Unknown);
    let get = |uri: &str, token: &str| test::TestRequest::get().uri(uri).bearer(token);
    for uri in [
        "/me/password",
        "/people",
        "/people-too",
        "/jobs",
        "/machines-too",
    ] {
        log.clear();
        let answer = send(&app, get(uri, &person)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{uri}");
        assert_eq!(answer.code(), "FORBIDDEN", "{uri}");
        assert!(!answer.body.contains("zitadel"), "{uri}: {}", answer.body);
        let forbidden = log.with_outcome("forbidden");
        assert_eq!(forbidden.len(), 1, "{uri}: {:?}", log.events());
        assert!(
            forbidden[0]["reason"].contains("Provider::zitadel_user_clients"),
            "{uri}: {forbidden:?}"
        );
    }
    let machine = issuer
        .token_for(&zitadel)
        .zitadel_service_user(ServiceUserGrant::ClientCredentials)
        .sign();
    for (uri, status) in [
        ("/me/password", StatusCode::FORBIDDEN),
        ("/jobs", StatusCode::OK),
        ("/machines-too", StatusCode::OK),
    ] {
        assert_eq!(send(&app, get(uri, &machine)).await.status, status, "{uri}");
    }
}

/// With `accept_organizations`, Zitadel and Keycloak refuse a token that leaves the caller's
/// organisation out (their clients choose whether it is named), 401 `INVALID_TOKEN` with the scope
/// to request in the log; Auth0 and Clerk take a token naming none as a login outside any
/// organisation.
#[actix_web::test]
async fn accepting_organisations_refuses_tokens_that_leave_theirs_out_where_the_client_chooses() {
    let (log, _guard) = tests::audit_log::AuditLog::install();
    let issuer = TestIssuer::start().await;
    let accepted = "263514100000000001";
    let zitadel = issuer.adopt(
        Provider::zitadel("https://acme.zitadel.cloud", "263514598346711111")
            .accept_organizations([accepted]),
    );
    let keycloak = issuer.adopt(
        Provider::keycloak("https://sso.example.com", "demo", "orders-api")
            .accept_organizations(["acme"]),
    );
    let cases = [
        (
            &zitadel,
            issuer
                .token_for(&zitadel)
                .organization(accepted, ["viewer"]),
            issuer
                .token_for(&zitadel)
                .organization(accepted, ["viewer"])
                .without_claim("urn:zitadel:iam:user:resourceowner:id"),
            "`urn:zitadel:iam:user:resourceowner`",
        ),
        (
            &keycloak,
            issuer
                .token_for(&keycloak)
                .organization("acme", Vec::<String>::new()),
            issuer.token_for(&keycloak),
            "`organization`",
        ),
    ];
    for (provider, named, unnamed, scope) in cases {
        let app = test::init_service(
            App::new()
                .wrap(JwtAuth::new(provider.clone()).unwrap())
                .route("/", web::get().to(HttpResponse::Ok)),
        )
        .await;
        let get = |token: &str| test::TestRequest::get().uri("/").bearer(token);
        assert_eq!(send(&app, get(&named.sign())).await.status, StatusCode::OK);
        log.clear();
        let answer = send(&app, get(&unnamed.sign())).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{scope}");
        assert_eq!(answer.code(), "INVALID_TOKEN");
        assert!(!answer.body.contains("scope"), "{}", answer.body);
        let rejected = log.with_outcome("rejected");
        assert_eq!(rejected.len(), 1, "{:?}", log.events());
        assert!(rejected[0]["reason"].contains(scope), "{rejected:?}");
    }

    // Auth0 without org_id, Clerk without an active organisation: outside any organisation.
    let auth0 = issuer.adopt(
        Provider::auth0("tenant.us.auth0.com", "https://api.example.com")
            .accept_organizations(["org_9ybsU1dN2dKfDkBi"]),
    );
    let clerk = issuer.adopt(
        Provider::clerk("https://clerk.example.com", ["https://app.example.com"])
            .accept_organizations(["org_2abc"]),
    );
    for provider in [&auth0, &clerk] {
        let token = issuer.token_for(provider).sign();
        let claims = verify(provider, &token).await.unwrap();
        assert!(claims.identity().organization.is_none());
        let elsewhere = issuer
            .token_for(provider)
            .organization("org_other", Vec::<String>::new())
            .sign();
        assert!(matches!(
            verify(provider, &elsewhere).await.unwrap_err(),
            AuthError::OrganizationNotAccepted(_)
        ));
    }
}
