//! Which paths the middleware protects, which welcome anonymous callers, and which it leaves alone.

/// What the middleware does on a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// A valid token is required (the default).
    Protected,
    /// Anonymous callers pass; a token that is sent must still be valid.
    Public,
    /// The middleware reads nothing: no token is looked for or checked.
    Skipped,
}

/// An exact path (`/health`), or a prefix written with a trailing `/*` that also matches the bare
/// prefix (`/docs/*` covers `/docs`, `/docs/` and `/docs/a/b`; `/*` covers every path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PathPattern {
    Exact(Box<str>),
    Prefix(Box<str>),
}

impl PathPattern {
    /// Parses a pattern, or says what is wrong with it.
    pub(crate) fn parse(pattern: &str) -> Result<PathPattern, String> {
        let fix = "write /exact/path, or /prefix/* for everything under a prefix";
        if !pattern.starts_with('/') {
            return Err(format!(
                "path pattern {pattern:?} does not start with '/'; {fix}"
            ));
        }
        match pattern.strip_suffix("/*") {
            Some(prefix) if !prefix.contains('*') => Ok(PathPattern::Prefix(prefix.into())),
            None if !pattern.contains('*') => Ok(PathPattern::Exact(pattern.into())),
            _ => Err(format!(
                "path pattern {pattern:?} holds '*' elsewhere than a trailing /*; {fix}"
            )),
        }
    }

    fn matches(&self, path: &str) -> bool {
        match self {
            PathPattern::Exact(exact) => path == &**exact,
            PathPattern::Prefix(prefix) => path
                .strip_prefix(&**prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
        }
    }
}

/// The configured public and skipped paths.
#[derive(Clone, Debug, Default)]
pub(crate) struct PathAccess {
    pub(crate) public: Vec<PathPattern>,
    pub(crate) skipped: Vec<PathPattern>,
}

impl PathAccess {
    /// What the middleware does on `path`; a skipped path wins over a public one.
    pub(crate) fn access(&self, path: &str) -> Access {
        if self.skipped.iter().any(|pattern| pattern.matches(path)) {
            Access::Skipped
        } else if self.public.iter().any(|pattern| pattern.matches(path)) {
            Access::Public
        } else {
            Access::Protected
        }
    }
}

/// Parses patterns given to a builder method, panicking with the reason on a bad one: a typo must
/// stop the application at startup, not silently leave a route open or closed.
pub(crate) fn parse_all<I, S>(method: &str, patterns: I) -> Vec<PathPattern>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    patterns
        .into_iter()
        .map(|pattern| {
            PathPattern::parse(pattern.as_ref())
                .unwrap_or_else(|problem| panic!("JwtAuth::{method}: {problem}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_exactly_or_by_prefix() {
        let exact = PathPattern::parse("/health").unwrap();
        assert!(
            exact.matches("/health") && !exact.matches("/health/x") && !exact.matches("/healthz")
        );
        let prefix = PathPattern::parse("/docs/*").unwrap();
        assert!(prefix.matches("/docs") && prefix.matches("/docs/") && prefix.matches("/docs/a/b"));
        assert!(!prefix.matches("/docsx") && !prefix.matches("/api/docs"));
        let all = PathPattern::parse("/*").unwrap();
        assert!(all.matches("/") && all.matches("/anything/at/all"));
        for bad in ["health", "/a*b", "/*/x", "*", ""] {
            assert!(PathPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn skipped_wins_over_public() {
        let rules = PathAccess {
            public: vec![PathPattern::parse("/*").unwrap()],
            skipped: vec![PathPattern::parse("/health").unwrap()],
        };
        assert_eq!(rules.access("/health"), Access::Skipped);
        assert_eq!(rules.access("/items"), Access::Public);
        assert_eq!(PathAccess::default().access("/items"), Access::Protected);
    }

    #[test]
    #[should_panic(expected = "JwtAuth::public: path pattern \"health\" does not start with '/'")]
    fn a_bad_pattern_stops_the_application() {
        parse_all("public", ["/ok", "health"]);
    }
}
