"""A canned HTTP or HTTPS server on 127.0.0.1, for what the identity provider's fault
injection cannot do: TLS with a certificate of our own making, bodies of many megabytes,
headers that never end. Standard library only; certificates are made with the openssl CLI.

    certs = make_certs(tmp_dir)              # test CA, a leaf for 127.0.0.1 / localhost,
                                             # a leaf for another host, a self-signed leaf
    with CannedServer(tls=(certs.leaf, certs.leaf_key)) as srv:
        srv.url                              # https://127.0.0.1:PORT
        srv.answers.append(Answer(200, body=b"{...}"))   # served in order, then `default`
        srv.requests                         # [(method, path, headers, body)], in order
        srv.tls_failures                     # handshakes that failed (e.g. cert refused)

The default answer to a POST is a fresh token answer (access and refresh token, no ID
token), so a refresh through this server succeeds.
"""
import collections
import http.server
import itertools
import json
import os
import socket
import socketserver
import ssl
import subprocess
import threading

Certs = collections.namedtuple(
    "Certs", "ca ca_key leaf leaf_key wrong_host wrong_host_key self_signed self_signed_key")


def _openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args), r.stderr.strip()))


def make_certs(directory):
    """A test CA and three server certificates (EC P-256, valid two days) in directory:
    leaf (127.0.0.1 and localhost, signed by the CA), wrong_host (example.com, signed by the
    CA) and self_signed (127.0.0.1, signed by itself). Returns Certs of absolute paths."""
    d = os.path.abspath(str(directory))
    os.makedirs(d, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=oktacred test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)

    def leaf(name, san, signer):
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                    "extendedKeyUsage=serverAuth\nsubjectAltName=%s\n" % san)
        if signer is None:
            _openssl("req", "-x509", *ec, "-keyout", name + ".key", "-out", name + ".pem",
                     "-days", "2", "-subj", "/CN=127.0.0.1",
                     "-addext", "subjectAltName=" + san, cwd=d)
            return
        _openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr",
                 "-subj", "/CN=" + san.split(":", 1)[1].split(",")[0], cwd=d)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", name + ".pem", "-days", "2",
                 "-extfile", name + ".ext", cwd=d)

    leaf("leaf", "IP:127.0.0.1,DNS:localhost", "ca")
    leaf("wrong", "DNS:example.com", "ca")
    leaf("self", "IP:127.0.0.1,DNS:localhost", None)
    p = lambda n: os.path.join(d, n)  # noqa: E731
    return Certs(p("ca.pem"), p("ca.key"), p("leaf.pem"), p("leaf.key"), p("wrong.pem"),
                 p("wrong.key"), p("self.pem"), p("self.key"))


class Answer:
    """One canned answer. body: bytes, or an int n for n bytes of a JSON string sent in
    1 MiB chunks (never held in memory at once). chunked: no Content-Length.
    endless_header: a header line that never ends (until the client gives up)."""

    def __init__(self, status=200, body=b"", headers=None, chunked=False,
                 content_type="application/json", endless_header=False):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.chunked = chunked
        self.content_type = content_type
        self.endless_header = endless_header


def _big_json_chunks(n):
    """n bytes that are one JSON object: {"access_token":"xxxx...."}."""
    head, tail = b'{"access_token":"', b'"}'
    fill = n - len(head) - len(tail)
    yield head
    block = b"x" * (1 << 20)
    while fill > 0:
        k = min(fill, len(block))
        yield block[:k]
        fill -= k
    yield tail


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _answer(self):
        srv = self.server.canned
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with srv.lock:
            srv.requests.append((self.command, self.path, dict(self.headers), body))
            ans = srv.answers.popleft() if srv.answers else None
        if ans is None:
            ans = srv.default_answer()
        try:
            self._send(ans)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass  # the client gave up, as it should on a body over its cap
        self.close_connection = True

    def _send(self, ans):
        self.send_response(ans.status)
        self.send_header("Content-Type", ans.content_type)
        self.send_header("Connection", "close")
        for k, v in ans.headers.items():
            self.send_header(k, v)
        if ans.endless_header:
            self.end_headers = lambda: None  # noqa: E731
            self.wfile.write(b"".join(self._headers_buffer))
            self._headers_buffer = []
            self.wfile.write(b"X-Endless: ")
            chunk = b"a" * 65536
            for _ in range(160):  # 10 MiB of one header line
                self.wfile.write(chunk)
            return
        if isinstance(ans.body, int):
            parts, size = _big_json_chunks(ans.body), ans.body
        else:
            parts, size = [ans.body], len(ans.body)
        if ans.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in parts:
                if part:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(size))
            self.end_headers()
            for part in parts:
                self.wfile.write(part)

    do_POST = _answer
    do_GET = _answer


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, canned):
        self.canned = canned
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request, client_address):
        ctx = self.canned.tls_context
        if ctx is not None:
            try:
                request.settimeout(10)
                request = ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                with self.canned.lock:
                    self.canned.tls_failures += 1
                return
        super().finish_request(request, client_address)


class CannedServer:
    """See the module's docstring. tls: (cert_path, key_path) or None for plain HTTP."""

    def __init__(self, tls=None):
        self.lock = threading.Lock()
        self.answers = collections.deque()
        self.requests = []
        self.tls_failures = 0
        self._counter = itertools.count(1)
        self.tls_context = None
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.tls_context = ctx
        self._server = _Server(self)
        self.port = self._server.server_address[1]
        self.url = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.port)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def default_answer(self):
        n = next(self._counter)
        body = json.dumps({
            "access_token": "canned-access-token-%04d-%s" % (n, os.urandom(12).hex()),
            "token_type": "Bearer", "expires_in": 3600,
            "refresh_token": "canned-refresh-token-%04d-%s" % (n, os.urandom(12).hex()),
            "scope": "openid profile email groups offline_access"}).encode()
        return Answer(200, body=body)

    def posts(self):
        return [r for r in self.requests if r[0] == "POST"]

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def closed_port():
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class SilentListener:
    """A socket that listens and never accepts: the kernel completes the TCP handshake
    (the backlog), then nothing is ever said. For connect-but-no-answer timeouts."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
