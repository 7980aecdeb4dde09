use crate::checks::issuer::{IssuerMatch, TENANT_PLACEHOLDER};
use crate::identity::organization::{
    OrgMapping, is_placeholder_tenant, not_a_tenant_id, tenant_id,
};
use crate::identity::service_marker::ServiceMarker;
use crate::keys::algorithm::Algorithm;
use crate::keys::source::KeySource;
use crate::provider::Provider;
use crate::provider::endpoints::TokenEndpoints;
use crate::provider::resource::ResourceBinding;
use crate::token::claim_path::ClaimPath;

const AUTHORITY: &str = "https://login.microsoftonline.com";

impl Provider {
    /// Microsoft Entra ID (Azure AD) v2.0 access tokens for one tenant.
    ///
    /// - `tenant`: the tenant ID, a GUID (Entra admin center > Overview > **Tenant ID**). A domain
    ///   (`contoso.onmicrosoft.com`) is refused when the verifier is built: Entra accepts one in
    ///   URLs, but its tokens name the tenant by GUID in `iss` and `tid`, so every token would be
    ///   refused. `common` and `organizations` are not issuers: for multi-tenant apps use
    ///   [`Provider::entra_multi_tenant`].
    /// - `client_id`: the API's application (client) ID; v2.0 tokens carry it as `aud` (the
    ///   `api://<client_id>` form is accepted too).
    ///
    /// The issuer is `https://login.microsoftonline.com/<tenant>/v2.0`, keys at
    /// `.../<tenant>/discovery/v2.0/keys`. Which token version an API receives is set by
    /// `accessTokenAcceptedVersion` in its manifest (`2` for this preset; see
    /// [`Provider::entra_v1`]). Roles from `roles` (app roles) and `groups` (object IDs; past 200
    /// groups Entra sends `_claim_names` instead and the groups must be read from Graph), scopes
    /// from `scp` (user tokens only). RS256, the one algorithm Entra signs with. For national
    /// clouds call [`Provider::relocate`] with their login host.
    ///
    /// **Roles.** Each tenant's administrators assign an app's roles in their own directory: the
    /// roles belong to the tenant, [`Identity::organization`](crate::Identity::organization) (its
    /// `tid`). This preset trusts its own tenant, so its roles are application roles too: the
    /// preset starts as if `.trusted_organizations([tenant])` had been called. To keep them the
    /// tenant's (a customer's tenant, one preset per customer), call
    /// `.trusted_organizations(Vec::<String>::new())`, which replaces that list.
    ///
    /// **Which tokens.** v2.0 access tokens carry `azp` (the client that asked), which ID tokens do
    /// not: a token without it is refused, even when front end and API share one registration and
    /// an ID token's `aud` is this API's client ID. App-only tokens (client credentials) are
    /// [`IdentityKind::Service`](crate::IdentityKind): `idtyp` = `app` where the API enabled that
    /// optional claim, else no `scp` and `oid` equal to `sub` (Microsoft's own test). Entra issues
    /// app-only tokens to any application that asks, so one without an app role of this API
    /// (`roles`) is refused, as Microsoft asks of APIs. Tokens are bearer tokens: Entra issues no
    /// DPoP-bound ones.
    ///
    /// **Which identifier to store users by.** `oid` together with `tid`, as Microsoft asks: `oid`
    /// is the user's (or service principal's) ID in its tenant, the same for every application,
    /// while `sub` is pairwise, different for each application that receives a token for the same
    /// person. Never `email`, `preferred_username` or `upn`, which the user or an administrator
    /// can change.
    ///
    /// **Protected resource** ([`Provider::resource`], RFC 8707). Entra v2.0 access tokens name
    /// the API by its application (client) ID in `aud`, whatever resource URL the client asked
    /// for ("for v2.0 tokens, this value is always the client ID of the API",
    /// <https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference>):
    /// with `.resource(url)` the client ID (and `api://<client_id>`) stay accepted beside the
    /// resource URL, which the metadata publishes. The v1.0 presets refuse `.resource(..)`.
    ///
    /// **DPoP.** Entra issues no RFC 9449 DPoP-bound tokens (Microsoft's proof-of-possession
    /// tokens are Signed HTTP Requests or mTLS), so refusals offer only the `Bearer` challenge:
    /// <https://learn.microsoft.com/en-us/entra/msal/dotnet/advanced/proof-of-possession-tokens>.
    /// At startup the issuer the tenant's discovery document names must be the configured one
    /// (for every Entra preset: v1.0 reads the v1.0 document, multi-tenant the `organizations`
    /// one, whose issuer is the `{tenantid}` template).
    ///
    /// Docs: <https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens>,
    /// <https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference>,
    /// <https://learn.microsoft.com/en-us/entra/identity-platform/claims-validation>,
    /// <https://learn.microsoft.com/en-us/entra/identity-platform/optional-claims-reference>.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{Provider, StandardClaims, Verifier};
    /// # use auth_core::testing::TestIssuer;
    ///
    /// let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    /// let provider = Provider::entra(tenant, "6e74172b-be56-4843-9ff4-e66a39bb12e3");
    /// # let issuer = TestIssuer::start().await;
    /// # let provider = issuer.adopt(provider); // served by a loopback issuer for this example
    /// # let token = issuer.token_for(&provider).roles(["admin"]).scopes(["Items.Read"]).sign();
    /// let verifier = Verifier::new(provider)?;
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// assert!(claims.identity().has_role("admin") && claims.identity().has_scope("Items.Read"));
    ///
    /// let client = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
    /// let by_domain = Provider::entra("contoso.onmicrosoft.com", client);
    /// assert!(Verifier::new(by_domain).unwrap_err().problem.contains("Tenant ID"));
    /// # Ok(()) }
    /// ```
    pub fn entra(tenant: &str, client_id: &str) -> Provider {
        single_tenant(
            "Provider::entra(tenant, client_id)",
            tenant,
            client_id,
            Version::V2,
        )
    }

