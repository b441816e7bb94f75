#!/usr/bin/python3
"""A strict stand-in Microsoft Entra ID token endpoint: TLS on 127.0.0.1, one tenant, one
app registration with one federated identity credential, and the client credentials grant
with a federated client assertion (workload identity federation), as
login.microsoftonline.com answers it.

    python3 tests/azure/server.py --cert leaf.pem --key leaf.key --tenant TENANT
        --client-id APP_ID --issuer ISSUER --subject SUB
        [--audience api://AzureADTokenExchange] [--port 0] [--clock-offset SECONDS]
        [--jwks-url URL]
    # prints {"port": P, "base": "https://127.0.0.1:P"} when ready; logs to stderr;
    # exits on SIGTERM

Endpoints (what MSAL, under @azure/identity's WorkloadIdentityCredential, asks for):
  GET  /{tenant}/v2.0/.well-known/openid-configuration   the tenant's OpenID metadata
  GET  /common/discovery/instance                        instance discovery (MSAL asks the
       real login.microsoftonline.com for it unless disableInstanceDiscovery is set; served
       here for clients pointed at this host)
  POST /{tenant}/oauth2/v2.0/token                        the token request

The token request is checked in this order; the first failure is answered in Entra's error
format ({"error", "error_description": "AADSTSnnn: ... Trace ID: ... Correlation ID: ...
Timestamp: ...", "error_codes": [nnn], "timestamp", "trace_id", "correlation_id",
"error_uri"}), with 401 for invalid_client and 400 otherwise:
  tenant known                                        AADSTS90002  invalid_request
  grant_type client_credentials                       AADSTS70003  unsupported_grant_type
  client_id the app's                                 AADSTS700016 unauthorized_client
  scope present, one RESOURCE/.default                AADSTS900144 / AADSTS1002012
  client_assertion_type jwt-bearer and an assertion   AADSTS7000218 invalid_client
  the assertion a compact JWS with JSON parts         AADSTS50027  invalid_request
  a federated credential with the assertion's iss     AADSTS700211 invalid_client
  ... and its sub (exact, case-sensitive)             AADSTS700213 invalid_client
  ... and its aud (string or list holding it)         AADSTS700212 invalid_client
  alg RS256, signature by a key of the issuer's JWKS  AADSTS700027 invalid_client
    (ISSUER/.well-known/openid-configuration -> jwks_uri, fetched again once for an
    unknown kid)
  nbf/iat not in the future, exp in the future        AADSTS700024 invalid_client
    (the server's clock plus --clock-offset)
On success: 200 {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
"access_token": a JWT signed by this server (aud the resource, iss
https://sts.windows.net/TENANT/, appid the client id)}.

Test controls (no authentication): GET /__test/log (every token request: the client id,
the assertion's sub, exp and SHA-256, and "issued" with the access token or "error" with the AADSTS
code), POST /__test/reset (clears the log).
"""
import argparse
import base64
import datetime
import hashlib
import http.server
import json
import os
import signal
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from oidc_keys import Keys, b64u  # noqa: E402

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
OIDC_SCOPES = {"openid", "profile", "offline_access"}


