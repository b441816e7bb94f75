"""gcp/workload-identity (issue 16): `oktacred credential NAME` as the executable of Google's
executable-sourced credentials, `oktacred gcp-config NAME`, `exec`/`env`, and the real gcloud
(/usr/bin/gcloud, google-cloud-cli) running oktacred through the external_account file,
against a strict stand-in Google STS (tests/gcp) that verifies the subject token against the
IdP's JWKS: gcloud must end up with the stand-in's access token."""
import base64
import json
import os
import stat
import subprocess
import sys
import time

import pytest

from conftest import CLIENT_ID, OKTACRED, OKTACRED_UNWRAPPED, ROOT, do_login
from test_kubernetes import real_program
from test_lean import front_only, heavy, need_strace, run_execs, run_traced

sys.path.insert(0, os.path.join(ROOT, "tests", "gcp"))
sys.path.insert(0, os.path.join(ROOT, "tests", "idp"))
from gcp_harness import GCLOUD, GoogleSTS  # noqa: E402
from harness import decode_jwt, generate_key, sign_jwt  # noqa: E402

try:
    import cryptography  # noqa: F401  (the stand-in verifies RS256 with it)
    HAVE_CRYPTOGRAPHY = True
except ImportError:
    HAVE_CRYPTOGRAPHY = False

needs_gcloud = pytest.mark.skipif(
    not os.access(GCLOUD, os.X_OK), reason="gcloud is not installed (/usr/bin/gcloud)")

ID_TYPE = "urn:ietf:params:oauth:token-type:id_token"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"
AUDIENCE = ("//iam.googleapis.com/projects/123456789012/locations/global/"
            "workloadIdentityPools/okta-pool/providers/okta-oidc")
WORKFORCE = "//iam.googleapis.com/locations/global/workforcePools/people/providers/okta"
WORKFORCE_ENV = ("[identity gcpw]\nkind = gcp/workload-identity\nprovider = okta-oidc\n"
                 "audience = " + WORKFORCE + "\nworkforce_pool_user_project = 123456789012\n")


def gcp_section(token_url, extra=""):
    return ("[identity gcp]\nkind = gcp/workload-identity\nprovider = okta-oidc\n"
            "project_number = 123456789012\npool_id = okta-pool\nprovider_id = okta-oidc\n"
            "token_url = %s\n%s" % (token_url, extra))


def gcp_config(env, token_url="https://sts.googleapis.com/v1/token", extra="", more=""):
    env.write_config()
    env.write_config(env.config.read_text() + "\n" + gcp_section(token_url, extra) + more)


@pytest.fixture(scope="session")
def google_sts(idp):
    if not HAVE_CRYPTOGRAPHY:
        pytest.skip("the stand-in Google STS needs python3-cryptography")
    s = GoogleSTS.start(AUDIENCE, idp.issuer("default"), CLIENT_ID)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def sts(google_sts):
    google_sts.reset()
    return google_sts


@pytest.fixture
def gcp(env, sts):
    """A user with a gcp/workload-identity identity whose token_url is the stand-in's."""
    gcp_config(env, sts.token_url)
    env.idp.settings(interval=1)
    return env


@pytest.fixture
def gcp_in(gcp):
    rc, _, err = do_login(gcp)
    assert rc == 0, err
    return gcp


def google_env(identity_audience=AUDIENCE, token_type=ID_TYPE):
    """What Google's pluggable source sets for its executable."""
    return {"GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE": identity_audience,
            "GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE": token_type,
            "GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE": "0",
            "GOOGLE_EXTERNAL_ACCOUNT_REVOKE": "0"}


def gcloud(env, sts, tmp_path, *args, extra=None, via_exec=True):
    """gcloud, hermetic: its own configuration directory, no prompts, no reporting, the
    introspection endpoint (which names the account) the stand-in's."""
    cfg = tmp_path / "gcloud-config"
    cfg.mkdir(exist_ok=True)
    e = dict(env.env, CLOUDSDK_CONFIG=str(cfg), CLOUDSDK_CORE_DISABLE_PROMPTS="1",
             CLOUDSDK_CORE_DISABLE_USAGE_REPORTING="true",
             CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK="true",
             CLOUDSDK_AUTH_TOKEN_INTROSPECTION_ENDPOINT=sts.base + "/v1/introspect",
             **(extra or {}))
    argv = [GCLOUD, *args]
    if via_exec:
        argv = [OKTACRED, "exec", "gcp", "--"] + argv
    return subprocess.run(argv, env=e, capture_output=True, text=True, timeout=180,
                          stdin=subprocess.DEVNULL, start_new_session=True)


