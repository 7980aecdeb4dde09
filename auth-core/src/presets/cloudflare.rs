use crate::checks::issuer::IssuerMatch;
use crate::identity::service_marker::ServiceMarker;
use crate::keys::algorithm::Algorithm;
use crate::keys::source::KeySource;
use crate::provider::Provider;
use crate::provider::resource::ResourceBinding;
use crate::token::claim_path::ClaimPath;
use crate::token::source::TokenSource;

impl Provider {
    /// Cloudflare Access in front of the application.
    ///
    /// - `team_domain`: `https://<team>.cloudflareaccess.com` (the bare host works too); it is the
    ///   issuer.
    /// - `aud`: the application's Audience (AUD) tag, 64 hex characters; tokens carry it in an
    ///   `aud` array.
    ///
    /// Keys come from `<team>/cdn-cgi/access/certs` (RS256; rotated every six weeks, the previous
    /// key kept for a while, which the key cache follows). The token is read from the
    /// `Cf-Access-Jwt-Assertion` header, else the `CF_Authorization` cookie; the
    /// `Cf-Access-Authenticated-User-Email` header is never trusted. Access tokens carry no roles:
    /// add them with a role resolver. Service tokens (a `common_name` claim, no e-mail, empty
    /// `sub`) become [`IdentityKind::Service`](crate::IdentityKind) with the client id as subject.
    ///
    /// Tokens must have `type` = `app` (the team-wide `org` session token is refused).
    ///
    /// **DPoP.** Access application tokens are bearer tokens (no `cnf` among their documented
    /// claims), so refusals offer only the `Bearer` challenge:
    /// <https://developers.cloudflare.com/cloudflare-one/identity/authorization-cookie/application-token/>.
    ///
    /// Docs:
    /// <https://developers.cloudflare.com/cloudflare-one/identity/authorization-cookie/validating-json/>,
    /// <https://developers.cloudflare.com/cloudflare-one/identity/authorization-cookie/application-token/>.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{Provider, StandardClaims, Verifier};
    /// # use auth_core::testing::TestIssuer;
    ///
    /// let aud = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";
    /// let provider = Provider::cloudflare_access("https://team.cloudflareaccess.com", aud);
    /// # let issuer = TestIssuer::start().await;
    /// # let provider = issuer.adopt(provider); // served by a loopback issuer for this example
    /// # let token = issuer.token_for(&provider).email("ada@example.com").sign();
    /// let verifier = Verifier::new(provider)?;
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// assert_eq!(claims.identity().email.as_deref(), Some("ada@example.com"));
    /// # Ok(()) }
    /// ```
    pub fn cloudflare_access(team_domain: &str, aud: &str) -> Provider {
        let issuer = super::https_url(team_domain);
        let jwks = format!("{issuer}/cdn-cgi/access/certs");
        let provider = Provider::custom(
            "Provider::cloudflare_access(team_domain, aud)",
            IssuerMatch::Exact(vec![issuer]),
            KeySource::Jwks(jwks),
        )
        .resource_binding(ResourceBinding::Refused(
            "Cloudflare Access puts the Access application's AUD tag in aud, never a resource \
                URL: keep Provider::cloudflare_access(team_domain, aud) without .resource(..)",
        ))
        .issues_dpop(false)
        .algorithms([Algorithm::RS256])
        .audience(aud.trim())
        .token_sources([
            TokenSource::header("Cf-Access-Jwt-Assertion"),
            TokenSource::cookie("CF_Authorization"),
        ])
        .roles_claims(Vec::<String>::new())
        .scopes_claims(Vec::<String>::new())
        .service_marker(ServiceMarker::ClaimPresent(ClaimPath::claim("common_name")))
        .subject_fallback("common_name")
        // `app` for application tokens (users and service tokens); `org` is the global session
        // token.
        .require_claim_value("type", ["app"]);
        let aud = aud.trim();
        if aud.len() != 64 || !aud.bytes().all(|b| b.is_ascii_hexdigit()) {
            return provider.invalid(
                "aud",
                format!(
                    "{aud:?} is not an Access AUD tag: copy the 64-hex-character Application \
                     Audience (AUD) Tag from Zero Trust > Access > Applications > your app > \
                     Overview"
                ),
            );
        }
        provider
    }
}
