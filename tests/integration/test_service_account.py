"""okta/service-account (client credentials with private_key_jwt or client_secret_basic)
and okta/api-token providers."""
import json
import os
import time

import pytest

from harness import generate_key, jwk_from_pem


def sa_config(env, client_id, key_line, kid_line="", server="org",
              scopes="okta.users.read", extra=""):
    env.write_config(
        "[provider robot]\nkind = okta/service-account\n"
        f"org_url = {env.idp.base}\nclient_id = {client_id}\n{key_line}\n{kid_line}\n"
        f"scopes = {scopes}\nauthorization_server = {server}\n{extra}\n"
        "[identity robot-admin]\nkind = okta/api-access\nprovider = robot\n")


def grants(idp):
    return [e for e in idp.log() if e.get("grant_type") == "client_credentials"]


@pytest.fixture
def rsa_robot(env, tmp_path):
    key = tmp_path / "robot-rsa.pem"
    generate_key(str(key), "RSA")
    jwk = jwk_from_pem(str(key), kid="kid-rsa")
    env.idp.add_service_client("0oa-robot-rsa", jwk, server="org")
    sa_config(env, "0oa-robot-rsa", f"private_key = {key}", "private_key_id = kid-rsa")
    return env


def test_rs256_token_then_cache(rsa_robot):
    env = rsa_robot
    r = env.run("token", "robot")
    assert r.returncode == 0, r.stderr
    [g] = grants(env.idp)
    assert g["status"] == 200 and g["client_auth"] == "private_key_jwt"
    assert g["server"] == "org"
    t = env.tokens("robot")
    assert r.stdout.strip() == t["access_token"] and "refresh_token" not in t
    assert oct(os.stat(env.tokens_path("robot")).st_mode & 0o777) == "0o600"
    # The second call is served from the cache.
    r = env.run("token", "robot-admin")
    assert r.returncode == 0 and r.stdout.strip() == t["access_token"]
    assert len(grants(env.idp)) == 1


