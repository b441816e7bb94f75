"""token_store = keyring: the secrets in a real Secret Service (gnome-keyring-daemon inside
dbus-run-session, see keyring_env.py), only metadata in tokens.json; no Secret Service, or a
locked one: a fast, clear error and nothing on disk."""
import json
import os
import stat
import subprocess
import time
import urllib.request

import pytest

from conftest import OKTACRED, do_login
from harness import decode_jwt
from keyring_env import SecretService

PROVIDER = "okta-oidc"
KINDS = ("access_token", "refresh_token", "id_token")
NO_BUS = {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/oktacred-test-bus"}


@pytest.fixture(scope="module")
def secret_service(tmp_path_factory):
    ss = SecretService.start(str(tmp_path_factory.mktemp("secret-service")))
    try:
        yield ss
    finally:
        ss.stop()


def use_keyring(env, ss):
    env.write_config(extra="token_store = keyring")
    env.env.update(ss.env)
    env.ss = ss
    ss.clear(PROVIDER)
    return env


@pytest.fixture
def kenv(env, secret_service):
    """A user whose provider keeps its tokens in the module's Secret Service."""
    use_keyring(env, secret_service)
    yield env
    secret_service.clear(PROVIDER)


@pytest.fixture
def klogged_in(kenv):
    kenv.idp.settings(interval=1)
    rc, out, err = do_login(kenv)
    assert rc == 0, err
    return kenv


def secrets(env):
    return {k: env.ss.lookup(PROVIDER, k) for k in KINDS}


def userinfo(idp, access_token):
    """What the identity provider says about the bearer of access_token."""
    req = urllib.request.Request(idp.endpoint("default", "userinfo"),
                                 headers={"Authorization": "Bearer " + access_token})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=30) as resp:
        return json.loads(resp.read())


def refresh_grants(idp):
    return [e for e in idp.log()
            if e["endpoint"] == "token" and e["grant_type"] == "refresh_token"]


def assert_metadata_only(env, values):
    """tokens.json is 0600, has the expiry and cache key, and no secret in any form."""
    path = env.tokens_path()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    t = json.loads(text)
    assert not set(KINDS) & set(t), t
    for v in values:
        assert v and v not in text
    assert t["expires_at"] and t["org_url"] == env.idp.base and t["client_id"]
    return t


def assert_nothing_on_disk(root, values):
    """No file under root holds any of the values."""
    for dirpath, _, files in os.walk(root):
        for f in files:
            with open(os.path.join(dirpath, f), "rb") as fh:
                data = fh.read()
            for v in values:
                assert v.encode() not in data, os.path.join(dirpath, f)


