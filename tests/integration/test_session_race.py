"""AWS credentials belong to the session that made them: a credential-process whose STS call
is in flight while `logout` or `login --force` (as another user) ends its session neither
saves nor hands out the ended session's credentials; logout and login wait for that call
(they take the identity's lock); status lists no credentials of an ended session; and a
credentials.json of a previous session put back on disk is never served.

The STS call is held by stopping the fake STS (SIGSTOP) before the call: the request then
waits, unread, in the server's socket, which /proc/net/tcp shows, and the caller holds the
identity's lock meanwhile. SIGCONT lets the fake read and answer it: alice's credentials,
arriving after her session ended."""
import json
import os
import shutil
import signal
import time
from contextlib import contextmanager

import pytest

from approve import approve
from conftest import Login
from test_aws import (_reset_sts, assume_calls, aws, aws_config, creds_path,  # noqa: F401
                      id_token_claims, login_as, process, sts)

LOGIN_HINT = "run: oktacred login okta-oidc"


@pytest.fixture
def race(aws):
    """Logged in as alice, and a provider timeout longer than any wait here: a held STS
    call must not time out while the test works."""
    aws.write_config(aws_config(aws, aws.sts, extra_provider="timeout = 2m\n"))
    return aws


# ---- holding the STS call ----

@contextmanager
def sts_stopped(sts):
    """The fake STS stopped (SIGSTOP) for the block, and always continued after it."""
    os.kill(sts.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(sts.pid, signal.SIGCONT)


def held_requests(port):
    """Connections to 127.0.0.1:port with bytes the server has not read (it is stopped):
    established, local port `port`, a non-empty receive queue."""
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            local, state, queues = fields[1], fields[3], fields[4]
            if (state == "01" and int(local.rsplit(":", 1)[1], 16) == port
                    and int(queues.split(":")[1], 16) > 0):
                n += 1
    return n


def session_pids(sid):
    """The processes of session sid (oktacred started by Env.start, and under
    OKTACRED_TEST_DEBUG=1 the wrapper around it)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[3]) == sid:
            pids.append(int(d))
    return pids


def has_open(proc, path):
    """Whether a process of proc's session has path open."""
    want = os.path.realpath(path)
    for pid in session_pids(proc.pid):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == want:
                    return True
            except OSError:
                pass
    return False


def wait_until(what, cond, timeout=30, watch=()):
    """Polls cond until it is true; fails after timeout s, or when a process of watch ends
    first."""
    deadline = time.monotonic() + timeout
    while not cond():
        for p in watch:
            if p.poll() is not None:
                out, err = p.communicate()
                raise AssertionError(f"{p.args[1:]} exited ({p.returncode}) while waiting "
                                     f"for {what}: {err.decode(errors='replace')}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def waits_for_identity_lock(env, proc):
    """proc has aws/aws-dev/.lock open while the in-flight call holds that lock: it is
    waiting for it."""
    return has_open(proc, creds_path(env).parent / ".lock")


def hold_sts_call(env):
    """credential-process aws-dev, started with the STS stopped, once its
    AssumeRoleWithWebIdentity request waits in the STS's socket: it holds the identity's
    lock until the STS answers."""
    proc = env.start("credential-process", "aws-dev")
    wait_until("the AssumeRoleWithWebIdentity request to reach the stopped STS",
               lambda: held_requests(env.sts.port) > 0, watch=[proc])
    return proc


def finish(proc, timeout=60):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out.decode(), err.decode(errors="replace")


def kill(*procs):
    for p in procs:
        if p is not None and p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def session_names(sts):
    """AccessKeyId -> the session name STS assumed the role with, for every issued key."""
    return {c["access_key_id"]: c["session_name"] for c in assume_calls(sts)
            if c["status"] == 200}


def put_back(saved, env):
    """Restores a copy of credentials.json (0600, as it was) into aws/aws-dev."""
    p = creds_path(env)
    assert not p.exists()
    p.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copy2(saved, p)
    assert oct(p.stat().st_mode & 0o777) == oct(0o600)


def status_aws(env):
    """status in text and --json: the text run, the provider's --json object and its
    aws-dev entry."""
    text = env.run("status")
    js = env.run("status", "--json")
    [s] = json.loads(js.stdout)
    [entry] = [a for a in s.get("aws", []) if a["identity"] == "aws-dev"]
    return text, s, entry


# ---- a session that ends during the STS call ----

def test_logout_during_the_sts_call_leaves_no_credentials(race):
    """logout while credential-process waits for STS: logout waits for the identity's lock
    (held by the call) and ends when STS answers; the answer, alice's credentials, is
    discarded (no credentials.json), the call exits 3, and so does the next one."""
    env, sts = race, race.sts
    inflight = logout = None
    try:
        with sts_stopped(sts):
            inflight = hold_sts_call(env)
            logout = env.start("logout")
            wait_until("logout to end the session and wait for the identity's lock",
                       lambda: logout.poll() is not None or (
                           not env.tokens_path().exists()
                           and waits_for_identity_lock(env, logout)))
            logout_waited = logout.poll() is None
        rc, _, err = finish(logout)  # after SIGCONT: no deadlock
        assert rc == 0, err
        irc, iout, ierr = finish(inflight)
    finally:
        kill(inflight, logout)
    # The STS did answer the held call, as alice, after her session had ended.
    [call] = assume_calls(sts)
    assert call["status"] == 200 and call["session_name"] == "alice@example.com"
    assert not creds_path(env).exists(), "the in-flight call saved an ended session's " \
        "credentials"
    r = process(env)
    assert (r.returncode, r.stdout) == (3, ""), \
        "credential-process served credentials of an ended session: " + r.stdout
    assert LOGIN_HINT in r.stderr
    assert (irc, iout) == (3, ""), "the in-flight call handed out an ended session's " \
        "credentials: " + iout
    assert LOGIN_HINT in ierr
    assert len(assume_calls(sts)) == 1
    assert logout_waited, "logout did not wait for the in-flight call's identity lock"


def test_login_as_bob_during_alices_sts_call(race):
    """login --force as bob while alice's credential-process waits for STS: alice's answer
    is discarded and the call made again with bob's session; the in-flight call, the next
    one and credentials.json all carry bob's session name, never alice's."""
    env, sts = race, race.sts
    inflight = login = None
    env.idp.settings(interval=1)
    alice_session = env.tokens().get("session")
    try:
        with sts_stopped(sts):
            inflight = hold_sts_call(env)
            login = Login(env.start("login", "--no-browser", "--force"))
            approve(env.idp.base, login.wait_for_code(), username="bob",
                    password="battery staple")
            wait_until("bob's login to be saved and to wait for the identity's lock",
                       lambda: login.proc.poll() is not None or (
                           id_token_claims(env)["sub"] == "00u-bob"
                           and waits_for_identity_lock(env, login.proc)))
            login_waited = login.proc.poll() is None
        rc, _, err = login.finish()  # after SIGCONT: no deadlock
        assert rc == 0, err
        irc, iout, ierr = finish(inflight)
    finally:
        if login is not None:
            login.kill()
        kill(inflight)
    calls = assume_calls(sts)
    # The held call went out as alice and was answered; every later one is bob's.
    assert calls[0]["status"] == 200 and calls[0]["session_name"] == "alice@example.com"
    alice_key = calls[0]["access_key_id"]
    assert [c["session_name"] for c in calls[1:]] == ["bob@example.com"] * (len(calls) - 1)
    assert irc == 0, ierr
    got = json.loads(iout)["AccessKeyId"]
    assert session_names(sts)[got] == "bob@example.com", "the in-flight call handed out " \
        "alice's credentials after bob logged in"
    r = process(env)
    assert r.returncode == 0, r.stderr
    key = json.loads(r.stdout)["AccessKeyId"]
    assert session_names(sts)[key] == "bob@example.com", "credential-process served " \
        "alice's credentials after bob logged in"
    c = json.loads(creds_path(env).read_text())
    assert c["access_key_id"] == key != alice_key
    assert c["session_name"] == "bob@example.com" and c.get("subject") == "00u-bob"
    bob_session = env.tokens().get("session")
    assert bob_session and bob_session != alice_session
    assert c.get("session") == bob_session
    assert login_waited, "login did not wait for the in-flight call's identity lock"


# ---- credentials of an ended or previous session put back on disk ----

def test_status_lists_no_credentials_after_logout(aws, tmp_path):
    """A credentials.json of alice's session put back after logout: status (text and
    --json) does not list it, and credential-process does not serve it."""
    r = process(aws)
    assert r.returncode == 0, r.stderr
    key = json.loads(r.stdout)["AccessKeyId"]
    saved = tmp_path / "credentials.json"
    shutil.copy2(creds_path(aws), saved)
    text, s, entry = status_aws(aws)
    assert "assumed-role/Dev/alice@example.com" in text.stdout  # listed while logged in
    assert entry["cached"] is True
    r = aws.run("logout")
    assert r.returncode == 0, r.stderr
    put_back(saved, aws)
    text, s, entry = status_aws(aws)
    assert text.returncode == 3
    assert "aws-dev: no cached credentials" in text.stdout, text.stdout
    assert "assumed-role" not in text.stdout
    assert s["logged_in"] is False
    assert entry["cached"] is False and "assumed_role_arn" not in entry, entry
    aws.sts.reset()
    r = process(aws)
    assert (r.returncode, r.stdout) == (3, ""), \
        "credential-process served credentials of an ended session: " + r.stdout
    assert LOGIN_HINT in r.stderr
    assert key not in r.stdout
    assert assume_calls(aws.sts) == []


def test_credentials_of_a_previous_session_are_not_served(aws, tmp_path):
    """alice logs in again (login --force: a new session of the same user, for the same
    role) and her previous session's credentials.json is put back: status does not list
    it, and credential-process calls STS rather than serve it."""
    r = process(aws)
    assert r.returncode == 0, r.stderr
    old_key = json.loads(r.stdout)["AccessKeyId"]
    old_session = aws.tokens().get("session")
    saved = tmp_path / "credentials.json"
    shutil.copy2(creds_path(aws), saved)
    login_as(aws, "alice")
    put_back(saved, aws)
    text, s, entry = status_aws(aws)
    assert text.returncode == 0, text.stderr
    assert "aws-dev: no cached credentials" in text.stdout, text.stdout
    assert entry["cached"] is False, entry
    aws.sts.reset()
    r = process(aws)
    assert r.returncode == 0, r.stderr
    key = json.loads(r.stdout)["AccessKeyId"]
    assert key != old_key, "credential-process served the previous session's credentials"
    [call] = assume_calls(aws.sts)
    assert call["status"] == 200 and call["access_key_id"] == key
    assert call["session_name"] == "alice@example.com"
    new_session = aws.tokens().get("session")
    assert new_session and new_session != old_session
    c = json.loads(creds_path(aws).read_text())
    assert c["access_key_id"] == key and c.get("session") == new_session
    text, s, entry = status_aws(aws)
    assert entry["cached"] is True
