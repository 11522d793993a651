#!/usr/bin/env bash
# Runs every test of strands-c: installs dependencies, then
#   1. gcc build: unit tests + fuzz-corpus replay (ctest), the fake's
#      fidelity tests (botocore + the official AWS JS SDK as oracles), the
#      integration tests of the real binary against the fake Bedrock, and
#      the examples;
#   2. clang build with AddressSanitizer + UndefinedBehaviorSanitizer: the
#      same unit and integration tests;
#   3. clang build with ThreadSanitizer: the same unit and integration tests;
#   4. an aarch64 cross build: unit tests and a runtime smoke test under
#      qemu-aarch64 user emulation (scripts/test-arm64.sh, time-bounded).
# Prints a closing "N passed, N failed" line; exits non-zero on failure.
set -uo pipefail
case "${1:-}" in
    -h|--help)
        cat <<'USAGE'
Usage: scripts/test.sh

Runs every test of strands-c (the README's test command; CI runs exactly
this): installs dependencies, then the gcc build's unit tests, fuzz-corpus
replay, fake-fidelity, deploy, example and integration tests; the same unit
and integration tests under clang ASan+UBSan and under ThreadSanitizer; and
the arm64 cross build under qemu. Ends with "N passed, N failed, N skipped"
and exits non-zero on any failure.
USAGE
        exit 0 ;;
    "") ;;
    *) echo "test.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.." || exit 1
scripts/install-deps.sh || exit 1

PY=/usr/bin/python3     # Debian's python: botocore and pytest live there
passed=0; failed=0; skipped=0
declare -a failures=()

# shellcheck source=scripts/lib/counts.sh
. scripts/lib/counts.sh
step() { echo; echo "==== $*"; }

for variant in gcc asan tsan; do
    case $variant in
    gcc) dir=build; args=(-DCMAKE_C_COMPILER=gcc) ;;
    asan)
        dir=build-asan; args=(-DCMAKE_C_COMPILER=clang -DSTRANDS_SANITIZE=ON)
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
        export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ;;
    tsan)
        unset ASAN_OPTIONS UBSAN_OPTIONS
        dir=build-tsan; args=(-DCMAKE_C_COMPILER=clang -DSTRANDS_TSAN=ON)
        export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ;;
    esac
    step "$variant: build"
    if ! scripts/build.sh "$dir" "${args[@]}" > "$dir.build.log" 2>&1; then
        cat "$dir.build.log"; failures+=("$variant build"); failed=$((failed + 1))
        continue
    fi
    step "$variant: unit tests and fuzz-corpus replay (ctest)"
    (cd "$dir" && ctest -V --timeout 300) > "$dir.ctest.log" 2>&1
    grep -E '^[0-9]+: (ok|FAIL|SKIP|  )|tests passed|tests failed|Failed|\*\*\*' "$dir.ctest.log"
    count_ctest "$variant ctest" "$dir.ctest.log"

    if [ "$variant" = gcc ]; then
        step "fake fidelity (botocore, AWS JS SDK oracles)"
        $PY -m pytest -q -p no:cacheprovider tests/fakes 2>&1 | tee "$dir.fakes.log"
        count_pytest "fake fidelity" "$dir.fakes.log"
        step "deploy scripts and Dockerfile (fake aws/docker, shellcheck)"
        $PY -m pytest -q -p no:cacheprovider tests/deploy 2>&1 | tee "$dir.deploy.log"
        count_pytest "deploy" "$dir.deploy.log"
        step "examples"
        # example-custom_runtime is a server: the integration tests run it.
        ex="$dir/example-custom_tool"
        if "$ex" > /dev/null; then passed=$((passed + 1)); echo "ok   $ex"
        else failed=$((failed + 1)); failures+=("$ex"); echo "FAIL $ex"; fi
    fi
    step "$variant: integration tests (real binary, fake Bedrock)"
    STRANDS_RUNTIME="$PWD/$dir/strands-runtime" \
        $PY -m pytest -q -p no:cacheprovider tests/integration 2>&1 | tee "$dir.integration.log"
    count_pytest "$variant integration" "$dir.integration.log"
done

step "arm64: cross build, unit + smoke tests under qemu-aarch64"
scripts/test-arm64.sh 2>&1 | tee build-arm64.stage.log
count_pytest "arm64" build-arm64.stage.log

echo
[ "${#failures[@]}" -eq 0 ] || echo "failed steps: ${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
