#!/usr/bin/env bash
# DPoP requests against their floor, in one server: `GET /protected` with a DPoP-bound token (a
# verified-token cache hit) and a new proof on every request, against `/floor/es256` or
# `/floor/eddsa`, the open route plus one check of the same proof's signature with the client's key
# parsed once. For ES256 and EdDSA proofs, with the proof-key table on (default) and off
# (`DPOP_KEY_CACHE=0`, every proof's key parsed, as before the table), replays remembered in memory;
# with REDIS=1, also in a `redis-server` started on a free loopback port (no persistence,
# `maxmemory-policy noeviction`; in wrk mode pinned to CPU 1 beside wrk).
#
#   bash bench/dpop.sh                  instructions per request (callgrind; the primary figure)
#   MODE=wrk bash bench/dpop.sh         throughput (only on a quiet machine: check `uptime`)
#
# callgrind: the load target runs under callgrind, started with collection off; each phase sends
# COUNT (default 500) keep-alive requests on one connection and dumps the counters, the phases'
# order alternating (floor, DPoP, DPoP, floor). Instructions per request are the phase's total over
# COUNT, user space only, in the whole server. wrk: one worker on CPU 0, `wrk -t1 -c64` on CPU 1,
# ROUNDS (default 5) rounds of DURATION (default 3) seconds, the order reversed every other round;
# ratios are the median of the per-round ratios, with their quartiles, as in bench/load.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${MODE:-callgrind}
COUNT=${COUNT:-500}
DURATION=${DURATION:-3}
ROUNDS=${ROUNDS:-5}
CONNECTIONS=${CONNECTIONS:-64}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

# shellcheck source=bench/wrk.sh
source bench/wrk.sh
# shellcheck source=bench/load-target.sh
source bench/load-target.sh
need_wrk
cargo build --release -q -p examples --bin load-target

REDIS_URL=""
if [ "${REDIS:-0}" = 1 ]; then
  REDIS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  redis_pin=(); [ "$MODE" = wrk ] && redis_pin=(taskset -c 1)
  "${redis_pin[@]}" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --maxmemory-policy noeviction > "$WORK/redis.log" 2>&1 &
  for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping > /dev/null 2>&1 && break; sleep 0.1; done
  REDIS_URL="redis://127.0.0.1:$REDIS_PORT/"
fi

start_server() { # $1: DPOP_KEY_CACHE value ("" for the default); $2: proofs per key; $3: Redis URL
  local out="$WORK/server.out" run=(taskset -c 0)
  [ "$MODE" = wrk ] || run=(valgrind --tool=callgrind --instr-atstart=no
    "--callgrind-out-file=$WORK/cg.out")
  : > "$out"
  DPOP_KEY_CACHE="$1" DPOP_PROOFS="$2" DPOP_REDIS="$3" DPOP_DIR="$WORK" BIND=127.0.0.1:0 WORKERS=1 \
    STORM_FILE="$WORK/storm.txt" RUST_LOG=off "${run[@]}" target/release/load-target \
    > "$out" 2>"$WORK/server.err" &
  SERVER=$!
  for _ in $(seq 1 60); do grep -q '^READY=' "$out" && break; sleep 1; done
  await_ready "$out" load-target
  BASE=$(announced "$out" BASE)
  for alg in ES256 EDDSA; do
    declare -g "TOKEN_$alg=$(announced "$out" "DPOP_TOKEN_$alg")"
    declare -g "PROOFS_$alg=$(announced "$out" "DPOP_PROOFS_$alg")"
    declare -g "SPENT_$alg=0"
  done
}
stop_server() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }

# One wrk run of route $2 with alg $1's token and proofs; DPoP runs spend the proofs they send.
run_wrk() { # $1: ES256|EDDSA; $2: route; the rest: wrk's arguments
  local alg=$1 route=$2 token proofs spent
  shift 2
  token=$(eval echo "\$TOKEN_$alg"); proofs=$(eval echo "\$PROOFS_$alg"); spent=$(eval echo "\$SPENT_$alg")
  PROOFS="$proofs" TOKEN="$token" ROUTE="$route" SKIP="$spent" \
    "$@" -s bench/dpop.lua "$BASE$route" > "$WORK/wrk.out"
  if [ "$route" = /protected ]; then
    # Requests in flight when wrk stopped may have reached the server: never send those again.
    declare -g "SPENT_$alg=$((spent + $(wrk_requests "$WORK/wrk.out") + 2 * CONNECTIONS))"
  fi
}

