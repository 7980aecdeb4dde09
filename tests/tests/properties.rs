//! Property tests over the verifier with keys from the loopback issuer: arbitrary input is refused
//! (never a panic), every single-byte change to a valid token is refused, and claims round-trip
//! through `Claims<T>`. `bench/fuzz.sh` runs the same properties with many more cases.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use auth_core::testing::TestIssuer;
use auth_core::{Algorithm, Verifier};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

struct Fixture {
    runtime: tokio::runtime::Runtime,
    issuer: TestIssuer,
    verifier: Verifier,
    tokens: Vec<String>,
}

/// One issuer and verifier for all cases, with keys loaded up front.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (issuer, verifier) = runtime.block_on(async {
            let issuer = TestIssuer::start().await;
            // No cache: every case must go through the full verification.
            let verifier = Verifier::new(issuer.provider()).unwrap().verified_cache(0);
            verifier.prefetch().await.unwrap();
            (issuer, verifier)
        });
        let tokens = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA]
            .into_iter()
            .map(|alg| issuer.token().algorithm(alg).roles(["admin"]).sign())
            .collect();
        Fixture {
            runtime,
            issuer,
            verifier,
            tokens,
        }
    })
}

/// Cases per property: `PROPTEST_CASES` when set (as `bench/fuzz.sh` does), else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn refused(token: &str) -> bool {
    let fixture = fixture();
    fixture
        .runtime
        .block_on(fixture.verifier.verify_token(token))
        .is_err()
}

fn token_shaped() -> impl Strategy<Value = String> {
    let segment = "[A-Za-z0-9_-]{0,64}";
    (segment, segment, segment, prop::bool::ANY).prop_map(|(a, b, c, fourth)| {
        if fourth {
            format!("{a}.{b}.{c}.{a}")
        } else {
            format!("{a}.{b}.{c}")
        }
    })
}

/// A printable ASCII byte (0x21..=0x7e) other than `original`, drawn uniformly from the 93 others
/// by `draw` (0..93). Generating only real changes keeps proptest from rejecting cases: with
/// `prop_assume!` about one case in 94 was thrown away, and long runs aborted at proptest's
/// global reject limit.
fn another_printable(original: u8, draw: u8) -> u8 {
    let candidate = 0x21 + draw;
    if (0x21..=0x7e).contains(&original) && candidate >= original {
        candidate + 1
    } else {
        candidate
    }
}

