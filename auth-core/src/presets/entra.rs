use crate::algorithm::Algorithm;
use crate::claim_path::ClaimPath;
use crate::identity::ServiceRule;
use crate::organization::OrgMapping;
use crate::provider::{IssuerMatch, KeySource, Provider, TENANT_PLACEHOLDER};
use crate::token_endpoints::TokenEndpoints;

const AUTHORITY: &str = "https://login.microsoftonline.com";

impl Provider {
    /// Microsoft Entra ID (Azure AD) v2.0 access tokens for one tenant.
    ///
    /// - `tenant`: the directory (tenant) ID GUID. `common` and `organizations` are not issuers:
    ///   for multi-tenant apps use [`Provider::entra_multi_tenant`].
    /// - `client_id`: the API's application (client) ID; v2.0 tokens carry it as `aud` (the
    ///   `api://<client_id>` form is accepted too).
    ///
    /// The issuer is `https://login.microsoftonline.com/<tenant>/v2.0`, keys at
    /// `.../<tenant>/discovery/v2.0/keys`. Which token version an API receives is set by
    /// `accessTokenAcceptedVersion` in its manifest (`2` for this preset; see
    /// [`Provider::entra_v1`]). Roles from `roles` (app roles) and `groups` (object IDs; past 200
    /// groups Entra sends `_claim_names` instead and the groups must be read from Graph), scopes
    /// from `scp` (user tokens only). For national clouds call [`Provider::relocate`] with their
    /// login host.
    ///
    /// **Roles.** Each tenant's administrators assign an app's roles in their own directory: the
    /// roles belong to the tenant, [`Identity::organization`](crate::Identity::organization) (its
    /// `tid`). One tenant's preset trusts that tenant, so its roles are application roles too.
    ///
    /// **Which tokens.** v2.0 access tokens carry `azp` (the client that asked), which ID tokens do
    /// not: a token without it is refused, even when front end and API share one registration and
    /// an ID token's `aud` is this API's client ID. App-only tokens (client credentials) are
    /// [`IdentityKind::Service`](crate::IdentityKind): `idtyp` = `app` where the API enabled that
    /// optional claim, else no `scp` and `oid` equal to `sub` (Microsoft's own test). Entra issues
    /// app-only tokens to any application that asks, so one without an app role of this API
    /// (`roles`) is refused, as Microsoft asks of APIs.
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
    /// <https://learn.microsoft.com/en-us/azure/active-directory/develop/active-directory-v2-tokens>.
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
    /// # Ok(()) }
    /// ```
    pub fn entra(tenant: &str, client_id: &str) -> Provider {
        let tenant = tenant.trim();
        let issuer = format!("{AUTHORITY}/{tenant}/v2.0");
        let jwks = format!("{AUTHORITY}/{tenant}/discovery/v2.0/keys");
        let provider = entra_shape(
            Provider::custom(
                "Provider::entra(tenant, client_id)",
                IssuerMatch::Exact(vec![issuer]),
                KeySource::Jwks(jwks),
            ),
            client_id,
            tenant,
            "azp",
        );
        check_tenant(provider.trusted_organizations([tenant]), tenant)
    }

    /// Microsoft Entra ID v1.0 access tokens (an API whose manifest keeps
    /// `accessTokenAcceptedVersion` at `null` or `1`): issuer `https://sts.windows.net/<tenant>/`,
    /// keys at `https://login.microsoftonline.com/<tenant>/discovery/keys`; `aud` is the client ID
    /// or the resource URI the client asked for (`api://<client_id>`), both accepted (add a custom
    /// App ID URI with [`Provider::audience`]). Claims as for [`Provider::entra`], but v1.0 access
    /// tokens name their client in `appid` (not `azp`), and that is what ID tokens lack.
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
        let tenant = tenant.trim();
        let issuer = format!("https://sts.windows.net/{tenant}/");
        let jwks = format!("{AUTHORITY}/{tenant}/discovery/keys");
        let provider = entra_shape(
            Provider::custom(
                "Provider::entra_v1(tenant, client_id)",
                IssuerMatch::Exact(vec![issuer]),
                KeySource::Jwks(jwks),
            ),
            client_id,
            tenant,
            "appid",
        );
        check_tenant(provider.trusted_organizations([tenant]), tenant)
    }

    /// Microsoft Entra ID v2.0 tokens from several tenants (a multi-tenant app): `iss` must be
    /// `https://login.microsoftonline.com/<tenant>/v2.0` for one of `tenants` (tenant ID GUIDs),
    /// never any tenant at all, and the `tid` claim must name the same tenant. Keys from the shared
    /// `common` key set; a key that names its own `issuer` there signs only for that issuer
    /// (`{tenantid}` standing for the token's tenant), as Microsoft asks of multi-tenant apps.
    ///
    /// Roles a customer tenant's administrators assigned stay that tenant's
    /// ([`Identity::organization`](crate::Identity::organization)); they count as application roles
    /// only for tenants named with [`Provider::trusted_organizations`] (your own). Token kinds and
    /// app-only callers as for [`Provider::entra`].
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
    /// # Ok(()) }
    /// ```
    pub fn entra_multi_tenant<I, S>(client_id: &str, tenants: I) -> Provider
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let tenants: Vec<String> = tenants
            .into_iter()
            .map(|t| t.into().trim().to_owned())
            .collect();
        let bad = tenants
            .iter()
            .find(|t| !super::is_path_segment(t) || is_placeholder_tenant(t))
            .cloned();
        let mut provider =
            Provider::multi_tenant(&format!("{AUTHORITY}/{TENANT_PLACEHOLDER}/v2.0"), tenants)
                .jwks_url(format!("{AUTHORITY}/common/discovery/v2.0/keys"))
                .tenant_claim("tid");
        provider.name = "Provider::entra_multi_tenant(client_id, tenants)".to_owned();
        let provider = entra_shape(provider, client_id, "organizations", "azp");
        match bad {
            Some(tenant) => provider.invalid(
                "tenants",
                format!(
                    "{tenant:?} is not a tenant ID: list the directory (tenant) ID GUIDs you accept"
                ),
            ),
            None => provider,
        }
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
    let provider = provider
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
        .service_rule(ServiceRule::Any(vec![
            ServiceRule::ClaimEquals(ClaimPath::claim("idtyp"), "app".to_owned()),
            ServiceRule::All(vec![
                ServiceRule::ClaimAbsent(ClaimPath::claim("scp")),
                ServiceRule::ClaimsEqual(ClaimPath::claim("oid"), ClaimPath::claim("sub")),
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

fn is_placeholder_tenant(tenant: &str) -> bool {
    ["common", "organizations", "consumers"]
        .iter()
        .any(|p| tenant.eq_ignore_ascii_case(p))
}

fn check_tenant(provider: Provider, tenant: &str) -> Provider {
    if is_placeholder_tenant(tenant) {
        return provider.invalid(
            "tenant",
            format!(
                "{tenant:?} is not an issuer: tokens name the user's own tenant. For a \
                 multi-tenant app use Provider::entra_multi_tenant(client_id, [tenant IDs you \
                 accept])"
            ),
        );
    }
    if !super::is_path_segment(tenant) {
        return provider.invalid(
            "tenant",
            format!("{tenant:?} is not a tenant ID: copy the Directory (tenant) ID GUID"),
        );
    }
    provider
}
