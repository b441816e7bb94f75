#!/usr/bin/env node
// Local Okta-like identity provider for oktacred's tests.
//
//   node server.js [--port N]        (0 or absent: a free port; 127.0.0.1 only)
//
// Prints one JSON line to stdout when ready: {"port":N,"base":"http://127.0.0.1:N"},
// then logs to stderr only. Exits on SIGTERM/SIGINT. See README.md.

import http from 'node:http';
import crypto from 'node:crypto';
import util from 'node:util';
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';

import * as pages from './pages.js';
import { adapterFactory, createStore } from './adapter.js';

// oidc-provider prints its notices with console.info (stdout): keep stdout for
// the ready line only.
const writeStdout = process.stdout.write.bind(process.stdout);
console.log = console.error.bind(console);
console.info = console.error.bind(console);
const warn = console.warn.bind(console);
console.warn = (...args) => {
  // server.js reads token/device/revoke bodies itself (for the log and slow_down)
  // and hands them to oidc-provider as req.body, on purpose.
  if (typeof args[0] === 'string' && args[0].includes('already parsed request body detected')) return;
  warn(...args);
};

// One RS256 signing key per authorization server, made at start in parallel and
// off the main thread (RSA key generation is the slowest part of starting; it
// runs while oidc-provider is being loaded).
const SIGNING_KEYS = new Map();
const keysReady = Promise.all(['default', 'org'].map(async (name) => {
  const { privateKey } = await util.promisify(crypto.generateKeyPair)('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const kid = `test-${name}-${crypto.createHash('sha256').update(jwk.n).digest('hex').slice(0, 8)}`;
  SIGNING_KEYS.set(name, { ...jwk, kid, alg: 'RS256', use: 'sig' });
}));

const { default: Provider, errors: oidcErrors } = await import('oidc-provider');

// ---------------------------------------------------------------------------
// Users and clients (the one place to add more)

const USERS = [
  {
    username: 'alice',
    password: 'correct horse',
    sub: '00u-alice',
    email: 'alice@example.com',
    given_name: 'Alice',
    family_name: 'Example',
    groups: ['Everyone', 'AWS-Dev'],
  },
  {
    username: 'bob',
    password: 'battery staple',
    sub: '00u-bob',
    email: 'bob@example.com',
    given_name: 'Bob',
    family_name: 'Example',
    groups: ['Everyone', 'AWS-Admins', 'AWS-Dev'],
  },
];

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

// oidc-provider client metadata. Both authorization servers know every client
// (Okta apps live in the org). Clients can also be added at run time with
// POST /__test/client.
const CLIENTS = [
  {
    client_id: '0oa-test-native',
    client_name: 'oktacred test (native)',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    // The authorization code grant (with PKCE: required of public clients, as Okta does)
    // for oktacred's default redirect URI; tests that listen elsewhere register a client
    // with their own port (harness.py's add_browser_client()).
    grant_types: [DEVICE_GRANT, 'authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://localhost:8000/callback', 'http://127.0.0.1:8000/callback'],
  },
  {
    client_id: '0oa-test-secret',
    client_name: 'oktacred test (client secret)',
    client_secret: 'test-secret-value',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  },
  // Service accounts (private_key_jwt) are registered at run time with their
  // public key: POST /__test/client, or harness.py's add_service_client():
  // { client_id: '0oa-test-robot', token_endpoint_auth_method: 'private_key_jwt',
  //   grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
  //   scope: 'okta.users.read okta.groups.read', jwks: { keys: [PUBLIC_JWK] } }
];

// Okta's algorithms for client_secret_jwt (HS*) and private_key_jwt (RS*, ES*).
const CLIENT_AUTH_ALGS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'];
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const DEFAULT_AUDIENCE = 'api://default';
const COMMON_SCOPES = ['openid', 'profile', 'email', 'groups', 'offline_access'];
const SERVERS = [
  // mount: the issuer's path; routePrefix: the endpoints' prefix below it
  // api.read: a custom scope (custom servers have their own; used by client_credentials)
  { name: 'default', mount: '/oauth2/default', routePrefix: '/v1', scopes: [...COMMON_SCOPES, 'api.read'] },
  { name: 'org', mount: '', routePrefix: '/oauth2/v1', scopes: [...COMMON_SCOPES, 'okta.users.read', 'okta.groups.read'] },
];

// ---------------------------------------------------------------------------
// Test controls

const DEFAULT_SETTINGS = Object.freeze({
  interval: 5, // device answer's interval (s)
  device_expires_in: 600, // device code lifetime (s)
  access_token_ttl: 3600,
  id_token_ttl: 3600,
  refresh_token_ttl: 7 * 24 * 3600,
  force_slow_down: 0, // the next N device-code polls answer slow_down
  token_delay_ms: 0, // token answers wait this long AFTER processing (tokens already rotated)
  token_delay_before_ms: 0, // token requests wait this long BEFORE processing (dropped if the client leaves)
  slow_down_tolerance_ms: 25, // polls this much early still count as on time
  refresh_grace_s: 0, // a rotated-out refresh token stays usable this long (Okta: 0-60, default 30 there)
  rate_limit: null, // {limit, window_s}: token endpoint answers 429 E0000047 above it
  poll_error: null, // an OAuth error code: device-code polls answer it (e.g. invalid_client)
  jwks_max_age: 3600, // Cache-Control: max-age of the keys endpoints' answers
  id_token_fault: null, // every ID token issued is made invalid this way (ID_TOKEN_FAULTS)
  // The device authorization endpoint answers unauthorized_client, as Okta does for an app
  // whose Device Authorization grant is off (the discovery document still lists it).
  refuse_device_grant: false,
  // DPoP (RFC 9449; oidc-provider's features.dPoP, always on: a request with a DPoP proof
  // gets DPoP-bound tokens): proofs without a nonce are refused with use_dpop_nonce and a
  // DPoP-Nonce header, as Okta does.
  dpop_require_nonce: false,
});

// What id_token_fault can do to the ID token of a token answer (login or refresh):
//   foreign_key  signed by a key that is not in the JWKS, under the JWKS key's kid
//   unknown_kid  signed by a key that is not in the JWKS, under a kid that is not either
//   wrong_aud    aud another client;  wrong_iss  iss the other authorization server
//   wrong_azp    azp another client;  wrong_nonce  nonce another login's
//   expired    exp 10 minutes ago
//   future_iat   issued 10 minutes from now;  alg_none  "alg": "none", no signature
//   alg_hs256    HMAC-signed with the client id as the secret
const ID_TOKEN_FAULTS = new Set(['foreign_key', 'unknown_kid', 'wrong_aud', 'wrong_iss', 'wrong_azp',
  'wrong_nonce', 'expired', 'future_iat', 'alg_none', 'alg_hs256']);

// X-Rate-Limit-* values when rate_limit is off (counted, never enforced).
const DEFAULT_RATE = Object.freeze({ limit: 600, window_s: 60 });

let settings = { ...DEFAULT_SETTINGS };
let requestLog = [];
let faults = new Map(); // path -> { status, count, body, headers, delay_ms, hang, rate_headers, after }
let polls = new Map(); // server + device_code hash -> { interval, last }
let rateBuckets = new Map(); // path -> { start (ms), count }
let claimOverrides = new Map(); // username -> claims that replace the user's own (POST /__test/user)
let keysLog = []; // GET of a keys endpoint: { t, server, path, status }
// Per server: a key made by POST /__test/rotate_key, published in the JWKS after the
// original one, that signs the ID tokens from then on. Cleared by reset.
let rotatedKeys = new Map(); // server name -> { privateKey, publicJwk }
// The key that id_token_fault's foreign_key and unknown_kid sign with: in no JWKS.
let foreignKey = null;

// oidc-provider's DPoP nonces are derived from it (features.dPoP.nonceSecret).
const DPOP_NONCE_SECRET = crypto.randomBytes(32);

// What a request's DPoP proof claims (unverified: oidc-provider verifies it), for the log.
function dpopOf(req) {
  const proof = req.headers.dpop;
  if (!proof) return null;
  try {
    const claims = JSON.parse(Buffer.from(String(proof).split('.')[1], 'base64url').toString('utf8'));
    return {
      jti: claims.jti ?? null, htm: claims.htm ?? null, htu: claims.htu ?? null,
      nonce: typeof claims.nonce === 'string', ath: typeof claims.ath === 'string',
    };
  } catch {
    return { malformed: true };
  }
}

// The request being served ({ entry, params, endpoint }), for the adapter hooks.
const requestContext = new AsyncLocalStorage();

function shortHash(value) {
  return crypto.createHash('sha256').update(String(value)).digest('hex').slice(0, 12);
}

function nowEpoch() {
  return Math.round(Date.now()) / 1000;
}

function sleep(ms) {
  return new Promise((resolve) => { setTimeout(resolve, ms); });
}

// ---------------------------------------------------------------------------
// Helpers

// By the user's own sub, or by the one POST /__test/user gave it (the account id of the
// grants made while it is set: they end when it is cleared).
function findUserBySub(sub) {
  return USERS.find((u) => u.sub === sub || claimOverrides.get(u.username)?.sub === sub);
}

function findUserByLogin(login) {
  const l = String(login || '').trim().toLowerCase();
  return USERS.find((u) => u.username === l || u.email === l);
}

function accountClaims(user) {
  return {
    ...baseClaims(user),
    ...(claimOverrides.get(user.username) || {}),
  };
}

function baseClaims(user) {
  return {
    sub: user.sub,
    email: user.email,
    email_verified: true,
    name: `${user.given_name} ${user.family_name}`,
    given_name: user.given_name,
    family_name: user.family_name,
    preferred_username: user.email,
    locale: 'en_US',
    zoneinfo: 'America/Los_Angeles',
    updated_at: 1700000000,
    groups: [...user.groups],
  };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 1024 * 1024) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseForm(buf) {
  const out = {};
  for (const [k, v] of new URLSearchParams(buf.toString('utf8'))) {
    if (!(k in out)) out[k] = v;
  }
  return out;
}

function sendJson(res, status, obj, headers = {}) {
  const body = JSON.stringify(obj);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

// Okta's error body on its API paths (not OAuth's error/error_description).
function oktaError(code, summary) {
  return {
    errorCode: code,
    errorSummary: summary,
    errorLink: code,
    errorId: `oae${crypto.randomBytes(11).toString('base64url')}`,
    errorCauses: [],
  };
}

function sendHtml(res, status, html, headers = {}) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(html),
    ...headers,
  });
  res.end(html);
}

