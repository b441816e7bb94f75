#!/usr/bin/python3
"""A strict stand-in Kubernetes API server: TLS on 127.0.0.1, bearer tokens authenticated
the way kube-apiserver's OIDC authenticator does (--oidc-issuer-url, --oidc-client-id,
--oidc-username-claim=email, --oidc-groups-claim=groups), and the one API that
`kubectl auth whoami` calls: POST /apis/authentication.k8s.io/v1/selfsubjectreviews.

    python3 tests/kube/server.py --cert leaf.pem --key leaf.key --issuer URL --client-id ID
        [--port 0] [--clock-offset SECONDS] [--jwks-url URL]
    # prints {"port": P, "base": "https://127.0.0.1:P"} when ready; logs to stderr;
    # exits on SIGTERM

The token check, in kube-apiserver's order (k8s.io/apiserver/plugin/pkg/authenticator/
token/oidc, go-oidc's verifier): a compact JWS whose header's alg is RS256 (the default
--oidc-signing-algs) and whose signature verifies with a key of the issuer's JWKS (found
through ISSUER/.well-known/openid-configuration, fetched again once when the kid is
unknown); iss equal to the issuer; aud (string or list) holding the client id; exp in the
future (the server's clock plus --clock-offset); the username claim (email) a string, with
email_verified, when present, true; groups a string or a list of strings. Authenticated
users also get the group system:authenticated, as kube-apiserver adds. A request without a
valid token is answered 401 with a Status object before any routing, as kube-apiserver
does. The review's body may be JSON or Kubernetes' protobuf (what kubectl sends: the
envelope is decoded and its type checked); the answer is JSON, which kubectl's Accept
allows. GET /version answers too (Google Cloud's kubectl package is a dispatcher that
asks it first, to pick a kubectl of the server's version).
Needs the `cryptography` module for RSA.

Test controls (no authentication): GET /__test/log (every request: method, path, whether
it was authenticated, the user or why not), POST /__test/reset (clears the log).
"""
import argparse
import datetime
import http.server
import json
import os
import signal
import socketserver
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from oidc_keys import Keys, b64u  # noqa: E402

REVIEW_PATH = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
PROTOBUF = "application/vnd.kubernetes.protobuf"
# GET /version: Google Cloud's kubectl package is a dispatcher that asks it to pick a kubectl.
VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4", "gitCommit": "stand-in",
           "gitTreeState": "clean", "buildDate": "2025-04-22T00:00:00Z",
           "goVersion": "go1.23.8", "compiler": "gc", "platform": "linux/amd64"}


class Unauthorized(Exception):
    pass


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class Authenticator:
    def __init__(self, issuer, client_id, jwks_url=None, clock_offset=0):
        self.issuer = issuer
        self.client_id = client_id
        self.jwks_url = jwks_url
        self.clock_offset = clock_offset
        self.keys = Keys(issuer, jwks_url)

    def authenticate(self, token):
        parts = token.split(".")
        if len(parts) != 3:
            raise Unauthorized("not a compact JWS")
        try:
            header = json.loads(b64u(parts[0]))
            claims = json.loads(b64u(parts[1]))
            b64u(parts[2])  # the signature must decode too
        except ValueError:
            raise Unauthorized("malformed JWT") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise Unauthorized("malformed JWT")
        if header.get("alg") != "RS256":
            raise Unauthorized("unsupported signing algorithm %r" % header.get("alg"))
        if not self.keys.verify_rs256(parts, header.get("kid")):
            raise Unauthorized("failed to verify signature")
        if claims.get("iss") != self.issuer:
            raise Unauthorized("id token issued by a different provider")
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if self.client_id not in auds:
            raise Unauthorized("expected audience %r got %r" % (self.client_id, aud))
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            raise Unauthorized("missing exp")
        if time.time() + self.clock_offset > exp:
            raise Unauthorized("token is expired")
        email = claims.get("email")
        if not isinstance(email, str):
            raise Unauthorized("claim not present: email")
        if "email_verified" in claims and claims["email_verified"] is not True:
            raise Unauthorized("email not verified")
        groups = claims.get("groups", [])
        if isinstance(groups, str):
            groups = [groups]
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise Unauthorized("groups claim is not a string or a list of strings")
        return {"username": email, "groups": groups + ["system:authenticated"]}


