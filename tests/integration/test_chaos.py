"""A bounded chaos test: about 30 s of concurrent `refresh`, `token`, `credential-process`,
`logout` and `login --force` (alice, then bob, then alice ...), with SIGINT and kill -9 sent
at random moments to token and refresh processes in flight.

The IdP runs with short token lifetimes (refreshes all the time), no grace period for a
rotated-out refresh token (any replay is in its log as invalid_grant, "refresh token
already used") and token answers held back 200 ms (signals land while a refresh is in
flight). The fake STS answers in 700 ms and its credentials need renewing after 1 s:
credential-process takes both its cache-hit path and its STS path, and logins and logouts
finish while one renews the credentials and others wait for it with the tokens they read.

Afterwards, from what was recorded (each command's start, end and exit, every signal sent,
when each login and logout finished) and from the IdP's and the STS's logs:
- tokens.json and credentials.json parsed whenever they were read, and at the end;
- no command crashed, hung, or exited with a status it should not have;
- no credential handed out by credential-process belongs to a session that had ended (a
  later login or a logout had finished) before that credential-process started;
- every refresh answer lost on the way, and every replay of a rotated-out refresh token, is
  explained by a kill -9: a SIGINT must wait until the answer is saved;
- no temporary file of a killed write remains once a lock has been taken again;
- a fresh login, token and credential-process work.

Random choices come from a seed, printed first and in every failure; OKTACRED_CHAOS_SEED=N
repeats them (the threads' interleaving still varies). OKTACRED_CHAOS_SECONDS=S sets the
length of the chaos (default 30, 5 to 600).
"""
import json
import os
import random
import signal
import subprocess
import threading
import time
import traceback

import pytest

import secretscan
from approve import approve
from conftest import Login, not_under
from harness import decode_jwt
from test_aws import _reset_sts, aws_config, creds_path, sts  # noqa: F401 (fixtures)

CHAOS_S = min(600.0, max(5.0, float(os.environ.get("OKTACRED_CHAOS_SECONDS") or 30)))
PROC_TIMEOUT = 15        # a command that takes longer has hung: a failure
LOGIN_TIMEOUT = 15       # for each step of a login (the code shown, the approval, the end)
TOKEN_DELAY_MS = 200     # the IdP holds every token answer this long
LATE_S = 1.0             # how much later a held-back answer may still leave (a busy machine)
PASSWORDS = {"alice": "correct horse", "bob": "battery staple"}
SUBJECTS = {"00u-alice": "alice", "00u-bob": "bob"}
REUSE = "refresh token already used"
LOGGED = ("t", "status", "error", "error_detail", "processed", "aborted", "reuse_age_ms")
# Exits that are answers, not failures: 3, login required (logged out, or the session was
# ended by a replay after a kill -9); 130 for what got a SIGINT.
ALLOWED = {"token": {0, 3, 130}, "refresh": {0, 3, 130}, "cp": {0, 3}}


class Run:
    """One command: what, when, how it ended, which signals it got."""

    def __init__(self, kind, args):
        self.kind, self.args = kind, args
        self.start = self.end = None
        self.proc = None
        self.rc = None
        self.out = self.err = ""
        self.signals = []    # (signal number, time sent)
        self.hung = False

    def __repr__(self):
        sigs = "".join(" %s@%.3f" % (signal.Signals(s).name, t) for s, t in self.signals)
        return "<%s [%.3f, %.3f] rc=%s%s stderr=%r>" % (
            " ".join(self.args), self.start, self.end or -1, self.rc, sigs,
            self.err.strip()[-300:])


class Event:
    """A login or logout by the session controller (one at a time)."""

    def __init__(self, kind, user=None):
        self.kind, self.user = kind, user
        self.start = self.end = None
        self.rc = None
        self.err = ""

    def __repr__(self):
        return "<%s%s [%.3f, %.3f] rc=%s>" % (
            self.kind, " " + self.user if self.user else "", self.start, self.end or -1, self.rc)


