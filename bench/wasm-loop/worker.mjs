// The wasm side of one request with nothing else: users-edge's own glue and wasm (copied from
// build/ by bench.mjs), driven through start → resume → resume with the answers KV and D1 gave
// a real request, in a loop. GET /?method=PATCH&n=2000 runs n requests and answers how many;
// the bench reads the workerd process's CPU time around it. What this costs per request is the
// Rust core and shell in wasm plus the crossings of the glue — no storage, no runtime I/O.
import wasmModule from "./index_bg.wasm";
import { initSync, describe, configure, start, resume } from "./bindgen/glue.js";

initSync({ module: wasmModule });
const shape = JSON.parse(describe());
const vars = Object.fromEntries(shape.vars.map((v) => [v, v === "PBKDF2_ITERATIONS" ? "600000" : null]));
configure(JSON.stringify({ vars, bindings: [] }));

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const method = url.searchParams.get("method") ?? "GET";
    const n = Number(url.searchParams.get("n") ?? 1000);
    const body = method === "PATCH" ? env.PATCH_BODY : "";
    let head = `${method}\n/api/v1/users/2\nb\nx-api-key:${env.KEY}\n`;
    if (body) head += `content-type:application/json\ncontent-length:${body.length}\n`;
    const bytes = new TextEncoder().encode(head + "\n" + body);
    const replies = JSON.parse(env.REPLIES)[method];
    let last = "";
    for (let i = 0; i < n; i++) {
      let step = start(i, bytes, 0);
      for (const reply of replies) step = resume(i, reply, 0);
      last = step;
    }
    if (!last.startsWith('{"op":"respond","status":200')) return new Response(last, { status: 500 });
    return new Response(String(n));
  },
};
