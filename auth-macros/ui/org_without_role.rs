use auth_actix::require_org_role;

#[require_org_role(org = "org")]
async fn invoices() -> &'static str {
    "invoices"
}

fn main() {}
