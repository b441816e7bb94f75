"""The man pages and the shell completions against the command line they describe.

One source of truth: the command line is src/cmd/cli.c's table, which `oktacred --help` and
`oktacred COMMAND --help` print; the configuration keys are the kinds' key tables
(src/providers/, src/identities/, with the keys every section has). Every
command, alias and option must be in oktacred(1) and in each completion script, and every
command or option these name must exist. The names are taken from places of known shape:

- oktacred.1.scd: SYNOPSIS lines ("*oktacred CMD* [...]"); in COMMANDS, the header lines
  of each command (unindented, starting with "*cmd*") and its option terms (one tab, then
  "*--opt*"); in GLOBAL OPTIONS, the terms ("*-v*, *--verbose*"). Any "--word" in those
  sections must be a real option, wherever it stands.
- oktacred.bash: `_oktacred_commands='...'`, `_oktacred_global_options='...'` and the
  branches of `_oktacred_command_options` (`cmd) printf '%s\\n' '--a --b' ;;`).
- _oktacred (zsh): the `commands=( 'name:description' ... )` list, the `globals=( ... )`
  list, and one `(cmd)` branch per command holding that command's options.
- oktacred.fish: `complete` lines: `-n __oktacred_needs_command -a CMD` (commands),
  `-n __oktacred_before_dashdash ... -l NAME` (global options), `-n '__oktacred_using
  CMD...' -l NAME` (command options).

Besides the text, the bash, fish and zsh completions are run for real, and the man pages
are built with `make docs` (into a temporary build directory) and linted.
"""
import json
import os
import pathlib
import pty
import re
import select
import shlex
import shutil
import subprocess
import time

import pytest

from conftest import OKTACRED, OKTACRED_UNWRAPPED, ROOT
MAN1 = os.path.join(ROOT, "man", "oktacred.1.scd")
MAN5 = os.path.join(ROOT, "man", "oktacred-config.5.scd")
BASH = os.path.join(ROOT, "completions", "oktacred.bash")
ZSH = os.path.join(ROOT, "completions", "_oktacred")
FISH = os.path.join(ROOT, "completions", "oktacred.fish")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
FORMATS = {"sh", "fish", "powershell", "json", "dotenv"}

OPTION_WORD = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")

# A configuration whose names the completions must offer.
CONFIG = """\
[defaults]
identity = okta-admin

[provider okta-oidc]
kind = okta/device-code
org_url = https://company.okta.com
client_id = 0oa1234567890abcdefg

[provider legacy]
kind = okta/api-token
org_url = https://company.okta.com
token_env = OKTA_API_TOKEN

[identity okta-admin]
kind = okta/api-access
provider = okta-oidc

[identity aws-dev]
kind = aws/assume-role
provider = okta-oidc
role_arn = arn:aws:iam::123456789012:role/OktaFederated
region = us-east-1

[identity k8s]
kind = kubernetes/exec-credential
provider = okta-oidc

[identity azure]
kind = azure/federated
provider = okta-oidc
tenant_id = contoso.onmicrosoft.com
client_id = 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
subscription_id = 5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9
authority_host = https://login.microsoftonline.us
"""
NAMES = {"okta-admin", "okta-oidc", "legacy", "aws-dev", "k8s", "azure"}
# Another file, for --config FILE on the command line.
OTHER_CONFIG = """\
[provider other-org]
kind = okta/device-code
org_url = https://other.okta.com
client_id = 0oaOTHER
"""
OTHER_NAMES = {"other-org"}


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


# ---- the truth: --help ----

HELP_OPTION = re.compile(
    r"^  (?:-(?P<short>\w), |    )(?P<long>--[a-z][a-z0-9-]*)(?: (?P<arg>[A-Z]+))?\s+\S")


