#!/usr/bin/env bash
# Build the worker into build/: the wasm (index_bg.wasm), its JavaScript host bundled with the
# wasm-bindgen glue (index.js), and the static assets served in front of it (assets/). wrangler
# runs this as its [build] command. No worker-build: the shell has its own host (src/edge/worker.mjs).
#   bash scripts/build.sh          release build (what is deployed, tested and benchmarked)
#   WASM_OPT=0 bash scripts/build.sh   skip wasm-opt (faster, larger; for quick iteration)
#   FORCE=1 bash scripts/build.sh      rebuild build/ even when its inputs are unchanged
#   BUILD_DIR=/tmp/named KEEP_NAMES=1 bash scripts/build.sh   the same build elsewhere, its functions
#       named (the bench's table of the code a request touches, bench/touched.mjs)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$HOME/.cargo/bin/wasm-bindgen}"
WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/node_modules/.bin/wasm-opt}"
ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/.bin/esbuild}"
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
OUT="${BUILD_DIR:-build}"
STRIP_NAMES=(--remove-name-section)
KEEP_NAMES_OPT=()
if [ "${KEEP_NAMES:-0}" = 1 ]; then STRIP_NAMES=(); KEEP_NAMES_OPT=(-g); fi

cargo build --release --target wasm32-unknown-unknown --lib --locked
# Nothing to do when $OUT was built from these very inputs: `wrangler dev` runs this command twice
# as it starts (once for the entry, once more when its file watcher is ready), and the steps
# below take about 15 s. The tools' versions count as inputs too. FORCE=1 rebuilds anyway.
INPUTS="$( { sha256sum "$TARGET_DIR/wasm32-unknown-unknown/release/users_edge.wasm" src/edge/worker.mjs openapi.json \
  scripts/build.sh | cut -d' ' -f1; echo "WASM_OPT=${WASM_OPT:-1} KEEP_NAMES=${KEEP_NAMES:-0}"
  "$WASM_BINDGEN_BIN" --version; "$ESBUILD_BIN" --version
  if [ "${WASM_OPT:-1}" = 1 ]; then "$WASM_OPT_BIN" --version; fi; } | sha256sum | cut -d' ' -f1)"
if [ "${FORCE:-0}" != 1 ] && [ -f "$OUT/.inputs" ] && [ "$(cat "$OUT/.inputs")" = "$INPUTS" ] \
  && [ -f "$OUT/index.js" ] && [ -f "$OUT/index_bg.wasm" ] && [ -f "$OUT/assets/openapi.json" ]; then
  echo "$OUT/ is current (built from the same wasm, host, openapi.json and script)"
  exit 0
fi
rm -rf "$OUT"
mkdir -p "$OUT/bindgen" "$OUT/assets"
"$WASM_BINDGEN_BIN" --target web --omit-default-module-path --no-typescript --experimental-reset-state-function \
  "${STRIP_NAMES[@]}" --remove-producers-section \
  --out-dir "$OUT/bindgen" --out-name glue "$TARGET_DIR/wasm32-unknown-unknown/release/users_edge.wasm"
if [ "${WASM_OPT:-1}" = 1 ]; then
  # The features are the ones rustc's wasm32 target emits. -Os: the wasm side of a request runs
  # about 12% faster than after -O1 for 8 KB more gzip; -Oz is no smaller than -Os, and rustc's
  # opt-level 2 (30% faster) or "z" (40 KB smaller, 50% slower) cost too much on the other side
  # (BENCHMARKS.md, "Tried").
  "$WASM_OPT_BIN" -Os --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    --enable-reference-types --enable-multivalue --strip-debug --strip-producers "${KEEP_NAMES_OPT[@]}" \
    "$OUT/bindgen/glue_bg.wasm" -o "$OUT/index_bg.wasm"
else
  cp "$OUT/bindgen/glue_bg.wasm" "$OUT/index_bg.wasm"
fi
cp src/edge/worker.mjs "$OUT/worker.mjs"
"$ESBUILD_BIN" "$OUT/worker.mjs" --bundle --format=esm --minify --log-level=warning \
  --external:./index_bg.wasm --outfile="$OUT/index.js"
rm "$OUT/worker.mjs" "$OUT/bindgen/glue_bg.wasm"
# Served by the Workers runtime itself, in front of the Worker ([assets] in wrangler.toml).
node -e 'const f=require("fs");f.writeFileSync(process.argv[2],JSON.stringify(JSON.parse(f.readFileSync(process.argv[1],"utf8"))))' \
  openapi.json "$OUT/assets/openapi.json"
echo "$INPUTS" > "$OUT/.inputs"
