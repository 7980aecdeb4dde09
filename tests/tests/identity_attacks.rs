//! Attacks on what a token means (Zitadel people and machines, accepted organisations, Auth0
//! organisation permissions) found by the third review's attacker read of auth-core. Each test
//! states what should hold; the doc comment names the attack.

use auth_actix::testing::{ServiceUserGrant, TestIssuer, ZITADEL_WEB_CLIENT_ID};
use auth_actix::{AuthError, IdentityKind, Provider, StandardClaims, Verifier};
use tests::init_tracing;

const PROJECT: &str = "263514598346711111";

/// Zitadel copies every `urn:zitadel:iam:org:project:id:<X>:aud` scope of a token request into
/// `aud`, whatever `<X>` is (`domain.AddAudScopeToAudience` takes the raw requested scopes, with
/// no check that `<X>` is a project), and a client-credentials service user's `client_id` is its
/// own username. So a service user that asks for `...:id:<project>:aud` and
/// `...:id:<its username>:aud` gets a token whose `client_id` is "one of the `aud` values" and
/// differs from `sub`: the preset's only marker of a person. Any service user of the instance
/// passes `#[require_user]` with one extra scope.
///
/// The fix (the lead's decision): the API names the client IDs people sign in through
/// (`zitadel_user_clients`), and only those make a person; a token shaped like a person's whose
/// client is not listed is `Unknown`, which no kind guard admits, with the setting or without it
/// (a person signing in through an unlisted application looks the same: see
/// preset_token_kinds.rs).
#[tokio::test]
async fn a_zitadel_service_user_that_adds_its_own_username_to_aud_is_not_taken_for_a_person() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let unset = issuer.adopt(Provider::zitadel("https://acme.zitadel.cloud", PROJECT));
    let zitadel = issuer.adopt(
        Provider::zitadel("https://acme.zitadel.cloud", PROJECT)
            .zitadel_user_clients([ZITADEL_WEB_CLIENT_ID]),
    );
    let verifier = Verifier::new(zitadel.clone()).unwrap();
    let honest = issuer
        .token_for(&zitadel)
        .zitadel_service_user(ServiceUserGrant::ClientCredentials)
        .sign();
    let username = tests::payload(&honest)["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let claims = verifier.verify::<StandardClaims>(&honest).await.unwrap();
    assert_eq!(claims.identity().kind, IdentityKind::Service);

    // The same service user, one more scope: `urn:zitadel:iam:org:project:id:<username>:aud`.
    let dressed_up = issuer
        .token_for(&zitadel)
        .zitadel_service_user(ServiceUserGrant::ClientCredentials)
        .audiences([PROJECT, username.as_str()])
        .sign();
    let shape = tests::payload(&dressed_up);
    assert_ne!(shape["client_id"], shape["sub"], "{shape}");
    let claims = verifier
        .verify::<StandardClaims>(&dressed_up)
        .await
        .unwrap();
    assert_eq!(
        claims.identity().kind,
        IdentityKind::Unknown,
        "a client-credentials service user is taken for a person: {shape}"
    );
    // A person signed in through the listed front end is a person.
    let person = issuer
        .token_for(&zitadel)
        .subject("263514598346700007")
        .sign();
    let claims = verifier.verify::<StandardClaims>(&person).await.unwrap();
    assert_eq!(claims.identity().kind, IdentityKind::User);

    // Without the setting the preset cannot tell the two apart: neither is a person.
    let unset = Verifier::new(unset).unwrap();
    let kind = |claims: auth_actix::Claims<StandardClaims>| claims.identity().kind;
    for (token, expected) in [
        (&honest, IdentityKind::Service),
        (&dressed_up, IdentityKind::Unknown),
        (&person, IdentityKind::Unknown),
    ] {
        let claims = unset.verify::<StandardClaims>(token).await.unwrap();
        assert_eq!(kind(claims), expected, "{}", tests::payload(token));
    }
}

/// The same service user on an opaque token (Zitadel's default for service users): its
/// introspection answer carries the same `aud` and `client_id`.
#[tokio::test]
async fn an_introspected_zitadel_service_user_adding_its_username_to_aud_is_not_taken_for_a_person()
{
    init_tracing();
    let issuer = TestIssuer::start().await;
    let key_file = issuer.zitadel_key_file();
    let provider = Provider::zitadel("https://acme.zitadel.cloud", PROJECT)
        .zitadel_key_file(&key_file.to_string_lossy());
    let unset = issuer.adopt(provider.clone());
    let zitadel = issuer.adopt(provider.zitadel_user_clients([ZITADEL_WEB_CLIENT_ID]));
    let verifier = Verifier::new(zitadel.clone()).unwrap();
    let builder = issuer
        .token_for(&zitadel)
        .zitadel_service_user(ServiceUserGrant::ClientCredentials);
    let username = builder.claims()["client_id"].as_str().unwrap().to_owned();
    let dressed_up = builder.audiences([PROJECT, username.as_str()]).opaque();
    let claims = verifier
        .verify::<StandardClaims>(&dressed_up)
        .await
        .unwrap();
    assert_eq!(
        claims.identity().kind,
        IdentityKind::Unknown,
        "an introspected client-credentials service user is taken for a person"
    );
    let person = issuer
        .token_for(&zitadel)
        .subject("263514598346700007")
        .opaque();
    let claims = verifier.verify::<StandardClaims>(&person).await.unwrap();
    assert_eq!(claims.identity().kind, IdentityKind::User);
    // Without the setting: neither a person nor a machine.
    let unset = Verifier::new(unset).unwrap();
    for token in [&dressed_up, &person] {
        let claims = unset.verify::<StandardClaims>(token).await.unwrap();
        assert_eq!(claims.identity().kind, IdentityKind::Unknown);
    }
}

