#!/usr/bin/python3
"""A strict stand-in Google Security Token Service (sts.googleapis.com): the RFC 8693 token
exchange of workload and workforce identity federation, plain HTTP on 127.0.0.1 (Google's
clients take any token_url; oktacred allows http for loopback only).

    python3 tests/gcp/server.py --audience AUD --issuer URL --allowed-audience CLIENT_ID
        [--user-project P] [--port 0] [--clock-offset SECONDS] [--jwks-url URL]
    # prints {"port": P, "base": "http://127.0.0.1:P"} when ready; logs to stderr;
    # exits on SIGTERM

POST /v1/token (application/x-www-form-urlencoded), checked as Google's STS does for an
OIDC provider of a pool: grant_type urn:ietf:params:oauth:grant-type:token-exchange;
requested_token_type urn:ietf:params:oauth:token-type:access_token; audience the pool
provider's resource name (--audience: another is invalid_target, as for a provider that
does not exist); subject_token_type ...:id_token or ...:jwt; for a workforce audience,
options {"userProject": --user-project}; the subject token a compact JWS, RS256, whose
signature verifies with a key of the issuer's JWKS (found through ISSUER/.well-known/
openid-configuration), iss equal to the provider's issuer URI, aud holding one of its
allowed audiences (--allowed-audience), exp in the future (the server's clock plus
--clock-offset), iat not in the future, sub a string (google.subject). Answer, as Google's:
{"access_token", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
"token_type": "Bearer", "expires_in": 3600}; errors 400 {"error": "invalid_request" |
"invalid_target" | "invalid_grant", "error_description": ...}.

POST /v1/introspect (token=...): {"active": true, "username": "principal://..."} for an
access token it issued (what gcloud asks to name the account), else {"active": false}.
GET /v1/whoami with Authorization: Bearer ACCESS_TOKEN: the subject it was issued for
(a resource that shows the client ends up with the access token), 401 otherwise.

Test controls: GET /__test/log (every request: path, outcome, the subject or why not),
POST /__test/reset (clears the log), POST /__test/settings {"clock_offset": N}.
"""
import argparse
import http.server
import json
import os
import secrets
import signal
import socketserver
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from oidc_keys import Keys, b64u  # noqa: E402

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS = "urn:ietf:params:oauth:token-type:access_token"
SUBJECT_TYPES = ("urn:ietf:params:oauth:token-type:id_token",
                 "urn:ietf:params:oauth:token-type:jwt")


class StsError(Exception):
    def __init__(self, error, description):
        super().__init__(description)
        self.error = error
        self.description = description


