#!/usr/bin/env bash
# Installs, from Debian's packages, whatever Keel needs that this machine lacks. Idempotent.
set -euo pipefail
pkgs=(cmake g++ ninja-build libeigen3-dev libbox2d-dev nlohmann-json3-dev libtbb-dev
      libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "keel: installing missing packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
