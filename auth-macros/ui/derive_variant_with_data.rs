use auth_actix::Role;

#[derive(Role)]
enum AppRole {
    Admin,
    Custom(String),
}

fn main() {}