function redirect(res, location, status = 303) {
  res.writeHead(status, { Location: location, 'Content-Length': '0', 'Cache-Control': 'no-store' });
  res.end();
}

// client_id from the form, from HTTP Basic, or from a client assertion (unverified).
function clientIdOf(req, params) {
  if (params.client_id) return params.client_id;
  const auth = req.headers.authorization || '';
  if (/^basic /i.test(auth)) {
    try {
      const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      return decodeURIComponent((i >= 0 ? decoded.slice(0, i) : decoded).replace(/\+/g, ' '));
    } catch { /* ignore */ }
  }
  if (params.client_assertion) {
    try {
      const payload = JSON.parse(Buffer.from(params.client_assertion.split('.')[1], 'base64url').toString('utf8'));
      return payload.sub || payload.iss || null;
    } catch { /* ignore */ }
  }
  return null;
}

// ---------------------------------------------------------------------------
// Providers

function settingTTL(name) {
  return () => settings[name];
}

function buildProvider(server, base) {
  const issuer = `${base}${server.mount}`;
  const p = server.routePrefix;
  const store = createStore();

  const configuration = {
    adapter: adapterFactory(store, { refreshGrace }),
    clients: CLIENTS.map((c) => ({ ...c })),
    jwks: { keys: [SIGNING_KEYS.get(server.name)] },
    cookies: {
      keys: [`oktacred-test-idp-${server.name}`],
      names: {
        session: `_session_${server.name}`,
        interaction: `_interaction_${server.name}`,
        resume: `_interaction_resume_${server.name}`,
      },
    },
    routes: {
      authorization: `${p}/authorize`,
      backchannel_authentication: `${p}/bc/authorize`,
      challenge: `${p}/challenge`,
      code_verification: `${p}/device/verify`,
      credential: `${p}/credential`,
      device_authorization: `${p}/device/authorize`,
      end_session: `${p}/logout`,
      introspection: `${p}/introspect`,
      jwks: `${p}/keys`,
      pushed_authorization_request: `${p}/par`,
      registration: `${p}/clients`,
      revocation: `${p}/revoke`,
      token: `${p}/token`,
      userinfo: `${p}/userinfo`,
    },
    scopes: server.scopes,
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'locale', 'zoneinfo', 'updated_at'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    // Okta puts the requested claims in the ID token even when an access token
    // is issued too.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        mask: '****-****',
        userCodeInputSource,
        userCodeConfirmSource: (ctx, form, client, deviceInfo, userCode) => userCodeConfirmSource(ctx, form, client, userCode, server),
        successSource,
      },
      revocation: { enabled: true, allowedPolicy: revocationAllowedPolicy },
      introspection: { enabled: true, allowedPolicy: async () => true },
      userinfo: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: false },
      // The nonce secret lets the server hand out nonces; settings.dpop_require_nonce
      // says whether it demands them.
      dPoP: {
        enabled: true,
        nonceSecret: DPOP_NONCE_SECRET,
        requireNonce: () => settings.dpop_require_nonce,
      },
      pushedAuthorizationRequests: { enabled: false },
      // Okta's custom authorization servers issue JWT access tokens (aud: the server's
      // audience, api://default for "default"), verifiable with the server's keys; the
      // org server's are for Okta's API only. Here: client credentials on "default"
      // (a service account's token, which AWS can take as a web identity token).
      resourceIndicators: server.name === 'default' ? {
        enabled: true,
        defaultResource: async (ctx, client, oneOf) => {
          if (oneOf) return oneOf;
          return ctx.oidc.params?.grant_type === 'client_credentials' ? DEFAULT_AUDIENCE : undefined;
        },
        useGrantedResource: async () => false,
        getResourceServerInfo: async (ctx, indicator) => {
          if (indicator !== DEFAULT_AUDIENCE) throw new oidcErrors.InvalidTarget();
          return {
            scope: server.scopes.filter((s) => !COMMON_SCOPES.includes(s)).join(' '),
            audience: DEFAULT_AUDIENCE,
            accessTokenFormat: 'jwt',
            accessTokenTTL: settings.access_token_ttl,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      } : { enabled: false },
    },
    // Okta's claims of a client-credentials access token besides oidc-provider's.
    extraTokenClaims: async (ctx, token) => (token.kind === 'ClientCredentials' && token.resourceServer
      ? { ver: 1, cid: token.clientId, scp: (token.scope || '').split(' ').filter(Boolean) }
      : undefined),
    findAccount: async (ctx, sub) => {
      const user = findUserBySub(sub);
      if (!user) return undefined;
      // oidc-provider makes the ID token's sub of accountId, not of the claims.
      return { accountId: accountClaims(user).sub, claims: async () => accountClaims(user) };
    },
    interactions: {
      url: (ctx, interaction) => `${base}${server.mount}${p}/login/${interaction.uid}`,
    },
    // Rotation on, no grace period: each refresh consumes the old token; reuse
    // of a consumed one revokes the whole grant (oidc-provider's default).
    rotateRefreshToken: () => true,
    issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token')
      && code.scopes.has('offline_access'),
    clientBasedCORS: () => false,
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = pages.errorPage({ kind: out.error, message: out.error_description || out.error });
    },
    ttl: {
      AccessToken: settingTTL('access_token_ttl'),
      ClientCredentials: settingTTL('access_token_ttl'),
      IdToken: settingTTL('id_token_ttl'),
      RefreshToken: settingTTL('refresh_token_ttl'),
      DeviceCode: settingTTL('device_expires_in'),
      AuthorizationCode: 60,
      BackchannelAuthenticationRequest: 600,
      PreAuthorizedCode: 600,
      Interaction: 3600,
      Session: 24 * 3600,
      Grant: 30 * 24 * 3600,
    },
    // Okta requires PKCE of public clients (native apps) and takes S256 only.
    pkce: { required: (ctx, client) => client.tokenEndpointAuthMethod === 'none' },
    responseTypes: ['code'],
    enabledJWA: { clientAuthSigningAlgValues: CLIENT_AUTH_ALGS },
    // oidc-provider accepts the issuer, the token endpoint or the endpoint called as
    // aud; Okta only the URL of the endpoint called (and wants sub = client_id, exp
    // at most an hour ahead). jti replay: oidc-provider's ReplayDetection model.
    assertJwtClientAuthClaimsAndHeader: async (ctx, claims, header, client) => {
      const path = (ctx.req.originalUrl || ctx.req.url).split('?')[0];
      const expected = `${base}${path}`;
      if (claims.aud !== expected) {
        throw new oidcErrors.InvalidClientAuth(`The audience claim for client_assertion must be the endpoint invoked for the request: ${expected}`);
      }
      if (claims.sub !== client.clientId) {
        throw new oidcErrors.InvalidClientAuth('sub (JWT subject) must be the client_id');
      }
      if (claims.exp - Math.floor(Date.now() / 1000) > 3600) {
        throw new oidcErrors.InvalidClientAuth('The client_assertion token has an expiration too far into the future.');
      }
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.proxy = false;
  // Okta compares a redirect URI exactly with those registered, port included
  // (oidc-provider, following RFC 8252 7.3, would let a native app's loopback URI take
  // any port).
  provider.Client.prototype.redirectUriAllowed = function exactRedirect(value) {
    return this.redirectUris.includes(value);
  };

  // Runs before the provider's own routes, inside its Koa app.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.method === 'GET' && ctx.path === `${p}/keys` && ctx.status === 200) {
      const rotated = rotatedKeys.get(server.name);
      if (rotated) {
        const body = typeof ctx.body === 'string' ? JSON.parse(ctx.body) : ctx.body;
        ctx.body = { keys: [...body.keys, rotated.publicJwk] };
      }
      ctx.set('Cache-Control', `max-age=${settings.jwks_max_age}`);
    }
    if (ctx.req.idpEndpoint === 'token' && ctx.status === 200 && typeof ctx.body?.id_token === 'string'
        && (settings.id_token_fault || rotatedKeys.has(server.name))) {
      ctx.body = { ...ctx.body, id_token: await reissueIdToken(server, ctx.body.id_token) };
    }
    if (ctx.req.idpEndpoint === 'device' && ctx.status === 200 && ctx.body?.device_code) {
      const b = ctx.body;
      const interval = settings.interval;
      polls.set(`${server.name}:${shortHash(b.device_code)}`, { interval, last: null });
      // Okta's verification page is https://ORG/activate for every authorization server.
      ctx.body = {
        device_code: b.device_code,
        user_code: b.user_code,
        verification_uri: `${base}/activate`,
        verification_uri_complete: `${base}/activate?user_code=${encodeURIComponent(b.user_code)}`,
        expires_in: b.expires_in,
        interval,
      };
    }
  });

  // oidc-provider's reason for an error answer (its error_description is generic).
  const noteError = (ctx, err) => {
    const entry = ctx.req.idpEntry;
    if (entry) entry.error_detail = err.error_detail || err.error_description || err.message || null;
  };
  provider.on('grant.error', noteError);
  provider.on('revocation.error', noteError);

  provider.on('server_error', (ctx, err) => {
    console.error(`[idp] server_error on ${server.name} ${ctx.method} ${ctx.path}:`, err);
  });

  return provider;
}

