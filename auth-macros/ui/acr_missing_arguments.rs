use auth_actix::require_acr;

#[require_acr]
async fn transfer() -> &'static str {
    "sent"
}

fn main() {}
