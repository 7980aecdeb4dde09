use auth_actix::require_user;

#[require_user("admin")]
async fn password() -> &'static str {
    "people only"
}

fn main() {}