    /// Microsoft Entra ID v1.0 access tokens for one tenant (an API whose manifest keeps
    /// `accessTokenAcceptedVersion` at `null` or `1`): issuer `https://sts.windows.net/<tenant>/`,
    /// keys at `https://login.microsoftonline.com/<tenant>/discovery/keys`; `aud` is the client ID
    /// or the resource URI the client asked for (`api://<client_id>`), both accepted (add a custom
    /// App ID URI with [`Provider::audience`]). Claims, roles, the trust of its own tenant and the
    /// tenant ID's form as for [`Provider::entra`], but v1.0 access tokens name their client in
    /// `appid` (not `azp`), and that is what ID tokens lack. For several tenants use
    /// [`Provider::entra_v1_multi_tenant`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{Provider, StandardClaims, Verifier};
    /// # use auth_core::testing::TestIssuer;
    ///
    /// let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    /// let provider = Provider::entra_v1(tenant, "6e74172b-be56-4843-9ff4-e66a39bb12e3");
    /// # let issuer = TestIssuer::start().await;
    /// # let provider = issuer.adopt(provider); // served by a loopback issuer for this example
    /// # let token = issuer.token_for(&provider).roles(["admin"]).sign();
    /// let verifier = Verifier::new(provider)?;
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// assert!(claims.iss.ends_with(&format!("/{tenant}/")));
    /// # Ok(()) }
    /// ```
    pub fn entra_v1(tenant: &str, client_id: &str) -> Provider {
        single_tenant(
            "Provider::entra_v1(tenant, client_id)",
            tenant,
            client_id,
            Version::V1,
        )
    }

