#!/usr/bin/env node
// Usage: node dpop-proof.mjs <METHOD> <URL> <private-jwk.json> [access_token|-] [nonce]
// Prints a DPoP proof JWT (RFC 9449): header {typ:"dpop+jwt", alg, jwk:<public>},
// payload {jti, htm, htu, iat[, ath][, nonce]}. Pass "-" or "" as access_token to
// omit ath (token endpoint) while still giving a nonce.
// The key must be ES256 or EdDSA (oidc-provider's dpop_signing_alg_values_supported).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { algFor, publicJwk, sign } from './jws.mjs';

const [method, url, keyFile, accessToken, nonce] = process.argv.slice(2);
if (!method || !url || !keyFile) {
  process.stderr.write('usage: node dpop-proof.mjs <METHOD> <URL> <private-jwk.json> [access_token|-] [nonce]\n');
  process.exit(2);
}
const jwk = JSON.parse(fs.readFileSync(keyFile, 'utf8'));
const alg = algFor(jwk);
const { alg: _a, use: _u, kid: _k, ...pub } = publicJwk(jwk);
const htu = new URL(url);
htu.search = '';
htu.hash = '';
const payload = {
  jti: crypto.randomUUID(),
  htm: method.toUpperCase(),
  htu: htu.href,
  iat: Math.floor(Date.now() / 1000),
};
if (accessToken && accessToken !== '-') payload.ath = crypto.hash('sha256', accessToken, 'base64url');
if (nonce) payload.nonce = nonce;
process.stdout.write(`${sign({ typ: 'dpop+jwt', alg, jwk: pub }, payload, jwk)}\n`);
