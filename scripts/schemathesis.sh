#!/usr/bin/env bash
# Property-based API tests: schemathesis, every check, against the real worker under `wrangler dev`
# (local D1 + KV in a fresh temporary folder), three times: as a regular user's API key, as an org
# admin's API key, and as the operator token (in that order: see the runs below). Exits non-zero if
# any run reports a failure.
#
# Needs scripts/setup.sh to have run. Independent of .dev.vars and .state: the operator token is
# made up here and passed with --var, and the state folder is new and removed afterwards.
# Knobs (environment): PORT (default: a free one), MAX_EXAMPLES (per operation, default 50),
# SEED (schemathesis --seed, default random and printed), REPORT_DIR (default target/schemathesis:
# junit reports, the wrangler log, and <run>.filtered.tsv listing every failure hooks.py dropped),
# KEEP_STATE=1 (keep the D1/KV folder for inspection), INCLUDE_PATH_REGEX (only the operations whose
# path matches, e.g. '^/scim/v2' while iterating on one API; default all of them).
#
# What is configured, and why, is in tests/schemathesis/schemathesis.toml (a 412 for a stale
# If-Match counts as an acceptable answer; no generated junk credentials next to the real ones),
# tests/schemathesis/hooks.py (well-formed requests that are rightly refused: a taken email in
# HiEnergy's 422 / Konstantly's 400, a ZITADEL proof that can't be guessed or a stale If-Match,
# an Upsun id an inferred link filled with an integer, a listing cursor the server never gave out
# or the operator's listing without its org, a SCIM filter that does not parse, a SCIM email or
# primary flag that depends on the other values, a SCIM value filter that matches nothing; a
# deleted user's audit trail that stays readable; the admin run never deleting, deactivating or
# demoting itself, in the examples phase too) and tests/schemathesis/seed.mjs
# (fixed UUIDs for the demo users, users to spare for the lifecycle operations, the document's
# path examples). No check is disabled.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export CI=true WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false

