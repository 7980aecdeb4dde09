//! Every public limit and default, in one place: what a request may carry, how much the stores
//! hold, and the settings a provider starts from. Each is defined beside the code it bounds.
//!
//! ```
//! use auth_core::limits::{DEFAULT_LEEWAY, MAX_LEEWAY, MAX_TOKEN_LEN};
//!
//! assert!(DEFAULT_LEEWAY <= MAX_LEEWAY);
//! assert_eq!(MAX_TOKEN_LEN, 16 * 1024);
//! ```

pub use crate::checks::issuer::TENANT_PLACEHOLDER;
pub use crate::dpop::proof_keys::{DEFAULT_PROOF_KEY_CACHE, MAX_PROOF_KEY_CACHE};
pub use crate::dpop::replay::DEFAULT_REPLAY_CAPACITY;
pub use crate::dpop::{DEFAULT_DPOP_ALGORITHMS, MAX_PROOF_LEN};
pub use crate::introspection::DEFAULT_INTROSPECTION_TTL;
pub use crate::keys::jwks::MAX_KEYS;
pub use crate::provider::{DEFAULT_LEEWAY, MAX_LEEWAY};
pub use crate::revocation::settings::{DEFAULT_MAX_TOKEN_LIFETIME, DEFAULT_REVOCATION_CAPACITY};
pub use crate::token::compact::MAX_TOKEN_LEN;
pub use crate::verified_cache::DEFAULT_CACHE_CAPACITY;