class Chaos:
    def __init__(self, env, seed):
        self.env, self.seed = env, seed
        self.lock = threading.Lock()
        self.runs = []
        self.live = set()
        self.events = []
        self.problems = []       # seen while it ran: each fails the test
        self.stop_at = None
        self.reads = 0
        self.holders = []        # (time, whose tokens tokens.json held, None: no file)

    def rng(self, name):
        return random.Random("%d/%s" % (self.seed, name))

    def problem(self, what):
        with self.lock:
            self.problems.append(what)

    # -- commands -------------------------------------------------------------------

    def run(self, kind, *args):
        r = Run(kind, args)
        with self.lock:
            r.start = time.time()
            r.proc = self.env.start(*args)
            self.runs.append(r)
            self.live.add(r)
        try:
            out, err = r.proc.communicate(timeout=PROC_TIMEOUT)
        except subprocess.TimeoutExpired:
            r.hung = True
            os.killpg(r.proc.pid, signal.SIGKILL)
            out, err = r.proc.communicate()
        r.end = time.time()
        with self.lock:
            self.live.discard(r)
        r.rc = r.proc.returncode
        r.out, r.err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        return r

    def loop(self, name, kind, args, pace):
        rng = self.rng(name)
        while time.time() < self.stop_at:
            self.run(kind, *args)
            time.sleep(rng.uniform(*pace))  # pacing: no result depends on it

    # -- the session controller: logins and logouts, one at a time -------------------------

    def login(self, user):
        """login --force, approved through the IdP's /activate as do_login does it."""
        ev = Event("login", user)
        ev.start = time.time()
        login = Login(self.env.start("login", "--no-browser", "--force"))
        try:
            code = login.wait_for_code(timeout=LOGIN_TIMEOUT)
            approve(self.env.idp.base, code, username=user, password=PASSWORDS[user])
            ev.rc, _, ev.err = login.finish(timeout=LOGIN_TIMEOUT)
        except Exception as e:
            ev.rc, ev.err = -1, "%s: %s; stderr: %r" % (type(e).__name__, e, login.err[-500:])
        finally:
            login.kill()
        ev.end = time.time()
        self.events.append(ev)
        if ev.rc != 0:
            self.problem("login as %s failed: %r %s" % (user, ev, ev.err))
        elif "as %s@example.com;" % user not in ev.err:
            self.problem("login as %s logged in someone else: %r %s" % (user, ev, ev.err))
        return ev

    def logout(self):
        ev = Event("logout")
        r = self.run("logout", "logout")
        ev.start, ev.end, ev.rc, ev.err = r.start, r.end, r.rc, r.err
        self.events.append(ev)
        if ev.rc != 0:
            self.problem("logout failed: %r %s" % (ev, ev.err))
        return ev

    def controller(self):
        rng = self.rng("controller")
        users = ["bob", "alice"]   # after the first login, alice's: each login changes user
        n = 0
        while True:
            time.sleep(rng.uniform(2.0, 4.0))
            if time.time() > self.stop_at - 1.0:
                return
            if self.events[-1].kind == "login" and rng.random() < 0.3:
                self.logout()
            else:
                self.login(users[n % 2])
                n += 1

    # -- signals -------------------------------------------------------------------

    def killer(self):
        rng = self.rng("killer")
        while time.time() < self.stop_at:
            time.sleep(rng.uniform(0.1, 0.8))
            with self.lock:
                victims = sorted((r for r in self.live if r.kind in ("token", "refresh")),
                                 key=lambda r: r.start)
                if not victims:
                    continue
                r = rng.choice(victims)
                sig = signal.SIGKILL if rng.random() < 0.15 else signal.SIGINT
                if r.proc.poll() is not None:
                    continue
                r.signals.append((sig, time.time()))
                try:
                    os.kill(r.proc.pid, sig)
                except ProcessLookupError:
                    pass

    # -- the caches, read while everything runs -------------------------------------

    def reader(self):
        """Written atomically: whenever they exist, they parse. For the messages, it also
        notes whose tokens tokens.json holds, when that changes."""
        rng = self.rng("reader")
        paths = [self.env.tokens_path(), creds_path(self.env)]
        while time.time() < self.stop_at:
            for p in paths:
                try:
                    text = p.read_text()
                except FileNotFoundError:
                    text = None
                if text is not None:
                    self.reads += 1
                    try:
                        j = json.loads(text)
                    except ValueError as e:
                        self.problem("%s did not parse (%s): %r" % (p.name, e, text[:200]))
                        continue
                if p.name == "tokens.json":
                    who = None
                    if text is not None:
                        try:
                            who = SUBJECTS.get(decode_jwt(j["id_token"])["sub"], "?")
                        except (KeyError, TypeError, ValueError):
                            who = "?"
                    if not self.holders or self.holders[-1][1] != who:
                        self.holders.append((time.time(), who))
            time.sleep(rng.uniform(0.01, 0.05))

    def guarded(self, f, args):
        try:
            f(*args)
        except Exception:
            self.problem("thread %s: %s" % (threading.current_thread().name,
                                             traceback.format_exc()))

    def go(self, seconds):
        self.stop_at = time.time() + seconds
        specs = [("controller", self.controller, ()), ("killer", self.killer, ()),
                 ("reader", self.reader, ())]
        for i in range(2):
            specs.append(("refresh%d" % i, self.loop,
                          ("refresh%d" % i, "refresh", ("refresh", "okta-oidc"), (0.3, 3.0))))
            specs.append(("token%d" % i, self.loop,
                          ("token%d" % i, "token", ("token", "okta-oidc"), (0.05, 0.6))))
        for i in range(3):
            specs.append(("cp%d" % i, self.loop,
                          ("cp%d" % i, "cp", ("credential-process", "aws-dev"), (0.05, 0.4))))
        threads = [threading.Thread(target=self.guarded, name=name, args=(f, a), daemon=True)
                   for name, f, a in specs]
        for t in threads:
            t.start()
        # Each thread ends after its command in progress: a login at worst.
        deadline = self.stop_at + 3 * LOGIN_TIMEOUT
        for t in threads:
            t.join(timeout=max(0.0, deadline - time.time()))
            if t.is_alive():
                self.problem("thread %s did not finish" % t.name)


