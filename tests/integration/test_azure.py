"""azure/federated (issue 16): the Okta token as an Entra workload identity federation
assertion. `env` and `exec` write it to a 0600 file and set the variables Azure SDKs and
Terraform's azurerm read; `exec` keeps the file fresh while its child runs; `credential`
prints the token alone. The real client (@azure/identity's WorkloadIdentityCredential,
tests/azure) runs as `exec`'s child against a strict stand-in Entra token endpoint
(tests/azure/server.py) that verifies the assertion as Entra does."""
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import CLIENT_ID, OKTACRED, ROOT, do_login
from test_lean import heavy, run_traced
from tlsserver import make_certs

sys.path.insert(0, os.path.join(ROOT, "tests", "azure"))
sys.path.insert(0, os.path.join(ROOT, "tests", "idp"))
from entra_harness import AUDIENCE, CLIENT_JS, HERE, Entra  # noqa: E402
from harness import decode_jwt, ensure_node_modules, generate_key, sign_jwt  # noqa: E402

try:
    import cryptography  # noqa: F401  (the stand-in verifies RS256 with it)
    HAVE_CRYPTOGRAPHY = True
except ImportError:
    HAVE_CRYPTOGRAPHY = False

needs_stand_in = pytest.mark.skipif(
    not HAVE_CRYPTOGRAPHY, reason="the stand-in Entra endpoint needs python3-cryptography")

TENANT = "4f3c2b1a-9e8d-4c7b-a6f5-0e1d2c3b4a59"
APP_ID = "6d0a1b2c-3e4f-4a5b-9c8d-7e6f5a4b3c2d"
SUBSCRIPTION = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
SUB = "00u-alice"  # the test IdP's alice
NAMES = ["OKTACRED_IDENTITY", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_ID",
         "AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST", "ARM_USE_OIDC", "ARM_OIDC_TOKEN_FILE_PATH",
         "ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID"]
CLEARED = ["AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "ARM_CLIENT_SECRET"]


def az_config(env, authority="https://login.microsoftonline.com", extra=""):
    env.write_config()
    env.write_config(env.config.read_text() + (
        "\n[identity az]\nkind = azure/federated\nprovider = okta-oidc\n"
        "tenant_id = %s\nclient_id = %s\nsubscription_id = %s\nauthority_host = %s\n%s"
        % (TENANT, APP_ID, SUBSCRIPTION, authority, extra)))


def token_file(env):
    return env.root / "azure" / "okta-oidc" / "az.jwt"


@pytest.fixture
def az(env):
    """A user with an azure/federated identity, logged in."""
    az_config(env)
    env.idp.settings(interval=1)
    rc, _, err = do_login(env)
    assert rc == 0, err
    return env


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("azure-certs"))


@pytest.fixture(scope="session")
def node_client():
    ensure_node_modules(HERE, module="@azure/identity")
    return HERE


def start_entra(idp, certs, **kw):
    if not HAVE_CRYPTOGRAPHY:
        pytest.skip("the stand-in Entra endpoint needs python3-cryptography")
    # token = id: the ID token's audience is the Okta app's client id, which the federated
    # credential names (see README, "Azure").
    kw.setdefault("audience", CLIENT_ID)
    return Entra.start(certs, TENANT, APP_ID, idp.issuer("default"), SUB, **kw)


@pytest.fixture(scope="session")
def entra_server(idp, certs):
    server = start_entra(idp, certs)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def entra(entra_server):
    entra_server.reset()
    return entra_server


def client_env(entra):
    return {"NODE_EXTRA_CA_CERTS": entra.ca, "NODE_OPTIONS": ""}


def run_client(env, entra, mode="once", name="az", timeout=120):
    """`oktacred exec NAME -- node client.js MODE` (the identity's authority the stand-in)."""
    az_config(env, entra.base)
    return env.run("exec", name, "--", "node", CLIENT_JS, mode, env=client_env(entra),
                   timeout=timeout)


def sha256(s):
    return hashlib.sha256(s.encode()).hexdigest()


# ---- the real client against the stand-in ----

@needs_stand_in
def test_exec_hands_the_real_client_a_token_it_exchanges(az, entra, node_client):
    r = run_client(az, entra)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)["token"]
    log = entra.log()
    assert [e.get("error") for e in log] == [None], log
    assert log[0]["issued"] == got and log[0]["sub"] == SUB
    assert log[0]["client_id"] == APP_ID
    assert log[0]["scope"].split()[0] == "https://management.azure.com/.default"
    claims = decode_jwt(got)
    assert claims["appid"] == APP_ID and claims["tid"] == TENANT
    assert claims["aud"] == "https://management.azure.com"
    assert log[0]["assertion_sha256"] == sha256(az.tokens()["id_token"])


