"""kubernetes/exec-credential (issue 16): `oktacred credential NAME` as kubectl's exec
credential plugin, `oktacred kubeconfig NAME`, and the real kubectl (/usr/bin/kubectl) against a
strict stand-in API server (tests/kube) that authenticates the token as kube-apiserver's
OIDC authenticator does: `kubectl auth whoami` shows the Okta user and groups."""
import json
import os
import subprocess
import sys
import time

import pytest

import secretscan
from conftest import CLIENT_ID, OKTACRED, ROOT, do_login, run_on_a_terminal
from test_aws import aws, sts, _reset_sts  # noqa: F401 (fixtures)
from test_lean import heavy, run_traced
from tlsserver import make_certs

sys.path.insert(0, os.path.join(ROOT, "tests", "kube"))
sys.path.insert(0, os.path.join(ROOT, "tests", "idp"))
from kube_harness import CLUSTER, KUBECTL, KubeAPI, write_kubeconfig  # noqa: E402
from harness import decode_jwt, generate_key, jwk_from_pem, sign_jwt  # noqa: E402

try:
    import cryptography  # noqa: F401  (the stand-in verifies RS256 with it)
    HAVE_CRYPTOGRAPHY = True
except ImportError:
    HAVE_CRYPTOGRAPHY = False

needs_kubectl = pytest.mark.skipif(
    not os.access(KUBECTL, os.X_OK), reason="kubectl is not installed (/usr/bin/kubectl)")
needs_stand_in = pytest.mark.skipif(
    not HAVE_CRYPTOGRAPHY, reason="the stand-in API server needs python3-cryptography")

V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"
REVIEW = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
K8S = "[identity k8s]\nkind = kubernetes/exec-credential\nprovider = okta-oidc\n"


def k8s_config(env, extra=""):
    env.write_config()
    text = env.config.read_text() + "\n" + K8S + extra
    env.write_config(text)


@pytest.fixture
def k8s(env):
    """A user with a kubernetes/exec-credential identity and no session yet."""
    k8s_config(env)
    env.idp.settings(interval=1)
    return env


@pytest.fixture
def k8s_in(k8s):
    rc, _, err = do_login(k8s)
    assert rc == 0, err
    return k8s


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("kube-certs"))


@pytest.fixture(scope="session")
def kube_api(idp, certs):
    if not HAVE_CRYPTOGRAPHY:
        pytest.skip("the stand-in API server needs python3-cryptography")
    api = KubeAPI.start(certs, idp.issuer("default"), CLIENT_ID)
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def api(kube_api):
    kube_api.reset()
    return kube_api


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def credential(env, name="k8s", exec_info=None, **kw):
    extra = {} if exec_info is None else {"KUBERNETES_EXEC_INFO": exec_info}
    return env.run("credential", name, env=extra, **kw)


def exec_info(api_version=V1, interactive=False):
    return json.dumps({"kind": "ExecCredential", "apiVersion": api_version,
                       "spec": {"interactive": interactive}})


def kubeconfig_for(env, api, *args, api_version=None):
    r = env.run("kubeconfig", "k8s", *args)
    assert r.returncode == 0, r.stderr
    users = r.stdout
    if api_version:
        users = users.replace("apiVersion: " + V1 + "\n", "apiVersion: " + api_version + "\n")
    return write_kubeconfig(str(env.home / "kubeconfig"), api, users, user="k8s")


def kubectl(env, kubeconfig, *args):
    e = dict(env.env, KUBECONFIG=str(kubeconfig))
    return subprocess.run([KUBECTL, *args], env=e, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, start_new_session=True)


def whoami(env, kubeconfig):
    r = kubectl(env, kubeconfig, "auth", "whoami", "-o", "json")
    if r.returncode != 0:
        return r, None
    return r, json.loads(r.stdout)


# ---- the credential ----

