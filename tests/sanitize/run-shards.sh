#!/bin/sh
# Runs the integration suite as N shards at once (OKTACRED_SHARD=I/N, see
# tests/integration/conftest.py), each with its own servers; most of the suite waits on
# servers and timers, so shards overlap well even on two cores. Prints each shard's output
# when all are done; exits 1 when any failed.
#   run-shards.sh N OUTDIR [pytest args...]
set -u
n=$1
out=$2
shift 2
cd "$(dirname "$0")/../.."
mkdir -p "$out"
pids=
i=0
while [ "$i" -lt "$n" ]; do
	OKTACRED_SHARD=$i/$n scripts/test-integration.sh "$@" >"$out/shard-$i.log" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
rc=0
i=0
for p in $pids; do
	if ! wait "$p"; then
		rc=1
	fi
	echo "---- shard $i/$n"
	cat "$out/shard-$i.log"
	i=$((i + 1))
done
exit $rc