#[test]
fn another_printable_never_returns_the_original() {
    for original in 0x21u8..=0x7e {
        let drawn: std::collections::BTreeSet<u8> = (0..93)
            .map(|draw| another_printable(original, draw))
            .collect();
        assert_eq!(drawn.len(), 93);
        assert!(!drawn.contains(&original));
        assert!(drawn.iter().all(|byte| (0x21..=0x7e).contains(byte)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn any_string_is_refused_without_panicking(input in any::<String>()) {
        prop_assert!(refused(&input));
    }

    #[test]
    fn any_bytes_are_refused_without_panicking(
        input in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        prop_assert!(refused(&String::from_utf8_lossy(&input)));
    }

    #[test]
    fn token_shaped_noise_is_refused(input in token_shaped()) {
        prop_assert!(refused(&input));
    }

    #[test]
    fn a_valid_header_with_noise_is_refused(noise in "[A-Za-z0-9_-]{1,600}", which in 0usize..3) {
        let token = &fixture().tokens[which];
        let header = token.split('.').next().unwrap();
        let forged = format!("{header}.{noise}.{noise}");
        prop_assert!(refused(&forged));
    }

    #[test]
    fn every_single_byte_change_is_refused(
        which in 0usize..3,
        position in any::<prop::sample::Index>(),
        draw in 0u8..93,
    ) {
        let token = &fixture().tokens[which];
        let index = position.index(token.len());
        let mut bytes = token.clone().into_bytes();
        bytes[index] = another_printable(bytes[index], draw);
        let changed = String::from_utf8(bytes).unwrap();
        prop_assert!(refused(&changed), "accepted a token changed at byte {index}");
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct AppClaims {
    sub: String,
    tenant: String,
    level: u32,
    score: i64,
    tags: Vec<String>,
    flags: BTreeMap<String, bool>,
    nickname: Option<String>,
}

fn app_claims() -> impl Strategy<Value = AppClaims> {
    (
        "[a-zA-Z0-9 _.:@-]{1,40}",
        any::<String>(),
        any::<u32>(),
        any::<i64>(),
        prop::collection::vec(any::<String>(), 0..5),
        prop::collection::btree_map("[a-z]{1,8}", any::<bool>(), 0..4),
        prop::option::of(any::<String>()),
    )
        .prop_map(
            |(sub, tenant, level, score, tags, flags, nickname)| AppClaims {
                sub,
                tenant,
                level,
                score,
                tags,
                flags,
                nickname,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(128)))]

    #[test]
    fn claims_round_trip_through_claims_t(claims in app_claims()) {
        let fixture = fixture();
        // ES256: an RSA signature per case would make a million cases take a quarter of an hour.
        let mut builder = fixture
            .issuer
            .token()
            .algorithm(Algorithm::ES256)
            .subject(claims.sub.clone());
        builder = builder
            .claim("tenant", &claims.tenant)
            .claim("level", claims.level)
            .claim("score", claims.score)
            .claim("tags", &claims.tags)
            .claim("flags", &claims.flags)
            .claim("nickname", &claims.nickname);
        let token = builder.sign();
        let verified = fixture.runtime.block_on(fixture.verifier.verify::<AppClaims>(&token));
        let verified = verified.map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert_eq!(&*verified, &claims);
        prop_assert_eq!(&verified.identity().subject, &claims.sub);
    }
}

/// A DPoP-bound token, its key, and a verifier (replays are remembered per verifier, so each case
/// gets fresh proofs from `key`).
struct DpopFixture {
    token: String,
    key: auth_core::testing::DpopKey,
}

fn dpop_fixture() -> &'static DpopFixture {
    static FIXTURE: OnceLock<DpopFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let key = auth_core::testing::DpopKey::generate();
        let token = fixture().issuer.token().dpop_bound(&key).sign();
        DpopFixture { token, key }
    })
}

const DPOP_URL: &str = "https://api.example.com/items";

/// Whether the verifier refuses `proof` for the bound token.
fn proof_refused(proof: &str) -> bool {
    let fixture = fixture();
    let request = auth_core::DpopRequest {
        proof,
        method: "GET",
        url: DPOP_URL,
    };
    fixture
        .runtime
        .block_on(
            fixture
                .verifier
                .verify_dpop(&dpop_fixture().token, &request),
        )
        .is_err()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn any_string_as_a_dpop_proof_is_refused_without_panicking(input in any::<String>()) {
        prop_assert!(proof_refused(&input));
    }

    #[test]
    fn proof_shaped_noise_is_refused(input in token_shaped()) {
        prop_assert!(proof_refused(&input));
    }

    #[test]
    fn every_single_byte_change_to_a_proof_is_refused(
        position in any::<prop::sample::Index>(),
        draw in 0u8..93,
    ) {
        let DpopFixture { token, key } = dpop_fixture();
        let proof = key.proof("GET", DPOP_URL, token);
        let index = position.index(proof.len());
        let mut bytes = proof.into_bytes();
        bytes[index] = another_printable(bytes[index], draw);
        let changed = String::from_utf8(bytes).unwrap();
        prop_assert!(proof_refused(&changed), "accepted a proof changed at byte {index}");
    }
}

/// The properties above would hold vacuously if good proofs were refused too.
#[test]
fn an_unchanged_proof_is_accepted() {
    let DpopFixture { token, key } = dpop_fixture();
    assert!(!proof_refused(&key.proof("GET", DPOP_URL, token)));
}
