#!/usr/bin/env bash
# SCIM 2.0 conformance: the public suites against the real worker under `wrangler dev` (local D1 +
# KV in a fresh temporary folder). scim2-tester (`check_server`) must report no ERROR or CRITICAL
# result, and `scim-sanity probe` no failure. Prints both suites' counts; exits non-zero on any
# failure. Needs scripts/setup.sh to have run (requirements-dev.txt pins both suites).
# Knobs (environment): PORT (default: a free one), REPORT_DIR (default target/scim-conformance:
# every scim2-tester result as TSV, the scim-sanity output, the wrangler log), KEEP_STATE=1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export CI=true WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false

PY="$ROOT/.venv/bin/python"
SANITY="$ROOT/.venv/bin/scim-sanity"
if [ ! -x "$SANITY" ] || ! "$PY" -c 'import scim2_tester, scim2_client' 2>/dev/null || [ ! -d node_modules/wrangler ]; then
  echo "scim-conformance.sh: run scripts/setup.sh first" >&2
  exit 2
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT="${PORT:-$(free_port)}"
HOST="http://127.0.0.1:$PORT"
BASE="$HOST/scim/v2"
REPORT_DIR="${REPORT_DIR:-$ROOT/target/scim-conformance}"
STATE="$(mktemp -d "${TMPDIR:-/tmp}/users-edge-scim.XXXXXX")"
OPERATOR_TOKEN="op_$(node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("base64url"))')"
mkdir -p "$REPORT_DIR"

step() { printf '\033[1m[scim-conformance]\033[0m %s\n' "$*"; }

WRANGLER_PID=""
cleanup() {
  local rc=$?
  if [ -n "$WRANGLER_PID" ] && kill -0 "$WRANGLER_PID" 2>/dev/null; then
    # wrangler runs in its own session (setsid): stop it and its workerd children together.
    kill -TERM -- "-$WRANGLER_PID" 2>/dev/null || kill -TERM "$WRANGLER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$WRANGLER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$WRANGLER_PID" 2>/dev/null || true
  fi
  [ -f "$STATE/wrangler.log" ] && cp "$STATE/wrangler.log" "$REPORT_DIR/wrangler.log"
  if [ "${KEEP_STATE:-0}" = 1 ]; then step "state kept in $STATE"; else rm -rf "$STATE"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "local D1 in $STATE: migrations"
npx wrangler d1 migrations apply DB --local --persist-to "$STATE" > "$STATE/migrations.log" 2>&1 \
  || { cat "$STATE/migrations.log" >&2; exit 1; }

step "wrangler dev on $HOST (builds the worker first)"
# PBKDF2_ITERATIONS: the suites set many passwords; 1,000 rounds keep the run short.
setsid npx wrangler dev --ip 127.0.0.1 --port "$PORT" --persist-to "$STATE" \
  --var "ADMIN_TOKEN:$OPERATOR_TOKEN" --var "PBKDF2_ITERATIONS:1000" \
  --show-interactive-dev-session=false > "$STATE/wrangler.log" 2>&1 < /dev/null &
WRANGLER_PID=$!
for i in $(seq 600); do
  if ! kill -0 "$WRANGLER_PID" 2>/dev/null; then
    echo "scim-conformance.sh: wrangler dev exited:" >&2; tail -40 "$STATE/wrangler.log" >&2; exit 1
  fi
  curl -fsS -o /dev/null "$BASE/ServiceProviderConfig" 2>/dev/null && break
  [ "$i" = 600 ] && { echo "scim-conformance.sh: wrangler dev not ready after 300 s" >&2; tail -40 "$STATE/wrangler.log" >&2; exit 1; }
  sleep 0.5
done

step "an org, its admin, and the admin's API key with the scim scope (operator API)"
operator() {
  curl -fsS -X POST "$HOST/admin/v1/$1" -H "Authorization: Bearer $OPERATOR_TOKEN" \
    -H "Content-Type: application/json" -d "$2"
}
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(String(JSON.parse(s)[process.argv[1]])))' "$1"; }
ORG_ID="$(operator orgs '{"name": "SCIM conformance"}' | field id)"
ADMIN_ID="$(operator users "{\"org_id\": $ORG_ID, \"email\": \"scim-admin@conformance.example\", \"username\": \"scim-admin\", \"admin\": true}" | field id)"
KEY="$(operator api-keys "{\"user_id\": $ADMIN_ID, \"name\": \"scim conformance\", \"scopes\": [\"scim\"]}" | field key)"

failed=()
step "scim2-tester check_server"
if ! "$PY" - "$BASE" "$KEY" "$REPORT_DIR/scim2-tester.tsv" <<'PY'
import sys
from collections import Counter
from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server

base, key, report = sys.argv[1:4]
client = SyncSCIMClient(Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30))
results = check_server(client, raise_exceptions=False)
counts = Counter(r.status.name for r in results)
bad = [r for r in results if r.status.name in ("ERROR", "CRITICAL")]
with open(report, "w") as f:
    for r in results:
        f.write(f"{r.status.name}\t{r.resource_type}\t{r.title}\t{(r.reason or '').replace(chr(10), ' ')}\n")
for r in bad:
    print(f"  {r.status.name}: [{r.resource_type}] {r.title}: {r.reason}")
print("  scim2-tester: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
sys.exit(1 if bad else 0)
PY
then failed+=("scim2-tester"); fi

step "scim-sanity probe"
set +e
"$SANITY" probe "$BASE" --token "$KEY" --i-accept-side-effects > "$REPORT_DIR/scim-sanity.txt" 2>&1
sanity_rc=$?
set -e
# Its summary line: "N passed, M failed, K skipped, T total" (a zero count is left out).
summary="$(grep -E '^ *[0-9]+ (passed|failed)[, a-z0-9]* total' "$REPORT_DIR/scim-sanity.txt" | tail -1 | sed 's/^ *//')"
echo "  scim-sanity: ${summary:-no summary (see $REPORT_DIR/scim-sanity.txt)}"
if [ "$sanity_rc" != 0 ] || [ -z "$summary" ] || echo "$summary" | grep -Eq '[1-9][0-9]* failed'; then
  grep -E '\[(FAIL|ERROR)\]' "$REPORT_DIR/scim-sanity.txt" | head -40 || true
  failed+=("scim-sanity")
fi

if grep -q "Uncaught\|hung" "$STATE/wrangler.log"; then
  echo "scim-conformance.sh: the worker threw or hung (see $REPORT_DIR/wrangler.log)" >&2
  failed+=("worker-log")
fi
if [ "${#failed[@]}" -gt 0 ]; then
  step "FAILED: ${failed[*]}"
  exit 1
fi
step "both suites passed"
