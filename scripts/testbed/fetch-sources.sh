#!/usr/bin/env bash
# Fetches the Debian 13 source packages the musl base is compiled from, into a build context.
# Usage: fetch-sources.sh GLIBC_BASE_IMAGE OUTDIR PACKAGE...
#
# Debian's mirror moves: its Sources index can list a version whose files are not there yet (or
# any more). So for each package every listed version is tried, newest first, until one
# downloads and verifies against the signed index (apt does both, in a container of the glibc
# base, whose apt already points at trixie). Files land in a host cache keyed by their SHA-256
# ($MUSLCHECK_SOURCE_CACHE, default /var/cache/muslcheck/sources) with a manifest of the version
# chosen per package, so a rebuild needs no mirror at all. OUTDIR receives the files (hard
# links) and VERSIONS, one "package=version" per line.
set -euo pipefail
image=$1 out=$2; shift 2
cache=${MUSLCHECK_SOURCE_CACHE:-/var/cache/muslcheck/sources}
manifest=$cache/manifest   # lines: package version sha256 filename
mkdir -p "$cache/by-sha256" "$out"
touch "$manifest"

# A package is served from the cache when the manifest names a version and every file of it is
# present with the right checksum.
cached_ok() {
  local pkg=$1 n=0 sha name
  while read -r p _ sha name; do
    [ "$p" = "$pkg" ] || continue
    n=$((n + 1))
    [ -f "$cache/by-sha256/$sha" ] || return 1
    [ "$(sha256sum "$cache/by-sha256/$sha" | cut -d' ' -f1)" = "$sha" ] || return 1
  done <"$manifest"
  [ "$n" -gt 0 ]
}

missing=()
for pkg in "$@"; do cached_ok "$pkg" || missing+=("$pkg"); done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "sources: fetching ${missing[*]} from Debian's mirror"
  dl=$(mktemp -d /var/tmp/muslcheck-sources.XXXXXX)
  trap 'rm -rf "$dl"' EXIT
  docker run --rm --label io.muslcheck.testbed=1 -v "$dl:/out" "$image" bash -euo pipefail -c '
    m=http://deb.debian.org/debian
    { echo "deb-src $m trixie main"; echo "deb-src $m trixie-updates main";
      echo "deb-src http://deb.debian.org/debian-security trixie-security main"; } >/etc/apt/sources.list.d/src.list
    apt-get update -qq >/dev/null 2>&1 || apt-get update -qq
    newer() { dpkg --compare-versions "$1" gt "$2"; }
    for pkg in "$@"; do
      listed=$(apt-cache showsrc "$pkg" | awk -v p="$pkg" "/^Package: /{c=\$2} /^Version: /{if (c==p) print \$2}" | sort -u)
      [ -n "$listed" ] || { echo "source package $pkg: not listed in the Sources index" >&2; exit 1; }
      sorted=()
      for v in $listed; do
        i=0; while [ $i -lt ${#sorted[@]} ] && newer "${sorted[$i]}" "$v"; do i=$((i + 1)); done
        sorted=("${sorted[@]:0:$i}" "$v" "${sorted[@]:$i}")
      done
      ok=; tried=()
      for v in "${sorted[@]}"; do
        rm -rf "/out/$pkg"; mkdir -p "/out/$pkg"; cd "/out/$pkg"
        if apt-get source -qq --download-only "$pkg=$v" >/tmp/err 2>&1; then ok=$v; break; fi
        why=$({ grep -oE "404 +Not Found|Hash Sum mismatch|[Uu]nable to find[^.]*" /tmp/err || tail -n1 /tmp/err; } | head -n1 | tr -s " ")
        tried+=("$v: $why")
        echo "sources: $pkg $v did not download ($why); trying an older listed version" >&2
      done
      if [ -z "$ok" ]; then
        echo "source package $pkg: no listed version downloads; tried:" >&2
        printf "  %s\n" "${tried[@]}" >&2
        exit 1
      fi
      echo "$pkg $ok" >>/out/VERSIONS
    done
    chmod -R a+rX /out' _ "${missing[@]}"
  while read -r pkg ver; do
    grep -v "^$pkg " "$manifest" >"$manifest.new" || true
    for f in "$dl/$pkg"/*; do
      sha=$(sha256sum "$f" | cut -d' ' -f1)
      mv -f "$f" "$cache/by-sha256/$sha"
      echo "$pkg $ver $sha $(basename "$f")" >>"$manifest.new"
    done
    mv -f "$manifest.new" "$manifest"
    echo "sources: $pkg $ver (cached)"
  done <"$dl/VERSIONS"
fi

: >"$out/VERSIONS"
for pkg in "$@"; do
  cached_ok "$pkg" || { echo "source package $pkg: cache incomplete after fetching" >&2; exit 1; }
  ver=
  while read -r p v sha name; do
    [ "$p" = "$pkg" ] || continue
    ln -f "$cache/by-sha256/$sha" "$out/$name" 2>/dev/null || cp -f "$cache/by-sha256/$sha" "$out/$name"
    ver=$v
  done <"$manifest"
  echo "$pkg=$ver" >>"$out/VERSIONS"
done
