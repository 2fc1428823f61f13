#!/usr/bin/env bash
# The run-time control's speed on each test-bed base: the probe's own pure-Python control
# (`_W_CONTROL` in probes/wheels.py), run N times per base in containers pinned to CPU 0,
# interleaved base after base so that load drift hits every base alike. Prints each base's
# median, range and its ratio to the fastest. A benchmark, not a test: it asserts nothing.
# Usage: scripts/bench-control.sh [RUNS] [IMAGE...]   (default: 21 runs, the test-bed bases)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-21}
shift || true
repo=127.0.0.1:5000/muslcheck-testbed/python
images=("$@")
[ ${#images[@]} -gt 0 ] || images=("$repo:3.13-glibc" "$repo:3.13-musl" "$repo:3.13-musl1.2.3")
control=$(mktemp)
names=()
trap 'rm -f "$control"; for n in "${names[@]}"; do docker rm -f "$n" >/dev/null 2>&1 || true; done' EXIT
python3 - "$control" <<'EOF'
import re, sys
src = open("probes/wheels.py").read()
m = re.search(r"_W_CONTROL = r'''(.*?)'''", src, re.S)
open(sys.argv[1], "w").write(m.group(1))
EOF
for i in "${!images[@]}"; do
  n=muslcheck-bench-control-$$-$i
  docker run -d --name "$n" --label io.muslcheck.kind=bench --cpuset-cpus 0 --network none \
    "${images[$i]}" sleep 3600 >/dev/null
  docker cp "$control" "$n:/tmp/control.py"
  names+=("$n")
done
# One timed run: a fresh interpreter, timed inside the container (no exec overhead).
timed='import subprocess, sys, time; t = time.monotonic(); subprocess.run([sys.executable, "/tmp/control.py"], check=True); print(round(time.monotonic() - t, 4))'
out=$(mktemp)
for _ in $(seq "$runs"); do
  for i in "${!names[@]}"; do
    echo "$i $(docker exec "${names[$i]}" python3 -c "$timed")" >>"$out"
  done
done
python3 - "$out" "${images[@]}" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
images = sys.argv[2:]
med = {}
for i, img in enumerate(images):
    t = sorted(float(s) for k, s in rows if int(k) == i)
    med[img] = statistics.median(t)
fast = min(med.values())
for i, img in enumerate(images):
    t = sorted(float(s) for k, s in rows if int(k) == i)
    print("%-55s median %.3f s (%.3f-%.3f s, %d runs)  %.2fx" % (img, med[img], t[0], t[-1], len(t), med[img] / fast))
EOF
rm -f "$out"
