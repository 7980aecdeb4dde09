//! Minting tokens from the test issuer, shaped as a test needs them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use super::mint::Mint;
use super::signing_key::b64;
use crate::checks::audience::AudienceRule;
use crate::checks::issuer::IssuerMatch;
use crate::identity::organization::OrgMapping;
use crate::keys::algorithm::{Algorithm, AlgorithmPolicy};
use crate::provider::Provider;
use crate::token::claim_path::{ClaimPath, Separator};
use crate::token::date::now;

static NEXT_JTI: AtomicU64 = AtomicU64::new(1);

/// The client ID of the front end application people sign in through in the tokens
/// [`TestIssuer::token_for`](super::TestIssuer::token_for) shapes for [`Provider::zitadel`] (`<id>@<project name>`, as Zitadel
/// forms client IDs): give it to [`Provider::zitadel_user_clients`] for those tokens to be
/// people's.
pub const ZITADEL_WEB_CLIENT_ID: &str = "263514598346722222@invoices";

/// The ID of the service user in Zitadel-shaped machine tokens.
const ZITADEL_SERVICE_USER: &str = "263514598346733333";

/// The username of that service user, its client ID with client credentials.
const ZITADEL_SERVICE_USERNAME: &str = "invoice-bot";

/// The client (a front end) that asked for Entra-shaped tokens: `azp` in v2.0, `appid` in v1.0.
const ENTRA_CALLER: &str = "b5b2a3c4-5d6e-4f70-8a9b-0c1d2e3f4a5b";

/// The signed-in person's object ID in Entra-shaped tokens (`oid`).
const ENTRA_USER_OID: &str = "690222be-ff1a-4d56-abd1-7e4f7d38e474";

/// How a Zitadel service user (machine user) obtained its token, for
/// [`TokenBuilder::zitadel_service_user`]. Each shape is what Zitadel's code writes; none names the
/// user a machine, so the preset tells them apart from people by `client_id` and `aud`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceUserGrant {
    /// The JWT profile grant, signed with the service user's key: `client_id` is the user's ID,
    /// equal to `sub`; `aud` the projects its `:aud` scopes asked for.
    JwtProfile,
    /// The client credentials grant, with the service user's secret: `client_id` is its username
    /// (not an application's client ID); `aud` as for the JWT profile.
    ClientCredentials,
    /// A personal access token: opaque only (finish with [`TokenBuilder::opaque`]), without a
    /// `client_id`; introspection adds the introspecting application and its project to `aud`.
    PersonalAccessToken,
}

/// What a Zitadel-shaped token needs beyond its claims.
#[derive(Debug, Clone)]
struct ZitadelShape {
    project: String,
    /// The client the provider introspects with, which Zitadel adds to a personal access token's
    /// audience.
    introspector: Option<String>,
    /// Set for a service user's token.
    service_user: Option<ServiceUserGrant>,
}

/// Builds and signs one token; start with [`TestIssuer::token`](super::TestIssuer::token).
///
/// Defaults: `iss` the issuer's URL, `sub` `user-123`, `aud` the issuer's audience, `iat` now,
/// `exp` in one hour, a fresh `jti`, signed by the issuer's first key (RS256 unless started
/// otherwise).
#[must_use = "call .sign() to get the token"]
pub struct TokenBuilder<'a> {
    issuer: &'a dyn Mint,
    algorithm: Algorithm,
    claims: Map<String, Value>,
    header: Map<String, Value>,
    kid: Option<Option<String>>,
    lifetime: Option<i64>,
    /// Where [`TokenBuilder::roles`] writes: `roles` unless shaped for a provider that reads
    /// elsewhere.
    roles_claim: RolesShape,
    /// How the provider a token is shaped for writes organisations.
    organization: OrgShape,
    /// Where [`TokenBuilder::scopes`] writes: `scope`, space-separated, unless shaped for a
    /// provider.
    scopes_claim: (ClaimPath, Separator),
    /// Set when shaped for [`Provider::zitadel`].
    zitadel: Option<ZitadelShape>,
    /// Set when shaped for an Entra preset: the access token version.
    entra: Option<EntraVersion>,
}

