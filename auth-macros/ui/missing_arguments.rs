use auth_actix::require_role;

#[require_role]
async fn admin() -> &'static str {
    "admin"
}

fn main() {}
