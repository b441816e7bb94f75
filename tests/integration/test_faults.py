"""A bad network, a misbehaving identity provider or STS (issue 7, part 3).

Each fault meets `oktacred token` with an expired access token (a refresh), or a login, a
service account, or `credential-process` (AWS STS). Each gives one clear line, the documented exit code (4: the identity
provider unreachable or failing after retries) and leaves the cache as it was; transient
faults are retried and then succeed. Waits the protocol asks for (Retry-After,
X-Rate-Limit-Reset) are checked as lower bounds from the provider's own request log, with
a generous upper bound."""
import email.utils
import json
import os
import time

import pytest

from checks import (assert_one_clear_line, assert_says_once, real_session, session_json,
                    snapshot, without_lock, write_session)
from conftest import CLIENT_ID, SANITIZER
from harness import generate_key, jwk_from_pem
from tlsserver import Answer, CannedServer, SilentListener, closed_port, make_certs

try:  # the AWS side (tests/sts): its fixtures, for the STS faults at the end
    from test_aws import _reset_sts, aws, aws_config, creds_path, sts  # noqa: F401
    HAVE_AWS = True
except Exception:  # tests/sts missing or broken: those tests skip
    HAVE_AWS = False
need_aws = pytest.mark.skipif(not HAVE_AWS, reason="the AWS test harness (tests/sts) is not there")

TOKEN = "/oauth2/default/v1/token"
DEVICE = "/oauth2/default/v1/device/authorize"


def token_requests(idp):
    return [e for e in idp.log() if e["path"] == TOKEN]


def refreshes(idp):
    return [e for e in token_requests(idp) if e["grant_type"] == "refresh_token"]


@pytest.fixture
def session(env):
    """A real, refreshable session whose access token has expired."""
    real_session(env)
    env.idp.reset()
    return env


def refresh_fails(env, *needles, args=("token",), hint=None, timeout=60):
    """Runs a command that must refresh, expects the failure contract, and that the cache
    is exactly as it was. Returns (result, seconds)."""
    before = snapshot(env.root)
    t0 = time.monotonic()
    r = env.run(*args, timeout=timeout)
    took = time.monotonic() - t0
    assert r.returncode == 4, r.stderr
    assert_one_clear_line(r, *needles, hint=hint)
    assert without_lock(snapshot(env.root)) == without_lock(before), "the cache changed"
    return r, took


def refresh_succeeds(env):
    old = env.tokens()
    r = env.run("token")
    assert r.returncode == 0, r.stderr
    new = env.tokens()
    assert r.stdout == new["access_token"] + "\n"
    assert new["access_token"] != old["access_token"]
    assert new["refresh_token"] != old["refresh_token"]
    assert r.stderr == ""
    assert sorted(os.listdir(env.provider_dir())) == [".lock", "jwks.json", "tokens.json"]
    return r


# -- 5xx: retried, then success; or exit 4 after the retries ---------------------------

@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_then_success(session, status):
    env = session
    env.idp.fault(path=TOKEN, status=status, count=2)
    refresh_succeeds(env)
    log = refreshes(env.idp)
    assert [e["status"] for e in log] == [status, status, 200]
    assert [e["processed"] for e in log] == [False, False, True]


@pytest.mark.parametrize("status", [500, 503])  # 502: test_html_502_from_a_proxy...
def test_server_errors_every_time_exit_4_after_four_attempts(session, status):
    env = session
    env.idp.fault(path=TOKEN, status=status, count=10)
    _, took = refresh_fails(env, "HTTP %d" % status, "4 attempts")
    assert [e["status"] for e in refreshes(env.idp)] == [status] * 4
    # Backoff with full jitter from 500 ms: at most 0.5 + 1 + 2 s of waiting.
    assert took < 15


# -- 429: waits for what the server says, then succeeds ---------------------------------

