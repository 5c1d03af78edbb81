#!/usr/bin/env bash
# THE TEST COMMAND: every check, in order, failing fast:
#   1. cargo fmt --check; clippy -D warnings on the native and the wasm32 target
#   2. native unit tests (domain logic)
#   3. build the worker, start `wrangler dev` on a free port with a fresh state directory and
#      the D1 migrations applied, run the end-to-end suite over HTTP (tests/e2e), stop the
#      server whether the suite passed or not.
# `bash scripts/test.sh --e2e` skips step 1 and 2 (for iterating on the end-to-end suite).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$CARBONTRACE_ROOT"
t0=$(date +%s)

if [ "${1:-}" != "--e2e" ]; then
  log "cargo fmt --check"
  cargo fmt --all -- --check
  log "clippy (native)"
  cargo clippy --all-targets --quiet -- -D warnings
  log "clippy (wasm32)"
  cargo clippy --lib --target wasm32-unknown-unknown --quiet -- -D warnings
  log "native tests"
  cargo test --quiet
fi

bash scripts/build.sh

STATE="$(mktemp -d /tmp/carbontrace-e2e.XXXXXX)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
ADMIN_TOKEN="adm_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
cat > "$STATE/test.env" <<VARS
ADMIN_TOKEN=$ADMIN_TOKEN
CERT_SIGNING_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
CERT_SIGNING_KEY_ID=test
VARS

log "applying D1 migrations to a fresh state ($STATE)"
wrangler d1 migrations apply DB --local --persist-to "$STATE/wrangler" >"$STATE/migrations.log" 2>&1 \
  || { cat "$STATE/migrations.log"; exit 1; }

log "starting wrangler dev on 127.0.0.1:$PORT"
setsid wrangler dev --local --persist-to "$STATE/wrangler" --port "$PORT" --ip 127.0.0.1 \
  --env-file "$STATE/test.env" --show-interactive-dev-session=false \
  >"$STATE/wrangler.log" 2>&1 < /dev/null &
WRANGLER_PID=$!
stop_server() {
  kill -- "-$WRANGLER_PID" 2>/dev/null || true
  wait "$WRANGLER_PID" 2>/dev/null || true
}
trap stop_server EXIT

for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$PORT/api/v1/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$WRANGLER_PID" 2>/dev/null; then cat "$STATE/wrangler.log"; log "wrangler dev exited"; exit 1; fi
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/api/v1/health" >/dev/null || { cat "$STATE/wrangler.log"; exit 1; }

log "end-to-end suite against http://127.0.0.1:$PORT"
status=0
CT_BASE_URL="http://127.0.0.1:$PORT" CT_ADMIN_TOKEN="$ADMIN_TOKEN" CT_STATE_DIR="$STATE" \
  node --test --test-concurrency=1 tests/e2e/*.test.mjs || status=$?
if [ "$status" -ne 0 ]; then
  log "end-to-end suite failed; last lines of the wrangler log:"
  tail -n 60 "$STATE/wrangler.log" >&2
fi
log "done in $(( $(date +%s) - t0 ))s"
exit "$status"
