#!/usr/bin/env bash
# Builds strands-runtime and runs it in the foreground on port 8080 (or
# $PORT). Configure it with environment variables: see
# `build/strands-runtime --help` and the README.
set -euo pipefail
case "${1:-}" in
    -h|--help)
        cat <<'USAGE'
Usage: scripts/run.sh [RUNTIME_FLAGS...]

Installs the build dependencies when missing, builds build/strands-runtime and
runs it in the foreground on port 8080 (or $PORT). Flags are passed to the
binary; configure it with environment variables (build/strands-runtime
--help lists them).
USAGE
        exit 0 ;;
esac
cd "$(dirname "$0")/.."
scripts/install-deps.sh --build
scripts/build.sh build > /dev/null
exec build/strands-runtime "$@"
