"""`oktacred config validate|list` and configuration errors with FILE:LINE."""
import os

import pytest

GOOD = """\
[defaults]
identity = aws-dev

[provider okta-oidc]
kind = okta/device-code
org_url = https://company.okta.com
client_id = 0oa1234567890abcdefg
authorization_server = default   ; an id, "default", or "org"
scopes = openid profile email groups offline_access
token_store = file
refresh_before = 5m

[provider robot]
kind = okta/service-account
org_url = https://company.okta.com
client_id = 0oaSERVICE
private_key = ${OKTA_PRIVATE_KEY}
private_key_id = kid-1
scopes = okta.users.read okta.groups.read
authorization_server = org

[identity okta-admin]
kind = okta/api-access
provider = okta-oidc

[identity aws-dev]
kind = aws/assume-role
provider = okta-oidc
role_arn = arn:aws:iam::123456789012:role/OktaFederated
region = us-east-1
duration = 1h
"""

PEM = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"


def test_validate_and_list(env):
    env.write_config(GOOD)
    e = {"OKTA_PRIVATE_KEY": PEM}
    r = env.run("config", "validate", env=e)
    assert r.returncode == 0, r.stderr
    assert "valid" in r.stderr and r.stdout == ""
    r = env.run("config", "list", env=e)
    assert r.returncode == 0
    assert "okta-oidc" in r.stdout and "robot" in r.stdout
    assert "aws-dev" in r.stdout and "(default)" in r.stdout
    r = env.run("config", "list", "--names", env=e)
    assert r.stdout.split() == ["okta-admin", "aws-dev", "okta-oidc", "robot"]


def test_config_option_and_env_variable(env, tmp_path):
    other = tmp_path / "other.ini"
    other.write_text(GOOD)
    os.chmod(other, 0o600)
    e = {"OKTA_PRIVATE_KEY": PEM}
    assert env.run("--config", str(other), "config", "validate", env=e).returncode == 0
    assert env.run("config", "validate", "--config", str(other), env=e).returncode == 0
    e["OKTACRED_CONFIG"] = str(other)
    assert env.run("config", "validate", env=e).returncode == 0


@pytest.mark.parametrize("text,line,words", [
    ("[provider p]\nkind = okta/device-code\norg_url = https://x.okta.com\nclient_id = c\n"
     "colour = blue\n", 5, "colour"),
    ("[provider p]\nkind = okta/unknown\norg_url = https://x.okta.com\n", 2, "kind"),
    ("[provider p]\nkind = okta/device-code\norg_url = http://x.okta.com\nclient_id = c\n",
     3, "https"),
    ("[widget w]\nkind = x\n", 1, "widget"),
    ("[identity i]\nkind = okta/api-access\nprovider = missing\n", 3, "missing"),
    ("[provider p]\nkind = okta/device-code\norg_url = https://x.okta.com\nclient_id = c\n"
     "refresh_before = soon\n", 5, "refresh_before"),
    ("[provider p]\nkind = okta/device-code\norg_url = ${NOT_SET_ANYWHERE}\nclient_id = c\n",
     3, "NOT_SET_ANYWHERE"),
    ("key = value\n", 1, ""),
    ("[provider p]\nkind = okta/device-code\norg_url = https://x.okta.com\nclient_id = c\n"
     "[provider p]\n", 5, "p"),
])
def test_errors_name_file_and_line(env, text, line, words):
    env.write_config(text)
    r = env.run("config", "validate")
    assert r.returncode == 2, r.stderr
    first = r.stderr.splitlines()[0]
    assert first.startswith("oktacred: %s:%d: " % (env.config, line)), first
    assert words in first


def test_missing_config_file(env):
    env.config.unlink()
    r = env.run("status")
    assert r.returncode == 2
    assert str(env.config) in r.stderr


def test_group_writable_config_is_refused(env):
    os.chmod(env.config, 0o664)
    r = env.run("config", "validate")
    assert r.returncode == 1
    assert "chmod 600" in r.stderr


def test_usage_errors_exit_2(env):
    assert env.run("frobnicate").returncode == 2
    assert env.run("login", "--frob").returncode == 2
    assert env.run("config").returncode == 2


def test_help_and_version(env):
    r = env.run("--help")
    assert r.returncode == 0 and "login" in r.stdout and "status" in r.stdout
    r = env.run("login", "--help")
    assert r.returncode == 0 and "--no-qr" in r.stdout
    r = env.run("--version")
    assert r.returncode == 0 and r.stdout.startswith("oktacred ")