def test_429_retry_after_is_waited_for(session):
    env = session
    env.idp.fault(path=TOKEN, status=429, headers={"Retry-After": "2"},
                  body={"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit"})
    refresh_succeeds(env)
    first, second = refreshes(env.idp)
    assert first["status"] == 429 and second["status"] == 200
    gap = second["t"] - first["t"]
    assert 2.0 <= gap < 30, gap


def test_429_retry_after_as_http_date(session):
    env = session
    # An HTTP date, relative to the server's Date header (here: a server clock an hour
    # behind ours, so our own clock would say "long past, go now").
    server_now = int(time.time()) - 3600
    env.idp.fault(path=TOKEN, status=429, headers={
        "Date": email.utils.formatdate(server_now, usegmt=True),
        "Retry-After": email.utils.formatdate(server_now + 3, usegmt=True)})
    refresh_succeeds(env)
    first, second = refreshes(env.idp)
    assert 3.0 <= second["t"] - first["t"] < 30


def test_429_x_rate_limit_reset_is_relative_to_the_servers_date(session):
    """Okta's SDKs wait Reset - Date (the server's clock). A server clock an hour behind:
    by our clock the reset is long past, by the server's it is 2 s away."""
    env = session
    server_now = int(time.time()) - 3600
    env.idp.fault(path=TOKEN, status=429, headers={
        "Date": email.utils.formatdate(server_now, usegmt=True),
        "X-Rate-Limit-Limit": "4", "X-Rate-Limit-Remaining": "0",
        "X-Rate-Limit-Reset": str(server_now + 2)},
        body={"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit"})
    refresh_succeeds(env)
    first, second = refreshes(env.idp)
    assert 2.0 <= second["t"] - first["t"] < 30


def test_real_rate_limit_window_is_waited_out(session):
    """The provider's own limiter (1 request per 3 s window): the window is used up by
    another client, oktacred's refresh gets 429 and retries once the window resets."""
    env = session
    # The window must outlast oktacred's start-up, which valgrind stretches to seconds
    # on a busy machine: else the refresh arrives after the reset and is never refused.
    env.idp.settings(rate_limit={"limit": 1, "window_s": 20 if SANITIZER == "valgrind" else 3})
    status, _, headers = env.idp.post_form(env.idp.endpoint("default", "token"),
                                           {"grant_type": "client_credentials"})
    reset = int(headers["X-Rate-Limit-Reset"])
    refresh_succeeds(env)
    log = refreshes(env.idp)
    assert [e["status"] for e in log] == [429, 200], log
    assert log[0]["rate_limited"] and log[1]["processed"]
    # Never before the reset the server announced; well within a bound.
    assert reset - 0.001 <= log[1]["t"] < reset + 30


def test_429_every_time_exit_4(session):
    env = session
    env.idp.fault(path=TOKEN, status=429, count=10, headers={"Retry-After": "1"})
    _, took = refresh_fails(env, "rate limit", "HTTP 429")
    log = refreshes(env.idp)
    assert len(log) == 4
    gaps = [b["t"] - a["t"] for a, b in zip(log, log[1:])]
    assert all(g >= 1.0 for g in gaps), gaps
    assert took < 30


# -- answers that are not what a token endpoint says -----------------------------------

def test_malformed_json_exit_4(session):
    env = session
    env.idp.fault(path=TOKEN, status=200, body='{"access_token": "abc", "token_type": ')
    refresh_fails(env, "not a JSON object")
    assert len(refreshes(env.idp)) == 1, "a 200 is not retried"


