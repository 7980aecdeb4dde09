//! Each preset against the tokens its provider's own documentation shows (issue 32): the example
//! payloads quoted in each preset's rustdoc, signed by the loopback issuer with fresh dates, and
//! the shapes the documentation warns about (tokens a stranger can mint, people who look like
//! machines, tenants named by domain).
//!
//! Fixed-host presets keep their real issuer strings where a test quotes a documented payload;
//! only the key URL points at the loopback issuer.

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, get, test, web};
use auth_actix::core::Algorithm;
use auth_actix::testing::{DpopKey, TestIssuer, TestRequestExt};
use auth_actix::{
    AuthError, IdentityKind, JwtAuth, Provider, StandardClaims, Verifier, require_org_role,
    require_role, require_service, require_user,
};
use auth_core::DpopRequest;
use serde_json::{Value, json};
use tests::audit_log::AuditLog;
use tests::{init_tracing, send};

/// The tenant and API of Microsoft's access token examples.
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CUSTOMER: &str = "fa15d692-e9c7-4460-a743-29f2956fd429";
const CLIENT: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

type Claims = auth_actix::Claims<StandardClaims>;

fn fast(provider: Provider) -> Provider {
    provider.key_settings(TestIssuer::fast_key_settings())
}

async fn verify(provider: &Provider, token: &str) -> Result<Claims, AuthError> {
    Verifier::new(fast(provider.clone()))
        .expect("valid settings")
        .verify::<StandardClaims>(token)
        .await
}

/// The problem `provider`'s settings are refused with.
fn refused(provider: Provider) -> String {
    let err = Verifier::new(provider).expect_err("settings that cannot work are refused");
    format!("{}: {}", err.setting, err.problem)
}

/// Signs `payload` (a documented example) as it stands, with fresh `iat`/`exp`.
fn documented(issuer: &TestIssuer, payload: Value) -> auth_actix::testing::TokenBuilder<'_> {
    let Value::Object(claims) = payload else {
        panic!("a payload is an object");
    };
    let mut builder = issuer
        .token()
        .without_claim("sub")
        .without_claim("aud")
        .without_claim("jti");
    for (name, value) in claims {
        if name != "iat" && name != "exp" && name != "nbf" {
            builder = builder.claim(name, value);
        }
    }
    builder
}

fn roles(claims: &Claims) -> Vec<&str> {
    claims.identity().roles.iter().map(String::as_str).collect()
}

fn scopes(claims: &Claims) -> Vec<&str> {
    claims
        .identity()
        .scopes
        .iter()
        .map(String::as_str)
        .collect()
}

#[get("/admin")]
#[require_role("admin")]
async fn app_admin() -> HttpResponse {
    HttpResponse::Ok().body("application admin")
}

#[get("/tenants/{tenant}/admin")]
#[require_org_role("admin", org = "tenant")]
async fn tenant_admin(tenant: web::Path<String>) -> HttpResponse {
    HttpResponse::Ok().body(format!("admin of {tenant}"))
}

#[get("/jobs")]
#[require_service]
async fn jobs() -> HttpResponse {
    HttpResponse::Ok().body("machines only")
}

#[get("/me")]
#[require_user]
async fn me() -> HttpResponse {
    HttpResponse::Ok().body("people only")
}

// ---------------------------------------------------------------------------------------------
// Google (issue 32.3)

/// Google's ID token payload (the OpenID Connect payload table's example), and one shaped as the
/// IAM Credentials API's `generateIdToken` mints it for a stranger's service account that chose
/// your client ID as `audience`: `azp` names the service account.
#[tokio::test]
async fn google_refuses_id_tokens_a_stranger_minted_for_your_client() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let web = "1234987819200.apps.googleusercontent.com";
    let android = "1234987819200-android.apps.googleusercontent.com";
    let google = |provider: Provider| provider.jwks_url(issuer.jwks_url());
    let user = || {
        documented(
            &issuer,
            json!({"iss": "https://accounts.google.com", "azp": web, "aud": web,
                   "sub": "10769150350006150715113082367", "email": "jsmith@example.com",
                   "email_verified": true, "hd": "example.com"}),
        )
    };
    let claims = verify(&google(Provider::google(web)), &user().sign())
        .await
        .unwrap();
    assert_eq!(claims.identity().kind, IdentityKind::User);

    let stranger = "104870123456789012345";
    let minted = || {
        documented(
            &issuer,
            json!({"iss": "https://accounts.google.com", "aud": web, "azp": stranger,
                   "sub": stranger, "email": "svc@stranger-project.iam.gserviceaccount.com",
                   "email_verified": true}),
        )
    };
    assert_eq!(
        verify(&google(Provider::google(web)), &minted().sign())
            .await
            .unwrap_err()
            .reason(),
        "bad_azp",
        "a service account of any project can mint it"
    );
    let without_email = minted()
        .without_claim("email")
        .without_claim("email_verified")
        .sign();
    assert_eq!(
        verify(&google(Provider::google(web)), &without_email)
            .await
            .unwrap_err()
            .reason(),
        "bad_azp",
        "includeEmail is off by default"
    );
    let no_azp = user().without_claim("azp").sign();
    assert_eq!(
        verify(&google(Provider::google(web)), &no_azp)
            .await
            .unwrap_err()
            .reason(),
        "bad_azp",
        "refused where Google's steps are silent"
    );

    // Cross-client sign-in: the Android app asks for a token for the web back end.
    let cross_client = documented(
        &issuer,
        json!({"iss": "accounts.google.com", "aud": web, "azp": android,
               "sub": "10769150350006150715113082367", "email_verified": true}),
    )
    .sign();
    verify(
        &google(Provider::google_clients([web, android])),
        &cross_client,
    )
    .await
    .unwrap();
    assert_eq!(
        verify(&google(Provider::google(web)), &cross_client)
            .await
            .unwrap_err()
            .reason(),
        "bad_azp"
    );

    // Your own service account, listed like a client: a machine, by its verified e-mail.
    let own = google(Provider::google_clients([web, stranger]));
    let machine = verify(&own, &minted().sign()).await.unwrap();
    assert_eq!(machine.identity().kind, IdentityKind::Service);
    let unverified = minted().claim("email_verified", false).sign();
    assert_eq!(
        verify(&own, &unverified).await.unwrap().identity().kind,
        IdentityKind::User,
        "an unverified address names nothing"
    );

    for empty in [
        Provider::google(" "),
        Provider::google_clients(Vec::<String>::new()),
    ] {
        let problem = refused(empty);
        assert!(
            problem.contains("client_ids") && problem.contains("OAuth client ID"),
            "{problem}"
        );
    }
    // The test issuer writes `azp` as Google does.
    let adopted = issuer.adopt(Provider::google(web));
    verify(&adopted, &issuer.token_for(&adopted).sign())
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Entra (issue 32.4, 32.16 to 32.19)

