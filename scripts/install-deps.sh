#!/usr/bin/env bash
# Installs what building and testing strands-c needs on Debian 12 (as root):
# the C toolchain and -dev libraries, the test oracles (python3-botocore,
# pytest), wrk for the benchmark, and the pinned npm packages of the fake's
# fidelity tests, and redis-server (the Redis store's tests start their own
# on a free loopback port; the system service is not used). Skips work that
# is already done.
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --build  only what building the server needs
set -euo pipefail
case "${1:-}" in
    -h|--help)
        cat <<'USAGE'
Usage: scripts/install-deps.sh [--build]

Installs (as root, with apt-get) the Debian packages that building and
testing strands-c need, and the pinned npm packages of the test oracles
(npm ci in tests/fakes/js). Does nothing that is already done.
  --build   only what building the server needs
USAGE
        exit 0 ;;
    ""|--build) ;;
    *) echo "install-deps.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."

BUILD_PKGS=(build-essential cmake pkg-config clang libmicrohttpd-dev
            libcurl4-openssl-dev libjansson-dev libssl-dev zlib1g-dev
            libhiredis-dev libwslay-dev ca-certificates)
TEST_PKGS=(python3 python3-botocore python3-pytest nodejs npm wrk
           libclang-rt-14-dev curl shellcheck redis-server)

want=("${BUILD_PKGS[@]}")
[ "${1:-}" = "--build" ] || want+=("${TEST_PKGS[@]}")

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || missing+=("$p")
done
# node/npm may come from outside Debian (e.g. NodeSource); accept those.
if command -v node >/dev/null && command -v npm >/dev/null; then
    missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<< "${missing[*]}"
if [ "${#missing[@]}" -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm ci again whenever the lock file changed since the last install.
stamp=tests/fakes/js/node_modules/.strands-lock-stamp
if [ "${1:-}" != "--build" ] && ! cmp -s tests/fakes/js/package-lock.json "$stamp"; then
    echo "install-deps: npm ci (pinned AWS SDK and OpenTelemetry oracle packages)"
    (cd tests/fakes/js && npm ci --no-audit --no-fund --loglevel=error)
    cp tests/fakes/js/package-lock.json "$stamp"
fi
