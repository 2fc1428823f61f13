#!/usr/bin/env bash
# The glibc test-bed base: Debian 13 (trixie) minbase with Python, made by debootstrap on the
# host and imported as an image. Usage: glibc.sh TAG LABEL_VALUE
set -euo pipefail
tag=$1 recipe=$2
mirror=${MUSLCHECK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
root=$(mktemp -d /var/tmp/muslcheck-glibc-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
  trixie "$root" "$mirror" >/dev/null
# A tar without a /tmp entry of mode 1777 gives 0755, and tmpfs mounts copy it.
chmod 1777 "$root/tmp" "$root/var/tmp"
echo 'app:x:1000:1000:app:/home/app:/bin/sh' >>"$root/etc/passwd"
echo 'app:x:1000:' >>"$root/etc/group"
echo 'app:!:20000::::::' >>"$root/etc/shadow"
install -d -o 1000 -g 1000 "$root/home/app"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar --numeric-owner -C "$root" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . |
  docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV LANG=C.UTF-8' \
    -c "LABEL io.muslcheck.testbed.recipe=$recipe io.muslcheck.testbed.libc=glibc" \
    -c 'CMD ["python3"]' - "$tag" >/dev/null
docker run --rm "$tag" python3 -c 'import ssl, ctypes, sqlite3, venv, platform; print("glibc base:", platform.libc_ver())'
