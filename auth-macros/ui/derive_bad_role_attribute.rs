use auth_actix::Role;

#[derive(Role)]
enum AppRole {
    #[role(admin)]
    Admin,
}

fn main() {}
