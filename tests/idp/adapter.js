// In-memory storage adapter for oidc-provider, one store per Provider instance.
//
// Unlike oidc-provider's bundled memory adapter it never evicts because of size
// and keeps expired entries for a while (RETAIN_S): the models check expiry
// themselves, so an expired device code still answers `expired_token` instead
// of `invalid_grant`, however late the client polls.
//
// Refresh-token grace period (Okta's "grace period for token rotation"):
// consume() remembers when a token was first consumed (consumedAtMs, kept out
// of the payload and never moved by a later consume). adapterFactory's
// hooks.refreshGrace(id, consumedAtMs) is asked when a consumed RefreshToken is
// looked up; when it answers true, find() hands oidc-provider a copy without
// `consumed`, so the refresh grant treats the rotated-out token as valid once
// more (it issues a new token set) instead of revoking the grant. Every model
// goes through this adapter, ReplayDetection (client assertion jti) included.

const RETAIN_S = 24 * 60 * 60;

const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'ClientCredentials',
]);

export function createStore() {
  return {
    entries: new Map(), // key -> { payload, until }
    grants: new Map(), // grantId -> Set(keys)
    byUid: new Map(), // session uid -> id
    byUserCode: new Map(), // user code -> id
  };
}

function alive(entry) {
  return entry && (entry.until === undefined || entry.until > Date.now());
}

export function adapterFactory(store, hooks = {}) {
  class TestAdapter {
    constructor(model) {
      this.model = model;
    }

    key(id) {
      return `${this.model}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      const until = typeof expiresIn === 'number'
        ? Date.now() + (expiresIn + RETAIN_S) * 1000 : undefined;
      const prev = store.entries.get(key);
      const entry = { payload, until };
      if (payload.consumed && prev?.consumedAtMs !== undefined) entry.consumedAtMs = prev.consumedAtMs;
      store.entries.set(key, entry);
      if (GRANTABLE.has(this.model) && payload.grantId) {
        if (!store.grants.has(payload.grantId)) store.grants.set(payload.grantId, new Set());
        store.grants.get(payload.grantId).add(key);
      }
      if (this.model === 'Session' && payload.uid) store.byUid.set(payload.uid, id);
      if (payload.userCode) store.byUserCode.set(payload.userCode, id);
    }

    async find(id) {
      const entry = store.entries.get(this.key(id));
      if (!alive(entry)) return undefined;
      if (this.model === 'RefreshToken' && entry.payload.consumed && hooks.refreshGrace
          && hooks.refreshGrace(id, entry.consumedAtMs ?? entry.payload.consumed * 1000)) {
        const { consumed, ...rest } = entry.payload;
        return rest;
      }
      return entry.payload;
    }

    async findByUid(uid) {
      const id = store.byUid.get(uid);
      return id === undefined ? undefined : this.find(id);
    }

    async findByUserCode(userCode) {
      const id = store.byUserCode.get(userCode);
      return id === undefined ? undefined : this.find(id);
    }

    async consume(id) {
      const entry = store.entries.get(this.key(id));
      if (!entry) return;
      // The first consumption starts the grace period; a grace reuse consumes again
      // without moving it.
      if (entry.consumedAtMs === undefined) entry.consumedAtMs = Date.now();
      entry.payload.consumed = Math.floor(entry.consumedAtMs / 1000);
    }

    async destroy(id) {
      store.entries.delete(this.key(id));
    }

    async revokeByGrantId(grantId) {
      const keys = store.grants.get(grantId);
      if (!keys) return;
      for (const key of keys) store.entries.delete(key);
      store.grants.delete(grantId);
    }
  }

  return (model) => new TestAdapter(model);
}