    /// Microsoft Entra ID v2.0 tokens from several tenants (a multi-tenant app): `iss` must be
    /// `https://login.microsoftonline.com/<tenant>/v2.0` for one of `tenants`, never any tenant at
    /// all, and the `tid` claim must name the same tenant. Tenants are given by tenant ID, a GUID
    /// (each customer's Entra admin center > Overview > **Tenant ID**; trimmed and lower-cased
    /// here, as tokens write them); an entry that is not a GUID (a domain, `common`) is refused
    /// when the verifier is built, naming it. Keys from the shared `common` key set; a key that
    /// names its own `issuer` there signs only for that issuer (`{tenantid}` standing for the
    /// token's tenant), as Microsoft asks of multi-tenant apps.
    ///
    /// Roles a customer tenant's administrators assigned stay that tenant's
    /// ([`Identity::organization`](crate::Identity::organization)): `#[require_role("admin")]`
    /// refuses a customer's admin, and `#[require_org_role("admin", org = "tenant")]` on a route
    /// naming the tenant (`/tenants/{tenant}/...`) admits them there. They count as application
    /// roles only for tenants named with [`Provider::trusted_organizations`] (your own), which
    /// must be among `tenants` too: a trusted tenant that is not is refused when the verifier is
    /// built, since its tokens would never be accepted. Token
    /// kinds, app-only callers and the identifier to store users by (`oid` with `tid`) as for
    /// [`Provider::entra`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{Provider, StandardClaims, Verifier};
    /// # use auth_core::testing::TestIssuer;
    ///
    /// let customer = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    /// let client = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
    /// let provider = Provider::entra_multi_tenant(client, [customer]);
    /// # let issuer = TestIssuer::start().await;
    /// # let provider = issuer.adopt(provider); // served by a loopback issuer for this example
    /// # let token = issuer.token_for(&provider).sign();
    /// let verifier = Verifier::new(provider)?;
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// assert_eq!(claims.extra["tid"], customer);
    ///
    /// let domain = Provider::entra_multi_tenant(client, ["contoso.onmicrosoft.com"]);
    /// assert!(Verifier::new(domain).unwrap_err().problem.contains("contoso.onmicrosoft.com"));
    /// # Ok(()) }
    /// ```
    pub fn entra_multi_tenant<I, S>(client_id: &str, tenants: I) -> Provider
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        multi_tenant(
            "Provider::entra_multi_tenant(client_id, tenants)",
            client_id,
            tenants,
            Version::V2,
        )
    }

    /// Microsoft Entra ID v1.0 access tokens from several tenants: what
    /// [`Provider::entra_multi_tenant`] is for v2.0, for an API whose manifest keeps
    /// `accessTokenAcceptedVersion` at `null` or `1`. `iss` must be
    /// `https://sts.windows.net/<tenant>/` for one of `tenants` (tenant ID GUIDs, as for
    /// [`Provider::entra_multi_tenant`]), `tid` must name the same tenant, and the client is named
    /// in `appid`. A customer tenant's roles stay that tenant's, exactly as with v2.0 tokens.
    ///
    /// Keys from the shared v1.0 key set, `https://login.microsoftonline.com/common/discovery/keys`
    /// (Microsoft: "just remove the `/v2.0` in the URL if you validate v1.0 tokens"). Microsoft
    /// documents the per-key `issuer` only for the v2.0 key set, and its own validator notes that
    /// the v1.0 one attaches no issuer to its keys: so no key is held to an issuer here, and the
    /// `iss`/`tid` cross-check with the list of tenants is what binds a token to its tenant. A key
    /// that does name an issuer still signs only for it (a v2.0-form issuer thus refuses v1.0
    /// tokens: the reading that refuses).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{Provider, StandardClaims, Verifier};
    /// # use auth_core::testing::TestIssuer;
    ///
    /// let customer = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    /// let client = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
    /// let provider = Provider::entra_v1_multi_tenant(client, [customer]);
    /// # let issuer = TestIssuer::start().await;
    /// # let provider = issuer.adopt(provider); // served by a loopback issuer for this example
    /// # let token = issuer.token_for(&provider).roles(["admin"]).sign();
    /// let verifier = Verifier::new(provider)?;
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// assert!(claims.iss.ends_with(&format!("/{customer}/")));
    /// assert!(!claims.identity().has_role("admin"), "the customer tenant's role");
    /// assert!(claims.identity().has_org_role("admin"));
    /// # Ok(()) }
    /// ```
    pub fn entra_v1_multi_tenant<I, S>(client_id: &str, tenants: I) -> Provider
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        multi_tenant(
            "Provider::entra_v1_multi_tenant(client_id, tenants)",
            client_id,
            tenants,
            Version::V1,
        )
    }
}

/// Which Entra access token version a preset accepts.
#[derive(Clone, Copy)]
enum Version {
    V1,
    V2,
}

impl Version {
    /// The issuer for `tenant` (a tenant ID, or the multi-tenant placeholder).
    fn issuer(self, tenant: &str) -> String {
        match self {
            Version::V1 => format!("https://sts.windows.net/{tenant}/"),
            Version::V2 => format!("{AUTHORITY}/{tenant}/v2.0"),
        }
    }

    /// The key set for `tenant` (or `common`).
    fn keys(self, tenant: &str) -> String {
        match self {
            Version::V1 => format!("{AUTHORITY}/{tenant}/discovery/keys"),
            Version::V2 => format!("{AUTHORITY}/{tenant}/discovery/v2.0/keys"),
        }
    }

    /// The claim naming the calling client in an access token, which ID tokens lack.
    fn client_claim(self) -> &'static str {
        match self {
            Version::V1 => "appid",
            Version::V2 => "azp",
        }
    }
}

