use crate::checks::issuer::IssuerMatch;
use crate::identity::service_marker::ServiceMarker;
use crate::keys::algorithm::Algorithm;
use crate::keys::source::KeySource;
use crate::provider::Provider;
use crate::provider::resource::ResourceBinding;
use crate::token::claim_path::ClaimPath;

const GOOGLE_CERTS: &str = "https://www.googleapis.com/oauth2/v3/certs";
const FIREBASE_CERTS: &str =
    "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com";

impl Provider {
    /// Firebase Authentication ID tokens.
    ///
    /// `project_id` is the Firebase project ID: it is the `aud`, and the issuer is
    /// `https://securetoken.google.com/<project_id>`, as Firebase's checklist for third-party JWT
    /// libraries says. RS256 only. `sub` (the user's uid) must be non-empty and `auth_time` must
    /// lie in the past. Custom claims set with the Admin SDK sit at the top level: roles are read
    /// from `roles`. Session cookies (`createSessionCookie`) have another issuer and keys and are
    /// not accepted here.
    ///
    /// **Keys.** Firebase documents its keys only as a map of X.509 certificates in PEM
    /// (`https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com`),
    /// which its Admin SDK reads too. This crate reads JSON Web Key sets, not certificate maps, so
    /// the preset reads the same keys from the JWK set Google serves for that service account,
    /// `https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com`:
    /// widely used, but not in Firebase's documentation. Should it ever stop answering, the keys
    /// fail to load (503 `AUTH_UNAVAILABLE`, readiness false), never a pass.
    ///
    /// **DPoP.** Firebase ID tokens are bearer tokens (no `cnf` among their documented claims), so
    /// refusals offer only the `Bearer` challenge.
    ///
    /// Docs:
    /// <https://firebase.google.com/docs/auth/admin/verify-id-tokens#verify_id_tokens_using_a_third-party_jwt_library>.
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
        .resource_binding(ResourceBinding::Refused(
            "Google and Firebase put a client or project ID in aud, never a resource URL: \
                keep the preset without .resource(..)",
        ))
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

    /// Google Sign-In ID tokens for your OAuth client; see [`Provider::google_clients`] for
    /// several clients (a web, an Android and an iOS app of one project).
    ///
    /// `client_id` is the OAuth 2.0 client ID (`….apps.googleusercontent.com`): the token's `aud`,
    /// and its `azp` (the client that asked for it). Both issuer spellings Google uses,
    /// `https://accounts.google.com` and `accounts.google.com`, are accepted. Keys from
    /// `https://www.googleapis.com/oauth2/v3/certs`. Check `email_verified` (and `hd` for a
    /// Workspace domain) through `Claims<T>` before trusting `email`, and key users by `sub`.
    /// Google access tokens are opaque; only ID tokens are JWTs.
    ///
    /// **`azp` is checked, which Google does not ask.** Google's validation steps check `aud`,
    /// and describe `azp` only as "the client_id of the authorized presenter", "only needed when
    /// the party requesting the ID token is not the same as the audience". But Google signs ID
    /// tokens with any audience for anyone: the IAM Credentials API's `generateIdToken` lets any
    /// service account of any project mint one whose `audience` the caller chooses, your client
    /// ID included. Such a token names the service account, not your client, in `azp`. So this
    /// preset refuses a token whose `azp` is absent or not one of your client IDs (401
    /// `INVALID_TOKEN`): stricter than Google's steps, and the reading that refuses where they
    /// are silent.
    ///
    /// **Machines.** A token whose `email` ends with `.gserviceaccount.com` and whose
    /// `email_verified` is `true` is a service account's,
    /// [`IdentityKind::Service`](crate::IdentityKind). `generateIdToken` adds `email` only with
    /// `includeEmail` (`gcloud auth print-identity-token --include-email`): without it a service
    /// account's token is told from a person's by nothing documented, so admit your own service
    /// accounts only by listing the `azp` their tokens carry, as you would a client.
    ///
    /// **DPoP.** Google ID tokens are bearer tokens (no `cnf` among their documented claims), so
    /// refusals offer only the `Bearer` challenge:
    /// <https://developers.google.com/identity/openid-connect/openid-connect>.
    ///
    /// Docs: <https://developers.google.com/identity/gsi/web/guides/verify-google-id-token>,
    /// <https://developers.google.com/identity/sign-in/web/backend-auth>,
    /// <https://developers.google.com/identity/openid-connect/openid-connect> (`azp`, `aud`),
    /// <https://developers.google.com/identity/protocols/CrossClientAuth>,
    /// <https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateIdToken>.
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
        google(
            "Provider::google(client_id)",
            vec![client_id.trim().to_owned()],
        )
    }

    /// Google Sign-In ID tokens for several OAuth clients of your project: `aud` and `azp` must
    /// each be one of `client_ids`. A web app and a mobile app that sign in on their own each get
    /// tokens for their own client; an Android app that asks for a token for your back end
    /// (`requestIdToken(<web client ID>)`, Google's cross-client sign-in) gets one whose `aud` is
    /// the web client and whose `azp` is the Android client: list both. Otherwise as
    /// [`Provider::google`].
    ///
    /// ```
    /// use auth_core::{Provider, Verifier};
    ///
    /// let web = "1234-web.apps.googleusercontent.com";
    /// let android = "1234-android.apps.googleusercontent.com";
    /// assert!(Verifier::new(Provider::google_clients([web, android])).is_ok());
    /// let none = Verifier::new(Provider::google_clients(Vec::<String>::new())).unwrap_err();
    /// assert!(none.problem.contains("client ID"));
    /// ```
    pub fn google_clients<I, S>(client_ids: I) -> Provider
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let clients = client_ids
            .into_iter()
            .map(|client| client.into().trim().to_owned())
            .collect();
        google("Provider::google_clients(client_ids)", clients)
    }
}

fn google(name: &str, clients: Vec<String>) -> Provider {
    let mut provider = Provider::custom(
        name,
        IssuerMatch::Exact(vec![
            "https://accounts.google.com".to_owned(),
            "accounts.google.com".to_owned(),
        ]),
        KeySource::Jwks(GOOGLE_CERTS.to_owned()),
    )
    .resource_binding(ResourceBinding::Refused(
        "Google and Firebase put a client or project ID in aud, never a resource URL: keep \
            the preset without .resource(..)",
    ))
    .issues_dpop(false)
    .algorithms([Algorithm::RS256])
    .roles_claims(Vec::<String>::new())
    .scopes_claims(Vec::<String>::new())
    .service_marker(ServiceMarker::All(vec![
        ServiceMarker::ClaimEndsWith(ClaimPath::claim("email"), ".gserviceaccount.com".to_owned()),
        ServiceMarker::ClaimIsTrue(ClaimPath::claim("email_verified")),
    ]));
    if clients.is_empty() || clients.iter().any(String::is_empty) {
        return provider.invalid(
            "client_ids",
            "give your OAuth client ID (Google Cloud console > APIs & Services > Credentials, \
             ending in .apps.googleusercontent.com)",
        );
    }
    for client in &clients {
        provider = provider.audience(client.as_str());
    }
    // `generateIdToken` mints tokens for any audience: `azp` names who asked.
    provider.authorized_parties(clients)
}