// ---------------------------------------------------------------------------
// ID tokens re-signed: by a rotated key (POST /__test/rotate_key), or spoiled the way
// setting id_token_fault says

function signJws(header, payload, key, alg) {
  const data = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  let sig;
  if (alg === 'none') sig = Buffer.alloc(0);
  else if (alg === 'HS256') sig = crypto.createHmac('sha256', key).update(data).digest();
  else if (alg === 'ES256') sig = crypto.sign('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' });
  else sig = crypto.sign('sha256', Buffer.from(data), key);
  return `${data}.${sig.toString('base64url')}`;
}

async function makeKey(alg) {
  const { privateKey } = alg === 'ES256'
    ? await util.promisify(crypto.generateKeyPair)('ec', { namedCurve: 'P-256' })
    : await util.promisify(crypto.generateKeyPair)('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const kid = `test-${alg.toLowerCase()}-${crypto.randomBytes(4).toString('hex')}`;
  const publicJwk = alg === 'ES256'
    ? { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }
    : { kty: 'RSA', n: jwk.n, e: jwk.e };
  return { privateKey, publicJwk: { ...publicJwk, kid, alg, use: 'sig' } };
}

async function reissueIdToken(server, idToken) {
  const [h, pl] = idToken.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  const payload = JSON.parse(Buffer.from(pl, 'base64url').toString('utf8'));
  const rotated = rotatedKeys.get(server.name);
  let key = rotated ? rotated.privateKey : crypto.createPrivateKey({ key: SIGNING_KEYS.get(server.name), format: 'jwk' });
  let alg = rotated ? rotated.publicJwk.alg : 'RS256';
  let kid = rotated ? rotated.publicJwk.kid : header.kid;
  const now = Math.floor(Date.now() / 1000);
  switch (settings.id_token_fault) {
    case 'foreign_key':
    case 'unknown_kid':
      if (!foreignKey) foreignKey = await makeKey('RS256');
      key = foreignKey.privateKey;
      alg = 'RS256';
      if (settings.id_token_fault === 'unknown_kid') kid = foreignKey.publicJwk.kid;
      break;
    case 'wrong_aud': payload.aud = '0oa-someone-else'; break;
    case 'wrong_iss': payload.iss = server.name === 'org' ? `${BASE}/oauth2/default` : BASE; break;
    case 'wrong_azp': payload.azp = '0oa-someone-else'; break;
    case 'wrong_nonce': payload.nonce = 'the-nonce-of-another-login'; break;
    case 'expired': payload.iat = now - 3600; payload.exp = now - 600; break;
    case 'future_iat': payload.iat = now + 600; payload.exp = now + 4200; break;
    case 'alg_none': alg = 'none'; break;
    case 'alg_hs256': alg = 'HS256'; key = String(payload.aud); break;
    default: break;
  }
  const newHeader = { ...header, alg, kid };
  if (alg === 'none' || alg === 'HS256') delete newHeader.kid;
  return signJws(newHeader, payload, key, alg);
}

// adapter.js asks this when a consumed (rotated-out) refresh token is looked up.
// True: within refresh_grace_s of its first use, and looked up by the
// refresh_token grant presenting it; the grant then issues a new token set.
function refreshGrace(id, consumedAtMs) {
  const rc = requestContext.getStore();
  if (!rc || rc.endpoint !== 'token' || rc.params.grant_type !== 'refresh_token'
      || rc.params.refresh_token !== id) return false;
  const age = Date.now() - consumedAtMs;
  rc.entry.reuse_age_ms = age;
  const grace = settings.refresh_grace_s;
  if (!(grace > 0) || age > grace * 1000) return false;
  rc.entry.grace_reuse = true;
  return true;
}

async function revocationAllowedPolicy(ctx, client, token) {
  // Only the client a token was issued to may revoke it (a public client's
  // attempt on another client's token is silently ignored, as RFC 7009 allows).
  return token.clientId === client.clientId;
}

async function userCodeInputSource(ctx, form, out, err) {
  const { action, hidden } = pages.parseProviderForm(form);
  let error;
  let denied = false;
  if (err) {
    switch (err.name) {
      case 'AbortedError':
        denied = true;
        break;
      case 'NoCodeError':
        error = { kind: 'no_code', message: 'Enter the code displayed on your device.' };
        break;
      case 'NotFoundError':
        error = { kind: 'not_found', message: 'That code is not valid.' };
        break;
      case 'ExpiredError':
        error = { kind: 'expired', message: 'That code has expired. Start again on your device.' };
        break;
      case 'AlreadyUsedError':
        error = { kind: 'already_used', message: 'That code has already been used.' };
        break;
      default:
        error = { kind: out?.error || 'error', message: out?.error_description || 'There was an error processing your request.' };
    }
  }
  const userCode = (!err || err.userCode) ? (ctx.query.prefill || err?.userCode || '') : '';
  ctx.type = 'html';
  ctx.body = pages.codePage({ action, hidden, userCode, error, denied });
}

async function userCodeConfirmSource(ctx, form, client, userCode, server) {
  const { action, hidden } = pages.parseProviderForm(form);
  ctx.type = 'html';
  ctx.body = pages.confirmPage({
    action,
    hidden: hidden.filter(([name]) => name !== 'confirm'),
    clientName: client.clientName || client.clientId,
    userCode,
    server: server.name,
  });
}

async function successSource(ctx) {
  const client = ctx.oidc.client;
  ctx.type = 'html';
  ctx.body = pages.successPage({ clientName: client.clientName || client.clientId });
}

// ---------------------------------------------------------------------------
// Login / consent interactions (served outside the providers' Koa apps)

async function handleInteraction(server, uid, req, res) {
  const provider = server.provider;
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    sendHtml(res, 400, pages.errorPage({ kind: 'session_not_found', message: `Sign-in session not found or expired (${err.message}). Start again from /activate.` }));
    return;
  }
  if (details.uid !== uid) {
    sendHtml(res, 400, pages.errorPage({ kind: 'session_not_found', message: 'Sign-in session does not match this page.' }));
    return;
  }
  const client = await provider.Client.find(details.params.client_id);
  const clientName = client?.clientName || details.params.client_id;
  const action = `${server.mount}${server.routePrefix}/login/${uid}`;
  const { prompt } = details;

  if (prompt.name === 'login') {
    if (req.method === 'GET') {
      sendHtml(res, 200, pages.loginPage({ action, clientName }));
      return;
    }
    if (req.method !== 'POST') {
      sendHtml(res, 405, pages.errorPage({ kind: 'method_not_allowed', message: 'GET or POST only' }));
      return;
    }
    const form = parseForm(await readBody(req));
    if (form.cancel) {
      await provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: 'End-User cancelled the sign-in',
      }, { mergeWithLastSubmission: false });
      return;
    }
    const user = findUserByLogin(form.username);
    if (!user || user.password !== form.password) {
      sendHtml(res, 200, pages.loginPage({
        action, clientName, username: form.username, error: { kind: 'invalid_credentials', message: 'Invalid username or password.' },
      }));
      return;
    }
    await provider.interactionFinished(req, res, {
      login: { accountId: accountClaims(user).sub, amr: ['pwd'] },
    }, { mergeWithLastSubmission: false });
    return;
  }

  if (prompt.name === 'consent') {
    // First-party app: consent is implied (Okta shows no consent page for it).
    const { accountId } = details.session;
    let grant;
    if (details.grantId) {
      grant = await provider.Grant.find(details.grantId);
    } else {
      grant = new provider.Grant({ accountId, clientId: details.params.client_id });
    }
    const d = prompt.details || {};
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    const consent = details.grantId ? {} : { grantId };
    await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
    return;
  }

  sendHtml(res, 501, pages.errorPage({ kind: 'not_implemented', message: `prompt ${prompt.name} not implemented` }));
}

