use auth_actix::require_org_member;

#[require_org_member]
async fn projects() -> &'static str {
    "projects"
}

fn main() {}
