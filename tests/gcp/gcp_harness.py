"""Start and drive the stand-in Google STS (tests/gcp/server.py).

Standard library only here (the server needs `cryptography`); importable by pytest tests:

    sys.path.insert(0, "tests/gcp")
    from gcp_harness import GoogleSTS, GCLOUD
    with GoogleSTS.start(AUDIENCE, idp.issuer("default"), "0oa-test-native") as sts:
        sts.base, sts.token_url
        sts.log(); sts.reset(); sts.settings(clock_offset=N)
        sts.exchange(subject_token)     # (status, JSON answer)
"""
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(HERE))
from nodeserver import OPENER, NodeServer  # noqa: E402  (tests/nodeserver.py)

__all__ = ["GoogleSTS", "GoogleSTSError", "GCLOUD"]

# The system's gcloud (Debian package google-cloud-cli), by its full path.
GCLOUD = "/usr/bin/gcloud"


class GoogleSTSError(RuntimeError):
    pass


class GoogleSTS(NodeServer):
    error = GoogleSTSError
    what = "the stand-in Google STS"

    @classmethod
    def start(cls, audience, issuer, allowed_audience, user_project=None, clock_offset=0,
              jwks_url=None, port=0, timeout=30.0):
        args = [sys.executable, os.path.join(HERE, "server.py"), "--port", str(port),
                "--audience", audience, "--issuer", issuer,
                "--allowed-audience", allowed_audience, "--clock-offset", str(clock_offset)]
        if user_project:
            args += ["--user-project", user_project]
        if jwks_url:
            args += ["--jwks-url", jwks_url]
        proc, port, base, stderr_path = cls.launch(args, HERE, timeout, None, False,
                                                   "oktacred-gcp-")
        sts = cls(proc, port, base, stderr_path, False)
        sts.token_url = base + "/v1/token"
        sts.audience = audience
        return sts

    def _control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + "/__test/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with OPENER.open(req, timeout=10) as resp:
            return json.loads(resp.read())

    def log(self):
        """Every request: {"path", "ok", "subject"} or {..., "error", "why"}."""
        return self._control("GET", "log")

    def reset(self):
        self._control("POST", "settings", {"clock_offset": 0})
        return self._control("POST", "reset", {})

    def settings(self, **kw):
        return self._control("POST", "settings", kw)

    def exchange(self, subject_token, audience=None,
                 subject_token_type="urn:ietf:params:oauth:token-type:id_token"):
        """The token exchange Google's clients make: (status, JSON answer)."""
        form = {"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                "audience": audience or self.audience,
                "scope": "https://www.googleapis.com/auth/cloud-platform",
                "requested_token_type": "urn:ietf:params:oauth:token-type:access_token",
                "subject_token": subject_token, "subject_token_type": subject_token_type}
        req = urllib.request.Request(
            self.token_url, data=urllib.parse.urlencode(form).encode(), method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with OPENER.open(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())
