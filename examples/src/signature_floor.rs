//! One signature check and nothing else: the work no verifier can skip on an uncached token (RS256,
//! the issuer's key) or on a DPoP proof (ES256 or EdDSA, the client's key). The load target serves
//! each as a route beside the protected one (the floors measured in the server, for
//! `bench/load.sh` and `bench/dpop.sh`), and `signature-cost` times the RS256 one in a loop.

use auth_actix::testing::DpopKey;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
    RsaPublicKeyComponents,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A public key parsed once, as `auth-core` keeps it: the issuer's RSA key, or a DPoP client's.
pub struct SignatureFloor {
    key: ParsedPublicKey,
}

impl SignatureFloor {
    /// Takes the first key of the JWKS at `jwks_url`, over HTTP.
    pub async fn fetch(jwks_url: &str) -> Result<SignatureFloor, Box<dyn std::error::Error>> {
        let body = reqwest::get(jwks_url).await?.bytes().await?;
        let jwks: serde_json::Value = serde_json::from_slice(&body)?;
        let member = |name: &str| -> Result<Vec<u8>, Box<dyn std::error::Error>> {
            let text = jwks["keys"][0][name]
                .as_str()
                .ok_or("JWKS without an RSA key")?;
            Ok(URL_SAFE_NO_PAD.decode(text)?)
        };
        let key = RsaPublicKeyComponents {
            n: member("n")?,
            e: member("e")?,
        }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)?;
        Ok(SignatureFloor { key })
    }

    /// A DPoP client's public key (P-256 for ES256, Ed25519 for EdDSA), from its JWK.
    pub fn for_proofs(key: &DpopKey) -> Result<SignatureFloor, Box<dyn std::error::Error>> {
        let jwk = key.public_jwk();
        let member = |name: &str| -> Result<Vec<u8>, Box<dyn std::error::Error>> {
            let text = jwk[name].as_str().ok_or("a JWK without x")?;
            Ok(URL_SAFE_NO_PAD.decode(text)?)
        };
        let key = match jwk["kty"].as_str() {
            Some("EC") => {
                let mut point = vec![0x04];
                point.extend(member("x")?);
                point.extend(member("y")?);
                ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)?
            }
            _ => ParsedPublicKey::new(&ED25519, member("x")?)?,
        };
        Ok(SignatureFloor { key })
    }

    /// Whether `token`'s (or a proof's) signature verifies: split at the last dot, decode into a stack buffer,
    /// check. Nothing parsed, and nothing allocated on the Rust side (aws-lc allocates inside).
    pub fn check(&self, token: &str) -> bool {
        let Some((signed, signature)) = token.rsplit_once('.') else {
            return false;
        };
        let mut buf = [0u8; 1024];
        URL_SAFE_NO_PAD
            .decode_slice(signature, &mut buf)
            .is_ok_and(|len| self.key.verify_sig(signed.as_bytes(), &buf[..len]).is_ok())
    }
}
