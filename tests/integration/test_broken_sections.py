"""One broken provider does not break the others (issue 15, item 3): the commands that go
through every section (status, config list, logout --all, refresh --all) say the broken
section's error on stderr, one line with FILE:LINE, go on with the others, and exit 2."""
import json
import os

from conftest import CLIENT_ID


def broken_config(env, mode=0o600):
    """okta-oidc and okta-admin as conftest has them; "legacy" needs an unset variable,
    "broken-admin" uses it, and "wrong" has a key of another kind."""
    env.write_config(env.config.read_text() + (
        "\n[provider legacy]\nkind = okta/device-code\norg_url = ${OKTACRED_TEST_UNSET}\n"
        f"client_id = {CLIENT_ID}\n"
        "\n[identity broken-admin]\nkind = okta/api-access\nprovider = legacy\n"
        "\n[identity wrong]\nkind = okta/api-access\nprovider = okta-oidc\n"
        "role_arn = arn:aws:iam::123456789012:role/Dev\n"))
    os.chmod(env.config, mode)


def said(env, r):
    """The configuration errors said on stderr."""
    return [line for line in r.stderr.splitlines()
            if line.startswith("oktacred: %s:" % env.config)]


EXPECTED = ["oktacred: %s:17: ${OKTACRED_TEST_UNSET} is not set",
            'oktacred: %s:27: key "role_arn" belongs to aws/assume-role, not okta/api-access']


def assert_said(env, r):
    assert said(env, r) == [e % env.config for e in EXPECTED], r.stderr


def test_status_shows_the_good_sections(logged_in):
    env = logged_in
    broken_config(env)
    r = env.run("status")
    assert r.returncode == 2, r.stderr
    assert_said(env, r)
    assert "okta-oidc (okta/device-code" in r.stdout and "alice" in r.stdout, r.stdout
    assert "legacy" not in r.stdout
    r = env.run("status", "--json")
    assert r.returncode == 2, r.stderr
    assert_said(env, r)
    got = json.loads(r.stdout)
    assert [s["provider"] for s in got] == ["okta-oidc"] and got[0]["usable"]
    # NAMEs: the broken one said, the others shown.
    r = env.run("status", "legacy", "okta-admin")
    assert r.returncode == 2 and "okta-oidc (okta/device-code" in r.stdout, r.stderr
    assert said(env, r) == [EXPECTED[0] % env.config]
    # Naming only good sections: not a word about the others.
    r = env.run("status", "okta-admin")
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_config_list_lists_the_good_sections(env):
    broken_config(env)
    r = env.run("config", "list")
    assert r.returncode == 2
    assert_said(env, r)
    names = [line.split()[1] for line in r.stdout.splitlines()]
    assert names == ["okta-oidc", "okta-admin"], r.stdout
    r = env.run("config", "list", "--json")
    assert r.returncode == 2
    got = json.loads(r.stdout)
    assert [p["name"] for p in got["providers"]] == ["okta-oidc"]
    assert [i["name"] for i in got["identities"]] == ["okta-admin"]
    # Names only (completion): every name, nothing checked.
    r = env.run("config", "list", "--names")
    assert r.returncode == 0 and r.stderr == ""
    assert set(r.stdout.split()) == {"okta-oidc", "okta-admin", "legacy", "broken-admin",
                                     "wrong"}


def test_refresh_all_refreshes_the_good_providers(logged_in):
    env = logged_in
    broken_config(env)
    env.idp.reset()
    r = env.run("refresh", "--all")
    assert r.returncode == 2, r.stderr
    assert_said(env, r)
    assert "okta-oidc: refreshed" in r.stderr
    assert [e["grant_type"] for e in env.idp.log() if e["endpoint"] == "token"] == \
        ["refresh_token"]


def test_logout_all_logs_out_of_the_good_providers(logged_in):
    env = logged_in
    broken_config(env)
    r = env.run("logout", "--all")
    assert r.returncode == 2, r.stderr
    assert_said(env, r)
    assert "okta-oidc: logged out" in r.stderr
    assert not env.tokens_path().exists()


def test_a_readable_file_with_a_broken_section_serves_the_others(logged_in):
    # A group-readable file is checked whole for secrets written in it; a broken section
    # then stays for the commands that use it.
    env = logged_in
    broken_config(env, mode=0o644)
    r = env.run("token", "okta-admin")
    assert r.returncode == 0 and r.stdout.strip(), r.stderr
    r = env.run("token", "broken-admin")
    assert r.returncode == 2 and said(env, r) == [EXPECTED[0] % env.config], r.stderr
