"""The issuer's signing keys as the stand-ins (tests/kube, tests/gcp, tests/azure) check a
token with them: its JWKS, fetched when first needed and again once for an unknown kid, and
the RS256 signature check."""
import base64
import json
import threading
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def b64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Keys:
    def __init__(self, issuer, jwks_url=None):
        self.issuer, self.jwks_url = issuer, jwks_url
        self.keys = {}
        self.lock = threading.Lock()

    def _fetch(self):
        url = self.jwks_url
        if not url:
            with OPENER.open(self.issuer + "/.well-known/openid-configuration", timeout=10) as r:
                url = json.loads(r.read())["jwks_uri"]
        with OPENER.open(url, timeout=10) as r:
            jwks = json.loads(r.read())
        keys = {}
        for k in jwks.get("keys", []):
            if k.get("kty") != "RSA" or k.get("use", "sig") != "sig":
                continue
            keys[k.get("kid")] = rsa.RSAPublicNumbers(
                int.from_bytes(b64u(k["e"]), "big"),
                int.from_bytes(b64u(k["n"]), "big")).public_key()
        self.keys = keys

    def candidates(self, kid):
        with self.lock:
            if not self.keys or (kid is not None and kid not in self.keys):
                self._fetch()
            if kid is not None:
                return [self.keys[kid]] if kid in self.keys else []
            return list(self.keys.values())

    def verify_rs256(self, parts, kid):
        """Whether one of the issuer's keys (kid's, when given) signed the compact JWS split
        into parts (header, payload, signature)."""
        signed, sig = (parts[0] + "." + parts[1]).encode(), b64u(parts[2])
        for key in self.candidates(kid):
            try:
                key.verify(sig, signed, padding.PKCS1v15(), hashes.SHA256())
                return True
            except InvalidSignature:
                continue
        return False
