//! A client's private key, with which the API signs its `private_key_jwt` assertions (RFC 7523)
//! to the introspection endpoint.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use aws_lc_rs::signature::{self, EcdsaKeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::error::ConfigError;

/// A client's private key for `private_key_jwt`: RSA (signing RS256) or P-256 EC (ES256).
#[derive(Clone)]
pub struct ClientKey {
    pair: Arc<KeyPair>,
    pub(crate) kid: Option<String>,
}

enum KeyPair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match *self.pair {
            KeyPair::Rsa(_) => "RSA",
            KeyPair::Ec(_) => "EC P-256",
        };
        f.debug_struct("ClientKey")
            .field("kind", &kind)
            .field("kid", &self.kid)
            .finish()
    }
}

impl ClientKey {
    /// Reads a PEM private key (PKCS#1 `RSA PRIVATE KEY`, SEC 1 `EC PRIVATE KEY`, or PKCS#8), with
    /// the key ID the issuer registered it under, if any (sent as the assertion's `kid`).
    pub fn from_pem(pem: &str, kid: Option<&str>) -> Result<ClientKey, ConfigError> {
        use rustls_pki_types::PrivateKeyDer;
        use rustls_pki_types::pem::PemObject;

        let bad = |problem: &str| ConfigError::new("client key", problem.to_owned());
        let der = PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| {
            bad("not a PEM private key (RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)")
        })?;
        let p256 = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pair = match &der {
            PrivateKeyDer::Pkcs1(key) => {
                RsaKeyPair::from_der(key.secret_pkcs1_der()).map(KeyPair::Rsa)
            }
            PrivateKeyDer::Sec1(key) => {
                EcdsaKeyPair::from_private_key_der(p256, key.secret_sec1_der()).map(KeyPair::Ec)
            }
            PrivateKeyDer::Pkcs8(key) => RsaKeyPair::from_pkcs8(key.secret_pkcs8_der())
                .map(KeyPair::Rsa)
                .or_else(|_| {
                    EcdsaKeyPair::from_pkcs8(p256, key.secret_pkcs8_der()).map(KeyPair::Ec)
                }),
            _ => return Err(bad("unsupported private key format")),
        }
        .map_err(|_| bad("the key is not an RSA (2048 bits or more) or P-256 EC private key"))?;
        Ok(ClientKey {
            pair: Arc::new(pair),
            kid: kid.map(str::to_owned),
        })
    }

    /// A client assertion (RFC 7523 §2.2) for `client_id`, addressed to `audience`.
    pub(crate) fn assertion(&self, client_id: &str, audience: &str) -> Result<String, String> {
        let rng = SystemRandom::new();
        let mut nonce = [0u8; 16];
        rng.fill(&mut nonce)
            .map_err(|_| "no randomness for the assertion's jti")?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let alg = match *self.pair {
            KeyPair::Rsa(_) => "RS256",
            KeyPair::Ec(_) => "ES256",
        };
        let mut header = json!({"alg": alg, "typ": "JWT"});
        if let Some(kid) = &self.kid {
            header["kid"] = kid.as_str().into();
        }
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + 60,
            "jti": URL_SAFE_NO_PAD.encode(nonce),
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = match &*self.pair {
            KeyPair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut signature,
                )
                .map_err(|_| "cannot sign the client assertion")?;
                signature
            }
            KeyPair::Ec(pair) => pair
                .sign(&rng, input.as_bytes())
                .map_err(|_| "cannot sign the client assertion")?
                .as_ref()
                .to_vec(),
        };
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}
