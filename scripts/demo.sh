#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and runs the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
GONGSHE_BUILD_TARGET=gongshe scripts/build.sh
build=${GONGSHE_BUILD_DIR:-build}
"$build/cli/gongshe" --version
# Four validators on 127.0.0.1 in a fresh folder, the guided story through their APIs, then stop.
"$build/cli/gongshe" devnet --nodes 4 --demo