BAD_ANSWERS = {
    "access_token number": ({"access_token": 12345, "token_type": "Bearer"}, "access_token"),
    "access_token list": ({"access_token": ["a"], "token_type": "Bearer"}, "access_token"),
    "access_token empty": ({"access_token": "", "token_type": "Bearer"}, "access_token"),
    "access_token control": ({"access_token": "ab\u001b[31mcd"}, "access_token"),
    "access_token missing": ({"token_type": "Bearer", "expires_in": 3600}, "access_token"),
    "expires_in string": ({"access_token": "a" * 40, "expires_in": "3600"}, "expires_in"),
    "expires_in negative": ({"access_token": "a" * 40, "expires_in": -5}, "expires_in"),
    "expires_in huge": ({"access_token": "a" * 40, "expires_in": 1e300}, "expires_in"),
    "refresh_token object": ({"access_token": "a" * 40, "refresh_token": {"x": 1}},
                             "refresh_token"),
    "id_token number": ({"access_token": "a" * 40, "id_token": 5}, "id_token"),
    "token_type bool": ({"access_token": "a" * 40, "token_type": True}, "token_type"),
    "scope number": ({"access_token": "a" * 40, "scope": 7}, "scope"),
    "empty object": ({}, "access_token"),
    "array": ([{"access_token": "a" * 40}], "unexpected answer"),
    "string": ("\"access_token\"", "unexpected answer"),
    "null": ("null", "unexpected answer"),
    "nul byte": ('{"access_token": "ab\\u0000cd"}', "NUL character"),
}


@pytest.mark.parametrize("case", sorted(BAD_ANSWERS))
def test_wrong_types_or_missing_fields_exit_4(session, case):
    env = session
    body, needle = BAD_ANSWERS[case]
    if not isinstance(body, str):
        body = json.dumps(body)
    env.idp.fault(path=TOKEN, status=200, body=body, headers={"Content-Type": "application/json"})
    refresh_fails(env, needle)


def test_an_error_that_echoes_the_refresh_token_is_printed_redacted(session):
    """A server's error_description is printed; the secret it echoes is not."""
    env = session
    rt = env.tokens()["refresh_token"]
    before = snapshot(env.root)
    env.idp.fault(path=TOKEN, status=401, headers={"Content-Type": "application/json"},
                  body=json.dumps({"error": "invalid_client",
                                   "error_description": "client may not use %s here" % rt}))
    r = env.run("token")
    assert r.returncode == 1, r.stderr
    assert_one_clear_line(r, "invalid_client", "client may not use <redacted> here")
    assert rt not in r.stderr
    assert without_lock(snapshot(env.root)) == without_lock(before)


def test_an_okta_error_that_echoes_the_refresh_token_is_printed_redacted(session):
    """Okta's own error body (errorCode, errorSummary) is a refusal like an OAuth error:
    exit 1 with its summary and code; the secret it echoes is not printed."""
    env = session
    rt = env.tokens()["refresh_token"]
    before = snapshot(env.root)
    env.idp.fault(path=TOKEN, status=403, headers={"Content-Type": "application/json"},
                  body=json.dumps({"errorCode": "E0000001", "errorSummary": "cannot use %s" % rt}))
    r = env.run("token")
    assert r.returncode == 1, r.stderr
    assert_one_clear_line(r, "E0000001", "cannot use <redacted>")
    assert rt not in r.stderr and rt[:20] not in r.stderr
    assert without_lock(snapshot(env.root)) == without_lock(before)


@pytest.mark.parametrize("body", [
    '{"error": "invalid_request", "error_description": "bad %s"} trailing',
])
def test_an_unexpected_answer_that_echoes_the_refresh_token_is_quoted_redacted(session, body):
    env = session
    rt = env.tokens()["refresh_token"]
    env.idp.fault(path=TOKEN, status=403, headers={"Content-Type": "application/json"},
                  body=body % rt)
    r, _ = refresh_fails(env, "HTTP 403", "<redacted>")
    assert rt not in r.stderr and rt[:20] not in r.stderr


@pytest.mark.parametrize("status", [200, 400, 403])
def test_html_error_page_exit_4(session, status):
    env = session
    page = ("<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n"
            "<body>\x1b[2J\x1b]0;pwned\x07<h1>Down for maintenance</h1></body></html>")
    env.idp.fault(path=TOKEN, status=status, body=page,
                  headers={"Content-Type": "text/html; charset=utf-8"})
    line = refresh_fails(env, "HTTP %d" % status, "text/html")[0].stderr
    assert "<!DOCTYPE html>" in line, "an excerpt of what came back"


