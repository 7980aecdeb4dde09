use crate::algorithm::Algorithm;
use crate::claim_path::ClaimPath;
use crate::identity::ServiceRule;
use crate::organization::OrgMapping;
use crate::provider::{IssuerMatch, KeySource, Provider};
use crate::token_endpoints::TokenEndpoints;

impl Provider {
    /// Zitadel (cloud or self-hosted).
    ///
    /// - `issuer`: the instance URL, e.g. `https://my-instance.zitadel.cloud`; keys through
    ///   discovery (`<issuer>/oauth/v2/keys`).
    /// - `project_id`: the project's resource ID, which Zitadel puts in `aud` (beside the client
    ///   IDs).
    ///
    /// Access tokens are JWTs only when the application's token type is **JWT** (else they are
    /// opaque and need introspection). For roles in access tokens enable **Assert Roles on
    /// Authentication** on the project and the application's access-token role assertion, or
    /// request the scope `urn:zitadel:iam:org:projects:roles`.
    ///
    /// **Roles.** `urn:zitadel:iam:org:project:roles` and
    /// `urn:zitadel:iam:org:project:<project_id>:roles` map each role to the organisations that
    /// granted it (`{"admin": {"<orgId>": "<orgDomain>"}}`). A project granted to a customer
    /// organisation lets that organisation's administrators grant its roles to their own users, so
    /// only roles granted by the organisations you name with [`Provider::trusted_organizations`]
    /// (the one owning the project) are application roles. The caller's own organisation
    /// (`urn:zitadel:iam:user:resourceowner:id`, requested with the scope
    /// `urn:zitadel:iam:user:resourceowner`; else the one organisation that granted it roles) is
    /// [`Identity::organization`](crate::Identity::organization), with the roles it granted.
    ///
    /// **Which tokens.** A JWT access token and an ID token share `typ` (`JWT`), `client_id` and
    /// often `aud`; an ID token alone carries `at_hash` (whenever it came with an access token),
    /// `c_hash` or `nonce`, and is refused by those. Service users (machine users) are
    /// [`IdentityKind::Service`](crate::IdentityKind): their tokens' `client_id` is the user itself
    /// (its ID, equal to `sub`, with JWT profile; its username, equal to `preferred_username`,
    /// with client credentials), where a person's names an application. Zitadel's code, not its
    /// documentation, says so.
    ///
    /// Docs: <https://zitadel.com/docs/apis/openidoauth/claims>,
    /// <https://zitadel.com/docs/guides/integrate/retrieve-user-roles>,
    /// <https://zitadel.com/docs/concepts/structure/granted_projects>,
    /// <https://zitadel.com/docs/guides/integrate/service-users/client-credentials>.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{Provider, StandardClaims, Verifier};
    /// # use auth_core::testing::TestIssuer;
    ///
    /// let provider = Provider::zitadel("https://acme.zitadel.cloud", "263514598346711111")
    ///     .trusted_organizations(["263514598346700000"]); // the organisation owning the project
    /// # let issuer = TestIssuer::start().await;
    /// # let provider = issuer.adopt(provider); // served by a loopback issuer for this example
    /// # let token = issuer.token_for(&provider).roles(["admin"]).sign();
    /// let verifier = Verifier::new(provider)?;
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// assert!(claims.identity().has_role("admin"));
    /// # Ok(()) }
    /// ```
    pub fn zitadel(issuer: &str, project_id: &str) -> Provider {
        let issuer = super::https_url(issuer);
        let discovery = format!("{issuer}/.well-known/openid-configuration");
        let project_id = project_id.trim();
        let endpoints = TokenEndpoints::oauth(
            discovery.clone(),
            format!("{issuer}/oauth/v2/authorize"),
            format!("{issuer}/oauth/v2/token"),
        );
        let provider = Provider::custom(
            "Provider::zitadel(issuer, project_id)",
            IssuerMatch::Exact(vec![issuer]),
            KeySource::Discovery(discovery),
        )
        .token_endpoints(endpoints)
        .algorithms([Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA])
        .audience(project_id)
        .roles_claims(Vec::<String>::new())
        .organizations(OrgMapping::Zitadel {
            role_claims: vec![
                ClaimPath::claim("urn:zitadel:iam:org:project:roles"),
                ClaimPath::claim(&format!("urn:zitadel:iam:org:project:{project_id}:roles")),
            ],
        })
        .scopes_claims(["scope"])
        .forbid_claims(&["at_hash", "c_hash", "nonce"])
        .service_rule(ServiceRule::Any(vec![
            ServiceRule::ClaimsEqual(ClaimPath::claim("client_id"), ClaimPath::claim("sub")),
            ServiceRule::ClaimsEqual(
                ClaimPath::claim("client_id"),
                ClaimPath::claim("preferred_username"),
            ),
        ]));
        if !super::is_path_segment(project_id) {
            return provider.invalid(
                "project_id",
                format!(
                    "{project_id:?} is not a project ID: copy the numeric Resource Id from the \
                     project's page"
                ),
            );
        }
        provider
    }
}
