#!/usr/bin/env bash
# Installs every Debian 12 package Gongshe needs to build, test and benchmark. Does nothing when
# all are present. Runs apt-get as root, or through sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  librocksdb-dev libsodium-dev libssl-dev libasio-dev libprotobuf-dev protobuf-compiler
  libeigen3-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcpp-httplib-dev libspdlog-dev libtomlplusplus-dev libjemalloc-dev libabsl-dev
  python3-scipy lua5.4
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
$sudo apt-get install -y --no-install-recommends "${missing[@]}"
