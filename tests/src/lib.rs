//! Helpers shared by the integration tests: hand-crafted tokens for the refusals no honest issuer mints.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// base64url without padding.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a base64url segment.
pub fn unb64(segment: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(segment).expect("test token segment is base64url")
}

/// The three segments of a compact token.
pub fn segments(token: &str) -> [String; 3] {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a compact JWS: {token}");
    [parts[0].to_owned(), parts[1].to_owned(), parts[2].to_owned()]
}

/// The decoded payload of a compact token.
pub fn payload(token: &str) -> Value {
    serde_json::from_slice(&unb64(&segments(token)[1])).expect("payload is JSON")
}

/// A token from the given header, payload and raw signature.
pub fn assemble(header: &Value, payload: &Value, signature: &[u8]) -> String {
    format!("{}.{}.{}", b64(header.to_string()), b64(payload.to_string()), b64(signature))
}

/// Replaces the payload while keeping header and signature: a tampered token.
pub fn with_payload(token: &str, payload: &Value) -> String {
    let [header, _, signature] = segments(token);
    format!("{header}.{}.{signature}", b64(payload.to_string()))
}

/// Flips one bit in the signature.
pub fn with_flipped_signature_bit(token: &str) -> String {
    let [header, payload, signature] = segments(token);
    let mut raw = unb64(&signature);
    raw[0] ^= 0x01;
    format!("{header}.{payload}.{}", b64(raw))
}

/// Installs a test subscriber once, so `RUST_LOG=auth=debug` shows what the library logged.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
