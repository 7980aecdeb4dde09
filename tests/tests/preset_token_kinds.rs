//! Which tokens a preset takes for which kind: Clerk's session tokens apart from its OAuth access
//! and M2M tokens, Zitadel's people apart from its machines, Auth0's agent-subject machines, and
//! an Entra trusted tenant that could never be accepted refused at startup. From the second
//! attacker read of the presets; each test states what holds, against the public API only, and
//! its doc comment names the attack.

use auth_actix::testing::{ServiceUserGrant, TestIssuer, ZITADEL_WEB_CLIENT_ID};
use auth_actix::{AuthError, IdentityKind, Provider, StandardClaims, Verifier};
use tests::init_tracing;

const PROJECT: &str = "263514598346711111";
const CLERK: &str = "https://clerk.example.com";
const APP: &str = "https://app.example.com";

/// Zitadel, `zitadel_user_clients` set: a **person** who signs in through any application that is
/// not listed becomes a **machine** (`IdentityKind::Service`) and passes `#[require_service]`
/// (the example's `/jobs`, "never for people").
///
/// Attack: any human account of the instance (a self-registered user of any organisation, no
/// administrator rights) runs the code flow with PKCE through an application it can use: a second
/// front end of the project the operator did not list (a mobile or CLI app), or any application of
/// another project (the Zitadel console itself is a public PKCE client) with the extra scope
/// `urn:zitadel:iam:org:project:id:<this project>:aud`, which Zitadel copies into `aud` whatever
/// the project. The token is shaped exactly like a person's (`client_id` is its application, in
/// `aud`, not `sub`); only the client is unlisted, and the preset's rule turns every unlisted
/// client into `Service`. The reading that refuses is `Unknown` (neither kind guard admits it),
/// as without the setting: nothing in the token says "machine".
///
/// Suggested fix: `zitadel_user_clients` should mark the listed clients as people and leave other
/// person-shaped tokens `Unknown`, not `Service` (presets/zitadel.rs `zitadel_user_clients`).
#[tokio::test]
async fn zitadel_user_clients_make_people_and_leave_an_unlisted_client_unknown() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let zitadel = issuer.adopt(
        Provider::zitadel("https://acme.zitadel.cloud", PROJECT)
            .zitadel_user_clients([ZITADEL_WEB_CLIENT_ID]),
    );
    let verifier = Verifier::new(zitadel.clone()).unwrap();
    // The listed front end: a person.
    let person = issuer
        .token_for(&zitadel)
        .subject("263514598346700007")
        .sign();
    let claims = verifier.verify::<StandardClaims>(&person).await.unwrap();
    assert_eq!(claims.identity().kind, IdentityKind::User);

    // The same person through another application (the console, a forgotten mobile app): the
    // code flow's shape, with that application's client ID in `client_id` and in `aud`.
    for other_app in ["263514598346733333@mobile", "69234237810729019@zitadel"] {
        let same_person = issuer
            .token_for(&zitadel)
            .subject("263514598346700007")
            .claim("client_id", other_app)
            .audiences([PROJECT, other_app])
            .sign();
        let claims = verifier
            .verify::<StandardClaims>(&same_person)
            .await
            .unwrap();
        assert_eq!(
            claims.identity().kind,
            IdentityKind::Unknown,
            "a person signed in through {other_app} is taken for a kind: {}",
            tests::payload(&same_person)
        );
    }
    // Machines keep the shapes Zitadel gives them, listed clients or not.
    for grant in [
        ServiceUserGrant::JwtProfile,
        ServiceUserGrant::ClientCredentials,
    ] {
        let machine = issuer
            .token_for(&zitadel)
            .zitadel_service_user(grant)
            .sign();
        let claims = verifier.verify::<StandardClaims>(&machine).await.unwrap();
        assert_eq!(claims.identity().kind, IdentityKind::Service, "{grant:?}");
    }
}

