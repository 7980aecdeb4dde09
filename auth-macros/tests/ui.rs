//! Compile-time behaviour of the attribute and derive macros: every misuse is an error at the
//! offending token (the committed `.stderr` files). The limits that should compile do, in
//! `compiles.rs`: with only failing cases, trybuild checks its dependencies instead of building them.

#[test]
fn macro_misuse_is_a_precise_compile_error() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
}
