#!/usr/bin/python3
"""make bench: what oktacred costs, measured against the floor and the peers.

Not a test: it prints and writes bench/RESULTS.md and never fails on a number. Each
process is started by a small C spawner (bench/spawn.c): wall times with posix_spawn and
wait4, the cached commands interleaved with a static and a dynamic floor so that ratios
pair runs made at the same moment; peak RSS in separate traced runs, each command's own.
"""
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "idp"))
from harness import IdP  # noqa: E402
from approve import approve  # noqa: E402

OKTACRED = os.path.join(ROOT, "oktacred")
RUNS = int(os.environ.get("BENCH_RUNS", "300"))
PEER_RUNS = int(os.environ.get("BENCH_PEER_RUNS", "20"))


SPAWN = os.path.join(ROOT, "build", "bench-spawn")


def summarize(walls_us, rss, runs):
    walls = sorted(us / 1000 for us in walls_us)
    q = lambda p: walls[min(len(walls) - 1, int(p * len(walls)))]  # noqa: E731
    return {"runs": runs, "median_ms": statistics.median(walls), "p10_ms": q(0.10),
            "p90_ms": q(0.90), "rss_kib": int(statistics.median(rss)), "rss_max_kib": max(rss)}


def spawn_rounds(cmds, env, runs, memory=False):
    """Runs the commands interleaved (bench/spawn.c), runs rounds; returns per command the
    list of (wall us, peak RSS KiB) in round order. memory: traced runs that read each
    command's own peak RSS (VmHWM) at its exit; their wall time is not measured."""
    argv = [SPAWN] + (["-m"] if memory else []) + [str(runs)]
    for i, cmd in enumerate(cmds):
        argv += (["---"] if i else []) + list(cmd)
    out = subprocess.run(argv, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit("%s: %s" % (cmds, out.stderr))
    per = [[] for _ in cmds]
    for line in out.stdout.splitlines():
        c, us, kib = map(int, line.split())
        per[c].append((us, kib))
    return per


MEMORY_RUNS = 20


def spawn_measure(argv, env, runs):
    """Median/p10/p90 wall ms over runs, and median/max peak RSS KiB of the command itself
    over separate traced runs (bench/spawn.c)."""
    (pairs,) = spawn_rounds([argv], env, runs)
    (mem,) = spawn_rounds([argv], env, min(runs, MEMORY_RUNS), memory=True)
    return summarize([us for us, _ in pairs], [kib for _, kib in mem], runs)


def spawn_compare(named, floors, env, runs):
    """The named commands and the floors, interleaved round by round: per command its
    summary and, for each floor, the median of the per-round ratios (command / floor)."""
    names = list(floors) + list(named)
    cmds = [floors[n] for n in floors] + [named[n] for n in named]
    per = spawn_rounds(cmds, env, runs)
    mem = spawn_rounds(cmds, env, min(runs, MEMORY_RUNS), memory=True)
    out = {}
    for name, pairs, m in zip(names, per, mem):
        out[name] = summarize([us for us, _ in pairs], [kib for _, kib in m], runs)
    for name, pairs in zip(names[len(floors):], per[len(floors):]):
        out[name]["ratios"] = {}
        for fname, fpairs in zip(floors, per):
            rs = [us / max(f_us, 1) for (us, _), (f_us, _) in zip(pairs, fpairs)]
            out[name]["ratios"][fname] = statistics.median(rs)
    return out


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def version(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "not installed"
    return {
        "machine": "%s, %d cores, %s" % (cpu, os.cpu_count(), platform.machine()),
        "kernel": platform.release(),
        "os": version(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "oktacred": version([OKTACRED, "--version"]),
        "cc": version(["cc", "--version"]),
        "aws": version(["/usr/bin/aws", "--version"]),
        "curl": version(["curl", "--version"]),
        "node": version(["node", "--version"]),
    }


class World:
    """A throw-away HOME with a config for the local identity provider (and fake STS)."""

    def __init__(self, idp, sts=None):
        self.dir = tempfile.mkdtemp(prefix="oktacred-bench-")
        self.home = os.path.join(self.dir, "home")
        self.root = os.path.join(self.home, ".config", "oktacred")
        os.makedirs(self.root, mode=0o700)
        os.chmod(os.path.join(self.home, ".config"), 0o700)
        self.idp, self.sts = idp, sts
        cfg = ("[defaults]\nidentity = okta-admin\n\n[provider okta-oidc]\n"
               "kind = okta/device-code\norg_url = %s\nclient_id = 0oa-test-native\n"
               "scopes = openid profile email groups offline_access\n\n"
               "[identity okta-admin]\nkind = okta/api-access\nprovider = okta-oidc\n\n"
               "[identity k8s]\nkind = kubernetes/exec-credential\nprovider = okta-oidc\n"
               % idp.base)
        if sts:
            cfg += ("\n[identity aws-dev]\nkind = aws/assume-role\nprovider = okta-oidc\n"
                    "role_arn = arn:aws:iam::123456789012:role/Dev\nregion = us-east-1\n"
                    "sts_endpoint = %s\n" % sts.base)
        with open(os.path.join(self.root, "config"), "w") as f:
            f.write(cfg)
        os.chmod(os.path.join(self.root, "config"), 0o600)
        self.env = {"PATH": "/usr/bin:/bin", "HOME": self.home, "LANG": "C.UTF-8",
                    "XDG_CONFIG_HOME": os.path.join(self.home, ".config")}
        if sts:
            awsdir = os.path.join(self.home, ".aws")
            os.makedirs(awsdir)
            with open(os.path.join(awsdir, "config"), "w") as f:
                f.write("[profile aws-dev]\ncredential_process = %s credential-process aws-dev\n"
                        "region = us-east-1\n" % OKTACRED)
            self.env.update(AWS_CONFIG_FILE=os.path.join(awsdir, "config"),
                            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                            AWS_EC2_METADATA_DISABLED="true", AWS_PAGER="")

    def tokens_path(self):
        return os.path.join(self.root, "okta", "okta-oidc", "tokens.json")

    def login(self):
        """A device-flow login approved as soon as the code shows; returns seconds from
        the approval to oktacred's exit and the interval."""
        proc = subprocess.Popen([OKTACRED, "login", "--no-browser", "--no-qr"], env=self.env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
        seen = b""
        while True:
            chunk = os.read(proc.stderr.fileno(), 4096)
            if not chunk:
                raise SystemExit("login exited early: %r" % seen)
            seen += chunk
            m = re.search(rb"enter the code ([A-Z0-9-]+)", seen)
            if m:
                break
        approve(self.idp.base, m.group(1).decode())
        approved = time.time()
        proc.stderr.read()
        if proc.wait() != 0:
            raise SystemExit("login failed")
        done = time.time()
        polls = [e for e in self.idp.log() if e.get("endpoint") == "token"
                 and e.get("status") == 200]
        return {"approval_to_exit_s": done - approved,
                "successful_poll_to_exit_s": done - polls[-1]["t"]}

    def expire(self, path=None):
        path = path or self.tokens_path()
        t = json.load(open(path))
        t["expires_at"] = "2000-01-01T00:00:00Z"
        with open(path, "w") as f:
            json.dump(t, f)


def refresh_round_trips(world, runs):
    """oktacred refresh vs curl making the same refresh_token POST."""
    ok = spawn_measure([OKTACRED, "refresh"], world.env, runs)
    curl = shutil.which("curl")
    if not curl:
        return ok, None
    walls = []
    for _ in range(runs):
        rt = json.load(open(world.tokens_path()))["refresh_token"]
        form = tempfile.NamedTemporaryFile("w", delete=False, dir=world.dir)
        form.write("grant_type=refresh_token&client_id=0oa-test-native&scope=openid%%20profile"
                   "%%20email%%20groups%%20offline_access&refresh_token=%s" % rt)
        form.close()
        t0 = time.perf_counter()
        out = subprocess.run([curl, "-s", "-X", "POST", "--data-binary", "@" + form.name,
                              "-H", "Content-Type: application/x-www-form-urlencoded",
                              world.idp.base + "/oauth2/default/v1/token"],
                             capture_output=True, text=True)
        walls.append((time.perf_counter() - t0) * 1000)
        os.unlink(form.name)
        answer = json.loads(out.stdout)
        t = json.load(open(world.tokens_path()))
        t["refresh_token"] = answer["refresh_token"]  # keep oktacred's session in step
        with open(world.tokens_path(), "w") as f:
            json.dump(t, f)
    return ok, {"runs": runs, "median_ms": statistics.median(walls)}


def stampede(world, argv, n=64, trace_dir=None):
    world.idp.reset()
    if world.sts:
        world.sts.reset()
    world.expire()
    # The ID token must be renewed too (AWS federation needs a fresh one).
    t = json.load(open(world.tokens_path()))
    t["id_token"] = "expired.id.token"
    with open(world.tokens_path(), "w") as f:
        json.dump(t, f)
    aws = os.path.join(world.root, "aws")
    if os.path.isdir(aws):
        shutil.rmtree(aws)
    t0 = time.perf_counter()
    def traced(i):
        if not trace_dir:
            return argv
        return ["strace", "-qq", "-e", "trace=flock", "-o",
                os.path.join(trace_dir, "flock.%d" % i), *argv]
    procs = [subprocess.Popen(traced(i), env=world.env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
             for i in range(n)]
    codes = [p.wait() for p in procs]
    wall = (time.perf_counter() - t0) * 1000
    refreshes = len([e for e in world.idp.log() if e.get("grant_type") == "refresh_token"])
    sts_calls = len([e for e in world.sts.log()
                     if e.get("action") == "AssumeRoleWithWebIdentity"]) if world.sts else None
    out = {"n": n, "ok": codes.count(0), "wall_ms": wall, "idp_refreshes": refreshes,
           "sts_calls": sts_calls}
    if trace_dir:
        calls = []
        for name in os.listdir(trace_dir):
            with open(os.path.join(trace_dir, name)) as f:
                calls += [line for line in f if line.startswith("flock(")]
        out["flock_calls"] = len(calls)
        out["flock_refused"] = len([c for c in calls if "EWOULDBLOCK" in c or "EAGAIN" in c])
        out["flock_interrupted"] = len([c for c in calls if "EINTR" in c])
    return out


def config_sizes(world, runs):
    """A cached `oktacred token` with configurations of 1, 10, 100 and 1000 sections (half
    providers, half identities; the session is the first provider's): the parse must be
    linear, 1000 sections costing at most twice one."""
    out = {}
    with open(world.tokens_path()) as f:
        tokens = f.read()
    for n in (1, 10, 100, 1000):
        root = tempfile.mkdtemp(prefix="oktacred-bench-cfg-")
        cfgdir = os.path.join(root, "oktacred")
        os.makedirs(os.path.join(cfgdir, "okta", "p0"), mode=0o700)
        for d in (cfgdir, os.path.join(cfgdir, "okta")):
            os.chmod(d, 0o700)
        with open(os.path.join(cfgdir, "okta", "p0", "tokens.json"), "w") as f:
            f.write(tokens)
        os.chmod(os.path.join(cfgdir, "okta", "p0", "tokens.json"), 0o600)
        providers = (n + 1) // 2
        text = ["[defaults]\nidentity = p0\n"]
        for i in range(providers):
            text.append("[provider p%d]\nkind = okta/device-code\norg_url = %s\n"
                        "client_id = 0oa-test-native\n"
                        "scopes = openid profile email groups offline_access\n"
                        % (i, world.idp.base))
        for i in range(n - providers):
            text.append("[identity i%d]\nkind = okta/api-access\nprovider = p%d\n" % (i, i))
        with open(os.path.join(cfgdir, "config"), "w") as f:
            f.write("\n".join(text))
        os.chmod(os.path.join(cfgdir, "config"), 0o600)
        env = dict(world.env, XDG_CONFIG_HOME=root)
        check = subprocess.run([OKTACRED, "token"], env=env, capture_output=True, text=True)
        if check.returncode != 0:
            raise SystemExit("config of %d sections: %s" % (n, check.stderr))
        out[n] = spawn_measure([OKTACRED, "token"], env, runs)
        shutil.rmtree(root, ignore_errors=True)
    return out


def fmt_row(name, r):
    """A table row; the ratios are medians of per-round ratios (interleaved runs)."""
    ratios = r.get("ratios", {})
    shown = "; ".join("%.2f× %s" % (v, k.split(":")[0]) for k, v in ratios.items())
    return "| %s | %d | %.3f%s | %.3f – %.3f | %.2f / %.2f |" % (
        name, r["runs"], r["median_ms"], " (%s)" % shown if shown else "", r["p10_ms"],
        r["p90_ms"], r["rss_kib"] / 1024, r["rss_max_kib"] / 1024)


def main():
    os.makedirs(os.path.join(ROOT, "build"), exist_ok=True)
    floor_bin = os.path.join(ROOT, "build", "bench-floor")
    subprocess.run(["cc", "-O2", "-o", floor_bin, os.path.join(ROOT, "bench", "floor.c")],
                   check=True)
    # The static floor: what a C program costs with no dynamic loader at all (needs
    # libc.a: Debian's libc6-dev has it).
    floor_static = os.path.join(ROOT, "build", "bench-floor-static")
    if subprocess.run(["cc", "-O2", "-static", "-o", floor_static,
                       os.path.join(ROOT, "bench", "floor.c")]).returncode != 0:
        floor_static = None
    subprocess.run(["cc", "-O2", "-o", SPAWN, os.path.join(ROOT, "bench", "spawn.c")],
                   check=True)
    have_aws = subprocess.run([OKTACRED, "credential-process", "--help"],
                              capture_output=True).returncode == 0
    idp = IdP.start(idp_dir=os.path.join(ROOT, "tests", "idp"))
    sts = None
    try:
        if have_aws:
            import importlib.util
            spec = importlib.util.spec_from_file_location(
                "sts_harness", os.path.join(ROOT, "tests", "sts", "harness.py"))
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            sts = mod.FakeSTS.start(idp.base)
        idp.settings(interval=1)
        world = World(idp, sts)
        login_extra = [world.login() for _ in range(1)]
        results = {"machine": machine(), "runs": RUNS}
        floors = {"floor, static: open + print tokens.json": [floor_static,
                                                              world.tokens_path()],
                  "floor, dynamic: open + print tokens.json": [floor_bin, world.tokens_path()]}
        if not floor_static:
            del floors["floor, static: open + print tokens.json"]
        named = {"oktacred token": [OKTACRED, "token"],
                 "oktacred env okta-admin": [OKTACRED, "env", "okta-admin"]}
        # What kubectl runs on every invocation, with the variable it sets (the other
        # commands ignore it).
        world.env = dict(world.env, KUBERNETES_EXEC_INFO=json.dumps(
            {"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1",
             "spec": {"interactive": False}}))
        named["oktacred credential k8s (kubectl's exec plugin)"] = [OKTACRED, "credential",
                                                                    "k8s"]
        if sts:
            subprocess.run([OKTACRED, "credential-process", "aws-dev"], env=world.env,
                           check=True, capture_output=True)
            named["oktacred credential-process aws-dev"] = [OKTACRED, "credential-process",
                                                            "aws-dev"]
        cached = spawn_compare(named, floors, world.env, RUNS)
        if sts:
            cached["aws configure export-credentials (AWS CLI, same profile)"] = spawn_measure(
                ["/usr/bin/aws", "configure", "export-credentials", "--profile", "aws-dev"],
                world.env, PEER_RUNS)
        results["cached"] = cached
        results["config_sizes"] = config_sizes(world, RUNS)
        ok, curl = refresh_round_trips(world, 20)
        results["refresh"] = {"oktacred refresh": ok, "curl": curl}
        argv = ([OKTACRED, "credential-process", "aws-dev"] if sts else [OKTACRED, "token"])
        results["stampede"] = stampede(world, argv)
        results["stampede"]["command"] = " ".join(os.path.basename(a) for a in argv)
        if shutil.which("strace"):
            # Once more under strace, to count the lock attempts (its wall time is strace's).
            with tempfile.TemporaryDirectory(prefix="oktacred-bench-flock-") as d:
                traced = stampede(world, argv, trace_dir=d)
            for k in ("flock_calls", "flock_refused", "flock_interrupted"):
                results["stampede"][k] = traced[k]
        results["login_beyond_interval_s"] = login_extra
        write_results(results)
    finally:
        if sts:
            sts.stop()
        idp.stop()


def write_results(r):
    m = r["machine"]
    lines = ["# oktacred benchmark results", "",
             "Written by `make bench` (bench/run.py); numbers from one run on:", ""]
    lines += ["- %s: %s" % (k, v) for k, v in m.items()]
    lines += ["", "## Cached credential (a valid cache: read one file, print)", "",
              "Each process started with posix_spawn and reaped with wait4; wall time "
              "includes process start-up. The floors and oktacred's commands run "
              "interleaved, round after round; a ratio is the median of the per-round "
              "ratios. Peak RSS is the command's own (VmHWM read at its exit, in separate traced runs; "
              "ru_maxrss would add the spawner's).", "",
              "| command | runs | median ms | p10 – p90 ms | peak RSS median / max MiB |",
              "|---|---|---|---|---|"]
    for name, res in r["cached"].items():
        lines.append(fmt_row(name, res))
    cli = r["cached"].get("aws configure export-credentials (AWS CLI, same profile)")
    cp = r["cached"].get("oktacred credential-process aws-dev")
    if cli and cp:
        lines += ["", "oktacred credential-process is %.0f× faster than the AWS CLI asking it."
                  % (cli["median_ms"] / cp["median_ms"])]
    sizes = r.get("config_sizes")
    if sizes:
        one = sizes[1]["median_ms"]
        lines += ["", "## Configuration size (cached `oktacred token`, N sections: half "
                  "providers, half identities)", "",
                  "| sections | median ms | × one section |", "|---|---|---|"]
        lines += ["| %d | %.2f | %.2f |" % (n, res["median_ms"], res["median_ms"] / one)
                  for n, res in sizes.items()]
    ref = r["refresh"]
    lines += ["", "## Refresh (one refresh_token round trip to the local provider)", "",
              "| command | runs | median ms |", "|---|---|---|",
              "| oktacred refresh (whole process) | %d | %.2f |"
              % (ref["oktacred refresh"]["runs"], ref["oktacred refresh"]["median_ms"])]
    if ref["curl"]:
        lines.append("| curl, the same POST | %d | %.2f |" % (ref["curl"]["runs"],
                                                            ref["curl"]["median_ms"]))
        lines += ["", "Ratio: %.2f× curl." % (ref["oktacred refresh"]["median_ms"]
                                             / ref["curl"]["median_ms"])]
    s = r["stampede"]
    lines += ["", "## Stampede (%d concurrent `%s` on an expired cache)" % (s["n"], s["command"]),
              "", "- exited 0: %d of %d" % (s["ok"], s["n"]),
              "- refresh requests that reached the identity provider: %d" % s["idp_refreshes"]]
    if s["sts_calls"] is not None:
        lines.append("- AssumeRoleWithWebIdentity calls that reached STS: %d" % s["sts_calls"])
    if "flock_calls" in s:
        lines.append("- flock calls, counted in a second run under strace: %d, of which %d "
                     "refused (LOCK_NB) and %d ended by the wait's timer tick"
                     % (s["flock_calls"], s["flock_refused"], s["flock_interrupted"]))
    lines += ["- total wall time: %.0f ms" % s["wall_ms"], "",
              "## Login", "",
              "With the provider's interval at 1 s: from the approval on the verification "
              "page to `oktacred login` exiting %.2f s (the wait for the next poll, at most "
              "one interval); from the poll that got the tokens to the exit (saving them "
              "included) %.1f ms." % (r["login_beyond_interval_s"][0]["approval_to_exit_s"],
                                     r["login_beyond_interval_s"][0]
                                     ["successful_poll_to_exit_s"] * 1000), ""]
    text = "\n".join(lines)
    with open(os.path.join(ROOT, "bench", "RESULTS.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
