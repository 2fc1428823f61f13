#!/usr/bin/env bash
# The first run on a fresh machine, in one command: a Docker engine (started if none answers),
# the local registry and the test-bed bases (scripts/testbed/build.sh: about 40 minutes the first
# time, seconds once they are built), then the seed matrix on them. Arguments go to `muslcheck run`
# (e.g. --ca-bundle FILE behind a TLS-inspecting proxy, --details for the full tables).
#   bash scripts/demo.sh [--ca-bundle /etc/ssl/certs/ca-certificates.crt]
set -euo pipefail
cd "$(dirname "$0")/.."
echo "demo: the test bed first (about 40 min on a fresh machine, seconds when it is built)" >&2
bash scripts/testbed/build.sh >&2
echo "demo: the seed matrix on the test-bed bases" >&2
exec cargo run --release --quiet -- run --matrix matrix/local.toml "$@"
