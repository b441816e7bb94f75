"""Start and drive the local test identity provider (tests/idp/server.js).

Standard library only; importable by pytest tests and scripts:

    from harness import IdP
    with IdP.start() as idp:              # npm ci when needed, node server.js --port 0
        idp.settings(interval=1)
        idp.base, idp.port, idp.pid
        idp.issuer("default")             # http://127.0.0.1:N/oauth2/default
        idp.endpoint("org", "token")      # http://127.0.0.1:N/oauth2/v1/token
        idp.log(); idp.reset(); idp.fault(path=..., status=503, count=2)

    # service accounts (private_key_jwt, client_credentials)
    generate_key("/tmp/k.pem", "EC")       # or "RSA"; openssl genpkey
    jwk = jwk_from_pem("/tmp/k.pem")       # public JWK with kid (RFC 7638 thumbprint)
    idp.add_service_client("0oa-robot", jwk, server="org")
    status, body, headers = idp.client_credentials("0oa-robot", pem_path="/tmp/k.pem")
"""

import base64
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["IdP", "IdPError", "ensure_node_modules", "decode_jwt", "jwk_from_pem",
           "generate_key", "sign_jwt", "client_assertion", "JWT_BEARER"]

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(HERE))
from nodeserver import OPENER as _OPENER, NodeServer  # noqa: E402  (tests/nodeserver.py)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
NATIVE_CLIENT = "0oa-test-native"
SECRET_CLIENT = "0oa-test-secret"
SECRET = "test-secret-value"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Scopes a service client gets by default on each authorization server.
SERVICE_SCOPES = {"org": "okta.users.read okta.groups.read", "default": "api.read"}

_ENDPOINTS = {
    "device": "/v1/device/authorize",
    "token": "/v1/token",
    "keys": "/v1/keys",
    "revoke": "/v1/revoke",
    "userinfo": "/v1/userinfo",
    "introspect": "/v1/introspect",
}

class IdPError(RuntimeError):
    pass


def _resolve_dir(idp_dir):
    if idp_dir is None:
        return HERE
    path = os.path.abspath(idp_dir)
    if not os.path.exists(os.path.join(path, "server.js")) and os.path.exists(
            os.path.join(HERE, "server.js")) and not os.path.isabs(idp_dir):
        # "tests/idp" given while the current directory is not the repository root
        return HERE
    return path


def ensure_node_modules(idp_dir=None, npm="npm", module="oidc-provider"):
    """Run `npm ci` when node_modules is missing or older than package-lock.json, or lacks
    module (another test client's directory names its own package)."""
    idp_dir = _resolve_dir(idp_dir) if module == "oidc-provider" else os.path.abspath(idp_dir)
    lock = os.path.join(idp_dir, "package-lock.json")
    stamp = os.path.join(idp_dir, "node_modules", ".package-lock.json")

    def fresh():
        try:
            return (os.path.getmtime(stamp) >= os.path.getmtime(lock)
                    and os.path.isdir(os.path.join(idp_dir, "node_modules", module)))
        except OSError:
            return False

    if fresh():
        return
    # Serialise concurrent starts (parallel test workers) on one lock file.
    key = hashlib.sha256(idp_dir.encode()).hexdigest()[:16]
    lockpath = os.path.join(tempfile.gettempdir(), f"oktacred-idp-npm-{key}.lock")
    with open(lockpath, "w") as lf:
        fcntl.flock(lf, fcntl.LOCK_EX)
        if fresh():
            return
        if shutil.which(npm) is None:
            raise IdPError(f"{npm} not found: install Node.js and npm")
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=idp_dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            raise IdPError(f"npm ci in {idp_dir} failed (exit {proc.returncode}):\n{proc.stdout}")
        if os.path.exists(stamp) and not fresh():
            os.utime(stamp)  # a package-lock.json dated in the future


