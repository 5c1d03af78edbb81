#!/usr/bin/env bash
# THE TEST COMMAND: every check, in order, failing fast, with a table of each phase's
# duration at the end (passed or failed):
#   1. cargo fmt --check; the layering check (scripts/layers.py); clippy -D warnings on the
#      native and the wasm32 target
#   2. native unit tests (domain logic), then the figures again in wasm (wasm-bindgen-test)
#   3. build the worker, `wrangler deploy --dry-run` it (scripts/deploy_check.sh: size budget,
#      every binding used), start `wrangler dev` on a free port with a fresh state directory and
#      the D1 migrations applied, run the end-to-end suite over HTTP (tests/e2e), then rotate
#      the signing keys, restart on the same state and run tests/e2e/rotation, then the
#      contract run (schemathesis over the served OpenAPI document, scripts/contract.sh); stop
#      the server whether the suite passed or not.
# `bash scripts/test.sh --e2e [FILES…]` skips step 1 and 2 (for iterating on the end-to-end
# suite), and runs only FILES when given (e.g. `CT_EXPORT_ROWS=1000000 bash scripts/test.sh
# --e2e tests/e2e/exports.test.mjs`, the export measurement in the README).
set -euo pipefail
t0=$(date +%s)
# Each step is a phase; the table of their durations is printed at the end, passed or failed,
# so a step that grows shows in every run's log.
phases=()
phase_name="toolchain (install or check)"
phase_t=$t0
phase() {
  local now
  now=$(date +%s)
  phases+=("$(printf '%-52s %5ss' "$phase_name" $((now - phase_t)))")
  phase_name="$1"
  phase_t=$now
  [ -z "$1" ] || log "$1"
}
report() {
  phase ""
  printf '\033[1m[carbontrace]\033[0m phase timings (total %ss):\n' $(( $(date +%s) - t0 )) >&2
  printf '  %s\n' "${phases[@]}" >&2
}
trap report EXIT
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$CARBONTRACE_ROOT"

e2e_files=(tests/e2e/*.test.mjs)
if [ "${1:-}" = "--e2e" ]; then
  shift
  if [ "$#" -gt 0 ]; then e2e_files=("$@"); fi
else
  phase "cargo fmt --check"
  cargo fmt --all -- --check
  # The architecture: layers point inwards only, no import rings (the script's docstring).
  phase "layering check"
  python3 scripts/layers.py --self-test
  python3 scripts/layers.py
  phase "clippy (native)"
  cargo clippy --all-targets --quiet -- -D warnings
  phase "clippy (wasm32)"
  cargo clippy --lib --target wasm32-unknown-unknown --quiet -- -D warnings
  phase "native tests"
  cargo test --quiet
  # The same numbers in wasm: the figures the native run just wrote (tests/wasm_numbers.rs),
  # computed again by the domain code compiled to wasm32, on Node (wasm-bindgen-test).
  phase "wasm tests (wasm-bindgen-test on Node)"
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    cargo test --target wasm32-unknown-unknown --test wasm_numbers
fi

phase "system and Python tools (install or check)"
# The end-to-end suite checks PDFs with real PDF tools, archives with unzip, the
# certificate's QR code with a real decoder, and the docs site in a real browser.
if ! command -v qpdf >/dev/null || ! command -v pdftotext >/dev/null || ! command -v unzip >/dev/null \
  || ! command -v zbarimg >/dev/null || ! command -v chromium >/dev/null; then
  log "installing qpdf, poppler-utils, unzip, zbar-tools and chromium (apt)"
  (apt-get update -qq && apt-get install -y -qq qpdf poppler-utils unzip zbar-tools chromium) >&2
fi

# The OData suite drives the feed with a real OData v4 client library.
python3 -c "import odata" 2>/dev/null || { log "installing python-odata (PyPI)"; pip install -q python-odata==0.8.1 >&2; }
# The offline certificate check runs the README's Python recipe: RFC 8785 and Ed25519.
python3 -c "import jcs, cryptography" 2>/dev/null || { log "installing jcs and cryptography (PyPI)"; pip install -q jcs==0.2.1 cryptography >&2; }
# A Python client generated from the OpenAPI document drives a scenario (tests/e2e/clients).
command -v openapi-python-client >/dev/null || { log "installing openapi-python-client (PyPI)"; pip install -q openapi-python-client==0.29.1 >&2; }

phase "build (worker, docs, console)"
bash scripts/build.sh
# The bundle a deploy would upload: size budget and bindings (no network, no account).
phase "deploy dry-run"
bash scripts/deploy_check.sh

phase "start the test server"
source scripts/server.sh
start_test_server
# server.sh stops the server on exit; the phase table still prints after it.
trap 'stop_test_server; report' EXIT

phase "end-to-end suite against $CT_BASE_URL"
status=0
node --test --test-concurrency=1 "${e2e_files[@]}" || status=$?
# Then rotate the signing keys as an operator would (new secrets, same data) and check that
# nothing signed before breaks (tests/e2e/rotation: reads what offline.test.mjs left).
if [ "$status" -eq 0 ] && [ -f "$CT_STATE_DIR/before-rotation.json" ]; then
  phase "rotating the signing keys and restarting the worker on the same state"
  restart_test_server "CERT_ED25519_KEY=t2:$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    "PROOF_ED25519_KEY=p2:$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  node --test --test-concurrency=1 tests/e2e/rotation/*.test.mjs || status=$?
fi
# The OpenAPI document as a contract: schemathesis over every operation (scripts/contract.sh).
if [ "$status" -eq 0 ]; then
  phase "contract: schemathesis over the served OpenAPI document"
  bash scripts/contract.sh || status=$?
fi
if [ "$status" -ne 0 ]; then
  log "end-to-end suite failed; last lines of the wrangler log:"
  tail -n 60 "$CT_STATE_DIR/wrangler.log" >&2
fi
log "done in $(( $(date +%s) - t0 ))s"
exit "$status"
