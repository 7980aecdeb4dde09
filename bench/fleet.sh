#!/usr/bin/env bash
# What a fleet costs its identity provider: INSTANCES copies of the load target (separate processes,
# each with its own key cache) trust one issuer, the first instance's embedded one, which serves a
# short max-age. Every instance gets steady traffic on a valid token and, at the same time, a
# continuous stream of tokens naming unknown `kid`s. Loopback only; stops by itself.
#
#   bash bench/fleet.sh      (INSTANCES=4 DURATION=20 MAX_AGE=2 COOLDOWN=5 by default)
#
# The design's promise, checked at the end (non-zero exit when broken): the issuer serves at most, per
# instance, one first load, one refresh per 0.9 x max-age (keys are refreshed a little before they
# expire), and one unknown-kid refetch per cooldown; every instance is bounded on its own, with no
# shared state between them.
set -euo pipefail
cd "$(dirname "$0")/.."
INSTANCES=${INSTANCES:-4}
DURATION=${DURATION:-20}
MAX_AGE=${MAX_AGE:-2}
COOLDOWN=${COOLDOWN:-5}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2> /dev/null || true; rm -rf "$WORK"' EXIT

# shellcheck source=bench/wrk.sh
source bench/wrk.sh
# shellcheck source=bench/load-target.sh
source bench/load-target.sh
need_wrk
cargo build --release -q -p examples --bin load-target

start() { # $1: instance number; environment: ISSUER for followers
  local out="$WORK/instance-$1.out"
  BIND=127.0.0.1:0 WORKERS=1 MAX_AGE="$MAX_AGE" UNKNOWN_KID_COOLDOWN="$COOLDOWN" \
    STORM_FILE="$WORK/storm.txt" RUST_LOG=off target/release/load-target > "$out" 2> /dev/null &
  await_ready "$out" "instance $1"
  announced "$out" BASE > "$WORK/base-$1"
}
stat() { # $1: base URL, $2: field
  curl -s --max-time 5 "$1/_stats" | sed "s/.*\"$2\":\([0-9]*\).*/\1/"
}

began=$(date +%s)
ISSUER= start 1
LEADER=$(cat "$WORK/base-1")
TOKEN=$(sed -n 's/^TOKEN=//p' "$WORK/instance-1.out")
ISSUER=$(curl -s --max-time 5 "$LEADER/_stats" | sed 's/.*"issuer":"\([^"]*\)".*/\1/')
for i in $(seq 2 "$INSTANCES"); do
  ISSUER="$ISSUER" start "$i"
done

LOADS=()
for i in $(seq 1 "$INSTANCES"); do
  base=$(cat "$WORK/base-$i")
  wrk -t1 -c4 -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" "$base/protected" \
    > "$WORK/steady-$i.out" 2>&1 &
  LOADS+=($!)
  STORM_FILE="$WORK/storm.txt" BURST=100000000 wrk -t1 -c4 -d"${DURATION}s" -s bench/storm.lua \
    "$base/protected" > "$WORK/storm-$i.out" 2>&1 &
  LOADS+=($!)
done
for pid in "${LOADS[@]}"; do wait "$pid"; done
elapsed=$(($(date +%s) - began))

served=$(stat "$LEADER" issuer_jwks_served)
steady=0; steady_refused=0; storm=0; storm_refused=0; per_instance=""
for i in $(seq 1 "$INSTANCES"); do
  steady=$((steady + $(wrk_requests "$WORK/steady-$i.out")))
  steady_refused=$((steady_refused + $(wrk_refused "$WORK/steady-$i.out")))
  storm=$((storm + $(wrk_requests "$WORK/storm-$i.out")))
  storm_refused=$((storm_refused + $(wrk_refused "$WORK/storm-$i.out")))
  per_instance="$per_instance $(stat "$(cat "$WORK/base-$i")" jwks_fetches)"
done
# Per instance: the first load, a refresh per 0.9 x max-age, an unknown-kid refetch per cooldown.
per_bound=$(awk -v t="$elapsed" -v m="$MAX_AGE" -v c="$COOLDOWN" 'function up(x) { return x == int(x) ? x : int(x) + 1 }
  BEGIN { print 1 + up(t / (0.9 * m)) + up(t / c) }')
bound=$((INSTANCES * per_bound))

echo
echo "fleet: $INSTANCES instances, one issuer (max-age ${MAX_AGE} s), unknown-kid cooldown ${COOLDOWN} s," \
  "${elapsed} s from the first start to the last request"
echo
printf '| %-52s | %14s |\n' "measure" "value"
printf '| %-52s | %14s |\n' "----------------------------------------------------" "--------------"
printf '| %-52s | %14s |\n' "valid-token requests / refused (must be 0)" "$steady / $steady_refused"
printf '| %-52s | %14s |\n' "unknown-kid requests / refused (must be all)" "$storm / $storm_refused"
printf '| %-52s | %14s |\n' "JWKS fetches per instance" "${per_instance# }"
printf '| %-52s | %14s |\n' "JWKS responses served by the issuer" "$served"
printf '| %-52s | %14s |\n' "bound per instance: 1 + ${elapsed}/(0.9 x ${MAX_AGE}) + ${elapsed}/${COOLDOWN}" "$per_bound"
printf '| %-52s | %14s |\n' "bound for the fleet: ${INSTANCES} x that" "$bound"

failed=0
[ "$steady" -gt 0 ] && [ "$storm" -gt 0 ] || { echo "FAIL: no load reached the instances"; failed=1; }
[ "$steady_refused" -eq 0 ] || { echo "FAIL: valid tokens refused"; failed=1; }
[ "$storm_refused" -eq "$storm" ] || { echo "FAIL: unknown-kid tokens accepted"; failed=1; }
for fetches in $per_instance; do
  [ "$fetches" -le "$per_bound" ] || { echo "FAIL: an instance fetched $fetches times"; failed=1; }
done
[ -n "$served" ] && [ "$served" -le "$bound" ] || { echo "FAIL: more JWKS fetches than the bound"; failed=1; }
exit "$failed"
