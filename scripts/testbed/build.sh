#!/usr/bin/env bash
# Builds (or reuses) the test-bed bases and pushes them to the local registry:
#   127.0.0.1:5000/muslcheck-testbed/python:3.13-glibc   Debian 13, glibc 2.41
#   127.0.0.1:5000/muslcheck-testbed/python:3.13-musl    musl 1.2.5, CPython built from Debian's sources
#   127.0.0.1:5000/muslcheck-testbed/python:3.13-musl1.2.3  the same against musl 1.2.3 (Alpine <= 3.17)
#   127.0.0.1:5000/muslcheck-testbed/python:3.13-musl-zig   the musl 1.2.5 base with a C/C++ compiler (Zig)
# Each base is tagged locally by a hash of its recipe, so it is rebuilt only when the recipe changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
registry=${MUSLCHECK_REGISTRY:-127.0.0.1:5000}
repo=muslcheck-testbed/python
t0=$(date +%s)
log() { printf '[testbed %4ss] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }

"$here/engine.sh"

# The local registry.
if ! curl -fsS "http://$registry/v2/" >/dev/null 2>&1; then
  command -v docker-registry >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null; }
  mkdir -p /var/lib/muslcheck/registry /var/log/muslcheck
  nohup docker-registry serve "$here/registry.yml" >/var/log/muslcheck/registry.log 2>&1 &
  for _ in $(seq 1 30); do curl -fsS "http://$registry/v2/" >/dev/null 2>&1 && break; sleep 1; done
  curl -fsS "http://$registry/v2/" >/dev/null || { echo "registry did not start; see /var/log/muslcheck/registry.log" >&2; exit 3; }
  log "registry: started on $registry"
fi

hash_files() { (cd "$here" && sha256sum "$@" | sha256sum | cut -c1-16); }
glibc_recipe=$(hash_files glibc.sh)
musl_recipe=$(printf '%s %s' "$glibc_recipe" "$(hash_files musl/Dockerfile musl/cc-musl fetch-sources.sh)" | sha256sum | cut -c1-16)
glibc_local="$repo:3.13-glibc-$glibc_recipe"
musl_local="$repo:3.13-musl-$musl_recipe"

if docker image inspect "$glibc_local" >/dev/null 2>&1; then
  log "glibc base: reusing $glibc_local"
else
  log "glibc base: building $glibc_local (debootstrap, ~1.5 min)"
  "$here/glibc.sh" "$glibc_local" "$glibc_recipe"
fi

toolchain="muslcheck-testbed/musl-build:$musl_recipe"
older_recipe=$(printf '%s %s' "$musl_recipe" "$(hash_files musl/older-musl.dockerfile)" | sha256sum | cut -c1-16)
older_local="$repo:3.13-musl1.2.3-$older_recipe"
zig_recipe=$(printf '%s %s' "$musl_recipe" "$(hash_files musl/zig.dockerfile musl/zig-cc musl/zig-c++ musl/zig-ar musl/zig-ranlib musl/toolchain-files.txt)" | sha256sum | cut -c1-16)
zig_local="$repo:3.13-musl-zig-$zig_recipe"

