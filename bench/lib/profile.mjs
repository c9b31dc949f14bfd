// Where a workerd process's CPU goes, per isolate: the V8 CPU profiler of each isolate (through
// workerd's inspector, which Miniflare opens with `inspectorPort`) samples while a load runs.
// Every isolate of the process is a separate inspector target: the Worker under test
// ("core:user:"), the local D1 simulator (a Durable Object, "d1:db"), the local KV simulator
// ("kv:ns"), Miniflare's entry proxy ("core:entry"). A sample that is not "(idle)" is time that
// isolate's thread spent running (its JavaScript and wasm, and the native code they called,
// such as SQLite). What no isolate accounts for is workerd's own C++ (HTTP, I/O, scheduling).
import WebSocket from "ws";

const INTERVAL_US = Number(process.env.PROFILE_INTERVAL_US ?? 500);

/** The inspector targets of a workerd started with `inspectorPort`. */
export async function targets(port) {
  const res = await fetch(`http://127.0.0.1:${port}/json`);
  return (await res.json()).map((t) => ({ id: t.id, url: t.webSocketDebuggerUrl }));
}

function session(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
    let next = 0;
    const waiting = new Map();
    ws.on("message", (data) => {
      const msg = JSON.parse(data.toString());
      const w = waiting.get(msg.id);
      if (!w) return;
      waiting.delete(msg.id);
      msg.error ? w.reject(new Error(JSON.stringify(msg.error))) : w.resolve(msg.result);
    });
    ws.on("error", reject);
    ws.on("open", () =>
      resolve({
        send(method, params = {}) {
          const id = ++next;
          return new Promise((res, rej) => {
            waiting.set(id, { resolve: res, reject: rej });
            ws.send(JSON.stringify({ id, method, params }));
          });
        },
        close: () => ws.close(),
      }),
    );
  });
}

/** Profile every isolate whose id `pick` accepts while `load()` runs; returns {id: profile}. */
export async function profileDuring(port, pick, load) {
  const sessions = [];
  for (const t of (await targets(port)).filter((t) => pick(t.id))) {
    const s = await session(t.url);
    await s.send("Profiler.enable");
    await s.send("Profiler.setSamplingInterval", { interval: INTERVAL_US });
    sessions.push({ id: t.id, s });
  }
  for (const { s } of sessions) await s.send("Profiler.start");
  const result = await load();
  const profiles = {};
  for (const { id, s } of sessions) {
    profiles[id] = (await s.send("Profiler.stop")).profile;
    await s.send("Profiler.disable");
    s.close();
  }
  return { result, profiles };
}

/** Self time per node (ms), and the busy total (everything but "(idle)"). */
export function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000; // the delta after a sample is the time it stands for
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  let busy = 0;
  const rows = [];
  for (const [id, ms] of self) {
    const n = byId.get(id);
    const { functionName, url } = n.callFrame;
    if (functionName === "(idle)") continue;
    busy += ms;
    rows.push({ functionName: functionName || "(anonymous)", url, ms });
  }
  return { busy, rows };
}

/**
 * Group the Worker isolate's self time into what it is: the Rust core in wasm, the JavaScript
 * host and glue, the runtime's D1/KV client code, JSON, the garbage collector, everything else.
 */
export function categorize(rows, { hostUrlPart }) {
  const cat = (r) => {
    if (r.url.startsWith("wasm://")) return "wasm (Rust core + shell)";
    if (r.functionName === "(garbage collector)") return "garbage collector";
    if (r.functionName === "(program)") return "(program): V8/workerd native, not attributed";
    if (/^(parse|stringify)$/.test(r.functionName) && !r.url) return "JSON.parse / JSON.stringify";
    if (r.url.includes("d1") || /D1/.test(r.functionName)) return "runtime D1 client (d1-api)";
    if (hostUrlPart && r.url.includes(hostUrlPart)) return "JavaScript host + glue";
    if (!r.url) return "runtime builtins (fetch, Response, TextEncoder, …)";
    return "other JavaScript (" + r.url.replace(/^.*\//, "") + ")";
  };
  const out = new Map();
  for (const r of rows) out.set(cat(r), (out.get(cat(r)) ?? 0) + r.ms);
  return [...out].sort((a, b) => b[1] - a[1]);
}
