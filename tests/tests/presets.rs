//! Every provider preset against the loopback issuer: a token shaped like the provider's real ones
//! verifies and maps to the right identity, and each provider's known pitfall is refused.
//!
//! Fixed-host presets keep their real issuer strings; only the key URL points at the loopback
//! issuer (`jwks_url`), so the tokens carry exactly the `iss` the real provider writes.

use std::time::Duration;

use auth_core::testing::TestIssuer;
use auth_core::{
    Algorithm, AuthError, IdentityKind, KeySettings, Provider, StandardClaims, TokenSource,
    Verifier,
};
use serde_json::json;
use tests::init_tracing;

const CF_AUD: &str = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

fn fast(provider: Provider) -> Provider {
    provider.key_settings(KeySettings {
        ..TestIssuer::fast_key_settings()
    })
}

async fn verify(
    provider: Provider,
    token: &str,
) -> Result<auth_core::Claims<StandardClaims>, AuthError> {
    Verifier::new(fast(provider))
        .expect("preset settings are valid")
        .verify::<StandardClaims>(token)
        .await
}

fn roles(claims: &auth_core::Claims<StandardClaims>) -> Vec<String> {
    claims.identity().roles.iter().cloned().collect()
}

fn scopes(claims: &auth_core::Claims<StandardClaims>) -> Vec<String> {
    claims.identity().scopes.iter().cloned().collect()
}

#[tokio::test]
async fn cloudflare_access_user_and_service_tokens() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let provider = || Provider::cloudflare_access(issuer.issuer(), CF_AUD);
    assert_eq!(
        Verifier::new(provider()).unwrap().token_sources(),
        [
            TokenSource::header("Cf-Access-Jwt-Assertion"),
            TokenSource::cookie("CF_Authorization")
        ]
    );
    let user = issuer
        .token()
        .audiences([CF_AUD])
        .subject("7335d417-61da-459d-899c-0a01c76a2f94")
        .email("user@example.com")
        .claim("type", "app")
        .claim("identity_nonce", "6ei69kawdKzMIAPF")
        .claim("country", "US")
        .sign();
    let claims = verify(provider(), &user).await.unwrap();
    assert_eq!(claims.identity().email.as_deref(), Some("user@example.com"));
    assert_eq!(claims.identity().kind, IdentityKind::User);

    let service = issuer
        .token()
        .audiences([CF_AUD])
        .subject("")
        .claim("common_name", "a1b2c3.access")
        .claim("type", "app")
        .sign();
    let claims = verify(provider(), &service).await.unwrap();
    assert_eq!(claims.identity().kind, IdentityKind::Service);
    assert_eq!(claims.identity().subject, "a1b2c3.access");
    assert_eq!(claims.identity().email, None);

    let org_token = issuer
        .token()
        .audiences([CF_AUD])
        .email("user@example.com")
        .claim("type", "org")
        .sign();
    assert_eq!(
        verify(provider(), &org_token).await.unwrap_err(),
        AuthError::InvalidClaim("type".into())
    );

    let other_app = issuer
        .token()
        .audiences(["0".repeat(64)])
        .claim("type", "app")
        .sign();
    assert_eq!(
        verify(provider(), &other_app).await.unwrap_err().reason(),
        "bad_audience"
    );

    let err = Verifier::new(Provider::cloudflare_access(
        "team.cloudflareaccess.com",
        "my-app",
    ))
    .unwrap_err();
    assert!(err.to_string().contains("AUD tag"), "{err}");
    assert!(
        Verifier::new(Provider::cloudflare_access(
            "team.cloudflareaccess.com",
            CF_AUD
        ))
        .is_ok(),
        "bare host"
    );
}

#[tokio::test]
async fn zitadel_roles_count_for_the_application_only_from_trusted_organisations() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let project = "263514598346711111";
    let owner = "263514100000000001";
    let provider = || Provider::zitadel(issuer.issuer(), project).trusted_organizations([owner]);
    let qualified = format!("urn:zitadel:iam:org:project:{project}:roles");
    let token = issuer
        .token()
        .audiences([project, "263514598346722222@my-app"])
        .claim("client_id", "263514598346722222@my-app")
        .claim(&qualified, json!({"editor": {owner: "acme.zitadel.cloud"}}))
        .claim("urn:zitadel:iam:user:resourceowner:id", owner)
        .scopes(["openid", "profile"])
        .sign();
    let claims = verify(provider(), &token).await.unwrap();
    assert_eq!(roles(&claims), ["editor"]);
    assert_eq!(scopes(&claims), ["openid", "profile"]);
    assert!(
        claims.identity().has_org_role("editor"),
        "the owner granted it"
    );

    // A customer organisation granted the project grants its own admin; that is its business.
    let customer = "263514200000000002";
    let customer_admin = issuer
        .token()
        .audiences([project])
        .claim(
            &qualified,
            json!({"admin": {customer: "customer.zitadel.cloud"}, "viewer": {owner: "a"}}),
        )
        .claim("urn:zitadel:iam:user:resourceowner:id", customer)
        .sign();
    let claims = verify(provider(), &customer_admin).await.unwrap();
    assert_eq!(roles(&claims), ["viewer"]);
    let org = claims.identity().organization.clone().unwrap();
    assert_eq!(org.id, customer);
    assert!(org.has_role("admin") && !claims.identity().has_role("admin"));

    let untrusted = verify(Provider::zitadel(issuer.issuer(), project), &token)
        .await
        .unwrap();
    assert!(
        roles(&untrusted).is_empty(),
        "no organisation is trusted unless named"
    );

    let other_project = issuer.token().audiences(["999"]).sign();
    assert_eq!(
        verify(provider(), &other_project)
            .await
            .unwrap_err()
            .reason(),
        "bad_audience"
    );
}

