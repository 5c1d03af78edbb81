#!/usr/bin/env bash
# HTTP benchmarks, side by side in one run: the built worker on workerd directly (the runtime
# production runs; scripts/direct.mjs), the same build under `wrangler dev` (a development
# server with its own proxy: kept as a second column), and Boavizta API 2.5 (one uvicorn
# worker) as the outside reference. Every endpoint is measured at 16 connections and with one
# sequential client, each server in turn, with the CPU the server's processes spent per
# request (from /proc). Needs `hey` (Debian) and boaviztapi 2.5.0 (PyPI); both are installed
# here if missing. `--no-build` reuses build/; `BENCH_ONLY=<regex>` measures only the rows whose
# label matches (with /health, the reference). Native engine throughput: `cargo bench`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$CARBONTRACE_ROOT"
command -v hey >/dev/null || { log "installing hey"; (apt-get update -qq && apt-get install -y -qq hey) >&2; }
python3 -c "import boaviztapi, uvicorn" 2>/dev/null \
  || { log "installing boaviztapi 2.5.0 (PyPI)"; pip install -q boaviztapi==2.5.0 uvicorn >&2; }
[ "${1:-}" = "--no-build" ] || bash scripts/build.sh
source scripts/server.sh
start_test_server                                   # wrangler dev on $CT_BASE_URL
WRANGLER="$CT_BASE_URL"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DPORT=$(free_port); BPORT=$(free_port)
setsid node scripts/direct.mjs "$CT_STATE_DIR/direct" "$DPORT" "$CT_STATE_DIR/test.env" >"$CT_STATE_DIR/direct.log" 2>&1 &
DPID=$!
setsid python3 -m uvicorn boaviztapi.main:app --host 127.0.0.1 --port "$BPORT" --workers 1 --log-level warning \
  >"$CT_STATE_DIR/boavizta.log" 2>&1 &
