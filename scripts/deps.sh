#!/bin/sh
# Installs what oktacred needs to build and test: apt on Debian/Ubuntu (as root);
# elsewhere prints the command to run. --if-missing: do nothing when all is there.
# The static front (./oktacred) links libc.a: build-essential's libc6-dev has it; Fedora's
# is glibc-static.
set -eu

PC_MODULES="libcurl openssl libqrencode libsecret-1 libxml-2.0 criterion"
APT_PKGS="build-essential pkg-config libcurl4-openssl-dev libssl-dev \
libqrencode-dev libsecret-1-dev libxml2-dev libcriterion-dev python3 python3-pytest clang \
clang-format gnome-keyring libsecret-tools dbus-daemon \
cppcheck dash fish zsh busybox python3-dotenv awscli python3-boto3 python3-cryptography zbar-tools \
scdoc mandoc debhelper dpkg-dev fakeroot lintian bash-completion valgrind libclang-rt-dev strace"
DNF_LINE="sudo dnf install gcc make glibc-static pkgconf-pkg-config libcurl-devel \
openssl-devel qrencode-devel libsecret-devel libxml2-devel criterion-devel \
python3-pytest python3-boto3 awscli2 nodejs npm clang clang-tools-extra cppcheck dash fish \
gnome-keyring libsecret dbus-daemon zbar strace"
BREW_LINE="brew install pkg-config curl openssl@3 qrencode libsecret libxml2 \
criterion node python llvm cppcheck dash fish awscli zbar && python3 -m pip install pytest boto3"

missing() {
	for m in $PC_MODULES; do
		pkg-config --exists "$m" 2>/dev/null || { echo "pkg-config module $m"; return 0; }
	done
	for c in cc node npm /usr/bin/python3 clang-format cppcheck dash fish gnome-keyring-daemon \
		secret-tool dbus-run-session /usr/bin/aws zbarimg \
		scdoc mandoc dh lintian strace readelf; do
		command -v "$c" >/dev/null 2>&1 || { echo "command $c"; return 0; }
	done
	/usr/bin/python3 -c 'import pytest' 2>/dev/null || { echo "python3 module pytest"; return 0; }
	return 1
}

if [ "${1:-}" = "--if-missing" ]; then
	what=$(missing) || exit 0
	echo "deps: missing $what; installing" >&2
fi

if command -v apt-get >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: run as root, or: sudo apt-get install $APT_PKGS nodejs npm" >&2
		exit 1
	fi
	pkgs=$APT_PKGS
	# Debian's nodejs only when there is no Node.js already (a newer one may be installed).
	command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
	command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
	export DEBIAN_FRONTEND=noninteractive
	# An update once a day is enough; a fresh machine has no package lists at all.
	if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
		apt-get update -q
	fi
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $pkgs
	exit 0
fi

echo "deps: no apt-get here; install the dependencies with:" >&2
if command -v dnf >/dev/null 2>&1; then
	echo "  $DNF_LINE" >&2
elif command -v brew >/dev/null 2>&1; then
	echo "  $BREW_LINE" >&2
else
	echo "  Fedora/RHEL: $DNF_LINE" >&2
	echo "  macOS:       $BREW_LINE" >&2
fi
exit 1
