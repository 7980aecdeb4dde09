#!/usr/bin/env bash
# End-to-end load test on loopback: the same Actix app serves an unprotected and a protected route, measured
# in one run with wrk. One worker pinned to CPU 0 and wrk to CPU 1, then two workers with wrk sharing
# both cores. Prints a table.
#
#   bash bench/load.sh            (DURATION=4 ROUNDS=5 CONNECTIONS=64 by default)
#
# The routes are measured in rounds, ROUNDS times each, their order reversed every other round;
# throughput and latency are medians. A ratio between routes is the median of the per-round ratios,
# with their quartiles (a round's runs sit seconds apart, so a noisy neighbour hits them alike); the
# limit rows are ratios of medians, and the burst row is one run. Scenarios: the verified-token cache on
# (default) and off; the physical limit without the cache, 1 / (open-request time + one RS256
# signature check, timed on CPU 0 in the same run), and the same floor measured in the server
# (`/signature`: the open route plus one signature check of the bearer, nothing else); the
# protected route (no cache) while a burst of 1,000 concurrent requests with random `kid`s
# arrives; and the cached route with two workers.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-4}
ROUNDS=${ROUNDS:-5}
CONNECTIONS=${CONNECTIONS:-64}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

# shellcheck source=bench/wrk.sh
source bench/wrk.sh
# shellcheck source=bench/load-target.sh
source bench/load-target.sh
need_wrk
cargo build --release -q -p examples --bin load-target --bin signature-cost

WORKERS=1
start_server() { # $1: VERIFIED_CACHE value ("" for the default); WORKERS
  local out="$WORK/server.out" pin=(taskset -c 0)
  [ "$WORKERS" -eq 1 ] || pin=()
  : > "$out"
  # The library's default unknown-kid cooldown (the load target's own default is 1 s, for fleet.sh).
  VERIFIED_CACHE="$1" BIND=127.0.0.1:0 WORKERS="$WORKERS" STORM_FILE="$WORK/storm.txt" RUST_LOG=off \
    UNKNOWN_KID_COOLDOWN=30 \
    "${pin[@]}" target/release/load-target > "$out" 2>/dev/null &
  SERVER=$!
  await_ready "$out" load-target
  BASE=$(announced "$out" BASE)
  TOKEN=$(announced "$out" TOKEN)
}
stop_server() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }

# wrk → "rps p50_ms p99_ms". Both routes get the same request bytes (the token included; /open ignores
# it), so the difference is the authentication work, not a longer request on the wire.
measure() { # $1: path
  local header=(-H "Authorization: Bearer $TOKEN") client=(taskset -c 1 wrk -t1)
  [ "$WORKERS" -eq 1 ] || client=(wrk -t2)
  "${client[@]}" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${header[@]}" "$BASE$1" > "$WORK/wrk.out"
  wrk_summary "$WORK/wrk.out"
}

row() { printf '| %-50s | %10s | %8s | %8s | %18s |\n' "$@"; }

# ROUNDS rounds, each measuring every route given: route i's "rps p50 p99" medians go to $WORK/med.i,
# and $WORK/ratios.i the per-round throughput ratios route i / route 1.
alternate() {
  local routes=("$@") n=$# i round order
  for i in $(seq 1 "$n"); do : > "$WORK/runs.$i"; done
  # The order reverses every other round (A B C, C B A, ...), so a machine that speeds up or slows
  # down over a round does not favour one route.
  for round in $(seq 1 "$ROUNDS"); do
    order=$(seq 1 "$n")
    [ $((round % 2)) -eq 1 ] || order=$(seq "$n" -1 1)
    for i in $order; do measure "${routes[$((i - 1))]}" >> "$WORK/runs.$i"; done
  done
  for i in $(seq 1 "$n"); do
    echo "$(median "$WORK/runs.$i" 1) $(median "$WORK/runs.$i" 2) $(median "$WORK/runs.$i" 3)" > "$WORK/med.$i"
    paste -d' ' "$WORK/runs.1" "$WORK/runs.$i" | awk '{ printf "%.4f\n", $4 / $1 }' > "$WORK/ratios.$i"
  done
}
# Route i's medians as "rps p50 p99", and its median ratio to route 1 (of the last `alternate`).
medians() { cat "$WORK/med.$1"; }
ratio_to_first() { with_spread "$WORK/ratios.$1"; }
# A file of per-round ratios as "median (lower quartile–upper quartile)": on a machine whose speed
# drifts, the spread says how far one median can be trusted.
with_spread() {
  sort -n "$1" | awk '{ v[NR] = $1 } END {
    printf "%.2f (%.2f-%.2f)", v[int((NR + 1) / 2)], v[int((NR + 3) / 4)], v[int((3 * NR + 3) / 4)] }'
}