#[tokio::test]
async fn entra_tenants_are_named_by_their_guid() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    for provider in [
        Provider::entra("contoso.onmicrosoft.com", CLIENT),
        Provider::entra_v1("contoso.onmicrosoft.com", CLIENT),
    ] {
        let problem = refused(provider);
        assert!(
            problem.contains(": tenant:")
                && problem.contains("\"contoso.onmicrosoft.com\" is not a tenant ID (a domain")
                && problem.contains("Entra admin center > Overview > Tenant ID"),
            "{problem}"
        );
    }
    for listed in [
        "contoso.onmicrosoft.com",
        "common",
        "{72f988bf-86f1-41af-91ab-2d7cd011db47}",
    ] {
        for provider in [
            Provider::entra_multi_tenant(CLIENT, [TENANT, listed]),
            Provider::entra_v1_multi_tenant(CLIENT, [TENANT, listed]),
        ] {
            let problem = refused(provider);
            assert!(
                problem.contains(": tenants:") && problem.contains(&format!("{listed:?}")),
                "{problem}"
            );
        }
    }
    let problem = refused(
        Provider::entra_multi_tenant(CLIENT, [TENANT]).trusted_organizations(["contoso.com"]),
    );
    assert!(problem.contains("trusted_organizations"), "{problem}");
    let problem = refused(
        Provider::entra_multi_tenant(CLIENT, [TENANT]).accept_organizations(["contoso.com"]),
    );
    assert!(problem.contains("accept_organizations"), "{problem}");

    // Upper case and stray spaces, as copied from a console or a spreadsheet: tokens write the
    // GUID in lower case, and are accepted.
    let shouting = format!(" {} ", TENANT.to_ascii_uppercase());
    let multi = Provider::entra_multi_tenant(CLIENT, [shouting.as_str()])
        .trusted_organizations([shouting.as_str()])
        .accept_organizations([shouting.as_str()])
        .jwks_url(issuer.jwks_url());
    let token = issuer
        .token()
        .issuer(format!("https://login.microsoftonline.com/{TENANT}/v2.0"))
        .audience(CLIENT)
        .claim("azp", "b5b2a3c4-5d6e-4f70-8a9b-0c1d2e3f4a5b")
        .claim("tid", TENANT)
        .claim("roles", ["admin"])
        .sign();
    let claims = verify(&multi, &token).await.unwrap();
    assert!(
        claims.identity().has_role("admin"),
        "the trusted home tenant"
    );
    let single = Provider::entra(&shouting, CLIENT).jwks_url(issuer.jwks_url());
    assert!(
        verify(&single, &token)
            .await
            .unwrap()
            .identity()
            .has_role("admin")
    );
}