/// The unqualified `urn:zitadel:iam:org:project:roles` holds the roles of the requesting client's
/// project: a client of the owner's billing project that adds this project to its audience
/// (`urn:zitadel:iam:org:project:id:<id>:aud`) carries billing's `admin` there.
#[tokio::test]
async fn zitadel_reads_only_this_projects_roles_unless_told_otherwise() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let project = "263514598346711111";
    let billing = "263514598346799999";
    let owner = "263514100000000001";
    let provider = || Provider::zitadel(issuer.issuer(), project).trusted_organizations([owner]);
    let billing_client = "263514598346788888@billing";
    let from_billing = issuer
        .token()
        .audiences([billing_client, billing, project])
        .claim("client_id", billing_client)
        .claim(
            "urn:zitadel:iam:org:project:roles",
            json!({"admin": {owner: "acme.zitadel.cloud"}}),
        )
        .claim(
            format!("urn:zitadel:iam:org:project:{billing}:roles"),
            json!({"admin": {owner: "acme.zitadel.cloud"}}),
        )
        .claim(
            format!("urn:zitadel:iam:org:project:{project}:roles"),
            json!({"viewer": {owner: "acme.zitadel.cloud"}}),
        )
        .sign();
    let claims = verify(provider(), &from_billing).await.unwrap();
    assert_eq!(
        roles(&claims),
        ["viewer"],
        "billing's admin is not this project's"
    );
    assert!(!claims.identity().has_org_role("admin"));

    // Opted in: the unqualified claim counts beside the qualified one.
    let opted_in = verify(provider().zitadel_unqualified_roles(), &from_billing)
        .await
        .unwrap();
    assert_eq!(roles(&opted_in), ["admin", "viewer"]);

    // Anything but Zitadel's object of roles is ignored, whichever claim holds it.
    let wrapped = issuer
        .token()
        .audiences([project])
        .claim(
            format!("urn:zitadel:iam:org:project:{project}:roles"),
            json!([{"admin": {owner: "acme.zitadel.cloud"}}]),
        )
        .claim("urn:zitadel:iam:org:project:roles", json!(["admin"]))
        .sign();
    let claims = verify(provider().zitadel_unqualified_roles(), &wrapped)
        .await
        .unwrap();
    assert!(roles(&claims).is_empty(), "{:?}", roles(&claims));

    let not_zitadel = Provider::oidc(issuer.issuer())
        .audience("api")
        .zitadel_unqualified_roles();
    let error = Verifier::new(not_zitadel).unwrap_err();
    assert!(
        error.setting.ends_with("zitadel_unqualified_roles"),
        "{error}"
    );
}

#[tokio::test]
async fn zitadel_settings_that_cannot_work_are_refused_at_startup() {
    let zitadel =
        |project: &str| Verifier::new(Provider::zitadel("https://x.zitadel.cloud", project));
    for accepted in [
        "263514598346711111",
        " 263514598346711111 ",
        "69234237810729019",
    ] {
        assert!(zitadel(accepted).is_ok(), "{accepted:?}");
    }
    for refused in [
        "",
        "invoices",
        "12345",
        "263514598346711111@invoices",
        "2635145983467-1111",
    ] {
        let error = zitadel(refused).unwrap_err();
        assert!(
            error.setting.ends_with("project_id")
                && error
                    .problem
                    .contains("shown on the project's page in the console"),
            "{refused:?}: {error}"
        );
    }
}

/// The client IDs people sign in through decide who is a person on Zitadel: a setting that would
/// decide nothing, or something else, stops the verifier from starting.
#[tokio::test]
async fn zitadel_user_clients_that_cannot_work_are_refused_at_startup() {
    let project = "263514598346711111";
    let zitadel = || Provider::zitadel("https://x.zitadel.cloud", project);
    let client = "263514598346722222@invoices";
    assert!(Verifier::new(zitadel().zitadel_user_clients([client, "263514598346744444"])).is_ok());
    let refused = [
        (
            zitadel().zitadel_user_clients(Vec::<String>::new()),
            "empty",
        ),
        (
            zitadel().zitadel_user_clients([client, ""]),
            "without spaces",
        ),
        (
            zitadel().zitadel_user_clients([" 263514598346722222"]),
            "without spaces",
        ),
        (
            zitadel().zitadel_user_clients([project]),
            "the project's ID",
        ),
        (
            zitadel()
                .zitadel_user_clients([client])
                .zitadel_user_clients(["263514598346744444"]),
            "in one call",
        ),
        (
            zitadel()
                .service_marker(auth_actix::core::ServiceMarker::ClaimPresent(
                    auth_actix::core::ClaimPath::claim("machine"),
                ))
                .zitadel_user_clients([client]),
            "in one call",
        ),
        (
            Provider::oidc("https://issuer.example.com")
                .audience("api")
                .zitadel_user_clients([client]),
            "only a Provider::zitadel",
        ),
    ];
    for (provider, problem) in refused {
        let error = Verifier::new(provider).unwrap_err();
        assert!(
            error.setting.ends_with("zitadel_user_clients") && error.problem.contains(problem),
            "{problem}: {error}"
        );
    }
}

