use crate::checks::issuer::IssuerMatch;
use crate::identity::service_marker::ServiceMarker;
use crate::keys::algorithm::Algorithm;
use crate::keys::source::KeySource;
use crate::provider::Provider;
use crate::provider::endpoints::TokenEndpoints;
use crate::provider::resource::ResourceBinding;
use crate::token::claim_path::ClaimPath;

impl Provider {
    /// Okta access tokens from a custom authorization server.
    ///
    /// - `issuer`: `https://<org>.okta.com/oauth2/<server>` (the built-in one is
    ///   `.../oauth2/default`). Tokens from the org authorization server (`https://<org>.okta.com`
    ///   without `/oauth2/`) are meant for Okta's own APIs and cannot be verified by yours; this
    ///   preset refuses that issuer.
    /// - `audience`: the authorization server's Audience (`api://default` for the default server).
    ///
    /// Keys at `<issuer>/v1/keys`; RS256, the one algorithm Okta signs access tokens with ("This
    /// is always `RS256`"). Scopes from `scp` (an array), roles from `groups`, which is not a
    /// default claim: add a groups claim to the authorization server.
    ///
    /// **Which tokens.** Access tokens carry the requesting client in `cid`, which ID tokens (whose
    /// `aud` is a client ID) lack: a token without `cid` is refused. A token without `uid` is a
    /// client-credentials token, [`IdentityKind::Service`](crate::IdentityKind): Okta leaves `uid`
    /// out when "there is no user bound to it" (its client is `cid`). Okta issues DPoP-bound tokens
    /// (`cnf.jkt`) to clients set to require DPoP; they need their proof.
    ///
    /// **Which identifier to store users by.** `uid`, the Okta user ID (`00u…`). `sub` is the
    /// user's login in Okta's own examples (`joe.smith@example.com`), which an administrator can
    /// change; [`Identity::subject`](crate::Identity::subject) holds it as the token does, so read
    /// `uid` from the claims to key a user's data.
    ///
    /// **DPoP.** Okta binds tokens with DPoP for custom authorization servers, so refusals offer
    /// the `DPoP` challenge beside `Bearer`:
    /// <https://developer.okta.com/docs/guides/dpop/nonoktaresourceserver/main/>. At startup the
    /// issuer the server's discovery document (`<issuer>/.well-known/openid-configuration`) names
    /// must be the configured one.
    ///
    /// Docs: <https://developer.okta.com/docs/guides/validate-access-tokens/dotnet/main/>,
    /// <https://developer.okta.com/docs/concepts/auth-servers/>, reserved claims
    /// <https://developer.okta.com/docs/reference/api/oidc/#reserved-claims-in-the-payload-section>,
    /// <https://developer.okta.com/docs/guides/step-up-authentication/main/> (a user token),
    /// <https://developer.okta.com/docs/guides/dpop/nonoktaresourceserver/main/>.
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
        .resource_binding(ResourceBinding::Refused(
            "Okta puts its authorization server's configured audience in aud whatever \
                resource the client names: set that audience to the resource URL in Okta and use \
                Provider::oidc(issuer).resource(url), or keep Provider::okta(issuer, audience) \
                without .resource(..)",
        ))
        .issues_dpop(true)
        .issuer_document(format!("{base}/.well-known/openid-configuration"))
        .algorithms([Algorithm::RS256])
        .audience(audience.trim())
        .roles_claims(["groups"])
        .scopes_claims(["scp"])
        .require_claim("cid")
        .service_marker(ServiceMarker::ClaimAbsent(ClaimPath::claim("uid")))
        .token_endpoints(TokenEndpoints::oauth(
            format!("{base}/.well-known/openid-configuration"),
            format!("{base}/v1/authorize"),
            format!("{base}/v1/token"),
        ));
        if org_server {
            return provider.invalid(
                "issuer",
                "this is the org authorization server: Okta says its access tokens are for Okta's \
                 own APIs, to be treated as opaque by others, and their format may change; use a \
                 custom authorization server issuer such as https://<org>.okta.com/oauth2/default",
            );
        }
        provider
    }
}
