#!/usr/bin/env bash
# Local development: migrations on local D1, a seeded demo org with printed keys, `wrangler dev`.
# Knobs (environment): PORT (default 8787), PERSIST (the local state folder, default .state).
# tests/worker/dev.test.mjs runs this script as `make dev` does and uses what it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-true}" WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
PERSIST="${PERSIST:-.state}"
PORT="${PORT:-8787}"

secret() { node -e 'console.log(require("crypto").randomBytes(24).toString("base64url"))'; }
[ -f .dev.vars ] || touch .dev.vars
grep -q '^ADMIN_TOKEN=' .dev.vars || echo "ADMIN_TOKEN=\"$(secret)\"" >> .dev.vars
# Verification codes are derived from their event under CODE_SECRET, so webhooks can carry them.
grep -q '^CODE_SECRET=' .dev.vars || echo "CODE_SECRET=\"$(secret)\"" >> .dev.vars
npx wrangler d1 migrations apply DB --local --persist-to "$PERSIST" > /dev/null
PORT="$PORT" node scripts/seed-demo.mjs "$PERSIST"
echo "  Operator token (ADMIN_TOKEN, from .dev.vars): $(sed -n 's/^ADMIN_TOKEN="\(.*\)"$/\1/p' .dev.vars)"
echo
echo "  Webhooks may point at http://localhost here (ALLOW_HTTP_WEBHOOKS=true); the Cron sweep runs"
echo "  on wrangler's schedule, or at once with: curl 'http://127.0.0.1:$PORT/__scheduled?cron=*+*+*+*+*'"
echo
exec npx wrangler dev --ip 127.0.0.1 --port "$PORT" --persist-to "$PERSIST" --var ALLOW_HTTP_WEBHOOKS:true --test-scheduled
