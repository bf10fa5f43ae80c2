#!/usr/bin/env bash
# Configures and builds HerbTrace into ./build (or $HERBTRACE_BUILD_DIR). Uses ccache when the
# install script put it there; -j2 matches the project machines' two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${HERBTRACE_BUILD_DIR:-build}
jobs=${HERBTRACE_JOBS:-2}
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${HERBTRACE_BUILD_TYPE:-RelWithDebInfo} "$@"
fi
# Relative paths in ccache keys, so several build folders share one cache.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
cmake --build "$build_dir" -j"$jobs"
