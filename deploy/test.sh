#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (ctest). The crash test kills a writer
# 25 times by default; HERBTRACE_CRASH_ROUNDS raises it for a longer soak. Then the fuzz targets
# (deploy/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
bash deploy/build.sh
build_dir=${HERBTRACE_BUILD_DIR:-build}
ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 600 "$@"
# libFuzzer targets under AddressSanitizer and UBSan, HERBTRACE_FUZZ_SECONDS each (default 60;
# 0 skips): a crash, leak or undefined behaviour fails the run.
bash deploy/fuzz.sh
