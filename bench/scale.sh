#!/usr/bin/env bash
# scale.sh - parallel evaluation figures for docs/SCALE.md, printed as
# `name value` lines (seconds, images/s). Run from the source tree after
# building into build/ (Debian's Fashion-MNIST for the fmnist and thread
# figures); it takes about 15 minutes on 2 quiet cores.
#
#   bash bench/scale.sh [synthetic|fmnist|stage2|sample|threads]...   (default: all)
#
# synthetic: examples/synthetic-quick.cfg at training.threads=1, serial vs
#            --workers 2 vs mpirun -np 3 (pareto.csv must be identical)
# fmnist:    the README's main job, serial (training.threads 0 = automatic,
#            and 1) vs --workers 2 vs mpirun -np 3 (threads 1; pareto.csv
#            must be identical at threads 1)
# stage2:    stage 2 alone (final_training.epochs=3) on the main job's front,
#            serial vs --workers 2 (threads 1; front/*.bin must be identical)
# sample:    candidates per hour on a sample of the default search space
#            (nascaps correlate, 6 samples, 1 epoch on 1,000 images),
#            serial vs --workers 2
# threads:   training images/s of genotypes of the default space (picked
#            from a costs-only search by forward MACs) at 1 and 2 threads
set -euo pipefail
cd "$(dirname "$0")/.."
B="$PWD/build/bin/nascaps"
OUT=$(mktemp -d /tmp/nascaps-scale-XXXXXX)
export NASCAPS_PLUGIN_PATH= OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
load() { cut -d' ' -f1 /proc/loadavg; }
timed() {   # NAME CMD...: prints NAME_s and the load average when it ended
  local name=$1; shift
  local t0; t0=$(date +%s.%N)
  "$@" >/dev/null 2>>"$OUT/log.txt"
  echo "${name}_s $(echo "$(date +%s.%N) - $t0" | bc)"
  echo "${name}_load $(load)"
}
what=("$@")
[ ${#what[@]} -eq 0 ] && what=(synthetic fmnist stage2 sample threads)
for w in "${what[@]}"; do
  case $w in
  synthetic)
    C=examples/synthetic-quick.cfg
    timed synthetic_serial "$B" run $C --quiet --set training.threads=1 --set "output.dir=\"$OUT/s1\""
    timed synthetic_workers2 "$B" run $C --quiet --set training.threads=1 --workers 2 \
      --set "output.dir=\"$OUT/s2\""
    if command -v mpirun >/dev/null; then
      timed synthetic_mpi3 mpirun --oversubscribe -np 3 "$B" run $C --quiet \
        --set training.threads=1 --set "output.dir=\"$OUT/s3\""
      cmp "$OUT/s1/pareto.csv" "$OUT/s3/pareto.csv" && echo "synthetic_mpi3_identical 1"
    fi
    cmp "$OUT/s1/pareto.csv" "$OUT/s2/pareto.csv" && echo "synthetic_workers2_identical 1"
    ;;
  fmnist)
    C=examples/fmnist-quick.cfg
    timed fmnist_serial_threads_auto "$B" run $C --quiet --workers 0 --set training.threads=0 \
      --set "output.dir=\"$OUT/f0\""
    timed fmnist_serial_threads1 "$B" run $C --quiet --workers 0 --set training.threads=1 \
      --set "output.dir=\"$OUT/f1\""
    timed fmnist_workers2_threads1 "$B" run $C --quiet --workers 2 --set training.threads=1 \
      --set "output.dir=\"$OUT/f2\""
    cmp "$OUT/f1/pareto.csv" "$OUT/f2/pareto.csv" && echo "fmnist_workers2_identical 1"
    if command -v mpirun >/dev/null; then
      timed fmnist_mpi3_threads1 mpirun --oversubscribe -np 3 "$B" run $C --quiet \
        --set training.threads=1 --set "output.dir=\"$OUT/f3\""
      cmp "$OUT/f1/pareto.csv" "$OUT/f3/pareto.csv" && echo "fmnist_mpi3_identical 1"
    fi
    ;;
  stage2)
    # the search once without stage 2, then stage 2 alone in two copies of
    # its folder (runs start in the copy: output.dir is the default)
    C="$PWD/examples/fmnist-quick.cfg"
    mkdir -p "$OUT/base"
    (cd "$OUT/base" && "$B" run "$C" --quiet --set final_training.epochs=0 >/dev/null 2>&1)
    for how in serial workers2; do
      cp -a "$OUT/base" "$OUT/st_$how"
      n=0; [ $how = workers2 ] && n=2
      (cd "$OUT/st_$how" && timed stage2_$how "$B" run "$C" --quiet --workers $n \
        --set final_training.epochs=3)
    done
    echo "stage2_members $(sqlite3 "$OUT/st_serial/runs/fmnist-quick/results.db" \
      'SELECT count(*) FROM final')"
    same=1
    for f in "$OUT"/st_serial/runs/fmnist-quick/front/*; do
      cmp -s "$f" "$OUT/st_workers2/runs/fmnist-quick/front/$(basename "$f")" || same=0
    done
    echo "stage2_front_identical $same"
    ;;
  sample)
    cat >"$OUT/sample.cfg" <<'CFG'
dataset = { plugin = "idx"; train_subset = 1000; test_subset = 200; };
training = { batch_size = 50; time_limit_s = 60; };   # a huge sample is cut (status time_limit)
correlate = { samples = 6; epochs = 1; };
CFG
    for how in serial workers2; do
      extra=""; [ $how = workers2 ] && extra="--workers 2"
      t0=$(date +%s.%N)
      "$B" correlate "$OUT/sample.cfg" --quiet $extra --set "output.dir=\"$OUT/c_$how\"" \
        >/dev/null 2>>"$OUT/log.txt"
      s=$(echo "$(date +%s.%N) - $t0" | bc)
      echo "sample_${how}_s $s"
      echo "sample_${how}_candidates_per_hour $(echo "6 * 3600 / $s" | bc)"
      echo "sample_${how}_load $(load)"
    done
    ;;
  threads)
    "$B" run examples/costs-only.cfg --quiet --set "output.dir=\"$OUT/costs\"" >/dev/null 2>&1
    cat >"$OUT/thr.cfg" <<'CFG'
dataset = { plugin = "idx"; train_subset = 1000; test_subset = 100; };
training = { epochs = 1; batch_size = 50; learning_rate = 0.002; routings = 2; recon_weight = 0.0; };
CFG
    for m in 100000 1000000 3000000 10000000 30000000 100000000; do
      row=$(sqlite3 "$OUT/costs/results.db" "SELECT macs || '|' || genotype FROM evaluations
            WHERE status = 'ok' AND macs >= $m ORDER BY macs LIMIT 1")
      [ -z "$row" ] && continue
      echo "${row#*|}" >"$OUT/g.chr"
      for th in 1 2; do
        ips=$("$B" train -c "$OUT/thr.cfg" --set training.threads=$th --json "$OUT/g.chr" \
              2>/dev/null | tail -1 | sed 's/.*"train_img_per_s":\([0-9.]*\).*/\1/')
        echo "macs_${row%%|*}_threads${th}_img_per_s $ips"
      done
      echo "macs_${row%%|*}_load $(load)"
    done
    ;;
  esac
done
rm -rf "$OUT"
