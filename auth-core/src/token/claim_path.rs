//! Dotted paths into the payload (`realm_access.roles`, `"https://example.com/roles"`) and the
//! values found there.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use crate::error::ConfigError;
use crate::token::json::{Json, Keys, Object};

/// A path to a claim: segments separated by `.`, a segment in double quotes when the claim name
/// itself holds dots (`resource_access."my.app".roles`, `"https://example.com/roles"`).
///
/// A claim named by a URL (Auth0's namespaced claims) must be quoted: unquoted,
/// `https://example.com/roles` would read as the claim `https://example` holding `com/roles`,
/// which no token has, so every caller would silently have no roles. Such a path, one whose first
/// unquoted segment holds `://`, is refused with the quoted form to write instead.
///
/// ```
/// use auth_core::ClaimPath;
/// use serde_json::json;
///
/// assert!(ClaimPath::parse(r#""https://example.com/roles""#).is_ok());
/// let unquoted = ClaimPath::parse("https://example.com/roles").unwrap_err();
/// assert!(unquoted.problem.contains(r#""\"https://example.com/roles\"""#), "{unquoted}");
///
/// // Looking a path up in a payload: each segment one level down, a quoted one taken whole.
/// let payload = json!({
///     "realm_access": { "roles": ["admin"] },
///     "resource_access": { "my.app": { "roles": ["editor"] } },
/// });
/// let payload = payload.as_object().unwrap();
/// let realm = ClaimPath::parse("realm_access.roles")?;
/// assert_eq!(realm.lookup(payload), Some(&json!(["admin"])));
/// let client = ClaimPath::parse(r#"resource_access."my.app".roles"#)?;
/// assert_eq!(client.lookup(payload), Some(&json!(["editor"])));
/// assert_eq!(ClaimPath::parse("realm_access.groups")?.lookup(payload), None);
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPath {
    segments: Box<[Box<str>]>,
}

impl ClaimPath {
    /// Parses a path, failing with a message that says how to write it.
    pub fn parse(path: &str) -> Result<ClaimPath, ConfigError> {
        let bad = |problem: &str| {
            ConfigError::new(
                format!("claim path {path:?}"),
                format!(
                    "{problem}; write segments separated by '.', quoting names that hold dots, \
                     e.g. resource_access.\"my.app\".roles"
                ),
            )
        };
        let mut segments = Vec::new();
        let mut rest = path;
        loop {
            let (segment, after) = if let Some(quoted) = rest.strip_prefix('"') {
                let end = quoted.find('"').ok_or_else(|| bad("unterminated quote"))?;
                (&quoted[..end], &quoted[end + 1..])
            } else {
                let end = rest.find('.').unwrap_or(rest.len());
                if rest[..end].contains('"') {
                    return Err(bad("a quote may only open a segment"));
                }
                if segments.is_empty() && rest[..end].contains("://") {
                    return Err(url_unquoted(path, &rest[..end]));
                }
                (&rest[..end], &rest[end..])
            };
            if segment.is_empty() {
                return Err(bad("empty segment"));
            }
            segments.push(Box::from(segment));
            match after.strip_prefix('.') {
                Some(next) => rest = next,
                None if after.is_empty() => break,
                None => return Err(bad("expected '.' after a quoted segment")),
            }
        }
        Ok(ClaimPath {
            segments: segments.into_boxed_slice(),
        })
    }

    /// A path of one top-level claim, taken literally (dots and all).
    pub fn claim(name: &str) -> ClaimPath {
        ClaimPath {
            segments: Box::new([Box::from(name)]),
        }
    }

