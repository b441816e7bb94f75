"""Start and drive the local test identity provider (tests/idp/server.js).

Standard library only; importable by pytest tests and scripts:

    from harness import IdP
    with IdP.start() as idp:              # npm ci when needed, node server.js --port 0
        idp.settings(interval=1)
        idp.base, idp.port, idp.pid
        idp.issuer("default")             # http://127.0.0.1:N/oauth2/default
        idp.endpoint("org", "token")      # http://127.0.0.1:N/oauth2/v1/token
        idp.log(); idp.reset(); idp.fault(path=..., status=503, count=2)
"""

import atexit
import fcntl
import hashlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["IdP", "IdPError", "ensure_node_modules", "decode_jwt"]

HERE = os.path.dirname(os.path.abspath(__file__))

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
NATIVE_CLIENT = "0oa-test-native"
SECRET_CLIENT = "0oa-test-secret"
SECRET = "test-secret-value"

_ENDPOINTS = {
    "device": "/v1/device/authorize",
    "token": "/v1/token",
    "keys": "/v1/keys",
    "revoke": "/v1/revoke",
    "userinfo": "/v1/userinfo",
    "introspect": "/v1/introspect",
}

# Never use a proxy for the loopback server.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


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


def ensure_node_modules(idp_dir=None, npm="npm"):
    """Run `npm ci` when node_modules is missing or older than package-lock.json."""
    idp_dir = _resolve_dir(idp_dir)
    lock = os.path.join(idp_dir, "package-lock.json")
    stamp = os.path.join(idp_dir, "node_modules", ".package-lock.json")

    def fresh():
        try:
            return (os.path.getmtime(stamp) >= os.path.getmtime(lock)
                    and os.path.isdir(os.path.join(idp_dir, "node_modules", "oidc-provider")))
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


class IdP:
    """A running tests/idp/server.js. Use IdP.start(); stop() or a with-block ends it."""

    def __init__(self, proc, port, base, stderr_path=None, keep_log=False):
        self.proc = proc
        self.keep_log = keep_log
        self.port = port
        self.base = base
        self.pid = proc.pid
        self.stderr_path = stderr_path
        atexit.register(self.stop)

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
        stderr_path = None
        if stderr is None:
            fd, stderr_path = tempfile.mkstemp(prefix="oktacred-idp-", suffix=".log")
            stderr = os.fdopen(fd, "w")
            close_after = stderr
        else:
            close_after = None
        try:
            proc = subprocess.Popen(
                [node, os.path.join(idp_dir, "server.js"), "--port", str(port)],
                cwd=idp_dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
                start_new_session=True)
        finally:
            if close_after is not None:
                close_after.close()

        def fail(msg):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log = ""
            if stderr_path:
                with open(stderr_path, errors="replace") as f:
                    log = f.read()[-4000:]
                if not keep_log:
                    os.unlink(stderr_path)
            raise IdPError(f"{msg}\n--- server stderr ---\n{log}")

        line = b""
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        try:
            while not line.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0:
                    fail(f"the IdP did not start within {timeout:g} s")
                if not sel.select(left):
                    continue
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    fail(f"the IdP exited (status {proc.wait()}) before it was ready")
                line += chunk
        finally:
            sel.close()
        try:
            ready = json.loads(line.decode())
            port, base = int(ready["port"]), ready["base"]
        except (ValueError, KeyError) as err:
            fail(f"unexpected ready line from the IdP: {line!r} ({err})")
        return cls(proc, port, base, stderr_path, keep_log)

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s. Safe to call twice."""
        proc = self.proc
        if proc is None:
            return
        self.proc = None
        try:
            atexit.unregister(self.stop)
        except Exception:
            pass
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc.stdout:
            proc.stdout.close()
        if self.stderr_path and not self.keep_log:
            try:
                os.unlink(self.stderr_path)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stderr_text(self):
        """The server's stderr so far (when started with stderr=None)."""
        if not self.stderr_path or not os.path.exists(self.stderr_path):
            return ""
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    # -- URLs ---------------------------------------------------------------

    def issuer(self, server="default"):
        """server: "default" (custom authorization server) or "org"."""
        return self.base + ("/oauth2/default" if server == "default" else "")

    def endpoint(self, server, name):
        """endpoint("default", "token") -> http://127.0.0.1:N/oauth2/default/v1/token."""
        prefix = "/oauth2/default" if server == "default" else "/oauth2"
        return self.base + prefix + _ENDPOINTS[name]

    # -- controls -------------------------------------------------------------

    def _control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + "/__test/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with _OPENER.open(req, timeout=10) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as err:
            raise IdPError(f"{method} /__test/{path}: HTTP {err.code}: "
                           f"{err.read().decode(errors='replace')}") from None

    def log(self):
        """Every request to a token, device/authorize or revoke endpoint (list of dicts)."""
        return self._control("GET", "log")

    def reset(self):
        """Clear the log, faults and poll state; settings back to defaults."""
        return self._control("POST", "reset", {})

    def settings(self, **kw):
        """interval, device_expires_in, access_token_ttl, id_token_ttl, refresh_token_ttl,
        force_slow_down, token_delay_ms, slow_down_tolerance_ms. Returns all settings."""
        if not kw:
            return self._control("GET", "settings")
        return self._control("POST", "settings", kw)

    def fault(self, path, status=503, count=1, body=None, headers=None, delay_ms=0, hang=False):
        """The next `count` requests to `path` get this answer (count=0 clears)."""
        spec = {"path": path, "status": status, "count": count, "headers": headers or {},
                "delay_ms": delay_ms, "hang": hang}
        if body is not None:
            spec["body"] = body
        return self._control("POST", "fault", spec)

    def add_client(self, server="both", **metadata):
        """Register a client at run time (oidc-provider client metadata), e.g.
        add_client(client_id="0oa-robot", token_endpoint_auth_method="private_key_jwt",
        grant_types=["client_credentials"], response_types=[], redirect_uris=[],
        jwks={"keys": [public_jwk]})."""
        return self._control("POST", "client", {"server": server, **metadata})

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


def decode_jwt(token):
    """The payload of a JWT, unverified (for tests)."""
    import base64
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