def test_credential_prints_an_exec_credential(k8s_in):
    env = k8s_in
    r = credential(env)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    out = json.loads(r.stdout)
    id_token = env.tokens()["id_token"]
    assert out == {"apiVersion": V1, "kind": "ExecCredential",
                   "status": {"token": id_token,
                              "expirationTimestamp": rfc3339(decode_jwt(id_token)["exp"])}}
    assert r.stdout.endswith("}\n") and r.stdout.count("\n") == 1


@pytest.mark.parametrize("asked,answered", [(V1, V1), (V1BETA1, V1BETA1), (None, V1)])
def test_api_version_echoes_kubernetes_exec_info(k8s_in, asked, answered):
    info = None if asked is None else exec_info(asked)
    r = credential(k8s_in, exec_info=info)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["apiVersion"] == answered


@pytest.mark.parametrize("info,says", [
    (exec_info("client.authentication.k8s.io/v1alpha1"),
     'apiVersion "client.authentication.k8s.io/v1alpha1" is not one oktacred speaks'),
    ("not json", "KUBERNETES_EXEC_INFO is not a JSON object"),
])
def test_another_api_version_is_a_clear_error(k8s_in, info, says):
    r = credential(k8s_in, exec_info=info)
    assert r.returncode == 2 and r.stdout == ""
    assert says in r.stderr.splitlines()[0]


def test_token_access_hands_out_the_access_token(k8s):
    env = k8s
    k8s_config(env, "token = access\n")
    rc, _, err = do_login(env)
    assert rc == 0, err
    r = credential(env)
    assert r.returncode == 0, r.stderr
    t = env.tokens()
    status = json.loads(r.stdout)["status"]
    assert status["token"] == t["access_token"]
    assert status["expirationTimestamp"] == t["expires_at"]


def test_no_session_exits_3_with_the_hint_and_nothing_on_stdout(k8s):
    r = credential(k8s, exec_info=exec_info(interactive=True))  # but no terminal
    assert r.returncode == 3 and r.stdout == ""
    assert "run: oktacred login okta-oidc" in r.stderr


def test_credential_of_an_aws_identity_is_the_credential_process_json(aws):
    first = aws.run("credential-process", "aws-dev")
    assert first.returncode == 0, first.stderr
    r = aws.run("credential", "aws-dev")
    assert r.returncode == 0, r.stderr
    assert r.stdout == first.stdout  # the same cached credentials, the same JSON
    assert json.loads(r.stdout)["Version"] == 1


def test_credential_refuses_a_kind_without_its_own_format(k8s_in):
    r = k8s_in.run("credential", "okta-admin")
    assert r.returncode == 2 and r.stdout == ""
    assert "okta-admin (okta/api-access) has no credential format of its own" in r.stderr


def test_env_hands_over_no_token_but_checks_the_session(k8s):
    r = k8s.run("env", "k8s", "--format", "json")
    assert r.returncode == 3, r.stderr
    rc, _, err = do_login(k8s)
    assert rc == 0, err
    r = k8s.run("env", "k8s", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"set": {"OKTACRED_IDENTITY": "k8s"}, "unset": []}


@pytest.mark.parametrize("extra,says", [
    ("token = refresh\n", 'token "refresh" is not id or access'),
])
def test_bad_token_key(k8s, extra, says):
    k8s_config(k8s, extra)
    r = k8s.run("credential", "k8s")
    assert r.returncode == 2 and says in r.stderr


@pytest.mark.parametrize("provider,identity,says", [
    ("kind = okta/service-account\nclient_id = 0oaCI\nclient_secret_env = S\n"
     "scopes = api.read\n", "",
     "token = id needs a provider with ID tokens; ci (okta/service-account) has none: "
     "set token = access"),
    ("kind = okta/device-code\nclient_id = 0oa1\nauthorization_server = org\n",
     "token = access\n", "the org server's access tokens are for Okta's API only"),
    ("kind = okta/device-code\nclient_id = 0oa1\nscopes = profile offline_access\n", "",
     "scopes lack openid"),
])
def test_the_provider_must_give_a_token_the_api_server_can_verify(env, provider, identity,
                                                                   says):
    env.write_config("[provider ci]\norg_url = %s\n%s\n[identity k8s]\n"
                     "kind = kubernetes/exec-credential\nprovider = ci\n%s"
                     % (env.idp.base, provider, identity))
    r = env.run("config", "validate", env={"S": "x"})
    assert r.returncode == 2 and says in r.stderr, r.stderr