class IdP(NodeServer):
    """A running tests/idp/server.js. Use IdP.start(); stop() or a with-block ends it."""

    error = IdPError
    what = "the IdP"

    # -- life cycle -------------------------------------------------------

    @classmethod
    def start(cls, idp_dir=None, port=0, node="node", npm="npm", timeout=30.0, stderr=None,
              install=True, keep_log=False):
        """Start the server; returns an IdP once it printed its ready line.

        idp_dir: the directory holding server.js (default: this file's directory;
        "tests/idp" works from the repository root). stderr: None writes the
        server's log (one line per request) to a temporary file, read it with
        .stderr_text() before stop(), which deletes it unless keep_log=True
        (.stderr_path); or pass a file object / subprocess.DEVNULL.
        """
        idp_dir = _resolve_dir(idp_dir)
        if install:
            ensure_node_modules(idp_dir, npm=npm)
        proc, port, base, stderr_path = cls.launch(
            [node, os.path.join(idp_dir, "server.js"), "--port", str(port)], idp_dir, timeout,
            stderr, keep_log, "oktacred-idp-")
        return cls(proc, port, base, stderr_path, keep_log)

    # -- URLs ---------------------------------------------------------------

    def issuer(self, server="default"):
        """server: "default" (custom authorization server) or "org"."""
        return self.base + ("/oauth2/default" if server == "default" else "")

    def endpoint(self, server, name):
        """endpoint("default", "token") -> http://127.0.0.1:N/oauth2/default/v1/token."""
        prefix = "/oauth2/default" if server == "default" else "/oauth2"
        return self.base + prefix + _ENDPOINTS[name]

    # -- controls -------------------------------------------------------------

    def log(self):
        """Every request to a token, device/authorize or revoke endpoint (list of dicts)."""
        return self._control("GET", "log")

    def reset(self):
        """Clear the log, faults and poll state; settings back to defaults."""
        return self._control("POST", "reset", {})

    def settings(self, **kw):
        """interval, device_expires_in, access_token_ttl, id_token_ttl, refresh_token_ttl,
        force_slow_down, token_delay_ms, token_delay_before_ms, slow_down_tolerance_ms,
        refresh_grace_s, rate_limit ({"limit": N, "window_s": S} or None), jwks_max_age,
        id_token_fault (None, "foreign_key", "unknown_kid", "wrong_aud", "wrong_iss",
        "wrong_azp", "expired", "future_iat", "alg_none", "alg_hs256").
        Returns all settings (see README.md)."""
        if not kw:
            return self._control("GET", "settings")
        return self._control("POST", "settings", kw)

    def fault(self, path, status=503, count=1, body=None, headers=None, delay_ms=0, hang=False,
              rate_headers=False, after=False):
        """The next `count` requests to `path` get this answer (count=0 clears).
        rate_headers: add the X-Rate-Limit-* headers every real answer has (headers
        given here win). after: the request is processed first (a client assertion's
        jti consumed, tokens issued), then its answer is replaced by this one."""
        spec = {"path": path, "status": status, "count": count, "headers": headers or {},
                "delay_ms": delay_ms, "hang": hang, "rate_headers": rate_headers,
                "after": after}
        if body is not None:
            spec["body"] = body
        return self._control("POST", "fault", spec)

    def keys_log(self):
        """Every GET of a keys (JWKS) endpoint: [{"t", "server", "path", "status"}]."""
        return self._control("GET", "keys_log")

    def rotate_key(self, server="default", alg="RS256"):
        """A new signing key ("RS256" or "ES256") for server, published in its JWKS next to
        the original; it signs the ID tokens from now on (until reset()). Returns its kid."""
        return self._control("POST", "rotate_key", {"server": server, "alg": alg})["kid"]

    def user_claims(self, user, **claims):
        """Tokens issued to user ("alice", "bob") from now on carry these claims instead of
        the user's own (email="...", groups=[...], sub=..., name=...); none: the user's own
        again. reset() clears them too. Returns the claims the user now has."""
        return self._control("POST", "user", {"user": user, "claims": claims})["claims"]

    def add_client(self, server="both", **metadata):
        """Register a client at run time (oidc-provider client metadata), e.g.
        add_client(client_id="0oa-robot", token_endpoint_auth_method="private_key_jwt",
        grant_types=["client_credentials"], response_types=[], redirect_uris=[],
        jwks={"keys": [public_jwk]})."""
        return self._control("POST", "client", {"server": server, **metadata})

    def add_browser_client(self, port, client_id=None, server="both"):
        """Register a public native client for the authorization code flow with PKCE whose
        sign-in redirect URIs are http://localhost:PORT/callback and
        http://127.0.0.1:PORT/callback (compared exactly, as Okta does), with the device
        grant and refresh tokens too. Returns its client id (default 0oa-test-web-PORT)."""
        client_id = client_id or "0oa-test-web-%d" % port
        self.add_client(
            server=server, client_id=client_id, client_name="oktacred test (browser)",
            application_type="native", token_endpoint_auth_method="none",
            grant_types=["urn:ietf:params:oauth:grant-type:device_code",
                         "authorization_code", "refresh_token"],
            response_types=["code"],
            redirect_uris=["http://localhost:%d/callback" % port,
                           "http://127.0.0.1:%d/callback" % port])
        return client_id

    def add_service_client(self, client_id, public_jwk, server="org", scope=None, **metadata):
        """Register a service account: private_key_jwt, client_credentials, the one
        public key public_jwk (a dict: kty/n/e or kty/crv/x/y, kid; see jwk_from_pem).
        server: "org", "default" or "both". scope: the scopes it may ask for (default
        okta.users.read okta.groups.read on org, api.read on default). More keys of
        metadata go to the client as they are. Returns the server's answers."""
        jwk = dict(public_jwk)
        private = {"d", "p", "q", "dp", "dq", "qi", "k"} & set(jwk)
        if private:
            raise ValueError(f"public_jwk has private key members: {sorted(private)}")
        if jwk.get("kty") not in ("RSA", "EC"):
            raise ValueError("public_jwk: kty must be RSA or EC")
        servers = ["default", "org"] if server == "both" else [server]
        out = []
        for name in servers:
            meta = {
                "client_id": client_id,
                "client_name": f"{client_id} (service)",
                "token_endpoint_auth_method": "private_key_jwt",
                "grant_types": ["client_credentials"],
                "response_types": [],
                "redirect_uris": [],
                "scope": scope if scope is not None else SERVICE_SCOPES[name],
                "jwks": {"keys": [jwk]},
                **metadata,
            }
            out.append(self.add_client(server=name, **meta))
        return out[0] if len(out) == 1 else out

    def client_credentials(self, client_id, assertion=None, pem_path=None, server="org",
                           scope=None, kid=None, **claims):
        """One client_credentials request with private_key_jwt. Give the assertion, or
        pem_path (the private key) to make one for this server's token endpoint (claims
        override iss/sub/aud/exp/jti/...). scope: default SERVICE_SCOPES[server].
        Returns (status, body, headers)."""
        url = self.endpoint(server, "token")
        if assertion is None:
            if pem_path is None:
                raise ValueError("give assertion or pem_path")
            aud = claims.pop("aud", url)
            assertion = client_assertion(pem_path, client_id, aud, kid=kid, **claims)
        data = {"grant_type": "client_credentials",
                "scope": SERVICE_SCOPES[server] if scope is None else scope,
                "client_assertion_type": JWT_BEARER, "client_assertion": assertion}
        if not data["scope"]:
            del data["scope"]
        return self.post_form(url, data)

    # -- small OAuth helpers (for tests and demos) -----------------------------

    def post_form(self, url, data, auth=None):
        """POST a form; returns (status, parsed JSON or raw text, headers)."""
        body = urllib.parse.urlencode(data).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Accept": "application/json"}
        if auth:
            import base64
            cred = ":".join(urllib.parse.quote(x, safe="") for x in auth)
            headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
        req = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with _OPENER.open(req, timeout=30) as resp:
                status, raw, hdrs = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as err:
            status, raw, hdrs = err.code, err.read(), err.headers
        try:
            return status, json.loads(raw), hdrs
        except ValueError:
            return status, raw.decode(errors="replace"), hdrs

    def device_authorize(self, server="default", client_id=NATIVE_CLIENT,
                         scope="openid profile email groups offline_access"):
        status, body, _ = self.post_form(self.endpoint(server, "device"),
                                         {"client_id": client_id, "scope": scope})
        if status != 200:
            raise IdPError(f"device/authorize: HTTP {status}: {body}")
        return body

    def poll(self, device_code, server="default", client_id=NATIVE_CLIENT):
        """One device-code token request; returns (status, body)."""
        status, body, _ = self.post_form(self.endpoint(server, "token"), {
            "client_id": client_id, "grant_type": DEVICE_GRANT, "device_code": device_code})
        return status, body

    def refresh(self, refresh_token, server="default", client_id=NATIVE_CLIENT,
                scope="openid profile email groups offline_access"):
        data = {"client_id": client_id, "grant_type": "refresh_token",
                "refresh_token": refresh_token}
        if scope:
            data["scope"] = scope
        status, body, _ = self.post_form(self.endpoint(server, "token"), data)
        return status, body

    def revoke(self, token, server="default", client_id=NATIVE_CLIENT,
               token_type_hint="refresh_token"):
        status, body, _ = self.post_form(self.endpoint(server, "revoke"), {
            "client_id": client_id, "token": token, "token_type_hint": token_type_hint})
        return status, body


