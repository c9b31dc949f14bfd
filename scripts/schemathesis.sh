#!/usr/bin/env bash
# Property-based API tests: schemathesis, every check, against the real worker under `wrangler dev`,
# three times: as a regular user's API key, as an org admin's API key, and as the operator token.
# The three runs go at the same time, each against a `wrangler dev` of its own over its own copy of
# one fresh local D1/KV fixture, so that no run sees what another changed (the admin key and the
# operator token delete and deactivate users). Exits non-zero if any run reports a failure.
#
# Needs scripts/setup.sh to have run. Independent of .dev.vars and .state: the operator token is
# made up here and passed with --var, and the state folders are new and removed afterwards.
# Knobs (environment): MAX_EXAMPLES (per operation, default 50), SEED (schemathesis --seed, default
# random and printed), RUNS (which of user-key, admin-key, operator-token to run; default all three),
# REPORT_DIR (default target/schemathesis: per run, its output <run>.log, its junit report <run>.xml,
# its wrangler log <run>.wrangler.log and <run>.filtered.tsv listing every failure hooks.py dropped),
# KEEP_STATE=1 (keep the D1/KV folders for inspection), INCLUDE_PATH_REGEX (only the operations whose
# path matches, e.g. '^/scim/v2' while iterating on one API; default all of them).
#
# What is configured, and why, is in tests/schemathesis/schemathesis.toml (a 412 for a stale
# If-Match counts as an acceptable answer; no generated junk credentials next to the real ones),
# tests/schemathesis/hooks.py (well-formed requests that are rightly refused: a taken email in
# HiEnergy's 422 / Konstantly's 400, a ZITADEL proof that can't be guessed or a stale If-Match,
# an Upsun id an inferred link filled with an integer, a listing cursor the server never gave out
# or the operator's listing (of users, keys, feed events or webhooks, or a new webhook) without
# its org, a webhook URL the endpoint rules refuse (a host that is not public, say), a SCIM
# filter that does not parse, a SCIM email or primary flag that depends on the other values, a
# SCIM value filter that matches nothing; a body of only white space, which reads as `{}`; a deleted
# user's audit trail that stays readable; the
# admin run never deleting, deactivating or demoting itself, in the examples phase too) and
# tests/schemathesis/seed.mjs
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

ALL_RUNS=(user-key admin-key operator-token)
read -r -a RUNS <<< "${RUNS:-${ALL_RUNS[*]}}"
for name in "${RUNS[@]}"; do
  case "$name" in user-key | admin-key | operator-token) ;; *) echo "schemathesis.sh: no run named '$name'" >&2; exit 2 ;; esac
