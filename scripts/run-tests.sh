#!/usr/bin/env bash
# The whole test suite: installs the packages, builds, runs ctest.
# Extra CMake arguments may follow (e.g. -DNASCAPS_WERROR=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh "$@"
ctest --test-dir "${NASCAPS_BUILD_DIR:-build}" --output-on-failure -j"$(nproc)"
