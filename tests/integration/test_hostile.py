"""Hostile local state (issue 7, part 4): a cache that is truncated, random, huge, a FIFO,
a symlink (file, directory, lock), foreign-owned or readable by others; a full disk during
a write; a read-only state directory. Clear errors, no crash, nothing followed, nothing
overwritten, and no request to the identity provider that could rotate a refresh token
when the answer could not be kept.

The tests run as root (chown to another uid, tmpfs mounts); a mount that cannot be made
skips its test."""
import errno
import json
import os
import random
import signal
import stat
import subprocess

import pytest

from checks import real_session, session_json, snapshot, without_lock, write_session
from approve import approve
from conftest import OKTACRED

TOKEN = "/oauth2/default/v1/token"
HINT = "run: oktacred login okta-oidc"


def no_crash(r):
    assert r.returncode >= 0 and r.returncode not in (126, 127), \
        "killed by signal %d" % -r.returncode if r.returncode < 0 else r.returncode
    assert r.returncode != -signal.SIGSEGV


def requests(idp, path=None):
    return [e for e in idp.log() if path is None or e["path"] == path]


def other_session(tmp_path, env):
    """A valid-looking session somewhere else, as an attacker would plant it: its access
    token must never be handed out."""
    d = tmp_path / "elsewhere"
    d.mkdir(mode=0o700, exist_ok=True)
    f = d / "tokens.json"
    f.write_text(session_json(env, access_token="planted-access-token-must-never-be-used",
                              refresh_token="planted-refresh-token-must-never-be-used",
                              expires_in=3600))
    os.chmod(f, 0o600)
    return d, f


# -- a corrupt cache is no session: exit 3 with the hint, kept for inspection ------------

def _with(field, value):
    def f(valid):
        t = json.loads(valid)
        t[field] = value
        return json.dumps(t).encode()
    return f


_rnd = random.Random(7)  # deterministic "random bytes"
_RANDOM = bytes(_rnd.randrange(256) for _ in range(4096))
_TEXT = "".join(_rnd.choice("{}[]\":,0123456789abc\\ \n") for _ in range(2048)).encode()

