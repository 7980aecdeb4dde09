//! Private keys of the test issuer, generated fresh and published as JWKs.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::keys::algorithm::Algorithm;

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
    /// Generates a key for `alg`: 2048-bit RSA, P-256, P-384 or Ed25519.
    pub(crate) fn generate(alg: Algorithm, kid: String) -> Result<SigningKey, String> {
        let failed = |what: &str| format!("test issuer: cannot generate {what} key");
        let (pair, jwk) = match alg {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| failed("RSA"))?;
                let public = pair.public_key();
                let jwk = json!({
                    "kty": "RSA",
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                    "e": b64(public.exponent().big_endian_without_leading_zero()),
                });
                (Pair::Rsa(pair), jwk)
            }
            Algorithm::ES256 | Algorithm::ES384 => {
                let (signing, crv, size) = if alg == Algorithm::ES256 {
                    (&signature::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256", 32)
                } else {
                    (&signature::ECDSA_P384_SHA384_FIXED_SIGNING, "P-384", 48)
                };
                let pair = EcdsaKeyPair::generate(signing).map_err(|_| failed(crv))?;
                // Uncompressed point: 0x04 || x || y.
                let point = pair.public_key().as_ref();
                let (x, y) = point[1..].split_at(size);
                let jwk = json!({"kty": "EC", "crv": crv, "x": b64(x), "y": b64(y)});
                (Pair::Ec(pair), jwk)
            }
            Algorithm::EdDSA => {
                let pair = Ed25519KeyPair::generate().map_err(|_| failed("Ed25519"))?;
                let jwk =
                    json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())});
                (Pair::Ed(pair), jwk)
            }
        };
        let mut jwk = jwk;
        jwk["kid"] = Value::String(kid.clone());
        jwk["alg"] = Value::String(alg.as_str().to_owned());
        jwk["use"] = Value::String("sig".to_owned());
        Ok(SigningKey {
            kid,
            alg,
            pair,
            jwk,
        })
    }

    /// Signs `message` (the JWS signing input), returning the raw signature.
    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.pair {
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                let padding: &'static dyn signature::RsaEncoding = match self.alg {
                    Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_SHA384,
                    Algorithm::PS512 => &signature::RSA_PSS_SHA512,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                match pair.sign(padding, &SystemRandom::new(), message, &mut signature) {
                    Ok(()) => signature,
                    Err(_) => Vec::new(),
                }
            }
            Pair::Ec(pair) => pair
                .sign(&SystemRandom::new(), message)
                .map(|sig| sig.as_ref().to_vec())
                .unwrap_or_default(),
            Pair::Ed(pair) => pair.sign(message).as_ref().to_vec(),
        }
    }
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
