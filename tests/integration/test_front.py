"""The front and the full program answer alike (docs/DESIGN.md, "The front and the full
binary"): every command line the front serves, or starts to serve and hands over, gives
the same stdout, stderr and exit status from ./oktacred as from the full program run
directly on the same state, for each identity kind, with options, with a broken
configuration, and with caches valid, expired or missing. And the hand-off itself: output
said once, a signal during it not lost (nor one the caller ignores un-ignored), and the
full program next to the front run only when it is root's or the user's."""
import os
import re
import shutil
import signal
import subprocess

import pytest

from conftest import CLIENT_ID, OKTACRED_UNWRAPPED
from test_aws import aws, expire_cached, process, sts, _reset_sts  # noqa: F401 (fixtures)
from test_lean import expire_access_token, front_only, need_strace, run_full

pytestmark = front_only

MORE = (
    "\n[identity k8s]\nkind = kubernetes/exec-credential\nprovider = okta-oidc\n"
    "\n[identity gcp]\nkind = gcp/workload-identity\nprovider = okta-oidc\n"
    "project_number = 123456789012\npool_id = okta-pool\nprovider_id = okta-oidc\n"
    "\n[provider other]\nkind = okta/device-code\norg_url = %(base)s\n"
    "client_id = %(client)s\n"
    "\n[identity other-admin]\nkind = okta/api-access\nprovider = other\n"
    "\n[identity gcp-other]\nkind = gcp/workload-identity\nprovider = other\n"
    "project_number = 123456789012\npool_id = okta-pool\nprovider_id = okta-oidc\n"
)
BROKEN = (
    "\n[provider legacy]\nkind = okta/device-code\norg_url = ${OKTACRED_TEST_UNSET}\n"
    "client_id = %(client)s\n"
    "\n[identity broken-admin]\nkind = okta/api-access\nprovider = legacy\n"
)

GOOGLE = {"GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE": "//iam.googleapis.com/projects/123456789012/"
          "locations/global/workloadIdentityPools/okta-pool/providers/okta-oidc",
          "GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE": "urn:ietf:params:oauth:token-type:id_token",
          "GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE": "0"}

LINES = [
    ("token",), ("token", "--json"), ("token", "--id-token"), ("token", "--id-token", "--json"),
    ("token", "okta-admin"), ("token", "other-admin"), ("token", "nosuch"),
    ("token", "a", "b"), ("token", "--jsn"), ("token", "--json=1"),
    ("--no-color", "token"), ("token", "--no-color"),
    ("env",), ("env", "okta-admin"), ("env", "--unset", "okta-admin"),
    ("env", "--format", "fish", "okta-admin"), ("env", "--format=json", "okta-admin"),
    ("env", "--format", "dotenv", "aws-dev"), ("env", "--format", "nope"),
    ("env", "--format"), ("env", "--role", "Dev", "okta-admin"),
    ("env", "aws-dev"), ("env", "--unset", "aws-dev"), ("env", "k8s"), ("env", "gcp"),
    ("env", "--unset", "gcp"), ("env", "other-admin"), ("env", "broken-admin"),
    ("credential-process",), ("credential-process", "aws-dev"),
    ("credential-process", "okta-admin"), ("credential-process", "--role", "x", "aws-dev"),
    ("credential",), ("credential", "aws-dev"), ("credential", "k8s"), ("credential", "gcp"),
    ("credential", "okta-admin"), ("credential", "other-admin"), ("credential", "nosuch"),
    ("credential", "broken-admin"), ("credential", "gcp-other"), ("env", "gcp-other"),
    ("status", "--short"), ("status", "--short", "okta-admin", "k8s", "aws-dev"),
    ("status", "--short", "other-admin"), ("status", "--short", "okta-admin", "other-admin"),
    ("status", "--short", "okta-admin", "nosuch"), ("status", "--short", "--json"),
    ("status", "--short", "broken-admin"), ("status", "--short", "okta-admin", "broken-admin"),
    ("status", "--config", "--short"),
    ("--config", "/nonexistent/config", "token"), ("--config=/nonexistent/config", "env"),
    ("token", "--config", "/nonexistent/config"),
]


