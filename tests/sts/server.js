#!/usr/bin/env node
'use strict';
// A strict fake AWS STS for oktacred's integration tests. Node's standard library only.
//
//   node server.js [--port 0] [--idp-base http://127.0.0.1:N] [--issuer URL]...
//                  [--audience 0oa-test-native]... [--account 123456789012]
//                  [--config JSON | --config @file.json]
//
// Prints one JSON line to stdout when ready: {"port":P,"base":"http://127.0.0.1:P"},
// then logs to stderr only. Exits on SIGTERM/SIGINT. Loopback only. See README.md.
//
// Implements the Query API (POST / form-encoded, or the query string) actions
//   AssumeRoleWithWebIdentity  unsigned; the web identity token is verified against the
//                              issuer's JWKS like IAM does for an OIDC identity provider
//   GetCallerIdentity          SigV4-signed (Authorization header or presigned query)
// with AWS's XML answers and errors, plus JSON test controls under /__test/.

const http = require('node:http');
const https = require('node:https');
const crypto = require('node:crypto');

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const API_VERSION = '2011-06-15';
const MAX_BODY = 1024 * 1024;

// ---------------------------------------------------------------------------
// Command line

function usage(msg) {
  process.stderr.write(`server.js: ${msg}\n` +
    'usage: node server.js [--port N] [--idp-base URL] [--issuer URL]... ' +
    '[--audience ID]... [--account 12DIGITS] [--config JSON|@file]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const out = { port: 0, idpBase: null, issuers: [], audiences: [], account: null, config: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const take = () => {
      if (eq > 0 && a.startsWith('--')) return a.slice(eq + 1);
      if (i + 1 >= argv.length) usage(`${name} needs a value`);
      return argv[++i];
    };
    switch (name) {
      case '--port': out.port = Number(take()); break;
      case '--idp-base': out.idpBase = take().replace(/\/+$/, ''); break;
      case '--issuer': out.issuers.push(take().replace(/\/+$/, '')); break;
      case '--audience': out.audiences.push(take()); break;
      case '--account': out.account = take(); break;
      case '--config': {
        let v = take();
        if (v.startsWith('@')) v = require('node:fs').readFileSync(v.slice(1), 'utf8');
        try { out.config = JSON.parse(v); } catch (e) { usage(`--config: ${e.message}`); }
        break;
      }
      case '-h': case '--help': usage('help');
      // falls through (usage exits)
      default: usage(`unknown argument ${a}`);
    }
  }
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) usage('bad --port');
  return out;
}

// ---------------------------------------------------------------------------
// State

const DEFAULT_ACCOUNT = '123456789012';
const DEFAULT_SETTINGS = Object.freeze({
  credential_ttl_override_s: null, // Expiration this many seconds away, whatever DurationSeconds says
  clock_offset_s: 0,               // the fake's clock = real clock + this (tokens, SigV4, expiry)
  jwks_cache_s: 0,                 // 0: fetch discovery + JWKS for every AssumeRoleWithWebIdentity
  idp_timeout_ms: 5000,            // discovery/JWKS fetch timeout
  idp_error_code: 'InvalidIdentityToken', // or IDPCommunicationError: when the keys can't be fetched
  session_token_length: null,      // null: random 700..1100 chars
  response_delay_ms: 0,            // hold every (non-fault) API answer this long
  region: null,                    // when set, SigV4 scopes must name this region
  max_skew_s: 900,                 // SigV4 X-Amz-Date tolerance (AWS: 15 min)
  iat_leeway_s: 300,               // iat/nbf may be this far in the future
  shuffle_xml: false,              // emit result elements in random order (parser robustness)
});

let settings = { ...DEFAULT_SETTINGS };
const config = { account: DEFAULT_ACCOUNT, providers: [], roles: {} };
let log = [];
let faults = [];
const credentials = new Map(); // AccessKeyId -> record
const jwksCache = new Map();   // issuer -> {at, keys}
const hung = new Set();        // responses of hanging requests

function nowMs() { return Date.now() + settings.clock_offset_s * 1000; }

function defaultRoles(account) {
  return {
    [`arn:aws:iam::${account}:role/Dev`]: { max_duration: 43200, require_group: null },
    [`arn:aws:iam::${account}:role/Admin`]: { max_duration: 3600, require_group: 'AWS-Admins' },
  };
}

const ROLE_ARN_RE = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,64})$/;

function normalizeRoles(roles, account) {
  if (roles === null || typeof roles !== 'object' || Array.isArray(roles)) {
    throw new Error('roles must be an object {arn: {max_duration, require_group}}');
  }
  const out = {};
  for (const [key, spec0] of Object.entries(roles)) {
    const arn = key.startsWith('arn:') ? key : `arn:aws:iam::${account}:role/${key}`;
    if (!ROLE_ARN_RE.test(arn)) throw new Error(`not a role ARN: ${arn}`);
    const spec = spec0 || {};
    const max = spec.max_duration === undefined || spec.max_duration === null ? 3600 : spec.max_duration;
    if (!Number.isInteger(max) || max < 3600 || max > 43200) {
      throw new Error(`${arn}: max_duration must be an integer in 3600..43200 (AWS's MaxSessionDuration range)`);
    }
    const reject = spec.reject_code || 'IDPRejectedClaim';
    if (!['IDPRejectedClaim', 'AccessDenied'].includes(reject)) throw new Error(`${arn}: reject_code`);
    out[arn] = { max_duration: max, require_group: spec.require_group || null, reject_code: reject };
  }
  return out;
}

function normalizeProviders(list) {
  if (!Array.isArray(list)) throw new Error('providers must be a list');
  return list.map((p) => {
    if (!p || typeof p.issuer !== 'string' || !/^https?:\/\/[^/]/.test(p.issuer)) {
      throw new Error('each provider needs "issuer" (an http(s) URL)');
    }
    const aud = p.audiences || p.client_ids;
    if (!Array.isArray(aud) || aud.length === 0 || !aud.every((x) => typeof x === 'string' && x)) {
      throw new Error(`${p.issuer}: "audiences" must be a non-empty list of client ids`);
    }
    return { issuer: p.issuer.replace(/\/+$/, ''), audiences: [...aud] };
  });
}

