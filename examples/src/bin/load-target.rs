//! The app `bench/load.sh`, `bench/fleet.sh` and `bench/peers/run.sh` measure: an unprotected route
//! and a protected one, in one server, on an embedded issuer (or, for a fleet, another instance's).
//! Not a provider example.
//!
//! Settings: `BIND` (default `127.0.0.1:8080`; loopback only with the embedded issuer, unless
//! `DEMO_ALLOW_ANY_BIND=1`), `WORKERS` (default 1), `VERIFIED_CACHE` (capacity; `0` turns the cache
//! off; default the library's), `STORM_FILE` (where to write 1,000 tokens with random `kid`s).
//! Prints `BASE=`, `TOKEN=`, `STORM_FILE=` and `READY=` lines, then serves:
//! `GET /open` (no authentication), `GET /protected` (`Identity`), `GET /signature` (no
//! authentication, but one RS256 check of the bearer's signature: the floor an uncached protected
//! request cannot go below), `GET /_stats` (the issuer, this instance's JWKS fetches, and the JWKS
//! responses its embedded issuer served to every instance).
//!
//! For `bench/fleet.sh`, several instances share one issuer: `ISSUER` (another instance's issuer
//! URL, from its `/_stats`; this one then starts none and prints only `BASE=` and `READY=`),
//! `MAX_AGE` (seconds the embedded issuer allows the JWKS to be cached, default 300) and
//! `UNKNOWN_KID_COOLDOWN` (seconds between unknown-`kid` refetches, default 1).
//!
//! For `bench/dpop.sh`: `DPOP_PROOFS` (proofs to write per client key, default 0: none) writes,
//! once the address is known, `DPOP_PROOFS` fresh proofs for `GET /protected` per client key (one
//! ES256, one EdDSA) to `DPOP_DIR` (default `.`), one a line, and prints `DPOP_TOKEN_ES256=`,
//! `DPOP_TOKEN_EDDSA=` (tokens bound to those keys), `DPOP_PROOFS_ES256=` and `DPOP_PROOFS_EDDSA=`
//! (the files). A DPoP request is `GET /protected` with `Authorization: DPoP <token>` and a proof;
//! its floors, `GET /floor/es256` and `GET /floor/eddsa`, answer like `/open` after one check of
//! the `DPoP` header's signature with the client's key parsed once, and nothing else.
//! `DPOP_KEY_CACHE` sets [`Dpop::key_cache`](auth_actix::Dpop::key_cache) (`0`: every proof's key
//! parsed). `DPOP_REDIS` (a `redis://` URL; the server must not evict) remembers proofs there
//! instead of in memory. Proofs are accepted for an hour and remembered without a per-key share (a bench
//! client sends more than any real one), so the files can be replayed through a whole run.

use std::io::Write;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, Responder, get, web};
use auth_actix::core::{Algorithm, KeySettings};
use auth_actix::testing::{DpopKey, TestIssuer};
use auth_actix::{Dpop, Identity, JwtAuth, Provider, Verified};
use examples::settings::{address, setting};
use examples::signature_floor::SignatureFloor;

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

/// The open route plus one signature check on the bearer token and nothing else: the physical
/// limit of an uncached protected request, measured in the server. `503` without an embedded
/// issuer, or while its JWKS cannot be fetched.
#[get("/signature")]
async fn signature(request: HttpRequest, floor: web::Data<Floor>) -> HttpResponse {
    let Some(jwks_url) = &floor.jwks_url else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    // Fetched on first use, so instances that never serve this route (fleet.sh counts every JWKS
    // response the issuer sends) fetch nothing for it.
    let Ok(key) = floor
        .key
        .get_or_try_init(|| SignatureFloor::fetch(jwks_url))
        .await
    else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    if key.check(token) {
        HttpResponse::Ok().body("ok")
    } else {
        HttpResponse::Unauthorized().finish()
    }
}

/// The open route plus one check of the DPoP proof's signature with the client's ES256 key,
/// parsed once: the floor of a DPoP request. `401` without a `DPoP` header that verifies.
#[get("/floor/es256")]
async fn floor_es256(request: HttpRequest, floors: web::Data<ProofFloors>) -> HttpResponse {
    proof_floor(&request, &floors.es256)
}

/// The same with the client's Ed25519 key.
#[get("/floor/eddsa")]
async fn floor_eddsa(request: HttpRequest, floors: web::Data<ProofFloors>) -> HttpResponse {
    proof_floor(&request, &floors.eddsa)
}

fn proof_floor(request: &HttpRequest, key: &SignatureFloor) -> HttpResponse {
    let proof = request
        .headers()
        .get("dpop")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if key.check(proof) {
        HttpResponse::Ok().body("ok")
    } else {
        HttpResponse::Unauthorized().finish()
    }
}

/// The DPoP clients' keys, parsed once, for the floor routes.
struct ProofFloors {
    es256: SignatureFloor,
    eddsa: SignatureFloor,
}

/// The key `/signature` checks with: the embedded issuer's, taken from its JWKS.
struct Floor {
    jwks_url: Option<String>,
    key: tokio::sync::OnceCell<SignatureFloor>,
}

/// The issuer this instance trusts, and the embedded one when it runs it.
struct Issuer {
    url: String,
    embedded: Option<TestIssuer>,
}

