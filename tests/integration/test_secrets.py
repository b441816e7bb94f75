"""No secret where it does not belong (issue 7, part 5).

Every command of a session runs with --debug -v and all it writes is scanned (secretscan.py)
for access, refresh and ID tokens, device codes, client secrets, private keys and client
assertions: none may appear, except a token on the stdout of a command whose job is to print
one (token, env, exec, credential-process). Children (exec's command, exec --server's
command, the browser) are checked for secrets in their argv (/proc/PID/cmdline).

The same scan runs over the whole suite with OKTACRED_TEST_DEBUG=1 (see secretscan.py);
test_the_suite_switch_itself runs a part of the suite that way."""
import json
import os
import re
import subprocess
import sys
import textwrap
import time

import pytest

import secretscan
from checks import real_session
from conftest import ROOT, Login, do_login
from approve import approve
from harness import SECRET, generate_key, jwk_from_pem

try:  # the AWS side's fixtures, for exec --server
    from test_aws import _reset_sts, aws, sts  # noqa: F401
    HAVE_AWS = True
except Exception:  # tests/sts missing or broken: those tests skip
    HAVE_AWS = False

TOKEN = "/oauth2/default/v1/token"


class Recorder:
    """Runs oktacred commands with --debug -v, remembering what they wrote and every
    secret that was on disk before and after each."""

    def __init__(self, env):
        self.env = env
        self.runs = []
        self.found = secretscan.new_found()
        self.found["never"].add(SECRET)

    def learn(self):
        for text in secretscan.state_files(str(self.env.root)):
            secretscan.secrets_in_state(text, self.found)
        try:
            secretscan.secrets_in_config(self.env.config.read_text(), self.found)
        except OSError:
            pass
        secretscan.idp_device_hashes(self.env.idp, self.found)

    def run(self, *args, env=None, ok=True):
        self.learn()
        r = self.env.run("--debug", "-v", *args, env=env)
        self.learn()
        self.runs.append((["--debug", "-v", *args], r.stdout, r.stderr))
        if ok:
            assert r.returncode == 0, (args, r.stderr)
        return r

    def add(self, argv, stdout, stderr):
        self.runs.append((argv, stdout, stderr))

    def leaks(self):
        self.learn()
        out = []
        for argv, stdout, stderr in self.runs:
            out += secretscan.scan(argv, stdout, stderr, self.found)
        return out

    def all_stderr(self):
        return "".join(err for _, _, err in self.runs)


