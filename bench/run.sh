#!/usr/bin/env bash
# One command for the benchmarks: prints a table and writes BENCHMARKS.md, bench/chart.svg and
# bench/results.json. Installs what it needs (wrk from Debian, hono + zod from npm via the committed
# lock file, the native PBKDF2 bench from crates.io) and builds users-edge if build/ is missing.
#   bash bench/run.sh                 # full run, about 5 minutes on 2 cores
#   BENCH_QUICK=1 bash bench/run.sh   # smoke run of every step (about 1 minute), writes nothing
#   BENCH_SOAK=0 bash bench/run.sh    # everything but the change feed soak (its section is kept)
#   BENCH_REPORT_ONLY=1 node bench/bench.mjs   # re-render BENCHMARKS.md + chart from bench/results.json
#   BENCH_BEFORE=/tmp/ue-before/build bash bench/run.sh   # also benchmark an earlier build ("before"), e.g.
#       git worktree add /tmp/ue-before <commit> && (cd /tmp/ue-before && npm ci && bash scripts/build.sh)
# Loopback only: every server listens on 127.0.0.1 and wrk targets only those.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false CI="${CI:-true}"
step() { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }

if ! command -v wrk >/dev/null 2>&1; then
  step "installing wrk (apt)"
  if ! apt-get install -y wrk >/dev/null 2>&1; then
    apt-get update >/dev/null
    apt-get install -y wrk >/dev/null
  fi
fi

if [ ! -f node_modules/.package-lock.json ]; then
  step "root npm ci (wrangler, miniflare)"
  bash scripts/setup.sh
fi
if [ ! -f build/index.js ] || [ ! -f build/index_bg.wasm ]; then
  step "building users-edge (release)"
  bash scripts/build.sh
fi

if [ ! -f bench/node_modules/.package-lock.json ] || ! cmp -s bench/package-lock.json bench/node_modules/.bench-stamp; then
  step "npm ci --prefix bench (hono, zod)"
  npm ci --prefix bench --no-audit --no-fund --loglevel=error
  cp bench/package-lock.json bench/node_modules/.bench-stamp
fi

step "bundling the peer with wrangler (esbuild)"
rm -rf bench/.out/peer
npx --no-install wrangler deploy --dry-run --outdir "$PWD/bench/.out/peer" -c bench/peer/wrangler.toml >bench/.out-peer-build.log 2>&1 \
  || { cat bench/.out-peer-build.log >&2; exit 1; }
rm -f bench/.out-peer-build.log

step "building the native PBKDF2 bench (as is, and with portable SHA-256)"
cargo build --quiet --release --locked --manifest-path bench/pbkdf2-native/Cargo.toml
RUSTFLAGS='--cfg sha2_backend="soft"' cargo build --quiet --release --locked --manifest-path bench/pbkdf2-native/Cargo.toml \
  --target-dir bench/pbkdf2-native/target/soft

step "building the native pipeline timer (users-edge's Rust with canned KV/D1 answers)"
cargo build --quiet --release --manifest-path bench/pipeline-native/Cargo.toml

step "running (see bench/bench.mjs for what and how)"
if [ "${BENCH_QUICK:-0}" = "1" ]; then export BENCH_NO_WRITE="${BENCH_NO_WRITE:-1}"; fi
node bench/bench.mjs
# The change feed's soak (issue 12), where the branch that adds it has landed.
if [ -f bench/soak.mjs ] && [ "${BENCH_SOAK:-1}" = 1 ]; then
  step "feed soak (bench/soak.mjs)"
  node bench/soak.mjs
fi
