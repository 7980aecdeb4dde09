//! Private keys of the test issuer, generated fresh and published as JWKs.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::algorithm::Algorithm;

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// One signing key with its `kid` and public JWK.
pub(crate) struct SigningKey {
    pub(crate) kid: String,
    pub(crate) alg: Algorithm,
    pair: Pair,
    pub(crate) jwk: Value,
}

impl SigningKey {
    /// Generates a key for `alg` (RS256, ES256 or EdDSA).
    pub(crate) fn generate(alg: Algorithm, kid: String) -> Result<SigningKey, String> {
        let failed = |what: &str| format!("test issuer: cannot generate {what} key");
        let (pair, jwk) = match alg {
            Algorithm::RS256 => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| failed("RSA"))?;
                let public = pair.public_key();
                let jwk = json!({
                    "kty": "RSA",
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                    "e": b64(public.exponent().big_endian_without_leading_zero()),
                });
                (Pair::Rsa(pair), jwk)
            }
            Algorithm::ES256 => {
                let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(|_| failed("P-256"))?;
                let point = pair.public_key().as_ref();
                let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])});
                (Pair::Ec(pair), jwk)
            }
            Algorithm::EdDSA => {
                let pair = Ed25519KeyPair::generate().map_err(|_| failed("Ed25519"))?;
                let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())});
                (Pair::Ed(pair), jwk)
            }
            other => return Err(format!("test issuer: {other} is not offered; use RS256, ES256 or EdDSA")),
        };
        let mut jwk = jwk;
        jwk["kid"] = Value::String(kid.clone());
        jwk["alg"] = Value::String(alg.as_str().to_owned());
        jwk["use"] = Value::String("sig".to_owned());
        Ok(SigningKey { kid, alg, pair, jwk })
    }

    /// Signs `message` (the JWS signing input), returning the raw signature.
    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.pair {
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                match pair.sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut signature) {
                    Ok(()) => signature,
                    Err(_) => Vec::new(),
                }
            }
            Pair::Ec(pair) => {
                pair.sign(&SystemRandom::new(), message).map(|sig| sig.as_ref().to_vec()).unwrap_or_default()
            }
            Pair::Ed(pair) => pair.sign(message).as_ref().to_vec(),
        }
    }
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