function applyConfig(body) {
  // Validate everything first, then apply: a bad request changes nothing.
  const account = body.account !== undefined ? String(body.account) : config.account;
  if (!/^\d{12}$/.test(account)) throw new Error('account must be 12 digits');
  const providers = body.providers !== undefined ? normalizeProviders(body.providers) : null;
  const roles = body.roles !== undefined ? normalizeRoles(body.roles, account) : null;
  config.account = account;
  if (providers) config.providers = providers;
  if (roles) config.roles = roles;
  jwksCache.clear();
}

function applySettings(body) {
  const next = { ...settings };
  for (const [k, v] of Object.entries(body)) {
    if (!(k in DEFAULT_SETTINGS)) throw new Error(`unknown setting ${k}`);
    if (k === 'credential_ttl_override_s' || k === 'session_token_length') {
      if (v !== null && !(Number.isFinite(v) && v >= (k === 'session_token_length' ? 16 : 0))) {
        throw new Error(`${k}: a number or null`);
      }
    } else if (k === 'idp_error_code') {
      if (!['InvalidIdentityToken', 'IDPCommunicationError'].includes(v)) throw new Error(`${k}: InvalidIdentityToken or IDPCommunicationError`);
    } else if (k === 'region') {
      if (v !== null && typeof v !== 'string') throw new Error('region: a string or null');
    } else if (k === 'shuffle_xml') {
      if (typeof v !== 'boolean') throw new Error('shuffle_xml: true or false');
    } else if (!Number.isFinite(v)) {
      throw new Error(`${k}: a number`);
    }
    next[k] = v;
  }
  settings = next;
  if ('jwks_cache_s' in body) jwksCache.clear();
}

// ---------------------------------------------------------------------------
// Small helpers

function stderr(...args) {
  process.stderr.write(`[sts ${new Date().toISOString()}] ${args.join(' ')}\n`);
}

function xmlEscape(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }[c]));
}

// el('Name', 'text') or el('Name', [children]); rendered with AWS's 2-space indentation.
function el(name, content, attrs = '') { return { name, content, attrs }; }

function renderXml(node, depth = 0, shuffle = false) {
  const pad = '  '.repeat(depth);
  if (!Array.isArray(node.content)) {
    return `${pad}<${node.name}${node.attrs}>${xmlEscape(node.content)}</${node.name}>\n`;
  }
  let kids = node.content.filter(Boolean);
  if (shuffle && depth >= 1) {
    kids = kids.slice();
    for (let i = kids.length - 1; i > 0; i--) {
      const j = crypto.randomInt(i + 1);
      [kids[i], kids[j]] = [kids[j], kids[i]];
    }
  }
  return `${pad}<${node.name}${node.attrs}>\n${kids.map((k) => renderXml(k, depth + 1, shuffle)).join('')}${pad}</${node.name}>\n`;
}

