#!/usr/bin/env bash
# Local development: migrations on local D1, a seeded demo org with printed keys, `wrangler dev`.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-true}" WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
PERSIST=.state
PORT="${PORT:-8787}"

if [ ! -f .dev.vars ]; then
  echo "ADMIN_TOKEN=\"$(node -e 'console.log(require("crypto").randomBytes(24).toString("base64url"))')\"" > .dev.vars
fi
npx wrangler d1 migrations apply DB --local --persist-to "$PERSIST" > /dev/null
node scripts/seed-demo.mjs "$PERSIST"
echo "  Operator token (ADMIN_TOKEN, from .dev.vars): $(sed -n 's/^ADMIN_TOKEN="\(.*\)"$/\1/p' .dev.vars)"
echo
exec npx wrangler dev --ip 127.0.0.1 --port "$PORT" --persist-to "$PERSIST"
