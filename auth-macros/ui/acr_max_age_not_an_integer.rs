use auth_actix::require_acr;

#[require_acr("urn:okta:loa:2fa:any", max_age = "300")]
async fn transfer() -> &'static str {
    "sent"
}

fn main() {}
