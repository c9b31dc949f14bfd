// What each part of a D1 call costs the local simulators: the floor's JavaScript replaying the D1 call
// users-edge made (and the peer's), whole and with one part left out, each variant a Worker of its own,
// measured in alternating 2 s windows of wrk at c=16 so that the machine's drift falls on all alike.
// Reads the recorded calls from bench/results.json, so run it after `make bench`:
//
//   node bench/sql-ab.mjs              PATCH, 16 windows per variant (about 3 minutes)
//   M=GET N=12 node bench/sql-ab.mjs
//
// Prints each variant's median CPU per request and its median paired difference to users-edge's call as
// recorded. A by-hand diagnostic (BENCHMARKS.md quotes a run); `make bench` does not run it.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { alternate, median } from "./lib/load.mjs";

const BENCH = dirname(fileURLToPath(import.meta.url));
const METHOD = process.env.M ?? "PATCH";
const WINDOWS = Number(process.env.N ?? 16);

const R = JSON.parse(readFileSync(join(BENCH, "results.json"), "utf8"));
if (!R.floorReplay?.[METHOD] || !R.peerReplay?.[METHOD]) throw new Error("bench/results.json has no recorded D1 calls: run `make bench` first");

/** A copy of a recorded {PATCH, GET} call set with this method's call changed by `edit`. */
const variant = (calls, edit) => {
  const copy = structuredClone(calls);
  edit(copy[METHOD]);
  return copy;
};
const firstStatementOnly = (call) => (call.statements = call.statements.slice(0, 1));
const VARIANTS = {
  "users-edge": R.floorReplay,
  "users-edge, no D1 session": variant(R.floorReplay, (call) => delete call.session),
  peer: R.peerReplay,
  ...(METHOD === "PATCH"
    ? {
        "users-edge, UPDATE alone (no event statement)": variant(R.floorReplay, firstStatementOnly),
        "users-edge, event without the user's snapshot": variant(R.floorReplay, (call) => {
          call.statements[1].sql = call.statements[1].sql.replace(/json_object\(.*\) FROM users WHERE/s, "NULL FROM users WHERE");
        }),
        "peer, UPDATE alone": variant(R.peerReplay, firstStatementOnly),
      }
    : {
        // What any key guard costs a read, and whether a cheaper one for a user reading itself (the
        // key's user is the row read, so no join) would buy anything.
        "users-edge, no key guard at all": variant(R.floorReplay, (call) => {
          call.sql = call.sql.replace(/ AND EXISTS \(.*\)$/s, "");
          call.params = call.params.slice(0, 2);
        }),
        "users-edge, self-read guard without the join": variant(R.floorReplay, (call) => {
          call.sql = call.sql.replace(
            / AND EXISTS \(.*\)$/s,
            " AND deactivated = 0 AND EXISTS (SELECT 1 FROM api_keys k WHERE k.id = ? AND k.user_id = users.id AND k.role = ? AND k.scopes IS ? AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?))",
          );
          const [id, org, keyId, , role, scopes, now] = call.params;
          call.params = [id, org, keyId, role, scopes, now];
        }),
      }),
};

const targets = Object.fromEntries(
  Object.entries(VARIANTS).map(([name, calls]) => [name, { scriptPath: join(BENCH, "floor/worker.js"), bindings: { FLOOR_SQL: "full", FLOOR_REPLAY: JSON.stringify(calls) } }]),
);
// A variant whose SQL fails answers 5xx, which stops the run.
const samples = await alternate("sql-ab", targets, METHOD, WINDOWS, 1);
const base = samples["users-edge"];
console.log(`${METHOD}, c=16, ${WINDOWS} alternating windows of 2 s (workerd CPU ms/req)`);
for (const [name, xs] of Object.entries(samples)) {
  const paired = median(xs.map((x, i) => x - base[i]));
  console.log(`  ${name.padEnd(48)} ${median(xs).toFixed(3)}   − users-edge's call: ${paired >= 0 ? "+" : ""}${paired.toFixed(3)}`);
}
