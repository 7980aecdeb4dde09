use auth_actix::Role;

#[derive(Role)]
struct Admin;

fn main() {}
