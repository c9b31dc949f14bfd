#!/usr/bin/env bash
# Build the worker (wasm + JS glue into build/). wrangler runs this as its [build] command, so it
# sets the tool locations itself: worker-build would otherwise try to download them from GitHub.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$HOME/.cargo/bin/wasm-bindgen}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/.bin/esbuild}"
worker-build --release "$@"
# worker-build passes --debuginfo to wasm-opt, which keeps ~120 KB of function names in the
# release wasm. Nobody reads them in production; drop them (the code itself is untouched).
"$WASM_OPT_BIN" --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue --strip-debug --strip-producers build/index_bg.wasm -o build/index_bg.wasm
