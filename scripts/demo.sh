#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and runs the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
GONGSHE_BUILD_TARGET=gongshe scripts/build.sh
build=${GONGSHE_BUILD_DIR:-build}
"$build/cli/gongshe" --version
"$build/cli/gongshe" ledger demo
