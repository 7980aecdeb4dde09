//! What one identity provider's tokens look like: issuer, keys, audience, algorithms and claim
//! mapping.
//!
//! [`Provider`] is the builder a user holds and its `validate`; [`compiled`] is what a verifier
//! makes of one (its key store, claim checks, identity mapping and introspection client);
//! [`discovery`] checks at startup that a provider's discovery document names the configured
//! issuer; [`endpoints`] says where its clients get tokens. A new preset is a file under
//! `presets/`, built from this builder.

pub(crate) mod compiled;
pub(crate) mod discovery;
pub(crate) mod endpoints;
pub(crate) mod resource;

use std::time::Duration;

use crate::checks::ClaimChecks;
use crate::checks::audience::{AudienceRule, Recipient, RequiredClaim};
use crate::checks::issuer::{IssuerMatch, TENANT_PLACEHOLDER};
use crate::checks::kind::KindChecks;
use crate::error::ConfigError;
use crate::identity::IdentityKind;
use crate::identity::mapping::{IdentityMapping, NameClaim};
use crate::identity::organization::{OrgAcceptance, OrgMapping};
use crate::identity::service_marker::ServiceMarker;
use crate::introspection::{self, Introspection};
use crate::keys::algorithm::{Algorithm, AlgorithmPolicy, AlgorithmSet};
use crate::keys::issuer_url;
use crate::keys::settings::KeySettings;
use crate::keys::source::KeySource;
use crate::token::claim_path::{ClaimPath, Separator};
use crate::token::source::TokenSource;
use endpoints::TokenEndpoints;
use resource::ResourceBinding;

/// One identity provider's settings.
///
/// Start from a preset such as [`Provider::oidc`] and adjust with the builder methods. Nothing is
/// checked or fetched here: building a verifier validates every setting at once and reports the
/// first problem with the setting's name.
///
/// ```
/// use std::time::Duration;
///
/// use auth_core::{Algorithm, Provider, Verifier};
///
/// let provider = Provider::oidc("https://issuer.example.com")
///     .audience("orders-api")
///     .roles_claim("realm_access.roles")
///     .algorithms([Algorithm::RS256, Algorithm::ES256])
///     .leeway(Duration::from_secs(10));
/// assert!(Verifier::new(provider).is_ok());
///
/// // Every problem is reported with the setting's name when the verifier is built.
/// let err = Verifier::new(Provider::oidc("https://issuer.example.com")).unwrap_err();
/// assert_eq!(err.setting, "Provider::oidc(issuer): audience");
/// ```
#[derive(Debug, Clone)]
pub struct Provider {
    pub(crate) name: String,
    pub(crate) issuer: IssuerMatch,
    pub(crate) keys: KeySource,
    pub(crate) algorithms: AlgorithmPolicy,
    pub(crate) audience: Option<AudienceRule>,
    pub(crate) authorized_parties: Vec<String>,
    /// A token without `azp` passes the authorized-party check when it came in a header, never
    /// from a cookie (Clerk's tokens for requests that sent no `Origin`).
    pub(crate) missing_azp_from_headers: bool,
    pub(crate) leeway: Duration,
    pub(crate) required: Vec<RequiredClaim>,
    pub(crate) past_dates: Vec<&'static str>,
    pub(crate) kind: KindChecks,
    pub(crate) dpop_required: bool,
    /// Whether the provider can issue DPoP-bound tokens at all, so refusals offer the `DPoP`
    /// challenge (presets say, citing the provider; any other issuer may).
    pub(crate) issues_dpop: bool,
    /// A discovery document whose `issuer` must be the one configured, read once at startup
    /// (`warm_up`, `prefetch`) by presets that take their keys from a JWKS URL directly.
    pub(crate) issuer_document: Option<String>,
    pub(crate) introspection: Option<Introspection>,
    /// Why this provider cannot introspect, for a preset whose issuer has no endpoint (Auth0).
    pub(crate) no_introspection: Option<&'static str>,
    /// What to do about an opaque token sent to such a provider, for the refusal's log line.
    pub(crate) opaque_token_hint: Option<&'static str>,
    pub(crate) mapping: IdentityMapping,
    pub(crate) token_sources: Vec<TokenSource>,
    pub(crate) key_settings: KeySettings,
    pub(crate) endpoints: TokenEndpoints,
    /// The protected resources (RFC 8707) this provider's tokens are for, canonical.
    pub(crate) resources: Vec<String>,
    /// How this provider's tokens name a resource in `aud` (the preset says).
    pub(crate) resource_binding: ResourceBinding,
    /// Problems found while building, reported when the verifier is constructed.
    pub(crate) errors: Vec<ConfigError>,
}

const BOTH_ACCEPTANCES: &str = "accept_organizations and accept_any_organization are both given: \
                                 keep the list to accept those organisations only, or \
                                 accept_any_organization() alone";

/// Leeway for clock skew between the issuer and this server, unless a provider says otherwise.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// The most leeway a provider may be given. Clocks drift by seconds; a larger tolerance only keeps
/// expired tokens working.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);

impl Provider {
    /// Any OpenID Connect issuer: keys through discovery at
    /// `<issuer>/.well-known/openid-configuration`, roles from `roles`, scopes from `scope` and
    /// `scp`, bearer tokens.
    ///
    /// Algorithms: every asymmetric algorithm this crate supports that the issuer advertises, in
    /// its discovery document's signing-algorithm lists or its keys' own `alg`; each key verifies
    /// only its own algorithm (an RSA key without `alg` those RSA algorithms discovery lists, else
    /// RS256). Narrow the choice with [`Provider::algorithms`].
    ///
    /// Set an audience with [`Provider::audience`] (or state there is none with
    /// [`Provider::skip_audience_check`]): a verifier will not start without one of the two, since
    /// a token minted for another application of the same issuer would otherwise pass.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{Provider, StandardClaims, Verifier};
    /// # use auth_core::testing::TestIssuer;
    ///
    /// let provider = Provider::oidc("https://issuer.example.com").audience("orders-api");
    /// # let issuer = TestIssuer::start().await;
    /// # let provider = issuer.adopt(provider); // served by a loopback issuer for this example
    /// # let token = issuer.token_for(&provider).subject("ada").roles(["admin"]).sign();
    /// let verifier = Verifier::new(provider)?;
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// assert_eq!(claims.sub, "ada");
    /// assert!(claims.identity().has_role("admin"));
    /// # Ok(()) }
    /// ```
    pub fn oidc(issuer: impl Into<String>) -> Provider {
        let issuer = issuer.into();
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let mut provider = Provider::custom(
            "Provider::oidc(issuer)",
            IssuerMatch::Exact(vec![issuer]),
            KeySource::Discovery(discovery.clone()),
        );
        provider.algorithms = AlgorithmPolicy::Advertised;
        provider.endpoints.openid_connect_url = Some(discovery);
        provider.service_marker(ServiceMarker::ClaimsEqual(
            ClaimPath::claim("sub"),
            ClaimPath::claim("client_id"),
        ))
    }

