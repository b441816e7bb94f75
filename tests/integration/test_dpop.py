"""DPoP (RFC 9449): `dpop = true` binds a provider's tokens to a P-256 key of oktacred's.
Every token request carries a proof (the local IdP, oidc-provider with features.dPoP, demands
its nonce first), the proxy of `exec --server` sends `Authorization: DPoP` with a fresh proof
per request to the strict stand-in of tests/oktaapi (--dpop), and `dpop-proof` makes one for
curl."""
import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from conftest import CLIENT_ID, OKTACRED_UNWRAPPED, do_login, not_under
from test_okta_proxy import Child

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oktaapi"))
from oktaapi_harness import OktaAPI  # noqa: E402
from nodeserver import OPENER  # noqa: E402


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parts(jwt):
    h, c, s = jwt.split(".")
    return json.loads(unb64u(h)), json.loads(unb64u(c)), unb64u(s)


def thumbprint(jwk):
    canon = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"]},
                       separators=(",", ":"), sort_keys=True)
    return b64u(hashlib.sha256(canon.encode()).digest())


@pytest.fixture(scope="module")
def api(idp):
    server = OktaAPI.start(idp.base, dpop=True)
    try:
        yield server
    finally:
        server.stop()


def dpop_config(env, api=None, extra=""):
    return env.write_config(
        "[defaults]\nidentity = okta-admin\n\n"
        "[provider okta-oidc]\nkind = okta/device-code\n"
        f"org_url = {env.idp.base}\nclient_id = {CLIENT_ID}\n"
        "authorization_server = org\n"
        "scopes = openid profile email offline_access okta.users.read okta.groups.read\n"
        f"dpop = true\n{extra}\n"
        "[identity okta-admin]\nkind = okta/api-access\nprovider = okta-oidc\n"
        + (f"api_url = {api.base}\n" if api else ""))


@pytest.fixture
def dpop_env(env, api):
    api.reset()
    dpop_config(env, api)
    env.idp.settings(interval=1, dpop_require_nonce=True)
    rc, out, err = do_login(env)
    assert rc == 0, err
    env.login_err = err
    return env


def token_requests(idp):
    return [e for e in idp.log() if e["endpoint"] in ("token", "revoke")]


def test_login_does_the_nonce_dance_and_saves_a_dpop_token(dpop_env):
    env = dpop_env
    log = [e for e in token_requests(env.idp) if e["grant_type"] and "device" in e["grant_type"]]
    # The first poll had no nonce and was refused with one; every later one carried it.
    assert log[0]["dpop"] and not log[0]["dpop"]["nonce"]
    assert log[0]["error"] == "use_dpop_nonce"
    assert all(e["dpop"] and e["dpop"]["nonce"] for e in log[1:])
    assert log[-1]["status"] == 200 and log[-1]["token_type"] == "DPoP"
    for e in log:
        assert e["dpop"]["htm"] == "POST"
        assert e["dpop"]["htu"] == env.idp.base + "/oauth2/v1/token"
        assert not e["dpop"]["ath"]
    jtis = [e["dpop"]["jti"] for e in log]
    assert len(set(jtis)) == len(jtis), "a proof was sent twice"
    assert env.tokens()["token_type"] == "DPoP"
    # What to run next is what works with a DPoP-bound token.
    assert "next: oktacred exec --server okta-admin -- COMMAND" in env.login_err
    r = env.run("token", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["token_type"] == "DPoP"
    key = env.provider_dir() / "dpop-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")


def test_refresh_is_bound_to_the_same_key(dpop_env):
    env = dpop_env
    before = env.tokens()
    n = len(env.idp.log())
    r = env.run("refresh")
    assert r.returncode == 0, r.stderr
    log = [e for e in env.idp.log()[n:] if e["endpoint"] == "token"]
    # A new process: no nonce known, refused once (nothing rotated), then sent with it.
    assert [e["error"] for e in log] == ["use_dpop_nonce", None]
    assert [e["dpop"]["nonce"] for e in log] == [False, True]
    assert log[0]["dpop"]["jti"] != log[1]["dpop"]["jti"]
    assert log[1]["token_type"] == "DPoP" and log[1]["grant_type"] == "refresh_token"
    after = env.tokens()
    assert after["refresh_token"] != before["refresh_token"]
    assert after["token_type"] == "DPoP"