def run_help(*args):
    r = subprocess.run([OKTACRED, *args], capture_output=True, text=True, timeout=30,
                       env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C"})
    assert r.returncode == 0, (args, r.stderr)
    return r.stdout


def help_block(text, title):
    """The lines of the block that follows "title:" up to a blank line."""
    lines = text.splitlines()
    assert title + ":" in lines, "no %r block in:\n%s" % (title, text)
    out = []
    for line in lines[lines.index(title + ":") + 1:]:
        if not line.strip():
            break
        out.append(line)
    return out


def parse_options(lines):
    """{"--long": "-s" or None} from an options block; every line must parse."""
    opts = {}
    for line in lines:
        m = HELP_OPTION.match(line)
        assert m, "cannot read this --help option line: %r" % line
        opts[m["long"]] = "-" + m["short"] if m["short"] else None
    return opts


class Cli:
    def __init__(self):
        top = run_help("--help")
        self.commands = [line.split()[0] for line in help_block(top, "commands")]
        self.global_options = parse_options(help_block(top, "global options"))
        self.options = {}
        self.aliases = {}
        for cmd in self.commands:
            text = run_help(cmd, "--help")
            if not text.startswith("usage:"):  # `version --help` is --version
                text = run_help("help", cmd)
            assert text.startswith("usage: oktacred %s" % cmd), text
            self.options[cmd] = (parse_options(help_block(text, "options"))
                                 if "\noptions:\n" in text else {})
            m = re.search(r"; alias: ([\w-]+)", text)
            if m:
                self.aliases[m.group(1)] = cmd
        m = re.search(r"Exit codes: (.*?)\.\n", top, re.S)
        assert m, top
        self.exit_codes = set(re.findall(r"\b(\d+) ", m.group(1)))
        assert len(self.commands) >= 5 and self.global_options and self.exit_codes

    @property
    def command_words(self):
        return set(self.commands) | set(self.aliases)

    def options_of(self, word):
        return set(self.options[self.aliases.get(word, word)])

    @property
    def global_words(self):
        """The global options with their short forms."""
        return set(self.global_options) | {s for s in self.global_options.values() if s}

    @property
    def all_options(self):
        out = set(self.global_options)
        for opts in self.options.values():
            out |= set(opts)
        return out


@pytest.fixture(scope="module")
def cli():
    assert os.access(OKTACRED, os.X_OK), "build ./oktacred first (make)"
    return Cli()


# ---- oktacred(1) ----

def sections(text, level="#"):
    """{title: body} of the "# TITLE" (or "## Title") sections of an scdoc page."""
    out, title = {}, None
    for line in text.splitlines():
        if line.startswith(level + " "):
            title = line[len(level) + 1:].strip()
            out[title] = []
        elif title is not None:
            out[title].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def man_command_blocks(commands_section):
    """[(header command words, header options, option terms, whole text)] of COMMANDS."""
    blocks, closed = [], False
    for line in commands_section.splitlines():
        if line.startswith("## "):  # a subsection after the commands ends the last one
            closed = True
        elif closed:
            continue
        elif line.startswith("*"):
            m = re.match(r"\*([a-z][a-z-]*)\*", line)
            assert m, "a command header must start with *command*: %r" % line
            if not blocks or blocks[-1][3]:  # a new block unless this continues a header
                blocks.append([set(), set(), set(), ""])
            blocks[-1][0].add(m.group(1))
            blocks[-1][1] |= set(OPTION_WORD.findall(line))
        elif blocks:
            blocks[-1][3] += line + "\n"
            m = re.match(r"\t\*(--[a-z][a-z0-9-]*)\*", line)
            if m:
                blocks[-1][2].add(m.group(1))
    return blocks


def test_man_commands_and_their_options(cli):
    page = sections(read(MAN1))
    blocks = man_command_blocks(page["COMMANDS"])
    documented = set()
    for words, header_opts, terms, body in blocks:
        cmds = {cli.aliases.get(w, w) for w in words}
        assert len(cmds) == 1, "one block documents several commands: %s" % words
        cmd = cmds.pop()
        assert cmd in cli.commands, "oktacred(1) documents %r, which is not a command" % cmd
        want = set(cli.options[cmd])
        assert terms == want, "oktacred(1) %s: options documented %s, --help has %s" % (
            cmd, sorted(terms), sorted(want))
        assert header_opts == want, "oktacred(1) %s header: %s, --help has %s" % (
            cmd, sorted(header_opts), sorted(want))
        documented |= words
    assert documented == cli.command_words, (
        "COMMANDS of oktacred(1): %s; --help: %s" % (sorted(documented),
                                                     sorted(cli.command_words)))


def test_man_global_options(cli):
    page = sections(read(MAN1))
    text = page["GLOBAL OPTIONS"]
    terms = {}
    for line in text.splitlines():
        m = re.match(r"(?:\*(-\w)\*, )?\*(--[a-z][a-z0-9-]*)\*", line)
        if m:
            terms[m.group(2)] = m.group(1)
    assert terms == cli.global_options


def test_man_synopsis(cli):
    page = sections(read(MAN1))
    seen = set()
    for line in page["SYNOPSIS"].splitlines():
        m = re.match(r"\*oktacred ([a-z][a-z-]*)\*", line)
        if not m:
            continue
        cmd = m.group(1)
        assert cmd in cli.commands, "SYNOPSIS shows %r, which is not a command" % cmd
        assert set(OPTION_WORD.findall(line)) == set(cli.options[cmd]), line
        seen.add(cmd)
    assert seen == set(cli.commands)


def test_man_names_only_real_options(cli):
    """No --word in SYNOPSIS, COMMANDS or GLOBAL OPTIONS that --help does not know."""
    page = sections(read(MAN1))
    for title in ("SYNOPSIS", "COMMANDS", "GLOBAL OPTIONS"):
        unknown = set(OPTION_WORD.findall(page[title])) - cli.all_options
        assert not unknown, "oktacred(1) %s names %s" % (title, sorted(unknown))


def test_man_exit_status(cli):
    text = sections(read(MAN1))["EXIT STATUS"]
    terms = set(re.findall(r"^\*(\d+)\*$", text, re.M))
    assert cli.exit_codes <= terms, sorted(cli.exit_codes - terms)
    for code in ("126", "127"):  # exec's
        assert "*%s*" % code in text


@pytest.fixture
def world(tmp_path):
    """HOME and XDG_CONFIG_HOME with CONFIG, another config file, and the oktacred under test
    on PATH (the completions run it to list names; not through the secret-scanning wrapper,
    whose output fish's command substitution may cut short)."""
    home = tmp_path / "home"
    root = home / ".config" / "oktacred"
    root.mkdir(parents=True)
    for d in (home, home / ".config", root):
        os.chmod(d, 0o700)
    (root / "config").write_text(CONFIG)
    os.chmod(root / "config", 0o600)
    other = tmp_path / "other.ini"
    other.write_text(OTHER_CONFIG)
    os.chmod(other, 0o600)
    env = {
        "PATH": os.path.dirname(OKTACRED_UNWRAPPED) + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
    }
    return {"env": env, "home": home, "other": str(other), "tmp": tmp_path}


VARIABLE = re.compile(r"\*((?:OKTA|OKTACRED|AWS|AZURE|ARM)_[A-Z0-9_]+)\*")


def test_man_environment_lists_what_env_sets(cli, world):
    """The variables env/exec set and clear for each identity kind are those oktacred(1)
    lists under "Variables set for KIND identities"."""
    env_section = sections(sections(read(MAN1))["ENVIRONMENT"], "##")
    for kind, names in (("okta/api-access", ["okta-admin", "okta-oidc", "legacy"]),
                        ("aws/assume-role", ["aws-dev"]),
                        ("kubernetes/exec-credential", ["k8s"]),
                        ("azure/federated", ["azure"])):
        title = "Variables set for %s identities" % kind
        assert title in env_section, "oktacred(1) has no ENVIRONMENT subsection %r" % title
        real = set()
        for name in names:
            r = subprocess.run([OKTACRED, "env", name, "--unset", "--format", "json"],
                               env=world["env"], capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, r.stderr
            real |= set(json.loads(r.stdout)["unset"])
        assert "OKTACRED_IDENTITY" in real
        documented = set(VARIABLE.findall(env_section[title]))
        assert real == documented, ("%s: env sets/clears %s; oktacred(1) lists %s" % (
            kind, sorted(real - documented), sorted(documented - real)))


def test_man_environment_of_exec_server(cli):
    """The variables exec --server adds to the environment (src/aws/credserver.c) are listed,
    and nothing the sources (it and the aws/assume-role kind) do not name."""
    if "--server" not in cli.options["exec"]:
        pytest.skip("no exec --server")
    env_section = sections(sections(read(MAN1))["ENVIRONMENT"], "##")
    documented = set(VARIABLE.findall(env_section["Variables set by exec --server"]))
    server = set(re.findall(r'envset_put\([^,]+, "([A-Z_]+)"',
                            read(os.path.join(ROOT, "src", "aws", "credserver.c"))))
    assert server and server <= documented, sorted(server - documented)
    sources = server | set(re.findall(r'"(AWS_[A-Z_]+)"',
                                      read(os.path.join(ROOT, "src", "identities",
                                                        "aws_assume_role.c"))))
    assert documented <= sources, sorted(documented - sources)


# ---- oktacred-config(5) against the kinds' key tables ----

def table_keys(src, name):
    """The key names of the config_key table `name` in C source src: {"key", ...} entries,
    a kind's own macros (AWS_KEY("key", ...)) and provider.h's PROVIDER_KEY_* macros."""
    m = re.search(r"struct config_key %s\[\] = \{(.*?)\};" % re.escape(name), src, re.S)
    assert m, "no config_key table %s" % name
    body = m.group(1)
    keys = set(re.findall(r'^\s*(?:\{|(?!PROVIDER_KEY_)[A-Z_]+\()"([a-z_.]+)"', body, re.M))
    keys |= {k.lower() for k in re.findall(r"PROVIDER_KEY_([A-Z_]+)", body)}
    return keys


def config_c_keys():
    """({provider key: {kind names}}, {identity key: {kind names}}) from the registry: the
    keys of every provider (src/providers/provider.c) or identity (src/identities/identity.c
    and src/state/config.c), and each kind's own (its file's keys[] table)."""
    src = lambda *p: read(os.path.join(ROOT, "src", *p))  # noqa: E731
    out = []
    for folder, common in (("providers", table_keys(src("providers", "provider.c"),
                                                    "config_provider_keys")),
                           ("identities", table_keys(src("identities", "identity.c"),
                                                     "config_identity_keys")
                            | table_keys(src("state", "config.c"), "identity_own_keys"))):
        kinds = {}
        for f in sorted(os.listdir(os.path.join(ROOT, "src", folder))):
            text = src(folder, f)
            name = re.search(r'\.config = \{\.name = "([^"]+)"', text)
            if name:
                kinds[name.group(1)] = table_keys(text, "keys")
        assert kinds, "no kinds in src/%s" % folder
        keys = {}
        for kind, own in kinds.items():
            for key in own | common | {"kind"}:
                keys.setdefault(key, set()).add(kind)
        out.append(keys)
    return tuple(out)


def documented_keys(section_text, all_kinds):
    """{key: {kinds}} from the "## Keys of ..." subsections of a section of the page."""
    out = {}
    for title, body in sections(section_text, "##").items():
        if not title.startswith("Keys of"):
            continue
        kinds = set(re.findall(r"[a-z0-9]+/[a-z-]+", title))
        if "every" in title:
            kinds = set(all_kinds)
        assert kinds, title
        for key in re.findall(r"^\*([a-z_.]+)\* =", body, re.M):
            # A key several kinds have (token) may be described for each of them.
            assert not kinds & out.get(key, set()), "%s documented twice" % key
            out[key] = out.get(key, set()) | kinds
    return out


def test_config_man_keys_match_the_kinds():
    provider_keys, identity_keys = config_c_keys()
    page = sections(read(MAN5))
    provider_kinds = set().union(*provider_keys.values())
    identity_kinds = set().union(*identity_keys.values())
    assert documented_keys(page["[provider NAME]"], provider_kinds) == provider_keys
    assert documented_keys(page["[identity NAME]"], identity_kinds) == identity_keys
    assert re.findall(r"^\*([a-z_.]+)\* =", page["[defaults]"], re.M) == ["identity"]
    for kind in provider_kinds | identity_kinds:
        assert "*%s*" % kind in read(MAN5), kind


def test_config_man_examples_are_valid(world):
    examples = sections(read(MAN5))["EXAMPLES"]
    blocks = re.findall(r"^```\n(.*?)^```", examples, re.S | re.M)
    configs = [b for b in blocks if "[provider " in b]
    assert configs
    for i, text in enumerate(configs):
        path = world["tmp"] / ("example%d.ini" % i)
        path.write_text(text)
        os.chmod(path, 0o600)
        env = dict(world["env"], **{v: "x" for v in re.findall(r"\$\{(\w+)\}", text)})
        # validate checks that the files the example names exist and are private.
        for name in re.findall(r"^(?:private_key|ca_bundle) = (~/\S+|/\S+)", text, re.M):
            f = pathlib.Path(name.replace("~", env["HOME"], 1))
            if not f.exists():
                f.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                f.write_text("-----BEGIN PRIVATE KEY-----\n")
                f.chmod(0o600)
        r = subprocess.run([OKTACRED, "--config", str(path), "config", "validate"], env=env,
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, "example %d of oktacred-config(5): %s" % (i, r.stderr)


# ---- completion scripts: their lists ----

def words_in_quotes(text, var):
    m = re.search(r"^%s='([^']*)'$" % var, text, re.M)
    assert m, "no %s='...' in %s" % (var, BASH)
    return set(m.group(1).split())


def test_bash_lists(cli):
    text = read(BASH)
    assert words_in_quotes(text, "_oktacred_commands") == cli.command_words
    assert words_in_quotes(text, "_oktacred_global_options") == cli.global_words
    body = re.search(r"^_oktacred_command_options\(\)\n\{\n(.*?)^\}", text, re.S | re.M)
    assert body, "no _oktacred_command_options in %s" % BASH
    branches = {}
    for pattern, opts in re.findall(r"^\t([\w| -]+)\) printf '%s\\n' '([^']*)' ;;$",
                                    body.group(1), re.M):
        for word in pattern.replace(" ", "").split("|"):
            branches[word] = set(opts.split())
    want = {w: cli.options_of(w) for w in cli.command_words if cli.options_of(w)}
    assert branches == want
    unknown = set(OPTION_WORD.findall(text)) - cli.all_options
    assert not unknown, "%s names %s" % (BASH, sorted(unknown))


def test_zsh_lists(cli):
    text = read(ZSH)
    m = re.search(r"^  commands=\(\n(.*?)^  \)", text, re.S | re.M)
    assert m, "no commands=( ... ) in %s" % ZSH
    assert set(re.findall(r"^\s+'([a-z-]+):", m.group(1), re.M)) == cli.command_words
    m = re.search(r"^  globals=\(\n(.*?)^  \)", text, re.S | re.M)
    assert m, "no globals=( ... ) in %s" % ZSH
    assert set(OPTION_WORD.findall(m.group(1))) == set(cli.global_options)
    shorts = set(re.findall(r"\{(-\w),--[a-z-]+\}", m.group(1)))
    assert shorts == {s for s in cli.global_options.values() if s}
    branches = {}
    for pattern, body in re.findall(r"^    \(([a-z|-]+)\)\n(.*?)^      ;;$", text, re.S | re.M):
        for word in pattern.split("|"):
            branches[word] = set(OPTION_WORD.findall(body))
    assert branches == {w: cli.options_of(w) for w in cli.command_words}
    unknown = set(OPTION_WORD.findall(text)) - cli.all_options
    assert not unknown, "%s names %s" % (ZSH, sorted(unknown))


def test_fish_lists(cli):
    lines = [line for line in read(FISH).splitlines() if line.startswith("complete -c oktacred")]
    commands, globals_, per_command, every_long = set(), set(), {}, set()
    for line in lines:
        words = shlex.split(line)
        cond = words[words.index("-n") + 1] if "-n" in words else ""
        longs = {"--" + words[i + 1] for i, w in enumerate(words) if w == "-l"}
        shorts = {"-" + words[i + 1] for i, w in enumerate(words) if w == "-s"}
        every_long |= longs
        if cond == "__oktacred_needs_command":
            commands.add(words[words.index("-a") + 1])
        elif cond == "__oktacred_before_dashdash":
            globals_ |= longs | shorts
        elif cond.startswith("__oktacred_using "):
            for cmd in cond.split()[1:]:
                per_command.setdefault(cmd, set()).update(longs)
    assert commands == cli.command_words
    assert globals_ == cli.global_words
    assert per_command == {w: cli.options_of(w) for w in cli.command_words if cli.options_of(w)}
    assert every_long <= cli.all_options, sorted(every_long - cli.all_options)


# ---- bash completion, run ----

BASH_DRIVER = r"""
__case() {
	local id=$1; shift
	COMP_WORDS=("$@")
	COMP_CWORD=$(( $# - 1 ))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_oktacred oktacred "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
	printf '%s\t' "$id"
	printf '%s ' "${COMPREPLY[@]}"
	printf '\n'
}
"""


def bash_complete(env, cases, helpers):
    """{id: set of candidates} for each (id, [words...]); the last word is the current."""
    script = ""
    if helpers:
        script += "source %s || exit 3\n" % shlex.quote(BASH_COMPLETION)
    script += "source %s || exit 3\n" % shlex.quote(BASH)
    script += "declare -F _oktacred >/dev/null || exit 4\n"
    script += "complete -p oktacred >/dev/null || exit 5\n" + BASH_DRIVER
    for cid, words in cases:
        script += "__case %s %s\n" % (shlex.quote(cid), " ".join(shlex.quote(w) for w in words))
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.splitlines():
        cid, _, got = line.partition("\t")
        out[cid] = set(got.split())
    assert set(out) == {cid for cid, _ in cases}, r.stdout
    return out


BASH_MODES = [pytest.param(False, id="plain-bash"),
              pytest.param(True, id="bash-completion",
                           marks=pytest.mark.skipif(not os.path.exists(BASH_COMPLETION),
                                                    reason="bash-completion not installed"))]


@pytest.mark.parametrize("helpers", BASH_MODES)
def test_bash_completion(cli, world, helpers):
    global_long = set(cli.global_options)
    cases = [("commands", ["oktacred", ""]),
             ("lo", ["oktacred", "lo"]),
             ("after-global", ["oktacred", "--debug", ""]),
             ("formats", ["oktacred", "env", "--format", ""]),
             ("format=", ["oktacred", "env", "--format", "=", "j"]),
             ("status", ["oktacred", "status", ""]),
             ("status-more", ["oktacred", "status", "okta-admin", ""]),
             ("login-one", ["oktacred", "login", "okta-admin", ""]),
             ("other-config", ["oktacred", "--config", world["other"], "status", ""]),
             ("other-config-after", ["oktacred", "token", "--config", world["other"], ""]),
             ("config-sub", ["oktacred", "config", ""]),
             ("help-cmd", ["oktacred", "help", ""]),
             ("exec-name", ["oktacred", "exec", "okta-"]),
             ("exec-name-or-cmd", ["oktacred", "exec", "oktacre"]),
             ("exec-after-name", ["oktacred", "exec", "okta-admin", "oktacre"]),
             ("exec-no-name", ["oktacred", "exec", "ls", "/tm"]),
             ("exec-name-arg", ["oktacred", "exec", "okta-admin", "ls", "/tm"]),
             ("exec-cmd", ["oktacred", "exec", "okta-admin", "--", "oktacre"]),
             ("exec-server", ["oktacred", "exec", "--server", "okta-"]),
             ("exec-arg", ["oktacred", "exec", "okta-admin", "--", "ls", "/tm"])]
    for word in sorted(cli.command_words):
        cases.append(("opts-" + word, ["oktacred", word, "--"]))
    got = bash_complete(world["env"], cases, helpers)

    assert got["commands"] == cli.command_words
    assert got["lo"] == {w for w in cli.command_words if w.startswith("lo")}
    assert got["after-global"] == cli.command_words
    for word in cli.command_words:
        assert got["opts-" + word] == cli.options_of(word) | global_long, word
    assert got["formats"] == FORMATS
    assert got["format="] == {"json"}
    assert got["status"] == NAMES
    assert got["status-more"] == NAMES
    assert got["login-one"] == set()
    assert got["other-config"] == OTHER_NAMES
    assert got["other-config-after"] == OTHER_NAMES
    assert got["config-sub"] == {"validate", "list"}
    assert got["help-cmd"] == cli.command_words
    # exec: NAME or CMD first (a first word that names a section is NAME), then CMD.
    okta_names = {n for n in NAMES if n.startswith("okta-")}
    assert okta_names and got["exec-name"] >= okta_names
    assert got["exec-name-or-cmd"] == {"oktacred"}
    assert got["exec-after-name"] == {"oktacred"}
    assert got["exec-no-name"] == {"/tmp"}
    assert got["exec-name-arg"] == {"/tmp"}
    assert got["exec-server"] >= okta_names
    # After "--", another command's line: not oktacred's words.
    assert got["exec-cmd"] == {"oktacred"}
    assert got["exec-arg"] == {"/tmp"}


def test_bash_completion_without_a_config(cli, world):
    """No configuration: no names, no error on the terminal."""
    env = dict(world["env"], XDG_CONFIG_HOME=str(world["tmp"] / "nothing"))
    got = bash_complete(env, [("status", ["oktacred", "status", ""])], helpers=False)
    assert got["status"] == set()


# ---- fish completion, run ----

def fish_complete(env, lines):
    script = "source %s; or exit 3\n" % shlex.quote(FISH)
    for i, line in enumerate(lines):
        script += "echo @@%d; complete -C %s\n" % (i, shlex.quote(line))
    r = subprocess.run(["fish", "--no-config", "-c", script], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out, current = {}, None
    for line in r.stdout.splitlines():
        if line.startswith("@@"):
            current = lines[int(line[2:])]
            out[current] = set()
        else:
            out[current].add(line.split("\t")[0])
    return out


@pytest.mark.skipif(not shutil.which("fish"), reason="fish not installed")
def test_fish_completion(cli, world):
    global_long = set(cli.global_options)
    lines = ["oktacred ", "oktacred lo", "oktacred env --format ", "oktacred status ",
             "oktacred --config %s status " % world["other"], "oktacred token okta-admin ",
             "oktacred config ", "oktacred help ", "oktacred exec okta-admin -- oktacre",
             "oktacred exec okta-admin oktacre", "oktacred exec oktacre",
             "oktacred exec ls /tm", "oktacred exec okta-admin ls /tm"]
    lines += ["oktacred %s --" % w for w in sorted(cli.command_words)]
    got = fish_complete(world["env"], lines)
    assert got["oktacred "] == cli.command_words
    assert got["oktacred lo"] == {w for w in cli.command_words if w.startswith("lo")}
    for word in cli.command_words:
        assert got["oktacred %s --" % word] == cli.options_of(word) | global_long, word
    assert got["oktacred env --format "] == FORMATS
    assert got["oktacred status "] == NAMES
    assert got["oktacred --config %s status " % world["other"]] == OTHER_NAMES
    assert got["oktacred token okta-admin "] == set()
    assert got["oktacred config "] == {"validate", "list"}
    assert got["oktacred help "] == cli.command_words
    assert got["oktacred exec okta-admin -- oktacre"] == {"oktacred"}
    assert got["oktacred exec okta-admin oktacre"] == {"oktacred"}
    assert got["oktacred exec oktacre"] == {"oktacred"}
    assert got["oktacred exec ls /tm"] == {"/tmp/"}
    assert got["oktacred exec okta-admin ls /tm"] == {"/tmp/"}


# ---- zsh completion ----

needs_zsh = pytest.mark.skipif(not shutil.which("zsh"), reason="zsh not installed")


@needs_zsh
def test_zsh_completion_loads(world):
    r = subprocess.run(
        ["zsh", "-f", "-c",
         "fpath=(completions $fpath); autoload -U compinit; compinit -u; "
         "autoload -U +X _oktacred && whence -w _oktacred && print -r -- $_comps[oktacred]"],
        cwd=ROOT, env=world["env"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.split() == ["_oktacred:", "function", "_oktacred"]


ZSH_SETUP = r"""
PROMPT= RPROMPT= PS2=
unsetopt zle_bracketed_paste 2>/dev/null
fpath=(%(dir)s $fpath)
autoload -U compinit && compinit -u -D
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a __hits
  builtin compadd -A __hits "$@"
  local h
  for h in $__hits; do print -rn -- $'\x1e'"$IPREFIX$h"$'\x1f'; done
  builtin compadd "$@"
}
__docs_done() { print -rn -- $'\x1d'; exit }
comppostfuncs=(__docs_done)
bindkey '^I' complete-word
"""


def zsh_complete(env, line, timeout=30):
    """What zsh's completion system offers for line (a TAB at its end), as a set: an
    interactive zsh on a pseudo-terminal whose compadd also prints each match."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(shutil.which("zsh"), ["zsh", "-f", "-i"], env)
        finally:
            os._exit(127)
    try:
        os.write(fd, (ZSH_SETUP % {"dir": shlex.quote(os.path.join(ROOT, "completions"))})
                 .encode())
        os.write(fd, line.encode() + b"\t")
        buf = b""
        deadline = time.monotonic() + timeout
        while b"\x1d" not in buf:
            left = deadline - time.monotonic()
            assert left > 0, "zsh completed nothing for %r: %r" % (line, buf[-2000:])
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            assert chunk, "zsh exited: %r" % buf[-2000:]
            buf += chunk
        return {m.decode() for m in re.findall(rb"\x1e([^\x1f]*)\x1f", buf)}
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)


@needs_zsh
def test_zsh_completion(cli, world):
    env = world["env"]
    global_long = set(cli.global_options)
    assert zsh_complete(env, "oktacred ") == cli.command_words
    assert zsh_complete(env, "oktacred --debug ") == cli.command_words
    for word in sorted(cli.command_words):
        assert zsh_complete(env, "oktacred %s --" % word) == \
            cli.options_of(word) | global_long, word
    assert zsh_complete(env, "oktacred env --format ") == FORMATS
    assert zsh_complete(env, "oktacred status ") == NAMES
    assert zsh_complete(env, "oktacred status okta-admin ") == NAMES
    assert zsh_complete(env, "oktacred --config %s status " % world["other"]) == OTHER_NAMES
    assert zsh_complete(env, "oktacred status --config %s " % world["other"]) == OTHER_NAMES
    assert zsh_complete(env, "oktacred config ") == {"validate", "list"}
    assert zsh_complete(env, "oktacred help ") == cli.command_words
    assert zsh_complete(env, "oktacred exec okta-admin -- oktacre") == {"oktacred"}
    assert zsh_complete(env, "oktacred exec okta-admin oktacre") == {"oktacred"}
    assert zsh_complete(env, "oktacred exec oktacre") == {"oktacred"}
    assert zsh_complete(env, "oktacred exec okta-admin ls /tm") == {"tmp"}  # after "/"


# ---- make docs, the man pages, install ----

def make(*args, **kw):
    return subprocess.run(["make", "--no-print-directory", "-C", ROOT, *args],
                          capture_output=True, text=True, timeout=300, **kw)


@pytest.fixture(scope="module")
def built_man(tmp_path_factory):
    if not shutil.which("scdoc"):
        pytest.skip("scdoc not installed")
    b = tmp_path_factory.mktemp("build")
    r = make("docs", "B=%s" % b)
    assert r.returncode == 0, r.stdout + r.stderr
    pages = [os.path.join(b, "man", p) for p in ("oktacred.1", "oktacred-config.5")]
    for p in pages:
        assert os.path.getsize(p) > 1000, p
    return pages


@pytest.mark.skipif(not shutil.which("mandoc"), reason="mandoc not installed")
def test_man_pages_lint_clean_mandoc(built_man):
    for page in built_man:
        r = subprocess.run(["mandoc", "-Tlint", page], capture_output=True, text=True)
        assert r.stdout + r.stderr == "", r.stdout + r.stderr


@pytest.mark.skipif(not shutil.which("groff"), reason="groff not installed")
def test_man_pages_lint_clean_groff(built_man):
    for page in built_man:
        r = subprocess.run(["groff", "-ww", "-z", "-man", page], capture_output=True,
                           text=True)
        assert r.returncode == 0 and r.stderr == "", r.stderr


def test_man_pages_render(built_man):
    """The version is filled in and the pages name what they are."""
    version = run_help("--version").split()[-1]
    for page, title in zip(built_man, ("OKTACRED", "OKTACRED-CONFIG")):
        text = read(page)
        assert re.search(r'^\.TH "%s" "[15]" ".*" "oktacred %s"' % (title, re.escape(version)),
                         text, re.M), text[:600]
        assert "@VERSION@" not in text


def test_make_docs_without_scdoc(tmp_path):
    r = make("docs", "B=%s" % tmp_path, "SCDOC=/nonexistent/scdoc")
    assert r.returncode == 0, r.stderr
    assert "not found" in r.stdout and "man pages not built" in r.stdout
    assert not (tmp_path / "man").exists()


def test_install_and_uninstall_docs(tmp_path, built_man):
    dest = tmp_path / "dest"
    b = os.path.dirname(os.path.dirname(built_man[0]))
    args = ["DESTDIR=%s" % dest, "PREFIX=/usr", "B=%s" % b]
    r = make("install-docs", *args)
    assert r.returncode == 0, r.stdout + r.stderr
    files = {
        "usr/share/bash-completion/completions/oktacred": BASH,
        "usr/share/zsh/site-functions/_oktacred": ZSH,
        "usr/share/fish/vendor_completions.d/oktacred.fish": FISH,
        "usr/share/man/man1/oktacred.1": built_man[0],
        "usr/share/man/man5/oktacred-config.5": built_man[1],
    }
    for rel, src in files.items():
        path = dest / rel
        assert path.is_file(), rel
        assert path.read_bytes() == open(src, "rb").read(), rel
        assert (path.stat().st_mode & 0o777) == 0o644, rel
    r = make("uninstall-docs", *args)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [p for p in dest.rglob("*") if p.is_file()] == []
