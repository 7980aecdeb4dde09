//! `JwtAuth`: the configured verifier plus how requests are authenticated. Middleware and app data.

use std::sync::Arc;

use actix_web::HttpResponse;
use auth_core::{AuthError, ConfigError, PrefetchError, Provider, TokenSource, Verifier};

use crate::rejection::{AuthRejection, ErrorHandler};
use crate::role_resolver::RoleResolver;

/// The `realm` of `WWW-Authenticate` unless [`JwtAuth::realm`] sets another.
pub(crate) const DEFAULT_REALM: &str = "api";

/// JWT authentication for an Actix Web app. Cheap to clone (two reference counts).
///
/// Use it as middleware (`App::new().wrap(auth.clone())`) to verify every request once, or register it
/// as app data (`App::new().app_data(auth.clone())`) so extractors verify on demand; both may be used
/// together.
///
/// ```no_run
/// use actix_web::{App, HttpServer};
/// use auth_actix::{JwtAuth, Provider};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let auth = JwtAuth::new(Provider::oidc("https://issuer.example.com").audience("my-api"))?
///     .public(["/health", "/docs/*"]);
/// auth.prefetch().await?;
/// HttpServer::new(move || App::new().wrap(auth.clone())).bind("127.0.0.1:8080")?.run().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct JwtAuth {
    pub(crate) verifier: Verifier,
    pub(crate) config: Arc<Config>,
}

#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) sources: Vec<TokenSource>,
    pub(crate) optional: bool,
    pub(crate) public: Vec<PathPattern>,
    pub(crate) resolver: Option<Arc<dyn RoleResolver>>,
    pub(crate) error_handler: Option<ErrorHandler>,
    pub(crate) realm: Arc<str>,
}

/// A public path: exact, or a prefix when written with a trailing `/*` (which also matches the bare
/// prefix, so `/docs/*` covers `/docs`).
#[derive(Clone, Debug)]
pub(crate) enum PathPattern {
    Exact(String),
    Prefix(String),
}

impl PathPattern {
    fn parse(pattern: &str) -> Option<PathPattern> {
        if !pattern.starts_with('/') {
            return None;
        }
        match pattern.strip_suffix("/*") {
            Some(prefix) if !prefix.contains('*') => Some(PathPattern::Prefix(prefix.to_owned())),
            None if !pattern.contains('*') => Some(PathPattern::Exact(pattern.to_owned())),
            _ => None,
        }
    }

    fn matches(&self, path: &str) -> bool {
        match self {
            PathPattern::Exact(exact) => path == exact,
            PathPattern::Prefix(prefix) => {
                path.strip_prefix(prefix.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            }
        }
    }
}

impl std::fmt::Debug for JwtAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtAuth")
            .field("sources", &self.config.sources)
            .field("optional", &self.config.optional)
            .field("public", &self.config.public)
            .field("resolver", &self.config.resolver.is_some())
            .finish_non_exhaustive()
    }
}

impl JwtAuth {
    /// Authentication against one provider. Checks every setting now; fetches nothing.
    pub fn new(provider: Provider) -> Result<JwtAuth, ConfigError> {
        Verifier::new(provider).map(JwtAuth::from_verifier)
    }

    /// Authentication against several providers; the token's `iss` picks one, and an unknown issuer is
    /// refused without any network call.
    pub fn any_of(providers: impl IntoIterator<Item = Provider>) -> Result<JwtAuth, ConfigError> {
        Verifier::any_of(providers).map(JwtAuth::from_verifier)
    }

    /// Authentication with an existing verifier (sharing its keys and caches).
    pub fn from_verifier(verifier: Verifier) -> JwtAuth {
        let config = Config {
            sources: verifier.token_sources().to_vec(),
            optional: false,
            public: Vec::new(),
            resolver: None,
            error_handler: None,
            realm: Arc::from(DEFAULT_REALM),
        };
        JwtAuth { verifier, config: Arc::new(config) }
    }

    /// Lets requests without a token through as anonymous; a token that is sent must still be valid.
    pub fn optional(mut self) -> JwtAuth {
        Arc::make_mut(&mut self.config).optional = true;
        self
    }

    /// Paths the middleware does not check at all: exact (`/health`) or prefix (`/docs/*`).
    ///
    /// A pattern that does not start with `/`, or holds `*` anywhere but a trailing `/*`, is logged as an
    /// error and ignored, which leaves the path protected.
    pub fn public<I, S>(mut self, patterns: I) -> JwtAuth
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let config = Arc::make_mut(&mut self.config);
        for pattern in patterns {
            match PathPattern::parse(pattern.as_ref()) {
                Some(parsed) => config.public.push(parsed),
                None => tracing::error!(
                    target: "auth",
                    pattern = pattern.as_ref(),
                    "ignoring public path pattern: write /exact/path or /prefix/* ; the path stays protected"
                ),
            }
        }
        self
    }

    /// Where tokens are looked for (default: the providers' own sources). Header sources come first, in
    /// the order given, then cookies, whatever the order here: a token in a header decides alone.
    pub fn token_sources(mut self, sources: impl IntoIterator<Item = TokenSource>) -> JwtAuth {
        Arc::make_mut(&mut self.config).sources = sources.into_iter().collect();
        self
    }

    /// Adds request-scoped roles; see [`RoleResolver`].
    pub fn role_resolver(mut self, resolver: impl RoleResolver) -> JwtAuth {
        Arc::make_mut(&mut self.config).resolver = Some(Arc::new(resolver));
        self
    }

    /// Renders refusals with the application's own body format.
    pub fn error_handler<F>(mut self, handler: F) -> JwtAuth
    where
        F: Fn(&AuthError) -> HttpResponse + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.config).error_handler = Some(Arc::new(handler));
        self
    }

    /// Sizes the verified-token cache: about `capacity` typical (1 KiB) tokens, `0` to turn it off. On by
    /// default; see [`Verifier::with_verified_cache`].
    pub fn verified_cache(mut self, capacity: usize) -> JwtAuth {
        self.verifier = self.verifier.with_verified_cache(capacity);
        self
    }

    /// The realm named in `WWW-Authenticate` (default `api`).
    pub fn realm(mut self, realm: &str) -> JwtAuth {
        let realm: String = realm.chars().filter(|c| *c != '"' && *c != '\\' && !c.is_control()).collect();
        Arc::make_mut(&mut self.config).realm = Arc::from(realm);
        self
    }

    /// The underlying verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Fetches every provider's keys now; see [`Verifier::prefetch`] for which failures to stop on.
    pub async fn prefetch(&self) -> Result<(), PrefetchError> {
        self.verifier.prefetch().await
    }

    pub(crate) fn is_public(&self, path: &str) -> bool {
        self.config.public.iter().any(|pattern| pattern.matches(path))
    }

    pub(crate) fn reject(&self, error: AuthError, token_sent: bool) -> AuthRejection {
        AuthRejection::new(error, token_sent, Arc::clone(&self.config.realm), self.config.error_handler.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_patterns() {
        let exact = PathPattern::parse("/health").unwrap();
        assert!(exact.matches("/health") && !exact.matches("/health/x") && !exact.matches("/healthz"));
        let prefix = PathPattern::parse("/docs/*").unwrap();
        assert!(prefix.matches("/docs") && prefix.matches("/docs/") && prefix.matches("/docs/a/b"));
        assert!(!prefix.matches("/docsx") && !prefix.matches("/api/docs"));
        for bad in ["health", "/a*b", "/*/x", "*"] {
            assert!(PathPattern::parse(bad).is_none(), "{bad}");
        }
    }
}
