use crate::algorithm::Algorithm;
use crate::claim_path::ClaimPath;
use crate::identity::ServiceRule;
use crate::organization::OrgMapping;
use crate::provider::{IssuerMatch, KeySource, Provider};
use crate::token_endpoints::TokenEndpoints;

/// The roles of the project the requesting client (or introspecting API) belongs to, whichever
/// project that is.
const UNQUALIFIED_ROLES: &str = "urn:zitadel:iam:org:project:roles";

impl Provider {
    /// Zitadel (cloud or self-hosted), as its documentation and code describe its tokens.
    ///
    /// - `issuer`: the instance URL, e.g. `https://my-instance.zitadel.cloud`; keys through
    ///   discovery (`<issuer>/oauth/v2/keys`).
    /// - `project_id`: the project's ID (digits, e.g. `263514598346711111`), shown on the project's
    ///   page in the console. Zitadel puts it in `aud` beside the client IDs; a project's name, or
    ///   anything but 10 to 25 digits, is refused when the verifier is built.
    ///
    /// Access tokens are JWTs only when the application's "Auth Token Type" is **JWT** (a service
    /// user's "Access Token Type" likewise); otherwise they are opaque and need introspection:
    /// [`Provider::zitadel_key_file`] with the API application's key.
    ///
    /// **Roles** come only from `urn:zitadel:iam:org:project:<project_id>:roles`, the claim Zitadel
    /// recommends. The unqualified `urn:zitadel:iam:org:project:roles` holds the roles of the
    /// project *the requesting client* belongs to, so a client of another project that adds this
    /// one to its audience (scope `urn:zitadel:iam:org:project:id:<id>:aud`) would bring that
    /// project's `admin`; it is read only after [`Provider::zitadel_unqualified_roles`]. Each role
    /// maps to the organisations that granted it (`{"admin": {"<orgId>": "<orgDomain>"}}`); any
    /// other shape (the array the claims table shows) is ignored. A project granted to a customer
    /// organisation lets that organisation's administrators grant its roles to their own users, so
    /// only roles granted by the organisations you name with [`Provider::trusted_organizations`]
    /// (the one owning the project) are application roles. The caller's own organisation
    /// (`urn:zitadel:iam:user:resourceowner:id`, requested with the scope
    /// `urn:zitadel:iam:user:resourceowner`; else the one organisation that granted it roles) is
    /// [`Identity::organization`](crate::Identity::organization), with the roles it granted. For
    /// roles in JWT access tokens, turn on the application's "User Roles Inside Access Token" and
    /// the project's "Assert Roles on Authentication" (or request the role scopes).
    ///
    /// **Which tokens.** Zitadel's JWT access tokens carry `jti` and `client_id`; its ID tokens
    /// carry no `jti` and add `at_hash`, `sid`, `nonce` (when the client sent one) or `c_hash`.
    /// Both are typed `JWT` (never `at+jwt`), and both can name this project in `aud`, so a token
    /// without `jti`, or with one of those four claims, is refused as
    /// [`AuthError::WrongTokenKind`](crate::AuthError::WrongTokenKind). Introspection answers carry
    /// `jti` too.
    ///
    /// **People and machines.** No claim says "service user", so the preset reads the shape of the
    /// grant: a person's token (code flow, JWT or introspected) names in `client_id` the
    /// application the person signed in to, and Zitadel puts every client ID of the project in
    /// `aud` ("by default all client id's and the project id are included"). A service user's
    /// audience holds only the projects its `:aud` scopes asked for, and its `client_id` is the
    /// user itself: its ID, equal to `sub`, with the JWT profile grant; its username with client
    /// credentials; nothing with a personal access token. So a token is
    /// [`IdentityKind::User`](crate::IdentityKind) only when `client_id` is a non-empty string,
    /// differs from `sub` and is one of the `aud` values; every other token is
    /// [`IdentityKind::Service`](crate::IdentityKind), and `#[require_user]` refuses it. Zitadel's
    /// code, not its documentation, shows these shapes; where they are unclear, this reading
    /// refuses a person's route to a machine rather than the reverse. Note that introspection
    /// answers for a personal access token are active for any API application of the instance
    /// (Zitadel adds the introspecting client to its audience): require roles, not only a valid
    /// token.
    ///
    /// Algorithms: RS256, RS384, RS512, ES256, ES384 and EdDSA (Ed25519), what Zitadel's web keys
    /// offer (each key still verifies only its own; ES512, which Zitadel also offers, is not
    /// verified by this crate). Tokens are plain bearer tokens: Zitadel issues no DPoP-bound ones.
    ///
    /// **DPoP.** Zitadel issues no DPoP-bound tokens (its token endpoint's `token_type` is always
    /// `Bearer`, and DPoP support is an open request), so refusals offer only the `Bearer`
    /// challenge: <https://zitadel.com/docs/apis/openidoauth/endpoints>,
    /// <https://github.com/zitadel/zitadel/issues/5402>.
    ///
    /// Docs: claims <https://zitadel.com/docs/apis/openidoauth/claims>, scopes
    /// <https://zitadel.com/docs/apis/openidoauth/scopes>, roles
    /// <https://zitadel.com/docs/guides/integrate/retrieve-user-roles>, granted projects
    /// <https://zitadel.com/docs/concepts/structure/granted_projects>, service users
    /// <https://zitadel.com/docs/guides/integrate/service-users/client-credentials>,
    /// <https://zitadel.com/docs/guides/integrate/service-users/personal-access-token>,
    /// <https://zitadel.com/docs/apis/openidoauth/grant-types>, introspection
    /// <https://zitadel.com/docs/apis/openidoauth/endpoints#introspection-endpoint>, client keys
    /// <https://zitadel.com/docs/apis/openidoauth/authn-methods>, signing keys
    /// <https://zitadel.com/docs/guides/integrate/login/oidc/webkeys>. Code (github.com/zitadel):
    /// `zitadel/internal/api/oidc/token.go` (`createJWT`, `createIDToken`), `userinfo.go`
    /// (`setUserInfoRoleClaims`), `token_client_credentials.go`, `token_jwt_profile.go`,
    /// `client_credentials.go`, `introspect.go`, `access_token.go`,
    /// `zitadel/internal/auth/repository/eventsourcing/handler/token.go` (a personal access token
    /// records no application, hence no `client_id`), and `oidc/pkg/oidc/token.go`
    /// (`NewAccessTokenClaims`, `NewIDTokenClaims`), `introspection.go` (`username`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{IdentityKind, Provider, StandardClaims, Verifier};
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
    /// assert_eq!(claims.identity().kind, IdentityKind::User);
    ///
    /// // A project's name where its ID belongs: refused at startup, not on every request.
    /// let error = Verifier::new(Provider::zitadel("https://acme.zitadel.cloud", "invoices"));
    /// assert!(error.unwrap_err().problem.contains("project's page"));
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
        let client_id = || ClaimPath::claim("client_id");
        // A person's token names an application of the project, which Zitadel lists in `aud`.
        let person = ServiceRule::All(vec![
            ServiceRule::ClaimPresent(client_id()),
            ServiceRule::Not(Box::new(ServiceRule::ClaimsEqual(
                client_id(),
                ClaimPath::claim("sub"),
            ))),
            ServiceRule::ClaimIn(client_id(), ClaimPath::claim("aud")),
        ]);
        let provider = Provider::custom(
            "Provider::zitadel(issuer, project_id)",
            IssuerMatch::Exact(vec![issuer]),
            KeySource::Discovery(discovery),
        )
        .issues_dpop(false)
        .token_endpoints(endpoints)
        .algorithms([
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ])
        .audience(project_id)
        .roles_claims(Vec::<String>::new())
        .organizations(OrgMapping::Zitadel {
            role_claims: vec![ClaimPath::claim(&format!(
                "urn:zitadel:iam:org:project:{project_id}:roles"
            ))],
        })
        .scopes_claims(["scope"])
        .forbid_claims(&["at_hash", "c_hash", "nonce", "sid"])
        .access_token_claims(&["jti"])
        .service_rule(ServiceRule::Not(Box::new(person)));
        if !is_resource_id(project_id) {
            return provider.invalid(
                "project_id",
                format!(
                    "{project_id:?} is not a Zitadel project ID (10 to 25 digits, e.g. \
                     263514598346711111): copy the project's ID, shown on the project's page in \
                     the console, not its name"
                ),
            );
        }
        provider
    }

    /// Also reads roles from Zitadel's unqualified `urn:zitadel:iam:org:project:roles` claim,
    /// beside the one qualified with this project's ID, for tokens of Zitadel versions or settings
    /// that write only the unqualified one.
    ///
    /// That claim holds the roles of the project the *requesting client* belongs to (in an
    /// introspection answer, the introspecting application's project), not necessarily this one.
    /// Turn it on only when every client that can obtain tokens for this project's audience belongs
    /// to this project: otherwise a client of another project that adds this one to its audience
    /// brings its own project's `admin`. Only for [`Provider::zitadel`]; anything else is a
    /// configuration error.
    ///
    /// ```
    /// use auth_core::{Provider, Verifier};
    ///
    /// let provider = Provider::zitadel("https://acme.zitadel.cloud", "263514598346711111")
    ///     .zitadel_unqualified_roles();
    /// assert!(Verifier::new(provider).is_ok());
    /// let other = Provider::oidc("https://issuer.example.com").audience("api");
    /// assert!(Verifier::new(other.zitadel_unqualified_roles()).is_err());
    /// ```
    pub fn zitadel_unqualified_roles(mut self) -> Provider {
        match &mut self.mapping.organization {
            Some(OrgMapping::Zitadel { role_claims }) => {
                role_claims.push(ClaimPath::claim(UNQUALIFIED_ROLES));
                self
            }
            _ => self.invalid(
                "zitadel_unqualified_roles",
                "only a Provider::zitadel(..) reads Zitadel's role claims",
            ),
        }
    }
}

/// Whether `id` looks like a Zitadel resource ID: digits only (its IDs are snowflake numbers,
/// 17 to 19 digits in documented examples), with room either side.
fn is_resource_id(id: &str) -> bool {
    (10..=25).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}
