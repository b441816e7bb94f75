"""AWS federation: aws/assume-role identities against the local identity provider and the
strict fake STS (tests/sts): credential-process (with the real AWS CLI and boto3), the
credential cache and its lock, role_map, every STS error, env/exec, and exec --server."""
import base64
import json
import os
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pytest

import secretscan

from conftest import (CLIENT_ID, OKTACRED, OKTACRED_UNWRAPPED, ROOT, do_login, not_under,
                      run_on_a_terminal)

sys.path.insert(0, os.path.join(ROOT, "tests", "sts"))
from sts_harness import AWS_CLI, FakeSTS, aws_cli_env, write_aws_config  # noqa: E402

ACCOUNT = "123456789012"
DEV = f"arn:aws:iam::{ACCOUNT}:role/Dev"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/Admin"
KEY_VARS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
            "AWS_CREDENTIAL_EXPIRATION"]
CLEARED = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN",
           "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
           "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN"]


@pytest.fixture(scope="session")
def sts(idp):
    server = FakeSTS.start(idp.base)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _reset_sts(request):
    if "sts" in request.fixturenames:
        request.getfixturevalue("sts").reset(credentials=True)
    yield


def aws_config(env, sts, extra_dev="", mapped="", extra_provider=""):
    """The test configuration: aws-dev (role_arn Dev), aws-mapped (role_map), okta-admin."""
    mapped = mapped or f"AWS-Admins={ADMIN}, AWS-Dev={DEV}"
    return (
        "[defaults]\nidentity = aws-dev\n\n"
        "[provider okta-oidc]\nkind = okta/device-code\n"
        f"org_url = {env.idp.base}\nclient_id = {CLIENT_ID}\n"
        "authorization_server = default\n"
        "scopes = openid profile email groups offline_access\n"
        f"{extra_provider}\n"
        "[identity okta-admin]\nkind = okta/api-access\nprovider = okta-oidc\n\n"
        "[identity aws-dev]\nkind = aws/assume-role\nprovider = okta-oidc\n"
        f"role_arn = {DEV}\nregion = us-east-1\nsts_endpoint = {sts.base}\n{extra_dev}\n"
        "[identity aws-mapped]\nkind = aws/assume-role\nprovider = okta-oidc\n"
        f"role_map = {mapped}\nregion = us-east-1\nsts_endpoint = {sts.base}\n"
    )


@pytest.fixture
def aws(env, sts):
    """Logged in as alice, with the AWS identities configured."""
    env.sts = sts
    env.write_config(aws_config(env, sts))
    env.idp.settings(interval=1)
    rc, _, err = do_login(env)
    assert rc == 0, err
    sts.reset(credentials=True)
    return env


def login_as(env, user):
    env.idp.settings(interval=1)
    rc, _, err = do_login(env, "--force", user=user,
                          password="battery staple" if user == "bob" else "correct horse")
    assert rc == 0, err


def creds_path(env, identity="aws-dev"):
    return env.root / "aws" / identity / "credentials.json"


def assume_calls(sts):
    return [e for e in sts.log() if e["action"] == "AssumeRoleWithWebIdentity"]


def process(env, identity="aws-dev", *args, **kw):
    return env.run("credential-process", identity, *args, **kw)


def expire_cached(env, identity="aws-dev", left=-60):
    """Rewrites credentials.json (keeping 0600) as if time had passed."""
    p = creds_path(env, identity)
    c = json.loads(p.read_text())
    c["expiration"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + left))
    p.write_text(json.dumps(c))
    return c


# ---- credential-process ----

def test_credential_process_prints_exactly_the_json(aws):
    r = process(aws)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    j = json.loads(r.stdout)
    assert list(j) == ["Version", "AccessKeyId", "SecretAccessKey", "SessionToken",
                       "Expiration", "AccountId"]
    assert j["Version"] == 1
    # the account of the assumed role's ARN, the key botocore's ProcessProvider reads
    assert j["AccountId"] == ACCOUNT
    assert time.strptime(j["Expiration"], "%Y-%m-%dT%H:%M:%SZ")
    [call] = assume_calls(aws.sts)
    assert call["status"] == 200
    assert call["role_arn"] == DEV
    assert call["session_name"] == "alice@example.com"
    assert call["duration"] == 3600
    [issued] = aws.sts.credentials()
    assert issued["access_key_id"] == j["AccessKeyId"] == call["access_key_id"]
    assert issued["secret_access_key"] == j["SecretAccessKey"]
    assert issued["session_token"] == j["SessionToken"]
    # the cache: 0600 in a 0700 directory, the same credentials
    p = creds_path(aws)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert stat.S_IMODE(p.parent.stat().st_mode) == 0o700
    c = json.loads(p.read_text())
    assert c["access_key_id"] == j["AccessKeyId"]
    assert c["secret_access_key"] == j["SecretAccessKey"]
    assert c["session_token"] == j["SessionToken"]
    assert c["expiration"] == j["Expiration"]
    assert c["role_arn"] == DEV and c["provider"] == "okta-oidc"


def test_second_call_is_served_from_the_cache(aws):
    first = process(aws)
    assert first.returncode == 0, first.stderr
    aws.sts.reset()
    aws.idp.reset()
    second = process(aws)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert aws.sts.log() == [] and aws.idp.log() == []


def test_verbose_cached_call_says_how_long_is_left(aws):
    """-v on a cache hit: `aws-dev: cached, 59m left` on stderr (issue 15)."""
    first = process(aws)
    assert first.returncode == 0, first.stderr
    r = process(aws, "aws-dev", "-v")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^oktacred: aws-dev: cached, (\d+m|\d+h\d\dm) left$", r.stderr, re.M), \
        r.stderr
    if not secretscan.ENABLED:  # which adds -v to every run
        assert "cached" not in process(aws).stderr