def both(env, args, extra=None):
    front = env.run(*args, env=extra)
    full = run_full(env, *args, extra=dict(extra or {},
                                           OKTACRED_FRONT_EXE=OKTACRED_UNWRAPPED))
    return front, full


# What is left of a session ("59m", "1h00m"): the two runs may fall on either side of a
# minute.
LEFT = re.compile(r"\b(?:\d+h)?\d+m\b")


def same(front, full):
    """The two runs' status, stdout and stderr, equal but for the time left."""
    def norm(r):
        return (r.returncode, LEFT.sub("Nm", r.stdout), LEFT.sub("Nm", r.stderr))
    assert norm(front) == norm(full)


@pytest.fixture
def world(aws):
    env = aws
    env.write_config(env.config.read_text() + MORE % {"base": env.idp.base, "client": CLIENT_ID}
                     + BROKEN % {"client": CLIENT_ID})
    assert process(env).returncode == 0
    return env


def set_state(env, state):
    """cached: everything valid; expired: the access token and the AWS credentials are
    (the front hands over, the full program refreshes, and then answers from that cache
    what the front's hand-off printed); logged-out: no session at all."""
    if state == "expired":
        expire_access_token(env)
        expire_cached(env)
    elif state == "logged-out":
        env.tokens_path().unlink()


@pytest.mark.parametrize("state", ["cached", "expired", "logged-out"])
@pytest.mark.parametrize("args", LINES, ids=" ".join)
def test_the_front_answers_as_the_full_program(world, args, state):
    extra = GOOGLE if any(a.startswith("gcp") for a in args) else None
    set_state(world, state)
    front, full = both(world, args, extra)
    same(front, full)


ENVIRONMENTS = [
    {"OKTACRED_CONFIG": "/nonexistent/config"},
    {"OKTACRED_CONFIG": "relative/config"},
    {"OKTACRED_CONFIG": "~/.config/oktacred/config"},
    {"HOME": "", "XDG_CONFIG_HOME": ""},
    {"HOME": "relative", "XDG_CONFIG_HOME": "relative"},
    {"NO_COLOR": "1"},
]


@pytest.mark.parametrize("extra", ENVIRONMENTS,
                         ids=lambda e: ",".join("%s=%s" % i for i in e.items()))
@pytest.mark.parametrize("args", [("token",), ("env", "aws-dev"), ("credential", "k8s"),
                                  ("status", "--short", "okta-admin")], ids=" ".join)
def test_the_front_reads_the_environment_as_the_full_program(world, args, extra):
    front, full = both(world, args, extra)
    same(front, full)


def spoil(env, how):
    text = env.config.read_text()
    if how == "mode 0644":
        os.chmod(env.config, 0o644)
    elif how == "syntax":
        env.config.write_text(text + "\n[identity half\n")
    elif how == "unknown key":
        env.config.write_text(text.replace("[identity k8s]\n", "[identity k8s]\nnonsense = 1\n"))
    elif how == "duplicate":
        env.config.write_text(text + "\n[identity k8s]\nkind = okta/api-access\n"
                              "provider = okta-oidc\n")
    elif how == "directory":
        env.config.unlink()
        env.config.mkdir()
    elif how == "empty":
        env.config.write_text("")


@pytest.mark.parametrize("how", ["mode 0644", "syntax", "unknown key", "duplicate", "directory",
                                 "empty"])
@pytest.mark.parametrize("args", [("token",), ("env", "aws-dev"), ("credential", "k8s"),
                                  ("credential", "gcp"), ("status", "--short")], ids=" ".join)
def test_a_configuration_error_is_said_as_the_full_program_says_it(world, args, how):
    spoil(world, how)
    extra = GOOGLE if "gcp" in args else None
    front, full = both(world, args, extra)
    same(front, full)


