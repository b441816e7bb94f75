"""A strict stand-in for Okta's management API, for the `exec --server` proxy's tests.

    python3 server.py --idp-base http://127.0.0.1:N [--port 0]
    prints {"port": P, "base": "http://127.0.0.1:P"} when it listens (tests/nodeserver.py)

Every /api/ request needs `Authorization: Bearer ACCESS_TOKEN`, an access token of the local
IdP's org authorization server (tests/idp): opaque there, so each is checked with the IdP's
introspection endpoint (client 0oa-test-secret): active, iss the IdP's base, token_type
Bearer, client_id 0oa-test-native, not expired, and the scope the endpoint needs. Anything
else is 401 with Okta's E0000011 body. Endpoints:

    GET  /api/v1/users/me            the token's user (okta.users.read)
    GET  /api/v1/groups?limit=&after=  five groups, paginated with Link rel="self"/"next"
                                     (absolute URLs at this server's base; okta.groups.read)
    POST /api/v1/groups              application/json only: echoes {"profile": ...} back
    GET  /api/v1/headers             the request's headers (Authorization left out)
    GET  /api/v1/barrier?n=N         answers once N such requests are in at once (20 s)
    GET  /api/v1/stream              one chunk, then the rest once /__test/release is posted
    GET  /api/v1/redirect            302 to /api/v1/users/me at this server's base

With --dpop it takes only DPoP-bound tokens (RFC 9449): `Authorization: DPoP TOKEN` and one
`DPoP` proof header: typ dpop+jwt, alg ES256, a public P-256 jwk whose signature verifies,
htm the request's method, htu this server's base and path (no query), iat within 60 s, a
jti never seen before (a replayed proof is refused), ath the base64url SHA-256 of the token,
the jwk's RFC 7638 thumbprint equal to the token's cnf.jkt (introspection, which must say
token_type DPoP), and, when nonces are required (POST /__test/dpop {"require_nonce": true}),
the nonce last handed out: without it 401 with `WWW-Authenticate: DPoP
error="use_dpop_nonce"` and a `DPoP-Nonce` header. A refused proof is 401 with
`WWW-Authenticate: DPoP error="invalid_dpop_proof"`; the log entry's dpop_error says why.

Test controls: GET /__test/log (every request: method, path, status, token_sha (12 hex
digits of the sha256 of the bearer token), headers, and with --dpop dpop_jti and
dpop_error), POST /__test/reset, POST /__test/release, POST /__test/dpop.
"""
import argparse
import base64
import hashlib
import json
import os
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
INTROSPECT_CLIENT = ("0oa-test-secret", "test-secret-value")
LOGIN_CLIENT = "0oa-test-native"
GROUPS = [{"id": "00g%d" % i, "profile": {"name": "Group %d" % i}} for i in range(1, 6)]

state = {"log": [], "barriers": {}, "release": threading.Event(), "jtis": set(),
         "require_nonce": False, "nonce": None}
lock = threading.Lock()


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class DPoPError(Exception):
    def __init__(self, why, nonce=False):
        super().__init__(why)
        self.nonce = nonce