def test_a_key_of_another_client_is_refused_at_refresh(dpop_env):
    """The refresh token is bound to the key: a new key (the file replaced) cannot use it,
    which shows that the proofs are really checked against the binding."""
    env = dpop_env
    key = env.provider_dir() / "dpop-key.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", str(key) + ".x"], check=True,
                   capture_output=True)
    os.chmod(str(key) + ".x", 0o600)
    os.replace(str(key) + ".x", key)
    n = len(env.idp.log())
    r = env.run("refresh")
    assert r.returncode == 3, r.stderr
    assert "rejected the refresh token" in r.stderr
    log = [e for e in env.idp.log()[n:] if e["endpoint"] == "token"]
    assert log[-1]["error"] == "invalid_grant"


def test_env_and_plain_exec_refuse(dpop_env):
    env = dpop_env
    for args in (("env", "okta-admin"), ("exec", "okta-admin", "--", "true")):
        r = env.run(*args)
        assert r.returncode == 2, r
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, r.stderr
        assert "DPoP" in lines[0] or "dpop" in lines[0]
        assert "exec --server" in lines[0]
        assert r.stdout == ""
    # token still prints it (for dpop-proof users).
    r = env.run("token")
    assert r.returncode == 0 and r.stdout.strip() == env.tokens()["access_token"]


def test_logout_removes_the_key(dpop_env):
    env = dpop_env
    key = env.provider_dir() / "dpop-key.pem"
    assert key.exists()
    r = env.run("logout", "--revoke")
    assert r.returncode == 0, r.stderr
    assert not key.exists()
    revokes = [e for e in env.idp.log() if e["endpoint"] == "revoke"]
    assert revokes and all(e["dpop"] for e in revokes)
    assert revokes[-1]["status"] == 200


def test_proxy_calls_with_dpop_and_the_resource_nonce(dpop_env, api):
    env = dpop_env
    api.dpop(require_nonce=True)
    c = Child(env, api)
    try:
        for _ in range(3):
            r = c.ask("req", method="GET", path="/api/v1/users/me")
            assert r["status"] == 200, r
        r = c.ask("pages")
        assert r["ids"] == ["00g1", "00g2", "00g3", "00g4", "00g5"]
        r = c.ask("req", method="POST", path="/api/v1/groups",
                  headers={"Content-Type": "application/json"},
                  body=json.dumps({"profile": {"name": "g"}}))
        assert r["status"] == 200, r
        seen = c.ask("env")
        for real in (env.tokens()["access_token"], env.tokens()["refresh_token"]):
            assert real not in json.dumps(seen["environ"]) and real not in seen["proc"]
        rc, err = c.finish()
        assert rc == 0, err
    finally:
        c.kill()
    log = api.log()
    # The first request met the nonce demand and went again, once; the child never saw it.
    assert log[0]["status"] == 401 and log[0]["dpop_error"] == "nonce"
    assert all(e["status"] == 200 for e in log[1:]), log
    assert len(log) == 1 + 3 + 3 + 1
    jtis = [e["dpop_jti"] for e in log[1:]]
    assert len(set(jtis)) == len(jtis)



def test_proxy_drops_a_dpop_header_of_the_child(dpop_env, api):
    """The proxy's proof is the request's only one (RFC 9449 4.3: one DPoP header): one the
    child sent (its own key's, or junk) does not go on beside it."""
    env = dpop_env
    c = Child(env, api)
    try:
        r = c.ask("req", method="GET", path="/api/v1/users/me",
                  headers={"DPoP": "eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.AA"})
        assert r["status"] == 200, (r, api.log()[-1])
        rc, err = c.finish()
        assert rc == 0, err
    finally:
        c.kill()

def test_dpop_proof_for_curl_and_a_replay_is_refused(dpop_env, api):
    env = dpop_env
    url = api.base + "/api/v1/users/me"
    token = env.run("token").stdout.strip()
    r = env.run("dpop-proof", "--method", "GET", "--url", url + "?q=1#f")
    assert r.returncode == 0, r.stderr
    proof = r.stdout.strip()
    header, claims, sig = parts(proof)
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256"
    assert set(header["jwk"]) == {"kty", "crv", "x", "y"}
    assert len(sig) == 64
    assert claims["htm"] == "GET" and claims["htu"] == url
    assert claims["ath"] == b64u(hashlib.sha256(token.encode()).digest())
    curl = subprocess.run(["curl", "-sS", "--noproxy", "*", "-o", "/dev/null", "-w",
                           "%{http_code}", "-H", "Authorization: DPoP " + token,
                           "-H", "DPoP: " + proof, url], capture_output=True, text=True,
                          timeout=30)
    assert curl.stdout == "200", curl
    # The same proof again: refused, and said why.
    curl = subprocess.run(["curl", "-sS", "--noproxy", "*", "-o", "/dev/null", "-w",
                           "%{http_code}", "-H", "Authorization: DPoP " + token,
                           "-H", "DPoP: " + proof, url], capture_output=True, text=True,
                          timeout=30)
    assert curl.stdout == "401", curl
    assert api.log()[-1]["dpop_error"] == "replayed jti"
    # A proof for another method or URL, or as a bearer token: refused too.
    other = env.run("dpop-proof", "--method", "POST", "--url", url).stdout.strip()
    for headers in ({"Authorization": "DPoP " + token, "DPoP": other},
                    {"Authorization": "Bearer " + token}):
        req = urllib.request.Request(url, headers=headers)
        with pytest.raises(urllib.error.HTTPError) as e:
            OPENER.open(req, timeout=10)
        assert e.value.code == 401
    # Each run makes a new proof.
    again = env.run("dpop-proof", "--method", "GET", "--url", url).stdout.strip()
    assert parts(again)[1]["jti"] != claims["jti"]


