#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build=${GONGSHE_BUILD_DIR:-build}
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