/// Microsoft's v1.0 access token example (its redacted `iss` made to name its `tid`), and its
/// v2.0 one, issued in a customer's tenant: v1 and v2 treat the customer's roles alike.
#[tokio::test]
async fn entra_v1_and_v2_keep_a_customers_roles_the_customers() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let keys = |provider: Provider| provider.jwks_url(issuer.jwks_url());
    let v1 = documented(
        &issuer,
        json!({"aud": format!("api://{CLIENT}"),
               "iss": format!("https://sts.windows.net/{CUSTOMER}/"),
               "acr": "1", "aio": "AXQAi/8IAAAA", "amr": ["wia"],
               "appid": "75dbe77f-10a3-4e59-85fd-8c127544f17c", "appidacr": "0",
               "email": "AbeLi@microsoft.com", "family_name": "Lincoln",
               "given_name": "Abe (MSFT)", "name": "abeli",
               "oid": "02223b6b-aa1d-42d4-9ec0-1b2bb9194438", "rh": "I",
               "scp": "user_impersonation", "roles": ["admin"],
               "sub": "l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA", "tid": CUSTOMER,
               "unique_name": "abeli@microsoft.com", "uti": "FVsGxYXI30-TuikuuUoFAA",
               "ver": "1.0"}),
    )
    .sign();
    let v2 = documented(
        &issuer,
        json!({"aud": CLIENT,
               "iss": format!("https://login.microsoftonline.com/{CUSTOMER}/v2.0"),
               "aio": "AXQAi/8IAAAA", "azp": CLIENT, "azpacr": "0", "name": "Abe Lincoln",
               "oid": "690222be-ff1a-4d56-abd1-7e4f7d38e474",
               "preferred_username": "abeli@microsoft.com", "rh": "I", "scp": "access_as_user",
               "roles": ["admin"], "sub": "HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ",
               "tid": CUSTOMER, "uti": "fqiBqXLPj0eQa82S-IYFAA", "ver": "2.0"}),
    )
    .sign();
    let v1_multi = || keys(Provider::entra_v1_multi_tenant(CLIENT, [TENANT, CUSTOMER]));
    let v2_multi = || keys(Provider::entra_multi_tenant(CLIENT, [TENANT, CUSTOMER]));
    for (provider, token) in [(v1_multi(), &v1), (v2_multi(), &v2)] {
        let claims = verify(&provider, token).await.unwrap();
        assert!(roles(&claims).is_empty(), "{:?}", claims.identity());
        let tenant = claims.identity().organization.clone().unwrap();
        assert_eq!(tenant.id, CUSTOMER);
        assert!(tenant.has_role("admin"));
        let trusted = provider.trusted_organizations([CUSTOMER]);
        assert_eq!(roles(&verify(&trusted, token).await.unwrap()), ["admin"]);
    }

    // One tenant's preset trusts its tenant, and says so removably.
    let v1_single = keys(Provider::entra_v1(CUSTOMER, CLIENT));
    let v2_single = keys(Provider::entra(CUSTOMER, CLIENT));
    for (provider, token) in [(v1_single, &v1), (v2_single, &v2)] {
        assert_eq!(roles(&verify(&provider, token).await.unwrap()), ["admin"]);
        let customer = provider.trusted_organizations(Vec::<String>::new());
        let claims = verify(&customer, token).await.unwrap();
        assert!(roles(&claims).is_empty(), "trust removed");
        assert!(claims.identity().has_org_role("admin"));
    }

    // The v1 issuer names the tenant, and `tid` must name the same one.
    let other = "11111111-2222-3333-4444-555555555555";
    let unlisted = issuer
        .token()
        .issuer(format!("https://sts.windows.net/{other}/"))
        .audience(CLIENT)
        .claim("appid", CLIENT)
        .claim("tid", other)
        .sign();
    assert!(matches!(
        verify(&v1_multi(), &unlisted).await.unwrap_err(),
        AuthError::UnknownIssuer { .. }
    ));
    let moved = issuer
        .token()
        .issuer(format!("https://sts.windows.net/{CUSTOMER}/"))
        .audience(CLIENT)
        .claim("appid", CLIENT)
        .claim("tid", TENANT)
        .sign();
    assert_eq!(
        verify(&v1_multi(), &moved).await.unwrap_err(),
        AuthError::InvalidClaim("tid".into())
    );
    // A v1.0 ID token names no client (`appid`).
    let id_token = issuer
        .token()
        .issuer(format!("https://sts.windows.net/{CUSTOMER}/"))
        .audience(CLIENT)
        .claim("tid", CUSTOMER)
        .sign();
    assert_eq!(
        verify(&v1_multi(), &id_token).await.unwrap_err(),
        AuthError::MissingClaim("appid".into())
    );
    assert!(matches!(
        verify(&v1_multi(), &v2).await.unwrap_err(),
        AuthError::UnknownIssuer { .. }
    ));
}

