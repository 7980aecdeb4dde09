use auth_actix::require_role;

#[require_role(any("owner", "admin", "owner"))]
async fn admin() -> &'static str {
    "admin"
}

fn main() {}
