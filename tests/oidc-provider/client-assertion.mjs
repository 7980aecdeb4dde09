#!/usr/bin/env node
// Usage: node client-assertion.mjs <client_id> <aud> <private-jwk.json> [ttl_seconds]
// Prints a private_key_jwt client assertion (RFC 7523): iss=sub=client_id, aud,
// jti (random, single use), iat, exp=iat+ttl (default 60). Header carries alg and kid.
// aud may be the issuer, the token endpoint URL, or the URL of the endpoint called.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { algFor, sign } from './jws.mjs';

const [clientId, aud, keyFile, ttl = '60'] = process.argv.slice(2);
if (!clientId || !aud || !keyFile) {
  process.stderr.write('usage: node client-assertion.mjs <client_id> <aud> <private-jwk.json> [ttl_seconds]\n');
  process.exit(2);
}
const jwk = JSON.parse(fs.readFileSync(keyFile, 'utf8'));
const iat = Math.floor(Date.now() / 1000);
const header = { alg: algFor(jwk), typ: 'JWT', ...(jwk.kid ? { kid: jwk.kid } : undefined) };
const payload = {
  iss: clientId, sub: clientId, aud, jti: crypto.randomUUID(), iat, exp: iat + Number(ttl),
};
process.stdout.write(`${sign(header, payload, jwk)}\n`);
