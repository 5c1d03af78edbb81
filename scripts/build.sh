#!/usr/bin/env bash
# Build the worker (Rust -> wasm32 -> build/) and print the bundle size.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$CARBONTRACE_ROOT"

log "building the worker (worker-build --release)"
worker-build --release >&2
wasm=build/index_bg.wasm
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
log "wasm bundle $wasm: $raw bytes raw, $gz bytes gzip ($(( gz / 1024 )) KiB)"