def test_html_502_from_a_proxy_is_retried_then_exit_4(session):
    env = session
    env.idp.fault(path=TOKEN, status=502, count=10, body="<html><body>Bad Gateway</body></html>",
                  headers={"Content-Type": "text/html"})
    refresh_fails(env, "HTTP 502")
    assert len(refreshes(env.idp)) == 4


# -- size, silence, refusal -------------------------------------------------------------

def canned_config(env, url, extra=""):
    env.write_config(env.config.read_text().replace(env.idp.base, url).replace(
        "authorization_server = default\n", "authorization_server = default\n" + extra))
    write_session(env, session_json(env, org_url=url))


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_10_mib_body_is_refused(env, chunked):
    with CannedServer() as srv:
        canned_config(env, srv.url)
        srv.answers.append(Answer(200, body=10 << 20, chunked=chunked))
        _, took = refresh_fails(env, "larger than 1048576 bytes")
        assert len(srv.posts()) == 1, "an oversized answer is not asked for again"
    assert took < 10


def test_endless_header_is_refused(env):
    with CannedServer() as srv:
        canned_config(env, srv.url)
        for _ in range(4):
            srv.answers.append(Answer(200, endless_header=True))
        _, took = refresh_fails(env, "127.0.0.1:%d" % srv.port, "header")
        assert len(srv.posts()) == 1, "not asked again"
    assert took < 15


def test_server_that_never_answers_times_out(session):
    """Accepts, reads the request, never answers: each attempt ends at the provider's
    `timeout` (1 s here), four attempts, exit 4."""
    env = session
    env.write_config(extra="timeout = 1s\n")
    env.idp.fault(path=TOKEN, hang=True, count=10)
    _, took = refresh_fails(env, "timeout")
    log = refreshes(env.idp)
    assert len(log) == 4 and all(e["hang"] for e in log)
    assert 4.0 <= took < 15


def test_one_hang_then_success(session):
    env = session
    env.write_config(extra="timeout = 1s\n")
    env.idp.fault(path=TOKEN, hang=True, count=1)
    refresh_succeeds(env)
    log = refreshes(env.idp)
    assert [e["hang"] for e in log] == [True, False]
    assert log[1]["t"] - log[0]["t"] >= 1.0


def test_connected_but_silent_listener_times_out(env):
    with SilentListener() as lsn:
        canned_config(env, lsn.url, extra="timeout = 1s\n")
        _, took = refresh_fails(env, "cannot reach 127.0.0.1:%d" % lsn.port, "timeout")
    assert 4.0 <= took < 15


def test_connection_refused(env):
    port = closed_port()
    url = "http://127.0.0.1:%d" % port
    canned_config(env, url)
    _, took = refresh_fails(env, "cannot reach 127.0.0.1:%d" % port)
    assert took < 10


def test_timeout_must_be_a_sane_duration(env):
    for bad in ("0s", "11m", "soon"):
        env.write_config(extra="timeout = %s\n" % bad)
        r = env.run("config", "validate")
        assert r.returncode == 2, (bad, r.stderr)
        assert "timeout" in r.stderr and "config:" in r.stderr


# -- TLS ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("certs"))


def test_untrusted_certificate_is_rejected(env, certs):
    with CannedServer(tls=(certs.leaf, certs.leaf_key)) as srv:
        canned_config(env, srv.url)
        refresh_fails(env, "cannot reach 127.0.0.1:%d" % srv.port, "certificate",
                      hint="ca_bundle")
        assert srv.posts() == [], "no request goes to a server we cannot trust"


