"""Start and drive the stand-in Entra token endpoint (tests/azure/server.py) and run the
real client (tests/azure/client.js, @azure/identity).

Standard library only here (the server needs `cryptography`); importable by pytest tests:

    sys.path.insert(0, "tests/azure")
    from entra_harness import Entra, CLIENT_JS
    certs = make_certs(tmp)                      # tests/integration/tlsserver.py
    with Entra.start(certs, TENANT, APP_ID, issuer, subject) as entra:
        entra.base, entra.ca; entra.log(); entra.reset()
        entra.token(assertion)                   # (status, JSON answer)
"""
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(HERE))
from nodeserver import NodeServer  # noqa: E402  (tests/nodeserver.py)

__all__ = ["Entra", "EntraError", "CLIENT_JS", "HERE", "AUDIENCE", "ASSERTION_TYPE"]

CLIENT_JS = os.path.join(HERE, "client.js")
AUDIENCE = "api://AzureADTokenExchange"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class EntraError(RuntimeError):
    pass


class Entra(NodeServer):
    error = EntraError
    what = "the stand-in Entra token endpoint"

    @classmethod
    def start(cls, certs, tenant, client_id, issuer, subject, audience=AUDIENCE,
              clock_offset=0, jwks_url=None, port=0, timeout=30.0):
        args = [sys.executable, os.path.join(HERE, "server.py"), "--port", str(port),
                "--cert", certs.leaf, "--key", certs.leaf_key, "--tenant", tenant,
                "--client-id", client_id, "--issuer", issuer, "--subject", subject,
                "--audience", audience, "--clock-offset", str(clock_offset)]
        if jwks_url:
            args += ["--jwks-url", jwks_url]
        proc, port, base, stderr_path = cls.launch(args, HERE, timeout, None, False,
                                                   "oktacred-entra-")
        entra = cls(proc, port, base, stderr_path, False)
        entra.ca = certs.ca
        entra.tenant = tenant
        entra.client_id = client_id
        return entra

    def _open(self, req):
        ctx = ssl.create_default_context(cafile=self.ca)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=ctx))
        try:
            with opener.open(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def log(self):
        """Every token request: {"tenant", "client_id", "scope", and "issued" (the access
        token), "sub", "exp" and "assertion_sha256" of the assertion; or "error": "AADSTSnnn"}."""
        return self._open(urllib.request.Request(self.base + "/__test/log"))[1]

    def reset(self):
        return self._open(urllib.request.Request(self.base + "/__test/reset", data=b"{}",
                                                 method="POST"))

    def token(self, assertion, client_id=None, scope="https://management.azure.com/.default"):
        """The client credentials request with this client assertion: (status, answer)."""
        body = urllib.parse.urlencode({
            "client_id": client_id or self.client_id, "grant_type": "client_credentials",
            "scope": scope, "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion}).encode()
        return self._open(urllib.request.Request(
            "%s/%s/oauth2/v2.0/token" % (self.base, self.tenant), data=body, method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"}))