# A musl base, in two steps: musl_context LOCAL_TAG RECIPE [older] makes its build context
# (fetching the sources) and build_musl LOCAL_TAG RECIPE builds it from that context. Contexts are
# made one after another (they share the source cache); the two builds run at once, since the
# optimised one spends long stretches on one core (its profile run and its LTO link).
declare -A ctx_of
# A context (sources and all) and its log are removed when a build ends, failed or interrupted.
# The trap ends in `true`: under `set -e` a failing last command of an EXIT trap becomes the
# script's exit status, and killing a heartbeat that is already gone made every cold build exit 1
# after "test bed ready" (the suite then stopped without a word).
trap 'for c in "${ctx_of[@]}"; do rm -rf "$c" "$c.log"; done; [ -z "${hb:-}" ] || kill "$hb" 2>/dev/null; true' EXIT
musl_context() {
  local tag=$1 recipe=$2 variant=${3:-}
  local ctx
  ctx=$(mktemp -d /var/tmp/muslcheck-musl-context.XXXXXX)
  cp "$here/musl/cc-musl" "$ctx/"
  if [ "$variant" = older ]; then
    sed "/# @older-musl@/r $here/musl/older-musl.dockerfile" "$here/musl/Dockerfile" >"$ctx/Dockerfile"
  else
    cp "$here/musl/Dockerfile" "$ctx/"
  fi
  "$here/fetch-sources.sh" "$glibc_local" "$ctx/src" python3.13 openssl zlib libffi xz-utils bzip2 sqlite3
  log "$tag: sources $(paste -sd' ' "$ctx/src/VERSIONS")"
  ctx_of[$tag]=$ctx
}
build_musl() {
  local tag=$1 recipe=$2 ctx=${ctx_of[$1]}
  local sources
  sources=$(paste -sd' ' "$ctx/src/VERSIONS")
  # The build stage gets a tag of its own: the classic builder would leave it untagged (a
  # 2 GB dangling image), and as a tagged image it keeps the layer cache for recipe changes.
  # The second build takes its cache from that image alone (--cache-from): the two bases'
  # builds run at once and make the same first layers twice, and the classic builder's cache
  # picks the newest of equal layers, which can be the other build's. Its next step then has
  # no cached child there and the whole stage ran again (a cold test bed took 2627 s instead of
  # 1799, the PGO and LTO build done twice).
  DOCKER_BUILDKIT=0 docker build --target build --build-arg GLIBC_BASE="$glibc_local" \
    -t "muslcheck-testbed/musl-build:$recipe" "$ctx" >"$ctx.log" 2>&1 &&
    DOCKER_BUILDKIT=0 docker build -q --cache-from "muslcheck-testbed/musl-build:$recipe" \
      --build-arg GLIBC_BASE="$glibc_local" --build-arg RECIPE="$recipe" \
      --build-arg SOURCES="$sources" --label io.muslcheck.testbed=1 -t "$tag" "$ctx" >>"$ctx.log" 2>&1 || {
    echo "building $tag failed; the end of its log ($ctx.log):" >&2
    tail -40 "$ctx.log" >&2
    return 1
  }
  # Not anchored: the builder's colour codes for the step's stderr can run into the line.
  grep -ho 'CPython built in [0-9]* s (optimised: [01])' "$ctx.log" | sed "s|^|[$tag] |" || true
  rm -rf "$ctx" "$ctx.log"
}

need_musl=1 need_older=1
if docker image inspect "$musl_local" >/dev/null 2>&1 && docker image inspect "$toolchain" >/dev/null 2>&1; then
  log "musl base: reusing $musl_local"
  need_musl=0
fi
if docker image inspect "$older_local" >/dev/null 2>&1; then
  log "older-musl base: reusing $older_local"
  need_older=0
fi
[ $need_musl = 0 ] || musl_context "$musl_local" "$musl_recipe"
[ $need_older = 0 ] || musl_context "$older_local" "$older_recipe" older
pids=()
if [ $need_musl = 1 ]; then
  log "musl base: building $musl_local (CPython from source against musl 1.2.5 with PGO and LTO, ~35-45 min cold)"
  build_musl "$musl_local" "$musl_recipe" & pids+=($!)
fi
if [ $need_older = 1 ]; then
  log "older-musl base: building $older_local (the same against musl 1.2.3, -O2 without PGO or LTO, ~10 min cold, beside the other)"
  build_musl "$older_local" "$older_recipe" & pids+=($!)
