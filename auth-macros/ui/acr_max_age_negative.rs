use auth_actix::require_acr;

#[require_acr(max_age = -5)]
async fn transfer() -> &'static str {
    "sent"
}

fn main() {}
