"""`oktacred login`: the device flow end to end, approved through /activate."""
import json
import os
import re
import shutil
import signal
import stat
import time

import pytest

import qrdecode

from conftest import Login, do_login


def polls(idp):
    return [e for e in idp.log()
            if e["endpoint"] == "token" and e["grant_type"].endswith("device_code")]


def test_full_login_saves_tokens_privately(env):
    env.idp.settings(interval=1)
    before = time.time()
    rc, out, err = do_login(env)
    assert rc == 0, err
    assert out == "", "login must print nothing on stdout"
    assert "Logged in to okta-oidc (%s/oauth2/default) as alice@example.com;" % env.idp.base in err
    t = env.tokens()
    for key in ("access_token", "refresh_token", "id_token"):
        assert isinstance(t[key], str) and t[key]
    assert t["token_type"] == "Bearer"
    assert t["org_url"] == env.idp.base and t["client_id"] == "0oa-test-native"
    expires = time.mktime(time.strptime(t["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert before + t["expires_in"] - 5 <= expires <= time.time() + t["expires_in"] + 5
    # Files 0600 in 0700 directories, all the way up to the root.
    assert stat.S_IMODE(os.stat(env.tokens_path()).st_mode) == 0o600
    for d in (env.root, env.root / "okta", env.provider_dir()):
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700, d
    # jwks.json: the keys the ID token was validated with (public, 0600 all the same).
    assert sorted(os.listdir(env.provider_dir())) == [".lock", "jwks.json", "tokens.json"]
    assert stat.S_IMODE(os.stat(env.provider_dir() / "jwks.json").st_mode) == 0o600


def test_org_authorization_server(env):
    env.write_config(server="org")
    env.idp.settings(interval=1)
    rc, out, err = do_login(env)
    assert rc == 0, err
    servers = {e["server"] for e in env.idp.log()}
    assert servers == {"org"}
    assert env.tokens()["authorization_server"] == "org"


def complete_uri(err):
    return re.search(r"or open (\S+/activate\?user_code=\S+)", err).group(1)


@pytest.mark.skipif(not shutil.which("zbarimg"), reason="zbarimg (zbar-tools) is not installed")
def test_qr_code_scans_to_the_verification_url_and_goes_to_the_terminal(env):
    env.idp.settings(interval=1)
    rc, out, err = do_login(env)
    assert rc == 0 and out == ""
    assert "\u2580" in err or "\u2584" in err, "UTF-8 half blocks expected"
    assert qrdecode.decode(err) == complete_uri(err)


@pytest.mark.skipif(not shutil.which("zbarimg"), reason="zbarimg (zbar-tools) is not installed")
def test_qr_plain_fallback_without_utf8(env):
    env.env["LANG"] = "C"
    env.idp.settings(interval=1)
    rc, out, err = do_login(env)
    assert rc == 0
    assert "\u2580" not in err and "##" in err
    assert qrdecode.decode(err) == complete_uri(err)


def test_no_qr(env):
    env.idp.settings(interval=1)
    rc, out, err = do_login(env, "--no-qr")
    assert rc == 0
    assert "\u2580" not in err and "##" not in err and "enter the code" in err


def test_first_poll_waits_one_interval_and_slow_down_adds_five_seconds(env):
    env.idp.settings(interval=1, force_slow_down=1)
    login = Login(env.start("login", "--no-browser", "--no-qr"))
    try:
        code = login.wait_for_code()
        # Approve only after the slow_down has been answered, so we see the gap after it.
        deadline = time.time() + 20
        while not any(p["error"] == "slow_down" for p in polls(env.idp)):
            assert time.time() < deadline, "no poll was answered slow_down"
            time.sleep(0.1)
        from approve import approve
        approve(env.idp.base, code)
        rc, out, err = login.finish()
    finally:
        login.kill()
    assert rc == 0, err
    log = env.idp.log()
    device = [e for e in log if e["endpoint"] == "device"][0]
    p = polls(env.idp)
    assert p[0]["t"] - device["t"] >= 1.0, "the first poll must come one interval later"
    i = next(k for k, e in enumerate(p) if e["error"] == "slow_down")
    assert len(p) > i + 1
    assert p[i + 1]["t"] - p[i]["t"] >= 1 + 5 - 0.05, "slow_down must add 5 s"
    for a, b in zip(p[i + 1:], p[i + 2:]):
        assert b["t"] - a["t"] >= 6 - 0.05, "the slower interval holds for every later poll"
    # Never polled faster than the interval the provider asked for.
    assert not any(e["error"] == "slow_down" for e in p[i + 1:])


def test_denied_login_exits_5_and_saves_nothing(env):
    env.idp.settings(interval=1)
    rc, out, err = do_login(env, deny=True)
    assert rc == 5, err
    assert "denied" in err
    assert not env.tokens_path().exists()


def test_expired_device_code_exits_5(env):
    env.idp.settings(interval=1, device_expires_in=3)
    login = Login(env.start("login", "--no-browser", "--no-qr"))
    try:
        login.wait_for_code()
        rc, out, err = login.finish(timeout=30)
    finally:
        login.kill()
    assert rc == 5, err
    assert "expired" in err
    assert not env.tokens_path().exists()


def test_ctrl_c_while_polling_exits_130_and_leaves_no_files(env):
    env.idp.settings(interval=1)
    login = Login(env.start("login", "--no-browser", "--no-qr"))
    try:
        login.wait_for_code()
        deadline = time.time() + 20
        while not polls(env.idp):
            assert time.time() < deadline
            time.sleep(0.05)
        login.proc.send_signal(signal.SIGINT)
        rc, out, err = login.finish(timeout=10)
    finally:
        login.kill()
    assert rc == 130, err
    assert "interrupted" in err
    assert not env.tokens_path().exists()
    d = env.provider_dir()
    assert not d.exists() or [f for f in os.listdir(d) if f != ".lock"] == []


def test_valid_session_is_reused_unless_force(logged_in):
    env = logged_in
    env.idp.reset()
    env.idp.settings(interval=1)
    first = env.tokens()["access_token"]
    r = env.run("login", "--no-browser")
    assert r.returncode == 0, r.stderr
    assert "already logged in" in r.stderr
    # What to run next is said on this path too.
    assert 'oktacred: next: eval "$(oktacred env okta-admin)"' in r.stderr, r.stderr
    assert [e for e in env.idp.log() if e["endpoint"] == "device"] == []
    rc, out, err = do_login(env, "--force")
    assert rc == 0, err
    assert env.tokens()["access_token"] != first


def test_identity_name_and_provider_name_both_log_in(env):
    env.idp.settings(interval=1)
    rc, _, err = do_login(env, "okta-oidc")
    assert rc == 0, err
    rc, _, err = do_login(env, "okta-admin", "--force")
    assert rc == 0, err


def test_unknown_name_is_a_usage_error(env):
    r = env.run("login", "nope")
    assert r.returncode == 2
    assert "nope" in r.stderr


def test_provider_down_exits_4(env, tmp_path):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    env.write_config(env.config.read_text().replace(env.idp.base, "http://127.0.0.1:%d" % port))
    r = env.run("login", "--no-browser")
    assert r.returncode == 4, r.stderr
    assert "127.0.0.1:%d" % port in r.stderr
    assert len(r.stderr.strip().splitlines()) <= 2


def test_server_errors_are_retried(env):
    env.idp.settings(interval=1)
    env.idp.fault(path="/oauth2/default/v1/device/authorize", status=503, count=2)
    rc, out, err = do_login(env)
    assert rc == 0, err
    assert len([e for e in env.idp.log() if e["endpoint"] == "device"]) >= 1


def test_html_error_page_is_a_clear_error(env):
    env.idp.fault(path="/oauth2/default/v1/device/authorize", status=200, count=1,
                  body="<html><body>Maintenance</body></html>",
                  headers={"Content-Type": "text/html"})
    r = env.run("login", "--no-browser")
    assert r.returncode == 4, r.stderr
    assert "not JSON" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_debug_trace_redacts_every_secret(env):
    env.idp.settings(interval=1)
    rc, out, err = do_login(env, "--debug")
    assert rc == 0, err
    assert "POST" in err and "<redacted>" in err
    t = env.tokens()
    for key in ("access_token", "refresh_token", "id_token"):
        assert t[key] not in err, key
    assert "device_code=<redacted>" in err or '"device_code":"<redacted>"' in err.replace(" ", "")


def debug_trace(err):
    return [line for line in err.splitlines() if line.startswith("oktacred: debug:")]


def test_debug_trace_hides_the_user_code_everywhere(env):
    """The user code is hidden in the --debug trace wherever it appears: user_code and
    verification_uri_complete (whose ?user_code= holds it) alike. The prompt shows it: it
    is there to be typed."""
    env.idp.settings(interval=1)
    rc, out, err = do_login(env, "--debug", "--no-qr")
    assert rc == 0, err
    code = re.search(r"enter the code (\S+)", err).group(1)
    answer = [line for line in debug_trace(err) if '"user_code":' in line]
    assert len(answer) == 1, err
    assert '"user_code":"<redacted>"' in answer[0]
    assert '"verification_uri_complete":"<redacted>"' in answer[0]
    assert not [line for line in debug_trace(err) if code in line or "user_code=" in line]
    assert len([line for line in err.splitlines() if code in line]) == 2, err


def test_debug_trace_hides_the_user_code_in_any_value(env):
    """A server that puts the code in verification_uri too: hidden there as well."""
    code = "WDJBMJHT"
    env.idp.fault(path="/oauth2/default/v1/device/authorize", status=200, body=json.dumps({
        "device_code": "d" * 43, "user_code": code, "expires_in": 600, "interval": 1,
        "verification_uri": env.idp.base + "/activate?user_code=" + code}),
        headers={"Content-Type": "application/json"})
    login = Login(env.start("--debug", "login", "--no-browser", "--no-qr"))
    try:
        login.wait_for_code()
    finally:
        login.kill()
    trace = debug_trace(login.err.decode())
    assert any('"verification_uri":"%s/activate?user_code=<redacted>"' % env.idp.base in line
               for line in trace), trace
    assert not [line for line in trace if code in line]


@pytest.mark.parametrize("error,code", [
    ("invalid_client", 2), ("unauthorized_client", 2), ("invalid_grant", 1)])
def test_poll_errors_other_than_denial_are_not_exit_5(env, error, code):
    """Only access_denied and expired_token mean the login did not complete (exit 5)."""
    env.idp.settings(interval=1, poll_error=error)
    login = Login(env.start("login", "--no-browser", "--no-qr"))
    try:
        login.wait_for_code()
        rc, out, err = login.finish(timeout=30)
    finally:
        login.kill()
    assert rc == code, err
    assert error in err and "injected poll error" in err
    if code == 2:
        assert "check client_id of provider okta-oidc" in err
    assert not env.tokens_path().exists()


def test_unknown_authorization_server_exits_2_with_a_hint(env):
    env.write_config(extra="", server="aus0nosuchserver")
    r = env.run("login", "--no-browser")
    assert r.returncode == 2, r.stderr
    assert "Not found: Resource not found: aus0nosuchserver (AuthorizationServer)" in r.stderr
    assert "E0000007" in r.stderr
    assert "check authorization_server" in r.stderr
