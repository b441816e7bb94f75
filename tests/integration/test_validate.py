"""`oktacred config validate`: scopes Okta can never grant (exit 2, FILE:LINE), the warning
about okta/api-access over a custom authorization server, and `--online`: each provider's
discovery document against what oktacred will use (exit 2 misconfigured, 4 unreachable)."""
import json
import socket

from conftest import CLIENT_ID

SA = ("[provider robot]\nkind = okta/service-account\norg_url = https://x.okta.com\n"
      "client_id = 0oaSVC\n")


def first_error(r):
    return r.stderr.splitlines()[0]


def test_okta_scopes_on_a_custom_server_are_refused(env):
    env.write_config("[provider p]\nkind = okta/device-code\norg_url = https://x.okta.com\n"
                     "client_id = c\nauthorization_server = aus1abc\n"
                     "scopes = openid okta.users.read\n")
    r = env.run("config", "validate")
    assert r.returncode == 2, r.stderr
    assert first_error(r).startswith("oktacred: %s:6: scopes: okta.users.read" % env.config)
    assert "only the org authorization server" in r.stderr
    assert "authorization_server = org" in r.stderr  # the hint
    # And so does any command that uses the provider.
    r = env.run("token", "p")
    assert r.returncode == 2 and "%s:6:" % env.config in r.stderr


def test_okta_scopes_with_a_client_secret_are_refused(env, tmp_path):
    for key in ("client_secret = s3cret", "client_secret_env = ROBOT_SECRET"):
        env.write_config(SA + "scopes = okta.users.read\n" + key + "\n")
        r = env.run("config", "validate")
        assert r.returncode == 2, r.stderr
        assert first_error(r).startswith("oktacred: %s:6: scopes: okta.users.read" %
                                         env.config), r.stderr
        assert "only with private_key_jwt" in r.stderr
        assert "s3cret" not in r.stderr
    key = tmp_path / "k.pem"  # validate checks that it exists and is private
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    key.chmod(0o600)
    env.write_config(SA + "scopes = okta.users.read\nprivate_key = %s\n" % key)
    assert env.run("config", "validate").returncode == 0


def test_api_access_over_a_custom_server_warns(env):
    # conftest's configuration: okta-admin over okta-oidc on the "default" server.
    r = env.run("config", "validate")
    assert r.returncode == 0, r.stderr
    warning = [line for line in r.stderr.splitlines() if "warning:" in line]
    assert len(warning) == 1, r.stderr
    assert "%s:13: identity okta-admin: provider okta-oidc uses a custom authorization " \
           "server" % env.config in warning[0]
    assert "valid" in r.stderr and r.stdout == ""
    # Other commands say it with --verbose only (their stderr is often someone's log).
    r = env.run("env", "okta-admin", "--unset")
    assert r.returncode == 0 and "authorization server" not in r.stderr, r.stderr
    r = env.run("env", "okta-admin", "--unset", "-v")
    assert r.returncode == 0 and "uses a custom authorization server" in r.stderr
    # On the org server: no warning.
    env.write_config(server="org")
    r = env.run("config", "validate")
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr


def providers(env, *sections):
    env.write_config("".join(sections))


def device(env, name="okta-oidc", server="default", org=None):
    return (f"[provider {name}]\nkind = okta/device-code\norg_url = {org or env.idp.base}\n"
            f"client_id = {CLIENT_ID}\nauthorization_server = {server}\n")


def robot(env, name="robot"):
    return (f"[provider {name}]\nkind = okta/service-account\norg_url = {env.idp.base}\n"
            "client_id = 0oa-test-secret\nclient_secret = test-secret-value\n"
            "scopes = api.read\nauthorization_server = default\n")


def lines(r):
    return dict(line.split(": ", 1) for line in r.stdout.splitlines())


def test_online_ok(env):
    providers(env, device(env), device(env, "org-login", "org"), robot(env),
              "[provider legacy]\nkind = okta/api-token\norg_url = https://x.okta.com\n"
              "token_env = T\n")
    r = env.run("config", "validate", "--online")
    assert r.returncode == 0, r.stdout + r.stderr
    got = lines(r)
    assert got["okta-oidc"] == "ok" and got["org-login"] == "ok" and got["robot"] == "ok"
    assert got["legacy"].startswith("not checked")
    assert list(got) == ["okta-oidc", "org-login", "robot", "legacy"]
    # Nothing was sent to a token, device or revocation endpoint: no secret left.
    assert env.idp.log() == []
    # Without --online nothing is fetched.
    r = env.run("config", "validate")
    assert r.returncode == 0 and r.stdout == ""


