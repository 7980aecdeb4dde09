use auth_actix::require_role;

#[require_role("admin")]
fn admin() -> &'static str {
    "admin"
}

fn main() {}
