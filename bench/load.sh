#!/usr/bin/env bash
# End-to-end load test on loopback: the same Actix app serves an unprotected and a protected route, measured
# in one run with wrk. Server pinned to CPU 0 with one worker, wrk to CPU 1. Prints a table.
#
#   bash bench/load.sh            (DURATION=10 CONNECTIONS=64 by default)
#
# Scenarios: open route; protected route with the verified-token cache; protected without it; protected
# (no cache) while a burst of 1,000 concurrent requests with random `kid`s arrives.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  (apt-get update -qq && apt-get install -y -qq wrk) >&2
fi
cargo build --release -q -p examples --bin load-target

start_server() { # $1: VERIFIED_CACHE value ("" for the default)
  local out="$WORK/server.out"
  : > "$out"
  VERIFIED_CACHE="$1" BIND=127.0.0.1:0 WORKERS=1 STORM_FILE="$WORK/storm.txt" RUST_LOG=off \
    taskset -c 0 target/release/load-target > "$out" 2>/dev/null &
  SERVER=$!
  for _ in $(seq 1 100); do grep -q '^STORM_FILE=' "$out" && break; sleep 0.1; done
  BASE=$(sed -n 's/^BASE=//p' "$out")
  TOKEN=$(sed -n 's/^TOKEN=//p' "$out")
}
stop_server() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }

# wrk → "rps p50_ms p99_ms"
measure() { # $1: path, $2: "auth" or "none"
  local header=()
  [ "$2" = auth ] && header=(-H "Authorization: Bearer $TOKEN")
  taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "${header[@]}" "$BASE$1" > "$WORK/wrk.out"
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "50.000%" || $1 == "50%" { p50 = ms($2) }
    $1 == "99.000%" || $1 == "99%" { p99 = ms($2) }
    END { printf "%.0f %.3f %.3f\n", rps, p50, p99 }' "$WORK/wrk.out"
}

row() { printf '| %-44s | %10s | %8s | %8s | %8s |\n' "$@"; }

start_server ""
read -r open_rps open_p50 open_p99 <<< "$(measure /open none)"
read -r cached_rps cached_p50 cached_p99 <<< "$(measure /protected auth)"
stop_server

start_server 0
read -r open2_rps open2_p50 open2_p99 <<< "$(measure /open none)"
read -r nocache_rps nocache_p50 nocache_p99 <<< "$(measure /protected auth)"
fetches_before=$(curl -s "$BASE/_stats" | sed 's/.*"jwks_fetches":\([0-9]*\).*/\1/')
STORM_FILE="$WORK/storm.txt" taskset -c 1 wrk -t1 -c1000 -d"${DURATION}s" -s bench/storm.lua "$BASE/protected" > "$WORK/storm.out" 2>&1 &
STORM=$!
read -r storm_rps storm_p50 storm_p99 <<< "$(measure /protected auth)"
wait "$STORM" || true
fetches_after=$(curl -s "$BASE/_stats" | sed 's/.*"jwks_fetches":\([0-9]*\).*/\1/')
storm_sent=$(awk '/requests in/ { print $1 }' "$WORK/storm.out")
stop_server

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "wrk -t1 -c$CONNECTIONS -d${DURATION}s, server: 1 worker on CPU 0, wrk on CPU 1, release build"
echo
row "scenario" "req/s" "p50 ms" "p99 ms" "ratio"
row "--------------------------------------------" "----------" "--------" "--------" "--------"
row "open route" "$open_rps" "$open_p50" "$open_p99" "1.00"
row "protected, verified-token cache (default)" "$cached_rps" "$cached_p50" "$cached_p99" "$(ratio "$cached_rps" "$open_rps")"
row "open route (second server, cache off)" "$open2_rps" "$open2_p50" "$open2_p99" "1.00"
row "protected, no cache (RS256 every request)" "$nocache_rps" "$nocache_p50" "$nocache_p99" "$(ratio "$nocache_rps" "$open2_rps")"
row "protected, no cache, during unknown-kid burst" "$storm_rps" "$storm_p50" "$storm_p99" "$(ratio "$storm_rps" "$nocache_rps")"
echo
echo "unknown-kid burst: ${storm_sent:-?} requests with random kids on 1000 connections;" \
  "JWKS fetches during the run: $((fetches_after - fetches_before)) (cooldown 30 s: at most 1 expected)"
