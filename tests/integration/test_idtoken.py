"""ID tokens validated when they arrive (OpenID Connect Core 3.1.3.7), at login and at every
refresh, before they are saved: the signature against the issuer's JWKS (cached next to
tokens.json for its Cache-Control lifetime, fetched again once for an unknown kid), iss,
aud, azp, exp and iat."""
import json
import os
import stat
import time

import pytest

from checks import assert_says_once
from conftest import do_login
from harness import decode_jwt

INVALID = "the identity provider sent an invalid ID token: "

# id_token_fault (tests/idp) -> what oktacred says about it
FAULTS = {
    "foreign_key": "its signature does not verify",
    "unknown_kid": "no RS256 key with kid",
    "wrong_aud": "its audience (aud) does not include the client id 0oa-test-native",
    "wrong_iss": "its issuer is",
    "wrong_azp": "its authorized party (azp) is \"0oa-someone-else\"",
    "expired": "it expired at",
    "future_iat": "it was issued in the future",
    "alg_none": "it is signed with \"none\"",
    "alg_hs256": "it is signed with \"HS256\"",
}


@pytest.fixture(autouse=True)
def _clean_idp(idp):
    """The IdP is shared by the whole session: no fault or rotated key outlives a test."""
    yield
    idp.reset()


def jwks_path(env, name="okta-oidc"):
    return env.provider_dir(name) / "jwks.json"


def header(jwt):
    import base64
    h = jwt.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))


def test_login_fetches_the_jwks_once_and_keeps_it_privately(env):
    env.idp.reset()
    env.idp.settings(interval=1)
    rc, out, err = do_login(env)
    assert rc == 0, err
    [fetch] = env.idp.keys_log()
    assert fetch["path"] == "/oauth2/default/v1/keys" and fetch["status"] == 200
    p = jwks_path(env)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    saved = json.loads(p.read_text())
    assert saved["keys_url"] == env.idp.endpoint("default", "keys")
    kid = header(env.tokens()["id_token"])["kid"]
    assert kid in [k["kid"] for k in saved["jwks"]["keys"]]
    # Its lifetime is the answer's Cache-Control max-age (3600 s by default).
    fetched = time.mktime(time.strptime(saved["fetched_at"], "%Y-%m-%dT%H:%M:%SZ"))
    expires = time.mktime(time.strptime(saved["expires_at"], "%Y-%m-%dT%H:%M:%SZ"))
    assert expires - fetched == 3600
    assert "secret" not in p.read_text() and env.tokens()["id_token"] not in p.read_text()


def test_refreshes_reuse_the_cached_jwks(logged_in):
    env = logged_in
    env.idp.reset()
    for _ in range(3):
        r = env.run("refresh")
        assert r.returncode == 0, r.stderr
    assert len([e for e in env.idp.log() if e["grant_type"] == "refresh_token"]) == 3
    assert env.idp.keys_log() == [], "the JWKS came from jwks.json"


def test_an_uncacheable_jwks_is_fetched_for_every_token(logged_in):
    env = logged_in
    env.idp.reset()
    env.idp.settings(jwks_max_age=0)
    os.unlink(jwks_path(env))
    for _ in range(2):
        r = env.run("refresh")
        assert r.returncode == 0, r.stderr
    assert len(env.idp.keys_log()) == 2
    assert not jwks_path(env).exists()


