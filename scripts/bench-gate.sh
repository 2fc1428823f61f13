#!/usr/bin/env bash
# A pull request's gate on a fresh CI runner, against the plain per-dependency loop a team would
# script, for small dependencies: `gate DEP` with no job image (`--no-cache`), an empty
# observation cache and empty pip caches, under pip and under uv; and for each base a
# `docker build --no-cache` of a venv plus the install, then one import. The three are
# alternated, ROUNDS times, so that load drift hits all of them. Prints each median and the
# ratios to the plain loop. A benchmark, not a test: it asserts nothing.
# Usage: scripts/bench-gate.sh [ROUNDS] [DEP...]   (default: 3 rounds of httpx and orjson on
# matrix/local.toml's bases; extra muslcheck arguments in MUSLCHECK_ARGS)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
deps=("$@")
[ ${#deps[@]} -gt 0 ] || deps=(httpx orjson)
matrix=${BENCH_MATRIX:-matrix/local.toml}
cargo build --release --locked -q
bin=$PWD/target/release/muslcheck
ca=${MUSLCHECK_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
out=$(mktemp -d /var/tmp/muslcheck-bench-gate.XXXXXX)
# Every gate's pip cache is named after this script's pid: removed by that prefix at the end (the
# gates run in command substitutions, subshells, which cannot add to a list of the parent's).
trap 'docker volume ls -q --filter "name=muslcheck-bench-gate-$$-" | xargs -r docker volume rm -f >/dev/null' EXIT
now() { date +%s.%N; }
since() { python3 -c "import sys; print(round($(now) - float(sys.argv[1]), 1))" "$1"; }

# A fresh runner: no observations, a pip cache of its own (an engine volume per base), no image.
gate() {
  local dep=$1 installer=$2 n=$3 s
  local cache=muslcheck-bench-gate-$$-$n
  s=$(now)
  MUSLCHECK_OBSERVATIONS=$out/obs-$n MUSLCHECK_PIP_CACHE=$cache "$bin" gate "$dep" --matrix "$matrix" \
    --installer "$installer" --no-cache --no-progress --ca-bundle "$ca" --results-dir "$out/gate-$n" \
    ${MUSLCHECK_ARGS:-} >"$out/gate-$n.txt" 2>&1 || true
  since "$s"
}
bases() { python3 -c "
import sys, tomllib
for b in tomllib.load(open(sys.argv[1], 'rb'))['base']: print(b['image'], b.get('python', 'python3'))" "$matrix"; }
plain() {
  local dep=$1 s mod=${1//-/_}
  s=$(now)
  while read -r image python; do
    bash scripts/plain-job.sh "$image" "$python" "$dep" "$mod" "$ca" "muslcheck-bench/plain-gate:$$" </dev/null
  done < <(bases)
  since "$s"
}

rows=$out/rows
n=0
for _ in $(seq "$rounds"); do
  for dep in "${deps[@]}"; do
    n=$((n + 1)); echo "$dep pip $(gate "$dep" pip $n)" >>"$rows"
    n=$((n + 1)); echo "$dep uv $(gate "$dep" uv $n)" >>"$rows"
    echo "$dep plain $(plain "$dep")" >>"$rows"
  done
done
python3 - "$rows" "$matrix" "$rounds" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
print(f"PR gate on a fresh runner, {sys.argv[3]} rounds, bases of {sys.argv[2]}")
for dep in dict.fromkeys(r[0] for r in rows):
    med = {k: statistics.median(float(r[2]) for r in rows if r[0] == dep and r[1] == k) for k in ("pip", "uv", "plain")}
    print(f"  {dep:<12} gate (pip) {med['pip']:6.1f} s  gate (uv) {med['uv']:6.1f} s  plain loop {med['plain']:6.1f} s"
          f"   pip/plain {med['pip'] / med['plain']:.2f}  uv/plain {med['uv'] / med['plain']:.2f}")
PY
# Where the last round's gates spent their time (uv's and pip's, per dependency).
python3 scripts/report-time.py $(for i in $(seq $((n - 2 * ${#deps[@]} + 1)) "$n"); do echo "$out/gate-$i/report.json"; done)
echo "reports and outputs: $out"
