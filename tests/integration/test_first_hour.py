"""A newcomer's first hour (issue 15): a config directory made with `mkdir -p`, a timer
for users who never set oktacred up, hints where users stop."""
import os
import stat
import subprocess

import pytest

from checks import real_session
from conftest import do_login


def mode(p):
    return stat.S_IMODE(os.lstat(p).st_mode)


# -- item 2: ~/.config/oktacred made with `mkdir -p` (0755) ------------------------------

def test_config_directory_made_with_mkdir_p_works(env):
    env.idp.settings(interval=1)
    os.chmod(env.root, 0o755)
    os.chmod(env.config, 0o644)
    rc, out, err = do_login(env)
    assert rc == 0, err
    assert mode(env.root) == 0o755, "the user's directory is left as it is"
    for d in (env.root / "okta", env.provider_dir()):
        assert mode(d) == 0o700, d
    assert mode(env.tokens_path()) == 0o600
    r = env.run("token")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == env.tokens()["access_token"]
    r = env.run("status")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("m", [0o775, 0o757, 0o777])
def test_config_directory_writable_by_others_is_refused(env, m):
    real_session(env, expired=False)
    os.chmod(env.root, m)
    r = env.run("token")
    assert r.returncode == 1 and r.stdout == "", r.stderr
    assert "mode %04o" % m in r.stderr
    assert "chmod go-w %s" % env.root in r.stderr


def test_under_an_open_root_the_secrets_stay_closed(env):
    real_session(env, expired=False)
    os.chmod(env.root, 0o755)
    os.chmod(env.root / "okta", 0o755)
    r = env.run("token")
    assert r.returncode == 1 and "chmod 700 %s" % (env.root / "okta") in r.stderr
    os.chmod(env.root / "okta", 0o700)
    os.chmod(env.tokens_path(), 0o644)
    r = env.run("token")
    assert r.returncode == 1 and "chmod 600 %s" % env.tokens_path() in r.stderr
    os.chmod(env.tokens_path(), 0o600)
    os.chmod(env.config, 0o664)
    r = env.run("token")
    assert r.returncode == 1 and "writable by group or others" in r.stderr


# -- item 9: what the refresh timer runs, for users who never set oktacred up ------------

@pytest.mark.parametrize("setup", ["no directory", "no file", "empty file", "no session"])
def test_refresh_all_with_nothing_set_up_succeeds(env, setup):
    if setup == "no directory":
        os.remove(env.config)
        os.rmdir(env.root)
    elif setup == "no file":
        os.remove(env.config)
    elif setup == "empty file":
        env.config.write_text("")
    r = env.run("refresh", "--all")
    assert r.returncode == 0, r.stderr
    assert "nothing to refresh" in r.stderr and r.stdout == ""
    assert env.idp.log() == []
    if setup == "no directory":
        assert not env.root.exists(), "nothing is created for a user who has no config"


def test_refresh_all_with_a_missing_config_named_on_the_command_line(env, tmp_path):
    r = env.run("--config", str(tmp_path / "nope"), "refresh", "--all")
    assert r.returncode == 0 and "nothing to refresh" in r.stderr, r.stderr
    # without --all a missing configuration is still an error
    r = env.run("--config", str(tmp_path / "nope"), "refresh")
    assert r.returncode == 2 and "no configuration file" in r.stderr


# -- item 9: the .deb keeps the timer opt-in and ships the README -------------------------

CHECK_DEB = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "check-deb.sh")
ENABLING_POSTINST = """#!/bin/sh
set -e
if deb-systemd-helper --quiet --user was-enabled 'oktacred-refresh.timer' ; then
	deb-systemd-helper --user enable 'oktacred-refresh.timer' >/dev/null || true
fi
"""
# What dh_installsystemduser --no-enable writes: enable only what was enabled before.
OPT_IN_POSTINST = """#!/bin/sh
set -e
if deb-systemd-helper --user debian-installed 'oktacred-refresh.timer' ; then
	if deb-systemd-helper --quiet --user was-enabled 'oktacred-refresh.timer' ; then
		deb-systemd-helper --user enable 'oktacred-refresh.timer' >/dev/null || true
	fi
fi
deb-systemd-helper --user update-state 'oktacred-refresh.timer' >/dev/null || true
"""


