"""Finding secrets in what oktacred writes (issue 7, part 5).

Two uses:

- test_secrets.py runs commands with --debug -v and hands their output to Scanner.
- OKTACRED_TEST_DEBUG=1 scripts/test-integration.sh: conftest.py replaces the oktacred
  binary by a wrapper (install()) that adds --debug -v to every invocation in the suite,
  direct ones through a shell included, and tees every byte written to stdout and stderr to
  a capture directory (OKTACRED_TEST_CAPTURE, default a new directory under /tmp) along with
  the argv and the secrets on disk before the run. After each test, check_test() scans the
  test's captures; a leak fails that test. The test itself sees its output as it would
  without the switch: debug lines, and the verbose lines the source can print, are taken out
  of stderr unless the test asked for --debug or -v itself.

What counts as a secret: access, refresh and ID tokens, device codes, client secrets,
private keys, client assertions, AWS secret keys and session tokens. Found by:
- value: every token in tokens.json / credentials.json (before each run and at the end of
  the test, so rotated-out refresh tokens are known too), the config's client_secret, the
  PEM keys under the test's directory and in the environment given to oktacred;
- hash: device codes, by the sha256 prefix the identity provider logs (device_code_hash);
- shape: any JWT (an ID token, a JWT access token, a client assertion), and any word of
  exactly 43 base64url characters (the test provider's opaque tokens and codes), but for
  the PKCE code_challenge of an authorization URL (public by design).

Where a secret may appear: nowhere on stderr; on stdout only for commands whose job is to
print one (token, env, credential-process, credential, exec: the child's output; dpop-proof: a
DPoP proof, a JWT) and then only access and ID tokens, SSWS API tokens and AWS credentials,
never a refresh token, device code, client secret, private key or client assertion.
"""
import base64
import hashlib
import json
import os
import re
import stat
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ENABLED = os.environ.get("OKTACRED_TEST_DEBUG") == "1"
PRINTING_COMMANDS = {"token", "env", "credential-process", "credential", "exec", "dpop-proof"}

JWT_RE = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
OPAQUE_RE = re.compile(rb"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_=-])")
WORD_RE = re.compile(rb"[A-Za-z0-9_.~+/=-]{16,}")
# The PKCE code challenge of the authorization URL the browser and paste flows print: 43
# base64url characters too, but a SHA-256 of the verifier, made to travel in the open.
PUBLIC_43 = b"code_challenge="
MIN_SECRET = 16  # shorter "tokens" are test fakes like "abc": too short to search for

# Values of these keys are secrets; the first set may be printed by a printing command.
PRINTABLE_KEYS = {"access_token", "id_token", "SecretAccessKey", "SessionToken", "Token"}
NEVER_KEYS = {"refresh_token", "client_secret", "device_code", "client_assertion"}


def _b64json(part):
    try:
        return json.loads(base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4)))
    except ValueError:
        return None


def _walk_json(obj, found):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, str) and len(v) >= MIN_SECRET:
                if k in NEVER_KEYS:
                    found["never"].add(v)
                elif k in PRINTABLE_KEYS:
                    found["printable"].add(v)
            else:
                _walk_json(v, found)
    elif isinstance(obj, list):
        for v in obj:
            _walk_json(v, found)


def secrets_in_state(text, found):
    """Adds the tokens of tokens.json / credentials.json text (several concatenated
    objects are fine) to found."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    dec = json.JSONDecoder()
    i = 0
    while i < len(text):
        j = text.find("{", i)
        if j < 0:
            break
        try:
            obj, end = dec.raw_decode(text, j)
        except ValueError:
            i = j + 1
            continue
        _walk_json(obj, found)
        i = end


def secrets_in_pem(text, found):
    """The base64 lines of every PEM private key in text."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    for m in re.finditer(r"-----BEGIN [A-Z ]*PRIVATE KEY-----(.*?)-----END", text, re.S):
        for line in m.group(1).split():
            if len(line) >= 32:
                found["never"].add(line)


def secrets_in_config(text, found):
    for m in re.finditer(r"(?m)^\s*client_secret\s*=\s*(\S.*?)\s*$", text):
        v = m.group(1)
        if not v.startswith("${") and len(v) >= 8:
            found["never"].add(v)


def new_found():
    return {"printable": set(), "never": set(), "device_hashes": set()}