/// Which Entra access token a token is shaped as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntraVersion {
    V1,
    V2,
}

impl<'a> TokenBuilder<'a> {
    pub(crate) fn new(issuer: &'a dyn Mint) -> TokenBuilder<'a> {
        let now = now();
        let mut claims = Map::new();
        claims.insert("iss".into(), issuer.issuer().into());
        claims.insert("sub".into(), "user-123".into());
        claims.insert("aud".into(), issuer.audience().into());
        claims.insert("iat".into(), now.into());
        claims.insert(
            "jti".into(),
            format!("jti-{}", NEXT_JTI.fetch_add(1, Ordering::Relaxed)).into(),
        );
        TokenBuilder {
            issuer,
            algorithm: issuer.default_algorithm(),
            claims,
            header: Map::new(),
            kid: None,
            lifetime: Some(3600),
            roles_claim: RolesShape::Names(ClaimPath::claim("roles"), Separator::None),
            organization: OrgShape::Absent(
                "TestIssuer::token() shapes tokens for TestIssuer::provider(), a generic OIDC \
                 provider whose tokens carry no organisation; start the token with \
                 TestIssuer::token_for(&provider) for an organisation-aware preset (Clerk, \
                 Zitadel, Auth0, Entra, Keycloak)"
                    .to_owned(),
            ),
            scopes_claim: (ClaimPath::claim("scope"), Separator::Space),
            zitadel: None,
            entra: None,
        }
    }

    /// A token as `provider` expects one: its issuer (a multi-tenant one's first tenant, with the
    /// tenant claim), its audience where it reads one (`aud`, Cognito's `client_id`, Clerk's
    /// `azp`), the values its required claims must hold, an algorithm it accepts; roles and scopes
    /// go where it reads them.
    pub(crate) fn shaped_for(issuer: &'a dyn Mint, provider: &Provider) -> TokenBuilder<'a> {
        let mut builder = TokenBuilder::new(issuer);
        let claims = &mut builder.claims;
        match &provider.issuer {
            IssuerMatch::Exact(issuers) => {
                if let Some(iss) = issuers.first() {
                    claims.insert("iss".into(), iss.as_str().into());
                }
            }
            IssuerMatch::Tenants {
                prefix,
                suffix,
                tenants,
                tenant_claim,
            } => {
                if let Some(tenant) = tenants.first() {
                    claims.insert("iss".into(), format!("{prefix}{tenant}{suffix}").into());
                    if let Some(claim) = tenant_claim {
                        claims.insert((*claim).into(), tenant.as_str().into());
                    }
                }
            }
        }
        match &provider.audience {
            Some(AudienceRule::Aud(audiences)) => {
                if let Some(aud) = audiences.first() {
                    claims.insert("aud".into(), aud.as_str().into());
                }
            }
            Some(AudienceRule::Claim(path, values)) => {
                claims.remove("aud");
                if let Some(value) = values.first() {
                    path.set(claims, value.as_str().into());
                }
            }
            Some(AudienceRule::Skip) | None => {
                claims.remove("aud");
            }
        }
        if let Some(party) = provider.authorized_parties.first() {
            claims.insert("azp".into(), party.as_str().into());
        }
        for required in &provider.required {
            if required.path.lookup(claims).is_some() {
                continue;
            }
            let value = match required.one_of.first() {
                Some(value) => Value::from(value.as_str()),
                None if provider
                    .past_dates
                    .iter()
                    .any(|date| required.path == ClaimPath::claim(date)) =>
                {
                    now().into()
                }
                None => "present".into(),
            };
            required.path.set(claims, value);
        }
        if let AlgorithmPolicy::Only(accepted) = provider.algorithms
            && let Some(alg) = issuer
                .algorithms()
                .into_iter()
                .find(|alg| accepted.contains(*alg))
        {
            builder.algorithm = alg;
        }
        if provider.kind.session_or_templates.is_some() {
            builder.claims.insert("sid".into(), "sess_test".into());
        }
        let trusted = provider.mapping.trusted_organizations.first();
        builder.organization = match &provider.mapping.organization {
            Some(OrgMapping::Zitadel { role_claims }) => {
                // Only the claim qualified by the project: the unqualified one names the
                // requesting client's project, which a Zitadel preset must not read.
                let unqualified = ClaimPath::claim(ZITADEL_UNQUALIFIED_ROLES);
                let qualified = role_claims.iter().find(|claim| **claim != unqualified);
                match qualified {
                    Some(claim) => {
                        let org = trusted.map_or("organization", String::as_str).to_owned();
                        builder.roles_claim = RolesShape::Grants {
                            claim: claim.clone(),
                            org,
                        };
                        OrgShape::Zitadel {
                            roles_claim: claim.clone(),
                        }
                    }
                    None => OrgShape::Absent(format!(
                        "{} reads no project-qualified role claim to write organisations to",
                        provider.name
                    )),
                }
            }
            Some(OrgMapping::Tenant { claim }) => {
                if let (Some(tenant), None) = (trusted, claim.lookup(&builder.claims)) {
                    claim.set(&mut builder.claims, tenant.as_str().into());
                }
                OrgShape::Tenant {
                    claim: claim.clone(),
                }
            }
            Some(OrgMapping::Clerk) => OrgShape::Clerk,
            Some(OrgMapping::Auth0) => OrgShape::Auth0 {
                roles_claim: provider
                    .mapping
                    .roles
                    .first()
                    .map(|claim| (claim.path.clone(), claim.separator)),
            },
            Some(OrgMapping::Keycloak) => OrgShape::Keycloak,
            None => OrgShape::Absent(no_organisations(provider)),
        };
        if let (Some(claim), RolesShape::Names(..)) =
            (provider.mapping.roles.first(), &builder.roles_claim)
        {
            builder.roles_claim = RolesShape::Names(claim.path.clone(), claim.separator);
        }
        if let Some(claim) = provider.mapping.scopes.first() {
            builder.scopes_claim = (claim.path.clone(), claim.separator);
        }
        if let Some(OrgMapping::Zitadel { .. }) = &provider.mapping.organization {
            builder.zitadel_person(provider);
        }
        if let Some(version) = entra_version(provider) {
            builder.entra_user(version);
        }
        if provider.name.starts_with("Provider::okta") {
            // A person's token as Okta's reserved claims describe it: the client in `cid`, the
            // user's ID in `uid` (absent when no user is bound: a machine's).
            builder.claims.insert("ver".into(), 1.into());
            builder
                .claims
                .insert("cid".into(), "0oa48e74ox4t7mQJX0g7".into());
            builder
                .claims
                .insert("uid".into(), "00u47ijy7sRLaeSdC0g7".into());
        }
        builder
    }

    /// A person's Entra access token, whole, as Microsoft's access token reference shows one:
    /// `ver`, the caller's client (`azp`, a GUID, in v2.0; `appid` in v1.0), the person's `oid`
    /// (a GUID, unlike the pairwise `sub`) and `tid`, the tenant `iss` names.
    fn entra_user(&mut self, version: EntraVersion) {
        let claims = &mut self.claims;
        let (ver, client_claim) = match version {
            EntraVersion::V1 => ("1.0", "appid"),
            EntraVersion::V2 => ("2.0", "azp"),
        };
        claims.insert("ver".into(), ver.into());
        claims.insert(client_claim.into(), ENTRA_CALLER.into());
        claims.insert("oid".into(), ENTRA_USER_OID.into());
        let tenant = claims.get("iss").and_then(Value::as_str).and_then(|iss| {
            iss.split('/')
                .find_map(crate::identity::organization::tenant_id)
        });
        if let (Some(tenant), false) = (tenant, claims.contains_key("tid")) {
            claims.insert("tid".into(), tenant.into());
        }
        self.entra = Some(version);
    }

    /// Makes a token shaped for an Entra preset an app-only token (client credentials), as the
    /// access token reference describes one: `idtyp` `app` (the optional claim an API can ask
    /// for), `oid` equal to `sub` (the calling application's service principal), no `scp` (scopes
    /// are a person's). Give it the app roles this API granted the application with
    /// [`TokenBuilder::roles`]: the presets refuse an app-only token without one. The client stays
    /// in `azp` (v2.0) or `appid` (v1.0).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::testing::TestIssuer;
    /// use auth_core::{IdentityKind, Provider, StandardClaims, Verifier};
    ///
    /// let issuer = TestIssuer::start().await;
    /// let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    /// let entra = issuer.adopt(Provider::entra(tenant, "6e74172b-be56-4843-9ff4-e66a39bb12e3"));
    /// let daemon = issuer.token_for(&entra).entra_app_only().roles(["Jobs.Run"]).sign();
    /// let claims = Verifier::new(entra)?.verify::<StandardClaims>(&daemon).await?;
    /// assert_eq!(claims.identity().kind, IdentityKind::Service);
    /// # Ok(()) }
    /// ```
    ///
    /// # Panics
    /// If the token is not shaped for an Entra preset (start it with [`TestIssuer::token_for`](super::TestIssuer::token_for)).
    pub fn entra_app_only(mut self) -> Self {
        assert!(
            self.entra.is_some(),
            "entra_app_only: this token is not shaped for an Entra preset; start it with \
             issuer.token_for(&entra_provider)"
        );
        let principal = "3f0b8c2a-7d41-4e5b-9a6c-2b8e1f4d5c6a";
        self.claims.insert("idtyp".into(), "app".into());
        self.claims.insert("sub".into(), principal.into());
        self.claims.insert("oid".into(), principal.into());
        self.claims.remove("scp");
        self
    }

    /// A person's Zitadel access token, as the code flow issues it: `client_id` the application
    /// signed in to, `aud` the project and that client ID, and `nbf` (Zitadel's
    /// `NewAccessTokenClaims`).
    fn zitadel_person(&mut self, provider: &Provider) {
        let project = match &provider.audience {
            Some(AudienceRule::Aud(audiences)) => audiences.first().cloned().unwrap_or_default(),
            _ => String::new(),
        };
        let introspector = provider
            .introspection
            .as_ref()
            .map(|introspection| introspection.client_id().to_owned());
        self.claims
            .insert("client_id".into(), ZITADEL_WEB_CLIENT_ID.into());
        self.claims.insert(
            "aud".into(),
            vec![project.clone(), ZITADEL_WEB_CLIENT_ID.into()].into(),
        );
        self.claims.insert("nbf".into(), now().into());
        self.zitadel = Some(ZitadelShape {
            project,
            introspector,
            service_user: None,
        });
    }

    /// Makes a token shaped for [`Provider::zitadel`] a service user's, obtained by `grant`: `sub`
    /// the service user's ID, `client_id` as that grant writes it, `aud` this project alone (as
    /// the scope `urn:zitadel:iam:org:project:id:<project>:aud` asks; a personal access token's
    /// introspection answer adds the introspecting client's ID). Zitadel's JWT access tokens carry
    /// no username; opaque ones are introspected without one too (the `profile` scope, which adds
    /// `username`, is a person's).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::testing::{ServiceUserGrant, TestIssuer};
    /// use auth_core::{IdentityKind, Provider, StandardClaims, Verifier};
    ///
    /// let issuer = TestIssuer::start().await;
    /// let zitadel = Provider::zitadel("https://acme.zitadel.cloud", "263514598346711111");
    /// let zitadel = issuer.adopt(zitadel);
    /// let machine = issuer
    ///     .token_for(&zitadel)
    ///     .zitadel_service_user(ServiceUserGrant::ClientCredentials)
    ///     .sign();
    /// let claims = Verifier::new(zitadel)?.verify::<StandardClaims>(&machine).await?;
    /// assert_eq!(claims.identity().kind, IdentityKind::Service);
    /// # Ok(()) }
    /// ```
    ///
    /// # Panics
    /// If the token is not shaped for [`Provider::zitadel`] (start it with
    /// [`TestIssuer::token_for`](super::TestIssuer::token_for)): other providers' machines look different.
    pub fn zitadel_service_user(mut self, grant: ServiceUserGrant) -> Self {
        let Some(shape) = &mut self.zitadel else {
            panic!(
                "zitadel_service_user: this token is not shaped for Provider::zitadel; start it \
                 with issuer.token_for(&zitadel_provider)"
            );
        };
        shape.service_user = Some(grant);
        let project = shape.project.clone();
        let claims = &mut self.claims;
        claims.insert("sub".into(), ZITADEL_SERVICE_USER.into());
        claims.insert("aud".into(), vec![project].into());
        match grant {
            ServiceUserGrant::JwtProfile => {
                claims.insert("client_id".into(), ZITADEL_SERVICE_USER.into());
            }
            ServiceUserGrant::ClientCredentials => {
                claims.insert("client_id".into(), ZITADEL_SERVICE_USERNAME.into());
            }
            ServiceUserGrant::PersonalAccessToken => {
                claims.remove("client_id");
            }
        }
        self
    }

    /// Sets `sub`.
    pub fn subject(self, subject: impl Into<String>) -> Self {
        self.claim("sub", subject.into())
    }

    /// Sets `email`.
    pub fn email(self, email: impl Into<String>) -> Self {
        self.claim("email", email.into())
    }

    /// Sets the caller's roles: an array at `roles`, or where the provider a token is shaped for
    /// reads them ([`TestIssuer::token_for`](super::TestIssuer::token_for)): `realm_access.roles` for Keycloak, `cognito:groups`
    /// for Cognito, a Zitadel role map (in the claim qualified by the project) granted by the first
    /// trusted organisation.
    pub fn roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let roles: Vec<String> = roles.into_iter().map(Into::into).collect();
        match self.roles_claim.clone() {
            RolesShape::Names(path, separator) => {
                path.set(&mut self.claims, names(roles, separator))
            }
            RolesShape::Grants { claim, org } => grant(&mut self.claims, &claim, &org, &roles),
        }
        self
    }

    /// Puts the caller in an organisation that granted them `roles`, written as the provider the
    /// token is shaped for ([`TestIssuer::token_for`](super::TestIssuer::token_for)) writes it:
    ///
    /// - Clerk: the active organisation `o` of a v2 session token (`org:admin` written `admin`).
    /// - Zitadel: grants of `roles` by `id` in the role claim qualified by the project
    ///   (`urn:zitadel:iam:org:project:<project_id>:roles`, `{"<role>": {"<id>": "<domain>"}}`),
    ///   and `urn:zitadel:iam:user:resourceowner:id`.
    /// - Auth0: `org_id`, with `roles` in the roles claim the provider is configured with (Auth0
    ///   writes organisation roles only through an Action); add the organisation's permissions
    ///   with `.claim("permissions", [..])` and its name with `.claim("org_name", ..)`.
    /// - Entra: the tenant. `tid` and `iss`, which names the tenant, move together, with `roles`.
    /// - Keycloak: the `organization` claim, as a list holding the alias `id`.
    ///
    /// # Panics
    /// For a provider whose tokens carry no organisation (Okta, Cognito, Google, Firebase,
    /// Cloudflare Access, generic OIDC, and [`TestIssuer::token`](super::TestIssuer::token)'s tokens), naming it, so a test
    /// of organisations never passes on a token without one; and where the provider's
    /// organisations cannot hold `roles` (Keycloak's grant none; an Auth0 provider without a roles
    /// claim).
    pub fn organization<I, S>(mut self, id: &str, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let roles: Vec<String> = roles.into_iter().map(Into::into).collect();
        match self.organization.clone() {
            OrgShape::Absent(why) => panic!("TokenBuilder::organization: {why}"),
            OrgShape::Clerk => {
                let rol = roles
                    .first()
                    .map(|role| role.strip_prefix("org:").unwrap_or(role));
                self.claims.insert("v".into(), 2.into());
                self.claims
                    .insert("o".into(), serde_json::json!({"id": id, "rol": rol}));
            }
            OrgShape::Zitadel { roles_claim } => {
                grant(&mut self.claims, &roles_claim, id, &roles);
                self.claims
                    .insert("urn:zitadel:iam:user:resourceowner:id".into(), id.into());
            }
            OrgShape::Tenant { claim } => {
                let before = claim
                    .lookup(&self.claims)
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let iss = self.claims.get("iss").and_then(Value::as_str);
                if let (Some(before), Some(iss)) = (before, iss) {
                    let moved = move_tenant(iss, &before, id);
                    self.claims.insert("iss".into(), moved.into());
                }
                claim.set(&mut self.claims, id.into());
                self.claims.insert("roles".into(), roles.into());
            }
            OrgShape::Auth0 { roles_claim } => {
                self.claims.insert("org_id".into(), id.into());
                match roles_claim {
                    Some((path, separator)) => path.set(&mut self.claims, names(roles, separator)),
                    None if roles.is_empty() => {}
                    None => panic!(
                        "TokenBuilder::organization: Auth0 writes an organisation's roles to a \
                         token only through an Action's custom claim; configure the provider \
                         with .roles_claim(..) naming that claim, or pass no roles"
                    ),
                }
            }
            OrgShape::Keycloak => {
                assert!(
                    roles.is_empty(),
                    "TokenBuilder::organization: Keycloak organisations grant no roles in tokens; \
                     pass no roles (and give realm or client roles with .roles(..))"
                );
                self.claims
                    .insert("organization".into(), serde_json::json!([id]));
            }
        }
        self
    }

    /// Sets the scopes: `scope`, space-separated (RFC 8693 §4.2), or where the provider a token is
    /// shaped for reads them (an array for Okta's `scp`).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        let (path, separator) = self.scopes_claim.clone();
        path.set(&mut self.claims, names(scopes, separator));
        self
    }

