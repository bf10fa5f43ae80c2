#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang, AddressSanitizer and UndefinedBehaviorSanitizer
# into ./build-fuzz (or $HERBTRACE_FUZZ_BUILD_DIR), then runs each for HERBTRACE_FUZZ_SECONDS
# (default 60) on a scratch copy of its seed corpus (fuzz/corpus/<target>), two at a time. Exits
# non-zero if any target crashes, leaks, times out, runs out of memory or hits undefined
# behaviour, printing the input that did it and the command that reproduces it.
# HERBTRACE_FUZZ_SECONDS=0 skips the whole step.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${HERBTRACE_FUZZ_SECONDS:-60}
if [ "$seconds" = 0 ]; then
  echo "fuzz: HERBTRACE_FUZZ_SECONDS=0, skipped"
  exit 0
fi
build_dir=${HERBTRACE_FUZZ_BUILD_DIR:-build-fuzz}
jobs=${HERBTRACE_JOBS:-2}
parallel=${HERBTRACE_FUZZ_PARALLEL:-2}
# ASan reserves shadow memory up front; a target past this has a real leak or blow-up.
rss_limit_mb=${HERBTRACE_FUZZ_RSS_MB:-2048}
# One input taking this long is a denial of service, not a slow machine.
input_timeout=${HERBTRACE_FUZZ_INPUT_TIMEOUT:-30}

if [ ! -f "$build_dir/build.ninja" ]; then
  # -O1, as fuzzing builds usually are: it compiles much faster under the sanitizers than -O2,
  # and the sanitizers see the code much as written.
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_CXX_COMPILER=clang++-14 \
    -DHERBTRACE_FUZZ=ON -DHERBTRACE_BUILD_TESTS=OFF -DHERBTRACE_BUILD_BENCH=OFF
fi
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
cmake --build "$build_dir" -j"$jobs" --target herbtrace_fuzzers

targets=()
for source in fuzz/fuzz_*.cc; do
  targets+=("$(basename "$source" .cc)")
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/herbtrace-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
artifacts="$PWD/$build_dir/fuzz-artifacts"

run_target() {
  local target=$1 dir="$scratch/$1"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp fuzz/corpus/"$target"/* "$dir/corpus/"
  local dict=()
  if [ -f "fuzz/$target.dict" ]; then dict=(-dict="fuzz/$target.dict"); fi
  local rc=0
  UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    "$build_dir/fuzz/$target" -max_total_time="$seconds" -rss_limit_mb="$rss_limit_mb" \
    -timeout="$input_timeout" -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
    "${dict[@]}" "$dir/corpus" >"$dir/log" 2>&1 || rc=$?
  echo "$rc" >"$dir/rc"
}

echo "fuzz: ${#targets[@]} targets, ${seconds} s each, $parallel at a time"
running=0
for target in "${targets[@]}"; do
  if [ "$running" -ge "$parallel" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_target "$target" &
  running=$((running + 1))
done
wait

failed=0
printf '%-22s %8s %8s %10s %10s  %s\n' target cov ft exec/s runs result
for target in "${targets[@]}"; do
  dir="$scratch/$target"
  rc=$(cat "$dir/rc" 2>/dev/null || echo 1)
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$dir/log" | tail -1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$done_line")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$done_line")
  speed=$(sed -nE 's/.* exec\/s: ([0-9]+).*/\1/p' <<<"$done_line")
  runs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$done_line")
  if [ "$rc" = 0 ]; then
    result=ok
  else
    result="FAILED (exit $rc)"
    failed=1
  fi
  printf '%-22s %8s %8s %10s %10s  %s\n' "$target" "${cov:--}" "${ft:--}" "${speed:--}" \
    "${runs:--}" "$result"
done

for target in "${targets[@]}"; do
  dir="$scratch/$target"
  [ "$(cat "$dir/rc" 2>/dev/null || echo 1)" = 0 ] && continue
  echo
  echo "fuzz: $target failed; the end of its log:"
  grep -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|RELOAD)' "$dir/log" | tail -60
  mkdir -p "$artifacts/$target"
  for input in "$dir"/artifacts/*; do
    [ -e "$input" ] || continue
    cp "$input" "$artifacts/$target/"
    kept="$artifacts/$target/$(basename "$input")"
    echo "fuzz: $target: input $kept"
    echo "fuzz: reproduce with: $build_dir/fuzz/$target $kept"
  done
done
exit "$failed"
