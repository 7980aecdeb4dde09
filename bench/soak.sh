#!/usr/bin/env bash
# Soak on loopback: the soak target (examples/src/bin/soak-target.rs) serves a steady load of one
# token (cache hits) and a stream of fresh JWT, opaque and DPoP-bound tokens (cache misses,
# introspection, proofs and their replays), while its embedded issuer rotates keys (published ahead
# of use), goes down, serves max-age=1, and bursts of tokens with unknown `kid`s arrive. Stops by
# itself after DURATION seconds.
#
#   bash bench/soak.sh            (DURATION=90 CYCLE_SECS=6 BURST_EVERY=10 BURST=300 by default)
#
# Fails (exit 1) on a false refusal, an accepted replay or unknown-kid token, or more JWKS fetches
# than the design allows. Resident memory is sampled every 2 s.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-90}
CYCLE_SECS=${CYCLE_SECS:-6}
BURST_EVERY=${BURST_EVERY:-10}
BURST=${BURST:-300}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

# shellcheck source=bench/wrk.sh
source bench/wrk.sh
need_wrk
cargo build --release -q -p examples --bin soak-target

BIND=127.0.0.1:0 WORKERS=1 CYCLE_SECS="$CYCLE_SECS" STORM_FILE="$WORK/storm.txt" RUST_LOG=off \
  taskset -c 0 target/release/soak-target > "$WORK/server.out" 2> /dev/null &
SERVER=$!
for _ in $(seq 1 100); do grep -q '^STORM_FILE=' "$WORK/server.out" && break; sleep 0.1; done
BASE=$(sed -n 's/^BASE=//p' "$WORK/server.out")
if [ -z "$BASE" ]; then
  echo "soak-target did not start within 10 s" >&2
  exit 1
fi
start=$(date +%s)

# Resident memory of the server (the embedded issuer included) every 2 s.
(
  while kill -0 "$SERVER" 2> /dev/null; do
    echo "$(($(date +%s) - start)) $(awk '/^VmRSS/ { print $2 }' "/proc/$SERVER/status")"
    sleep 2
  done
) > "$WORK/rss.txt" &

MODE=steady taskset -c 1 wrk -t1 -c16 -d"${DURATION}s" -s bench/soak.lua "$BASE" > "$WORK/steady.out" 2>&1 &
STEADY=$!
MODE=fresh taskset -c 1 wrk -t2 -c2 -d"${DURATION}s" -s bench/soak.lua "$BASE" > "$WORK/fresh.out" 2>&1 &
FRESH=$!

# Unknown-kid bursts: BURST tokens at once after every BURST_EVERY-second pause, each a different random
# kid (wrk runs 2 s per burst, so they come every BURST_EVERY + 2 seconds).
burst_sent=0
burst_refused=0
while [ $(($(date +%s) - start + BURST_EVERY)) -le "$DURATION" ]; do
  sleep "$BURST_EVERY"
  STORM_FILE="$WORK/storm.txt" BURST=$BURST taskset -c 1 wrk -t1 -c"$BURST" -d2s \
    -s bench/storm.lua "$BASE/protected" > "$WORK/burst.out" 2>&1 || true
  sent=$(wrk_requests "$WORK/burst.out")
  refused=$(wrk_refused "$WORK/burst.out")
  burst_sent=$((burst_sent + ${sent:-0}))
  burst_refused=$((burst_refused + ${refused:-0}))
done
wait "$STEADY" "$FRESH" || true
elapsed=$(($(date +%s) - start))
STATS=$(curl -s --max-time 5 "$BASE/_stats")
kill "$SERVER" 2> /dev/null || true
wait "$SERVER" 2> /dev/null || true

field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<< "$STATS"; }
soak() { # $1: client (steady, fresh), $2: counter
  awk -v key="$2" '/^SOAK/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) print kv[2] } }' \
    "$WORK/$1.out"
}
steady_ok=$(soak steady accepted)
steady_bad=$(soak steady false_refusals)
fresh_ok=$(soak fresh accepted)
fresh_bad=$(soak fresh false_refusals)
unavailable=$(soak fresh unavailable)
replays_refused=$(soak fresh replays_refused)
replays_accepted=$(soak fresh replays_accepted)
fetches=$(field jwks_fetches)
# The design's bound: background refreshes at most once per second (max-age 1 s, the shortest the
# verifier honours; retries during an outage back off from 1 s), plus at most one unknown-kid refetch
# per 1 s cooldown, plus the first load.
bound=$((2 * elapsed + 1))

echo
echo "soak: ${elapsed}s on loopback, 1 worker on CPU 0, wrk on CPU 1; issuer cycle ${CYCLE_SECS}s:" \
  "$(field rotations) rotations, $(field outages) outages, max-age 1 s"
echo
printf '| %-58s | %12s |\n' "measure" "value"
printf '| %-58s | %12s |\n' "----------------------------------------------------------" "------------"
printf '| %-58s | %12s |\n' "steady token (cache hits) accepted" "$steady_ok"
printf '| %-58s | %12s |\n' "fresh JWT, opaque and DPoP tokens accepted" "$fresh_ok"
printf '| %-58s | %12s |\n' "false refusals (must be 0)" "$((steady_bad + fresh_bad))"
printf '| %-58s | %12s |\n' "opaque tokens first seen during an outage (503, expected)" "$unavailable"
printf '| %-58s | %12s |\n' "DPoP proofs replayed: refused / accepted (must be 0)" "$replays_refused / $replays_accepted"
printf '| %-58s | %12s |\n' "unknown-kid burst requests: sent / refused" "$burst_sent / $burst_refused"
printf '| %-58s | %12s |\n' "introspection calls" "$(field introspections)"
printf '| %-58s | %12s |\n' "JWKS fetches / bound" "$fetches / $bound"
awk '
  { t[NR] = $1; r[NR] = $2 }
  END {
    third = int(NR / 3)
    for (i = 1; i <= NR; i++) {
      if (r[i] > peak) peak = r[i]
      if (i > third && i <= 2 * third && r[i] > middle) middle = r[i]
      if (i > 2 * third && r[i] > last) last = r[i]
    }
    printf "| %-58s | %12s |\n", "resident memory: first sample / peak (MiB)", sprintf("%.1f / %.1f", r[1] / 1024, peak / 1024)
    printf "| %-58s | %12s |\n", "resident memory: peak in middle / last third (MiB)", sprintf("%.1f / %.1f", middle / 1024, last / 1024)
  }' "$WORK/rss.txt"
echo
echo "memory samples (s, KiB): $(tr '\n' ' ' < "$WORK/rss.txt")"

failed=0
[ "$((steady_bad + fresh_bad))" -eq 0 ] || { echo "FAIL: valid tokens were refused"; failed=1; }
[ "${replays_accepted:-1}" -eq 0 ] || { echo "FAIL: a replayed DPoP proof was accepted"; failed=1; }
[ "$burst_refused" -eq "$burst_sent" ] || { echo "FAIL: an unknown-kid token was accepted"; failed=1; }
[ "${fetches:-0}" -le "$bound" ] || { echo "FAIL: more JWKS fetches than the bound"; failed=1; }
[ "${steady_ok:-0}" -gt 0 ] && [ "${fresh_ok:-0}" -gt 0 ] || { echo "FAIL: no load was served"; failed=1; }
exit "$failed"
