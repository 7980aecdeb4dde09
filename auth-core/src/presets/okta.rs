use crate::algorithm::Algorithm;
use crate::claim_path::ClaimPath;
use crate::identity::ServiceRule;
use crate::provider::{IssuerMatch, KeySource, Provider};
use crate::token_endpoints::TokenEndpoints;

impl Provider {
    /// Okta access tokens from a custom authorization server.
    ///
    /// - `issuer`: `https://<org>.okta.com/oauth2/<server>` (the built-in one is
    ///   `.../oauth2/default`). Tokens from the org authorization server (`https://<org>.okta.com`
    ///   without `/oauth2/`) are meant for Okta's own APIs and cannot be verified by yours; this
    ///   preset refuses that issuer.
    /// - `audience`: the authorization server's Audience (`api://default` for the default server).
    ///
    /// Keys at `<issuer>/v1/keys`. Scopes from `scp` (an array), roles from `groups`, which is not
    /// a default claim: add a groups claim to the authorization server.
    ///
    /// **Which tokens.** Access tokens carry the requesting client in `cid`, which ID tokens (whose
    /// `aud` is a client ID) lack: a token without `cid` is refused. Client-credentials tokens are
    /// [`IdentityKind::Service`](crate::IdentityKind): no user is bound (`uid` is absent) and `sub`
    /// is the client ID.
    ///
    /// **DPoP.** Okta binds tokens with DPoP for custom authorization servers, so refusals offer
    /// the `DPoP` challenge beside `Bearer`:
    /// <https://developer.okta.com/docs/guides/dpop/nonoktaresourceserver/main/>. At startup the
    /// issuer the server's discovery document (`<issuer>/.well-known/openid-configuration`) names
    /// must be the configured one.
    ///
    /// Docs: <https://developer.okta.com/docs/guides/validate-access-tokens/dotnet/main/>,
    /// <https://developer.okta.com/docs/concepts/auth-servers/>.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{Provider, StandardClaims, Verifier};
    /// # use auth_core::testing::TestIssuer;
    ///
    /// let provider = Provider::okta("https://dev-1.okta.com/oauth2/default", "api://default");
    /// # let issuer = TestIssuer::start().await;
    /// # let provider = issuer.adopt(provider); // served by a loopback issuer for this example
    /// # let token = issuer.token_for(&provider).roles(["admin"]).scopes(["items:read"]).sign();
    /// let verifier = Verifier::new(provider)?;
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// assert!(claims.identity().has_role("admin") && claims.identity().has_scope("items:read"));
    /// # Ok(()) }
    /// ```
    pub fn okta(issuer: &str, audience: &str) -> Provider {
        let issuer = super::https_url(issuer);
        let jwks = format!("{issuer}/v1/keys");
        let base = issuer.clone();
        let org_server = !issuer.contains("/oauth2/");
        let provider = Provider::custom(
            "Provider::okta(issuer, audience)",
            IssuerMatch::Exact(vec![issuer]),
            KeySource::Jwks(jwks),
        )
        .issues_dpop(true)
        .issuer_document(format!("{base}/.well-known/openid-configuration"))
        .algorithms([Algorithm::RS256])
        .audience(audience.trim())
        .roles_claims(["groups"])
        .scopes_claims(["scp"])
        .require_claim("cid")
        .service_rule(ServiceRule::All(vec![
            ServiceRule::ClaimAbsent(ClaimPath::claim("uid")),
            ServiceRule::ClaimsEqual(ClaimPath::claim("sub"), ClaimPath::claim("cid")),
        ]))
        .token_endpoints(TokenEndpoints::oauth(
            format!("{base}/.well-known/openid-configuration"),
            format!("{base}/v1/authorize"),
            format!("{base}/v1/token"),
        ));
        if org_server {
            return provider.invalid(
                "issuer",
                "this is the org authorization server, whose access tokens only Okta can verify; \
                 use a custom authorization server issuer such as \
                 https://<org>.okta.com/oauth2/default",
            );
        }
        provider
    }
}