class Verifier:
    def __init__(self, issuer, allowed_audience, jwks_url=None):
        self.issuer = issuer
        self.allowed = allowed_audience
        self.jwks_url = jwks_url
        self.keys = Keys(issuer, jwks_url)

    def verify(self, token, now):
        def bad(why):
            return StsError("invalid_grant", why)
        parts = token.split(".")
        if len(parts) != 3:
            raise bad("The input token is not a valid JWT.")
        try:
            header = json.loads(b64u(parts[0]))
            claims = json.loads(b64u(parts[1]))
            b64u(parts[2])  # the signature must decode too
        except ValueError:
            raise bad("The input token is not a valid JWT.") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise bad("The input token is not a valid JWT.")
        if header.get("alg") != "RS256":
            raise bad("The JWT signing algorithm is not supported.")
        if not self.keys.verify_rs256(parts, header.get("kid")):
            raise bad("Invalid JWT signature.")
        if claims.get("iss") != self.issuer:
            raise bad("The issuer in ID Token %s does not match the expected ones: %s."
                      % (claims.get("iss"), self.issuer))
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if self.allowed not in auds:
            raise bad("The audience in ID Token %s does not match the expected audience."
                      % (aud,))
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            raise bad("The ID Token has no exp claim.")
        if now >= exp:
            raise bad("ID Token expired at %d, it is now %d." % (exp, now))
        iat = claims.get("iat")
        if isinstance(iat, (int, float)) and iat > now + 300:
            raise bad("ID Token issued at a future time.")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise bad("The ID Token has no sub claim (google.subject).")
        return claims


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "stand-in-google-sts"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s\n" % (fmt % args))

    def _send(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _record(self, entry):
        with self.server.lock:
            self.server.log.append(entry)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/__test/log":
            with self.server.lock:
                return self._send(200, list(self.server.log))
        if path == "/v1/whoami":
            auth = self.headers.get("Authorization", "")
            with self.server.lock:
                sub = self.server.issued.get(auth[7:]) if auth.startswith("Bearer ") else None
            self._record({"path": path, "ok": sub is not None, "subject": sub})
            if sub is None:
                return self._send(401, {"error": {"code": 401, "status": "UNAUTHENTICATED",
                                                  "message": "Request had invalid "
                                                  "authentication credentials."}})
            return self._send(200, {"subject": sub})
        return self._send(404, {"error": {"code": 404, "status": "NOT_FOUND"}})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        body = self._body()
        if path == "/__test/reset":
            with self.server.lock:
                self.server.log.clear()
            return self._send(200, {})
        if path == "/__test/settings":
            s = json.loads(body or b"{}")
            if "clock_offset" in s:
                self.server.clock_offset = int(s["clock_offset"])
            return self._send(200, {})
        if path == "/v1/introspect":
            form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
            token = (form.get("token") or [""])[0]
            with self.server.lock:
                sub = self.server.issued.get(token)
            self._record({"path": path, "ok": sub is not None, "subject": sub})
            if sub is None:
                return self._send(200, {"active": False})
            return self._send(200, {"active": True, "username": sub,
                                    "token_type": "Bearer", "exp": int(time.time()) + 3600})
        if path != "/v1/token":
            return self._send(404, {"error": {"code": 404, "status": "NOT_FOUND"}})
        try:
            sub = self._exchange(body)
        except StsError as e:
            self._record({"path": path, "ok": False, "error": e.error, "why": e.description})
            return self._send(400, {"error": e.error, "error_description": e.description})
        token = "ya29.stand-in." + secrets.token_urlsafe(24)
        with self.server.lock:
            self.server.issued[token] = sub
        self._record({"path": path, "ok": True, "subject": sub, "access_token": token})
        return self._send(200, {"access_token": token, "issued_token_type": ACCESS,
                                "token_type": "Bearer", "expires_in": 3600})

    def _exchange(self, body):
        srv = self.server
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise StsError("invalid_request", "Content-Type must be "
                           "application/x-www-form-urlencoded.")
        form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
        for k, v in form.items():
            if len(v) != 1:
                raise StsError("invalid_request", "Duplicate parameter %s." % k)
        f = {k: v[0] for k, v in form.items()}
        if f.get("grant_type") != GRANT:
            raise StsError("invalid_request", "Invalid value for \"grant_type\".")
        if f.get("requested_token_type") != ACCESS:
            raise StsError("invalid_request", "Invalid value for \"requested_token_type\".")
        if not f.get("subject_token"):
            raise StsError("invalid_request", "Missing required parameter: subject_token.")
        if f.get("subject_token_type") not in SUBJECT_TYPES:
            raise StsError("invalid_request", "Invalid value for \"subject_token_type\".")
        if f.get("audience") != srv.audience:
            raise StsError("invalid_target", "The target service indicated by the "
                           "\"audience\" parameters is invalid. This might either be "
                           "because the pool or provider is disabled or deleted or "
                           "because it doesn't exist.")
        if srv.user_project:
            try:
                options = json.loads(f.get("options", "{}"))
            except ValueError:
                raise StsError("invalid_request", "Invalid value for \"options\".") from None
            if options.get("userProject") != srv.user_project:
                raise StsError("invalid_request", "A workforce pool needs "
                               "options.userProject (the workforce pool user project).")
        claims = srv.verifier.verify(f["subject_token"], int(time.time()) + srv.clock_offset)
        return "principal://iam.googleapis.com/%s/subject/%s" % (
            srv.audience[len("//iam.googleapis.com/"):].rsplit("/providers/", 1)[0],
            claims["sub"])

    def _unsupported(self):
        self._body()
        self._send(405, {"error": {"code": 405, "status": "METHOD_NOT_ALLOWED"}})

    do_PUT = do_DELETE = do_PATCH = _unsupported


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--audience", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--allowed-audience", required=True)
    ap.add_argument("--user-project")
    ap.add_argument("--jwks-url")
    ap.add_argument("--clock-offset", type=int, default=0)
    a = ap.parse_args()

    srv = Server(("127.0.0.1", a.port), Handler)
    srv.audience = a.audience
    srv.user_project = a.user_project
    srv.clock_offset = a.clock_offset
    srv.verifier = Verifier(a.issuer, a.allowed_audience, a.jwks_url)
    srv.log = []
    srv.issued = {}
    srv.lock = threading.Lock()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    port = srv.server_address[1]
    print(json.dumps({"port": port, "base": "http://127.0.0.1:%d" % port}), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