// ---------------------------------------------------------------------------
// /activate: one verification page for both authorization servers

async function handleActivate(url, res, base) {
  const userCode = (url.searchParams.get('user_code') || '').trim();
  if (!userCode) {
    sendHtml(res, 200, pages.activatePage());
    return;
  }
  const normalized = userCode.toUpperCase().replace(/\W/g, '');
  for (const server of SERVERS) {
    const code = await server.provider.DeviceCode.findByUserCode(normalized, { ignoreExpiration: true });
    if (code) {
      const target = `${base}${server.mount}${server.routePrefix}/device/verify?prefill=${encodeURIComponent(userCode)}`;
      redirect(res, target, 302);
      return;
    }
  }
  sendHtml(res, 400, pages.activatePage({
    userCode, error: { kind: 'not_found', message: 'That code is not valid.' },
  }));
}

// ---------------------------------------------------------------------------
// /__test control endpoints

const SETTING_KEYS = new Set(Object.keys(DEFAULT_SETTINGS));

const FRACTIONAL_SETTINGS = new Set(['slow_down_tolerance_ms', 'token_delay_ms', 'token_delay_before_ms', 'refresh_grace_s']);

function validRateLimit(v) {
  if (v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error('rate_limit must be null or {"limit": N, "window_s": S}');
  const extra = Object.keys(v).filter((k) => k !== 'limit' && k !== 'window_s');
  if (extra.length) throw new Error(`rate_limit: unknown key ${extra[0]}`);
  const { limit, window_s: windowS = 60 } = v;
  if (!Number.isInteger(limit) || limit < 0) throw new Error('rate_limit.limit must be an integer >= 0');
  if (typeof windowS !== 'number' || !Number.isFinite(windowS) || windowS <= 0) throw new Error('rate_limit.window_s must be a number > 0');
  return { limit, window_s: windowS };
}

function applySettings(obj) {
  const next = { ...settings };
  for (const [k, v] of Object.entries(obj)) {
    if (!SETTING_KEYS.has(k)) throw new Error(`unknown setting: ${k}`);
    if (k === 'rate_limit') {
      next.rate_limit = validRateLimit(v);
      continue;
    }
    if (k === 'poll_error') {
      if (v !== null && !(typeof v === 'string' && /^[a-z_]{1,64}$/.test(v))) throw new Error('poll_error must be null or an OAuth error code');
      next.poll_error = v;
      continue;
    }
    if (k === 'refuse_device_grant' || k === 'dpop_require_nonce') {
      if (typeof v !== 'boolean') throw new Error(`${k} must be true or false`);
      next[k] = v;
      continue;
    }
    if (k === 'id_token_fault') {
      if (v !== null && !ID_TOKEN_FAULTS.has(v)) throw new Error(`id_token_fault must be null or one of ${[...ID_TOKEN_FAULTS].join(', ')}`);
      next.id_token_fault = v;
      continue;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`setting ${k} must be a number >= 0`);
    if (!FRACTIONAL_SETTINGS.has(k) && !Number.isInteger(v)) throw new Error(`setting ${k} must be an integer`);
    if (k === 'refresh_grace_s' && v > 60) throw new Error('setting refresh_grace_s must be 0..60 (as in Okta)');
    if (['device_expires_in', 'access_token_ttl', 'id_token_ttl', 'refresh_token_ttl'].includes(k) && v < 1) throw new Error(`setting ${k} must be >= 1`);
    next[k] = v;
  }
  if ('rate_limit' in obj) rateBuckets = new Map(); // a new limit starts new windows
  settings = next;
}

async function handleControl(url, req, res) {
  const route = url.pathname.slice('/__test'.length);
  try {
    if (req.method === 'GET' && route === '/log') {
      sendJson(res, 200, requestLog);
      return;
    }
    if (req.method === 'GET' && route === '/keys_log') {
      sendJson(res, 200, keysLog);
      return;
    }
    if (req.method === 'GET' && route === '/settings') {
      sendJson(res, 200, settings);
      return;
    }
    if (req.method === 'GET' && route === '/faults') {
      sendJson(res, 200, Object.fromEntries(faults));
      return;
    }
    if (req.method === 'POST') {
      const raw = (await readBody(req)).toString('utf8').trim();
      const body = raw ? JSON.parse(raw) : {};
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('JSON object expected');
      switch (route) {
        case '/reset':
          settings = { ...DEFAULT_SETTINGS };
          requestLog = [];
          faults = new Map();
          polls = new Map();
          rateBuckets = new Map();
          claimOverrides = new Map();
          keysLog = [];
          rotatedKeys = new Map();
          sendJson(res, 200, { ok: true, settings });
          return;
        case '/settings':
          applySettings(body);
          sendJson(res, 200, settings);
          return;
        case '/fault': {
          if (typeof body.path !== 'string' || !body.path.startsWith('/')) throw new Error('fault needs "path" starting with /');
          const count = body.count ?? 1;
          if (!Number.isInteger(count) || count < 0) throw new Error('count must be an integer >= 0');
          if (count === 0) {
            faults.delete(body.path);
          } else {
            faults.set(body.path, {
              status: body.status ?? 503,
              count,
              body: body.body,
              headers: body.headers || {},
              delay_ms: body.delay_ms || 0,
              hang: !!body.hang,
              rate_headers: !!body.rate_headers,
              after: !!body.after,
            });
          }
          sendJson(res, 200, { ok: true, faults: Object.fromEntries(faults) });
          return;
        }
        case '/rotate_key': {
          // {"server": "default"|"org", "alg": "RS256"|"ES256"}: a new key, published in the
          // JWKS next to the original, signs the server's ID tokens from now on.
          const target = SERVERS.find((sv) => sv.name === (body.server ?? 'default'));
          if (!target) throw new Error('server must be default or org');
          const alg = body.alg ?? 'RS256';
          if (alg !== 'RS256' && alg !== 'ES256') throw new Error('alg must be RS256 or ES256');
          const key = await makeKey(alg);
          rotatedKeys.set(target.name, key);
          sendJson(res, 200, { ok: true, server: target.name, kid: key.publicJwk.kid, alg });
          return;
        }
        case '/user': {
          // {"user": "alice", "claims": {"email": ..., "groups": [...], ...}}: tokens issued
          // from now on carry these claims instead of the user's own; {} or null: back to them.
          const user = USERS.find((u) => u.username === body.user);
          if (!user) throw new Error(`unknown user: ${body.user}`);
          const claims = body.claims ?? {};
          if (typeof claims !== 'object' || Array.isArray(claims)) throw new Error('claims must be a JSON object');
          if ('sub' in claims && (typeof claims.sub !== 'string' || !claims.sub)) throw new Error('sub must be a non-empty string');
          if (Object.keys(claims).length) claimOverrides.set(user.username, claims);
          else claimOverrides.delete(user.username);
          sendJson(res, 200, { ok: true, user: user.username, claims: accountClaims(user) });
          return;
        }
        case '/client': {
          // {"server": "default"|"org"|"both", ...oidc-provider client metadata}
          const { server: which = 'both', ...metadata } = body;
          if (typeof metadata.client_id !== 'string' || !metadata.client_id) throw new Error('client needs client_id');
          const targets = SERVERS.filter((s) => which === 'both' || s.name === which);
          if (!targets.length) throw new Error('server must be default, org or both');
          if (CLIENTS.some((c) => c.client_id === metadata.client_id)) throw new Error(`client ${metadata.client_id} is built in`);
          for (const s of targets) {
            await s.provider.Client.adapter.upsert(metadata.client_id, metadata);
            try {
              await s.provider.Client.find(metadata.client_id); // validates the metadata
            } catch (err) {
              await s.provider.Client.adapter.destroy(metadata.client_id);
              throw new Error(`invalid client metadata: ${err.error_description || err.message}`);
            }
          }
          sendJson(res, 200, { ok: true, client_id: metadata.client_id, servers: targets.map((s) => s.name) });
          return;
        }
        default:
      }
    }
    sendJson(res, 404, { error: 'not_found', error_description: `no control ${req.method} ${url.pathname}` });
  } catch (err) {
    sendJson(res, 400, { error: 'bad_control_request', error_description: err.message });
  }
}

// ---------------------------------------------------------------------------
// Dispatch

function classify(pathname) {
  for (const server of SERVERS) {
    const prefix = `${server.mount}${server.routePrefix}`;
    if (pathname === `${prefix}/token`) return { server, endpoint: 'token' };
    if (pathname === `${prefix}/device/authorize`) return { server, endpoint: 'device' };
    if (pathname === `${prefix}/revoke`) return { server, endpoint: 'revoke' };
  }
  return null;
}

function serverFor(pathname) {
  const def = SERVERS[0];
  if (pathname === def.mount || pathname.startsWith(`${def.mount}/`)) return def;
  return SERVERS[1];
}

// Captures the JSON answer (for the log) and applies token_delay_ms: the answer
// is complete (tokens issued, the old refresh token rotated out) and held back
// that long before it is sent. status and error are logged when the answer is
// complete, so they are there even when the client leaves during the delay.
function instrumentResponse(res, entry, endpoint) {
  const origWrite = res.write;
  const origEnd = res.end;
  const chunks = [];
  const record = () => {
    entry.status = res.statusCode;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const err = typeof body.error === 'string' ? body.error : body.errorCode;
      entry.error = typeof err === 'string' ? err : null;
      entry.token_type = typeof body.token_type === 'string' ? body.token_type : null;
      res.idpError = entry.error;
      if (endpoint === 'device' && body.device_code) {
        entry.device_code_hash = shortHash(body.device_code);
        entry.interval = body.interval ?? null;
      }
    } catch {
      entry.error = null; // not a JSON answer (e.g. an injected text body)
    }
  };
  res.write = function write(chunk, ...rest) {
    if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk));
    return origWrite.call(this, chunk, ...rest);
  };
  res.end = function end(chunk, ...rest) {
    if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk));
    record();
    const delay = endpoint === 'token' ? settings.token_delay_ms : 0;
    if (delay > 0 && !res.destroyed) {
      entry.delay_after_ms = delay;
      setTimeout(() => origEnd.call(this, chunk, ...rest), delay);
      return this;
    }
    return origEnd.call(this, chunk, ...rest);
  };
  res.on('error', () => {});
  res.on('finish', record);
  res.on('close', () => {
    if (!res.writableFinished) entry.aborted = true;
  });
}