def command_of(argv):
    """The oktacred command in argv (after the global options), or None."""
    it = iter(argv)
    for a in it:
        if a == "--config":
            next(it, None)
        elif a.startswith("-"):
            continue
        else:
            return a
    return None


def _is_client_assertion(jwt):
    payload = _b64json(jwt.split(b".")[1])
    return (isinstance(payload, dict) and isinstance(payload.get("aud"), str)
            and payload["aud"].endswith("/token") and "jti" in payload
            and payload.get("iss") == payload.get("sub"))


def scan(argv, stdout, stderr, found):
    """Leaks in one run's output: a list of human-readable findings."""
    leaks = []
    cmd = command_of(argv)
    printing = cmd in PRINTING_COMMANDS
    streams = (("stderr", stderr, False), ("stdout", stdout, printing))
    for name, data, may_print in streams:
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        if not data:
            continue
        for s in found["never"]:
            if s.encode() in data:
                leaks.append("%s: %s holds a secret that is never printed (%s...)"
                             % (cmd, name, s[:12]))
        if not may_print:
            for s in found["printable"]:
                if s.encode() in data:
                    leaks.append("%s: %s holds a token (%s...)" % (cmd, name, s[:12]))
        for m in JWT_RE.finditer(data):
            jwt = m.group(0)
            if not may_print:
                leaks.append("%s: %s holds a JWT (%s...)" % (cmd, name, jwt[:24].decode()))
            elif _is_client_assertion(jwt):
                leaks.append("%s: %s holds a client assertion" % (cmd, name))
        if not may_print:
            for m in OPAQUE_RE.finditer(data):
                w = m.group(0)
                if data[max(0, m.start() - len(PUBLIC_43)):m.start()] == PUBLIC_43:
                    continue
                leaks.append("%s: %s holds a token-like word (%s...)"
                             % (cmd, name, w[:12].decode()))
        if found["device_hashes"]:
            for m in WORD_RE.finditer(data):
                if hashlib.sha256(m.group(0)).hexdigest()[:12] in found["device_hashes"]:
                    leaks.append("%s: %s holds a device code" % (cmd, name))
    return leaks


def idp_device_hashes(idp, found):
    try:
        for e in idp.log():
            if e.get("device_code_hash"):
                found["device_hashes"].add(e["device_code_hash"])
    except Exception:  # the provider may be gone at the end of the session
        pass


def state_files(root, limit=2 << 20):
    """Contents of tokens.json / credentials.json (and .corrupt) under root: regular files
    only (never a FIFO or a link), opened without blocking."""
    out = []
    for dirpath, _, files in os.walk(root):
        for f in files:
            if not (f.startswith("tokens.json") or f.startswith("credentials.json")):
                continue
            p = os.path.join(dirpath, f)
            try:
                st = os.lstat(p)
                if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
                    continue
                fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
                with os.fdopen(fd, "rb") as fh:
                    out.append(fh.read())
            except OSError:
                pass
    return out


# -- the suite-wide switch ------------------------------------------------------------------

WRAPPER = r"""#!/bin/bash
# oktacred with --debug -v, every byte it writes captured (OKTACRED_TEST_DEBUG=1).
# The helpers below must not show in what a test traces of oktacred: no LD_DEBUG for them,
# and under a tracer (strace counting the files oktacred opens) no look at its state.
ld_debug=${LD_DEBUG-} ld_debug_output=${LD_DEBUG_OUTPUT-}
unset LD_DEBUG LD_DEBUG_OUTPUT
cap=%(capdir)s/$(date +%%s%%N)-$$
printf '%%s\0' "$@" > "$cap.argv"
root="${XDG_CONFIG_HOME:-$HOME/.config}"
case "$root" in /*) ;; *) root="$HOME/.config" ;; esac
printf '%%s\n' "$root/oktacred" "${OKTACRED_CONFIG:-}" > "$cap.where"
if grep -qs '^TracerPid:[[:space:]]*0$' /proc/$$/status; then
    find -P "$root/oktacred" -maxdepth 5 -type f \( -name 'tokens.json*' -o -name 'credentials.json*' \) \
        -size -2048k -exec cat {} + > "$cap.state" 2>/dev/null
fi
for n in $(compgen -e); do
    case "$n" in *_TOKEN_TYPE) ;; *KEY*|*SECRET*|*TOKEN*|*PASSWORD*) printf '%%s=%%s\0' "$n" "${!n}" ;; esac
done > "$cap.env"
fds=" $(cd /proc/$$/fd && echo *) "
# The capturing helpers ignore SIGHUP: when oktacred leads a session on a pseudo-terminal
# and exits, the hangup sent to its process group must not cut what they still pass on.
exec > >(trap '' HUP; exec tee -p -a "$cap.out") 2> >(trap '' HUP; exec %(python)s -u %(me)s filter "$cap.err" "$@")
# bash keeps the pipes of >(...) open on high descriptors: none of them for oktacred.
for p in /proc/$$/fd/*; do
    n=${p##*/}
    case "$fds" in *" $n "*) ;; *) [ "$n" -gt 2 ] && eval "exec $n>&-" ;; esac
done
[ -n "$ld_debug" ] && export LD_DEBUG="$ld_debug"
[ -n "$ld_debug_output" ] && export LD_DEBUG_OUTPUT="$ld_debug_output"
exec %(real)s --debug -v "$@"
"""

