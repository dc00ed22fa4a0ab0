#!/usr/bin/env bash
# Installs the Debian packages vnetsim needs, only those that are missing.
# Idempotent: when everything is present it changes nothing and touches no network.
set -euo pipefail

packages=(
  build-essential cmake
  libboost-graph-dev libfmt-dev nlohmann-json3-dev libbenchmark-dev doctest-dev libcli11-dev
  tshark python3-jsonschema
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}; run as root (or install them) and try again" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
