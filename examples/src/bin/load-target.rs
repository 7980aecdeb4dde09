//! The app `bench/load.sh` measures: an unprotected route and a protected one, in one server, on
//! the embedded issuer. Not a provider example.
//!
//! Settings: `BIND` (default `127.0.0.1:8080`), `WORKERS` (default 1), `VERIFIED_CACHE` (capacity;
//! `0` turns the cache off; default the library's), `STORM_FILE` (where to write 1,000 tokens with
//! random `kid`s). Prints `BASE=`, `TOKEN=` and `STORM_FILE=` lines, then serves: `GET /open` (no
//! authentication), `GET /protected` (`Identity`), `GET /_stats` (JWKS fetches so far).

use std::io::Write;
use std::net::SocketAddr;

use actix_web::{App, HttpResponse, HttpServer, Responder, get, web};
use auth_actix::testing::TestIssuer;
use auth_actix::{Algorithm, Identity, JwtAuth, Verified};

#[get("/open")]
async fn open() -> impl Responder {
    HttpResponse::Ok().body("ok")
}

/// Same body as `/open`, so the two differ only by authentication.
#[get("/protected")]
async fn protected(identity: Verified<Identity>) -> impl Responder {
    debug_assert!(!identity.subject.is_empty());
    HttpResponse::Ok().body("ok")
}

#[get("/_stats")]
async fn stats(issuer: web::Data<String>, auth: web::Data<JwtAuth>) -> impl Responder {
    let fetches = auth.verifier().jwks_fetches();
    HttpResponse::Ok()
        .json(serde_json::json!({ "issuer": issuer.as_str(), "jwks_fetches": fetches }))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind: SocketAddr = setting("BIND")
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
        .parse()?;
    let workers: usize = setting("WORKERS").map_or(Ok(1), |workers| workers.parse())?;
    let issuer = TestIssuer::start_with(&[Algorithm::RS256]).await;
    let mut auth = JwtAuth::new(issuer.provider())?.skip(["/open", "/_stats"]);
    if let Some(capacity) = setting("VERIFIED_CACHE") {
        auth = auth.verified_cache(
            capacity
                .parse()
                .map_err(|err| format!("VERIFIED_CACHE={capacity:?}: {err}"))?,
        );
    }
    auth.prefetch().await?;

    let token = issuer
        .token()
        .subject("user-3f1c9a7e-4b8d-4e2a-9c61-5d0e8f7a2b13")
        .email("someone@example.com")
        .roles(["admin", "viewer"])
        .scopes(["openid", "profile", "read:items", "write:items"])
        .sign();
    let storm_file = setting("STORM_FILE").unwrap_or_else(|| "storm-tokens.txt".to_owned());
    examples::unknown_kids::write_tokens(&issuer, &storm_file, 1000)?;

    let issuer_url = web::Data::new(issuer.issuer().to_owned());
    let auth_data = web::Data::new(auth.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(issuer_url.clone())
            .app_data(auth_data.clone())
            .wrap(auth.clone())
            .service(open)
            .service(protected)
            .service(stats)
    })
    .workers(workers)
    .backlog(4096)
    .bind(bind)?;
    let base = format!("http://{}", server.addrs().first().unwrap_or(&bind));
    println!("BASE={base}");
    println!("TOKEN={token}");
    println!("STORM_FILE={storm_file}");
    std::io::stdout().flush()?;
    server.run().await?;
    drop(issuer);
    Ok(())
}

/// An environment variable; empty counts as unset.
fn setting(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}
