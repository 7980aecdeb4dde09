use crate::checks::audience::AudienceRule;
use crate::checks::issuer::IssuerMatch;
use crate::identity::IdentityKind;
use crate::identity::organization::OrgMapping;
use crate::identity::service_marker::ServiceMarker;
use crate::keys::algorithm::Algorithm;
use crate::keys::source::KeySource;
use crate::provider::Provider;
use crate::provider::endpoints::TokenEndpoints;
use crate::provider::resource::ResourceBinding;
use crate::token::claim_path::ClaimPath;

/// The claim naming the client a Zitadel token was issued to.
fn client_id() -> ClaimPath {
    ClaimPath::claim("client_id")
}

/// A Zitadel service user's token whatever else it says: a personal access token (no client), the
/// JWT profile grant (`client_id` = `sub`), or a client that is not among the audiences, as a
/// person's application always is. What remains may still be a service user's: one that asked for
/// its own username as an audience.
fn machine_shapes() -> ServiceMarker {
    ServiceMarker::Any(vec![
        ServiceMarker::Not(Box::new(ServiceMarker::ClaimPresent(client_id()))),
        ServiceMarker::ClaimsEqual(client_id(), ClaimPath::claim("sub")),
        ServiceMarker::Not(Box::new(ServiceMarker::ClaimIn(
            client_id(),
            ClaimPath::claim("aud"),
        ))),
    ])
}

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
    /// **People and machines.** No Zitadel claim says "service user", so the preset reads the
    /// shape of the grant. A service user's `client_id` is the user itself: its ID, equal to `sub`,
    /// with the JWT profile grant; its username with client credentials; nothing with a personal
    /// access token; and its audience holds only the projects its `:aud` scopes asked for. A
    /// person's token names in `client_id` the application the person signed in through, which
    /// Zitadel lists in `aud` ("by default all client id's and the project id are included"). But
    /// Zitadel copies *any* requested `urn:zitadel:iam:org:project:id:<X>:aud` scope into `aud`,
    /// whatever `<X>` is, so a client-credentials service user can put its own username there and
    /// shape its token like a person's. Hence:
    ///
    /// - A token whose `client_id` is absent or empty, equals `sub`, or is not in `aud` is a
    ///   machine's, [`IdentityKind::Service`](crate::IdentityKind), whatever else it says.
    /// - With [`Provider::zitadel_user_clients`] (the client IDs of the applications people sign in
    ///   through), any other token whose `client_id` is one of them is a person's,
    ///   [`IdentityKind::User`](crate::IdentityKind). Any other stays
    ///   [`IdentityKind::Unknown`](crate::IdentityKind): a person signing in through an application
    ///   you did not list (another front end of the project, or another project's application
    ///   asking for this project's `:aud` scope, the console's included) is shaped like a person,
    ///   not a machine.
    /// - Without it, any other token is [`IdentityKind::Unknown`](crate::IdentityKind): it looks
    ///   like a person's, and a service user can make it look so. Neither `#[require_user]` nor
    ///   `#[require_service]` admits it. Set the client IDs before guarding routes by the kind of
    ///   caller.
    ///
    /// The same rules read JWTs and introspection answers. Zitadel's code, not its documentation,
    /// shows these shapes. Note that introspection answers for a personal access token are active
    /// for any API application of the instance (Zitadel adds the introspecting client to its
    /// audience): require roles, not only a valid token.
    ///
    /// **Organisations.** The caller's organisation is named only when the token request asks for
    /// the scope `urn:zitadel:iam:user:resourceowner`, so with
    /// [`Provider::accept_organizations`] a token without `urn:zitadel:iam:user:resourceowner:id`
    /// (or with an unreadable one) is refused (401 `INVALID_TOKEN`): a member of another
    /// organisation would otherwise pass by leaving it out. Have clients request that scope.
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
    ///     .trusted_organizations(["263514598346700000"]) // the organisation owning the project
    ///     .zitadel_user_clients(["263514598346722222@invoices"]); // the front end's client ID
    /// # let issuer = TestIssuer::start().await;
    /// # let provider = issuer.adopt(provider); // served by a loopback issuer for this example
    /// # let token = issuer.token_for(&provider).roles(["admin"]).sign();
    /// # assert_eq!(auth_core::testing::ZITADEL_WEB_CLIENT_ID, "263514598346722222@invoices");
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
        let provider = Provider::custom(
            "Provider::zitadel(issuer, project_id)",
            IssuerMatch::Exact(vec![issuer]),
            KeySource::Discovery(discovery),
        )
        .resource_binding(ResourceBinding::Refused(
            "Zitadel puts project and client IDs in aud, never a resource URL: keep \
                Provider::zitadel(issuer, project_id) without .resource(..)",
        ))
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
        .service_marker(machine_shapes())
        .unmarked_kind(IdentityKind::Unknown);
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