// Resolves true if the client closed the connection within ms, else false.
function waitUnlessClosed(res, ms) {
  return new Promise((resolve) => {
    if (res.destroyed || res.socket?.destroyed) {
      resolve(true);
      return;
    }
    const onClose = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(!!(res.destroyed || res.socket?.destroyed));
    }, ms);
    res.once('close', onClose);
  });
}

// Okta's X-Rate-Limit-* headers: one fixed window per endpoint path, started by
// its first request. Every request counts (faulted and rejected ones too).
function countRate(pathname) {
  const cfg = settings.rate_limit || DEFAULT_RATE;
  const now = Date.now();
  let b = rateBuckets.get(pathname);
  if (!b || now >= b.start + cfg.window_s * 1000) {
    b = { start: now, count: 0 };
    rateBuckets.set(pathname, b);
  }
  b.count += 1;
  return {
    limit: cfg.limit,
    remaining: Math.max(0, cfg.limit - b.count),
    reset: Math.ceil((b.start + cfg.window_s * 1000) / 1000),
    over: b.count > cfg.limit,
  };
}

function clientAuthOf(req, params) {
  if (params.client_assertion_type === JWT_BEARER || params.client_assertion) {
    try {
      const header = JSON.parse(Buffer.from(String(params.client_assertion).split('.')[0], 'base64url').toString('utf8'));
      return String(header.alg).startsWith('HS') ? 'client_secret_jwt' : 'private_key_jwt';
    } catch {
      return 'private_key_jwt';
    }
  }
  if (/^basic /i.test(req.headers.authorization || '')) return 'client_secret_basic';
  if (params.client_secret) return 'client_secret_post';
  return 'none';
}

