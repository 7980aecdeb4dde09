use auth_actix::require_role;

#[require_role("owner", "admin")]
async fn admin() -> &'static str {
    "admin"
}

fn main() {}
