"""Helpers shared by the fault, hostile-state and secret tests: a quick real session, the
state directory as a snapshot, and what "one clear line" means."""
import json
import os
import re
import stat
import time

from approve import approve
from harness import NATIVE_CLIENT

SCOPES = "openid profile email groups offline_access"


def utc(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def session_json(env, org_url=None, access_token="seeded-access-token-0123456789abcdef",
                 refresh_token="seeded-refresh-token-0123456789abcdef", id_token=None,
                 expires_in=-60, server="default", client_id=NATIVE_CLIENT):
    """tokens.json text for env's okta-oidc provider; expires_in < 0: already expired."""
    now = time.time()
    t = {"access_token": access_token, "token_type": "Bearer", "expires_in": 3600,
         "expires_at": utc(now + expires_in), "refresh_token": refresh_token,
         "scope": SCOPES, "obtained_at": utc(now - 3600),
         "org_url": org_url or env.idp.base, "client_id": client_id,
         "authorization_server": server, "scopes": SCOPES}
    if id_token:
        t["id_token"] = id_token
    return json.dumps(t)


def write_session(env, text, name="okta-oidc"):
    """Writes tokens.json the way oktacred would have: 0600 in 0700 directories."""
    d = env.provider_dir(name)
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    for p in (env.root, env.root / "okta", d):
        os.chmod(p, 0o700)
    path = env.tokens_path(name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def real_session(env, expired=True, server="default"):
    """A session the identity provider knows, made without running oktacred: device
    authorization, approval through /activate, one poll (the first poll of a code is
    never too early). Written as tokens.json; expired=True backdates the access token so
    the next command refreshes. Returns the token answer."""
    idp = env.idp
    d = idp.device_authorize(server)
    approve(idp.base, d["user_code"])
    status, body = idp.poll(d["device_code"], server=server)
    assert status == 200, body
    write_session(env, session_json(env, access_token=body["access_token"],
                                    refresh_token=body["refresh_token"],
                                    id_token=body["id_token"], server=server,
                                    expires_in=-60 if expired else body["expires_in"]))
    return body


def snapshot(root):
    """Every file and directory under root: {relative path: (kind, mode, bytes)}; symlinks
    are recorded, never followed."""
    out = {}
    root = str(root)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    data = f.read()
                out[rel] = ("file", stat.S_IMODE(st.st_mode), data)
            elif stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", 0, os.readlink(p))
            else:
                out[rel] = ("dir" if stat.S_ISDIR(st.st_mode) else "other",
                            stat.S_IMODE(st.st_mode), b"")
    return out


def without_lock(snap):
    """Files and links only, without the lock file: the lock and the directories holding it
    are created on first use (a login makes them before asking anyone to approve) and hold
    nothing."""
    return {k: v for k, v in snap.items()
            if v[0] != "dir" and os.path.basename(k) != ".lock"}


STOP_WORDS = {"a", "an", "the", "of", "to", "at", "in", "on", "is", "for", "and", "or",
              "not", "no", "by", "with", "from", "as", "it", "its", "be"}


def repeated_phrase(line):
    """A phrase said twice in line, or None: three words in a row, or two that are not both
    small words ("cannot reach X: cannot reach X: ...", "Couldn't connect to server (...:
    Couldn't connect to server)"). Quoted server text (an excerpt of an answer, from its
    first quote to the last) and the redaction markers are left out: the server's to repeat."""
    line = re.sub(r'".*"', " ", line.replace("<redacted>", " "))
    words = re.findall(r"[a-z0-9][a-z0-9'._/-]*", line.lower())
    words = [w.rstrip(".") for w in words]
    seen = set()
    for n in (3, 2):
        for i in range(len(words) - n + 1):
            gram = tuple(words[i:i + n])
            if n == 2 and all(w in STOP_WORDS for w in gram):
                continue
            if gram in seen:
                return " ".join(gram)
            seen.add(gram)
    return None


def assert_says_once(line):
    """Messages say a thing once: each layer adds context once."""
    again = repeated_phrase(line)
    assert again is None, "%r said twice in %r" % (again, line)


def assert_one_clear_line(r, *needles, hint=None):
    """The failure contract: nothing on stdout; on stderr one line "oktacred: what: why"
    (plus at most one hint line), printable, containing every needle (case-insensitive)."""
    assert r.stdout == "", r.stdout
    assert r.returncode > 0, "killed by a signal? %d" % r.returncode
    lines = r.stderr.splitlines()
    assert r.stderr.endswith("\n") and 1 <= len(lines) <= 2, r.stderr
    assert lines[0].startswith("oktacred: "), r.stderr
    assert len(lines[0]) < 400, "not a short line: %r" % lines[0]
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", r.stderr), \
        "control characters reached the terminal: %r" % r.stderr
    for n in needles:
        assert n.lower() in lines[0].lower(), (n, r.stderr)
    assert_says_once(lines[0])
    if hint is not None:
        assert len(lines) == 2 and hint.lower() in lines[1].lower(), r.stderr
    return lines[0]
