#!/usr/bin/env bash
# HTTP benchmarks against the real worker under `wrangler dev` (local). wrangler dev is itself
# the ceiling here, so every endpoint is compared with GET /health on the same server, in the
# same run. Needs `hey` (apt-get install hey). `--no-build` reuses build/.
# Native engine throughput: `cargo bench --bench engine`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$CARBONTRACE_ROOT"
command -v hey >/dev/null || { log "installing hey"; apt-get install -y -qq hey >&2; }
[ "${1:-}" = "--no-build" ] || bash scripts/build.sh
source scripts/server.sh
start_test_server

DUR="${BENCH_SECONDS:-10}"
B="$CT_STATE_DIR/bench"; mkdir -p "$B"
# An internal-plan API key: unlimited but metered, so the auth gate, the key cache and the
# rate-limit leases are all on the measured path.
KEY=$(curl -fsS -X POST "$CT_BASE_URL/api/v1/admin/keys" -H "Authorization: Bearer $CT_ADMIN_TOKEN" \
  -H 'Content-Type: application/json' -d '{"org":"bench","plan":"internal"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
AUTH="Authorization: Bearer $KEY"
echo '{"product":{"id":"dell--latitude-5420"}}' > "$B/catalogue.json"
python3 - "$B" <<'PY'
import json, sys
d = sys.argv[1]
json.dump({"category": "laptop", "product": {"brand": "Dell"}, "specs": {"screen_size_in": 14, "weight_kg": 1.4, "release_year": 2022},
           "use": {"country": "DE", "lifetime_years": 4, "yearly_kwh": 20}}, open(f"{d}/model.json", "w"))
cat = json.load(open("factors/catalogue.json"))["products"]
devs = [{"product": {"id": p["id"]}} if i % 2 == 0 else {"category": p["category"], "product": {"brand": p["brand"]}, "use": {"country": "FR"}}
        for i, p in enumerate((cat * 2)[:1000])]
json.dump({"devices": devs}, open(f"{d}/batch.json", "w"))
PY

row() { # name, hey output file
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$2")
  p50=$(awk '/ 50%/ {print $3*1000}' "$2")
  p99=$(awk '/ 99%/ {print $3*1000}' "$2")
  printf '| %-44s | %10s | %8s ms | %8s ms |\n' "$1" "$rps" "$p50" "$p99"
}
echo "| endpoint (${DUR}s, 16 connections) | req/s | p50 | p99 |"
echo "|---|---|---|---|"
hey -z "${DUR}s" -c 16 "$CT_BASE_URL/api/v1/health" > "$B/health.txt"; row "GET /health" "$B/health.txt"
hey -z "${DUR}s" -c 16 -m POST -T application/json -H "$AUTH" -D "$B/catalogue.json" "$CT_BASE_URL/api/v1/footprint" > "$B/fc.txt"
row "POST /footprint (catalogue product, API key)" "$B/fc.txt"
hey -z "${DUR}s" -c 16 -m POST -T application/json -H "$AUTH" -D "$B/model.json" "$CT_BASE_URL/api/v1/footprint" > "$B/fm.txt"
row "POST /footprint (model estimate, API key)" "$B/fm.txt"
hey -z "${DUR}s" -c 16 "$CT_BASE_URL/api/v1/reference/countries" > "$B/ref.txt"; row "GET /reference/countries" "$B/ref.txt"
hey -z "${DUR}s" -c 16 -H "$AUTH" "$CT_BASE_URL/api/v1/products/search?q=lattitude%205420" > "$B/search.txt"
row "GET /products/search (typo, API key)" "$B/search.txt"
echo
echo "| single client, sequential | req/s | p50 | p99 |"
echo "|---|---|---|---|"
hey -n 500 -c 1 "$CT_BASE_URL/api/v1/health" > "$B/h1.txt"; row "GET /health" "$B/h1.txt"
hey -n 500 -c 1 -m POST -T application/json -H "$AUTH" -D "$B/catalogue.json" "$CT_BASE_URL/api/v1/footprint" > "$B/f1.txt"
row "POST /footprint (catalogue product)" "$B/f1.txt"
hey -n 500 -c 1 -m POST -T application/json -H "$AUTH" -D "$B/model.json" "$CT_BASE_URL/api/v1/footprint" > "$B/m1.txt"
row "POST /footprint (model estimate)" "$B/m1.txt"
hey -n 40 -c 1 -m POST -T application/json -H "$AUTH" -D "$B/batch.json" "$CT_BASE_URL/api/v1/footprint/batch" > "$B/b1.txt"
row "POST /footprint/batch (1000 devices)" "$B/b1.txt"