# -- keys and JWTs with the openssl CLI (the standard library has no RSA/EC) ------

_CURVES = {  # OID (DER body) -> (JWK crv, JWS alg, coordinate size)
    bytes.fromhex("2a8648ce3d030107"): ("P-256", "ES256", 32),
    bytes.fromhex("2b81040022"): ("P-384", "ES384", 48),
    bytes.fromhex("2b81040023"): ("P-521", "ES512", 66),
}
_OID_RSA = bytes.fromhex("2a864886f70d010101")
_OID_EC = bytes.fromhex("2a8648ce3d0201")
_HASH_OF = {"256": "-sha256", "384": "-sha384", "512": "-sha512"}


def _b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _der(data, i):
    """(tag, start, end) of the DER element at data[i]."""
    tag, n = data[i], data[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[i:i + k], "big")
        i += k
    if i + n > len(data):
        raise ValueError("truncated DER")
    return tag, i, i + n


def _der_children(data, start, end):
    out = []
    while start < end:
        tag, s, e = _der(data, start)
        out.append((tag, s, e))
        start = e
    return out


def _openssl(args, stdin=None):
    proc = subprocess.run(["openssl", *args], input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise IdPError(f"openssl {' '.join(args)}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def generate_key(pem_path, kty="RSA", bits=2048, curve="P-256"):
    """A new private key (PKCS#8 PEM, mode 0600) with openssl genpkey: kty "RSA" or "EC"."""
    if kty == "RSA":
        args = ["-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}"]
    elif kty == "EC":
        args = ["-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{curve}"]
    else:
        raise ValueError("kty must be RSA or EC")
    _openssl(["genpkey", *args, "-out", pem_path])
    os.chmod(pem_path, 0o600)
    return pem_path


def jwk_from_pem(pem_path, kid=None, alg=None):
    """The public JWK of a PEM key (private PKCS#8/traditional or public SPKI), RSA or
    EC P-256/P-384/P-521, with "kid" (default: its RFC 7638 thumbprint), "alg"
    (RS256 / ES256 / ES384 / ES512 unless given) and "use": "sig"."""
    with open(pem_path, "rb") as f:
        pem = f.read()
    pubin = b"PUBLIC KEY-----" in pem and b"PRIVATE KEY-----" not in pem
    der = _openssl(["pkey", "-in", pem_path, *(["-pubin"] if pubin else []),
                    "-pubout", "-outform", "DER"])
    _, s, e = _der(der, 0)  # SubjectPublicKeyInfo
    (_, as_, ae), (btag, bs, be) = _der_children(der, s, e)
    algid = _der_children(der, as_, ae)
    oid = der[algid[0][1]:algid[0][2]]
    if btag != 0x03 or der[bs] != 0:
        raise IdPError(f"{pem_path}: unexpected public key encoding")
    key = der[bs + 1:be]
    if oid == _OID_RSA:
        _, ks, ke = _der(key, 0)
        (_, ns, ne), (_, es, ee) = _der_children(key, ks, ke)[:2]
        n = key[ns:ne].lstrip(b"\0")
        exp = key[es:ee].lstrip(b"\0")
        jwk = {"kty": "RSA", "e": _b64u(exp), "n": _b64u(n)}
        thumb = {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}
        default_alg = "RS256"
    elif oid == _OID_EC:
        curve = der[algid[1][1]:algid[1][2]]
        if curve not in _CURVES:
            raise IdPError(f"{pem_path}: unsupported EC curve")
        crv, default_alg, size = _CURVES[curve]
        if len(key) != 1 + 2 * size or key[0] != 4:
            raise IdPError(f"{pem_path}: expected an uncompressed EC point")
        jwk = {"kty": "EC", "crv": crv, "x": _b64u(key[1:1 + size]), "y": _b64u(key[1 + size:])}
        thumb = {"crv": crv, "kty": "EC", "x": jwk["x"], "y": jwk["y"]}
    else:
        raise IdPError(f"{pem_path}: only RSA and EC keys are supported")
    if kid is None:
        canon = json.dumps(thumb, separators=(",", ":"), sort_keys=True).encode()
        kid = _b64u(hashlib.sha256(canon).digest())
    jwk.update(kid=kid, alg=alg or default_alg, use="sig")
    return jwk


def sign_jwt(pem_path, payload, header=None):
    """A compact JWS of payload signed with the private key in pem_path (openssl dgst).
    header: default {"alg": the key's alg, "kid": its thumbprint, "typ": "JWT"}."""
    jwk = jwk_from_pem(pem_path)
    hdr = {"alg": jwk["alg"], "kid": jwk["kid"], "typ": "JWT"}
    hdr.update(header or {})
    alg = hdr["alg"]
    signing_input = (_b64u(json.dumps(hdr, separators=(",", ":")).encode()) + "." +
                     _b64u(json.dumps(payload, separators=(",", ":")).encode())).encode()
    if alg[:2] not in ("RS", "ES") or alg[2:] not in _HASH_OF:
        raise ValueError(f"unsupported alg {alg}")
    sig = _openssl(["dgst", _HASH_OF[alg[2:]], "-sign", pem_path], stdin=signing_input)
    if alg.startswith("ES"):
        # DER ECDSA-Sig-Value -> r || s, each the curve's coordinate size (RFC 7518 3.4)
        size = {"256": 32, "384": 48, "512": 66}[alg[2:]]
        _, s0, e0 = _der(sig, 0)
        (_, rs, re_), (_, ss, se) = _der_children(sig, s0, e0)
        sig = (sig[rs:re_].lstrip(b"\0").rjust(size, b"\0") +
               sig[ss:se].lstrip(b"\0").rjust(size, b"\0"))
    return signing_input.decode() + "." + _b64u(sig)


def client_assertion(pem_path, client_id, aud, kid=None, lifetime=300, **claims):
    """An RFC 7523 client assertion as Okta wants it: iss = sub = client_id, aud = the
    token endpoint URL, iat, exp = iat + lifetime, a random jti; claims override or
    add (e.g. jti="fixed" to test replay, aud=[...]); kid: the header's (default the
    key's thumbprint)."""
    now = int(time.time())
    payload = {"iss": client_id, "sub": client_id, "aud": aud, "iat": now,
               "exp": now + lifetime, "jti": _b64u(os.urandom(16))}
    payload.update(claims)
    return sign_jwt(pem_path, payload, {"kid": kid} if kid else None)


def decode_jwt(token):
    """The payload of a JWT, unverified (for tests)."""
    import base64
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
