use crate::algorithm::Algorithm;
use crate::claim_path::Separator;
use crate::provider::{IssuerMatch, KeySource, Provider};
use crate::token_source::TokenSource;

impl Provider {
    /// Clerk session tokens.
    ///
    /// - `issuer`: the Frontend API URL, e.g. `https://<slug>.clerk.accounts.dev` or
    ///   `https://clerk.example.com`; keys at `<issuer>/.well-known/jwks.json`.
    /// - `authorized_parties`: the origins your front end runs on (e.g. `https://app.example.com`).
    ///   Session tokens carry no `aud`; their `azp` (the origin that requested them) must be one of
    ///   these, which is what stops a token minted for another site on the same Clerk instance.
    ///
    /// The token is read from `Authorization: Bearer`, else the `__session` cookie (same-origin
    /// requests), in the order of Clerk's own SDK: a header, when sent, decides alone. Session
    /// tokens live 60 seconds, so the default 30-second leeway matters. Roles are the active
    /// organisation's role: `o.rol` in v2 tokens (`"admin"`), `org_role` in the deprecated v1
    /// tokens (`"org:admin"`, prefix included). Permissions become scopes: `o.per`
    /// (comma-separated) or `org_permissions`. A token without `azp` is refused (Clerk's own SDK
    /// lets it through when the browser sent no `Origin`; this preset does not).
    ///
    /// Docs: <https://clerk.com/docs/guides/sessions/session-tokens>,
    /// <https://clerk.com/docs/guides/sessions/manual-jwt-verification>.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{Provider, StandardClaims, Verifier};
    /// # use auth_core::testing::TestIssuer;
    ///
    /// let provider = Provider::clerk("https://clerk.example.com", ["https://app.example.com"]);
    /// # let issuer = TestIssuer::start().await;
    /// # let provider = issuer.adopt(provider); // served by a loopback issuer for this example
    /// # let org = serde_json::json!({"id": "org_1", "rol": "admin", "per": "read,manage"});
    /// # let token = issuer.token_for(&provider).claim("sid", "s_1").claim("o", org).sign();
    /// let verifier = Verifier::new(provider)?;
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// assert_eq!(claims.azp.as_deref(), Some("https://app.example.com"));
    /// assert!(claims.identity().has_scope("manage"));
    /// # Ok(()) }
    /// ```
    pub fn clerk<I, S>(issuer: &str, authorized_parties: I) -> Provider
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let issuer = super::https_url(issuer);
        let jwks = format!("{issuer}/.well-known/jwks.json");
        let parties: Vec<String> = authorized_parties.into_iter().map(Into::into).collect();
        let malformed = parties
            .iter()
            .find(|party| !party.contains("://") || party.ends_with('/'))
            .cloned();
        let provider = Provider::custom(
            "Provider::clerk(issuer, authorized_parties)",
            IssuerMatch::Exact(vec![issuer]),
            KeySource::Jwks(jwks),
        )
        .algorithms([Algorithm::RS256])
        .skip_audience_check()
        .authorized_parties(parties)
        .token_sources([TokenSource::Bearer, TokenSource::cookie("__session")])
        .roles_claims(["org_role", "o.rol"])
        .scopes_claims(["org_permissions"])
        .scopes_list_claim("o.per", Separator::Comma);
        match malformed {
            Some(party) => provider.invalid(
                "authorized_parties",
                format!(
                    "{party:?} is not an origin: write scheme and host without a path, e.g. \
                     https://app.example.com"
                ),
            ),
            None => provider,
        }
    }
}
