#!/usr/bin/env bash
# Installs what is missing, builds, and runs the HerbTrace platform on this machine: every
# service in one herbtrace-server process on an embedded RocksDB, data in ./var.
#
# On the first run it also loads the demo chain (deploy/demo.sh): a huangqi (黄芪) harvest from
# a registered base, drying, warehouse storage, a market trade, a split into three lots sold to
# two decoction-piece makers, a failed sulfur-dioxide test, the regulator's recall and the
# holders' acknowledgements, and prints the trace and the recall scope.
# The server keeps running in the foreground; Ctrl-C stops it. Rerunning keeps the data.
#
# The server speaks mutual TLS: deploy/make-certs.sh makes a local CA, the server's certificate
# and one client certificate per demo party under ./var/certs, and every party calls with its
# own. The host's plaintext administrative console listens on HERBTRACE_CONSOLE (loopback).
#
# env: HERBTRACE_LISTEN (default 127.0.0.1:50051), HERBTRACE_VAR (default ./var),
#      HERBTRACE_CONSOLE (default 127.0.0.1:50052), HERBTRACE_PLAINTEXT=1 for a plaintext
#      loopback server without certificates, HERBTRACE_NO_DEMO=1 to skip the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
bash deploy/build.sh
build=${HERBTRACE_BUILD_DIR:-build}
server_bin=$build/services/server/herbtrace-server
herbctl=$build/services/cli/herbctl
var=${HERBTRACE_VAR:-var}
listen=${HERBTRACE_LISTEN:-127.0.0.1:50051}
console=${HERBTRACE_CONSOLE:-127.0.0.1:50052}
mkdir -p "$var/keys"

# The demo's parties (deploy/demo.sh): operator, regulator, grower, warehouse, trader, two
# decoction-piece makers, lab.
parties=(13068300000001 13068300000002 13068300000003 13068300000004 13068300000005
         13068300000006 13068300000007 13068300000008)
tls_flags=()
if [ -z "${HERBTRACE_PLAINTEXT:-}" ]; then
  party_args=()
  for p in "${parties[@]}"; do party_args+=(--party "$p"); done
  bash deploy/make-certs.sh "$var/certs" "${party_args[@]}"
  tls_flags=(--tls_cert "$var/certs/server.pem" --tls_key "$var/certs/server-key.pem"
             --client_ca "$var/certs/ca.pem" --admin_listen "$console")
fi

# The market operator's key is the one key that may start the registry (the genesis event).
[ -f "$var/keys/operator.pem" ] || "$herbctl" keygen --key "$var/keys/operator.pem" >/dev/null

log="$var/server.log"
"$server_bin" --data_dir "$var/server" --listen "$listen" ${tls_flags[@]+"${tls_flags[@]}"} \
  --bootstrap_key "$var/keys/operator.pem.pub" >"$log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null' INT TERM EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" "$log" && break
  kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
cat "$log"
log_key=$(awk '$1 == "log" && $2 == "key" {print $3}' "$log")
address=$(awk '/listening on/ {print $NF; exit}' "$log")

if [ -z "${HERBTRACE_NO_DEMO:-}" ] && [ ! -f "$var/demo-loaded" ]; then
  if [ -z "${HERBTRACE_PLAINTEXT:-}" ]; then
    HERBCTL="$herbctl" HERBTRACE_CERTS="$var/certs" HERBTRACE_CONSOLE="$console" \
      bash deploy/demo.sh "$address" "$var/keys" "$log_key"
  else
    HERBCTL="$herbctl" bash deploy/demo.sh "$address" "$var/keys" "$log_key"
  fi
  touch "$var/demo-loaded"
fi

if [ -z "${HERBTRACE_PLAINTEXT:-}" ]; then
  # As the regulator (13068300000002); any demo party's certificate works the same way.
  export_line="export HERBTRACE_CA_CERT=$var/certs/ca.pem HERBTRACE_CERT=$var/certs/party-13068300000002.pem HERBTRACE_KEY=$var/certs/party-13068300000002-key.pem"
  transport="mutual TLS; certificates in $var/certs, console on $console"
else
  export_line=""
  transport="plaintext, loopback only"
fi
cat <<INFO

HerbTrace is running on $address ($transport; data in $var, log in $log).
  $export_line
  $herbctl --server=$address checkpoint --log_key $log_key
  $herbctl --server=$address recall list
  $herbctl --server=$address verify <trace code> --log_key $log_key
Keys of the demo parties are in $var/keys. Ctrl-C stops the server.
INFO
wait $server
