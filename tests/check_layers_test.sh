#!/bin/sh
# check_layers_test.sh - check_layers.sh on a crafted tree: one broken rule
# per refusal, each message checked, and the graph of a known cycle.
#   check_layers_test.sh PATH/TO/check_layers.sh
set -u
check=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nascaps-layers-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# expect NAME STATUS PATTERN: the last run's status and a fixed string of
# its stdout + stderr
expect() {
    [ "$status" -eq "$2" ] || fail "$1: exit $status, expected $2; output: $out"
    case $out in
        *"$3"*) ;;
        *) fail "$1: no '$3' in: $out" ;;
    esac
}

run() {
    out=$(sh "$check" "$@" 2>&1)
    status=$?
}

t=$tmp/tree
mkdir -p "$t/core/src/low" "$t/core/src/high" "$t/core/include/nascaps" "$t/core/cli"
# low/a.c includes its public header and, on line 3, a header of the floor above
printf '/* a */\n#include "nascaps/a.h"\n#include "nascaps/b.h"\n' >"$t/core/src/low/a.c"
printf '#include "a.h"\n' >"$t/core/include/nascaps/b.h"
printf '/* a.h */\n' >"$t/core/include/nascaps/a.h"
printf '#include "nascaps/b.h"\n#include "../low/x.h"\n' >"$t/core/src/high/b.c"
printf '/* x */\n' >"$t/core/src/low/x.h"
printf '#include "nascaps/b.h"\n' >"$t/core/cli/main.c"

cat >"$t/rules" <<'R'
# two floors
floor low  core/src/low/ core/include/nascaps/a.h
floor high core/src/high/ core/include/nascaps/b.h   # b
floor top  core/cli/
R
run "$t" "$t/rules"
expect "upward include" 1 "core/src/low/a.c:3: includes core/include/nascaps/b.h of floor 'high', above its own floor 'low'"

cp "$t/rules" "$t/allowed"
echo "allow core/src/low/a.c core/include/nascaps/b.h  # known" >>"$t/allowed"
run "$t" "$t/allowed"
expect "allowed" 0 "check_layers: 6 files, 6 includes, 3 floors, 1 allowed exceptions: ok"

cp "$t/allowed" "$t/stale"
echo "allow core/src/high/b.c core/src/low/x.h" >>"$t/stale"
run "$t" "$t/stale"
expect "stale allow" 1 ":6: 'allow core/src/high/b.c core/src/low/x.h' is no upward include any more"

grep -v '^floor top' "$t/allowed" >"$t/nofloor"
run "$t" "$t/nofloor"
expect "file on no floor" 1 "core/cli/main.c: on no floor of"

cp "$t/allowed" "$t/nopath"
echo "floor top core/src/gone.c" >>"$t/nopath"
run "$t" "$t/nopath"
expect "rules path matches nothing" 1 ":6: 'core/src/gone.c' is no file or folder of the tree"

echo "flor top core/cli/" >"$t/typo"
run "$t" "$t/typo"
expect "bad rules line" 1 ":1: expected 'floor NAME PATH...'"

printf '#include "nascaps/none.h"\n' >"$t/core/cli/other.c"
run "$t" "$t/allowed"
expect "missing header" 1 "core/cli/other.c:1: #include \"nascaps/none.h\" is not a file of the tree"
rm "$t/core/cli/other.c"

run "$t" "$t/none"
expect "no rules file" 1 "cannot read the rules file"

# graph: a.c -> b.h -> b.c -> x.h, and x.h implemented by a.c: the cycle
# a.c -> b.h -> b.c -> x.h -> a.c (4 files); a.h <-> a.c (2 files)
cp "$t/allowed" "$t/graph"
echo "implements core/src/low/x.h core/src/low/a.c" >>"$t/graph"
run --graph "$t" "$t/graph"
expect "graph edge" 0 "edge core/include/nascaps/b.h -> core/src/high/b.c (implemented by)"
expect "graph scc" 0 "scc 1: 5 files:"
expect "graph cycle" 0 "longest cycle 4 files: core/src/low/a.c -> core/include/nascaps/b.h -> core/src/high/b.c -> core/src/low/x.h -> core/src/low/a.c"
expect "graph summary" 0 "longest_cycle_files 4"
case $out in
    *core/cli/*) fail "graph: the CLI is not part of the graph: $out" ;;
esac

if [ "$fails" -ne 0 ]; then
    echo "check_layers_test: $fails failure(s)" >&2
    exit 1
fi
echo "check_layers_test: ok"
