// The official MCP TypeScript SDK's client against an MCP server protected by JwtAuth: the SDK's
// own ClientCredentialsProvider does the OAuth part (401 -> protected-resource metadata ->
// authorization-server metadata -> client-credentials token for the resource -> retry).
//
//   node client.mjs <mcp-url> <issuer> <client-id> <client-secret> <scope|-> [tool ...]
//
// Connects, lists the tools, then calls each tool named. Prints one JSON object per line on stdout:
// {"fetch": {...}} for every HTTP exchange the SDK makes (method, URL, status, whether it sent a
// token, the token request's form without secrets), and {"step": ...} for each step's outcome.
// Exits 0 when every step succeeded, 1 when one failed, 2 on a usage error.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';

const [, , mcpUrl, issuer, clientId, clientSecret, scopeArg, ...tools] = process.argv;
if (!mcpUrl || !issuer || !clientId || !clientSecret || !scopeArg) {
  console.error('usage: node client.mjs <mcp-url> <issuer> <client-id> <client-secret> <scope|-> [tool ...]');
  process.exit(2);
}
const scope = scopeArg === '-' ? undefined : scopeArg;
const print = (record) => console.log(JSON.stringify(record));

// One fetch for MCP requests and every discovery and token request: record each exchange.
const recordingFetch = async (url, init = {}) => {
  const headers = new Headers(init.headers);
  const authorization = headers.get('authorization');
  let form;
  if (init.body instanceof URLSearchParams) {
    const params = new URLSearchParams(init.body);
    params.delete('client_secret');
    form = Object.fromEntries(params);
  }
  const response = await fetch(url, init);
  print({
    fetch: {
      method: init.method ?? 'GET',
      url: String(url),
      status: response.status,
      // The scheme only: never a credential on stdout.
      authorization: authorization ? authorization.split(' ')[0] : null,
      rpc: typeof init.body === 'string' ? JSON.parse(init.body).method ?? null : null,
      form,
      wwwAuthenticate: response.headers.get('www-authenticate'),
    },
  });
  return response;
};

const authProvider = new ClientCredentialsProvider({
  clientId,
  clientSecret,
  scope,
  expectedIssuer: issuer,
});
const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
  authProvider,
  fetch: recordingFetch,
});
const client = new Client({ name: 'jwt-auth-interop-test', version: '1.0.0' });

const failure = (e) => ({
  ok: false,
  error: e?.constructor?.name ?? typeof e,
  code: e?.code ?? null,
  message: String(e?.message ?? e),
  httpError: e instanceof StreamableHTTPError,
});

let failed = false;
const step = async (record, action) => {
  try {
    print({ ...record, ok: true, ...(await action()) });
  } catch (e) {
    failed = true;
    print({ ...record, ...failure(e) });
    return false;
  }
  return true;
};

try {
  const connected = await step({ step: 'connect' }, async () => {
    await client.connect(transport);
    return { protocolVersion: transport.protocolVersion ?? null };
  });
  if (connected) {
    await step({ step: 'list' }, async () => {
      const { tools: listed } = await client.listTools();
      return { tools: listed.map((tool) => tool.name) };
    });
    for (const tool of tools) {
      await step({ step: 'call', tool }, async () => {
        const result = await client.callTool({ name: tool, arguments: {} });
        return { isError: result.isError ?? false, text: result.content?.[0]?.text ?? null };
      });
    }
  }
} finally {
  await client.close();
}
process.exit(failed ? 1 : 0);