# Each takes the bytes of a valid, unexpired tokens.json and spoils them.
CORRUPTIONS = {
    "truncated": lambda v: v[:len(v) // 2],
    "truncated to one byte": lambda v: v[:1],
    "empty": lambda v: b"",
    "random bytes": lambda v: _RANDOM,
    "random text": lambda v: _TEXT,
    "nul bytes": lambda v: b"\0" * 512,
    "trailing garbage": lambda v: v + b"{}",
    "deep nesting": lambda v: b"[" * 100000 + b"]" * 100000,
    "utf-16": lambda v: v.decode().encode("utf-16"),
    "token with escape": _with("access_token", "abc\u001b]0;pwned\u0007"),
    "token with newline": _with("access_token", "abc\ndef"),
    "token number": _with("access_token", 42),
    "token with NUL": lambda v: v.replace(b'"seeded-access-token', b'"\\u0000seeded-access-token'),
    "expires_at garbage": _with("expires_at", "tomorrow"),
    "expires_at number": _with("expires_at", 1893456000),
    "expires_at year 99999": _with("expires_at", "99999-01-01T00:00:00Z"),
    "expires_in huge": _with("expires_in", 1e308),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
@pytest.mark.parametrize("command", ["token", "env", "status"])
def test_corrupt_cache_is_no_session(env, case, command):
    bad = CORRUPTIONS[case](session_json(env, expires_in=3600).encode())
    path = write_session(env, "")
    path.write_bytes(bad)
    r = env.run(command)
    no_crash(r)
    assert r.returncode == 3, r.stderr
    assert "corrupt" in r.stderr
    if command != "status":
        assert r.stdout == ""
        assert r.stderr.rstrip("\n").splitlines()[-1] == HINT, r.stderr
    kept = env.provider_dir() / "tokens.json.corrupt"
    assert kept.read_bytes() == bad, "kept as it was, for inspection"
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    assert not path.exists()
    assert requests(env.idp) == [], "nothing was sent anywhere"


def test_huge_cache_file_is_refused_without_reading_it_all(env):
    path = write_session(env, "")
    with open(path, "wb") as f:
        f.truncate(64 << 20)  # sparse: 64 MiB of NULs
    r = env.run("token")
    no_crash(r)
    assert r.returncode == 1, r.stderr
    assert "larger than" in r.stderr and r.stdout == ""
    assert os.path.getsize(path) == 64 << 20, "left alone"


@pytest.mark.parametrize("kind", ["fifo", "directory", "socket"])
def test_special_file_in_place_of_the_cache(env, kind, tmp_path):
    path = write_session(env, "")
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path, 0o600)
    elif kind == "directory":
        os.mkdir(path, 0o700)
    else:
        import socket
        s = socket.socket(socket.AF_UNIX)
        cwd = os.getcwd()
        os.chdir(path.parent)  # a socket's path is limited to 107 bytes
        try:
            s.bind(path.name)
        finally:
            os.chdir(cwd)
            s.close()
    for command in ("token", "refresh", "status", "logout"):
        r = env.run(command, timeout=20)  # a FIFO must not hang it
        no_crash(r)
        if command == "logout" and kind != "directory":
            continue  # logout removes whatever is called tokens.json
        assert r.returncode == 1, (command, r.stderr)
        assert "not a regular file" in r.stderr or "cannot" in r.stderr, r.stderr
        assert r.stdout == "" or command == "status"
    assert requests(env.idp) == []


# -- symlinks: never followed, never replaced by a write ---------------------------------

@pytest.mark.parametrize("command", ["token", "refresh", "env", "status"])
def test_symlinked_cache_file_is_refused(env, tmp_path, command):
    _, target = other_session(tmp_path, env)
    before = target.read_bytes()
    write_session(env, "")
    env.tokens_path().unlink()
    env.tokens_path().symlink_to(target)
    r = env.run(command)
    no_crash(r)
    assert r.returncode == 1, r.stderr
    assert "symbolic link" in r.stderr
    assert "planted" not in r.stdout + r.stderr
    assert target.read_bytes() == before
    assert os.path.islink(env.tokens_path())
    assert requests(env.idp) == []


@pytest.mark.parametrize("level", ["provider", "okta", "root"])
def test_symlinked_state_directory_is_refused(env, tmp_path, level):
    planted, target = other_session(tmp_path, env)
    real_session(env, expired=False)
    env.idp.reset()
    link = {"provider": env.provider_dir(), "okta": env.root / "okta", "root": env.root}[level]
    if level == "root":
        # The configuration lives in the root: keep it outside, so that only the state
        # directory is the link.
        cfg = tmp_path / "config"
        cfg.write_text(env.config.read_text())
        os.chmod(cfg, 0o600)
        env.env["OKTACRED_CONFIG"] = str(cfg)
    os.rename(link, link.with_name(link.name + ".real"))
    # The link leads to a tree holding the planted session where oktacred would look.
    if level == "provider":
        tree = planted
    else:
        tree = tmp_path / ("planted-" + level)
        inner = tree / ("okta/okta-oidc" if level == "root" else "okta-oidc")
        inner.mkdir(parents=True, mode=0o700)
        (inner / "tokens.json").write_bytes(target.read_bytes())
        os.chmod(inner / "tokens.json", 0o600)
        for d in [tree] + list(inner.parents)[:2 if level == "root" else 1]:
            os.chmod(d, 0o700)
    link.symlink_to(tree)
    before = snapshot(tree)
    for args in (("token",), ("refresh",), ("env",), ("login", "--no-browser"),
                 ("login", "--no-browser", "--force"), ("logout",)):
        r = env.run(*args)
        no_crash(r)
        assert r.returncode == 1, (args, r.stderr)
        assert "symbolic link" in r.stderr, (args, r.stderr)
        assert "planted" not in r.stdout + r.stderr
    assert snapshot(tree) == before, "the planted files were neither used nor written"
    assert os.path.islink(link)
    assert requests(env.idp) == [], "no login started, no refresh token spent"


def test_symlinked_xdg_config_home_is_fine(env, tmp_path):
    """Directories above oktacred's own (a ~/.config managed by a dotfiles tool) are not
    oktacred's to judge."""
    real_session(env, expired=False)
    real = tmp_path / "dotfiles-config"
    os.rename(env.xdg, real)
    env.xdg.symlink_to(real)
    r = env.run("token")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("dangling", [True, False])
def test_symlinked_lock_is_refused_and_its_target_untouched(env, tmp_path, dangling):
    real_session(env)
    env.idp.reset()
    target = tmp_path / "victim"
    if not dangling:
        target.write_text("precious\n")
    lock = env.provider_dir() / ".lock"
    if lock.exists():
        lock.unlink()
    lock.symlink_to(target)
    before = env.tokens_path().read_bytes()
    r = env.run("token")  # expired: needs the lock to refresh
    no_crash(r)
    assert r.returncode == 1, r.stderr
    assert "symbolic link" in r.stderr and r.stdout == ""
    assert env.tokens_path().read_bytes() == before
    if dangling:
        assert not target.exists(), "O_CREAT did not follow the link"
    else:
        assert target.read_text() == "precious\n"
    assert requests(env.idp, TOKEN) == []


# -- owners and modes ------------------------------------------------------------------------

@pytest.mark.parametrize("what", ["provider dir", "okta dir", "root dir", "tokens.json"])
def test_foreign_owner_is_refused(env, what):
    real_session(env, expired=False)
    env.idp.reset()
    path = {"provider dir": env.provider_dir(), "okta dir": env.root / "okta",
            "root dir": env.root, "tokens.json": env.tokens_path()}[what]
    if what == "root dir":
        cfg = env.root.parent / "config-elsewhere"
        cfg.write_text(env.config.read_text())
        os.chmod(cfg, 0o600)
        env.env["OKTACRED_CONFIG"] = str(cfg)
    os.chown(path, 12345, 12345)
    before = snapshot(env.root)
    for command in ("token", "refresh", "env"):
        r = env.run(command)
        no_crash(r)
        assert r.returncode == 1, (command, r.stderr)
        assert "owned by uid 12345" in r.stderr and r.stdout == ""
    assert without_lock(snapshot(env.root)) == without_lock(before)
    assert requests(env.idp) == []


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666])
def test_cache_readable_or_writable_by_others_is_refused(env, mode):
    real_session(env)
    env.idp.reset()
    os.chmod(env.tokens_path(), mode)
    before = snapshot(env.root)
    for command in ("token", "refresh", "env", "status"):
        r = env.run(command)
        no_crash(r)
        assert r.returncode == 1, (command, r.stderr)
        assert "chmod 600 %s" % env.tokens_path() in r.stderr
        assert "mode %04o" % mode in r.stderr
        assert r.stdout == "" or command == "status"
    assert without_lock(snapshot(env.root)) == without_lock(before), "not fixed, not rewritten"
    assert requests(env.idp) == [], "no refresh token spent"


