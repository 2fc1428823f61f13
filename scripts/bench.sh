#!/usr/bin/env bash
# Where a matrix run's time goes, in one invocation:
#   1. cold: every image rebuilt without the layer cache (`--no-cache`), an empty observation
#      cache and an empty pip cache (images are replaced, not removed, so runs of others on the
#      same engine are not disturbed);
#   2. warm: the same run again, nothing changed;
#   3. warm after one change: the first dependency's cached jobs removed, as after an upstream
#      release that moves its resolution (the seed matrix's packages are on PyPI, where nothing
#      can be published on purpose: the local-index test shows the release itself being seen);
#   3b. cold again with uv as the installer (`--installer uv`), from empty caches of its own;
#   4. the plain loop: for every job, one `docker build --no-cache` (venv + pip install) and one
#      import, one job after another, as a team would script it;
#   5. the same matrix on the toolchain base too (matrix/local-toolchain.toml, glibc and musl jobs
#      reused from 1-3): what each source build takes there, or why it fails, from an empty pip
#      cache (a wheel pip built earlier would hide the build). Skipped with BENCH_TOOLCHAIN=0.
# Usage: scripts/bench.sh [MATRIX]. Prints each time and the ratios; extra muslcheck arguments in
# MUSLCHECK_ARGS. A benchmark, not a test: it asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
matrix=${1:-matrix/local.toml}
cargo build --release --locked -q
bin=$PWD/target/release/muslcheck
ca=${MUSLCHECK_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
out=$(mktemp -d /var/tmp/muslcheck-bench.XXXXXX)
# pip's cache is an engine-side volume per base: a name of this benchmark's own, removed at the end.
pip_cache=muslcheck-bench-pip-$$
export MUSLCHECK_OBSERVATIONS=$out/observations MUSLCHECK_PIP_CACHE=$pip_cache
trap 'docker volume ls -q --filter "name=$pip_cache" | xargs -r docker volume rm -f >/dev/null' EXIT
now() { date +%s.%N; }
run() { local d=$1; shift; "$bin" run --matrix "${RUN_MATRIX:-$matrix}" --ca-bundle "$ca" --no-progress --results-dir "$out/$d" "$@" ${MUSLCHECK_ARGS:-} >"$out/$d.txt" 2>&1 || true; }
timed() { local s; s=$(now); "$@"; python3 -c "print(round($(now) - $s, 1))"; }

cold=$(timed run cold --no-cache)
warm=$(timed run warm)
first=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['jobs'][0]['dependency'])" "$out/warm/report.json")
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print('\n'.join(j['image'] for j in r['jobs'] if j['dependency']==sys.argv[2] and j['image']))" \
  "$out/warm/report.json" "$first" | xargs -r docker rmi >/dev/null
changed=$(timed run changed)
# Cold with uv: an observation cache and pip caches of its own, empty, and no image reused.
cold_uv=$(MUSLCHECK_OBSERVATIONS=$out/observations-uv MUSLCHECK_PIP_CACHE=$pip_cache-uv timed run cold-uv --no-cache --installer uv)

# The plain loop, on the same bases.
plain() {
  python3 - "$matrix" <<'PY' >"$out/plain.jobs"
import sys, tomllib
m = tomllib.load(open(sys.argv[1], "rb"))
for d in m["dependency"]:
    name = d.get("name") or d["requirement"].split(";")[0].split("[")[0].split("=")[0].split("<")[0].split(">")[0].split("~")[0].split("!")[0].strip()
    for b in m["base"]:
        print(b["image"], b.get("python", "python3"), d["requirement"], name.replace("-", "_"))
PY
  while read -r image python req mod; do
    bash scripts/plain-job.sh "$image" "$python" "$req" "$mod" "$ca" \
      "muslcheck-bench/plain:$(printf '%s %s' "$image" "$req" | sha256sum | cut -c1-12)" </dev/null
  done <"$out/plain.jobs"
}
plain_s=$(timed plain)

toolchain_s=
if [ "${BENCH_TOOLCHAIN:-1}" != 0 ]; then
  toolchain=${BENCH_TOOLCHAIN_MATRIX:-matrix/local-toolchain.toml}
  toolchain_s=$(RUN_MATRIX=$toolchain MUSLCHECK_PIP_CACHE=$pip_cache-toolchain timed run toolchain)
fi

summary() { python3 -c "
import json,sys; r=json.load(open(sys.argv[1])); j=r['jobs']; t=r.get('timings',{})
print(f\"{sum(x['cached'] for x in j)}/{len(j)} images reused, {sum(x.get('probe_cached',False) for x in j)} observations reused; builds {t.get('build',0):.0f} s, probes {t.get('probe',0):.0f} s, profile {t.get('profile',0):.0f} s, resolver {t.get('resolver',0):.0f} s\")" "$out/$1/report.json"; }
printf '%-34s %s\n' "matrix" "$matrix"
printf '%-34s %7s s   %s\n' "cold (no cache at all)" "$cold" "$(summary cold)"
printf '%-34s %7s s   %s\n' "warm (nothing changed)" "$warm" "$(summary warm)"
printf '%-34s %7s s   %s\n' "warm, $first changed" "$changed" "$(summary changed)"
printf '%-34s %7s s   %s\n' "cold with uv (no cache at all)" "$cold_uv" "$(summary cold-uv)"
printf '%-34s %7s s   %s\n' "plain docker build + import loop" "$plain_s" "$(wc -l <"$out/plain.jobs") jobs, one after another"
if [ -n "$toolchain_s" ]; then
  printf '%-34s %7s s   %s\n' "toolchain matrix" "$toolchain_s" "$(summary toolchain)"
  python3 - "$out/toolchain/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for j in sorted(r["jobs"], key=lambda j: (j["dependency"], j["base"])):
    for b in j.get("source_builds", []):
        what = "from pip's cache" if b.get("from_cache") else ("built" if b["ok"] else "FAILED")
        err = "" if b["ok"] else ": " + (b.get("error") or "")
        print(f"  source build on {j['base']:<8} {b['distribution']:<14} {what:<8} {b['secs']:7.1f} s (whole install {j['build_secs']:.1f} s){err}")
PY
fi
python3 -c "print(f'ratios: cold/plain {$cold/$plain_s:.2f}, cold uv/plain {$cold_uv/$plain_s:.2f}, warm/plain {$warm/$plain_s:.3f}, changed/plain {$changed/$plain_s:.2f}')"
echo "reports and outputs: $out"
