#!/usr/bin/env bash
# Builds strands-runtime and runs it in the foreground on port 8080 (or
# $PORT). Configure it with environment variables: see
# `build/strands-runtime --help` and the README.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --build
scripts/build.sh build > /dev/null
exec build/strands-runtime "$@"
