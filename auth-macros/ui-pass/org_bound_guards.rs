//! Organisation guards bound to a path parameter, in every form, register as handlers.
use actix_web::{App, post, web};
use auth_actix::{Role, require_org_member, require_org_role};

#[derive(Role)]
enum OrgRole {
    Owner,
    Admin,
}

#[post("/orgs/{org}/invoices")]
#[require_org_role("admin", org = "org")]
async fn create_invoice(path: web::Path<String>) -> String {
    path.into_inner()
}

#[require_org_role(any(OrgRole::Owner, "billing"), org = "tenant")]
async fn billing() -> &'static str {
    "billing"
}

#[require_org_role(all(OrgRole::Owner, OrgRole::Admin), org = "org")]
async fn close() -> &'static str {
    "closed"
}

#[require_org_member(org = "org")]
async fn projects() -> &'static str {
    "projects"
}

pub fn main() {
    let _ = App::new()
        .service(create_invoice)
        .route("/tenants/{tenant}/billing", web::get().to(billing))
        .route("/orgs/{org}/close", web::post().to(close))
        .route("/orgs/{org}/projects", web::get().to(projects));
}
