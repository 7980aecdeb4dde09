//! Types the attribute macros expand to. A rule is spelled as a type, so the guard needs no item of
//! its own (none can be declared inside an `impl` block) and its role names are `'static` slices
//! built at compile time.

use std::marker::PhantomData;

use crate::extract::require::Require;
use crate::guard::role_enum::RoleEnum;
use crate::guard::rule::{NamedRule, Rule};

pub use crate::guard::scope_registry::RegisteredScopes;
/// The registry guard attributes submit their scope names to (`scopes_supported`).
pub use inventory;

/// The rule of a guard type an attribute wrote (`Require<R>`), and its scopes for the registry.
pub trait GuardRule {
    /// The rule.
    const RULE: Rule;
    /// The scope names the rule asks for: none unless it is a scope rule.
    const SCOPES: &'static [&'static str] = if Self::RULE.is_scope() {
        Self::RULE.names()
    } else {
        &[]
    };
}

impl<R: NamedRule> GuardRule for Require<R> {
    const RULE: Rule = R::RULE;
}

/// A name known at compile time.
pub trait Name {
    /// The name.
    const NAME: &'static str;
}

/// Longest role or scope name a literal may spell (8 chunks of 16 bytes).
pub const MAX_LITERAL_LEN: usize = 128;

/// A string literal carried in const parameters: its length and its bytes, little-endian, 16 per
/// chunk.
pub struct Lit<
    const LEN: usize,
    const C0: u128,
    const C1: u128,
    const C2: u128,
    const C3: u128,
    const C4: u128,
    const C5: u128,
    const C6: u128,
    const C7: u128,
>;

const fn unpack(chunks: [u128; 8]) -> [u8; MAX_LITERAL_LEN] {
    let mut bytes = [0u8; MAX_LITERAL_LEN];
    let mut i = 0;
    while i < MAX_LITERAL_LEN {
        bytes[i] = (chunks[i / 16] >> ((i % 16) * 8)) as u8;
        i += 1;
    }
    bytes
}

impl<
    const LEN: usize,
    const C0: u128,
    const C1: u128,
    const C2: u128,
    const C3: u128,
    const C4: u128,
    const C5: u128,
    const C6: u128,
    const C7: u128,
> Lit<LEN, C0, C1, C2, C3, C4, C5, C6, C7>
{
    const BYTES: &'static [u8; MAX_LITERAL_LEN] = &unpack([C0, C1, C2, C3, C4, C5, C6, C7]);
}

impl<
    const LEN: usize,
    const C0: u128,
    const C1: u128,
    const C2: u128,
    const C3: u128,
    const C4: u128,
    const C5: u128,
    const C6: u128,
    const C7: u128,
> Name for Lit<LEN, C0, C1, C2, C3, C4, C5, C6, C7>
{
    const NAME: &'static str = match std::str::from_utf8(Self::BYTES.split_at(LEN).0) {
        Ok(name) => name,
        Err(_) => panic!("role name is not UTF-8"),
    };
}

/// The name of the `I`th variant of a `#[derive(Role)]` enum.
pub struct Variant<E, const I: usize>(PhantomData<fn() -> E>);

impl<E: RoleEnum, const I: usize> Name for Variant<E, I> {
    const NAME: &'static str = E::NAMES[I];
}

/// A tuple of [`Name`]s.
pub trait Names {
    /// The names, in order.
    const NAMES: &'static [&'static str];
}

macro_rules! names_for_tuples {
    ($(($($name:ident),+)),+ $(,)?) => {
        $(
            impl<$($name: Name),+> Names for ($($name,)+) {
                const NAMES: &'static [&'static str] = &[$($name::NAME),+];
            }
        )+
    };
}

names_for_tuples!(
    (A),
    (A, B),
    (A, B, C),
    (A, B, C, D),
    (A, B, C, D, E),
    (A, B, C, D, E, F),
    (A, B, C, D, E, F, G),
    (A, B, C, D, E, F, G, H),
    (A, B, C, D, E, F, G, H, I),
    (A, B, C, D, E, F, G, H, I, J),
    (A, B, C, D, E, F, G, H, I, J, K),
    (A, B, C, D, E, F, G, H, I, J, K, L),
);

/// A [`NamedRule`] type per [`Rule`] constructor, named after it.
macro_rules! named_rule {
    ($($(#[$doc:meta])* $ty:ident => $constructor:ident),+ $(,)?) => {
        $(
            $(#[$doc])*
            pub struct $ty<N>(PhantomData<fn() -> N>);

            impl<N: Names + 'static> NamedRule for $ty<N> {
                const RULE: Rule = Rule::$constructor(N::NAMES);
            }
        )+
    };
}

named_rule!(
    /// [`Rule::any_role`].
    AnyRole => any_role,
    /// [`Rule::all_roles`].
    AllRoles => all_roles,
    /// [`Rule::any_org_role`].
    AnyOrgRole => any_org_role,
    /// [`Rule::all_org_roles`].
    AllOrgRoles => all_org_roles,
    /// [`Rule::any_scope`].
    AnyScope => any_scope,
    /// [`Rule::all_scopes`].
    AllScopes => all_scopes,
);

/// [`Rule::user`].
pub struct User;

impl NamedRule for User {
    const RULE: Rule = Rule::user();
}

/// [`Rule::service`].
pub struct Service;

impl NamedRule for Service {
    const RULE: Rule = Rule::service();
}

/// [`Rule::any_org_role`] bound to the path parameter `P` ([`Rule::in_path_param`]).
pub struct AnyOrgRoleIn<N, P>(PhantomData<fn() -> (N, P)>);

impl<N: Names + 'static, P: Name + 'static> NamedRule for AnyOrgRoleIn<N, P> {
    const RULE: Rule = Rule::any_org_role(N::NAMES).in_path_param(P::NAME);
}

/// [`Rule::all_org_roles`] bound to the path parameter `P` ([`Rule::in_path_param`]).
pub struct AllOrgRolesIn<N, P>(PhantomData<fn() -> (N, P)>);

impl<N: Names + 'static, P: Name + 'static> NamedRule for AllOrgRolesIn<N, P> {
    const RULE: Rule = Rule::all_org_roles(N::NAMES).in_path_param(P::NAME);
}

/// [`Rule::org_member`] bound to the path parameter `P` ([`Rule::in_path_param`]).
pub struct OrgMemberIn<P>(PhantomData<fn() -> P>);

impl<P: Name + 'static> NamedRule for OrgMemberIn<P> {
    const RULE: Rule = Rule::org_member().in_path_param(P::NAME);
}

/// [`Rule::acr`]: a step-up authentication with one of the `acr` values `N`.
pub struct Acr<N>(PhantomData<fn() -> N>);

impl<N: Names + 'static> NamedRule for Acr<N> {
    const RULE: Rule = Rule::acr(N::NAMES);
}

/// [`Rule::acr`] with [`Rule::max_age`]: one of the `acr` values `N`, at most `SECONDS` ago.
pub struct AcrMaxAge<N, const SECONDS: u64>(PhantomData<fn() -> N>);

impl<N: Names + 'static, const SECONDS: u64> NamedRule for AcrMaxAge<N, SECONDS> {
    const RULE: Rule = Rule::acr(N::NAMES).max_age(SECONDS);
}

/// [`Rule::authenticated_within`]: the user authenticated at most `SECONDS` ago.
pub struct MaxAge<const SECONDS: u64>;

impl<const SECONDS: u64> NamedRule for MaxAge<SECONDS> {
    const RULE: Rule = Rule::authenticated_within(SECONDS);
}
