// A V8 CPU profile of one isolate, through workerd's inspector (Miniflare's `inspectorPort`).
// Only meaningful where that isolate is the only thing running: workerd runs every isolate of a
// process on one thread, and the sampler charges whatever runs to the profiled isolate's frames.
// The bench uses it for bench/wasm-loop, where nothing but users-edge's wasm and glue runs.
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

/** Which part of the wasm side a sampled function belongs to (names from the wasm's name section). */
export const WASM_PARTS = [
  ["the glue's copies across the boundary (JavaScript)", (r) => /glue\.js$/.test(r.url) || /^js-to-wasm|^wasm-to-js/.test(r.functionName)],
  ["the row turned into a `User` (its derived deserialiser's own code)", (r) => /model::user|User::from_row|FieldVisitor/.test(r.functionName)],
  ["JSON read in (D1's answer, the row's 46 fields, the body) and the JSON maps built either way (serde_json de, BTreeMap)", (r) => /edge::wire|btree|serde_json::de|serde_json::value::de|MapAccess|deserialize_(any|str|map|seq)|next_key_seed|visit_(map|seq)|from_utf8|Utf8Chunks/.test(r.functionName)],
  ["rendering and writing JSON out (serde_json ser, fmt)", (r) => /serde_json::ser|Serialize|serialize|fmt::|format_escaped|to_string|Display/.test(r.functionName)],
  ["the allocator and drops", (r) => /dlmalloc|__rust_alloc|__rdl_|__rust_dealloc|__rust_realloc|raw_vec|drop_in_place|Drop>::drop|memcpy|memmove|memset/.test(r.functionName)],
  ["SHA-256 of the API key", (r) => /sha2|digest|block_buffer/.test(r.functionName)],
  ["the shell's stepping (edge::shell, edge::platform, consistency)", (r) => /edge::|consistency::|wasm_bindgen|LocalKey|maybe_catch_unwind/.test(r.functionName)],
  ["the core: routing, parsing the body, policy, SQL building", (r) => /users_edge::|hashbrown|core::|alloc::|std::/.test(r.functionName) || r.url.startsWith("wasm://")],
  ["the loop's own JavaScript, the runtime, GC", () => true],
];

/** Self time (ms) per part of `WASM_PARTS`, in its order. */
export function wasmParts(rows) {
  const out = WASM_PARTS.map(([name]) => [name, 0]);
  for (const r of rows) out[WASM_PARTS.findIndex(([, test]) => test(r))][1] += r.ms;
  return out;
}