/// The payload of a Clerk OAuth access token as Clerk's backend SDK fixture shows one
/// (`clerk/javascript` `packages/backend/src/fixtures/machine.ts`, `mockSignedOAuthAccessTokenJwt`):
/// header `typ` `at+jwt`; `client_id` the OAuth application, `jti` `oat_…`, `scope`, and, like a
/// session token, `sid`, `azp` and no `aud`.
fn clerk_oauth_access_token(issuer: &TestIssuer, clerk: &Provider, azp: Option<&str>) -> String {
    let token = issuer
        .token_for(clerk)
        .header("typ", "at+jwt")
        .subject("user_2vYVtestTESTtestTESTtestTESTtest")
        .claim("sid", "sess_2GbDB4enNdCa5vS1zpC3Xzg9tK9")
        .claim("client_id", "client_2VTWUzvGC5UhdJCNx6xG1D98edc")
        .claim("jti", "oat_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE")
        .claim("scope", "profile");
    match azp {
        Some(azp) => token.claim("azp", azp),
        None => token.without_claim("azp"),
    }
    .sign()
}

/// Clerk: an **OAuth access token** Clerk issued to a third-party OAuth application is accepted as
/// the user's **session**.
///
/// Clerk is also an OAuth 2.0 provider: any client registers itself (Dynamic Client Registration,
/// CIMD, for MCP clients), a user consents to, say, `profile`, and Clerk issues the client a JWT
/// access token signed with the instance's keys, under the same issuer, carrying `sid` and no
/// `aud`, as a session token does. Its `azp` is the origin the consent was given on: the Account
/// Portal, or the application's own origin when it hosts `<OAuthConsent />` (Clerk's recommended
/// custom consent page). The preset's only test of "session token" is `sid` without `aud`, and it
/// accepts header `typ` `at+jwt`, so the third party replays its scope-limited, delegated token
/// to this API as `Authorization: Bearer` and acts as the user with everything a session may do
/// (Clerk's session tokens carry no scopes, so nothing narrows it). Clerk's own SDK signs such a
/// request out (`TokenTypeMismatch`: `isMachineJwt`, header `typ` `at+jwt`, on the header and the
/// cookie path).
///
/// Suggested fix: for `Provider::clerk`, refuse header `typ` `at+jwt`/`application/at+jwt` (and a
/// `client_id` claim, or a `jti` starting `oat_`/`sub` starting `mch_`) as not a session token
/// (token_kind.rs `session_or_templates`, `check_header`).
#[tokio::test]
async fn clerk_accepts_session_tokens_never_oauth_access_or_machine_tokens() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let clerk = issuer.adopt(Provider::clerk(CLERK, [APP]));
    let verifier = Verifier::new(clerk.clone()).unwrap();
    let session = issuer
        .token_for(&clerk)
        .subject("user_2vYVtestTESTtestTESTtestTESTtest")
        .claim("jti", "a1b2c3d4e5f6")
        .sign();
    assert!(verifier.verify_token(&session).await.is_ok());

    let oauth = clerk_oauth_access_token(&issuer, &clerk, Some(APP));
    let refused = verifier.verify_token(&oauth).await;
    assert!(
        matches!(refused, Err(AuthError::WrongTokenKind(_))),
        "a third party's OAuth access token passes as the user's session: {refused:?} {}",
        tests::payload(&oauth)
    );
    // Each mark alone, on an otherwise session-shaped token (`sid`, `azp`, no `aud`).
    let session_shaped = || {
        issuer
            .token_for(&clerk)
            .subject("user_2vYVtestTESTtestTESTtestTESTtest")
    };
    let mut marked: Vec<(String, String)> = ["at+jwt", "AT+JWT", "application/at+jwt"]
        .into_iter()
        .map(|typ| {
            (
                format!("typ {typ}"),
                session_shaped().header("typ", typ).sign(),
            )
        })
        .collect();
    marked.extend([
        (
            "client_id".to_owned(),
            session_shaped()
                .claim("client_id", "client_2VTWUzvGC5UhdJCNx6xG1D98edc")
                .sign(),
        ),
        (
            "jti oat_".to_owned(),
            session_shaped()
                .claim("jti", "oat_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE")
                .sign(),
        ),
        (
            "sub mch_ (an M2M token)".to_owned(),
            session_shaped()
                .subject("mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk")
                .sign(),
        ),
    ]);
    for (mark, token) in marked {
        let refused = verifier.verify_token(&token).await;
        assert!(
            matches!(&refused, Err(AuthError::WrongTokenKind(_))),
            "{mark}: {refused:?} {}",
            tests::payload(&token)
        );
    }
    // A JWT template's audience does not excuse a machine's subject either.
    let templates = issuer
        .adopt(Provider::clerk(CLERK, [APP]).accept_jwt_templates(["https://partner.example.com"]));
    let m2m = issuer
        .token_for(&templates)
        .subject("mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk")
        .audience("https://partner.example.com")
        .sign();
    let refused = Verifier::new(templates).unwrap().verify_token(&m2m).await;
    assert!(
        matches!(refused, Err(AuthError::WrongTokenKind(_))),
        "{refused:?}"
    );
}