done
MAX_EXAMPLES="${MAX_EXAMPLES:-50}"
SEED="${SEED:-$(python3 -c 'import secrets; print(secrets.randbits(64))')}"
REPORT_DIR="${REPORT_DIR:-$ROOT/target/schemathesis}"
STATE="$(mktemp -d "${TMPDIR:-/tmp}/users-edge-schemathesis.XXXXXX")"
OPERATOR_TOKEN="op_$(node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("base64url"))')"
mkdir -p "$REPORT_DIR"
rm -f "$REPORT_DIR"/*.xml "$REPORT_DIR"/*.filtered.tsv "$REPORT_DIR"/*.log

step() { printf '\033[1m[schemathesis]\033[0m %s\n' "$*"; }

# Two free ports per run, its server's and its inspector's, all bound at once so that no two are
# the same (wrangler's default inspector port, 9229, would be taken by whichever server starts first).
read -r -a PORTS <<< "$(python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(2 * int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "${#RUNS[@]}")"

declare -A SERVER_PID
cleanup() {
  local rc=$? name pid
  for name in "${!SERVER_PID[@]}"; do
    pid="${SERVER_PID[$name]}"
    if kill -0 "$pid" 2>/dev/null; then
      # Each wrangler was started in its own session (setsid): stop it and its workerd children together.
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    [ -f "$STATE/$name/wrangler.log" ] && cp "$STATE/$name/wrangler.log" "$REPORT_DIR/$name.wrangler.log"
  done
  if [ "${KEEP_STATE:-0}" = 1 ]; then
    step "state kept in $STATE"
  else
    rm -rf "$STATE"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "build"
bash scripts/build.sh

step "local D1 fixture: migrations, demo org, API keys (one copy per run)"
npx wrangler d1 migrations apply DB --local --persist-to "$STATE/fixture" > "$STATE/migrations.log" 2>&1 \
  || { cat "$STATE/migrations.log" >&2; exit 1; }
node tests/schemathesis/seed.mjs "$STATE/fixture"
KEYS="$STATE/fixture/schemathesis-keys.json"
ADMIN_KEY="$(node -p "require('$KEYS').admin.key")"
ADMIN_USER_ID="$(node -p "require('$KEYS').admin.user_id")"
ADMIN_USER_UUID="$(node -p "require('$KEYS').admin.user_uuid")"
ADMIN_KEY_ID="$(node -p "require('$KEYS').admin.key_id")"
USER_KEY="$(node -p "require('$KEYS').user.key")"
USER_UUID="$(node -p "require('$KEYS').user.user_uuid")"

# The servers serve the build just made: wrangler.toml without its [build] command, whose
# `rm -rf build` would pull the worker from under the servers already running. Its paths are made
# absolute, since wrangler reads a configuration's paths from the configuration's own folder.
# And they deliver nothing: no consumer of the feed's queue, no Cron sweep. The runs subscribe
# webhooks on whatever public https hosts they draw, and a delivery would POST to them from this
# machine. Delivery is the workerd tests' and the soak's to test (tests/worker/feed.test.mjs,
# bench/soak.mjs); here every request still commits its event and asks the queue for a dispatch.
node --input-type=module -e '
import { experimental_readRawConfig } from "wrangler";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
const { rawConfig: c } = experimental_readRawConfig({ config: "wrangler.toml" });
delete c.build;
delete c.queues.consumers;
delete c.triggers;
c.main = resolve(c.main);
c.assets.directory = resolve(c.assets.directory);
for (const d of c.d1_databases) d.migrations_dir = resolve(d.migrations_dir);
writeFileSync(process.argv[1], JSON.stringify(c, null, 2));
' "$STATE/wrangler.json"

# PBKDF2_ITERATIONS: new passwords are hashed in the wasm at 600,000 rounds in production; here
# they are hashed at 1,000 so that the hundreds of generated password changes finish in time.
declare -A BASE
i=0
for name in "${RUNS[@]}"; do
  cp -a "$STATE/fixture" "$STATE/$name"
  BASE[$name]="http://127.0.0.1:${PORTS[$i]}"
  step "wrangler dev for '$name' on ${BASE[$name]}"
  setsid npx wrangler dev --config "$STATE/wrangler.json" --ip 127.0.0.1 --port "${PORTS[$i]}" \
    --inspector-ip 127.0.0.1 --inspector-port "${PORTS[$((i + 1))]}" --persist-to "$STATE/$name" \
    --var "ADMIN_TOKEN:$OPERATOR_TOKEN" --var "PBKDF2_ITERATIONS:1000" \
    --show-interactive-dev-session=false > "$STATE/$name/wrangler.log" 2>&1 < /dev/null &
  SERVER_PID[$name]=$!
  i=$((i + 2))
done

wait_ready() {
  local name="$1" base="${BASE[$1]}" pid="${SERVER_PID[$1]}"
  for _ in $(seq 600); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "schemathesis.sh: wrangler dev for '$name' exited:" >&2
      tail -40 "$STATE/$name/wrangler.log" >&2
      exit 1
    fi
    if curl -fsS -o "$STATE/$name/served-openapi.json" "$base/openapi.json" 2>/dev/null; then
      # Same JSON, not the same bytes: the worker serves the document compacted (scripts/build.sh).
      if ! node -e 'const f=require("fs");const a=JSON.parse(f.readFileSync(process.argv[1]));const b=JSON.parse(f.readFileSync(process.argv[2]));process.exit(require("util").isDeepStrictEqual(a,b)?0:1)' "$STATE/$name/served-openapi.json" openapi.json; then
        echo "schemathesis.sh: the worker serves a different openapi.json than the one in the repository (stale build?)" >&2
        exit 1
      fi
      return
    fi
    sleep 0.5
  done
  echo "schemathesis.sh: wrangler dev for '$name' not ready after 300 s:" >&2
  tail -40 "$STATE/$name/wrangler.log" >&2
  exit 1
}

# Each credential must work before it is used: a run whose every request is a 401 only warns.
preflight() {
  local name="$1" what="$2" path="$3" header="$4" code
  code="$(curl -s -o /dev/null -w '%{http_code}' -H "$header" "${BASE[$name]}$path")"
  if [ "$code" != 200 ]; then
    echo "schemathesis.sh: $what: GET $path answered $code, not 200" >&2
    exit 1
  fi
}

declare -A HEADER
HEADER[user-key]="X-Api-Key: $USER_KEY"
HEADER[admin-key]="X-Api-Key: $ADMIN_KEY"
HEADER[operator-token]="Authorization: Bearer $OPERATOR_TOKEN"
for name in "${RUNS[@]}"; do
  wait_ready "$name"
  case "$name" in
    user-key)
      preflight "$name" "user key" /api/v1/users/2 "${HEADER[$name]}"
      # The fixture UUID the document's path examples name (ZITADEL, Upsun, Konstantly) is the user's.
      preflight "$name" "user key by UUID" "/users/$USER_UUID" "Authorization: Bearer $USER_KEY" ;;
    admin-key) preflight "$name" "admin key" /api/v1/users/2 "${HEADER[$name]}" ;;
    operator-token) preflight "$name" "operator token" /admin/v1/users/1 "${HEADER[$name]}" ;;
  esac
done

export SCHEMATHESIS_HOOKS="$ROOT/tests/schemathesis/hooks.py"
only=()
if [ -n "${INCLUDE_PATH_REGEX:-}" ]; then
  only=(--include-path-regex "$INCLUDE_PATH_REGEX")
fi
# The admin key may delete or deactivate anyone in the demo org, but not its own user (by id, or by
# UUID through SCIM) nor revoke its own key (hooks.py's filter_case, told who it is here): losing
# them would turn the rest of the run into 401s that test nothing. The operator token, which no
# request can revoke, needs no such care, and the user key can change nothing but its own profile.
run() {
  local name="$1" own=()
  if [ "$name" = admin-key ]; then
    own=(SCHEMATHESIS_OWN_USER_ID="$ADMIN_USER_ID" SCHEMATHESIS_OWN_USER_UUID="$ADMIN_USER_UUID"
      SCHEMATHESIS_OWN_KEY_ID="$ADMIN_KEY_ID")
  fi
  env "${own[@]}" SCHEMATHESIS_FILTERED_LOG="$REPORT_DIR/$name.filtered.tsv" \
    "$ST" --config-file "$ROOT/tests/schemathesis/schemathesis.toml" run "${BASE[$name]}/openapi.json" \
    --checks all \
    --phases examples,coverage,fuzzing,stateful \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --generation-database none \
    --request-timeout 30 \
    --report junit --report-junit-path "$REPORT_DIR/$name.xml" \
    "${only[@]}" -H "${HEADER[$name]}"
}

step "runs ${RUNS[*]} at once: all checks, all phases, $MAX_EXAMPLES examples per operation, seed $SEED${INCLUDE_PATH_REGEX:+, paths matching $INCLUDE_PATH_REGEX}"
declare -A RUN_PID
for name in "${RUNS[@]}"; do
  run "$name" > "$REPORT_DIR/$name.log" 2>&1 &
  RUN_PID[$name]=$!
done

# Schemathesis itself crashed, not a finding: no check failed, and every error is a traceback from
# inside Hypothesis's engine (its optimiser once raised IndexError on 6.170). Such a run goes again
# once with a new seed; a real failure, a network error or a 5xx never does.
tool_crash() {
  local log="$1"
  ! grep -q "= FAILURES =" "$log" && grep -q "Runtime Error" "$log" && grep -q "hypothesis/internal/" "$log" \
    && ! grep -qE "Network Error|Server error|ST[0-9]{3}" "$log"
}

failed=()
for name in "${RUNS[@]}"; do
  if wait "${RUN_PID[$name]}"; then
    result=passed
  elif tool_crash "$REPORT_DIR/$name.log"; then
    again="$(python3 -c 'import secrets; print(secrets.randbits(64))')"
    step "run '$name': schemathesis crashed inside Hypothesis (not a finding; $REPORT_DIR/$name.crash.log); again with seed $again"
    mv "$REPORT_DIR/$name.log" "$REPORT_DIR/$name.crash.log"
    if SEED="$again" run "$name" > "$REPORT_DIR/$name.log" 2>&1; then result=passed; else result=FAILED; failed+=("$name"); fi
  else
    result=FAILED
    failed+=("$name")
  fi
  step "run '$name' ($REPORT_DIR/$name.log):"
  cat "$REPORT_DIR/$name.log"
  step "run '$name': $result"
done

for name in "${RUNS[@]}"; do
  if grep -q "Uncaught\|hung" "$STATE/$name/wrangler.log"; then
    echo "schemathesis.sh: the worker threw or hung during the '$name' run (see $REPORT_DIR/$name.wrangler.log)" >&2
    failed+=("$name: worker log")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  step "FAILED: ${failed[*]}"
  exit 1
fi
step "all runs passed: ${RUNS[*]}"
