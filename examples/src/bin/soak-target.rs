//! The app `bench/soak.sh` keeps under load while its identity provider misbehaves: the embedded
//! issuer publishes its next keys ahead of use and rotates to them, goes down for a while, and
//! serves a one-second `max-age`, on a fixed cycle. Not a provider example.
//!
//! Settings: `BIND` (default `127.0.0.1:8080`; loopback only, unless `DEMO_ALLOW_ANY_BIND=1`),
//! `WORKERS` (default 1), `CYCLE_SECS` (default 6: publish the next keys at 0, rotate to them at
//! half the cycle, an outage from two thirds to five sixths), `STORM_FILE` (where to write 1,000
//! tokens with random `kid`s). Tokens live 30 s and DPoP proofs are accepted for 10 s, so every
//! store reaches its steady size within a minute. Prints `BASE=` and `STORM_FILE=` lines, then serves:
//!
//! - `GET /protected` (`Identity`): JWTs, opaque tokens (introspection) and DPoP-bound tokens;
//! - `GET /_mint?kind=jwt|opaque|dpop`: a fresh token (for `dpop`, the token, a space, and a proof
//!   for `GET <BASE>/protected`);
//! - `GET /_stats`: JWKS fetches, introspections, rotations and outages so far.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, Responder, get, web};
use auth_actix::core::Algorithm;
use auth_actix::testing::{DpopKey, TestIssuer};
use auth_actix::{Dpop, Identity, JwtAuth, Verified};
use examples::settings::{address, setting};

/// What the chaos loop has done, for `/_stats`.
#[derive(Default)]
struct Chaos {
    rotations: AtomicU64,
    outages: AtomicU64,
}

struct Minter {
    issuer: TestIssuer,
    key: DpopKey,
    protected_url: String,
}

#[get("/protected")]
async fn protected(identity: Verified<Identity>) -> impl Responder {
    debug_assert!(!identity.subject.is_empty());
    HttpResponse::Ok().body("ok")
}

#[derive(serde::Deserialize)]
struct MintQuery {
    kind: String,
}

#[get("/_mint")]
async fn mint(minter: web::Data<Minter>, query: web::Query<MintQuery>) -> HttpResponse {
    let token = || {
        minter
            .issuer
            .token()
            .subject("soak-user")
            .roles(["viewer"])
            .expires_in(Duration::from_secs(30))
    };
    let body = match query.kind.as_str() {
        "jwt" => token().sign(),
        "opaque" => token().opaque(),
        "dpop" => {
            let bound = token().dpop_bound(&minter.key).sign();
            let proof = minter.key.proof("GET", &minter.protected_url, &bound);
            format!("{bound} {proof}")
        }
        _ => return HttpResponse::BadRequest().body("kind is jwt, opaque or dpop"),
    };
    HttpResponse::Ok().body(body)
}

#[get("/_stats")]
async fn stats(
    minter: web::Data<Minter>,
    auth: web::Data<JwtAuth>,
    chaos: web::Data<Chaos>,
) -> impl Responder {
    HttpResponse::Ok().json(serde_json::json!({
        "jwks_fetches": auth.verifier().jwks_fetches(),
        "introspections": minter.issuer.introspections(),
        "rotations": chaos.rotations.load(Ordering::Relaxed),
        "outages": chaos.outages.load(Ordering::Relaxed),
    }))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind = address("BIND", "127.0.0.1:8080")?;
    // `GET /_mint` hands a token to anyone who asks.
    examples::loopback_only(
        bind,
        "soak-target serves GET /_mint, which hands tokens from its embedded test issuer to anyone",
        "Run it on 127.0.0.1",
    )?;
    let workers: usize = setting("WORKERS").map_or(Ok(1), |workers| workers.parse())?;
    let cycle: u64 = setting("CYCLE_SECS").map_or(Ok(6), |secs| secs.parse())?;
    if cycle < 3 {
        return Err("CYCLE_SECS: at least 3, so keys are learned before they sign".into());
    }
    let issuer = TestIssuer::start_with(&[Algorithm::RS256]).await;
    issuer.set_max_age(Some(1));
    let provider = issuer.provider().introspection(issuer.introspection());

    let listener = std::net::TcpListener::bind(bind)?;
    let base = format!("http://{}", listener.local_addr()?);
    // Proofs are remembered for their whole acceptance window; a 10-second window (5 minutes by
    // default) lets the replay store reach its steady size within a soak of a minute or two.
    let dpop = Dpop::default().proof_age(Duration::from_secs(10), Duration::from_secs(5));
    let auth = JwtAuth::new(provider)?
        .dpop(dpop)?
        .public_origin(&base)?
        .skip(["/_mint", "/_stats"]);
    auth.prefetch().await?;

    let storm_file = setting("STORM_FILE").unwrap_or_else(|| "storm-tokens.txt".to_owned());
    examples::unknown_kids::write_tokens(&issuer, &storm_file, 1000)?;

    let minter = web::Data::new(Minter {
        issuer,
        key: DpopKey::generate(),
        protected_url: format!("{base}/protected"),
    });
    let chaos = web::Data::new(Chaos::default());
    actix_web::rt::spawn(misbehave(minter.clone(), chaos.clone(), cycle));

    let auth_data = web::Data::new(auth.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(minter.clone())
            .app_data(auth_data.clone())
            .app_data(chaos.clone())
            .wrap(auth.clone())
            .service(protected)
            .service(mint)
            .service(stats)
    })
    .workers(workers)
    .backlog(4096)
    .listen(listener)?;
    println!("BASE={base}");
    println!("STORM_FILE={storm_file}");
    std::io::stdout().flush()?;
    server.run().await?;
    Ok(())
}

/// The provider's bad days, every `cycle` seconds: the next keys are published at the start (as
/// Okta, Auth0 and Entra do), signed with from half the cycle (a verifier refreshing at the
/// one-second max-age knows them by then), and the issuer (keys and introspection) is down from
/// two thirds to five sixths of the cycle.
async fn misbehave(minter: web::Data<Minter>, chaos: web::Data<Chaos>, cycle: u64) {
    let tick = Duration::from_millis(cycle * 1000 / 6);
    let issuer = &minter.issuer;
    let chaos: Arc<Chaos> = chaos.into_inner();
    loop {
        issuer.publish_next_keys();
        tokio::time::sleep(tick * 3).await;
        issuer.rotate();
        chaos.rotations.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(tick).await;
        issuer.set_outage(true);
        chaos.outages.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(tick).await;
        issuer.set_outage(false);
        tokio::time::sleep(tick).await;
    }
}