def b64u_enc(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def utc(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc)


class EntraError(Exception):
    def __init__(self, error, code, message):
        super().__init__(message)
        self.error, self.code, self.message = error, code, message


class Entra:
    def __init__(self, a):
        self.tenant, self.client_id = a.tenant, a.client_id
        self.fic = {"issuer": a.issuer, "subject": a.subject, "audience": a.audience}
        self.clock_offset = a.clock_offset
        self.keys = Keys(a.issuer, a.jwks_url)
        self.signer = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = b64u_enc(os.urandom(12))

    def now(self):
        return time.time() + self.clock_offset

    def access_token(self, resource, assertion):
        now = int(time.time())
        claims = {"aud": resource, "iss": "https://sts.windows.net/%s/" % self.tenant,
                  "iat": now, "nbf": now, "exp": now + 3599, "appid": self.client_id,
                  "appidacr": "2", "idp": "https://sts.windows.net/%s/" % self.tenant,
                  "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, self.client_id)),
                  "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, self.client_id)),
                  "tid": self.tenant, "ver": "1.0", "uti": b64u_enc(os.urandom(16)),
                  "xms_fic_sub": assertion.get("sub")}
        head = b64u_enc(json.dumps({"typ": "JWT", "alg": "RS256", "kid": self.kid}).encode())
        body = b64u_enc(json.dumps(claims).encode())
        sig = self.signer.sign((head + "." + body).encode(), padding.PKCS1v15(), hashes.SHA256())
        return head + "." + body + "." + b64u_enc(sig)

    def token(self, tenant, form):
        """The token request: (200, answer, claims of the assertion) or EntraError."""
        def one(name):
            v = form.get(name)
            return v[0] if v and len(v) == 1 else None

        if tenant != self.tenant:
            raise EntraError("invalid_request", 90002,
                             "Tenant '%s' not found. Check to make sure you have the correct "
                             "tenant ID and are signing into the correct cloud." % tenant)
        if one("grant_type") != "client_credentials":
            raise EntraError("unsupported_grant_type", 70003,
                             "The app requested an unsupported grant type '%s'."
                             % one("grant_type"))
        client_id = one("client_id")
        if client_id != self.client_id:
            raise EntraError("unauthorized_client", 700016,
                             "Application with identifier '%s' was not found in the directory "
                             "'%s'." % (client_id, self.tenant))
        scope = one("scope")
        if not scope:
            raise EntraError("invalid_request", 900144,
                             "The request body must contain the following parameter: 'scope'.")
        resources = [s for s in scope.split() if s not in OIDC_SCOPES]
        if len(resources) != 1 or not resources[0].endswith("/.default"):
            raise EntraError("invalid_scope", 1002012,
                             "The provided value for scope %s is not valid. Client credential "
                             "flows must have a scope value with /.default suffixed to the "
                             "resource identifier (application ID URI)." % scope)
        assertion = one("client_assertion")
        if one("client_assertion_type") != ASSERTION_TYPE or not assertion:
            raise EntraError("invalid_client", 7000218,
                             "The request body must contain the following parameter: "
                             "'client_assertion' or 'client_secret'.")
        claims = self.verify(assertion)
        resource = resources[0][:-len("/.default")]
        return {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                "access_token": self.access_token(resource, claims)}, claims

    def verify(self, token):
        parts = token.split(".")
        try:
            if len(parts) != 3:
                raise ValueError
            header, claims = json.loads(b64u(parts[0])), json.loads(b64u(parts[1]))
            b64u(parts[2])  # the signature must decode too
            if not isinstance(header, dict) or not isinstance(claims, dict):
                raise ValueError
        except ValueError:
            raise EntraError("invalid_request", 50027,
                             "JWT token is invalid or malformed.") from None
        fic = self.fic
        if claims.get("iss") != fic["issuer"]:
            raise EntraError("invalid_client", 700211,
                             "No matching federated identity record found for presented "
                             "assertion issuer '%s'. Please check your federated identity "
                             "credential Subject, Audience and Issuer against the presented "
                             "assertion. https://learn.microsoft.com/entra/workload-id/"
                             "workload-identity-federation" % claims.get("iss"))
        if claims.get("sub") != fic["subject"]:
            raise EntraError("invalid_client", 700213,
                             "No matching federated identity record found for presented "
                             "assertion subject '%s'. Please check your federated identity "
                             "credential Subject, Audience and Issuer against the presented "
                             "assertion. https://learn.microsoft.com/entra/workload-id/"
                             "workload-identity-federation" % claims.get("sub"))
        aud = claims.get("aud")
        if fic["audience"] not in (aud if isinstance(aud, list) else [aud]):
            raise EntraError("invalid_client", 700212,
                             "No matching federated identity record found for presented "
                             "assertion audience '%s'. Please check your federated identity "
                             "credential Subject, Audience and Issuer against the presented "
                             "assertion. https://learn.microsoft.com/entra/workload-id/"
                             "workload-identity-federation" % (aud,))
        bad_sig = EntraError("invalid_client", 700027,
                             "Client assertion failed signature validation.")
        if header.get("alg") != "RS256":
            raise bad_sig
        if not self.keys.verify_rs256(parts, header.get("kid")):
            raise bad_sig
        now = self.now()
        exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
        if (not isinstance(exp, (int, float)) or isinstance(exp, bool) or now >= exp
                or (isinstance(nbf, (int, float)) and nbf > now + 300)):
            fmt = "%m/%d/%Y %H:%M:%S"
            raise EntraError("invalid_client", 700024,
                             "Client assertion is not within its valid time range. Current "
                             "time: %s, assertion valid from %s, expiry time of assertion "
                             "%s. Review the documentation at https://learn.microsoft.com/"
                             "entra/identity-platform/certificate-credentials ."
                             % (utc(now).strftime(fmt),
                                utc(nbf).strftime(fmt) if isinstance(nbf, (int, float))
                                else "", utc(exp).strftime(fmt)
                                if isinstance(exp, (int, float)) else ""))
        return claims


def error_body(e):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
    return {"error": e.error,
            "error_description": "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s"
                                 % (e.code, e.message, trace, corr, now),
            "error_codes": [e.code], "timestamp": now, "trace_id": trace,
            "correlation_id": corr,
            "error_uri": "https://login.microsoftonline.com/error?code=%d" % e.code}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stand-in-entra"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s\n" % (fmt % args))

    def _send(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store, no-cache")
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 1024 * 1024:
            raise ValueError("request body too large")
        return self.rfile.read(n) if n else b""

    def _metadata(self, tenant):
        base = self.server.base + "/" + tenant
        return {"token_endpoint": base + "/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                          "private_key_jwt",
                                                          "client_secret_basic"],
                "jwks_uri": base + "/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token",
                                             "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": base + "/v2.0",
                "request_uri_parameter_supported": False,
                "authorization_endpoint": base + "/oauth2/v2.0/authorize",
                "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
                "end_session_endpoint": base + "/oauth2/v2.0/logout",
                "tenant_region_scope": "EU", "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com", "rbac_url": "https://pas.windows.net"}

    def do_GET(self):
        self._body()
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        if url.path == "/__test/log":
            with self.server.log_lock:
                return self._send(200, list(self.server.log))
        if url.path == "/common/discovery/instance":
            host = urllib.parse.urlsplit(self.server.base).netloc
            return self._send(200, {
                "tenant_discovery_endpoint": "%s/%s/v2.0/.well-known/openid-configuration"
                                             % (self.server.base, self.server.entra.tenant),
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host,
                              "aliases": [host]}]})
        if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            if parts[0] != self.server.entra.tenant:
                return self._send(400, error_body(EntraError(
                    "invalid_tenant", 90002, "Tenant '%s' not found." % parts[0])))
            return self._send(200, self._metadata(parts[0]))
        return self._send(404, {"error": "not_found"})

    def do_POST(self):
        try:
            body = self._body()
        except ValueError as e:
            return self._send(413, {"error": str(e)})
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/__test/reset":
            with self.server.log_lock:
                self.server.log.clear()
            return self._send(200, {})
        parts = url.path.strip("/").split("/")
        if len(parts) != 4 or parts[1:] != ["oauth2", "v2.0", "token"]:
            return self._send(404, {"error": "not_found"})
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        entry = {"tenant": parts[0], "client_id": (form.get("client_id") or [None])[0],
                 "scope": (form.get("scope") or [None])[0]}
        try:
            if ctype != "application/x-www-form-urlencoded":
                raise EntraError("invalid_request", 900144,
                                 "The request body must contain the following parameter: "
                                 "'grant_type'.")
            answer, claims = self.server.entra.token(parts[0], form)
            entry.update(issued=answer["access_token"], sub=claims.get("sub"),
                         exp=claims.get("exp"),
                         assertion_sha256=hashlib.sha256(
                             form["client_assertion"][0].encode()).hexdigest())
            code = 200
        except EntraError as e:
            entry["error"] = "AADSTS%d" % e.code
            answer = error_body(e)
            code = 401 if e.error == "invalid_client" else 400
        with self.server.log_lock:
            self.server.log.append(entry)
        return self._send(code, answer)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--tenant", required=True)
    ap.add_argument("--client-id", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--subject", required=True)
    ap.add_argument("--audience", default="api://AzureADTokenExchange")
    ap.add_argument("--jwks-url")
    ap.add_argument("--clock-offset", type=int, default=0)
    a = ap.parse_args()

    srv = Server(("127.0.0.1", a.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.entra = Entra(a)
    srv.log = []
    srv.log_lock = threading.Lock()
    port = srv.server_address[1]
    srv.base = "https://127.0.0.1:%d" % port
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(json.dumps({"port": port, "base": srv.base}), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