#[tokio::test]
async fn a_blank_trusted_organisation_is_refused_for_every_preset() {
    // Each preset's organisation IDs as its tokens write them (Entra's are tenant GUIDs).
    let presets = [
        (
            Provider::zitadel("https://x.zitadel.cloud", "263514598346711111"),
            "org-1",
        ),
        (
            Provider::clerk("https://clerk.example.com", ["https://app.example.com"]),
            "org-1",
        ),
        (Provider::entra_multi_tenant(CLIENT, [TENANT]), TENANT),
        (
            Provider::auth0("tenant.us.auth0.com", "https://api.example.com"),
            "org-1",
        ),
        (
            Provider::oidc("https://issuer.example.com").audience("api"),
            "org-1",
        ),
    ];
    for (preset, id) in presets {
        assert!(Verifier::new(preset.clone().trusted_organizations([id])).is_ok());
        for blank in ["", "   "] {
            let error =
                Verifier::new(preset.clone().trusted_organizations([id, blank])).unwrap_err();
            assert!(
                error.setting.ends_with("trusted_organizations") && error.problem.contains("empty"),
                "{error}"
            );
        }
    }
}

/// Zitadel's web keys sign with RS256/384/512, ES256/384/512 or EdDSA (ES512 is not verified by
/// this crate); PS256 is not among them.
#[tokio::test]
async fn zitadel_accepts_the_algorithms_its_web_keys_use() {
    init_tracing();
    let issuer = TestIssuer::start_with(&[
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
        Algorithm::PS256,
    ])
    .await;
    let zitadel = issuer.adopt(Provider::zitadel(
        "https://acme.zitadel.cloud",
        "263514598346711111",
    ));
    for alg in [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let token = issuer.token_for(&zitadel).algorithm(alg).sign();
        assert!(verify(zitadel.clone(), &token).await.is_ok(), "{alg}");
    }
    let pss = issuer
        .token_for(&zitadel)
        .algorithm(Algorithm::PS256)
        .sign();
    assert_eq!(
        verify(zitadel, &pss).await.unwrap_err(),
        AuthError::AlgorithmNotAllowed
    );
}

#[tokio::test]
async fn clerk_checks_azp_and_reads_v1_and_v2_organisations() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let provider = || Provider::clerk(issuer.issuer(), ["https://app.example.com"]);
    assert_eq!(
        Verifier::new(provider()).unwrap().token_sources(),
        [
            TokenSource::Bearer,
            TokenSource::WebSocketProtocol,
            TokenSource::cookie("__session")
        ]
    );
    let session = || {
        issuer
            .token()
            .without_claim("aud")
            .subject("user_2NNEqL2nrIRdJ194ndJqAHwEfxC")
            .expires_in(Duration::from_secs(60))
            .claim("azp", "https://app.example.com")
            .claim("sid", "sess_2NNEqL2nrIRdJ194ndJqAHwEfxD")
    };
    let v1 = session()
        .claim("org_id", "org_123")
        .claim("org_role", "org:admin")
        .claim("org_permissions", ["org:invoices:read"])
        .sign();
    let claims = verify(provider(), &v1).await.unwrap();
    let org = claims.identity().organization.clone().unwrap();
    assert_eq!(org.id, "org_123");
    assert!(org.has_role("org:admin") && org.permissions.contains("org:invoices:read"));
    assert!(
        roles(&claims).is_empty() && scopes(&claims).is_empty(),
        "nothing for the app"
    );

    let v2 = session()
        .claim("v", 2)
        .claim("fea", "o:invoices,o:teams")
        .claim(
            "o",
            json!({"id": "org_123", "rol": "admin", "per": "manage,read", "fpm": "3,2"}),
        )
        .sign();
    let org = verify(provider(), &v2)
        .await
        .unwrap()
        .identity()
        .organization
        .clone()
        .unwrap();
    assert!(
        org.has_role("org:admin"),
        "v2's `admin` in Clerk's own form"
    );
    let permissions: Vec<&str> = org.permissions.iter().map(String::as_str).collect();
    assert_eq!(
        permissions,
        ["org:invoices:manage", "org:invoices:read", "org:teams:read"]
    );

    let staff = verify(provider().trusted_organizations(["org_123"]), &v2)
        .await
        .unwrap();
    assert!(
        staff.identity().has_role("org:admin"),
        "a trusted organisation's roles count"
    );
    assert!(staff.identity().has_scope("org:teams:read"));

    let elsewhere = session().claim("azp", "https://evil.example.com").sign();
    assert_eq!(
        verify(provider(), &elsewhere).await.unwrap_err().reason(),
        "bad_azp"
    );
    let no_azp = session().without_claim("azp").sign();
    assert_eq!(
        verify(provider(), &no_azp).await.unwrap_err().reason(),
        "bad_azp"
    );

    let err = Verifier::new(Provider::clerk(
        "https://x.clerk.accounts.dev",
        Vec::<String>::new(),
    ))
    .unwrap_err();
    assert!(err.to_string().contains("authorized_parties"), "{err}");
    let err = Verifier::new(Provider::clerk(
        "https://x.clerk.accounts.dev",
        ["app.example.com"],
    ))
    .unwrap_err();
    assert!(err.to_string().contains("origin"), "{err}");
}

#[tokio::test]
async fn auth0_issuer_has_a_trailing_slash() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let provider = || Provider::auth0(issuer.issuer(), "https://api.example.com");
    let with_slash = format!("{}/", issuer.issuer());
    let token = issuer
        .token()
        .issuer(&with_slash)
        .audiences(["https://api.example.com", &format!("{with_slash}userinfo")])
        .claim("permissions", ["read:items", "write:items"])
        .claim("https://example.com/roles", ["admin"])
        .scopes(["openid", "profile"])
        .claim("azp", "my-client")
        .sign();
    let claims = verify(provider(), &token).await.unwrap();
    assert!(
        roles(&claims).is_empty(),
        "no roles claim configured, none read"
    );
    assert_eq!(
        scopes(&claims),
        ["openid", "profile", "read:items", "write:items"]
    );
    let claims = verify(
        provider().roles_claim("\"https://example.com/roles\""),
        &token,
    )
    .await
    .unwrap();
    assert_eq!(roles(&claims), ["admin"]);

    let no_slash = issuer
        .token()
        .issuer(issuer.issuer())
        .audience("https://api.example.com")
        .sign();
    assert!(matches!(
        verify(provider(), &no_slash).await.unwrap_err(),
        AuthError::UnknownIssuer { .. }
    ));

    let namespaced = issuer
        .token()
        .issuer(&with_slash)
        .audience("https://api.example.com")
        .claim("https://example.com/roles", ["owner"])
        .sign();
    let claims = verify(
        provider().roles_claim("\"https://example.com/roles\""),
        &namespaced,
    )
    .await
    .unwrap();
    assert_eq!(roles(&claims), ["owner"]);
}

