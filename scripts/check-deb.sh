#!/bin/sh
# Checks a built oktacred .deb: the refresh timer stays opt-in (no *.wants link shipped,
# no maintainer script that enables it for every user) and README.md is shipped under
# /usr/share/doc/oktacred. Usage: scripts/check-deb.sh PACKAGE.deb
set -eu
deb=${1:?usage: check-deb.sh PACKAGE.deb}
fail=0
contents=$(dpkg-deb -c "$deb")

if printf '%s\n' "$contents" | grep -E '\.wants/' >/dev/null; then
	echo "check-deb: $deb ships a .wants link (enables a unit for every user):" >&2
	printf '%s\n' "$contents" | grep -E '\.wants/' >&2
	fail=1
fi
if ! printf '%s\n' "$contents" | grep -E ' \./usr/share/doc/oktacred/README\.md(\.gz)?$' \
	>/dev/null; then
	echo "check-deb: $deb does not ship /usr/share/doc/oktacred/README.md" >&2
	fail=1
fi

ctl=$(mktemp -d)
trap 'rm -rf "$ctl"' EXIT
dpkg-deb -e "$deb" "$ctl"
# dh_installsystemduser --no-enable still writes an "enable", but only under
# "deb-systemd-helper --user debian-installed", which is false on a first install: it
# restores what an admin enabled before. An enable without that guard is for everyone.
for s in preinst postinst; do
	[ -f "$ctl/$s" ] || continue
	if grep -E 'deb-systemd-helper[[:space:]]+(--quiet[[:space:]]+)?--user[[:space:]]+enable|systemctl[[:space:]].*--global[[:space:]].*enable' \
		"$ctl/$s" >/dev/null &&
		! grep -E 'deb-systemd-helper[[:space:]]+--user[[:space:]]+debian-installed' \
			"$ctl/$s" >/dev/null; then
		echo "check-deb: $deb's $s enables a systemd user unit for every user:" >&2
		grep -n -E 'deb-systemd-helper|systemctl' "$ctl/$s" >&2
		fail=1
	fi
done
[ "$fail" = 0 ] && echo "check-deb: $deb: timer opt-in, README.md shipped"
exit "$fail"
