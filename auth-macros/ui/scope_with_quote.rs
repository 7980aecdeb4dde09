use auth_actix::require_scope;

#[require_scope(any("read", "x\", error=\"invalid_token"))]
async fn tools() -> &'static str {
    "tools"
}

fn main() {}
