#!/usr/bin/env bash
# ARM64 stage of the tests, without a container engine: cross-compiles
# strands-c for aarch64 (gcc-aarch64-linux-gnu + the :arm64 -dev packages
# through Debian multiarch, cmake/aarch64-linux-gnu.cmake) into build-arm64/,
# runs the unit tests and fuzz-corpus replay under qemu-aarch64 (ctest), then
# runs the arm64 strands-runtime under qemu against the fake Bedrock: /ping
# and signed invocations including a calculator tool round trip.
# Installs its packages (as root) only when missing. The whole stage is
# bounded by ARM64_TIMEOUT seconds (default 1200). ARM64_FULL=1 runs every
# integration test under qemu instead of the smoke subset.
# Prints a closing "N passed, N failed, N skipped" line; exits non-zero on
# failure.
set -uo pipefail
case "${1:-}" in
    -h|--help)
        cat <<'USAGE'
Usage: scripts/test-arm64.sh

The arm64 stage of the tests: cross-compiles strands-c for aarch64, runs
the unit tests and fuzz-corpus replay under qemu-aarch64, then a smoke test
of the arm64 strands-runtime against the fake Bedrock. Installs its Debian
packages (as root) when missing. Environment: ARM64_TIMEOUT (seconds,
default 1200) bounds the stage; ARM64_FULL=1 runs every integration test.
USAGE
        exit 0 ;;
esac
cd "$(dirname "$0")/.." || exit 1

LIMIT=${ARM64_TIMEOUT:-1200}
if [ "${1:-}" != "--inner" ]; then
    # timeout puts the stage in its own process group and ends all of it
    # (apt, the compilers, qemu) when the limit is reached.
    timeout -k 30 "$LIMIT" bash "$0" --inner
    rc=$?
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "arm64: stage timed out after ${LIMIT}s"
        echo "0 passed, 1 failed, 0 skipped"
    fi
    exit "$rc"
fi

PY=/usr/bin/python3     # Debian's python: botocore and pytest live there
DIR=build-arm64
QEMU_PREFIX=/           # libc6:arm64 puts /lib/ld-linux-aarch64.so.1 here
# libwslay-dev is not Multi-Arch: same (it cannot co-install with its amd64
# twin), so arm64 gets only the library, libwslay1 (Multi-Arch: same), and
# the build uses the host's libwslay-dev headers (they are the same on every
# architecture); CMake links libwslay.so.1 directly.
ARM64_DEV=(libc6-dev libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev
           libssl-dev zlib1g-dev libhiredis-dev libwslay1)
HOST_PKGS=(gcc-aarch64-linux-gnu qemu-user cmake pkg-config file python3
           python3-pytest python3-botocore libwslay-dev)
# The smoke subset of tests/integration/test_runtime.py run under qemu.
SMOKE=(test_ping_shape_and_stable_timestamp test_plain_answer_signed_request
       test_calculator_round_trip_exact_follow_up)
passed=0; failed=0; skipped=0
declare -a failures=()
step() { echo; echo "==== arm64: $* (at ${SECONDS}s)"; }
fail_step() { failed=$((failed + 1)); failures+=("$1"); }
finish() {
    echo
    [ "${#failures[@]}" -eq 0 ] || echo "arm64 failed steps: ${failures[*]}"
    echo "arm64 stage took ${SECONDS}s"
    echo "$passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
    exit
}

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"
}

# install_packages: adds the arm64 architecture and installs what is
# missing. Refuses an install that would remove packages (an :arm64 -dev
# package that cannot co-install with its amd64 twin would do that).
install_packages() {
    local p missing=() sim
    for p in "${HOST_PKGS[@]}"; do installed "$p" || missing+=("$p"); done
    for p in "${ARM64_DEV[@]}"; do
        installed "$p:arm64" || missing+=("$p:arm64")
    done
    [ "${#missing[@]}" -gt 0 ] || { echo "all packages present"; return 0; }
    [ "$(id -u)" -eq 0 ] || { echo "need root to install ${missing[*]}"; return 1; }
    echo "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    dpkg --print-foreign-architectures | grep -qx arm64 \
        || dpkg --add-architecture arm64 || return 1
    timeout 300 apt-get update -q > "$DIR.apt.log" 2>&1 \
        || { cat "$DIR.apt.log"; return 1; }
    # The :arm64 libraries are Multi-Arch: same, so apt may upgrade their
    # amd64 twins to the same version; it must never remove anything.
    sim=$(apt-get install -s -q --no-install-recommends "${missing[@]}" 2>&1) \
        || { echo "$sim"; return 1; }
    if grep -q '^Remv' <<<"$sim"; then
        echo "refusing: installing ${missing[*]} would remove:"
        grep '^Remv' <<<"$sim"
        return 1
    fi
    timeout 900 apt-get install -y -q --no-install-recommends "${missing[@]}" \
        >> "$DIR.apt.log" 2>&1 || { tail -40 "$DIR.apt.log"; return 1; }
}

# shellcheck source=scripts/lib/counts.sh
. scripts/lib/counts.sh

step "packages"
install_packages || { fail_step "packages"; finish; }

step "cross build ($DIR)"
if ! scripts/build.sh "$DIR" \
        -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.cmake" \
        > "$DIR.build.log" 2>&1; then
    tail -60 "$DIR.build.log"; fail_step "build"; finish
fi
arch=$(file -b "$DIR/strands-runtime")
echo "strands-runtime: $arch"
if grep -q "ARM aarch64" <<<"$arch"; then passed=$((passed + 1))
else fail_step "not an aarch64 binary"; finish; fi

step "unit tests and fuzz-corpus replay under qemu-aarch64 (ctest)"
(cd "$DIR" && ctest -V --timeout 600) \
    > "$DIR.ctest.log" 2>&1
grep -E '^[0-9]+: (FAIL|SKIP|  )|tests passed|tests failed|Failed|\*\*\*' \
    "$DIR.ctest.log"
count_ctest "ctest" "$DIR.ctest.log"

step "strands-runtime under qemu-aarch64 against the fake Bedrock"
# The integration tests run STRANDS_RUNTIME and, beside it (or in
# STRANDS_BUILD_DIR), probes and examples. Every program gets a wrapper of the
# same name in $DIR/qemu/ that execs qemu on the arm64 binary: conftest.py
# stops the runtime with SIGTERM expecting exit 0, and qemu passes the signal
# to the guest and exits with its status. Wrappers need no environment
# (conftest.py starts the runtime with a minimal one).
qemu=$(command -v qemu-aarch64)
mkdir -p "$DIR/qemu"
for bin in "$DIR"/*; do
    if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then continue; fi
    printf '#!/bin/sh\nexec %s -L %s %s "$@"\n' "$qemu" "$QEMU_PREFIX" \
        "$PWD/$bin" > "$DIR/qemu/${bin##*/}"
    chmod +x "$DIR/qemu/${bin##*/}"
done
if [ "${ARM64_FULL:-0}" = 1 ]; then
    targets=(tests/integration); want=0
else
    sel=$(printf ' or %s' "${SMOKE[@]}"); sel=${sel# or }
    targets=(tests/integration/test_runtime.py -k "$sel"); want=${#SMOKE[@]}
fi
STRANDS_RUNTIME="$PWD/$DIR/qemu/strands-runtime" STRANDS_BUILD_DIR="$PWD/$DIR/qemu" \
    $PY -m pytest -q -p no:cacheprovider "${targets[@]}" 2>&1 \
    | tee "$DIR.integration.log"
count_pytest "integration" "$DIR.integration.log" "$want"

finish