    /// Sets `aud` to one audience.
    pub fn audience(self, audience: impl Into<String>) -> Self {
        self.claim("aud", audience.into())
    }

    /// Sets `aud` to an array.
    pub fn audiences<I, S>(self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let audiences: Vec<String> = audiences.into_iter().map(Into::into).collect();
        self.claim("aud", audiences)
    }

    /// Sets `iss`, e.g. to mint a token for an issuer that is not configured.
    pub fn issuer(self, issuer: impl Into<String>) -> Self {
        self.claim("iss", issuer.into())
    }

    /// Sets any claim; `Value::Null` removes it instead.
    pub fn claim(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        let name = name.into();
        match serde_json::to_value(value) {
            Ok(Value::Null) => {
                self.claims.remove(&name);
                if name == "exp" {
                    self.lifetime = None;
                }
            }
            Ok(value) => {
                if name == "exp" {
                    self.lifetime = None;
                }
                self.claims.insert(name, value);
            }
            Err(_) => {}
        }
        self
    }

    /// Removes a claim the builder sets by default (`sub`, `aud`, `iat`, `jti`, `exp`, `iss`).
    pub fn without_claim(self, name: &str) -> Self {
        self.claim(name, Value::Null)
    }

    /// Expires after `lifetime` from now.
    pub fn expires_in(mut self, lifetime: Duration) -> Self {
        self.claims.remove("exp");
        self.lifetime = Some(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX / 2));
        self
    }

    /// Expired an hour ago, beyond any leeway.
    pub fn expired(mut self) -> Self {
        self.claims.remove("exp");
        self.lifetime = Some(-3600);
        self
    }

    /// Not valid until `delay` from now (`nbf`).
    pub fn not_before_in(self, delay: Duration) -> Self {
        let nbf = now() + i64::try_from(delay.as_secs()).unwrap_or(0);
        self.claim("nbf", nbf)
    }

    /// Signs with the issuer's current key for this algorithm.
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Puts this `kid` in the header instead of the signing key's.
    pub fn kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(Some(kid.into()));
        self
    }

    /// Leaves `kid` out of the header.
    pub fn without_kid(mut self) -> Self {
        self.kid = Some(None);
        self
    }

    /// Adds a header parameter (e.g. `jwk`, `crit`), or overrides `alg`/`typ`, to test refusals.
    pub fn header(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        if let Ok(value) = serde_json::to_value(value) {
            self.header.insert(name.into(), value);
        }
        self
    }

    /// The payload as it would be signed.
    pub fn claims(&self) -> Map<String, Value> {
        let mut claims = self.claims.clone();
        if let Some(lifetime) = self.lifetime {
            claims.insert("exp".into(), (now() + lifetime).into());
        }
        claims
    }

    /// Binds the token to a DPoP key (`cnf.jkt`): it is then accepted only with a proof by that
    /// key ([`DpopKey::proof`](crate::testing::DpopKey::proof)).
    pub fn dpop_bound(self, key: &crate::testing::DpopKey) -> Self {
        self.claim("cnf", serde_json::json!({ "jkt": key.thumbprint() }))
    }

    /// Issues the token as an opaque string instead of a JWT (`ot_` and random characters, or the
    /// issuer's [prefix](super::TestIssuer::set_opaque_prefix)): the issuer keeps the claims and answers
    /// for them at its introspection endpoint (see [`TestIssuer::introspection`](super::TestIssuer::introspection)), until the token
    /// expires or [`TestIssuer::revoke`](super::TestIssuer::revoke) ends it.
    ///
    /// Shaped for [`Provider::zitadel`], the answer has Zitadel's field names: a person's carries
    /// the login name as `username` (and `preferred_username`), as Zitadel answers for a token
    /// requested with the `profile` scope; a personal access token's `aud` gains the introspecting
    /// client's ID, as Zitadel adds it.
    pub fn opaque(self) -> String {
        use aws_lc_rs::rand::SecureRandom;
        let mut random = [0u8; 24];
        let _ = aws_lc_rs::rand::SystemRandom::new().fill(&mut random);
        let token = format!("{}{}", self.issuer.opaque_prefix(), b64(&random));
        let mut claims = self.claims();
        if let Some(shape) = &self.zitadel {
            zitadel_answer(shape, &mut claims);
        }
        self.issuer.register_opaque(token.clone(), claims);
        token
    }

    /// Signs the token with the issuer's current key for the chosen algorithm.
    ///
    /// # Panics
    /// If the issuer holds no key for the algorithm (see [`TestIssuer::start_with`](super::TestIssuer::start_with)), or the token
    /// is a Zitadel personal access token, which is never a JWT.
    pub fn sign(self) -> String {
        if let Some(ZitadelShape {
            service_user: Some(ServiceUserGrant::PersonalAccessToken),
            ..
        }) = self.zitadel
        {
            panic!("Zitadel's personal access tokens are opaque: finish with .opaque()");
        }
        let claims = self.claims();
        let key = self.issuer.current_key(self.algorithm);
        let Some(key) = key else {
            panic!(
                "TestIssuer has no {} key; start it with TestIssuer::start_with",
                self.algorithm
            );
        };
        let mut header = Map::new();
        header.insert("alg".into(), key.alg.as_str().into());
        header.insert("typ".into(), "JWT".into());
        match self.kid {
            None => {
                header.insert("kid".into(), key.kid.clone().into());
            }
            Some(Some(kid)) => {
                header.insert("kid".into(), kid.into());
            }
            Some(None) => {}
        }
        header.extend(self.header);
        let signing_input = format!("{}.{}", encode(&header), encode(&claims));
        let signature = key.sign(signing_input.as_bytes());
        let token = format!("{signing_input}.{}", b64(&signature));
        // Introspection answers for signed tokens too (for `Introspection::all_tokens`).
        self.issuer.register_opaque(token.clone(), claims);
        token
    }
}