def test_an_api_token_provider_is_refused(env):
    env.write_config(
        "[provider legacy]\nkind = okta/api-token\norg_url = %s\ntoken_env = T\n\n"
        "[identity k8s]\nkind = kubernetes/exec-credential\nprovider = legacy\n" % env.idp.base)
    r = env.run("credential", "k8s", env={"T": "00abc"})
    assert r.returncode == 2
    assert "needs an okta/device-code or okta/service-account provider" in r.stderr


# ---- kubeconfig ----

def real_program():
    """The file of the oktacred under test (its /proc/self/exe): OKTACRED_BIN when that is
    a binary (the front, the ASan build), the full program when it is a wrapper script
    (valgrind's runs build/oktacred-full)."""
    path = os.environ.get("OKTACRED_BIN") or os.path.join(ROOT, "oktacred")
    with open(path, "rb") as f:
        if f.read(4) != b"\x7fELF":
            path = os.path.join(ROOT, "build", "oktacred-full")
    return os.path.realpath(path)


def test_kubeconfig_prints_the_user_entry(k8s):
    r = k8s.run("kubeconfig", "k8s")
    assert r.returncode == 0, r.stderr
    program = real_program()
    lines = r.stdout.splitlines()
    assert lines[:11] == [
        "users:",
        '- name: "k8s"',
        "  user:",
        "    exec:",
        "      apiVersion: client.authentication.k8s.io/v1",
        '      command: "%s"' % program,
        "      args:",
        "      - credential",
        '      - "k8s"',
        "      interactiveMode: IfAvailable",
        "      provideClusterInfo: false",
    ]
    assert lines[11].startswith('      installHint: "') and len(lines) == 12
    assert "contexts:" not in r.stdout