#[tokio::test]
async fn keycloak_realm_and_client_roles_and_audience_mapper() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let realm_issuer = format!("{}/realms/demo", issuer.issuer());
    let provider = || Provider::keycloak(issuer.issuer(), "demo", "orders-api");
    let token = issuer
        .token()
        .issuer(&realm_issuer)
        .audiences(["orders-api", "account"])
        .claim("azp", "orders-web")
        .claim("typ", "Bearer")
        .claim(
            "realm_access",
            json!({"roles": ["offline_access", "admin"]}),
        )
        .claim(
            "resource_access",
            json!({
                "orders-api": {"roles": ["orders:write"]},
                "account": {"roles": ["manage-account"]}
            }),
        )
        .scopes(["openid", "email"])
        .sign();
    let claims = verify(provider(), &token).await.unwrap();
    assert_eq!(roles(&claims), ["admin", "offline_access", "orders:write"]);
    assert!(
        !claims.identity().has_role("manage-account"),
        "other clients' roles stay out"
    );

    let default_audience = issuer
        .token()
        .issuer(&realm_issuer)
        .audience("account")
        .claim("typ", "Bearer")
        .sign();
    assert_eq!(
        verify(provider(), &default_audience)
            .await
            .unwrap_err()
            .reason(),
        "bad_audience"
    );
}

#[tokio::test]
async fn entra_v2_v1_and_multi_tenant() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let v2_issuer = format!("https://login.microsoftonline.com/{TENANT}/v2.0");
    let v2 = || Provider::entra(TENANT, CLIENT).jwks_url(issuer.jwks_url());
    let token = issuer
        .token()
        .issuer(&v2_issuer)
        .audience(CLIENT)
        .claim("tid", TENANT)
        .claim("azp", "b5b2a3c4-0000-0000-0000-00000000c11e")
        .claim("oid", "00000000-0000-0000-66f3-3332eca7ea81")
        .claim("roles", ["Orders.Admin"])
        .claim("groups", ["8a2c7e3b-0000-0000-0000-000000000001"])
        .claim("scp", "Orders.Read Orders.Write")
        .claim("ver", "2.0")
        .sign();
    let claims = verify(v2(), &token).await.unwrap();
    assert_eq!(
        roles(&claims),
        ["8a2c7e3b-0000-0000-0000-000000000001", "Orders.Admin"]
    );
    assert_eq!(scopes(&claims), ["Orders.Read", "Orders.Write"]);
    assert_eq!(claims.identity().kind, IdentityKind::User);

    let app_only = issuer
        .token()
        .issuer(&v2_issuer)
        .audience(CLIENT)
        .claim("tid", TENANT)
        .claim("azp", "b5b2a3c4-0000-0000-0000-00000000c11e")
        .claim("idtyp", "app")
        .claim("roles", ["Jobs.Run"])
        .sign();
    assert_eq!(
        verify(v2(), &app_only).await.unwrap().identity().kind,
        IdentityKind::Service
    );

    // A v1 token sent to a v2 API: the issuer form differs and it is refused.
    let v1_token = issuer
        .token()
        .issuer(format!("https://sts.windows.net/{TENANT}/"))
        .audience(format!("api://{CLIENT}"))
        .claim("appid", "b5b2a3c4-0000-0000-0000-00000000c11e")
        .sign();
    assert!(matches!(
        verify(v2(), &v1_token).await.unwrap_err(),
        AuthError::UnknownIssuer { .. }
    ));
    verify(
        Provider::entra_v1(TENANT, CLIENT).jwks_url(issuer.jwks_url()),
        &v1_token,
    )
    .await
    .unwrap();

    let multi = || Provider::entra_multi_tenant(CLIENT, [TENANT]).jwks_url(issuer.jwks_url());
    verify(multi(), &token).await.unwrap();
    let mismatched_tid = issuer
        .token()
        .issuer(&v2_issuer)
        .audience(CLIENT)
        .claim("azp", "b5b2a3c4-0000-0000-0000-00000000c11e")
        .claim("tid", "another-tenant")
        .sign();
    assert_eq!(
        verify(multi(), &mismatched_tid).await.unwrap_err(),
        AuthError::InvalidClaim("tid".into())
    );
    let stranger = issuer
        .token()
        .issuer("https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0")
        .audience(CLIENT)
        .sign();
    assert!(matches!(
        verify(multi(), &stranger).await.unwrap_err(),
        AuthError::UnknownIssuer { .. }
    ));

    for tenant in ["common", "organizations"] {
        let err = Verifier::new(Provider::entra(tenant, CLIENT)).unwrap_err();
        assert!(err.to_string().contains("entra_multi_tenant"), "{err}");
    }
}

