//! Finding the token in a request, in the configured order: `Authorization` (`Bearer` or `DPoP`
//! scheme), the WebSocket subprotocol, named header, named cookie. One lookup, driven by the
//! configured [`TokenSource`] list, which the OpenAPI schemes read too: a new source is added
//! here. Never the query string, where tokens leak into logs and referrers (RFC 6750 §5.3).

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use auth_core::TokenSource;

/// A token located in a header value, kept by reference-counted copy so no bytes are copied.
pub(crate) struct FoundToken {
    value: HeaderValue,
    start: usize,
    end: usize,
    /// Sent as `Authorization: DPoP`, so a proof must come with it.
    pub(crate) dpop: bool,
    /// Read from a cookie: an ambient credential, which counts for same-site requests only.
    pub(crate) from_cookie: bool,
}

impl FoundToken {
    /// `token` must be a subslice of `value`'s bytes.
    fn lookup(value: &HeaderValue, token: &[u8]) -> Lookup {
        FoundToken::with_scheme(value, token, false)
    }

    fn with_scheme(value: &HeaderValue, token: &[u8], dpop: bool) -> Lookup {
        let base = value.as_bytes().as_ptr() as usize;
        match (token.as_ptr() as usize).checked_sub(base) {
            // A token is printable ASCII without spaces or tabs (base64url and dots); anything
            // else, empty included, is malformed, decided here once for every source.
            Some(start) if !token.is_empty() && all_graphic(token) => Lookup::Found(FoundToken {
                value: value.clone(),
                start,
                end: start + token.len(),
                dpop,
                from_cookie: false,
            }),
            _ => Lookup::Malformed,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        let bytes = self
            .value
            .as_bytes()
            .get(self.start..self.end)
            .unwrap_or_default();
        std::str::from_utf8(bytes).unwrap_or_default()
    }
}

/// Whether every byte is printable ASCII other than space (`u8::is_ascii_graphic`). Written
/// without an early exit so the compiler checks many bytes per instruction: a byte-at-a-time
/// `all` over a ~700-byte token cost more than the whole verified-token cache lookup.
fn all_graphic(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |outside, &byte| {
        outside | u8::from(byte.wrapping_sub(0x21) > 0x7e - 0x21)
    }) == 0
}

/// What the sources held.
pub(crate) enum Lookup {
    /// No source held anything.
    Missing,
    /// A token to verify.
    Found(FoundToken),
    /// A source was present but unusable (e.g. `Authorization: Bearer` with nothing after it).
    Malformed,
}

/// Looks through header sources first, in their configured order, then cookies: a request that
/// carries a token in a header is judged by that header alone. Anyone who can set a cookie for the
/// API's domain (a sibling subdomain can) could otherwise make the API act as another account or
/// lock a user out; Clerk's own SDK reads the header first for the same reason.
pub(crate) fn find(headers: &HeaderMap, sources: &[TokenSource]) -> Lookup {
    for source in lookup_order(sources) {
        let lookup = match source {
            TokenSource::Bearer => bearer(headers),
            // Browsers cannot set headers on a WebSocket upgrade: the subprotocol list is the one
            // header they can fill.
            TokenSource::WebSocketProtocol if is_websocket_upgrade(headers) => {
                websocket_protocol(headers)
            }
            TokenSource::WebSocketProtocol => Lookup::Missing,
            TokenSource::Header(name) => named_header(headers, name),
            TokenSource::Cookie(name) => cookie(headers, name),
        };
        if !matches!(lookup, Lookup::Missing) {
            return lookup;
        }
    }
    Lookup::Missing
}

/// The configured sources in the order [`find`] tries them: header sources as listed, then
/// cookies. The OpenAPI schemes follow the same order.
pub(crate) fn lookup_order(sources: &[TokenSource]) -> impl Iterator<Item = &TokenSource> {
    let in_headers = sources
        .iter()
        .filter(|source| !matches!(source, TokenSource::Cookie(_)));
    let in_cookies = sources
        .iter()
        .filter(|source| matches!(source, TokenSource::Cookie(_)));
    in_headers.chain(in_cookies)
}

