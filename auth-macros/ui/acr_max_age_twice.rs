use auth_actix::require_acr;

#[require_acr(max_age = 300, max_age = 60)]
async fn transfer() -> &'static str {
    "sent"
}

fn main() {}