def test_dpop_proof_refuses_a_provider_without_dpop(env):
    env.idp.settings(interval=1)
    rc, out, err = do_login(env)
    assert rc == 0, err
    r = env.run("dpop-proof", "--method", "GET", "--url", "https://example.com/")
    assert r.returncode == 2
    assert "dpop = true" in r.stderr


def test_cached_token_loads_no_libcrypto(dpop_env, tmp_path):
    """The key is needed only for a request: a token from the cache maps no libcrypto."""
    from test_lean import heavy, run_traced
    env = dpop_env
    n = len(env.idp.log())
    r, names = run_traced(env, tmp_path, "token")
    assert r.returncode == 0, r.stderr
    assert len(env.idp.log()) == n
    assert heavy(names) == []


def test_client_credentials_with_dpop(env, tmp_path):
    from harness import generate_key, jwk_from_pem
    from test_service_account import sa_config
    key = tmp_path / "robot.pem"
    generate_key(str(key), "EC")
    env.idp.add_service_client("0oa-robot-dpop", jwk_from_pem(str(key), kid="k1"),
                               server="org")
    sa_config(env, "0oa-robot-dpop", f"private_key = {key}", "private_key_id = k1",
              extra="dpop = true")
    env.idp.settings(dpop_require_nonce=True)
    r = env.run("token", "--json", "robot")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["token_type"] == "DPoP"
    log = [e for e in env.idp.log() if e["grant_type"] == "client_credentials"]
    assert [e["error"] for e in log] == ["use_dpop_nonce", None]
    assert [e["dpop"]["nonce"] for e in log] == [False, True]
    # Both the assertion and the proof were made anew for the second request.
    assert log[0]["jti_hash"] != log[1]["jti_hash"]
    assert log[0]["dpop"]["jti"] != log[1]["dpop"]["jti"]
    assert env.tokens("robot")["token_type"] == "DPoP"
    assert stat.S_IMODE((env.provider_dir("robot") / "dpop-key.pem").stat().st_mode) == 0o600


def test_a_retried_request_carries_a_new_proof(dpop_env):
    """http.c's retry of a 503 makes a new proof for the new attempt: a jti is never sent
    twice, whatever happens."""
    env = dpop_env
    env.idp.fault("/oauth2/v1/token", status=503, count=1)
    n = len(env.idp.log())
    r = env.run("refresh")
    assert r.returncode == 0, r.stderr
    log = [e for e in env.idp.log()[n:] if e["endpoint"] == "token"]
    assert log[0]["fault"] and log[-1]["status"] == 200
    jtis = [e["dpop"]["jti"] for e in log]
    assert len(log) >= 3 and len(set(jtis)) == len(jtis), log


def test_token_store_keyring_keeps_the_key_in_the_keyring(env, api, tmp_path_factory):
    from keyring_env import SecretService
    ss = SecretService.start(str(tmp_path_factory.mktemp("secret-service")))
    try:
        dpop_config(env, api, extra="token_store = keyring")
        env.env.update(ss.env)
        env.idp.settings(interval=1, dpop_require_nonce=True)
        rc, out, err = do_login(env)
        assert rc == 0, err
        pem = ss.lookup("okta-oidc", "dpop_key")
        assert pem and pem.startswith("-----BEGIN PRIVATE KEY-----")
        assert not (env.provider_dir() / "dpop-key.pem").exists()
        assert pem not in "".join(p.read_text(errors="replace")
                                  for p in env.home.rglob("*") if p.is_file())
        assert env.tokens()["token_type"] == "DPoP"
        r = env.run("refresh")  # the same key, read back from the keyring
        assert r.returncode == 0, r.stderr
        r = env.run("logout")
        assert r.returncode == 0, r.stderr
        assert ss.lookup("okta-oidc", "dpop_key") is None
    finally:
        ss.stop()


