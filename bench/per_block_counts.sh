#!/usr/bin/env bash
# Counts, per committed block, the Ed25519 checks and the context switches of a 4-validator devnet
# with one transaction in flight (the e2e benchmark's third phase), over the four node processes.
# Needs perf (linux-perf), curl and root for the uprobe; neither tool is installed by
# scripts/install-deps.sh (a diagnostic). Usage: bench/per_block_counts.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
sodium=$(ldd "$build/cli/gongshe" | awk '/libsodium/ {print $3}')
perf probe -q -x "$sodium" crypto_sign_verify_detached 2>/dev/null || true
"$build/bench/gongshe_e2e_devnet" --full-s 1 --half-s 1 >"$log" 2>&1 &
bench=$!
for _ in $(seq 1 480); do grep -q "one in flight: 1 s" "$log" && break; sleep 0.5; done
sleep 2
dir=$(ls -dt "${TMPDIR:-/tmp}"/gongshe-e2e-* | head -1)  # this run's network (the newest)
api=$(grep -o "API on [0-9.:]*" "$dir/node0/node.log" | head -1 | awk '{print $3}')
pids=$(pgrep -f "gongshe node --home $dir" | paste -sd,)
height() { curl -s "http://$api/metrics" | awk '/^gongshe_height / {print $2}'; }
h0=$(height)
counts=$(perf stat -x, -e probe_libsodium:crypto_sign_verify_detached,context-switches -p "$pids" -- sleep 3 2>&1)
h1=$(height)
wait "$bench"
blocks=$((h1 - h0))
if [ "$blocks" -le 0 ]; then echo "no block committed in the window" >&2; exit 1; fi
echo "$counts" | awk -F, -v b="$blocks" '/probe|context/ {printf "%s per block: %.1f (%d in %d blocks)\n", $3, $1 / b, $1, b}'
