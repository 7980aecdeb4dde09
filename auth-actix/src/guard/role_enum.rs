//! Roles as an enum, so a misspelled role is a compile error.

/// An enum whose variants are role names; implemented by `#[derive(Role)]`, which also gives the
/// enum an inherent `name()` and `NAMES`, so the trait needs importing only in code generic over
/// role enums.
///
/// ```
/// use auth_actix::Role;
///
/// #[derive(Role)]
/// enum AppRole {
///     #[role("admin")]
///     Administrator,
///     Viewer,
///     SuperUser,
/// }
///
/// assert_eq!(AppRole::Administrator.name(), "admin");
/// assert_eq!(AppRole::Viewer.name(), "viewer");
/// assert_eq!(AppRole::SuperUser.name(), "super_user");
/// assert_eq!(AppRole::NAMES, ["admin", "viewer", "super_user"]);
/// ```
pub trait RoleEnum {
    /// Every variant's role name, in declaration order.
    const NAMES: &'static [&'static str];

    /// Every variant's identifier, in declaration order (for documentation that names them).
    const VARIANTS: &'static [&'static str];

    /// This variant's role name.
    fn name(&self) -> &'static str;
}
