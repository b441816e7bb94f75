#!/bin/sh
# The layers of docs/DESIGN.md section 6: a module (src/LAYER/NAME.c) includes the headers
# of modules of its own layer and of the layers below, never of one above. A header's
# module is the .c file of the same name. Prints each include that runs upward; exits 1
# when there is one.
set -u
cd "$(dirname "$0")/.."
rank() {
	case "$1" in
	lib) echo 0 ;; state) echo 1 ;; oauth) echo 2 ;; aws) echo 3 ;;
	providers) echo 4 ;; identities) echo 5 ;; cmd) echo 6 ;; *) echo -1 ;;
	esac
}
rc=0
for f in src/*/*.c; do
	layer=$(basename "$(dirname "$f")")
	mine=$(rank "$layer")
	if [ "$mine" -lt 0 ]; then
		echo "$f: $layer is not a layer of docs/DESIGN.md section 6"
		rc=1
		continue
	fi
	for h in $(sed -n 's/^#include "oktacred\/\([a-z_]*\)\.h".*/\1/p' "$f"); do
		owner=$(ls src/*/"$h".c 2>/dev/null | head -n 1)
		[ -n "$owner" ] || continue
		theirs=$(rank "$(basename "$(dirname "$owner")")")
		if [ "$theirs" -gt "$mine" ]; then
			echo "$f includes oktacred/$h.h of $owner: an include from a lower layer to a higher one"
			rc=1
		fi
	done
done
for f in src/*.c; do
	[ -e "$f" ] || continue
	echo "$f: every module lives in a layer's folder (docs/DESIGN.md section 6)"
	rc=1
done
exit $rc
