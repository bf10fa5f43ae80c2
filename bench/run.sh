#!/usr/bin/env bash
# Runs the ledger benchmarks beside this machine's own limits, measured in the same run:
# `openssl speed` for SHA-256 (the leaf hash) and Ed25519, and `db_bench fillseq` (with and
# without sync) for RocksDB at the entry's value size. Prints one table, writes JSON.
#
# usage: bench/run.sh [ENTRIES]   (default 1000000; HERBTRACE_BENCH_OUT sets the JSON folder)
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
bash deploy/build.sh
entries=${1:-1000000}
payload=250
# A LedgerEntry wraps the payload with the envelope and metadata: about 120 bytes more.
value_size=$((payload + 120))
out_dir=${HERBTRACE_BENCH_OUT:-build/bench-results}
mkdir -p "$out_dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "measuring the machine's limits (openssl speed, db_bench)..."
sha_bytes=$(openssl speed -mr -seconds 3 -bytes $((value_size + 1)) sha256 2>/dev/null \
  | awk -F: '/^\+F:/{print $4}')
sha_hashes=$(awk -v b="$sha_bytes" -v s=$((value_size + 1)) 'BEGIN{printf "%.0f", b/s}')
ed_verify=$(openssl speed -mr -seconds 3 ed25519 2>/dev/null \
  | awk -F: '/^\+F6:/{print $6; exit}')
dbb() {
  db_bench --benchmarks=fillseq --value_size=$value_size --db="$tmp/db_bench" "$@" 2>/dev/null \
    | awk '/^fillseq/{for(i=1;i<=NF;i++) if($i ~ /^ops\/sec;?$/) print $(i-1)}'
}
fillseq=$(dbb --num=1000000 --sync=0)
fillseq_sync=$(dbb --num=3000 --sync=1)

HERBTRACE_BENCH_ARGS=(
  --entries "$entries" --payload "$payload" --dir "$tmp/ledger" --json "$out_dir/ledger.json"
  --limit "sha256_leaf_hashes_per_s=$sha_hashes"
  --limit "ed25519_verify_per_s_1core=${ed_verify:-0}"
  --limit "db_bench_fillseq_ops_per_s=$fillseq"
  --limit "db_bench_fillseq_sync_ops_per_s=$fillseq_sync"
)
./build/bench/ledger_bench "${HERBTRACE_BENCH_ARGS[@]}"
echo "JSON: $out_dir/ledger.json"