fi
# The builds print nothing of their own for half an hour: a line every few minutes says which
# step each is at, and where its log is.
heartbeat() {
  local tag step last
  while sleep "${MUSLCHECK_TESTBED_HEARTBEAT:-120}"; do
    for tag in "${!ctx_of[@]}"; do
      [ -f "${ctx_of[$tag]}.log" ] || continue
      step=$(grep -ao 'Step [0-9]*/[0-9]* : [A-Z]*' "${ctx_of[$tag]}.log" | tail -1 | sed 's/^Step \([0-9/]*\) : \(.*\)/step \1 (\2)/' || true)
      # The step's last line, without the builder's colour codes: configure, make, the profile run.
      last=$(tail -c 4000 "${ctx_of[$tag]}.log" | tr -d '\r' | sed 's/\x1b\[[0-9;]*m//g' | grep -v '^[[:space:]]*$' | tail -1 | cut -c1-90 || true)
      log "$tag: still building, ${step:-starting}, last output \"${last:-…}\" (its log: ${ctx_of[$tag]}.log)"
    done
  done
}
hb=
if [ ${#pids[@]} -gt 0 ]; then heartbeat & hb=$!; fi
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done
[ -z "$hb" ] || { kill "$hb" 2>/dev/null; wait "$hb" 2>/dev/null || true; hb=; }
[ $failed = 0 ] || { echo "the musl test-bed bases did not build" >&2; exit 1; }
# The older base's build stage is of no further use: the toolchain image is the musl 1.2.5 one.
[ $need_older = 0 ] || docker rmi "muslcheck-testbed/musl-build:$older_recipe" >/dev/null 2>&1 || true
[ $need_musl = 0 ] || log "musl base: built"
[ $need_older = 0 ] || log "older-musl base: built"

if docker image inspect "$zig_local" >/dev/null 2>&1; then
  log "toolchain base: reusing $zig_local"
else
  log "toolchain base: building $zig_local (the musl base with Zig's C/C++ compiler, ~3 min cold)"
  # The compiler comes from the package index, fetched once into a cache checked by SHA-256.
  zig_cache=${MUSLCHECK_TOOLCHAIN_CACHE:-/var/cache/muslcheck/toolchain}
  python3 "$here/index/fetch.py" "$here/musl/toolchain-files.txt" "$zig_cache" "${MUSLCHECK_TEST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
  read -r _ zig_version zig_glob < <(grep -v '^#' "$here/musl/toolchain-files.txt" | head -1)
  zig_wheel=$(cd "$zig_cache" && ls $zig_glob | head -1)
  ctx=$(mktemp -d /var/tmp/muslcheck-zig-context.XXXXXX)
  cp "$here/musl/zig.dockerfile" "$ctx/Dockerfile"
  cp "$here/musl/zig-cc" "$here/musl/zig-c++" "$here/musl/zig-ar" "$here/musl/zig-ranlib" "$ctx/"
  ln "$zig_cache/$zig_wheel" "$ctx/$zig_wheel" 2>/dev/null || cp "$zig_cache/$zig_wheel" "$ctx/"
  DOCKER_BUILDKIT=0 docker build -q --build-arg MUSL_BASE="$musl_local" --build-arg ZIG_WHEEL="$zig_wheel" \
    --build-arg ZIG_VERSION="$zig_version" --build-arg RECIPE="$zig_recipe" -t "$zig_local" "$ctx" >/dev/null
  rm -rf "$ctx"
fi

for libc in glibc musl musl1.2.3 musl-zig; do
  case $libc in glibc) src=$glibc_local ;; musl) src=$musl_local ;; musl-zig) src=$zig_local ;; *) src=$older_local ;; esac
  dst="$registry/$repo:3.13-$libc"
  docker tag "$src" "$dst"
  docker push -q "$dst" >/dev/null
  log "$libc base: $dst ($(docker image inspect -f '{{index .RepoDigests 0}}' "$dst" 2>/dev/null || echo pushed))"
done
# Images of older recipes are of no further use.
for img in $(docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^muslcheck-testbed/(python|musl-build):' || true); do
  case "$img" in
    "$glibc_local" | "$musl_local" | "$older_local" | "$zig_local" | "$toolchain") ;;
    *) docker rmi "$img" >/dev/null 2>&1 && log "removed the old test-bed image $img" || true ;;
  esac
done
# A base replaced in the registry by a rebuild keeps only its digest: untagged, removed.
docker image prune -f --filter label=io.muslcheck.testbed.libc >/dev/null
# The build stage is also the suite's toolchain (gcc, musl-gcc, binutils) for ELF fixtures.
mkdir -p /var/lib/muslcheck
echo "export MUSLCHECK_TEST_TOOLCHAIN=$toolchain" >/var/lib/muslcheck/testbed.env
log "test bed ready"