    /// The value at this path, if every segment exists.
    pub fn lookup<'a>(&self, payload: &'a Map<String, Value>) -> Option<&'a Value> {
        let (first, rest) = self.segments.split_first()?;
        rest.iter()
            .try_fold(payload.get(first.as_ref())?, |value, segment| {
                value.get(segment.as_ref())
            })
    }

    /// The value at this path in a payload read in place.
    pub(crate) fn find<'p>(&self, payload: &'p Object<'p>) -> Option<&'p Json<'p>> {
        let (first, rest) = self.segments.split_first()?;
        rest.iter()
            .try_fold(payload.get(first)?, |value, segment| value.get(segment))
    }

    /// Writes `value` at this path, creating objects on the way (and replacing non-objects there).
    #[cfg(feature = "testing")]
    pub(crate) fn set(&self, payload: &mut Map<String, Value>, value: Value) {
        let Some((last, parents)) = self.segments.split_last() else {
            return;
        };
        let mut map = payload;
        for segment in parents {
            let entry = map
                .entry(segment.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let Value::Object(inner) = entry else { return };
            map = inner;
        }
        map.insert(last.to_string(), value);
    }

    /// The names found at this path: a string as one name, each string in an array, or each key of
    /// an object (Zitadel's `{ "role": { "orgId": "domain" } }`; an array of such objects too). A
    /// role named `"Support Lead"` stays one role.
    pub(crate) fn names<'p>(&self, payload: &'p Object<'p>) -> Names<'p> {
        self.names_split(payload, Separator::None)
    }

    /// As [`ClaimPath::names`], but a string is a list split at `separator`: for claims documented
    /// as lists in a string, such as OAuth's space-separated `scope` (RFC 6749 §3.3). (Clerk's
    /// comma-separated `o.per` is read with its bitmasks, in `organization.rs`.)
    pub(crate) fn names_split<'p>(
        &self,
        payload: &'p Object<'p>,
        separator: Separator,
    ) -> Names<'p> {
        match self.find(payload) {
            Some(Json::Array(items)) => Names {
                items: Some(items.iter()),
                current: Inner::Empty,
            },
            Some(value) => Names {
                items: None,
                current: Inner::of(value, separator),
            },
            None => Names {
                items: None,
                current: Inner::Empty,
            },
        }
    }
}

/// How a string claim holds several names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Separator {
    /// The string is one name (role claims: a role may hold spaces).
    None,
    /// Names separated by whitespace, as OAuth writes `scope` (RFC 6749 §3.3) and Entra `scp`.
    Space,
}

/// The names at a [`ClaimPath`], borrowed from the payload; nothing is allocated.
#[derive(Debug)]
pub(crate) struct Names<'a> {
    items: Option<std::slice::Iter<'a, Json<'a>>>,
    current: Inner<'a>,
}

#[derive(Debug)]
enum Inner<'a> {
    Empty,
    One(&'a str),
    Words(std::str::Split<'a, fn(char) -> bool>),
    Keys(Keys<'a, 'a>),
}

impl<'a> Inner<'a> {
    fn of(value: &'a Json<'a>, separator: Separator) -> Inner<'a> {
        match (value, separator) {
            (Json::String(name), Separator::None) => Inner::One(name),
            (Json::String(words), Separator::Space) => {
                Inner::Words(words.split(char::is_whitespace as fn(char) -> bool))
            }
            (Json::Object(map), _) => Inner::Keys(map.keys()),
            _ => Inner::Empty,
        }
    }

    fn next(&mut self) -> Option<&'a str> {
        match self {
            Inner::Empty => None,
            Inner::One(name) => {
                let name = *name;
                *self = Inner::Empty;
                Some(name).filter(|name| !name.is_empty())
            }
            Inner::Words(words) => words.map(str::trim).find(|word| !word.is_empty()),
            Inner::Keys(keys) => keys.next(),
        }
    }
}

impl<'a> Iterator for Names<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            if let Some(name) = self.current.next() {
                return Some(name);
            }
            let item = self.items.as_mut()?.next()?;
            // Array elements: strings are names as they stand; objects give their keys.
            match item {
                Json::String(name) if !name.is_empty() => return Some(name),
                Json::Object(map) => self.current = Inner::Keys(map.keys()),
                _ => {}
            }
        }
    }
}

/// The refusal of a path that starts with an unquoted URL: read as dotted, it names a claim no token
/// carries (`https://example`), so it must be quoted whole.
fn url_unquoted(path: &str, first: &str) -> ConfigError {
    let quoted = format!("\"{path}\"");
    ConfigError::new(
        format!("claim path {path:?}"),
        format!(
            "a claim named by a URL must be quoted, as the URL holds dots: unquoted, this reads as \
             the claim {first:?} (which no token carries) and would silently yield nothing; write \
             {quoted} with its quotes (in Rust: {quoted:?}; in a shell: '{quoted}')"
        ),
    )
}

impl FromStr for ClaimPath {
    type Err = ConfigError;

    fn from_str(path: &str) -> Result<ClaimPath, ConfigError> {
        ClaimPath::parse(path)
    }
}