def fake_deb(tmp_path, readme=True, wants=False, postinst=None):
    """A package laid out like oktacred's, built with dpkg-deb."""
    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        "Package: oktacred\nVersion: 0.1.0-1\nArchitecture: all\n"
        "Maintainer: test <test@example.invalid>\nDescription: test\n")
    units = root / "usr/lib/systemd/user"
    units.mkdir(parents=True)
    (units / "oktacred-refresh.timer").write_text("[Timer]\n")
    doc = root / "usr/share/doc/oktacred"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text("x\n")
    if readme:
        (doc / "README.md").write_text("# oktacred\n")
    if wants:
        w = root / "etc/systemd/user/timers.target.wants"
        w.mkdir(parents=True)
        os.symlink("/usr/lib/systemd/user/oktacred-refresh.timer",
                   w / "oktacred-refresh.timer")
    if postinst:
        p = root / "DEBIAN" / "postinst"
        p.write_text(postinst)
        os.chmod(p, 0o755)
    for d, _, _ in os.walk(root):
        os.chmod(d, 0o755)
    deb = tmp_path / "oktacred.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(root), str(deb)],
                   check=True, capture_output=True)
    return deb


def check_deb(deb):
    return subprocess.run(["sh", CHECK_DEB, str(deb)], capture_output=True, text=True)


def test_deb_check_accepts_an_opt_in_package(tmp_path):
    r = check_deb(fake_deb(tmp_path, postinst=OPT_IN_POSTINST))
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("kind,needle", [
    ("wants", ".wants"),
    ("postinst", "enables a systemd user unit"),
    ("no readme", "README.md"),
])
def test_deb_check_refuses(tmp_path, kind, needle):
    deb = fake_deb(tmp_path, readme=kind != "no readme", wants=kind == "wants",
                   postinst=ENABLING_POSTINST if kind == "postinst" else None)
    r = check_deb(deb)
    assert r.returncode != 0 and needle in r.stderr, r.stderr


def test_debian_packaging_keeps_the_timer_opt_in():
    """What makes the real package pass the check (built and checked by `make deb`)."""
    top = os.path.join(os.path.dirname(__file__), "..", "..", "packaging", "debian")
    with open(os.path.join(top, "rules")) as f:
        assert "dh_installsystemduser --no-enable" in f.read()
    with open(os.path.join(top, "docs")) as f:
        assert "README.md" in f.read().split()


# -- item 5: hints where users stop -----------------------------------------------------

def test_status_of_a_missing_session_says_what_to_run(env):
    r = env.run("status", "okta-admin")
    assert r.returncode == 3
    assert "not logged in" in r.stdout
    assert "run: oktacred login okta-oidc" in r.stderr.splitlines()
    r = env.run("status", "--json")
    assert r.returncode == 3 and "run: oktacred login okta-oidc" in r.stderr


def test_status_of_a_service_account_does_not_say_log_in(env):
    env.write_config(
        "[provider robot]\nkind = okta/service-account\n"
        f"org_url = {env.idp.base}\nclient_id = 0oa-robot\n"
        "client_secret_env = ROBOT_SECRET\nscopes = api.read\n"
        "authorization_server = default\n\n"
        "[provider api]\nkind = okta/api-token\n"
        f"org_url = {env.idp.base}\ntoken_env = OKTA_API_TOKEN\n")
    r = env.run("status")
    assert r.returncode in (0, 3) and "robot (" in r.stdout and "api (" in r.stdout, r.stderr
    assert "login" not in r.stderr, r.stderr


@pytest.mark.parametrize("typo,nearest", [("logni", "login"), ("stauts", "status"),
                                          ("whoamu", "whoami"), ("refesh", "refresh"),
                                          ("credential-proces", "credential-process")])
def test_unknown_command_suggests_the_nearest(env, typo, nearest):
    r = env.run(typo)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.splitlines()[0] == \
        'oktacred: unknown command "%s" (did you mean %s?)' % (typo, nearest)
    r = env.run("help", typo)
    assert r.returncode == 2 and "(did you mean %s?)" % nearest in r.stderr


def test_unknown_command_far_from_all_suggests_nothing(env):
    r = env.run("xyzzy")
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == 'oktacred: unknown command "xyzzy"'


def test_version_help_shows_help(env):
    r = env.run("version", "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: oktacred version")
    r = env.run("version")
    assert r.returncode == 0 and r.stdout.startswith("oktacred ")
