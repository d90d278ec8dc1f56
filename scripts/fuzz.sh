#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/, clang, ASan + UBSan), generates
# their seed corpora and runs each for SECONDS (default 60). Exits non-zero
# when a harness finds a crash, a leak, a timeout or a sanitizer report;
# the input that did it is kept as NASCAPS_FUZZ_DIR/crashes/HARNESS-*.
# Needs clang and libfuzzer-14-dev (.ci/run installs them).
#   scripts/fuzz.sh [SECONDS]
#   NASCAPS_FUZZ_ONLY="idx svhn" scripts/fuzz.sh 600   (some harnesses only)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
out="${NASCAPS_FUZZ_DIR:-build-fuzz}"
harnesses="${NASCAPS_FUZZ_ONLY:-genotype pipeline idx cifar svhn weights report wire}"
jobs="${NASCAPS_FUZZ_BUILD_JOBS:-2}"

echo "== build the harnesses in $out (clang, -fsanitize=fuzzer,address,undefined)"
cmake -S . -B "$out" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNASCAPS_FUZZ=ON -DNASCAPS_BUILD_TESTS=OFF -DNASCAPS_BUILD_BENCH=OFF >/dev/null
cmake --build "$out" -j"$jobs" >/dev/null

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export NASCAPS_PLUGIN_PATH=
export OPENBLAS_NUM_THREADS=1
# the test suite's LeakSanitizer settings (tests/CMakeLists.txt), fuzz/lsan.supp
export LSAN_OPTIONS="use_tls=0:print_suppressions=0:suppressions=$PWD/fuzz/lsan.supp"

echo "== seed corpora"
seeds="$out/fuzz-seeds"
rm -rf "$seeds"
"$out/bin/fuzz_seeds" "$seeds"
mkdir -p "$seeds/pipeline" "$seeds/genotype" "$seeds/report"
cp examples/genotypes/*.chr "$seeds/genotype/"
for f in examples/*.cfg examples/*/*.cfg; do
  cp "$f" "$seeds/pipeline/$(echo "$f" | tr / _)"
done
printf 'seed = 3;\nobjectives = ["energy", "params"];\n%%%%\nseed=5\noptimizer.population=4\ndataset.plugin="synthetic"\n' \
  >"$seeds/pipeline/with-sets"
# a results.db of a tiny costs-only run (no training: a few seconds)
run_dir="$(mktemp -d)"
trap 'rm -rf "$run_dir"' EXIT
cat >"$run_dir/tiny.cfg" <<'CFG'
seed = 3;
dataset = { plugin = "synthetic"; size = 12; train_count = 50; test_count = 20; };
objectives = ["energy", "latency", "memory"];
optimizer = { plugin = "nsga2"; population = 4; offspring = 4; generations = 2; };
CFG
# (leak checks off: only its database is wanted, and the report it writes
# at the end keeps fontconfig's process-lifetime caches)
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
  "$out/bin/nascaps" run -c "$run_dir/tiny.cfg" --set "output.dir=\"$run_dir/run\"" --quiet \
  >"$out/seed-run.log" 2>&1
# fuzz_report: the database itself (first byte even) or SQL run on a copy
# of it (first byte odd)
{ printf '\0'; cat "$run_dir/run/results.db"; } >"$seeds/report/tiny.db"
cp "$run_dir/run/results.db" "$out/fuzz-report-base.db"
export NASCAPS_FUZZ_REPORT_DB="$(cd "$out" && pwd)/fuzz-report-base.db"
printf '\1UPDATE evaluations SET energy_mj = 1e308 WHERE id = 2;' >"$seeds/report/sql-huge"
printf "\1UPDATE evaluations SET gid = '../../x', status = 'ok';" >"$seeds/report/sql-gid"
printf "\1DELETE FROM generations WHERE generation = 1;" >"$seeds/report/sql-gap"
printf "\1UPDATE meta SET value = 'nan' WHERE key <> 'pipeline';" >"$seeds/report/sql-meta"
printf "\1UPDATE population SET eval_id = 99999;" >"$seeds/report/sql-dangling"
printf "\1INSERT INTO final(eval_id, epochs_done, status, weights, shuffle_rng, augment_rng) SELECT id, -5, 'ok', '/etc/passwd', 'x', 'y' FROM evaluations;" >"$seeds/report/sql-final"

mkdir -p "$out/crashes"
failed=""
for h in $harnesses; do
  echo "== fuzz_$h for ${secs} s"
  corpus="$out/corpus/$h"
  mkdir -p "$corpus"
  if ! "$out/bin/fuzz_$h" -max_total_time="$secs" -timeout=30 -rss_limit_mb=2560 \
       -max_len=65536 -print_final_stats=1 -artifact_prefix="$out/crashes/$h-" \
       "$corpus" "$seeds/$h" >"$out/fuzz_$h.log" 2>&1; then
    echo "fuzz_$h FAILED: see $out/fuzz_$h.log and $out/crashes/"
    grep -E "ERROR|SUMMARY|runtime error" "$out/fuzz_$h.log" | head -5 || true
    failed="$failed $h"
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/fuzz_$h.log" |
      tr '\n' ' ' | sed 's/stat:://g'
    echo
  fi
done
if [ -n "$failed" ]; then
  echo "== fuzzing found problems in:$failed"
  exit 1
fi
echo "== fuzzing passed"
