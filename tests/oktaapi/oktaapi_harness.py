"""Start and drive the Okta API stand-in (tests/oktaapi/server.py). Standard library only:

    sys.path.insert(0, "tests/oktaapi")
    from oktaapi_harness import OktaAPI
    with OktaAPI.start(idp.base) as api:    # python3 server.py --port 0 --idp-base ...
        api.base, api.port, api.pid
        api.log(); api.reset(); api.release(); api.dpop(require_nonce=True)
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(HERE))
from nodeserver import NodeServer  # noqa: E402  (tests/nodeserver.py)


class OktaAPIError(RuntimeError):
    pass


class OktaAPI(NodeServer):
    error = OktaAPIError
    what = "the Okta API stand-in"

    @classmethod
    def start(cls, idp_base, port=0, timeout=30.0, stderr=None, keep_log=False, dpop=False):
        proc, port, base, stderr_path = cls.launch(
            [sys.executable, os.path.join(HERE, "server.py"), "--port", str(port),
             "--idp-base", idp_base] + (["--dpop"] if dpop else []), HERE, timeout, stderr,
            keep_log, "oktacred-oktaapi-")
        return cls(proc, port, base, stderr_path, keep_log)

    def log(self):
        """Every /api/ request: method, path, status, token_sha, headers."""
        return self._control("GET", "log")

    def reset(self):
        return self._control("POST", "reset", {})

    def dpop(self, require_nonce=False):
        """--dpop: whether a proof must carry the nonce this server last handed out."""
        return self._control("POST", "dpop", {"require_nonce": require_nonce})

    def release(self):
        """Lets /api/v1/stream send the rest of its answer."""
        return self._control("POST", "release", {})
