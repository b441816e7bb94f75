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

Test controls: GET /__test/log (every request: method, path, status, token_sha (12 hex
digits of the sha256 of the bearer token), headers), POST /__test/reset, POST
/__test/release.
"""
import argparse
import base64
import hashlib
import json
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

state = {"log": [], "barriers": {}, "release": threading.Event()}
lock = threading.Lock()


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
                            if k.lower() != "authorization"}})

    def authorize(self, scope):
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
    args = ap.parse_args()
    Handler.idp = args.idp_base.rstrip("/")
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    port = srv.server_address[1]
    print(json.dumps({"port": port, "base": "http://127.0.0.1:%d" % port}), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
