// The JavaScript host of the wasm shell (src/edge): the Worker's entry point. It holds no rules of
// its own. Per request it sends the method, path, the headers the core reads and the body into the
// wasm as one buffer, then performs the storage calls the wasm hands out — each a JSON line naming
// the binding, the method and its arguments — and returns each answer as one string, until the
// wasm hands out the response. `scripts/build.sh` bundles this file with the wasm-bindgen glue
// into build/index.js.
import wasmModule from "./index_bg.wasm";
import { initSync, describe, configure, start, resume, __wbg_reset_state } from "./bindgen/glue.js";

initSync({ module: wasmModule });

/** What the wasm expects (`describe`): variable names, request headers, body size limit. */
const shape = JSON.parse(describe());
const encoder = new TextEncoder();
let configured = false;
let nextId = 0;

/** The isolate's variables, read once: `env` is the same object for every request of an isolate. */
function configureOnce(env) {
  if (configured) return;
  const vars = {};
  for (const name of shape.vars) vars[name] = typeof env[name] === "string" ? env[name] : null;
  configure(JSON.stringify(vars));
  configured = true;
}

/** `METHOD \n PATH \n name:value … \n \n BODY` (see src/edge/wire.rs). */
async function encodeRequest(request) {
  const url = request.url;
  const from = url.indexOf("/", url.indexOf("//") + 2);
  const query = url.indexOf("?", from);
  let head = request.method + "\n" + url.slice(from, query < 0 ? url.length : query) + "\n";
  for (const name of shape.headers) {
    const value = request.headers.get(name);
    if (value !== null) head += name + ":" + value + "\n";
  }
  const headBytes = encoder.encode(head + "\n");
  // A declared length past the limit is refused by the core from the header alone: don't read it.
  if (request.body === null || Number(request.headers.get("content-length")) > shape.maxBody) return headBytes;
  // A body that can't be read (the client went away) is an empty one, as it was for the core.
  const body = new Uint8Array(await request.arrayBuffer().catch(() => new ArrayBuffer(0)));
  const bytes = new Uint8Array(headBytes.length + body.length);
  bytes.set(headBytes);
  bytes.set(body, headBytes.length);
  return bytes;
}

const errorText = (e) => `${e?.message ?? e} ${e?.cause?.message ?? ""}`.trim();

/** One storage call, answered as `v<value>`, `n` (null) or `e<error>`. */
async function perform(call, env, state) {
  try {
    const binding = env[call.binding];
    if (binding === undefined) return `ebinding ${call.binding} is missing`;
    switch (call.op) {
      case "kv.get": {
        const value = await binding.get(call.key, { cacheTtl: call.cacheTtl });
        return value === null ? "n" : "v" + value;
      }
      case "kv.put":
        await binding.put(call.key, call.value);
        return "v";
      case "kv.delete":
        await binding.delete(call.key);
        return "v";
      case "d1.all": {
        const session = d1Session(binding, call.session, state);
        const result = await session.prepare(call.sql).bind(...call.params).all();
        return "v" + JSON.stringify({ bookmark: session.getBookmark(), result: rowsAndServer(result) });
      }
      case "d1.batch": {
        const session = d1Session(binding, call.session, state);
        const results = await session.batch(call.statements.map((s) => session.prepare(s.sql).bind(...s.params)));
        return "v" + JSON.stringify({ bookmark: session.getBookmark(), results: results.map(rowsAndServer) });
      }
      case "limit":
        return (await binding.limit({ key: call.key })).success ? "v1" : "v0";
      case "assets.get": {
        const response = await binding.fetch(new URL(call.path, "https://assets.invalid"));
        if (response.status === 404) return "n";
        return response.ok ? "v" + (await response.text()) : `eassets answered ${response.status}`;
      }
      case "queue.send":
        await binding.send(call.body, { contentType: "json" });
        return "v";
      default:
        return `eunknown call ${call.op}`;
    }
  } catch (e) {
    return "e" + errorText(e);
  }
}

/** Of a D1 result, the rows and where they were served (the rest of `meta` is not read). */
const rowsAndServer = (r) => ({
  results: r.results,
  meta: { served_by_region: r.meta?.served_by_region, served_by_primary: r.meta?.served_by_primary },
});

/** The request's D1 session, opened where the wasm says (a new start point opens a new one). */
function d1Session(db, startAt, state) {
  if (state.startAt !== startAt) {
    state.session = db.withSession(startAt);
    state.startAt = startAt;
  }
  return state.session;
}

function respond(step) {
  const cut = step.indexOf("\n");
  const head = JSON.parse(step.slice(0, cut));
  const body = step.slice(cut + 1);
  return new Response(body.length ? body : null, { status: head.status, headers: head.headers });
}

/**
 * The wasm trapped, or handed out something unusable (a bug: client input never panics). Answer
 * 500 and start a fresh instance for what follows: a trapped instance's memory is not to be trusted.
 */
function crashed(e) {
  console.error("users-edge: the wasm failed; starting a fresh instance", e);
  __wbg_reset_state();
  configured = false;
  const problem = { type: "about:blank", title: "Internal Server Error", status: 500, detail: "internal error" };
  return new Response(JSON.stringify(problem), { status: 500, headers: { "content-type": "application/problem+json", "cache-control": "no-store" } });
}

export default {
  async fetch(request, env) {
    const id = (nextId = (nextId + 1) >>> 0);
    const state = { startAt: null, session: null };
    const bytes = await encodeRequest(request);
    let step;
    try {
      configureOnce(env);
      step = start(id, bytes, Date.now());
      while (!step.startsWith('{"op":"respond"')) {
        const reply = await perform(JSON.parse(step), env, state);
        step = resume(id, reply, Date.now());
      }
      return respond(step);
    } catch (e) {
      return crashed(e);
    }
  },
};