def expire(env):
    t = env.tokens()
    t["expires_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    env.tokens_path().write_text(json.dumps(t))


def test_login_status_logout_cycle(kenv):
    env, ss = kenv, kenv.ss
    env.idp.settings(interval=1)
    rc, out, err = do_login(env)
    assert rc == 0, err
    assert "Logged in to okta-oidc (%s/oauth2/default) as alice@example.com;" % env.idp.base in err

    # The keyring holds the three tokens, and they are the real ones.
    s = secrets(env)
    assert all(s.values()), s
    claims = decode_jwt(s["id_token"])
    assert claims["email"] == "alice@example.com" and claims["aud"] == "0oa-test-native"
    assert userinfo(env.idp, s["access_token"])["email"] == "alice@example.com"
    items = ss.items(PROVIDER)
    assert sorted(i["label"] for i in items) == ["oktacred: okta-oidc " + k for k in sorted(KINDS)]
    assert {i["schema"] for i in items} == {"org.oktacred.Token"}

    # The file keeps the metadata only; no secret anywhere under HOME.
    t = assert_metadata_only(env, s.values())
    assert t["token_type"] == "Bearer" and "offline_access" in t["scope"]
    assert_nothing_on_disk(env.home, s.values())

    # Reading back: status, the session reused by login, token.
    r = env.run("status")
    assert r.returncode == 0, r.stderr
    assert "alice@example.com" in r.stdout
    r = env.run("login", "--no-browser")
    assert r.returncode == 0 and "already logged in" in r.stderr, r.stderr
    r = env.run("token")
    assert r.returncode == 0, r.stderr
    assert r.stdout == s["access_token"] + "\n"
    assert r.stderr == "", "no GLib or libsecret noise"
    r = env.run("token", "--id-token")
    assert r.returncode == 0 and r.stdout.strip() == s["id_token"]

    # Items oktacred did not make (another provider, no schema) survive the logout.
    ss.secret_tool("store", "--label=other", "provider", "other", "kind", "access_token",
                   input="other-secret")
    ss.secret_tool("store", "--label=foreign", "provider", PROVIDER, "kind", "note",
                   input="foreign-secret")
    try:
        r = env.run("logout")
        assert r.returncode == 0, r.stderr
        assert "logged out" in r.stderr
        assert secrets(env) == {k: None for k in KINDS}
        assert not env.tokens_path().exists()
        assert ss.lookup("other", "access_token") == "other-secret"
        assert ss.lookup(PROVIDER, "note") == "foreign-secret"
    finally:
        ss.clear("other")
    r = env.run("status")
    assert r.returncode == 3 and "not logged in" in r.stdout
    r = env.run("logout")
    assert r.returncode == 0 and "not logged in" in r.stderr


def test_logout_all_wipes_the_keyring_of_a_provider_no_longer_configured(klogged_in):
    """The configuration that said token_store = keyring is gone with the provider: logout
    --all wipes that name's items in the Secret Service as well as its directory."""
    env = klogged_in
    assert all(secrets(env).values())
    env.write_config(
        "[provider okta-new]\nkind = okta/device-code\n"
        f"org_url = {env.idp.base}\nclient_id = 0oa-test-native\n"
        "scopes = openid offline_access\n")
    r = env.run("logout", "--all")
    assert r.returncode == 0, r.stderr
    assert "oktacred: okta-oidc: logged out (no longer in the configuration)" in r.stderr
    assert secrets(env) == {k: None for k in KINDS}
    assert not env.provider_dir().exists()


def test_logout_all_of_a_keyring_orphan_without_a_secret_service_says_so(klogged_in):
    """Its tokens.json held no tokens: they were in the keyring, which must be reached to
    forget them, as for a configured provider's logout."""
    env = klogged_in
    env.write_config(
        "[provider okta-new]\nkind = okta/device-code\n"
        f"org_url = {env.idp.base}\nclient_id = 0oa-test-native\n"
        "scopes = openid offline_access\n")
    r = env.run("logout", "--all", env=NO_BUS)
    assert r.returncode == 1, r.stderr
    assert "okta-oidc (no longer in the configuration; its tokens were in the keyring)" \
        in r.stderr and "Secret Service" in r.stderr, r.stderr
    assert all(secrets(env).values()), "nothing could be deleted there"
    r = env.run("logout", "--all")
    assert r.returncode == 0, r.stderr
    assert "oktacred: okta-oidc: logged out (no longer in the configuration)" in r.stderr
    assert secrets(env) == {k: None for k in KINDS}
    assert not env.provider_dir().exists()


def test_refresh_replaces_the_keyring_secrets(klogged_in):
    env = klogged_in
    old = secrets(env)
    env.idp.reset()
    r = env.run("refresh")
    assert r.returncode == 0, r.stderr
    assert len(refresh_grants(env.idp)) == 1
    new = secrets(env)
    assert all(new.values())
    assert new["access_token"] != old["access_token"]
    assert new["refresh_token"] != old["refresh_token"], "the provider rotates"
    assert userinfo(env.idp, new["access_token"])["email"] == "alice@example.com"
    assert_metadata_only(env, list(old.values()) + list(new.values()))
    r = env.run("token")
    assert r.returncode == 0 and r.stdout == new["access_token"] + "\n"


def test_expired_access_token_is_refreshed_once_for_many_callers(klogged_in):
    env = klogged_in
    old = secrets(env)
    expire(env)
    env.idp.reset()
    procs = [subprocess.Popen([OKTACRED, "token"], env=dict(env.env), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(8)]
    results = [(p.wait(timeout=60), p.stdout.read().decode(), p.stderr.read().decode())
               for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert [rc for rc, _, _ in results] == [0] * 8, results
    new = secrets(env)
    assert {out for _, out, _ in results} == {new["access_token"] + "\n"}
    assert new["access_token"] != old["access_token"]
    assert len(refresh_grants(env.idp)) == 1
    assert_metadata_only(env, list(old.values()) + list(new.values()))


def test_switching_from_file_never_uses_the_file_secrets(env, secret_service):
    env.idp.settings(interval=1)
    rc, _, err = do_login(env)  # token_store = file
    assert rc == 0, err
    file_secrets = [env.tokens()[k] for k in KINDS]
    use_keyring(env, secret_service)
    try:
        r = env.run("status")
        assert r.returncode == 3, r.stderr  # the keyring has nothing: no session
        rc, _, err = do_login(env)
        assert rc == 0, err
        assert_metadata_only(env, file_secrets + list(secrets(env).values()))
    finally:
        secret_service.clear(PROVIDER)


@pytest.mark.parametrize("bus", [NO_BUS, {}, {"DISPLAY": ":99"}],
                         ids=["missing-socket", "unset", "unset-with-display"])
def test_no_secret_service_fails_fast_before_login(env, bus):
    env.write_config(extra="token_store = keyring")
    env.idp.settings(interval=1)
    for args in (["login", "--no-browser"], ["status"]):
        start = time.monotonic()
        r = env.run(*args, env=bus, timeout=20)
        assert time.monotonic() - start < 5, "must not hang (no dbus-launch autolaunch)"
        assert r.returncode == 1, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert "Secret Service" in lines[0] and "okta-oidc" in lines[0], r.stderr
        assert any("token_store = file" in line for line in lines), r.stderr
        assert len(lines) <= 2, r.stderr
    # It failed before the device flow: no code shown, no request, nothing written.
    assert "enter the code" not in r.stderr
    assert not [e for e in env.idp.log() if e["endpoint"] == "device"]
    assert not env.provider_dir().exists() or os.listdir(env.provider_dir()) in ([], [".lock"])


def test_secret_service_gone_after_login(klogged_in):
    env = klogged_in
    s = secrets(env)
    r = env.run("status", env=NO_BUS)
    assert r.returncode == 1
    assert "cannot reach the Secret Service" in r.stderr and "token_store = file" in r.stderr
    r = env.run("token", env=NO_BUS)
    assert r.returncode == 1 and r.stdout == ""
    assert "Secret Service" in r.stderr
    for v in s.values():
        assert v not in r.stderr
    # logout removes what it can (the file) and reports the keyring.
    r = env.run("logout", env=NO_BUS)
    assert r.returncode == 1
    assert "Secret Service" in r.stderr
    assert not env.tokens_path().exists()
    assert secrets(env) == s, "the keyring could not be reached: its items are still there"
    r = env.run("logout")
    assert r.returncode == 0 and "logged out" in r.stderr
    assert secrets(env) == {k: None for k in KINDS}


def test_locked_keyring_is_an_error_not_a_prompt(env, tmp_path):
    ss = SecretService.start(str(tmp_path / "locked-secret-service"))
    try:
        use_keyring(env, ss)
        env.idp.settings(interval=1)
        rc, _, err = do_login(env)
        assert rc == 0, err
        s = secrets(env)
        ss.lock()
        for args in (["status"], ["token"], ["login", "--no-browser"], ["logout"]):
            start = time.monotonic()
            r = env.run(*args, timeout=30)
            assert time.monotonic() - start < 10, "no prompt waited for"
            assert r.returncode == 1, (args, r.stderr)
            assert "locked" in r.stderr and "token_store = file" in r.stderr, r.stderr
        # logout removed the file but could not remove the locked items, and said so.
        assert not env.tokens_path().exists()
        # (secret-tool search does not unlock, so it cannot prompt either.)
        assert len(ss.items(PROVIDER)) == 3, "the locked items are still there"
        assert all(s.values())
    finally:
        ss.stop()
