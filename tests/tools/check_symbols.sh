#!/bin/sh
# Checks the symbol table of the libraries (run by ctest):
#   check_symbols.sh NM PUBLIC_LIB INTERNAL_LIB
# 1. every global symbol libstrands.a defines carries the strands_ prefix
#    (the static library hides what a shared one would);
# 2. no internal (hidden) function or variable is named strands_*: the
#    prefix is for the public API only.
# Prints one "ok"/"FAIL" line per check and a closing counts line.
nm=$1; public=$2; internal=$3
pass=0; fail=0
bad=$("$nm" -g --defined-only "$public" | awk 'NF == 3 && $3 !~ /^strands_/ {print $3}')
if [ -z "$bad" ]; then
    echo "ok   public_library_exports_only_strands_symbols"; pass=$((pass + 1))
else
    echo "FAIL public_library_exports_only_strands_symbols:"; echo "$bad" | head -20
    fail=$((fail + 1))
fi
exported=$("$nm" -g --defined-only "$public" | awk 'NF == 3 {print $3}' | sort -u)
prefixed=$("$nm" -g --defined-only "$internal" | awk 'NF == 3 && $3 ~ /^strands_/ {print $3}' | sort -u)
tmp=${TMPDIR:-/tmp}/check_symbols.$$
printf '%s\n' "$exported" > "$tmp.exported"
printf '%s\n' "$prefixed" > "$tmp.prefixed"
hidden=$(comm -13 "$tmp.exported" "$tmp.prefixed")
rm -f "$tmp.exported" "$tmp.prefixed"
if [ -z "$hidden" ]; then
    echo "ok   internal_symbols_have_no_strands_prefix"; pass=$((pass + 1))
else
    echo "FAIL internal_symbols_have_no_strands_prefix (hidden but named strands_*):"
    echo "$hidden" | head -40
    fail=$((fail + 1))
fi
echo "$pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