def expire(env, name="okta-oidc"):
    t = env.tokens(name)
    t["expires_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    env.tokens_path(name).write_text(json.dumps(t))


# -- the scanner finds what it is for (so that "no leak" means something) ----------------

def test_the_scanner_finds_planted_secrets():
    found = secretscan.new_found()
    rt, at = "R" * 20 + "-refresh-planted", "A" * 20 + "-access-planted"
    found["never"].add(rt)
    found["printable"].add(at)
    dc = b"devicecode" + b"x" * 33
    import hashlib
    found["device_hashes"].add(hashlib.sha256(dc).hexdigest()[:12])
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIwMHUtYWxpY2UiLCJhdWQiOiJ4In0.c2lnbmF0dXJl"
    assertion = ("eyJhbGciOiJSUzI1NiJ9." + secretscan.base64.urlsafe_b64encode(json.dumps(
        {"iss": "c", "sub": "c", "aud": "https://o/oauth2/v1/token", "jti": "j"}).encode())
        .decode().rstrip("=") + ".c2ln")
    opaque = "Q" * 43
    scan = secretscan.scan
    assert scan(["token"], at + "\n", "", found) == []
    assert scan(["token", "--id-token"], jwt + "\n", "", found) == []
    assert scan(["token"], rt, "", found), "a refresh token is never printed"
    assert scan(["status"], at, "", found), "status does not print tokens"
    assert scan(["token"], "", "oktacred: " + at, found), "nothing on stderr"
    assert scan(["login"], "", "debug: " + jwt, found), "a JWT on stderr"
    assert scan(["env"], assertion, "", found), "a client assertion is never printed"
    assert scan(["refresh"], "", "x " + opaque + " y", found), "an opaque token on stderr"
    assert scan(["login"], "", "code " + dc.decode(), found), "a device code"
    assert scan(["--debug", "-v", "exec", "--", "sh"], at, "", found) == []


# -- a whole session with --debug -v ---------------------------------------------------------

def test_a_whole_session_with_debug_leaks_nothing(env):
    rec = Recorder(env)
    env.idp.settings(interval=1)
    rc, out, err = do_login(env, "--debug", "-v")
    assert rc == 0, err
    rec.add(["--debug", "-v", "login"], out, err)
    rec.run("status")
    rec.run("status", "--json")
    rec.run("token")
    rec.run("token", "--json")
    rec.run("token", "--id-token")
    rec.run("env")
    rec.run("env", "--format", "json")
    rec.run("exec", "okta-admin", "--", "sh", "-c", 'printf "%s\\n" "$OKTA_ACCESS_TOKEN"')
    rec.run("refresh")
    expire(env)
    rec.run("token")
    rec.run("login", "--no-browser")  # reuses the session
    rec.run("config", "list")
    expire(env)
    env.tokens_path().write_text(env.tokens_path().read_text().replace(
        env.tokens()["refresh_token"], "definitely-not-a-valid-refresh-token"))
    rec.run("token", ok=False)  # invalid_grant
    rc, out, err = do_login(env, "--debug", "-v", "--force")
    assert rc == 0, err
    rec.add(["--debug", "-v", "login"], out, err)
    rec.run("logout", "--revoke")
    trace = rec.all_stderr()
    # The trace is real: requests, answers and their secrets replaced.
    for needle in ("device_code=<redacted>", "refresh_token=<redacted>",
                   '"access_token":"<redacted>"', '"refresh_token":"<redacted>"',
                   '"id_token":"<redacted>"', "token=<redacted>"):
        assert needle in trace.replace(" ", ""), needle
    assert rec.leaks() == []


def test_service_accounts_with_debug_leak_nothing(env, tmp_path):
    rec = Recorder(env)
    key = tmp_path / "robot.pem"
    generate_key(str(key), "RSA")
    secretscan.secrets_in_pem(key.read_text(), rec.found)
    env.idp.add_service_client("0oa-robot-secrets", jwk_from_pem(str(key), kid="ks"),
                               server="org")
    env.write_config(
        "[provider robot]\nkind = okta/service-account\n"
        f"org_url = {env.idp.base}\nclient_id = 0oa-robot-secrets\n"
        f"private_key = {key}\nprivate_key_id = ks\nscopes = okta.users.read\n"
        "authorization_server = org\n\n"
        "[provider robot-env]\nkind = okta/service-account\n"
        f"org_url = {env.idp.base}\nclient_id = 0oa-robot-secrets\n"
        "private_key = ${OKTA_PRIVATE_KEY}\nprivate_key_id = ks\nscopes = okta.users.read\n"
        "authorization_server = org\n\n"
        "[provider secret]\nkind = okta/service-account\n"
        f"org_url = {env.idp.base}\nclient_id = 0oa-test-secret\n"
        f"client_secret = {SECRET}\nscopes = api.read\nauthorization_server = default\n")
    env.env["OKTA_PRIVATE_KEY"] = key.read_text()
    rec.run("token", "robot")
    rec.run("token", "robot-env")
    rec.run("token", "secret")
    rec.run("status")
    # A refused assertion: the error must not quote it.
    other = tmp_path / "other.pem"
    generate_key(str(other), "RSA")
    secretscan.secrets_in_pem(other.read_text(), rec.found)
    env.tokens_path("robot").unlink()
    env.write_config(env.config.read_text().replace(str(key), str(other)))
    rec.run("token", "robot", ok=False)
    trace = rec.all_stderr().replace(" ", "")
    assert "client_assertion=<redacted>" in trace
    assert re.search(r"Authorization:<redacted>", trace, re.I), "Basic credentials hidden"
    assert rec.leaks() == []


PLANTED_AT = "planted-access-" + "A" * 40
PLANTED_RT = "planted-refresh-" + "B" * 40


@pytest.mark.parametrize("status,ctype,body", [
    (200, "application/json", '{"access_token":"%s","refresh_token":"%s"' % (PLANTED_AT, PLANTED_RT)),
    (400, "application/json", '{"access_token":"%s","refresh_token":"%s"}' % (PLANTED_AT, PLANTED_RT)),
    (403, "application/json", '{"accessToken":"%s","refreshToken":"%s"}' % (PLANTED_AT, PLANTED_RT)),
    (200, "text/html", "<html>refresh_token=%s access_token: %s</html>" % (PLANTED_RT, PLANTED_AT)),
    (200, "text/plain", "access_token=%s&refresh_token=%s" % (PLANTED_AT, PLANTED_RT)),
    (502, "text/plain", "access_token=%s&refresh_token=%s" % (PLANTED_AT, PLANTED_RT)),
], ids=["truncated-json", "json-400", "camelcase-403", "html", "form-200", "form-502"])
def test_tokens_in_an_unexpected_answer_are_not_shown(env, status, ctype, body):
    """An answer that is not a token answer may still hold tokens: neither the --debug
    trace nor the one-line error quotes them."""
    real_session(env)
    env.idp.reset()
    for args in (("token",), ("--debug", "-v", "token")):
        env.idp.fault(path=TOKEN, status=status, count=4, body=body,
                      headers={"Content-Type": ctype})
        r = env.run(*args)
        assert r.returncode == 4, r.stderr
        assert PLANTED_AT not in r.stderr and PLANTED_RT not in r.stderr, r.stderr
        assert "planted-" not in r.stderr, r.stderr


# -- nothing secret in a child's argv ------------------------------------------------------------

DUMP_CHILD = textwrap.dedent("""\
    import json, os, sys
    def cmdline(pid):
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            return [a.decode() for a in f.read().split(b"\\0")[:-1]]
    json.dump({"argv": cmdline("self"), "parent": cmdline(os.getppid()),
               "environ": dict(os.environ)}, open(sys.argv[1], "w"))
    """)


def test_exec_child_argv_holds_no_secret(logged_in, tmp_path):
    env = logged_in
    out = tmp_path / "child.json"
    r = env.run("exec", "okta-admin", "--", sys.executable, "-c", DUMP_CHILD, str(out))
    assert r.returncode == 0, r.stderr
    seen = json.loads(out.read_text())
    t = env.tokens()
    assert seen["argv"] == [sys.executable, "-c", DUMP_CHILD, str(out)]
    text = json.dumps(seen["argv"]) + json.dumps(seen["parent"])
    for key in ("access_token", "refresh_token", "id_token"):
        assert t[key] not in text, key
    # The environment is how the token travels, by design: only the access token.
    environ = json.dumps(seen["environ"])
    assert t["access_token"] in environ
    assert t["refresh_token"] not in environ and t["id_token"] not in environ


BROWSER = textwrap.dedent("""\
    import json, os, sys
    # A browser that notes how it was called, next to itself.
    with open("/proc/self/cmdline", "rb") as f:
        argv = [a.decode() for a in f.read().split(b"\\0")[:-1]]
    note = os.path.join(os.path.dirname(sys.argv[0]), "browser-%d.json" % os.getpid())
    with open(note + ".tmp", "w") as f:
        json.dump({"args": sys.argv[1:], "argv": argv, "environ": dict(os.environ)}, f)
    os.rename(note + ".tmp", note)
    """)


def test_browser_and_every_process_argv_hold_no_device_code(env, tmp_path):
    """The browser gets the verification URL (user code included: that is its job) and
    nothing else; while the login waits, no process on the machine has the device code or a
    token in its argv."""
    script = tmp_path / "fake-browser"
    script.write_text("#!%s\n%s" % (sys.executable, BROWSER))
    os.chmod(script, 0o755)
    env.idp.settings(interval=1)
    login = Login(env.start("--debug", "-v", "login", env={"DISPLAY": ":99",
                                                            "BROWSER": str(script)}))
    try:
        code = login.wait_for_code()
        # The browser is started right after the code is shown; wait for its note.
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob("browser-*.json")):
            assert time.monotonic() < deadline, "the browser was not started"
            time.sleep(0.05)
        found = secretscan.new_found()
        secretscan.idp_device_hashes(env.idp, found)
        assert found["device_hashes"], "the provider logged the device code's hash"
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    argv = f.read()
            except OSError:
                continue
            assert secretscan.scan(["argv"], b"", argv, found) == [], (pid, argv)
        approve(env.idp.base, code)
        rc, out, err = login.finish()
    finally:
        login.kill()
    assert rc == 0, err
    [note] = list(tmp_path.glob("browser-*.json"))
    seen = json.loads(note.read_text())
    assert len(seen["args"]) == 1 and seen["args"][0].startswith(env.idp.base + "/activate?user_code=")
    assert "Opened the verification page in your browser." in err
    t = env.tokens()
    blob = note.read_text()
    for key in ("access_token", "refresh_token", "id_token"):
        assert t[key] not in blob
    assert secretscan.scan(["argv"], b"", blob, found) == []


