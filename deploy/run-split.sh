#!/usr/bin/env bash
# Runs HerbTrace split the way a deployment does, on this machine: one writer (Ledger, Capture,
# Registry) and two readers (Trace, Recall, Registry, Ledger reads) that open the writer's
# RocksDB as secondary instances and follow it. Everything listens on loopback; data goes to
# ./var/split (HERBTRACE_SPLIT_DIR). Ctrl-C stops all three (SIGTERM each, then waits).
#
#   HERBTRACE_WRITER_PORT   default 50051
#   HERBTRACE_READER_PORTS  default "50061 50062" (0 picks free ports)
#   HERBTRACE_BUILD_DIR     default build (built with deploy/build.sh when the binary is missing)
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${HERBTRACE_BUILD_DIR:-build}
server=$build_dir/services/server/herbtrace-server
if [ ! -x "$server" ]; then
  bash deploy/install-deps.sh
  bash deploy/build.sh
fi
split=${HERBTRACE_SPLIT_DIR:-var/split}
writer_port=${HERBTRACE_WRITER_PORT:-50051}
read -r -a reader_ports <<< "${HERBTRACE_READER_PORTS:-50061 50062}"
origin=${HERBTRACE_ORIGIN:-anguo.herbtrace.example/log}
mkdir -p "$split/keys" "$split/logs"

# The market operator's bootstrap key: the one key that may sign the genesis RegisterParty.
if [ ! -f "$split/keys/operator.pem" ]; then
  openssl genpkey -algorithm ed25519 -out "$split/keys/operator.pem"
  chmod 600 "$split/keys/operator.pem"
  openssl pkey -in "$split/keys/operator.pem" -pubout -out "$split/keys/operator.pem.pub"
fi

pids=()
stop() {
  trap - INT TERM
  echo
  echo "stopping…"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped; data in $split"
}
trap stop INT TERM

# Starts one server in the background with its output in $split/logs/NAME.log and waits until it
# serves (it writes its port file only then). Sets $started_port to the bound port.
started_port=
start() {
  local name=$1; shift
  local port_file=$split/$name.port
  rm -f "$port_file"
  "$server" --port_file="$port_file" "$@" > "$split/logs/$name.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 300); do
    if [ -s "$port_file" ]; then started_port=$(cat "$port_file"); return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name failed to start:" >&2
      cat "$split/logs/$name.log" >&2
      stop >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "$name did not start within 30 s; see $split/logs/$name.log" >&2
  stop >&2
  exit 1
}

start writer --mode=writer --data_dir="$split/writer" --origin="$origin" \
  --bootstrap_key="$split/keys/operator.pem.pub" --listen="127.0.0.1:$writer_port"
writer=$started_port
readers=()
for i in "${!reader_ports[@]}"; do
  n=$((i + 1))
  start "reader-$n" --mode=reader --data_dir="$split/reader-$n" --primary_dir="$split/writer" \
    --listen="127.0.0.1:${reader_ports[$i]}"
  readers+=("$started_port")
done

echo "HerbTrace split on loopback (data in $split, logs in $split/logs):"
echo "  writer    127.0.0.1:$writer   Ledger, Capture, Registry"
for i in "${!readers[@]}"; do
  echo "  reader-$((i + 1))  127.0.0.1:${readers[$i]}   Trace, Recall, Registry, Ledger reads"
done
echo
echo "  operator key  $split/keys/operator.pem (bootstrap: sign the genesis RegisterParty with it)"
echo "  try           grpcurl -plaintext 127.0.0.1:$writer list"
echo "                grpcurl -plaintext 127.0.0.1:${readers[0]} herbtrace.v1.Ledger/GetCheckpoint"
echo "                herbctl --server=127.0.0.1:$writer checkpoint"
echo
echo "Ctrl-C stops all three."
wait
