#!/bin/sh
# out_of_tree.sh BUILD_DIR SOURCE_DIR
#
# Installs the build to a temporary prefix, builds the example accelerator
# (examples/accelerators/roofline) against that install ONLY - with the
# documented pkg-config command and with the CMake package - and runs the
# installed `nascaps estimate` with it. Prints one line per check and a
# closing "N passed, N failed" line; exit 0 when all passed.
set -u
build=$1
src=$2
passed=0
failed=0

for tool in cc pkg-config cmake; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "out_of_tree: SKIPPED: $tool is not installed"
        exit 77
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nascaps-oot-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

ok() { echo "ok: $1"; passed=$((passed + 1)); }
bad() { echo "FAILED: $1"; failed=$((failed + 1)); }
finish() {
    echo "out_of_tree: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}
# Runs a check: NAME COMMAND...; its output is shown only when it fails.
check() {
    name=$1
    shift
    if "$@" >"$tmp/log" 2>&1; then
        ok "$name"
    else
        bad "$name"
        sed 's/^/    /' "$tmp/log"
    fi
}

check "cmake --install to a temporary prefix" cmake --install "$build" --prefix "$prefix"
pc=$(find "$prefix" -name nascaps.pc | head -n 1)
if [ -z "$pc" ]; then
    bad "nascaps.pc installed"
    finish
fi
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
# No plugin may come from anywhere but the install (nor the build tree).
NASCAPS_PLUGIN_PATH=
export NASCAPS_PLUGIN_PATH

# The example leaves the source tree: only installed headers can serve it.
mkdir "$tmp/example"
cp "$src/examples/accelerators/roofline/roofline.c" "$src/examples/accelerators/roofline/CMakeLists.txt" \
    "$tmp/example/"
cd "$tmp/example" || exit 1
check "cc -shared -fPIC \$(pkg-config --cflags --libs nascaps) -o roofline.so roofline.c" \
    sh -c 'cc -shared -fPIC -Wall -Wextra -Werror $(pkg-config --cflags --libs nascaps) -o roofline.so roofline.c'

# CapsNet (MODEL.md's worked example), written here.
printf '%s\n' '[[0,28,1,1,9,1,28,256,1],[1,28,256,1,9,2,14,32,8],[1,14,32,8,9,2,7,10,16],[-1],[1]]' >net.chr
nascaps=$prefix/bin/nascaps

# The roofline figures of CapsNet by hand (defaults: 256 MACs/cycle at
# 1 GHz, 25.6 GB/s, 0.2 pJ/MAC, 5 pJ/byte), per operation:
#   conv  weights k^2*inch*incaps*outch*outcaps, MACs outsize^2*weights
#   class weights = MACs = insize^2*inch*incaps*outch*outcaps
#   sum   no weights, MACs insize^2*inch*outch*outcaps
#   bytes = weights + insize^2*inch*incaps + outsize^2*outch*outcaps
expected=$(awk 'function op(kind, is, ic, icaps, k, os, oc, ocaps,   w, m, b) {
        if (kind == "conv") { w = k * k * ic * icaps * oc * ocaps; m = os * os * w }
        else if (kind == "class") { w = is * is * ic * icaps * oc * ocaps; m = w }
        else { w = 0; m = is * is * ic * oc * ocaps }
        b = w + is * is * ic * icaps + os * os * oc * ocaps
        e += (m * 0.2 + b * 5) * 1e-9
        e0 += m * 0.2 * 1e-9
        l += (m / 256e9 > b / 25.6e9 ? m / 256e9 : b / 25.6e9) * 1e3
        mem += w / 1024
    }
    BEGIN {
        op("conv", 28, 1, 1, 9, 28, 256, 1); op("conv", 28, 256, 1, 9, 14, 32, 8)
        op("class", 14, 32, 8, 9, 7, 10, 16)
        for (i = 0; i < 5; i++) op("sum", 14, 32, 8, 9, 7, 10, 16)
        printf "%.12g %.12g %.12g %.12g\n", e, l, mem, e0
    }')

# Compares the row of net.chr in TSV file $1 with energy $2 latency $3 memory $4.
row_matches() {
    awk -F '\t' -v e="$2" -v l="$3" -v m="$4" '
        function rel(a, b) { return (a > b ? a - b : b - a) / b }
        NR == 1 && index($0, "genotype\tenergy_mJ\tlatency_ms\tmemory_KiB") != 1 { bad = 1 }
        NR == 2 && $1 == "net.chr" { found = 1
            if (rel($2, e) > 1e-6 || rel($3, l) > 1e-6 || rel($4, m) > 1e-6) {
                printf "got %s %s %s, want %s %s %s\n", $2, $3, $4, e, l, m; bad = 1 } }
        END { exit !(found && !bad && NR == 2) }' "$1"
}
set -- $expected

check "installed nascaps estimate --accelerator ./roofline.so net.chr" \
    sh -c "'$nascaps' estimate --accelerator ./roofline.so net.chr >roofline.tsv"
check "roofline figures match the hand computation ($1 mJ, $2 ms, $3 KiB)" \
    row_matches roofline.tsv "$1" "$2" "$3"

# Its settings come from the accelerator section; plugin_path finds it by name.
printf 'plugin_path = ["%s"];\naccelerator = {\n  plugin = "roofline";\n  pj_per_byte = 0.0;\n};\n' \
    "$tmp/example" >roofline.cfg
check "plugin_path + accelerator.plugin = \"roofline\" with pj_per_byte = 0" \
    sh -c "'$nascaps' estimate -c roofline.cfg net.chr >by_name.tsv"
check "pj_per_byte = 0 leaves only the MAC energy ($4 mJ)" row_matches by_name.tsv "$4" "$2" "$3"
check "NASCAPS_PLUGIN_PATH finds it too" \
    sh -c "NASCAPS_PLUGIN_PATH='$tmp/example' '$nascaps' estimate --accelerator roofline net.chr | cmp - roofline.tsv"

# The installed capsacc is found relative to the installed libnascaps.
check "installed capsacc (default accelerator) reproduces MODEL.md" \
    sh -c "'$nascaps' estimate net.chr >capsacc.tsv"
check "capsacc figures 88.8026186 mJ, 1.82325 ms, 8572.5625 KiB" \
    row_matches capsacc.tsv 88.8026186 1.82325 8572.5625
check "nascaps plugins lists capsacc as installed" \
    sh -c "'$nascaps' plugins | grep -E '^capsacc +accelerator .* installed '"

# The same example through the CMake package.
check "find_package(nascaps) build of the example" \
    sh -c "cmake -S . -B cmake-build -DCMAKE_PREFIX_PATH='$prefix' && cmake --build cmake-build"
check "the CMake-built roofline.so gives the same figures" \
    sh -c "'$nascaps' estimate --accelerator cmake-build/roofline.so net.chr | cmp - roofline.tsv"

finish