# ---- what the record says -----------------------------------------------------------------

def sessions_of(events):
    """The controller's sessions: the user, when the login began (no ID token of the session
    can be older) and when the session had certainly ended: the end of the next login or
    logout that succeeded (None: it may be the current one). A failed login may still have
    saved its tokens: it counts as a session but ends none."""
    out = []
    for i, ev in enumerate(events):
        if ev.kind == "login":
            end = next((e.end for e in events[i + 1:] if e.rc == 0), None)
            out.append({"user": ev.user, "begin": ev.start, "end": end, "login": ev})
    return out


def who_at(events, t):
    """Who was logged in at t, by the controller's record."""
    now = "nobody"
    for ev in events:
        if ev.start <= t < ev.end:
            return "%s in progress" % ev.kind
        if ev.end <= t and ev.rc == 0:
            now = ev.user if ev.kind == "login" else "nobody"
    return now


def bad_exits(runs):
    bad = []
    for r in runs:
        sent = {s for s, _ in r.signals}
        if r.kind == "logout":
            continue  # the controller's: any failure is already a problem
        if r.hung:
            bad.append("hung (killed after %d s): %r" % (PROC_TIMEOUT, r))
        elif r.rc < 0 and -r.rc not in sent:
            bad.append("died of %s: %r" % (signal.Signals(-r.rc).name, r))
        elif r.rc > 0 and (r.rc not in ALLOWED[r.kind] or
                           (r.rc == 130 and signal.SIGINT not in sent)):
            bad.append("exit %d: %r" % (r.rc, r))
        elif r.rc == 0 and r.kind == "cp":
            try:
                json.loads(r.out)["AccessKeyId"]
            except (ValueError, KeyError) as e:
                bad.append("not credential_process JSON (%s): %r" % (e, r))
    return bad