function b64urlDecode(s) {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error('not base64url');
  return Buffer.from(s, 'base64url');
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function randomFrom(alphabet, n) {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[crypto.randomInt(alphabet.length)];
  return s;
}

function roleIdFor(arn) {
  const h = crypto.createHash('sha256').update(arn).digest();
  let s = 'AROA';
  for (let i = 0; i < 17; i++) s += B32[h[i] % 32];
  return s;
}

function isoSeconds(ms) { return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'); }

function amzDateOf(ms) { return isoSeconds(ms).replace(/[-:]/g, ''); } // 20260101T000000Z

function tokenHash(tok) { return crypto.createHash('sha256').update(tok).digest('hex').slice(0, 12); }

// ---------------------------------------------------------------------------
// AWS errors

const ERROR_STATUS = {
  InvalidIdentityToken: 400,
  ExpiredTokenException: 400,
  IDPCommunicationError: 400,
  IDPRejectedClaim: 403,
  AccessDenied: 403,
  RegionDisabledException: 403,
  ValidationError: 400,
  MalformedPolicyDocument: 400,
  PackedPolicyTooLarge: 400,
  InvalidClientTokenId: 403,
  ExpiredToken: 403,
  SignatureDoesNotMatch: 403,
  IncompleteSignature: 400,
  MissingAuthenticationToken: 403,
  InvalidAction: 400,
  MissingAction: 400,
  InvalidParameterValue: 400,
  InternalFailure: 500,
  ServiceUnavailable: 503,
  Throttling: 400,
};

const MSG = {
  notAuthorized: 'Not authorized to perform sts:AssumeRoleWithWebIdentity',
  notJwt: 'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)',
  badToken: 'The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.',
  noKey: "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
  idpComm: 'The request could not be fulfilled because the identity provider (IDP) that was asked to verify the incoming identity token could not be reached.',
  rejected: 'The identity provider (IdP) reported that authentication failed. This might be because the claim is invalid.',
  audience: 'Incorrect token audience',
  tokenInvalid: 'The security token included in the request is invalid.',
  tokenExpired: 'The security token included in the request is expired',
  sigMismatch: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  missingAuth: 'Request is missing Authentication Token',
  maxSession: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
};

class StsError extends Error {
  constructor(code, message, detail, status) {
    super(message);
    this.code = code;
    this.status = status || ERROR_STATUS[code] || 400;
    this.detail = detail || null; // why, for the log (never sent)
  }
}

function errorXml(code, message, requestId, type = 'Sender') {
  return renderXml(el('ErrorResponse', [
    el('Error', [el('Type', type), el('Code', code), el('Message', message)]),
    el('RequestId', requestId),
  ], ` xmlns="${NS}"`));
}

// "N validation error(s) detected: A; B"
function validationError(problems) {
  const n = problems.length;
  return new StsError('ValidationError',
    `${n} validation error${n > 1 ? 's' : ''} detected: ${problems.join('; ')}`);
}

// ---------------------------------------------------------------------------
// Fetching the issuer's keys (discovery -> jwks_uri)

function fetchJson(url, timeoutMs) {
  return new Promise((resolve, reject) => {
    let u;
    try { u = new URL(url); } catch (e) { reject(new Error(`bad URL ${url}`)); return; }
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
    if (!mod) { reject(new Error(`unsupported scheme in ${url}`)); return; }
    const req = mod.get(u, { headers: { Accept: 'application/json', 'User-Agent': 'fake-sts' }, agent: false }, (res) => {
      const chunks = [];
      let size = 0;
      res.on('data', (c) => {
        size += c.length;
        if (size > 1024 * 1024) { req.destroy(new Error(`${url}: answer too large`)); return; }
        chunks.push(c);
      });
      res.on('end', () => {
        if (res.statusCode !== 200) { reject(new Error(`${url}: HTTP ${res.statusCode}`)); return; }
        try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch (e) { reject(new Error(`${url}: not JSON`)); }
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${url}: timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

async function issuerKeys(issuer, forceRefresh) {
  const cached = jwksCache.get(issuer);
  if (!forceRefresh && cached && settings.jwks_cache_s > 0 && Date.now() - cached.at < settings.jwks_cache_s * 1000) {
    return cached.keys;
  }
  const disc = await fetchJson(`${issuer}/.well-known/openid-configuration`, settings.idp_timeout_ms);
  if (!disc || typeof disc.jwks_uri !== 'string') throw new Error('discovery document without jwks_uri');
  if (disc.issuer !== undefined && String(disc.issuer).replace(/\/+$/, '') !== issuer) {
    throw new Error(`discovery issuer ${disc.issuer} is not ${issuer}`);
  }
  const jwks = await fetchJson(disc.jwks_uri, settings.idp_timeout_ms);
  if (!jwks || !Array.isArray(jwks.keys)) throw new Error('JWKS without "keys"');
  jwksCache.set(issuer, { at: Date.now(), keys: jwks.keys });
  return jwks.keys;
}

// ---------------------------------------------------------------------------
// AssumeRoleWithWebIdentity

function validateAssumeParams(p) {
  const problems = [];
  const str = (v) => `'${String(v).replace(/'/g, "\\'")}'`;
  const arn = p.get('RoleArn');
  if (arn === null) problems.push("Value null at 'roleArn' failed to satisfy constraint: Member must not be null");
  else if (arn.length < 20) problems.push(`Value ${str(arn)} at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20`);
  else if (arn.length > 2048) problems.push(`Value ${str(arn)} at 'roleArn' failed to satisfy constraint: Member must have length less than or equal to 2048`);

  const sn = p.get('RoleSessionName');
  if (sn === null) problems.push("Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null");
  else {
    const c = [];
    if (!/^[\w+=,.@-]*$/.test(sn)) c.push('Member must satisfy regular expression pattern: [\\w+=,.@-]*');
    if (sn.length < 2) c.push('Member must have length greater than or equal to 2');
    if (sn.length > 64) c.push('Member must have length less than or equal to 64');
    if (c.length) problems.push(`Value ${str(sn)} at 'roleSessionName' failed to satisfy constraint: ${c.join(', ')}`);
  }

  // The token is sensitive: AWS does not echo it.
  const tok = p.get('WebIdentityToken');
  if (tok === null) problems.push("Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null");
  else if (tok.length < 4) problems.push("Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4");
  else if (tok.length > 20000) problems.push("Value at 'webIdentityToken' failed to satisfy constraint: Member must have length less than or equal to 20000");

  const ds = p.get('DurationSeconds');
  let duration = 3600;
  if (ds !== null) {
    if (!/^-?\d+$/.test(ds.trim())) {
      throw new StsError('ValidationError', `Value ${str(ds)} for parameter DurationSeconds is invalid. Must be an integer.`);
    }
    duration = Number(ds.trim());
    if (duration < 900) problems.push(`Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`);
    else if (duration > 43200) problems.push(`Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200`);
  }

  const pol = p.get('Policy');
  if (pol !== null) {
    if (pol.length < 1) problems.push(`Value '' at 'policy' failed to satisfy constraint: Member must have length greater than or equal to 1`);
    else if (pol.length > 2048) problems.push(`Value ${str(pol)} at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048`);
  }
  const prov = p.get('ProviderId');
  if (prov !== null && (prov.length < 4 || prov.length > 2048)) {
    problems.push(`Value ${str(prov)} at 'providerId' failed to satisfy constraint: Member must have length ${prov.length < 4 ? 'greater than or equal to 4' : 'less than or equal to 2048'}`);
  }
  if (problems.length) throw validationError(problems);

  if (pol !== null) {
    let doc;
    try { doc = JSON.parse(pol); } catch (e) { doc = null; }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc) || !('Statement' in doc)) {
      throw new StsError('MalformedPolicyDocument', 'The policy is not in the valid JSON format.');
    }
  }
  return { arn, sessionName: sn, token: tok, duration };
}

async function verifyWebIdentityToken(token, entry) {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((x) => x.length === 0)) {
    throw new StsError('InvalidIdentityToken', MSG.notJwt, parts.length === 5 ? 'JWE, not a JWS' : `${parts.length} parts`);
  }
  let header;
  let claims;
  let sig;
  try {
    header = JSON.parse(b64urlDecode(parts[0]).toString('utf8'));
    claims = JSON.parse(b64urlDecode(parts[1]).toString('utf8'));
    sig = b64urlDecode(parts[2]);
  } catch (e) {
    throw new StsError('InvalidIdentityToken', MSG.notJwt, `cannot decode: ${e.message}`);
  }
  if (!header || typeof header !== 'object' || !claims || typeof claims !== 'object' || Array.isArray(claims)) {
    throw new StsError('InvalidIdentityToken', MSG.notJwt, 'header or payload not a JSON object');
  }
  entry.kid = header.kid === undefined ? null : header.kid;
  entry.alg = header.alg === undefined ? null : header.alg;
  if (header.alg !== 'RS256') {
    throw new StsError('InvalidIdentityToken', MSG.badToken, `alg ${JSON.stringify(header.alg)} is not RS256`);
  }
  if (header.crit !== undefined) throw new StsError('InvalidIdentityToken', MSG.badToken, 'crit header');

  const iss = typeof claims.iss === 'string' ? claims.iss : null;
  entry.issuer = iss;
  entry.sub = typeof claims.sub === 'string' ? claims.sub : null;
  if (!iss) throw new StsError('InvalidIdentityToken', MSG.badToken, 'no iss claim');
  const provider = config.providers.find((pr) => pr.issuer === iss.replace(/\/+$/, ''));
  if (!provider) {
    throw new StsError('InvalidIdentityToken', `No OpenIDConnect provider found in your account for ${iss}`, 'issuer not registered');
  }

  const auds = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  const audience = auds.find((a) => provider.audiences.includes(a));
  entry.aud = claims.aud === undefined ? null : claims.aud;
  if (!audience) throw new StsError('InvalidIdentityToken', MSG.audience, `aud ${JSON.stringify(claims.aud)} not in ${JSON.stringify(provider.audiences)}`);

  // The verification key, from the issuer's JWKS.
  const idpFailure = (detail) => {
    const code = settings.idp_error_code;
    return new StsError(code, code === 'IDPCommunicationError' ? MSG.idpComm : MSG.noKey, detail);
  };
  let keys;
  try {
    keys = await issuerKeys(provider.issuer, false);
  } catch (e) {
    throw idpFailure(`fetching keys: ${e.message}`);
  }
  const pick = (ks) => ks.filter((k) => k && k.kty === 'RSA' && (header.kid === undefined || k.kid === header.kid) &&
    (k.use === undefined || k.use === 'sig') && (k.alg === undefined || k.alg === 'RS256'));
  let candidates = pick(keys);
  if (candidates.length === 0 && settings.jwks_cache_s > 0) {
    try { candidates = pick(await issuerKeys(provider.issuer, true)); } catch (e) { throw idpFailure(`fetching keys: ${e.message}`); }
  }
  if (candidates.length === 0) {
    throw new StsError('InvalidIdentityToken', MSG.noKey, `no RS256 key with kid ${JSON.stringify(header.kid)} in the JWKS`);
  }
  const input = Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii');
  let verified = false;
  for (const jwk of candidates) {
    let key;
    try {
      key = crypto.createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
    } catch (e) {
      continue;
    }
    if (crypto.verify('sha256', input, { key, padding: crypto.constants.RSA_PKCS1_PADDING }, sig)) {
      verified = true;
      break;
    }
  }
  if (!verified) throw new StsError('InvalidIdentityToken', MSG.badToken, 'signature does not verify');

  // Times (seconds since the epoch, as the fake's clock sees them).
  const now = Math.floor(nowMs() / 1000);
  const num = (v) => typeof v === 'number' && Number.isFinite(v);
  if (!num(claims.exp)) throw new StsError('InvalidIdentityToken', MSG.badToken, 'no numeric exp claim');
  if (claims.exp <= now) {
    throw new StsError('ExpiredTokenException',
      `Token expired: current date/time ${now} must be before the expiration date/time ${claims.exp}`, 'exp in the past');
  }
  if (claims.iat !== undefined && (!num(claims.iat) || claims.iat > now + settings.iat_leeway_s)) {
    throw new StsError('InvalidIdentityToken', MSG.badToken, `iat ${claims.iat} is in the future`);
  }
  if (claims.nbf !== undefined && (!num(claims.nbf) || claims.nbf > now + settings.iat_leeway_s)) {
    throw new StsError('InvalidIdentityToken', MSG.badToken, `nbf ${claims.nbf} is in the future`);
  }
  if (!entry.sub) throw new StsError('InvalidIdentityToken', MSG.badToken, 'no sub claim');
  return { claims, provider, audience };
}

function newSessionToken() {
  const len = settings.session_token_length !== null
    ? Math.floor(settings.session_token_length) : 700 + crypto.randomInt(401);
  // Real ones start with base64 of "\x21\x0a\x09origin_ec": "IQoJb3JpZ2luX2Vj".
  const prefix = 'IQoJb3JpZ2luX2Vj';
  let body = crypto.randomBytes(Math.ceil(len * 3 / 4) + 3).toString('base64').replace(/=+$/, '');
  body = (prefix + body).slice(0, len);
  return body;
}

async function assumeRoleWithWebIdentity(params, entry, requestId) {
  const p = validateAssumeParams(params);
  entry.role_arn = p.arn;
  entry.session_name = p.sessionName;
  entry.duration = p.duration;
  entry.token_hash = tokenHash(p.token);
  entry.token_length = p.token.length;

  const m = ROLE_ARN_RE.exec(p.arn);
  if (!m) {
    // A syntactically wrong RoleArn: AWS answers this before looking at the token.
    throw new StsError('ValidationError', 'Request ARN is invalid', 'RoleArn is not arn:aws:iam::<12 digits>:role/<name>');
  }
  const [, partition, account, rolePath, roleName] = m;

  const { claims, provider, audience } = await verifyWebIdentityToken(p.token, entry);

  const role = config.roles[p.arn];
  if (!role) throw new StsError('AccessDenied', MSG.notAuthorized, 'role not configured');
  if (role.require_group) {
    const groups = Array.isArray(claims.groups) ? claims.groups : typeof claims.groups === 'string' ? [claims.groups] : [];
    if (!groups.includes(role.require_group)) {
      throw new StsError(role.reject_code, role.reject_code === 'AccessDenied' ? MSG.notAuthorized : MSG.rejected,
        `groups claim ${JSON.stringify(claims.groups)} lacks ${role.require_group}`);
    }
  }
  if (p.duration > role.max_duration) {
    throw new StsError('ValidationError', MSG.maxSession, `${p.duration} > MaxSessionDuration ${role.max_duration}`);
  }

  const issuedMs = Math.floor(nowMs() / 1000) * 1000;
  const ttl = settings.credential_ttl_override_s !== null ? settings.credential_ttl_override_s : p.duration;
  const expiresMs = issuedMs + Math.round(ttl * 1000);
  const roleId = roleIdFor(p.arn);
  const assumedArn = `arn:${partition}:sts::${account}:assumed-role/${roleName}/${p.sessionName}`;
  void rolePath; // the assumed-role ARN carries no role path, like AWS's
  const cred = {
    access_key_id: 'ASIA' + randomFrom(B32, 16),
    secret_access_key: randomFrom('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 40),
    session_token: newSessionToken(),
    expires_ms: expiresMs,
    expiration: isoSeconds(expiresMs),
    arn: assumedArn,
    user_id: `${roleId}:${p.sessionName}`,
    account,
    role_arn: p.arn,
    session_name: p.sessionName,
    subject: claims.sub,
    issued: isoSeconds(issuedMs),
  };
  credentials.set(cred.access_key_id, cred);
  entry.access_key_id = cred.access_key_id;
  entry.expiration = cred.expiration;

  const providerArn = `arn:${partition}:iam::${account}:oidc-provider/${provider.issuer.replace(/^https?:\/\//, '')}`;
  const shuffle = settings.shuffle_xml;
  return renderXml(el('AssumeRoleWithWebIdentityResponse', [
    el('AssumeRoleWithWebIdentityResult', [
      el('SubjectFromWebIdentityToken', claims.sub),
      el('Audience', audience),
      el('AssumedRoleUser', [el('Arn', assumedArn), el('AssumedRoleId', cred.user_id)]),
      el('Credentials', [
        el('SessionToken', cred.session_token),
        el('SecretAccessKey', cred.secret_access_key),
        el('Expiration', cred.expiration),
        el('AccessKeyId', cred.access_key_id),
      ]),
      el('Provider', providerArn),
    ]),
    el('ResponseMetadata', [el('RequestId', requestId)]),
  ], ` xmlns="${NS}"`), 0, shuffle);
}

// ---------------------------------------------------------------------------
// SigV4 (GetCallerIdentity)

const UNRESERVED = /[A-Za-z0-9\-._~]/;
function uriEncode(str, keepSlash) {
  let out = '';
  for (const byte of Buffer.from(str, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && (UNRESERVED.test(ch) || (keepSlash && ch === '/'))) out += ch;
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function safeDecode(s) {
  try { return decodeURIComponent(s); } catch (e) { return s; }
}

function removeDotSegments(path) {
  const out = [];
  for (const seg of path.split('/')) {
    if (seg === '..') { if (out.length > 1) out.pop(); } else if (seg !== '.') out.push(seg);
  }
  let res = out.join('/');
  if (!res.startsWith('/')) res = '/' + res;
  if ((path.endsWith('/.') || path.endsWith('/..')) && !res.endsWith('/')) res += '/';
  return res;
}

// Canonical URI for non-S3 services: the (already encoded) path, normalized, encoded again.
function canonicalUri(rawPath) { return uriEncode(removeDotSegments(rawPath || '/'), true); }

function canonicalQuery(rawQuery, exclude) {
  if (!rawQuery) return '';
  const pairs = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const i = part.indexOf('=');
    const k = safeDecode(i < 0 ? part : part.slice(0, i));
    const v = safeDecode(i < 0 ? '' : part.slice(i + 1));
    if (exclude && k === exclude) continue;
    pairs.push([uriEncode(k, false), uriEncode(v, false)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function headerValues(req, name) {
  const vals = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() === name) vals.push(req.rawHeaders[i + 1]);
  }
  return vals;
}

function hmac(key, data) { return crypto.createHmac('sha256', key).update(data, 'utf8').digest(); }
function sha256hex(data) { return crypto.createHash('sha256').update(data).digest('hex'); }

function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  if (!m) return null;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return Number.isNaN(ms) ? null : ms;
}

// Returns the credential record of a correctly signed request, or throws StsError.
function verifySigV4(req, rawPath, rawQuery, query, body, entry) {
  const auth = headerValues(req, 'authorization');
  const presigned = query.get('X-Amz-Algorithm') !== null || query.get('X-Amz-Signature') !== null;
  let algorithm;
  let credential;
  let signedHeaders;
  let signature;
  let amzDate;
  let securityToken;
  if (auth.length > 0) {
    entry.auth = 'header';
    const a = auth[0].trim();
    const sp = a.indexOf(' ');
    algorithm = sp < 0 ? a : a.slice(0, sp);
    if (algorithm !== 'AWS4-HMAC-SHA256') {
      throw new StsError('IncompleteSignature', `Unsupported AWS 'algorithm': '${algorithm}'`);
    }
    const fields = {};
    for (const kv of a.slice(sp + 1).split(',')) {
      const t = kv.trim();
      const eq = t.indexOf('=');
      if (eq > 0) fields[t.slice(0, eq)] = t.slice(eq + 1);
    }
    const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((f) => !fields[f]);
    if (missing.length) {
      throw new StsError('IncompleteSignature',
        missing.map((f) => `Authorization header requires '${f}' parameter.`).join(' ') +
        ` Authorization=${a.replace(/Signature=[0-9a-f]+/, 'Signature=...')}`);
    }
    credential = fields.Credential;
    signedHeaders = fields.SignedHeaders;
    signature = fields.Signature;
    const xd = headerValues(req, 'x-amz-date');
    amzDate = xd.length ? xd[0].trim() : null;
    if (!amzDate) {
      throw new StsError('IncompleteSignature',
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.", 'no X-Amz-Date (Date alone is not supported by this fake)');
    }
    const st = headerValues(req, 'x-amz-security-token');
    securityToken = st.length ? st[0] : null;
  } else if (presigned) {
    entry.auth = 'query';
    algorithm = query.get('X-Amz-Algorithm');
    if (algorithm !== 'AWS4-HMAC-SHA256') {
      throw new StsError('IncompleteSignature', `Unsupported AWS 'algorithm': '${algorithm}'`);
    }
    credential = query.get('X-Amz-Credential');
    signedHeaders = query.get('X-Amz-SignedHeaders');
    signature = query.get('X-Amz-Signature');
    amzDate = query.get('X-Amz-Date');
    securityToken = query.get('X-Amz-Security-Token');
    const missing = ['X-Amz-Credential', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Date']
      .filter((f) => !query.get(f));
    if (missing.length) {
      throw new StsError('IncompleteSignature', missing.map((f) => `AWS query-string parameters must include '${f}'.`).join(' '));
    }
  } else {
    entry.auth = 'none';
    throw new StsError('MissingAuthenticationToken', MSG.missingAuth);
  }

  const scopeParts = credential.split('/');
  if (scopeParts.length !== 5) {
    throw new StsError('IncompleteSignature', `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`);
  }
  const [akid, scopeDate, region, service, terminator] = scopeParts;
  entry.access_key_id = akid;
  entry.region = region;

  const cred = credentials.get(akid);
  if (!cred) throw new StsError('InvalidClientTokenId', MSG.tokenInvalid, 'unknown access key id');
  if (securityToken === null || securityToken !== cred.session_token) {
    throw new StsError('InvalidClientTokenId', MSG.tokenInvalid,
      securityToken === null ? 'no X-Amz-Security-Token' : 'X-Amz-Security-Token is not this key\'s session token');
  }

  const reqMs = parseAmzDate(amzDate);
  if (reqMs === null) {
    throw new StsError('IncompleteSignature', `Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  }
  if (terminator !== 'aws4_request') {
    throw new StsError('SignatureDoesNotMatch', `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`);
  }
  if (service !== 'sts') {
    throw new StsError('SignatureDoesNotMatch', `Credential should be scoped to correct service: 'sts'. `);
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region) || (settings.region && region !== settings.region)) {
    throw new StsError('SignatureDoesNotMatch', 'Credential should be scoped to a valid region. ', `region ${region}`);
  }
  if (scopeDate !== amzDate.slice(0, 8)) {
    throw new StsError('SignatureDoesNotMatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`);
  }
  const now = nowMs();
  const skew = settings.max_skew_s * 1000;
  if (entry.auth === 'header') {
    if (reqMs < now - skew) {
      throw new StsError('SignatureDoesNotMatch',
        `Signature expired: ${amzDate} is now earlier than ${amzDateOf(now - skew)} (${amzDateOf(now)} - ${settings.max_skew_s / 60} min.)`);
    }
    if (reqMs > now + skew) {
      throw new StsError('SignatureDoesNotMatch',
        `Signature not yet current: ${amzDate} is still later than ${amzDateOf(now + skew)} (${amzDateOf(now)} + ${settings.max_skew_s / 60} min.)`);
    }
  } else {
    const expires = Number(query.get('X-Amz-Expires') || '900');
    if (!Number.isInteger(expires) || expires < 1 || expires > 604800) {
      throw new StsError('AuthorizationQueryParametersError', 'X-Amz-Expires must be between 1 and 604800 seconds', null, 400);
    }
    if (reqMs > now + skew) {
      throw new StsError('SignatureDoesNotMatch', `Signature not yet current: ${amzDate} is still later than ${amzDateOf(now + skew)} (${amzDateOf(now)} + ${settings.max_skew_s / 60} min.)`);
    }
    if (now > reqMs + expires * 1000) {
      throw new StsError('AccessDenied', `Request has expired`, 'presigned URL expired');
    }
  }

  const names = signedHeaders.split(';');
  if (!names.includes('host')) {
    throw new StsError('SignatureDoesNotMatch', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (entry.auth === 'header' && !names.includes('x-amz-date')) {
    throw new StsError('SignatureDoesNotMatch', "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.", 'x-amz-date not signed');
  }
  if (cred.expires_ms <= now) {
    throw new StsError('ExpiredToken', MSG.tokenExpired, `expired at ${cred.expiration}`);
  }

  const canonHeaders = names.map((n) => {
    const vals = headerValues(req, n).map((v) => v.trim().replace(/\s+/g, ' '));
    return `${n}:${vals.join(',')}\n`;
  }).join('');
  const sha = headerValues(req, 'x-amz-content-sha256');
  let payloadHashes;
  if (sha.length) {
    payloadHashes = [sha[0].trim()];
    if (payloadHashes[0] !== 'UNSIGNED-PAYLOAD' && payloadHashes[0] !== sha256hex(body)) {
      throw new StsError('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", null, 400);
    }
  } else if (entry.auth === 'query') {
    // Presigned URLs: botocore signs "UNSIGNED-PAYLOAD", other SDKs the empty body's hash.
    payloadHashes = ['UNSIGNED-PAYLOAD', sha256hex(body)];
  } else {
    payloadHashes = [sha256hex(body)];
  }
  let key = hmac('AWS4' + cred.secret_access_key, scopeDate);
  key = hmac(key, region);
  key = hmac(key, service);
  key = hmac(key, 'aws4_request');
  const scope = `${scopeDate}/${region}/${service}/${terminator}`;
  const given = /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
  let canonicalRequest;
  let stringToSign;
  for (const payloadHash of payloadHashes) {
    canonicalRequest = [
      req.method,
      canonicalUri(rawPath),
      canonicalQuery(rawQuery, entry.auth === 'query' ? 'X-Amz-Signature' : null),
      canonHeaders,
      signedHeaders,
      payloadHash,
    ].join('\n');
    stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonicalRequest)].join('\n');
    const expected = crypto.createHmac('sha256', key).update(stringToSign, 'utf8').digest();
    if (given.length === expected.length && crypto.timingSafeEqual(given, expected)) return cred;
  }
  stderr(`SignatureDoesNotMatch for ${akid}: canonical request:\n${canonicalRequest}\n--- string to sign:\n${stringToSign}`);
  throw new StsError('SignatureDoesNotMatch', MSG.sigMismatch, 'signature mismatch');
}

function getCallerIdentity(cred, requestId) {
  return renderXml(el('GetCallerIdentityResponse', [
    el('GetCallerIdentityResult', [
      el('Arn', cred.arn),
      el('UserId', cred.user_id),
      el('Account', cred.account),
    ]),
    el('ResponseMetadata', [el('RequestId', requestId)]),
  ], ` xmlns="${NS}"`), 0, settings.shuffle_xml);
}

// ---------------------------------------------------------------------------
// HTTP

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) { reject(Object.assign(new Error('body too large'), { tooLarge: true })); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sendJson(res, status, obj) {
  const body = JSON.stringify(obj, null, 1);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

function sendXml(res, status, xml, requestId) {
  res.writeHead(status, {
    'x-amzn-RequestId': requestId,
    'Content-Type': 'text/xml',
    'Content-Length': Buffer.byteLength(xml),
    Date: new Date().toUTCString(),
  });
  res.end(xml);
}

function takeFault(action) {
  const i = faults.findIndex((f) => f.count > 0 && (f.action === '*' || f.action === action));
  if (i < 0) return null;
  const f = faults[i];
  f.count -= 1;
  f.used += 1;
  return f;
}

function normalizeFault(b) {
  const action = b.action === undefined || b.action === null ? '*' : String(b.action);
  const count = b.count === undefined ? 1 : Number(b.count);
  if (!Number.isInteger(count) || count < 0) throw new Error('count: an integer >= 0');
  const f = {
    action,
    count,
    used: 0,
    status: b.status === undefined ? null : Number(b.status),
    code: b.code || null,
    message: b.message === undefined ? null : String(b.message),
    type: b.type || (b.status >= 500 ? 'Receiver' : 'Sender'),
    body: b.body === undefined ? null : String(b.body),
    content_type: b.content_type || null,
    headers: b.headers || {},
    hang: !!b.hang,
    drop: !!b.drop,
    delay_ms: Number(b.delay_ms || 0),
  };
  if (f.status !== null && !(Number.isInteger(f.status) && f.status >= 100 && f.status <= 599)) throw new Error('status: an HTTP status');
  if (!f.hang && !f.drop && f.body === null && f.code === null && f.status === null) {
    throw new Error('a fault needs "code", "body", "status", "hang" or "drop"');
  }
  return f;
}

async function handleControl(req, res, path) {
  let body = {};
  if (req.method === 'POST') {
    const raw = await readBody(req);
    if (raw.length) {
      try { body = JSON.parse(raw.toString('utf8')); } catch (e) { sendJson(res, 400, { error: `bad JSON: ${e.message}` }); return; }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) { sendJson(res, 400, { error: 'a JSON object, please' }); return; }
    }
  }
  const route = `${req.method} ${path}`;
  try {
    switch (route) {
      case 'GET /__test/log': sendJson(res, 200, log); return;
      case 'POST /__test/reset':
        log = [];
        faults = [];
        settings = { ...DEFAULT_SETTINGS };
        jwksCache.clear();
        if (body.credentials) credentials.clear();
        sendJson(res, 200, { ok: true });
        return;
      case 'GET /__test/config': sendJson(res, 200, config); return;
      case 'POST /__test/config': applyConfig(body); sendJson(res, 200, config); return;
      case 'GET /__test/settings': sendJson(res, 200, settings); return;
      case 'POST /__test/settings': applySettings(body); sendJson(res, 200, settings); return;
      case 'GET /__test/faults': sendJson(res, 200, faults); return;
      case 'POST /__test/fault': {
        const f = normalizeFault(body);
        faults = faults.filter((x) => x.action !== f.action); // one fault per action; count 0 clears it
        if (f.count > 0) faults.push(f);
        sendJson(res, 200, faults);
        return;
      }
      case 'GET /__test/credentials':
        sendJson(res, 200, [...credentials.values()].map((c) => ({ ...c, expired: c.expires_ms <= nowMs() })));
        return;
      case 'POST /__test/expire': {
        const past = nowMs() - 1000;
        let n = 0;
        for (const c of credentials.values()) {
          if (body.all || c.access_key_id === body.access_key_id) {
            c.expires_ms = Math.min(c.expires_ms, past);
            n++;
          }
        }
        if (!body.all && n === 0) { sendJson(res, 404, { error: `no such access key id: ${body.access_key_id}` }); return; }
        sendJson(res, 200, { expired: n });
        return;
      }
      default:
        sendJson(res, 404, { error: `no control ${route}` });
    }
  } catch (e) {
    sendJson(res, 400, { error: e.message });
  }
}

async function handleApi(req, res, rawPath, rawQuery) {
  const requestId = crypto.randomUUID();
  const entry = {
    t: Date.now() / 1000,
    request_id: requestId,
    method: req.method,
    path: rawPath,
    action: null,
    status: null,
    error: null,
    message: null,
    detail: null,
    role_arn: null,
    session_name: null,
    duration: null,
    token_hash: null,
    access_key_id: null,
    content_type: req.headers['content-type'] || null,
    user_agent: req.headers['user-agent'] || null,
    query_form: false,
    fault: false,
    hang: false,
    aborted: false,
  };
  log.push(entry);
  let finished = false;
  res.on('finish', () => { finished = true; });
  res.on('close', () => { if (!finished) entry.aborted = true; });

  let body;
  try {
    body = await readBody(req);
  } catch (e) {
    entry.status = e.tooLarge ? 413 : 400;
    if (!res.headersSent && !res.destroyed) { res.writeHead(entry.status); res.end(); }
    return;
  }

  const query = new URLSearchParams(rawQuery || '');
  const ctype = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  const form = req.method === 'POST' && ctype === 'application/x-www-form-urlencoded'
    ? new URLSearchParams(body.toString('utf8')) : new URLSearchParams();
  // Parameters: the body's, then any only in the query string.
  const params = new URLSearchParams(form);
  for (const [k, v] of query) if (!form.has(k)) params.append(k, v);
  entry.query_form = query.has('Action');
  const action = params.get('Action');
  entry.action = action;

  const fault = takeFault(action || '');
  if (fault) {
    entry.fault = true;
    if (fault.hang) {
      entry.hang = true;
      hung.add(res);
      res.on('close', () => hung.delete(res));
      return;
    }
    if (fault.delay_ms) await sleep(fault.delay_ms);
    if (fault.drop) {
      entry.status = null;
      entry.detail = 'connection dropped';
      req.socket.destroy();
      return;
    }
    const status = fault.status || (fault.code ? ERROR_STATUS[fault.code] || 400 : 500);
    entry.status = status;
    entry.error = fault.code;
    if (res.destroyed) return;
    if (fault.body !== null) {
      const headers = { 'Content-Type': fault.content_type || 'text/plain', 'Content-Length': Buffer.byteLength(fault.body), ...fault.headers };
      res.writeHead(status, headers);
      res.end(fault.body);
    } else if (fault.code) {
      const msg = fault.message !== null ? fault.message : `injected ${fault.code}`;
      entry.message = msg;
      const xml = errorXml(fault.code, msg, requestId, fault.type);
      res.writeHead(status, { 'x-amzn-RequestId': requestId, 'Content-Type': fault.content_type || 'text/xml', 'Content-Length': Buffer.byteLength(xml), ...fault.headers });
      res.end(xml);
    } else {
      res.writeHead(status, { 'Content-Length': 0, ...fault.headers });
      res.end();
    }
    return;
  }

  let status = 200;
  let xml;
  try {
    if (req.method !== 'POST' && req.method !== 'GET') {
      throw new StsError('InvalidAction', `Unsupported HTTP method ${req.method}`, null, 405);
    }
    if (rawPath !== '/') throw new StsError('InvalidAction', `Unknown path ${rawPath}: the STS Query API is served at /`, null, 404);
    if (!action) throw new StsError('MissingAction', 'Missing Action');
    const version = params.get('Version');
    if (version !== API_VERSION || !['AssumeRoleWithWebIdentity', 'GetCallerIdentity'].includes(action)) {
      throw new StsError('InvalidAction', `Could not find operation ${action} for version ${version === null ? 'NO_VERSION_SPECIFIED' : version}`);
    }
    if (action === 'AssumeRoleWithWebIdentity') {
      xml = await assumeRoleWithWebIdentity(params, entry, requestId);
    } else {
      const cred = verifySigV4(req, rawPath, rawQuery, query, body, entry);
      entry.role_arn = cred.role_arn;
      entry.session_name = cred.session_name;
      entry.arn = cred.arn;
      xml = getCallerIdentity(cred, requestId);
    }
  } catch (e) {
    if (!(e instanceof StsError)) {
      stderr(`internal error: ${e.stack}`);
      e = new StsError('InternalFailure', 'An internal error occurred.', e.message, 500);
    }
    status = e.status;
    entry.error = e.code;
    entry.message = e.message;
    entry.detail = e.detail;
    xml = errorXml(e.code, e.message, requestId, status >= 500 ? 'Receiver' : 'Sender');
  }
  entry.status = status;
  if (settings.response_delay_ms > 0) await sleep(settings.response_delay_ms);
  if (res.destroyed) return;
  sendXml(res, status, xml, requestId);
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  try {
    const c = args.config || {};
    const account = args.account || c.account || DEFAULT_ACCOUNT;
    let providers = c.providers || [];
    const audiences = args.audiences.length ? args.audiences : ['0oa-test-native'];
    const issuers = args.issuers.length ? args.issuers
      : args.idpBase ? [`${args.idpBase}/oauth2/default`, args.idpBase] : [];
    providers = providers.concat(issuers.map((issuer) => ({ issuer, audiences })));
    applyConfig({ account, providers, roles: c.roles || defaultRoles(account) });
    if (c.settings) applySettings(c.settings);
  } catch (e) {
    usage(e.message);
  }

  const server = http.createServer((req, res) => {
    const url = req.url || '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const done = (p) => p.catch((e) => {
      stderr(`error: ${e.stack || e}`);
      if (!res.headersSent && !res.destroyed) { res.writeHead(500); res.end(); }
    });
    const started = Date.now();
    res.on('finish', () => stderr(`${req.method} ${rawPath} -> ${res.statusCode} (${Date.now() - started} ms)`));
    if (rawPath.startsWith('/__test/')) done(handleControl(req, res, rawPath));
    else done(handleApi(req, res, rawPath, rawQuery));
  });
  server.keepAliveTimeout = 5000;
  const sockets = new Set();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });

  const shutdown = (sig) => {
    stderr(`${sig}: exiting`);
    server.close();
    for (const s of sockets) s.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  server.listen(args.port, '127.0.0.1', () => {
    const { port } = server.address();
    process.stdout.write(JSON.stringify({ port, base: `http://127.0.0.1:${port}` }) + '\n');
    stderr(`listening on 127.0.0.1:${port}; providers: ${config.providers.map((p) => p.issuer).join(', ') || '(none)'}`);
  });
}

main();
