use auth_actix::require_role;

#[require_role(any())]
async fn admin() -> &'static str {
    "admin"
}

fn main() {}
