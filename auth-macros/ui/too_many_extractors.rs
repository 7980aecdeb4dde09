use actix_web::HttpRequest;
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
    _p: HttpRequest,
) -> &'static str {
    "admin"
}

fn main() {}