/// `accept_organizations` lets through every token that names no organisation. On Zitadel every
/// user belongs to one, and whether the token says so is the client's choice (the scope
/// `urn:zitadel:iam:user:resourceowner`): a user of an organisation the API does not accept
/// obtains a token without that scope (and without roles, or with roles from several
/// organisations) and passes the filter.
#[tokio::test]
async fn zitadel_accept_organizations_refuses_a_user_whose_token_leaves_out_its_organisation() {
    init_tracing();
    let accepted = "263514100000000001";
    let stranger = "263514100000000099";
    let issuer = TestIssuer::start().await;
    let zitadel = issuer.adopt(
        Provider::zitadel("https://acme.zitadel.cloud", PROJECT).accept_organizations([accepted]),
    );
    let verifier = Verifier::new(zitadel.clone()).unwrap();
    let named = issuer
        .token_for(&zitadel)
        .subject("263514598346700007")
        .organization(stranger, Vec::<String>::new())
        .sign();
    assert!(matches!(
        verifier.verify_token(&named).await.unwrap_err(),
        AuthError::OrganizationNotAccepted(_)
    ));
    // The same user, the resource-owner scope not requested.
    let unnamed = issuer
        .token_for(&zitadel)
        .subject("263514598346700007")
        .organization(stranger, Vec::<String>::new())
        .without_claim("urn:zitadel:iam:user:resourceowner:id")
        .sign();
    let outcome = verifier.verify_token(&unnamed).await.map(|_| ());
    assert!(
        matches!(outcome, Err(AuthError::OrganizationNotAccepted(_))),
        "a user of an organisation the API does not accept passes: {outcome:?}"
    );
}

/// Keycloak likewise: a token naming several organisations (the scope `organization:*`) yields
/// none, and so passes an `accept_organizations` list that names none of them.
#[tokio::test]
async fn keycloak_accept_organizations_refuses_a_token_naming_only_other_organisations() {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let keycloak = issuer.adopt(
        Provider::keycloak("https://sso.example.com", "demo", "orders-api")
            .accept_organizations(["acme"]),
    );
    let verifier = Verifier::new(keycloak.clone()).unwrap();
    let one = issuer
        .token_for(&keycloak)
        .organization("evil", Vec::<String>::new())
        .sign();
    assert!(matches!(
        verifier.verify_token(&one).await.unwrap_err(),
        AuthError::OrganizationNotAccepted(_)
    ));
    let several = issuer
        .token_for(&keycloak)
        .claim("organization", ["evil", "other"])
        .sign();
    let outcome = verifier.verify_token(&several).await.map(|_| ());
    assert!(
        matches!(outcome, Err(AuthError::OrganizationNotAccepted(_))),
        "a member of organisations the API does not accept passes: {outcome:?}"
    );
}

/// Auth0 with RBAC on: "the scope claim of the access token includes an intersection of the
/// requested permissions and the permissions assigned to the user, regardless of whether
/// permissions are also included in the access token"
/// (<https://auth0.com/docs/configure/apis/enable-role-based-access-control-for-apis>), and in an
/// organisation's context the user's permissions are those of the roles held in that
/// organisation. The preset tells the organisation's permissions apart from the caller's scopes
/// only by the `permissions` claim, which Auth0 adds only with "Add Permissions in the Access
/// Token" (off by default). Without it, a permission an organisation's administrator granted a
/// member (requested as a scope) is an application scope, and `#[require_scope]` admits it.
#[tokio::test]
async fn an_auth0_organisation_permission_is_not_an_application_scope_without_the_permissions_claim()
 {
    init_tracing();
    let issuer = TestIssuer::start().await;
    let org = "org_9ybsU1dN2dKfDkBi";
    let auth0 = issuer.adopt(
        Provider::auth0("exampleco.auth0.com", "https://example-api/").accept_organizations([org]),
    );
    let verifier = Verifier::new(auth0.clone()).unwrap();
    // With the permissions claim: the organisation's, as the preset documents.
    let with_claim = issuer
        .token_for(&auth0)
        .subject("auth0|602c0dcab993d10073daf680")
        .claim("scope", "openid profile delete:projects")
        .organization(org, Vec::<String>::new())
        .claim("permissions", ["delete:projects"])
        .sign();
    let claims = verifier
        .verify::<StandardClaims>(&with_claim)
        .await
        .unwrap();
    assert!(!claims.identity().scopes.contains("delete:projects"));
    // The same token as Auth0 issues it with the toggle off: the permission in `scope` alone.
    let without_claim = issuer
        .token_for(&auth0)
        .subject("auth0|602c0dcab993d10073daf680")
        .claim("scope", "openid profile delete:projects")
        .organization(org, Vec::<String>::new())
        .sign();
    let claims = verifier
        .verify::<StandardClaims>(&without_claim)
        .await
        .unwrap();
    assert!(
        !claims.identity().scopes.contains("delete:projects"),
        "an organisation's permission counts as an application scope: {:?}",
        claims.identity().scopes
    );
}
