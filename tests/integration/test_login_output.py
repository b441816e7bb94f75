"""What `oktacred login` tells the person while it waits and when it is done (issue 15): the
code's remaining lifetime (rewritten in place on a terminal, a line a minute elsewhere),
whether a browser was opened, the user code in bold on a terminal, the QR code only when
the terminal can show it whole, and at the end who logged in where, until when, and what
to run next. Also `-v` on a cached call: `NAME: cached, 42m left`."""
import calendar
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

import secretscan
from approve import approve
from conftest import OKTACRED_UNWRAPPED, Login, do_login


def read_until(login, pattern, timeout=30):
    """Reads the login's stderr until pattern (bytes regex) matches what came so far."""
    deadline = time.monotonic() + timeout
    fd = login.proc.stderr.fileno()
    while not re.search(pattern, login.err):
        left = deadline - time.monotonic()
        assert left > 0, "%r not seen; stderr so far: %r" % (pattern, login.err)
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 65536)
            assert chunk, "oktacred exited: %r" % login.err
            login.err += chunk


class Pty:
    """oktacred with a pseudo-terminal of rows x cols as stdin, stdout and stderr (its size
    set before it starts), read to its end. The binary itself: under OKTACRED_TEST_DEBUG=1
    the capturing wrapper would put a pipe between oktacred's stderr and the terminal, and
    its --debug lines between the lines whose layout these tests check."""

    def __init__(self, env, *args, rows=50, cols=120, extra_env=None):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen([OKTACRED_UNWRAPPED, *args], env=dict(env.env, **(extra_env or {})),
                                     stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True)
        os.close(slave)
        self.master = master
        self.out = b""

    def read_until(self, pattern, timeout=30):
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.out):
            left = deadline - time.monotonic()
            assert left > 0, "%r not seen on the terminal: %r" % (pattern, self.out)
            if not self._read(left):
                raise AssertionError("oktacred exited before %r: %r" % (pattern, self.out))

    def _read(self, timeout):
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the other side is closed
            chunk = b""
        self.out += chunk
        return bool(chunk)

    def finish(self, timeout=60):
        deadline = time.monotonic() + timeout
        while self._read(max(deadline - time.monotonic(), 0.01)):
            assert time.monotonic() < deadline, self.out
        return self.proc.wait(timeout=timeout), self.out.decode("utf-8", "replace")

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.close(self.master)


CODE_ON_TTY = rb"enter the code (?:\x1b\[1m)?([A-Z0-9-]+)(?:\x1b\[0m)?\r\n"


# ---- while waiting ----

def test_countdown_without_a_terminal_is_a_line_a_minute(env):
    """A log or a pipe gets the lifetime once, then a line at each whole minute left: with
    a code that lives 62 s, one "1 min" line two seconds in, and nothing rewritten."""
    env.idp.settings(interval=1, device_expires_in=62)
    login = Login(env.start("login", "--no-browser", "--no-qr"))
    try:
        code = login.wait_for_code()
        read_until(login, rb"the code expires in 1 min\n")
        approve(env.idp.base, code)
        rc, out, err = login.finish()
    finally:
        login.kill()
    assert rc == 0, err
    waiting = err[err.index("Waiting for approval"):]
    assert re.findall(r"the code expires in [^\n]*\n", waiting) == [
        "the code expires in 1 min 2 s\n", "the code expires in 1 min\n"], waiting
    assert "\r\x1b[K" not in err and "\x1b[1m" not in err


def test_countdown_on_a_terminal_is_one_line_rewritten(env):
    """On a terminal the lifetime counts down on one line, rewritten in place once per
    second (never the same value twice), and cleared for what comes next (here: the code
    expired)."""
    env.idp.settings(interval=1, device_expires_in=5)
    t = Pty(env, "login", "--no-browser", "--no-qr")
    try:
        rc, out = t.finish()
    finally:
        t.close()
    assert rc == 5, out
    shown = re.findall(r"\r\x1b\[Kthe code expires in (\d+):(\d\d)", out)
    seconds = [int(m) * 60 + int(s) for m, s in shown]
    assert len(seconds) >= 2, out
    assert seconds == sorted(set(seconds), reverse=True), "once per value, counting down"
    assert seconds[0] <= 5
    # No newline between the updates: one line. Cleared before the error.
    first = out.index("\r\x1b[Kthe code expires in")
    last_clear = out.rindex("\r\x1b[K")
    assert "\n" not in out[first:last_clear]
    assert "expired" in out[last_clear:]
    assert not re.search(r"the code expires in \d+ (min|s)", out), "no minute lines on a tty"


