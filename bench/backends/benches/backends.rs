//! RS256, ES256 and EdDSA signature verification through jsonwebtoken's `aws_lc_rs` and
//! `rust_crypto` providers, on the same keys and tokens, in one run.
//!
//! ```text
//! cd bench/backends && cargo bench
//! ```

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::{Algorithm, DecodingKey};

struct Case {
    alg: Algorithm,
    key: DecodingKey,
    message: Vec<u8>,
    signature: Vec<u8>,
}

fn message(alg: &str) -> Vec<u8> {
    let header = B64.encode(format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"k1"}}"#));
    let payload = B64.encode(
        r#"{"iss":"https://issuer.example.com","sub":"user-123","aud":"api","exp":4102444800,"iat":1700000000,"roles":["admin"]}"#,
    );
    format!("{header}.{payload}").into_bytes()
}

fn cases() -> Vec<Case> {
    let rng = SystemRandom::new();
    let rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let rs_message = message("RS256");
    let mut rs_sig = vec![0; rsa.public_modulus_len()];
    rsa.sign(&signature::RSA_PKCS1_SHA256, &rng, &rs_message, &mut rs_sig).unwrap();
    let public = rsa.public_key();
    let rs_key = DecodingKey::from_rsa_raw_components(
        public.modulus().big_endian_without_leading_zero(),
        public.exponent().big_endian_without_leading_zero(),
    );

    let ec = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let es_message = message("ES256");
    let es_sig = ec.sign(&rng, &es_message).unwrap().as_ref().to_vec();
    let point = ec.public_key().as_ref();
    let es_key = DecodingKey::from_ec_components(&B64.encode(&point[1..33]), &B64.encode(&point[33..])).unwrap();

    let ed = Ed25519KeyPair::generate().unwrap();
    let ed_message = message("EdDSA");
    let ed_sig = ed.sign(&ed_message).as_ref().to_vec();
    let ed_key = DecodingKey::from_ed_components(&B64.encode(ed.public_key().as_ref())).unwrap();

    vec![
        Case { alg: Algorithm::RS256, key: rs_key, message: rs_message, signature: rs_sig },
        Case { alg: Algorithm::ES256, key: es_key, message: es_message, signature: es_sig },
        Case { alg: Algorithm::EdDSA, key: ed_key, message: ed_message, signature: ed_sig },
    ]
}

fn verify(provider: &CryptoProvider, case: &Case) -> bool {
    let verifier = (provider.verifier_factory)(&case.alg, &case.key).unwrap();
    verifier.verify(&case.message, &case.signature).is_ok()
}

fn backends(c: &mut Criterion) {
    let providers = [
        ("aws_lc_rs", &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER),
        ("rust_crypto", &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER),
    ];
    for case in cases() {
        let mut group = c.benchmark_group(format!("{:?}", case.alg));
        for (name, provider) in providers {
            assert!(verify(provider, &case), "{name} rejects a valid {:?} signature", case.alg);
            group.bench_function(name, |b| b.iter(|| verify(provider, std::hint::black_box(&case))));
        }
        group.finish();
    }
}

criterion_group!(benches, backends);
criterion_main!(benches);