#[tokio::test]
async fn okta_scp_array_groups_and_org_server_refusal() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let okta_issuer = format!("{}/oauth2/default", issuer.issuer());
    let token = issuer
        .token()
        .issuer(&okta_issuer)
        .audience("api://default")
        .claim("scp", ["openid", "items:read"])
        .claim("groups", ["Everyone", "admin"])
        .claim("cid", "0oa1b2c3d4")
        .claim("uid", "00u1b2c3d4")
        .sign();
    let claims = verify(Provider::okta(&okta_issuer, "api://default"), &token)
        .await
        .unwrap();
    assert_eq!(roles(&claims), ["Everyone", "admin"]);
    assert_eq!(scopes(&claims), ["items:read", "openid"]);

    let err =
        Verifier::new(Provider::okta("https://dev-123.okta.com", "api://default")).unwrap_err();
    assert!(
        err.to_string().contains("org authorization server"),
        "{err}"
    );
}

#[tokio::test]
async fn cognito_access_tokens_check_client_id_and_token_use() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let pool = "eu-west-1_AbCdEf123";
    let cognito_issuer = format!("https://cognito-idp.eu-west-1.amazonaws.com/{pool}");
    let access = || Provider::cognito("eu-west-1", pool, "5h4n3client").jwks_url(issuer.jwks_url());
    let token = issuer
        .token()
        .issuer(&cognito_issuer)
        .without_claim("aud")
        .claim("client_id", "5h4n3client")
        .claim("token_use", "access")
        .claim("cognito:groups", ["admin", "staff"])
        .claim("username", "alice")
        .scopes(["aws.cognito.signin.user.admin", "orders/read"])
        .sign();
    let claims = verify(access(), &token).await.unwrap();
    assert_eq!(roles(&claims), ["admin", "staff"]);
    assert_eq!(
        scopes(&claims),
        ["aws.cognito.signin.user.admin", "orders/read"]
    );

    let id_token = issuer
        .token()
        .issuer(&cognito_issuer)
        .audience("5h4n3client")
        .claim("client_id", "5h4n3client")
        .claim("token_use", "id")
        .sign();
    assert_eq!(
        verify(access(), &id_token).await.unwrap_err(),
        AuthError::InvalidClaim("token_use".into())
    );
    let id_provider =
        Provider::cognito_id_tokens("eu-west-1", pool, "5h4n3client").jwks_url(issuer.jwks_url());
    verify(id_provider, &id_token).await.unwrap();

    let other_client = issuer
        .token()
        .issuer(&cognito_issuer)
        .claim("client_id", "other")
        .claim("token_use", "access")
        .sign();
    assert_eq!(
        verify(access(), &other_client).await.unwrap_err().reason(),
        "bad_audience"
    );

    let err =
        Verifier::new(Provider::cognito("eu-west-1", "us-east-1_AbCdEf123", "c")).unwrap_err();
    assert!(err.to_string().contains("belongs to region"), "{err}");
}

#[tokio::test]
async fn firebase_requires_uid_and_past_auth_time() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let firebase_issuer = "https://securetoken.google.com/my-project";
    let provider = || Provider::firebase("my-project").jwks_url(issuer.jwks_url());
    let now = tests::payload(&issuer.token().sign())["iat"]
        .as_i64()
        .unwrap();
    let token = issuer
        .token()
        .issuer(firebase_issuer)
        .audience("my-project")
        .subject("uid-123")
        .claim("auth_time", now - 100)
        .claim("user_id", "uid-123")
        .claim("roles", ["admin"])
        .claim("firebase", json!({"sign_in_provider": "password"}))
        .sign();
    let claims = verify(provider(), &token).await.unwrap();
    assert_eq!(roles(&claims), ["admin"]);

    let future = issuer
        .token()
        .issuer(firebase_issuer)
        .audience("my-project")
        .claim("auth_time", now + 3600)
        .sign();
    assert_eq!(
        verify(provider(), &future).await.unwrap_err(),
        AuthError::IssuedInFuture
    );
    let no_uid = issuer
        .token()
        .issuer(firebase_issuer)
        .audience("my-project")
        .subject("")
        .claim("auth_time", now)
        .sign();
    assert_eq!(
        verify(provider(), &no_uid).await.unwrap_err(),
        AuthError::MissingClaim("sub".into())
    );
}

#[tokio::test]
async fn google_accepts_both_issuer_spellings() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let client = "1234-abc.apps.googleusercontent.com";
    let provider = || Provider::google(client).jwks_url(issuer.jwks_url());
    for iss in ["https://accounts.google.com", "accounts.google.com"] {
        let token = issuer
            .token()
            .issuer(iss)
            .audience(client)
            .claim("azp", client)
            .claim("email_verified", true)
            .sign();
        verify(provider(), &token)
            .await
            .unwrap_or_else(|e| panic!("{iss}: {e}"));
    }
    let http = issuer
        .token()
        .issuer("http://accounts.google.com")
        .audience(client)
        .sign();
    assert!(matches!(
        verify(provider(), &http).await.unwrap_err(),
        AuthError::UnknownIssuer { .. }
    ));
}

#[tokio::test]
async fn relocate_moves_fixed_hosts_to_another_origin() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let provider = Provider::entra(TENANT, CLIENT).relocate(issuer.issuer());
    let token = issuer
        .token()
        .issuer(format!("{}/{TENANT}/v2.0", issuer.issuer()))
        .audience(CLIENT)
        .claim("azp", "b5b2a3c4-0000-0000-0000-00000000c11e")
        .sign();
    verify(provider, &token).await.unwrap();
    assert_eq!(
        issuer.jwks_fetches(),
        1,
        "keys came from the relocated discovery/v2.0/keys path"
    );
}

