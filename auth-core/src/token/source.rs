//! Where a request carries its token. Framework-free: the web integration reads header sources
//! first, in their order, then cookies.

/// One place a token may be found in a request.
///
/// A provider reads bearer tokens (and, on a WebSocket upgrade, the subprotocol a browser can set)
/// unless [`Provider::token_sources`](crate::Provider::token_sources) says otherwise; the verifier
/// gathers every provider's sources for the web layer
/// ([`Verifier::token_sources`](crate::Verifier::token_sources)) and checks their names when it is
/// built.
///
/// ```
/// use auth_core::{Provider, TokenSource, Verifier};
///
/// let api = Provider::oidc("https://issuer.example.com").audience("my-api");
/// let defaults = [TokenSource::Bearer, TokenSource::WebSocketProtocol];
/// assert_eq!(Verifier::new(api.clone())?.token_sources(), defaults);
///
/// // A browser app's session cookie too (a token in a header is still judged first).
/// let session = [
///     TokenSource::Bearer,
///     TokenSource::WebSocketProtocol,
///     TokenSource::cookie("session"),
/// ];
/// let verifier = Verifier::new(api.clone().token_sources(session.clone()))?;
/// assert_eq!(verifier.token_sources(), session);
///
/// // A name no request could carry is refused up front.
/// let refused = Verifier::new(api.token_sources([TokenSource::header("x token")])).unwrap_err();
/// assert!(refused.problem.contains("not a valid header or cookie name"), "{refused}");
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TokenSource {
    /// `Authorization: Bearer <token>` (scheme matched case-insensitively, RFC 6750 §2.1).
    Bearer,
    /// On a WebSocket upgrade (`Upgrade: websocket`), the `Sec-WebSocket-Protocol` entry after the
    /// `bearer` marker: `new WebSocket(url, ["bearer", token])`, since browsers cannot set headers
    /// on one. Read only where listed; the defaults list it right after [`TokenSource::Bearer`].
    WebSocketProtocol,
    /// A header holding the bare token, e.g. Cloudflare's `Cf-Access-Jwt-Assertion`.
    Header(String),
    /// A cookie holding the bare token, e.g. Cloudflare's `CF_Authorization` or Clerk's
    /// `__session`.
    Cookie(String),
}

impl TokenSource {
    /// A header source.
    pub fn header(name: impl Into<String>) -> TokenSource {
        TokenSource::Header(name.into())
    }

    /// A cookie source.
    pub fn cookie(name: impl Into<String>) -> TokenSource {
        TokenSource::Cookie(name.into())
    }
}
