# Sourced by test.sh and bench.sh: start the built worker under `wrangler dev` on a free port
# with a fresh state directory, the D1 migrations applied and generated secrets, and stop it
# when the calling script exits. Sets CT_BASE_URL, CT_ADMIN_TOKEN, CT_STATE_DIR, and
# CT_ICECAT_PORT / CT_BLANCCO_PORT: the worker's Icecat base URL points there, and the suite
# sets its organisations' Blancco URL there; it runs fake servers on them (nothing leaves the
# machine).

start_test_server() {
  CT_STATE_DIR="$(mktemp -d /tmp/carbontrace-e2e.XXXXXX)"
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  CT_ICECAT_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  CT_BLANCCO_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  CT_ADMIN_TOKEN="adm_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  cat > "$CT_STATE_DIR/test.env" <<VARS
ADMIN_TOKEN=$CT_ADMIN_TOKEN
CERT_SIGNING_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
CERT_SIGNING_KEY_ID=test
CERT_ED25519_KEY=t1:$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
PROOF_ED25519_KEY=p1:$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
ICECAT_USERNAME=e2e
ICECAT_API_TOKEN=e2e-token
ICECAT_BASE_URL=http://127.0.0.1:$CT_ICECAT_PORT/api
CREDENTIALS_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
CREDENTIALS_KEY_ID=test
JOB_RETRY_BASE_SECONDS=1
INTEGRATIONS_ALLOW_LOOPBACK=true
VARS
  log "applying D1 migrations to a fresh state ($CT_STATE_DIR)"
  wrangler d1 migrations apply DB --local --persist-to "$CT_STATE_DIR/wrangler" >"$CT_STATE_DIR/migrations.log" 2>&1 \
    || { cat "$CT_STATE_DIR/migrations.log"; return 1; }
  CT_BASE_URL="http://127.0.0.1:$port"
  trap stop_test_server EXIT
  launch_test_server
}

# Start wrangler dev on the state and secrets already prepared (CT_STATE_DIR, CT_BASE_URL).
launch_test_server() {
  local port="${CT_BASE_URL##*:}"
  log "starting wrangler dev on 127.0.0.1:$port"
  setsid wrangler dev --local --persist-to "$CT_STATE_DIR/wrangler" --port "$port" --ip 127.0.0.1 \
    --env-file "$CT_STATE_DIR/test.env" --show-interactive-dev-session=false --test-scheduled \
    >>"$CT_STATE_DIR/wrangler.log" 2>&1 < /dev/null &
  CT_WRANGLER_PID=$!
  for _ in $(seq 1 120); do
    if curl -fsS "$CT_BASE_URL/api/v1/health" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$CT_WRANGLER_PID" 2>/dev/null; then cat "$CT_STATE_DIR/wrangler.log"; log "wrangler dev exited"; return 1; fi
    sleep 0.5
  done
  curl -fsS "$CT_BASE_URL/api/v1/health" >/dev/null || { cat "$CT_STATE_DIR/wrangler.log"; return 1; }
  export CT_BASE_URL CT_ADMIN_TOKEN CT_STATE_DIR CT_ICECAT_PORT CT_BLANCCO_PORT
}

stop_test_server() {
  kill -- "-$CT_WRANGLER_PID" 2>/dev/null || true
  wait "$CT_WRANGLER_PID" 2>/dev/null || true
}

# Restart the worker on the same state with changed secrets (a key rotation, as an operator
# does it with `wrangler secret put`): NAME=VALUE pairs replace those lines of the env file.
restart_test_server() {
  stop_test_server
  local kv
  for kv in "$@"; do
    sed -i "s|^${kv%%=*}=.*|${kv}|" "$CT_STATE_DIR/test.env"
  done
  launch_test_server
}
