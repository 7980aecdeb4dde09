use auth_actix::require_role;

#[require_role(anyy("owner", "admin"))]
async fn admin() -> &'static str {
    "admin"
}

fn main() {}
