use crate::checks::issuer::IssuerMatch;
use crate::identity::organization::OrgMapping;
use crate::keys::algorithm::Algorithm;
use crate::keys::source::KeySource;
use crate::provider::Provider;
use crate::provider::resource::ResourceBinding;
use crate::token::source::TokenSource;

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
    /// tokens live 60 seconds, so the default 30-second leeway matters. RS256, the algorithm
    /// Clerk's verification guide names.
    ///
    /// **Tokens without `azp`.** Clerk writes the requesting page's `Origin` in `azp`, and "this
    /// claim could be omitted if, for privacy-related reasons, `Origin` is empty or null": a
    /// native app or a server calling Clerk sends none. Clerk's verification guide says to skip
    /// the check then; its backend SDK, since it enforces authorized parties, refuses such a
    /// token. This preset refuses it too (401 `INVALID_TOKEN`), since without `azp` nothing says
    /// which site the session belongs to. For non-browser clients, opt in with
    /// [`Provider::accept_missing_azp_from_headers`]: a session token without `azp` is then
    /// accepted when the client sent it in the `Authorization` header, never from the `__session`
    /// cookie, which the browser attaches for whatever page asks. A token that carries `azp` is
    /// checked either way.
    ///
    /// **Which tokens.** Session tokens only: they name their session (`sid`) and carry no `aud`.
    /// JWT template tokens share the issuer and keys, may carry a third party's `aud` and may live
    /// for years; accept one only by naming its `aud` with [`Provider::accept_jwt_templates`]. A
    /// token whose `aud` names none of those was minted for someone else and is refused even when
    /// it carries a `sid`. A session whose `sts` is `pending` (Organizations required but none
    /// chosen yet) is refused, as Clerk's SDK treats it as signed out.
    ///
    /// Clerk's OAuth access tokens ("OAuth tokens are machine tokens") are JWTs under the same
    /// issuer and keys, carry `sid` and no `aud` like a session, and go to any third-party client
    /// a user consented to; its M2M tokens may be JWTs too. Neither is a session, so a token is
    /// refused as [`AuthError::WrongTokenKind`](crate::AuthError::WrongTokenKind) (401
    /// `INVALID_TOKEN`) when its header `typ` is `at+jwt` (any case, with or without
    /// `application/`; Clerk types session tokens `JWT`), or it carries `client_id` (the OAuth
    /// client), a `jti` starting `oat_` (an OAuth access token's ID) or a `sub` starting `mch_` (a
    /// machine's ID), JWT template or not. A session token customised to carry `client_id` is
    /// refused for the same reason.
    ///
    /// **Roles.** Anyone can create an organisation from the front end and becomes its `org:admin`,
    /// so an organisation role is not an application role: the active organisation (`o` in v2
    /// tokens, `org_id`/`org_role`/`org_permissions` in v1) becomes
    /// [`Identity::organization`](crate::Identity::organization), with its role in Clerk's own form
    /// (`org:admin`; v2 tokens write `admin`) and its permissions decoded to
    /// `org:<feature>:<permission>`. Guard them with `require_org_role("org:admin")`. The
    /// application's own roles come from a claim you add with session token customisation (e.g.
    /// `"roles": "{{user.public_metadata.roles}}"`, then `.roles_claim("roles")`), or from the
    /// organisations you name with [`Provider::trusted_organizations`] (your staff organisation).
    /// A token without an active organisation is a session outside any organisation:
    /// [`Provider::accept_organizations`] lets it through.
    ///
    /// **DPoP.** Clerk's session tokens are bearer tokens (no `cnf` among their documented claims),
    /// so refusals offer only the `Bearer` challenge:
    /// <https://clerk.com/docs/guides/sessions/session-tokens>.
    ///
    /// Docs: <https://clerk.com/docs/guides/sessions/session-tokens>,
    /// <https://clerk.com/docs/guides/sessions/manual-jwt-verification>, Clerk's backend SDK
    /// refusing a missing `azp` (<https://github.com/clerk/javascript/commit/80afb69ecf2d1a3525e46a919952a47ff1fe924b>),
    /// <https://clerk.com/docs/guides/organizations/control-access/roles-and-permissions>,
    /// <https://clerk.com/docs/guides/sessions/jwt-templates>, OAuth access tokens
    /// <https://clerk.com/docs/oauth/oauth-verify-tokens>,
    /// <https://clerk.com/changelog/2026-01-08-jwt-oauth-access-tokens>, M2M tokens
    /// <https://clerk.com/docs/machine-auth/m2m-tokens> (machine IDs `mch_…`),
    /// <https://clerk.com/docs/guides/development/machine-auth/token-formats>.
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
    /// # let token = issuer.token_for(&provider).organization("org_1", ["admin"]).sign();
    /// let verifier = Verifier::new(provider)?;
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// let identity = claims.identity();
    /// assert!(identity.has_org_role("org:admin"), "the admin of an organisation");
    /// assert!(!identity.has_role("org:admin"), "not of the application");
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
        .resource_binding(ResourceBinding::Refused(
            "Clerk session tokens carry no aud and are checked by azp: a resource URL cannot \
                be bound to them; protect an MCP server with an OAuth authorization server that \
                honours RFC 8707 (Provider::oidc(issuer).resource(url))",
        ))
        .issues_dpop(false)
        .algorithms([Algorithm::RS256])
        .skip_audience_check()
        .authorized_parties(parties)
        .token_sources([
            TokenSource::Bearer,
            TokenSource::WebSocketProtocol,
            TokenSource::cookie("__session"),
        ])
        .roles_claims(Vec::<String>::new())
        .scopes_claims(Vec::<String>::new())
        .organizations(OrgMapping::Clerk)
        .refuse_claim_value("sts", "pending")
        .sessions_or_templates();
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

    /// Also accepts Clerk JWT template tokens whose `aud` is one of `audiences` (give the template
    /// a static `aud` in the Clerk dashboard). Template tokens need not name a session and may be
    /// long-lived, so none is accepted unless named here; a token with an `aud` not named here is
    /// refused, whether or not it carries a `sid`. For [`Provider::clerk`] only.
    pub fn accept_jwt_templates<I, S>(mut self, audiences: I) -> Provider
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let audiences: Vec<String> = audiences.into_iter().map(Into::into).collect();
        match &mut self.kind.session_or_templates {
            Some(templates) if !audiences.iter().any(|a| a.trim().is_empty()) => {
                templates.extend(audiences);
                self
            }
            Some(_) => self.invalid("accept_jwt_templates", "an audience is empty"),
            None => self.invalid(
                "accept_jwt_templates",
                "JWT templates are Clerk's; this provider is not Provider::clerk",
            ),
        }
    }

    /// Accepts Clerk session tokens without `azp` when they come in a header (`Authorization:
    /// Bearer`), for clients that send no `Origin` (native apps, servers), which Clerk issues
    /// without it. From the `__session` cookie such a token is still refused: a cookie comes with
    /// any site's requests, and `azp` is what ties a session to your origins. Session tokens only
    /// (`sid`, no `aud`): a JWT template token or an OAuth access token without `azp` is refused.
    /// Tokens that carry `azp` are checked against the authorized parties either way. For
    /// [`Provider::clerk`] only.
    ///
    /// Without `JwtAuth`, verify a cookie's token with
    /// [`Verifier::verify_cookie_token`](crate::Verifier::verify_cookie_token), which applies the
    /// same rule.
    pub fn accept_missing_azp_from_headers(mut self) -> Provider {
        if self.kind.session_or_templates.is_none() {
            return self.invalid(
                "accept_missing_azp_from_headers",
                "Clerk's session tokens omit azp without an Origin; this provider is not \
                 Provider::clerk",
            );
        }
        self.missing_azp_from_headers = true;
        self
    }
}