def issued(sts):
    return [e for e in sts.log() if e["path"] == "/v1/token" and e["ok"]]


# ---- the credential ----

def test_credential_prints_googles_executable_response(gcp_in):
    env = gcp_in
    r = env.run("credential", "gcp", env=google_env())
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    id_token = env.tokens()["id_token"]
    assert json.loads(r.stdout) == {"version": 1, "success": True, "token_type": ID_TYPE,
                                    "id_token": id_token,
                                    "expiration_time": decode_jwt(id_token)["exp"]}
    assert r.stdout.count("\n") == 1


def test_token_access_hands_out_the_access_token_as_a_jwt(env, sts):
    gcp_config(env, sts.token_url, "token = access\n")
    env.idp.settings(interval=1)
    assert do_login(env)[0] == 0
    r = env.run("credential", "gcp", env=google_env(token_type=JWT_TYPE))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["token_type"] == JWT_TYPE
    assert out["id_token"] == env.tokens()["access_token"]
    assert json.loads(env.run("gcp-config", "gcp").stdout)["subject_token_type"] == JWT_TYPE


def test_not_logged_in_is_a_failure_response_on_stdout_and_nothing_on_stderr(gcp):
    r = gcp.run("credential", "gcp", env=google_env())
    assert r.returncode == 3
    assert r.stderr == ""
    out = json.loads(r.stdout)
    assert out["version"] == 1 and out["success"] is False
    assert out["code"] == "login_required"
    assert "run: oktacred login okta-oidc" in out["message"]


def test_another_audience_from_google_is_refused(gcp_in):
    r = gcp_in.run("credential", "gcp", env=google_env(identity_audience=WORKFORCE))
    assert r.returncode == 2 and r.stderr == ""
    out = json.loads(r.stdout)
    assert out["success"] is False and out["code"] == "invalid_configuration"
    assert "oktacred gcp-config gcp" in out["message"]
    assert gcp_in.tokens()["id_token"] not in r.stdout


def test_a_configuration_error_under_google_is_a_failure_response(env):
    env.write_config()
    env.write_config(env.config.read_text() + "\n" + WORKFORCE_ENV.replace(
        "workforce_pool_user_project = 123456789012\n", ""))
    r = env.run("credential", "gcpw", env=google_env(WORKFORCE))
    assert r.returncode == 2 and r.stderr == ""
    out = json.loads(r.stdout)
    assert out["code"] == "invalid_configuration"
    assert "workforce_pool_user_project" in out["message"]


def test_cached_credential_makes_no_request_and_loads_no_optional_library(gcp_in, tmp_path):
    env = gcp_in
    env.idp.reset()
    r, names = run_traced(env, tmp_path, "credential", "gcp", extra=google_env())
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["success"] is True
    assert heavy(names) == []
    assert env.idp.log() == []


@front_only
@need_strace
def test_the_front_serves_a_cached_credential_alone(gcp_in, tmp_path):
    """kubectl's and Google's path: the static front answers from the cache, no exec."""
    env = gcp_in
    r, execs = run_execs(env, tmp_path, "credential", "gcp", extra=google_env())
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert json.loads(r.stdout)["success"] is True
    assert execs == [OKTACRED_UNWRAPPED], "no exec of the full binary"


# ---- gcp-config ----

def test_gcp_config_prints_the_external_account_file(gcp, sts):
    r = gcp.run("gcp-config", "gcp")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {
        "type": "external_account", "audience": AUDIENCE, "subject_token_type": ID_TYPE,
        "token_url": sts.token_url,
        "credential_source": {"executable": {"command": real_program() + " credential gcp",
                                             "timeout_millis": 30000}}}