#[tokio::test]
async fn test_issuer_mints_tokens_shaped_for_every_preset() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let presets = [
        (
            Provider::cloudflare_access("https://team.cloudflareaccess.com", CF_AUD),
            false,
            false,
        ),
        (
            Provider::zitadel("https://acme.zitadel.cloud", "263514598346711111")
                .trusted_organizations(["263514100000000001"]),
            true,
            true,
        ),
        // Clerk's roles come with organisations: none for the application by default.
        (
            Provider::clerk("https://clerk.example.com", ["https://app.example.com"]),
            false,
            false,
        ),
        (
            Provider::auth0("tenant.us.auth0.com", "https://api.example.com")
                .roles_claim("\"https://example.com/roles\""),
            true,
            true,
        ),
        (
            Provider::keycloak("https://sso.example.com", "demo", "orders-api"),
            true,
            true,
        ),
        (Provider::entra(TENANT, CLIENT), true, true),
        (Provider::entra_v1(TENANT, CLIENT), true, true),
        // A customer tenant's roles are the tenant's.
        (Provider::entra_multi_tenant(CLIENT, [TENANT]), false, true),
        (
            Provider::okta("https://dev-1.okta.com/oauth2/default", "api://default"),
            true,
            true,
        ),
        (
            Provider::cognito("eu-west-1", "eu-west-1_AbCdEf123", "client-1"),
            true,
            true,
        ),
        (
            Provider::cognito_id_tokens("eu-west-1", "eu-west-1_AbCdEf123", "client-1"),
            true,
            true,
        ),
        (Provider::firebase("my-project"), true, false),
        (
            Provider::google("1234.apps.googleusercontent.com"),
            false,
            false,
        ),
        (
            Provider::oidc("https://issuer.example.com").audience("my-api"),
            true,
            true,
        ),
    ];
    for (preset, reads_roles, reads_scopes) in presets {
        let name = format!("{preset:?}").chars().take(60).collect::<String>();
        let provider = issuer.adopt(preset);
        let token = issuer
            .token_for(&provider)
            .subject("ada")
            .roles(["admin"])
            .scopes(["read:items"])
            .sign();
        let claims = Verifier::new(provider.clone())
            .unwrap()
            .verify::<StandardClaims>(&token)
            .await
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(claims.identity().subject, "ada", "{name}");
        assert_eq!(
            claims.identity().has_role("admin"),
            reads_roles,
            "{name}: {:?}",
            claims.identity()
        );
        assert_eq!(
            claims.identity().has_scope("read:items"),
            reads_scopes,
            "{name}: {:?}",
            claims.identity()
        );
    }
}

/// Auth0's "Work with Tokens and Organizations" (manage-users/organizations/using-tokens): its two
/// example access tokens, verbatim but for fresh `iat`/`exp` (and the roles claim an Action adds).
#[tokio::test]
async fn auth0_organisations_follow_work_with_tokens_and_organizations() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth0 = || {
        Provider::auth0("exampleco.auth0.com", "https://example-api/")
            .jwks_url(issuer.jwks_url())
            .roles_claim("\"https://marketplace/roles\"")
    };
    let user = issuer
        .token()
        .issuer("https://exampleco.auth0.com/")
        .subject("auth0|602c0dcab993d10073daf680")
        .audiences([
            "https://example-api/",
            "https://exampleco.auth0.com/userinfo",
        ])
        .claim("azp", "ENDmmAJsbwI1hOG1KPJddQ8LHjV6kLkV")
        .claim("scope", "openid profile email")
        .claim("org_id", "org_9ybsU1dN2dKfDkBi")
        .claim("permissions", ["read:reports", "write:reports"])
        .claim("https://marketplace/roles", ["marketplace-administrator"])
        .sign();
    let machine = issuer
        .token()
        .issuer("https://exampleco.auth0.com/")
        .subject("CS2MNgcX1VZFCJaEzfKw2VPAAS0gzhqP@clients")
        .audience("https://example-api/")
        .claim("scope", "scope1 scope2")
        .claim("org_id", "org_vIK75NKFvaozQsFy")
        .claim("org_name", "acme")
        .claim("gty", "client-credentials")
        .claim("azp", "CS2MNgcX1VZFCJaEzfKw2VPAAS0gzhqP")
        .sign();

    // "If the claim cannot be validated, then the API should deem the token invalid."
    for token in [&user, &machine] {
        let err = verify(auth0(), token).await.unwrap_err();
        let names_the_setting = matches!(
            &err,
            AuthError::OrganizationNotAccepted(why) if why.contains("accept_organizations")
        );
        assert!(names_the_setting, "{err}");
        assert_eq!(err.code(), auth_core::ErrorCode::InvalidToken);
    }
    let accepted =
        || auth0().accept_organizations(["org_9ybsU1dN2dKfDkBi", "org_vIK75NKFvaozQsFy"]);
    let claims = verify(accepted(), &user).await.unwrap();
    let identity = claims.identity();
    let org = identity.organization.clone().unwrap();
    assert_eq!(
        (org.id.as_str(), org.name.as_deref()),
        ("org_9ybsU1dN2dKfDkBi", None)
    );
    assert!(org.has_role("marketplace-administrator"));
    assert_eq!(
        org.permissions.iter().collect::<Vec<_>>(),
        ["read:reports", "write:reports"]
    );
    assert!(
        roles(&claims).is_empty(),
        "the organisation's, not the application's"
    );
    assert_eq!(scopes(&claims), ["email", "openid", "profile"]);

    let claims = verify(accepted(), &machine).await.unwrap();
    let org = claims.identity().organization.clone().unwrap();
    assert_eq!(
        (org.id.as_str(), org.name.as_deref()),
        ("org_vIK75NKFvaozQsFy", Some("acme"))
    );
    assert_eq!(claims.identity().kind, IdentityKind::Service);
    // No `permissions` claim to say which scopes mirror the organisation's permissions: every scope
    // but OpenID Connect's is the organisation's (identity_attacks.rs has the attack).
    assert!(scopes(&claims).is_empty(), "{:?}", scopes(&claims));
    assert_eq!(
        org.permissions.iter().collect::<Vec<_>>(),
        ["scope1", "scope2"]
    );

    let elsewhere = auth0().accept_organizations(["org_9ybsU1dN2dKfDkBi"]);
    assert!(matches!(
        verify(elsewhere, &machine).await.unwrap_err(),
        AuthError::OrganizationNotAccepted(_)
    ));
    assert!(
        verify(auth0().accept_any_organization(), &machine)
            .await
            .is_ok()
    );

    // Under RBAC Auth0 copies granted permissions into `scope`: those are the organisation's too.
    let mirrored = issuer
        .token()
        .issuer("https://exampleco.auth0.com/")
        .audience("https://example-api/")
        .claim("scope", "openid read:reports")
        .claim("org_id", "org_9ybsU1dN2dKfDkBi")
        .claim("permissions", ["read:reports"])
        .sign();
    let claims = verify(accepted(), &mirrored).await.unwrap();
    assert_eq!(scopes(&claims), ["openid"]);

    // The application's own organisation: its roles and permissions are the application's.
    let staff = auth0().trusted_organizations(["org_9ybsU1dN2dKfDkBi"]);
    let claims = verify(staff, &user).await.unwrap();
    assert_eq!(roles(&claims), ["marketplace-administrator"]);
    assert!(claims.identity().has_scope("write:reports"));

    // No org_id: as before, permissions are the caller's scopes.
    let plain = issuer
        .token()
        .issuer("https://exampleco.auth0.com/")
        .audience("https://example-api/")
        .claim("permissions", ["read:reports"])
        .claim("https://marketplace/roles", ["admin"])
        .sign();
    let claims = verify(auth0(), &plain).await.unwrap();
    assert_eq!(
        (roles(&claims), scopes(&claims)),
        (vec!["admin".into()], vec!["read:reports".into()])
    );
    assert!(claims.identity().organization.is_none());

    // A name without an ID, or an ID that is not a string, is not Auth0's shape.
    for (claim, value) in [("org_name", json!("acme")), ("org_id", json!(42))] {
        let odd = issuer
            .token()
            .issuer("https://exampleco.auth0.com/")
            .audience("https://example-api/")
            .claim(claim, value)
            .sign();
        assert!(matches!(
            verify(accepted(), &odd).await.unwrap_err(),
            AuthError::InvalidClaim(_)
        ));
    }
}

