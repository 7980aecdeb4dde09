//! A fixed number of verified-token cache hits, for instruction-level profiling, which is stable on
//! noisy machines where timings are not:
//!
//! ```sh
//! cargo build --release -p auth-core --features testing --example cache_hit_loop
//! valgrind --tool=callgrind target/release/examples/cache_hit_loop 20000
//! valgrind --tool=callgrind target/release/examples/cache_hit_loop 20000 claims
//! ```
//!
//! With `claims`, each hit also reads the payload into `StandardClaims`, as the `Claims<T>`
//! extractor does.

use auth_core::testing::TestIssuer;
use auth_core::{StandardClaims, Verifier};

fn main() {
    let rounds: u64 = std::env::args()
        .nth(1)
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(100_000);
    let claims = std::env::args().nth(2).as_deref() == Some("claims");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let issuer = TestIssuer::start().await;
        let verifier = Verifier::new(issuer.provider()).expect("the test issuer's provider");
        let token = issuer
            .token()
            .subject("user-3f1c9a7e-4b8d-4e2a-9c61-5d0e8f7a2b13")
            .roles(["admin", "viewer"])
            .scopes(["openid", "profile", "read:items", "write:items"])
            .sign();
        verifier
            .verify_token(&token)
            .await
            .expect("the first verification");
        let mut accepted = 0u64;
        for _ in 0..rounds {
            let ok = if claims {
                verifier.verify::<StandardClaims>(&token).await.is_ok()
            } else {
                verifier.verify_token(&token).await.is_ok()
            };
            accepted += u64::from(ok);
        }
        assert_eq!(accepted, rounds, "every cache hit is accepted");
    });
}
