//! Tokens naming keys the issuer never published, for the unknown-`kid` bursts of
//! `bench/load.sh` and `bench/soak.sh` (`bench/storm.lua` reads the file).

use std::io::Write;

use auth_actix::testing::TestIssuer;

/// Writes `count` such tokens to `path`, one per line, each with its own `kid`.
pub fn write_tokens(issuer: &TestIssuer, path: &str, count: u32) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    for i in 0..count {
        let kid = format!("random-{:08x}", i.wrapping_mul(2_654_435_761));
        writeln!(file, "{}", issuer.token().kid(kid).sign())?;
    }
    file.flush()
}
