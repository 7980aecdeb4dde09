//! The scopes a service's guards ask for, for `scopes_supported` in RFC 9728 protected-resource
//! metadata (§2): "from the guards that are registered, never an invented list".
//!
//! Three sources, unioned: every guard attribute naming scopes submits its rule where it is
//! written (`inventory`, collected at link time, so a handler counts before its first request);
//! every [`Authorize::any_scope`](crate::Authorize::any_scope) / `all_scopes` registers its names
//! when built; and [`JwtAuth::scopes_supported`](crate::JwtAuth::scopes_supported) names the scopes
//! of hand-written [`Require<R>`](crate::Require) rules and of
//! [`authorize`](crate::authorize) calls, which no macro sees.

use std::collections::BTreeSet;
use std::sync::Mutex;

use crate::guard::rule::Rule;

/// A rule a guard attribute wrote, submitted to the registry where the attribute is.
#[doc(hidden)]
pub struct RegisteredRule(pub &'static Rule);

inventory::collect!(RegisteredRule);

/// Scopes of the `Authorize` middlewares built so far in this process.
static BUILT: Mutex<BTreeSet<Box<str>>> = Mutex::new(BTreeSet::new());

/// Records the scopes an `Authorize` names (when built).
pub(crate) fn register<'a>(names: impl IntoIterator<Item = &'a str>) {
    // A poisoned lock only means another thread panicked while inserting names: the set is
    // still a set of names.
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    built.extend(names.into_iter().map(Box::from));
}

/// Every scope the guards registered, plus `extra`: sorted, without repeats.
pub(crate) fn scopes_supported(extra: &BTreeSet<String>) -> Vec<String> {
    let mut scopes: BTreeSet<String> = extra.clone();
    for registered in inventory::iter::<RegisteredRule> {
        if registered.0.is_scope() {
            scopes.extend(registered.0.names().iter().map(|name| (*name).to_owned()));
        }
    }
    let built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    scopes.extend(built.iter().map(|name| name.to_string()));
    scopes.into_iter().collect()
}
