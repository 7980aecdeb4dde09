#!/usr/bin/env bash
# The whole comparison in one command, on loopback: this project's load target against the stacks a user
# would pick instead, same token, same issuer (the load target's embedded one), same machine, one run.
#
#   bash bench/peers/run.sh        (DURATION=4 ROUNDS=5 CONNECTIONS=64 by default)
#
# Every server runs one worker pinned to CPU 0; wrk runs on CPU 1. For each stack its open route and
# its protected route are measured alternately, ROUNDS times each, and the medians reported. Writes
# the table to bench/peers/results.md and a chart to bench/peers/results.svg.
#
# Peers (their own projects, outside the workspace, so tests and CI never build them):
#   actix-httpauth        actix-web-httpauth's bearer extractor + jsonwebtoken::decode, keys fetched once
#   axum-jwt-authorizer   jwt-authorizer on axum with its defaults
#   fastapi               FastAPI + fastapi-clerk-auth under one uvicorn worker
set -euo pipefail
cd "$(dirname "$0")"
PEERS=$(pwd)
ROOT=$(cd ../.. && pwd)
DURATION=${DURATION:-4}
ROUNDS=${ROUNDS:-5}
CONNECTIONS=${CONNECTIONS:-64}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2> /dev/null || true; rm -rf "$WORK"' EXIT

# shellcheck source=bench/wrk.sh
source "$ROOT/bench/wrk.sh"
# shellcheck source=bench/load-target.sh
source "$ROOT/bench/load-target.sh"
need_wrk
echo "building (release)..." >&2
(cd "$ROOT" && cargo build --release -q -p examples --bin load-target)
export CARGO_TARGET_DIR="$PEERS/target"
(cd actix-httpauth && cargo build --release -q)
(cd axum-jwt-authorizer && cargo build --release -q)
if [ ! -x fastapi/.venv/bin/uvicorn ]; then
  python3 -m venv fastapi/.venv
  fastapi/.venv/bin/pip install -q -r fastapi/requirements.txt
fi

wait_for() { # $1: URL answering once the server is up
  for _ in $(seq 1 100); do
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  echo "nothing answered at $1 within 10 s" >&2
  exit 1
}

# This project, default settings (verified-token cache on); its embedded issuer serves every stack.
BIND=127.0.0.1:0 WORKERS=1 STORM_FILE="$WORK/storm.txt" RUST_LOG=off \
  taskset -c 0 "$ROOT/target/release/load-target" > "$WORK/ours.out" 2> /dev/null &
await_ready "$WORK/ours.out" load-target
OURS=$(announced "$WORK/ours.out" BASE)
TOKEN=$(announced "$WORK/ours.out" TOKEN)
ISSUER=$(curl -s --max-time 5 "$OURS/_stats" | sed 's/.*"issuer":"\([^"]*\)".*/\1/')
export JWKS_URL="$ISSUER/jwks" ISSUER AUDIENCE=test-api

measure() { # $1: URL → "rps p50_ms p99_ms"
  taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency \
    -H "Authorization: Bearer $TOKEN" "$1" > "$WORK/wrk.out"
  wrk_summary "$WORK/wrk.out"
}

: > "$WORK/results.txt"
stack() { # $1: name, $2: base URL
  : > "$WORK/open.txt"; : > "$WORK/prot.txt"
  # Which route goes first alternates, so drift over a round favours neither.
  for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then
      measure "$2/open" >> "$WORK/open.txt"
      measure "$2/protected" >> "$WORK/prot.txt"
    else
      measure "$2/protected" >> "$WORK/prot.txt"
      measure "$2/open" >> "$WORK/open.txt"
    fi
  done
  echo "$1 $(median "$WORK/open.txt" 1) $(median "$WORK/prot.txt" 1) $(median "$WORK/prot.txt" 2)" \
    "$(median "$WORK/prot.txt" 3)" >> "$WORK/results.txt"
  echo "measured $1" >&2
}
stop() { kill "$1" 2> /dev/null || true; wait "$1" 2> /dev/null || true; }

stack "auth-actix (this project)" "$OURS"

BIND=127.0.0.1:18481 taskset -c 0 "$PEERS/target/release/peer-actix-httpauth" 2> /dev/null &
PEER=$!; wait_for http://127.0.0.1:18481/open
stack "actix-web-httpauth + jsonwebtoken" http://127.0.0.1:18481
stop "$PEER"

BIND=127.0.0.1:18482 taskset -c 0 "$PEERS/target/release/peer-axum-jwt-authorizer" 2> /dev/null &
PEER=$!; wait_for http://127.0.0.1:18482/open
stack "jwt-authorizer on axum" http://127.0.0.1:18482
stop "$PEER"

# exec, so that $! is uvicorn itself and stopping it stops the server.
(cd fastapi && exec taskset -c 0 .venv/bin/uvicorn app:app --host 127.0.0.1 --port 18483 --workers 1 \
  --log-level warning --no-access-log > /dev/null 2>&1) &
PEER=$!; wait_for http://127.0.0.1:18483/open
stack "FastAPI + fastapi-clerk-auth" http://127.0.0.1:18483
stop "$PEER"

python3 - "$WORK/results.txt" "$PEERS/results.md" "$PEERS/results.svg" "$DURATION" "$ROUNDS" "$CONNECTIONS" <<'PY'
import sys
rows = []
for line in open(sys.argv[1]):
    *name, open_rps, rps, p50, p99 = line.split()
    rows.append((" ".join(name), float(open_rps), float(rps), float(p50), float(p99)))
ours = rows[0][2]
md = [f"wrk -t1 -c{sys.argv[6]}, {sys.argv[5]} x {sys.argv[4]} s alternating, medians; each server one worker on CPU 0, wrk on CPU 1, release; same token",
      "",
      "| stack | open req/s | protected req/s | p50 ms | p99 ms | protected / open | this project / stack |",
      "|---|---:|---:|---:|---:|---:|---:|"]
for name, open_rps, rps, p50, p99 in rows:
    md.append(f"| {name} | {open_rps:,.0f} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {rps / open_rps:.2f} | {ours / rps:.1f}x |")
open(sys.argv[2], "w").write("\n".join(md) + "\n")
print("\n".join(md))
# A bar chart of protected throughput with p99 written beside each bar.
width, bar_h, gap, left = 760, 28, 14, 260
height = 50 + len(rows) * (bar_h + gap)
top = max(r[2] for r in rows)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="13">',
       f'<text x="10" y="22" font-size="15" font-weight="bold">Protected route, requests per second (one worker) and p99</text>']
for i, (name, _, rps, _, p99) in enumerate(rows):
    y = 40 + i * (bar_h + gap)
    w = max(2, (width - left - 170) * rps / top)
    colour = "#2f6fde" if i == 0 else "#9aa5b1"
    svg.append(f'<text x="10" y="{y + 19}">{name}</text>')
    svg.append(f'<rect x="{left}" y="{y}" width="{w:.0f}" height="{bar_h}" fill="{colour}"/>')
    svg.append(f'<text x="{left + w + 6:.0f}" y="{y + 19}">{rps:,.0f} req/s, p99 {p99:.2f} ms</text>')
svg.append("</svg>")
open(sys.argv[3], "w").write("\n".join(svg) + "\n")
PY