#[get("/_stats")]
async fn stats(issuer: web::Data<Issuer>, auth: web::Data<JwtAuth>) -> impl Responder {
    let fetches = auth.verifier().jwks_fetches();
    let served = issuer.embedded.as_ref().map(TestIssuer::jwks_fetches);
    HttpResponse::Ok().json(serde_json::json!({
        "issuer": issuer.url,
        "jwks_fetches": fetches,
        "issuer_jwks_served": served,
    }))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind = address("BIND", "127.0.0.1:8080")?;
    let workers: usize = setting("WORKERS").map_or(Ok(1), |workers| workers.parse())?;
    let cooldown: u64 = setting("UNKNOWN_KID_COOLDOWN").map_or(Ok(1), |secs| secs.parse())?;
    let key_settings = KeySettings {
        unknown_kid_cooldown: Duration::from_secs(cooldown),
        ..TestIssuer::fast_key_settings()
    };
    let (issuer, provider) = match setting("ISSUER") {
        Some(url) => {
            let provider = Provider::oidc(url.clone())
                .audience("test-api")
                .algorithms([Algorithm::RS256])
                .key_settings(key_settings);
            let issuer = Issuer {
                url,
                embedded: None,
            };
            (issuer, provider)
        }
        None => {
            examples::loopback_only(
                bind,
                "load-target would run on its embedded test issuer and print an admin token for it",
                "Give another instance's issuer with ISSUER",
            )?;
            let embedded = TestIssuer::start_with(&[Algorithm::RS256]).await;
            if let Some(max_age) = setting("MAX_AGE") {
                embedded.set_max_age(Some(max_age.parse()?));
            }
            let provider = embedded.provider().key_settings(key_settings);
            let issuer = Issuer {
                url: embedded.issuer().to_owned(),
                embedded: Some(embedded),
            };
            (issuer, provider)
        }
    };
    let mut auth = JwtAuth::new(provider)?.skip([
        "/open",
        "/signature",
        "/floor/es256",
        "/floor/eddsa",
        "/_stats",
    ]);
    // A bench client sends more proofs than any real one, and replays the files through a run.
    let mut dpop = Dpop::default()
        .proof_age(Duration::from_secs(3600), Duration::from_secs(30))
        .replay_capacity(4_000_000)
        .replay_per_key(4_000_000);
    if let Some(keys) = setting("DPOP_KEY_CACHE") {
        dpop = dpop.key_cache(
            keys.parse()
                .map_err(|err| format!("DPOP_KEY_CACHE={keys:?}: {err}"))?,
        );
    }
    if let Some(url) = setting("DPOP_REDIS") {
        dpop = dpop.redis(&url);
    }
    auth = auth.dpop(dpop)?;
    if let Some(capacity) = setting("VERIFIED_CACHE") {
        auth = auth.verified_cache(
            capacity
                .parse()
                .map_err(|err| format!("VERIFIED_CACHE={capacity:?}: {err}"))?,
        );
    }
    auth.prefetch().await?;

    let es256 = DpopKey::generate();
    let eddsa = DpopKey::generate_ed25519();
    let floors = web::Data::new(ProofFloors {
        es256: SignatureFloor::for_proofs(&es256)?,
        eddsa: SignatureFloor::for_proofs(&eddsa)?,
    });
    let mut announce = Vec::new();
    let mut bound = Vec::new();
    if let Some(embedded) = &issuer.embedded {
        for (name, key) in [("ES256", &es256), ("EDDSA", &eddsa)] {
            let token = embedded
                .token()
                .subject("user-3f1c9a7e-4b8d-4e2a-9c61-5d0e8f7a2b13")
                .email("someone@example.com")
                .roles(["admin", "viewer"])
                .scopes(["openid", "profile", "read:items", "write:items"])
                .dpop_bound(key)
                .sign();
            announce.push(format!("DPOP_TOKEN_{name}={token}"));
            bound.push((name, key, token));
        }
        let token = embedded
            .token()
            .subject("user-3f1c9a7e-4b8d-4e2a-9c61-5d0e8f7a2b13")
            .email("someone@example.com")
            .roles(["admin", "viewer"])
            .scopes(["openid", "profile", "read:items", "write:items"])
            .sign();
        let storm_file = setting("STORM_FILE").unwrap_or_else(|| "storm-tokens.txt".to_owned());
        examples::unknown_kids::write_tokens(embedded, &storm_file, 1000)?;
        announce.push(format!("TOKEN={token}"));
        announce.push(format!("STORM_FILE={storm_file}"));
    }

    let floor = web::Data::new(Floor {
        jwks_url: issuer.embedded.as_ref().map(TestIssuer::jwks_url),
        key: tokio::sync::OnceCell::new(),
    });
    let issuer = web::Data::new(issuer);
    let auth_data = web::Data::new(auth.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(issuer.clone())
            .app_data(auth_data.clone())
            .app_data(floor.clone())
            .app_data(floors.clone())
            .wrap(auth.clone())
            .service(open)
            .service(protected)
            // After `/protected`, so the route lookup in front of it costs what it did before.
            .service(signature)
            .service(floor_es256)
            .service(floor_eddsa)
            .service(stats)
    })
    .workers(workers)
    .backlog(4096)
    .bind(bind)?;
    let base = format!("http://{}", server.addrs().first().unwrap_or(&bind));
    let proofs: usize = setting("DPOP_PROOFS").map_or(Ok(0), |count| count.parse())?;
    if proofs > 0 {
        let dir = setting("DPOP_DIR").unwrap_or_else(|| ".".to_owned());
        let url = format!("{base}/protected");
        for (name, key, token) in &bound {
            let file = format!("{dir}/proofs-{}.txt", name.to_ascii_lowercase());
            let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
            for _ in 0..proofs {
                writeln!(out, "{}", key.proof("GET", &url, token))?;
            }
            out.flush()?;
            announce.push(format!("DPOP_PROOFS_{name}={file}"));
        }
    }
    announce.push("READY=1".to_owned());
    println!("BASE={base}");
    for line in announce {
        println!("{line}");
    }
    std::io::stdout().flush()?;
    server.run().await?;
    Ok(())
}