/// The test issuer writes Entra's tokens whole: a person's v2.0 and v1.0 tokens as the access
/// token reference lists their claims, an app-only one, and a tenant switch that moves `iss` and
/// `tid` together.
#[tokio::test]
async fn the_test_issuer_writes_entra_tokens_whole() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let guid = |value: &Value| {
        let text = value.as_str().unwrap_or_default();
        let groups: Vec<usize> = text.split('-').map(str::len).collect();
        groups == [8, 4, 4, 4, 12] && text.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
    };
    let v2 = issuer.adopt(Provider::entra(TENANT, CLIENT));
    let user = issuer.token_for(&v2).sign();
    let payload = tests::payload(&user);
    assert_eq!(payload["ver"], "2.0");
    assert_eq!(payload["tid"], TENANT);
    assert!(guid(&payload["azp"]) && guid(&payload["oid"]), "{payload}");
    assert_ne!(
        payload["oid"], payload["sub"],
        "a person's pairwise sub is not their oid"
    );
    assert_eq!(
        verify(&v2, &user).await.unwrap().identity().kind,
        IdentityKind::User
    );

    let daemon = issuer
        .token_for(&v2)
        .scopes(["Items.Read"])
        .entra_app_only()
        .roles(["Jobs.Run"])
        .sign();
    let payload = tests::payload(&daemon);
    assert_eq!(payload["idtyp"], "app");
    assert_eq!(payload["oid"], payload["sub"]);
    assert!(payload.get("scp").is_none(), "{payload}");
    assert_eq!(
        verify(&v2, &daemon).await.unwrap().identity().kind,
        IdentityKind::Service
    );

    let v1 = issuer.adopt(Provider::entra_v1_multi_tenant(CLIENT, [TENANT, CUSTOMER]));
    let user = issuer
        .token_for(&v1)
        .organization(CUSTOMER, ["admin"])
        .sign();
    let payload = tests::payload(&user);
    assert_eq!(payload["ver"], "1.0");
    assert!(
        guid(&payload["appid"]) && payload.get("azp").is_none(),
        "{payload}"
    );
    assert_eq!(payload["tid"], CUSTOMER);
    assert_eq!(payload["iss"], format!("{}/{CUSTOMER}/", issuer.issuer()));
    let claims = verify(&v1, &user).await.unwrap();
    assert!(claims.identity().has_org_role("admin"));
    assert_eq!(
        issuer.issuer_for(&v1),
        format!("{}/{TENANT}/", issuer.issuer())
    );
}

/// In a multi-tenant app, a customer's admin is refused `require_role("admin")` with a log line
/// that says why and what to use; the route bound to the tenant in its path admits them there.
#[actix_web::test]
async fn a_tenants_role_refused_as_an_application_role_says_so_in_the_log() {
    let (log, _guard) = AuditLog::install();
    let issuer = TestIssuer::start().await;
    let multi = issuer.adopt(Provider::entra_multi_tenant(CLIENT, [TENANT, CUSTOMER]));
    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(multi.clone()).unwrap())
            .service(app_admin)
            .service(tenant_admin),
    )
    .await;
    let admin = issuer
        .token_for(&multi)
        .organization(CUSTOMER, ["admin"])
        .sign();
    let get = |uri: &str, token: &str| test::TestRequest::get().uri(uri).bearer(token);
    assert_eq!(
        send(&app, get("/admin", &admin)).await.status,
        StatusCode::FORBIDDEN
    );
    let refusals = log.with_outcome("forbidden");
    assert_eq!(refusals.len(), 1, "{:?}", log.events());
    let reason = &refusals[0]["reason"];
    assert!(
        reason.contains("the caller has []")
            && reason.contains(&format!(
                "the caller holds [admin] as roles of its organisation (tenant) \"{CUSTOMER}\""
            ))
            && reason.contains("require_org_role")
            && reason.contains("trusted_organizations"),
        "{reason}"
    );
    let own = format!("/tenants/{CUSTOMER}/admin");
    assert_eq!(send(&app, get(&own, &admin)).await.status, StatusCode::OK);
    let other = format!("/tenants/{TENANT}/admin");
    assert_eq!(
        send(&app, get(&other, &admin)).await.status,
        StatusCode::FORBIDDEN
    );

    // A role the tenant did not grant either: no such hint.
    log.clear();
    let reader = issuer
        .token_for(&multi)
        .organization(CUSTOMER, ["reader"])
        .sign();
    assert_eq!(
        send(&app, get("/admin", &reader)).await.status,
        StatusCode::FORBIDDEN
    );
    let reason = log.with_outcome("forbidden")[0]["reason"].clone();
    assert!(!reason.contains("as roles of its organisation"), "{reason}");
}

// ---------------------------------------------------------------------------------------------
// Algorithms (issue 32.5)