    /// A multi-tenant issuer such as Entra ID's
    /// `https://login.microsoftonline.com/{tenantid}/v2.0`: `iss` must be `template` with
    /// `{tenantid}` replaced by one of `tenants`, and nothing else. A key whose JWK names an
    /// `issuer` verifies only tokens from that issuer (`{tenantid}` in it standing for the token's
    /// tenant). Entra tags its shared keys with the v2.0 issuer, so a template for Entra's v1
    /// issuer (`https://sts.windows.net/{tenantid}/`) needs keys that are untagged or tagged for
    /// v1.
    ///
    /// Keys come through discovery at the template with `{tenantid}` replaced by `common` (where
    /// Entra publishes the multi-tenant document, whose `issuer` is the template itself); point
    /// elsewhere with [`Provider::jwks_url`]. Set the audience as for [`Provider::oidc`].
    ///
    /// ```
    /// use auth_core::{Provider, Verifier};
    ///
    /// let template = "https://login.example.com/{tenantid}/v2.0";
    /// let provider = Provider::multi_tenant(template, ["tenant-a", "tenant-b"]).audience("api");
    /// assert!(Verifier::new(provider).is_ok());
    /// let template = "https://x/{tenantid}/{tenantid}";
    /// let twice = Provider::multi_tenant(template, ["a"]).audience("api");
    /// assert!(Verifier::new(twice).unwrap_err().problem.contains("exactly once"));
    /// ```
    pub fn multi_tenant<I, S>(template: &str, tenants: I) -> Provider
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let tenants: Vec<String> = tenants.into_iter().map(Into::into).collect();
        let name = "Provider::multi_tenant(template, tenants)";
        let (issuer, error) = match template.split_once(TENANT_PLACEHOLDER) {
            Some((prefix, suffix)) if !suffix.contains(TENANT_PLACEHOLDER) => (
                IssuerMatch::Tenants {
                    prefix: prefix.to_owned(),
                    suffix: suffix.to_owned(),
                    tenants,
                    tenant_claim: None,
                },
                None,
            ),
            _ => (
                IssuerMatch::Exact(vec![template.to_owned()]),
                Some(ConfigError::new(
                    format!("{name}: template"),
                    format!("{template:?} must hold {TENANT_PLACEHOLDER} exactly once"),
                )),
            ),
        };
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            template
                .replace(TENANT_PLACEHOLDER, "common")
                .trim_end_matches('/')
        );
        let mut provider = Provider::custom(name, issuer, KeySource::Discovery(discovery));
        provider.errors.extend(error);
        provider
    }

    pub(crate) fn custom(name: &str, issuer: IssuerMatch, keys: KeySource) -> Provider {
        Provider {
            name: name.to_owned(),
            issuer,
            keys,
            algorithms: AlgorithmPolicy::Only(AlgorithmSet::of(&[Algorithm::RS256])),
            audience: None,
            authorized_parties: Vec::new(),
            missing_azp_from_headers: false,
            leeway: DEFAULT_LEEWAY,
            required: Vec::new(),
            past_dates: Vec::new(),
            kind: KindChecks::default(),
            dpop_required: false,
            issues_dpop: true,
            issuer_document: None,
            introspection: None,
            no_introspection: None,
            opaque_token_hint: None,
            mapping: IdentityMapping::default(),
            token_sources: vec![TokenSource::Bearer, TokenSource::WebSocketProtocol],
            key_settings: KeySettings::default(),
            endpoints: TokenEndpoints::default(),
            resources: Vec::new(),
            resource_binding: ResourceBinding::Url,
            errors: Vec::new(),
        }
    }

    /// Accepts tokens whose `aud` (string or array) holds `audience`; call again to accept several.
    pub fn audience(mut self, audience: impl Into<String>) -> Provider {
        let audience = audience.into();
        match &mut self.audience {
            Some(AudienceRule::Aud(list)) => list.push(audience),
            _ => self.audience = Some(AudienceRule::Aud(vec![audience])),
        }
        self
    }

    /// This provider's tokens are for the protected resource `url` (RFC 8707), the URL clients
    /// call, e.g. `https://api.example.com/mcp`: the audience check accepts a token whose `aud`
    /// holds the resource's canonical URL, compared as an exact string (a token for another
    /// resource, a sub-path, or the same URL with a trailing slash is refused, as is a token
    /// without `aud`). Call again for several resources of one provider.
    ///
    /// The URL is kept in canonical form (RFC 8707 §2, RFC 9728 §1.2): lowercase scheme and host,
    /// no default port, no trailing slash (a bare origin is `https://api.example.com`). It must be
    /// absolute `https://` (`http://` on loopback only) without query or fragment; anything else
    /// is a [`ConfigError`] naming `resource` when the verifier is built.
    ///
    /// [`Provider::oidc`] needs no [`Provider::audience`] beside it. Presets whose provider names
    /// the API by an identifier of its own keep accepting that identifier too, as each preset's
    /// documentation says (Entra v2: the application's client ID; Keycloak: the client ID, and
    /// the URL where an audience mapper adds it; Auth0: the API identifier); presets whose tokens
    /// cannot be bound to a URL refuse the setting, saying what to use instead. The web layer
    /// publishes each resource's metadata (RFC 9728) and points clients at it in challenges.
    ///
    /// A token is also checked against the resource the request addresses
    /// ([`Verifier::check_resource`](crate::Verifier::check_resource), which the web layer calls
    /// on every request): at a path under a resource, the accepting provider must serve that
    /// resource and `aud` must hold its URL or one of the provider's audiences that name no
    /// resource (an explicit [`Provider::audience`], a preset's own identifier), so a token for
    /// `https://api.example.com/admin` is refused at `/mcp` even when one provider serves both.
    /// Such an alias audience names no resource and so serves every resource of the provider:
    /// leave it out where resources must not share tokens. Outside every resource's path, this
    /// provider accepts only tokens whose `aud` holds such an alias.
    ///
    /// Two resources with one path on two hosts (in one provider or two) are a [`ConfigError`]
    /// naming `Provider::resource`: the web layer knows a request's resource by its path alone,
    /// since the `Host` header is the client's to choose.
    ///
    /// ```
    /// use auth_core::{Provider, Verifier};
    ///
    /// let provider = Provider::oidc("https://issuer.example.com")
    ///     .resource("HTTPS://API.example.com/mcp/");
    /// assert_eq!(provider.resources(), ["https://api.example.com/mcp"]);
    /// let verifier = Verifier::new(provider).unwrap();
    /// assert_eq!(verifier.protected_resources()[0].resource, "https://api.example.com/mcp");
    ///
    /// let fragment = Provider::oidc("https://i.example.com").resource("https://a.example.com/#x");
    /// let err = Verifier::new(fragment).unwrap_err();
    /// assert_eq!(err.setting, "Provider::oidc(issuer): resource");
    ///
    /// let twins = Provider::oidc("https://i.example.com")
    ///     .resource("https://a.example.com/mcp")
    ///     .resource("https://b.example.com/mcp");
    /// assert_eq!(Verifier::new(twins).unwrap_err().setting, "Provider::resource");
    /// ```
    pub fn resource(mut self, url: &str) -> Provider {
        let setting = format!("{}: resource", self.name);
        if let ResourceBinding::Refused(why) = self.resource_binding {
            self.errors.push(ConfigError::new(setting, why));
            return self;
        }
        let canonical = match resource::canonical(&setting, url) {
            Ok(canonical) => canonical,
            Err(err) => {
                self.errors.push(err);
                return self;
            }
        };
        match &mut self.audience {
            None | Some(AudienceRule::Aud(_)) => {
                if !self.resources.contains(&canonical) {
                    self.resources.push(canonical.clone());
                }
                self = self.audience(canonical);
            }
            Some(AudienceRule::Claim(..) | AudienceRule::Skip) => {
                self.errors.push(ConfigError::new(
                    setting,
                    "a resource binds tokens through aud, which this provider does not check \
                     (audience_claim or skip_audience_check was called): remove that call, or \
                     leave the resource out",
                ));
            }
        }
        self
    }

    /// The protected resources given to [`Provider::resource`], in canonical form.
    pub fn resources(&self) -> &[String] {
        &self.resources
    }

    pub(crate) fn resource_binding(mut self, binding: ResourceBinding) -> Provider {
        self.resource_binding = binding;
        self
    }

    /// Accepts tokens whose claim `claim` equals one of `values`, instead of checking `aud`
    /// (Cognito access tokens carry `client_id`, not `aud`).
    pub fn audience_claim<I, S>(mut self, claim: &str, values: I) -> Provider
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        match ClaimPath::parse(claim) {
            Ok(path) => {
                self.audience = Some(AudienceRule::Claim(
                    path,
                    values.into_iter().map(Into::into).collect(),
                ))
            }
            Err(err) => self.errors.push(err),
        }
        self
    }

    /// Accepts tokens whatever their `aud`. Only for issuers whose tokens carry none and are
    /// checked some other way (for example Clerk, through [`Provider::authorized_parties`]).
    pub fn skip_audience_check(mut self) -> Provider {
        self.audience = Some(AudienceRule::Skip);
        self
    }

    /// Requires `azp` to be one of `parties` (Clerk: the application's origins; Google: the
    /// application's OAuth client IDs). Replaces the list.
    pub fn authorized_parties<I, S>(mut self, parties: I) -> Provider
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.authorized_parties = parties.into_iter().map(Into::into).collect();
        if self.authorized_parties.is_empty() {
            self.errors.push(ConfigError::new(
                "authorized_parties",
                "the list is empty; give the origins your front end runs on, e.g. \
                 https://app.example.com",
            ));
        }
        self
    }

    /// The algorithms tokens may be signed with; each key still verifies only its own algorithm
    /// (its JWK `alg`, else those of its type). Presets fix the algorithms their provider
    /// documents; for [`Provider::oidc`] this narrows the default, which is whatever the issuer
    /// advertises.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Provider {
        self.algorithms = AlgorithmPolicy::Only(algorithms.into_iter().collect());
        self
    }

    /// Clock-skew tolerance for `exp`, `nbf` and `iat` (default 30 s, at most [`MAX_LEEWAY`], 5
    /// minutes).
    pub fn leeway(mut self, leeway: Duration) -> Provider {
        self.leeway = leeway;
        self
    }

    /// Fetches keys from this JWKS URL instead of through discovery.
    pub fn jwks_url(mut self, url: impl Into<String>) -> Provider {
        self.keys = KeySource::Jwks(url.into());
        self
    }

    /// Reads roles from these claim paths instead of the provider's default (dotted; quote names
    /// holding dots, e.g. `resource_access."my.app".roles`). A claim may hold an array of names, an
    /// object whose keys are names, or a string that is one name: `"Support Lead"` is one role,
    /// never two.
    pub fn roles_claims<I, S>(mut self, paths: I) -> Provider
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.mapping.roles = self.name_claims(paths, Separator::None);
        self
    }

    /// Reads roles from this one claim path; see [`Provider::roles_claims`].
    pub fn roles_claim(self, path: &str) -> Provider {
        self.roles_claims([path])
    }

    /// Reads scopes from these claim paths instead of the provider's default. A string is a
    /// space-separated list, as OAuth writes `scope` (RFC 6749 §3.3); arrays and objects as for
    /// roles.
    pub fn scopes_claims<I, S>(mut self, paths: I) -> Provider
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.mapping.scopes = self.name_claims(paths, Separator::Space);
        self
    }

    /// Reads scopes from this one claim path; see [`Provider::scopes_claims`].
    pub fn scopes_claim(self, path: &str) -> Provider {
        self.scopes_claims([path])
    }

    /// Marks tokens as machine identities ([`IdentityKind::Service`](crate::IdentityKind)) by their
    /// claims, replacing the preset's rule; see [`ServiceMarker`]. Every token the rule does not mark
    /// is a person's ([`IdentityKind::User`](crate::IdentityKind)), also on [`Provider::zitadel`],
    /// whose own rule leaves the tokens it cannot tell apart
    /// [`IdentityKind::Unknown`](crate::IdentityKind).
    pub fn service_marker(mut self, rule: ServiceMarker) -> Provider {
        self.mapping.service = Some(rule);
        self.mapping.person = None;
        self.mapping.unmarked = IdentityKind::User;
        self
    }

    /// Organisations whose roles count as application roles too: the application's own (its staff
    /// organisation in Clerk, the organisation owning the Zitadel project, the Entra tenant it is
    /// registered in). Roles any other organisation grants stay in
    /// [`Identity::organization`](crate::Identity::organization), for guards that ask for an
    /// organisation role. Default: none, except that a single-tenant Entra preset
    /// ([`Provider::entra`], [`Provider::entra_v1`]) trusts its tenant.
    ///
    /// Each call replaces the list: `.trusted_organizations(Vec::<String>::new())` trusts none,
    /// which keeps a single-tenant Entra preset's roles its tenant's (a customer's tenant).
    ///
    /// IDs as tokens carry them. Entra tenant IDs are GUIDs, trimmed and lower-cased here as
    /// tokens write them; anything else (a domain) is a configuration error naming the entry. An
    /// empty or blank ID is a configuration error too (it would trust no organisation, silently).
    /// So is, on a multi-tenant Entra preset, a tenant that is not among the accepted `tenants`:
    /// its tokens are never accepted, so trusting it cannot work.
    ///
    /// ```
    /// use auth_core::{Provider, Verifier};
    ///
    /// let client = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
    /// let home = Provider::entra_multi_tenant(client, ["72f988bf-86f1-41af-91ab-2d7cd011db47"])
    ///     .trusted_organizations([" 72F988BF-86F1-41AF-91AB-2D7CD011DB47 "]);
    /// assert!(Verifier::new(home).is_ok());
    /// let domain = Provider::entra_multi_tenant(client, ["72f988bf-86f1-41af-91ab-2d7cd011db47"])
    ///     .trusted_organizations(["contoso.onmicrosoft.com"]);
    /// assert!(Verifier::new(domain).unwrap_err().problem.contains("Tenant ID"));
    /// let customer = "fa15d692-e9c7-4460-a743-29f2956fd429";
    /// let unaccepted = Provider::entra_multi_tenant(client, [customer])
    ///     .trusted_organizations(["72f988bf-86f1-41af-91ab-2d7cd011db47"]);
    /// let error = Verifier::new(unaccepted).unwrap_err();
    /// assert!(error.setting.ends_with("trusted_organizations"));
    /// assert!(error.problem.contains("tenants"));
    /// ```
    pub fn trusted_organizations<I, S>(mut self, ids: I) -> Provider
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let ids: Vec<String> = ids.into_iter().map(Into::into).collect();
        if let Some(blank) = ids.iter().find(|id| id.trim().is_empty()) {
            let problem = format!(
                "{blank:?} is empty: give each organisation's ID as the provider's tokens carry it \
                 (e.g. the Zitadel organisation's ID, the Clerk org_… ID, the Entra tenant ID); an \
                 unset environment variable is the usual cause"
            );
            return self.invalid("trusted_organizations", problem);
        }
        let normalized: Result<Vec<String>, String> = match &self.mapping.organization {
            Some(mapping) => ids.iter().map(|id| mapping.normalized_id(id)).collect(),
            None => Ok(ids),
        };
        match normalized {
            Ok(ids) => {
                self.mapping.trusted_organizations = ids;
                self
            }
            Err(problem) => self.invalid("trusted_organizations", problem),
        }
    }

    /// Accepts tokens of these organisations only (and of the
    /// [trusted ones](Provider::trusted_organizations)): a token whose organisation
    /// ([`Identity::organization`](crate::Identity::organization)) is another is refused (401
    /// `INVALID_TOKEN`). Call again to add more.
    ///
    /// **A token that names no organisation** depends on what that means for the provider:
    /// - Zitadel and Keycloak name the caller's organisation only when the client asks for it
    ///   (Zitadel's scope `urn:zitadel:iam:user:resourceowner`, Keycloak's `organization` or
    ///   `organization:<alias>`), and Keycloak names none for a token naming several: such a token
    ///   is refused (401 `INVALID_TOKEN`, the log naming the scope to request), as is one whose
    ///   organisation claim cannot be read. Otherwise a member of any organisation would pass by
    ///   leaving it out.
    /// - Auth0 (no `org_id`) and Clerk (no active organisation): a login outside any organisation,
    ///   which passes; bind guards to the organisation a request addresses
    ///   (`#[require_org_role("admin", org = "org")]`) where it matters.
    /// - Entra: every token names its tenant (`tid`).
    ///
    /// For every organisation-aware preset. With [`Provider::auth0`] this (or
    /// [`Provider::accept_any_organization`]) is required before a token carrying `org_id` passes:
    /// Auth0's "Work with Tokens and Organizations" asks that "if an `org_id` claim is present in
    /// the access token, then your API should validate the claim to ensure that the value received
    /// is expected or known [...] If the claim cannot be validated, then the API should deem the
    /// token invalid"
    /// (<https://auth0.com/docs/manage-users/organizations/using-tokens>). For Clerk, Zitadel,
    /// Entra and Keycloak it is an optional filter.
    ///
    /// IDs as tokens carry them: Auth0's and Clerk's start with `org_` (Auth0 shows them under
    /// Organizations; names can change, IDs cannot), Zitadel's are numeric, Entra's are tenant
    /// GUIDs (trimmed and lower-cased here; anything else is refused, naming it), Keycloak's are
    /// the organisation's `id` where the token carries it, else its alias.
    ///
    /// ```
    /// use auth_core::{Provider, Verifier};
    ///
    /// let auth0 = Provider::auth0("my-tenant.us.auth0.com", "https://api.example.com")
    ///     .accept_organizations(["org_9ybsU1dN2dKfDkBi"]);
    /// assert!(Verifier::new(auth0).is_ok());
    /// let by_name = Provider::auth0("my-tenant.us.auth0.com", "https://api.example.com")
    ///     .accept_organizations(["acme"]);
    /// assert!(Verifier::new(by_name).unwrap_err().problem.contains("org_"));
    /// ```
    pub fn accept_organizations<I, S>(mut self, ids: I) -> Provider
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let ids: Vec<String> = ids.into_iter().map(Into::into).collect();
        let setting = "accept_organizations";
        let Some(mapping) = &self.mapping.organization else {
            return self.invalid(
                setting,
                "this provider's tokens name no organisation this crate reads; remove the setting",
            );
        };
        let prefix = mapping.id_prefix();
        let tenants: Option<Result<Vec<String>, String>> =
            matches!(mapping, OrgMapping::Tenant { .. }).then(|| {
                ids.iter()
                    .filter(|id| !id.trim().is_empty())
                    .map(|id| mapping.normalized_id(id))
                    .collect()
            });
        let ids = match tenants {
            Some(Ok(tenants)) if tenants.len() == ids.len() => tenants,
            Some(Err(problem)) => return self.invalid(setting, problem),
            _ => ids,
        };
        if ids.is_empty() {
            return self.invalid(
                setting,
                "the list is empty, which would refuse every organisation's tokens: name the \
                 organisation IDs, or call accept_any_organization()",
            );
        }
        if let Some(bad) = ids
            .iter()
            .find(|id| id.trim().is_empty() || id.trim() != *id)
        {
            return self.invalid(
                setting,
                format!("{bad:?}: write each organisation ID as tokens carry it, without spaces"),
            );
        }
        let unprefixed = prefix.and_then(|p| ids.iter().find(|id| !id.starts_with(p)).zip(Some(p)));
        if let Some((bad, prefix)) = unprefixed {
            return self.invalid(
                setting,
                format!(
                    "{bad:?} is not an organisation ID: this provider's start with {prefix} (a \
                     name or slug can change; give the ID)"
                ),
            );
        }
        match &mut self.mapping.accepted_organizations {
            OrgAcceptance::Only(list) => list.extend(ids),
            OrgAcceptance::Unset => self.mapping.accepted_organizations = OrgAcceptance::Only(ids),
            OrgAcceptance::Any => return self.invalid(setting, BOTH_ACCEPTANCES),
        }
        self
    }

    /// Accepts tokens of any organisation, said explicitly: for [`Provider::auth0`], where a
    /// token carrying `org_id` is refused until the API says which organisations it accepts (see
    /// [`Provider::accept_organizations`]). Choose it when every organisation of the tenant may
    /// call the API and each request's organisation is checked where it matters: guards bound to
    /// the organisation a request addresses (`#[require_org_role("admin", org = "org")]`), or the
    /// handler comparing [`Organization::id`](crate::Organization::id) with the resource's owner.
    /// Auth0 asks APIs to "segment access to data and resources based on the `org_id`".
    pub fn accept_any_organization(mut self) -> Provider {
        let setting = "accept_any_organization";
        if self.mapping.organization.is_none() {
            return self.invalid(
                setting,
                "this provider's tokens name no organisation this crate reads; remove the setting",
            );
        }
        match self.mapping.accepted_organizations {
            OrgAcceptance::Only(_) => self.invalid(setting, BOTH_ACCEPTANCES),
            _ => {
                self.mapping.accepted_organizations = OrgAcceptance::Any;
                self
            }
        }
    }

    /// Accepts opaque tokens (any token that is not a three-segment JWS) by asking the issuer about
    /// them (RFC 7662 introspection); JWTs are still verified here unless
    /// [`Introspection::all_tokens`] says otherwise. The endpoint comes from discovery's
    /// `introspection_endpoint` unless [`Introspection::endpoint`] names it. With several
    /// providers, an opaque token is sent to one of them only, by
    /// [`Introspection::token_prefix`].
    pub fn introspection(mut self, introspection: Introspection) -> Provider {
        self.introspection = Some(introspection);
        self
    }

    /// Introspects opaque tokens with a Zitadel API application's JSON key file: its path, or its
    /// contents (`{"type": "application", "keyId", "key", "clientId", ...}`). That is how an API
    /// configured with authentication method "JWT (Private Key JWT)" signs in to introspect
    /// Zitadel's default opaque access tokens.
    pub fn zitadel_key_file(mut self, path_or_contents: &str) -> Provider {
        match introspection::zitadel_key_file(path_or_contents) {
            Ok(introspection) => self.introspection(introspection),
            Err(err) => {
                self.errors.push(err);
                self
            }
        }
    }

    /// Accepts only DPoP-bound tokens presented with a proof (RFC 9449): bearer tokens from this
    /// provider are refused. Without it, a bound token still needs its proof, and unbound tokens
    /// work as bearer tokens.
    pub fn require_dpop(mut self) -> Provider {
        self.dpop_required = true;
        self.issues_dpop = true;
        self
    }

    /// Whether this provider can issue DPoP-bound tokens (RFC 9449): when no configured provider
    /// can, refusals offer only the `Bearer` challenge. Each preset sets it from its provider's
    /// documentation.
    pub(crate) fn issues_dpop(mut self, issues: bool) -> Provider {
        self.issues_dpop = issues;
        self
    }

    /// The provider's own discovery document, whose `issuer` is checked against the configured
    /// one once at startup: for presets that fetch keys from a JWKS URL and would otherwise learn
    /// of a wrong domain only from refused tokens.
    pub(crate) fn issuer_document(mut self, url: String) -> Provider {
        self.issuer_document = Some(url);
        self
    }

    /// RFC 9068 strict mode: only JWT access tokens, which declare themselves with the header `typ`
    /// `at+jwt` (or `application/at+jwt`) and carry `iss`, `exp`, `aud`, `sub`, `client_id`, `iat`
    /// and `jti`. ID tokens, whose `aud` can name this API when front end and API share a client,
    /// are refused. For issuers that type their access tokens: node `oidc-provider`, Auth0's RFC
    /// 9068 profile, Keycloak with the option on, Curity.
    pub fn rfc9068(mut self) -> Provider {
        self.kind.access_token_typ = true;
        ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"]
            .into_iter()
            .fold(self, Provider::require_claim)
    }

    /// Marks a provider whose issuer cannot introspect: `.introspection(..)` is refused with `why`,
    /// and an opaque token's refusal says `opaque_token_hint` (how to get a JWT instead).
    pub(crate) fn without_introspection(
        mut self,
        why: &'static str,
        opaque_token_hint: &'static str,
    ) -> Provider {
        self.no_introspection = Some(why);
        self.opaque_token_hint = Some(opaque_token_hint);
        self
    }

    pub(crate) fn forbid_claims(mut self, claims: &[&'static str]) -> Provider {
        self.kind.forbidden_claims.extend_from_slice(claims);
        self
    }

    pub(crate) fn access_token_claims(mut self, claims: &[&'static str]) -> Provider {
        self.kind.access_token_claims.extend_from_slice(claims);
        self
    }

    pub(crate) fn refuse_claim_value(
        mut self,
        claim: &'static str,
        value: &'static str,
    ) -> Provider {
        self.kind.refused_values.push((claim, value));
        self
    }

    /// The kind of a token the service marker does not mark (set after [`Provider::service_marker`],
    /// which resets it to a person's).
    pub(crate) fn unmarked_kind(mut self, kind: IdentityKind) -> Provider {
        self.mapping.unmarked = kind;
        self
    }

    pub(crate) fn organizations(mut self, mapping: OrgMapping) -> Provider {
        self.mapping.organization = Some(mapping);
        self
    }

    pub(crate) fn bound_type(mut self, claim: &'static str, value: &'static str) -> Provider {
        self.kind.bound_type = Some((claim, value));
        self
    }

    pub(crate) fn service_needs_roles(mut self) -> Provider {
        self.kind.service_needs_roles = true;
        self
    }

    pub(crate) fn sessions_or_templates(mut self) -> Provider {
        self.kind.session_or_templates = Some(Vec::new());
        self
    }

    pub(crate) fn subject_fallback(mut self, claim: &str) -> Provider {
        self.mapping.subject_fallback = Some(ClaimPath::claim(claim));
        self
    }

    /// Requires a claim to be present: any value but `null` and the empty string.
    pub fn require_claim(mut self, path: &str) -> Provider {
        if let Some(path) = self.path(path) {
            self.required.push(RequiredClaim {
                path,
                one_of: Vec::new(),
            });
        }
        self
    }

    /// Requires a claim to be a string equal to one of `values`.
    pub fn require_claim_value<I, S>(mut self, path: &str, values: I) -> Provider
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if let Some(path) = self.path(path) {
            let one_of: Vec<String> = values.into_iter().map(Into::into).collect();
            if one_of.is_empty() {
                self.errors.push(ConfigError::new(
                    format!("require_claim_value({path})"),
                    "no values given; use require_claim to accept any value",
                ));
            }
            self.required.push(RequiredClaim { path, one_of });
        }
        self
    }

    /// Where the web layer looks for the token (default: `Authorization`, then the WebSocket
    /// subprotocol). Header sources are tried first, in the order given, then cookies: a request
    /// that carries a token in a header is judged by it alone.
    pub fn token_sources(mut self, sources: impl IntoIterator<Item = TokenSource>) -> Provider {
        self.token_sources = sources.into_iter().collect();
        self
    }

    /// How keys are fetched, cached and refreshed.
    pub fn key_settings(mut self, settings: KeySettings) -> Provider {
        self.key_settings = settings;
        self
    }

    /// Sets where clients obtain tokens (for API documentation: OpenAPI security schemes).
    pub fn token_endpoints(mut self, endpoints: TokenEndpoints) -> Provider {
        self.endpoints = endpoints;
        self
    }

    /// Serves this provider's URLs from another origin, keeping their paths: for sovereign clouds
    /// (Entra at `https://login.microsoftonline.us`), a caching proxy in front of the identity
    /// provider, or a local test issuer standing in for a hosted one. The issuer the tokens must
    /// carry moves too.
    pub fn relocate(mut self, origin: &str) -> Provider {
        let origin = origin.trim_end_matches('/');
        let moved = |url: &str| match url.split_once("://") {
            Some((_, rest)) => format!(
                "{origin}{}",
                rest.find('/').map_or("", |slash| &rest[slash..])
            ),
            None => url.to_owned(),
        };
        self.issuer = match self.issuer {
            IssuerMatch::Exact(issuers) => IssuerMatch::Exact(
                issuers
                    .iter()
                    .filter(|i| i.contains("://"))
                    .map(|i| moved(i))
                    .collect(),
            ),
            IssuerMatch::Tenants {
                prefix,
                suffix,
                tenants,
                tenant_claim,
            } => IssuerMatch::Tenants {
                prefix: moved(&prefix),
                suffix,
                tenants,
                tenant_claim,
            },
        };
        self.keys = match self.keys {
            KeySource::Discovery(url) => KeySource::Discovery(moved(&url)),
            KeySource::Jwks(url) => KeySource::Jwks(moved(&url)),
        };
        self.issuer_document = self.issuer_document.as_deref().map(moved);
        self.endpoints = self.endpoints.map_urls(moved);
        self
    }

    pub(crate) fn past_date(mut self, claim: &'static str) -> Provider {
        self.past_dates.push(claim);
        self
    }

    pub(crate) fn tenant_claim(mut self, claim: &'static str) -> Provider {
        if let IssuerMatch::Tenants { tenant_claim, .. } = &mut self.issuer {
            *tenant_claim = Some(claim);
        }
        self
    }

    pub(crate) fn invalid(mut self, setting: &str, problem: impl Into<String>) -> Provider {
        self.errors.push(ConfigError::new(
            format!("{}: {setting}", self.name),
            problem,
        ));
        self
    }

    fn path(&mut self, path: &str) -> Option<ClaimPath> {
        ClaimPath::parse(path)
            .map_err(|err| self.errors.push(err))
            .ok()
    }

    fn name_claims<I, S>(&mut self, paths: I, separator: Separator) -> Vec<NameClaim>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        paths
            .into_iter()
            .filter_map(|path| self.path(path.as_ref()))
            .map(|path| NameClaim::new(path, separator))
            .collect()
    }

    /// Checks every setting; on success, the claim rules the verifier applies.
    pub(crate) fn validate(&self) -> Result<ClaimChecks, ConfigError> {
        if let Some(err) = self.errors.first() {
            return Err(err.clone());
        }
        let issuer_setting = format!("{}: issuer", self.name);
        match &self.issuer {
            IssuerMatch::Exact(issuers) => {
                if issuers.is_empty() {
                    return Err(ConfigError::new(issuer_setting, "no issuer given"));
                }
                for issuer in issuers {
                    // Google's bare `accounts.google.com` is matched, never fetched.
                    if issuer.contains("://") {
                        issuer_url::checked(&issuer_setting, issuer)?;
                    }
                }
            }
            IssuerMatch::Tenants {
                prefix,
                tenants,
                tenant_claim,
                ..
            } => {
                issuer_url::checked(&issuer_setting, prefix)?;
                if tenants.is_empty() || tenants.iter().any(String::is_empty) {
                    return Err(ConfigError::new(
                        format!("{}: tenants", self.name),
                        "a multi-tenant issuer needs the list of tenant IDs it accepts, none empty",
                    ));
                }
                // The tenant claim names the organisation and must match `iss`, so a trusted
                // tenant outside the list never reaches a handler: its tokens are an unknown
                // issuer's.
                let org_is_tenant = matches!(
                    (&self.mapping.organization, tenant_claim),
                    (Some(OrgMapping::Tenant { claim }), Some(tenant))
                        if *claim == ClaimPath::claim(tenant)
                );
                if let Some(unlisted) = self
                    .mapping
                    .trusted_organizations
                    .iter()
                    .find(|trusted| org_is_tenant && !tenants.contains(trusted))
                {
                    return Err(ConfigError::new(
                        format!("{}: trusted_organizations", self.name),
                        format!(
                            "tenant {unlisted:?} is trusted but not among the accepted tenants, \
                             so its tokens are refused as an unknown issuer and its roles never \
                             count: add it to `tenants` too, or remove it from \
                             trusted_organizations"
                        ),
                    ));
                }
            }
        }
        issuer_url::checked(&format!("{}: keys URL", self.name), self.keys.url())?;
        if let Some(document) = &self.issuer_document {
            issuer_url::checked(&format!("{}: discovery URL", self.name), document)?;
        }
        if self.leeway > MAX_LEEWAY {
            return Err(ConfigError::new(
                format!("{}: leeway", self.name),
                format!(
                    "{} s is above the {} s limit: clocks drift by seconds, and more leeway only \
                     keeps expired tokens working; use the default 30 s",
                    self.leeway.as_secs(),
                    MAX_LEEWAY.as_secs()
                ),
            ));
        }
        if self.algorithms == AlgorithmPolicy::Only(AlgorithmSet::EMPTY) {
            return Err(ConfigError::new(
                format!("{}: algorithms", self.name),
                "no algorithms allowed; list at least one, e.g. .algorithms([Algorithm::RS256])",
            ));
        }
        let audience = match &self.audience {
            None => {
                return Err(ConfigError::new(
                    format!("{}: audience", self.name),
                    "no audience configured; call .audience(\"<your API identifier>\"), or \
                     .skip_audience_check() if this issuer's tokens carry no aud and are checked \
                     another way",
                ));
            }
            Some(AudienceRule::Aud(list)) | Some(AudienceRule::Claim(_, list))
                if list.is_empty() || list.iter().any(|a| a.trim().is_empty()) =>
            {
                return Err(ConfigError::new(
                    format!("{}: audience", self.name),
                    "empty audience; give the identifier your tokens carry in aud (e.g. the API's \
                     client ID)",
                ));
            }
            Some(rule) => rule.clone(),
        };
        // RFC 8707 §2: a resource's tokens name it in `aud`; a later call that stopped checking
        // `aud` would accept tokens for any resource.
        if !self.resources.is_empty() && !matches!(audience, AudienceRule::Aud(_)) {
            return Err(ConfigError::new(
                format!("{}: resource", self.name),
                "a resource binds tokens through aud, which this provider no longer checks \
                 (audience_claim or skip_audience_check was called after resource): remove that \
                 call, or leave the resource out",
            ));
        }
        if self.token_sources.is_empty() {
            return Err(ConfigError::new(
                format!("{}: token_sources", self.name),
                "no token sources; add TokenSource::Bearer or a header/cookie source",
            ));
        }
        for source in &self.token_sources {
            if let TokenSource::Header(name) | TokenSource::Cookie(name) = source
                && (name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()))
            {
                return Err(ConfigError::new(
                    format!("{}: token_sources", self.name),
                    format!("{name:?} is not a valid header or cookie name"),
                ));
            }
        }
        self.key_settings.validate(&self.name)?;
        if let Some(introspection) = &self.introspection {
            if let Some(why) = self.no_introspection {
                return Err(ConfigError::new(
                    format!("{}: introspection", self.name),
                    why,
                ));
            }
            introspection.validate(&self.name)?;
            if introspection.endpoint.is_none() && matches!(self.keys, KeySource::Jwks(_)) {
                return Err(ConfigError::new(
                    format!("{}: introspection", self.name),
                    "this provider reads no discovery document, which would name the introspection \
                     endpoint: give it with Introspection::endpoint(..)",
                ));
            }
        }
        Ok(ClaimChecks {
            issuer: self.issuer.clone(),
            recipient: Recipient {
                audience,
                authorized_parties: self.authorized_parties.clone(),
                missing_azp_from_headers: self.missing_azp_from_headers,
                required: self.required.clone(),
            },
            leeway: self.leeway,
            past_dates: self.past_dates.clone(),
            kind: self.kind.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oidc_needs_an_audience_decision() {
        let err = Provider::oidc("https://issuer.example.com")
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("audience"), "{err}");
        assert!(
            Provider::oidc("https://issuer.example.com")
                .audience("api")
                .validate()
                .is_ok()
        );
        assert!(
            Provider::oidc("https://issuer.example.com")
                .skip_audience_check()
                .validate()
                .is_ok()
        );
        let empty = Provider::oidc("https://issuer.example.com")
            .audience(" ")
            .validate()
            .unwrap_err();
        assert!(empty.problem.contains("empty audience"));
    }

    #[test]
    fn a_resource_is_the_audience_and_presets_say_how_they_name_it() {
        let oidc = Provider::oidc("https://i.example.com").resource("https://API.example.com/mcp/");
        assert_eq!(oidc.resources(), ["https://api.example.com/mcp"]);
        assert_eq!(
            oidc.validate().unwrap().recipient.audience,
            AudienceRule::Aud(vec!["https://api.example.com/mcp".into()])
        );
        // Entra v2 keeps the application's client ID beside the URL; v1 refuses.
        let entra = Provider::entra("72f988bf-86f1-41af-91ab-2d7cd011db47", "app-id")
            .resource("https://api.example.com/mcp");
        assert_eq!(
            entra.validate().unwrap().recipient.audience,
            AudienceRule::Aud(vec![
                "app-id".into(),
                "api://app-id".into(),
                "https://api.example.com/mcp".into()
            ])
        );
        let v1 = Provider::entra_v1("72f988bf-86f1-41af-91ab-2d7cd011db47", "app-id")
            .resource("https://api.example.com/mcp");
        assert!(v1.validate().unwrap_err().setting.ends_with(": resource"));
        for refused in [
            Provider::cognito("eu-west-1", "eu-west-1_abc", "client"),
            Provider::okta("https://x.okta.com/oauth2/default", "api://default"),
            Provider::clerk("https://clerk.example.com", ["https://app.example.com"]),
        ] {
            let err = refused
                .resource("https://api.example.com/mcp")
                .validate()
                .unwrap_err();
            assert!(err.setting.ends_with(": resource"), "{err}");
        }
        // Turning the aud check off after naming a resource would accept any resource's tokens.
        let skipped = Provider::oidc("https://i.example.com")
            .resource("https://api.example.com/mcp")
            .skip_audience_check();
        let err = skipped.validate().unwrap_err();
        assert_eq!(err.setting, "Provider::oidc(issuer): resource");
        let bad = Provider::oidc("https://i.example.com").resource("http://api.example.com/mcp");
        assert_eq!(
            bad.validate().unwrap_err().setting,
            "Provider::oidc(issuer): resource"
        );
    }

    #[test]
    fn settings_errors_name_the_setting() {
        let err = Provider::oidc("http://issuer.example.com")
            .audience("a")
            .validate()
            .unwrap_err();
        assert!(
            err.setting.contains("issuer") && err.problem.contains("https://"),
            "{err}"
        );
        let err = Provider::oidc("https://i.example.com")
            .audience("a")
            .algorithms([])
            .validate()
            .unwrap_err();
        assert!(err.setting.contains("algorithms"), "{err}");
        let err = Provider::oidc("https://i.example.com")
            .audience("a")
            .roles_claim("a..b")
            .validate()
            .unwrap_err();
        assert!(err.setting.contains("a..b"), "{err}");
        // Auth0's namespaced roles claim, unquoted: refused, showing the quoted form.
        for unquoted in [
            Provider::oidc("https://i.example.com").roles_claim("https://example.com/roles"),
            Provider::oidc("https://i.example.com").scopes_claim("https://example.com/perms"),
        ] {
            let err = unquoted.audience("a").validate().unwrap_err();
            assert!(
                err.setting.starts_with("claim path \"https://example.com/")
                    && err.problem.contains(r#""\"https://example.com/"#),
                "{err}"
            );
        }
        let err = Provider::oidc("https://i.example.com")
            .audience("a")
            .token_sources([TokenSource::header("bad header")])
            .validate()
            .unwrap_err();
        assert!(err.setting.contains("token_sources"), "{err}");
        let ten_years = Duration::from_secs(315_360_000);
        let err = Provider::oidc("https://i.example.com")
            .audience("a")
            .leeway(ten_years)
            .validate()
            .unwrap_err();
        assert!(
            err.setting.ends_with("leeway") && err.problem.contains("300 s"),
            "{err}"
        );
        assert!(
            Provider::oidc("https://i.example.com")
                .audience("a")
                .leeway(MAX_LEEWAY)
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn tenant_templates_hold_tokens_to_the_issuer_their_key_names() {
        let m = IssuerMatch::Tenants {
            prefix: "https://login.microsoftonline.com/".into(),
            suffix: "/v2.0".into(),
            tenants: vec!["t1".into()],
            tenant_claim: None,
        };
        let iss = "https://login.microsoftonline.com/t1/v2.0";
        assert!(m.key_signs_for("https://login.microsoftonline.com/{tenantid}/v2.0", iss));
        assert!(m.key_signs_for(iss, iss));
        assert!(!m.key_signs_for("https://login.microsoftonline.com/t2/v2.0", iss));
        assert!(!m.key_signs_for("https://login.microsoftonline.us/{tenantid}/v2.0", iss));
        assert!(!m.key_signs_for("https://login.microsoftonline.com/{tenantid}/v2.0/x", iss));
        assert!(!m.key_signs_for("https://login.microsoftonline.com/{tenantid}", iss));
        assert!(!m.key_signs_for("", iss));
        let exact = IssuerMatch::Exact(vec![iss.into()]);
        assert!(exact.key_signs_for("https://elsewhere.example.com", iss));
    }

    #[test]
    fn tenant_template_matches_listed_tenants_only() {
        let m = IssuerMatch::Tenants {
            prefix: "https://login.microsoftonline.com/".into(),
            suffix: "/v2.0".into(),
            tenants: vec!["t1".into()],
            tenant_claim: None,
        };
        assert!(m.matches("https://login.microsoftonline.com/t1/v2.0"));
        assert!(!m.matches("https://login.microsoftonline.com/t2/v2.0"));
        assert!(!m.matches("https://login.microsoftonline.com/t1/v2.0/x"));
        assert_eq!(
            m.discovery_issuer(),
            "https://login.microsoftonline.com/{tenantid}/v2.0"
        );
    }
}