/// One tenant's preset, trusting that tenant.
fn single_tenant(name: &str, tenant: &str, client_id: &str, version: Version) -> Provider {
    let given = tenant.trim();
    let tenant = tenant_id(given).unwrap_or_else(|| given.to_owned());
    let provider = entra_shape(
        Provider::custom(
            name,
            IssuerMatch::Exact(vec![version.issuer(&tenant)]),
            KeySource::Jwks(version.keys(&tenant)),
        ),
        client_id,
        &tenant,
        version.client_claim(),
    );
    if is_placeholder_tenant(given) {
        return provider.invalid(
            "tenant",
            format!(
                "{given:?} is not an issuer: tokens name the user's own tenant. For a \
                 multi-tenant app use Provider::entra_multi_tenant(client_id, [tenant IDs you \
                 accept])"
            ),
        );
    }
    if tenant_id(given).is_none() {
        return provider.invalid("tenant", not_a_tenant_id(given));
    }
    provider.trusted_organizations([tenant])
}

/// Several tenants' preset, trusting none of them.
fn multi_tenant<I, S>(name: &str, client_id: &str, tenants: I, version: Version) -> Provider
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let given: Vec<String> = tenants.into_iter().map(Into::into).collect();
    let ids: Vec<String> = given
        .iter()
        .map(|t| tenant_id(t).unwrap_or_else(|| t.trim().to_owned()))
        .collect();
    let mut provider = Provider::multi_tenant(&version.issuer(TENANT_PLACEHOLDER), ids)
        .jwks_url(version.keys("common"))
        .tenant_claim("tid");
    provider.name = name.to_owned();
    let provider = entra_shape(provider, client_id, "organizations", version.client_claim());
    match given.iter().find(|t| tenant_id(t).is_none()) {
        Some(bad) => provider.invalid("tenants", not_a_tenant_id(bad)),
        None => provider,
    }
}

/// What every Entra preset shares; `client_claim` names the calling client in an access token
/// (`azp` in v2.0, `appid` in v1.0), which ID tokens lack.
fn entra_shape(
    provider: Provider,
    client_id: &str,
    authority_tenant: &str,
    client_claim: &str,
) -> Provider {
    let client_id = client_id.trim();
    let endpoints = TokenEndpoints::oauth(
        format!("{AUTHORITY}/{authority_tenant}/v2.0/.well-known/openid-configuration"),
        format!("{AUTHORITY}/{authority_tenant}/oauth2/v2.0/authorize"),
        format!("{AUTHORITY}/{authority_tenant}/oauth2/v2.0/token"),
    );
    // Each version's own document names the issuer its tokens carry: v1.0 `sts.windows.net`.
    let version = if client_claim == "appid" { "" } else { "/v2.0" };
    // Entra v2.0 tokens always name the API by its application (client) ID in `aud`; v1.0 ones
    // by whatever App ID URI the client asked for, which is no resource URL.
    let binding = match client_claim {
        "appid" => ResourceBinding::Refused(
            "Entra v1.0 tokens name the API by the App ID URI the client asked for, not by a \
             resource URL: use the v2.0 preset (Provider::entra) with .resource(..), or give the \
             App ID URI with .audience(..)",
        ),
        _ => ResourceBinding::PresetAudience,
    };
    let provider = provider
        .resource_binding(binding)
        .issues_dpop(false)
        .issuer_document(format!(
            "{AUTHORITY}/{authority_tenant}{version}/.well-known/openid-configuration"
        ))
        .token_endpoints(endpoints)
        .algorithms([Algorithm::RS256])
        .audience(client_id)
        .audience(format!("api://{client_id}"))
        .roles_claims(["roles", "groups"])
        .scopes_claims(["scp"])
        .organizations(OrgMapping::Tenant {
            claim: ClaimPath::claim("tid"),
        })
        .require_claim(client_claim)
        .service_marker(ServiceMarker::Any(vec![
            ServiceMarker::ClaimEquals(ClaimPath::claim("idtyp"), "app".to_owned()),
            ServiceMarker::All(vec![
                ServiceMarker::ClaimAbsent(ClaimPath::claim("scp")),
                ServiceMarker::ClaimsEqual(ClaimPath::claim("oid"), ClaimPath::claim("sub")),
            ]),
        ]))
        .service_needs_roles();
    if client_id.is_empty() || client_id.starts_with("api://") {
        return provider.invalid(
            "client_id",
            "give the application (client) ID GUID from the app registration's Overview",
        );
    }
    provider
}
