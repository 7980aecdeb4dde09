//! What the middleware reads off a request, before anything is verified: where the token is
//! ([`token`]: one lookup driven by the configured token sources; a new source is added there),
//! which origin the request addresses and comes from ([`origin`]), whether a cookie token may act
//! for it ([`cookie_site`]), whether it is a CORS preflight ([`preflight`]), which protected
//! resource it belongs to ([`resource`]), and what the
//! configured paths ask of it ([`paths`]). Nothing here decides a request: `state` does.

pub(crate) mod cookie_site;
pub(crate) mod origin;
pub(crate) mod paths;
pub(crate) mod preflight;
pub(crate) mod resource;
pub(crate) mod token;