#[tokio::test]
async fn organisation_acceptance_settings_that_cannot_work_are_refused_at_startup() {
    let auth0 = || Provider::auth0("exampleco.auth0.com", "https://example-api/");
    let problem = |provider: Provider| Verifier::new(provider).unwrap_err().to_string();
    let by_name = problem(auth0().accept_organizations(["acme"]));
    assert!(
        by_name.contains("accept_organizations") && by_name.contains("org_"),
        "{by_name}"
    );
    let empty = problem(auth0().accept_organizations(Vec::<String>::new()));
    assert!(empty.contains("accept_any_organization"), "{empty}");
    let spaced = problem(auth0().accept_organizations([" org_1"]));
    assert!(spaced.contains("without spaces"), "{spaced}");
    let both = problem(
        auth0()
            .accept_organizations(["org_1"])
            .accept_any_organization(),
    );
    assert!(both.contains("both"), "{both}");
    let both = problem(
        auth0()
            .accept_any_organization()
            .accept_organizations(["org_1"]),
    );
    assert!(both.contains("both"), "{both}");
    let okta = Provider::okta("https://dev-1.okta.com/oauth2/default", "api://default");
    let none = problem(okta.clone().accept_organizations(["x"]));
    assert!(none.contains("name no organisation"), "{none}");
    assert!(problem(okta.accept_any_organization()).contains("name no organisation"));
    // Other presets take any form of ID their tokens carry.
    assert!(
        Verifier::new(
            Provider::keycloak("https://sso.example.com", "demo", "api")
                .accept_organizations(["acme"])
        )
        .is_ok()
    );
}

#[tokio::test]
async fn keycloak_organizations_name_one_organisation_or_none() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let realm_issuer = format!("{}/realms/demo", issuer.issuer());
    let provider = || Provider::keycloak(issuer.issuer(), "demo", "orders-api");
    let token = |organization: serde_json::Value| {
        issuer
            .token()
            .issuer(&realm_issuer)
            .audience("orders-api")
            .claim("typ", "Bearer")
            .claim("scope", "openid organization")
            .claim("organization", organization)
            .sign()
    };
    let org = |claims: auth_core::Claims<StandardClaims>| claims.identity().organization.clone();

    // The mapper's default: a list of aliases.
    let listed = org(verify(provider(), &token(json!(["acme"]))).await.unwrap()).unwrap();
    assert_eq!(
        (listed.id.as_str(), listed.name.as_deref()),
        ("acme", Some("acme"))
    );
    assert!(listed.roles.is_empty());
    // With "Add organization id" (and attributes), as the server administration guide shows it.
    let id = "42c3e46f-2477-44d7-a85b-d3b43f6b31fa";
    let documented = json!({"testcorp": {"id": id, "attr1": ["value1"]}});
    let with_id = org(verify(provider(), &token(documented)).await.unwrap()).unwrap();
    assert_eq!(
        (with_id.id.as_str(), with_id.name.as_deref()),
        (id, Some("testcorp"))
    );
    // Several organisations (organization:*) do not say which one the caller acts in.
    for several in [
        json!(["acme", "globex"]),
        json!({"a": {"id": "1"}, "b": {"id": "2"}}),
    ] {
        assert!(org(verify(provider(), &token(several)).await.unwrap()).is_none());
    }
    // An attribute named `id` overwrites the ID with a list: not taken.
    let overwritten = json!({"acme": {"id": ["attacker-chosen"]}});
    assert!(org(verify(provider(), &token(overwritten)).await.unwrap()).is_none());
    // An accepted list filters them.
    let only_acme = provider().accept_organizations(["acme"]);
    assert!(
        verify(only_acme.clone(), &token(json!(["acme"])))
            .await
            .is_ok()
    );
    assert!(matches!(
        verify(only_acme, &token(json!(["globex"])))
            .await
            .unwrap_err(),
        AuthError::OrganizationNotAccepted(_)
    ));
}

