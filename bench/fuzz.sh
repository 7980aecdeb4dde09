#!/usr/bin/env bash
# Long randomized runs of the property tests: token parsing and verification, DPoP proofs, JWKS
# parsing, claim paths, and header/cookie token extraction. Not part of the default test run.
# cargo-fuzz needs a nightly toolchain, which this project's machines do not have, so the harnesses
# are proptest-driven on stable.
#
#   bash bench/fuzz.sh                  (CASES=20000 cases per property by default, a few minutes)
#   CASES=1000000 bash bench/fuzz.sh    (the figures in SECURITY.md)
#
# Each property runs on its own (so its wall time is its own) and must reach its case count: a
# property that rejects cases (prop_assume!, filters) and stops at proptest's reject limit fails
# like a broken one. Every failure proptest finds is shrunk and saved under proptest-regressions/,
# and replayed on every later run: commit those files as regression tests.
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${CASES:-20000}
export PROPTEST_CASES=$CASES
# Optimised for speed, with debug assertions and overflow checks kept: an overflow on client input is
# a finding here even though a release build would wrap silently.
export CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# package and target | test path
PROPERTIES=(
  "-p tests --test properties|any_string_is_refused_without_panicking"
  "-p tests --test properties|any_bytes_are_refused_without_panicking"
  "-p tests --test properties|token_shaped_noise_is_refused"
  "-p tests --test properties|a_valid_header_with_noise_is_refused"
  "-p tests --test properties|every_single_byte_change_is_refused"
  "-p tests --test properties|claims_round_trip_through_claims_t"
  "-p tests --test properties|any_string_as_a_dpop_proof_is_refused_without_panicking"
  "-p tests --test properties|proof_shaped_noise_is_refused"
  "-p tests --test properties|every_single_byte_change_to_a_proof_is_refused"
  "-p auth-core --lib|jwks::tests::any_document_parses_or_fails_cleanly"
  "-p auth-core --lib|jwks::tests::any_key_members_parse_or_are_skipped"
  "-p auth-core --lib|claim_path::tests::any_path_parses_or_explains"
  "-p auth-core --lib|claim_path::tests::names_never_panic_on_any_json"
  "-p auth-core --lib|json::tests::agrees_with_serde_json_on_any_text"
  "-p auth-core --lib|json::tests::reads_back_any_object"
  "-p auth-actix --lib|request::token::tests::any_header_bytes_are_handled"
)

# Build first, each exactly as it runs below (features are chosen per invocation), so the timings are
# the properties' own.
cargo test -q --release -p tests --test properties --no-run
cargo test -q --release -p auth-core --lib --no-run
cargo test -q --release -p auth-actix --lib --no-run

start=$(date +%s)
failed=0
printf '| %-58s | %9s | %8s | %s\n' "property" "cases" "seconds" "verdict"
printf '| %-58s | %9s | %8s | %s\n' "----------------------------------------------------------" "---------" "--------" "-------"
for entry in "${PROPERTIES[@]}"; do
  args=${entry%%|*}
  name=${entry##*|}
  t0=$(date +%s)
  status=0
  # shellcheck disable=SC2086 # $args is a list of cargo arguments
  cargo test -q --release $args -- --exact "$name" > "$WORK/out" 2>&1 || status=$?
  verdict=passed
  if [ "$status" -ne 0 ]; then
    failed=1
    verdict="FAILED (see below)"
  elif ! grep -q "1 passed" "$WORK/out"; then
    failed=1
    verdict="NOT RUN (no test named $name)"
  fi
  printf '| %-58s | %9s | %8s | %s\n' "${name##*::}" "$CASES" "$(($(date +%s) - t0))" "$verdict"
  if [ "$status" -ne 0 ]; then
    grep -E "panicked|Test aborted|minimal failing input|FAILED" "$WORK/out" | head -5 || true
  fi
done
echo "total: $(($(date +%s) - start))s"
exit "$failed"
