// In-memory storage adapter for oidc-provider, one store per Provider instance.
//
// Unlike oidc-provider's bundled memory adapter it never evicts because of size
// and keeps expired entries for a while (RETAIN_S): the models check expiry
// themselves, so an expired device code still answers `expired_token` instead
// of `invalid_grant`, however late the client polls.

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

export function adapterFactory(store) {
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
      store.entries.set(key, { payload, until });
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
      if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
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