def test_countdown_on_a_dumb_terminal_is_lines(env):
    env.idp.settings(interval=1, device_expires_in=2)
    t = Pty(env, "login", "--no-browser", "--no-qr", extra_env={"TERM": "dumb"})
    try:
        rc, out = t.finish()
    finally:
        t.close()
    assert rc == 5, out
    assert "the code expires in 2 s\r\n" in out and "\r\x1b[K" not in out, out


def test_user_code_is_bold_on_a_terminal_only(env):
    env.idp.settings(interval=1)
    t = Pty(env, "login", "--no-browser", "--no-qr")
    try:
        t.read_until(CODE_ON_TTY)
        code = re.search(CODE_ON_TTY, t.out).group(1).decode()
        assert "enter the code \x1b[1m%s\x1b[0m\r\n" % code in t.out.decode()
        approve(env.idp.base, code)
        rc, out = t.finish()
    finally:
        t.close()
    assert rc == 0, out
    # NO_COLOR, --no-color, not a terminal: plain.
    for extra, args in (({"NO_COLOR": "1"}, ()), ({}, ("--no-color",))):
        t = Pty(env, *args, "login", "--no-browser", "--no-qr", "--force", extra_env=extra)
        try:
            t.read_until(rb"enter the code [A-Z0-9-]+\r\n")
            assert b"\x1b[1m" not in t.out
        finally:
            t.close()
    rc, out, err = do_login(env, "--force", "--no-qr")
    assert rc == 0 and "\x1b[1m" not in err and re.search(r"enter the code [A-Z0-9-]+\n", err)


def fake_browser(tmp_path):
    note = tmp_path / "browser-args"
    script = tmp_path / "fake-browser"
    script.write_text("#!/bin/sh\nprintf '%%s\\n' \"$1\" > %s\n" % note)
    os.chmod(script, 0o755)
    return script, note


@pytest.mark.parametrize("case", ["opened", "no-browser", "no display", "fails"])
def test_says_whether_a_browser_was_opened(env, tmp_path, case):
    script, note = fake_browser(tmp_path)
    extra = {"DISPLAY": ":99", "BROWSER": str(script)}
    args = ["login", "--no-qr"]
    if case == "no-browser":
        args.append("--no-browser")
    elif case == "no display":
        del extra["DISPLAY"]
    elif case == "fails":
        extra["BROWSER"] = str(tmp_path / "no-such-browser")
    env.idp.settings(interval=1)
    login = Login(env.start(*args, env=extra))
    try:
        code = login.wait_for_code()
        read_until(login, rb"Waiting for approval")
        approve(env.idp.base, code)
        rc, out, err = login.finish()
    finally:
        login.kill()
    assert rc == 0, err
    said = {
        "opened": "Opened the verification page in your browser.\n",
        "no-browser": "No browser opened (--no-browser).\n",
        "no display": "No browser opened: no graphical session",
        "fails": "Could not open a browser: open the URL yourself.\n",
    }
    assert said[case] in err, err
    for other in set(said) - {case}:
        assert said[other] not in err
    # Said before the wait begins.
    assert err.index(said[case]) < err.index("Waiting for approval")
    if case == "opened":
        deadline = time.monotonic() + 30
        while not note.exists():
            assert time.monotonic() < deadline, "the browser was not started"
            time.sleep(0.05)
        assert note.read_text().startswith(env.idp.base + "/activate?user_code=")
    else:
        assert not note.exists()


