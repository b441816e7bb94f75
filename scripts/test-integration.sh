#!/bin/sh
# Runs the integration tests: the built oktacred against the local identity provider
# (tests/idp), with Debian's python3 and pytest.
set -eu
cd "$(dirname "$0")/.."
exec /usr/bin/python3 -m pytest -p no:cacheprovider -q -rs "$@" tests/integration
