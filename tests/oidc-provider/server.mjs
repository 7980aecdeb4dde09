// Test-only OpenID Provider built on `oidc-provider` (panva).
//
// Usage: node server.mjs <config.json>
//
// Prints exactly one line `READY <issuer>` on stdout once listening on
// 127.0.0.1, then runs until killed or until its stdin reaches EOF.
// Everything else (oidc-provider notices, warnings, errors) goes to stderr.
// See README.md for the config format.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

// oidc-provider prints "NOTICE" lines with console.info (stdout). Keep stdout
// reserved for the READY line: route console.log/info to stderr before the
// library is loaded (hence the dynamic import below).
console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);

const SUPPORTED_ALGS = new Set(['RS256', 'PS256', 'ES256', 'EdDSA']);

function fail(message, cause) {
  process.stderr.write(`oidc-test-provider: ${message}${cause ? `: ${cause.stack || cause}` : ''}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------- config ---

const configPath = process.argv[2];
if (!configPath) fail('usage: node server.mjs <config.json>');

let config;
try {
  config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
} catch (err) {
  fail(`cannot read config ${configPath}`, err);
}
if (config === null || typeof config !== 'object' || Array.isArray(config)) {
  fail('config must be a JSON object');
}

const port = config.port ?? 0;
if (!Number.isInteger(port) || port < 0 || port > 65535) fail('port must be an integer 0..65535');

let issuerPath = config.issuer_path ?? '';
if (typeof issuerPath !== 'string') fail('issuer_path must be a string');
issuerPath = issuerPath.replace(/\/+$/, '');
if (issuerPath && !issuerPath.startsWith('/')) issuerPath = `/${issuerPath}`;

const alg = config.alg ?? 'RS256';
if (!SUPPORTED_ALGS.has(alg)) fail(`alg must be one of ${[...SUPPORTED_ALGS].join(', ')}`);

const resources = config.resources ?? [];
if (!Array.isArray(resources)) fail('resources must be an array');
const resourceByIndicator = new Map();
for (const [i, r] of resources.entries()) {
  if (!r || typeof r.indicator !== 'string' || !URL.canParse(r.indicator)) {
    fail(`resources[${i}].indicator must be an absolute URI string`);
  }
  const format = r.format ?? 'jwt';
  if (format !== 'jwt' && format !== 'opaque') fail(`resources[${i}].format must be "jwt" or "opaque"`);
  const ttl = r.ttl ?? 300;
  if (!Number.isSafeInteger(ttl) || ttl <= 0) fail(`resources[${i}].ttl must be a positive integer (seconds)`);
  const scope = r.scope ?? '';
  if (typeof scope !== 'string') fail(`resources[${i}].scope must be a space separated string`);
  resourceByIndicator.set(r.indicator, {
    audience: r.audience ?? r.indicator,
    scope,
    accessTokenFormat: format,
    accessTokenTTL: ttl,
  });
}

const roles = config.roles ?? {};
if (roles === null || typeof roles !== 'object' || Array.isArray(roles)) fail('roles must be an object');

const featureCfg = config.features ?? {};
const introspectionEnabled = featureCfg.introspection ?? true;
const revocationEnabled = featureCfg.revocation ?? true;
const dpopEnabled = featureCfg.dpop ?? true;
const dpopNonce = config.dpop_nonce ?? false;
const defaultTTL = config.default_ttl ?? 600; // tokens issued with no resource
if (!Number.isSafeInteger(defaultTTL) || defaultTTL <= 0) fail('default_ttl must be a positive integer (seconds)');
const exitOnStdinClose = config.exit_on_stdin_close ?? true;
// oidc-provider's development sign-in pages: any login and password signs in as that login,
// then a consent page grants what the client asked for. Off unless a test signs in a person.
const devInteractions = config.dev_interactions ?? false;
if (typeof devInteractions !== 'boolean') fail('dev_interactions must be true or false');

// ------------------------------------------------------------------ keys ---

function jwkThumbprint(jwk) {
  // RFC 7638 (required members, lexicographic order).
  let members;
  switch (jwk.kty) {
    case 'RSA': members = { e: jwk.e, kty: jwk.kty, n: jwk.n }; break;
    case 'EC': members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }; break;
    case 'OKP': members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x }; break;
    default: throw new Error(`unsupported kty ${jwk.kty}`);
  }
  return crypto.hash('sha256', JSON.stringify(members), 'base64url');
}

function generateSigningJwk(forAlg) {
  let pair;
  switch (forAlg) {
    case 'RS256':
    case 'PS256':
      pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
      break;
    case 'ES256':
      pair = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
      break;
    case 'EdDSA':
      pair = crypto.generateKeyPairSync('ed25519');
      break;
    default:
      throw new Error(`unsupported alg ${forAlg}`);
  }
  const jwk = pair.privateKey.export({ format: 'jwk' });
  return { ...jwk, alg: forAlg, use: 'sig', kid: jwkThumbprint(jwk) };
}

let jwks;
if (config.jwks_file && fs.existsSync(config.jwks_file)) {
  try {
    jwks = JSON.parse(fs.readFileSync(config.jwks_file, 'utf8'));
  } catch (err) {
    fail(`cannot read jwks_file ${config.jwks_file}`, err);
  }
  if (!jwks || !Array.isArray(jwks.keys) || !jwks.keys.length) fail('jwks_file must hold a non-empty JWKS');
  if (!jwks.keys.some((k) => k.alg === alg)) {
    fail(`jwks_file ${config.jwks_file} has no key with "alg": "${alg}" (config alg)`);
  }
} else {
  jwks = { keys: [generateSigningJwk(alg)] };
  if (config.jwks_file) {
    // write atomically so a concurrent reader never sees a partial file
    const tmp = path.join(path.dirname(config.jwks_file), `.${path.basename(config.jwks_file)}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, config.jwks_file);
  }
}

