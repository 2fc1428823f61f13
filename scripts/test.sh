#!/usr/bin/env bash
# The whole test suite: a Docker engine (started if none answers), the test-bed bases and the
# local registry (built or reused by recipe hash), then every test. The integration tests talk
# to the real engine; a missing engine is a failure, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/testbed/build.sh
# pip inside containers must trust what this network presents (TLS-inspecting proxies).
export MUSLCHECK_TEST_CA_BUNDLE=${MUSLCHECK_TEST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
cargo build --locked --all-targets
cargo test --locked -- --test-threads "${MUSLCHECK_TEST_THREADS:-3}"
# Tests that stop the engine run alone, after everything else.
cargo test --locked --test it -- --ignored --test-threads 1
echo "test suite finished in $(( $(date +%s) - start )) s"
