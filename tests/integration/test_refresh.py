"""The refresh module: one refresh for N concurrent callers, dead sessions, revocation,
`oktacred token` and `oktacred refresh`."""
import json
import os
import socket
import subprocess
import time

from conftest import OKTACRED
from harness import decode_jwt


def refresh_grants(idp):
    return [e for e in idp.log() if e["endpoint"] == "token" and e["grant_type"] == "refresh_token"]


def expire_access_token(env, name="okta-oidc", **changes):
    """Rewrites tokens.json in place (keeping its 0600 mode) as if time had passed."""
    t = env.tokens(name)
    t["expires_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    t.update(changes)
    env.tokens_path(name).write_text(json.dumps(t))
    return t


def test_token_prints_the_cached_access_token_without_a_request(logged_in):
    env = logged_in
    env.idp.reset()
    r = env.run("token")
    assert r.returncode == 0, r.stderr
    assert r.stdout == env.tokens()["access_token"] + "\n"
    assert r.stderr == ""
    assert env.idp.log() == []


def test_token_id_token_and_json(logged_in):
    env = logged_in
    r = env.run("token", "--id-token")
    assert r.returncode == 0
    assert r.stdout.strip() == env.tokens()["id_token"]
    r = env.run("token", "--json", "okta-admin")
    assert r.returncode == 0
    j = json.loads(r.stdout)
    assert j["access_token"] == env.tokens()["access_token"]
    assert j["token_type"] == "Bearer" and j["expires_at"] == env.tokens()["expires_at"]


def test_expired_access_token_is_refreshed_and_rotated(logged_in):
    env = logged_in
    old = expire_access_token(env, id_token="stale.id.token")
    env.idp.reset()
    r = env.run("token")
    assert r.returncode == 0, r.stderr
    new = env.tokens()
    assert r.stdout.strip() == new["access_token"] != old["access_token"]
    assert new["refresh_token"] != old["refresh_token"], "the provider rotates"
    assert new["id_token"] != "stale.id.token", "scope includes openid: a new ID token"
    assert decode_jwt(new["id_token"])["email"] == "alice@example.com"
    [grant] = refresh_grants(env.idp)
    assert grant["status"] == 200


def test_stampede_makes_exactly_one_refresh(logged_in):
    env = logged_in
    old = expire_access_token(env)
    env.idp.reset()
    e = dict(env.env)
    procs = [subprocess.Popen([OKTACRED, "token"], env=e, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
             for _ in range(32)]
    results = [(p.wait(timeout=60), p.stdout.read().decode(), p.stderr.read().decode())
               for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert [rc for rc, _, _ in results] == [0] * 32, results
    tokens = {out for _, out, _ in results}
    assert len(tokens) == 1, "every caller gets the same new token"
    new = env.tokens()
    assert tokens == {new["access_token"] + "\n"} and new["access_token"] != old["access_token"]
    assert len(refresh_grants(env.idp)) == 1
    # The session survived (a second refresh with a reused token would have revoked it).
    r = env.run("refresh")
    assert r.returncode == 0, r.stderr
    assert len(refresh_grants(env.idp)) == 2


def test_rejected_refresh_token_ends_the_session(logged_in):
    env = logged_in
    expire_access_token(env, refresh_token="not-a-valid-refresh-token")
    r = env.run("token")
    assert r.returncode == 3
    assert r.stdout == ""
    assert "okta-oidc" in r.stderr and "run: oktacred login okta-oidc" in r.stderr
    assert not env.tokens_path().exists(), "the dead tokens are removed"


def test_provider_down_during_refresh_exits_4_and_keeps_the_cache(logged_in):
    env = logged_in
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = "http://127.0.0.1:%d" % s.getsockname()[1]
    s.close()
    env.write_config(env.config.read_text().replace(env.idp.base, dead))
    expire_access_token(env, org_url=dead)
    before = env.tokens_path().read_bytes()
    r = env.run("token")
    assert r.returncode == 4, r.stderr
    assert r.stdout == ""
    assert env.tokens_path().read_bytes() == before


def test_server_errors_during_refresh_exit_4_and_keep_the_cache(logged_in):
    env = logged_in
    expire_access_token(env)
    before = env.tokens_path().read_bytes()
    env.idp.fault(path="/oauth2/default/v1/token", status=500, count=10)
    r = env.run("token")
    assert r.returncode == 4, r.stderr
    assert "HTTP 500" in r.stderr
    assert env.tokens_path().read_bytes() == before


def test_login_reuses_a_refreshable_session(logged_in):
    env = logged_in
    expire_access_token(env)
    env.idp.reset()
    r = env.run("login", "--no-browser")
    assert r.returncode == 0, r.stderr
    assert "refreshed" in r.stderr
    log = env.idp.log()
    assert [e["endpoint"] for e in log] == ["token"]
    assert log[0]["grant_type"] == "refresh_token"


def test_refresh_command_and_all(logged_in):
    env = logged_in
    old = env.tokens()
    r = env.run("refresh", "okta-admin")
    assert r.returncode == 0, r.stderr
    assert env.tokens()["access_token"] != old["access_token"]
    mid = env.tokens()
    r = env.run("refresh", "--all")
    assert r.returncode == 0, r.stderr
    assert env.tokens()["access_token"] != mid["access_token"]


def test_refresh_without_session_exits_3(env):
    r = env.run("refresh")
    assert r.returncode == 3
    assert "run: oktacred login okta-oidc" in r.stderr
    # --all skips providers that have no session.
    assert env.run("refresh", "--all").returncode == 0


def test_logout_revoke_kills_the_refresh_token(logged_in):
    env = logged_in
    rt = env.tokens()["refresh_token"]
    r = env.run("logout", "--revoke")
    assert r.returncode == 0, r.stderr
    assert not env.tokens_path().exists()
    assert any(e["endpoint"] == "revoke" for e in env.idp.log())
    status, body = env.idp.refresh(rt)
    assert status == 400 and body["error"] == "invalid_grant"
    # Said, not only done; a plain logout says nothing of the kind.
    assert r.stderr.splitlines() == [
        "oktacred: okta-oidc: revoked the refresh and access tokens at %s/oauth2/default"
        % env.idp.base,
        "oktacred: okta-oidc: logged out"], r.stderr


def test_logout_without_revoke_says_nothing_was_revoked(logged_in):
    r = logged_in.run("logout")
    assert r.returncode == 0, r.stderr
    assert r.stderr == "oktacred: okta-oidc: logged out\n"
    assert not [e for e in logged_in.idp.log() if e["endpoint"] == "revoke"]


def test_kill_during_refresh_never_loses_the_session(logged_in):
    """kill -9 at varied moments of a refresh: before the request, while the provider holds
    the answer back (the token already rotated there), after. The cache always parses and
    the next call works: either the old tokens (reused within Okta's grace period) or the
    new ones."""
    env = logged_in
    env.idp.settings(refresh_grace_s=30, token_delay_ms=400)
    for delay in (0.0, 0.05, 0.15, 0.3, 0.45, 0.6):
        expire_access_token(env)
        proc = env.start("token")
        time.sleep(delay)  # the moment of the crash is what this test varies
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        t = env.tokens()  # parses: never half-written
        assert t["access_token"] and t["refresh_token"]
        leftovers = [f for f in os.listdir(env.provider_dir())
                     if f not in ("tokens.json", "jwks.json", ".lock")]
        assert leftovers == [], leftovers
        r = env.run("token")
        assert r.returncode == 0, (delay, r.stderr)
    env.idp.settings(token_delay_ms=0)
    r = env.run("refresh")
    assert r.returncode == 0, r.stderr


def test_refresh_asks_for_the_scope_that_was_granted(logged_in):
    """RFC 6749 6: the refresh carries the granted scope (tokens.json's scope), not the
    configured list (which may ask for more than was granted)."""
    env = logged_in
    granted = "openid email offline_access"
    expire_access_token(env, scope=granted)
    r = env.run("refresh")
    assert r.returncode == 0, r.stderr
    [rf] = [e for e in env.idp.log() if e.get("grant_type") == "refresh_token"]
    assert rf["status"] == 200
    assert sorted(rf["scope"].split()) == sorted(granted.split())
    assert sorted(env.tokens()["scope"].split()) == sorted(granted.split())
