use crate::checks::issuer::IssuerMatch;
use crate::identity::mapping::NameClaim;
use crate::identity::organization::OrgMapping;
use crate::identity::service_marker::ServiceMarker;
use crate::keys::algorithm::Algorithm;
use crate::keys::source::KeySource;
use crate::provider::Provider;
use crate::provider::endpoints::TokenEndpoints;
use crate::provider::resource::ResourceBinding;
use crate::token::claim_path::{ClaimPath, Separator};

/// Why `.introspection(..)` cannot work on Auth0. Sources: "In Auth0's case, opaque tokens can be
/// used with the `/userinfo` endpoint" (<https://auth0.com/docs/secure/tokens/access-tokens>); the
/// "Control access token audience" table of
/// <https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens>; Auth0's documentation
/// describes no RFC 7662 endpoint.
const AUTH0_HAS_NO_INTROSPECTION: &str = "Auth0 has no RFC 7662 introspection endpoint, so its \
    opaque access tokens cannot be checked by an API: Auth0 issues them when a token is requested \
    without `audience`, for its own /userinfo alone. Request the token with your API Identifier as \
    `audience` (Auth0 then issues a JWT this preset verifies) and remove .introspection(..)";

/// What an opaque token's refusal says: the most common Auth0 mistake is a token requested without
/// `audience`.
const AUTH0_OPAQUE_TOKEN: &str = "for Auth0 request the token with your API identifier as \
    `audience` (without it Auth0 issues an opaque token for its /userinfo alone)";

