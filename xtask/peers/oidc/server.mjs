// soar-rt's oidc-provider peer: panva's OpenID-certified OAuth 2.0 server with Microsoft-shaped
// paths, so soar-auth can be pointed at it as a "custom cloud" (azure_ad_endpoint = this origin).
//
//   node server.mjs <port> [tenant]        (binds 127.0.0.1 only)
//
// Paths (tenant default "peer-tenant"):
//   /<tenant>/oauth2/v2.0/{token,authorize,devicecode}   Microsoft-shaped endpoints
//   /<tenant>/v2.0/.well-known/openid-configuration      discovery
//   /<tenant>/discovery/v2.0/keys                        JWKS
//   /cb                                                  redirect sink: echoes the query as JSON
//   /healthz                                             readiness
//   POST /__test/device/approve  user_code=..[&deny=1]   approve or deny a device code
//
// Clients: secret-app (client_secret_post, secret $PEER_CLIENT_SECRET), cert-app (private_key_jwt,
// RS256, public key from the certificate in $PEER_CERT_PEM), public-app (device code, no auth).
//
// Behaviour added on top of oidc-provider so it answers like Entra where soar-auth cares:
// - resource indicators from v2 scopes: `X/.default` and `X/name` mean resource X;
// - `offline_access` at /authorize gets `prompt=consent` (oidc-provider drops it otherwise);
// - device authorization answers carry `interval` and an Entra-style `message`;
// - with PEER_SLOW_DOWN=1 a device code polled faster than `interval` gets `slow_down`.
// Interactions (login, consent) are approved programmatically for the user "peer-user".

import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const PORT = Number(process.argv[2]);
const TENANT = process.argv[3] || 'peer-tenant';
if (!Number.isInteger(PORT) || PORT <= 0) {
  console.error('usage: node server.mjs <port> [tenant]');
  process.exit(2);
}
const ORIGIN = `http://127.0.0.1:${PORT}`;
const BASE = `/${TENANT}`;
const modules = process.env.PEER_NODE_MODULES || path.join(process.cwd(), 'node_modules');
const { default: Provider } = await import(pathToFileURL(path.join(modules, 'oidc-provider/lib/index.js')).href);

const SECRET = process.env.PEER_CLIENT_SECRET || 'peer-secret';
const INTERVAL = Number(process.env.PEER_DEVICE_INTERVAL || 1);
const SLOW_DOWN = process.env.PEER_SLOW_DOWN === '1';
const USER = 'peer-user';
const OIDC = new Set(['openid', 'offline_access', 'profile', 'email']);

// v2 scopes name their resource as a prefix; remember every scope seen per resource, because
// oidc-provider asks for a resource server's full scope list also where no scope is sent.
const scopesByResource = new Map();
function resourcesOf(scope) {
  const out = new Set();
  for (const s of String(scope || '').split(' ')) {
    if (!s || OIDC.has(s)) continue;
    const cut = s.lastIndexOf('/');
    const r = cut > 0 ? s.slice(0, cut) : '';
    if (/^[a-z][a-z0-9+.-]*:\/\/./i.test(r)) {
      out.add(r);
      if (!scopesByResource.has(r)) scopesByResource.set(r, new Set());
      scopesByResource.get(r).add(s);
    }
  }
  return [...out];
}

const clients = [
  {
    client_id: 'secret-app',
    client_secret: SECRET,
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [`${ORIGIN}/cb`],
  },
  {
    client_id: 'public-app',
    token_endpoint_auth_method: 'none',
    application_type: 'native',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
  },
];
if (process.env.PEER_CERT_PEM) {
  const pub = new crypto.X509Certificate(fs.readFileSync(process.env.PEER_CERT_PEM)).publicKey;
  clients.push({
    client_id: 'cert-app',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'RS256',
    jwks: { keys: [{ ...pub.export({ format: 'jwk' }), alg: 'RS256', use: 'sig' }] },
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  });
}

