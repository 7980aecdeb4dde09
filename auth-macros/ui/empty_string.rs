use auth_actix::require_scope;

#[require_scope("")]
async fn items() -> &'static str {
    "items"
}

fn main() {}
