use crate::algorithm::Algorithm;
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
    /// opaque and need introspection). Roles come from `urn:zitadel:iam:org:project:roles` and
    /// `urn:zitadel:iam:org:project:<project_id>:roles`, maps whose keys are the role names
    /// (`{"admin": {"<orgId>": "<orgDomain>"}}`). For roles in access tokens enable **Assert Roles
    /// on Authentication** on the project and the application's access-token role assertion, or
    /// request the scope `urn:zitadel:iam:org:projects:roles`.
    ///
    /// Docs: <https://zitadel.com/docs/apis/openidoauth/claims>,
    /// <https://zitadel.com/docs/guides/integrate/retrieve-user-roles>.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{Provider, StandardClaims, Verifier};
    /// # use auth_core::testing::TestIssuer;
    ///
    /// let provider = Provider::zitadel("https://acme.zitadel.cloud", "263514598346711111");
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
        .roles_claims([
            "urn:zitadel:iam:org:project:roles".to_owned(),
            format!("urn:zitadel:iam:org:project:{project_id}:roles"),
        ])
        .scopes_claims(["scope"]);
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
