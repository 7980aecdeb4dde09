use crate::checks::issuer::IssuerMatch;
use crate::identity::organization::OrgMapping;
use crate::identity::service_marker::ServiceMarker;
use crate::keys::algorithm::Algorithm;
use crate::keys::source::KeySource;
use crate::provider::Provider;
use crate::provider::endpoints::TokenEndpoints;
use crate::provider::resource::ResourceBinding;
use crate::token::claim_path::ClaimPath;

impl Provider {
    /// Keycloak.
    ///
    /// - `base_url`: the server, e.g. `https://sso.example.com` (servers before 17 need the `/auth`
    ///   context: `https://sso.example.com/auth`). The issuer is `<base_url>/realms/<realm>`; keys
    ///   through discovery (`<issuer>/protocol/openid-connect/certs`).
    /// - `client_id`: the API's client. Keycloak fills `aud` from the clients the user holds roles
    ///   on (often just `account`), never from the requesting client (that is `azp`): add an
    ///   **Audience** mapper (Client scopes > dedicated scope > Add mapper > Audience) naming this
    ///   client.
    ///
    /// Roles from `realm_access.roles` and `resource_access.<client_id>.roles`; scopes from
    /// `scope`. Algorithms: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 and EdDSA, what a
    /// realm's keys may sign with (ES512, which Keycloak also offers, is not verified by this
    /// crate; the HMAC algorithms are never accepted). The key still decides: each verifies only
    /// its own algorithm.
    ///
    /// **Which tokens.** Keycloak names the kind in the payload: `typ` is `Bearer` for access
    /// tokens (`DPoP` for DPoP-bound ones), `ID` for ID tokens, `Refresh` or `Offline` for refresh
    /// tokens and `Logout` for logout tokens; only access tokens are accepted. A token whose `typ`
    /// is `DPoP` must name its key (`cnf.jkt`) and is accepted only with a DPoP proof by it
    /// (Keycloak issues DPoP-bound tokens since 23 as a preview, supported since 26.4). Service
    /// accounts (a client's client credentials) are [`IdentityKind::Service`](crate::IdentityKind):
    /// `preferred_username` is `service-account-<client>` and the token names its client in
    /// `client_id` (`clientId` before Keycloak 21.1, and after it where an old mapper stays).
    ///
    /// **Lightweight access tokens** (a client's *Always use lightweight access token*, Keycloak
    /// 24 on) are signed JWTs like the others, verified here as they are, but carry only the
    /// claims whose mappers have *Add to lightweight access token* on: no roles, and since
    /// Keycloak 25 no `sub` either (the `basic` scope's mappers add it). Verified locally, such a
    /// token has no roles (role guards refuse it) and an empty
    /// [`Identity::subject`](crate::Identity::subject). To recover the claims, introspect it too:
    /// `.introspection(Introspection::client_secret_basic(..).all_tokens())` asks Keycloak about
    /// every JWT, and its answer carries the claims whose mappers have *Add to token
    /// introspection* on, the roles and `sub` the token leaves out among them (what the answer adds
    /// completes the token, never contradicts it). Or turn on the mappers' lightweight option for
    /// the claims the API needs.
    ///
    /// **Organizations** (Keycloak 26). With the `organization` client scope, tokens carry an
    /// `organization` claim: a list of aliases (`["acme"]`) by default, or an object keyed by
    /// alias (`{"acme": {"id": "42c3e46f-…"}}`) with the mapper's *Add organization id* on. When
    /// it names exactly one organisation, that is
    /// [`Identity::organization`](crate::Identity::organization): its `id` is the organisation's
    /// `id` where the token carries it, else its alias (so a route's `{org}` parameter holds the
    /// same form), its `name` the alias. Keycloak's organisations grant no roles in tokens, so
    /// guard with `#[require_org_member(org = "org")]`. A token naming several (the scope
    /// `organization:*`, or a user of several organisations given all of them) does not say which
    /// one the caller acts in, and yields none: have the client request `organization` (the user
    /// picks one) or `organization:<alias>`. An `id` that is not a string (an organisation
    /// attribute named `id` overwrites it with a list,
    /// <https://github.com/keycloak/keycloak/issues/44522>) yields none too. The list form is the
    /// mapper's default since <https://github.com/keycloak/keycloak/pull/32350>. With
    /// [`Provider::accept_organizations`], a token naming no organisation, several, or an
    /// unreadable one is refused (401 `INVALID_TOKEN`): the client chooses whether the token names
    /// one, so a member of another organisation would pass by leaving it out.
    ///
    /// **Protected resource** ([`Provider::resource`], RFC 8707). Keycloak puts in `aud` what
    /// its audience mappers add: a client ID (`Included Client Audience`), or any string such as
    /// the resource URL (`Included Custom Audience`), per
    /// <https://www.keycloak.org/docs/latest/server_admin/#_audience>. With `.resource(url)` both
    /// are accepted: `client_id` and the canonical URL. Add a custom-audience mapper with the
    /// exact URL for clients (MCP) that ask for the resource by its URL.
    ///
    /// **DPoP.** Keycloak binds tokens with DPoP (supported since 26.4, a preview since 23), so
    /// refusals offer the `DPoP` challenge beside `Bearer`:
    /// <https://www.keycloak.org/docs/latest/server_admin/#_dpop-bound-tokens>,
    /// <https://www.keycloak.org/2025/10/dpop-support-26-4>.
    ///
    /// Docs: <https://www.keycloak.org/docs/latest/server_admin/#_audience>,
    /// <https://www.keycloak.org/docs/latest/server_admin/#_mapping_organization_claims_>,
    /// <https://keycloak.org/securing-apps/oidc-layers>,
    /// <https://www.keycloak.org/docs/latest/upgrading/#default-client-id-mapper-of-service-account-client-has-been-changed>,
    /// lightweight access tokens
    /// <https://www.keycloak.org/docs/latest/release_notes/index.html#keycloak-24-0-0> and
    /// <https://www.keycloak.org/docs/latest/release_notes/index.html#keycloak-25-0-0>, DPoP
    /// <https://www.keycloak.org/docs/latest/server_admin/#_dpop-bound-tokens>, token types
    /// (`TokenUtil`) <https://github.com/keycloak/keycloak/blob/main/core/src/main/java/org/keycloak/util/TokenUtil.java>.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{Provider, StandardClaims, Verifier};
    /// # use auth_core::testing::TestIssuer;
    ///
    /// let provider = Provider::keycloak("https://sso.example.com", "demo", "orders-api");
    /// # let issuer = TestIssuer::start().await;
    /// # let provider = issuer.adopt(provider); // served by a loopback issuer for this example
    /// # let token = issuer.token_for(&provider).roles(["admin"]).sign();
    /// let verifier = Verifier::new(provider)?;
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// assert!(claims.identity().has_role("admin"));
    /// # Ok(()) }
    /// ```
    pub fn keycloak(base_url: &str, realm: &str, client_id: &str) -> Provider {
        let realm = realm.trim();
        let client_id = client_id.trim();
        let issuer = format!("{}/realms/{realm}", super::https_url(base_url));
        let discovery = format!("{issuer}/.well-known/openid-configuration");
        let endpoints = TokenEndpoints::oauth(
            discovery.clone(),
            format!("{issuer}/protocol/openid-connect/auth"),
            format!("{issuer}/protocol/openid-connect/token"),
        );
        let provider = Provider::custom(
            "Provider::keycloak(base_url, realm, client_id)",
            IssuerMatch::Exact(vec![issuer]),
            KeySource::Discovery(discovery),
        )
        .resource_binding(ResourceBinding::PresetAudience)
        .issues_dpop(true)
        .token_endpoints(endpoints)
        .algorithms([
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ])
        .audience(client_id)
        .roles_claims([
            "realm_access.roles".to_owned(),
            format!("resource_access.\"{client_id}\".roles"),
        ])
        .scopes_claims(["scope"])
        .organizations(OrgMapping::Keycloak)
        .require_claim_value("typ", ["Bearer", "DPoP"])
        .bound_type("typ", "DPoP")
        .service_marker(ServiceMarker::All(vec![
            ServiceMarker::ClaimStartsWith(
                ClaimPath::claim("preferred_username"),
                "service-account-".to_owned(),
            ),
            ServiceMarker::Any(vec![
                ServiceMarker::ClaimPresent(ClaimPath::claim("client_id")),
                ServiceMarker::ClaimPresent(ClaimPath::claim("clientId")),
            ]),
        ]));
        if !super::is_path_segment(realm) {
            return provider.invalid(
                "realm",
                format!(
                    "{realm:?} is not a realm name: give the realm as shown in the admin console"
                ),
            );
        }
        if client_id.is_empty() || client_id.contains('"') {
            return provider.invalid("client_id", "give the API's client ID from Clients");
        }
        provider
    }
}
