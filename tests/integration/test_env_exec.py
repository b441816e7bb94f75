"""`oktacred env` and `oktacred exec` for okta/api-access identities: every value exact
through every shell, the conflicting variables cleared, the child's status and signals."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import OKTACRED, do_login

# The Okta SDKs' names (okta-sdk-golang, okta-sdk-python and okta-sdk-nodejs read the first
# spelling, okta-sdk-python before 1.4 the second).
SDK_VARS = ["OKTA_CLIENT_ORGURL", "OKTA_CLIENT_ORG_URL", "OKTA_CLIENT_TOKEN",
            "OKTA_CLIENT_AUTHORIZATIONMODE", "OKTA_CLIENT_AUTHORIZATION_MODE"]
VARS = ["OKTA_ORG_URL", "OKTA_OAUTH2_ACCESS_TOKEN", "OKTA_ACCESS_TOKEN", "OKTA_CONFIG_DIR",
        "OKTACRED_IDENTITY"] + SDK_VARS
CLEARED = ["OKTA_API_TOKEN", "OKTA_CLIENT_ID", "OKTA_PRIVATE_KEY", "OKTA_PRIVATE_KEY_ID",
           "OKTA_SCOPES", "OKTA_API_CLIENT_ID", "OKTA_API_PRIVATE_KEY",
           "OKTA_API_PRIVATE_KEY_ID", "OKTA_API_SCOPES",
           # the Terraform provider's base URL: the bearer would go there
           "OKTA_HTTP_PROXY",
           # the SDKs' client id, private key, key id and scopes, in both spellings
           "OKTA_CLIENT_CLIENTID", "OKTA_CLIENT_CLIENT_ID", "OKTA_CLIENT_PRIVATEKEY",
           "OKTA_CLIENT_PRIVATE_KEY", "OKTA_CLIENT_PRIVATEKEYID", "OKTA_CLIENT_KEYID",
           "OKTA_CLIENT_SCOPES", "OKTA_CLIENT_CLIENTASSERTION", "OKTA_CLIENT_JWK"]


def parse_env0(data):
    out = {}
    for item in data.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            out[k.decode()] = v
    return out


def shell_env(env, shell_cmd, cwd=None, extra=None):
    """Runs a shell snippet with the user's environment plus stale variables that
    oktacred must clear; returns the environment the shell ended with."""
    e = dict(env.env, OKTACRED=OKTACRED, **(extra or {}))
    for k in CLEARED:
        e[k] = "stale-" + k
    r = subprocess.run(shell_cmd, env=e, capture_output=True, cwd=cwd, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr.decode()
    return parse_env0(r.stdout)


def expected(env):
    t = env.tokens()
    return {
        "OKTA_ORG_URL": env.idp.base.encode(),
        "OKTA_OAUTH2_ACCESS_TOKEN": t["access_token"].encode(),
        "OKTA_ACCESS_TOKEN": t["access_token"].encode(),
        "OKTA_CONFIG_DIR": os.fsencode(str(env.provider_dir())),
        "OKTACRED_IDENTITY": b"okta-admin",
        "OKTA_CLIENT_ORGURL": env.idp.base.encode(),
        "OKTA_CLIENT_ORG_URL": env.idp.base.encode(),
        "OKTA_CLIENT_TOKEN": t["access_token"].encode(),
        "OKTA_CLIENT_AUTHORIZATIONMODE": b"Bearer",
        "OKTA_CLIENT_AUTHORIZATION_MODE": b"Bearer",
    }


def check(env, got):
    assert {k: got.get(k) for k in VARS} == expected(env)
    for k in CLEARED:
        assert k not in got, k
    # 127.0.0.1 is an IP address: no org name / base URL.
    assert "OKTA_ORG_NAME" not in got and "OKTA_BASE_URL" not in got


@pytest.mark.parametrize("shell", ["sh", "bash", "dash"])
def test_eval_in_posix_shells(logged_in, shell):
    got = shell_env(logged_in, [shell, "-c", 'eval "$("$OKTACRED" env okta-admin)" && env -0'])
    check(logged_in, got)


@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed")
def test_source_in_fish(logged_in):
    got = shell_env(logged_in, ["fish", "-c",
                                '$OKTACRED env --format fish okta-admin | source; and env -0'])
    check(logged_in, got)


NASTY = "we'ird \"dir\" $(touch pwned) `touch pwned2` \\ \nline \xe9t\xe9"


@pytest.mark.parametrize("shell", ["sh", "bash", "dash"])
def test_hostile_path_round_trips_and_runs_nothing(env, tmp_path, shell):
    nasty = tmp_path / NASTY
    nasty.mkdir(mode=0o700)
    env.xdg = nasty
    env.root = nasty / "oktacred"
    env.config = env.root / "config"
    env.env["XDG_CONFIG_HOME"] = str(nasty)
    env.write_config()
    env.idp.settings(interval=1)
    rc, _, err = do_login(env)
    assert rc == 0, err
    work = tmp_path / "cwd"
    work.mkdir()
    got = shell_env(env, [shell, "-c", 'eval "$("$OKTACRED" env)" && env -0'], cwd=work)
    assert got["OKTA_CONFIG_DIR"] == os.fsencode(str(env.provider_dir()))
    check(env, got)
    assert os.listdir(work) == [], "a command in a value ran"


def test_json_format(logged_in):
    r = logged_in.run("env", "--format", "json")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    want = {k: v.decode() for k, v in expected(logged_in).items()}
    assert {k: j["set"][k] for k in VARS} == want
    assert set(CLEARED) <= set(j["unset"])


def test_unset_undoes_eval(logged_in):
    got = shell_env(logged_in, ["sh", "-c", 'eval "$("$OKTACRED" env)" && '
                                'eval "$("$OKTACRED" env --unset)" && env -0'])
    for k in VARS + CLEARED:
        assert k not in got


def test_dotenv_and_powershell_quoting(logged_in):
    r = logged_in.run("env", "--format", "dotenv")
    assert r.returncode == 0
    lines = dict(line.split("=", 1) for line in r.stdout.splitlines())
    assert lines["OKTA_ORG_URL"] == '"%s"' % logged_in.idp.base
    assert "OKTA_API_TOKEN" not in lines, "dotenv cannot clear: cleared variables are left out"
    r = logged_in.run("env", "--format", "powershell")
    assert r.returncode == 0
    assert "$Env:OKTA_ORG_URL = '%s'" % logged_in.idp.base in r.stdout
    assert "Remove-Item Env:OKTA_API_TOKEN" in r.stdout


def test_env_prints_only_the_script(logged_in):
    r = logged_in.run("env")
    assert r.returncode == 0 and r.stderr == ""
    for line in r.stdout.splitlines():
        assert line.startswith("export ") or line.startswith("unset "), line


def test_env_without_session_exits_3_with_nothing_on_stdout(env):
    r = env.run("env")
    assert r.returncode == 3 and r.stdout == ""
    assert "run: oktacred login okta-oidc" in r.stderr


def test_env_unknown_format_is_a_usage_error(logged_in):
    assert logged_in.run("env", "--format", "csh").returncode == 2


def test_exec_passes_the_exit_status(logged_in):
    r = logged_in.run("exec", "okta-admin", "--", "sh", "-c", "exit 7")
    assert r.returncode == 7


def test_exec_passes_signals(logged_in):
    e = dict(logged_in.env, OKTACRED=OKTACRED)
    r = subprocess.run(["sh", "-c", '"$OKTACRED" exec -- sh -c \'kill -TERM $$\'; echo $?'],
                       env=e, capture_output=True, text=True, timeout=30)
    assert r.stdout.strip() == "143"


def test_exec_keeps_the_environment_and_clears_conflicts(logged_in):
    e = {"OKTA_API_TOKEN": "stale", "TERM": "xterm-test", "MY_VAR": "kept"}
    r = logged_in.run("exec", "--", "env", "-0", env=e)
    assert r.returncode == 0, r.stderr
    got = parse_env0(r.stdout.encode())
    assert got["PATH"] == logged_in.env["PATH"].encode()
    assert got["HOME"] == logged_in.env["HOME"].encode()
    assert got["TERM"] == b"xterm-test" and got["MY_VAR"] == b"kept"
    assert "OKTA_API_TOKEN" not in got
    assert got["OKTA_OAUTH2_ACCESS_TOKEN"] == logged_in.tokens()["access_token"].encode()


def test_exec_child_gets_the_callers_umask(logged_in, tmp_path):
    f = tmp_path / "made-by-child"
    e = dict(logged_in.env, OKTACRED=OKTACRED)
    r = subprocess.run(["sh", "-c", 'umask 022; "$OKTACRED" exec -- touch "$0"', str(f)],
                       env=e, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert oct(os.stat(f).st_mode & 0o777) == oct(0o644)


def test_exec_missing_and_unexecutable_commands(logged_in, tmp_path):
    r = logged_in.run("exec", "--", "no-such-command-okc")
    assert r.returncode == 127
    assert "no-such-command-okc: command not found" in r.stderr
    script = tmp_path / "not-executable.sh"
    script.write_text("#!/bin/sh\n")
    os.chmod(script, 0o644)
    r = logged_in.run("exec", "--", str(script))
    assert r.returncode == 126


def test_exec_without_command_is_a_usage_error(logged_in):
    assert logged_in.run("exec").returncode == 2
    assert logged_in.run("exec", "okta-admin", "--").returncode == 2


def with_second_identity(env):
    env.write_config(env.config.read_text() +
                     "\n[identity okta-other]\nkind = okta/api-access\nprovider = okta-oidc\n")


def test_exec_without_dashdash(logged_in, tmp_path):
    """The first word names an identity or a provider: NAME, and the command is the next
    word; any other word is the command, for the default identity. A name wins over a
    program of that name; the command's own options are its own."""
    env = logged_in
    with_second_identity(env)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for prog in ("okta-other", "okta-oidc"):
        (bin_dir / prog).write_text("#!/bin/sh\necho program\n")
        os.chmod(bin_dir / prog, 0o755)
    e = {"PATH": "%s:%s" % (bin_dir, env.env["PATH"])}
    show = 'printf "%s|" "$OKTACRED_IDENTITY" "$@"'
    for args, want in [
            (["okta-other", "sh", "-c", show, "sh", "--recursive", "--server", "-x", "--"],
             "okta-other|--recursive|--server|-x|--|"),
            (["sh", "-c", show, "sh", "okta-other", "--role"], "okta-admin|okta-other|--role|"),
            (["okta-other", "--", "sh", "-c", show, "sh", "x"], "okta-other|x|"),
            (["--", "okta-other"], "program\n"),
            (["okta-oidc", "okta-other", "x"], "program\n"),
            (["okta-admin", "okta-other"], "program\n")]:
        r = env.run("exec", *args, env=e)
        assert (r.returncode, r.stdout, r.stderr) == (0, want, ""), args
    r = env.run("exec", "okta-oidc", "printenv", "OKTA_OAUTH2_ACCESS_TOKEN", env=e)
    assert r.returncode == 0 and r.stdout == env.tokens()["access_token"] + "\n", r.stderr


