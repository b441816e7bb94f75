"""session_duration (a session ends that long after its login, whatever its refresh token
would allow: exit 3 with the login hint) and tokens.json's names: session_started_at,
refresh_token_expires_at (the earlier refresh_expires_at still read)."""
import json
import time

from conftest import do_login


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def refresh_grants(idp):
    return [e for e in idp.log() if e.get("grant_type") == "refresh_token"]


def age_session(env, seconds, keep_field=True):
    t = env.tokens()
    if keep_field:
        t["session_started_at"] = iso(time.time() - seconds)
    else:
        t.pop("session_started_at", None)
        t["obtained_at"] = iso(time.time() - seconds)
    env.tokens_path().write_text(json.dumps(t))
    return t


def test_login_records_the_start_and_refresh_keeps_it(logged_in):
    env = logged_in
    t = env.tokens()
    assert abs(time.mktime(time.strptime(t["session_started_at"], "%Y-%m-%dT%H:%M:%SZ")) -
               time.mktime(time.strptime(t["obtained_at"], "%Y-%m-%dT%H:%M:%SZ"))) < 2
    started = age_session(env, 7200)["session_started_at"]
    r = env.run("refresh")
    assert r.returncode == 0, r.stderr
    assert len(refresh_grants(env.idp)) == 1
    t2 = env.tokens()
    assert t2["session_started_at"] == started and t2["session"] == t["session"]
    assert t2["access_token"] != t["access_token"]


def test_an_old_session_ends(logged_in):
    env = logged_in
    env.write_config(extra="session_duration = 1h")
    age_session(env, 1800)
    r = env.run("token")
    assert r.returncode == 0, r.stderr
    age_session(env, 3700)
    for args in (["token"], ["env", "okta-admin"], ["exec", "okta-admin", "--", "true"],
                 ["refresh"]):
        r = env.run(*args)
        assert r.returncode == 3, (args, r.stderr)
        assert r.stdout == ""
        assert "session_duration" in r.stderr and "run: oktacred login okta-oidc" in r.stderr
    assert refresh_grants(env.idp) == [], "the refresh token is not used"
    r = env.run("status", "okta-oidc")
    assert r.returncode == 3 and "session:  ended" in r.stdout, r.stdout
    # Unset: no limit beyond Okta's own.
    env.write_config()
    assert env.run("token").returncode == 0


def test_a_file_without_the_start_counts_from_obtained_at(logged_in):
    env = logged_in
    env.write_config(extra="session_duration = 1h")
    age_session(env, 3700, keep_field=False)
    r = env.run("token")
    assert r.returncode == 3 and "session_duration" in r.stderr, r.stderr


def test_login_after_the_end_logs_in_again(logged_in):
    env = logged_in
    env.write_config(extra="session_duration = 1h")
    old = age_session(env, 3700)
    rc, out, err = do_login(env)
    assert rc == 0, err
    assert "already logged in" not in err
    t = env.tokens()
    assert t["session"] != old["session"]
    assert env.run("token").returncode == 0


def test_refresh_token_expiry_names(logged_in):
    env = logged_in
    t = env.tokens()
    t.pop("refresh_token_expires_at", None)
    t["refresh_expires_at"] = "2099-01-01T00:00:00Z"  # as earlier versions wrote it
    env.tokens_path().write_text(json.dumps(t))
    r = env.run("status", "--json", "okta-oidc")
    assert r.returncode == 0, r.stderr
    [s] = json.loads(r.stdout)
    assert s["refresh_expires_at"] == "2099-01-01T00:00:00Z"
