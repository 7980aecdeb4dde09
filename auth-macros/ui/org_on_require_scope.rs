use auth_actix::require_scope;

#[require_scope("write:invoices", org = "org")]
async fn invoices() -> &'static str {
    "invoices"
}

fn main() {}
