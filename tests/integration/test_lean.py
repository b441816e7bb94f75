"""The cached path loads only what it needs (issues 6 and 19).

./oktacred is the static front (docs/DESIGN.md, "The front and the full binary"): token,
env, credential-process, credential and status --short answered from a valid cache never
exec the full binary (seen with strace: one execve, the front's own), and the front has no
dynamic loader at all; anything that needs the network does exec it, with the same argv,
before the front wrote a byte. The full binary itself, on the cached path (exec, or run
directly), maps none of libcurl, libcrypto/libssl, libsecret/GLib, libxml2 or libqrencode
(seen with LD_DEBUG=libs); the first request does load libcurl; and a library that cannot
be loaded is one line that names the package."""
import json
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import OKTACRED_UNWRAPPED, ROOT
from test_aws import aws, process, sts, _reset_sts  # noqa: F401 (fixtures)

# Under make check-valgrind, LD_DEBUG would trace valgrind's start, not oktacred's.
pytestmark = pytest.mark.skipif(bool(os.environ.get("OKTACRED_VALGRIND")),
                                reason="under valgrind: the loader is valgrind's")

# The optional libraries and what they bring (GLib comes with libsecret, libssl with curl).
HEAVY = re.compile(r"^lib(curl|curl-gnutls|ssl|crypto|secret-1|glib-2\.0|gio-2\.0|"
                   r"gobject-2\.0|gmodule-2\.0|xml2|qrencode)\.so")
# ld.so's LD_DEBUG=libs lines for an object it maps ("file=... needed by" or "dynamically
# loaded by") and for one it initialises ("calling init: PATH").
MAPPED = re.compile(r"file=(\S+) \[\d+\];\s+(?:needed|dynamically loaded) by|"
                    r"calling init: (\S+)")


def has_interp(path):
    """Whether the ELF file at path names a program interpreter (PT_INTERP): a dynamically
    linked program does, a static (or static-pie) one does not. A script (the valgrind
    wrapper of the sanitizer runs) is no front either: True."""
    with open(path, "rb") as f:
        if f.read(4) != b"\x7fELF":
            return True
    out = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True, check=True)
    return "INTERP" in out.stdout


# The program under test is the front when it is static (the sanitizer builds are one
# dynamic program: no front to test there). FULL: the program the front hands over to.
IS_FRONT = os.path.isfile(OKTACRED_UNWRAPPED) and not has_interp(OKTACRED_UNWRAPPED)
FULL = (os.environ.get("OKTACRED_FULL") or os.path.join(ROOT, "build", "oktacred-full")
        if IS_FRONT else OKTACRED_UNWRAPPED)
front_only = pytest.mark.skipif(not IS_FRONT, reason="the program under test is no front")
need_strace = pytest.mark.skipif(not shutil.which("strace"), reason="no strace")


def run_full(env, *args, extra=None):
    e = dict(env.env, **(extra or {}))
    return subprocess.run([FULL, *args], env=e, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, start_new_session=True)


def run_traced(env, tmp_path, *args, extra=None, full=True):
    """Runs oktacred with LD_DEBUG=libs (the full binary itself by default: the front has
    no loader to trace); returns the result and the names of the shared objects that were
    mapped. The trace goes to files (LD_DEBUG_OUTPUT.PID), not stderr, and survives exec: a
    command run by `oktacred exec`, or the full binary the front execs, appends to the same
    file."""
    trace = tmp_path / "ld-trace"
    trace.mkdir(exist_ok=True)
    for f in trace.iterdir():
        f.unlink()
    debug = dict({"LD_DEBUG": "libs", "LD_DEBUG_OUTPUT": str(trace / "libs")}, **(extra or {}))
    r = run_full(env, *args, extra=debug) if full else env.run(*args, env=debug)
    names = set()
    for f in trace.iterdir():
        for m in MAPPED.finditer(f.read_text(errors="replace")):
            names.add(os.path.basename(m.group(1) or m.group(2)))
    # Proof that the trace works, so that "nothing heavy" cannot pass on an empty trace.
    assert "libc.so.6" in names, names
    return r, names


