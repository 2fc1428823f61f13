#!/usr/bin/env bash
# Starts (or finds running) the test suite's local package index: the files listed in
# index/files.txt, fetched once into a wheelhouse cache, served over HTTPS with a CA made here,
# so TLS behaviour (with and without the CA bundle) is under the suite's control on any network.
#
# It listens on the Docker bridge's gateway address, which build containers on the default
# bridge reach, and on nothing public, under the name index.muslcheck.test (pip's TLS layer
# refuses an index by IP address: "check_hostname requires server_hostname"), which builds
# learn from `--add-host`. Prints the variables the tests read:
#   MUSLCHECK_TEST_INDEX_URL=https://index.muslcheck.test:5443/simple/
#   MUSLCHECK_TEST_INDEX_HOST=index.muslcheck.test:<gateway>
#   MUSLCHECK_TEST_INDEX_CA=<state>/ca-v2.pem
#   MUSLCHECK_TEST_WHEELHOUSE=<the directory served; a file put there is served at once>
# Usage: env=$(bash index.sh) && eval "$env"   (not eval "$(…)", which hides a failure)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=${MUSLCHECK_INDEX_STATE:-/var/lib/muslcheck/index}
wheelhouse=${MUSLCHECK_WHEELHOUSE:-/var/cache/muslcheck/wheelhouse}
port=${MUSLCHECK_INDEX_PORT:-5443}
mkdir -p "$state" "$wheelhouse" /var/log/muslcheck
# The engine does not always report the gateway (20.10 gives only the subnet): read docker0.
gw=$(docker network inspect bridge --format '{{range .IPAM.Config}}{{.Gateway}}{{end}}' 2>/dev/null || true)
[ -n "$gw" ] || gw=$(ip -4 -o addr show docker0 2>/dev/null | awk '{split($4, a, "/"); print a[1]; exit}')
[ -n "$gw" ] || { echo "index: cannot read the Docker bridge's gateway address" >&2; exit 3; }
name=index.muslcheck.test
url="https://$name:$port/simple/"

# The host's own trust (it may sit behind a TLS-inspecting proxy) fetches from PyPI.
python3 "$here/index/fetch.py" "$here/index/files.txt" "$wheelhouse" "${MUSLCHECK_TEST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}" >&2

# Python 3.13 verifies strictly (VERIFY_X509_STRICT): the CA needs key usage, and the server
# certificate key identifiers, or every client fails with "CA cert does not include key usage".
ca="$state/ca-v2.pem"
if [ ! -f "$ca" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=muslcheck test index CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" -keyout "$state/ca-v2.key" -out "$ca" 2>/dev/null
fi
cert="$state/server-v3-$gw.pem" key="$state/server-v3-$gw.key"
if [ ! -f "$cert" ]; then
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$gw" -keyout "$key" -out "$state/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:$name,IP:$gw,IP:127.0.0.1,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
    "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid,issuer" >"$state/server.ext"
  openssl x509 -req -in "$state/server.csr" -CA "$ca" -CAkey "$state/ca-v2.key" -CAcreateserial \
    -days 800 -extfile "$state/server.ext" -out "$cert" 2>/dev/null
fi

answers() { curl -fsS --cacert "$ca" --resolve "$name:$port:$gw" "$url" >/dev/null 2>&1 && [ "$(cat "$state/serving" 2>/dev/null)" = "$cert" ]; }
if ! answers; then
  # A server from an earlier start may hold the port with an old address or certificate, and
  # it may have been started from another checkout: found by the script's name and the port.
  pkill -f "testbed/index/serve\.py .*--port $port( |\$)" 2>/dev/null || true
  for _ in $(seq 1 25); do pgrep -f "testbed/index/serve\.py .*--port $port( |\$)" >/dev/null || break; sleep 0.2; done
  nohup python3 "$here/index/serve.py" --dir "$wheelhouse" --cert "$cert" --key "$key" --host "$gw" --port "$port" \
    >/var/log/muslcheck/index.log 2>&1 &
  echo "$cert" >"$state/serving"
  for _ in $(seq 1 50); do answers && break; sleep 0.2; done
  answers || { echo "index: did not start; see /var/log/muslcheck/index.log" >&2; exit 3; }
  echo "index: serving $wheelhouse at $url" >&2
fi
echo "export MUSLCHECK_TEST_INDEX_URL=$url"
echo "export MUSLCHECK_TEST_INDEX_HOST=$name:$gw"
echo "export MUSLCHECK_TEST_INDEX_CA=$ca"
echo "export MUSLCHECK_TEST_WHEELHOUSE=$wheelhouse"