# COUNT requests of route $2 with alg $1's token and proofs, one after another on one keep-alive
# connection (wrk cannot stop after a number of requests); fails unless every answer is 200.
send() { # $1: ES256|EDDSA; $2: route; $3: how many
  local alg=$1 token proofs spent
  token=$(eval echo "\$TOKEN_$alg"); proofs=$(eval echo "\$PROOFS_$alg"); spent=$(eval echo "\$SPENT_$alg")
  python3 - "$BASE" "$2" "$token" "$proofs" "$spent" "$3" <<'PY'
import http.client, sys, urllib.parse
base, route, token, proofs, skip, count = sys.argv[1:7]
with open(proofs) as lines:
    proofs = [line.strip() for line in lines][int(skip):int(skip) + int(count)]
assert len(proofs) == int(count), "not enough proofs"
url = urllib.parse.urlsplit(base)
connection = http.client.HTTPConnection(url.hostname, url.port)
for proof in proofs:
    connection.request("GET", route, headers={"Authorization": "DPoP " + token, "DPoP": proof})
    reply = connection.getresponse()
    reply.read()
    if reply.status != 200:
        sys.exit(f"{route}: {reply.status}")
PY
  [ "$2" != /protected ] || declare -g "SPENT_$alg=$((spent + $3))"
}

# callgrind: instructions per request of one phase, appended to $WORK/phases (not a subshell: the
# proofs a DPoP phase spends must count for the next).
phase() { # $1: alg; $2: route
  callgrind_control -z "$SERVER" > /dev/null 2>&1
  send "$1" "$2" "$COUNT"
  callgrind_control -d "$SERVER" > /dev/null 2>&1
  local dump
  dump=$(ls -t "$WORK"/cg.out.* | head -1)
  awk -v n="$COUNT" '/^(summary|totals):/ { print int($2 / n); exit }' "$dump" >> "$WORK/phases"
}

row() { printf '| %-44s | %12s | %12s | %10s |\n' "$@"; }
declare -A RESULT
CONFIGS="on off"; [ -z "$REDIS_URL" ] || CONFIGS="on off redis"
for cache in $CONFIGS; do
  value=""; [ $cache != off ] || value=0
  store=""; [ $cache != redis ] || store=$REDIS_URL
  if [ "$MODE" = wrk ]; then
    start_server "$value" $((ROUNDS * DURATION * 40000 + 10000)) "$store"
  else
    start_server "$value" $((4 * COUNT + 100)) "$store"
    callgrind_control -i on "$SERVER" > /dev/null 2>&1
  fi
  for alg in ES256 EDDSA; do
    floor=/floor/$(echo $alg | tr 'A-Z' 'a-z')
    # Warm up: the first DPoP request verifies the token and fills the key table.
    send $alg /protected 20
    if [ "$MODE" = wrk ]; then
      : > "$WORK/floor.$alg"; : > "$WORK/dpop.$alg"
      for round in $(seq 1 "$ROUNDS"); do
        order="$floor /protected"
        [ $((round % 2)) -eq 1 ] || order="/protected $floor"
        for route in $order; do
          run_wrk $alg "$route" taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency
          if [ "$route" = /protected ]; then wrk_summary "$WORK/wrk.out" >> "$WORK/dpop.$alg"
          else wrk_summary "$WORK/wrk.out" >> "$WORK/floor.$alg"; fi
        done
      done
      paste -d' ' "$WORK/floor.$alg" "$WORK/dpop.$alg" | awk '{ printf "%.4f\n", $4 / $1 }' \
        | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f (%.2f-%.2f)", v[int((NR + 1) / 2)],
          v[int((NR + 3) / 4)], v[int((3 * NR + 3) / 4)] }' > "$WORK/ratio.$alg"
      RESULT[$alg.$cache]="$(median "$WORK/floor.$alg" 1) $(median "$WORK/dpop.$alg" 1) $(cat "$WORK/ratio.$alg")"
    else
      : > "$WORK/phases"
      phase $alg "$floor"; phase $alg /protected; phase $alg /protected; phase $alg "$floor"
      read -r a b c d <<< "$(tr '\n' ' ' < "$WORK/phases")"
      f=$(( (a + d) / 2 )); p=$(( (b + c) / 2 ))
      RESULT[$alg.$cache]="$f $p $(awk -v f="$f" -v p="$p" 'BEGIN { printf "%.3f", f / p }') ($a $d / $b $c)"
    fi
  done
  stop_server
done

echo
if [ "$MODE" = wrk ]; then
  echo "wrk -t1 -c$CONNECTIONS on CPU 1, one worker on CPU 0, ${ROUNDS} x ${DURATION}s alternating; medians (ratio: median of the rounds, quartiles)"
  row "DPoP request against its floor" "floor req/s" "DPoP req/s" "DPoP / floor"
else
  echo "callgrind, $COUNT keep-alive requests a phase, phases floor, DPoP, DPoP, floor; instructions per request, whole server, user space"
  row "DPoP request against its floor" "floor" "DPoP" "floor / DPoP"
fi
row "--------------------------------------------" "------------" "------------" "----------"
for alg in ES256 EDDSA; do
  for cache in $CONFIGS; do
    read -r -a r <<< "${RESULT[$alg.$cache]}"
    what="proof-key table $cache"; [ $cache != redis ] || what="table on, replays in Redis"
    row "$alg proof, $what" "${r[0]}" "${r[1]}" "${r[*]:2}"
  done
done