def test_online_wrong_authorization_server_is_misconfigured(env):
    providers(env, device(env), device(env, "typo", "aus0nothere"))
    r = env.run("config", "validate", "--online")
    assert r.returncode == 2, r.stdout + r.stderr
    got = lines(r)
    assert got["okta-oidc"] == "ok"
    assert "HTTP 404" in got["typo"] and "authorization_server" in got["typo"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_online_unreachable_exits_4(env):
    providers(env, device(env), device(env, "down", org="http://127.0.0.1:%d" % free_port()))
    r = env.run("config", "validate", "--online")
    assert r.returncode == 4, r.stdout + r.stderr
    got = lines(r)
    assert got["okta-oidc"] == "ok" and "127.0.0.1" in got["down"]


def discovery_path(server="default"):
    return ("/oauth2/%s" % server if server != "org" else "") + \
        "/.well-known/openid-configuration"


def doc(env, server="default", **changes):
    issuer = env.idp.base + ("/oauth2/%s" % server if server != "org" else "")
    prefix = issuer + ("/v1" if server != "org" else "/oauth2/v1")
    d = {
        "issuer": issuer,
        "token_endpoint": prefix + "/token",
        "device_authorization_endpoint": prefix + "/device/authorize",
        "revocation_endpoint": prefix + "/revoke",
        "jwks_uri": prefix + "/keys",
        "grant_types_supported": ["refresh_token", "client_credentials",
                                  "urn:ietf:params:oauth:grant-type:device_code"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt",
                                                  "none"],
    }
    d.update(changes)
    return {k: v for k, v in d.items() if v is not None}


def test_online_missing_grant_or_endpoint_is_misconfigured(env):
    providers(env, device(env), robot(env, "robot"))
    cases = [
        (doc(env, grant_types_supported=["refresh_token", "client_credentials"]),
         "okta-oidc", "does not offer the urn:ietf:params:oauth:grant-type:device_code grant"),
        (doc(env, grant_types_supported=["urn:ietf:params:oauth:grant-type:device_code",
                                         "refresh_token"]),
         "robot", "does not offer the client_credentials grant"),
        (doc(env, device_authorization_endpoint=None),
         "okta-oidc", "advertises no device authorization endpoint"),
        (doc(env, token_endpoint="http://127.0.0.1:1/token"),
         "okta-oidc", "token endpoint is http://127.0.0.1:1/token"),
        (doc(env, issuer="http://127.0.0.1:1/oauth2/default"),
         "okta-oidc", "issuer is http://127.0.0.1:1/oauth2/default"),
        (doc(env, token_endpoint_auth_methods_supported=["private_key_jwt"]),
         "robot", "does not take client_secret_basic client authentication"),
    ]
    for body, name, words in cases:
        # Both providers read the same document: one answer each.
        env.idp.fault(discovery_path(), status=200, count=2, body=json.dumps(body))
        r = env.run("config", "validate", "--online")
        assert r.returncode == 2, (words, r.stdout, r.stderr)
        got = lines(r)
        assert words in got[name], (words, got)


def test_online_server_errors_are_unreachable(env):
    providers(env, device(env))
    env.idp.fault(discovery_path(), status=503, count=10)
    r = env.run("config", "validate", "--online")
    assert r.returncode == 4, r.stdout + r.stderr
    assert "HTTP 503" in lines(r)["okta-oidc"]
    env.idp.fault(discovery_path(), count=0)
    env.idp.fault(discovery_path(), status=200, count=1, body="<html>hello</html>")
    r = env.run("config", "validate", "--online")
    assert r.returncode == 4 and "not a JSON object" in r.stdout, r.stdout + r.stderr


def test_online_needs_a_valid_configuration(env):
    env.write_config(device(env) + "colour = blue\n")
    r = env.run("config", "validate", "--online")
    assert r.returncode == 2 and r.stdout == ""
    assert "%s:6:" % env.config in r.stderr


def test_validate_reports_every_error_with_suggestions(env):
    env.write_config("[provder x]\na = 1\n"
                     "[provider p]\nkind = okta/device-cod\n"
                     "[provider q]\nkind = okta/device-code\norg_url = https://x.okta.com\n"
                     "clientid = c\n"
                     "[identity i]\nkind = okta/api-access\nprovider = q\n")
    r = env.run("config", "validate")
    assert r.returncode == 2, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("oktacred: ")]
    # provider q's missing client_id too (item 4: every error of a section).
    assert [e.split(":")[2] for e in errors] == ["1", "4", "5", "8"], r.stderr
    assert "(did you mean provider?)" in errors[0]
    assert "(did you mean okta/device-code?)" in errors[1]
    assert "provider q (okta/device-code) has no client_id" in errors[2]
    assert 'unknown key "clientid" in [provider q] (did you mean client_id?)' in errors[3]
    # Other commands say the first error only.
    r = env.run("config", "list")
    assert r.returncode == 2 and r.stderr.count("oktacred: ") == 1, r.stderr


