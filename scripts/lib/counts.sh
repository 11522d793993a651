# shellcheck shell=bash
# Test-count helpers shared by scripts/test.sh and scripts/test-arm64.sh.
# The caller defines the globals passed, failed, skipped and the array
# failures; each function adds one runner's closing counts to them.

# count_ctest LABEL LOG: adds the test cases of every unit-test program
# ("N passed, N failed, N skipped" lines of ctest -V) and each fuzz-corpus
# replay; a program that crashed (no case counts) counts as one failure.
count_ctest() {
    local label=$1 out=$2 p f s line nfail
    while read -r line; do
        p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
        f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
        s=$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+')
        passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
        skipped=$((skipped + ${s:-0}))
    done < <(grep -E '^[0-9]+: [0-9]+ passed, [0-9]+ failed' "$out")
    passed=$((passed + $(grep -cE '^[0-9]+: replayed [0-9]+ inputs' "$out")))
    nfail=$(grep -oE '[0-9]+ tests failed out of' "$out" | grep -oE '^[0-9]+')
    nfail=${nfail:-1}
    failed=$((failed + nfail))
    [ "$nfail" -eq 0 ] || failures+=("$label")
}

# count_pytest LABEL LOG [EXPECTED]: adds pytest's summary line (or any
# closing "N passed, N failed" line); with EXPECTED, fewer passing tests
# than that (e.g. a renamed smoke test) is a failure.
count_pytest() {
    local label=$1 out=$2 want=${3:-0} line p f e s
    line=$(grep -E '^(=+ )?[0-9]+ (passed|failed|skipped|error)' "$out" | tail -1)
    p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
    f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
    e=$(grep -oE '[0-9]+ error' <<<"$line" | grep -oE '[0-9]+')
    s=$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+')
    p=${p:-0}; f=$(( ${f:-0} + ${e:-0} )); s=${s:-0}
    [ -n "$line" ] || f=$((f + 1))
    if [ "$p" -lt "$want" ] && [ "$f" -eq 0 ]; then
        echo "expected $want passing tests, got $p"
        f=1
    fi
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    [ "$f" -eq 0 ] || failures+=("$label")
}