def test_config_validate_online_checks_the_server_takes_es256_proofs(env, api):
    dpop_config(env, api)
    r = env.run("config", "validate", "--online")
    assert r.returncode == 0, r.stderr
    disc = json.loads(OPENER.open(env.idp.base + "/.well-known/openid-configuration",
                                  timeout=10).read())
    assert "ES256" in disc["dpop_signing_alg_values_supported"]


def test_kubectl_gets_no_dpop_bound_access_token(env, api):
    dpop_config(env, api)
    with open(env.config, "a") as f:
        f.write("\n[identity kube]\nkind = kubernetes/exec-credential\nprovider = okta-oidc\n"
                "token = access\n")
    r = env.run("config", "validate")
    assert r.returncode == 2
    assert "DPoP-bound" in r.stderr and "token = id" in r.stderr


def test_setting_dpop_means_logging_in_again(env, api):
    """A bearer session is no session for dpop = true (nor the reverse): its tokens would be
    sent under the wrong scheme."""
    dpop_config(env, api)
    text = env.config.read_text()
    env.write_config(text.replace("dpop = true\n", ""))
    env.idp.settings(interval=1)
    rc, out, err = do_login(env)
    assert rc == 0, err
    assert env.tokens()["token_type"] == "Bearer"
    assert env.run("token").returncode == 0
    env.write_config(text)
    n = len(env.idp.log())
    r = env.run("token")
    assert r.returncode == 3, r.stderr
    assert "oktacred login" in r.stderr
    assert len(env.idp.log()) == n, "the bearer session's refresh token was not used"


def test_a_key_file_is_read_as_pem_never_as_a_path(dpop_env, tmp_path):
    """The key file's text is a key, whatever its first bytes: never a file name to open
    (another key elsewhere), and never quoted in an error."""
    env = dpop_env
    key = env.provider_dir() / "dpop-key.pem"
    pem = key.read_text()
    body = "".join(pem.splitlines()[1:-1])
    # A blank line before the PEM (an editor, a copy): still the same key.
    key.write_text("\n" + pem)
    r = env.run("dpop-proof", "--method", "GET", "--url", "https://example.com/x")
    assert r.returncode == 0, r.stderr
    assert body[:40] not in r.stderr
    # A file that names another key file: refused, not followed.
    other = tmp_path / "other.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", str(other)], check=True,
                   capture_output=True)
    os.chmod(other, 0o600)
    key.write_text(str(other))
    r = env.run("dpop-proof", "--method", "GET", "--url", "https://example.com/x")
    assert r.returncode != 0
    assert str(other) not in r.stderr
    assert len(r.stderr.strip().splitlines()) <= 2, r.stderr


@not_under("asan", "LeakSanitizer cannot run under strace (ptrace)")
def test_a_key_creation_killed_leaves_no_key_behind(env, tmp_path):
    """kill -9 just before the new key is linked into place: the next run makes the key
    (one file), and logout then leaves no copy of any private key in the directory."""
    import shutil
    from harness import generate_key, jwk_from_pem
    from test_service_account import sa_config
    if not shutil.which("strace"):
        pytest.skip("strace is not installed")
    key = tmp_path / "robot.pem"
    generate_key(str(key), "EC")
    env.idp.add_service_client("0oa-robot-dpop-kill", jwk_from_pem(str(key), kid="k1"),
                               server="org")
    sa_config(env, "0oa-robot-dpop-kill", f"private_key = {key}", "private_key_id = k1",
              extra="dpop = true")
    r = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=link,linkat",
                        "-e", "inject=link,linkat:signal=KILL", OKTACRED_UNWRAPPED, "token", "robot"],
                       env=env.env, capture_output=True, text=True, timeout=60)
    if "PTRACE" in r.stderr.upper():
        pytest.skip("ptrace is not permitted here")
    assert r.returncode != 0
    d = env.provider_dir("robot")
    assert not (d / "dpop-key.pem").exists()
    r = env.run("token", "robot")
    assert r.returncode == 0, r.stderr
    r = env.run("logout", "robot")
    assert r.returncode == 0, r.stderr
    left = [p.name for p in d.iterdir()
            if p.is_file() and "PRIVATE KEY" in p.read_text(errors="replace")]
    assert left == []