def test_kubeconfig_names_the_program_as_path_finds_it(k8s, tmp_path):
    """A link on PATH (a package manager's bin/) is kept, not resolved to its target."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(real_program(), bindir / "oktacred")
    r = k8s.run("kubeconfig", "k8s", env={"PATH": "%s:/usr/bin:/bin" % bindir})
    assert r.returncode == 0, r.stderr
    assert '      command: "%s"\n' % (bindir / "oktacred") in r.stdout


def test_kubeconfig_passes_config_on(k8s, tmp_path):
    cfg = tmp_path / "other.conf"
    cfg.write_text(k8s.config.read_text())
    os.chmod(cfg, 0o600)
    r = k8s.run("--config", str(cfg), "kubeconfig", "k8s")
    assert r.returncode == 0, r.stderr
    assert '      - --config\n      - "%s"\n      - credential\n' % cfg in r.stdout


def test_kubeconfig_refuses_other_kinds(k8s):
    r = k8s.run("kubeconfig", "okta-admin")
    assert r.returncode == 2 and r.stdout == ""
    assert "okta-admin (okta/api-access) is not an identity kubectl can use" in r.stderr


@needs_kubectl
def test_kubeconfig_with_cluster_merges_with_kubectl(k8s, tmp_path):
    """kubectl reads the entries as they are printed, merged with a kubeconfig that holds
    the cluster: the context binds the user to it."""
    r = k8s.run("kubeconfig", "k8s", "--cluster", CLUSTER)
    assert r.returncode == 0, r.stderr
    mine = tmp_path / "oktacred.yaml"
    mine.write_text(r.stdout)
    theirs = tmp_path / "cluster.yaml"
    theirs.write_text("apiVersion: v1\nkind: Config\nclusters:\n- name: %s\n  cluster:\n"
                      "    server: https://127.0.0.1:1\n" % CLUSTER)
    v = kubectl(k8s, "%s:%s" % (theirs, mine), "config", "view", "-o", "json")
    assert v.returncode == 0, v.stderr
    view = json.loads(v.stdout)
    assert view["contexts"] == [{"name": "k8s@" + CLUSTER,
                                 "context": {"cluster": CLUSTER, "user": "k8s"}}]
    ex = view["users"][0]["user"]["exec"]
    assert view["users"][0]["name"] == "k8s"
    assert ex["apiVersion"] == V1 and ex["args"] == ["credential", "k8s"]
    assert ex["command"] == real_program()
    assert ex["interactiveMode"] == "IfAvailable" and "oktacred" in ex["installHint"]


# ---- the real kubectl against the stand-in API server ----

@needs_kubectl
@needs_stand_in
def test_kubectl_auth_whoami(k8s_in, api):
    env = k8s_in
    kc = kubeconfig_for(env, api)
    r = kubectl(env, kc, "auth", "whoami")
    assert r.returncode == 0, r.stderr
    assert "alice@example.com" in r.stdout
    assert "[Everyone AWS-Dev system:authenticated]" in r.stdout
    r, review = whoami(env, kc)
    assert r.returncode == 0, r.stderr
    assert review["status"]["userInfo"] == {
        "username": "alice@example.com",
        "groups": ["Everyone", "AWS-Dev", "system:authenticated"]}
    reviews = [e for e in api.log() if e["path"] == REVIEW]
    assert [e["user"]["username"] for e in reviews] == ["alice@example.com"] * 2


@needs_kubectl
@needs_stand_in
def test_kubectl_with_a_v1beta1_exec_block(k8s_in, api):
    env = k8s_in
    kc = kubeconfig_for(env, api, api_version=V1BETA1)
    assert "apiVersion: " + V1BETA1 in open(kc).read()
    r, review = whoami(env, kc)
    assert r.returncode == 0, r.stderr
    assert review["status"]["userInfo"]["username"] == "alice@example.com"


@needs_kubectl
@needs_stand_in
def test_kubectl_without_a_session_shows_the_hint(k8s, api):
    env = k8s
    kc = kubeconfig_for(env, api)
    r = kubectl(env, kc, "auth", "whoami")
    assert r.returncode != 0
    assert "run: oktacred login okta-oidc" in r.stderr
    assert "failed with exit code 3" in r.stderr  # client-go's words
    assert api.log() == [], "no request without a credential"


@needs_kubectl
@needs_stand_in
def test_kubectl_cached_path_makes_no_request_to_the_idp(k8s_in, api, tmp_path):
    env = k8s_in
    kc = kubeconfig_for(env, api)
    env.idp.reset()
    r, review = whoami(env, kc)
    assert r.returncode == 0, r.stderr
    assert env.idp.log() == [], "answered from the cache"
    # ...and loads no optional library (the trace of oktacred run by hand, as kubectl does).
    r, names = run_traced(env, tmp_path, "credential", "k8s",
                          extra={"KUBERNETES_EXEC_INFO": exec_info()})
    assert r.returncode == 0, r.stderr
    assert heavy(names) == []
    assert env.idp.log() == []


def forged(token, pem):
    """token's claims and kid, signed by another key."""
    header = json.loads(__import__("base64").urlsafe_b64decode(
        token.split(".")[0] + "=" * (-len(token.split(".")[0]) % 4)))
    return sign_jwt(pem, decode_jwt(token), {"alg": "RS256", "kid": header["kid"]})


@needs_stand_in
def test_the_stand_in_checks_the_signature(k8s_in, api, tmp_path):
    token = k8s_in.tokens()["id_token"]
    status, body = api.review(token)
    assert status == 201 and body["status"]["userInfo"]["username"] == "alice@example.com"
    pem = generate_key(str(tmp_path / "other.pem"), "RSA")
    status, body = api.review(forged(token, pem))
    assert status == 401
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                    "status": "Failure", "message": "Unauthorized",
                    "reason": "Unauthorized", "code": 401}
    assert api.log()[-1]["rejected"] == "failed to verify signature"
    # Other claims as well, signed by that key: still its signature that fails.
    assert jwk_from_pem(pem)["kty"] == "RSA"


