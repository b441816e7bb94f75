"""Start and drive the stand-in Kubernetes API server (tests/kube/server.py).

Standard library only here (the server needs `cryptography`); importable by pytest tests:

    sys.path.insert(0, "tests/kube")
    from kube_harness import KubeAPI, KUBECTL, write_kubeconfig
    certs = make_certs(tmp)                      # tests/integration/tlsserver.py
    with KubeAPI.start(certs, idp.issuer("default"), "0oa-test-native") as api:
        api.base, api.port, api.pid, api.ca
        api.log(); api.reset()
        write_kubeconfig(path, api, user_yaml)   # the cluster "stand-in" and a context
"""
import json
import os
import ssl
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(HERE))
from nodeserver import NodeServer  # noqa: E402  (tests/nodeserver.py)

__all__ = ["KubeAPI", "KubeAPIError", "KUBECTL", "CLUSTER", "write_kubeconfig"]

# The system's kubectl, by its full path: another kubectl earlier in PATH may be another
# version.
KUBECTL = "/usr/bin/kubectl"
CLUSTER = "stand-in"


class KubeAPIError(RuntimeError):
    pass


class KubeAPI(NodeServer):
    error = KubeAPIError
    what = "the stand-in Kubernetes API server"

    @classmethod
    def start(cls, certs, issuer, client_id, clock_offset=0, jwks_url=None, port=0,
              timeout=30.0):
        """certs: tlsserver.make_certs()'s (the leaf for 127.0.0.1, signed by certs.ca)."""
        args = [sys.executable, os.path.join(HERE, "server.py"), "--port", str(port),
                "--cert", certs.leaf, "--key", certs.leaf_key, "--issuer", issuer,
                "--client-id", client_id, "--clock-offset", str(clock_offset)]
        if jwks_url:
            args += ["--jwks-url", jwks_url]
        proc, port, base, stderr_path = cls.launch(args, HERE, timeout, None, False,
                                                   "oktacred-kube-")
        api = cls(proc, port, base, stderr_path, False)
        api.ca = certs.ca
        return api

    def _control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        ctx = ssl.create_default_context(cafile=self.ca)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=ctx))
        req = urllib.request.Request(self.base + "/__test/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with opener.open(req, timeout=10) as resp:
            return json.loads(resp.read())

    def log(self):
        """Every API request: {"method", "path", "user": {...}} or {..., "rejected": why}."""
        return self._control("GET", "log")

    def reset(self):
        return self._control("POST", "reset", {})

    def review(self, token):
        """POST a SelfSubjectReview with this bearer token: (status, JSON answer)."""
        ctx = ssl.create_default_context(cafile=self.ca)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=ctx))
        body = json.dumps({"kind": "SelfSubjectReview",
                           "apiVersion": "authentication.k8s.io/v1"}).encode()
        req = urllib.request.Request(
            self.base + "/apis/authentication.k8s.io/v1/selfsubjectreviews", data=body,
            method="POST", headers={"Content-Type": "application/json",
                                    "Accept": "application/json",
                                    "Authorization": "Bearer " + token})
        try:
            with opener.open(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())


def write_kubeconfig(path, api, user_yaml, user="oktacred"):
    """A kubeconfig with the cluster CLUSTER (api's URL and CA), the user entries of
    user_yaml (a `users:` block, as `oktacred kubeconfig` prints it) and a current context
    binding the user named user to the cluster."""
    text = ("apiVersion: v1\nkind: Config\n"
            "clusters:\n- name: %s\n  cluster:\n    server: %s\n"
            "    certificate-authority: %s\n"
            "contexts:\n- name: test\n  context:\n    cluster: %s\n    user: %s\n"
            "current-context: test\n" % (CLUSTER, api.base, api.ca, CLUSTER,
                                         json.dumps(user)))
    with open(path, "w") as f:
        f.write(text + user_yaml)
    os.chmod(path, 0o600)
    return path
