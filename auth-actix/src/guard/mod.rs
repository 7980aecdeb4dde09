//! What a route requires of its caller: a [`Rule`](crate::Rule) (roles, organisation roles,
//! scopes, a person or a machine) and the one check that admits a request against it ([`rule`]),
//! [`Authorize`](crate::Authorize) to put one on a whole scope ([`authorize`]),
//! [`authorize`](crate::authorize) for a handler that checks one itself ([`in_handler`]), the
//! scopes guards register for RFC 9728 metadata ([`scope_registry`]), roles resolved per
//! request ([`role_resolver`]) and roles as an enum ([`role_enum`]). The extractor form,
//! [`Require`](crate::Require), is with the other extractors.

pub(crate) mod authorize;
pub(crate) mod in_handler;
pub(crate) mod role_enum;
pub(crate) mod role_resolver;
pub(crate) mod rule;
pub(crate) mod scope_registry;