ST="$ROOT/.venv/bin/schemathesis"
if [ ! -x "$ST" ] || [ ! -d node_modules/wrangler ]; then
  echo "schemathesis.sh: run scripts/setup.sh first" >&2
  exit 2
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT="${PORT:-$(free_port)}"
BASE="http://127.0.0.1:$PORT"
MAX_EXAMPLES="${MAX_EXAMPLES:-50}"
SEED="${SEED:-$(python3 -c 'import secrets; print(secrets.randbits(64))')}"
REPORT_DIR="${REPORT_DIR:-$ROOT/target/schemathesis}"
STATE="$(mktemp -d "${TMPDIR:-/tmp}/users-edge-schemathesis.XXXXXX")"
OPERATOR_TOKEN="op_$(node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("base64url"))')"
mkdir -p "$REPORT_DIR"
rm -f "$REPORT_DIR"/*.xml "$REPORT_DIR"/*.filtered.tsv "$REPORT_DIR"/wrangler.log

step() { printf '\033[1m[schemathesis]\033[0m %s\n' "$*"; }

WRANGLER_PID=""
cleanup() {
  local rc=$?
  if [ -n "$WRANGLER_PID" ] && kill -0 "$WRANGLER_PID" 2>/dev/null; then
    # wrangler was started in its own session (setsid): stop it and its workerd children together.
    kill -TERM -- "-$WRANGLER_PID" 2>/dev/null || kill -TERM "$WRANGLER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$WRANGLER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$WRANGLER_PID" 2>/dev/null || true
  fi
  [ -f "$STATE/wrangler.log" ] && cp "$STATE/wrangler.log" "$REPORT_DIR/wrangler.log"
  if [ "${KEEP_STATE:-0}" = 1 ]; then
    step "state kept in $STATE"
  else
    rm -rf "$STATE"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "local D1 in $STATE: migrations, demo org, API keys"
npx wrangler d1 migrations apply DB --local --persist-to "$STATE" > "$STATE/migrations.log" 2>&1 \
  || { cat "$STATE/migrations.log" >&2; exit 1; }
node tests/schemathesis/seed.mjs "$STATE"
ADMIN_KEY="$(node -p "require('$STATE/schemathesis-keys.json').admin.key")"
ADMIN_USER_ID="$(node -p "require('$STATE/schemathesis-keys.json').admin.user_id")"
ADMIN_USER_UUID="$(node -p "require('$STATE/schemathesis-keys.json').admin.user_uuid")"
ADMIN_KEY_ID="$(node -p "require('$STATE/schemathesis-keys.json').admin.key_id")"
USER_KEY="$(node -p "require('$STATE/schemathesis-keys.json').user.key")"
USER_UUID="$(node -p "require('$STATE/schemathesis-keys.json').user.user_uuid")"

step "wrangler dev on $BASE (builds the worker first)"
# PBKDF2_ITERATIONS: new passwords are hashed in the wasm at 600,000 rounds in production; here
# they are hashed at 1,000 so that the hundreds of generated password changes finish in time.
setsid npx wrangler dev --ip 127.0.0.1 --port "$PORT" --persist-to "$STATE" \
  --var "ADMIN_TOKEN:$OPERATOR_TOKEN" --var "PBKDF2_ITERATIONS:1000" \
  --show-interactive-dev-session=false > "$STATE/wrangler.log" 2>&1 < /dev/null &
WRANGLER_PID=$!

ready=""
for _ in $(seq 600); do
  if ! kill -0 "$WRANGLER_PID" 2>/dev/null; then
    echo "schemathesis.sh: wrangler dev exited:" >&2
    tail -40 "$STATE/wrangler.log" >&2
    exit 1
  fi
  if curl -fsS -o "$STATE/served-openapi.json" "$BASE/openapi.json" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "schemathesis.sh: wrangler dev not ready after 300 s:" >&2
  tail -40 "$STATE/wrangler.log" >&2
  exit 1
fi
# Same JSON, not the same bytes: the worker serves the document compacted (build.rs).
if ! node -e 'const f=require("fs");const a=JSON.parse(f.readFileSync(process.argv[1]));const b=JSON.parse(f.readFileSync(process.argv[2]));process.exit(require("util").isDeepStrictEqual(a,b)?0:1)' "$STATE/served-openapi.json" openapi.json; then
  echo "schemathesis.sh: the worker serves a different openapi.json than the one in the repository (stale build?)" >&2
  exit 1
fi

# Each credential must work before it is used: a run whose every request is a 401 only warns.
preflight() {
  local what="$1" path="$2" header="$3" code
  code="$(curl -s -o /dev/null -w '%{http_code}' -H "$header" "$BASE$path")"
  if [ "$code" != 200 ]; then
    echo "schemathesis.sh: $what: GET $path answered $code, not 200" >&2
    exit 1
  fi
}
preflight "admin key" /api/v1/users/2 "X-Api-Key: $ADMIN_KEY"
preflight "user key" /api/v1/users/2 "X-Api-Key: $USER_KEY"
preflight "operator token" /admin/v1/users/1 "Authorization: Bearer $OPERATOR_TOKEN"
# The fixture UUID the document's path examples name (ZITADEL, Upsun, Konstantly) is the user's.
preflight "user key by UUID" "/users/$USER_UUID" "Authorization: Bearer $USER_KEY"

export SCHEMATHESIS_HOOKS="$ROOT/tests/schemathesis/hooks.py"
failed=()
only=()
if [ -n "${INCLUDE_PATH_REGEX:-}" ]; then
  only=(--include-path-regex "$INCLUDE_PATH_REGEX")
fi
run() {
  local name="$1"
  shift
  step "run '$name': all checks, all phases, $MAX_EXAMPLES examples per operation, seed $SEED${INCLUDE_PATH_REGEX:+, paths matching $INCLUDE_PATH_REGEX}"
  if SCHEMATHESIS_FILTERED_LOG="$REPORT_DIR/$name.filtered.tsv" "$ST" --config-file "$ROOT/tests/schemathesis/schemathesis.toml" run "$BASE/openapi.json" \
    --checks all \
    --phases examples,coverage,fuzzing,stateful \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --generation-database none \
    --request-timeout 30 \
    --report junit --report-junit-path "$REPORT_DIR/$name.xml" \
    "${only[@]}" "$@"; then
    step "run '$name': passed"
  else
    step "run '$name': FAILED"
    failed+=("$name")
  fi
}

# The order matters: the operator API deletes and deactivates users, and each run may do it to
# every user its credential reaches. The user key changes nothing but its own user's profile, so
# it goes first, while uma (its user) is certainly alive and active. The admin key then may delete
# or deactivate anyone in the demo org, uma included, but not its own user (by id, or by UUID
# through SCIM) nor revoke its own key (hooks.py's filter_case, told who it is here): losing them
# would turn the rest of the run into 401s that test nothing. The operator token, which no request can revoke, goes last; the fixture
# keeps users in a second org for it (tests/schemathesis/seed.mjs).
run user-key -H "X-Api-Key: $USER_KEY"
SCHEMATHESIS_OWN_USER_ID="$ADMIN_USER_ID" SCHEMATHESIS_OWN_USER_UUID="$ADMIN_USER_UUID" \
  SCHEMATHESIS_OWN_KEY_ID="$ADMIN_KEY_ID" run admin-key -H "X-Api-Key: $ADMIN_KEY"
run operator-token -H "Authorization: Bearer $OPERATOR_TOKEN"

if grep -q "Uncaught\|hung" "$STATE/wrangler.log"; then
  echo "schemathesis.sh: the worker threw or hung during the runs (see $REPORT_DIR/wrangler.log)" >&2
  failed+=("worker-log")
fi

if [ "${#failed[@]}" -gt 0 ]; then
  step "FAILED: ${failed[*]}"
  exit 1
fi
step "all three runs passed"