def test_an_expired_jwks_cache_is_fetched_again(logged_in):
    env = logged_in
    p = jwks_path(env)
    saved = json.loads(p.read_text())
    saved["expires_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    p.write_text(json.dumps(saved))
    env.idp.reset()
    r = env.run("refresh")
    assert r.returncode == 0, r.stderr
    assert len(env.idp.keys_log()) == 1
    assert json.loads(p.read_text())["expires_at"] > saved["expires_at"]


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_a_rotated_key_is_fetched_once(logged_in, alg):
    env = logged_in
    env.idp.reset()
    kid = env.idp.rotate_key("default", alg)
    r = env.run("refresh")
    assert r.returncode == 0, r.stderr
    t = env.tokens()
    assert header(t["id_token"])["kid"] == kid and header(t["id_token"])["alg"] == alg
    assert len(env.idp.keys_log()) == 1, "one refetch for the unknown kid"
    assert kid in [k["kid"] for k in json.loads(jwks_path(env).read_text())["jwks"]["keys"]]
    r = env.run("refresh")
    assert r.returncode == 0, r.stderr
    assert len(env.idp.keys_log()) == 1, "the new key is in the cache now"


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_an_invalid_id_token_at_refresh_is_refused(logged_in, fault):
    env = logged_in
    before = env.tokens_path().read_bytes()
    env.idp.reset()
    env.idp.settings(id_token_fault=fault)
    r = env.run("refresh")
    assert r.returncode == 4, r.stderr
    assert INVALID in r.stderr and FAULTS[fault] in r.stderr, r.stderr
    assert env.tokens_path().read_bytes() == before, "nothing saved"
    [grant] = [e for e in env.idp.log() if e["grant_type"] == "refresh_token"]
    assert grant["status"] == 200
    # The IdP rotated the refresh token away with that answer: the session is over.
    env.idp.reset()
    r = env.run("refresh")
    assert r.returncode == 3 and "run: oktacred login okta-oidc" in r.stderr, r.stderr
    assert [e["error"] for e in env.idp.log()] == ["invalid_grant"]


def test_unknown_kid_refetches_the_jwks_once_then_refuses(logged_in):
    env = logged_in
    env.idp.reset()
    env.idp.settings(id_token_fault="unknown_kid")
    r = env.run("refresh")
    assert r.returncode == 4 and "no RS256 key with kid" in r.stderr, r.stderr
    assert_says_once(r.stderr.splitlines()[0])
    assert len(env.idp.keys_log()) == 1


def test_a_signature_by_a_foreign_key_needs_no_refetch(logged_in):
    env = logged_in
    env.idp.reset()
    env.idp.settings(id_token_fault="foreign_key")
    r = env.run("refresh")
    assert r.returncode == 4 and "its signature does not verify" in r.stderr, r.stderr
    assert_says_once(r.stderr.splitlines()[0])
    assert env.idp.keys_log() == [], "the kid is known: the cached key decides"


def test_an_invalid_id_token_is_not_papered_over_by_an_advisory_refresh(logged_in):
    """A refresh that is due while the token is still valid uses the cached token when the
    provider is slow or away; not when it sent an invalid ID token."""
    env = logged_in
    t = env.tokens()
    now = time.time()
    t["obtained_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3540))
    t["expires_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 60))
    env.tokens_path().write_text(json.dumps(t))
    before = env.tokens_path().read_bytes()
    env.idp.reset()
    env.idp.settings(id_token_fault="wrong_aud")
    r = env.run("token")
    assert r.returncode == 4, r.stderr
    assert INVALID in r.stderr and r.stdout == ""
    assert env.tokens_path().read_bytes() == before


def test_the_cached_path_does_not_revalidate(logged_in):
    env = logged_in
    os.unlink(jwks_path(env))
    env.idp.reset()
    env.idp.settings(id_token_fault="foreign_key")
    r = env.run("token", "--id-token")
    assert r.returncode == 0 and r.stdout.strip() == env.tokens()["id_token"]
    assert env.idp.keys_log() == [] and env.idp.log() == []


@pytest.mark.parametrize("fault", ["foreign_key", "wrong_aud", "wrong_iss", "expired"])
def test_an_invalid_id_token_at_login_is_refused(env, fault):
    env.idp.reset()
    env.idp.settings(interval=1, id_token_fault=fault)
    rc, out, err = do_login(env)
    assert rc == 4, err
    assert INVALID in err and FAULTS[fault] in err, err
    assert "Logged in" not in err
    assert not env.tokens_path().exists()


def test_a_forced_login_with_an_invalid_id_token_keeps_the_session(logged_in):
    env = logged_in
    before = env.tokens_path().read_bytes()
    env.idp.settings(id_token_fault="wrong_iss")
    rc, out, err = do_login(env, "--force")
    assert rc == 4 and INVALID + "its issuer is" in err, err
    assert env.tokens_path().read_bytes() == before


def test_org_server_tokens_validate_against_the_org_issuer(env):
    env.write_config(server="org")
    env.idp.reset()
    env.idp.settings(interval=1)
    rc, out, err = do_login(env)
    assert rc == 0, err
    assert decode_jwt(env.tokens()["id_token"])["iss"] == env.idp.base
    assert [e["path"] for e in env.idp.keys_log()] == ["/oauth2/v1/keys"]
    env.idp.settings(id_token_fault="wrong_iss")
    r = env.run("refresh")
    assert r.returncode == 4 and "its issuer is \"%s/oauth2/default\", not %s" % (
        env.idp.base, env.idp.base) in r.stderr, r.stderr