def stale_credentials(runs, events, sts_log, holders):
    """Credentials handed out by a credential-process that started after their session had
    ended. The STS log names the user (the web identity's subject) and when STS was asked:
    the ID token it got is of a session of that user that had begun by then, the latest
    such one or an earlier one; if even the latest had ended before credential-process
    started, so had theirs. Users alternate from login to login, so two sessions of one
    user always have the other's in between."""
    issued = {e["access_key_id"]: e for e in sts_log
              if e["action"] == "AssumeRoleWithWebIdentity" and e["status"] == 200}
    sessions = sessions_of(events)
    stale = {}
    for r in runs:
        if r.kind != "cp" or r.rc != 0:
            continue
        try:
            akid = json.loads(r.out)["AccessKeyId"]
        except (ValueError, KeyError):
            continue  # one of the bad exits
        e = issued.get(akid)
        if e is None:
            stale.setdefault(akid, ["never issued by the STS"]).append(r)
            continue
        user = SUBJECTS.get(e["sub"], e["sub"])
        began = [s for s in sessions if s["user"] == user and s["begin"] <= e["t"]]
        latest = max(began, key=lambda s: s["begin"]) if began else None
        if latest is None or (latest["end"] is not None and latest["end"] < r.start):
            why = "%s's, asked of STS at %.3f; %s's latest session by then: %r, ended by %s" % (
                user, e["t"], user, latest and latest["login"], latest and latest["end"])
            stale.setdefault(akid, [why]).append(r)
    return ["%s (%s) handed out %d times, first by %r while %s was logged in; tokens.json "
            "held, from 5 s before: %s" % (
                akid, v[0], len(v) - 1, v[1], who_at(events, v[1].start),
                ", ".join("%s at %.3f" % (who, t) for t, who in holders
                          if v[1].start - 5 <= t <= v[1].end))
            for akid, v in stale.items()]


def unexplained_replays(runs, idp_log):
    """A kill -9 after the IdP rotated the refresh token and before its answer was saved
    loses the new token; the next refresh presents the old one and, with no grace period,
    the session ends (as at Okta past its grace period). That is what kill -9 costs. A
    SIGINT must never: it is deferred until the answer is saved. So every answer lost on
    the way and every replay must each have a kill -9 of its own to explain it."""
    grants = [{k: e.get(k) for k in LOGGED} for e in idp_log
              if e.get("grant_type") == "refresh_token"]
    kills = sorted(((t, r) for r in runs if r.kind in ("token", "refresh")
                    for s, t in r.signals if s == signal.SIGKILL), key=lambda k: k[0])
    lost = [e for e in grants if e["processed"] and e["aborted"] and e["status"] == 200]
    replays = [e for e in grants if REUSE in (e.get("error_detail") or "")]
    unexplained = []
    used = set()
    for e in lost:
        # A process alive when the request came, killed before the answer reached it: after
        # the request came (less a little: the request may be read after the sender died)
        # and, since refreshes take the provider's lock, before the next refresh came,
        # which the sender's death let in.
        after = [g["t"] for g in grants if g["t"] > e["t"]]
        until = min(after + [e["t"] + TOKEN_DELAY_MS / 1000 + LATE_S])
        k = next((i for i, (t, r) in enumerate(kills) if i not in used and r.start <= e["t"]
                  and e["t"] - 0.05 <= t <= until), None)
        if k is None:
            unexplained.append("refresh answer lost, no kill -9 while it was held back: %r" % e)
        else:
            used.add(k)
    used = set()
    for e in replays:
        # A process killed -9 before the replay, after a refresh had succeeded at the IdP
        # during its life (answered too late for it, or answered and not yet saved).
        k = next((i for i, (t, r) in enumerate(kills) if i not in used and t < e["t"] and any(
            g["status"] == 200 and r.start <= g["t"] <= t for g in grants)), None)
        if k is None:
            unexplained.append("refresh token replayed, no kill -9 to explain it: %r" % e)
        else:
            used.add(k)
    return unexplained, {"grants": len(grants), "lost": len(lost), "replays": len(replays),
                         "kills": len(kills)}


def leftovers(env):
    """What else is in the provider's and aws-dev's directories: temporaries of a killed
    write (.tokens.json.XXXXXX), .corrupt copies ..."""
    found = []
    for d, keep in ((env.provider_dir(), {"tokens.json", "jwks.json", ".lock"}),
                    (creds_path(env).parent, {"credentials.json", ".lock"})):
        if d.is_dir():
            found += [str(d / f) for f in sorted(os.listdir(d)) if f not in keep]
    return found