_state = {"capdir": None, "patterns": None}

# Tests that watch oktacred's own process with strace -f would see the wrapper's shell and
# helpers too: skipped under the switch, saying why.
NOT_UNDER_WRAPPER = {
    "test_aws.py::test_cached_path_reads_one_file_and_makes_no_connection":
        "strace -f of oktacred would trace the capturing wrapper's shell and helpers too",
}


def not_under_wrapper(nodeid):
    """The reason to skip this test under OKTACRED_TEST_DEBUG=1, or None."""
    if not ENABLED:
        return None
    for suffix, why in NOT_UNDER_WRAPPER.items():
        if nodeid.endswith(suffix):
            return "OKTACRED_TEST_DEBUG=1: " + why
    return None


def install(real):
    """Returns the oktacred to run: the real binary, or with OKTACRED_TEST_DEBUG=1 the
    capturing wrapper (made once per session)."""
    if not ENABLED:
        return real
    capdir = os.environ.get("OKTACRED_TEST_CAPTURE") or tempfile.mkdtemp(
        prefix="oktacred-capture-")
    os.makedirs(capdir, exist_ok=True)
    with open(os.path.join(capdir, "verbose-patterns.json"), "w") as f:
        json.dump(verbose_patterns(), f)
    wrapper = os.path.join(capdir, "oktacred")
    with open(wrapper, "w") as f:
        f.write(WRAPPER % {"capdir": capdir, "python": sys.executable,
                           "me": os.path.abspath(__file__), "real": real})
    os.chmod(wrapper, 0o755)
    _state["capdir"] = capdir
    sys.stderr.write("OKTACRED_TEST_DEBUG=1: oktacred runs with --debug -v; output in %s\n"
                     % capdir)
    _hook_idp()
    return wrapper


def _hook_idp():
    """Device codes are known by hash from the provider's log, which tests reset: collect
    before every reset."""
    from harness import IdP
    orig = IdP.reset

    def reset(self):
        idp_device_hashes(self, _session_found)
        return orig(self)
    IdP.reset = reset


_session_found = new_found()


def captures():
    d = _state["capdir"]
    if not d:
        return set()
    return {f[:-5] for f in os.listdir(d) if f.endswith(".argv")}


