"""What the test servers share (tests/idp/server.js, tests/sts/server.js): started with
node, each prints one JSON line {"port": N, "base": "http://127.0.0.1:N"} on stdout when it
listens; it is stopped by its PID; its log (stderr) goes to a temporary file; its test
controls are JSON under /__test/.

Standard library only. tests/idp/harness.py and tests/sts/harness.py subclass NodeServer.
"""

import atexit
import json
import os
import selectors
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

# The servers listen on 127.0.0.1: never through a proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def terminate(proc, timeout, pid=None, kill=None):
    """SIGTERM to pid (default: proc's), then waits up to timeout s for proc to end; past
    that, kill(proc) (default: SIGKILL to proc) and wait."""
    try:
        os.kill(pid or proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        if kill:
            kill(proc)
        else:
            proc.kill()
        proc.wait()


class NodeServer:
    """A running server. Subclasses set `error` (the exception they raise) and `what` (the
    server's name in messages), and build `args` for launch()."""

    error = RuntimeError
    what = "the server"

    def __init__(self, proc, port, base, stderr_path=None, keep_log=False):
        self.proc = proc
        self.port = port
        self.base = base
        self.pid = proc.pid
        self.stderr_path = stderr_path
        self.keep_log = keep_log
        atexit.register(self.stop)

    @classmethod
    def launch(cls, args, cwd, timeout, stderr, keep_log, log_prefix):
        """Runs args in cwd (own session, stdin closed) and waits up to timeout s for the
        ready line. stderr: None writes the log to a temporary file (read it with
        stderr_text(); stop() deletes it unless keep_log); or a file object /
        subprocess.DEVNULL. Returns (proc, port, base, stderr_path)."""
        stderr_path = None
        close_after = None
        if stderr is None:
            fd, stderr_path = tempfile.mkstemp(prefix=log_prefix, suffix=".log")
            stderr = close_after = os.fdopen(fd, "w")
        try:
            proc = subprocess.Popen(args, cwd=cwd, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=stderr,
                                    start_new_session=True)
        finally:
            if close_after is not None:
                close_after.close()

        def fail(msg):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            text = ""
            if stderr_path:
                with open(stderr_path, errors="replace") as f:
                    text = f.read()[-4000:]
                if not keep_log:
                    os.unlink(stderr_path)
            raise cls.error(f"{msg}\n--- server stderr ---\n{text}")

        line = b""
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        try:
            while not line.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0:
                    fail(f"{cls.what} did not start within {timeout:g} s")
                if not sel.select(left):
                    continue
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    fail(f"{cls.what} exited (status {proc.wait()}) before it was ready")
                line += chunk
        finally:
            sel.close()
        try:
            ready = json.loads(line.decode())
            return proc, int(ready["port"]), ready["base"], stderr_path
        except (ValueError, KeyError) as err:
            fail(f"unexpected ready line from {cls.what}: {line!r} ({err})")

    def stop(self):
        """SIGTERM to our own process (by PID), then SIGKILL after 5 s. Safe to call twice."""
        proc = self.proc
        if proc is None:
            return
        self.proc = None
        try:
            atexit.unregister(self.stop)
        except Exception:
            pass
        if proc.poll() is None:
            terminate(proc, 5)
        if proc.stdout:
            proc.stdout.close()
        if self.stderr_path and not self.keep_log:
            try:
                os.unlink(self.stderr_path)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stderr_text(self):
        """The server's stderr so far (when started with stderr=None)."""
        if not self.stderr_path or not os.path.exists(self.stderr_path):
            return ""
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def _control(self, method, path, body=None):
        """A test control: METHOD /__test/PATH with a JSON body; the JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + "/__test/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with OPENER.open(req, timeout=10) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as err:
            raise self.error(f"{method} /__test/{path}: HTTP {err.code}: "
                             f"{err.read().decode(errors='replace')}") from None