@needs_kubectl
@needs_stand_in
@pytest.mark.parametrize("case", ["audience", "expired"])
def test_kubectl_is_refused_a_token_for_another_audience_or_expired(
        k8s_in, idp, certs, case):
    """The same real token, to API servers that must refuse it: one whose client id is
    another application's, one whose clock is past the token's exp."""
    env = k8s_in
    exp = decode_jwt(env.tokens()["id_token"])["exp"]
    if case == "audience":
        server = KubeAPI.start(certs, idp.issuer("default"), "0oa-another-app")
        why = "expected audience '0oa-another-app'"
    else:
        server = KubeAPI.start(certs, idp.issuer("default"), CLIENT_ID,
                               clock_offset=int(exp - time.time()) + 60)
        why = "token is expired"
    try:
        kc = kubeconfig_for(env, server)
        r = kubectl(env, kc, "auth", "whoami")
        assert r.returncode != 0
        assert "Unauthorized" in r.stderr, r.stderr
        log = server.log()
        assert log and all(e.get("rejected", "").startswith(why) for e in log), log
    finally:
        server.stop()


@needs_kubectl
@needs_stand_in
def test_kubectl_is_refused_a_token_signed_by_another_key(k8s_in, api, tmp_path):
    env = k8s_in
    pem = generate_key(str(tmp_path / "other.pem"), "RSA")
    users = ('users:\n- name: "k8s"\n  user:\n    token: "%s"\n'
             % forged(env.tokens()["id_token"], pem))
    kc = write_kubeconfig(str(env.home / "kubeconfig"), api, users, user="k8s")
    r = kubectl(env, kc, "auth", "whoami")
    assert r.returncode != 0 and "Unauthorized" in r.stderr, r.stderr
    assert api.log()[0]["rejected"] == "failed to verify signature"


def test_interactive_exec_info_logs_in_on_the_terminal(k8s):
    """spec.interactive (kubectl's stdin is a terminal) and a terminal at hand: the device
    flow runs there, stdout stays the ExecCredential alone."""
    status, out, tty, err = run_on_a_terminal(
        k8s, [OKTACRED, "credential", "k8s"],
        {"KUBERNETES_EXEC_INFO": exec_info(interactive=True)})
    assert status == 0, (tty, err)
    assert "enter the code" in tty and "enter the code" not in out
    assert json.loads(out)["status"]["token"] == k8s.tokens()["id_token"]


def test_not_interactive_on_a_terminal_still_exits_3(k8s):
    """spec.interactive false (interactiveMode: Never, or stdin not a terminal): no login,
    even with a terminal at hand."""
    status, out, tty, err = run_on_a_terminal(
        k8s, [OKTACRED, "credential", "k8s"],
        {"KUBERNETES_EXEC_INFO": exec_info(interactive=False)})
    assert status == 3 and out == ""
    assert "enter the code" not in tty
    if not secretscan.ENABLED:  # the capturing wrapper may pass stderr on after its exit
        assert "run: oktacred login okta-oidc" in err + tty


@needs_kubectl
@needs_stand_in
def test_kubectl_on_a_terminal_runs_the_login(k8s, api):
    """The real kubectl with its stdin a terminal (interactiveMode: IfAvailable): the
    plugin logs in there, and whoami then shows the user."""
    env = k8s
    kc = kubeconfig_for(env, api)
    status, out, tty, err = run_on_a_terminal(
        env, [KUBECTL, "auth", "whoami", "-o", "json"], {"KUBECONFIG": kc})
    assert status == 0, (tty, err)
    assert "enter the code" in tty
    review = json.loads(out)
    assert review["status"]["userInfo"]["username"] == "alice@example.com"
