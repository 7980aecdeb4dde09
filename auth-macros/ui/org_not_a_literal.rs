use auth_actix::require_org_role;

const ORG: &str = "org";

#[require_org_role("admin", org = ORG)]
async fn invoices() -> &'static str {
    "invoices"
}

fn main() {}
