//! See benches/backends.rs.
