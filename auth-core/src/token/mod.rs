//! The token as it arrives and as it comes out verified.
//!
//! A request's token is found by a [`source::TokenSource`], split as a compact JWS
//! ([`compact`]), and its payload read in place ([`json`]), named by claim paths
//! ([`claim_path`]) with its dates read by one rule ([`date`]). Every later stage (the claim
//! checks, the identity mapping, the verified token) reads claims through these, never through a
//! `serde_json::Map` of its own. What comes out is a [`verified::VerifiedToken`], whose claims
//! deserialize into [`claims::Claims`].

pub(crate) mod claim_path;
pub(crate) mod claims;
pub(crate) mod compact;
pub(crate) mod date;
pub(crate) mod json;
pub(crate) mod source;
pub(crate) mod verified;