/// Clerk with `accept_missing_azp_from_headers`: the same third-party OAuth access token without
/// `azp` (minted at the token endpoint, which the client calls from its server, without an
/// `Origin`) is accepted from `Authorization` as the user's session. The opt-in was meant for
/// native apps' session tokens; it excuses every `sid`-bearing, `aud`-less token, OAuth access
/// tokens included.
///
/// Suggested fix: as above; `azp_excused` (validation.rs) should apply to session tokens only.
#[tokio::test]
async fn clerk_excuses_a_missing_azp_for_session_tokens_only() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let clerk = issuer.adopt(Provider::clerk(CLERK, [APP]).accept_missing_azp_from_headers());
    let verifier = Verifier::new(clerk.clone()).unwrap();
    let native_session = issuer
        .token_for(&clerk)
        .subject("user_2vYVtestTESTtestTESTtestTESTtest")
        .without_claim("azp")
        .sign();
    assert!(verifier.verify_token(&native_session).await.is_ok());
    let oauth = clerk_oauth_access_token(&issuer, &clerk, None);
    let accepted = verifier.verify_token(&oauth).await;
    assert!(
        accepted.is_err(),
        "an azp-less OAuth access token passes as a native app's session: {}",
        tests::payload(&oauth)
    );
    // A JWT template token is no session: without `azp` it names no origin and is refused.
    let templates = issuer.adopt(
        Provider::clerk(CLERK, [APP])
            .accept_jwt_templates(["https://partner.example.com"])
            .accept_missing_azp_from_headers(),
    );
    let template = issuer
        .token_for(&templates)
        .audience("https://partner.example.com")
        .without_claim("azp")
        .sign();
    let refused = Verifier::new(templates)
        .unwrap()
        .verify_token(&template)
        .await;
    assert!(
        matches!(refused, Err(AuthError::InvalidAuthorizedParty { .. })),
        "an azp-less JWT template token is excused as a session: {refused:?}"
    );
}

