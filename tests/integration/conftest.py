"""Integration harness: the built oktacred against the local identity provider.

One identity provider per test session (tests/idp, started on a port it picks and stopped
by its PID); every test gets its own HOME and XDG_CONFIG_HOME and a configuration that
points at that provider.
"""
import json
import os
import re
import select
import signal
import subprocess
import sys
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "idp"))

from harness import IdP  # noqa: E402
from approve import approve  # noqa: E402

# The binary under test: ./oktacred, or OKTACRED_BIN (make check-asan's ASan build, or
# the valgrind wrapper script of make check-valgrind; shells get it as "$OKTACRED").
OKTACRED = os.environ.get("OKTACRED_BIN") or os.path.join(ROOT, "oktacred")
# The same without the capturing wrapper below: for fish's command substitutions, which stop
# reading when the command exits, before the wrapper's tee has passed everything on.
OKTACRED_UNWRAPPED = OKTACRED
# OKTACRED_TEST_DEBUG=1: every run of it gets --debug -v, its output is captured and, after
# each test, scanned for secrets (tests/integration/secretscan.py). Off: OKTACRED as it is.
import secretscan  # noqa: E402
OKTACRED = secretscan.install(OKTACRED)
# "asan" under make check-asan, "valgrind" under make check-valgrind: a test that cannot
# work there is marked @not_under("valgrind", "why") and skipped, saying why.
SANITIZER = os.environ.get("OKTACRED_SANITIZER", "")


def not_under(sanitizer, reason):
    return pytest.mark.skipif(SANITIZER == sanitizer, reason="under %s: %s" % (sanitizer, reason))


CLIENT_ID = "0oa-test-native"


def pytest_collection_modifyitems(config, items):
    """OKTACRED_SHARD=I/N: only every Nth test, from the Ith (0-based). make check-valgrind
    and check-asan run N such shards at once, each with its own servers. Not passed on
    to a pytest that a test runs."""
    shard = os.environ.pop("OKTACRED_SHARD", None)
    if not shard:
        return
    i, n = (int(x) for x in shard.split("/"))
    config.hook.pytest_deselected(items=[t for k, t in enumerate(items) if k % n != i])
    items[:] = [t for k, t in enumerate(items) if k % n == i]


@pytest.fixture(scope="session")
def idp():
    server = IdP.start(idp_dir=os.path.join(ROOT, "tests", "idp"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _secret_scan(request):
    """OKTACRED_TEST_DEBUG=1: a secret in what this test's oktacred runs wrote fails it."""
    if not secretscan.ENABLED:
        yield
        return
    if secretscan.not_under_wrapper(request.node.nodeid):
        pytest.skip(secretscan.not_under_wrapper(request.node.nodeid))
    before = secretscan.captures()
    yield
    leaks = secretscan.check_test(request, before)
    assert not leaks, "secrets in oktacred's output:\n" + "\n".join(leaks)


@pytest.fixture(autouse=True)
def _reset_idp(request):
    if "idp" in request.fixturenames:
        request.getfixturevalue("idp").reset()
    yield


class Env:
    """A user's world: HOME, XDG_CONFIG_HOME, a config file, and ways to run oktacred."""

    def __init__(self, tmp_path, idp):
        self.idp = idp
        self.home = tmp_path / "home"
        self.home.mkdir(mode=0o700)
        self.xdg = self.home / ".config"
        self.root = self.xdg / "oktacred"
        self.config = self.root / "config"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.xdg),
            "LANG": "C.UTF-8",
        }

    def provider_dir(self, name="okta-oidc"):
        return self.root / "okta" / name

    def tokens_path(self, name="okta-oidc"):
        return self.provider_dir(name) / "tokens.json"

    def tokens(self, name="okta-oidc"):
        return json.loads(self.tokens_path(name).read_text())

    def write_config(self, text=None, server="default", extra=""):
        if text is None:
            text = (
                "[defaults]\nidentity = okta-admin\n\n"
                "[provider okta-oidc]\nkind = okta/device-code\n"
                f"org_url = {self.idp.base}\nclient_id = {CLIENT_ID}\n"
                f"authorization_server = {server}\n"
                "scopes = openid profile email groups offline_access\n"
                f"{extra}\n"
                "[identity okta-admin]\nkind = okta/api-access\nprovider = okta-oidc\n"
            )
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.xdg, 0o700)
        os.chmod(self.root, 0o700)
        self.config.write_text(text)
        os.chmod(self.config, 0o600)
        return self.config

    def run(self, *args, env=None, timeout=60, input=None):
        e = dict(self.env, **(env or {}))
        return subprocess.run(
            [OKTACRED, *args], env=e, capture_output=True, text=True, timeout=timeout,
            input=input, start_new_session=True,
            stdin=None if input is not None else subprocess.DEVNULL)

    def start(self, *args, env=None):
        """Starts oktacred in its own session (no controlling terminal: prompts go to
        stderr, which we read)."""
        e = dict(self.env, **(env or {}))
        return subprocess.Popen(
            [OKTACRED, *args], env=e, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True)


