"""`exec --server` for okta/api-access: the child talks to Okta's API (here the strict
stand-in of tests/oktaapi) through oktacred's loopback proxy, holding only a per-run secret;
the proxy passes each request on with a fresh access token of the session."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import CLIENT_ID, OKTACRED, ROOT, do_login

sys.path.insert(0, os.path.join(ROOT, "tests", "oktaapi"))
from oktaapi_harness import OktaAPI  # noqa: E402

# The child: a small driver reading one JSON command a line on stdin and answering one JSON
# line on stdout, talking to the proxy with http.client as an SDK would.
CHILD = textwrap.dedent(r"""
    import http.client, json, os, sys, threading, urllib.parse, urllib.request

    api_base = sys.argv[1]
    proxy = urllib.parse.urlsplit(os.environ["OKTA_HTTP_PROXY"])

    def request(method, path, auth="secret", headers=None, body=None, read=True):
        c = http.client.HTTPConnection(proxy.hostname, proxy.port, timeout=60)
        h = dict(headers or {})
        if auth == "secret":
            h["Authorization"] = "Bearer " + os.environ["OKTA_ACCESS_TOKEN"]
        elif auth:
            h["Authorization"] = auth
        c.request(method, path, body=body.encode() if body is not None else None, headers=h)
        r = c.getresponse()
        if not read:
            return c, r
        data = r.read().decode()
        c.close()
        return {"status": r.status, "headers": r.getheaders(), "body": data}

    def pages():
        path, ids, links = "/api/v1/groups?limit=2", [], []
        while path:
            r = request("GET", path)
            ids += [g["id"] for g in json.loads(r["body"])]
            link = dict(r["headers"]).get("Link", "")
            links.append(link)
            path = None
            for part in link.split(","):
                if 'rel="next"' in part:
                    url = part.split("<", 1)[1].split(">", 1)[0]
                    assert url.startswith(os.environ["OKTA_HTTP_PROXY"] + "/"), url
                    path = url[len(os.environ["OKTA_HTTP_PROXY"]):]
        return {"ids": ids, "links": links}

    def parallel(n):
        out = []
        def one():
            out.append(request("GET", "/api/v1/barrier?n=%d" % n)["status"])
        ts = [threading.Thread(target=one) for _ in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return {"statuses": out}

    def stream():
        c, r = request("GET", "/api/v1/stream", read=False)
        first = r.fp.readline().decode()
        # Only now may the stand-in send the rest: a proxy that waited for the whole
        # answer before passing it on would never have given us the first line.
        rq = urllib.request.Request(api_base + "/__test/release", data=b"{}", method="POST")
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(rq, timeout=10).read()
        rest = r.read().decode()
        c.close()
        return {"status": r.status, "first": first, "rest": rest}

    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd.pop("op")
        if op == "exit":
            sys.exit(cmd["code"])
        if op == "env":
            with open("/proc/self/environ", "rb") as f:
                proc = f.read().decode(errors="replace")
            out = {"environ": dict(os.environ), "proc": proc}
        elif op == "req":
            out = request(**cmd)
        elif op == "pages":
            out = pages()
        elif op == "parallel":
            out = parallel(cmd["n"])
        elif op == "stream":
            out = stream()
        print(json.dumps(out), flush=True)
""")


@pytest.fixture(scope="module")
def api(idp):
    server = OktaAPI.start(idp.base)
    try:
        yield server
    finally:
        server.stop()


def proxy_config(env, api):
    return env.write_config(
        "[defaults]\nidentity = okta-admin\n\n"
        "[provider okta-oidc]\nkind = okta/device-code\n"
        f"org_url = {env.idp.base}\nclient_id = {CLIENT_ID}\n"
        "authorization_server = org\n"
        "scopes = openid profile email offline_access okta.users.read okta.groups.read\n\n"
        "[identity okta-admin]\nkind = okta/api-access\nprovider = okta-oidc\n"
        f"api_url = {api.base}\n")


@pytest.fixture
def okta(env, api):
    api.reset()
    proxy_config(env, api)
    env.idp.settings(interval=1)
    rc, out, err = do_login(env)
    assert rc == 0, err
    return env


class Child:
    """oktacred exec --server okta-admin -- python3 CHILD, driven line by line."""

    def __init__(self, env, api, extra_env=None):
        self.proc = subprocess.Popen(
            [OKTACRED, "exec", "--server", "okta-admin", "--", sys.executable, "-c", CHILD,
             api.base],
            env=dict(env.env, **(extra_env or {})), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)

    def ask(self, op, **kw):
        self.proc.stdin.write(json.dumps(dict(kw, op=op)) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the child ended: %s" % self.finish()[1]
        return json.loads(line)

    def finish(self, code=0):
        line = json.dumps({"op": "exit", "code": code}) + "\n"
        out, err = self.proc.communicate(line if self.proc.poll() is None else None, timeout=60)
        return self.proc.returncode, err

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def child(okta, api):
    c = Child(okta, api)
    yield c
    c.kill()


def test_child_gets_the_data_and_never_a_real_token(okta, api, child):
    me = child.ask("req", method="GET", path="/api/v1/users/me")
    assert me["status"] == 200, me
    assert json.loads(me["body"])["id"] == "00u-alice"
    seen = child.ask("env")
    tokens = okta.tokens()
    environ, proc = seen["environ"], seen["proc"]
    proxy = environ["OKTA_HTTP_PROXY"]
    assert proxy.startswith("http://127.0.0.1:")
    for name in ("OKTA_CLIENT_ORGURL", "OKTA_CLIENT_ORG_URL", "OKTA_ORG_URL"):
        assert environ[name] == proxy
    secret = environ["OKTA_ACCESS_TOKEN"]
    assert len(secret) == 64
    for name in ("OKTA_OAUTH2_ACCESS_TOKEN", "OKTA_CLIENT_TOKEN"):
        assert environ[name] == secret
    for real in (tokens["access_token"], tokens["refresh_token"], tokens["id_token"]):
        assert real not in json.dumps(environ)
        assert real not in proc
    assert secret in proc
    # The stand-in saw the real token, never the secret.
    log = api.log()
    assert log and all(e["status"] == 200 for e in log)
    rc, err = child.finish()
    assert rc == 0, err


def test_wrong_secret_is_401_and_goes_nowhere(okta, api, child):
    for auth in ("Bearer wrong", None, "Basic " + "0" * 64, "Bearer"):
        r = child.ask("req", method="GET", path="/api/v1/users/me", auth=auth)
        assert r["status"] == 401, (auth, r)
        assert "secret" in json.loads(r["body"])["errorSummary"]
    assert api.log() == []
    child.finish()


def test_only_api_paths_are_passed_on(okta, api, child):
    for path in ("/admin/", "/", "/login/login.htm", "/api/../admin", "/api/v1/%2e%2e/x",
                 "/__test/log"):
        r = child.ask("req", method="GET", path=path)
        assert r["status"] == 403, (path, r)
    assert api.log() == []
    child.finish()


def test_the_stand_in_refuses_a_bad_token(okta, api):
    """The stand-in is strict: what the proxy passes on is really checked."""
    import urllib.error
    import urllib.request
    from nodeserver import OPENER
    req = urllib.request.Request(api.base + "/api/v1/users/me",
                                 headers={"Authorization": "Bearer not-a-token"})
    with pytest.raises(urllib.error.HTTPError) as e:
        OPENER.open(req, timeout=10)
    assert e.value.code == 401
    # The ID token is no access token either.
    req = urllib.request.Request(api.base + "/api/v1/users/me",
                                 headers={"Authorization": "Bearer " + okta.tokens()["id_token"]})
    with pytest.raises(urllib.error.HTTPError) as e:
        OPENER.open(req, timeout=10)
    assert e.value.code == 401
    req = urllib.request.Request(api.base + "/api/v1/users/me",
                                 headers={"Authorization": "Bearer " + okta.tokens()["access_token"]})
    assert OPENER.open(req, timeout=10).status == 200


def test_headers_body_and_methods_are_passed_on(okta, api, child):
    r = child.ask("req", method="POST", path="/api/v1/groups",
                  headers={"Content-Type": "application/json", "Accept": "application/json",
                           "X-Okta-User-Agent-Extended": "terraform", "Connection": "X-Drop",
                           "X-Drop": "1"},
                  body=json.dumps({"profile": {"name": "new group"}}))
    assert r["status"] == 200, r
    assert json.loads(r["body"])["profile"] == {"name": "new group"}
    h = json.loads(child.ask("req", method="GET", path="/api/v1/headers",
                             headers={"Accept": "application/json", "X-Custom": "yes",
                                      "Connection": "X-Drop", "X-Drop": "1",
                                      "Upgrade": "h2c"})["body"])
    assert h["Accept"] == "application/json" and h["X-Custom"] == "yes"
    assert "X-Drop" not in h and "Upgrade" not in h
    assert h["Host"] == "127.0.0.1:%d" % api.port
    # Not followed; the Location points back at the proxy.
    r = child.ask("req", method="GET", path="/api/v1/redirect")
    assert r["status"] == 302
    assert dict(r["headers"])["Location"].startswith(
        child.ask("env")["environ"]["OKTA_HTTP_PROXY"] + "/api/v1/users/me")
    r = child.ask("req", method="TRACE", path="/api/v1/users/me")
    assert r["status"] == 405
    child.finish()


def test_pagination_follows_rewritten_links(okta, api, child):
    r = child.ask("pages")
    assert r["ids"] == ["00g1", "00g2", "00g3", "00g4", "00g5"]
    assert api.base not in json.dumps(r["links"])
    assert [e["path"] for e in api.log()] == [
        "/api/v1/groups?limit=2", "/api/v1/groups?after=00g2&limit=2",
        "/api/v1/groups?after=00g4&limit=2"]
    child.finish()


def test_ten_requests_at_once(okta, api, child):
    """The stand-in answers none of them until all ten are in at once."""
    r = child.ask("parallel", n=10)
    assert r["statuses"] == [200] * 10
    child.finish()


def test_answers_stream_as_they_arrive(okta, api, child):
    r = child.ask("stream")
    assert r == {"status": 200, "first": "first part\n", "rest": "the rest\n"}
    child.finish()


def test_oversized_requests_are_refused(okta, api, child):
    r = child.ask("req", method="GET", path="/api/v1/users/me",
                  headers={"X-Big": "a" * 40000})
    assert r["status"] == 431
    r = child.ask("req", method="POST", path="/api/v1/groups",
                  headers={"Content-Type": "application/json",
                           "Content-Length": str(9 << 20)}, body="")
    assert r["status"] == 413
    assert api.log() == []
    child.finish()


def test_a_child_outlives_its_access_token(env, api):
    """One refresh, made by the proxy and saved, for ten requests at once; the child never
    knew."""
    api.reset()
    proxy_config(env, api)
    env.idp.settings(interval=1, access_token_ttl=4)
    rc, out, err = do_login(env)
    assert rc == 0, err
    c = Child(env, api)
    try:
        assert c.ask("req", method="GET", path="/api/v1/users/me")["status"] == 200
        before = env.tokens()
        grants = len(env.idp.log())
        # The clock must pass the token's expiry: there is no event to wait for.
        while time.time() <= time.mktime(time.strptime(before["expires_at"],
                                                       "%Y-%m-%dT%H:%M:%SZ")) - time.timezone + 1:
            time.sleep(0.2)
        # Ten at once, all after the expiry: one refresh, the others read its tokens.
        assert c.ask("parallel", n=10)["statuses"] == [200] * 10
        refreshes = [e for e in env.idp.log()[grants:]
                     if e["endpoint"] == "token" and e["grant_type"] == "refresh_token"]
        assert len(refreshes) == 1
        after = env.tokens()
        assert after["access_token"] != before["access_token"]
        assert after["refresh_token"] != before["refresh_token"]  # rotated, and saved
        shas = [e["token_sha"] for e in api.log()]
        assert len(set(shas)) == 2
        rc, err = c.finish()
        assert rc == 0, err
    finally:
        c.kill()


def test_exit_status_is_the_childs(okta, api, child):
    assert child.ask("req", method="GET", path="/api/v1/users/me")["status"] == 200
    rc, err = child.finish(code=7)
    assert rc == 7, err


def test_signals_are_forwarded(okta, api, tmp_path):
    ready = tmp_path / "ready"
    script = textwrap.dedent(f"""
        import signal, sys, time
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(42))
        open({str(ready)!r}, "w").close()
        while True:
            signal.pause()
    """)
    proc = okta.start("exec", "--server", "okta-admin", "--", sys.executable, "-c", script)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 42


def test_logged_out_exits_3_before_running(env, api, tmp_path):
    proxy_config(env, api)
    marker = tmp_path / "ran"
    r = env.run("exec", "--server", "okta-admin", "--", "touch", str(marker))
    assert r.returncode == 3, r.stderr
    assert not marker.exists()


def test_curl_as_the_child(okta, api, tmp_path):
    """curl, as the README shows it; a large body with Expect: 100-continue goes through."""
    body = tmp_path / "group.json"
    body.write_text(json.dumps({"profile": {"name": "big", "description": "x" * 200000}}))
    r = okta.run("exec", "--server", "okta-admin", "--", "sh", "-c",
                 'curl -sS --fail-with-body -H "Authorization: Bearer $OKTA_ACCESS_TOKEN" '
                 '-H "Content-Type: application/json" -H "Expect: 100-continue" '
                 '--data-binary @"$1" "$OKTA_ORG_URL/api/v1/groups" && echo && '
                 'curl -sS --fail-with-body -H "Authorization: Bearer $OKTA_ACCESS_TOKEN" '
                 '"$OKTA_ORG_URL/api/v1/users/me"', "sh", str(body))
    assert r.returncode == 0, r.stderr
    created, me = r.stdout.splitlines()
    assert json.loads(created)["profile"]["description"] == "x" * 200000
    assert json.loads(me)["id"] == "00u-alice"
