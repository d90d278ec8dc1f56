#!/usr/bin/env bash
# Configures and builds NASCaps-C into build/ (or $NASCAPS_BUILD_DIR).
# Extra CMake arguments may follow, e.g. -DNASCAPS_WERROR=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${NASCAPS_BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