/// Runs `mint`, expecting it to panic, and returns the panic's message.
fn panic_message(mint: impl FnOnce()) -> String {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(mint));
    std::panic::set_hook(hook);
    let payload = result.expect_err("a panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[tokio::test]
async fn test_issuer_writes_organisations_in_each_providers_shape() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let payload = |token: &str| tests::payload(token);

    // Zitadel: grants in the role claim qualified by the project, and the resource owner; never
    // the unqualified claim, which names the requesting client's project.
    let project = "263514598346711111";
    let zitadel = issuer.adopt(Provider::zitadel("https://acme.zitadel.cloud", project));
    let claims = payload(
        &issuer
            .token_for(&zitadel)
            .organization("263514200000000002", ["admin"])
            .sign(),
    );
    assert_eq!(
        claims[format!("urn:zitadel:iam:org:project:{project}:roles")],
        json!({"admin": {"263514200000000002": "263514200000000002.zitadel.example"}})
    );
    assert_eq!(
        claims["urn:zitadel:iam:user:resourceowner:id"],
        "263514200000000002"
    );
    assert!(
        claims.get("urn:zitadel:iam:org:project:roles").is_none(),
        "{claims}"
    );
    let roles_only = payload(&issuer.token_for(&zitadel).roles(["admin"]).sign());
    assert!(
        roles_only
            .get("urn:zitadel:iam:org:project:roles")
            .is_none(),
        "{roles_only}"
    );

    // Auth0: org_id, roles in the configured claim.
    let auth0 = issuer.adopt(
        Provider::auth0("exampleco.auth0.com", "https://example-api/")
            .roles_claim("\"https://example.com/roles\"")
            .accept_any_organization(),
    );
    let token = issuer
        .token_for(&auth0)
        .organization("org_1", ["admin"])
        .sign();
    let claims = payload(&token);
    assert_eq!(
        (&claims["org_id"], &claims["https://example.com/roles"]),
        (&json!("org_1"), &json!(["admin"]))
    );
    let verified = Verifier::new(auth0)
        .unwrap()
        .verify::<StandardClaims>(&token)
        .await
        .unwrap();
    assert!(verified.identity().has_org_role("admin") && !verified.identity().has_role("admin"));

    // Entra (multi-tenant): iss and tid move together, so the verifier accepts the token.
    let other = "11111111-2222-3333-4444-555555555555";
    let entra = issuer.adopt(Provider::entra_multi_tenant(CLIENT, [TENANT, other]));
    let token = issuer
        .token_for(&entra)
        .organization(other, ["admin"])
        .sign();
    let claims = payload(&token);
    assert_eq!(claims["tid"], other);
    assert_eq!(claims["iss"], format!("{}/{other}/v2.0", issuer.issuer()));
    let verified = Verifier::new(entra)
        .unwrap()
        .verify::<StandardClaims>(&token)
        .await
        .unwrap();
    assert_eq!(verified.identity().organization.as_ref().unwrap().id, other);

    // Keycloak: the organization claim, as the mapper writes it by default.
    let keycloak = issuer.adopt(Provider::keycloak("https://sso.example.com", "demo", "api"));
    let claims = payload(
        &issuer
            .token_for(&keycloak)
            .organization("acme", Vec::<String>::new())
            .sign(),
    );
    assert_eq!(claims["organization"], json!(["acme"]));
    let message = panic_message(|| {
        let _ = issuer.token_for(&keycloak).organization("acme", ["admin"]);
    });
    assert!(
        message.contains("Keycloak organisations grant no roles"),
        "{message}"
    );

    // Providers without organisations refuse loudly, naming themselves.
    let none = [
        (
            Provider::okta("https://dev-1.okta.com/oauth2/default", "api://default"),
            "Okta",
        ),
        (
            Provider::cognito("eu-west-1", "eu-west-1_AbCdEf123", "client-1"),
            "Amazon Cognito",
        ),
        (
            Provider::google("1234.apps.googleusercontent.com"),
            "Google",
        ),
        (Provider::firebase("my-project"), "Firebase"),
        (
            Provider::cloudflare_access("https://team.cloudflareaccess.com", CF_AUD),
            "Cloudflare Access",
        ),
        (
            Provider::oidc("https://issuer.example.com").audience("api"),
            "Generic OpenID Connect",
        ),
    ];
    for (provider, brand) in none {
        let provider = issuer.adopt(provider);
        let message = panic_message(|| {
            let _ = issuer.token_for(&provider).organization("org_1", ["admin"]);
        });
        assert!(
            message.contains(&format!("{brand} tokens carry no organisation")),
            "{message}"
        );
    }
    let message = panic_message(|| {
        let _ = issuer.token().organization("org_1", ["admin"]);
    });
    assert!(message.contains("TestIssuer::token_for"), "{message}");
    let auth0_without_roles = issuer.adopt(Provider::auth0(
        "exampleco.auth0.com",
        "https://example-api/",
    ));
    let message = panic_message(|| {
        let _ = issuer
            .token_for(&auth0_without_roles)
            .organization("org_1", ["admin"]);
    });
    assert!(message.contains("roles_claim"), "{message}");
}