BPID=$!
cleanup() { kill -- "-$DPID" "-$BPID" 2>/dev/null || true; stop_test_server; }
trap cleanup EXIT
DIRECT="http://127.0.0.1:$DPORT"; BOA="http://127.0.0.1:$BPORT"
# The direct server answers /health before its D1 migrations are applied: wait for its line.
for _ in $(seq 1 120); do grep -q "^serving on" "$CT_STATE_DIR/direct.log" && break; sleep 0.5; done
for url in "$DIRECT/api/v1/health" "$BOA/v1/utils/version"; do
  for _ in $(seq 1 120); do curl -fsS "$url" >/dev/null 2>&1 && break; sleep 0.5; done
  curl -fsS "$url" >/dev/null || { log "not serving: $url"; tail -20 "$CT_STATE_DIR"/*.log; exit 1; }
done

DUR="${BENCH_SECONDS:-10}"
B="$CT_STATE_DIR/bench"; mkdir -p "$B"
# An internal-plan key on each of our servers: unlimited but metered, so the auth gate, the
# key cache and the rate-limit leases are on the measured path.
key() { curl -fsS -X POST "$1/api/v1/admin/keys" -H "Authorization: Bearer $CT_ADMIN_TOKEN" \
  -H 'Content-Type: application/json' -d '{"org":"bench","plan":"internal"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])'; }
KEY_DIRECT=$(key "$DIRECT"); KEY_WRANGLER=$(key "$WRANGLER")
python3 - "$B" <<'PY'
import json, sys
d = sys.argv[1]
json.dump({"product": {"id": "dell--latitude-5420"}}, open(f"{d}/catalogue.json", "w"))
json.dump({"category": "laptop", "product": {"brand": "Dell"}, "specs": {"screen_size_in": 14, "weight_kg": 1.4, "release_year": 2022},
           "use": {"country": "DE", "lifetime_years": 4, "yearly_kwh": 20}}, open(f"{d}/model.json", "w"))
cat = json.load(open("factors/catalogue.json"))["products"]
for n in (100, 1000):
    devs = [{"product": {"id": p["id"]}} if i % 2 == 0 else {"category": p["category"], "product": {"brand": p["brand"]}, "use": {"country": "FR"}}
            for i, p in enumerate((cat * 2)[:n])]
    json.dump({"devices": devs}, open(f"{d}/batch{n}.json", "w"))
# Boavizta's closest request: a laptop, its own defaults, used in Germany for 4 years.
json.dump({"usage": {"usage_location": "DEU", "use_time_ratio": 1, "hours_life_time": 35040}}, open(f"{d}/boavizta.json", "w"))
PY

# The fleet inventory: the bench organisation's 10,000 assets on both servers (imported 1,000
# rows a call, as a customer would), and a second organisation's 100,000 on workerd directly.
python3 - "$B" <<'PY'
import sys
d = sys.argv[1]
cats = ["laptop", "desktop", "monitor", "smartphone"]
countries = ["FR", "DE", "US", "PL", "SE"]
for f in range(100):
    with open(f"{d}/assets{f:03}.csv", "w") as out:
        out.write("serial,category,purchase_date,country,retired_date\n")
        for i in range(1000):
            n = f * 1000 + i
            retired = f"2025-{n % 12 + 1:02}-15" if n % 5 == 0 else ""
            out.write(f"B-{n:06},{cats[n % 4]},{2022 + n % 3}-{n % 12 + 1:02}-01,{countries[n % 5]},{retired}\n")
PY
seed() { # BASE KEY FILES…
  local base=$1 key=$2; shift 2
  for f in "$@"; do
    curl -fsS -X POST "$base/api/v1/assets/import" -H "Authorization: Bearer $key" -H 'Content-Type: text/csv' \
      --data-binary "@$f" >/dev/null || { log "seeding $f failed"; exit 1; }
  done
}
log "seeding 10,000 assets on each server (ten synchronous imports of 1,000)"
seed "$DIRECT" "$KEY_DIRECT" "$B"/assets00[0-9].csv
seed "$WRANGLER" "$KEY_WRANGLER" "$B"/assets00[0-9].csv

# The 100,000-asset organisation: one 100,000-row CSV (4.3 MB), imported as a job on workerd
# directly, timed from the POST to `done`, with the peak resident memory of workerd's processes.
{ echo "serial,category,purchase_date,country,retired_date"; for f in "$B"/assets*.csv; do tail -n +2 "$f"; done; } >"$B/all.csv"
KEY_100K=$(curl -fsS -X POST "$DIRECT/api/v1/admin/keys" -H "Authorization: Bearer $CT_ADMIN_TOKEN" \
  -H 'Content-Type: application/json' -d '{"org":"bench-100k","plan":"internal"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
peak_kb() { local m=0 p v; for p in $(pgrep -g "$DPID"); do v=$(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0); [ "${v:-0}" -gt "$m" ] && m=$v; done; echo "$m"; }
t0=$(date +%s.%N)
IMPORT_ID=$(curl -fsS -X POST "$DIRECT/api/v1/assets/import" -H "Authorization: Bearer $KEY_100K" -H 'Content-Type: text/csv' \
  --data-binary "@$B/all.csv" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
t_accepted=$(date +%s.%N)
for _ in $(seq 1 1800); do
  IMPORT=$(curl -fsS "$DIRECT/api/v1/assets/import/$IMPORT_ID" -H "Authorization: Bearer $KEY_100K")
  case "$IMPORT" in *'"status":"done"'*|*'"status":"failed"'*) break ;; esac
  sleep 1
done
t1=$(date +%s.%N)
WASM=$(grep -o "inventory_imports $IMPORT_ID: [0-9]* rows, wasm memory [0-9]* bytes" "$CT_STATE_DIR/direct.log" | awk '{print $(NF-1)}' | tail -1)
IMPORT_LINE=$(python3 - "$IMPORT" "$t0" "$t_accepted" "$t1" "$(peak_kb)" "${WASM:-0}" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); t0, ta, t1, kb, wasm = map(float, sys.argv[2:])
print(f"| POST /assets/import, one 100,000-row CSV (a job), workerd direct | {r['status']}: {r.get('created')} created, "
      f"{r.get('errors_total')} errors | 202 in {(ta - t0) * 1000:.0f} ms, done in {t1 - t0:.1f} s | "
      f"the isolate's wasm memory {wasm / 1048576:.0f} MiB; peak RSS of workerd's processes {kb / 1024:.0f} MiB |")
PY
)
echo
echo "| Import | Result | Time | Memory |"
echo "|---|---|---|---|"
echo "$IMPORT_LINE"
[[ "$IMPORT" == *'"status":"done"'* ]] || { log "the 100,000-row import did not finish: $IMPORT"; exit 1; }

# CPU seconds (user + system) spent so far by a process group's processes.
cpu_of() { # pids…
  local t=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$t"
}
group_pids() { pgrep -g "$1" | tr '\n' ' '; }
TICKS=$(getconf CLK_TCK)
WPGID=$(ps -o pgid= "$CT_WRANGLER_PID" | tr -d ' ')

# measure LABEL TARGET(direct|wrangler|boavizta) CONNECTIONS hey-args… URL
measure() {
  local label=$1 target=$2 c=$3; shift 3
  local pg out="$B/$(echo "$label-$target-$c" | tr -c 'a-zA-Z0-9\n-' '_').txt"
  case $target in direct) pg=$DPID ;; wrangler) pg=$WPGID ;; boavizta) pg=$BPID ;; esac
  local pids; pids=$(group_pids "$pg")
  local before; before=$(cpu_of $pids)
  if [ "$c" = 1 ]; then hey -n "${BENCH_SEQUENTIAL:-400}" -c 1 "$@" >"$out"; else hey -z "${DUR}s" -c "$c" "$@" >"$out"; fi
  local after; after=$(cpu_of $pids)
  local n; n=$(awk '/\[200\]|\[201\]/ {s += $2} END {print s + 0}' "$out")
  local rps p50 p99 cpu
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$out")
  p50=$(awk '/ 50%/ {printf "%.1f", $3 * 1000}' "$out")
  p99=$(awk '/ 99%/ {printf "%.1f", $3 * 1000}' "$out")
  cpu=$(python3 -c "print(f'{($after - $before) / $TICKS / max($n, 1) * 1000:.2f}')")
  printf '%s|%s|%s|%s|%s\n' "$rps" "$p50" "$p99" "$cpu" "$n"
}

# One table row: an endpoint on both of our servers. BODY: a JSON file to POST (or empty);
# KEYED: send the server's metered key.
row() { # LABEL CONNECTIONS PATH [BODY] [KEYED]
  local label=$1 c=$2 path=$3 body=${4:-} keyed=${5:-} cells="" target base key
  [[ "$label" == "GET /health" || "$label" =~ ${BENCH_ONLY:-.} ]] || return 0
  for target in direct wrangler; do
    if [ "$target" = direct ]; then base=$DIRECT key=$KEY_DIRECT; else base=$WRANGLER key=$KEY_WRANGLER; fi
    local args=()
    [ -n "$body" ] && args+=(-m POST -T application/json -D "$body")
    [ -n "$keyed" ] && args+=(-H "Authorization: Bearer $key")
    IFS='|' read -r rps p50 p99 cpu _ <<<"$(measure "$label" "$target" "$c" "${args[@]}" "$base$path")"
    cells+=" $rps | $p50 / $p99 | $cpu |"
  done
  echo "| $label |$cells"
}

for c in 16 1; do
  echo
  echo "| $( [ "$c" = 1 ] && echo "one sequential client" || echo "${DUR}s, 16 connections" ) | direct req/s | direct p50 / p99 ms | direct CPU ms/req | wrangler dev req/s | wrangler p50 / p99 ms | wrangler CPU ms/req |"
  echo "|---|---|---|---|---|---|---|"
  row "GET /health" "$c" /api/v1/health
  row "POST /footprint, catalogue, metered key" "$c" /api/v1/footprint "$B/catalogue.json" keyed
  row "POST /footprint, model, metered key" "$c" /api/v1/footprint "$B/model.json" keyed
  row "POST /footprint/batch, 100 devices" "$c" /api/v1/footprint/batch "$B/batch100.json" keyed
  row "POST /footprint/batch, 1,000 devices" "$c" /api/v1/footprint/batch "$B/batch1000.json" keyed
  row "GET /products/search (typo), metered key" "$c" "/api/v1/products/search?q=lattitude%205420" "" keyed
  row "GET /reference/countries" "$c" /api/v1/reference/countries
  row "GET /odata/Calculations page (audited, signed proof)" "$c" "/api/v1/odata/Calculations?\$top=100" "" keyed
  row "GET /inventory?year=2024, 10,000 assets" "$c" "/api/v1/inventory?year=2024" "" keyed
  if [[ "GET /inventory?year=2024, 100,000 assets" =~ ${BENCH_ONLY:-.} ]]; then
    IFS='|' read -r rps p50 p99 cpu _ <<<"$(BENCH_SEQUENTIAL=10 measure inventory100k direct "$c" -H "Authorization: Bearer $KEY_100K" "$DIRECT/api/v1/inventory?year=2024")"
    echo "| GET /inventory?year=2024, 100,000 assets (workerd direct only) | $rps | $p50 / $p99 | $cpu | | | |"
  fi
  IFS='|' read -r rps p50 p99 cpu _ <<<"$(measure boavizta boavizta "$c" -m POST -T application/json -D "$B/boavizta.json" "$BOA/v1/terminal/laptop")"
  echo "| Boavizta API 2.5, POST /v1/terminal/laptop (1 uvicorn worker) | $rps | $p50 / $p99 | $cpu | | | |"
done
