use auth_actix::require_acr;

#[require_acr(all("a", "b"))]
async fn transfer() -> &'static str {
    "sent"
}

fn main() {}
