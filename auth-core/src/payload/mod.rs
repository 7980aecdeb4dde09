//! Reading a token's claims: the payload read in place, dotted claim paths into it, and its dates.
//!
//! Below every stage that looks at claims (the identity mapping, the claim checks, the verified
//! token): each reads the payload through these, never through a `serde_json::Map` of its own.

pub(crate) mod claim_path;
pub(crate) mod date;
pub(crate) mod json;
