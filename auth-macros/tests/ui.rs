//! Compile-time behaviour of the attribute and derive macros: every misuse is an error at the
//! offending token (the committed `.stderr` files), and the limits that should compile do.

#[test]
fn macro_misuse_is_a_precise_compile_error() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
    cases.pass("ui-pass/*.rs");
}