@pytest.mark.parametrize("rows,cols,drawn", [
    (50, 120, True),    # room enough: drawn
    (50, 20, False),    # too narrow
    (8, 200, False),    # too short
], ids=["fits", "narrow", "short"])
def test_qr_code_only_when_the_terminal_shows_it_whole(env, rows, cols, drawn):
    env.idp.settings(interval=1)
    t = Pty(env, "login", "--no-browser", rows=rows, cols=cols)
    try:
        t.read_until(rb"Waiting for approval")
        code = re.search(CODE_ON_TTY, t.out).group(1).decode()
        approve(env.idp.base, code)
        rc, out = t.finish()
    finally:
        t.close()
    assert rc == 0, out
    blocks = "\u2580" in out or "\u2584" in out
    note = re.search(r"\(no QR code: it needs (\d+)x(\d+) characters and the terminal is "
                     r"(\d+)x(\d+); enlarge the window or open the URL above\)", out)
    assert re.search(r"or open \S+/activate\?user_code=", out), "the URL stays"
    if drawn:
        assert blocks and not note and "or scan this code with your phone" in out
    else:
        assert note and not blocks and "scan this code" not in out, out
        need_cols, need_rows, have_cols, have_rows = map(int, note.groups())
        assert (have_cols, have_rows) == (cols, rows)
        assert need_cols > cols or need_rows > rows


def test_qr_code_without_a_terminal_is_drawn_as_before(env):
    """Not a terminal (a log, a pipe): no size to go by, so the code is drawn."""
    env.idp.settings(interval=1)
    rc, out, err = do_login(env)
    assert rc == 0, err
    assert "or scan this code with your phone" in err and "no QR code" not in err


# ---- at the end ----

def result_line(err):
    return re.search(r"Logged in to [^\n]*\n", err).group(0)


def test_result_says_provider_issuer_user_session_and_next_step(env):
    env.idp.settings(interval=1)
    rc, out, err = do_login(env)
    assert rc == 0, err
    assert out == ""
    line = result_line(err)
    assert line.startswith("Logged in to okta-oidc (%s/oauth2/default) as alice@example.com; "
                           % env.idp.base), line
    # No session_duration and no refresh-token expiry from the server: it renews itself.
    assert re.search(r"the access token is valid for (\d+m|\d+h\d\dm) and renewed with the refresh "
                     r"token for as long as the Okta policy allows\.\n$", line), line
    assert 'next: eval "$(oktacred env okta-admin)", or oktacred exec okta-admin -- COMMAND\n' \
        in err
    assert err.index("Logged in to") < err.index("next: ")


def test_result_says_until_when_with_session_duration(env):
    env.write_config(extra="session_duration = 8h\n")
    env.env["TZ"] = "UTC"
    env.idp.settings(interval=1)
    before = time.time()
    rc, out, err = do_login(env)
    assert rc == 0, err
    m = re.search(r"; session valid until (\d{4}-\d\d-\d\d \d\d:\d\d) UTC \(in (7h59m|8h00m)\)"
                  r"\.\n", result_line(err))
    assert m, err
    until = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%d %H:%M"))
    assert before + 8 * 3600 - 60 <= until <= time.time() + 8 * 3600


def test_result_without_refresh_token_says_the_access_token_ends_it(env):
    env.write_config(env.config.read_text().replace(" offline_access", ""))
    env.env["TZ"] = "UTC"
    env.idp.settings(interval=1)
    rc, out, err = do_login(env)
    assert rc == 0, err
    assert re.search(r"; session valid until \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in (\d+m|\d+h\d\dm)\): no "
                     r"refresh token, log in again then\.\n", result_line(err)), err


def test_next_step_for_a_provider_names_its_identities(env):
    env.idp.settings(interval=1)
    rc, out, err = do_login(env, "okta-oidc")
    assert rc == 0, err
    assert 'next: eval "$(oktacred env okta-admin)"' in err
    # A provider no identity uses: its raw token.
    env.write_config(env.config.read_text().split("[identity okta-admin]")[0]
                     .replace("identity = okta-admin", ""))
    rc, out, err = do_login(env, "okta-oidc", "--force")
    assert rc == 0, err
    assert "next: oktacred token okta-oidc\n" in err


# ---- -v on a cached call ----

CACHED = re.compile(r"^oktacred: (\S+): cached, (\d+m|\d+h\d\dm|\d+s) left$", re.M)


@pytest.mark.parametrize("args", [("token",), ("token", "--id-token"), ("env",)],
                         ids=["token", "id-token", "env"])
def test_verbose_cached_call_says_how_long_is_left(logged_in, args):
    env = logged_in
    env.idp.reset()
    r = env.run("-v", *args)
    assert r.returncode == 0, r.stderr
    assert [m.group(1) for m in CACHED.finditer(r.stderr)] == ["okta-oidc"], r.stderr
    assert env.idp.log() == [], "served from the cache"
    if not secretscan.ENABLED:  # which adds -v to every run
        assert "cached" not in env.run(*args).stderr
