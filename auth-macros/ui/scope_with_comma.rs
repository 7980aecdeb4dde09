use auth_actix::require_scope;

#[require_scope("read,write")]
async fn tools() -> &'static str {
    "tools"
}

fn main() {}
