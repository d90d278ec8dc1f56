#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs the packages, builds,
# then estimates the CapsAcc energy, latency and memory of the example
# genotypes, with the per-operation breakdown of CapsNet.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
echo
echo "== nascaps estimate examples/genotypes/*.chr"
build/bin/nascaps estimate examples/genotypes/*.chr
echo
echo "== nascaps estimate --layers examples/genotypes/capsnet.chr"
build/bin/nascaps estimate --layers examples/genotypes/capsnet.chr