// --------------------------------------------------------------- clients ---

const clients = (config.clients ?? []).map((c, i) => {
  if (!c || typeof c.client_id !== 'string') fail(`clients[${i}].client_id must be a string`);
  const { dpop_bound: dpopBound, ...metadata } = c;
  if (dpopBound && !dpopEnabled) fail(`clients[${i}].dpop_bound needs features.dpop`);
  return {
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    ...metadata,
    ...(dpopBound ? { dpop_bound_access_tokens: true } : undefined),
  };
});

// Every scope named by a resource or a client becomes a provider-known
// scope; that is what makes a client's `scope` metadata an allow-list
// (requesting a scope outside it is `invalid_scope`).
const scopes = new Set(['openid', 'offline_access']);
for (const r of resourceByIndicator.values()) r.scope.split(' ').filter(Boolean).forEach((s) => scopes.add(s));
for (const c of clients) (c.scope ?? '').split(' ').filter(Boolean).forEach((s) => scopes.add(s));

// ---------------------------------------------------------------- server ---

const { default: Provider, errors } = await import('oidc-provider');

const server = http.createServer();
server.on('clientError', (err, socket) => socket.destroy(err));

try {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
} catch (err) {
  fail(`cannot listen on 127.0.0.1:${port}`, err.message);
}

const { port: boundPort } = server.address();
const issuer = `http://127.0.0.1:${boundPort}${issuerPath}`;

const ttlFor = (ctx, token) => token.resourceServer?.accessTokenTTL || defaultTTL;

const provider = new Provider(issuer, {
  jwks,
  clients,
  scopes: [...scopes],
  clientDefaults: {
    grant_types: ['client_credentials'],
    response_types: [],
    id_token_signed_response_alg: alg,
    token_endpoint_auth_method: 'client_secret_basic',
  },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  ttl: {
    AccessToken: ttlFor,
    ClientCredentials: ttlFor,
  },
  extraTokenClaims(ctx, token) {
    const r = roles[token.clientId];
    return Array.isArray(r) ? { roles: r } : undefined;
  },
  features: {
    devInteractions: { enabled: devInteractions },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource(ctx, client, oneOf) {
        if (oneOf) return oneOf;
        return resources[0]?.indicator;
      },
      useGrantedResource() {
        return true;
      },
      getResourceServerInfo(ctx, resourceIndicator) {
        const r = resourceByIndicator.get(resourceIndicator);
        if (!r) throw new errors.InvalidTarget(`resource indicator ${resourceIndicator} is not configured`);
        return {
          audience: r.audience,
          scope: r.scope,
          accessTokenFormat: r.accessTokenFormat,
          accessTokenTTL: r.accessTokenTTL,
          ...(r.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg } } } : undefined),
        };
      },
    },
    introspection: {
      enabled: introspectionEnabled,
      // any authenticated configured client may introspect any token
      allowedPolicy() {
        return true;
      },
    },
    revocation: {
      enabled: revocationEnabled,
      // a client may revoke only its own tokens (oidc-provider's default)
      allowedPolicy(ctx, client, token) {
        if (token.clientId !== client.clientId) {
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        }
        return true;
      },
    },
    dPoP: {
      enabled: dpopEnabled,
      ...(dpopNonce ? { nonceSecret: crypto.randomBytes(32) } : undefined),
      requireNonce() {
        return dpopNonce;
      },
    },
  },
});

provider.on('server_error', (ctx, err) => {
  process.stderr.write(`server_error ${ctx.method} ${ctx.path}: ${err.stack || err}\n`);
});
for (const event of ['grant.error', 'introspection.error', 'revocation.error', 'jwks.error', 'discovery.error']) {
  provider.on(event, (ctx, err) => {
    const detail = [
      err.error_description,
      err.error_detail && `detail: ${err.error_detail}`,
      err.cause && `cause: ${err.cause.message || err.cause}`,
    ].filter(Boolean).join('; ');
    process.stderr.write(`${event}: ${err.name}: ${err.message}${detail ? ` (${detail})` : ''}\n`);
  });
}

// oidc-provider validates static client metadata lazily (on first use);
// do it now so a bad config fails at startup instead of as invalid_client.
for (const c of clients) {
  try {
    await provider.Client.find(c.client_id);
  } catch (err) {
    fail(`invalid metadata for client ${c.client_id}: ${err.error_description || err.message}`);
  }
}

const callback = provider.callback();
server.on('request', (req, res) => {
  if (issuerPath) {
    const url = req.url;
    if (url === issuerPath || url.startsWith(`${issuerPath}/`) || url.startsWith(`${issuerPath}?`)) {
      req.originalUrl = url;
      req.url = url.slice(issuerPath.length) || '/';
      if (req.url.startsWith('?')) req.url = `/${req.url}`;
    } else {
      res.statusCode = 404;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: 'not_found', error_description: `issuer path is ${issuerPath}` }));
      return;
    }
  }
  callback(req, res);
});

process.on('uncaughtException', (err) => process.stderr.write(`uncaughtException: ${err.stack || err}\n`));
process.on('unhandledRejection', (err) => process.stderr.write(`unhandledRejection: ${err?.stack || err}\n`));

function shutdown() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

if (exitOnStdinClose) {
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.resume();
}

process.stdout.write(`READY ${issuer}\n`);
