#!/usr/bin/python3
"""make demo: the bundled identity provider, a real login on a terminal, approved through
the verification page (or, with DEMO_FLOW=browser, signed in through the sign-in page and
sent back to oktacred's loopback listener), then what oktacred hands out.

Runs in a throw-away HOME under build/demo so your own configuration is never touched.
DEMO_MANUAL=1 waits for you to approve (or sign in as alice, password "correct horse") in a
browser instead of doing it by itself.
"""
import os
import pty
import re
import select
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "idp"))
from harness import IdP  # noqa: E402
from approve import approve, sign_in  # noqa: E402

OKTACRED = os.path.join(ROOT, "oktacred")


def say(text):
    print("\n\033[1m==> %s\033[0m" % text if sys.stdout.isatty() else "\n==> %s" % text,
          flush=True)


def show(cmd, env):
    print("$ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, env=env, check=False)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def finish_sign_in(url, redirect):
    """Sign in as alice on the sign-in page, then follow the redirect to oktacred."""
    back = sign_in(url, redirect)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(back, timeout=10) as r:
        r.read()


def main():
    flow = os.environ.get("DEMO_FLOW") or "device"
    if flow not in ("device", "browser"):
        print("DEMO_FLOW must be device or browser", file=sys.stderr)
        return 2
    home = os.path.join(ROOT, "build", "demo")
    shutil.rmtree(home, ignore_errors=True)
    os.makedirs(os.path.join(home, ".config", "oktacred"), mode=0o700)
    say("starting the bundled identity provider (npm oidc-provider with Okta's paths)")
    idp = IdP.start(idp_dir=os.path.join(ROOT, "tests", "idp"))
    try:
        idp.settings(interval=2)
        client, extra, redirect = "0oa-test-native", "", None
        if flow == "browser":
            # The app's sign-in redirect URI, on a port that is free here.
            port = free_port()
            redirect = "http://localhost:%d/callback" % port
            client = idp.add_browser_client(port)
            extra = "flow = browser\nredirect_uri = %s\n" % redirect
        config = os.path.join(home, ".config", "oktacred", "config")
        with open(config, "w") as f:
            f.write("[defaults]\nidentity = okta-admin\n\n"
                    "[provider okta-oidc]\nkind = okta/device-code\n"
                    "org_url = %s\nclient_id = %s\n"
                    "scopes = openid profile email groups offline_access\n%s\n"
                    "[identity okta-admin]\nkind = okta/api-access\nprovider = okta-oidc\n"
                    % (idp.base, client, extra))
        os.chmod(config, 0o600)
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"))
        env.setdefault("LANG", "C.UTF-8")
        print("identity provider: %s   config: %s" % (idp.base, config))

        say("oktacred login   (the device flow; the code is shown on a terminal)" if flow == "device"
            else "oktacred login   (the browser flow: authorization code + PKCE)")
        # A pseudo-terminal, so oktacred draws for a person exactly as it would for you.
        master, slave = pty.openpty()
        proc = subprocess.Popen([OKTACRED, "login", "--no-browser"], env=env,
                                stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        seen, code, approved_at = b"", None, None
        manual = os.environ.get("DEMO_MANUAL") == "1"
        while True:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                sys.stdout.buffer.write(chunk)
                sys.stdout.flush()
                seen += chunk
            if flow == "device":
                m = re.search(rb"enter the code (?:\x1b\[1m)?([A-Z0-9-]+)", seen)
            else:
                m = re.search(rb"\n  (http://\S+/authorize\?\S+)\r?\n", seen)
            if m and code is None:
                code = m.group(1).decode()
                approved_at = time.monotonic() + (0 if manual else 3)
                if not manual:
                    print("\n[demo] %s as alice in 3 s (or open the URL yourself first)"
                          % ("approving through %s/activate" % idp.base if flow == "device"
                             else "signing in on the sign-in page"), flush=True)
            if code and not manual and approved_at and time.monotonic() >= approved_at:
                approved_at = None
                try:
                    if flow == "device":
                        approve(idp.base, code)
                        print("[demo] approved on the verification page", flush=True)
                    else:
                        finish_sign_in(code, redirect)
                        print("[demo] signed in; the browser was sent back to %s" % redirect,
                              flush=True)
                except Exception as e:  # already approved by hand, say
                    print("[demo] could not approve: %s" % e, flush=True)
            if proc.poll() is not None and not ready:
                break
        os.close(master)
        rc = proc.wait()
        if rc != 0:
            print("login failed with status %d" % rc)
            return rc

        say("oktacred status")
        show([OKTACRED, "status"], env)
        say("oktacred exec: the credentials flow into a child process, which calls the API")
        show([OKTACRED, "exec", "okta-admin", "--", "/usr/bin/python3",
              os.path.join(ROOT, "scripts", "demo-child.py")], env)
        say("eval \"$(oktacred env okta-admin)\" sets, for a shell:")
        out = subprocess.run([OKTACRED, "env", "okta-admin"], env=env, capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            if "TOKEN='" in line:
                line = line.split("='")[0] + "='" + line.split("='")[1][:8] + "...'"
            print("  " + line)
        say("the token cache: 0600 in 0700 directories")
        show(["ls", "-la", os.path.join(home, ".config", "oktacred", "okta", "okta-oidc")], env)
        say("done: everything ran against the local identity provider")
        return 0
    finally:
        idp.stop()


if __name__ == "__main__":
    sys.exit(main())
