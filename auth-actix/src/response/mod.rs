//! What a decision turns into: the response a refused request gets ([`rejection`]: the JSON body,
//! `WWW-Authenticate`, `Retry-After`) and the one `tracing` event and counter each request leaves
//! ([`audit`], fed a view of the decision, so it reads nothing of how the decision was made).

pub(crate) mod audit;
pub(crate) mod rejection;
