// The JavaScript host of the wasm shell (src/edge): the Worker's entry point. It holds no rules of
// its own. Per request it sends the method, path, the headers the core reads and the body into the
// wasm as one buffer, then performs the platform calls the wasm hands out — each a JSON line naming
// the binding, the method and its arguments (or several such calls together, `many`) — and returns
// each answer as one string, until the wasm hands out the response. The feed's queue consumer and
// Cron sweep run the same way from `dispatch`. What the wasm leaves for after the response (`later`) runs under `waitUntil`.
// `scripts/build.sh` bundles this file with the wasm-bindgen glue into build/index.js.
import wasmModule from "./index_bg.wasm";
import { initSync, describe, configure, start, dispatch, resume, __wbg_reset_state } from "./bindgen/glue.js";

initSync({ module: wasmModule });

/** What the wasm expects (`describe`): variable names, request headers, body size limit. */
const shape = JSON.parse(describe());
const encoder = new TextEncoder();
let configured = false;
let nextId = 0;

/**
 * The isolate's variables and which optional bindings it has, read once: `env` is the same
 * object for every request of an isolate.
 */
function configureOnce(env) {
  if (configured) return;
  const vars = {};
  for (const name of shape.vars) vars[name] = typeof env[name] === "string" ? env[name] : null;
  const bindings = shape.bindings.filter((name) => env[name] !== undefined);
  configure(JSON.stringify({ vars, bindings }));
  configured = true;
}

/**
 * `METHOD \n PATH?QUERY \n b|u \n name:value … \n \n BODY` (see src/edge/wire.rs). Without a body to
 * read, the bytes come back at once rather than as a promise: most reads have none, and an await
 * less is a measurable share of a request's own CPU here (BENCHMARKS.md, "The Worker's own code").
 */
function encodeRequest(request) {
  const url = request.url;
  const from = url.indexOf("/", url.indexOf("//") + 2);
  const hash = url.indexOf("#", from);
  const head = request.method + "\n" + url.slice(from, hash < 0 ? url.length : hash) + "\n";
  const requestHeaders = request.headers;
  let headers = "";
  for (const name of shape.headers) {
    const value = requestHeaders.get(name);
    if (value !== null) headers += name + ":" + value + "\n";
  }
  // A declared length past the limit is refused by the core from the header alone: don't read it.
  if (request.body === null || Number(requestHeaders.get("content-length")) > shape.maxBody) {
    return encoder.encode(head + "b\n" + headers + "\n");
  }
  return withBody(request, head, headers);
}

/**
 * A body sent without a length (chunked), kept up to one byte past the limit and no further: the
 * core refuses it as too large from those bytes, and the rest is read and dropped, never held.
 */
async function capped(request) {
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  while (size <= shape.maxBody) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  // The rest is read and dropped before the answer: cancelling the stream, leaving it unread, or
  // draining it after the response all reset the connection under a client still sending, which
  // then never reads its 413. (Cloudflare bounds a request body's size in front of the Worker.)
  if (size > shape.maxBody) await drain(reader);
  const body = new Uint8Array(Math.min(size, shape.maxBody + 1));
  let at = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, body.length - at);
    body.set(part, at);
    at += part.length;
  }
  return body;
}

/** Read what is left of a body, keeping none of it. */
async function drain(reader) {
  try {
    while (!(await reader.read()).done);
  } catch {
    // The client went away: nothing left to drain.
  }
}

/** The request's bytes with its body read. */
async function withBody(request, head, headers) {
  let body;
  try {
    // With a declared length (within the limit, see encodeRequest) the runtime reads no more.
    body = request.headers.has("content-length") ? new Uint8Array(await request.arrayBuffer()) : await capped(request);
  } catch {
    // The client went away mid-upload: the core reports it, never takes it for an empty body.
    return encoder.encode(head + "u\n" + headers + "\n");
  }
  const headBytes = encoder.encode(head + "b\n" + headers + "\n");
  const bytes = new Uint8Array(headBytes.length + body.length);
  bytes.set(headBytes);
  bytes.set(body, headBytes.length);
  return bytes;
}

const errorText = (e) => `${e?.message ?? e} ${e?.cause?.message ?? ""}`.trim();

