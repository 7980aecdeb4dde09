#!/usr/bin/env bash
# Long randomized runs of the property tests: token parsing and verification, JWKS parsing, claim paths,
# and header/cookie token extraction. Not part of the default test run. cargo-fuzz needs a nightly
# toolchain, which this project's machines do not have, so the harnesses are proptest-driven on stable.
#
#   CASES=20000 bash bench/fuzz.sh      (cases per property; default 20000)
#
# Every failure proptest finds is shrunk and saved under proptest-regressions/, and replayed on every
# later run: commit those files as regression tests.
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${CASES:-20000}
export PROPTEST_CASES=$CASES
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
start=$(date +%s)
failed=0
run() { # $1: label, rest: cargo test arguments
  local label=$1
  shift
  local t0
  t0=$(date +%s)
  # The filter only trims the output; the verdict is cargo's own exit status.
  local status=0
  cargo test -q "$@" > "$WORK/out" 2>&1 || status=$?
  grep -E "test result|FAILED|panicked" "$WORK/out" || true
  if [ "$status" -ne 0 ]; then
    failed=1
    echo "$label: FAILED (cargo test exit $status); the shrunk case is saved under proptest-regressions/"
  fi
  echo "$label: $CASES cases per property in $(( $(date +%s) - t0 ))s"
}
run "token parsing and verification (tests/properties)" -p tests --test properties
run "JWKS parsing (auth-core jwks)" -p auth-core --lib jwks::tests
run "claim paths (auth-core claim_path)" -p auth-core --lib claim_path::tests
run "header and cookie extraction (auth-actix token_lookup)" -p auth-actix --lib token_lookup::tests
echo "total: $(( $(date +%s) - start ))s"
exit "$failed"