// sha256 prefix of the client assertion's jti (unverified), never the assertion.
function assertionJtiHash(params) {
  if (!params.client_assertion) return null;
  try {
    const payload = JSON.parse(Buffer.from(params.client_assertion.split('.')[1], 'base64url').toString('utf8'));
    return payload.jti === undefined ? null : shortHash(payload.jti);
  } catch {
    return null;
  }
}

const RATE_HEADERS = ['X-Rate-Limit-Limit', 'X-Rate-Limit-Remaining', 'X-Rate-Limit-Reset'];

async function answerFault(fault, res) {
  // An injected answer carries only the headers the test gave, unless it asked
  // for the X-Rate-Limit-* ones (oktacred honours X-Rate-Limit-Reset on a 503).
  if (!fault.rate_headers) for (const h of RATE_HEADERS) res.removeHeader(h);
  if (fault.delay_ms) await sleep(fault.delay_ms);
  let body = fault.body;
  let type = 'text/plain; charset=utf-8';
  if (body === undefined || body === null) {
    body = JSON.stringify({ error: 'temporarily_unavailable', error_description: 'injected fault' });
    type = 'application/json';
  } else if (typeof body !== 'string') {
    body = JSON.stringify(body);
    type = 'application/json';
  } else {
    try { JSON.parse(body); type = 'application/json'; } catch { /* text */ }
  }
  const headers = { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...fault.headers };
  res.writeHead(fault.status, headers);
  res.end(body);
}

