use auth_actix::require_role;

#[require_role("admin", org = "org")]
async fn invoices() -> &'static str {
    "invoices"
}

fn main() {}
