"""`oktacred init`: a first configuration, checked against the org's discovery document,
written 0600 in a 0700 directory, never over an existing one without --force."""
import json
import os
import socket
import stat
import time

import pytest

from checks import assert_says_once
from conftest import CLIENT_ID, OKTACRED, Env


@pytest.fixture
def fresh(tmp_path, idp):
    """A user with no configuration (and no config directory) yet."""
    return Env(tmp_path, idp)


def init(e, *args, server="default", name=None):
    extra = ["--name", name] if name else []
    return e.run("init", "--org-url", e.idp.base, "--client-id", CLIENT_ID,
                 "--authorization-server", server, *extra, *args)


def test_init_writes_a_configuration_that_validates(fresh):
    r = init(fresh)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert "oktacred login okta" in r.stderr
    assert stat.S_IMODE(fresh.config.stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh.root.stat().st_mode) == 0o700
    text = fresh.config.read_text()
    assert "[provider okta]" in text and "kind = okta/device-code" in text
    assert "org_url = %s\n" % fresh.idp.base in text and CLIENT_ID in text
    # No temporary file left beside it.
    assert sorted(p.name for p in fresh.root.iterdir()) == ["config"]
    r = fresh.run("config", "validate")
    assert r.returncode == 0, r.stderr
    r = fresh.run("config", "validate", "--online")
    assert r.returncode == 0, r.stdout + r.stderr
    r = fresh.run("config", "list", "--json")
    got = json.loads(r.stdout)
    assert [p["name"] for p in got["providers"]] == ["okta"]


def test_init_name_server_and_config_path(fresh, tmp_path):
    path = tmp_path / "elsewhere" / "deep" / "oktacred.conf"
    r = init(fresh, "--config", str(path), server="org", name="corp")
    assert r.returncode == 0, r.stderr
    assert "oktacred login corp" in r.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "authorization_server = org" in path.read_text()
    r = fresh.run("config", "validate", env={"OKTACRED_CONFIG": str(path)})
    assert r.returncode == 0, r.stderr


def test_init_refuses_to_overwrite_without_force(fresh):
    fresh.write_config()
    before = fresh.config.read_text()
    r = init(fresh)
    assert r.returncode == 2, r.stderr
    assert "already exists" in r.stderr and "--force" in r.stderr
    assert fresh.config.read_text() == before
    r = init(fresh, "--force", name="again")
    assert r.returncode == 0, r.stderr
    assert "[provider again]" in fresh.config.read_text()
    assert stat.S_IMODE(fresh.config.stat().st_mode) == 0o600


def no_device_grant(fresh, grants):
    path = "/oauth2/default/.well-known/openid-configuration"
    issuer = fresh.idp.base + "/oauth2/default"
    doc = {"issuer": issuer, "token_endpoint": issuer + "/v1/token",
           "authorization_endpoint": issuer + "/v1/authorize",
           "revocation_endpoint": issuer + "/v1/revoke",
           "jwks_uri": issuer + "/v1/keys", "grant_types_supported": grants}
    fresh.idp.fault(path, status=200, count=1, body=json.dumps(doc))


def test_init_without_the_device_grant_writes_the_browser_flow(fresh):
    """A server that offers the authorization code grant but not the device grant gets a
    provider with flow = browser (and says which redirect URI the application needs)."""
    no_device_grant(fresh, ["authorization_code", "refresh_token"])
    r = init(fresh)
    assert r.returncode == 0, r.stderr
    assert "does not offer the device authorization grant" in r.stderr
    assert "http://localhost:8000/callback must be a sign-in redirect URI" in r.stderr
    assert_says_once(r.stderr.splitlines()[0])
    assert "\nflow = browser\n" in fresh.config.read_text()
    v = fresh.run("config", "validate")
    assert v.returncode == 0, v.stderr


def test_init_without_any_grant_a_person_can_use_exits_2(fresh):
    no_device_grant(fresh, ["client_credentials"])
    r = init(fresh)
    assert r.returncode == 2, r.stderr
    assert "offers neither the device authorization grant nor the authorization code" \
        in r.stderr
    assert_says_once(r.stderr.splitlines()[0])
    assert not fresh.config.exists()


def test_init_unknown_authorization_server_exits_2(fresh):
    r = init(fresh, server="nosuchserver")
    assert r.returncode == 2, r.stderr
    assert not fresh.config.exists()


def test_init_unreachable_org_exits_4(fresh):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = fresh.run("init", "--org-url", "http://127.0.0.1:%d" % port, "--client-id", CLIENT_ID)
    assert r.returncode == 4, r.stderr
    assert not fresh.config.exists() and not fresh.root.exists()


def test_init_needs_the_options_without_a_terminal(fresh):
    r = fresh.run("init", "--org-url", fresh.idp.base)
    assert r.returncode == 2, r.stderr
    assert "--client-id" in r.stderr
    assert not fresh.config.exists()


def test_init_interactive_on_a_terminal(fresh):
    import pty

    pid, master = pty.fork()
    if pid == 0:
        os.environ.clear()
        os.environ.update(fresh.env)
        os.execv(OKTACRED, [OKTACRED, "init"])
    answers = [
        (b"org URL", fresh.idp.base),
        (b"Client id", CLIENT_ID),
        (b"Authorization server", ""),
        (b"Name of this provider", "corp"),
        (b"okta/api-access", "y"),
        (b"aws/assume-role", "y"),
        (b"role ARN", "arn:aws:iam::123456789012:role/dev"),
        (b"region", "eu-west-1"),
    ]
    out = b""
    deadline = time.monotonic() + 30
    try:
        for prompt, answer in answers:
            while prompt not in out:
                assert time.monotonic() < deadline, out
                out += os.read(master, 4096)
            out = out[out.index(prompt) + len(prompt):]
            os.write(master, answer.encode() + b"\n")
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(master)
    assert os.waitstatus_to_exitcode(status) == 0, out
    assert b"oktacred login corp" in out
    text = fresh.config.read_text()
    assert "authorization_server = default" in text
    assert "kind = okta/api-access" in text and "kind = aws/assume-role" in text
    assert "role_arn = arn:aws:iam::123456789012:role/dev" in text
    assert stat.S_IMODE(fresh.config.stat().st_mode) == 0o600
    r = fresh.run("config", "validate")
    assert r.returncode == 0, r.stderr


def test_init_a_name_the_configuration_refuses_leaves_no_file(fresh):
    r = init(fresh, name="bad name")
    assert r.returncode == 2, r.stderr
    assert "does not load" in r.stderr
    assert not fresh.config.exists()
    assert list(fresh.root.iterdir()) == []
