#!/usr/bin/env bash
# End-to-end smoke test of the test OpenID Provider with curl.
# Usage: bash tests/oidc-provider/smoke.sh [ALG ...]   (default: RS256 PS256 ES256 EdDSA)
# Needs node, curl and `npm ci --prefix tests/oidc-provider` done first.
# Prints every response; exits non-zero on the first failed check.
set -euo pipefail

H="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
W="$(mktemp -d)"
NODE_PID=""
cleanup() {
  exec 3>&- 2>/dev/null || true
  if [ -n "$NODE_PID" ]; then kill "$NODE_PID" 2>/dev/null || true; fi
  rm -rf "$W"
}
trap cleanup EXIT

ALGS=("$@")
[ ${#ALGS[@]} -eq 0 ] && ALGS=(RS256 PS256 ES256 EdDSA)

j() { node -e 'const o=JSON.parse(require("fs").readFileSync(0,"utf8"));const v=process.argv[1].split(".").reduce((a,k)=>a?.[k],o);console.log(typeof v==="object"?JSON.stringify(v):v)' "$1"; }
check() { if [ "$1" != "$2" ]; then echo "FAIL: $3: expected [$2] got [$1]" >&2; exit 1; fi; echo "ok: $3"; }
payload() { node "$H/decode-jwt.mjs" "$1"; }

node "$H/keygen.mjs" ES256 "$W/pkjwt-key.json" > "$W/pkjwt.json"
node "$H/keygen.mjs" ES256 "$W/dpop-key.json" > "$W/dpop.json"
PKJWT_JWKS=$(j public_jwks < "$W/pkjwt.json")
DPOP_JKT=$(j jkt < "$W/dpop.json")

start() { # $1 = config file
  rm -f "$W/fifo" "$W/out"
  mkfifo "$W/fifo"
  node "$H/server.mjs" "$1" < "$W/fifo" > "$W/out" 2> "$W/err" &
  NODE_PID=$!
  exec 3> "$W/fifo"   # keep the provider's stdin open; closing fd 3 stops it
  for _ in $(seq 1 100); do
    if grep -q '^READY ' "$W/out" 2>/dev/null; then break; fi
    sleep 0.1
  done
  grep -q '^READY ' "$W/out" || { cat "$W/err" >&2; exit 1; }
  ISS=$(awk '/^READY /{print $2}' "$W/out")
  echo "started: $(cat "$W/out")"
}
stop() {
  exec 3>&-           # EOF on the provider's stdin => it exits by itself
  wait "$NODE_PID" || true
  NODE_PID=""
}

for ALG in "${ALGS[@]}"; do
  echo "================ $ALG"
  cat > "$W/config.json" <<EOF
{
  "port": 0,
  "issuer_path": "/realms/test",
  "alg": "$ALG",
  "jwks_file": "$W/jwks-$ALG.json",
  "resources": [
    { "indicator": "https://api.example.com", "format": "jwt", "scope": "read:items write:items", "ttl": 300 },
    { "indicator": "https://opaque.example.com", "format": "opaque", "scope": "read:items", "ttl": 300 },
    { "indicator": "https://short.example.com", "format": "opaque", "scope": "read:items", "ttl": 2 }
  ],
  "clients": [
    { "client_id": "svc-basic", "client_secret": "basic-secret", "token_endpoint_auth_method": "client_secret_basic", "scope": "read:items write:items" },
    { "client_id": "svc-post", "client_secret": "post-secret", "token_endpoint_auth_method": "client_secret_post", "scope": "read:items" },
    { "client_id": "svc-pkjwt", "token_endpoint_auth_method": "private_key_jwt", "jwks": $PKJWT_JWKS, "scope": "read:items" },
    { "client_id": "svc-dpop", "client_secret": "dpop-secret", "scope": "read:items", "dpop_bound": true }
  ],
  "roles": { "svc-basic": ["admin", "reader"] },
  "features": { "introspection": true, "revocation": true, "dpop": true }
}
EOF
  start "$W/config.json"
  TOKEN="$ISS/token"; INTRO="$ISS/token/introspection"; REVOKE="$ISS/token/revocation"

  echo "--- discovery"
  curl -sf "$ISS/.well-known/openid-configuration" > "$W/disc.json"
  check "$(j issuer < "$W/disc.json")" "$ISS" "discovery issuer"
  check "$(j introspection_endpoint < "$W/disc.json")" "$INTRO" "introspection_endpoint"
  check "$(j revocation_endpoint < "$W/disc.json")" "$REVOKE" "revocation_endpoint"
  echo "dpop_signing_alg_values_supported=$(j dpop_signing_alg_values_supported < "$W/disc.json")"
  echo "id_token_signing_alg_values_supported=$(j id_token_signing_alg_values_supported < "$W/disc.json")"
  echo "--- jwks"
  curl -sf "$(j jwks_uri < "$W/disc.json")" | tee "$W/jwks.json"; echo
  KID=$(j keys.0.kid < "$W/jwks.json")
  check "$(j keys.0.alg < "$W/jwks.json")" "$ALG" "jwks alg"

  echo "--- (a) JWT access token, client_secret_basic"
  curl -sf -u svc-basic:basic-secret -d grant_type=client_credentials \
    -d resource=https://api.example.com --data-urlencode 'scope=read:items write:items' "$TOKEN" | tee "$W/t.json"; echo
  AT=$(j access_token < "$W/t.json")
  payload "$AT" | tee "$W/dec.json"
  check "$(j header.typ < "$W/dec.json")" "at+jwt" "typ"
  check "$(j header.alg < "$W/dec.json")" "$ALG" "alg"
  check "$(j header.kid < "$W/dec.json")" "$KID" "kid"
  check "$(j payload.aud < "$W/dec.json")" "https://api.example.com" "aud"
  check "$(j payload.roles < "$W/dec.json")" '["admin","reader"]' "roles"
  check "$(j expires_in < "$W/t.json")" "300" "expires_in"

  echo "--- (a') JWT access token, private_key_jwt"
  CA=$(node "$H/client-assertion.mjs" svc-pkjwt "$ISS" "$W/pkjwt-key.json")
  curl -sf -d grant_type=client_credentials -d resource=https://api.example.com -d scope=read:items \
    -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
    -d "client_assertion=$CA" "$TOKEN" > "$W/t.json"
  payload "$(j access_token < "$W/t.json")" > "$W/dec.json"
  check "$(j payload.client_id < "$W/dec.json")" "svc-pkjwt" "private_key_jwt token"

  echo "--- (b) opaque access token, client_secret_post"
  curl -sf -d grant_type=client_credentials -d client_id=svc-post -d client_secret=post-secret \
    -d resource=https://opaque.example.com -d scope=read:items "$TOKEN" | tee "$W/t.json"; echo
  OT=$(j access_token < "$W/t.json")

  echo "--- (c) introspect (as svc-basic, as svc-pkjwt)"
  curl -sf -u svc-basic:basic-secret -d "token=$OT" "$INTRO" | tee "$W/i.json"; echo
  check "$(j active < "$W/i.json")" "true" "introspection active"
  CA=$(node "$H/client-assertion.mjs" svc-pkjwt "$ISS" "$W/pkjwt-key.json")
  curl -sf -d "token=$OT" -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
    -d "client_assertion=$CA" "$INTRO" > "$W/i.json"
  check "$(j active < "$W/i.json")" "true" "introspection by private_key_jwt client"

  echo "--- (d) revoke (owner svc-post), then introspect again"
  curl -sf -o /dev/null -w 'revocation HTTP %{http_code}\n' -d client_id=svc-post -d client_secret=post-secret \
    -d "token=$OT" "$REVOKE"
  curl -sf -u svc-basic:basic-secret -d "token=$OT" "$INTRO" | tee "$W/i.json"; echo
  check "$(j active < "$W/i.json")" "false" "introspection after revocation"

  echo "--- (e) DPoP-bound token (client svc-dpop has dpop_bound=true)"
  PROOF=$(node "$H/dpop-proof.mjs" POST "$TOKEN" "$W/dpop-key.json")
  curl -sf -u svc-dpop:dpop-secret -H "DPoP: $PROOF" -d grant_type=client_credentials \
    -d resource=https://api.example.com -d scope=read:items "$TOKEN" | tee "$W/t.json"; echo
  check "$(j token_type < "$W/t.json")" "DPoP" "token_type"
  payload "$(j access_token < "$W/t.json")" > "$W/dec.json"
  check "$(j payload.cnf.jkt < "$W/dec.json")" "$DPOP_JKT" "cnf.jkt"
  echo "--- dpop_bound client without a proof is refused"
  curl -s -u svc-dpop:dpop-secret -d grant_type=client_credentials "$TOKEN" | tee "$W/e.json"; echo
  check "$(j error < "$W/e.json")" "invalid_grant" "dpop required"

  echo "--- ttl 2 s"
  curl -sf -u svc-basic:basic-secret -d grant_type=client_credentials -d resource=https://short.example.com \
    -d scope=read:items "$TOKEN" > "$W/t.json"
  check "$(j expires_in < "$W/t.json")" "2" "short expires_in"
  ST=$(j access_token < "$W/t.json")
  sleep 3
  curl -sf -u svc-basic:basic-secret -d "token=$ST" "$INTRO" > "$W/i.json"
  check "$(j active < "$W/i.json")" "false" "expired token inactive"

  echo "--- unknown resource"
  curl -s -u svc-basic:basic-secret -d grant_type=client_credentials -d resource=https://nope.example.com "$TOKEN" | tee "$W/e.json"; echo
  check "$(j error < "$W/e.json")" "invalid_target" "unknown resource"

  stop
  echo "--- restart with the same jwks_file keeps the kid"
  start "$W/config.json"
  check "$(curl -sf "$ISS/jwks" | j keys.0.kid)" "$KID" "same kid after restart"
  stop
  rm "$W/jwks-$ALG.json"
  start "$W/config.json"
  NEWKID=$(curl -sf "$ISS/jwks" | j keys.0.kid)
  [ "$NEWKID" != "$KID" ] || { echo "FAIL: kid did not rotate" >&2; exit 1; }
  echo "ok: deleting jwks_file rotates the key ($KID -> $NEWKID)"
  stop
done
echo "smoke: all checks passed"