@needs_stand_in
def test_a_long_running_child_sees_the_token_file_renewed(env, entra, node_client):
    """Short-lived ID tokens: exec rewrites the file before the token expires (refreshed
    through the provider, saved); the child, waiting for the file to change, gets a second
    access token with the new token, which the stand-in accepts."""
    az_config(env)
    env.idp.settings(interval=1, id_token_ttl=10)
    rc, _, err = do_login(env)
    assert rc == 0, err
    first_id = env.tokens()["id_token"]
    r = run_client(env, entra, "renew")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(lines) == 2
    assert lines[0]["file_sha256"] != lines[1]["file_sha256"]
    renewed = env.tokens()["id_token"]  # the refresh was saved with the provider's tokens
    assert renewed != first_id
    assert lines[1]["file_sha256"] == sha256(renewed)
    log = entra.log()
    assert [e.get("error") for e in log] == [None, None], log
    assert [e["issued"] for e in log] == [x["token"] for x in lines]
    assert [e["assertion_sha256"] for e in log] == [x["file_sha256"] for x in lines]
    assert log[1]["exp"] > log[0]["exp"]
    refreshes = [e for e in env.idp.log() if e.get("grant_type") == "refresh_token"]
    assert refreshes, "renewed through the provider's refresh"


@needs_stand_in
@pytest.mark.parametrize("case", ["expired", "audience"])
def test_the_real_client_is_refused_an_expired_token_or_another_audience(
        az, idp, certs, node_client, case):
    exp = decode_jwt(az.tokens()["id_token"])["exp"]
    if case == "expired":
        server = start_entra(idp, certs, clock_offset=int(exp - time.time()) + 60)
        code = "AADSTS700024"
    else:
        server = start_entra(idp, certs, audience=AUDIENCE)
        code = "AADSTS700212"
    try:
        r = run_client(az, server)
        assert r.returncode != 0
        assert code in r.stderr, r.stderr
        assert [e.get("error") for e in server.log()] == [code]
    finally:
        server.stop()


def forged(token, pem):
    """token's claims and kid, signed by another key."""
    import base64
    part = token.split(".")[0]
    header = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return sign_jwt(pem, decode_jwt(token), {"alg": "RS256", "kid": header["kid"]})


