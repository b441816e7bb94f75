#!/bin/sh
# Judges the reports a sanitizer or valgrind run left in a directory (mk/sanitize.mk):
#   check-logs.sh asan DIR       any file there is an ASan/UBSan/LSan report: failure
#   check-logs.sh valgrind DIR   every vg.PID log must say "ERROR SUMMARY: 0 errors"
# Prints the offending reports and exits 1, else prints a one-line summary.
set -eu
kind=$1
dir=$2
bad=0
[ -d "$dir" ] || { echo "check-logs: no directory $dir" >&2; exit 1; }
case $kind in
asan)
	for f in "$dir"/*; do
		[ -e "$f" ] || continue
		echo "==== $f" >&2
		cat "$f" >&2
		bad=$((bad + 1))
	done
	if [ "$bad" -gt 0 ]; then
		echo "check-asan: $bad sanitizer report(s) in $dir (above)" >&2
		exit 1
	fi
	echo "check-asan: no sanitizer reports"
	;;
valgrind)
	n=0
	unfinished=0
	for f in "$dir"/vg.*; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		if grep -q 'ERROR SUMMARY: 0 errors' "$f"; then
			continue
		fi
		if ! grep -q 'ERROR SUMMARY:' "$f"; then
			# Killed (SIGKILL by a test) or replaced by exec: no summary, but any error
			# it met before is still in the log.
			unfinished=$((unfinished + 1))
			grep -qE '^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and destination|Argument|[0-9,]+ bytes in [0-9,]+ blocks are definitely)' "$f" ||
				continue
		fi
		echo "==== $f" >&2
		cat "$f" >&2
		bad=$((bad + 1))
	done
	if [ "$n" -eq 0 ]; then
		echo "check-valgrind: no valgrind logs in $dir: was the wrapper used?" >&2
		exit 1
	fi
	if [ "$bad" -gt 0 ]; then
		echo "check-valgrind: $bad of $n processes had errors or definite leaks (above)" >&2
		exit 1
	fi
	echo "check-valgrind: $n processes, no errors, no definite leaks ($unfinished ended" \
		"without a summary: killed or exec'd)"
	;;
*)
	echo "usage: check-logs.sh asan|valgrind DIR" >&2
	exit 2
	;;
esac
