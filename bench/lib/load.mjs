// The load driver every benchmark run shares: wrk against one user's URL, and the workerd CPU it
// cost per request (from /proc), so that bench.mjs and the by-hand diagnostics measure alike.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { KEYS, cpuSeconds, seed, start } from "./serve.mjs";

const LIB = dirname(fileURLToPath(import.meta.url));
const BENCH = dirname(LIB);
export const TICKS = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());
/**
 * The PATCH every load run sends: the regular user changing its own `based_in`, each time to a
 * value no earlier request set. A write that sends back what is stored is a no-op in users-edge
 * (no new version, no event), so a fixed value would measure that path from the second request
 * on: wrk.lua puts a new 32-hex tag in place of `{tag}` for every request, and a replay of a
 * recorded call makes up a new one the same way (its `fresh` values, bench.mjs).
 */
export const PATCH_TEMPLATE = JSON.stringify({ user: { based_in: "Paris, FR {tag}" } });
/** A PATCH body with a tag of its own, for a request made by hand. */
export const patchBody = () => PATCH_TEMPLATE.replace("{tag}", randomBytes(16).toString("hex"));
/** One such body, for the harnesses that answer storage from memory (nothing is stored there). */
export const PATCH_BODY = patchBody();
/** The regular user, acting on itself with its own key. */
export const SELF = 2;
export const userPath = (id) => `/api/v1/users/${id}`;

/** The median of the finite values (NaN for none). */
export const median = (xs) => {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One wrk run (lib/wrk.lua: the user's key, the PATCH body); its `BENCH_JSON` summary. */
function wrk({ url, method, conns, seconds }) {
  return new Promise((resolve, reject) => {
    const args = ["-t1", `-c${conns}`, `-d${seconds}s`, "--timeout", "10s", "-s", join(LIB, "wrk.lua"), url];
    const env = { ...process.env, BENCH_METHOD: method, BENCH_KEY: KEYS.user, BENCH_BODY: method === "PATCH" ? PATCH_TEMPLATE : "" };
    const p = spawn("wrk", args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", reject);
    p.on("close", (code) => {
      const line = stdout.split("\n").find((l) => l.startsWith("BENCH_JSON "));
      if (code !== 0 || !line) return reject(new Error(`wrk exited ${code}: ${stderr || stdout}`));
      resolve(JSON.parse(line.slice("BENCH_JSON ".length)));
    });
  });
}

/** Load `server` (from serve.mjs `start`) with `method` on the user's own URL for `seconds`. */
export async function measure(server, method, conns, seconds) {
  const cpu0 = cpuSeconds(server.pid, TICKS);
  const r = await wrk({ url: server.url + userPath(SELF), method, conns, seconds });
  const cpu1 = cpuSeconds(server.pid, TICKS);
  return {
    rps: r.requests / (r.duration_us / 1e6),
    p50_ms: r.p50_us / 1000,
    p99_ms: r.p99_us / 1000,
    requests: r.requests,
    errors: r.connect + r.read + r.write + r.timeout,
    non2xx: r.status,
    cpu_ms_per_req: r.requests ? ((cpu1 - cpu0) * 1000) / r.requests : NaN,
  };
}

/**
 * The by-hand A/B runs (sql-ab.mjs, build-ab.mjs): each of `targets` (name → a serve.mjs target) started as a
 * Worker of its own on freshly seeded state, given `warmups` 1 s windows, then loaded with `method` at c=16 in
 * `windows` alternating 2 s windows, so that the machine's drift falls on all alike. Returns each target's CPU
 * ms per request, window by window; any answer but 2xx stops the run.
 */
export async function alternate(label, targets, method, windows, warmups) {
  const servers = {};
  const cpuPerRequest = async (server, seconds) => {
    const m = await measure(server, method, 16, seconds);
    if (m.non2xx) throw new Error(`${m.non2xx} non-2xx answers`);
    return m.cpu_ms_per_req;
  };
  try {
    for (const [i, [name, target]] of Object.entries(targets).entries()) {
      const dir = join(BENCH, ".out/state", `${label}-${i}`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      servers[name] = await start(target, dir);
      await seed(servers[name].mf, dirname(BENCH));
    }
    for (const s of Object.values(servers)) for (let w = 0; w < warmups; w++) await cpuPerRequest(s, 1);
    const samples = Object.fromEntries(Object.keys(servers).map((name) => [name, []]));
    for (let w = 0; w < windows; w++) for (const [name, s] of Object.entries(servers)) samples[name].push(await cpuPerRequest(s, 2));
    return samples;
  } finally {
    for (const s of Object.values(servers)) await s.mf.dispose();
  }
}