def test_renewed_near_expiry_with_a_fresh_jti_each_time(rsa_robot):
    env = rsa_robot
    for _ in range(3):
        assert env.run("token", "robot").returncode == 0
        t = env.tokens("robot")
        # One minute left of an hour: due (under refresh_before and half the lifetime).
        t["expires_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
        t["obtained_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                         time.gmtime(time.time() - 3540))
        env.tokens_path("robot").write_text(json.dumps(t))
    g = grants(env.idp)
    assert len(g) == 3 and all(e["status"] == 200 for e in g)
    assert len({e["jti_hash"] for e in g}) == 3, "a jti is never sent twice"


def test_es256_key_from_the_environment(env, tmp_path):
    key = tmp_path / "robot-ec.pem"
    generate_key(str(key), "EC")
    jwk = jwk_from_pem(str(key), kid="kid-ec")
    env.idp.add_service_client("0oa-robot-ec", jwk, server="default")
    sa_config(env, "0oa-robot-ec", "private_key = ${OKTA_PRIVATE_KEY}",
              "private_key_id = kid-ec", server="default", scopes="api.read")
    r = env.run("env", "robot-admin", "--format", "json",
                env={"OKTA_PRIVATE_KEY": key.read_text()})
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["set"]["OKTA_ACCESS_TOKEN"] == env.tokens("robot")["access_token"]
    assert "OKTA_PRIVATE_KEY" in j["unset"]
    [g] = grants(env.idp)
    assert g["status"] == 200 and g["server"] == "default"


def test_wrong_key_is_a_clear_error(env, tmp_path):
    registered, wrong = tmp_path / "registered.pem", tmp_path / "wrong.pem"
    generate_key(str(registered), "RSA")
    generate_key(str(wrong), "RSA")
    env.idp.add_service_client("0oa-robot-x", jwk_from_pem(str(registered), kid="k1"))
    sa_config(env, "0oa-robot-x", f"private_key = {wrong}", "private_key_id = k1")
    r = env.run("token", "robot")
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert "invalid_client" in lines[0] and "robot" in lines[0]
    assert len(lines) == 2 and "private_key" in lines[1]
    assert r.stdout == ""
    assert not env.tokens_path("robot").exists()


def test_key_file_readable_by_others_is_refused(rsa_robot, tmp_path):
    os.chmod(tmp_path / "robot-rsa.pem", 0o644)
    r = rsa_robot.run("token", "robot")
    assert r.returncode == 1
    assert "chmod 600" in r.stderr


def test_client_secret_basic(env):
    # Okta grants okta.* scopes to a service app only with private_key_jwt: a custom
    # server's scope.
    env.write_config(
        "[provider robot]\nkind = okta/service-account\n"
        f"org_url = {env.idp.base}\nclient_id = 0oa-test-secret\n"
        "client_secret = test-secret-value\nscopes = api.read\n"
        "authorization_server = default\n")
    r = env.run("token", "robot")
    assert r.returncode == 0, r.stderr
    [g] = grants(env.idp)
    assert g["status"] == 200 and g["client_auth"] == "client_secret_basic"


def test_client_secret_env(env):
    """client_secret_env names the variable that holds the secret."""
    env.write_config(
        "[provider robot]\nkind = okta/service-account\n"
        f"org_url = {env.idp.base}\nclient_id = 0oa-test-secret\n"
        "client_secret_env = ROBOT_SECRET\nscopes = api.read\n"
        "authorization_server = default\n")
    r = env.run("token", "robot")
    assert r.returncode == 3 and r.stdout == ""
    assert "no client secret: $ROBOT_SECRET is not set" in r.stderr
    assert "export ROBOT_SECRET" in r.stderr
    assert grants(env.idp) == []
    r = env.run("token", "robot", env={"ROBOT_SECRET": "wrong-secret"})
    assert r.returncode == 1 and "invalid_client" in r.stderr
    assert "wrong-secret" not in r.stderr
    r = env.run("token", "robot", env={"ROBOT_SECRET": "test-secret-value"})
    assert r.returncode == 0, r.stderr
    g = grants(env.idp)[-1]
    assert g["status"] == 200 and g["client_auth"] == "client_secret_basic"
    # The file holds no secret: others may read it.
    os.chmod(env.config, 0o644)
    assert env.run("config", "validate").returncode == 0


def test_api_token_provider_sets_ssws_variables(env):
    env.write_config(
        "[provider legacy]\nkind = okta/api-token\n"
        "org_url = https://acme.oktapreview.com\ntoken_env = ACME_OKTA_TOKEN\n"
        "[identity legacy-admin]\nkind = okta/api-access\nprovider = legacy\n")
    secret = "00aBcD-ssws-token_value"
    r = env.run("env", "legacy-admin", "--format", "json", env={"ACME_OKTA_TOKEN": secret})
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["set"]["OKTA_API_TOKEN"] == secret
    assert j["set"]["OKTA_ORG_URL"] == "https://acme.oktapreview.com"
    assert j["set"]["OKTA_ORG_NAME"] == "acme"
    assert j["set"]["OKTA_BASE_URL"] == "oktapreview.com"
    assert "OKTA_ACCESS_TOKEN" in j["unset"] and "OKTA_OAUTH2_ACCESS_TOKEN" in j["unset"]
    # The Okta SDKs, in both spellings: the API token, authorization mode SSWS.
    for k in ("OKTA_CLIENT_ORGURL", "OKTA_CLIENT_ORG_URL"):
        assert j["set"][k] == "https://acme.oktapreview.com"
    assert j["set"]["OKTA_CLIENT_TOKEN"] == secret
    assert j["set"]["OKTA_CLIENT_AUTHORIZATIONMODE"] == "SSWS"
    assert j["set"]["OKTA_CLIENT_AUTHORIZATION_MODE"] == "SSWS"
    assert "OKTA_HTTP_PROXY" in j["unset"] and "OKTA_CLIENT_PRIVATEKEY" in j["unset"]
    r = env.run("env", "legacy-admin")
    assert r.returncode == 3
    assert "ACME_OKTA_TOKEN" in r.stderr and r.stdout == ""


# -- retries: a new client assertion for every attempt ------------------------------------

ORG_TOKEN = "/oauth2/v1/token"


def test_retry_after_a_processed_failure_signs_a_new_assertion(rsa_robot):
    """Okta consumed the jti and then the answer was lost (a 503 in its place): the
    retry must not replay that assertion, or Okta refuses it as used."""
    env = rsa_robot
    env.idp.fault(path=ORG_TOKEN, status=503, after=True)
    r = env.run("token", "robot")
    first, second = grants(env.idp)
    assert first["processed"] and first["fault"] and first["replaced_status"] == 200
    assert first["status"] == 503
    # Before: 401 invalid_client, "client assertion tokens must only be used once".
    assert second["status"] == 200, second["error_detail"]
    assert second["error_detail"] is None
    assert first["jti_hash"] and second["jti_hash"]
    assert first["jti_hash"] != second["jti_hash"], "the retry replayed the assertion"
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == env.tokens("robot")["access_token"]


def test_retry_after_a_lost_answer_signs_a_new_assertion(rsa_robot, tmp_path):
    """The same when the processed request's answer never comes (the attempt times out)."""
    env = rsa_robot
    sa_config(env, "0oa-robot-rsa", f"private_key = {tmp_path / 'robot-rsa.pem'}",
              "private_key_id = kid-rsa", extra="timeout = 1s")
    env.idp.fault(path=ORG_TOKEN, hang=True, after=True)
    r = env.run("token", "robot")
    first, second = grants(env.idp)
    assert first["processed"] and first["hang"] and first["replaced_status"] == 200
    assert second["status"] == 200, second["error_detail"]
    assert first["jti_hash"] != second["jti_hash"], "the retry replayed the assertion"
    assert r.returncode == 0, r.stderr


def test_retry_after_an_unprocessed_503_signs_a_new_assertion(rsa_robot):
    env = rsa_robot
    env.idp.fault(path=ORG_TOKEN, status=503, count=2)
    r = env.run("token", "robot")
    assert r.returncode == 0, r.stderr
    g = grants(env.idp)
    assert [(e["status"], e["processed"]) for e in g] == [(503, False), (503, False),
                                                         (200, True)]
    assert len({e["jti_hash"] for e in g}) == 3, "each attempt has its own jti"


def revokes(idp):
    return [e for e in idp.log() if e["endpoint"] == "revoke"]


def introspect_active(env, token, client_id, pem=None, secret=None, server="org"):
    """Whether the IdP still takes token (introspection, with the client's own auth)."""
    from harness import JWT_BEARER, client_assertion
    url = env.idp.endpoint(server, "introspect")
    data = {"token": token}
    if pem:
        data.update(client_assertion_type=JWT_BEARER,
                    client_assertion=client_assertion(str(pem), client_id, url, kid="kid-rsa"))
    status, body, _ = env.idp.post_form(url, data, auth=(client_id, secret) if secret else None)
    assert status == 200, body
    return body["active"]


def test_logout_revoke_signs_a_fresh_assertion_for_the_revocation(rsa_robot, tmp_path):
    """RFC 7009 2.1: a confidential client authenticates at /revoke as at /token."""
    env = rsa_robot
    assert env.run("token", "robot").returncode == 0
    at = env.tokens("robot")["access_token"]
    pem = tmp_path / "robot-rsa.pem"
    assert introspect_active(env, at, "0oa-robot-rsa", pem=pem)
    r = env.run("logout", "--revoke", "robot")
    assert r.returncode == 0, r.stderr
    [rv] = revokes(env.idp)
    assert rv["status"] == 200 and rv["client_auth"] == "private_key_jwt", rv
    [g] = grants(env.idp)
    assert rv["jti_hash"] and rv["jti_hash"] != g["jti_hash"]
    assert not env.tokens_path("robot").exists()
    assert not introspect_active(env, at, "0oa-robot-rsa", pem=pem)


def test_logout_revoke_with_client_secret_basic(env):
    env.write_config(
        "[provider robot]\nkind = okta/service-account\n"
        f"org_url = {env.idp.base}\nclient_id = 0oa-test-secret\n"
        "client_secret = test-secret-value\nscopes = api.read\n"
        "authorization_server = default\n")
    r = env.run("token", "robot")
    assert r.returncode == 0, r.stderr
    r = env.run("logout", "--revoke", "robot")
    # The client authenticated (Basic), as at /token. (A secret gets no okta.* scope, so
    # this is a custom server, whose access tokens are JWTs: Okta revokes those, the local
    # provider answers unsupported_token_type, a refusal: exit 1, nothing forgotten.)
    [rv] = revokes(env.idp)
    assert rv["client_auth"] == "client_secret_basic", rv
    assert rv["status"] != 401, rv
    assert r.returncode in (0, 1), r.stderr
    assert r.returncode == 0 or "invalid_client" not in r.stderr, r.stderr


def test_a_refused_revocation_exits_1_with_the_servers_reason(rsa_robot):
    env = rsa_robot
    assert env.run("token", "robot").returncode == 0
    env.idp.fault("/oauth2/v1/revoke", status=401,
                  body={"error": "invalid_client", "error_description": "no \x1b[31mway"})
    r = env.run("logout", "--revoke", "robot")
    assert r.returncode == 1, r.stderr
    assert "invalid_client: no \\x1b[31mway" in r.stderr
    assert "\x1b" not in r.stderr
    assert env.tokens_path("robot").exists(), "nothing is forgotten when revocation fails"


def test_okta_error_body_shows_summary_and_code(rsa_robot):
    env = rsa_robot
    env.idp.fault("/oauth2/v1/token", status=403, body={
        "errorCode": "E0000006", "errorSummary": "You do not have \x07permission",
        "errorLink": "E0000006", "errorId": "oae123", "errorCauses": []})
    r = env.run("token", "robot")
    assert r.returncode == 1, r.stderr
    assert "You do not have \\x07permission" in r.stderr and "E0000006" in r.stderr
    assert "\x07" not in r.stderr


def test_unknown_authorization_server_is_a_configuration_error(env, tmp_path):
    key = tmp_path / "robot-rsa.pem"
    generate_key(str(key), "RSA")
    env.idp.add_service_client("0oa-robot-rsa", jwk_from_pem(str(key), kid="k"), server="org")
    sa_config(env, "0oa-robot-rsa", f"private_key = {key}", "private_key_id = k",
              server="aus0nosuchserver", scopes="api.read")
    r = env.run("token", "robot")
    assert r.returncode == 2, r.stderr
    assert "E0000007" in r.stderr and "aus0nosuchserver (AuthorizationServer)" in r.stderr
    assert "authorization_server" in r.stderr and "HTTP 404" in r.stderr