@needs_stand_in
def test_the_real_client_is_refused_a_token_signed_by_another_key(az, entra, node_client,
                                                                  tmp_path):
    pem = generate_key(str(tmp_path / "other.pem"), "RSA")
    f = tmp_path / "forged.jwt"
    f.write_text(forged(az.tokens()["id_token"], pem))
    e = dict(az.env, AZURE_FEDERATED_TOKEN_FILE=str(f), AZURE_CLIENT_ID=APP_ID,
             AZURE_TENANT_ID=TENANT, AZURE_AUTHORITY_HOST=entra.base, **client_env(entra))
    r = subprocess.run(["node", CLIENT_JS, "once"], env=e, capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode != 0 and "AADSTS700027" in r.stderr, r.stderr
    assert [x.get("error") for x in entra.log()] == ["AADSTS700027"]


@needs_stand_in
def test_the_stand_in_answers_in_entras_error_format(az, entra):
    status, body = entra.token(az.tokens()["id_token"], client_id="0b0b0b0b-0000-4000-8000-"
                               "000000000000")
    assert status == 400 and body["error"] == "unauthorized_client"
    assert body["error_codes"] == [700016]
    assert body["error_description"].startswith("AADSTS700016: Application with identifier")
    assert "Trace ID: " in body["error_description"]
    assert set(body) == {"error", "error_description", "error_codes", "timestamp", "trace_id",
                         "correlation_id", "error_uri"}
    status, body = entra.token("not-a-jwt")
    assert status == 400 and body["error"] == "invalid_request", body
    assert body["error_description"].startswith("AADSTS50027: JWT token is invalid")
    status, body = entra.token(az.tokens()["id_token"])
    assert status == 200
    assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
    assert body["token_type"] == "Bearer"


# ---- env, exec, credential, logout ----

def test_env_writes_the_file_and_says_it_is_not_renewed(az):
    r = az.run("env", "az", "--format", "json")
    assert r.returncode == 0, r.stderr
    path = str(token_file(az))
    assert json.loads(r.stdout) == {
        "set": {"OKTACRED_IDENTITY": "az", "AZURE_FEDERATED_TOKEN_FILE": path,
                "AZURE_CLIENT_ID": APP_ID, "AZURE_TENANT_ID": TENANT,
                "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com",
                "ARM_USE_OIDC": "true", "ARM_OIDC_TOKEN_FILE_PATH": path,
                "ARM_CLIENT_ID": APP_ID, "ARM_TENANT_ID": TENANT,
                "ARM_SUBSCRIPTION_ID": SUBSCRIPTION},
        "unset": CLEARED}
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "not renewed after env" in lines[0]
    assert "oktacred exec az -- CMD" in lines[0]
    assert open(path).read() == az.tokens()["id_token"]
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(os.path.dirname(path)).st_mode & 0o777 == 0o700


def test_optional_variables_are_left_out_when_not_configured(env):
    env.write_config(env.config.read_text() + (
        "\n[identity az]\nkind = azure/federated\nprovider = okta-oidc\n"
        "tenant_id = contoso.onmicrosoft.com\nclient_id = %s\n" % APP_ID))
    r = env.run("env", "az", "--unset", "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert "AZURE_AUTHORITY_HOST" not in out["unset"]
    assert "ARM_SUBSCRIPTION_ID" not in out["unset"]
    assert r.stderr == ""


def test_exec_sets_and_clears_the_variables(az):
    r = az.run("exec", "az", "--", sys.executable, "-c",
               "import json, os; print(json.dumps(dict(os.environ)))",
               env={"AZURE_CLIENT_SECRET": "s3cret-x", "ARM_CLIENT_SECRET": "s3cret-y",
                    "AZURE_CLIENT_CERTIFICATE_PATH": "/tmp/cert.pem"})
    assert r.returncode == 0, r.stderr
    seen = json.loads(r.stdout)
    for name in CLEARED:
        assert name not in seen
    path = str(token_file(az))
    assert seen["AZURE_FEDERATED_TOKEN_FILE"] == seen["ARM_OIDC_TOKEN_FILE_PATH"] == path
    assert seen["ARM_USE_OIDC"] == "true" and seen["ARM_SUBSCRIPTION_ID"] == SUBSCRIPTION
    assert seen["AZURE_CLIENT_ID"] == seen["ARM_CLIENT_ID"] == APP_ID
    assert open(path).read() == az.tokens()["id_token"]
    assert "not renewed" not in r.stderr  # exec keeps it fresh


def test_exec_passes_on_the_exit_status_and_signals(az, tmp_path):
    r = az.run("exec", "az", "--", "sh", "-c", "exit 7")
    assert r.returncode == 7
    ready = tmp_path / "ready"
    p = az.start("exec", "az", "--", "sh", "-c",
                 'trap "exit 42" TERM; : > %s; while :; do sleep 0.1; done' % ready)
    try:  # (the loop's sleep is the child's idling, not a synchronisation)
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert p.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(p.pid, signal.SIGTERM)
        assert p.wait(timeout=30) == 42
    finally:
        if p.poll() is None:  # it and its child, which holds its stdout and stderr
            os.killpg(p.pid, signal.SIGKILL)
        p.communicate()


def test_exec_of_a_missing_command(az):
    r = az.run("exec", "az", "--", "no-such-command-oktacred")
    assert r.returncode == 127
    assert "no-such-command-oktacred: command not found" in r.stderr


def test_credential_prints_the_raw_token_from_the_cache(az, tmp_path):
    az.idp.reset()
    r = az.run("credential", "az")
    assert r.returncode == 0, r.stderr
    assert r.stdout == az.tokens()["id_token"] + "\n" and r.stderr == ""
    assert az.idp.log() == [], "a fresh token: no request"
    r, names = run_traced(az, tmp_path, "credential", "az")
    assert r.returncode == 0, r.stderr
    assert heavy(names) == [], "no TLS library on the cached path"


def test_token_access_hands_out_the_access_token(az):
    az_config(az, extra="token = access\n")
    r = az.run("credential", "az")
    assert r.returncode == 0, r.stderr
    assert r.stdout == az.tokens()["access_token"] + "\n"


def test_without_a_session_exit_3_with_the_hint(env):
    az_config(env)
    for args in (["credential", "az"], ["env", "az"], ["exec", "az", "--", "true"]):
        r = env.run(*args)
        assert r.returncode == 3 and r.stdout == ""
        assert "run: oktacred login okta-oidc" in r.stderr


def test_logout_removes_the_token_file(az):
    r = az.run("env", "az")
    assert r.returncode == 0, r.stderr
    assert token_file(az).exists()
    r = az.run("logout", "okta-oidc")
    assert r.returncode == 0, r.stderr
    assert not token_file(az).exists()
    assert not token_file(az).parent.exists()


@pytest.mark.parametrize("extra,says", [
    ("tenant_id = not a tenant\n", 'tenant_id "not a tenant" is not a tenant ID'),
    ("tenant_id = -bad.example\n", "is not a tenant ID (a GUID) or a tenant's domain"),
    ("client_id = my-app\n", 'client_id "my-app" is not a GUID'),
    ("subscription_id = 1234\n", 'subscription_id "1234" is not a GUID'),
    ("authority_host = http://login.example.com\n", "authority_host"),
    ("token = refresh\n", 'token "refresh" is not id or access'),
])
def test_config_errors(env, extra, says):
    keys = {"tenant_id": TENANT, "client_id": APP_ID}
    keys.update([extra.strip().split(" = ", 1)])
    env.write_config(env.config.read_text() + (
        "\n[identity az]\nkind = azure/federated\nprovider = okta-oidc\n"
        + "".join("%s = %s\n" % kv for kv in keys.items())))
    r = env.run("config", "validate")
    assert r.returncode == 2 and says in r.stderr, r.stderr


@pytest.mark.parametrize("missing", ["tenant_id", "client_id"])
def test_required_keys(env, missing):
    keys = {"tenant_id": TENANT, "client_id": APP_ID}
    del keys[missing]
    env.write_config(env.config.read_text() + (
        "\n[identity az]\nkind = azure/federated\nprovider = okta-oidc\n"
        + "".join("%s = %s\n" % kv for kv in keys.items())))
    r = env.run("env", "az")
    assert r.returncode == 2 and missing in r.stderr, r.stderr


def test_an_api_token_provider_is_refused(env):
    env.write_config(
        "[provider legacy]\nkind = okta/api-token\norg_url = %s\ntoken_env = T\n\n"
        "[identity az]\nkind = azure/federated\nprovider = legacy\ntenant_id = %s\n"
        "client_id = %s\n" % (env.idp.base, TENANT, APP_ID))
    r = env.run("credential", "az", env={"T": "00abc"})
    assert r.returncode == 2
    assert "needs an okta/device-code or okta/service-account provider" in r.stderr


def test_authority_host_is_reduced_to_its_origin(az):
    az_config(az, "https://login.microsoftonline.us/")
    r = az.run("env", "az", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["set"]["AZURE_AUTHORITY_HOST"] == \
        "https://login.microsoftonline.us"


def test_exec_names_the_same_file_as_env(az):
    """One file per identity: what env wrote, exec rewrites in place."""
    assert OKTACRED
    r = az.run("exec", "az", "--", "sh", "-c", 'printf %s "$AZURE_FEDERATED_TOKEN_FILE"')
    assert r.returncode == 0, r.stderr
    assert r.stdout == str(token_file(az))


def test_a_renewal_that_fails_is_said_and_the_file_kept(env, tmp_path):
    """Okta failing while the child runs: one line on stderr says why (besides the
    provider's own warning while its cached token is still valid), the file keeps the old
    token, and the child goes on until it ends."""
    az_config(env)
    env.idp.settings(interval=1, id_token_ttl=6)
    rc, _, err = do_login(env)
    assert rc == 0, err
    env.idp.fault(path="/oauth2/default/v1/token", status=503, count=10000)
    done = tmp_path / "done"
    p = env.start("exec", "az", "--", sys.executable, "-c",
                  "import os, time\n"
                  "while not os.path.exists(%r): time.sleep(0.05)\n" % str(done))
    try:
        said, lines = None, []
        deadline = time.monotonic() + 90
        while said is None:
            assert time.monotonic() < deadline, lines
            line = p.stderr.readline().decode()
            assert line, "oktacred exited: %r" % lines
            lines.append(line)
            if "cannot renew the token file" in line:
                said = line
        before = token_file(env).read_text()
        assert before == env.tokens()["id_token"]  # the old one, still there
        assert "it keeps the token that " in said and "trying again" in said
        assert said.startswith("oktacred: az: cannot renew the token file: ")
        done.touch()
        out, rest = p.communicate(timeout=60)
        assert p.returncode == 0
        assert rest.decode().count("cannot renew the token file") == 0  # said once per cause
    finally:
        done.touch()
        if p.poll() is None:  # it and its child, which holds its stdout and stderr
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
        env.idp.fault(path="/oauth2/default/v1/token", count=0)
