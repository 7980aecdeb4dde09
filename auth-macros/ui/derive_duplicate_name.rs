use auth_actix::Role;

#[derive(Role)]
enum AppRole {
    Admin,
    #[role("admin")]
    Administrator,
}

fn main() {}
