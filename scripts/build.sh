#!/usr/bin/env bash
# Build the worker (Rust -> wasm32 -> build/) and print the bundle size.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$CARBONTRACE_ROOT"

log "building the worker (worker-build --release)"
worker-build --release >&2
wasm=build/index_bg.wasm
# worker-build's own wasm-opt pass leaves the module it ships as big as before (measured on
# 2026-12-02: 1,026 KB gzip either way); one -Os pass over the shipped module takes it to 948
# KB, inside the 1 MiB upload budget scripts/deploy_check.sh enforces, in about 16 s.
"$WASM_OPT_BIN" -Os "$wasm" -o "$wasm.opt" && mv "$wasm.opt" "$wasm"
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
log "wasm bundle $wasm: $raw bytes raw, $gz bytes gzip ($(( gz / 1024 )) KiB)"

# The docs site, served as Workers static assets (wrangler.toml [assets]): the pages of
# docs/site and the vendored Swagger UI (npm swagger-ui-dist, pinned in package-lock.json),
# so nothing is loaded from a CDN at view time.
rm -rf build/assets
mkdir -p build/assets/docs/vendor
cp -R docs/site/. build/assets/
for f in swagger-ui-bundle.js swagger-ui.css favicon-32x32.png LICENSE NOTICE; do
  cp "node_modules/swagger-ui-dist/$f" build/assets/docs/vendor/
done
# The OpenAPI document is a static asset too (src/api/openapi.rs says why).
mkdir -p build/assets/api/v1
cp src/api/openapi.json build/assets/api/v1/openapi.json
log "docs site: $(find build/assets -type f | wc -l) files in build/assets"

# The console (/console/, a single-page app: keys, usage, certificates, reports, inventory,
# members, account): TypeScript + Preact + uPlot in console/src, typed against the OpenAPI
# document (openapi-typescript -> target/console/schema.d.ts), type-checked with tsc, then
# bundled and minified by the pinned esbuild into build/assets/console/ (index.html, app.js,
# app.css; no source maps; the bundled libraries' licences beside them, since the minified
# bundle drops comments). Its security headers (CSP…) are in docs/site/_headers.
mkdir -p target/console build/assets/console
openapi-typescript src/api/openapi.json -o target/console/schema.d.ts >&2
tsc -p console/tsconfig.json >&2
"$ESBUILD_BIN" console/src/main.tsx --bundle --minify --format=esm --target=es2022 \
  --jsx=automatic --jsx-import-source=preact --legal-comments=none --log-level=warning \
  --outfile=build/assets/console/app.js >&2
cp console/index.html build/assets/console/index.html
for lib in preact uplot openapi-fetch; do cp "node_modules/$lib/LICENSE" "build/assets/console/LICENSE-$lib.txt"; done
for f in app.js app.css; do
  log "console $f: $(stat -c %s "build/assets/console/$f") bytes raw, $(gzip -9 -c "build/assets/console/$f" | wc -c) bytes gzip"
done