/// Whether the token marker of a WebSocket upgrade is answered: only where the subprotocol is a
/// configured source, on an upgrade that offers it.
pub(crate) fn answers_token_protocol(headers: &HeaderMap, sources: &[TokenSource]) -> bool {
    sources.contains(&TokenSource::WebSocketProtocol)
        && is_websocket_upgrade(headers)
        && offers_token_protocol(headers)
}

/// The subprotocol that marks the next one as the token, on a WebSocket upgrade:
/// `new WebSocket(url, ["bearer", token])`, read where [`TokenSource::WebSocketProtocol`] is a
/// configured source. The server answers with this marker alone.
pub const WEBSOCKET_PROTOCOL: &str = "bearer";

/// A WebSocket opening handshake (RFC 6455 §4.1): `Upgrade: websocket`.
fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim().eq_ignore_ascii_case("websocket"))
}

/// Whether the client offered the token marker among its subprotocols.
fn offers_token_protocol(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .flat_map(|value| value.as_bytes().split(|byte| *byte == b','))
        .any(|protocol| protocol.trim_ascii() == WEBSOCKET_PROTOCOL.as_bytes())
}

/// The entry after the marker in `Sec-WebSocket-Protocol` (one header value; the list as the
/// browser sends it). The marker without a token after it is malformed.
fn websocket_protocol(headers: &HeaderMap) -> Lookup {
    let mut values = headers.get_all(header::SEC_WEBSOCKET_PROTOCOL);
    let Some(value) = values.next() else {
        return Lookup::Missing;
    };
    if values.next().is_some() {
        return if offers_token_protocol(headers) {
            Lookup::Malformed
        } else {
            Lookup::Missing
        };
    }
    let mut protocols = value
        .as_bytes()
        .split(|byte| *byte == b',')
        .map(<[u8]>::trim_ascii);
    if !protocols.any(|protocol| protocol == WEBSOCKET_PROTOCOL.as_bytes()) {
        return Lookup::Missing;
    }
    match protocols.next() {
        Some(token) => FoundToken::lookup(value, token),
        None => Lookup::Malformed,
    }
}

/// Two values for one source are refused rather than one picked: a second `CF_Authorization` cookie
/// planted from a sibling subdomain must not decide who the caller is. `Authorization` takes the
/// `Bearer` and `DPoP` schemes (RFC 9449 §7.1), one of them once.
fn bearer(headers: &HeaderMap) -> Lookup {
    let mut found = Lookup::Missing;
    for value in headers.get_all(header::AUTHORIZATION) {
        let text = value.as_bytes().trim_ascii();
        let (scheme, rest) = match text.iter().position(|b| *b == b' ') {
            Some(space) => (&text[..space], &text[space + 1..]),
            None => (text, &[][..]),
        };
        let dpop = scheme.eq_ignore_ascii_case(b"dpop");
        if !dpop && !scheme.eq_ignore_ascii_case(b"bearer") {
            continue;
        }
        if !matches!(found, Lookup::Missing) {
            return Lookup::Malformed;
        }
        found = FoundToken::with_scheme(value, rest.trim_ascii(), dpop);
    }
    found
}

/// The request's one `DPoP` header: `None` when absent, repeated, or not printable ASCII.
pub(crate) fn dpop_proof(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all("dpop");
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let proof = value.to_str().ok()?.trim_ascii();
    (!proof.is_empty() && proof.bytes().all(|byte| byte.is_ascii_graphic())).then_some(proof)
}