@pytest.mark.parametrize("mode", [0o750, 0o705, 0o777])
def test_state_directory_open_to_others_is_refused(env, mode):
    real_session(env, expired=False)
    os.chmod(env.root / "okta", mode)
    r = env.run("token")
    assert r.returncode == 1 and "chmod 700" in r.stderr and r.stdout == ""


def test_stale_temporary_files_do_not_matter(env):
    """What a crash mid-write leaves behind: a half temp file. It is neither read nor
    in the way."""
    real_session(env)
    env.idp.reset()
    junk = env.provider_dir() / ".tokens.json.AbC123"
    junk.write_text('{"access_token": "half')
    os.chmod(junk, 0o600)
    r = env.run("token")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == env.tokens()["access_token"]


def test_hostile_token_in_the_cache_cannot_inject_into_eval(env, tmp_path):
    """A token is only VSCHAR: quotes, $(...), backticks and semicolons included. Planted
    in the cache it must come out of `eval "$(oktacred env)"` as data."""
    evil = "a'b\"c$(touch PWNED1)`touch PWNED2`;touch PWNED3 \\ $HOME ${IFS}x"
    write_session(env, session_json(env, access_token=evil, expires_in=3600))
    work = tmp_path / "work"
    work.mkdir()
    e = dict(env.env, OKTACRED=OKTACRED)
    r = subprocess.run(["sh", "-c", 'eval "$("$OKTACRED" env)" && printf %s "$OKTA_ACCESS_TOKEN"'],
                       env=e, cwd=work, capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == evil
    assert os.listdir(work) == []


# -- full disk, read-only directory ------------------------------------------------------

@pytest.fixture
def tmpfs(tmp_path):
    """A 256 KiB tmpfs (mode 0700) as XDG_CONFIG_HOME's parent; unmounted afterwards."""
    mnt = tmp_path / "mnt"
    mnt.mkdir(mode=0o700)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % r.stderr.strip())
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def move_into(env, mnt):
    env.xdg = mnt / "config"
    env.root = env.xdg / "oktacred"
    env.config = env.root / "config"
    env.env["XDG_CONFIG_HOME"] = str(env.xdg)
    env.write_config()


