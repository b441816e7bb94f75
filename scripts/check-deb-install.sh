#!/bin/sh
# Installs a built oktacred .deb on this machine with apt (as root, on a disposable machine
# such as CI's), checks what an installed package must do, then purges it:
#   - /usr/bin/oktacred runs: the static front (no program interpreter), which hands what
#     it does not serve itself to the full program, /usr/libexec/oktacred/oktacred
#     (dynamic); the man pages and README.md are where man and users look;
#   - the refresh timer is installed but enabled for nobody: no *.wants link for it
#     anywhere under /etc/systemd or /usr/lib/systemd;
#   - purging removes every file the package installed.
# Usage: scripts/check-deb-install.sh PACKAGE.deb
set -eu
deb=${1:?usage: check-deb-install.sh PACKAGE.deb}
[ "$(id -u)" = 0 ] || { echo "check-deb-install: must run as root" >&2; exit 2; }
case $deb in /*) ;; *) deb=$PWD/$deb ;; esac
fail=0
bad() { echo "check-deb-install: $*" >&2; fail=1; }

if dpkg -s oktacred >/dev/null 2>&1; then
	echo "check-deb-install: oktacred is already installed here; not touching it" >&2
	exit 2
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" >/dev/null
files=$(dpkg -L oktacred)
# The package's own files (not the directories it shares with others).
owned=$(printf '%s\n' "$files" | while read -r f; do
	if [ -f "$f" ] || [ -L "$f" ]; then echo "$f"; fi
done)

/usr/bin/oktacred --version >/dev/null || bad "/usr/bin/oktacred --version failed"
full=/usr/libexec/oktacred/oktacred
[ -x "$full" ] || bad "the full program $full is not installed"
"$full" --version >/dev/null || bad "$full --version failed"
LC_ALL=C readelf -lW /usr/bin/oktacred | grep -q 'Requesting program interpreter' &&
	bad "/usr/bin/oktacred is not static (the front)"
LC_ALL=C readelf -lW "$full" | grep -q 'Requesting program interpreter' ||
	bad "$full is not dynamically linked"
# The front execs the full program for --version: one that cannot be run is its error.
out=$(OKTACRED_FULL=/nonexistent/oktacred /usr/bin/oktacred --version 2>&1) &&
	bad "/usr/bin/oktacred --version did not hand over to the full program"
case $out in *"cannot run /nonexistent/oktacred"*) ;;
*) bad "the front's hand-off said: $out" ;; esac
if command -v strace >/dev/null; then
	strace -f -qq -e trace=execve /usr/bin/oktacred --version 2>&1 >/dev/null |
		grep -q 'execve("/usr/bin/\.\./libexec/oktacred/oktacred"' ||
		bad "/usr/bin/oktacred did not exec $full"
fi
[ -f /usr/share/doc/oktacred/README.md ] || [ -f /usr/share/doc/oktacred/README.md.gz ] ||
	bad "no /usr/share/doc/oktacred/README.md"
for page in oktacred.1 oktacred-config.5; do
	ls /usr/share/man/man*/"$page".gz >/dev/null 2>&1 || bad "man page $page not installed"
done
printf '%s\n' "$files" | grep -q '/oktacred-refresh\.timer$' ||
	bad "the refresh timer unit is not installed"
wants=$(find /etc/systemd /usr/lib/systemd /lib/systemd -path '*.wants/*' \
	-name 'oktacred*' 2>/dev/null || true)
[ -z "$wants" ] || bad "installing enabled a unit for every user: $wants"

DEBIAN_FRONTEND=noninteractive apt-get purge -y -q oktacred >/dev/null
left=$(printf '%s\n' "$owned" | while read -r f; do
	if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi
done)
[ -z "$left" ] || bad "left after purge: $left"
wants=$(find /etc/systemd /usr/lib/systemd /lib/systemd -name 'oktacred*' 2>/dev/null || true)
[ -z "$wants" ] || bad "systemd files left after purge: $wants"

[ "$fail" = 0 ] && echo "check-deb-install: $(basename "$deb"): installs, runs, timer opt-in, purges cleanly"
exit "$fail"