impl Provider {
    /// Auth0 access tokens for an API.
    ///
    /// - `domain`: the tenant domain (`my-tenant.us.auth0.com`) or a custom domain, with or without
    ///   `https://`. The issuer is `https://<domain>/` **with** the trailing slash, as Auth0 writes
    ///   it.
    /// - `audience`: the API Identifier from Applications > APIs. Tokens requested with `openid`
    ///   carry an `aud` array holding it and the `/userinfo` URL; either shape is accepted.
    ///
    /// Keys at `https://<domain>/.well-known/jwks.json`. RS256 or PS256, the asymmetric choices of
    /// an API's "JSON Web Token (JWT) Signing Algorithm" setting; HS256, the third, signs with a
    /// shared secret and is refused (the key still decides the algorithm). Scopes from `scope`
    /// (space-separated) and `permissions` (enable RBAC and "Add Permissions in the Access Token"
    /// on the API). Auth0 puts roles in the token only through an Action adding a custom claim,
    /// and `roles` itself is a restricted claim name: name the claim your Action writes, e.g.
    /// `.roles_claim("\"https://example.com/roles\"")` (quoted, as the name holds dots). Request
    /// tokens with an `audience`, or Auth0 issues opaque ones, which no API can check: Auth0 has no
    /// RFC 7662 introspection endpoint (its opaque tokens are for its `/userinfo` alone), so
    /// [`Provider::introspection`] on this preset is a [`ConfigError`](crate::ConfigError).
    ///
    /// **`scope` is what was asked for unless RBAC is on.** Auth0: "When RBAC is disabled, an
    /// application can request any permission defined for the API, and the `scope` claim includes
    /// all requested permissions." With RBAC off, any user who asks for `write:projects` gets it
    /// in `scope`, and `#[require_scope("write:projects")]` admits them. Enable RBAC on the API
    /// (then `scope` holds only what the user's roles grant), or read a person's scopes from
    /// `permissions` alone with [`Provider::scopes_from_permissions_only`].
    ///
    /// **Which tokens.** Access tokens for the API: an ID token's `aud` is a client ID, not the API
    /// Identifier, and it alone carries `nonce` or `at_hash`, which are refused. Both access token
    /// profiles are accepted (header `typ` `JWT` or, for the RFC 9068 profile, `at+jwt`).
    /// Machine-to-machine tokens (client credentials) are
    /// [`IdentityKind::Service`](crate::IdentityKind) by the markers Auth0 documents: `gty` =
    /// `client-credentials` (the Auth0 profile), or `sub` = `<client_id>@clients` where the client
    /// ID is the token's own `azp` (Auth0 profile) or `client_id` (RFC 9068 profile). A `sub` that
    /// merely ends with `@clients` is a person's: an enterprise connection's user ID
    /// (`samlp|acme-corp|ops@clients`) is chosen by the customer's identity provider. On an API
    /// with agent subject claims (`agent_subject_claims: auth0-v1`, Early Access) Auth0 appends no
    /// `@clients` ("the `sub` claim can reference an agent ID, and the `@clients` suffix is no
    /// longer appended to client IDs") and writes no `gty` for an agent, so a token is a machine's
    /// too when its `sub_profile` is `service` or `ai_agent`, or its `sub` is exactly its own
    /// `azp` or `client_id` (a user ID always names its connection, `auth0|…`, and never equals a
    /// client ID). Auth0 issues DPoP-bound tokens (Early Access); they need their proof.
    ///
    /// **Organizations.** A user who logs in through an Auth0 Organization gets a token carrying
    /// its `org_id` (and `org_name` where the tenant enables names). Auth0 asks APIs to validate
    /// it: "If the claim cannot be validated, then the API should deem the token invalid". So a
    /// token carrying `org_id` is refused (401 `INVALID_TOKEN`) until you name the organisations
    /// the API accepts with [`Provider::accept_organizations`], or accept any with
    /// [`Provider::accept_any_organization`]; tokens without `org_id` are not affected. In such a
    /// token, `permissions` "reflect only the roles held within the active Organization", and the
    /// roles claim your Action writes holds the member's roles there: both belong to the
    /// organisation, [`Identity::organization`](crate::Identity::organization) (`roles`,
    /// `permissions`, `id` = `org_id`, `name` = `org_name`), not to the application. With RBAC
    /// Auth0 also copies permissions into `scope` ("the scope claim of the access token includes an
    /// intersection of the requested permissions and the permissions assigned to the user,
    /// regardless of whether permissions are also included in the access token"), so a scope that
    /// is one of the `permissions` is the organisation's too, and without a `permissions` claim
    /// ("Add Permissions in the Access Token" off) every scope but OpenID Connect's (`openid`,
    /// `profile`, `email`, `address`, `phone`, `offline_access`) is. Guard them with
    /// `#[require_org_role("admin", org = "org")]` on routes that name the organisation, which
    /// Auth0 asks for too: "Your API servers must also segment access to data and resources based
    /// on the `org_id`". Roles and permissions of the organisations named with
    /// [`Provider::trusted_organizations`] (your own) count as the application's, and those
    /// organisations are accepted. A token without `org_id` is a login outside any organisation:
    /// [`Provider::accept_organizations`] lets it through (unlike Zitadel's and Keycloak's, whose
    /// clients choose whether a token names the organisation).
    ///
    /// **Protected resource** ([`Provider::resource`], RFC 8707). Auth0 puts the API's
    /// **Identifier** (the `audience` a client asks for) in `aud`
    /// (<https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens>): it stays
    /// accepted beside the resource URL. Where the Identifier is the resource URL itself, the two
    /// are one value and nothing else is accepted.
    ///
    /// **DPoP.** Auth0 binds tokens with DPoP (in Early Access), so refusals offer the `DPoP`
    /// challenge beside `Bearer`: <https://auth0.com/docs/secure/sender-constraining/demonstrating-proof-of-possession-dpop>,
    /// <https://auth0.com/docs/get-started/applications/configure-sender-constraining/configure-resource-server-for-sender-constraining>.
    /// At startup ([`Verifier::warm_up`](crate::Verifier::warm_up) or
    /// [`Verifier::prefetch`](crate::Verifier::prefetch)) the issuer Auth0's discovery document
    /// names (`https://<domain>/.well-known/openid-configuration`) must be the configured one, so a
    /// custom domain configured as the tenant domain (or the reverse) stops the application.
    ///
    /// Docs: <https://auth0.com/docs/secure/tokens/access-tokens/validate-access-tokens>,
    /// <https://auth0.com/docs/get-started/auth0-overview/set-up-apis> (signing algorithms),
    /// <https://auth0.com/docs/get-started/applications/signing-algorithms>,
    /// <https://auth0.com/docs/manage-users/organizations/using-tokens>,
    /// <https://auth0.com/docs/manage-users/organizations/organization-roles>,
    /// <https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles>,
    /// <https://auth0.com/docs/ai-agents-mcp/agents-as-principal/agent-identity-in-tokens>
    /// (`sub_profile`: `user`, `service` or `ai_agent`), the Management API's
    /// `agent_subject_claims` setting
    /// (<https://auth0.github.io/node-auth0/types/index.Management.ResourceServerAgentSubjectClaimsSchemaEnum.html>,
    /// no `@clients` suffix),
    /// <https://auth0.com/docs/manage-users/access-control/configure-core-rbac/enable-role-based-access-control-for-apis>,
    /// <https://auth0.com/docs/tokens/guides/create-namespaced-custom-claims>.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{Provider, StandardClaims, Verifier};
    /// # use auth_core::testing::TestIssuer;
    ///
    /// let provider = Provider::auth0("my-tenant.us.auth0.com", "https://api.example.com")
    ///     .roles_claim("\"https://example.com/roles\"");
    /// # let issuer = TestIssuer::start().await;
    /// # let provider = issuer.adopt(provider); // served by a loopback issuer for this example
    /// # let token = issuer.token_for(&provider).roles(["admin"]).scopes(["read:items"]).sign();
    /// let verifier = Verifier::new(provider)?;
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// assert!(claims.identity().has_role("admin") && claims.identity().has_scope("read:items"));
    /// # Ok(()) }
    /// ```
    pub fn auth0(domain: &str, audience: &str) -> Provider {
        let base = super::https_url(domain);
        let issuer = format!("{base}/");
        let jwks = format!("{base}/.well-known/jwks.json");
        Provider::custom(
            "Provider::auth0(domain, audience)",
            IssuerMatch::Exact(vec![issuer]),
            KeySource::Jwks(jwks),
        )
        .resource_binding(ResourceBinding::PresetAudience)
        .issues_dpop(true)
        .issuer_document(format!("{base}/.well-known/openid-configuration"))
        .algorithms([Algorithm::RS256, Algorithm::PS256])
        .audience(audience.trim())
        .roles_claims(Vec::<String>::new())
        .scopes_claims(["scope", "permissions"])
        .organizations(OrgMapping::Auth0)
        .forbid_claims(&["nonce", "at_hash"])
        .service_marker(ServiceMarker::Any(vec![
            ServiceMarker::ClaimEquals(ClaimPath::claim("gty"), "client-credentials".to_owned()),
            machine_subject("azp"),
            machine_subject("client_id"),
            // Agent subject claims (`agent_subject_claims: auth0-v1`): the entity type itself,
            // and a client's `sub` without the `@clients` suffix.
            ServiceMarker::ClaimEquals(ClaimPath::claim("sub_profile"), "service".to_owned()),
            ServiceMarker::ClaimEquals(ClaimPath::claim("sub_profile"), "ai_agent".to_owned()),
            ServiceMarker::ClaimsEqual(ClaimPath::claim("sub"), ClaimPath::claim("azp")),
            ServiceMarker::ClaimsEqual(ClaimPath::claim("sub"), ClaimPath::claim("client_id")),
        ]))
        .token_endpoints(TokenEndpoints::oauth(
            format!("{base}/.well-known/openid-configuration"),
            format!("{base}/authorize"),
            format!("{base}/oauth/token"),
        ))
        .without_introspection(AUTH0_HAS_NO_INTROSPECTION, AUTH0_OPAQUE_TOKEN)
    }