def test_untrusted_certificate_is_accepted_with_ca_bundle(env, certs):
    with CannedServer(tls=(certs.leaf, certs.leaf_key)) as srv:
        canned_config(env, srv.url, extra="ca_bundle = %s\n" % certs.ca)
        r = env.run("token")
        assert r.returncode == 0, r.stderr
        [(method, path, headers, body)] = srv.posts()
        assert path == TOKEN and b"grant_type=refresh_token" in body
        got = env.tokens()
        assert r.stdout == got["access_token"] + "\n"
        assert got["access_token"].startswith("canned-access-token-")
        assert got["refresh_token"].startswith("canned-refresh-token-")


@pytest.mark.parametrize("which", ["wrong_host", "self_signed"])
def test_bad_certificates_are_rejected_even_with_ca_bundle(env, certs, which):
    cert, key = {"wrong_host": (certs.wrong_host, certs.wrong_host_key),
                 "self_signed": (certs.self_signed, certs.self_signed_key)}[which]
    with CannedServer(tls=(cert, key)) as srv:
        canned_config(env, srv.url, extra="ca_bundle = %s\n" % certs.ca)
        refresh_fails(env, "cannot reach 127.0.0.1:%d" % srv.port)
        assert srv.posts() == []


def test_missing_ca_bundle_file(env, certs, tmp_path):
    with CannedServer(tls=(certs.leaf, certs.leaf_key)) as srv:
        canned_config(env, srv.url, extra="ca_bundle = %s\n" % (tmp_path / "nope.pem"))
        refresh_fails(env, "nope.pem")
        assert srv.posts() == []


# -- the login and the service account meet the same faults -----------------------------

def test_login_device_authorize_failing_exit_4_and_writes_nothing(env):
    env.idp.fault(path=DEVICE, status=503, count=10)
    before = snapshot(env.root)
    r = env.run("login", "--no-browser")
    assert r.returncode == 4, r.stderr
    assert_one_clear_line(r, "HTTP 503", "4 attempts")
    assert without_lock(snapshot(env.root)) == without_lock(before)


BAD_DEVICE_ANSWERS = {
    "no device_code": ({"user_code": "ABCD-EFGH", "verification_uri": "https://x/activate"},
                       "device_code"),
    "user_code with escapes": ({"device_code": "d" * 43, "user_code": "AB\u001b[2J",
                                "verification_uri": "https://x/activate"}, "user_code"),
    "javascript uri": ({"device_code": "d" * 43, "user_code": "ABCD-EFGH",
                        "verification_uri": "javascript:alert(1)"}, "verification_uri"),
    "interval string": ({"device_code": "d" * 43, "user_code": "ABCD-EFGH",
                         "verification_uri": "https://x/activate", "interval": "5"}, "interval"),
    "expires_in zero": ({"device_code": "d" * 43, "user_code": "ABCD-EFGH",
                         "verification_uri": "https://x/activate", "expires_in": 0},
                        "expires_in"),
    "not an object": ("[1, 2, 3]", "unexpected answer"),
    # A NUL would cut the device code short; what follows one object is not ignored.
    "device_code with NUL": ('{"device_code": "dd\\u0000dd", "user_code": "ABCD-EFGH", '
                             '"verification_uri": "https://x/activate"}', "NUL character"),
    "trailing garbage": ('{"device_code": "dddd", "user_code": "ABCD-EFGH", '
                         '"verification_uri": "https://x/activate"} {"x": 1}', "one JSON object"),
    # It would go to xdg-open: a file or another scheme's handler is not a web page.
    "file uri complete": ({"device_code": "d" * 43, "user_code": "ABCD-EFGH",
                           "verification_uri": "https://x/activate",
                           "verification_uri_complete": "file:///etc/passwd"},
                          "verification_uri_complete"),
    "handler uri complete": ({"device_code": "d" * 43, "user_code": "ABCD-EFGH",
                              "verification_uri": "https://x/activate",
                              "verification_uri_complete": "ms-settings:network"},
                             "verification_uri_complete"),
}


