//! Heap allocations per request, counted by a wrapping global allocator: the verifier alone (cache
//! miss and hit) and whole Actix requests (open route against protected route, with and without the
//! cache). Both routes get the same request (the bearer header included; the open route ignores it)
//! and answer the same body, so the difference is what authentication allocates.
//!
//! ```text
//! cargo bench -p auth-actix --features testing --bench allocations
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::{App, HttpResponse, test, web};
use auth_actix::testing::{TestIssuer, TestRequestExt};
use auth_actix::{Identity, JwtAuth, StandardClaims, Verified};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const ROUNDS: u64 = 200;

/// Average allocations and bytes per round of `f`, after a warm-up round.
async fn per_round<F, Fut>(mut f: F) -> (f64, f64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    f().await;
    let (a0, b0) = (
        ALLOCATIONS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    for _ in 0..ROUNDS {
        f().await;
    }
    let (a1, b1) = (
        ALLOCATIONS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    (
        (a1 - a0) as f64 / ROUNDS as f64,
        (b1 - b0) as f64 / ROUNDS as f64,
    )
}

fn main() {
    actix_web::rt::System::new().block_on(async {
        let issuer = TestIssuer::start().await;
        let token = issuer
            .token()
            .subject("user-3f1c9a7e-4b8d-4e2a-9c61-5d0e8f7a2b13")
            .email("someone@example.com")
            .roles(["admin", "viewer"])
            .scopes(["openid", "profile", "read:items", "write:items"])
            .sign();
        let cached = JwtAuth::new(issuer.provider()).unwrap().skip(["/open"]);
        cached.prefetch().await.unwrap();
        let uncached = cached.clone().verified_cache(0);

        let mut rows = Vec::new();
        let verifier = uncached.verifier().clone();
        rows.push((
            "verifier: verify_token, no cache",
            per_round(|| async { verifier.verify_token(&token).await.map(drop).unwrap() }).await,
        ));
        let verifier = cached.verifier().clone();
        rows.push((
            "verifier: verify_token, cache hit",
            per_round(|| async { verifier.verify_token(&token).await.map(drop).unwrap() }).await,
        ));
        rows.push((
            "verifier: verify::<StandardClaims>, cache hit",
            per_round(|| async {
                verifier
                    .verify::<StandardClaims>(&token)
                    .await
                    .map(drop)
                    .unwrap()
            })
            .await,
        ));

        for (label_open, label_protected, auth) in [
            (
                "actix: GET /open (no auth check)",
                "actix: GET /protected, cache hit",
                cached.clone(),
            ),
            (
                "actix: GET /open (second app)",
                "actix: GET /protected, no cache",
                uncached.clone(),
            ),
        ] {
            let app = test::init_service(
                App::new()
                    .wrap(auth)
                    .route(
                        "/open",
                        web::get().to(|| async { HttpResponse::Ok().body("ok") }),
                    )
                    .route(
                        "/protected",
                        web::get().to(|id: Verified<Identity>| async move {
                            debug_assert!(!id.subject.is_empty());
                            HttpResponse::Ok().body("ok")
                        }),
                    ),
            )
            .await;
            rows.push((
                label_open,
                per_round(|| async {
                    let response = test::call_service(
                        &app,
                        test::TestRequest::get()
                            .uri("/open")
                            .bearer(&token)
                            .to_request(),
                    )
                    .await;
                    assert!(response.status().is_success());
                })
                .await,
            ));
            rows.push((
                label_protected,
                per_round(|| async {
                    let response = test::call_service(
                        &app,
                        test::TestRequest::get()
                            .uri("/protected")
                            .bearer(&token)
                            .to_request(),
                    )
                    .await;
                    assert!(response.status().is_success());
                })
                .await,
            ));
        }

        println!("| what | allocations | bytes |");
        println!("|---|---:|---:|");
        for (label, (allocations, bytes)) in rows {
            println!("| {label} | {allocations:.1} | {bytes:.0} |");
        }
    });
}
