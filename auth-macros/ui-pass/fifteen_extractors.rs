//! Fifteen extractors plus the guard is sixteen: actix's limit, and it compiles.
use actix_web::{App, HttpRequest, web};
use auth_actix::require_role;

#[require_role("admin")]
async fn admin(
    _a: HttpRequest,
    _b: HttpRequest,
    _c: HttpRequest,
    _d: HttpRequest,
    _e: HttpRequest,
    _f: HttpRequest,
    _g: HttpRequest,
    _h: HttpRequest,
    _i: HttpRequest,
    _j: HttpRequest,
    _k: HttpRequest,
    _l: HttpRequest,
    _m: HttpRequest,
    _n: HttpRequest,
    _o: HttpRequest,
) -> &'static str {
    "admin"
}

pub fn main() {
    let _ = App::new().route("/admin", web::get().to(admin));
}
