// The wasm side of one request with nothing else: users-edge's own glue and wasm (copied from
// build/ by bench.mjs), driven through start → resume → resume with the answers KV and D1 gave
// a real request, in a loop. GET /?method=PATCH&n=2000 runs n requests and answers how many;
// the bench reads the workerd process's CPU time around it. What this costs per request is the
// Rust core and shell in wasm plus the crossings of the glue — no storage, no runtime I/O.
//
// &evict=MiB writes one byte per cache line of that much other memory before each request, as the
// runtime and the simulators do between two requests under load, and answers the time spent inside
// the wasm calls alone by the host's clock (which advances during execution locally), in ms.
// &warm=memory then also reads the wasm's whole linear memory back in before each request, so that
// what is left cold is the code (and V8's own structures), not the wasm's data.
import wasmModule from "./index_bg.wasm";
import { initSync, describe, configure, start, resume } from "./bindgen/glue.js";

const wasm = initSync({ module: wasmModule });
const shape = JSON.parse(describe());
const vars = Object.fromEntries(shape.vars.map((v) => [v, v === "PBKDF2_ITERATIONS" ? "600000" : null]));
configure(JSON.stringify({ vars, bindings: [] }));

const LINE = 64;
let other = new Uint8Array(0);
let sink = 0;

/** Write one byte per cache line of `bytes`. */
function write(bytes) {
  for (let i = 0; i < bytes.length; i += LINE) bytes[i] ^= 1;
}

/** Read one byte per cache line of `bytes` (kept in `sink`, so that the loop is not optimised away). */
function read(bytes) {
  for (let i = 0; i < bytes.length; i += LINE) sink += bytes[i];
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const method = url.searchParams.get("method") ?? "GET";
    const n = Number(url.searchParams.get("n") ?? 1000);
    const evict = Number(url.searchParams.get("evict") ?? 0) << 20;
    const warmMemory = url.searchParams.get("warm") === "memory";
    if (other.length < evict) other = new Uint8Array(evict);
    const body = method === "PATCH" ? env.PATCH_BODY : "";
    let head = `${method}\n/api/v1/users/2\nb\nx-api-key:${env.KEY}\n`;
    if (body) head += `content-type:application/json\ncontent-length:${body.length}\n`;
    const bytes = new TextEncoder().encode(head + "\n" + body);
    const replies = JSON.parse(env.REPLIES)[method];
    let last = "";
    let inside = 0;
    for (let i = 0; i < n; i++) {
      if (evict) {
        write(other.subarray(0, evict));
        if (warmMemory) read(new Uint8Array(wasm.memory.buffer));
      }
      const t0 = evict ? performance.now() : 0;
      let step = start(i, bytes, 0);
      for (const reply of replies) step = resume(i, reply, 0);
      if (evict) inside += performance.now() - t0;
      last = step;
    }
    if (!last.startsWith('{"op":"respond","status":200')) return new Response(last, { status: 500 });
    return new Response(evict ? JSON.stringify({ n, inside_ms: inside, memory_bytes: wasm.memory.buffer.byteLength, sink }) : String(n));
  },
};