def test_gcp_config_default_token_url_impersonation_and_config(env, tmp_path):
    gcp_config(env, extra="service_account = deploy@proj-1.iam.gserviceaccount.com\n")
    text = env.config.read_text().replace("token_url = https://sts.googleapis.com/v1/token\n",
                                          "")
    other = tmp_path / "other.conf"
    other.write_text(text)
    os.chmod(other, 0o600)
    r = env.run("--config", str(other), "gcp-config", "gcp")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["token_url"] == "https://sts.googleapis.com/v1/token"
    assert out["service_account_impersonation_url"] == (
        "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/"
        "deploy@proj-1.iam.gserviceaccount.com:generateAccessToken")
    assert out["credential_source"]["executable"]["command"] == (
        "%s --config %s credential gcp" % (real_program(), other))
    assert "workforce_pool_user_project" not in out


def test_gcp_config_workforce(env):
    env.write_config()
    env.write_config(env.config.read_text() + "\n" + WORKFORCE_ENV)
    r = env.run("gcp-config", "gcpw")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["audience"] == WORKFORCE
    assert out["workforce_pool_user_project"] == "123456789012"


def test_gcp_config_refuses_a_config_path_with_a_space(gcp, tmp_path):
    d = tmp_path / "my config"
    d.mkdir(mode=0o700)
    f = d / "config"
    f.write_text(gcp.config.read_text())
    os.chmod(f, 0o600)
    r = gcp.run("--config", str(f), "gcp-config", "gcp")
    assert r.returncode == 2 and r.stdout == ""
    assert "white space" in r.stderr and str(f) in r.stderr


def test_gcp_config_refuses_other_kinds(gcp):
    r = gcp.run("gcp-config", "okta-admin")
    assert r.returncode == 2
    assert "gcp/workload-identity" in r.stderr


# ---- env and exec ----

def test_exec_writes_the_file_0600_and_sets_the_variables(gcp_in):
    env = gcp_in
    r = env.run("exec", "gcp", "--", "sh", "-c",
                'printf "%s\\n" "$GOOGLE_APPLICATION_CREDENTIALS" '
                '"$CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE" '
                '"$GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES" "$OKTACRED_IDENTITY"')
    assert r.returncode == 0, r.stderr
    path, override, allow, ident = r.stdout.splitlines()
    assert path == override == str(env.provider_dir() / "gcp-gcp.json")
    assert allow == "1" and ident == "gcp"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(open(path).read()) == json.loads(env.run("gcp-config", "gcp").stdout)
    assert env.tokens()["id_token"] not in open(path).read()
    # The file goes with the session.
    assert env.run("logout", "okta-oidc").returncode == 0
    assert not os.path.exists(path)


