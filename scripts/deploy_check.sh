#!/usr/bin/env bash
# A deploy that is proven without a Cloudflare account: `wrangler deploy --dry-run` bundles
# the built worker exactly as a deploy would (no network), then this checks
#   - the upload fits: gzip ≤ 1 MiB (our budget: the strictest plan limit Cloudflare has had;
#     today's are 3 MB free / 10 MB paid after compression), and its wasm is in the bundle;
#   - every binding, var, queue and Durable Object class wrangler.toml declares is used by the
#     code (a binding nobody reads is configuration drift), and every binding the code names
#     is declared.
# Called by scripts/test.sh after the build; `bash scripts/deploy_check.sh` alone needs build/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$CARBONTRACE_ROOT"
out="$(mktemp -d /tmp/carbontrace-dryrun.XXXXXX)"
trap 'rm -rf "$out"' EXIT
wrangler deploy --dry-run --outdir "$out" >"$out.log" 2>&1 || { cat "$out.log"; exit 1; }
python3 - "$out" "$out.log" <<'PY'
import pathlib, re, sys, tomllib
out, log = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]).read_text()
m = re.search(r"Total Upload: ([\d.]+) KiB / gzip: ([\d.]+) KiB", log)
assert m, "wrangler printed no upload size:\n" + log
raw, gz = float(m.group(1)), float(m.group(2))
assert list(out.glob("*.wasm")), "no wasm module in the dry-run bundle"
assert gz <= 1024, f"bundle {gz:.0f} KiB gzip: over the 1 MiB budget"

cfg = tomllib.loads(pathlib.Path("wrangler.toml").read_text())
declared = {}
for kv in cfg.get("kv_namespaces", []): declared[kv["binding"]] = "KV namespace"
for db in cfg.get("d1_databases", []): declared[db["binding"]] = "D1 database"
for r2 in cfg.get("r2_buckets", []): declared[r2["binding"]] = "R2 bucket"
for q in cfg.get("queues", {}).get("producers", []): declared[q["binding"]] = "queue producer"
for do in cfg.get("durable_objects", {}).get("bindings", []): declared[do["name"]] = "Durable Object"
for var in cfg.get("vars", {}): declared[var] = "var"
code = "\n".join(p.read_text() for p in pathlib.Path("src").rglob("*.rs"))
unused = [f"{name} ({kind})" for name, kind in declared.items() if f'"{name}"' not in code]
assert not unused, f"declared in wrangler.toml, never used by the code: {unused}"
# Durable Object classes and queues: exported / consumed by the code.
for do in cfg.get("durable_objects", {}).get("bindings", []):
    assert re.search(rf"pub struct {do['class_name']}\b", code), f"no Durable Object class {do['class_name']}"
for c in cfg.get("queues", {}).get("consumers", []):
    assert f'"{c["queue"]}"' in code or c["queue"] in {q["queue"] for q in cfg["queues"]["producers"]}, c
    if "dead_letter_queue" in c:
        assert f'"{c["dead_letter_queue"]}"' in code, f"dead-letter queue {c['dead_letter_queue']} not consumed"
# Binding names the code reads must be declared (bindings.rs holds them all).
names = re.findall(r'pub const ([A-Z_]+): &str = "([A-Z_]+)";', pathlib.Path("src/edge/bindings.rs").read_text())
secrets = {"ADMIN_TOKEN"}
# Optional by design: the console's mail binding and sender, which a production deploy adds
# (wrangler.toml says how); unset, the links go to the log (src/edge/mail.rs).
optional = {"MAIL", "MAIL_FROM"}
missing = [v for _, v in names if v not in declared and v not in secrets and v not in optional]
assert not missing, f"bindings the code reads but wrangler.toml does not declare: {missing}"
print(f"deploy dry-run: {raw:.0f} KiB, {gz:.0f} KiB gzip (budget 1,024); {len(declared)} bindings and vars, all used")
PY
