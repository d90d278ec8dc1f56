#!/usr/bin/env bash
# Installs the Debian 12 packages NASCaps-C needs to build, test and run.
# Idempotent; needs root (or sudo).
set -euo pipefail
PACKAGES=(
  build-essential cmake pkg-config
  libopenblas-dev libconfig-dev libjansson-dev zlib1g-dev libmatio-dev libsqlite3-dev
  libcairo2-dev fonts-dejavu-core
  libcmocka-dev
  openmpi-bin libopenmpi-dev
  dataset-fashion-mnist
)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