    /// Reads a person's scopes from Auth0's `permissions` claim alone, never from `scope`
    /// ([`Provider::auth0`] only). With RBAC off, Auth0 puts in `scope` whatever permissions the
    /// application asked for; `permissions` holds only those the user's roles grant (enable RBAC
    /// and "Add Permissions in the Access Token" on the API, or it is absent and the person holds
    /// no scope). Machine-to-machine tokens keep `scope`: it holds what the application's grant
    /// for this API allows, not what it asked for.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{Provider, StandardClaims, Verifier};
    /// # use auth_core::testing::TestIssuer;
    ///
    /// let provider = Provider::auth0("my-tenant.us.auth0.com", "https://api.example.com")
    ///     .scopes_from_permissions_only();
    /// # let issuer = TestIssuer::start().await;
    /// # let provider = issuer.adopt(provider); // served by a loopback issuer for this example
    /// # let token = issuer
    /// #     .token_for(&provider)
    /// #     .claim("scope", "openid write:projects")
    /// #     .claim("permissions", ["read:projects"])
    /// #     .sign();
    /// let claims = Verifier::new(provider)?.verify::<StandardClaims>(&token).await?;
    /// assert!(claims.identity().has_scope("read:projects"));
    /// assert!(!claims.identity().has_scope("write:projects"), "asked for, never granted");
    /// # Ok(()) }
    /// ```
    pub fn scopes_from_permissions_only(mut self) -> Provider {
        if self.mapping.organization != Some(OrgMapping::Auth0) {
            return self.invalid(
                "scopes_from_permissions_only",
                "Auth0's permissions claim is read by Provider::auth0 only; for another provider \
                 name the scopes claim with .scopes_claim(..)",
            );
        }
        self.mapping.user_scopes = Some(vec![NameClaim::new(
            ClaimPath::claim("permissions"),
            Separator::None,
        )]);
        self
    }
}

/// Auth0's documented machine subject: exactly the client ID in `client_claim` followed by
/// `@clients` (`CS2MNgcX1VZFCJaEzfKw2VPAAS0gzhqP@clients`).
fn machine_subject(client_claim: &str) -> ServiceMarker {
    ServiceMarker::ClaimIsClaimWithSuffix(
        ClaimPath::claim("sub"),
        ClaimPath::claim(client_claim),
        "@clients".to_owned(),
    )
}
