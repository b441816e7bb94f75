"""`oktacred login --flow browser|paste` and flow = auto: the authorization code flow with
PKCE, signed in through the identity provider's real login page with a cookie jar, as a
browser would, and sent back to oktacred's loopback listener (or pasted)."""
import json
import os
import re
import signal
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request

import pytest

from approve import sign_in
from conftest import OKTACRED, Login, do_login

URL_RE = re.compile(rb"\n  (http://\S+/v1/authorize\?\S+)\n")


def free_port():
    """A port nothing listens on, on 127.0.0.1 and ::1."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
                s6.bind(("::1", port))
        except OSError as e:
            if e.errno == 98:  # EADDRINUSE: another one
                continue
        return port


@pytest.fixture
def web(env):
    """env with a provider whose Okta app has the authorization code grant and the redirect
    URI http://localhost:PORT/callback registered, PORT free."""
    port = free_port()
    client = env.idp.add_browser_client(port)
    env.port = port
    env.redirect = "http://localhost:%d/callback" % port
    env.client = client
    write_web_config(env)
    return env


def write_web_config(env, flow=None, redirect=None):
    env.write_config(text=(
        "[defaults]\nidentity = okta-admin\n\n"
        "[provider okta-oidc]\nkind = okta/device-code\n"
        f"org_url = {env.idp.base}\nclient_id = {env.client}\n"
        "scopes = openid profile email groups offline_access\n"
        f"redirect_uri = {redirect or env.redirect}\n"
        + (f"flow = {flow}\n" if flow else "")
        + "\n[identity okta-admin]\nkind = okta/api-access\nprovider = okta-oidc\n"))


class BrowserLogin(Login):
    """A running `oktacred login` of the authorization code flow: reads its stderr until
    the authorization URL shows."""

    def __init__(self, env, *args, stdin=subprocess.DEVNULL):
        super().__init__(subprocess.Popen(
            [OKTACRED, "login", "--no-browser", *args], env=dict(env.env), stdin=stdin,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True))
        self.url = None

    def wait_for_url(self, timeout=30):
        if self.url is None:
            self.url = self.wait_for(URL_RE, "the authorization URL", timeout)
        return self.url

    def params(self):
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.url).query))