// An "after" fault: the request is served as usual (a client assertion's jti recorded,
// tokens issued, a refresh token rotated out), then the answer it got is dropped and the
// fault is sent instead (or nothing, with hang): as when Okta's own answer is lost behind
// a failing proxy. Installed after instrumentResponse, so the log records what was sent.
function replaceAnswer(res, entry, fault) {
  const { writeHead, write, end } = res;
  let status = null;
  res.writeHead = function swallowHead(code) {
    status = code;
    return this;
  };
  res.write = function swallowWrite(chunk, encoding, cb) {
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') process.nextTick(done);
    return true;
  };
  res.end = function replace() {
    Object.assign(res, { writeHead, write, end });
    if (entry) entry.replaced_status = status ?? res.statusCode;
    for (const name of res.getHeaderNames()) {
      if (!name.startsWith('x-rate-limit-')) res.removeHeader(name);
    }
    if (fault.hang) {
      if (entry) entry.hang = true;
      return this; // never answered (closed when the server stops)
    }
    answerFault(fault, res).catch(() => res.destroy());
    return this;
  };
}

function takeFault(pathname) {
  const fault = faults.get(pathname);
  if (!fault) return null;
  fault.count -= 1;
  if (fault.count <= 0) faults.delete(pathname);
  return fault;
}