impl Provider {
    /// The client IDs of the applications people sign in through (the front ends' OIDC
    /// applications, e.g. `263514598346722222@invoices`, from each application's page in the
    /// console): a token whose `client_id` is one of them, differs from `sub` and is in `aud` (as
    /// a person's always is) is a person's ([`IdentityKind::User`]). The list only makes people:
    /// a machine's shapes stay [`IdentityKind::Service`], and a token shaped like a person's whose
    /// client is not listed stays [`IdentityKind::Unknown`], as without this setting (any person
    /// of the instance can sign in through an application you did not list, e.g. the console,
    /// and ask for this project's audience). [`IdentityKind::Unknown`] is admitted by neither
    /// `#[require_user]` nor `#[require_service]`: Zitadel copies any requested
    /// `urn:zitadel:iam:org:project:id:<X>:aud` scope into `aud`, so a service user can put its own
    /// username, its `client_id` with client credentials, beside the project and look like a
    /// person (see [`Provider::zitadel`]).
    ///
    /// List client IDs only, never user names: a service user whose username equals a listed
    /// client ID would pass as a person, and usernames are chosen by the administrators of each
    /// organisation. Client IDs are Zitadel's to mint (digits, often `@<project name>`), so the
    /// risk is a username copied from one on purpose, by an organisation's administrator.
    ///
    /// Only for [`Provider::zitadel`], in one call with every such client; an empty list, an empty
    /// ID, the project's ID, a second call, or a call after [`Provider::service_marker`] is a
    /// configuration error.
    ///
    /// ```
    /// use auth_core::{Provider, Verifier};
    ///
    /// let zitadel = Provider::zitadel("https://acme.zitadel.cloud", "263514598346711111")
    ///     .zitadel_user_clients(["263514598346722222@invoices", "263514598346744444"]);
    /// assert!(Verifier::new(zitadel).is_ok());
    /// let none = Provider::zitadel("https://acme.zitadel.cloud", "263514598346711111")
    ///     .zitadel_user_clients(Vec::<String>::new());
    /// assert!(Verifier::new(none).unwrap_err().problem.contains("client ID"));
    /// ```
    pub fn zitadel_user_clients<I, S>(mut self, client_ids: I) -> Provider
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let setting = "zitadel_user_clients";
        let client_ids: Vec<String> = client_ids.into_iter().map(Into::into).collect();
        if !matches!(self.mapping.organization, Some(OrgMapping::Zitadel { .. })) {
            return self.invalid(
                setting,
                "only a Provider::zitadel(..) reads Zitadel's clients",
            );
        }
        if self.mapping.unmarked != IdentityKind::Unknown || self.mapping.person.is_some() {
            return self.invalid(
                setting,
                "given twice, or after service_marker(..): give every client ID people sign in \
                 through in one call",
            );
        }
        if client_ids.is_empty() {
            return self.invalid(
                setting,
                "the list is empty: give the client ID of each application people sign in \
                 through (shown on the application's page in the console)",
            );
        }
        let project = match &self.audience {
            Some(AudienceRule::Aud(audiences)) => audiences.first().cloned(),
            _ => None,
        };
        if let Some(bad) = client_ids
            .iter()
            .find(|id| id.trim().is_empty() || id.trim() != id.as_str())
        {
            return self.invalid(
                setting,
                format!(
                    "{bad:?}: write each client ID as the console shows it, without spaces (an \
                     unset environment variable is the usual cause of an empty one)"
                ),
            );
        }
        if let Some(bad) = client_ids.iter().find(|id| Some(*id) == project.as_ref()) {
            return self.invalid(
                setting,
                format!(
                    "{bad:?} is the project's ID, which every token for this API carries: give the \
                     client IDs of the applications people sign in through"
                ),
            );
        }
        // The list can only make a person: an unlisted client says nothing about a machine.
        let listed = ServiceMarker::Any(
            client_ids
                .into_iter()
                .map(|id| ServiceMarker::ClaimEquals(client_id(), id))
                .collect(),
        );
        self.mapping.person = Some(listed);
        self
    }
}

