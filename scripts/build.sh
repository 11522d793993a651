#!/usr/bin/env bash
# Configures and builds strands-c into a build directory.
#   scripts/build.sh [DIR [extra cmake args...]]   (default DIR: build)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" > "$dir.cmake.log" 2>&1 \
    || { cat "$dir.cmake.log"; exit 1; }
cmake --build "$dir" -j"$(nproc)"
