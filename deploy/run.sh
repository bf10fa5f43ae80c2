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
# env: HERBTRACE_LISTEN (default 127.0.0.1:50051), HERBTRACE_VAR (default ./var),
#      HERBTRACE_NO_DEMO=1 to skip the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
bash deploy/build.sh
build=${HERBTRACE_BUILD_DIR:-build}
server_bin=$build/services/server/herbtrace-server
herbctl=$build/services/cli/herbctl
var=${HERBTRACE_VAR:-var}
listen=${HERBTRACE_LISTEN:-127.0.0.1:50051}
mkdir -p "$var/keys"

# The market operator's key is the one key that may start the registry (the genesis event).
[ -f "$var/keys/operator.pem" ] || "$herbctl" keygen --key "$var/keys/operator.pem" >/dev/null

log="$var/server.log"
"$server_bin" --data_dir "$var/server" --listen "$listen" \
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
  HERBCTL="$herbctl" bash deploy/demo.sh "$address" "$var/keys" "$log_key"
  touch "$var/demo-loaded"
fi

cat <<INFO

HerbTrace is running on $address (data in $var, log in $log).
  $herbctl --server=$address checkpoint --log_key $log_key
  $herbctl --server=$address recall list
  $herbctl --server=$address verify <trace code> --log_key $log_key
Keys of the demo parties are in $var/keys. Ctrl-C stops the server.
INFO
wait $server
