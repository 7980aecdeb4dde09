use auth_actix::{require_role, Role};

#[derive(Role)]
enum AppRole {
    Admin,
    Viewer,
}

#[require_role(AppRole::Admn)]
async fn admin() -> &'static str {
    "admin"
}

fn main() {
    let _ = AppRole::Viewer;
}