def test_concurrent_callers_make_one_sts_call(aws):
    aws.sts.settings(response_delay_ms=300)
    procs = [aws.start("credential-process", "aws-dev") for _ in range(8)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    keys = {json.loads(o[0])["AccessKeyId"] for o in outs}
    assert len(keys) == 1
    assert len(assume_calls(aws.sts)) == 1


def test_credentials_near_expiry_are_renewed(aws):
    first = json.loads(process(aws).stdout)
    expire_cached(aws, left=15 * 60)  # under 20 minutes left
    aws.sts.reset()
    r = process(aws)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["AccessKeyId"] != first["AccessKeyId"]
    assert len(assume_calls(aws.sts)) == 1


def test_credentials_are_renewed_when_the_role_changes(aws):
    assert process(aws).returncode == 0
    aws.write_config(aws_config(aws, aws.sts).replace(f"role_arn = {DEV}", f"role_arn = {ADMIN}"))
    login_as(aws, "bob")  # a new login drops the derived credentials too
    aws.sts.reset()
    r = process(aws)
    assert r.returncode == 0, r.stderr
    [call] = assume_calls(aws.sts)
    assert call["role_arn"] == ADMIN and call["session_name"] == "bob@example.com"


def id_token_claims(env):
    payload = env.tokens()["id_token"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_an_expiring_id_token_is_refreshed_first(env, sts):
    env.sts = sts
    env.write_config(aws_config(env, sts))
    env.idp.settings(interval=1, id_token_ttl=4)
    rc, _, err = do_login(env)
    assert rc == 0, err
    old = env.tokens()["refresh_token"]
    env.idp.reset()
    sts.reset()
    # A wait on the clock, not on a process: the ID token must be in its last half
    # (refresh window = min(refresh_before, lifetime / 2) = 2 s).
    c = id_token_claims(env)
    while time.time() < c["exp"] - 1:
        time.sleep(0.1)
    r = process(env)
    assert r.returncode == 0, r.stderr
    grants = [e for e in env.idp.log() if e.get("grant_type") == "refresh_token"]
    assert len(grants) == 1
    assert env.tokens()["refresh_token"] != old
    [call] = assume_calls(sts)
    assert call["status"] == 200


def test_duration_and_session_name_template(env, sts):
    env.sts = sts
    env.write_config(aws_config(env, sts, extra_dev="duration = 2h\n"
                                "session_name = okc-{preferred_username}\n"))
    env.idp.settings(interval=1)
    assert do_login(env)[0] == 0
    sts.reset()
    r = process(env)
    assert r.returncode == 0, r.stderr
    [call] = assume_calls(sts)
    assert call["duration"] == 7200
    assert call["session_name"] == "okc-alice@example.com"


def test_logged_out_exits_3_at_once_with_nothing_on_stdout(env, sts):
    env.write_config(aws_config(env, sts))
    start = time.monotonic()
    r = subprocess.run(["sh", "-c", 'exec 0<&-; exec "$OKTACRED" credential-process aws-dev'],
                       env=dict(env.env, OKTACRED=OKTACRED), capture_output=True, text=True,
                       timeout=30, start_new_session=True)
    assert time.monotonic() - start < 5
    assert r.returncode == 3
    assert r.stdout == ""
    assert "run: oktacred login okta-oidc" in r.stderr
    assert sts.log() == []


def test_interactive_without_a_terminal_still_exits_3(env, sts):
    env.write_config(aws_config(env, sts, extra_dev="interactive = true\n"))
    r = process(env)  # start_new_session: no controlling terminal
    assert r.returncode == 3 and r.stdout == ""
    assert "run: oktacred login okta-oidc" in r.stderr


def test_interactive_login_on_the_terminal(env, sts):
    """interactive = true with a controlling terminal: the device flow runs on /dev/tty
    while stdout (the JSON) and stderr are pipes, as under the AWS CLI."""
    env.write_config(aws_config(env, sts, extra_dev="interactive = true\n"))
    env.idp.settings(interval=1)
    status, out, tty, err = run_on_a_terminal(
        env, [OKTACRED, "credential-process", "aws-dev"], timeout=30)
    assert "enter the code" in tty
    assert status == 0, err
    j = json.loads(out)
    assert j["Version"] == 1
    assert "enter the code" not in out


def test_not_an_aws_identity(aws):
    r = process(aws, "okta-admin")
    assert r.returncode == 2 and r.stdout == ""


# ---- real clients: the AWS CLI and boto3 ----

def aws_client_env(env, sts):
    cfg = env.home / ".aws-config"
    write_aws_config(str(cfg), {"aws-dev": {
        "credential_process": f"{OKTACRED} credential-process aws-dev",
        "region": "us-east-1"}})
    return aws_cli_env(str(cfg), home=str(env.home),
                       extra={"XDG_CONFIG_HOME": str(env.xdg), "AWS_PROFILE": "aws-dev"})


@pytest.mark.skipif(not os.path.exists(AWS_CLI), reason="/usr/bin/aws is not installed")
def test_aws_cli_get_caller_identity(aws):
    e = aws_client_env(aws, aws.sts)
    cmd = [AWS_CLI, "sts", "get-caller-identity", "--endpoint-url", aws.sts.base,
           "--output", "json"]
    r = subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    ident = json.loads(r.stdout)
    assert ident["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/Dev/alice@example.com"
    assert ident["Account"] == ACCOUNT
    assert len(assume_calls(aws.sts)) == 1
    r = subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert len(assume_calls(aws.sts)) == 1, "the second run used the cache"
    assert len([x for x in aws.sts.log() if x["action"] == "GetCallerIdentity"]) == 2


BOTO3 = """
import boto3, json, sys
s = boto3.Session(profile_name="aws-dev")
print(json.dumps(s.client("sts", endpoint_url=sys.argv[1]).get_caller_identity()["Arn"]))
"""


def have_boto3():
    return subprocess.run(["/usr/bin/python3", "-c", "import boto3"],
                          capture_output=True).returncode == 0


@pytest.mark.skipif(not have_boto3(), reason="python3-boto3 is not installed")
def test_boto3_through_the_profile(aws):
    e = aws_client_env(aws, aws.sts)
    r = subprocess.run(["/usr/bin/python3", "-c", BOTO3, aws.sts.base], env=e,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == f"arn:aws:sts::{ACCOUNT}:assumed-role/Dev/alice@example.com"


# botocore reads AccountId from credential_process (ProcessProvider) and from the container
# endpoint (ContainerProvider) in its newer releases; Debian 12's botocore 1.29 ignores the
# key (the JSON tests above check it is there). A Python whose botocore knows account_id
# (the one on PATH, when it is not Debian's) runs these; without one they are skipped.
ACCOUNT_ID = """
import boto3, json, sys
s = boto3.Session(profile_name=sys.argv[1]) if sys.argv[1] else boto3.Session()
c = s.get_credentials()
print(json.dumps({"method": c.method, "account_id": c.get_frozen_credentials().account_id}))
"""


def python_with_account_id():
    """An interpreter whose botocore Credentials carry account_id, or None."""
    probe = ("import sys, inspect, boto3, botocore.credentials as c; "
             "assert 'account_id' in inspect.signature(c.Credentials).parameters; "
             "print(sys.executable)")
    for py in (shutil.which("python3"), "/usr/bin/python3"):
        if not py:
            continue
        r = subprocess.run([py, "-c", probe], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.strip()
    return None


NEW_BOTOCORE = python_with_account_id()


@pytest.mark.skipif(not NEW_BOTOCORE, reason="no botocore that reads AccountId (Debian 12 "
                    "has 1.29)")
def test_botocore_reads_the_account_id_of_credential_process(aws):
    e = aws_client_env(aws, aws.sts)
    r = subprocess.run([NEW_BOTOCORE, "-c", ACCOUNT_ID, "aws-dev"], env=e,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"method": "custom-process", "account_id": ACCOUNT}


@pytest.mark.skipif(not NEW_BOTOCORE, reason="no botocore that reads AccountId (Debian 12 "
                    "has 1.29)")
def test_botocore_reads_the_account_id_of_exec_server(aws):
    r = aws.run("exec", "aws-dev", "--server", "--", NEW_BOTOCORE, "-c", ACCOUNT_ID, "",
                env={"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                     "AWS_EC2_METADATA_DISABLED": "true"})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"method": "container-role", "account_id": ACCOUNT}


# ---- a service account's access token as the web identity token ----
# okta-aws-cli's m2m mode: client credentials on a custom authorization server, whose access
# token (a JWT it signs, aud = its audience) AWS takes from an IAM OIDC provider that lists
# that audience. CI machines get AWS credentials the way people do.

M2M_AUDIENCE = "api://default"
ROBOT = "0oa-robot-aws"


def b64url_json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.fixture
def m2m(env, tmp_path):
    from harness import generate_key, jwk_from_pem  # tests/idp

    key = tmp_path / "robot.pem"
    generate_key(str(key), "RSA")
    env.idp.add_service_client(ROBOT, jwk_from_pem(str(key), kid="kid-aws"), server="default")
    sts = FakeSTS.start(env.idp.base, audiences=(CLIENT_ID, M2M_AUDIENCE))
    env.sts = sts
    env.robot_key = key
    env.write_config(
        "[provider robot]\nkind = okta/service-account\n"
        f"org_url = {env.idp.base}\nclient_id = {ROBOT}\nprivate_key = {key}\n"
        "private_key_id = kid-aws\nauthorization_server = default\nscopes = api.read\n\n"
        "[identity aws-ci]\nkind = aws/assume-role\nprovider = robot\n"
        f"role_arn = {DEV}\nregion = us-east-1\nsts_endpoint = {sts.base}\n")
    try:
        yield env
    finally:
        sts.stop()


def test_service_account_access_token_as_web_identity_token(m2m):
    r = process(m2m, "aws-ci")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["AccountId"] == ACCOUNT
    [call] = assume_calls(m2m.sts)
    assert call["status"] == 200, call
    # the access token of the custom server: its issuer, its audience, the client as sub
    assert call["issuer"] == m2m.idp.base + "/oauth2/default"
    assert call["aud"] == M2M_AUDIENCE and call["sub"] == ROBOT
    assert call["session_name"] == ROBOT  # no email: {email} falls back to sub
    t = m2m.tokens("robot")
    assert "id_token" not in t
    assert b64url_json(t["access_token"].split(".")[1])["aud"] == M2M_AUDIENCE
    # the second call is served from the cache
    assert process(m2m, "aws-ci").returncode == 0
    assert len(assume_calls(m2m.sts)) == 1


@pytest.mark.skipif(not os.path.exists(AWS_CLI), reason="/usr/bin/aws is not installed")
def test_service_account_with_the_aws_cli(m2m):
    cfg = m2m.home / ".aws-config"
    write_aws_config(str(cfg), {"ci": {
        "credential_process": f"{OKTACRED} credential-process aws-ci", "region": "us-east-1"}})
    e = aws_cli_env(str(cfg), home=str(m2m.home),
                    extra={"XDG_CONFIG_HOME": str(m2m.xdg), "AWS_PROFILE": "ci"})
    r = subprocess.run([AWS_CLI, "sts", "get-caller-identity", "--endpoint-url", m2m.sts.base,
                        "--output", "json"], env=e, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    ident = json.loads(r.stdout)
    assert ident["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/Dev/{ROBOT}"
    assert ident["Account"] == ACCOUNT


def test_service_account_token_for_another_audience_is_rejected(m2m):
    """An STS whose OIDC provider does not list the server's audience refuses the token:
    exit 1, STS's words, and the audience to add."""
    m2m.sts.config(providers=[{"issuer": m2m.idp.base + "/oauth2/default",
                               "audiences": [CLIENT_ID]}])
    r = process(m2m, "aws-ci")
    assert r.returncode == 1, r.stderr
    assert r.stdout == ""
    assert "STS rejected the Okta access token (InvalidIdentityToken)" in r.stderr
    assert "Incorrect token audience" in r.stderr
    assert M2M_AUDIENCE in r.stderr  # the hint names the audience IAM must list
    [call] = assume_calls(m2m.sts)
    assert call["error"] == "InvalidIdentityToken"
    assert not creds_path(m2m, "aws-ci").exists()


def test_fake_sts_checks_an_access_token_like_an_id_token(m2m):
    """The fake STS verifies an access token as AWS does: the signature with the issuer's
    JWKS, iss, aud against the configured audiences, exp."""
    status, body, _ = m2m.idp.client_credentials(ROBOT, pem_path=str(m2m.robot_key),
                                                 server="default", scope="api.read",
                                                 kid="kid-aws")
    assert status == 200, body
    tok = body["access_token"]
    assert m2m.sts.assume_role_with_web_identity(tok, "Dev").ok
    # the payload changed under the signature
    h, p, sig = tok.split(".")
    claims = dict(b64url_json(p), sub="0oa-someone-else")
    forged = ".".join([h, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode()
                       .rstrip("="), sig])
    r = m2m.sts.assume_role_with_web_identity(forged, "Dev")
    assert r.code == "InvalidIdentityToken"
    assert m2m.sts.log()[-1]["detail"] == "signature does not verify"
    # expired
    m2m.sts.settings(clock_offset_s=7200)
    r = m2m.sts.assume_role_with_web_identity(tok, "Dev")
    assert r.code == "ExpiredTokenException"


# ---- role_map ----

def test_role_map_one_group(aws):
    r = process(aws, "aws-mapped")
    assert r.returncode == 0, r.stderr
    [call] = assume_calls(aws.sts)
    assert call["role_arn"] == DEV
    # the only match is reused from the cache without --role
    aws.sts.reset()
    assert process(aws, "aws-mapped").returncode == 0
    assert assume_calls(aws.sts) == []


def test_role_map_two_groups_need_role(aws):
    login_as(aws, "bob")
    aws.sts.reset()
    r = process(aws, "aws-mapped")
    assert r.returncode == 2 and r.stdout == ""
    assert "several roles match" in r.stderr and "--role" in r.stderr
    assert ADMIN in r.stderr and DEV in r.stderr
    assert assume_calls(aws.sts) == []
    r = process(aws, "aws-mapped", "--role", "aws-admins")
    assert r.returncode == 0, r.stderr
    [call] = assume_calls(aws.sts)
    assert call["role_arn"] == ADMIN and call["session_name"] == "bob@example.com"
    # --role by role name and by ARN; the cache follows the role asked for
    aws.sts.reset()
    assert process(aws, "aws-mapped", "--role", ADMIN).returncode == 0
    assert assume_calls(aws.sts) == []
    r = process(aws, "aws-mapped", "--role", "Dev")
    assert r.returncode == 0, r.stderr
    [call] = assume_calls(aws.sts)
    assert call["role_arn"] == DEV
    # a role chosen among several is not reused without --role
    r = process(aws, "aws-mapped")
    assert r.returncode == 2


def test_role_map_no_group_lists_the_users_groups(env, sts):
    env.write_config(aws_config(env, sts, mapped=f"AWS-Ops={ADMIN}"))
    env.idp.settings(interval=1)
    assert do_login(env)[0] == 0
    sts.reset()
    r = process(env, "aws-mapped")
    assert r.returncode == 1 and r.stdout == ""
    assert "Everyone" in r.stderr and "AWS-Dev" in r.stderr
    assert "AWS-Ops" in r.stderr
    assert assume_calls(sts) == []


def test_role_map_error_lists_hostile_groups_escaped(env, sts):
    """The groups come from the ID token: escape sequences in them are shown escaped
    (text_escape), names that are not ASCII as they are."""
    env.write_config(aws_config(env, sts, mapped=f"AWS-Ops={ADMIN}"))
    env.idp.settings(interval=1)
    env.idp.user_claims("alice", groups=["Everyone", "\x1b]0;pwned\x07", "\u009b31m",
                                         "\u00c9quipe"])
    assert do_login(env)[0] == 0
    sts.reset()
    r = process(env, "aws-mapped")
    assert r.returncode == 1 and r.stdout == ""
    assert r"(Everyone, \x1b]0;pwned\x07, \xc2\x9b31m, " "\u00c9quipe)" in r.stderr, r.stderr
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", r.stderr), r.stderr
    assert assume_calls(sts) == []


def test_unknown_role_is_a_usage_error(aws):
    r = process(aws, "aws-mapped", "--role", "Nope")
    assert r.returncode == 2 and "names no role" in r.stderr
    r = aws.run("env", "okta-admin", "--role", "Dev")
    assert r.returncode == 2


# ---- STS errors ----

def seeded_cache(env):
    """A cached set that needs renewal (10 minutes left): each failure must leave it."""
    assert process(env).returncode == 0
    expire_cached(env, left=600)
    env.sts.reset()
    return creds_path(env).read_bytes()


@pytest.mark.parametrize("code,words", [
    ("InvalidIdentityToken", ["InvalidIdentityToken", "audience " + CLIENT_ID]),
    ("AccessDenied", ["AccessDenied", "trust policy"]),
    ("IDPRejectedClaim", ["IDPRejectedClaim"]),
    ("RegionDisabledException", ["RegionDisabledException", "us-east-1"]),
    ("MalformedPolicyDocument", ["MalformedPolicyDocument", "injected"]),
])
def test_sts_refusals_are_clear_and_exit_1(aws, code, words):
    before = seeded_cache(aws)
    aws.sts.fault(code=code, count=5)
    r = process(aws)
    assert r.returncode == 1, r.stderr
    assert r.stdout == ""
    for w in words:
        assert w in r.stderr, r.stderr
    assert len(assume_calls(aws.sts)) == 1, "no retry"
    assert creds_path(aws).read_bytes() == before
    assert aws.tokens()["id_token"] not in r.stderr


def test_sts_message_that_quotes_the_token_is_printed_redacted(aws):
    """STS's Message is printed; the ID token it quotes is not (it is cut to size after the
    redaction, so even a long token is found whole)."""
    before = seeded_cache(aws)
    token = aws.tokens()["id_token"]
    aws.sts.fault(code="InvalidIdentityToken", message="Token %s is not valid here" % token)
    r = process(aws)
    assert r.returncode == 1, r.stderr
    assert "Token <redacted> is not valid here" in r.stderr, r.stderr
    assert token not in r.stderr and token[:40] not in r.stderr
    assert creds_path(aws).read_bytes() == before


def test_idp_communication_error_is_retried(aws):
    aws.sts.fault(code="IDPCommunicationError", count=2)
    r = process(aws)
    assert r.returncode == 0, r.stderr
    assert [c["status"] for c in assume_calls(aws.sts)] == [400, 400, 200]


def test_idp_communication_error_gives_up_with_exit_4(aws):
    before = seeded_cache(aws)
    aws.sts.fault(code="IDPCommunicationError", count=10)
    r = process(aws)
    assert r.returncode == 4, r.stderr
    assert r.stdout == "" and "IDPCommunicationError" in r.stderr
    assert len(assume_calls(aws.sts)) == 3
    assert creds_path(aws).read_bytes() == before


def test_hanging_sts_is_bounded_by_the_providers_timeout(aws):
    """An STS that accepts and never answers: each attempt ends at the provider's `timeout`
    (1 s here; by default 30 s), four attempts, exit 4, the cache kept."""
    aws.write_config(aws_config(aws, aws.sts, extra_provider="timeout = 1s\n"))
    before = seeded_cache(aws)
    aws.sts.fault(hang=True, count=10)
    t0 = time.monotonic()
    r = process(aws, timeout=100)
    took = time.monotonic() - t0
    assert r.returncode == 4, r.stderr
    assert r.stdout == "" and "timeout" in r.stderr.lower(), r.stderr
    calls = assume_calls(aws.sts)
    assert len(calls) == 4 and all(c["hang"] for c in calls), calls
    assert 4.0 <= took < 30, took
    assert creds_path(aws).read_bytes() == before


def test_expired_token_refreshes_the_id_token_once(aws):
    old = aws.tokens()["refresh_token"]
    aws.idp.reset()
    aws.sts.fault(code="ExpiredTokenException", count=1)
    r = process(aws)
    assert r.returncode == 0, r.stderr
    assert len([e for e in aws.idp.log() if e.get("grant_type") == "refresh_token"]) == 1
    calls = assume_calls(aws.sts)
    assert [c["status"] for c in calls] == [400, 200]
    assert aws.tokens()["refresh_token"] != old, "refreshed (the provider rotates)"


def test_expired_token_twice_is_exit_1(aws):
    before = seeded_cache(aws)
    aws.sts.fault(code="ExpiredTokenException", count=2)
    r = process(aws)
    assert r.returncode == 1, r.stderr
    assert "ExpiredTokenException" in r.stderr and "clock" in r.stderr
    assert len(assume_calls(aws.sts)) == 2
    assert creds_path(aws).read_bytes() == before


@pytest.fixture
def sts_config(sts):
    """Changes to the fake's account configuration, undone after the test."""
    saved = sts.config()
    yield sts
    sts.config(providers=saved["providers"], roles=saved["roles"])


def test_real_rejections_from_the_fake(aws, sts_config):
    """Not injected: the fake's own checks (Admin needs AWS-Admins; a token for another
    audience)."""
    aws.write_config(aws_config(aws, aws.sts).replace(f"role_arn = {DEV}", f"role_arn = {ADMIN}"))
    r = process(aws)
    assert r.returncode == 1 and r.stdout == ""
    assert "IDPRejectedClaim" in r.stderr or "AccessDenied" in r.stderr
    aws.write_config(aws_config(aws, aws.sts))
    aws.sts.config(providers=[{"issuer": aws.idp.base + "/oauth2/default",
                               "audiences": ["someone-else"]}])
    r = process(aws)
    assert r.returncode == 1 and "InvalidIdentityToken" in r.stderr
    assert "audience " + CLIENT_ID in r.stderr


def test_duration_above_the_roles_maximum(env, sts_config):
    sts = sts_config
    sts.config(roles={"Dev": {"max_duration": 3600}})
    env.write_config(aws_config(env, sts, extra_dev="duration = 2h\n"))
    env.idp.settings(interval=1)
    assert do_login(env)[0] == 0
    r = process(env)
    assert r.returncode == 1
    assert "ValidationError" in r.stderr and "duration" in r.stderr


@pytest.mark.parametrize("body,ctype,status,words", [
    ("<AssumeRoleWithWebIdentityResponse><oops", "text/xml", 200, ["not well-formed"]),
    ("<!DOCTYPE html><html><body>Bad gateway</body></html>", "text/html", 403,
     ["HTML", "403"]),
    ("<html><body>Service Unavailable</body></html>", "text/html", 503, ["HTML", "503"]),
    ('{"Credentials": {}}', "application/json", 200, ["not well-formed"]),
])
def test_unreadable_answers_exit_4(aws, body, ctype, status, words):
    before = seeded_cache(aws)
    aws.sts.fault(body=body, content_type=ctype, status=status, count=10)
    r = process(aws)
    assert r.returncode == 4, r.stderr
    assert r.stdout == ""
    for w in words:
        assert w in r.stderr, r.stderr
    assert creds_path(aws).read_bytes() == before


def test_sts_unreachable_exits_4(env, sts):
    env.write_config(aws_config(env, sts).replace(sts.base, "http://127.0.0.1:9"))
    env.idp.settings(interval=1)
    assert do_login(env)[0] == 0
    r = process(env)
    assert r.returncode == 4 and r.stdout == ""
    assert "127.0.0.1:9" in r.stderr


def test_corrupt_cache_is_set_aside(aws):
    assert process(aws).returncode == 0
    creds_path(aws).write_text("{not json")
    r = process(aws)
    assert r.returncode == 0, r.stderr
    assert "corrupt" in r.stderr
    assert (creds_path(aws).parent / "credentials.json.corrupt").exists()


def test_unsafe_cache_is_refused(aws):
    assert process(aws).returncode == 0
    os.chmod(creds_path(aws), 0o644)
    r = process(aws)
    assert r.returncode == 1 and r.stdout == ""
    assert "chmod 600" in r.stderr


# ---- logout, login, status ----

def test_logout_deletes_the_derived_credentials(aws):
    assert process(aws).returncode == 0
    assert process(aws, "aws-mapped").returncode == 0
    r = aws.run("logout")
    assert r.returncode == 0, r.stderr
    assert not creds_path(aws).exists()
    assert not creds_path(aws, "aws-mapped").exists()
    r = process(aws)
    assert r.returncode == 3


def test_logout_all_sweeps_what_the_configuration_no_longer_names(aws):
    """A provider taken out of the configuration after a login: logout --all still deletes
    its session and the AWS credentials obtained through it, and no directory is left
    behind that holds only a lock (identities', and a provider's that a logout made)."""
    env = aws
    assert process(env).returncode == 0
    assert process(env, "aws-mapped").returncode == 0
    (env.root / "aws" / "gone-identity").mkdir(mode=0o700)
    (env.root / "aws" / "gone-identity" / ".lock").touch(mode=0o600)
    base = env.idp.base
    env.write_config(
        "[provider okta-new]\nkind = okta/device-code\n"
        f"org_url = {base}\nclient_id = {CLIENT_ID}\nauthorization_server = default\n"
        "scopes = openid profile email groups offline_access\n")
    assert env.tokens_path().exists() and creds_path(env).exists()
    r = env.run("logout", "--all")
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert "oktacred: okta-new: not logged in" in lines, r.stderr
    assert "oktacred: okta-oidc: logged out (no longer in the configuration)" in lines
    for ident in ("aws-dev", "aws-mapped"):
        assert ("oktacred: %s: deleted the AWS credentials of okta-oidc, no longer in the "
                "configuration" % ident) in lines, r.stderr
    assert len(lines) == 4, r.stderr
    assert not (env.root / "okta" / "okta-oidc").exists()
    assert not (env.root / "okta" / "okta-new").exists(), "a directory holding only a lock"
    assert os.listdir(env.root / "aws") == []
    # Nothing left to sweep: said once.
    r = env.run("logout", "--all")
    assert r.returncode == 0 and r.stderr == "oktacred: okta-new: not logged in\n", r.stderr


def test_logout_all_leaves_what_it_does_not_know(aws):
    """A directory under okta/ or aws/ holding a file oktacred did not write keeps it."""
    env = aws
    assert process(env).returncode == 0
    (env.provider_dir() / "notes.txt").write_text("mine\n")
    (env.root / "aws" / "aws-dev" / "notes.txt").write_text("mine\n")
    env.write_config("[provider okta-new]\nkind = okta/device-code\n"
                     f"org_url = {env.idp.base}\nclient_id = {CLIENT_ID}\n"
                     "scopes = openid offline_access\n")
    r = env.run("logout", "--all")
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(env.provider_dir())) == [".lock", "notes.txt"]
    assert sorted(os.listdir(env.root / "aws" / "aws-dev")) == [".lock", "notes.txt"]


def test_status_shows_the_cached_credentials(aws):
    r = aws.run("status", "aws-dev")
    assert "aws-dev: no cached credentials" in r.stdout
    assert process(aws).returncode == 0
    r = aws.run("status", "aws-dev")
    assert r.returncode == 0, r.stderr
    assert "assumed-role/Dev/alice@example.com until " in r.stdout
    r = aws.run("status", "--json")
    [p] = json.loads(r.stdout)
    got = {a["identity"]: a for a in p["aws"]}
    assert got["aws-dev"]["cached"] is True and got["aws-dev"]["expires_in"] > 3000
    assert got["aws-mapped"]["cached"] is False


# ---- env and exec ----

def parse_env0(data):
    out = {}
    for item in data.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            out[k.decode()] = v.decode()
    return out


def stale():
    return {k: "stale-" + k for k in CLEARED}


def check_env(env, got):
    c = json.loads(creds_path(env).read_text())
    assert got["AWS_ACCESS_KEY_ID"] == c["access_key_id"]
    assert got["AWS_SECRET_ACCESS_KEY"] == c["secret_access_key"]
    assert got["AWS_SESSION_TOKEN"] == c["session_token"]
    assert got["AWS_CREDENTIAL_EXPIRATION"] == c["expiration"]
    assert got["AWS_REGION"] == got["AWS_DEFAULT_REGION"] == "us-east-1"
    assert got["OKTACRED_IDENTITY"] == "aws-dev"
    for k in CLEARED:
        assert k not in got, k


@pytest.mark.parametrize("shell", ["sh", "bash", "dash"])
def test_env_in_posix_shells(aws, shell):
    e = dict(aws.env, OKTACRED=OKTACRED, **stale())
    r = subprocess.run([shell, "-c", 'eval "$("$OKTACRED" env aws-dev)" && env -0'], env=e,
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    check_env(aws, parse_env0(r.stdout))


def test_env_every_format(aws):
    r = aws.run("env", "--format", "json")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    check_env(aws, j["set"])
    assert set(j["unset"]) == set(CLEARED)
    assert set(j["set"]) == set(KEY_VARS) | {"AWS_REGION", "AWS_DEFAULT_REGION",
                                             "OKTACRED_IDENTITY"}
    c = json.loads(creds_path(aws).read_text())
    r = aws.run("env", "--format", "dotenv")
    lines = dict(line.split("=", 1) for line in r.stdout.splitlines())
    assert lines["AWS_SESSION_TOKEN"] == '"%s"' % c["session_token"]
    assert "AWS_PROFILE" not in lines
    r = aws.run("env", "--format", "powershell")
    assert "$Env:AWS_ACCESS_KEY_ID = '%s'" % c["access_key_id"] in r.stdout
    assert "Remove-Item Env:AWS_PROFILE" in r.stdout
    r = aws.run("env", "--format", "fish")
    assert "set -gx AWS_SECRET_ACCESS_KEY '%s'" % c["secret_access_key"].replace(
        "\\", "\\\\").replace("'", "\\'") in r.stdout
    assert "set -e AWS_ROLE_ARN" in r.stdout


def test_env_unset_needs_no_credentials(env, sts):
    env.write_config(aws_config(env, sts))
    e = dict(env.env, OKTACRED=OKTACRED, **stale(), AWS_ACCESS_KEY_ID="x",
             AWS_REGION="eu-west-1")
    r = subprocess.run(["sh", "-c", 'eval "$("$OKTACRED" env --unset aws-dev)" && env -0'],
                       env=e, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    got = parse_env0(r.stdout)
    for k in KEY_VARS + CLEARED + ["AWS_REGION", "OKTACRED_IDENTITY"]:
        assert k not in got
    assert sts.log() == []


def test_exec_sets_and_clears(aws):
    r = aws.run("exec", "aws-dev", "--", "env", "-0", env=stale())
    assert r.returncode == 0, r.stderr
    check_env(aws, parse_env0(r.stdout.encode()))


def test_env_fish_round_trip(aws):
    import shutil
    if not shutil.which("fish"):
        pytest.skip("fish is not installed")
    e = dict(aws.env, OKTACRED=OKTACRED, **stale())
    r = subprocess.run(["fish", "-c", '$OKTACRED env --format fish aws-dev | source; and env -0'],
                       env=e, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    check_env(aws, parse_env0(r.stdout))


# ---- exec --server ----

CHILD = r"""
import json, os, sys, time, urllib.request, urllib.error
uri = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
tok = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
out = {"env": {k: v for k, v in os.environ.items() if k.startswith("AWS_")}}
def get(url, token):
    req = urllib.request.Request(url, headers={"Authorization": token} if token else {})
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
out["first"] = get(uri, tok)
out["wrong"] = get(uri, "0" * 64)[0]
out["missing"] = get(uri, None)[0]
out["other_path"] = get(uri.rsplit("/", 1)[0] + "/nope", tok)[0]
open(sys.argv[1] + ".ready", "w").close()
while not os.path.exists(sys.argv[1] + ".go"):
    time.sleep(0.05)
out["second"] = get(uri, tok)
import boto3
s = boto3.Session()
out["arn"] = s.client("sts", endpoint_url=sys.argv[2], region_name="us-east-1").get_caller_identity()["Arn"]
json.dump(out, open(sys.argv[1], "w"))
sys.exit(7)
"""


def wait_for(path, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise AssertionError("exited early: %r" % (proc.communicate(),))
        assert time.monotonic() < deadline, "timed out waiting for %s" % path
        time.sleep(0.05)


@pytest.mark.skipif(not have_boto3(), reason="python3-boto3 is not installed")
def test_exec_server_serves_fresh_credentials(aws, tmp_path):
    result = tmp_path / "result.json"
    e = dict(aws.env, **stale(), AWS_ACCESS_KEY_ID="stale", AWS_SECRET_ACCESS_KEY="stale",
             AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="/stale")
    proc = subprocess.Popen(
        [OKTACRED, "exec", "aws-dev", "--server", "--", "/usr/bin/python3", "-c", CHILD,
         str(result), aws.sts.base], env=e, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_for(str(result) + ".ready", proc)
        # time passes: the first credentials expire, at STS and in the cache
        expire_cached(aws)
        aws.sts.expire(all=True)
        (tmp_path / "result.json.go").touch()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 7, err
    r = json.loads(result.read_text())
    env_seen = r["env"]
    for k in KEY_VARS + ["AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]:
        assert k not in env_seen, k
    assert env_seen["AWS_CONTAINER_CREDENTIALS_FULL_URI"].startswith("http://127.0.0.1:")
    assert len(env_seen["AWS_CONTAINER_AUTHORIZATION_TOKEN"]) == 64
    assert env_seen["AWS_REGION"] == "us-east-1"
    status, first = r["first"]
    assert status == 200 and set(first) == {"AccessKeyId", "SecretAccessKey", "Token",
                                            "Expiration", "AccountId"}
    assert first["AccountId"] == ACCOUNT
    assert r["wrong"] == 403 and r["missing"] == 403 and r["other_path"] == 404
    status, second = r["second"]
    assert status == 200 and second["AccessKeyId"] != first["AccessKeyId"]
    assert r["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/Dev/alice@example.com"
    assert out == b""
    assert env_seen["AWS_CONTAINER_AUTHORIZATION_TOKEN"].encode() not in err


def test_exec_server_passes_the_status(aws):
    r = aws.run("exec", "--server", "aws-dev", "--", "sh", "-c", "exit 9")
    assert r.returncode == 9, r.stderr
    r = aws.run("exec", "--server", "aws-dev", "--", "no-such-command-okc")
    assert r.returncode == 127 and "command not found" in r.stderr


def test_exec_server_child_killed_by_a_signal(aws):
    r = aws.run("exec", "--server", "aws-dev", "--", "sh", "-c", "kill -TERM $$")
    assert r.returncode == 128 + signal.SIGTERM


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGUSR1, signal.SIGHUP])
def test_exec_server_forwards_signals(aws, tmp_path, sig):
    ready = tmp_path / "ready"
    child = textwrap.dedent(f"""
        import os, signal, sys, time
        signal.signal({int(sig)}, lambda *a: sys.exit(40 + {int(sig)}))
        open({str(ready)!r}, "w").close()
        time.sleep(60)
        sys.exit(1)
    """)
    proc = aws.start("exec", "--server", "aws-dev", "--", "/usr/bin/python3", "-c", child)
    try:
        wait_for(str(ready), proc)
        os.kill(proc.pid, sig)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 40 + int(sig)


def test_exec_server_forwarded_term_kills_a_plain_child(aws, tmp_path):
    ready = tmp_path / "ready"
    proc = aws.start("exec", "--server", "aws-dev", "--", "sh", "-c",
                     f'touch "{ready}"; exec sleep 60')
    try:
        wait_for(str(ready), proc)
        time.sleep(0.2)  # sh has exec'd sleep
        os.kill(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM


def test_exec_server_logged_out_exits_3_before_running(env, sts, tmp_path):
    env.write_config(aws_config(env, sts))
    marker = tmp_path / "ran"
    r = env.run("exec", "--server", "aws-dev", "--", "touch", str(marker))
    assert r.returncode == 3
    assert not marker.exists()


def test_exec_server_survives_a_slow_client(aws, tmp_path):
    """Connections that send nothing, or half a request, keep no one waiting: the child's
    request is answered while they are still open (not after the server gave up on them),
    and the half request is answered when its end arrives."""
    assert process(aws).returncode == 0  # cached: the answer needs no STS call
    child = textwrap.dedent(r"""
        import os, socket, urllib.request
        uri = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        tok = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
        host, port = uri.split("/")[2].split(":")
        path = "/" + uri.split("/", 3)[3]
        idle = [socket.create_connection((host, int(port))) for _ in range(3)]
        half = socket.create_connection((host, int(port)))
        half.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n" % (path, host)).encode())
        req = urllib.request.Request(uri, headers={"Authorization": tok})
        op = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with op.open(req, timeout=30) as r:
            assert r.status == 200
        for s in idle + [half]:
            s.setblocking(False)
            try:
                s.recv(1)
                raise SystemExit("the server answered or closed a connection still waiting")
            except BlockingIOError:
                pass
        half.setblocking(True)
        half.settimeout(30)
        half.sendall(("Authorization: %s\r\n\r\n" % tok).encode())
        answer = b""
        while True:
            chunk = half.recv(65536)
            if not chunk:
                break
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:40]
        for s in idle + [half]:
            s.close()
    """)
    r = aws.run("exec", "--server", "aws-dev", "--", "/usr/bin/python3", "-c", child)
    assert r.returncode == 0, r.stderr


# The start of a child (of exec --server) that talks to its credential endpoint by hand and
# to the fake STS's controls (argv[1]).
SERVER_CLIENT_PRELUDE = textwrap.dedent(r"""
    import json, os, socket, struct, sys, threading, time, urllib.request
    uri = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
    tok = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
    sts = sys.argv[1]
    host, port = uri.split("/")[2].split(":")
    path = "/" + uri.split("/", 3)[3]
    op = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    def control(method, what, body=None):
        req = urllib.request.Request(sts + "/__test/" + what, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"})
        with op.open(req, timeout=30) as r:
            return json.loads(r.read())
""")


def test_exec_server_reads_a_request_that_arrived_during_a_slow_answer(aws):
    """A connection's 5 s may run out while another request's credentials are fetched (STS
    held for 6 s here); what it sent meanwhile is still read and answered, not refused."""
    aws.sts.settings(credential_ttl_override_s=600)  # below 20 min left: each request renews
    child = SERVER_CLIENT_PRELUDE + textwrap.dedent(r"""
        def ask(s):
            s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\n\r\n"
                       % (path, host, tok)).encode())
            answer = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return answer
                answer += chunk
        a = socket.create_connection((host, int(port)))
        a.settimeout(60)
        control("POST", "reset")
        control("POST", "settings", {"response_delay_ms": 6000})
        b = socket.create_connection((host, int(port)))
        b.settimeout(60)
        got = {}
        t = threading.Thread(target=lambda: got.update(b=ask(b)))
        t.start()
        # Until STS holds B's answer: its status is set as the hold begins.
        deadline = time.monotonic() + 30
        while not [e for e in control("GET", "log")
                   if e["action"] == "AssumeRoleWithWebIdentity" and e["status"]]:
            assert time.monotonic() < deadline, "STS never got the request"
            time.sleep(0.05)
        control("POST", "settings", {"response_delay_ms": 0})
        got["a"] = ask(a)
        t.join()
        assert got["b"].startswith(b"HTTP/1.1 200 "), got["b"][:60]
        assert got["a"].startswith(b"HTTP/1.1 200 "), got["a"][:60]
    """)
    r = aws.run("exec", "--server", "aws-dev", "--", "/usr/bin/python3", "-c", child,
                aws.sts.base, timeout=120)
    assert r.returncode == 0, r.stderr


def test_exec_server_flooded_with_idle_connections_still_answers(aws):
    """More silent connections than it reads at once (32): the oldest are dropped to make
    room, and the child's request is still answered."""
    assert process(aws).returncode == 0
    child = textwrap.dedent(r"""
        import os, socket, urllib.request
        uri = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        host, port = uri.split("/")[2].split(":")
        idle = [socket.create_connection((host, int(port))) for _ in range(40)]
        req = urllib.request.Request(uri, headers={
            "Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]})
        op = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with op.open(req, timeout=30) as r:
            assert r.status == 200
        dropped = 0
        for s in idle:
            s.settimeout(0.001)
            try:
                if s.recv(1) == b"":
                    dropped += 1
            except (socket.timeout, BlockingIOError):
                pass
        assert dropped >= 40 + 1 - 32, dropped
        print(dropped)
    """)
    r = aws.run("exec", "--server", "aws-dev", "--", "/usr/bin/python3", "-c", child)
    assert r.returncode == 0, r.stderr


@not_under("asan", "LeakSanitizer cannot run under strace (ptrace)")
def test_cached_path_reads_one_file_and_makes_no_connection(aws, tmp_path):
    import shutil
    if not shutil.which("strace"):
        pytest.skip("strace is not installed")
    assert process(aws).returncode == 0
    trace = tmp_path / "trace"
    r = subprocess.run(["strace", "-f", "-qq", "-e", "trace=%network,openat,open",
                        "-o", str(trace), OKTACRED, "credential-process", "aws-dev"],
                       env=aws.env, capture_output=True, text=True, timeout=60)
    if r.returncode != 0 and "PTRACE" in r.stderr.upper():
        pytest.skip("ptrace is not permitted here")
    assert r.returncode == 0, r.stderr
    text = trace.read_text()
    assert "socket(" not in text and "connect(" not in text, text
    ours = [line for line in text.splitlines()
            if str(aws.root) in line and "ENOENT" not in line]
    opened = sorted({line.split('"')[1] for line in ours})
    # The config, the credentials, and the session they must belong to (tokens.json).
    assert opened == sorted([str(aws.config), str(creds_path(aws)),
                             str(aws.tokens_path())]), opened


def test_debug_trace_has_no_secret(aws):
    r = process(aws, "aws-dev", "--debug")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    t = aws.tokens()
    assert "AssumeRoleWithWebIdentity" in r.stderr or "sts" in r.stderr.lower()
    for secret in (t["id_token"], t["refresh_token"], t["access_token"],
                   j["SecretAccessKey"], j["SessionToken"]):
        assert secret not in r.stderr
    assert "<redacted>" in r.stderr


def test_elements_in_any_order(aws):
    aws.sts.settings(shuffle_xml=True)
    for _ in range(3):
        r = process(aws)
        assert r.returncode == 0, r.stderr
        expire_cached(aws)


def test_a_token_sts_calls_expired_is_refreshed_once_then_exit_1(aws):
    """Not injected: the fake's clock runs ahead, so every ID token is expired to it."""
    aws.sts.settings(clock_offset_s=2 * 3600)
    aws.idp.reset()
    r = process(aws)
    assert r.returncode == 1, r.stderr
    assert "ExpiredTokenException" in r.stderr and "clock" in r.stderr
    assert [c["error"] for c in assume_calls(aws.sts)] == ["ExpiredTokenException"] * 2
    assert len([e for e in aws.idp.log() if e.get("grant_type") == "refresh_token"]) == 1
    assert r.stdout == ""


def test_exec_server_child_gets_the_callers_umask_and_environment(aws, tmp_path):
    f = tmp_path / "made-by-child"
    e = dict(aws.env, OKTACRED=OKTACRED, MY_VAR="kept")
    r = subprocess.run(["sh", "-c", 'umask 022; "$OKTACRED" exec --server aws-dev -- '
                        'sh -c \'touch "$0" && printf %s "$MY_VAR"\' "$0"', str(f)],
                       env=e, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "kept"
    assert oct(os.stat(f).st_mode & 0o777) == oct(0o644)


# ---- a closed stderr, SIGPIPE ----
# OKTACRED_UNWRAPPED: under OKTACRED_TEST_DEBUG=1 the capturing wrapper would hold oktacred's
# stderr instead of the pipe these tests close.

ASK = r"""
import json, os, sys, urllib.request
try:
    req = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"], headers={
        "Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]})
    op = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with op.open(req, timeout=30) as r:
        answer = "%d %s" % (r.status, " ".join(sorted(json.loads(r.read()))))
except Exception as e:
    answer = repr(e)
open(sys.argv[1], "w").write(answer)
"""


def test_exec_server_outlives_a_closed_stderr(aws, tmp_path):
    """`oktacred -v exec --server ... 2>&1 | head -1`: once the reader of its stderr is
    gone, the line -v logs for each answer fails (EPIPE) instead of killing oktacred with
    SIGPIPE: the child's request is answered and its status is oktacred's, not 141."""
    go, answer = tmp_path / "go", tmp_path / "answer"
    os.mkfifo(go)
    child = 'read x < "$0"; /usr/bin/python3 -c "$1" "$2"; exit 7'
    rfd, w = os.pipe()
    proc = subprocess.Popen(
        [OKTACRED_UNWRAPPED, "-v", "exec", "--server", "aws-dev", "--", "sh", "-c", child,
         str(go), ASK, str(answer)], env=aws.env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=w, start_new_session=True)
    os.close(w)
    try:
        # The line it logs once the child runs, then nobody reads its stderr any more.
        err, deadline = b"", time.monotonic() + 60
        while b"credential server on " not in err:
            assert time.monotonic() < deadline and proc.poll() is None, err
            if select.select([rfd], [], [], 1)[0]:
                chunk = os.read(rfd, 4096)
                assert chunk, err
                err += chunk
        os.close(rfd)
        rfd = None
        with open(go, "w") as f:  # the child asks for credentials now
            f.write("go\n")
        proc.wait(timeout=60)
    finally:
        if rfd is not None:
            os.close(rfd)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 7
    assert answer.read_text() == "200 AccessKeyId AccountId Expiration SecretAccessKey Token"


def test_exec_with_a_closed_stderr_still_runs_the_command(aws, tmp_path):
    """Plain exec has no parent left while CMD runs (execvp), but what -v logs before it
    must not kill oktacred either when stderr is a pipe nobody reads: CMD runs and its
    status is the status."""
    ran = tmp_path / "ran"
    assert process(aws).returncode == 0  # cached: -v logs it
    r, w = os.pipe()
    os.close(r)
    try:
        res = subprocess.run(
            [OKTACRED_UNWRAPPED, "-v", "exec", "aws-dev", "--", "sh", "-c",
             ': > "$0"; exit 7', str(ran)], env=aws.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=w, start_new_session=True, timeout=60)
    finally:
        os.close(w)
    assert res.returncode == 7
    assert ran.exists()


@pytest.mark.parametrize("caller_ignores", [False, True],
                         ids=["caller-default", "caller-ignores"])
@pytest.mark.parametrize("server", [False, True], ids=["exec", "exec_server"])
def test_exec_child_starts_with_sigpipe_default(aws, tmp_path, server, caller_ignores):
    """oktacred ignores SIGPIPE (a closed stderr must not end it), and an ignored signal
    stays ignored across execvp: CMD gets SIGPIPE back at its default, even when whoever
    started oktacred had it ignored, so that `yes | head -1` in it ends `yes`."""
    if caller_ignores and signal.getsignal(signal.SIGPIPE) != signal.SIG_IGN:
        pytest.skip("this Python does not ignore SIGPIPE")
    sigign, yes_status = tmp_path / "sigign", tmp_path / "yes-status"
    child = ('grep "^SigIgn:" /proc/self/status > "$0"; '
             '(yes; echo $? > "$1") | head -n1 > /dev/null; exit 7')
    res = subprocess.run(
        [OKTACRED, "exec", *(["--server"] if server else []), "aws-dev", "--", "sh", "-c",
         child, str(sigign), str(yes_status)], env=aws.env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60, start_new_session=True,
        restore_signals=not caller_ignores)  # False: SIG_IGN as this Python has it
    assert res.returncode == 7, res.stderr
    mask = int(sigign.read_text().split()[1], 16)
    assert not mask & (1 << (signal.SIGPIPE - 1)), "CMD has SIGPIPE ignored"
    assert yes_status.read_text().strip() == str(128 + signal.SIGPIPE)


def test_exec_server_outlives_a_client_gone_before_its_answer(aws):
    """A client that sends its request and resets the connection while its credentials
    are being fetched (STS holds them): the answer goes to a closed socket, which fails
    (EPIPE) without killing the server, and the next request is answered."""
    aws.sts.settings(credential_ttl_override_s=600)  # below 20 min left: a request renews
    child = SERVER_CLIENT_PRELUDE + textwrap.dedent(r"""
        control("POST", "reset")
        control("POST", "settings", {"response_delay_ms": 1500})
        s = socket.create_connection((host, int(port)))
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\n\r\n"
                   % (path, host, tok)).encode())
        s.shutdown(socket.SHUT_WR)
        # Until STS holds this request's credentials: its status is set as the hold begins.
        deadline = time.monotonic() + 30
        while not [e for e in control("GET", "log")
                   if e["action"] == "AssumeRoleWithWebIdentity" and e["status"]]:
            assert time.monotonic() < deadline, "STS never got the request"
            time.sleep(0.05)
        # A reset after our FIN: the server's send fails with EPIPE, SIGPIPE unless
        # MSG_NOSIGNAL or SIGPIPE ignored.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        control("POST", "settings", {"response_delay_ms": 0})
        req = urllib.request.Request(uri, headers={"Authorization": tok})
        with op.open(req, timeout=30) as r:
            assert r.status == 200
        sys.exit(7)
    """)
    r = aws.run("exec", "--server", "aws-dev", "--", "/usr/bin/python3", "-c", child,
                aws.sts.base, timeout=120)
    assert r.returncode == 7, r.stderr


# ---- aws-config: the ~/.aws/config profiles ----

MARKER = "# managed by oktacred aws-config"
FOREIGN = (
    "# my AWS settings\n"
    "[default]\nregion = eu-west-1\noutput = json\n\n"
    "[profile work]\nsso_session = corp\nsso_account_id = 111111111111\n"
    "sso_role_name = ReadOnly\n\n"
    "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
    "sso_region = eu-west-1\n"
    "; the last line has no newline\n"
    "[profile legacy]\naws_access_key_id = AKIAEXAMPLE"
)


def aws_config_file(env, text=None, mode=0o644):
    path = env.home / ".aws" / "config"
    if text is not None:
        path.parent.mkdir(mode=0o755, exist_ok=True)
        path.write_text(text)
        os.chmod(path, mode)
    return path


def aws_config_run(env, *args, path=None):
    path = path or aws_config_file(env)
    return env.run("aws-config", *args, env={"AWS_CONFIG_FILE": str(path)})


def aws_cli(env, profile, path=None):
    """The real AWS CLI with that profile of the AWS config file aws-config wrote."""
    e = aws_cli_env(str(path or aws_config_file(env)), home=str(env.home),
                    extra={"XDG_CONFIG_HOME": str(env.xdg)})
    return subprocess.run([AWS_CLI, "sts", "get-caller-identity", "--profile", profile,
                           "--endpoint-url", env.sts.base, "--output", "json"],
                          env=e, capture_output=True, text=True, timeout=120)


def profiles_of(text):
    """{profile: {key: value}} of an AWS config file, as botocore reads it."""
    import configparser
    cp = configparser.RawConfigParser()
    cp.read_string(text)
    return {s.split(None, 1)[1] if s.startswith("profile ") else s: dict(cp[s])
            for s in cp.sections()}


def test_aws_config_prints_the_profiles(aws):
    r = aws.run("aws-config")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    got = profiles_of(r.stdout)
    assert list(got) == ["aws-dev", "aws-mapped", "aws-mapped-Admin", "aws-mapped-Dev"]
    exe = shlex_split(got["aws-dev"]["credential_process"])[0]
    assert os.path.isabs(exe) and os.access(exe, os.X_OK)
    assert shlex_split(got["aws-dev"]["credential_process"])[1:] == [
        "credential-process", "aws-dev"]
    assert got["aws-dev"]["region"] == "us-east-1"
    assert shlex_split(got["aws-mapped"]["credential_process"])[1:] == [
        "credential-process", "aws-mapped"]
    assert shlex_split(got["aws-mapped-Admin"]["credential_process"])[1:] == [
        "credential-process", "aws-mapped", "--role", "Admin"]
    assert shlex_split(got["aws-mapped-Dev"]["credential_process"])[1:] == [
        "credential-process", "aws-mapped", "--role", "Dev"]
    for block in r.stdout.split("\n\n"):
        assert block.splitlines()[1].startswith(MARKER), block
    # named identities only; an identity of another kind is a usage error
    r = aws.run("aws-config", "aws-dev")
    assert r.returncode == 0 and list(profiles_of(r.stdout)) == ["aws-dev"]
    r = aws.run("aws-config", "okta-admin")
    assert r.returncode == 2 and r.stdout == ""
    assert "not an aws/assume-role identity" in r.stderr
    # --force is for --write
    assert aws.run("aws-config", "--force").returncode == 2


def shlex_split(s):
    import shlex
    return shlex.split(s)


def test_aws_config_with_another_config_file_passes_it_on(aws, tmp_path):
    other = tmp_path / "other.ini"
    other.write_text(aws.config.read_text())
    os.chmod(other, 0o600)
    r = aws.run("--config", str(other), "aws-config", "aws-dev")
    assert r.returncode == 0, r.stderr
    words = shlex_split(profiles_of(r.stdout)["aws-dev"]["credential_process"])
    assert words[1:] == ["--config", str(other), "credential-process", "aws-dev"]


@pytest.mark.skipif(not os.path.exists(AWS_CLI), reason="/usr/bin/aws is not installed")
def test_aws_config_write_keeps_the_file_and_the_aws_cli_uses_it(aws):
    path = aws_config_file(aws, FOREIGN)
    r = aws_config_run(aws, "--write")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    text = path.read_text()
    # every byte that was there is there, the new profiles after it
    assert text.startswith(FOREIGN + "\n\n[profile aws-dev]\n"), text
    assert list(profiles_of(text)) == ["default", "work", "sso-session corp", "legacy",
                                       "aws-dev", "aws-mapped", "aws-mapped-Admin",
                                       "aws-mapped-Dev"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644, "the file's mode is kept"
    backup = path.parent / "config.oktacred-bak"
    assert backup.read_text() == FOREIGN
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    assert str(backup) in r.stderr
    # again: nothing to change, nothing written
    before = os.stat(path)
    r = aws_config_run(aws, "--write")
    assert r.returncode == 0, r.stderr
    assert "up to date" in r.stderr
    assert path.read_text() == text
    assert os.stat(path).st_ino == before.st_ino
    # the AWS CLI runs the profile it wrote
    r = aws_cli(aws, "aws-dev")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["Arn"] == \
        f"arn:aws:sts::{ACCOUNT}:assumed-role/Dev/alice@example.com"


@pytest.mark.skipif(not os.path.exists(AWS_CLI), reason="/usr/bin/aws is not installed")
def test_aws_config_role_map_has_a_profile_per_role(aws):
    login_as(aws, "bob")  # AWS-Admins and AWS-Dev: two roles
    path = aws_config_file(aws, "")
    assert aws_config_run(aws, "--write").returncode == 0
    for profile, role in (("aws-mapped-Admin", "Admin"), ("aws-mapped-Dev", "Dev")):
        r = aws_cli(aws, profile)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["Arn"] == \
            f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/bob@example.com"
    # the identity's own profile needs a choice: none without default_role
    r = aws_cli(aws, "aws-mapped")
    assert r.returncode != 0 and "several roles match" in r.stderr
    # with default_role, that one; the file aws-config wrote is the same
    aws.write_config(aws.config.read_text() + "default_role = aws-admins\n")
    r = aws_cli(aws, "aws-mapped")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["Arn"] == \
        f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/bob@example.com"
    text = path.read_text()
    assert "up to date" in aws_config_run(aws, "--write").stderr
    assert path.read_text() == text


def test_aws_config_leaves_a_profile_of_the_users_unless_forced(aws):
    mine = ("[profile aws-dev]\ncredential_process = /opt/other-tool aws-dev\n"
            "output = table\n\n[profile work]\nregion = eu-west-1\n")
    path = aws_config_file(aws, mine, mode=0o600)
    r = aws_config_run(aws, "--write")
    assert r.returncode == 1
    assert "profile aws-dev is not managed by oktacred" in r.stderr
    assert "--force" in r.stderr
    assert path.read_text() == mine
    assert not (path.parent / "config.oktacred-bak").exists()
    r = aws_config_run(aws, "--write", "--force", "aws-dev")
    assert r.returncode == 0, r.stderr
    got = profiles_of(path.read_text())
    assert got["aws-dev"]["output"] == "table", "the user's other settings are kept"
    assert "credential-process aws-dev" in got["aws-dev"]["credential_process"]
    assert got["work"] == {"region": "eu-west-1"}
    assert path.read_text().endswith("[profile work]\nregion = eu-west-1\n")
    # now it is oktacred's: no --force needed
    assert aws_config_run(aws, "--write", "aws-dev").returncode == 0


def test_aws_config_makes_the_directory(aws):
    path = aws.home / "new" / "dir" / "config"
    r = aws_config_run(aws, "--write", "aws-dev", path=path)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert list(profiles_of(path.read_text())) == ["aws-dev"]


@not_under("valgrind", "the binary itself must be linked from a path with a space")
@pytest.mark.skipif(not os.path.exists(AWS_CLI), reason="/usr/bin/aws is not installed")
def test_aws_config_quotes_a_path_the_aws_cli_splits_back(aws, tmp_path):
    """oktacred found through PATH in a directory whose name has a space and a quote: the
    profile names that path (not the file the link points to), quoted so that botocore's
    shlex.split gives it back."""
    real = os.environ.get("OKTACRED_BIN") or os.path.join(ROOT, "oktacred")
    bindir = tmp_path / "my tools" / "it's"
    bindir.mkdir(parents=True)
    (bindir / "oktacred").symlink_to(real)
    e = dict(aws.env, PATH=f"{bindir}:/usr/bin:/bin")
    r = subprocess.run(["oktacred", "aws-config", "aws-dev"], env=e, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    line = profiles_of(r.stdout)["aws-dev"]["credential_process"]
    assert shlex_split(line) == [str(bindir / "oktacred"), "credential-process", "aws-dev"]
    path = aws_config_file(aws)
    path.parent.mkdir(exist_ok=True)
    path.write_text(r.stdout)
    r = aws_cli(aws, "aws-dev")
    assert r.returncode == 0, r.stderr


def test_default_role_is_checked_against_role_map(env, sts):
    env.write_config(aws_config(env, sts) + "default_role = nobody\n")
    r = env.run("config", "validate")
    assert r.returncode == 2
    assert "default_role \"nobody\" names no role of role_map" in r.stderr
    env.write_config(aws_config(env, sts, extra_dev="default_role = Dev\n"))
    r = env.run("config", "validate")
    assert r.returncode == 2 and "default_role is for role_map" in r.stderr


def test_a_role_chosen_on_the_terminal_is_remembered(aws):
    """With several roles and a terminal, env asks which one, then offers to write it as
    default_role; after that credential-process (no terminal) uses it."""

    login_as(aws, "bob")
    before = aws.config.read_text()
    # Not the capturing wrapper of OKTACRED_TEST_DEBUG=1: its stderr is a pipe.
    status, out, tty, _ = run_on_a_terminal(
        aws, [OKTACRED_UNWRAPPED, "env", "aws-mapped"], user=None, err_file=False,
        answers=[(rb"Choose a role \[1-2\]: ", b"1\n"), (rb"\[y/N\] ", b"y\n")])
    assert status == 0, tty
    assert "AWS_ACCESS_KEY_ID" in out
    # the first role offered is Admin (role_map's order)
    assert before + f"default_role = {ADMIN}\n" == aws.config.read_text()
    assert stat.S_IMODE(os.stat(aws.config).st_mode) == 0o600
    aws.sts.reset()
    r = process(aws, "aws-mapped")
    assert r.returncode == 0, r.stderr
    assert assume_calls(aws.sts) == [], "the credentials env got are the default role's"