@pytest.mark.parametrize("case", sorted(BAD_DEVICE_ANSWERS))
def test_login_bad_device_answer_exit_4(env, case):
    body, needle = BAD_DEVICE_ANSWERS[case]
    env.idp.fault(path=DEVICE, status=200, body=body if isinstance(body, str) else json.dumps(body))
    before = snapshot(env.root)
    r = env.run("login", "--no-browser")
    assert r.returncode == 4, r.stderr
    assert_one_clear_line(r, needle)
    assert without_lock(snapshot(env.root)) == without_lock(before)


def test_login_survives_transient_poll_errors(env):
    from conftest import do_login
    env.idp.settings(interval=1)
    env.idp.fault(path=TOKEN, status=503, count=2)
    rc, out, err = do_login(env)
    assert rc == 0, err
    assert env.tokens()["refresh_token"]


@pytest.fixture
def robot(env, tmp_path):
    key = tmp_path / "robot.pem"
    generate_key(str(key), "EC")
    env.idp.add_service_client("0oa-robot-faults", jwk_from_pem(str(key), kid="kf"),
                               server="org")
    env.write_config(
        "[provider robot]\nkind = okta/service-account\n"
        f"org_url = {env.idp.base}\nclient_id = 0oa-robot-faults\n"
        f"private_key = {key}\nprivate_key_id = kf\nscopes = okta.users.read\n"
        "authorization_server = org\n")
    return env


def test_service_account_503_then_success(robot):
    env = robot
    env.idp.fault(path="/oauth2/v1/token", status=503, count=1)
    r = env.run("token", "robot")
    assert r.returncode == 0, r.stderr
    log = [e for e in env.idp.log() if e["grant_type"] == "client_credentials"]
    assert [e["status"] for e in log] == [503, 200]


def test_service_account_bad_answer_exit_4_and_no_cache(robot):
    env = robot
    env.idp.fault(path="/oauth2/v1/token", status=200, body='{"access_token": 1}')
    r = env.run("token", "robot")
    assert r.returncode == 4, r.stderr
    assert_one_clear_line(r, "access_token")
    assert not env.tokens_path("robot").exists()


# -- AWS STS: the same faults on the federation side ----------------------------------------


def sts_success_xml():
    exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    return ("""<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>00u-alice</SubjectFromWebIdentityToken>
    <Audience>0oa-test-native</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/Dev/alice@example.com</Arn>
      <AssumedRoleId>AROACANNEDCANNED:alice@example.com</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIACANNEDCANNED0001</AccessKeyId>
      <SecretAccessKey>cannedSecretAccessKey0123456789abcdefghij</SecretAccessKey>
      <SessionToken>cannedSessionToken0123456789abcdefghijklmnopqrstuvwxyz</SessionToken>
      <Expiration>%s</Expiration>
    </Credentials>
    <Provider>canned</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>canned-1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>
""" % exp).encode()


class _At:
    def __init__(self, base):
        self.base = base


def canned_sts(env, url):
    """A live Okta session (unexpired ID token) and the AWS identities pointed at url."""
    env.write_config(aws_config(env, _At(url)))
    real_session(env, expired=False)
    env.idp.reset()


def sts_fails(env, *needles, extra_env=None, hint=None):
    before = snapshot(env.root)
    r = env.run("credential-process", "aws-dev", env=extra_env)
    assert r.returncode == 4, r.stderr
    assert_one_clear_line(r, *needles, hint=hint)
    assert without_lock(snapshot(env.root)) == without_lock(before)
    return r


@need_aws
def test_sts_server_errors_then_success(aws):
    aws.sts.fault(status=503, body="<html>Service Unavailable</html>", content_type="text/html",
                  count=2)
    r = aws.run("credential-process", "aws-dev")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["Version"] == 1


@need_aws
def test_sts_dropped_connection_then_success(aws):
    aws.sts.fault(drop=True, count=1)
    r = aws.run("credential-process", "aws-dev")
    assert r.returncode == 0, r.stderr