/** One storage call, answered as `v<value>`, `n` (null) or `e<error>`. */
async function perform(call, env, state) {
  try {
    const binding = call.binding === undefined ? null : env[call.binding];
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
      case "d1.run":
        await binding.prepare(call.sql).bind(...call.params).run();
        return "v";
      case "limit":
        return (await binding.limit({ key: call.key })).success ? "v1" : "v0";
      case "assets.get": {
        const response = await binding.fetch(new URL(call.path, "https://assets.invalid"));
        if (response.status === 404) return "n";
        return response.ok ? "v" + (await response.text()) : `eassets answered ${response.status}`;
      }
      case "queue.send":
        await binding.send(call.body, call.delaySeconds === undefined ? { contentType: "json" } : { contentType: "json", delaySeconds: call.delaySeconds });
        return "v";
      case "fetch": {
        const init = { method: "POST", headers: call.headers, body: call.body, redirect: "manual", signal: AbortSignal.timeout(call.timeoutMs) };
        const response = await fetch(call.url, init);
        // Nobody reads the body: let the runtime drop the connection.
        await response.body?.cancel();
        return "v" + response.status;
      }
      case "many": {
        // Calls the wasm made together (a dispatch's webhook attempts): made side by side, answered
        // together, each reply in its call's place.
        const replies = await Promise.all(call.calls.map((each) => perform(each, env, state)));
        return "v" + JSON.stringify(replies);
      }
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

/** A final step: `{"op":"respond"…}` or `{"op":"done"…}`. */
const isFinal = (step) => step.startsWith('{"op":"respond"') || step.startsWith('{"op":"done"');

/**
 * Run request or task `id` from its first step to its final one, performing each call the wasm
 * hands out. Returns the final step's head and, for a response, its body.
 */
async function drive(id, first, env) {
  const state = { startAt: null, session: null };
  let step = first;
  while (!isFinal(step)) {
    const reply = await perform(JSON.parse(step), env, state);
    step = resume(id, reply, Date.now());
  }
  const cut = step.indexOf("\n");
  return cut < 0 ? { head: JSON.parse(step), body: "" } : { head: JSON.parse(step.slice(0, cut)), body: step.slice(cut + 1) };
}

/** The console messages and the after-the-response calls of a final step. */
function aftermath(head, env, ctx) {
  for (const message of head.log ?? []) console.error(message);
  if (!head.later?.length) return;
  const work = head.later.map(async (call) => {
    const reply = await perform(call, env, null);
    // Lost deferred work costs time, not data (the Cron sweep dispatches what a kick missed).
    if (reply[0] === "e") console.warn(`users-edge: deferred ${call.op} failed: ${reply.slice(1)}`);
  });
  ctx.waitUntil(Promise.all(work));
}

const nextExchange = () => (nextId = (nextId + 1) >>> 0);

/**
 * The wasm trapped, or handed out something unusable (a bug: client input never panics). Answer
 * 500 and start a fresh instance for what follows: a trapped instance's memory is not to be trusted.
 */
function crashed(e) {
  console.error("users-edge: the wasm failed; starting a fresh instance", e);
  __wbg_reset_state();
  configured = false;
  const problem = { type: "about:blank", title: "Internal Server Error", status: 500, detail: "internal error" };
  // A page on another origin may read this answer too, as it may every other (src/app/cors.rs).
  const headers = { "content-type": "application/problem+json", "cache-control": "no-store", "access-control-allow-origin": "*" };
  return new Response(JSON.stringify(problem), { status: 500, headers });
}

/**
 * The change feed's work (queue consumer; the Cron sweep, `sweep`, also applies the feed's
 * retention); a failure is logged, the sweep retries.
 */
async function runDispatch(env, ctx, sweep) {
  try {
    configureOnce(env);
    const id = nextExchange();
    const { head } = await drive(id, dispatch(id, Date.now(), sweep), env);
    aftermath(head, env, ctx);
  } catch (e) {
    crashed(e);
  }
}

export default {
  async fetch(request, env, ctx) {
    const id = nextExchange();
    let bytes = encodeRequest(request);
    if (bytes instanceof Promise) bytes = await bytes;
    try {
      configureOnce(env);
      const { head, body } = await drive(id, start(id, bytes, Date.now()), env);
      aftermath(head, env, ctx);
      return new Response(body.length ? body : null, { status: head.status, headers: head.headers });
    } catch (e) {
      return crashed(e);
    }
  },

  /** The feed's queue: every message asks for a dispatch and carries nothing else. */
  async queue(batch, env, ctx) {
    await runDispatch(env, ctx, false);
    batch.ackAll();
  },

  /** The Cron sweep: whatever a lost queue message left behind goes out now; old snapshots go. */
  async scheduled(_controller, env, ctx) {
    await runDispatch(env, ctx, true);
  },
};
