"""The cached path loads only what it needs (issue 6): token, env, exec and
credential-process answered from a valid cache map none of libcurl, libcrypto/libssl,
libsecret/GLib, libxml2 or libqrencode (seen with LD_DEBUG=libs); the first request does
load libcurl; and a library that cannot be loaded is one line that names the package."""
import json
import os
import re
import time

import pytest

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


def run_traced(env, tmp_path, *args, extra=None):
    """Runs oktacred with LD_DEBUG=libs; returns the result and the names of the shared
    objects that were mapped. The trace goes to files (LD_DEBUG_OUTPUT.PID), not stderr,
    and survives exec: a command run by `oktacred exec` appends to the same file."""
    trace = tmp_path / "ld-trace"
    trace.mkdir(exist_ok=True)
    for f in trace.iterdir():
        f.unlink()
    r = env.run(*args, env=dict({"LD_DEBUG": "libs",
                                 "LD_DEBUG_OUTPUT": str(trace / "libs")}, **(extra or {})))
    names = set()
    for f in trace.iterdir():
        for m in MAPPED.finditer(f.read_text(errors="replace")):
            names.add(os.path.basename(m.group(1) or m.group(2)))
    # Proof that the trace works, so that "nothing heavy" cannot pass on an empty trace.
    assert "libc.so.6" in names, names
    return r, names


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


def test_a_refresh_loads_libcurl(logged_in, tmp_path):
    """The counter-test: the trace does see a library that is loaded on demand."""
    env = logged_in
    expire_access_token(env)
    r, names = run_traced(env, tmp_path, "token")
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
