#!/usr/bin/env bash
# The whole test suite: a Docker engine (started if none answers), the test-bed bases and the
# local registry (built or reused by recipe hash), then every test. The integration tests talk
# to the real engine; a missing engine is a failure, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/testbed/build.sh
# A real browser for the HTML report's test, and a real terminal (tmux) for the progress test.
command -v chromium >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
# The engines a CI job may have: the engine over TCP and TLS (socat, openssl) and podman's Docker API.
for tool in socat openssl podman tmux curl; do
  command -v "$tool" >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null; }
done
# pip inside containers must trust what this network presents (TLS-inspecting proxies).
export MUSLCHECK_TEST_CA_BUNDLE=${MUSLCHECK_TEST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
# The local HTTPS package index (its own CA): sets MUSLCHECK_TEST_INDEX_URL, _HOST and _CA.
# (An assignment first: `eval "$(…)"` alone would hide index.sh's failure behind eval's success,
# and every test would then fail on a variable that is not set.)
index_env=$(bash scripts/testbed/index.sh)
eval "$index_env"
# The test bed's toolchain image (MUSLCHECK_TEST_TOOLCHAIN), for tests that build ELF fixtures.
. /var/lib/muslcheck/testbed.env
cargo build --locked --all-targets
log=$(mktemp)
# The suite's pip caches (engine volumes `<name>-<base>`) are its own and removed at the end: a
# run leaves no volume behind, and the check below fails the suite if any path created one of
# the default caches instead.
export MUSLCHECK_PIP_CACHE=muslcheck-it-pip-$$
default_caches() { docker volume ls -q --filter label=io.muslcheck.kind=cache-volume | grep -E '^muslcheck-pip-' | sort || true; }
before=$(default_caches)
trap 'rm -f "$log"; docker volume ls -q --filter "name=$MUSLCHECK_PIP_CACHE-" | xargs -r docker volume rm -f >/dev/null' EXIT
cargo test --locked -- --test-threads "${MUSLCHECK_TEST_THREADS:-3}" 2>&1 | tee -a "$log"
# Tests that stop the engine run alone, after everything else.
cargo test --locked --test it -- --ignored --test-threads 1 2>&1 | tee -a "$log"
leaked=$(comm -13 <(echo "$before") <(default_caches))
if [ -n "$leaked" ]; then
  echo "FAILED: the suite created default pip cache volumes, not its own: $leaked" | tee -a "$log"
  echo "test result: FAILED. 0 passed; 1 failed;" >>"$log"
fi
echo "test suite finished in $(( $(date +%s) - start )) s"
# One closing line for the whole suite.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
# A leaked default cache fails the suite, as a failing test does.
[ -z "$leaked" ]