def open_url(url):
    """GET url as a browser would (no proxy): (status, body)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def with_param(url, **kw):
    parts = urllib.parse.urlsplit(url)
    q = dict(urllib.parse.parse_qsl(parts.query))
    q.update(kw)
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(q)))


def browser_login(env, *args, user="alice"):
    login = BrowserLogin(env, "--flow", "browser", *args)
    try:
        url = login.wait_for_url()
        back = sign_in(url, env.redirect, username=user)
        status, page = open_url(back)
        assert status == 200 and "You may close this page" in page, page
        return login.finish() + (back,)
    finally:
        login.kill()


def test_browser_login_saves_tokens(web):
    rc, out, err, back = browser_login(web)
    assert rc == 0, err
    assert out == "", "login must print nothing on stdout"
    assert "Logged in to okta-oidc (%s/oauth2/default) as alice@example.com" % web.idp.base in err
    t = web.tokens()
    for key in ("access_token", "refresh_token", "id_token"):
        assert isinstance(t[key], str) and t[key]
    assert t["client_id"] == web.client and t["flow"] == "browser"
    # The authorization request: PKCE S256 with a 43-character challenge, state and nonce.
    grants = [e["grant_type"] for e in web.idp.log() if e["endpoint"] == "token"]
    assert grants == ["authorization_code"]
    assert not [e for e in web.idp.log() if e["endpoint"] == "device"]
    # status says how the session was made, and refresh keeps it.
    r = web.run("status")
    assert r.returncode == 0 and "login:    browser flow" in r.stdout, r.stdout
    assert web.run("refresh").returncode == 0
    r = web.run("status", "--json")
    assert json.loads(r.stdout)[0]["flow"] == "browser"


def test_authorization_url_carries_pkce_state_and_nonce(web):
    login = BrowserLogin(web, "--flow", "browser")
    try:
        login.wait_for_url()
        q = login.params()
        assert q["response_type"] == "code" and q["client_id"] == web.client
        assert q["redirect_uri"] == web.redirect
        assert q["code_challenge_method"] == "S256"
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", q["code_challenge"])
        assert len(q["state"]) >= 22 and len(q["nonce"]) >= 22 and q["state"] != q["nonce"]
        assert "offline_access" in q["scope"].split()
    finally:
        login.kill()


def test_wrong_state_is_refused_and_the_login_goes_on(web):
    login = BrowserLogin(web, "--flow", "browser")
    try:
        url = login.wait_for_url()
        back = sign_in(url, web.redirect)
        status, page = open_url(with_param(back, state="forged-state-0123456789"))
        assert status == 400 and "does not belong" in page
        status, page = open_url(with_param(back, state=""))
        assert status == 400
        status, page = open_url(back.split("?")[0] + "/../favicon.ico")
        assert status in (400, 404)
        status, page = open_url(back)
        assert status == 200
        rc, out, err = login.finish()
    finally:
        login.kill()
    assert rc == 0, err
    assert "wrong state" in err
    assert [e["grant_type"] for e in web.idp.log() if e["endpoint"] == "token"] == [
        "authorization_code"], "the forged answers must not reach the token endpoint"


def test_replayed_callback_is_refused(web):
    rc, out, err, back = browser_login(web)
    assert rc == 0, err
    first = web.tokens()["access_token"]
    # The listener is gone once the login has its answer.
    with pytest.raises(urllib.error.URLError):
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(back, timeout=5)
    # A new login does not take the old answer: its state is the old login's.
    login = BrowserLogin(web, "--flow", "browser", "--force")
    try:
        url = login.wait_for_url()
        status, page = open_url(back)
        assert status == 400 and "does not belong" in page
        status, page = open_url(sign_in(url, web.redirect))
        assert status == 200
        rc, out, err = login.finish()
    finally:
        login.kill()
    assert rc == 0, err
    assert web.tokens()["access_token"] != first


def test_access_denied_exits_5(web):
    login = BrowserLogin(web, "--flow", "browser")
    try:
        url = login.wait_for_url()
        back = sign_in(url, web.redirect, deny=True)
        assert "error=access_denied" in back
        status, page = open_url(back)
        assert status == 200 and "denied" in page.lower()
        rc, out, err = login.finish()
    finally:
        login.kill()
    assert rc == 5, err
    assert "login denied at the sign-in page" in err
    assert not web.tokens_path().exists()


def test_auto_takes_the_device_flow_when_it_is_offered(web):
    web.idp.settings(interval=1)
    rc, out, err = do_login(web)
    assert rc == 0, err
    assert "Signing in with the device code (flow = auto)" in err
    assert web.tokens()["flow"] == "device"


def test_auto_falls_back_to_the_browser_when_the_device_grant_is_refused(web):
    web.idp.settings(refuse_device_grant=True)
    login = BrowserLogin(web)
    try:
        url = login.wait_for_url()
        assert "refused the device grant" in login.err.decode()
        status, page = open_url(sign_in(url, web.redirect))
        assert status == 200
        rc, out, err = login.finish()
    finally:
        login.kill()
    assert rc == 0, err
    assert web.tokens()["flow"] == "browser"
    # --flow device says what the server said.
    r = web.run("login", "--force", "--no-browser", "--flow", "device")
    assert r.returncode == 2 and "unauthorized_client" in r.stderr


def test_flow_key_device_never_opens_a_listener(web):
    write_web_config(web, flow="device")
    web.idp.settings(interval=1)
    rc, out, err = do_login(web)
    assert rc == 0, err
    assert "authorize?" not in err and web.tokens()["flow"] == "device"


def test_paste_with_the_redirected_url(web):
    # Nothing listens on the redirect URI: the browser's page fails, the person pastes.
    login = BrowserLogin(web, "--flow", "paste", stdin=subprocess.PIPE)
    try:
        url = login.wait_for_url()
        assert "will not load" in login.err.decode()
        back = sign_in(url, web.redirect)
        with pytest.raises(urllib.error.URLError):
            urllib.request.build_opener(urllib.request.ProxyHandler({})).open(back, timeout=5)
        rc, out, err = login.finish(input="  " + back + "\n")
    finally:
        login.kill()
    assert rc == 0, err
    assert out == ""
    assert web.tokens()["flow"] == "paste"


def test_paste_of_the_code_alone(web):
    login = BrowserLogin(web, "--flow", "paste", stdin=subprocess.PIPE)
    try:
        back = sign_in(login.wait_for_url(), web.redirect)
        code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))["code"]
        rc, out, err = login.finish(input=code + "\n")
    finally:
        login.kill()
    assert rc == 0, err


def test_paste_with_a_wrong_state_is_refused(web):
    login = BrowserLogin(web, "--flow", "paste", stdin=subprocess.PIPE)
    try:
        back = sign_in(login.wait_for_url(), web.redirect)
        rc, out, err = login.finish(input=with_param(back, state="not-this-login") + "\n")
    finally:
        login.kill()
    assert rc == 1
    assert "does not belong to this login" in err
    assert not web.tokens_path().exists()
    assert not [e for e in web.idp.log() if e["endpoint"] == "token"]


def test_paste_of_nothing(web):
    r = web.run("login", "--no-browser", "--flow", "paste", input="")
    assert r.returncode == 5 and "nothing was pasted" in r.stderr


def test_debug_output_has_no_code_or_verifier(web):
    login = BrowserLogin(web, "--flow", "browser", "--debug", "-v")
    try:
        url = login.wait_for_url()
        back = sign_in(url, web.redirect)
        open_url(back)
        rc, out, err = login.finish()
    finally:
        login.kill()
    assert rc == 0, err
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))["code"]
    assert code not in err
    assert "code_verifier=<redacted>" in err or "code_verifier" not in err
    assert "grant_type=authorization_code" in err, "the token request is traced"
    for m in re.finditer(r"code_verifier=([^&\s]*)", err):
        assert m.group(1) == "<redacted>"
    for m in re.finditer(r"[?&]code=([^&\s]*)", err):
        assert m.group(1) == "<redacted>"


def test_busy_port_names_the_port_and_the_key(web):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", web.port))
        s.listen(1)
        r = web.run("login", "--no-browser", "--flow", "browser")
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith("oktacred: okta-oidc: cannot wait for the browser on port %d"
                               % web.port), r.stderr
    assert "redirect_uri" in r.stderr
    assert "authorize?" not in r.stderr, "no URL to open when nothing can receive its answer"
    assert not web.tokens_path().exists()


def test_ctrl_c_while_waiting_exits_130_with_nothing_written(web):
    login = BrowserLogin(web, "--flow", "browser")
    try:
        login.wait_for_url()
        os.killpg(login.proc.pid, signal.SIGINT)
        rc, out, err = login.finish()
    finally:
        login.kill()
    assert rc == 130, err
    assert not web.tokens_path().exists()
    # The listener is gone with it.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", web.port), timeout=5).close()


def test_ipv4_literal_redirect(web):
    web.redirect = "http://127.0.0.1:%d/callback" % web.port
    write_web_config(web)
    rc, out, err, back = browser_login(web)
    assert rc == 0, err


def test_unregistered_redirect_uri_is_refused_by_the_server(web):
    """The identity provider compares the redirect URI exactly: another port is not it."""
    other = free_port()
    write_web_config(web, redirect="http://localhost:%d/callback" % other)
    login = BrowserLogin(web, "--flow", "browser")
    try:
        url = login.wait_for_url()
        status, page = open_url(url)
        assert status == 400 and "redirect_uri" in page
    finally:
        login.kill()


@pytest.mark.parametrize("key,value,why", [
    ("flow", "sometimes", "is not auto, device or browser"),
    ("redirect_uri", "https://localhost:8000/callback", "not an http:// address"),
    ("redirect_uri", "http://example.com:8000/callback", "its host is not localhost"),
    ("redirect_uri", "http://localhost:0/callback", "its port"),
    ("redirect_uri", "http://localhost:8000/callback?x=1", "query"),
])
def test_bad_flow_keys_are_configuration_errors(env, key, value, why):
    env.write_config(extra="%s = %s\n" % (key, value))
    r = env.run("config", "validate")
    assert r.returncode == 2 and why in r.stderr, r.stderr
    r = env.run("login", "--no-browser")
    assert r.returncode == 2 and why in r.stderr


def test_bad_flow_option_is_a_usage_error(env):
    r = env.run("login", "--flow", "magic")
    assert r.returncode == 2 and "--flow must be device, browser or paste" in r.stderr


def test_validate_online_asks_a_browser_provider_for_the_authorization_code_grant(web):
    """An org whose server does not offer the device grant: fine for flow = browser, not
    for flow = device; and a server without authorization_code is wrong for browser."""
    path = "/oauth2/default/.well-known/openid-configuration"
    doc = json.loads(urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
        web.idp.base + path, timeout=10).read())
    no_device = dict(doc, grant_types_supported=[
        g for g in doc["grant_types_supported"] if not g.endswith("device_code")])
    del no_device["device_authorization_endpoint"]
    no_code = dict(doc, grant_types_supported=[
        g for g in doc["grant_types_supported"] if g != "authorization_code"])
    for flow, served, ok, why in (("browser", no_device, True, None),
                                  ("device", no_device, False, "device authorization"),
                                  ("browser", no_code, False, "authorization_code grant")):
        write_web_config(web, flow=flow)
        web.idp.fault(path, status=200, body=json.dumps(served),
                      headers={"Content-Type": "application/json"})
        r = web.run("config", "validate", "--online")
        assert (r.returncode == 0) == ok, (flow, r.stdout, r.stderr)
        if ok:
            assert "okta-oidc: ok" in r.stdout
        else:
            assert why in r.stdout + r.stderr, (flow, r.stdout, r.stderr)


def test_okta_oidc_is_another_name_of_the_kind(web):
    web.write_config(text=web.config.read_text().replace(
        "kind = okta/device-code", "kind = okta/oidc"))
    rc, out, err, back = browser_login(web)
    assert rc == 0, err
    r = web.run("status")
    assert "okta-oidc (okta/device-code, " in r.stdout and "browser flow" in r.stdout


def test_an_id_token_with_another_logins_nonce_is_refused(web):
    web.idp.settings(id_token_fault="wrong_nonce")
    login = BrowserLogin(web, "--flow", "browser")
    try:
        status, page = open_url(sign_in(login.wait_for_url(), web.redirect))
        assert status == 200
        rc, out, err = login.finish()
    finally:
        login.kill()
    assert rc == 4, err
    assert "invalid ID token: its nonce is not the one this login sent" in err
    assert not web.tokens_path().exists()