/// Auth0 with agent subject claims (`agent_subject_claims: auth0-v1` on the API, Early Access):
/// machine-to-machine tokens are taken for **people**.
///
/// Auth0's access token profiles page: for an agent-linked client the client credentials token's
/// `sub` "is the agent's `agent_id` ... The `@clients` suffix is not appended in this case, nor for
/// non-agent Machine-to-Machine apps on an API with agent subject claims enabled"; its
/// agent-identity page shows the token, with `sub_profile` `ai_agent` and no `gty`
/// (<https://auth0.com/docs/ai-agents-mcp/agents-as-principal/agent-identity-in-tokens>). The
/// preset's markers (`gty` = `client-credentials`, `sub` = `<client>@clients`) match neither, so
/// such a machine is `IdentityKind::User`: it passes `#[require_user]`, and under
/// `scopes_from_permissions_only` its granted `scope` is dropped. The notes this preset cites
/// record the exception.
///
/// Suggested fix: read `sub_profile` where present (`user` a person; `service`, `ai_agent` a
/// machine), and take `sub` equal to the client claim (`azp`/`client_id`) as a machine too
/// (presets/auth0.rs `machine_subject`).
#[tokio::test]
async fn auth0_agent_subject_claims_mark_machines_and_people_stay_people() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let auth0 = issuer.adopt(
        Provider::auth0(
            "my-tenant.us.auth0.com",
            "https://your-resource-api.example.com",
        )
        .scopes_from_permissions_only(),
    );
    let verifier = Verifier::new(auth0.clone()).unwrap();
    // Verbatim from the agent-identity page: an agent-linked client's client credentials token.
    let agent = issuer
        .token_for(&auth0)
        .without_claim("azp")
        .subject("agt_1a2b3c")
        .claim("sub_profile", "ai_agent")
        .claim("client_id", "YOUR_CLIENT_ID")
        .claim("client_profile", "service ai_agent")
        .claim("scope", "read:data")
        .sign();
    // A non-agent M2M app on the same API (RFC 9068 profile): `sub` the client ID, no suffix.
    let m2m = issuer
        .token_for(&auth0)
        .header("typ", "at+jwt")
        .without_claim("azp")
        .subject("CS2MNgcX1VZFCJaEzfKw2VPAAS0gzhqP")
        .claim("client_id", "CS2MNgcX1VZFCJaEzfKw2VPAAS0gzhqP")
        .claim("jti", "73WakrfVbNJBaAmhQtEeDv")
        .claim("scope", "read:data")
        .sign();
    for machine in [&agent, &m2m] {
        let claims = verifier.verify::<StandardClaims>(machine).await.unwrap();
        let identity = claims.identity();
        assert_eq!(
            (identity.kind, identity.has_scope("read:data")),
            (IdentityKind::Service, true),
            "a client credentials token taken for a person: {}",
            tests::payload(machine)
        );
    }
    // A service (non-agent M2M) subject in the Auth0 profile, `sub` its own `azp`.
    let service = issuer
        .token_for(&auth0)
        .subject("CS2MNgcX1VZFCJaEzfKw2VPAAS0gzhqP")
        .claim("azp", "CS2MNgcX1VZFCJaEzfKw2VPAAS0gzhqP")
        .claim("sub_profile", "service")
        .sign();
    let claims = verifier.verify::<StandardClaims>(&service).await.unwrap();
    assert_eq!(claims.identity().kind, IdentityKind::Service);
    // A person on the same API: `sub_profile` `user`, a user ID, the client in `azp`.
    let person = issuer
        .token_for(&auth0)
        .subject("auth0|6553da60a54af58e29493993")
        .claim("azp", "CS2MNgcX1VZFCJaEzfKw2VPAAS0gzhqP")
        .claim("sub_profile", "user")
        .claim("scope", "read:data")
        .sign();
    let claims = verifier.verify::<StandardClaims>(&person).await.unwrap();
    let identity = claims.identity();
    assert_eq!(
        (identity.kind, identity.has_scope("read:data")),
        (IdentityKind::User, false),
        "a person's asked-for scope counts only through permissions"
    );
}

/// Entra multi-tenant: `.trusted_organizations([home])` naming a tenant that is not among the
/// accepted `tenants` starts, and then cannot work: the home tenant's tokens are refused as an
/// unknown issuer, so its administrators never reach `#[require_role("admin")]`. The `entra`
/// example invites it (`ENTRA_HOME_TENANT` "your own tenant ID, whose roles are the
/// application's" beside `ENTRA_ALLOWED_TENANTS` "tenant IDs to accept"), and for Auth0, Zitadel
/// and Keycloak a trusted organisation is accepted by that alone, so a user expects the same here.
/// threats.md §6: a setting that starts but cannot work is refused at startup.
///
/// Suggested fix: refuse it when the verifier is built, naming the tenant and `tenants` (or accept
/// trusted tenants as other presets accept trusted organisations) (presets/entra.rs
/// `multi_tenant`, provider.rs `trusted_organizations`).
#[tokio::test]
async fn entra_trusting_a_tenant_it_does_not_accept_is_refused_at_startup() {
    init_tracing();
    let client = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
    let home = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let customer = "fa15d692-e9c7-4460-a743-29f2956fd429";
    let provider = Provider::entra_multi_tenant(client, [customer]).trusted_organizations([home]);
    let Err(error) = Verifier::new(provider) else {
        panic!("trusting tenant {home}, whose tokens are never accepted, starts");
    };
    assert!(
        error.setting.ends_with("trusted_organizations")
            && error.problem.contains(home)
            && error.problem.contains("tenants"),
        "{error}"
    );
    let v1 = Provider::entra_v1_multi_tenant(client, [customer]).trusted_organizations([home]);
    assert!(Verifier::new(v1).is_err());
    // Trusted and accepted, in either order and spelling: it starts.
    let accepted = Provider::entra_multi_tenant(client, [customer, home])
        .trusted_organizations([home.to_ascii_uppercase()]);
    assert!(Verifier::new(accepted).is_ok());
}
