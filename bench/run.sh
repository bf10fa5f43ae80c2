#!/usr/bin/env bash
# Runs the HerbTrace benchmarks beside this machine's own limits, measured in the same run:
#   - `openssl speed` for Ed25519 and SM2 (sign/verify) and SHA-256 at the stored entry's size;
#   - `db_bench fillseq` at the stored entry's size, with and without sync;
#   - ledger_bench: the ledger alone (appends, group commit, proofs, audit);
#   - market_bench: a generated Anguo market of EVENTS events through the real herbtrace-server
#     over gRPC (ingest, queries, audit, disk, memory, start-up).
# Prints the tables and writes JSON to $HERBTRACE_BENCH_OUT (default bench/results).
#
# usage: bench/run.sh [EVENTS]     (default 1000000; from 10000 to 10000000)
# env:   HERBTRACE_BUILD_DIR (default build), HERBTRACE_SKIP_BUILD=1 to use an existing build,
#        HERBTRACE_BENCH_DIR for the ledgers (default: a temporary folder, removed at the end),
#        HERBTRACE_SKIP_LEDGER_BENCH=1 to run only the market.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
build=${HERBTRACE_BUILD_DIR:-build}
out_dir=${HERBTRACE_BENCH_OUT:-bench/results}
if [ -z "${HERBTRACE_SKIP_BUILD:-}" ]; then
  bash deploy/install-deps.sh
  HERBTRACE_BUILD_DIR=$build bash deploy/build.sh
fi
mkdir -p "$out_dir"
if [ -n "${HERBTRACE_BENCH_DIR:-}" ]; then
  tmp=$HERBTRACE_BENCH_DIR
  mkdir -p "$tmp"
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
  "$(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# The mean stored entry of this market (signed event + envelope), for SHA-256 and db_bench.
entry=$("$build/bench/market_bench" --events "$events" --entry_size)
echo "measuring the machine's limits (openssl speed, db_bench) at a $entry-byte entry..."
speed() { openssl speed -mr -seconds 3 "$@" 2>/dev/null; }
ed_verify=$(speed ed25519 | awk -F: '/^\+F6:/{print $6; exit}')
sm2_verify=$(speed sm2 | awk -F: '/^\+F7:/{print $6; exit}')
sha_bytes=$(speed -bytes "$entry" sha256 | awk -F: '/^\+F:/{print $4}')
sha_hashes=$(awk -v b="$sha_bytes" -v s="$entry" 'BEGIN{printf "%.0f", b/s}')
dbb() {
  rm -rf "$tmp/db_bench"
  db_bench --benchmarks=fillseq --value_size="$entry" --db="$tmp/db_bench" "$@" 2>/dev/null \
    | awk '/^fillseq/{for(i=1;i<=NF;i++) if($i ~ /^ops\/sec;?$/) print $(i-1)}'
}
fillseq=$(dbb --num=1000000 --sync=0)
fillseq_sync=$(dbb --num=3000 --sync=1)
rm -rf "$tmp/db_bench"
printf 'openssl: Ed25519 verify %s /s, SM2 verify %s /s, SHA-256 at %s B %s /s (one core)\n' \
  "$ed_verify" "$sm2_verify" "$entry" "$sha_hashes"
printf 'db_bench fillseq at %s B: %s ops/s, --sync=1: %s ops/s\n' "$entry" "$fillseq" "$fillseq_sync"

if [ -z "${HERBTRACE_SKIP_LEDGER_BENCH:-}" ]; then
  echo
  echo "== ledger alone (ledger_bench)"
  entries=$(( events < 1000000 ? events : 1000000 ))
  "$build/bench/ledger_bench" --entries "$entries" --payload 250 --dir "$tmp/ledger" \
    --json "$out_dir/ledger-$events.json" \
    --limit "sha256_leaf_hashes_per_s=$sha_hashes" \
    --limit "ed25519_verify_per_s_1core=${ed_verify:-0}" \
    --limit "db_bench_fillseq_ops_per_s=$fillseq" \
    --limit "db_bench_fillseq_sync_ops_per_s=$fillseq_sync"
  rm -rf "$tmp/ledger"
fi

echo
echo "== the Anguo market through herbtrace-server (market_bench, $events events)"
"$build/bench/market_bench" --events "$events" --server "$build/services/server/herbtrace-server" \
  --dir "$tmp/market" --catalog catalog --json "$out_dir/market-$events.json" \
  --limit "ed25519_verify_per_s_1core=${ed_verify:-0}" \
  --limit "sm2_verify_per_s_1core=${sm2_verify:-0}" \
  --limit "sha256_entry_hashes_per_s_1core=$sha_hashes" \
  --limit "db_bench_fillseq_ops_per_s=$fillseq" \
  --limit "db_bench_fillseq_sync_ops_per_s=$fillseq_sync" \
  --limit "entry_bytes=$entry"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
