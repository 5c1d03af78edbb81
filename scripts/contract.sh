#!/usr/bin/env bash
# The OpenAPI document as a contract: schemathesis (PyPI, pinned) runs every check over every
# operation of the served document against the running worker ($CT_BASE_URL, an internal-plan
# key made with $CT_ADMIN_TOKEN), with a fixed seed and a modest example count, and fails on
# any failure. Exclusions and data-dependent exceptions: tests/contract/ (each with its reason);
# `ignored_auth` is off because it resends requests with invalid keys, and after 10 failed
# authentications a minute a client gets 429 before any key lookup (brute-force protection,
# tested in tests/e2e/abuse.test.mjs; auth enforcement in keys, modes and org_keys), and
# `use_after_free` because DELETE here revokes or tombstones, it never makes a record vanish: a
# revoked certificate must stay verifiable as revoked, a deleted export's status stays readable
# (its archive is gone), a revoked key stays listed.
# Called by scripts/test.sh after the end-to-end suite; the JUnit report goes to
# target/e2e-artefacts/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python3 -c "import schemathesis" 2>/dev/null || pip install -q schemathesis==4.32.5 hypothesis==6.170.17 >&2
key=$(curl -fsS -X POST "$CT_BASE_URL/api/v1/admin/keys" -H "Authorization: Bearer $CT_ADMIN_TOKEN" \
  -H 'Content-Type: application/json' -d '{"org":"contract","plan":"internal"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
mkdir -p target/e2e-artefacts
# The document is read once, before any job is queued: schemathesis gives a schema download
# 10 s, and the first pass leaves exports and reports queued whose building can hold a local
# (single-isolate) worker longer than that.
schema=target/e2e-artefacts/openapi.json
curl -fsS --max-time 60 "$CT_BASE_URL/api/v1/openapi.json" -o "$schema"
run() {
  PYTHONPATH=tests/contract SCHEMATHESIS_HOOKS=hooks \
    schemathesis --config-file tests/contract/schemathesis.toml run "$schema" --url "$CT_BASE_URL/api/v1" \
    --checks all --exclude-checks ignored_auth,use_after_free --seed 1 --generation-database none --max-examples "${CT_CONTRACT_EXAMPLES:-10}" --workers 2 --request-timeout 90 \
    --exclude-path /integrations/blancco/sync --exclude-path /products/identify --exclude-path /openapi.json \
    -H "Authorization: Bearer $key" "$@"
}
# `/openapi.json` is the document itself, a static asset (src/api/openapi.rs; the skeleton
# suite validates it): Workers static assets answer other methods 405 without `Allow`, which
# is the platform's answer, not ours to fix.
# Every operation, every phase, but revoking and rolling keys: the stateful phase follows links
# from GET /keys to the run's own key and would revoke it mid-run. Then those two, without the
# stateful phase.
run --exclude-path-regex '^/keys/\{id\}' --report junit --report-dir target/e2e-artefacts
# The first pass's queued jobs run before the second pass starts: one request that waits for
# the worker (a poll, not a sleep).
curl -fsS --max-time 120 "$CT_BASE_URL/api/v1/health" >/dev/null
run --include-path-regex '^/keys/\{id\}' --phases examples,coverage,fuzzing