/// Whether `id` looks like a Zitadel resource ID: digits only (its IDs are snowflake numbers,
/// 17 to 19 digits in documented examples), with room either side.
fn is_resource_id(id: &str) -> bool {
    (10..=25).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::token::json::Object;

    const PROJECT: &str = "263514598346711111";
    const WEB: &str = "263514598346722222@invoices";
    const USER: &str = "263514598346700007";

    fn kind(provider: &Provider, payload: Value) -> IdentityKind {
        let payload = Object::borrow(payload.as_object().unwrap());
        provider.mapping.identity(&payload, "iss").unwrap().kind
    }

    fn token(client_id: Option<&str>, sub: &str, aud: &[&str]) -> Value {
        let mut payload = json!({"sub": sub, "aud": aud});
        if let Some(client_id) = client_id {
            payload["client_id"] = json!(client_id);
        }
        payload
    }

    /// Each shape against both settings: machines' own shapes are machines either way; a token
    /// shaped like a person's is a person's only when its client is listed.
    #[test]
    fn people_are_the_listed_clients_and_machines_keep_their_shapes() {
        let unset = Provider::zitadel("https://acme.zitadel.cloud", PROJECT);
        let set = unset.clone().zitadel_user_clients([WEB]);
        use IdentityKind::{Service, Unknown, User};
        let cases = [
            // A person through the listed front end.
            (token(Some(WEB), USER, &[PROJECT, WEB]), Unknown, User),
            // A client-credentials service user with its username added to `aud`, or a person
            // through an unlisted application: nothing tells them apart.
            (
                token(Some("bot"), USER, &[PROJECT, "bot"]),
                Unknown,
                Unknown,
            ),
            (
                token(
                    Some("69234237810729019@zitadel"),
                    USER,
                    &[PROJECT, "69234237810729019@zitadel"],
                ),
                Unknown,
                Unknown,
            ),
            // ... and without it; the JWT profile grant; a personal access token.
            (token(Some("bot"), USER, &[PROJECT]), Service, Service),
            (token(Some(USER), USER, &[PROJECT, USER]), Service, Service),
            (token(None, USER, &[PROJECT]), Service, Service),
            (token(Some(""), USER, &[PROJECT, ""]), Service, Service),
            // A listed client that is also the subject, or absent from `aud`.
            (token(Some(WEB), WEB, &[PROJECT, WEB]), Service, Service),
            (token(Some(WEB), USER, &[PROJECT]), Service, Service),
        ];
        for (payload, without, with) in cases {
            assert_eq!(kind(&unset, payload.clone()), without, "unset: {payload}");
            assert_eq!(kind(&set, payload.clone()), with, "set: {payload}");
        }
        let numeric = json!({"sub": USER, "aud": [PROJECT, 7], "client_id": 7});
        assert_eq!(kind(&set, numeric.clone()), Service);
        assert_eq!(kind(&unset, numeric), Service);
    }

    /// A rule of the application's own replaces the preset's: what it does not mark is a person's.
    #[test]
    fn a_service_rule_of_ones_own_decides_alone() {
        let custom = Provider::zitadel("https://acme.zitadel.cloud", PROJECT).service_marker(
            ServiceMarker::ClaimEquals(ClaimPath::claim("sub"), "bot".to_owned()),
        );
        assert_eq!(
            kind(&custom, token(Some(WEB), USER, &[PROJECT, WEB])),
            IdentityKind::User
        );
        assert_eq!(
            kind(&custom, token(None, "bot", &[PROJECT])),
            IdentityKind::Service
        );
    }
}
