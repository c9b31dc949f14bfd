// A Worker's own code for one request, with its storage answered from memory: the target's script
// (copied beside this file as ./target.js by bench.mjs: users-edge's build, the peer's bundle or the
// floor's script) behind a harness that hands it an `env` whose KV and D1 bindings answer what the
// real ones answered, at once. What is left is what the Worker itself runs — its request parsing,
// rules, SQL building, the storage clients' calls up to the I/O, rendering — and is what Cloudflare
// bills as the Worker's CPU; the local KV and D1 simulators, which dominate every request under
// workerd (BENCHMARKS.md, "Where a request's CPU goes"), do not run.
//
// GET /record?method=M — one request through the real bindings, its storage answers noted.
// GET /?method=M&n=N[&evict=MiB] — N requests answered from those notes, one after the other; with
//   `evict`, that much other memory is written (one byte per cache line) before each request, as the
//   runtime and the simulators do between two requests under load. Answers JSON {n, loop_ms,
//   inside_ms, status, answers}. The host's clock advances locally during execution, but in 1 ms
//   steps: `loop_ms` times the whole loop (the loop's own work — building each request, reading
//   each response — is the same for every target, and the bench sets each against a Worker that
//   answers at once); `inside_ms` adds up each request's time from its `fetch` to its body read,
//   leaving the cache emptying out, and so counts each request as 0 or 1 ms: fair over many.
import target from "./target.js";

const LINE = 64;
let other = new Uint8Array(0);
const notes = {};

/** Answers noted by kind of call (`kv.get`, `d1.first`, `d1.all`, `d1.run`, `d1.raw`, `d1.batch`, `d1.bookmark`). */
function notebook() {
  const by = {};
  return { by, note: (kind, v) => ((by[kind] ??= []).push(v), v) };
}

/** A D1 statement (prepared or bound) whose every way of running notes its answer. */
function noting(real, n) {
  const ran = (kind, p) => p.then((v) => n.note(kind, v));
  return {
    real,
    bind: (...values) => noting(real.bind(...values), n),
    first: (...a) => ran("d1.first", real.first(...a)),
    all: () => ran("d1.all", real.all()),
    run: () => ran("d1.run", real.run()),
    raw: (...a) => ran("d1.raw", real.raw(...a)),
  };
}

/** The D1 binding (or one of its sessions), noting answers. */
function notingD1(db, n) {
  return {
    prepare: (sql) => noting(db.prepare(sql), n),
    batch: (stmts) => db.batch(stmts.map((s) => s.real)).then((v) => n.note("d1.batch", v)),
    withSession: (startAt) => notingD1(db.withSession(startAt), n),
    getBookmark: () => n.note("d1.bookmark", db.getBookmark()),
  };
}

/**
 * KV and D1 answering what was noted for each kind of call, in turn. A kind never noted (work a
 * Worker does now and then after the response, such as users-edge's throttled `last_used_at`
 * write) answers as an empty D1 result; `used` counts every answer handed out.
 */
function replaying(by) {
  const at = {};
  const used = { n: 0 };
  const next = (kind) => {
    used.n++;
    const list = by[kind];
    if (!list) return { success: true, meta: {}, results: [] };
    const i = at[kind] ?? 0;
    at[kind] = (i + 1) % list.length;
    return list[i];
  };
  const statement = () => ({
    bind: () => statement(),
    first: () => Promise.resolve(next("d1.first")),
    all: () => Promise.resolve(next("d1.all")),
    run: () => Promise.resolve(next("d1.run")),
    raw: () => Promise.resolve(next("d1.raw")),
  });
  const db = {
    prepare: () => statement(),
    batch: () => Promise.resolve(next("d1.batch")),
    withSession: () => db,
    getBookmark: () => next("d1.bookmark"),
  };
  return { kv: { get: () => Promise.resolve(next("kv.get")) }, db, used };
}

/** The benchmark's request: the user's own GET, or its PATCH of `based_in`, with its key. */
function request(method, env) {
  const headers = { "x-api-key": env.KEY };
  if (method === "PATCH") headers["content-type"] = "application/json";
  return new Request("http://localhost/api/v1/users/2", { method, headers, body: method === "PATCH" ? env.PATCH_BODY : undefined });
}

const context = () => ({ waitUntil: () => {}, passThroughOnException: () => {} });

async function record(method, env) {
  const n = notebook();
  const kv = { get: (...a) => env.API_KEYS.get(...a).then((v) => n.note("kv.get", v)) };
  const res = await target.fetch(request(method, env), { ...env, API_KEYS: kv, DB: notingD1(env.DB, n) }, context());
  await res.text();
  notes[method] = n.by;
  const answers = Object.values(n.by).reduce((a, l) => a + l.length, 0);
  return new Response(JSON.stringify({ status: res.status, answers }));
}

async function loop(method, n, evict, env) {
  const by = notes[method];
  if (!by) return new Response(`record ${method} first`, { status: 409 });
  if (other.length < evict) other = new Uint8Array(evict);
  const { kv, db, used } = replaying(by);
  const replay = { ...env, API_KEYS: kv, DB: db };
  let status = 0;
  let inside = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < evict; j += LINE) other[j] ^= 1;
    const req = request(method, env);
    const t1 = performance.now();
    const res = await target.fetch(req, replay, context());
    await res.text();
    inside += performance.now() - t1;
    status = res.status;
  }
  const elapsed = performance.now() - t0;
  return new Response(JSON.stringify({ n, loop_ms: elapsed, inside_ms: inside, status, answers: used.n }));
}

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    const method = url.searchParams.get("method") ?? "GET";
    if (url.pathname === "/record") return record(method, env);
    return loop(method, Number(url.searchParams.get("n") ?? 1000), Number(url.searchParams.get("evict") ?? 0) << 20, env);
  },
};
