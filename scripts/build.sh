#!/usr/bin/env bash
# Configures and builds into build/ (or $GONGSHE_BUILD_DIR) with warnings as errors: everything,
# or only $GONGSHE_BUILD_TARGET when set. Extra arguments go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${GONGSHE_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DGONGSHE_WERROR=ON "$@" >/dev/null
cmake --build "$build" ${GONGSHE_BUILD_TARGET:+--target "$GONGSHE_BUILD_TARGET"}