def run_execs(env, tmp_path, *args, extra=None):
    """Runs the front under strace -f; returns the result and the programs that each
    successful execve started, in order (the first is the front itself)."""
    log = tmp_path / "execve.trace"
    e = dict(env.env, **(extra or {}))
    r = subprocess.run(["strace", "-f", "-qq", "-e", "trace=execve", "-o", str(log),
                        OKTACRED_UNWRAPPED, *args], env=e, capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL, start_new_session=True)
    execs = re.findall(r'execve\("([^"]+)", .*\) = 0$', log.read_text(), re.M)
    return r, execs


def heavy(names):
    return sorted(n for n in names if HEAVY.match(n))


def expire_access_token(env, name="okta-oidc"):
    t = env.tokens(name)
    t["expires_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    env.tokens_path(name).write_text(json.dumps(t))


@pytest.mark.parametrize("args", [
    ("token",),
    ("token", "--json"),
    ("token", "--id-token"),
    ("env", "okta-admin"),
    ("env", "--format", "json", "okta-admin"),
    ("exec", "okta-admin", "--", "true"),
])
def test_cached_okta_commands_load_no_optional_library(logged_in, tmp_path, args):
    env = logged_in
    env.idp.reset()
    r, names = run_traced(env, tmp_path, *args)
    assert r.returncode == 0, r.stderr
    assert env.idp.log() == [], "answered from the cache"
    assert heavy(names) == []


def test_cached_aws_commands_load_no_optional_library(aws, tmp_path):
    first = process(aws)
    assert first.returncode == 0, first.stderr
    aws.idp.reset()
    aws.sts.reset()
    for args in [("credential-process", "aws-dev"), ("env", "aws-dev"),
                 ("exec", "aws-dev", "--", "true")]:
        r, names = run_traced(aws, tmp_path, *args)
        assert r.returncode == 0, (args, r.stderr)
        assert heavy(names) == [], args
    assert aws.idp.log() == [] and aws.sts.log() == [], "answered from the cache"


@front_only
def test_the_front_has_no_loader_and_the_full_binary_has():
    assert not has_interp(OKTACRED_UNWRAPPED)
    assert has_interp(FULL)


@front_only
@need_strace
@pytest.mark.parametrize("args", [
    ("token",),
    ("token", "--json"),
    ("token", "--id-token"),
    ("env", "okta-admin"),
    ("env", "--format", "json", "okta-admin"),
    ("status", "--short"),
])
def test_the_front_answers_a_valid_cache_alone(logged_in, tmp_path, args):
    env = logged_in
    env.idp.reset()
    r, execs = run_execs(env, tmp_path, *args)
    assert r.returncode == 0, r.stderr
    assert r.stdout and r.stderr == ""
    assert execs == [OKTACRED_UNWRAPPED], "no exec of the full binary"
    assert env.idp.log() == []


@front_only
@need_strace
def test_the_front_answers_cached_aws_credentials_alone(aws, tmp_path):
    first = process(aws)
    assert first.returncode == 0, first.stderr
    aws.idp.reset()
    aws.sts.reset()
    for args in [("credential-process", "aws-dev"), ("env", "aws-dev")]:
        r, execs = run_execs(aws, tmp_path, *args)
        assert r.returncode == 0, (args, r.stderr)
        assert execs == [OKTACRED_UNWRAPPED], args
    assert aws.idp.log() == [] and aws.sts.log() == [], "answered from the cache"


@front_only
@need_strace
def test_a_refresh_is_handed_to_the_full_binary_before_any_output(logged_in, tmp_path):
    env = logged_in
    expire_access_token(env)
    r, execs = run_execs(env, tmp_path, "token")
    assert r.returncode == 0, r.stderr
    assert execs == [OKTACRED_UNWRAPPED, os.path.realpath(FULL)]
    # Said once, by the full binary: the front wrote nothing before it handed over.
    assert r.stdout == env.tokens()["access_token"] + "\n"
    assert r.stderr == ""
    assert len([e for e in env.idp.log() if e.get("grant_type") == "refresh_token"]) == 1


@front_only
@need_strace
@pytest.mark.parametrize("args", [
    ("--version",),
    ("status",),
    ("token", "-v"),
    ("--debug", "token"),
    ("exec", "okta-admin", "--", "true"),
])
def test_what_the_front_does_not_serve_goes_to_the_full_binary(logged_in, tmp_path, args):
    r, execs = run_execs(logged_in, tmp_path, *args)
    assert r.returncode == 0, r.stderr
    assert execs[:2] == [OKTACRED_UNWRAPPED, os.path.realpath(FULL)], execs


@front_only
@need_strace
def test_a_corrupt_cache_is_set_aside_and_said_once_by_the_full_binary(logged_in, tmp_path):
    """The front changes no file and says nothing but a last error: setting a corrupt
    cache aside (a rename, then a warning) is handed over first."""
    env = logged_in
    path = env.tokens_path("okta-oidc")
    path.write_text("{not json")
    r, execs = run_execs(env, tmp_path, "token")
    assert r.returncode != 0
    assert execs == [OKTACRED_UNWRAPPED, os.path.realpath(FULL)]
    assert r.stderr.count("is corrupt") == 1, r.stderr
    assert (path.parent / (path.name + ".corrupt")).exists()


@front_only
def test_the_hand_off_leaves_nothing_in_a_childs_environment(logged_in):
    """The front's path reaches the full program in OKTACRED_FRONT_EXE, which takes it
    out at once: `exec`'s command sees the caller's environment, not the hand-off's."""
    r = logged_in.run("exec", "okta-admin", "--", "env")
    assert r.returncode == 0, r.stderr
    assert "OKTACRED_FRONT_EXE" not in r.stdout
    assert "OKTA_ACCESS_TOKEN=" in r.stdout


@front_only
def test_a_missing_full_binary_is_one_line(logged_in, tmp_path):
    env = logged_in
    r = env.run("status", env={"OKTACRED_FULL": str(tmp_path / "nothing-here")})
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("oktacred: cannot run ") and r.stderr.count("\n") == 1, r.stderr
    assert "No such file or directory" in r.stderr


def test_a_refresh_loads_libcurl(logged_in, tmp_path):
    """The counter-test: the trace does see a library that is loaded on demand (through
    the front, which hands the refresh over)."""
    env = logged_in
    expire_access_token(env)
    r, names = run_traced(env, tmp_path, "token", full=False)
    assert r.returncode == 0, r.stderr
    assert "libcurl.so.4" in names or "libcurl-gnutls.so.4" in names, names
    assert not {"libsecret-1.so.0", "libqrencode.so.4"} & names


def broken_libcurl(tmp_path):
    """A directory for LD_LIBRARY_PATH where each soname of libcurl is an empty file:
    dlopen finds it first and fails, as it would on a missing or damaged library."""
    d = tmp_path / "broken-lib"
    d.mkdir()
    for so in ("libcurl.so.4", "libcurl-gnutls.so.4"):
        (d / so).write_bytes(b"")
    return {"LD_LIBRARY_PATH": str(d)}


def test_a_library_that_cannot_be_loaded_names_the_package(logged_in, tmp_path):
    env = logged_in
    broken = broken_libcurl(tmp_path)
    # The cached path never looks for libcurl...
    r = env.run("token", env=broken)
    assert r.returncode == 0, r.stderr
    # ...a refresh needs it, and says what to install, on one line.
    expire_access_token(env)
    env.idp.reset()
    r = env.run("token", env=broken)
    assert r.returncode == 1, r.stderr
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert re.fullmatch(
        r"oktacred: okta-oidc: cannot refresh the session: libcurl cannot be loaded "
        r"\(\S*/libcurl\.so\.4: file too short\): install libcurl4 \(Debian/Ubuntu\), "
        r"libcurl \(Fedora\), curl \(Homebrew\)", lines[0]), lines[0]
    assert env.idp.log() == []
