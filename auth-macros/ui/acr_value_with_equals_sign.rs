use auth_actix::require_acr;

#[require_acr("urn:loa=2")]
async fn transfer() -> &'static str {
    "sent"
}

fn main() {}
