use auth_actix::require_role;

struct Handlers;

impl Handlers {
    #[require_role("admin")]
    async fn admin(&self) -> &'static str {
        "admin"
    }
}

fn main() {}
