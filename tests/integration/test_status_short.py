"""`oktacred status --short [NAME...]`: one line for a shell prompt ("okta-admin 42m"), read
from the files alone: no request, no refresh, no optional library (issue 15, item 8)."""
import json
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import OKTACRED_UNWRAPPED, ROOT, do_login
from test_aws import aws, process, expire_cached, sts, _reset_sts  # noqa: F401 (fixtures)
from test_keyring import secret_service, kenv, klogged_in  # noqa: F401 (fixtures)
from test_lean import heavy, run_traced

LEFT = r"(\d+s|\d+m|\d+h\d\dm|\d+d\d+h)"


def rewrite_tokens(env, **changes):
    t = env.tokens()
    for k, v in changes.items():
        if v is None:
            t.pop(k, None)
        else:
            t[k] = v
    env.tokens_path().write_text(json.dumps(t))


def ago(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds))


def test_short_is_one_line_from_the_cache(logged_in):
    env = logged_in
    env.idp.reset()
    r = env.run("status", "--short")
    assert r.returncode == 0, r.stderr
    # The default identity, and the access token's time left (the IdP's is an hour).
    assert re.fullmatch(r"okta-admin (59m|1h00m)\n", r.stdout), r.stdout
    assert r.stderr == ""
    r = env.run("status", "--short", "okta-oidc", "okta-admin")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"okta-oidc %s okta-admin %s\n" % (LEFT, LEFT), r.stdout), r.stdout
    assert env.idp.log() == [], "no request"


def test_short_without_a_session_prints_nothing_and_exits_3(env):
    r = env.run("status", "--short")
    assert (r.returncode, r.stdout, r.stderr) == (3, "", "")
    # The long form says what to do; --short is for a prompt.
    r = env.run("status")
    assert r.returncode == 3 and "run: oktacred login okta-oidc" in r.stderr


def test_short_stale_expired_and_ended(logged_in):
    env = logged_in
    env.idp.reset()
    # The access token expired, the refresh token renews it at the next use: no refresh
    # now.
    rewrite_tokens(env, expires_at=ago(60))
    r = env.run("status", "--short")
    assert (r.returncode, r.stdout) == (0, "okta-admin stale\n"), r.stderr
    assert env.idp.log() == []
    # Without a refresh token a login is needed.
    rewrite_tokens(env, refresh_token=None)
    r = env.run("status", "--short")
    assert (r.returncode, r.stdout) == (3, "okta-admin expired\n"), r.stderr
    # A session past session_duration has ended, whatever its tokens say.
    rc, _, err = do_login(env, "--force")
    assert rc == 0, err
    env.write_config(extra="session_duration = 1h")
    rewrite_tokens(env, session_started_at=ago(2 * 3600))
    r = env.run("status", "--short")
    assert (r.returncode, r.stdout) == (3, "okta-admin expired\n"), r.stderr
    # Within it, the time left is the session's when that is shorter.
    rewrite_tokens(env, session_started_at=ago(3600 - 10 * 60))
    r = env.run("status", "--short")
    assert r.returncode == 0 and re.fullmatch(r"okta-admin (9m|10m)\n", r.stdout), r.stdout


def test_short_aws_identity_shows_its_credentials(aws):
    # Nothing cached yet: the next use gets credentials without a login.
    r = aws.run("status", "--short", "aws-dev")
    assert (r.returncode, r.stdout) == (0, "aws-dev stale\n"), r.stderr
    assert process(aws).returncode == 0
    aws.sts.reset()
    aws.idp.reset()
    r = aws.run("status", "--short", "aws-dev")
    assert r.returncode == 0 and re.fullmatch(r"aws-dev (59m|1h00m)\n", r.stdout), r.stdout
    expire_cached(aws, left=-60)
    r = aws.run("status", "--short", "aws-dev")
    assert (r.returncode, r.stdout) == (0, "aws-dev stale\n")
    assert aws.sts.log() == [] and aws.idp.log() == []


def test_short_loads_no_optional_library(logged_in, tmp_path):
    env = logged_in
    rewrite_tokens(env, expires_at=ago(60))  # even when the token is due
    r, names = run_traced(env, tmp_path, "status", "--short")
    assert r.returncode == 0 and r.stdout == "okta-admin stale\n", r.stderr
    assert heavy(names) == []


def test_short_with_the_keyring_loads_no_optional_library(klogged_in, tmp_path):
    env = klogged_in
    r, names = run_traced(env, tmp_path, "status", "--short")
    assert r.returncode == 0 and re.fullmatch(r"okta-admin %s\n" % LEFT, r.stdout), r.stderr
    assert heavy(names) == [], "the keyring is not asked"
    rewrite_tokens(env, expires_at=ago(60))
    r = env.run("status", "--short")
    assert (r.returncode, r.stdout) == (0, "okta-admin stale\n"), r.stderr


def test_short_usage(env):
    r = env.run("status", "--short", "--json")
    assert r.returncode == 2 and r.stdout == ""
    env.write_config(env.config.read_text().replace("[defaults]\nidentity = okta-admin\n", ""))
    r = env.run("status", "--short")
    assert r.returncode == 2 and r.stdout == "" and "no [defaults] identity" in r.stderr
    r = env.run("status", "--short", "nobody")
    assert r.returncode == 2 and r.stdout == ""
    assert "--short" in env.run("status", "--help").stdout


def readme_snippets():
    """The prompt snippets of the README's "In the shell prompt", by language."""
    readme = open(os.path.join(ROOT, "README.md")).read()
    part = readme.split("## In the shell prompt", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"```(\w+)\n(.*?)```", part, re.S))


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_readme_prompt_snippets_work(logged_in, tmp_path, shell):
    env = logged_in
    if not shutil.which(shell):
        pytest.skip(shell + " is not installed")
    snippet = readme_snippets()[shell]
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "oktacred").symlink_to(OKTACRED_UNWRAPPED)
    path = "%s:%s" % (bindir, env.env["PATH"])
    # The prompt as the shell shows it: bash expands PS1 (${PS1@P}); zsh's and fish's are
    # the function the snippet puts in front of the prompt.
    script = {
        "bash": "PS1='$ '\n%s\nprintf '%%s' \"${PS1@P}\"\n",
        "zsh": "PROMPT='%%# '\n%s\n[[ $PROMPT == '$(__oktacred_ps1)%%# ' ]] && __oktacred_ps1\n",
        "fish": "function fish_prompt; echo -n '> '; end\n%s\nfish_prompt\n",
    }[shell] % snippet
    argv = {"bash": ["bash", "--norc", "--noprofile", "-c"], "zsh": ["zsh", "-f", "-c"],
            "fish": ["fish", "--no-config", "-c"]}[shell]
    e = dict(env.env, PATH=path)
    r = subprocess.run(argv + [script], env=e, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"\(okta-admin (59m|1h00m)\) (\$ |> )?", r.stdout), r.stdout
    # Logged out: the prompt is as it was.
    assert env.run("logout").returncode == 0
    r = subprocess.run(argv + [script], env=e, capture_output=True, text=True, timeout=60)
    assert re.fullmatch(r"(\$ |> )?", r.stdout), r.stdout
