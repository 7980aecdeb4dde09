//! Compact JWS parsing: size, shape, alphabet and header policy, before any key is touched.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::error::{AuthError, Malformed};
use crate::keys::algorithm::Algorithm;

/// Tokens longer than this are refused before any parsing (the design's 16 KiB cap).
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Decoded headers longer than this are refused; real ones are ~100 bytes, and a fixed buffer keeps
/// the header off the heap.
const MAX_HEADER_LEN: usize = 1024;

/// Where the decoded header lives while its borrowed fields are in use; owned by the caller's stack
/// frame.
pub(crate) type HeaderBuf = [u8; MAX_HEADER_LEN];

/// An empty header buffer.
pub(crate) const fn header_buf() -> HeaderBuf {
    [0; MAX_HEADER_LEN]
}

/// A compact JWS split into its parts, with the header parsed and checked.
#[derive(Debug)]
pub(crate) struct CompactToken<'a> {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<Cow<'a, str>>,
    /// The declared token type, e.g. `at+jwt` (RFC 9068).
    pub(crate) typ: Option<Cow<'a, str>>,
    /// `header.payload`, the signed bytes.
    pub(crate) signing_input: &'a str,
    pub(crate) payload: &'a str,
    pub(crate) signature: &'a str,
}

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    typ: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "present")]
    jwk: bool,
    #[serde(default, deserialize_with = "present")]
    jku: bool,
    #[serde(default, deserialize_with = "present")]
    x5u: bool,
    #[serde(default, deserialize_with = "present")]
    x5c: bool,
    #[serde(default, deserialize_with = "present")]
    crit: bool,
    // JWE headers; their presence marks a token this verifier must not treat as a JWS.
    #[serde(default, deserialize_with = "present")]
    enc: bool,
}

/// Any value, `null` included, counts: the parameter's presence is what is refused.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// Splits and checks a compact token. Every failure is typed; nothing here panics on client input.
pub(crate) fn parse<'a>(
    token: &'a str,
    buf: &'a mut HeaderBuf,
) -> Result<CompactToken<'a>, AuthError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::TooLarge {
            len: token.len(),
            max: MAX_TOKEN_LEN,
        });
    }
    let mut parts = token.split('.');
    let (Some(header_segment), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed(Malformed::Segments));
    };
    check_segment(header_segment)?;

    let header_len = URL_SAFE_NO_PAD
        .decode_slice(header_segment, buf)
        .map_err(|_| AuthError::Malformed(Malformed::Header))?;
    let header: Header<'a> = serde_json::from_slice(&buf[..header_len])
        .map_err(|_| AuthError::Malformed(Malformed::Header))?;

    for (is_set, name) in [
        (header.jwk, "jwk"),
        (header.jku, "jku"),
        (header.x5u, "x5u"),
        (header.x5c, "x5c"),
    ] {
        if is_set {
            return Err(AuthError::ForbiddenHeader(name));
        }
    }
    if header.crit {
        return Err(AuthError::UnknownCritical);
    }
    if header.enc {
        return Err(AuthError::Malformed(Malformed::Segments));
    }
    // The algorithm is judged before the other segments, so `alg: none` with its empty signature is
    // reported as what it is.
    let alg = Algorithm::from_name(&header.alg).ok_or(AuthError::AlgorithmNotAllowed)?;
    check_segment(payload)?;
    check_segment(signature)?;

    Ok(CompactToken {
        alg,
        kid: header.kid,
        typ: header.typ,
        signing_input: &token[..header_segment.len() + 1 + payload.len()],
        payload,
        signature,
    })
}

/// The algorithm and key id a token claims, read without verifying anything: for logs only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedHeader {
    /// The `alg` header as sent (possibly `none` or unsupported).
    pub alg: String,
    /// The `kid` header as sent.
    pub kid: Option<String>,
}

impl UnverifiedHeader {
    /// Reads `alg` and `kid` from a token's header, if it has a readable one. Never trust the
    /// result.
    pub fn peek(token: &str) -> Option<UnverifiedHeader> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let segment = token.split('.').next()?;
        let mut buf = header_buf();
        let len = URL_SAFE_NO_PAD.decode_slice(segment, &mut buf).ok()?;
        let header: Header<'_> = serde_json::from_slice(&buf[..len]).ok()?;
        Some(UnverifiedHeader {
            alg: header.alg.into_owned(),
            kid: header.kid.map(Cow::into_owned),
        })
    }
}

/// What a refused token says about where it came from and whom it is for, read without verifying
/// anything: for the refusal's log line only, beside the values the verifier expected. At most 200
/// bytes of each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnverifiedClaims {
    /// The `iss` claimed.
    pub iss: Option<String>,
    /// The `aud` claimed: one string, or the strings of an array joined with `, `.
    pub aud: Option<String>,
    /// The `tid` claimed: the tenant of an Entra ID token, whose issuer names it too.
    pub tid: Option<String>,
}

