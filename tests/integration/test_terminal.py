"""Claims cannot drive the terminal: what the identity provider says (ID token claims, OAuth
errors, answers in the --debug trace) reaches stdout and stderr with its control characters
escaped (text_escape in src/lib/util.c): no ESC, BEL or C1 control gets through, the escapes are
visible as \\xNN, and names that are not ASCII stay readable."""
import json
import re
import subprocess

import pytest

from approve import approve
from checks import real_session
from conftest import OKTACRED, Login

TOKEN = "/oauth2/default/v1/token"

# A profile an admin (or the identity provider) filled with escape sequences: the window
# title, the clipboard (OSC 52), the screen, and a CSI as one C1 character (c2 9b).
EMAIL = "alice\x1b]0;pwned\x07@example.com"
SUB = "00u-\x1b]52;c;Zm9v\x07"
GROUPS = ["Everyone", "AWS-Dev", "\x1b[2J", "\u009b31mred", "\u00c9quipe Zo\u00eb \u65e5\u672c"]

SHOWN_EMAIL = r"alice\x1b]0;pwned\x07@example.com"
SHOWN_SUB = r"00u-\x1b]52;c;Zm9v\x07"
SHOWN_GROUPS = ["Everyone", "AWS-Dev", r"\x1b[2J", r"\xc2\x9b31mred",
                "\u00c9quipe Zo\u00eb \u65e5\u672c"]

# C0 controls but tab and newline, DEL and C1 controls, once the bytes are decoded as UTF-8.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def assert_terminal_safe(data, what):
    """data (bytes) as a terminal would get it: valid UTF-8 (a stray byte such as 9b is a
    CSI to a terminal that is not in UTF-8 mode) without a control character."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError("%s: a byte that is not UTF-8 (%s): %r" % (what, e, data))
    m = UNSAFE.search(text)
    assert not m, "%s: control character %r reached the terminal: %r" % (what, m.group(), text)
    return text


def run_raw(env, *args):
    """Runs oktacred; returns (exit status, stdout, stderr), undecoded."""
    r = subprocess.run([OKTACRED, *args], env=env.env, capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL, start_new_session=True)
    return r.returncode, r.stdout, r.stderr


def login_raw(env, *args, user="alice", password="correct horse"):
    """do_login (conftest.py), with the output as the bytes oktacred wrote."""
    login = Login(env.start("login", "--no-browser", "--no-qr", *args))
    try:
        code = login.wait_for_code()
        approve(env.idp.base, code, username=user, password=password)
        out, err = login.proc.communicate(timeout=60)
        return login.proc.returncode, out, login.err + err
    finally:
        login.kill()


@pytest.fixture
def hostile(env):
    """alice, with the claims above; logged in. The login's own output is kept in
    env.login_output."""
    env.idp.settings(interval=1)
    claims = env.idp.user_claims("alice", email=EMAIL, sub=SUB, groups=GROUPS,
                                 name="Alice \x1b[2J\u009b31m", preferred_username=EMAIL)
    assert claims["email"] == EMAIL
    rc, out, err = login_raw(env)
    assert rc == 0, err
    env.login_output = (out, err)
    return env


def test_login_says_who_logged_in_escaped(hostile):
    out, err = hostile.login_output
    assert_terminal_safe(out, "login stdout")
    err = assert_terminal_safe(err, "login stderr")
    assert "Logged in to okta-oidc (%s/oauth2/default) as %s;" % (hostile.idp.base, SHOWN_EMAIL) \
        in err, err


def test_login_again_says_who_is_logged_in_escaped(hostile):
    rc, out, err = run_raw(hostile, "login", "--no-browser")
    assert rc == 0, err
    assert_terminal_safe(out, "stdout")
    err = assert_terminal_safe(err, "stderr")
    assert "already logged in to okta-oidc as %s " % SHOWN_EMAIL in err, err


@pytest.mark.parametrize("args", [(), ("-v",), ("--debug",)], ids=["plain", "verbose", "debug"])
def test_status_shows_hostile_claims_escaped(hostile, args):
    rc, out, err = run_raw(hostile, *args, "status")
    assert rc == 0, err
    out = assert_terminal_safe(out, "status stdout")
    assert_terminal_safe(err, "status stderr")
    assert "  user:     %s (%s)\n" % (SHOWN_EMAIL, SHOWN_SUB) in out, out
    assert "  groups:   %s\n" % ", ".join(SHOWN_GROUPS) in out, out


def test_status_json_holds_the_escaped_text(hostile):
    """JSON writes ESC as \\u001b but a C1 character as it is: the values are escaped
    first, as in the text output, so that a terminal never gets either."""
    rc, out, err = run_raw(hostile, "status", "--json")
    assert rc == 0, err
    assert_terminal_safe(err, "stderr")
    [s] = json.loads(assert_terminal_safe(out, "stdout"))
    assert s["email"] == SHOWN_EMAIL
    assert s["subject"] == SHOWN_SUB
    assert s["groups"] == SHOWN_GROUPS
    for value in [s["email"], s["subject"], *s["groups"]]:
        assert not UNSAFE.search(value), value


def test_subject_without_email(env):
    env.idp.settings(interval=1)
    env.idp.user_claims("alice", email=None, sub=SUB)
    rc, out, err = login_raw(env)
    assert rc == 0, err
    assert_terminal_safe(out, "login stdout")
    assert "as %s;" % SHOWN_SUB in assert_terminal_safe(err, "login stderr")
    rc, out, err = run_raw(env, "status")
    assert rc == 0, err
    assert "  user:     %s\n" % SHOWN_SUB in assert_terminal_safe(out, "status stdout")


def test_oauth_error_and_debug_trace_are_escaped(env):
    """An error_description with escapes, as JSON escapes (\\u001b) and as raw UTF-8 (a C1
    character needs no JSON escape): the message and the --debug trace of the answer."""
    real_session(env)
    env.idp.reset()
    desc = "no \x1b]0;pwned\x07 \u009b31m way \u00e9"
    body = json.dumps({"error": "invalid_request", "error_description": desc},
                      ensure_ascii=False)
    assert "\u009b" in body and "\\u001b" in body
    env.idp.fault(path=TOKEN, status=400, count=2, body=body,
                  headers={"Content-Type": "application/json"})
    for args in [("token",), ("--debug", "token")]:
        rc, out, err = run_raw(env, *args)
        assert rc == 1, err
        assert out == b""
        err = assert_terminal_safe(err, " ".join(args))
        assert r"refresh refused: invalid_request: no \x1b]0;pwned\x07 \xc2\x9b31m way " \
               "\u00e9" in err, err
    assert err.count(r"\xc2\x9b31m way") == 2, "the message and the answer in the trace: " + err


def test_unexpected_answer_excerpt_is_escaped(env):
    real_session(env)
    env.idp.reset()
    env.idp.fault(path=TOKEN, status=403, body="\x1b[2J\x1b]0;pwned\x07\u009b31m Forbidden",
                  headers={"Content-Type": "text/plain; x=\u009b31m"})
    rc, out, err = run_raw(env, "token")
    assert rc == 4, err
    err = assert_terminal_safe(err, "stderr")
    assert r'(HTTP 403, text/plain; x=\xc2\x9b31m, not JSON): ' \
           r'"\x1b[2J\x1b]0;pwned\x07\xc2\x9b31m Forbidden"' in err, err