@pytest.fixture
def env(tmp_path, idp):
    e = Env(tmp_path, idp)
    e.write_config()
    return e


class Login:
    """A running `oktacred login`: reads what it prints until the user code shows."""

    CODE_RE = re.compile(rb"enter the code ([A-Z0-9-]+)")

    def __init__(self, proc):
        self.proc = proc
        self.err = b""
        self.user_code = None

    def wait_for(self, regex, what, timeout=30):
        """Reads stderr until regex matches: its first group, decoded."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stderr.fileno()
        while True:
            m = regex.search(self.err)
            if m:
                return m.group(1).decode()
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s printed; stderr so far: %r" % (what, self.err))
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError("oktacred exited before printing %s (status %s): %r"
                                     % (what, self.proc.wait(), self.err))
            self.err += chunk

    def wait_for_code(self, timeout=30):
        if self.user_code is None:
            self.user_code = self.wait_for(self.CODE_RE, "a user code", timeout)
        return self.user_code

    def finish(self, timeout=60, input=None):
        out, err = self.proc.communicate(
            input=input.encode() if input is not None else None, timeout=timeout)
        self.err += err
        return self.proc.returncode, out.decode(), self.err.decode("utf-8", "replace")

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def run_on_a_terminal(env, argv, extra_env=None, user="alice", answers=(), err_file=True,
                      timeout=60):
    """argv in a new session whose terminal is a pty (stdin too; stdout a pipe read to its
    end, so that a tee of OKTACRED_TEST_DEBUG=1 has finished; stderr a file, or the pty
    with err_file=False). Approves as user the device code that shows on the terminal
    (user=None: none expected) and writes each (regex, reply) of answers when its prompt
    shows. Returns (status, stdout, what the terminal showed, stderr or "")."""
    import pty

    answers = list(answers)
    rd, wr = os.pipe()
    err_path = env.home / "err.txt"
    pid, master = pty.fork()
    if pid == 0:  # the child: a session with the pty as its terminal
        os.environ.clear()
        os.environ.update(env.env)
        os.environ.update(extra_env or {})
        os.close(rd)
        os.dup2(wr, 1)
        if err_file:
            os.dup2(os.open(str(err_path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
        os.execv(argv[0], argv)
    os.close(wr)
    tty, code = b"", None
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            tty += chunk
            if user and code is None:
                # The code is bold on a terminal: \x1b[1mCODE\x1b[0m.
                m = re.search(rb"enter the code (?:\x1b\[1m)?([A-Z0-9-]+)", tty)
                if m:
                    code = m.group(1).decode()
                    approve(env.idp.base, code, username=user, password="correct horse")
            if answers and re.search(answers[0][0], tty):
                os.write(master, answers.pop(0)[1])
            assert time.monotonic() < deadline, tty
        _, status = os.waitpid(pid, 0)
        with os.fdopen(rd, "rb") as f:
            rd = None
            out = f.read()
    finally:
        os.close(master)
        if rd is not None:
            os.close(rd)
    assert not answers, tty
    return (os.WEXITSTATUS(status), out.decode(), tty.decode(errors="replace"),
            err_path.read_text() if err_file else "")


def do_login(env, *args, user="alice", password="correct horse", deny=False):
    """Runs a whole login, approving it through /activate as a person would."""
    login = Login(env.start("login", "--no-browser", *args))
    try:
        code = login.wait_for_code()
        approve(env.idp.base, code, username=user, password=password, deny=deny)
        return login.finish()
    finally:
        login.kill()


@pytest.fixture
def logged_in(env):
    env.idp.settings(interval=1)
    rc, out, err = do_login(env)
    assert rc == 0, err
    return env
