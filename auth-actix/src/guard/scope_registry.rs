//! The scopes a service's guards ask for, for `scopes_supported` in RFC 9728 protected-resource
//! metadata (§2): "from the guards that are registered, never an invented list".
//!
//! Two sources, unioned, used unless [`JwtAuth::scopes_supported`](crate::JwtAuth::scopes_supported)
//! names the exact list: every guard attribute naming scopes submits their names where it is written
//! (`inventory`, collected at link time, so a handler counts before its first request); every
//! [`Authorize::any_scope`](crate::Authorize::any_scope) / `all_scopes` registers its names when
//! built, up to [`MAX_BUILT`] names and [`MAX_BUILT_BYTES`] bytes of names in the process (an
//! `Authorize` built from request data must not grow it, or every challenge, without limit).

use std::collections::BTreeSet;
use std::sync::Mutex;

use crate::response::TARGET;

/// The scope names of a guard attribute, submitted to the registry where the attribute is. Names,
/// not the rule: the registry needs nothing else of it.
#[doc(hidden)]
pub struct RegisteredScopes(pub &'static [&'static str]);

inventory::collect!(RegisteredScopes);

/// Most scope names `Authorize` middlewares may register in a process: far above what an
/// application's guards name, low enough that names built from request data cannot exhaust memory.
pub(crate) const MAX_BUILT: usize = 1024;

/// Most bytes of scope names `Authorize` middlewares may register in a process: what a 401
/// challenge lists when `JwtAuth::scopes_supported` names no list, so it stays a header.
pub(crate) const MAX_BUILT_BYTES: usize = 16 * 1024;

/// Scopes of the `Authorize` middlewares built so far in this process.
static BUILT: Mutex<Bounded> = Mutex::new(Bounded::new(MAX_BUILT, MAX_BUILT_BYTES));

/// A set of names that stops growing at its limits (names, bytes), and says so once.
pub(crate) struct Bounded {
    names: BTreeSet<Box<str>>,
    limit: usize,
    bytes: usize,
    byte_limit: usize,
    warned: bool,
}

impl Bounded {
    pub(crate) const fn new(limit: usize, byte_limit: usize) -> Bounded {
        Bounded {
            names: BTreeSet::new(),
            limit,
            bytes: 0,
            byte_limit,
            warned: false,
        }
    }

    /// Adds `names` while there is room; the first name refused logs one warning.
    pub(crate) fn extend<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        for name in names {
            if self.names.contains(name) {
                continue;
            }
            if self.names.len() >= self.limit || self.bytes + name.len() > self.byte_limit {
                if !self.warned {
                    self.warned = true;
                    tracing::warn!(
                        target: TARGET,
                        limit = self.limit,
                        byte_limit = self.byte_limit,
                        scope = %name.escape_debug(),
                        "Authorize scope guards registered more scope names (or bytes of names) \
                         than the limit; later names are left out of scopes_supported: build \
                         Authorize guards once at startup, not from request data, or name the \
                         list with JwtAuth::scopes_supported"
                    );
                }
                continue;
            }
            self.bytes += name.len();
            self.names.insert(Box::from(name));
        }
    }
}

/// Records the scopes an `Authorize` names (when built).
pub(crate) fn register<'a>(names: impl IntoIterator<Item = &'a str>) {
    // A poisoned lock only means another thread panicked while inserting names: the set is
    // still a set of names.
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    built.extend(names);
}

/// Every scope the guards registered: sorted, without repeats.
pub(crate) fn scopes_supported() -> Vec<String> {
    let mut scopes: BTreeSet<String> = BTreeSet::new();
    for registered in inventory::iter::<RegisteredScopes> {
        scopes.extend(registered.0.iter().map(|name| (*name).to_owned()));
    }
    let built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    scopes.extend(built.names.iter().map(|name| name.to_string()));
    scopes.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::Bounded;

    #[test]
    fn the_registry_stops_growing_at_its_limit() {
        let mut set = Bounded::new(3, 1024);
        set.extend(["a", "b", "a"]);
        set.extend(["c", "d", "e"]);
        let names: Vec<&str> = set.names.iter().map(|name| &**name).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert!(set.warned);
        // A name already held is no growth.
        set.extend(["b"]);
        assert_eq!(set.names.len(), 3);
    }

    #[test]
    fn the_registry_stops_growing_at_its_byte_limit() {
        let mut set = Bounded::new(1024, 10);
        set.extend(["abcd", "efghijk", "efg", "hij"]);
        let names: Vec<&str> = set.names.iter().map(|name| &**name).collect();
        // "efghijk" would make 11 bytes; later names that fit are still added.
        assert_eq!(names, ["abcd", "efg", "hij"]);
        assert!(set.warned);
        set.extend(["x"]);
        assert_eq!((set.names.len(), set.bytes), (3, 10));
    }
}