def fill(directory):
    """Fills the filesystem of directory; returns the filler's path."""
    filler = os.path.join(str(directory), "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as e:
        assert e.errno == errno.ENOSPC, e
    finally:
        os.close(fd)
    return filler


def test_full_disk_during_a_refresh_keeps_the_old_tokens(env, tmpfs):
    env.idp.settings(refresh_grace_s=30)  # Okta's grace period: the old token survives
    move_into(env, tmpfs)
    real_session(env)
    env.idp.reset()
    env.idp.settings(refresh_grace_s=30)
    before = env.tokens_path().read_bytes()
    filler = fill(tmpfs)
    r = env.run("token")
    no_crash(r)
    assert r.returncode == 1, r.stderr
    assert "disk full" in r.stderr and str(env.tokens_path()) in r.stderr
    assert r.stdout == ""
    assert env.tokens_path().read_bytes() == before, "the old tokens.json is intact"
    assert sorted(os.listdir(env.provider_dir())) == [".lock", "tokens.json"], \
        "no temporary file is left behind"
    # Space again: the next call works (the old refresh token is within the grace period).
    os.unlink(filler)
    r = env.run("token")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == env.tokens()["access_token"]


def test_full_disk_before_login_refuses_before_asking_anyone(env, tmpfs):
    """No room for the session: said before a code is shown and anyone approves it."""
    move_into(env, tmpfs)
    fill(tmpfs)
    r = env.run("login", "--no-browser")
    no_crash(r)
    assert r.returncode == 1, r.stderr
    assert "disk full" in r.stderr and str(env.provider_dir()) in r.stderr, r.stderr
    assert r.stdout == "" and "activate" not in r.stderr
    assert requests(env.idp) == [], "no device authorization was started"
    assert sorted(os.listdir(env.provider_dir())) == [".lock"], "no probe file left behind"


def test_disk_filling_up_during_login_is_a_clear_error(env, tmpfs):
    """The disk fills while the person approves: the save fails with exit 1, "disk full",
    nothing half written."""
    from conftest import Login
    move_into(env, tmpfs)
    env.idp.settings(interval=1)
    login = Login(env.start("login", "--no-browser"))
    try:
        code = login.wait_for_code()
        fill(tmpfs)
        approve(env.idp.base, code, username="alice", password="correct horse")
        rc, out, err = login.finish()
    finally:
        login.kill()
    assert rc == 1, err
    assert "disk full" in err and out == ""
    assert sorted(os.listdir(env.provider_dir())) == [".lock"]


@pytest.fixture
def readonly(env, tmpfs):
    """make(expired): a real session in a tmpfs, then the tmpfs remounted read-only."""
    move_into(env, tmpfs)

    def make(expired):
        real_session(env, expired=expired)
        env.idp.reset()
        subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
        return env
    return make


def test_read_only_directory_still_serves_a_valid_token(readonly):
    env = readonly(expired=False)
    r = env.run("token")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == env.tokens()["access_token"]
    assert requests(env.idp) == []


def test_read_only_directory_refuses_before_spending_the_refresh_token(readonly):
    env = readonly(expired=True)
    before = snapshot(env.root)
    for args in (("token",), ("refresh",), ("env",), ("login", "--no-browser", "--force"),
                 ("logout",)):
        r = env.run(*args)
        no_crash(r)
        assert r.returncode == 1, (args, r.stderr)
        assert "Read-only file system" in r.stderr, r.stderr
        assert r.stdout == ""
    assert snapshot(env.root) == before
    assert requests(env.idp) == [], "no refresh, no device code: nothing that cannot be kept"
