#!/bin/sh
# check_layers.sh - the core's include direction (docs/LAYERS.txt), and its
# include graph.
#
#   check_layers.sh SOURCE_DIR [RULES]          the check (ctest: check_layers)
#   check_layers.sh --graph SOURCE_DIR [RULES]  the include graph of core/src
#
# The check reads every `#include "..."` under core/src, core/report, core/cli and
# core/include/nascaps, gives each file the floor the rules file puts it on,
# and fails naming FILE:LINE for each include of a header on a higher floor
# that no `allow` line of the rules lists. It also fails for a file on no
# floor, a rules path that matches no file, an include it cannot find in the
# tree, and an `allow` line that is no longer needed.
#
# --graph prints the include graph of core/src and core/include/nascaps
# (tests and the CLI excluded), its strongly connected components and the
# longest cycle in files; a header leads to the files that implement it (the
# .c of the same name, or the rules file's `implements` lines). Exit 0.
#
# POSIX sh and awk only (mawk is enough): CI has no python.
set -eu
mode=check
if [ "${1:-}" = "--graph" ]; then
    mode=graph
    shift
fi
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: check_layers.sh [--graph] SOURCE_DIR [RULES]" >&2
    exit 2
fi
src=$1
rules=${2:-$src/docs/LAYERS.txt}
rules_path=$rules
case $rules_path in
    /*) ;;
    *) rules_path=$(pwd)/$rules_path ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -r "$rules_path" ]; then
    echo "check_layers: cannot read the rules file $rules" >&2
    exit 1
fi
cd "$src"
files=$(find core/src core/report core/cli core/include/nascaps -type f \( -name '*.c' -o -name '*.h' \) |
        LC_ALL=C sort)
{
    printf 'F %s\n' $files
    # FILE:LINE:TEXT of every quoted include
    grep -H -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' $files | sed 's/^/I /' || true
} | awk -v mode="$mode" -v rules="$rules" -v rules_path="$rules_path" \
      -f "$here/check_layers.awk"
