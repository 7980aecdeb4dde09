use auth_actix::require_role;

#[require_role(any("owner", all("admin", "auditor")))]
async fn admin() -> &'static str {
    "admin"
}

fn main() {}