@not_under("valgrind", "the signals would land in valgrind, and it is too slow for chaos")
def test_chaos(env, sts):
    if secretscan.ENABLED:
        pytest.skip("OKTACRED_TEST_DEBUG=1: the signals would land in the capturing wrapper")
    seed = int(os.environ.get("OKTACRED_CHAOS_SEED") or random.SystemRandom().randrange(2**31))
    print("chaos seed %d (OKTACRED_CHAOS_SEED=%d repeats the random choices)" % (seed, seed))
    tag = "[chaos seed %d] " % seed

    env.write_config(aws_config(env, sts))
    # Access and ID tokens are renewed at half their lifetime: every 10 s, or sooner.
    env.idp.settings(interval=1, access_token_ttl=20, id_token_ttl=20, refresh_grace_s=0,
                     token_delay_ms=TOKEN_DELAY_MS)
    # STS credentials are renewed 20 min before they expire: these, after 1 s in the cache.
    sts.settings(response_delay_ms=700, credential_ttl_override_s=1201, jwks_cache_s=60)

    chaos = Chaos(env, seed)
    assert chaos.login("alice").rc == 0, tag + "\n".join(chaos.problems)
    chaos.go(CHAOS_S)
    runs, events = list(chaos.runs), list(chaos.events)

    # Every check is made and every failure reported: a regression may break several.
    failures = []

    def check(what, found):
        if found:
            failures.append("%s:\n  %s" % (what, "\n  ".join(found)))

    check("while it ran", chaos.problems)
    check("exits", bad_exits(runs))
    check("credentials of an ended session",
          stale_credentials(runs, events, sts.log(), chaos.holders))
    replays, idp_counts = unexplained_replays(runs, env.idp.log())
    check("refresh tokens replayed not after a kill -9 (got a SIGINT: %r)"
          % [r for r in runs if any(s == signal.SIGINT for s, _ in r.signals)], replays)

    # -- the end ---------------------------------------------------------------------------
    def require(ok, what):
        assert ok, tag + "\n".join(failures + [what]) + "\nlogins and logouts: %r" % events

    if env.tokens_path().exists():
        t = env.tokens()  # parses
        check("tokens.json", [] if t.get("access_token") and t.get("refresh_token")
              else ["no access or refresh token: %r" % sorted(t)])
    left_by_kills = leftovers(env)
    # login --force takes the provider's lock and each identity's: what a killed write left
    # is removed then.
    last = chaos.login("alice")
    require(last.rc == 0, "the last login: %r %s" % (last, last.err))
    check("left after login", leftovers(env))
    r = chaos.run("token", "token", "okta-oidc")
    require(r.rc == 0 and r.out.strip() == env.tokens()["access_token"], "token: %r" % r)
    r = chaos.run("cp", "credential-process", "aws-dev")
    require(r.rc == 0, "credential-process: %r" % r)
    akid = json.loads(r.out)["AccessKeyId"]
    [e] = [e for e in sts.log() if e["access_key_id"] == akid]
    require(e["sub"] == "00u-alice" and e["t"] >= last.start, "credential-process: %r" % e)
    r = chaos.run("logout", "logout")
    require(r.rc == 0, "logout: %r" % r)
    require(not env.tokens_path().exists() and not creds_path(env).exists(),
            "logout left %s" % sorted(os.listdir(env.provider_dir())))
    check("left after logout", leftovers(env))

    exits, handed = {}, {}
    for r in runs:
        key = "%s %s" % (r.kind, r.rc)
        exits[key] = exits.get(key, 0) + 1
        if r.kind == "cp" and r.rc == 0:
            who = who_at(events, r.start)
            handed[who] = handed.get(who, 0) + 1
    print("chaos: exits %s; %d logins, %d logouts; credentials handed out, by who was "
          "logged in when credential-process started: %s; %d SIGINT (%d deferred until a "
          "refresh was saved); refresh grants, answers lost, replays, kill -9s: %s; "
          "%d cache reads; left by kill -9: %r" % (
              dict(sorted(exits.items())), sum(ev.kind == "login" for ev in events),
              sum(ev.kind == "logout" for ev in events), handed,
              sum(s == signal.SIGINT for r in runs for s, _ in r.signals),
              sum("the refreshed session was saved first" in r.err for r in runs),
              idp_counts, chaos.reads, left_by_kills))
    require(not failures, "")
