use auth_actix::require_acr;

#[require_acr("silver gold")]
async fn transfer() -> &'static str {
    "sent"
}

fn main() {}