function accessLog(req, res, pathname) {
  const start = performance.now();
  res.on('close', () => {
    const ms = (performance.now() - start).toFixed(0);
    const status = res.writableFinished ? res.statusCode : 'aborted';
    const err = res.idpError ? ` ${res.idpError}` : '';
    console.error(`[idp] ${new Date().toISOString().slice(11, 23)} ${req.method} ${pathname} ${status}${err} ${ms}ms`);
  });
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  const { pathname } = url;
  if (!(req.method === 'GET' && pathname === '/__test/log')) accessLog(req, res, pathname);

  if (pathname.startsWith('/__test/')) {
    await handleControl(url, req, res);
    return;
  }

  const keysServer = req.method === 'GET'
    && SERVERS.find((sv) => pathname === `${sv.mount}${sv.routePrefix}/keys`);
  if (keysServer) {
    const k = { t: nowEpoch(), server: keysServer.name, path: pathname, status: null };
    keysLog.push(k);
    res.on('finish', () => { k.status = res.statusCode; });
  }

  const cls = classify(pathname);
  let params = {};
  let entry = null;
  let overLimit = false;
  if (cls) {
    if (req.method === 'POST') {
      const buf = await readBody(req);
      req.body = buf.toString('utf8'); // oidc-provider reads an already-read body from req.body
      if ((req.headers['content-type'] || '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
        params = parseForm(buf);
      }
    }
    entry = {
      t: nowEpoch(),
      server: cls.server.name,
      endpoint: cls.endpoint,
      method: req.method,
      path: pathname,
      grant_type: cls.endpoint === 'token' ? (params.grant_type ?? null) : null,
      scope: params.scope ?? null,
      client_id: clientIdOf(req, params),
      status: null,
      error: null,
      device_code_hash: params.device_code ? shortHash(params.device_code) : null,
      interval: null,
      fault: false,
      hang: false,
      aborted: false,
      processed: false,
      client_auth: clientAuthOf(req, params),
      jti_hash: assertionJtiHash(params),
      error_detail: null,
      replaced_status: null,
      grace_reuse: false,
      reuse_age_ms: null,
      rate_limited: false,
      rate_remaining: null,
      delay_before_ms: 0,
      delay_after_ms: 0,
      dpop: dpopOf(req),
      token_type: null,
    };
    requestLog.push(entry);
    req.idpEntry = entry;
    instrumentResponse(res, entry, cls.endpoint);
    const rate = countRate(pathname);
    entry.rate_remaining = rate.remaining;
    res.setHeader('X-Rate-Limit-Limit', String(rate.limit));
    res.setHeader('X-Rate-Limit-Remaining', String(rate.remaining));
    res.setHeader('X-Rate-Limit-Reset', String(rate.reset));
    overLimit = rate.over && !!settings.rate_limit && cls.endpoint === 'token';
  }

  const fault = takeFault(pathname);
  if (fault?.after) {
    if (entry) entry.fault = true;
    replaceAnswer(res, entry, fault);
  } else if (fault) {
    if (entry) entry.fault = true;
    if (fault.hang) {
      if (entry) entry.hang = true;
      return; // accepted, never answered (closed when the server stops)
    }
    await answerFault(fault, res);
    return;
  }

  const unknownServer = /^\/oauth2\/([^/]+)(\/|$)/.exec(pathname);
  if (unknownServer && unknownServer[1] !== 'default' && unknownServer[1] !== 'v1') {
    // Okta: an authorization server id that does not exist (any path below it).
    sendJson(res, 404, oktaError('E0000007', `Not found: Resource not found: ${unknownServer[1]} (AuthorizationServer)`));
    return;
  }

  if (pathname === '/activate' || pathname === '/activate/') {
    if (req.method !== 'GET') {
      sendHtml(res, 405, pages.errorPage({ kind: 'method_not_allowed', message: 'GET only' }));
      return;
    }
    await handleActivate(url, res, BASE);
    return;
  }

  if (overLimit) {
    entry.rate_limited = true;
    sendJson(res, 429, oktaError('E0000047', 'API call exceeded rate limit due to too many requests.'));
    return;
  }

  if (cls && cls.endpoint === 'token' && settings.token_delay_before_ms > 0) {
    // Held before anything is looked at; a client gone by then is not served.
    entry.delay_before_ms = settings.token_delay_before_ms;
    if (await waitUnlessClosed(res, settings.token_delay_before_ms)) {
      entry.aborted = true;
      return;
    }
  }
  if (entry) entry.processed = true;

  if (cls && cls.endpoint === 'token' && params.grant_type === DEVICE_GRANT && params.device_code) {
    // RFC 8628 slow_down the way Okta does it.
    const key = `${cls.server.name}:${shortHash(params.device_code)}`;
    let st = polls.get(key);
    if (!st) {
      st = { interval: settings.interval, last: null };
      polls.set(key, st);
    }
    const now = performance.now();
    let slow = false;
    if (settings.force_slow_down > 0) {
      settings = { ...settings, force_slow_down: settings.force_slow_down - 1 };
      slow = true;
    } else if (st.last !== null && now - st.last < st.interval * 1000 - settings.slow_down_tolerance_ms) {
      slow = true;
    }
    st.last = now;
    if (!slow && settings.poll_error) {
      // As when the app was deactivated or lost the grant type while a person approved.
      const status = settings.poll_error === 'invalid_client' ? 401 : 400;
      sendJson(res, status, {
        error: settings.poll_error,
        error_description: `injected poll error (${settings.poll_error})`,
      });
      return;
    }
    if (slow) st.interval += 5;
    entry.interval = st.interval;
    if (slow) {
      sendJson(res, 400, {
        error: 'slow_down',
        error_description: `The client is polling too frequently; wait at least ${st.interval} seconds between requests.`,
      });
      return;
    }
  }

  if (cls && cls.endpoint === 'device' && settings.refuse_device_grant) {
    sendJson(res, 400, {
      error: 'unauthorized_client',
      error_description: 'The client is not authorized to use the provided grant type. Configured grant types: [authorization_code, refresh_token].',
    });
    return;
  }

  if (cls && (cls.endpoint === 'device' || cls.endpoint === 'token') && params.scope) {
    const unknown = params.scope.split(/\s+/).filter((s) => s && !cls.server.scopes.includes(s));
    if (unknown.length) {
      sendJson(res, 400, {
        error: 'invalid_scope',
        error_description: `One or more scopes are not configured for the authorization server resource: ${unknown.join(' ')}`,
      });
      return;
    }
  }

  const login = /^(.*)\/login\/([A-Za-z0-9_-]+)$/.exec(pathname);
  if (login) {
    const server = SERVERS.find((s) => `${s.mount}${s.routePrefix}` === login[1]);
    if (server) {
      await handleInteraction(server, login[2], req, res);
      return;
    }
  }

  const server = serverFor(pathname);
  if (req.method === 'GET' && pathname === `${server.mount}${server.routePrefix}/authorize`) {
    // Okta issues a refresh token to an authorization code login that asks for
    // offline_access; oidc-provider only when the request also says prompt=consent
    // (consent is implied here: see handleInteraction).
    const q = url.searchParams;
    if ((q.get('scope') || '').split(' ').includes('offline_access') && !q.has('prompt')) {
      q.set('prompt', 'consent');
      req.url = `${pathname}?${q.toString()}`;
    }
  }
  if (server.mount) {
    req.originalUrl = req.url;
    req.url = req.url.slice(server.mount.length) || '/';
    if (!req.url.startsWith('/')) req.url = `/${req.url}`;
  }
  if (cls) {
    req.idpEndpoint = cls.endpoint;
    await requestContext.run({ entry, params, endpoint: cls.endpoint }, () => server.handler(req, res));
    return;
  }
  server.handler(req, res);
}

// ---------------------------------------------------------------------------
// Main

function parseArgs(argv) {
  let port = 0;
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (a === '--port') {
      port = Number(argv[i + 1]);
      i += 1;
    } else if (a.startsWith('--port=')) {
      port = Number(a.slice(7));
    } else if (a === '-h' || a === '--help') {
      process.stderr.write('usage: node server.js [--port N]\n');
      process.exit(0);
    } else {
      process.stderr.write(`unknown argument: ${a}\nusage: node server.js [--port N]\n`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write('--port must be 0..65535\n');
    process.exit(2);
  }
  return { port };
}

const { port: wantedPort } = parseArgs(process.argv.slice(2));
let BASE; // http://127.0.0.1:PORT, set once listening

const httpServer = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error('[idp] request failed:', err);
    if (!res.headersSent) {
      sendJson(res, 500, { error: 'server_error', error_description: String(err.message || err) });
    } else {
      res.destroy();
    }
  });
});
httpServer.keepAliveTimeout = 5000;

httpServer.on('error', (err) => {
  console.error(`[idp] cannot listen: ${err.message}`);
  process.exit(1);
});

function shutdown(signal) {
  console.error(`[idp] ${signal}: stopping`);
  httpServer.close(() => process.exit(0));
  httpServer.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

await keysReady;
httpServer.listen(wantedPort, '127.0.0.1', () => {
  const { port } = httpServer.address();
  const base = `http://127.0.0.1:${port}`;
  BASE = base;
  for (const server of SERVERS) {
    server.provider = buildProvider(server, base);
    server.handler = server.provider.callback();
  }
  writeStdout(`${JSON.stringify({ port, base })}\n`);
  console.error(`[idp] listening on ${base} (issuers ${base}/oauth2/default and ${base})`);
});

