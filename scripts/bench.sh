#!/usr/bin/env bash
# Times a matrix run cold and warm: the numbers behind "an unchanged job is reused".
#   scripts/bench.sh [MATRIX] [--really-cold]
# Cold: --no-cache (every image rebuilt; the pip-cache volumes still help). With --really-cold
# the cached images and pip-cache volumes are removed first (`muslcheck clean --images`).
# Warm: the same run again, nothing changed. Extra arguments to muslcheck: MUSLCHECK_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."
matrix=${1:-matrix/local.toml}
cargo build --release --locked -q
bin=target/release/muslcheck
ca=${MUSLCHECK_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
out=$(mktemp -d)
if [ "${2:-}" = "--really-cold" ]; then "$bin" clean --images >/dev/null; fi
t() { local s; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; python3 -c "print($(date +%s.%N) - $s)"; }
cold=$(t "$bin" run --matrix "$matrix" --ca-bundle "$ca" --no-cache --no-progress --results-dir "$out/cold" ${MUSLCHECK_ARGS:-})
warm=$(t "$bin" run --matrix "$matrix" --ca-bundle "$ca" --no-progress --results-dir "$out/warm" ${MUSLCHECK_ARGS:-})
cached=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); j=r['jobs']; print(f\"{sum(x['cached'] for x in j)}/{len(j)}\")" "$out/warm/report.json")
printf '%-28s %8s\n' "matrix" "$matrix" "cold run (--no-cache)" "$(printf '%.1f s' "$cold")" "warm run" "$(printf '%.1f s' "$warm")" "jobs reused when warm" "$cached"
echo "reports: $out/cold/report.json $out/warm/report.json"
