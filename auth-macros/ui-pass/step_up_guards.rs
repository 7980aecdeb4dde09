//! Step-up guards in every form register as handlers, alone and stacked with a scope guard.
use actix_web::{post, App};
use auth_actix::{require_acr, require_scope};

#[post("/payments")]
#[require_acr("urn:okta:loa:2fa:any")]
async fn pay() -> &'static str {
    "paid"
}

#[require_acr(any("urn:okta:loa:2fa:any", "urn:okta:loa:2fa:any:ifpossible"))]
async fn either() -> &'static str {
    "either"
}

#[require_acr("2", max_age = 300)]
async fn recent_level_two() -> &'static str {
    "recent"
}

#[require_acr(max_age = 300)]
async fn recent() -> &'static str {
    "recent"
}

#[require_scope("reports:read")]
#[require_acr("gold", max_age = 60)]
async fn reports() -> &'static str {
    "reports"
}

fn main() {
    let _ = App::new()
        .service(pay)
        .route("/either", actix_web::web::post().to(either))
        .route("/recent2", actix_web::web::post().to(recent_level_two))
        .route("/recent", actix_web::web::post().to(recent))
        .route("/reports", actix_web::web::post().to(reports));
}