/// An audience as tokens write it, borrowed where the JSON allows.
#[derive(Deserialize)]
#[serde(untagged)]
enum PeekedAudience<'a> {
    One(#[serde(borrow)] Cow<'a, str>),
    Many(#[serde(borrow)] Vec<Cow<'a, str>>),
    /// Anything else: said to be there, not what it is.
    Other(serde::de::IgnoredAny),
}

impl UnverifiedClaims {
    /// Reads `iss`, `aud` and `tid` from a token's payload, if it has a readable one (`None` for
    /// opaque tokens and tokens over [`MAX_TOKEN_LEN`]). Never trust the result.
    pub fn peek(token: &str) -> Option<UnverifiedClaims> {
        #[derive(Deserialize)]
        struct Peeked<'a> {
            #[serde(borrow)]
            iss: Option<Cow<'a, str>>,
            #[serde(borrow)]
            aud: Option<PeekedAudience<'a>>,
            #[serde(borrow)]
            tid: Option<Cow<'a, str>>,
        }
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let mut segments = token.split('.');
        let (Some(_), Some(payload), Some(_), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return None;
        };
        let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let peeked: Peeked<'_> = serde_json::from_slice(&bytes).ok()?;
        let shown = |value: &str| crate::error::truncated(value);
        Some(UnverifiedClaims {
            iss: peeked.iss.as_deref().map(shown),
            aud: peeked.aud.map(|aud| match aud {
                PeekedAudience::One(aud) => shown(&aud),
                PeekedAudience::Many(auds) => shown(&auds.join(", ")),
                PeekedAudience::Other(_) => "(neither a string nor an array)".to_owned(),
            }),
            tid: peeked.tid.as_deref().map(shown),
        })
    }
}

/// Decodes the payload segment into text (UTF-8, read as JSON next), which the verified token
/// keeps: the claims are read in place from it, and the payload map when someone asks for it.
pub(crate) fn decode_payload(payload: &str) -> Result<String, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| AuthError::Malformed(Malformed::Base64))?;
    String::from_utf8(bytes).map_err(|_| AuthError::Malformed(Malformed::Payload))
}

fn check_segment(segment: &str) -> Result<(), AuthError> {
    // Folded without an early exit and without branches, so the compiler checks many bytes per
    // instruction: byte by byte, this check of a ~700-byte token cost about 10,000 instructions,
    // more than the rest of parsing it.
    let all_base64url = segment
        .bytes()
        .fold(true, |all, byte| all & is_base64url(byte));
    if segment.is_empty() || !all_base64url {
        return Err(AuthError::Malformed(Malformed::Base64));
    }
    Ok(())
}