impl fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            // Quoted where unquoted would read otherwise: a dot splits, and a first segment
            // holding `://` is refused.
            if segment.contains('.') || segment.contains("://") {
                write!(f, "\"{segment}\"")?;
            } else {
                f.write_str(segment)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payload() -> Map<String, Value> {
        json!({
            "roles": ["a", "b", 3],
            "scope": "read:items  write:items",
            "realm_access": {"roles": ["realm-admin"]},
            "resource_access": {"my.app": {"roles": ["client-role"]}},
            "https://example.com/roles": ["ns"],
            "urn:zitadel:iam:org:project:roles": {
                "admin": {"123": "acme.zitadel.cloud"},
                "viewer": {}
            },
            "n": 5,
            "lead": "Support Lead",
            "empty": "",
            "zitadel_array": [{"admin": {"1": "a"}}, {"user": {"1": "a"}}]
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    fn names(path: &str) -> Vec<String> {
        let payload = payload();
        let payload = Object::borrow(&payload);
        ClaimPath::parse(path)
            .unwrap()
            .names(&payload)
            .map(str::to_owned)
            .collect()
    }

    fn split(path: &str, separator: Separator) -> Vec<String> {
        let payload = payload();
        let payload = Object::borrow(&payload);
        ClaimPath::parse(path)
            .unwrap()
            .names_split(&payload, separator)
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn reads_each_claim_shape() {
        assert_eq!(names("roles"), ["a", "b"]);
        assert_eq!(
            names("scope"),
            ["read:items  write:items"],
            "a string is one name unless split"
        );
        assert_eq!(
            split("scope", Separator::Space),
            ["read:items", "write:items"]
        );
        assert_eq!(names("lead"), ["Support Lead"]);
        assert_eq!(names("zitadel_array"), ["admin", "user"]);
        assert_eq!(names("realm_access.roles"), ["realm-admin"]);
        assert_eq!(names(r#"resource_access."my.app".roles"#), ["client-role"]);
        assert_eq!(names(r#""https://example.com/roles""#), ["ns"]);
        assert_eq!(
            names("urn:zitadel:iam:org:project:roles"),
            ["admin", "viewer"]
        );
        assert!(names("n").is_empty());
        assert!(names("empty").is_empty());
        assert!(names("missing.deeper").is_empty());
        assert!(names("roles.0").is_empty());
    }

    #[test]
    fn rejects_bad_paths_with_a_fix() {
        for bad in ["", ".", "a..b", "a.", "\"open", "a\"b\"", "\"a\"b", "\"\""] {
            let err = ClaimPath::parse(bad).unwrap_err();
            assert!(err.problem.contains("quoting"), "{bad}: {err}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_path_parses_or_explains(path in proptest::prelude::any::<String>()) {
            if let Ok(parsed) = ClaimPath::parse(&path) {
                let payload = payload();
                let payload = Object::borrow(&payload);
                let _ = parsed.names_split(&payload, Separator::Space).count();
                proptest::prop_assert_eq!(ClaimPath::parse(&parsed.to_string()).ok(), Some(parsed));
            }
        }

        #[test]
        fn names_never_panic_on_any_json(value in "[\\[\\]{}\":,a-z0-9 ]{0,200}") {
            if let Ok(value) = serde_json::from_str::<Value>(&value) {
                let mut payload = Map::new();
                payload.insert("c".into(), value);
                let payload = Object::borrow(&payload);
                for separator in [Separator::None, Separator::Space] {
                    let _ = ClaimPath::claim("c").names_split(&payload, separator).count();
                }
            }
        }
    }

    #[test]
    fn a_url_claim_name_must_be_quoted() {
        assert_eq!(names(r#""https://example.com/roles""#), ["ns"]);
        for unquoted in [
            "https://example.com/roles",
            "https://example.com/app.roles",
            "urn://x",
        ] {
            let err = ClaimPath::parse(unquoted).unwrap_err();
            assert_eq!(err.setting, format!("claim path {unquoted:?}"));
            let quoted = format!("\"{unquoted}\"");
            assert!(
                err.problem.contains(&format!("{quoted:?}")) && err.problem.contains("quoted"),
                "{err}"
            );
            assert!(ClaimPath::parse(&quoted).is_ok(), "{quoted}");
        }
        // A URL deeper in a path is a key of an object claim, never read as the claim's name.
        assert!(ClaimPath::parse("custom.https://x").is_ok());
        // A literal claim name holding `://` displays quoted, and parses back to itself.
        let literal = ClaimPath::claim("a://b");
        assert_eq!(literal.to_string(), r#""a://b""#);
        assert_eq!(ClaimPath::parse(&literal.to_string()).unwrap(), literal);
    }

    #[test]
    fn displays_as_parsed() {
        let path = r#"resource_access."my.app".roles"#;
        assert_eq!(ClaimPath::parse(path).unwrap().to_string(), path);
    }
}
