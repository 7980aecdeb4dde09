use auth_actix::require_role;

#[require_role(any("admin", 42))]
async fn admin() -> &'static str {
    "admin"
}

fn main() {}