/// How a provider's tokens name the caller's organisation.
#[derive(Clone)]
enum OrgShape {
    /// They name none: why, naming the provider.
    Absent(String),
    Clerk,
    /// Grants in the role claim qualified by the project.
    Zitadel {
        roles_claim: ClaimPath,
    },
    /// A tenant claim; `iss` names the tenant too.
    Tenant {
        claim: ClaimPath,
    },
    /// `org_id`, with roles in the configured roles claim.
    Auth0 {
        roles_claim: Option<(ClaimPath, Separator)>,
    },
    Keycloak,
}

/// The Zitadel role claim that names the requesting client's project, not necessarily this API's.
const ZITADEL_UNQUALIFIED_ROLES: &str = "urn:zitadel:iam:org:project:roles";

/// The Entra access token version `provider` (an Entra preset) accepts, if it is one.
fn entra_version(provider: &Provider) -> Option<EntraVersion> {
    let name = provider.name.as_str();
    if name.starts_with("Provider::entra_v1") {
        Some(EntraVersion::V1)
    } else if name.starts_with("Provider::entra") {
        Some(EntraVersion::V2)
    } else {
        None
    }
}

/// Why `provider`'s tokens cannot be given an organisation, naming it.
fn no_organisations(provider: &Provider) -> String {
    const BRANDS: [(&str, &str); 6] = [
        ("Provider::okta", "Okta"),
        ("Provider::cognito", "Amazon Cognito"),
        ("Provider::google", "Google"),
        ("Provider::firebase", "Firebase"),
        ("Provider::cloudflare_access", "Cloudflare Access"),
        ("Provider::oidc", "Generic OpenID Connect"),
    ];
    let name = provider.name.as_str();
    let brand = BRANDS
        .iter()
        .find(|(constructor, _)| name.starts_with(constructor))
        .map_or("This provider's", |(_, brand)| brand);
    format!(
        "{brand} tokens carry no organisation ({name} reads none); test organisations with a \
         preset whose tokens name them (Clerk, Zitadel, Auth0, Entra, Keycloak)"
    )
}