start_server ""
alternate /open /protected
read -r -a CACHED_OPEN < <(medians 1); read -r -a CACHED < <(medians 2); CACHED_RATIO=$(ratio_to_first 2)
stop_server

# Without the cache, a third route does the open route's work plus one signature check of the same
# token and nothing else: the floor an uncached protected request cannot go below, measured in the
# server, beside the formula below.
start_server 0
# /signature fetches its key on first use; that happens here, not in a timed run.
curl -s -o /dev/null --max-time 10 -H "Authorization: Bearer $TOKEN" "$BASE/signature"
alternate /open /signature /protected
read -r -a NOCACHE_OPEN < <(medians 1); read -r -a FLOOR < <(medians 2); read -r -a NOCACHE < <(medians 3)
FLOOR_RATIO=$(ratio_to_first 2); NOCACHE_RATIO=$(ratio_to_first 3)
paste -d' ' "$WORK/runs.2" "$WORK/runs.3" | awk '{ printf "%.4f\n", $4 / $1 }' > "$WORK/floor-ratios.txt"
AGAINST_FLOOR=$(with_spread "$WORK/floor-ratios.txt")
fetches_before=$(curl -s --max-time 5 "$BASE/_stats" | sed 's/.*"jwks_fetches":\([0-9]*\).*/\1/')
STORM_FILE="$WORK/storm.txt" taskset -c 1 wrk -t1 -c1000 -d"${DURATION}s" -s bench/storm.lua "$BASE/protected" > "$WORK/storm.out" 2>&1 &
STORM=$!
stormed=$(measure /protected)
read -r -a STORMED <<< "$stormed"
wait "$STORM" || true
fetches_after=$(curl -s --max-time 5 "$BASE/_stats" | sed 's/.*"jwks_fetches":\([0-9]*\).*/\1/')
storm_sent=$(wrk_requests "$WORK/storm.out")
stop_server
# The signature check alone, on the core the server used, in this run.
SIGNATURE_US=$(taskset -c 0 target/release/signature-cost | sed -n 's/^SIGNATURE_US=//p')
LIMIT=$(awk -v open="${NOCACHE_OPEN[0]}" -v sig="$SIGNATURE_US" 'BEGIN { printf "%.0f", 1 / (1 / open + sig / 1e6) }')

WORKERS=2
start_server ""
alternate /open /protected
read -r -a TWO_OPEN < <(medians 1); read -r -a TWO < <(medians 2); TWO_RATIO=$(ratio_to_first 2)
stop_server

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "wrk -c$CONNECTIONS, ${ROUNDS} x ${DURATION}s alternating, medians (ratios: median of the rounds, quartiles); release build; one worker on CPU 0 with" \
  "wrk -t1 on CPU 1, unless two workers"
echo
row "scenario" "req/s" "p50 ms" "p99 ms" "ratio"
row "--------------------------------------------------" "----------" "--------" "--------" "------------------"
row "open route (cache-on server)" "${CACHED_OPEN[@]}" "1.00"
row "protected, verified-token cache (default)" "${CACHED[@]}" "$CACHED_RATIO"
row "open route (cache-off server)" "${NOCACHE_OPEN[@]}" "1.00"
row "protected, no cache (RS256 on every request)" "${NOCACHE[@]}" "$NOCACHE_RATIO"
row "physical limit, 1 / (open + ${SIGNATURE_US} µs signature)" "$LIMIT" "" "" "$(ratio "$LIMIT" "${NOCACHE_OPEN[0]}")"
row "no cache against the physical limit" "" "" "" "$(ratio "${NOCACHE[0]}" "$LIMIT")"
row "open + one signature check, in the server" "${FLOOR[@]}" "$FLOOR_RATIO"
row "the in-server floor against the physical limit" "" "" "" "$(ratio "${FLOOR[0]}" "$LIMIT")"
row "no cache against the in-server floor" "" "" "" "$AGAINST_FLOOR"
row "protected, no cache, 1,000 unknown-kid burst" "${STORMED[@]}" "$(ratio "${STORMED[0]}" "${NOCACHE[0]}")"
row "two workers, wrk -t2 sharing the cores: open" "${TWO_OPEN[@]}" "1.00"
row "two workers: protected, verified-token cache" "${TWO[@]}" "$TWO_RATIO"
echo
echo "unknown-kid burst: ${storm_sent:-?} requests with random kids at once on 1000 connections;" \
  "JWKS fetches they caused: $((fetches_after - fetches_before)) (cooldown 30 s: at most 1 expected)"