@pytest.mark.skipif(not HAVE_AWS, reason="the AWS test harness (tests/sts) is not there")
def test_exec_server_argv_holds_no_secret(aws, tmp_path):
    env = aws
    out = tmp_path / "child.json"
    r = env.run("exec", "--server", "aws-dev", "--", sys.executable, "-c", DUMP_CHILD, str(out))
    assert r.returncode == 0, r.stderr
    seen = json.loads(out.read_text())
    auth = seen["environ"]["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
    assert len(auth) >= 32
    assert "exec" in seen["parent"] and "aws-dev" in seen["parent"], "the parent is oktacred"
    t = env.tokens()
    text = json.dumps([seen["argv"], seen["parent"]])
    for s in (auth, t["access_token"], t["refresh_token"], t["id_token"]):
        assert s not in text
    assert auth not in r.stderr and auth not in r.stdout


# -- the suite-wide switch works ---------------------------------------------------------------

def test_the_suite_switch_itself(tmp_path):
    """OKTACRED_TEST_DEBUG=1 on a part of the suite: the tests still pass (they see their
    output without the added lines), every run is captured with its debug trace, and the
    scan ran."""
    cap = tmp_path / "capture"
    e = dict(os.environ, OKTACRED_TEST_DEBUG="1", OKTACRED_TEST_CAPTURE=str(cap))
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-x",
         "tests/integration/test_session.py::test_status_json",
         "tests/integration/test_session.py::test_corrupt_cache_is_no_session_and_kept",
         "tests/integration/test_refresh.py::test_token_prints_the_cached_access_token_"
         "without_a_request",
         "tests/integration/test_refresh.py::test_expired_access_token_is_refreshed_and_rotated",
         "tests/integration/test_login.py::test_html_error_page_is_a_clear_error"],
        cwd=ROOT, env=e, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "5 passed" in r.stdout, r.stdout
    assert len(list(cap.glob("*.argv"))) >= 8, "every run captured"
    errs = "".join(p.read_text(errors="replace") for p in cap.glob("*.err"))
    assert "oktacred: debug: > POST" in errs and "<redacted>" in errs
