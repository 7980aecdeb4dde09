//! JWK Set documents turned into ready-to-use verification keys, one odd key never spoiling the
//! set.

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::AuthError;
use crate::keys::algorithm::{Algorithm, AlgorithmPolicy, AlgorithmSet};

/// More keys than this in one document are ignored: real issuers publish two or three, and each key
/// costs parsing and a linear scan on lookup.
pub const MAX_KEYS: usize = 64;

/// Smallest RSA modulus accepted, in bits (RFC 8725 §3.5, NIST SP 800-131A).
const MIN_RSA_BITS: usize = 2048;

/// One public key, parsed once (per algorithm it may verify), so no request parses a key.
pub(crate) struct VerifyingKey {
    pub(crate) kid: Option<Box<str>>,
    pub(crate) algorithms: AlgorithmSet,
    parsed: Vec<(Algorithm, ParsedPublicKey)>,
    /// Identifies the key material across refreshes, so cached verifications survive a refetch of
    /// the same keys and die with a removed or replaced one.
    pub(crate) fingerprint: u64,
    /// The issuer this key signs for, where the JWKS says (Entra's `issuer` member, which holds a
    /// `{tenantid}` template in the multi-tenant key set).
    pub(crate) issuer: Option<Box<str>>,
}

impl VerifyingKey {
    /// Whether `signature` over `message` verifies with this key under `alg`.
    pub(crate) fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        self.parsed
            .iter()
            .find(|(a, _)| *a == alg)
            .is_some_and(|(_, key)| key.verify_sig(message, signature).is_ok())
    }
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("algorithms", &self.algorithms)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// The usable keys of one JWKS document.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    keys: Vec<VerifyingKey>,
}

#[derive(Deserialize)]
struct Document<'a> {
    #[serde(borrow)]
    keys: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(rename = "use")]
    use_: Option<String>,
    alg: Option<String>,
    kid: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
    key_ops: Option<Vec<String>>,
    /// Any JSON: a tag that is not a string must not cost single-issuer providers, which ignore it,
    /// the key.
    issuer: Option<serde_json::Value>,
}

impl KeySet {
    /// Parses a JWKS document. Fails only when the document itself is not a JWK Set; individual
    /// keys that cannot be used are skipped with a warning. `policy` and the algorithms the issuer
    /// `advertised` in its discovery document decide what each key may verify.
    pub(crate) fn parse(
        body: &[u8],
        policy: AlgorithmPolicy,
        advertised: AlgorithmSet,
    ) -> Result<KeySet, String> {
        let document: Document<'_> = serde_json::from_slice(body)
            .map_err(|err| format!("not a JWK Set (expected {{\"keys\": [...]}}): {err}"))?;
        if document.keys.len() > MAX_KEYS {
            tracing::warn!(
                target: "auth",
                keys = document.keys.len(),
                max = MAX_KEYS,
                "JWKS holds more keys than the limit; the rest are ignored"
            );
        }
        let keys = document
            .keys
            .iter()
            .take(MAX_KEYS)
            .enumerate()
            .filter_map(|(index, raw)| match parse_key(raw, policy, advertised) {
                Ok(key) => Some(key),
                Err(reason) => {
                    tracing::warn!(target: "auth", index, %reason, "skipping JWK");
                    None
                }
            })
            .collect();
        Ok(KeySet { keys })
    }

    /// Finds the key for a token: by `kid` when it has one, else the single key able to verify
    /// `alg`.
    pub(crate) fn select(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<&VerifyingKey, AuthError> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|key| key.kid.as_deref() == Some(kid))
                .ok_or(AuthError::UnknownKey),
            None => {
                let mut fitting = self.keys.iter().filter(|key| key.algorithms.contains(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(key), None) => Ok(key),
                    (None, _) => Err(AuthError::UnknownKey),
                    (Some(_), Some(_)) => Err(AuthError::AmbiguousKey),
                }
            }
        }
    }

    /// Whether a key with this fingerprint is still in the set.
    pub(crate) fn has_fingerprint(&self, fingerprint: u64) -> bool {
        self.keys.iter().any(|key| key.fingerprint == fingerprint)
    }

    /// How many usable keys the set holds.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

/// The key in a DPoP proof's header, for the algorithms `policy` allows.
pub(crate) fn parse_proof_key(
    raw: &RawValue,
    policy: AlgorithmPolicy,
) -> Result<VerifyingKey, String> {
    parse_key(raw, policy, AlgorithmSet::EMPTY)
}

