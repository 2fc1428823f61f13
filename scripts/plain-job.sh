#!/usr/bin/env bash
# One job of the plain loop the benchmarks measure muslcheck against, as a team would script it:
# `docker build --no-cache` of a venv plus the pip install on IMAGE, then one import, then the
# image removed. A failed build leaves the layers of the steps before it as untagged images (and,
# without --force-rm, its last container): they are removed by the ids the build printed, all
# but the first, which is the base's. Never fails: the benchmarks time it, whatever the outcome.
# Usage: scripts/plain-job.sh IMAGE PYTHON REQUIREMENT MODULE CA_BUNDLE TAG
set -uo pipefail
image=$1 python=$2 req=$3 mod=$4 ca=$5 tag=$6
ctx=$(mktemp -d)
trap 'rm -rf "$ctx" "$ctx.log"' EXIT
cp "$ca" "$ctx/ca.pem"
printf 'FROM %s\nCOPY ca.pem /ca.pem\nRUN ["%s", "-m", "venv", "/v"]\nRUN ["/v/bin/pip", "install", "--no-cache-dir", "--cert", "/ca.pem", "%s"]\n' \
  "$image" "$python" "$req" >"$ctx/Dockerfile"
if ! DOCKER_BUILDKIT=0 docker build --no-cache --force-rm -t "$tag" "$ctx" >"$ctx.log" 2>&1; then
  grep -o -- '---> [0-9a-f]\{12\}$' "$ctx.log" | cut -c6- | tail -n +2 | tac | xargs -r docker rmi >/dev/null 2>&1
else
  docker run --rm "$tag" /v/bin/python -c "import importlib; importlib.import_module('$mod')" >/dev/null 2>&1
  docker rmi "$tag" >/dev/null 2>&1
fi
exit 0
