#!/usr/bin/env bash
# THE RUN COMMAND: install what is missing, build the worker, apply D1 migrations locally and
# serve the API with `wrangler dev` in local mode (every binding simulated on disk under
# .wrangler/state). PORT defaults to 8787.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$CARBONTRACE_ROOT"

PORT="${PORT:-8787}"
STATE="${CARBONTRACE_STATE:-.wrangler/state}"

if [ ! -f .dev.vars ]; then
  # Local secrets: random ones, never committed (.dev.vars is git-ignored).
  sed -e "s/^ADMIN_TOKEN=.*/ADMIN_TOKEN=adm_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')/" \
      -e "s/^CERT_SIGNING_KEY=.*/CERT_SIGNING_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')/" \
      -e "s/^CREDENTIALS_KEY=.*/CREDENTIALS_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')/" \
      -e "s/^CERT_ED25519_KEY=.*/CERT_ED25519_KEY=c1:$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')/" \
      -e "s/^PROOF_ED25519_KEY=.*/PROOF_ED25519_KEY=p1:$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')/" \
      .dev.vars.example > .dev.vars
  log "wrote .dev.vars with a fresh ADMIN_TOKEN (see the file)"
fi

bash scripts/build.sh
log "applying D1 migrations (local, $STATE)"
wrangler d1 migrations apply DB --local --persist-to "$STATE" >&2
log "serving on http://localhost:$PORT/api/v1/health"
exec wrangler dev --local --persist-to "$STATE" --port "$PORT" --ip 127.0.0.1 \
  --show-interactive-dev-session=false
