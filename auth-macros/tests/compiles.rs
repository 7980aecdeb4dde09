//! The limits that should compile, compiled with the crate's tests rather than by trybuild: a
//! trybuild run with a case that must pass builds every dependency (`cargo build`, aws-lc
//! included) in its own target directory, while with only failing cases it checks them (`cargo
//! check`); these files compile here against the workspace's own build of the dependencies, and
//! each `main` runs as trybuild's pass cases did.

#[allow(clippy::too_many_arguments)]
#[path = "../ui-pass/fifteen_extractors.rs"]
mod fifteen_extractors;
#[path = "../ui-pass/org_bound_guards.rs"]
mod org_bound_guards;

#[test]
fn fifteen_extractors_and_the_guard_register_as_a_handler() {
    fifteen_extractors::main();
}

#[test]
fn organisation_guards_bound_to_a_path_parameter_register_as_handlers() {
    org_bound_guards::main();
}
