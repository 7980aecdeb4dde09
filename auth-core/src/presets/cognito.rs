use crate::checks::issuer::IssuerMatch;
use crate::identity::service_marker::ServiceMarker;
use crate::keys::algorithm::Algorithm;
use crate::keys::source::KeySource;
use crate::provider::Provider;
use crate::provider::endpoints::TokenEndpoints;
use crate::provider::resource::ResourceBinding;
use crate::token::claim_path::ClaimPath;

impl Provider {
    /// Amazon Cognito user pool **access** tokens.
    ///
    /// - `region`: e.g. `eu-west-1`; `user_pool_id`: e.g. `eu-west-1_AbCdEf123` (its prefix must be
    ///   the region); `client_id`: the app client ID.
    ///
    /// The issuer is `https://cognito-idp.<region>.amazonaws.com/<user_pool_id>`, keys at
    /// `<issuer>/.well-known/jwks.json`. Access tokens carry no `aud`: their `client_id` must be
    /// the app client, and `token_use` must be `access` (an ID token is refused). Roles from
    /// `cognito:groups`, scopes from `scope`. RS256, the one algorithm user pools sign with. For
    /// ID tokens use [`Provider::cognito_id_tokens`]. Cognito issues no DPoP-bound tokens.
    ///
    /// **Machines (unverified).** AWS documents how to obtain machine-to-machine tokens (the
    /// client credentials grant, `GetClientToken`) and that their custom scopes are in `scope`,
    /// but shows no example payload. As observed, they carry `token_use: access` and `client_id`
    /// like a user's, no `username`, and `sub` equal to `client_id`. A token is
    /// [`IdentityKind::Service`](crate::IdentityKind) only when both hold (no `username` and `sub`
    /// = `client_id`); any other token is a person's, so a token of a shape AWS never described
    /// does not reach `#[require_service]` routes. A person's `sub` is a UUID, never an app client
    /// ID.
    ///
    /// **DPoP.** Cognito documents no DPoP-bound tokens (its access token carries no `cnf`), so
    /// refusals offer only the `Bearer` challenge:
    /// <https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html>.
    /// At startup the issuer the pool's discovery document
    /// (`<issuer>/.well-known/openid-configuration`) names must be the configured one.
    ///
    /// Docs:
    /// <https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html>,
    /// <https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html>,
    /// <https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_GetClientToken.html>.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{Provider, StandardClaims, Verifier};
    /// # use auth_core::testing::TestIssuer;
    ///
    /// let provider = Provider::cognito("eu-west-1", "eu-west-1_AbCdEf123", "app-client-id");
    /// # let issuer = TestIssuer::start().await;
    /// # let provider = issuer.adopt(provider); // served by a loopback issuer for this example
    /// # let token = issuer.token_for(&provider).roles(["admin"]).sign();
    /// let verifier = Verifier::new(provider)?;
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// assert!(claims.identity().has_role("admin"), "cognito:groups");
    /// assert_eq!(claims.extra["token_use"], "access");
    /// # Ok(()) }
    /// ```
    pub fn cognito(region: &str, user_pool_id: &str, client_id: &str) -> Provider {
        cognito_shape(
            "Provider::cognito(region, user_pool_id, client_id)",
            region,
            user_pool_id,
        )
        .audience_claim("client_id", [client_id.trim()])
        .require_claim_value("token_use", ["access"])
        // Observed, not documented by AWS: machine-to-machine tokens name no user, and their
        // subject is the app client.
        .service_marker(ServiceMarker::All(vec![
            ServiceMarker::ClaimAbsent(ClaimPath::claim("username")),
            ServiceMarker::ClaimsEqual(ClaimPath::claim("sub"), ClaimPath::claim("client_id")),
        ]))
        .check_client_id(client_id)
    }

    /// Amazon Cognito user pool **ID** tokens: `aud` is the app client ID and `token_use` must be
    /// `id`. Otherwise as [`Provider::cognito`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{Provider, StandardClaims, Verifier};
    /// # use auth_core::testing::TestIssuer;
    ///
    /// let pool = "eu-west-1_AbCdEf123";
    /// let provider = Provider::cognito_id_tokens("eu-west-1", pool, "app-client-id");
    /// # let issuer = TestIssuer::start().await;
    /// # let provider = issuer.adopt(provider); // served by a loopback issuer for this example
    /// # let token = issuer.token_for(&provider).email("ada@example.com").sign();
    /// let verifier = Verifier::new(provider)?;
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// assert!(claims.aud.contains("app-client-id"));
    /// # Ok(()) }
    /// ```
    pub fn cognito_id_tokens(region: &str, user_pool_id: &str, client_id: &str) -> Provider {
        cognito_shape(
            "Provider::cognito_id_tokens(region, user_pool_id, client_id)",
            region,
            user_pool_id,
        )
        .audience(client_id.trim())
        .require_claim_value("token_use", ["id"])
        .check_client_id(client_id)
    }

    fn check_client_id(self, client_id: &str) -> Provider {
        if super::is_path_segment(client_id.trim()) {
            self
        } else {
            self.invalid(
                "client_id",
                "give the app client ID from the user pool's App clients page",
            )
        }
    }
}

fn cognito_shape(name: &str, region: &str, user_pool_id: &str) -> Provider {
    let region = region.trim();
    let pool = user_pool_id.trim();
    let issuer = format!("https://cognito-idp.{region}.amazonaws.com/{pool}");
    let jwks = format!("{issuer}/.well-known/jwks.json");
    // The hosted UI's authorize and token URLs live on the pool's own domain, which the pool ID
    // does not name; discovery at the issuer lists them.
    let discovery = format!("{issuer}/.well-known/openid-configuration");
    let endpoints = TokenEndpoints {
        openid_connect_url: Some(discovery.clone()),
        ..TokenEndpoints::default()
    };
    let provider = Provider::custom(
        name,
        IssuerMatch::Exact(vec![issuer]),
        KeySource::Jwks(jwks),
    )
    .resource_binding(ResourceBinding::Refused(
        "Cognito access tokens name their app client in client_id and carry no aud: a \
            resource URL cannot be checked in them; protect an MCP server with an authorization \
            server that honours RFC 8707 (Provider::oidc(issuer).resource(url))",
    ))
    .issues_dpop(false)
    .issuer_document(discovery)
    .token_endpoints(endpoints)
    .algorithms([Algorithm::RS256])
    .roles_claims(["cognito:groups"])
    .scopes_claims(["scope"]);
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !region_ok {
        return provider.invalid(
            "region",
            format!("{region:?} is not an AWS region such as eu-west-1"),
        );
    }
    match pool.split_once('_') {
        Some((prefix, id)) if prefix == region && super::is_path_segment(id) => provider,
        Some((prefix, _)) if super::is_path_segment(prefix) => provider.invalid(
            "user_pool_id",
            format!(
                "{pool:?} belongs to region {prefix:?}, not {region:?}: the pool ID starts with \
                 its region"
            ),
        ),
        _ => provider.invalid(
            "user_pool_id",
            format!("{pool:?} is not a user pool ID such as {region}_AbCdEf123"),
        ),
    }
}