def check_test(request, before):
    """Scans the captures made since `before`; returns the findings."""
    new = sorted(captures() - before)
    if not new:
        return []
    if "idp" in request.fixturenames:
        idp_device_hashes(request.getfixturevalue("idp"), _session_found)
    found = new_found()
    found["device_hashes"] |= _session_found["device_hashes"]
    d = _state["capdir"]
    roots, configs = set(), set()

    def read(p):
        try:
            with open(p, "rb") as f:
                return f.read()
        except OSError:
            return b""
    for c in new:
        base = os.path.join(d, c)
        secrets_in_state(read(base + ".state"), found)
        for item in read(base + ".env").split(b"\0"):
            if b"=" in item:
                v = item.split(b"=", 1)[1].decode("utf-8", "replace")
                if "PRIVATE KEY" in v:
                    secrets_in_pem(v, found)
                elif len(v) >= MIN_SECRET and not v.startswith("stale-"):
                    found["printable"].add(v)
        where = read(base + ".where").decode(errors="replace").splitlines()
        if where:
            roots.add(where[0])
            configs.add(os.path.join(where[0], "config"))
        if len(where) > 1 and where[1]:
            configs.add(where[1])
    for r in roots:  # the state at the end of the test
        for text in state_files(r):
            secrets_in_state(text, found)
    for cfg in configs:
        try:
            with open(cfg, errors="replace") as f:
                secrets_in_config(f.read(), found)
        except OSError:
            pass
    # Private keys: the PEM files of the test's directory (conftest's Env keeps the state in
    # TMP/home/.config/oktacred).
    for r in roots:
        if not r.endswith("/home/.config/oktacred"):
            continue
        for dirpath, _, files in os.walk(r[:-len("/home/.config/oktacred")]):
            for f in files:
                if f.endswith((".pem", ".key")):
                    secrets_in_pem(read(os.path.join(dirpath, f)), found)
    from harness import SECRET
    found["never"].add(SECRET)
    leaks = []
    for c in new:
        base = os.path.join(d, c)
        argv = [a.decode(errors="replace") for a in read(base + ".argv").split(b"\0")[:-1]]
        for leak in scan(argv, read(base + ".out"), read(base + ".err"), found):
            leaks.append("%s (oktacred %s; capture %s)" % (leak, " ".join(argv)[:80], base))
    return leaks


# -- what a test sees of stderr: without the lines the switch added --------------------------

def _c_string_literals(text):
    out = []
    for m in re.finditer(r'"((?:[^"\\\n]|\\.)*)"', text):
        out.append(m.group(1).encode().decode("unicode_escape"))
    return "".join(out)


def verbose_patterns():
    """Regular expressions of every log_verbose() line the source can print, made from
    its format strings (literal text of 10 characters or more only, so that a pattern
    like "%s: %s" never hides an error line)."""
    pats = []
    call = re.compile(r'log_verbose\(\s*((?:"(?:[^"\\\n]|\\.)*"\s*)+)')
    for dirpath, _, files in os.walk(os.path.join(ROOT, "src")):
        for f in files:
            if not f.endswith(".c"):
                continue
            with open(os.path.join(dirpath, f), errors="replace") as fh:
                src = fh.read()
            for m in call.finditer(src):
                fmt = _c_string_literals(m.group(1))
                literal = re.sub(r"%[-+ #0-9.*]*[hlLqjzt]*[a-zA-Z%]", "", fmt)
                if len(literal) < 10:
                    continue
                rx, i = "", 0
                for part in re.finditer(r"%[-+ #0-9.*]*[hlLqjzt]*([a-zA-Z%])", fmt):
                    rx += re.escape(fmt[i:part.start()])
                    rx += "%" if part.group(1) == "%" else ".*?"
                    i = part.end()
                rx += re.escape(fmt[i:])
                pats.append("^oktacred: " + rx + "$")
    return sorted(set(pats))


def _filter_main(capfile, args):
    """stdin: oktacred's stderr. Everything goes to capfile; what the test would have seen
    without --debug -v goes on to our stderr, line by line as it comes."""
    opts = []
    for a in args:
        if a == "--":
            break
        opts.append(a)
    keep_debug = "--debug" in opts
    keep_verbose = keep_debug or "-v" in opts or "--verbose" in opts
    with open(os.path.join(os.path.dirname(capfile), "verbose-patterns.json")) as f:
        verbose = [re.compile(p.encode()) for p in json.load(f)]
    cap = open(capfile, "ab", buffering=0)
    out = sys.stderr.buffer
    pending = b""

    def passes(line):
        body = line.rstrip(b"\n")
        if body.startswith(b"oktacred: debug: ") and not keep_debug:
            return False
        if not keep_verbose and any(p.match(body) for p in verbose):
            return False
        return True

    def emit(data):
        try:
            out.write(data)
            out.flush()
        except (BrokenPipeError, OSError):
            pass
    while True:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        cap.write(chunk)
        pending += chunk
        *lines, pending = pending.split(b"\n")
        emit(b"".join(line + b"\n" for line in lines if passes(line + b"\n")))
        # A prompt without a newline yet: pass it on now unless it may be a log line.
        if pending and not b"oktacred: ".startswith(pending[:10]):
            emit(pending)
            pending = b""
    if pending and passes(pending):
        emit(pending)
    cap.close()


if __name__ == "__main__" and len(sys.argv) >= 3 and sys.argv[1] == "filter":
    _filter_main(sys.argv[2], sys.argv[3:])