def pb_fields(data):
    """The fields of a protobuf message: [(number, wire type, value)]; length-delimited
    values as bytes, varints as int. ValueError when it is not one."""
    out, i = [], 0

    def varint():
        nonlocal i
        shift = n = 0
        while True:
            if i >= len(data) or shift > 63:
                raise ValueError("truncated varint")
            b = data[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return n

    while i < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            out.append((number, wire, varint()))
        elif wire == 2:
            n = varint()
            if i + n > len(data):
                raise ValueError("truncated field")
            out.append((number, wire, data[i:i + n]))
            i += n
        else:
            raise ValueError("unexpected wire type %d" % wire)
    return out


def decode_review(ctype, body):
    """(apiVersion, kind) of a SelfSubjectReview request body: JSON, or Kubernetes'
    protobuf envelope (the magic "k8s\\0", a runtime.Unknown whose typeMeta names the type
    and whose raw is the object's protobuf). ValueError when it is neither."""
    if ctype == "application/json":
        obj = json.loads(body)
        if not isinstance(obj, dict):
            raise ValueError("not an object")
        return obj.get("apiVersion"), obj.get("kind")
    if not body.startswith(b"k8s\0"):
        raise ValueError("no protobuf envelope")
    api_version = kind = None
    raw = None
    for number, wire, value in pb_fields(body[4:]):
        if number == 1 and wire == 2:
            for n2, w2, v2 in pb_fields(value):
                if n2 == 1 and w2 == 2:
                    api_version = v2.decode()
                elif n2 == 2 and w2 == 2:
                    kind = v2.decode()
        elif number == 2 and wire == 2:
            raw = value
        elif number in (3, 4) and wire == 2 and value:
            raise ValueError("unexpected content encoding or type in the envelope")
    if raw is None:
        raise ValueError("no object in the envelope")
    for number, wire, value in pb_fields(raw):  # metadata (1), spec (2), status (3)
        if wire != 2 or number not in (1, 2, 3):
            raise ValueError("not a SelfSubjectReview")
        pb_fields(value)
    return api_version, kind


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stand-in-kube-apiserver"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s\n" % (fmt % args))

    def _send(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 3 * 1024 * 1024:
            raise ValueError("request body too large")
        return self.rfile.read(n) if n else b""

    def _record(self, entry):
        with self.server.log_lock:
            self.server.log.append(entry)

    def _control(self):
        self._body()
        if self.command == "GET" and self.path == "/__test/log":
            with self.server.log_lock:
                return self._send(200, list(self.server.log))
        if self.command == "POST" and self.path == "/__test/reset":
            with self.server.log_lock:
                self.server.log.clear()
            return self._send(200, {})
        return self._send(404, {"error": "no such control"})

    def _handle(self):
        if self.path.startswith("/__test/"):
            return self._control()
        try:
            body = self._body()
        except ValueError as e:
            return self._send(413, status(413, "RequestEntityTooLarge", str(e)))
        entry = {"method": self.command, "path": self.path}
        auth = self.headers.get("Authorization", "")
        user = None
        if auth.startswith("Bearer ") and auth[7:].strip():
            try:
                user = self.server.authenticator.authenticate(auth[7:].strip())
            except Unauthorized as e:
                entry["rejected"] = str(e)
        else:
            entry["rejected"] = "no bearer token"
        if user is None:
            self._record(entry)
            return self._send(401, status(401, "Unauthorized", "Unauthorized"))
        entry["user"] = user
        self._record(entry)
        path = self.path.split("?", 1)[0]
        if path == "/version" and self.command == "GET":
            return self._send(200, VERSION)
        if path != REVIEW_PATH:
            return self._send(404, status(404, "NotFound", "the server could not find the "
                                          "requested resource"))
        if self.command != "POST":
            return self._send(405, status(405, "MethodNotAllowed",
                                          "the server does not allow this method on the "
                                          "requested resource"))
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        if ctype not in ("application/json", PROTOBUF):
            return self._send(415, status(415, "UnsupportedMediaType",
                                          "the body of the request was in an unknown format "
                                          "- accepted media types include: application/json, "
                                          + PROTOBUF))
        accept = [a.split(";")[0].strip() for a in self.headers.get("Accept", "").split(",")]
        if not {"application/json", "application/*", "*/*"} & set(accept):
            return self._send(406, status(406, "NotAcceptable",
                                          "only the following media types are accepted: "
                                          "application/json"))
        try:
            api_version, kind = decode_review(ctype, body)
        except (ValueError, UnicodeDecodeError) as e:
            return self._send(400, status(400, "BadRequest", "cannot decode the body: %s" % e))
        if kind != "SelfSubjectReview" or api_version != "authentication.k8s.io/v1":
            return self._send(400, status(400, "BadRequest",
                                          "expected a SelfSubjectReview of "
                                          "authentication.k8s.io/v1"))
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self._send(201, {
            "kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": now},
            "status": {"userInfo": user},
        })

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--client-id", required=True)
    ap.add_argument("--jwks-url")
    ap.add_argument("--clock-offset", type=int, default=0)
    a = ap.parse_args()

    srv = Server(("127.0.0.1", a.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.authenticator = Authenticator(a.issuer, a.client_id, a.jwks_url, a.clock_offset)
    srv.log = []
    srv.log_lock = threading.Lock()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    port = srv.server_address[1]
    print(json.dumps({"port": port, "base": "https://127.0.0.1:%d" % port}), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
