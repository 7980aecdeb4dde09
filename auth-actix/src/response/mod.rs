//! What a decision turns into: the response a refused request gets ([`rejection`]: the JSON body,
//! `WWW-Authenticate`, `Retry-After`) and the one `tracing` event and counter each request leaves
//! ([`audit`], fed a view of the decision, so it reads nothing of how the decision was made);
//! and the RFC 9728 metadata served for each protected resource ([`resource_metadata`]).

pub(crate) mod audit;
pub(crate) mod rejection;
pub(crate) mod resource_metadata;

// Here rather than in `audit`: `rejection` logs under it too, and `audit` reads rejections.
/// Target of every decision event.
pub const TARGET: &str = "auth";
