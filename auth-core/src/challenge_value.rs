//! What a value written inside a quoted `WWW-Authenticate` parameter may hold: the one rule for
//! scopes, `acr` values and resource URLs, which challenges carry (RFC 6750 §3, RFC 9470 §4,
//! RFC 9728 §5.1).

/// Whether `value` can be written in a challenge's quoted, space-separated parameter: an RFC 6749
/// §3.3 scope-token (`%x21 / %x23-5B / %x5D-7E`: visible ASCII without `"` or `\`) that also holds
/// no `,` or `=`, which real clients' challenge parsers (the MCP TypeScript SDK's regular
/// expressions among them) read as the start of another parameter. Allowed bytes: `0x21`,
/// `0x23-0x2B`, `0x2D-0x3C`, `0x3E-0x5B`, `0x5D-0x7E`; never empty.
///
/// Scope rules, step-up rules and `Provider::resource` refuse any other value when they are
/// built, so a configured name can never inject or strip a challenge parameter.
#[doc(hidden)]
pub const fn is_challenge_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte <= b' ' || byte > b'~' || matches!(byte, b'"' | b'\\' | b',' | b'=') {
            return false;
        }
        i += 1;
    }
    true
}

/// The longest scope name or `acr` value, in bytes: far above any real one (Okta's longest `acr`
/// URN is under 40), low enough that names an application builds from request data cannot make
/// every challenge huge.
pub const MAX_CHALLENGE_NAME: usize = 256;

/// Whether `value` can be a scope name or an `acr` value: [`is_challenge_value`], at most
/// [`MAX_CHALLENGE_NAME`] bytes. Names are configuration, never request data; the resource URL is
/// a challenge value without this limit.
#[doc(hidden)]
pub const fn is_challenge_name(value: &str) -> bool {
    value.len() <= MAX_CHALLENGE_NAME && is_challenge_value(value)
}

#[cfg(test)]
mod tests {
    use super::{MAX_CHALLENGE_NAME, is_challenge_name, is_challenge_value};

    #[test]
    fn a_name_is_a_challenge_value_of_at_most_256_bytes() {
        let longest = "a".repeat(MAX_CHALLENGE_NAME);
        assert!(is_challenge_name(&longest));
        assert!(!is_challenge_name(&format!("{longest}a")));
        assert!(is_challenge_value(&format!("{longest}a")));
        assert!(!is_challenge_name("a,b") && !is_challenge_name(""));
    }

    #[test]
    fn scope_tokens_without_commas_or_equals_signs_are_accepted() {
        for ok in [
            "read",
            "mcp:tools",
            "urn:okta:loa:2fa:any",
            "https://api.example.com/mcp",
            "!#$%&'()*+-./09:;<>?@AZ[]^_`az{|}~",
        ] {
            assert!(is_challenge_value(ok), "{ok}");
        }
        for bad in [
            "", "a b", "a\"b", "a\\b", "a,b", "a=b", "a\r\nb", "a\tb", "é", "\u{7f}",
        ] {
            assert!(!is_challenge_value(bad), "{bad:?}");
        }
        // Exactly the bytes the rule names.
        let allowed: Vec<u8> = (0u8..=255)
            .filter(|b| is_challenge_value(std::str::from_utf8(&[*b]).unwrap_or("")))
            .collect();
        let expected: Vec<u8> = [
            0x21..=0x21,
            0x23..=0x2B,
            0x2D..=0x3C,
            0x3E..=0x5B,
            0x5D..=0x7E,
        ]
        .into_iter()
        .flatten()
        .collect();
        assert_eq!(allowed, expected);
    }
}