const signing = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const provider = new Provider(`${ORIGIN}${BASE}/v2.0`, {
  clients,
  jwks: { keys: [{ ...signing, kid: 'peer-1', alg: 'RS256', use: 'sig' }] },
  cookies: { keys: ['soar-peer-cookie-key'] },
  scopes: [...OIDC],
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  routes: {
    authorization: '/oauth2/v2.0/authorize',
    token: '/oauth2/v2.0/token',
    device_authorization: '/oauth2/v2.0/devicecode',
    code_verification: '/device',
    jwks: '/discovery/v2.0/keys',
    userinfo: '/oidc/userinfo',
    end_session: '/oauth2/v2.0/logout',
  },
  interactions: { url: (ctx, interaction) => `${BASE}/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    deviceFlow: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx, client, oneOf) => {
        if (oneOf) return oneOf;
        const r = resourcesOf(ctx.oidc.params?.scope);
        return r.length === 0 ? undefined : r.length === 1 ? r[0] : r;
      },
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resource) => {
        resourcesOf(ctx.oidc.params?.scope);
        const known = scopesByResource.get(resource) || new Set();
        return {
          scope: [`${resource}/.default`, ...known].join(' '),
          audience: resource,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
  pkce: { required: (ctx, client) => client.clientAuthMethod === 'none' },
  clockTolerance: 5,
  renderError: async (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
});

// offline_access is only honoured with prompt=consent (OIDC Core); Entra honours it always.
provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/oauth2/v2.0/authorize') {
    const q = new URLSearchParams(ctx.querystring);
    if ((q.get('scope') || '').split(' ').includes('offline_access') && !q.has('prompt')) {
      q.set('prompt', 'consent');
      ctx.querystring = q.toString();
      ctx.req.originalUrl = BASE + ctx.req.url;
    }
  }
  await next();
});

const lastPoll = new Map();
provider.use(async (ctx, next) => {
  await next();
  const body = ctx.body;
  if (!body || typeof body !== 'object') return;
  if (ctx.oidc?.route === 'device_authorization' && ctx.status === 200) {
    ctx.body = {
      ...body,
      interval: INTERVAL,
      message: `To sign in, use a web browser to open the page ${body.verification_uri} and enter the code ${body.user_code} to authenticate.`,
    };
  }
  if (ctx.oidc?.route === 'token' && SLOW_DOWN && body.error === 'authorization_pending') {
    const dc = ctx.oidc.params?.device_code;
    const now = Date.now();
    const prev = lastPoll.get(dc);
    lastPoll.set(dc, now);
    if (prev && now - prev < INTERVAL * 1000) {
      ctx.body = { error: 'slow_down', error_description: 'polling too fast; add 5 seconds to the interval' };
    }
  }
});

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  let result = {};
  if (prompt.name === 'login') {
    result = { login: { accountId: USER } };
  } else if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    for (const [r, s] of Object.entries(prompt.details.missingResourceScopes || {})) grant.addResourceScope(r, s.join(' '));
    const grantId = await grant.save();
    result = { consent: details.grantId ? {} : { grantId } };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

async function decideDevice(form) {
  const userCode = String(form.get('user_code') || '').toUpperCase().replace(/[^A-Z0-9]/g, '');
  const code = await provider.DeviceCode.findByUserCode(userCode, { ignoreExpiration: true });
  if (!code) return [404, { error: 'unknown user_code' }];
  if (form.get('deny')) {
    Object.assign(code, { error: 'access_denied', errorDescription: 'the user declined' });
    await code.save();
    return [200, { denied: true }];
  }
  const requested = String(code.params.scope || '').split(' ').filter(Boolean);
  const resource = resourcesOf(code.params.scope)[0];
  const grant = new provider.Grant({ accountId: USER, clientId: code.clientId });
  const oidc = requested.filter((s) => OIDC.has(s));
  if (oidc.length) grant.addOIDCScope(oidc.join(' '));
  const rs = resource ? requested.filter((s) => s.startsWith(`${resource}/`)) : [];
  if (resource) grant.addResourceScope(resource, [`${resource}/.default`, ...rs].join(' '));
  const grantId = await grant.save();
  Object.assign(code, { accountId: USER, grantId, authTime: Math.floor(Date.now() / 1000), scope: [...oidc, ...rs].join(' '), ...(resource ? { resource } : {}) });
  await code.save();
  return [200, { approved: true }];
}

function json(res, status, value) {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function bodyOf(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (c) => { data += c; });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, ORIGIN);
    const p = url.pathname;
    if (p === '/healthz') return json(res, 200, { ok: true });
    if (p === '/cb') return json(res, 200, Object.fromEntries(url.searchParams));
    if (p === '/__test/device/approve') {
      const form = new URLSearchParams(req.method === 'POST' ? await bodyOf(req) : url.search);
      const [status, out] = await decideDevice(form);
      return json(res, status, out);
    }
    if (p.startsWith(`${BASE}/interaction/`)) return await interaction(req, res);
    if (p === `${BASE}/v2.0/.well-known/openid-configuration`) {
      req.url = '/.well-known/openid-configuration';
      req.originalUrl = BASE + req.url;
      return callback(req, res);
    }
    if (p.startsWith(`${BASE}/`)) {
      req.originalUrl = req.url;
      req.url = req.url.slice(BASE.length);
      return callback(req, res);
    }
    return json(res, 404, { error: 'not_found', path: p });
  } catch (err) {
    console.error('peer error', err);
    if (!res.headersSent) json(res, 500, { error: 'server_error' });
  }
});
server.listen(PORT, '127.0.0.1', () => console.log(`oidc peer on ${ORIGIN}${BASE}`));
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => server.close(() => process.exit(0)));