def test_exec_options_before_the_command(logged_in):
    """exec's own options come before NAME and CMD, or between NAME and "--"; a command
    that starts with "-" needs "--"."""
    env = logged_in
    r = env.run("exec", "-v", "okta-admin", "--debug", "--", "true")
    assert r.returncode == 0, r.stderr
    r = env.run("exec", "okta-admin", "-x")
    assert r.returncode == 2 and "-x" in r.stderr and "--" in r.stderr, r.stderr
    r = env.run("exec", "okta-admin", "--config", str(env.config), "true")
    assert r.returncode == 2 and "--config goes before NAME" in r.stderr, r.stderr
    r = env.run("exec", "--config", str(env.config), "okta-admin", "true")
    assert r.returncode == 0, r.stderr
    r = env.run("exec", "--", "-x")
    assert r.returncode == 127 and "-x: command not found" in r.stderr, r.stderr


def test_nested_exec_reads_the_cache(logged_in):
    logged_in.idp.reset()
    r = logged_in.run("exec", "okta-admin", "--", OKTACRED, "exec", "okta-admin", "--",
                      "sh", "-c", 'printf %s "$OKTACRED_IDENTITY"')
    assert r.returncode == 0, r.stderr
    assert r.stdout == "okta-admin"
    assert logged_in.idp.log() == []
