#!/usr/bin/env bash
# Makes sure a Docker engine answers on the default socket (or $DOCKER_HOST).
# When none answers, installs Debian's docker.io if needed and starts dockerd in the background
# (these machines have no systemd), then waits until /_ping answers.
set -euo pipefail

ping_engine() { docker version --format '{{.Server.APIVersion}}' >/dev/null 2>&1; }

if ping_engine; then
  echo "engine: already answering"
  exit 0
fi
if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != "unix:///var/run/docker.sock" ]; then
  echo "engine: DOCKER_HOST=${DOCKER_HOST} does not answer; not starting a local engine" >&2
  exit 3
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "engine: installing Debian's docker.io"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi
# A dockerd that is still shutting down holds its pid file: wait for it, then clear a stale one.
for _ in $(seq 1 60); do pgrep -x dockerd >/dev/null || break; sleep 1; done
if pgrep -x dockerd >/dev/null; then
  echo "engine: a dockerd process runs but does not answer; see /var/log/muslcheck/dockerd.log" >&2
  exit 3
fi
rm -f /var/run/docker.pid
echo "engine: starting dockerd"
mkdir -p /var/log/muslcheck
nohup dockerd >/var/log/muslcheck/dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if ping_engine; then echo "engine: up ($(docker version --format '{{.Server.Version}} API {{.Server.APIVersion}}'))"; exit 0; fi
  sleep 1
done
echo "engine: dockerd did not answer within 60 s; see /var/log/muslcheck/dockerd.log" >&2
tail -20 /var/log/muslcheck/dockerd.log >&2 || true
exit 3
