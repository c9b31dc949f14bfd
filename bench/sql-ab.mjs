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
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { measure, median } from "./lib/load.mjs";
import { seed, start } from "./lib/serve.mjs";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
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
    : {}),
};

/** CPU ms per request of one 2 s (or `seconds`) window at c=16; a variant whose SQL fails stops the run. */
async function cpuPerRequest(server, seconds) {
  const m = await measure(server, METHOD, 16, seconds);
  if (m.non2xx) throw new Error(`${m.non2xx} non-2xx answers: a variant's SQL failed`);
  return m.cpu_ms_per_req;
}

const servers = {};
for (const [i, [name, calls]] of Object.entries(VARIANTS).entries()) {
  const dir = join(BENCH, ".out/state", `sql-ab-${i}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  servers[name] = await start({ scriptPath: join(BENCH, "floor/worker.js"), bindings: { FLOOR_SQL: "full", FLOOR_REPLAY: JSON.stringify(calls) } }, dir);
  await seed(servers[name].mf, ROOT);
}
try {
  for (const s of Object.values(servers)) await cpuPerRequest(s, 1); // warm-up
  const samples = Object.fromEntries(Object.keys(servers).map((name) => [name, []]));
  for (let w = 0; w < WINDOWS; w++) for (const [name, s] of Object.entries(servers)) samples[name].push(await cpuPerRequest(s, 2));
  const base = samples["users-edge"];
  console.log(`${METHOD}, c=16, ${WINDOWS} alternating windows of 2 s (workerd CPU ms/req)`);
  for (const [name, xs] of Object.entries(samples)) {
    const paired = median(xs.map((x, i) => x - base[i]));
    console.log(`  ${name.padEnd(48)} ${median(xs).toFixed(3)}   − users-edge's call: ${paired >= 0 ? "+" : ""}${paired.toFixed(3)}`);
  }
} finally {
  for (const s of Object.values(servers)) await s.mf.dispose();
}