/// The `alg` a token's header names.
fn header_alg(token: &str) -> String {
    let header: Value = serde_json::from_slice(&tests::unb64(&tests::segments(token)[0])).unwrap();
    header["alg"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn each_preset_takes_the_algorithms_its_provider_signs_with() {
    init_tracing();
    // Auth0's API setting offers RS256, PS256 and HS256: the shared secret stays refused.
    let issuer = TestIssuer::start_with(&[Algorithm::PS256, Algorithm::ES256]).await;
    let auth0 = issuer.adopt(Provider::auth0(
        "exampleco.auth0.com",
        "https://example-api",
    ));
    let ps256 = issuer.token_for(&auth0).sign();
    assert_eq!(header_alg(&ps256), "PS256");
    verify(&auth0, &ps256).await.unwrap();
    let es256 = issuer.token_for(&auth0).algorithm(Algorithm::ES256).sign();
    assert_eq!(
        verify(&auth0, &es256).await.unwrap_err(),
        AuthError::AlgorithmNotAllowed
    );
    let hs256 = issuer.token_for(&auth0).header("alg", "HS256").sign();
    assert_eq!(
        verify(&auth0, &hs256).await.unwrap_err(),
        AuthError::AlgorithmNotAllowed
    );

    // A Keycloak realm's keys: RS, PS and ES of every size this crate verifies, and EdDSA.
    for alg in [
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let issuer = TestIssuer::start_with(&[alg]).await;
        let keycloak = issuer.adopt(Provider::keycloak(
            "https://sso.example.com",
            "demo",
            "orders-api",
        ));
        let token = issuer.token_for(&keycloak).roles(["admin"]).sign();
        assert_eq!(header_alg(&token), alg.as_str());
        let claims = verify(&keycloak, &token)
            .await
            .unwrap_or_else(|err| panic!("{alg}: {err}"));
        assert_eq!(roles(&claims), ["admin"], "{alg}");
    }

    // RS256 only: Okta ("always RS256"), Cognito user pools, Clerk's guide, Entra.
    let issuer = TestIssuer::start_with(&[Algorithm::RS256, Algorithm::RS384]).await;
    for preset in [
        Provider::okta("https://dev-1.okta.com/oauth2/default", "api://default"),
        Provider::cognito("eu-west-1", "eu-west-1_AbCdEf123", "client-1"),
        Provider::clerk("https://clerk.example.com", ["https://app.example.com"]),
        Provider::entra(TENANT, CLIENT),
        Provider::firebase("my-project"),
    ] {
        let provider = issuer.adopt(preset);
        verify(&provider, &issuer.token_for(&provider).sign())
            .await
            .unwrap();
        let rs384 = issuer
            .token_for(&provider)
            .algorithm(Algorithm::RS384)
            .sign();
        assert_eq!(
            verify(&provider, &rs384).await.unwrap_err(),
            AuthError::AlgorithmNotAllowed,
            "{provider:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Clerk (issue 32.6)

/// The session token of Clerk's backend SDK documentation, without the `azp` Clerk leaves out
/// when the request to it carried no `Origin` (a native app, a server).
#[actix_web::test]
async fn clerk_tokens_without_azp_count_from_a_header_only() {
    let (log, _guard) = AuditLog::install();
    let issuer = TestIssuer::start().await;
    let strict = issuer.adopt(Provider::clerk(
        "https://clerk.example.com",
        ["https://app.example.com"],
    ));
    let lenient = strict.clone().accept_missing_azp_from_headers();
    let session = |azp: Option<&str>| {
        let token = issuer
            .token_for(&strict)
            .subject("user_2RfWKJREkjKbHZy0Wqa5qrHeAnb")
            .claim("sid", "sess_2Ro7e2IxrffdqBboq8KfB6eGbIy");
        match azp {
            Some(azp) => token.claim("azp", azp),
            None => token.without_claim("azp"),
        }
        .sign()
    };
    let native = session(None);
    let browser = session(Some("https://app.example.com"));
    let elsewhere = session(Some("https://evil.example"));
    async fn whoami() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
    let bearer = |token: &str| test::TestRequest::get().uri("/who").bearer(token);
    let cookie = |token: &str| {
        test::TestRequest::get()
            .uri("/who")
            .token_cookie("__session", token)
    };
    for (provider, native_bearer) in [
        (strict, StatusCode::UNAUTHORIZED),
        (lenient, StatusCode::OK),
    ] {
        let app = test::init_service(
            App::new()
                .wrap(JwtAuth::new(provider).unwrap())
                .route("/who", web::get().to(whoami)),
        )
        .await;
        assert_eq!(send(&app, bearer(&native)).await.status, native_bearer);
        log.clear();
        assert_eq!(
            send(&app, cookie(&native)).await.status,
            StatusCode::UNAUTHORIZED,
            "never from the cookie a browser attaches for any page"
        );
        let refusals = log.with_outcome("rejected");
        assert_eq!(refusals.len(), 1, "{:?}", log.events());
        for token in [&browser] {
            assert_eq!(send(&app, bearer(token)).await.status, StatusCode::OK);
            assert_eq!(send(&app, cookie(token)).await.status, StatusCode::OK);
        }
        assert_eq!(
            send(&app, bearer(&elsewhere)).await.status,
            StatusCode::UNAUTHORIZED,
            "an azp it carries is checked either way"
        );
    }
    let reason = log
        .events()
        .into_iter()
        .filter_map(|event| event.get("reason").cloned())
        .find(|reason| reason.contains("never from a cookie"));
    assert!(reason.is_some(), "{:?}", log.events());

    let problem = refused(
        Provider::okta("https://dev-1.okta.com/oauth2/default", "api://default")
            .accept_missing_azp_from_headers(),
    );
    assert!(
        problem.contains("accept_missing_azp_from_headers"),
        "{problem}"
    );
}

// ---------------------------------------------------------------------------------------------
// Keycloak (issue 32.8 and "not yet verified")

/// A lightweight access token (Keycloak 24 on; without `sub` from 25): a signed JWT with only the
/// claims whose mappers add to lightweight tokens.
#[tokio::test]
async fn keycloak_lightweight_tokens_verify_locally_and_introspection_completes_them() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let keycloak = issuer.adopt(Provider::keycloak(
        "https://sso.example.com",
        "demo",
        "orders-api",
    ));
    let lightweight = issuer
        .token_for(&keycloak)
        .without_claim("sub")
        .claim("azp", "orders-web")
        .claim("sid", "ce136fe5-d5aa-4434-bf12-e1edb48df81d")
        .claim("scope", "openid")
        .sign();
    let payload = tests::payload(&lightweight);
    assert!(payload.get("sub").is_none() && payload.get("realm_access").is_none());
    let local = verify(&keycloak, &lightweight).await.unwrap();
    assert!(roles(&local).is_empty(), "no roles in the token");
    assert_eq!(local.identity().subject, "");

    let introspecting = keycloak
        .clone()
        .introspection(issuer.introspection().all_tokens());
    issuer.shape_introspection(&lightweight, |answer| {
        answer.insert("sub".into(), json!("8cd79aa4-78fe-46ce-97a9-e9bfdc0e49be"));
        answer.insert("realm_access".into(), json!({"roles": ["admin"]}));
    });
    let completed = verify(&introspecting, &lightweight).await.unwrap();
    assert_eq!(roles(&completed), ["admin"]);
    assert_eq!(
        completed.identity().subject,
        "8cd79aa4-78fe-46ce-97a9-e9bfdc0e49be"
    );
}

/// Keycloak's payload `typ` (`TokenUtil`): `Bearer` is an access token, `DPoP` a DPoP-bound one,
/// which must name its key and come with a proof; every other kind is refused.
#[tokio::test]
async fn keycloak_dpop_typed_tokens_need_their_key_and_proof() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let keycloak = issuer.adopt(Provider::keycloak(
        "https://sso.example.com",
        "demo",
        "orders-api",
    ));
    let verifier = Verifier::new(keycloak.clone()).unwrap();
    let unbound = issuer.token_for(&keycloak).claim("typ", "DPoP").sign();
    assert!(
        matches!(
            verifier.verify_token(&unbound).await.unwrap_err(),
            AuthError::WrongTokenKind(reason) if reason.contains("cnf.jkt")
        ),
        "a DPoP-typed token without its key would pass as a bearer token"
    );
    let key = DpopKey::generate();
    let bound = issuer
        .token_for(&keycloak)
        .claim("typ", "DPoP")
        .dpop_bound(&key)
        .sign();
    assert!(matches!(
        verifier.verify_token(&bound).await.unwrap_err(),
        AuthError::DpopBinding(_)
    ));
    let url = "https://api.example.com/orders";
    let proof = key.proof("GET", url, &bound);
    let request = DpopRequest {
        proof: &proof,
        method: "GET",
        url,
    };
    verifier.verify_dpop(&bound, &request).await.unwrap();
    for kind in ["ID", "Refresh", "Offline", "Logout", "Serialized-ID"] {
        let token = issuer.token_for(&keycloak).claim("typ", kind).sign();
        assert_eq!(
            verifier.verify_token(&token).await.unwrap_err(),
            AuthError::InvalidClaim("typ".into()),
            "{kind}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Auth0 (issue 32.10, 32.12, 32.14)

/// Auth0's machine-to-machine example token ("Work with Tokens and Organizations"), verbatim but
/// for its dates; and a person from an enterprise (SAML) connection whose user ID the customer's
/// identity provider chose to end with `@clients`.
#[actix_web::test]
async fn auth0_machines_are_known_by_the_markers_auth0_documents() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth0 = Provider::auth0("exampleco.auth0.com", "https://example-api")
        .accept_organizations(["org_vIK75NKFvaozQsFy"])
        .jwks_url(issuer.jwks_url());
    let m2m = documented(
        &issuer,
        json!({"iss": "https://exampleco.auth0.com/",
               "sub": "CS2MNgcX1VZFCJaEzfKw2VPAAS0gzhqP@clients", "aud": "https://example-api",
               "scope": "scope1 scope2", "org_id": "org_vIK75NKFvaozQsFy", "org_name": "acme",
               "gty": "client-credentials", "azp": "CS2MNgcX1VZFCJaEzfKw2VPAAS0gzhqP"}),
    );
    let person = documented(
        &issuer,
        json!({"iss": "https://exampleco.auth0.com/", "sub": "samlp|acme-corp|ops@clients",
               "aud": ["https://example-api", "https://exampleco.auth0.com/userinfo"],
               "azp": "ENDmmAJsbwI1hOG1KPJddQ8LHjV6kLkV", "scope": "openid profile email"}),
    )
    .sign();
    let kind = |claims: Claims| claims.identity().kind;
    assert_eq!(
        kind(
            verify(&auth0, &m2m.claim("gty", Value::Null).sign())
                .await
                .unwrap()
        ),
        IdentityKind::Service,
        "sub is exactly <azp>@clients"
    );
    let m2m = documented(
        &issuer,
        json!({"iss": "https://exampleco.auth0.com/",
               "sub": "CS2MNgcX1VZFCJaEzfKw2VPAAS0gzhqP@clients", "aud": "https://example-api",
               "scope": "scope1 scope2", "gty": "client-credentials",
               "azp": "CS2MNgcX1VZFCJaEzfKw2VPAAS0gzhqP"}),
    )
    .sign();
    assert_eq!(
        kind(verify(&auth0, &m2m).await.unwrap()),
        IdentityKind::Service
    );
    // The RFC 9068 profile: the client in `client_id`, no `gty`.
    let rfc9068 = documented(
        &issuer,
        json!({"iss": "https://exampleco.auth0.com/", "sub": "my_client_id@clients",
               "aud": "https://example-api", "client_id": "my_client_id",
               "jti": "73WakrfVbNJBaAmhQtEeDv", "scope": "read:patients"}),
    )
    .header("typ", "at+jwt")
    .sign();
    assert_eq!(
        kind(verify(&auth0, &rfc9068).await.unwrap()),
        IdentityKind::Service
    );
    assert_eq!(
        kind(verify(&auth0, &person).await.unwrap()),
        IdentityKind::User
    );
    // A person who signed in with a password grant carries `gty` too.
    let password = documented(
        &issuer,
        json!({"iss": "https://exampleco.auth0.com/", "sub": "auth0|123456",
               "aud": "https://example-api", "azp": "my_client_id", "gty": "password"}),
    )
    .sign();
    assert_eq!(
        kind(verify(&auth0, &password).await.unwrap()),
        IdentityKind::User
    );

    let app = test::init_service(
        App::new()
            .wrap(JwtAuth::new(fast(auth0)).unwrap())
            .service(jobs)
            .service(me),
    )
    .await;
    let get = |uri: &str, token: &str| test::TestRequest::get().uri(uri).bearer(token);
    assert_eq!(
        send(&app, get("/jobs", &person)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(send(&app, get("/me", &person)).await.status, StatusCode::OK);
    assert_eq!(send(&app, get("/jobs", &m2m)).await.status, StatusCode::OK);
    assert_eq!(
        send(&app, get("/me", &m2m)).await.status,
        StatusCode::FORBIDDEN
    );
}

/// With RBAC off, Auth0 writes whatever a user asked for into `scope`; `permissions` holds what
/// their roles grant.
#[tokio::test]
async fn auth0_scopes_can_come_from_permissions_alone() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth0 = issuer.adopt(Provider::auth0(
        "exampleco.auth0.com",
        "https://example-api",
    ));
    let strict = auth0.clone().scopes_from_permissions_only();
    let asked = issuer
        .token_for(&auth0)
        .subject("auth0|602c0dcab993d10073daf680")
        .claim("azp", "ENDmmAJsbwI1hOG1KPJddQ8LHjV6kLkV")
        .claim("scope", "openid profile write:projects")
        .claim("permissions", ["read:projects"])
        .sign();
    assert_eq!(
        scopes(&verify(&auth0, &asked).await.unwrap()),
        ["openid", "profile", "read:projects", "write:projects"],
        "by default both, as Auth0's RBAC-on tokens mean them"
    );
    assert_eq!(
        scopes(&verify(&strict, &asked).await.unwrap()),
        ["read:projects"]
    );
    let without = issuer
        .token_for(&auth0)
        .claim("scope", "write:projects")
        .sign();
    assert!(scopes(&verify(&strict, &without).await.unwrap()).is_empty());
    // A machine's `scope` is what its grant for this API allows.
    let m2m = issuer
        .token_for(&auth0)
        .subject("CS2MNgcX1VZFCJaEzfKw2VPAAS0gzhqP@clients")
        .claim("azp", "CS2MNgcX1VZFCJaEzfKw2VPAAS0gzhqP")
        .claim("gty", "client-credentials")
        .claim("scope", "read:projects write:projects")
        .sign();
    assert_eq!(
        scopes(&verify(&strict, &m2m).await.unwrap()),
        ["read:projects", "write:projects"]
    );
    let problem = refused(
        Provider::keycloak("https://sso.example.com", "demo", "api").scopes_from_permissions_only(),
    );
    assert!(
        problem.contains("scopes_from_permissions_only"),
        "{problem}"
    );

    // The issuer an adopted Auth0 provider's tokens carry keeps Auth0's trailing slash.
    let token = issuer.token_for(&auth0).sign();
    assert_eq!(tests::payload(&token)["iss"], issuer.issuer_for(&auth0));
    assert_eq!(issuer.issuer_for(&auth0), format!("{}/", issuer.issuer()));
}

// ---------------------------------------------------------------------------------------------
// Not yet verified: Okta, Cognito, Firebase

/// Okta's documented access tokens: the step-up guide's (a person, `sub` the login), the DPoP
/// guide's (bound), and a client-credentials one, which binds no user (no `uid`).
#[tokio::test]
async fn okta_tokens_as_okta_documents_them() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let okta_issuer = "https://dev-1.okta.com/oauth2/default";
    let okta = Provider::okta(okta_issuer, "api://default").jwks_url(issuer.jwks_url());
    let person = documented(
        &issuer,
        json!({"ver": 1, "jti": "AT.NovJtQ_NrJ6cgy3h1-638ArovwYXWslu0teQ2M3Ux9c",
               "iss": okta_issuer, "aud": "api://default", "acr": "urn:okta:loa:1fa:any",
               "cid": "0oa48e74ox4t7mQJX0g7", "uid": "00u47ijy7sRLaeSdC0g7",
               "scp": ["openid"], "auth_time": 1661289603, "sub": "joe.smith@example.com"}),
    )
    .sign();
    let claims = verify(&okta, &person).await.unwrap();
    assert_eq!(claims.identity().kind, IdentityKind::User);
    assert_eq!(scopes(&claims), ["openid"]);
    assert_eq!(claims.identity().subject, "joe.smith@example.com");
    assert_eq!(
        claims.extra["uid"], "00u47ijy7sRLaeSdC0g7",
        "the ID to store users by"
    );

    for machine in [
        // The agent token exchange example: `sub` is the client.
        json!({"ver": 1, "iss": okta_issuer, "aud": "api://default",
               "cid": "0oa9jh6hizeR7uMag0g7", "sub": "0oa9jh6hizeR7uMag0g7",
               "scp": ["chat.read"]}),
        // No user bound, whatever `sub` holds.
        json!({"ver": 1, "iss": okta_issuer, "aud": "api://default",
               "cid": "0oa9jh6hizeR7uMag0g7", "sub": "billing-service", "scp": ["chat.read"]}),
    ] {
        let token = documented(&issuer, machine.clone()).sign();
        assert_eq!(
            verify(&okta, &token).await.unwrap().identity().kind,
            IdentityKind::Service,
            "{machine}"
        );
    }

    let bound = documented(
        &issuer,
        json!({"ver": 1, "jti": "AT.pKoLFoM7X4P4DrJBRvXaJzj9g0-naK1ChGH_oTbStYE",
               "iss": okta_issuer, "aud": "api://default",
               "cnf": {"jkt": "2HR2BW5-tan1aI6yIPHVOHwirAy4kQGWULoQHKUO0s4"},
               "cid": "0oa4dr9kzkykPrLhq0g7", "uid": "00u47ijy7sRLaeSdC0g7",
               "scp": ["openid"], "auth_time": 1677521913, "sub": "user@example.com"}),
    )
    .sign();
    assert!(matches!(
        verify(&okta, &bound).await.unwrap_err(),
        AuthError::DpopBinding(_)
    ));
    let id_token = issuer
        .token()
        .issuer(okta_issuer)
        .audience("api://default")
        .sign();
    assert_eq!(
        verify(&okta, &id_token).await.unwrap_err(),
        AuthError::MissingClaim("cid".into())
    );
    let problem = refused(Provider::okta("https://dev-1.okta.com", "api://default"));
    assert!(
        problem.contains("org authorization server") && problem.contains("Okta's own APIs"),
        "{problem}"
    );
}

/// Cognito's documented user access token; machine-to-machine tokens as observed (AWS shows no
/// example): no `username`, `sub` the app client.
#[tokio::test]
async fn cognito_tokens_as_aws_documents_them() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let client = "57cbishk4j24pabc1234567890";
    let cognito =
        Provider::cognito("us-west-2", "us-west-2_example", client).jwks_url(issuer.jwks_url());
    let pool = "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example";
    let person = documented(
        &issuer,
        json!({"sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
               "device_key": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
               "cognito:groups": ["admin"], "token_use": "access",
               "scope": "aws.cognito.signin.user.admin", "auth_time": 1562190524, "iss": pool,
               "origin_jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
               "jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "client_id": client,
               "username": "janedoe@example.com"}),
    )
    .sign();
    let claims = verify(&cognito, &person).await.unwrap();
    assert_eq!(claims.identity().kind, IdentityKind::User);
    assert_eq!(roles(&claims), ["admin"]);
    assert_eq!(scopes(&claims), ["aws.cognito.signin.user.admin"]);

    let machine = |sub: &str| {
        documented(
            &issuer,
            json!({"sub": sub, "token_use": "access", "scope": "orders/read", "iss": pool,
                   "jti": "aaaaaaaa-bbbb-cccc-dddd-ffffffffffff", "client_id": client,
                   "version": 2}),
        )
        .sign()
    };
    let kind = |claims: Claims| claims.identity().kind;
    assert_eq!(
        kind(verify(&cognito, &machine(client)).await.unwrap()),
        IdentityKind::Service
    );
    assert_eq!(
        kind(verify(&cognito, &machine("aaaaaaaa-bbbb")).await.unwrap()),
        IdentityKind::User,
        "an undocumented shape is not taken for a machine"
    );
}

/// Firebase's third-party JWT checklist: `iss` `https://securetoken.google.com/<projectId>`, `aud`
/// the project, a non-empty `sub`, `auth_time` in the past.
#[tokio::test]
async fn firebase_id_tokens_as_firebase_documents_them() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let firebase = Provider::firebase("my-proj").jwks_url(issuer.jwks_url());
    let token = documented(
        &issuer,
        json!({"iss": "https://securetoken.google.com/my-proj", "aud": "my-proj",
               "auth_time": 1700000000, "user_id": "uid123", "sub": "uid123",
               "email": "a@example.com", "email_verified": true,
               "firebase": {"identities": {"email": ["a@example.com"]},
                            "sign_in_provider": "password"}}),
    );
    let claims = verify(&firebase, &token.sign()).await.unwrap();
    assert_eq!(claims.identity().subject, "uid123");
    let other_project = documented(
        &issuer,
        json!({"iss": "https://securetoken.google.com/other-proj", "aud": "other-proj",
               "auth_time": 1700000000, "sub": "uid123"}),
    )
    .sign();
    assert!(matches!(
        verify(&firebase, &other_project).await.unwrap_err(),
        AuthError::UnknownIssuer { .. }
    ));
}
