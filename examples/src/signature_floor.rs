//! One RS256 signature check and nothing else: the work no verifier can skip on an uncached token.
//! The load target serves it as a route beside the protected one (the physical limit measured in
//! the server, for `bench/load.sh`), and `signature-cost` times it in a loop.

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The issuer's RSA public key, parsed once, as `auth-core` keeps it.
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

    /// Whether `token`'s signature verifies: split at the last dot, decode into a stack buffer,
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