def test_status_short_says_each_name_once_when_a_later_one_hands_over(world):
    """status --short NAME... formats the names in turn; one whose cache is corrupt
    hands over to the full program (which sets the file aside and says so), after the
    names before it were formatted. Those must not have reached stdout already (a line
    longer than stdio's buffer is flushed as it is made), or they are said twice."""
    d = world.provider_dir("other")
    d.mkdir(mode=0o700)
    (d / "tokens.json").write_text("{not json")
    os.chmod(d / "tokens.json", 0o600)
    names = ["okta-admin"] * 400 + ["other-admin"]
    # The front itself (the capturing wrapper of OKTACRED_TEST_DEBUG=1 adds -v, which
    # hands everything over at once).
    r = subprocess.run([OKTACRED_UNWRAPPED, "status", "--short", *names], env=world.env,
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                       start_new_session=True)
    assert r.returncode == 3, r.stderr
    assert r.stdout.count("okta-admin ") == 400 and r.stdout.count("\n") == 1, r.stdout
    assert r.stderr.count("is corrupt") == 1, r.stderr


@need_strace
def test_a_ctrl_c_during_the_hand_off_is_not_lost(logged_in, tmp_path):
    """A SIGINT that arrives after the front last looked for one and before execve (here:
    while it looks for the full program, strace delivering it at its first access()) must
    end the command, not be lost in the exec and let the full program refresh."""
    env = logged_in
    expire_access_token(env)
    env.idp.reset()
    e = dict(env.env)
    e.pop("OKTACRED_FULL", None)
    r = subprocess.run(["strace", "-qq", "-o", str(tmp_path / "trace"),
                        "-e", "trace=access,faccessat,faccessat2",
                        "-e", "inject=access,faccessat,faccessat2:signal=SIGINT:when=1",
                        OKTACRED_UNWRAPPED, "token"], env=e, capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL, start_new_session=True,
                       # SIGINT at its default, as in a shell's foreground: a background
                       # job (the sharded runs) inherits it ignored, and an ignored signal
                       # stays ignored across the hand-off (the test below).
                       preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert r.returncode in (130, -signal.SIGINT), (r.returncode, r.stderr)
    assert r.stdout == ""
    assert [x for x in env.idp.log() if x.get("grant_type") == "refresh_token"] == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")
@pytest.mark.parametrize("owner", ["us", "another user"])
def test_the_full_program_next_to_the_front_must_be_root_s_or_ours(env, tmp_path, owner):
    """A front copied into a directory others can write to (/tmp) looks for
    build/oktacred-full next to itself: one that another user put there is not run (the
    hand-off goes on to the configured LIBEXECDIR)."""
    d = tmp_path / "shared"
    (d / "build").mkdir(parents=True)
    shutil.copy(OKTACRED_UNWRAPPED, d / "oktacred")
    planted = d / "build" / "oktacred-full"
    planted.write_text("#!/bin/sh\necho planted\n")
    planted.chmod(0o755)
    if owner == "another user":
        os.chown(d / "build", 65534, 65534)
        os.chown(planted, 65534, 65534)
    e = dict(env.env)
    e.pop("OKTACRED_FULL", None)
    r = subprocess.run([str(d / "oktacred"), "--version"], env=e, capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
    if owner == "us":
        assert r.stdout == "planted\n", r.stderr
    else:
        assert "planted" not in r.stdout


def test_a_signal_the_caller_ignores_stays_ignored_across_the_hand_off(logged_in, tmp_path):
    """nohup oktacred token: the front's handlers are its own; the full program (and what
    it runs) gets the caller's dispositions back, SIGHUP ignored, not reset to the
    default by the exec."""
    env = logged_in
    expire_access_token(env)  # the hand-off comes after the front installed its handlers
    full = tmp_path / "full"
    full.write_text("#!/bin/sh\ngrep SigIgn /proc/$$/status\n")
    full.chmod(0o755)
    r = subprocess.run([OKTACRED_UNWRAPPED, "token"], env=dict(env.env, OKTACRED_FULL=str(full)),
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                       preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    ignored = int(r.stdout.split()[1], 16)
    assert ignored & (1 << (signal.SIGHUP - 1)), r.stdout
