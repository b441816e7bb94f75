"""status, logout and the token cache on disk: modes, symlinks, corruption, org switch."""
import json
import os

import pytest


def test_status_shows_the_user(logged_in):
    r = logged_in.run("status")
    assert r.returncode == 0, r.stderr
    assert "alice@example.com" in r.stdout
    assert "AWS-Dev" in r.stdout
    assert "00u-alice" in r.stdout


def test_status_json(logged_in):
    r = logged_in.run("whoami", "--json", "okta-admin")
    assert r.returncode == 0, r.stderr
    [s] = json.loads(r.stdout)
    assert s["provider"] == "okta-oidc" and s["usable"] is True
    assert s["email"] == "alice@example.com"
    assert "AWS-Dev" in s["groups"]
    assert s["refresh_token"] is True
    assert 3000 < s["access_expires_in"] <= 3600


def test_status_without_session_exits_3(env):
    r = env.run("status", "okta-oidc")
    assert r.returncode == 3
    assert "not logged in" in r.stdout


def test_logout_removes_tokens(logged_in):
    env = logged_in
    r = env.run("logout")
    assert r.returncode == 0, r.stderr
    assert not env.tokens_path().exists()
    assert env.run("status").returncode == 3
    # Logging out twice is fine.
    assert env.run("logout", "okta-oidc").returncode == 0


def test_logout_all(logged_in):
    r = logged_in.run("logout", "--all")
    assert r.returncode == 0
    assert not logged_in.tokens_path().exists()


def test_corrupt_cache_is_no_session_and_kept(logged_in):
    env = logged_in
    env.tokens_path().write_text('{"access_token": "abc", "expires_at": 12')
    r = env.run("status")
    assert r.returncode == 3
    assert "corrupt" in r.stderr
    assert (env.provider_dir() / "tokens.json.corrupt").exists()
    assert not env.tokens_path().exists()


@pytest.mark.parametrize("garbage", [b"", b"\x00\xff\xfe random", b"[]", b'{"expires_at": []}'])
def test_garbage_cache_never_crashes(logged_in, garbage):
    logged_in.tokens_path().write_bytes(garbage)
    r = logged_in.run("status", "--json")
    assert r.returncode == 3, r.stderr


def test_loose_file_mode_is_refused(logged_in):
    os.chmod(logged_in.tokens_path(), 0o644)
    r = logged_in.run("status")
    assert r.returncode == 1
    assert "chmod 600" in r.stderr


def test_loose_directory_mode_is_refused(logged_in):
    os.chmod(logged_in.provider_dir(), 0o755)
    r = logged_in.run("status")
    assert r.returncode == 1
    assert "chmod 700" in r.stderr


def test_symlinked_cache_is_refused_and_not_followed(logged_in, tmp_path):
    env = logged_in
    target = tmp_path / "elsewhere.json"
    target.write_text(env.tokens_path().read_text())
    os.chmod(target, 0o600)
    env.tokens_path().unlink()
    env.tokens_path().symlink_to(target)
    r = env.run("status")
    assert r.returncode == 1
    assert "symbolic link" in r.stderr
    env.run("logout")
    assert target.exists() and target.read_text().startswith("{")


def test_foreign_owner_is_refused(logged_in):
    os.chown(logged_in.tokens_path(), 12345, 12345)
    r = logged_in.run("status")
    assert r.returncode == 1
    assert "owned by" in r.stderr


def test_switching_org_hides_the_old_session(logged_in):
    env = logged_in
    env.write_config(env.config.read_text().replace("0oa-test-native", "0oa-other-client"))
    r = env.run("status")
    assert r.returncode == 3
