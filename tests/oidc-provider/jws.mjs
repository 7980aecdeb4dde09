// Minimal JWS helpers (node:crypto only) shared by the CLI helper scripts.
import * as crypto from 'node:crypto';

export const b64u = (input) => Buffer.from(input).toString('base64url');

export function thumbprint(jwk) {
  // RFC 7638
  let members;
  switch (jwk.kty) {
    case 'RSA': members = { e: jwk.e, kty: jwk.kty, n: jwk.n }; break;
    case 'EC': members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }; break;
    case 'OKP': members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x }; break;
    default: throw new Error(`unsupported kty ${jwk.kty}`);
  }
  return crypto.hash('sha256', JSON.stringify(members), 'base64url');
}

export function publicJwk(jwk) {
  const { d, p, q, dp, dq, qi, oth, key_ops: _ops, ext: _ext, ...pub } = jwk;
  return pub;
}

export function algFor(jwk) {
  if (jwk.alg) return jwk.alg;
  switch (jwk.kty) {
    case 'RSA': return 'RS256';
    case 'EC': return 'ES256';
    case 'OKP': return 'EdDSA';
    default: throw new Error(`unsupported kty ${jwk.kty}`);
  }
}

export function generate(alg) {
  let pair;
  switch (alg) {
    case 'RS256':
    case 'PS256': pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }); break;
    case 'ES256': pair = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }); break;
    case 'EdDSA': pair = crypto.generateKeyPairSync('ed25519'); break;
    default: throw new Error(`unsupported alg ${alg} (RS256, PS256, ES256, EdDSA)`);
  }
  const jwk = pair.privateKey.export({ format: 'jwk' });
  return { ...jwk, alg, use: 'sig', kid: thumbprint(jwk) };
}

export function sign(header, payload, privateJwk) {
  const alg = header.alg;
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  const key = crypto.createPrivateKey({ key: privateJwk, format: 'jwk' });
  let sig;
  switch (alg) {
    case 'RS256': sig = crypto.sign('sha256', Buffer.from(input), key); break;
    case 'PS256': sig = crypto.sign('sha256', Buffer.from(input), {
      key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32,
    }); break;
    case 'ES256': sig = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }); break;
    case 'EdDSA':
    case 'Ed25519': sig = crypto.sign(null, Buffer.from(input), key); break;
    default: throw new Error(`unsupported alg ${alg}`);
  }
  return `${input}.${sig.toString('base64url')}`;
}
