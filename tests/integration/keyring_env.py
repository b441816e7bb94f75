"""A private Secret Service for tests: gnome-keyring-daemon inside dbus-run-session.

    ss = SecretService.start(tmpdir)       # an unlocked "login" keyring, password "test"
    ss.env                                 # {"DBUS_SESSION_BUS_ADDRESS": ...} for clients
    ss.lookup("okta-oidc", "access_token") # the secret (secret-tool), or None
    ss.clear("okta-oidc"); ss.lock(); ss.stop()

dbus-run-session runs a fresh session bus for the life of its child, a shell that prints
its PID and the bus address, then becomes gnome-keyring-daemon (reading the keyring
password on stdin). Stopping the daemon by that PID ends the bus too.
"""
import os
import select
import signal
import subprocess
import sys
import time

_TESTS = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
from nodeserver import terminate  # noqa: E402  (tests/nodeserver.py)

__all__ = ["SecretService", "SecretServiceError"]

_BUS_NAME = "org.freedesktop.secrets"
_SCRIPT = ('printf "%s %s\\n" "$$" "$DBUS_SESSION_BUS_ADDRESS"; '
           "exec gnome-keyring-daemon --unlock --components=secrets --foreground >/dev/null")


class SecretServiceError(RuntimeError):
    pass


class SecretService:
    def __init__(self, proc, keyring_pid, address, log_path):
        self.proc = proc
        self.keyring_pid = keyring_pid
        self.address = address
        self.log_path = log_path
        self.env = {"DBUS_SESSION_BUS_ADDRESS": address}

    @classmethod
    def start(cls, base_dir, password="test", timeout=20.0):
        home = os.path.join(base_dir, "home")
        runtime = os.path.join(base_dir, "run")
        os.makedirs(home, mode=0o700, exist_ok=True)
        os.makedirs(runtime, mode=0o700, exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,
            "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
            "XDG_CONFIG_HOME": os.path.join(home, ".config"),
            "XDG_RUNTIME_DIR": runtime,
            "LANG": "C.UTF-8",
        }
        log_path = os.path.join(base_dir, "secret-service.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                ["dbus-run-session", "--", "sh", "-c", _SCRIPT], env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                start_new_session=True)
        proc.stdin.write(password.encode())
        proc.stdin.close()  # gnome-keyring reads the password up to EOF

        def fail(msg):
            _kill_group(proc)
            with open(log_path, errors="replace") as f:
                raise SecretServiceError(f"{msg}\n--- log ---\n{f.read()[-4000:]}")

        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                fail("dbus-run-session printed no bus address")
            ready, _, _ = select.select([proc.stdout], [], [], left)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    fail(f"dbus-run-session exited (status {proc.wait()})")
                line += chunk
        pid, address = line.decode().split(None, 1)
        ss = cls(proc, int(pid), address.strip(), log_path)
        # The daemon takes the bus name once its keyring is unlocked: wait for that.
        while not ss.has_owner():
            if proc.poll() is not None or time.monotonic() > deadline:
                fail(f"{_BUS_NAME} never appeared on the bus")
            time.sleep(0.05)
        return ss

    def client_env(self):
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **self.env}

    def has_owner(self):
        r = subprocess.run(
            ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
             "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
             "string:" + _BUS_NAME],
            env=self.client_env(), capture_output=True, text=True, timeout=10)
        return r.returncode == 0 and "boolean true" in r.stdout

    def secret_tool(self, *args, input=None):
        return subprocess.run(["secret-tool", *args], env=self.client_env(), input=input,
                              capture_output=True, text=True, timeout=30)

    def lookup(self, provider, kind):
        """The secret stored for provider and kind, or None."""
        r = self.secret_tool("lookup", "provider", provider, "kind", kind)
        return r.stdout if r.returncode == 0 and r.stdout else None

    def items(self, provider):
        """Every item of the provider: [{"label": ..., "schema": ..., "secret": ...}]."""
        r = self.secret_tool("search", "--all", "provider", provider)
        items = []
        # "[/path]", then "key = value" lines (the attributes go to stderr: not parsed).
        for line in r.stdout.splitlines():
            if line.startswith("["):
                items.append({})
            elif " = " in line and items:
                k, v = line.split(" = ", 1)
                items[-1][k] = v
        return items

    def clear(self, provider):
        self.secret_tool("clear", "provider", provider)

    def lock(self):
        """Locks the default collection (unlocking it would need a prompt)."""
        r = subprocess.run(
            ["dbus-send", "--session", "--print-reply", "--dest=" + _BUS_NAME,
             "/org/freedesktop/secrets", "org.freedesktop.Secret.Service.Lock",
             "array:objpath:/org/freedesktop/secrets/aliases/default"],
            env=self.client_env(), capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise SecretServiceError(f"Lock failed: {r.stderr}")

    def stop(self):
        """Ends the keyring daemon by its PID; dbus-run-session then ends the bus."""
        proc = self.proc
        if proc is None:
            return
        self.proc = None
        terminate(proc, 10, pid=self.keyring_pid, kill=_kill_group)
        proc.stdout.close()


def _kill_group(proc):
    """SIGKILL to the process group we started (dbus-run-session, its bus, the daemon)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
