#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs the packages, builds,
# then runs a real NSGA-II search on Fashion-MNIST (examples/fmnist-quick.cfg:
# 24 candidates trained and costed on CapsAcc, under 15 minutes on 2 cores)
# and prints the Pareto front. Results: runs/fmnist-quick/ (pareto.csv,
# pareto.json, hypervolume.csv, front/*.chr). Running it again resumes or,
# when the search is complete, only prints the front.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
echo
echo "== nascaps run examples/fmnist-quick.cfg"
build/bin/nascaps run examples/fmnist-quick.cfg