fn parse_key(
    raw: &RawValue,
    policy: AlgorithmPolicy,
    advertised: AlgorithmSet,
) -> Result<VerifyingKey, String> {
    let jwk: RawJwk =
        serde_json::from_str(raw.get()).map_err(|err| format!("unreadable JWK: {err}"))?;
    let kid = jwk.kid.as_deref().map(Box::from);
    let described = || format!("kid {:?}", jwk.kid.as_deref().unwrap_or("<none>"));
    if let Some(usage) = jwk.use_.as_deref().filter(|usage| *usage != "sig") {
        return Err(format!("{}: use {usage:?} is not \"sig\"", described()));
    }
    if let Some(ops) = &jwk.key_ops
        && !ops.iter().any(|op| op == "verify")
    {
        return Err(format!(
            "{}: key_ops does not include \"verify\"",
            described()
        ));
    }
    let declared = match jwk.alg.as_deref() {
        None => None,
        Some(name) => Some(
            Algorithm::from_name(name)
                .ok_or_else(|| format!("{}: unsupported alg {name:?}", described()))?,
        ),
    };
    fn field<'j>(value: &'j Option<String>, name: &str, kid: &str) -> Result<&'j str, String> {
        value
            .as_deref()
            .ok_or_else(|| format!("{kid}: key without `{name}`"))
    }
    let field = |value, name| field(value, name, &described());

    let (by_type, material) = match jwk.kty.as_str() {
        "RSA" => {
            let n = decode(field(&jwk.n, "n")?).map_err(|e| format!("{}: n {e}", described()))?;
            let e = decode(field(&jwk.e, "e")?).map_err(|e| format!("{}: e {e}", described()))?;
            let bits = modulus_bits(&n);
            if bits < MIN_RSA_BITS {
                return Err(format!(
                    "{}: RSA modulus of {bits} bits is under {MIN_RSA_BITS}",
                    described()
                ));
            }
            if e.is_empty() {
                return Err(format!("{}: empty RSA exponent", described()));
            }
            (AlgorithmSet::RSA, Material::Rsa { n, e })
        }
        "EC" => {
            let (alg, size) = match field(&jwk.crv, "crv")? {
                "P-256" => (Algorithm::ES256, 32),
                "P-384" => (Algorithm::ES384, 48),
                other => return Err(format!("{}: unsupported curve {other:?}", described())),
            };
            // The uncompressed point, 0x04 || x || y, as aws-lc parses it.
            let mut point = vec![0x04];
            for (name, coordinate) in [("x", &jwk.x), ("y", &jwk.y)] {
                let bytes = decode(field(coordinate, name)?)
                    .map_err(|e| format!("{}: {name} {e}", described()))?;
                if bytes.len() != size {
                    return Err(format!("{}: {name} is not {size} bytes", described()));
                }
                point.extend_from_slice(&bytes);
            }
            (AlgorithmSet::of(&[alg]), Material::Raw(point))
        }
        "OKP" => {
            match field(&jwk.crv, "crv")? {
                "Ed25519" => {}
                other => return Err(format!("{}: unsupported curve {other:?}", described())),
            }
            let bytes =
                decode(field(&jwk.x, "x")?).map_err(|e| format!("{}: x {e}", described()))?;
            if bytes.len() != 32 {
                return Err(format!("{}: Ed25519 x is not 32 bytes", described()));
            }
            (AlgorithmSet::of(&[Algorithm::EdDSA]), Material::Raw(bytes))
        }
        other => return Err(format!("{}: unsupported kty {other:?}", described())),
    };

    if let Some(alg) = declared
        && !by_type.contains(alg)
    {
        return Err(format!(
            "{}: alg {alg} does not fit kty {}",
            described(),
            jwk.kty
        ));
    }
    let algorithms = policy.for_key(by_type, declared, advertised);
    if algorithms.is_empty() {
        let own = declared.map_or(by_type, |alg| AlgorithmSet::of(&[alg]));
        return Err(format!(
            "{}: key algorithms ({own}) are not in {policy}",
            described()
        ));
    }
    let parsed = algorithms
        .iter()
        .map(|alg| {
            material
                .parse(alg)
                .map(|key| (alg, key))
                .map_err(|_| format!("{}: key rejected for {alg}", described()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // A tag that is not a string becomes one that names no issuer, so it fails closed where it is
    // checked.
    let issuer = jwk
        .issuer
        .as_ref()
        .map(|tag| Box::from(tag.as_str().unwrap_or_default()));
    let fingerprint = {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (
            &jwk.kty,
            &jwk.kid,
            &jwk.crv,
            &jwk.n,
            &jwk.e,
            &jwk.x,
            &jwk.y,
            &issuer,
            algorithms.bits(),
        )
            .hash(&mut hasher);
        hasher.finish()
    };
    Ok(VerifyingKey {
        kid,
        algorithms,
        parsed,
        fingerprint,
        issuer,
    })
}

/// Decoded key material, before parsing for an algorithm.
enum Material {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// An EC point or an Ed25519 public key, in the form aws-lc takes.
    Raw(Vec<u8>),
}

impl Material {
    fn parse(&self, alg: Algorithm) -> Result<ParsedPublicKey, aws_lc_rs::error::KeyRejected> {
        let rsa = |params| {
            RsaPublicKeyComponents {
                n: self.rsa().0,
                e: self.rsa().1,
            }
            .to_parsed_public_key(params)
        };
        match alg {
            Algorithm::RS256 => rsa(&signature::RSA_PKCS1_2048_8192_SHA256),
            Algorithm::RS384 => rsa(&signature::RSA_PKCS1_2048_8192_SHA384),
            Algorithm::RS512 => rsa(&signature::RSA_PKCS1_2048_8192_SHA512),
            Algorithm::PS256 => rsa(&signature::RSA_PSS_2048_8192_SHA256),
            Algorithm::PS384 => rsa(&signature::RSA_PSS_2048_8192_SHA384),
            Algorithm::PS512 => rsa(&signature::RSA_PSS_2048_8192_SHA512),
            Algorithm::ES256 => {
                ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, self.raw())
            }
            Algorithm::ES384 => {
                ParsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, self.raw())
            }
            Algorithm::EdDSA => ParsedPublicKey::new(&signature::ED25519, self.raw()),
        }
    }

    fn rsa(&self) -> (&[u8], &[u8]) {
        match self {
            Material::Rsa { n, e } => (n, e),
            Material::Raw(_) => (&[], &[]),
        }
    }

    fn raw(&self) -> &[u8] {
        match self {
            Material::Raw(bytes) => bytes,
            Material::Rsa { .. } => &[],
        }
    }
}

fn decode(value: &str) -> Result<Vec<u8>, &'static str> {
    URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|_| "is not base64url")
}