fn named_header(headers: &HeaderMap, name: &str) -> Lookup {
    let mut values = headers.get_all(name);
    let Some(value) = values.next() else {
        return Lookup::Missing;
    };
    if values.next().is_some() {
        return Lookup::Malformed;
    }
    match value.as_bytes().trim_ascii() {
        [] => Lookup::Missing,
        token => FoundToken::lookup(value, token),
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Lookup {
    let mut found = Lookup::Missing;
    for value in headers.get_all(header::COOKIE) {
        for pair in value.as_bytes().split(|b| *b == b';') {
            let pair = pair.trim_ascii();
            let Some(eq) = pair.iter().position(|b| *b == b'=') else {
                continue;
            };
            if pair[..eq].trim_ascii() != name.as_bytes() {
                continue;
            }
            let mut token = pair[eq + 1..].trim_ascii();
            if let [b'"', inner @ .., b'"'] = token {
                token = inner;
            }
            if !matches!(found, Lookup::Missing) {
                return Lookup::Malformed;
            }
            found = match token {
                [] => Lookup::Missing,
                token => match FoundToken::lookup(value, token) {
                    Lookup::Found(found) => Lookup::Found(FoundToken {
                        from_cookie: true,
                        ..found
                    }),
                    other => other,
                },
            };
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderName;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::try_from(*name).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn all_graphic_agrees_with_the_standard_check_for_every_byte_anywhere() {
        let token = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl_-".to_vec();
        assert!(all_graphic(&token));
        for byte in 0..=u8::MAX {
            for position in [0, 7, token.len() - 1] {
                let mut changed = token.clone();
                changed[position] = byte;
                assert_eq!(
                    all_graphic(&changed),
                    byte.is_ascii_graphic(),
                    "{byte:#04x}"
                );
            }
        }
    }

    fn found(map: &HeaderMap, sources: &[TokenSource]) -> Option<String> {
        match find(map, sources) {
            Lookup::Found(token) => Some(token.as_str().to_owned()),
            _ => None,
        }
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        for value in ["Bearer abc", "bearer abc", "BEARER   abc  "] {
            assert_eq!(
                found(
                    &headers(&[("authorization", value)]),
                    &[TokenSource::Bearer]
                )
                .as_deref(),
                Some("abc")
            );
        }
        assert!(matches!(
            find(
                &headers(&[("authorization", "Bearer")]),
                &[TokenSource::Bearer]
            ),
            Lookup::Malformed
        ));
        assert!(matches!(
            find(
                &headers(&[("authorization", "Basic dXNlcjpwdw==")]),
                &[TokenSource::Bearer]
            ),
            Lookup::Missing
        ));
    }

    #[test]
    fn dpop_scheme_is_found_and_marked() {
        let map = headers(&[("authorization", "DPoP abc")]);
        let Lookup::Found(token) = find(&map, &[TokenSource::Bearer]) else {
            panic!("the DPoP scheme carries a token");
        };
        assert_eq!(token.as_str(), "abc");
        assert!(token.dpop);
        let both = headers(&[
            ("authorization", "DPoP abc"),
            ("authorization", "Bearer abc"),
        ]);
        assert!(matches!(
            find(&both, &[TokenSource::Bearer]),
            Lookup::Malformed
        ));
        assert_eq!(dpop_proof(&headers(&[("dpop", " a.b.c ")])), Some("a.b.c"));
        assert_eq!(
            dpop_proof(&headers(&[("dpop", "a.b.c"), ("dpop", "d.e.f")])),
            None
        );
        assert_eq!(dpop_proof(&headers(&[("dpop", "a b")])), None);
        assert_eq!(dpop_proof(&headers(&[])), None);
    }

    #[test]
    fn websocket_upgrades_carry_the_token_after_the_marker() {
        let upgrade = |protocols: &str| {
            headers(&[
                ("upgrade", "websocket"),
                ("sec-websocket-protocol", protocols),
            ])
        };
        let sources = [
            TokenSource::Bearer,
            TokenSource::WebSocketProtocol,
            TokenSource::cookie("session"),
        ];
        assert_eq!(
            found(&upgrade("bearer, abc.def.ghi"), &sources).as_deref(),
            Some("abc.def.ghi")
        );
        assert_eq!(
            found(&upgrade("chat, bearer,abc"), &sources).as_deref(),
            Some("abc")
        );
        assert!(matches!(
            find(&upgrade("bearer"), &sources),
            Lookup::Malformed
        ));
        assert!(matches!(find(&upgrade("chat"), &sources), Lookup::Missing));
        // Not an upgrade: the header means nothing.
        let plain = headers(&[("sec-websocket-protocol", "bearer, abc")]);
        assert!(matches!(find(&plain, &sources), Lookup::Missing));
        // Authorization first, when both are sent.
        let both = headers(&[
            ("upgrade", "websocket"),
            ("sec-websocket-protocol", "bearer, from-protocol"),
            ("authorization", "Bearer from-header"),
        ]);
        assert_eq!(found(&both, &sources).as_deref(), Some("from-header"));
        // Before cookies.
        let with_cookie = headers(&[
            ("upgrade", "websocket"),
            ("sec-websocket-protocol", "bearer, from-protocol"),
            ("cookie", "session=from-cookie"),
        ]);
        assert_eq!(
            found(&with_cookie, &sources).as_deref(),
            Some("from-protocol")
        );
    }

    #[test]
    fn the_subprotocol_is_read_only_where_it_is_a_configured_source() {
        let map = headers(&[
            ("upgrade", "websocket"),
            ("sec-websocket-protocol", "bearer, abc"),
            ("cookie", "session=from-cookie"),
        ]);
        let without = [TokenSource::Bearer, TokenSource::cookie("session")];
        assert_eq!(found(&map, &without).as_deref(), Some("from-cookie"));
        assert!(!answers_token_protocol(&map, &without));
        assert!(matches!(
            find(&map, &[TokenSource::Bearer]),
            Lookup::Missing
        ));
        let with = [TokenSource::Bearer, TokenSource::WebSocketProtocol];
        assert_eq!(found(&map, &with).as_deref(), Some("abc"));
        assert!(answers_token_protocol(&map, &with));
        // Listed alone, and first: still only on an upgrade.
        let plain = headers(&[("sec-websocket-protocol", "bearer, abc")]);
        assert!(matches!(
            find(&plain, &[TokenSource::WebSocketProtocol]),
            Lookup::Missing
        ));
        assert!(!answers_token_protocol(&plain, &with));
    }

    #[test]
    fn only_cookie_tokens_are_marked_as_cookies() {
        let sources = [
            TokenSource::Bearer,
            TokenSource::WebSocketProtocol,
            TokenSource::header("x-token"),
            TokenSource::cookie("session"),
        ];
        let from_cookie = |pairs: &[(&str, &str)]| match find(&headers(pairs), &sources) {
            Lookup::Found(token) => token.from_cookie,
            _ => panic!("{pairs:?} holds a token"),
        };
        assert!(from_cookie(&[("cookie", "a=1; session=abc")]));
        assert!(!from_cookie(&[("authorization", "Bearer abc")]));
        assert!(!from_cookie(&[("x-token", "abc")]));
        assert!(!from_cookie(&[
            ("upgrade", "websocket"),
            ("sec-websocket-protocol", "bearer, abc"),
            ("cookie", "session=def"),
        ]));
    }

    #[test]
    fn header_and_cookie_sources_in_order() {
        let sources = [
            TokenSource::header("cf-access-jwt-assertion"),
            TokenSource::cookie("CF_Authorization"),
            TokenSource::Bearer,
        ];
        let map = headers(&[
            ("cookie", "a=1; CF_Authorization=from-cookie; b=2"),
            ("authorization", "Bearer from-bearer"),
        ]);
        assert_eq!(
            found(&map, &sources).as_deref(),
            Some("from-bearer"),
            "headers outrank cookies"
        );
        let map = headers(&[("cookie", "a=1; CF_Authorization=from-cookie; b=2")]);
        assert_eq!(found(&map, &sources).as_deref(), Some("from-cookie"));
        let planted = headers(&[
            ("cookie", "CF_Authorization=a b"),
            ("authorization", "Bearer from-bearer"),
        ]);
        assert_eq!(
            found(&planted, &sources).as_deref(),
            Some("from-bearer"),
            "a bad cookie cannot spoil a header"
        );
        let map = headers(&[
            ("cf-access-jwt-assertion", "from-header"),
            ("cookie", "CF_Authorization=c"),
        ]);
        assert_eq!(found(&map, &sources).as_deref(), Some("from-header"));
        let map = headers(&[("cookie", "CF_Authorization_x=1; xCF_Authorization=2")]);
        assert!(found(&map, &sources).is_none());
    }

    proptest::proptest! {
        #[test]
        fn any_header_bytes_are_handled(
            authorization in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            cookie in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            named in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            let mut map = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_bytes(&authorization) {
                map.append(header::AUTHORIZATION, value);
            }
            if let Ok(value) = HeaderValue::from_bytes(&cookie) {
                map.append(header::COOKIE, value);
            }
            if let Ok(value) = HeaderValue::from_bytes(&named) {
                map.append(HeaderName::from_static("x-token"), value);
            }
            let sources =
                [TokenSource::Bearer, TokenSource::cookie("s"), TokenSource::header("x-token")];
            if let Lookup::Found(token) = find(&map, &sources) {
                proptest::prop_assert!(!token.as_str().is_empty());
                proptest::prop_assert!(!token.as_str().contains(' '));
                let printable = token.as_str().bytes().all(|b| b.is_ascii_graphic());
                proptest::prop_assert!(printable, "{:?}", token.as_str());
            }
        }
    }

    #[test]
    fn two_values_for_one_source_are_refused() {
        let cookie = [TokenSource::cookie("CF_Authorization")];
        let tossed = headers(&[(
            "cookie",
            "CF_Authorization=attacker; CF_Authorization=victim",
        )]);
        assert!(matches!(find(&tossed, &cookie), Lookup::Malformed));
        let split = headers(&[
            ("cookie", "CF_Authorization=a"),
            ("cookie", "CF_Authorization=b"),
        ]);
        assert!(matches!(find(&split, &cookie), Lookup::Malformed));
        let bearers = headers(&[("authorization", "Bearer a"), ("authorization", "Bearer b")]);
        assert!(matches!(
            find(&bearers, &[TokenSource::Bearer]),
            Lookup::Malformed
        ));
        let assertion = [TokenSource::header("cf-access-jwt-assertion")];
        let twice = headers(&[
            ("cf-access-jwt-assertion", "a"),
            ("cf-access-jwt-assertion", "b"),
        ]);
        assert!(matches!(find(&twice, &assertion), Lookup::Malformed));
        let basic_and_bearer =
            headers(&[("authorization", "Basic x"), ("authorization", "Bearer b")]);
        assert_eq!(
            found(&basic_and_bearer, &[TokenSource::Bearer]).as_deref(),
            Some("b")
        );
    }

    #[test]
    fn cookie_values_with_spaces_are_malformed() {
        // Found by bench/fuzz.sh (proptest-regressions/request/token.txt): `s=! !` was returned
        // as a token.
        let map = headers(&[("cookie", "s=! !")]);
        assert!(matches!(
            find(&map, &[TokenSource::cookie("s")]),
            Lookup::Malformed
        ));
    }

    #[test]
    fn tabs_and_non_ascii_are_no_token_in_any_source() {
        let sources = [
            TokenSource::Bearer,
            TokenSource::cookie("s"),
            TokenSource::header("x-token"),
        ];
        for (name, value) in [
            ("authorization", "Bearer a\tb"),
            ("cookie", "s=a\tb"),
            ("x-token", "a\tb"),
        ] {
            assert!(
                matches!(
                    find(&headers(&[(name, value)]), &sources),
                    Lookup::Malformed
                ),
                "{name}: {value:?}"
            );
        }
        let mut map = HeaderMap::new();
        map.append(
            header::AUTHORIZATION,
            HeaderValue::from_bytes(b"Bearer a\xffb").unwrap(),
        );
        assert!(matches!(find(&map, &sources), Lookup::Malformed));
    }

    #[test]
    fn no_source_present_is_missing() {
        // The query string is never read at all: tests/tests/actix_sources.rs sends tokens there
        // over HTTP.
        assert!(matches!(
            find(&HeaderMap::new(), &[TokenSource::Bearer]),
            Lookup::Missing
        ));
    }
}