def test_env_prints_the_variables(gcp_in):
    r = gcp_in.run("env", "gcp", "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)["set"]
    path = str(gcp_in.provider_dir() / "gcp-gcp.json")
    assert out["GOOGLE_APPLICATION_CREDENTIALS"] == path
    assert out["CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE"] == path
    assert out["GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES"] == "1"
    assert os.path.exists(path)


def test_exec_without_a_session_says_login_first(gcp):
    r = gcp.run("exec", "gcp", "--", "true")
    assert r.returncode == 3
    assert "run: oktacred login okta-oidc" in r.stderr


# ---- configuration ----

@pytest.mark.parametrize("extra,says", [
    (WORKFORCE_ENV.replace("workforce_pool_user_project = 123456789012\n", ""),
     "a workforce pool audience needs workforce_pool_user_project"),
    ("[identity g2]\nkind = gcp/workload-identity\nprovider = okta-oidc\naudience = " +
     AUDIENCE + "\nworkforce_pool_user_project = 1\n",
     "workforce_pool_user_project is for a workforce pool audience"),
    ("[identity g2]\nkind = gcp/workload-identity\nprovider = okta-oidc\n"
     "project_number = 1\npool_id = okta-pool\n", "project_number needs pool_id and provider_id"),
    ("[identity g2]\nkind = gcp/workload-identity\nprovider = okta-oidc\n"
     "audience = https://iam.googleapis.com/x\n", "is not a workload identity pool provider"),
    ("[identity g2]\nkind = gcp/workload-identity\nprovider = okta-oidc\n"
     "audience = " + AUDIENCE + "\ntoken_url = http://sts.example.com/v1/token\n", "token_url"),
])
def test_configuration_errors(env, extra, says):
    env.write_config()
    text = env.config.read_text() + "\n" + extra
    env.write_config(text)
    name = "gcpw" if "gcpw" in extra else "g2"
    r = env.run("gcp-config", name)
    assert r.returncode == 2
    line = text.splitlines().index("[identity %s]" % name) + 1
    assert str(env.config) + ":" in r.stderr
    assert says in r.stderr
    assert int(r.stderr.split(str(env.config) + ":")[1].split(":")[0]) > line


# ---- the stand-in STS ----

def forged(token, pem):
    """token's claims and kid, signed by another key."""
    head = token.split(".")[0]
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    return sign_jwt(pem, decode_jwt(token), {"alg": "RS256", "kid": header["kid"]})


def test_the_stand_in_exchanges_the_token_as_google_does(gcp_in, sts):
    status, body = sts.exchange(gcp_in.tokens()["id_token"])
    assert status == 200, body
    assert set(body) == {"access_token", "issued_token_type", "token_type", "expires_in"}
    assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600


def test_the_stand_in_rejects_a_token_signed_by_another_key(gcp_in, sts, tmp_path):
    pem = generate_key(str(tmp_path / "other.pem"), "RSA")
    status, body = sts.exchange(forged(gcp_in.tokens()["id_token"], pem))
    assert status == 400
    assert body == {"error": "invalid_grant", "error_description": "Invalid JWT signature."}


def test_the_stand_in_rejects_another_audience(gcp_in, sts):
    status, body = sts.exchange(gcp_in.tokens()["id_token"], audience=WORKFORCE)
    assert status == 400 and body["error"] == "invalid_target"


def test_the_stand_in_rejects_a_token_for_another_client(gcp_in, idp):
    """A pool provider whose allowed audience is another application's client id."""
    with GoogleSTS.start(AUDIENCE, idp.issuer("default"), "0oa-other-app") as other:
        status, body = other.exchange(gcp_in.tokens()["id_token"])
    assert status == 400 and body["error"] == "invalid_grant"
    assert "does not match the expected audience" in body["error_description"]


# ---- the real client ----

@needs_gcloud
def test_gcloud_print_access_token_gets_the_stand_ins_token(gcp_in, sts, tmp_path):
    env = gcp_in
    r = gcloud(env, sts, tmp_path, "auth", "print-access-token")
    assert r.returncode == 0, r.stderr
    got = r.stdout.strip()
    exchanged = issued(sts)
    assert exchanged and got == exchanged[-1]["access_token"]
    assert exchanged[-1]["subject"].endswith("/subject/" + decode_jwt(
        env.tokens()["id_token"])["sub"])


@needs_gcloud
def test_gcloud_is_refused_an_expired_token(gcp_in, sts, tmp_path):
    """The STS's clock past the ID token's exp: Google's invalid_grant reaches gcloud."""
    exp = decode_jwt(gcp_in.tokens()["id_token"])["exp"]
    sts.settings(clock_offset=int(exp - time.time()) + 60)
    r = gcloud(gcp_in, sts, tmp_path, "auth", "print-access-token")
    assert r.returncode != 0
    assert "invalid_grant" in r.stderr and "expired" in r.stderr
    assert issued(sts) == []


@needs_gcloud
def test_gcloud_without_a_session_shows_oktacreds_message(gcp, sts, tmp_path):
    r = gcloud(gcp, sts, tmp_path, "auth", "print-access-token", via_exec=False, extra={
        "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE": str(write_file(gcp)),
        "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES": "1"})
    assert r.returncode != 0
    assert "login_required" in r.stderr
    assert "run: oktacred login okta-oidc" in r.stderr
    assert [e for e in sts.log() if e["path"] == "/v1/token"] == []


def write_file(env):
    r = env.run("gcp-config", "gcp")
    assert r.returncode == 0, r.stderr
    path = env.home / "gcp.json"
    path.write_text(r.stdout)
    return path