fn modulus_bits(n: &[u8]) -> usize {
    let significant = n
        .iter()
        .position(|byte| *byte != 0)
        .map_or(&[][..], |start| &n[start..]);
    match significant.first() {
        None => 0,
        Some(top) => significant.len() * 8 - top.leading_zeros() as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: AlgorithmPolicy = AlgorithmPolicy::Only(AlgorithmSet::ALL);
    const NONE_ADVERTISED: AlgorithmSet = AlgorithmSet::EMPTY;

    fn ed_key(kid: &str) -> String {
        format!(
            r#"{{"kty":"OKP","crv":"Ed25519","kid":"{kid}","x":"{}"}}"#,
            URL_SAFE_NO_PAD.encode([7u8; 32])
        )
    }

    #[test]
    fn skips_odd_keys_but_keeps_the_rest() {
        let rsa_small = format!(
            r#"{{"kty":"RSA","kid":"small","n":"{}","e":"AQAB"}}"#,
            URL_SAFE_NO_PAD.encode([0xffu8; 128])
        );
        let doc = format!(
            r#"{{"keys":[{},{{"kty":"oct","k":"c2VjcmV0"}},
            {{"kty":"EC","crv":"P-256","use":"enc","x":"a","y":"b"}},
            {{"kty":"OKP","crv":"Ed25519","alg":"ES256","x":"AA"}},{rsa_small},
            {{"kty":"OKP","crv":"X25519","x":"AA"}},{{"kty":"RSA"}},"nonsense",{}]}}"#,
            ed_key("a"),
            ed_key("b")
        );
        let set = KeySet::parse(doc.as_bytes(), ALL, NONE_ADVERTISED).unwrap();
        assert_eq!(set.len(), 2);
        assert!(
            set.select(Some("a"), Algorithm::EdDSA).is_ok()
                && set.select(Some("b"), Algorithm::EdDSA).is_ok()
        );
    }

    #[test]
    fn issuer_tags_are_kept_and_odd_ones_name_no_issuer() {
        let tagged = |tag: &str| ed_key("k").replacen('{', &format!(r#"{{"issuer":{tag},"#), 1);
        let doc = format!(
            r#"{{"keys":[{},{},{}]}}"#,
            tagged(r#""https://idp/{tenantid}/v2.0""#),
            tagged("5"),
            ed_key("k")
        );
        let set = KeySet::parse(doc.as_bytes(), ALL, NONE_ADVERTISED).unwrap();
        let tags: Vec<_> = set.keys.iter().map(|key| key.issuer.as_deref()).collect();
        assert_eq!(tags, [Some("https://idp/{tenantid}/v2.0"), Some(""), None]);
        let fingerprints: std::collections::HashSet<_> =
            set.keys.iter().map(|key| key.fingerprint).collect();
        assert_eq!(
            fingerprints.len(),
            3,
            "a re-tagged key is another key for the verified-token cache"
        );
    }

    #[test]
    fn refuses_documents_that_are_not_key_sets() {
        for doc in ["", "[]", "{}", r#"{"keys":{}}"#, "<html>"] {
            assert!(
                KeySet::parse(doc.as_bytes(), ALL, NONE_ADVERTISED).is_err(),
                "{doc}"
            );
        }
    }

    #[test]
    fn allow_list_narrows_key_algorithms() {
        let doc = format!(r#"{{"keys":[{}]}}"#, ed_key("a"));
        let only_rs256 = AlgorithmPolicy::Only(AlgorithmSet::of(&[Algorithm::RS256]));
        let set = KeySet::parse(doc.as_bytes(), only_rs256, NONE_ADVERTISED).unwrap();
        assert_eq!(set.len(), 0);
    }

    #[test]
    fn selection_without_kid_needs_exactly_one_fit() {
        let one = KeySet::parse(
            format!(r#"{{"keys":[{}]}}"#, ed_key("a")).as_bytes(),
            ALL,
            NONE_ADVERTISED,
        )
        .unwrap();
        assert!(one.select(None, Algorithm::EdDSA).is_ok());
        assert_eq!(
            one.select(None, Algorithm::RS256).unwrap_err(),
            AuthError::UnknownKey
        );
        assert_eq!(
            one.select(Some("zz"), Algorithm::EdDSA).unwrap_err(),
            AuthError::UnknownKey
        );
        let two = KeySet::parse(
            format!(r#"{{"keys":[{},{}]}}"#, ed_key("a"), ed_key("b")).as_bytes(),
            ALL,
            NONE_ADVERTISED,
        )
        .unwrap();
        assert_eq!(
            two.select(None, Algorithm::EdDSA).unwrap_err(),
            AuthError::AmbiguousKey
        );
        assert!(two.select(Some("b"), Algorithm::EdDSA).is_ok());
    }

    #[test]
    fn caps_the_number_of_keys() {
        let keys: Vec<String> = (0..MAX_KEYS + 10).map(|i| ed_key(&i.to_string())).collect();
        let doc = format!(r#"{{"keys":[{}]}}"#, keys.join(","));
        assert_eq!(
            KeySet::parse(doc.as_bytes(), ALL, NONE_ADVERTISED)
                .unwrap()
                .len(),
            MAX_KEYS
        );
    }

    proptest::proptest! {
        #[test]
        fn any_document_parses_or_fails_cleanly(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096),
        ) {
            let _ = KeySet::parse(&body, ALL, NONE_ADVERTISED);
        }

        #[test]
        fn any_key_members_parse_or_are_skipped(
            kty in "(RSA|EC|OKP|oct|[A-Z]{0,3})",
            crv in "(P-256|P-384|Ed25519|X25519|[a-z0-9-]{0,6})",
            alg in proptest::option::of("(RS256|ES256|EdDSA|HS256|none|[A-Z0-9]{0,6})"),
            n in "[A-Za-z0-9_-]{0,400}",
            x in "[A-Za-z0-9_-]{0,64}",
        ) {
            let key = serde_json::json!({
                "kty": kty, "crv": crv, "alg": alg, "n": n, "e": "AQAB", "x": x, "y": x,
            });
            let document = serde_json::json!({"keys": [key]}).to_string();
            let set = KeySet::parse(document.as_bytes(), ALL, NONE_ADVERTISED).unwrap();
            proptest::prop_assert!(set.len() <= 1);
            // Whatever else the members say, a symmetric or unsigned key never becomes a verifying
            // key.
            let symmetric = kty == "oct" || matches!(alg.as_deref(), Some("HS256" | "none"));
            proptest::prop_assert!(!(symmetric && set.len() == 1), "kept a key for kty {kty:?}, \
                                                                    alg {alg:?}");
            proptest::prop_assert!(set.keys.iter().all(|key| !key.algorithms.is_empty()));
        }
    }

    #[test]
    fn counts_modulus_bits() {
        assert_eq!(modulus_bits(&[0, 0, 1]), 1);
        assert_eq!(modulus_bits(&[0x80, 0]), 16);
        assert_eq!(modulus_bits(&[]), 0);
    }
}
