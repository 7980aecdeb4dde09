//! What one RS256 signature check costs on this machine, for `bench/load.sh`'s physical limit of
//! an uncached protected request: 1 / (open-request time + one signature check). Not a provider
//! example.
//!
//! Mints a token from the embedded issuer (RSA-2048, as the load target's), takes the public key
//! from its JWKS over HTTP, parses it once (as `auth-core` does), then times the check the load
//! target's `/signature` route makes ([`SignatureFloor`]: split the token, decode the signature,
//! verify) in a loop: `ROUNDS` (default 9) batches of `CHECKS` (default 2,000). Prints
//! `SIGNATURE_US=<median microseconds per check>`.

use std::time::Instant;

use auth_actix::core::Algorithm;
use auth_actix::testing::TestIssuer;
use examples::signature_floor::SignatureFloor;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds = number("ROUNDS", 9)?;
    let checks = number("CHECKS", 2000)?;
    let issuer = TestIssuer::start_with(&[Algorithm::RS256]).await;
    let token = issuer.token().subject("someone").sign();
    let floor = SignatureFloor::fetch(&issuer.jwks_url()).await?;

    let mut per_check = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        for _ in 0..checks {
            if !floor.check(std::hint::black_box(&token)) {
                return Err("the signature does not verify".into());
            }
        }
        per_check.push(started.elapsed().as_secs_f64() * 1e6 / checks as f64);
    }
    per_check.sort_by(f64::total_cmp);
    println!("SIGNATURE_US={:.2}", per_check[per_check.len() / 2]);
    Ok(())
}

/// A positive number from the environment, or `default`.
fn number(name: &str, default: usize) -> Result<usize, String> {
    match std::env::var(name) {
        Ok(value) => match value.trim().parse() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!(
                "{name}={value:?}: expected a positive whole number"
            )),
        },
        Err(_) => Ok(default),
    }
}
