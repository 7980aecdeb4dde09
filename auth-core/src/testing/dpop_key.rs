//! A DPoP client's key, making proofs (RFC 9449 §4), for tests of APIs that accept DPoP-bound
//! tokens.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::signing_key::b64;
use crate::dpop::{access_token_hash, thumbprint};
use crate::token::date;

/// A client's DPoP key pair. Bind tokens to it with
/// [`TokenBuilder::dpop_bound`](crate::testing::TokenBuilder::dpop_bound), then prove possession
/// with [`DpopKey::proof`].
pub struct DpopKey {
    pair: Pair,
    jwk: Map<String, Value>,
    thumbprint: String,
}

enum Pair {
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey")
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl DpopKey {
    /// A fresh P-256 key (proofs signed with ES256, the algorithm every DPoP issuer supports).
    ///
    /// # Panics
    /// If the system has no randomness.
    pub fn generate() -> DpopKey {
        let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
            .expect("a P-256 key pair");
        let point = pair.public_key().as_ref();
        let jwk = json!({
            "kty": "EC", "crv": "P-256",
            "x": b64(point.get(1..33).unwrap_or_default()),
            "y": b64(point.get(33..65).unwrap_or_default()),
        });
        DpopKey::with(Pair::Es256(pair), jwk)
    }

    /// A fresh Ed25519 key (proofs signed with EdDSA).
    ///
    /// # Panics
    /// If the system has no randomness.
    pub fn generate_ed25519() -> DpopKey {
        let pair = Ed25519KeyPair::generate().expect("an Ed25519 key pair");
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())});
        DpopKey::with(Pair::EdDsa(pair), jwk)
    }

    fn with(pair: Pair, jwk: Value) -> DpopKey {
        let jwk = match jwk {
            Value::Object(members) => members,
            _ => Map::new(),
        };
        let thumbprint = thumbprint(&jwk).unwrap_or_default();
        DpopKey {
            pair,
            jwk,
            thumbprint,
        }
    }

    /// The RFC 7638 thumbprint of the public key: what a bound token carries in `cnf.jkt`.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The public key as a JWK, as proofs carry it.
    pub fn public_jwk(&self) -> Value {
        Value::Object(self.jwk.clone())
    }

    /// A fresh proof for a request with `method` to `url`, presenting `access_token`.
    pub fn proof(&self, method: &str, url: &str, access_token: &str) -> String {
        self.proof_for(method, url)
            .access_token(access_token)
            .sign()
    }

    /// A proof to adjust before signing: for a token request (no access token), with a nonce, or
    /// wrong on purpose.
    pub fn proof_for(&self, method: &str, url: &str) -> ProofBuilder<'_> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let mut nonce = [0u8; 12];
        let _ = aws_lc_rs::rand::SecureRandom::fill(&SystemRandom::new(), &mut nonce);
        let jti = format!("{}-{}", b64(&nonce), NEXT.fetch_add(1, Ordering::Relaxed));
        let mut claims = Map::new();
        claims.insert("jti".into(), jti.into());
        claims.insert("htm".into(), method.into());
        claims.insert("htu".into(), url.into());
        claims.insert("iat".into(), date::now().into());
        let mut header = Map::new();
        header.insert("typ".into(), "dpop+jwt".into());
        header.insert(
            "alg".into(),
            match self.pair {
                Pair::Es256(_) => "ES256",
                Pair::EdDsa(_) => "EdDSA",
            }
            .into(),
        );
        header.insert("jwk".into(), self.public_jwk());
        ProofBuilder {
            key: self,
            header,
            claims,
        }
    }
}

/// A DPoP proof being built; [`ProofBuilder::sign`] finishes it.
#[derive(Debug)]
pub struct ProofBuilder<'k> {
    key: &'k DpopKey,
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

impl ProofBuilder<'_> {
    /// Binds the proof to the access token it accompanies (`ath`).
    pub fn access_token(mut self, token: &str) -> Self {
        self.claims
            .insert("ath".into(), access_token_hash(token).into());
        self
    }

    /// Carries the server's nonce.
    pub fn nonce(self, nonce: &str) -> Self {
        self.claim("nonce", nonce)
    }

    /// Sets (or overrides) a claim: `iat`, `jti`, `htm`, `htu`, `ath`, ...
    pub fn claim(mut self, name: &str, value: impl Serialize) -> Self {
        if let Ok(value) = serde_json::to_value(value) {
            self.claims.insert(name.to_owned(), value);
        }
        self
    }

    /// Removes a claim the builder sets.
    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Sets (or overrides) a header parameter: `typ`, `alg`, `jwk`, ...
    pub fn header(mut self, name: &str, value: impl Serialize) -> Self {
        if let Ok(value) = serde_json::to_value(value) {
            self.header.insert(name.to_owned(), value);
        }
        self
    }

    /// Signs the proof with the key.
    pub fn sign(self) -> String {
        let encode = |map: &Map<String, Value>| b64(&serde_json::to_vec(map).unwrap_or_default());
        let input = format!("{}.{}", encode(&self.header), encode(&self.claims));
        let signature = match &self.key.pair {
            Pair::Es256(pair) => pair
                .sign(&SystemRandom::new(), input.as_bytes())
                .map(|signature| signature.as_ref().to_vec())
                .unwrap_or_default(),
            Pair::EdDsa(pair) => pair.sign(input.as_bytes()).as_ref().to_vec(),
        };
        format!("{input}.{}", b64(&signature))
    }
}
