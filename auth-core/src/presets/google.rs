use crate::algorithm::Algorithm;
use crate::provider::{IssuerMatch, KeySource, Provider};

const GOOGLE_CERTS: &str = "https://www.googleapis.com/oauth2/v3/certs";
const FIREBASE_CERTS: &str =
    "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com";

impl Provider {
    /// Firebase Authentication ID tokens.
    ///
    /// `project_id` is the Firebase project ID: it is the `aud`, and the issuer is
    /// `https://securetoken.google.com/<project_id>`. Keys from Google's `securetoken` service
    /// account. `sub` (the user's uid) must be non-empty and `auth_time` must lie in the past.
    /// Custom claims set with the Admin SDK sit at the top level: roles are read from `roles`.
    /// Session cookies (`createSessionCookie`) have another issuer and keys and are not accepted
    /// here.
    ///
    /// **DPoP.** Firebase ID tokens are bearer tokens (no `cnf` among their documented claims), so
    /// refusals offer only the `Bearer` challenge.
    ///
    /// Docs:
    /// <https://firebase.google.com/docs/auth/admin/verify-id-tokens#verify_id_tokens_using_a_third-party_jwt_library>
    /// (the JWK form of the keys listed there as X.509 certificates).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{Provider, StandardClaims, Verifier};
    /// # use auth_core::testing::TestIssuer;
    ///
    /// let provider = Provider::firebase("my-project");
    /// # let issuer = TestIssuer::start().await;
    /// # let provider = issuer.adopt(provider); // served by a loopback issuer for this example
    /// # let token = issuer.token_for(&provider).subject("uid-1").roles(["admin"]).sign();
    /// let verifier = Verifier::new(provider)?;
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// assert_eq!(claims.sub, "uid-1");
    /// assert!(claims.identity().has_role("admin"), "a custom claim set with the Admin SDK");
    /// # Ok(()) }
    /// ```
    pub fn firebase(project_id: &str) -> Provider {
        let project_id = project_id.trim();
        let issuer = format!("https://securetoken.google.com/{project_id}");
        let provider = Provider::custom(
            "Provider::firebase(project_id)",
            IssuerMatch::Exact(vec![issuer]),
            KeySource::Jwks(FIREBASE_CERTS.to_owned()),
        )
        .issues_dpop(false)
        .algorithms([Algorithm::RS256])
        .audience(project_id)
        .require_claim("sub")
        .require_claim("auth_time")
        .past_date("auth_time")
        .roles_claims(["roles"])
        .scopes_claims(Vec::<String>::new());
        if !super::is_path_segment(project_id) {
            return provider.invalid(
                "project_id",
                format!("{project_id:?} is not a Firebase project ID"),
            );
        }
        provider
    }

    /// Google Sign-In ID tokens for your OAuth client.
    ///
    /// `client_id` is the OAuth 2.0 client ID (`….apps.googleusercontent.com`), the token's
    /// `aud`.
    /// Both issuer spellings Google uses, `https://accounts.google.com` and `accounts.google.com`,
    /// are accepted. Keys from `https://www.googleapis.com/oauth2/v3/certs`. Check `email_verified`
    /// (and `hd` for a Workspace domain) through `Claims<T>` before trusting `email`, and key users
    /// by `sub`. Google access tokens are opaque; only ID tokens are JWTs.
    ///
    /// **DPoP.** Google ID tokens are bearer tokens (no `cnf` among their documented claims), so
    /// refusals offer only the `Bearer` challenge:
    /// <https://developers.google.com/identity/openid-connect/openid-connect>.
    ///
    /// Docs: <https://developers.google.com/identity/gsi/web/guides/verify-google-id-token>,
    /// <https://developers.google.com/identity/sign-in/web/backend-auth>.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use auth_core::{Provider, StandardClaims, Verifier};
    /// # use auth_core::testing::TestIssuer;
    ///
    /// let provider = Provider::google("1234.apps.googleusercontent.com");
    /// # let issuer = TestIssuer::start().await;
    /// # let provider = issuer.adopt(provider); // served by a loopback issuer for this example
    /// # let token = issuer.token_for(&provider).email("ada@gmail.com").sign();
    /// let verifier = Verifier::new(provider)?;
    /// let claims = verifier.verify::<StandardClaims>(&token).await?;
    /// assert_eq!(claims.identity().email.as_deref(), Some("ada@gmail.com"));
    /// # Ok(()) }
    /// ```
    pub fn google(client_id: &str) -> Provider {
        Provider::custom(
            "Provider::google(client_id)",
            IssuerMatch::Exact(vec![
                "https://accounts.google.com".to_owned(),
                "accounts.google.com".to_owned(),
            ]),
            KeySource::Jwks(GOOGLE_CERTS.to_owned()),
        )
        .issues_dpop(false)
        .algorithms([Algorithm::RS256])
        .audience(client_id.trim())
        .roles_claims(Vec::<String>::new())
        .scopes_claims(Vec::<String>::new())
    }
}