/// `iss` with the path segment naming tenant `from` replaced by `to` (Entra's issuers name the
/// tenant: `https://login.microsoftonline.com/<tid>/v2.0`, `https://sts.windows.net/<tid>/`).
fn move_tenant(iss: &str, from: &str, to: &str) -> String {
    let segment = format!("/{from}/");
    if let Some(at) = iss.find(&segment) {
        return format!("{}/{to}/{}", &iss[..at], &iss[at + segment.len()..]);
    }
    match iss.strip_suffix(&format!("/{from}")) {
        Some(rest) => format!("{rest}/{to}"),
        None => iss.to_owned(),
    }
}

/// Where a provider reads roles.
#[derive(Clone)]
enum RolesShape {
    /// Names at a claim path.
    Names(ClaimPath, Separator),
    /// Zitadel's role map, each role granted by `org`.
    Grants { claim: ClaimPath, org: String },
}

/// What Zitadel's introspection answers with, beyond the token's own claims.
fn zitadel_answer(shape: &ZitadelShape, claims: &mut Map<String, Value>) {
    match shape.service_user {
        None => {
            let sub = claims
                .get("sub")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let login = format!("{sub}@acme.zitadel.example");
            claims
                .entry("preferred_username")
                .or_insert_with(|| login.clone().into());
            claims.entry("username").or_insert_with(|| login.into());
        }
        Some(ServiceUserGrant::PersonalAccessToken) => {
            let audience = shape.introspector.iter().chain([&shape.project]);
            let audience: Vec<Value> = audience.map(|aud| aud.as_str().into()).collect();
            claims.insert("aud".into(), audience.into());
        }
        Some(_) => {}
    }
}

/// Adds Zitadel grants of `roles` by `org` to the role map at `claim`.
fn grant(claims: &mut Map<String, Value>, claim: &ClaimPath, org: &str, roles: &[String]) {
    let mut map = claim
        .lookup(claims)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for role in roles {
        let grants = map
            .entry(role.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(grants) = grants {
            grants.insert(org.to_owned(), format!("{org}.zitadel.example").into());
        }
    }
    claim.set(claims, Value::Object(map));
}

/// A list of names as a claim holds it: an array, or one string joined at the claim's separator.
fn names(names: Vec<String>, separator: Separator) -> Value {
    match separator {
        Separator::None => names.into(),
        Separator::Space => names.join(" ").into(),
    }
}

fn encode(map: &Map<String, Value>) -> String {
    b64(Value::Object(map.clone()).to_string().as_bytes())
}