def check_proof(proof, method, htu, token, jkt):
    """Checks a DPoP proof for this request and token; returns its jti or raises DPoPError."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    try:
        h64, c64, s64 = proof.split(".")
        header, claims, sig = json.loads(unb64u(h64)), json.loads(unb64u(c64)), unb64u(s64)
    except Exception:
        raise DPoPError("malformed proof")
    jwk = header.get("jwk") or {}
    if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256":
        raise DPoPError("typ or alg")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk:
        raise DPoPError("jwk")
    try:
        x = int.from_bytes(unb64u(jwk["x"]), "big")
        y = int.from_bytes(unb64u(jwk["y"]), "big")
        key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        if len(sig) != 64:
            raise DPoPError("signature is not r||s")
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        key.verify(der, ("%s.%s" % (h64, c64)).encode(), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, KeyError):
        raise DPoPError("signature")
    if claims.get("htm") != method:
        raise DPoPError("htm")
    if claims.get("htu") != htu:
        raise DPoPError("htu %r, not %r" % (claims.get("htu"), htu))
    if not isinstance(claims.get("iat"), (int, float)) or abs(claims["iat"] - time.time()) > 60:
        raise DPoPError("iat")
    if claims.get("ath") != b64u(hashlib.sha256(token.encode()).digest()):
        raise DPoPError("ath")
    thumb = json.dumps({"crv": jwk["crv"], "kty": "EC", "x": jwk["x"], "y": jwk["y"]},
                       separators=(",", ":"), sort_keys=True)
    if b64u(hashlib.sha256(thumb.encode()).digest()) != jkt:
        raise DPoPError("jwk thumbprint is not the token's cnf.jkt")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise DPoPError("jti")
    with lock:
        if state["require_nonce"] and (state["nonce"] is None
                                       or claims.get("nonce") != state["nonce"]):
            raise DPoPError("nonce", nonce=True)
        if jti in state["jtis"]:
            raise DPoPError("replayed jti")
        state["jtis"].add(jti)
    return jti


def introspect(idp, token):
    form = urllib.parse.urlencode({"token": token, "token_type_hint": "access_token"}).encode()
    basic = base64.b64encode(("%s:%s" % INTROSPECT_CLIENT).encode()).decode()
    req = urllib.request.Request(idp + "/oauth2/v1/introspect", data=form, method="POST",
                                 headers={"Authorization": "Basic " + basic,
                                          "Content-Type": "application/x-www-form-urlencoded"})
    with OPENER.open(req, timeout=10) as resp:
        return json.loads(resp.read())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    idp = None
    token = None
    dpop = False
    dpop_jti = None
    dpop_error = None

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.command, self.path))

    @property
    def base(self):
        return "http://%s:%d" % self.server.server_address[:2]

    def answer(self, status, body=None, headers=(), raw=None):
        # Logged before it is sent: whoever has the answer finds it in the log.
        if self.path.startswith("/api/"):
            self.record(status, self.token)
        data = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def record(self, status, token):
        with lock:
            state["log"].append({
                "method": self.command, "path": self.path, "status": status,
                "token_sha": hashlib.sha256(token.encode()).hexdigest()[:12] if token else None,
                "headers": {k: v for k, v in self.headers.items()
                            if k.lower() != "authorization"},
                "dpop_jti": self.dpop_jti, "dpop_error": self.dpop_error})

    def authorize(self, scope):
        if self.dpop:
            return self.authorize_dpop(scope)
        auth = self.headers.get_all("Authorization") or []
        token = auth[0][7:] if len(auth) == 1 and auth[0].startswith("Bearer ") else None
        info = {}
        if token:
            try:
                info = introspect(self.idp, token)
            except Exception as err:  # the IdP is the test's: a failure is a test failure
                sys.stderr.write("introspection failed: %s\n" % err)
                info = {}
        ok = (info.get("active") is True and info.get("iss") == self.idp
              and info.get("token_type", "Bearer") == "Bearer"
              and info.get("client_id") == LOGIN_CLIENT
              and isinstance(info.get("exp"), int) and info["exp"] > time.time()
              and scope in (info.get("scope") or "").split())
        self.token = token
        if not ok:
            self.answer(401, {"errorCode": "E0000011", "errorSummary": "Invalid token provided",
                              "errorLink": "E0000011", "errorId": "oae-test",
                              "errorCauses": []},
                        headers=[("WWW-Authenticate", 'Bearer realm="IdP"')])
            return None
        return token, info

    def authorize_dpop(self, scope):
        auth = self.headers.get_all("Authorization") or []
        proofs = self.headers.get_all("DPoP") or []
        token = auth[0][5:] if len(auth) == 1 and auth[0].startswith("DPoP ") else None
        self.token = token
        self.dpop_jti = self.dpop_error = None
        info = {}
        if token:
            try:
                info = introspect(self.idp, token)
            except Exception as err:
                sys.stderr.write("introspection failed: %s\n" % err)
        ok = (info.get("active") is True and info.get("iss") == self.idp
              and info.get("token_type") == "DPoP"
              and info.get("client_id") == LOGIN_CLIENT
              and isinstance(info.get("exp"), int) and info["exp"] > time.time()
              and scope in (info.get("scope") or "").split())
        if not ok:
            self.dpop_error = "token"
        elif len(proofs) != 1:
            self.dpop_error = "not one DPoP header"
        else:
            try:
                htu = self.base + urllib.parse.urlsplit(self.path).path
                self.dpop_jti = check_proof(proofs[0], self.command, htu, token,
                                            (info.get("cnf") or {}).get("jkt"))
            except DPoPError as err:
                self.dpop_error = str(err)
                if err.nonce:
                    with lock:
                        state["nonce"] = b64u(os.urandom(16))
                        nonce = state["nonce"]
                    self.answer(401, {"errorCode": "E0000011", "errorSummary": "use_dpop_nonce"},
                                headers=[("WWW-Authenticate",
                                          'DPoP error="use_dpop_nonce", algs="ES256"'),
                                         ("DPoP-Nonce", nonce)])
                    return None
        if self.dpop_error:
            self.answer(401, {"errorCode": "E0000011", "errorSummary": "Invalid token provided"},
                        headers=[("WWW-Authenticate",
                                  'DPoP error="invalid_dpop_proof", algs="ES256"')])
            return None
        return token, info

    def control(self):
        route = urllib.parse.urlsplit(self.path).path[len("/__test/"):]
        if route == "log":
            with lock:
                return self.answer(200, state["log"])
        if self.command == "POST" and route == "reset":
            with lock:
                state["log"] = []
                state["barriers"] = {}
                state["release"] = threading.Event()
                state["require_nonce"] = False
                state["nonce"] = None
            return self.answer(200, {"ok": True})
        if self.command == "POST" and route == "dpop":
            settings = json.loads(self.body() or b"{}")
            with lock:
                state["require_nonce"] = bool(settings.get("require_nonce"))
                state["nonce"] = None
            return self.answer(200, {"ok": True})
        if self.command == "POST" and route == "release":
            state["release"].set()
            return self.answer(200, {"ok": True})
        return self.answer(404, {"error": "no such control"})

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path.startswith("/__test/"):
            return self.control()
        data = self.body()
        if not url.path.startswith("/api/"):
            return self.answer(404, {"errorCode": "E0000022", "errorSummary": "not found"})
        scope = "okta.groups.read" if "/groups" in url.path else "okta.users.read"
        auth = self.authorize(scope)
        if not auth:
            return
        token, info = auth
        if url.path == "/api/v1/users/me" and self.command in ("GET", "HEAD"):
            body = {"id": info.get("sub"), "status": "ACTIVE",
                    "profile": {"login": "%s@example.com" % info.get("sub")}}
            self.answer(200, body)
        elif url.path == "/api/v1/groups" and self.command == "GET":
            limit = int(q.get("limit", "2"))
            start = 0
            if "after" in q:
                start = [g["id"] for g in GROUPS].index(q["after"]) + 1
            page = GROUPS[start:start + limit]
            links = ['<%s/api/v1/groups?limit=%d>; rel="self"' % (self.base, limit)]
            if start + limit < len(GROUPS):
                links.append('<%s/api/v1/groups?after=%s&limit=%d>; rel="next"'
                             % (self.base, page[-1]["id"], limit))
            self.answer(200, page, headers=[("Link", ", ".join(links))])
        elif url.path == "/api/v1/groups" and self.command == "POST":
            if self.headers.get("Content-Type") != "application/json":
                self.answer(415, {"errorCode": "E0000001", "errorSummary": "not JSON"})
            else:
                sent = json.loads(data)
                self.answer(200, {"id": "00gNEW", "profile": sent.get("profile"), "echo": sent})
        elif url.path == "/api/v1/headers":
            self.answer(200, {k: v for k, v in self.headers.items()
                              if k.lower() != "authorization"})
        elif url.path == "/api/v1/barrier":
            n = int(q.get("n", "10"))
            with lock:
                barrier = state["barriers"].setdefault(n, threading.Barrier(n, timeout=20))
            try:
                barrier.wait()
                self.answer(200, {"together": n})
            except threading.BrokenBarrierError:
                self.answer(504, {"errorSummary": "not %d at once" % n})
        elif url.path == "/api/v1/stream":
            self.record(200, token)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            first = b"first part\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(first), first))
            self.wfile.flush()
            released = state["release"].wait(30)
            rest = b"the rest\n" if released else b"never released\n"
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(rest), rest))
        elif url.path == "/api/v1/redirect":
            self.answer(302, {}, headers=[("Location", self.base + "/api/v1/users/me")])
        else:
            self.answer(404, {"errorCode": "E0000007", "errorSummary": "Not found"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = route


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--idp-base", required=True)
    ap.add_argument("--dpop", action="store_true")
    args = ap.parse_args()
    Handler.idp = args.idp_base.rstrip("/")
    Handler.dpop = args.dpop
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    port = srv.server_address[1]
    print(json.dumps({"port": port, "base": "http://127.0.0.1:%d" % port}), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