def test_validate_checks_referenced_files(env, tmp_path):
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    key.chmod(0o644)
    env.write_config(SA + "scopes = a\nprivate_key = %s\nca_bundle = %s\n" %
                     (key, tmp_path / "none.pem"))
    r = env.run("config", "validate")
    assert r.returncode == 2, r.stderr
    assert "%s:6: private_key %s: is readable by group or others" % (env.config, key) \
        in r.stderr
    assert "run: chmod 600" in r.stderr
    assert "%s:7: ca_bundle" % env.config in r.stderr


def test_empty_or_missing_config_points_at_init(env):
    env.write_config("; nothing\n")
    r = env.run("config", "validate")
    assert r.returncode == 2 and "run: oktacred init" in r.stderr, r.stderr
    env.config.unlink()
    r = env.run("config", "validate")
    assert r.returncode == 2 and "run: oktacred init" in r.stderr, r.stderr


def test_validate_reports_every_error_of_a_section(env):
    # Issue 15, item 4: checking a section does not stop at its first error.
    env.write_config("[provider p]\nkind = okta/device-code\norg_url = ftp://x.okta.com\n"
                     "client_id = a b\nrefresh_before = soon\ncolour = blue\n")
    r = env.run("config", "validate")
    assert r.returncode == 2, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("oktacred: ")]
    assert [e.split(":")[2] for e in errors] == ["3", "4", "5", "6"], r.stderr
    assert "client_id must not contain spaces" in errors[1]
    assert 'refresh_before "soon" is not a duration' in errors[2]
    # A required key that is missing is said too, beside the bad ones.
    env.write_config("[provider p]\nkind = okta/device-code\norg_url = ftp://x.okta.com\n")
    r = env.run("config", "validate")
    errors = [line for line in r.stderr.splitlines() if line.startswith("oktacred: ")]
    assert [e.split(":")[2] for e in errors] == ["1", "3"], r.stderr
    assert "provider p (okta/device-code) has no client_id" in errors[0]
    # Other commands say the first one only.
    r = env.run("token", "p")
    assert r.returncode == 2 and r.stderr.count("oktacred: ") == 1, r.stderr


def test_a_key_of_another_kind_names_its_kind(env):
    env.write_config(env.config.read_text() +
                     "role_arn = arn:aws:iam::123456789012:role/Dev\n")
    r = env.run("config", "validate")
    assert r.returncode == 2, r.stderr
    assert first_error(r) == ('oktacred: %s:14: key "role_arn" belongs to aws/assume-role, '
                              'not okta/api-access' % env.config), r.stderr
    env.write_config(extra="token_env = OKTA_API_TOKEN")
    r = env.run("config", "validate")
    assert r.returncode == 2, r.stderr
    assert first_error(r) == ('oktacred: %s:10: key "token_env" belongs to okta/api-token, '
                              'not okta/device-code' % env.config), r.stderr


def warnings(r):
    return [line for line in r.stderr.splitlines() if "warning:" in line]


def test_refresh_before_not_shorter_than_session_duration_warns(env):
    env.write_config(server="org", extra="session_duration = 1h\nrefresh_before = 1h")
    r = env.run("config", "validate")
    assert r.returncode == 0, r.stderr
    assert warnings(r) == ["oktacred: warning: %s:11: refresh_before 1h00m is not shorter "
                           "than session_duration 1h00m, the longest a session lasts"
                           % env.config], r.stderr
    env.write_config(server="org", extra="session_duration = 1h\nrefresh_before = 59m")
    r = env.run("config", "validate")
    assert r.returncode == 0 and warnings(r) == [], r.stderr


def test_refresh_before_not_shorter_than_the_tokens_warns(logged_in):
    # The identity provider's access tokens last an hour; validate knows it from the
    # cache (tokens.json's expires_in), without a request.
    env = logged_in
    env.write_config(extra="refresh_before = 1h")
    env.idp.reset()
    r = env.run("config", "validate")
    assert r.returncode == 0, r.stderr
    assert [w for w in warnings(r) if "is not shorter" in w] == [
        "oktacred: warning: %s:10: refresh_before 1h00m is not shorter than the lifetime of "
        "the access tokens okta-oidc was last given (1h00m): they are renewed at half their "
        "lifetime instead" % env.config], r.stderr
    assert env.idp.log() == []
    env.write_config(extra="refresh_before = 30m")
    r = env.run("config", "validate")
    assert r.returncode == 0 and "is not shorter" not in r.stderr, r.stderr


def test_an_empty_file_points_at_init_outside_validate_too(env):
    env.write_config("; nothing yet\n")
    for args in (("token", "okta-admin"), ("env",), ("status",), ("status", "--short")):
        r = env.run(*args)
        assert r.returncode == 2 and r.stdout == "", (args, r.stderr)
        assert r.stderr.splitlines() == [
            "oktacred: %s: no providers or identities" % env.config,
            "run: oktacred init"], (args, r.stderr)
