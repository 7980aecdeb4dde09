//! Where a request carries its token. Framework-free: the web integration reads header sources
//! first, in their order, then cookies.

/// One place a token may be found in a request.
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