/// `A-Z a-z 0-9 - _`, as range checks without branches (`| 0x20` folds upper case onto lower).
fn is_base64url(byte: u8) -> bool {
    (byte.wrapping_sub(b'0') < 10)
        | ((byte | 0x20).wrapping_sub(b'a') < 26)
        | (byte == b'-')
        | (byte == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_alphabet_is_exactly_the_rfc_4648_one() {
        for byte in 0..=u8::MAX {
            let expected = byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_';
            assert_eq!(is_base64url(byte), expected, "{byte:#04x}");
            let segment = [b'e', b'y', byte, b'J'];
            let segment = String::from_utf8_lossy(&segment);
            assert_eq!(check_segment(&segment).is_ok(), expected, "{byte:#04x}");
        }
    }

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn unverified_claims_are_read_for_logs_only_and_bounded() {
        let token = |payload: &str| format!("{}.{}.c2ln", b64(r#"{"alg":"RS256"}"#), b64(payload));
        let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        let entra = format!(
            r#"{{"iss":"https://login.microsoftonline.com/{tenant}/v2.0","aud":"api","tid":"{tenant}"}}"#
        );
        let peeked = UnverifiedClaims::peek(&token(&entra)).unwrap();
        assert_eq!(peeked.aud.as_deref(), Some("api"));
        assert_eq!(peeked.tid.as_deref(), Some(tenant));
        assert!(peeked.iss.unwrap().ends_with("/v2.0"));
        let many = UnverifiedClaims::peek(&token(r#"{"aud":["a","b"],"iss":"x\"y"}"#)).unwrap();
        assert_eq!(
            (many.aud.as_deref(), many.iss.as_deref()),
            (Some("a, b"), Some("x\"y"))
        );
        let odd = UnverifiedClaims::peek(&token(r#"{"aud":{"a":1}}"#)).unwrap();
        assert_eq!(odd.aud.as_deref(), Some("(neither a string nor an array)"));
        let long = format!(r#"{{"iss":"{}"}}"#, "é".repeat(500));
        assert!(
            UnverifiedClaims::peek(&token(&long))
                .unwrap()
                .iss
                .unwrap()
                .len()
                <= 200
        );
        for unreadable in [
            "opaque",
            "a.b",
            "a.b.c.d.e",
            &token(r#"{"iss":5}"#),
            &token("[]"),
        ] {
            assert_eq!(UnverifiedClaims::peek(unreadable), None, "{unreadable}");
        }
        let oversized = token(&format!(r#"{{"iss":"{}"}}"#, "x".repeat(MAX_TOKEN_LEN)));
        assert_eq!(UnverifiedClaims::peek(&oversized), None);
    }

    #[test]
    fn payloads_decode_to_text_or_say_why_not() {
        assert_eq!(
            decode_payload(&b64(r#"{"sub":"é"}"#)).unwrap(),
            r#"{"sub":"é"}"#
        );
        for bad in ["e$J9", "eyJ9=", "a"] {
            assert!(matches!(
                decode_payload(bad),
                Err(AuthError::Malformed(Malformed::Base64))
            ));
        }
        assert!(matches!(
            decode_payload(&URL_SAFE_NO_PAD.encode([b'{', 0xff, b'}'])),
            Err(AuthError::Malformed(Malformed::Payload))
        ));
    }

    fn parse(token: &str) -> Result<(Algorithm, Option<String>, String), AuthError> {
        let mut buf = header_buf();
        super::parse(token, &mut buf).map(|t| {
            (
                t.alg,
                t.kid.map(|k| k.into_owned()),
                format!("{}|{}", t.signing_input, t.signature),
            )
        })
    }

    fn token(header: &str) -> String {
        format!("{}.{}.c2ln", b64(header), b64("{}"))
    }

    #[test]
    fn splits_a_well_formed_token() {
        let t = token(r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#);
        let (alg, kid, rest) = parse(&t).unwrap();
        assert_eq!(alg, Algorithm::RS256);
        assert_eq!(kid.as_deref(), Some("k1"));
        assert_eq!(rest.replace('|', "."), t);
    }

    #[test]
    fn escaped_kid_is_unescaped() {
        let (_, kid, _) = parse(&token(r#"{"alg":"ES256","kid":"a\/b"}"#)).unwrap();
        assert_eq!(kid.as_deref(), Some("a/b"));
    }

    #[test]
    fn refuses_bad_shapes() {
        let seg = |t: &str| parse(t).unwrap_err();
        assert_eq!(seg("a.b"), AuthError::Malformed(Malformed::Segments));
        assert_eq!(seg("a.b.c.d.e"), AuthError::Malformed(Malformed::Segments));
        let header = b64(r#"{"alg":"RS256"}"#);
        assert_eq!(
            seg(&format!("{header}..c")),
            AuthError::Malformed(Malformed::Base64)
        );
        assert_eq!(
            seg(&format!("{header}.e30.")),
            AuthError::Malformed(Malformed::Base64)
        );
        assert_eq!(
            seg(&format!("{header}.e30.c=")),
            AuthError::Malformed(Malformed::Base64)
        );
        assert_eq!(seg("a=.b.c"), AuthError::Malformed(Malformed::Base64));
        assert_eq!(seg("a+.b.c"), AuthError::Malformed(Malformed::Base64));
        assert_eq!(seg(&token("[1]")), AuthError::Malformed(Malformed::Header));
        assert_eq!(
            seg(&token(r#"{"kid":"x"}"#)),
            AuthError::Malformed(Malformed::Header)
        );
        assert_eq!(
            seg(&token(r#"{"alg":"RS256","alg":"none"}"#)),
            AuthError::Malformed(Malformed::Header)
        );
    }

    #[test]
    fn refuses_header_policy_violations() {
        let err = |h: &str| parse(&token(h)).unwrap_err();
        assert_eq!(err(r#"{"alg":"none"}"#), AuthError::AlgorithmNotAllowed);
        let unsigned = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64("{}"));
        assert_eq!(
            parse(&unsigned).unwrap_err(),
            AuthError::AlgorithmNotAllowed
        );
        assert_eq!(err(r#"{"alg":"HS256"}"#), AuthError::AlgorithmNotAllowed);
        assert_eq!(
            err(r#"{"alg":"RS256","jwk":{}}"#),
            AuthError::ForbiddenHeader("jwk")
        );
        assert_eq!(
            err(r#"{"alg":"RS256","jku":null}"#),
            AuthError::ForbiddenHeader("jku")
        );
        assert_eq!(
            err(r#"{"alg":"RS256","x5u":"u"}"#),
            AuthError::ForbiddenHeader("x5u")
        );
        assert_eq!(
            err(r#"{"alg":"RS256","x5c":[]}"#),
            AuthError::ForbiddenHeader("x5c")
        );
        assert_eq!(
            err(r#"{"alg":"RS256","crit":["exp"]}"#),
            AuthError::UnknownCritical
        );
    }

    #[test]
    fn refuses_oversized_tokens_before_parsing() {
        let big = "a".repeat(MAX_TOKEN_LEN + 1);
        assert!(matches!(parse(&big), Err(AuthError::TooLarge { .. })));
    }

    #[test]
    fn refuses_oversized_headers() {
        let header = format!(
            r#"{{"alg":"RS256","kid":"{}"}}"#,
            "k".repeat(MAX_HEADER_LEN)
        );
        assert_eq!(
            parse(&token(&header)).unwrap_err(),
            AuthError::Malformed(Malformed::Header)
        );
    }
}
