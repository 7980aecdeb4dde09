use auth_actix::require_org_member;

#[require_org_member("admin", org = "org")]
async fn projects() -> &'static str {
    "projects"
}

fn main() {}
