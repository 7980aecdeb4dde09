#!/usr/bin/env node
// Usage: node keygen.mjs <RS256|PS256|ES256|EdDSA> <private-jwk-out.json>
// Writes a private JWK (with alg, use, kid) to the file and prints
// {"public_jwks":{"keys":[...]},"jkt":"<RFC 7638 thumbprint>"} on stdout.
// Use public_jwks as a private_key_jwt client's "jwks", jkt to compare with cnf.jkt.
import * as fs from 'node:fs';
import { generate, publicJwk, thumbprint } from './jws.mjs';

const [alg, out] = process.argv.slice(2);
if (!alg || !out) {
  process.stderr.write('usage: node keygen.mjs <RS256|PS256|ES256|EdDSA> <private-jwk-out.json>\n');
  process.exit(2);
}
const jwk = generate(alg);
fs.writeFileSync(out, `${JSON.stringify(jwk)}\n`, { mode: 0o600 });
process.stdout.write(`${JSON.stringify({ public_jwks: { keys: [publicJwk(jwk)] }, jkt: thumbprint(jwk) })}\n`);
