use auth_actix::require_role;

const ADMIN: &str = "admin";

#[require_role(ADMIN)]
async fn admin() -> &'static str {
    "admin"
}

fn main() {}