@need_aws
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_sts_10_mib_body_is_refused(env, chunked):
    with CannedServer() as srv:
        canned_sts(env, srv.url)
        srv.answers.append(Answer(200, body=10 << 20, chunked=chunked, content_type="text/xml"))
        sts_fails(env, "larger than")
        assert len(srv.posts()) == 1
    assert not creds_path(env).exists()


@need_aws
def test_sts_untrusted_certificate_is_rejected_then_accepted_with_aws_ca_bundle(env, certs):
    with CannedServer(tls=(certs.leaf, certs.leaf_key)) as srv:
        canned_sts(env, srv.url)
        sts_fails(env, "127.0.0.1:%d" % srv.port, "certificate", hint="AWS_CA_BUNDLE")
        assert srv.posts() == []
        srv.answers.append(Answer(200, body=sts_success_xml(), content_type="text/xml"))
        r = env.run("credential-process", "aws-dev", env={"AWS_CA_BUNDLE": certs.ca})
        assert r.returncode == 0, r.stderr
        j = json.loads(r.stdout)
        assert j["AccessKeyId"] == "ASIACANNEDCANNED0001"
        [(_, _, _, body)] = srv.posts()
        assert b"Action=AssumeRoleWithWebIdentity" in body


# -- each layer adds its context once (issue 15, item 10) ---------------------------------

HTML_500 = b"<html><head><title>500 Internal Server Error</title></head><body>oops</body></html>"


def every_caller_at(env, url):
    """A person's provider, a service account and an AWS identity, each reaching url: the
    Okta org of the first two, STS of the third (over a live session of the real
    provider)."""
    env.write_config(aws_config(env, _At(url)) +
                     "\n[provider at-url]\nkind = okta/device-code\n"
                     f"org_url = {url}\nclient_id = {CLIENT_ID}\n"
                     "authorization_server = default\nscopes = openid offline_access\n"
                     "\n[provider robot-at-url]\nkind = okta/service-account\n"
                     f"org_url = {url}\nclient_id = 0oa-robot\nclient_secret = s3cr3t-robot\n"
                     "authorization_server = default\nscopes = robot.read\n")
    os.chmod(env.config, 0o600)
    real_session(env, expired=False)
    env.idp.reset()


SAYS_ONCE_COMMANDS = [("login", "--no-browser", "at-url"), ("token", "robot-at-url"),
                      ("credential-process", "aws-dev")]


@need_aws
@pytest.mark.parametrize("args", SAYS_ONCE_COMMANDS, ids=lambda a: a[0])
def test_an_unreachable_server_is_said_once(env, args):
    """Nothing listens: "cannot reach HOST: why", with no layer saying it again."""
    port = closed_port()
    every_caller_at(env, "http://127.0.0.1:%d" % port)
    r = env.run(*args)
    assert r.returncode == 4, r.stderr
    line = assert_one_clear_line(r, "cannot reach 127.0.0.1:%d" % port)
    assert line.lower().count("cannot reach") == 1
    assert line.lower().count("connect") <= 1, line


@need_aws
@pytest.mark.parametrize("args", SAYS_ONCE_COMMANDS, ids=lambda a: a[0])
def test_an_html_500_is_said_once(env, args):
    with CannedServer() as srv:
        every_caller_at(env, srv.url)
        for _ in range(8):
            srv.answers.append(Answer(500, body=HTML_500, content_type="text/html"))
        r = env.run(*args)
    assert r.returncode == 4, r.stderr
    assert_one_clear_line(r, "127.0.0.1:%d" % srv.port, "500")


def test_config_validate_online_says_each_problem_once(env):
    port = closed_port()
    env.write_config(env.config.read_text().replace(env.idp.base, "http://127.0.0.1:%d" % port))
    r = env.run("config", "validate", "--online")
    assert r.returncode == 4, r.stderr
    assert r.stdout.startswith("okta-oidc: cannot reach 127.0.0.1:%d" % port), r.stdout
    for line in r.stdout.splitlines() + r.stderr.splitlines():
        assert_says_once(line)
