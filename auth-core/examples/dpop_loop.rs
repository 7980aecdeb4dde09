//! A fixed number of DPoP requests against a cached bearer token, for instruction-level profiling
//! of the proof's path (parse, key, thumbprint, `htu`, replay store), which is stable on noisy
//! machines where timings are not. Proofs are signed before the loop; count only the requests:
//!
//! ```sh
//! cargo build --release -p auth-core --features testing --example dpop_loop
//! valgrind --tool=callgrind --toggle-collect='*verify_dpop*' \
//!     target/release/examples/dpop_loop 2000 es256
//! valgrind --tool=callgrind --toggle-collect='*verify_dpop*' \
//!     target/release/examples/dpop_loop 2000 eddsa
//! valgrind --tool=callgrind --toggle-collect='*verify_dpop*' \
//!     target/release/examples/dpop_loop 2000 es256 no-key-cache
//! ```
//!
//! With `no-key-cache`, every proof's key is parsed, as before the table of parsed keys.

use auth_core::testing::{DpopKey, TestIssuer};
use auth_core::{Dpop, DpopRequest, Verifier};

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(2_000);
    let key = match std::env::args().nth(2).as_deref() {
        Some("eddsa") => DpopKey::generate_ed25519(),
        _ => DpopKey::generate(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let issuer = TestIssuer::start().await;
        let mut verifier = Verifier::new(issuer.provider()).expect("the test issuer's provider");
        if std::env::args().nth(3).as_deref() == Some("no-key-cache") {
            verifier = verifier
                .dpop(Dpop::default().key_cache(0))
                .expect("DPoP settings");
        }
        verifier.prefetch().await.expect("the issuer's keys");
        let token = issuer
            .token()
            .subject("user-3f1c9a7e-4b8d-4e2a-9c61-5d0e8f7a2b13")
            .roles(["admin", "viewer"])
            .scopes(["openid", "profile", "read:items", "write:items"])
            .dpop_bound(&key)
            .sign();
        let url = "https://api.example.com/items";
        let proofs: Vec<String> = (0..=rounds)
            .map(|_| key.proof("GET", url, &token))
            .collect();
        let request = |proof| DpopRequest {
            proof,
            method: "GET",
            url,
        };
        // The first request verifies the token (and fills any cache); the loop measures the rest.
        verifier
            .verify_dpop(&token, &request(&proofs[0]))
            .await
            .expect("the first request");
        let mut accepted = 0usize;
        for proof in &proofs[1..] {
            accepted += usize::from(verifier.verify_dpop(&token, &request(proof)).await.is_ok());
        }
        assert_eq!(accepted, rounds, "every proof is accepted");
    });
}
