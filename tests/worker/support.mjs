// Shared harness for the workerd tests: the built worker (build/index.js + wasm) under Miniflare
// with real (SQLite-backed) D1 and KV, migrations applied, and helpers to seed orgs, users, keys.
import { Miniflare } from "miniflare";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import assert from "node:assert/strict";
import { createHash, pbkdf2Sync } from "node:crypto";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const OPERATOR_TOKEN = "test-operator-token";
export const BASE = "http://users-edge.test";

/**
 * Split SQL (a migration file, the demo seed) into statements at each `;` outside a string
 * literal, dropping `--` comments outside them too: a seeded key's prefix is random base64url,
 * so it may hold `--` (ours have no triggers).
 */
export function statements(sql) {
  const out = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'") quoted = !quoted; // '' inside a literal flips twice: still inside
    if (!quoted && c === "-" && sql[i + 1] === "-") {
      while (i < sql.length && sql[i] !== "\n") i++;
      current += "\n";
      continue;
    }
    if (!quoted && c === ";") {
      out.push(current);
      current = "";
      continue;
    }
    current += c;
  }
  out.push(current);
  return out.map((s) => s.trim()).filter(Boolean);
}

/**
 * The second worker that `notifications: true` runs beside users-edge: it consumes the
 * `notifications` queue and stores each message body, as JSON, in its KV namespace `SINK` under
 * `m:<arrival order>`, so tests can read what a real consumer would be handed.
 */
const SINK_SCRIPT = `
let n = 0;
const plain = (v) =>
  v instanceof Map ? Object.fromEntries([...v].map(([k, x]) => [k, plain(x)])) :
  Array.isArray(v) ? v.map(plain) :
  v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) : v;
export default {
  async queue(batch, env) {
    for (const m of batch.messages) {
      const key = "m:" + String(Date.now()).padStart(15, "0") + ":" + String(++n).padStart(9, "0");
      const record = { body: plain(m.body), bodyKind: m.body instanceof Map ? "Map" : typeof m.body, id: m.id, attempts: m.attempts };
      await env.SINK.put(key, JSON.stringify(record));
      m.ack();
    }
  },
};
`;

/**
 * Start the worker. `bindings` overrides vars (PBKDF2_ITERATIONS defaults to 1000 here so tests
 * stay fast; one test checks the production default separately). A binding given as `undefined`
 * is left out altogether (e.g. `{ PBKDF2_ITERATIONS: undefined }` runs with the worker's default).
 *
 * `notifications: true` adds what the ZITADEL flows need: the `NOTIFICATIONS` queue producer,
 * the `PASSWORD_ATTEMPTS` rate limiter (5 per 60 s, as in wrangler.toml) and a consumer worker
 * whose messages `w.messages()` / `w.waitForMessage()` return. Off by default; any other option
 * is a Miniflare option of the users-edge worker, as before. `attempts` overrides the limiter's
 * `{ limit, period }` (period 10 or 60), for tests that exercise flows rather than the limiter.
 */
export async function startWorker({ bindings = {}, notifications = false, attempts = { limit: 5, period: 60 }, ...extra } = {}) {
  const merged = { ADMIN_TOKEN: OPERATOR_TOKEN, PBKDF2_ITERATIONS: "1000", ...bindings };
  for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
  const main = {
    modules: true,
    scriptPath: join(root, "build/index.js"),
    modulesRules: [
      { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2026-04-26",
    // Don't try to fetch Request.cf data from the internet at every start.
    cf: false,
    d1Databases: { DB: "users-edge-test" },
    kvNamespaces: { API_KEYS: "api-keys-test" },
    // As wrangler.toml's [assets]: the Worker runs first and reads /openapi.json through ASSETS.
    assets: { directory: join(root, "build/assets"), binding: "ASSETS", routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: true } },
    bindings: merged,
  };
  let options;
  if (notifications) {
    const edge = {
      name: "users-edge",
      ...main,
      queueProducers: { NOTIFICATIONS: "notifications" },
      ratelimits: {
        PASSWORD_ATTEMPTS: { simple: attempts },
        // As in wrangler.toml: messages per target user, per recipient, per org.
        SENDS_PER_USER: { simple: { limit: 5, period: 60 } },
        SENDS_PER_RECIPIENT: { simple: { limit: 3, period: 60 } },
        SENDS_PER_ORG: { simple: { limit: 100, period: 60 } },
      },
      ...extra,
    };
    const sink = {
      name: "notifications-sink",
      modules: true,
      script: SINK_SCRIPT,
      compatibilityDate: "2026-04-26",
      kvNamespaces: { SINK: "notifications-sink" },
      queueConsumers: { notifications: { maxBatchTimeout: 0.05, maxBatchSize: 10 } },
    };
    options = { workers: [edge, sink] };
  } else {
    options = { ...main, ...extra };
  }
  const mf = new Miniflare(options);
  try {
    const db = await mf.getD1Database("DB");
    const migrations = readdirSync(join(root, "migrations")).filter((f) => f.endsWith(".sql")).sort();
    for (const file of migrations) {
      for (const stmt of statements(readFileSync(join(root, "migrations", file), "utf8"))) {
        await db.prepare(stmt).run();
      }
    }
    const kv = await mf.getKVNamespace("API_KEYS");
    const sinkKv = notifications ? await mf.getKVNamespace("SINK", "notifications-sink") : null;
    return new Worker(mf, db, kv, sinkKv);
  } catch (e) {
    // A runtime that failed to start must still be shut down, or the test process never exits.
    await mf.dispose().catch(() => {});
    throw e;
  }
}

/**
 * Start the worker (`startWorker` options) with the usual two orgs seeded by `seedOrg`: A
 * ("acme") and B ("beta"), for cross-tenant cases. A worker whose seeding fails is shut down.
 */
export async function startWithOrgs(options) {
  const w = await startWorker(options);
  try {
    return { w, A: await w.seedOrg("acme"), B: await w.seedOrg("beta") };
  } catch (e) {
    await w.dispose().catch(() => {});
    throw e;
  }
}

export class Worker {
  constructor(mf, db, kv, sinkKv = null) {
    this.mf = mf;
    this.db = db;
    this.kv = kv;
    /** The consumer's KV namespace (only with `notifications: true`). */
    this.sinkKv = sinkKv;
    /** Every exchange made through `fetch`, for the secret scans (`leaks`). */
    this.log = [];
    /** Every key `member` issued, for the secret scans. */
    this.issuedKeys = [];
    this.memberSeq = 0;
  }

  /** A fresh user of `org` (from `seedOrg`) with its own key, so tests share no row state. */
  async member(org, fields = {}, label = "m") {
    const n = ++this.memberSeq;
    const user = await this.createUser({ org_id: org.org.id, email: `${label}${n}@${org.org.name}.test`, name: `Member ${label}${n}`, ...fields });
    const key = await this.createKey(user.id);
    this.issuedKeys.push(key.key);
    return { user, key: key.key, keyId: key.id, n };
  }

  dispose() {
    return this.mf.dispose();
  }

  /** Raw fetch: `path` relative to BASE; `json` sets the body and content type. */
  async fetch(path, { method = "GET", headers = {}, json, body } = {}) {
    const init = { method, headers: { ...headers } };
    if (json !== undefined) {
      init.body = JSON.stringify(json);
      init.headers["content-type"] ??= "application/json";
    } else if (body !== undefined) {
      init.body = body;
    }
    const res = await this.mf.dispatchFetch(BASE + path, init);
    const text = await res.text();
    this.log.push({
      method,
      path,
      request: typeof init.body === "string" ? init.body : "",
      status: res.status,
      headers: [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n"),
      text,
    });
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = text;
    }
    return { status: res.status, headers: res.headers, data, text };
  }

  /** Operator API call with the ADMIN_TOKEN. */
  operator(method, path, json) {
    return this.fetch("/admin/v1" + path, { method, json, headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
  }

  async createOrg(name = "Org") {
    const r = await this.operator("POST", "/orgs", { name });
    if (r.status !== 201) throw new Error(`createOrg: ${r.status} ${r.text}`);
    return r.data;
  }

  async createUser(fields) {
    const r = await this.operator("POST", "/users", fields);
    if (r.status !== 201) throw new Error(`createUser: ${r.status} ${r.text}`);
    return r.data;
  }

  async createKey(user_id) {
    const r = await this.operator("POST", "/api-keys", { user_id });
    if (r.status !== 201) throw new Error(`createKey: ${r.status} ${r.text}`);
    return r.data;
  }

  /** An org with an admin and two regular users, each with a key: the usual cast. */
  async seedOrg(label = "acme") {
    const org = await this.createOrg(label);
    const admin = await this.createUser({ org_id: org.id, email: `admin@${label}.test`, admin: true, name: "Ada Admin" });
    const user = await this.createUser({ org_id: org.id, email: `user@${label}.test`, name: "Uma User" });
    const other = await this.createUser({ org_id: org.id, email: `other@${label}.test`, name: "Otto Other" });
    const [adminKey, userKey, otherKey] = await Promise.all([admin, user, other].map((u) => this.createKey(u.id)));
    return { org, admin, user, other, adminKey: adminKey.key, userKey: userKey.key, otherKey: otherKey.key, keys: { admin: adminKey, user: userKey, other: otherKey } };
  }

  /** The users row as stored (every column, secrets included: for assertions only). */
  async row(id) {
    return this.db.prepare("SELECT * FROM users WHERE id = ?").bind(id).first();
  }

  /** HiEnergy call on `/api/v1/users/{id}` with `X-Api-Key: key` (omitted when key is null). */
  hi(method, id, key, { json, body, headers = {} } = {}) {
    const h = { ...headers };
    if (key != null) h["x-api-key"] = key;
    return this.fetch(`/api/v1/users/${id}`, { method, json, body, headers: h });
  }

  /** The api_keys row (digest, role, revoked_at, ...). */
  async keyRow(id) {
    return this.db.prepare("SELECT * FROM api_keys WHERE id = ?").bind(id).first();
  }

  /**
   * Every message the NOTIFICATIONS consumer has received so far, oldest first, as
   * `{ body, bodyKind, id, attempts }` (`bodyKind` is how the body arrived: "object" for a
   * structured-clone object, "Map" if it came as a JS Map). Needs `notifications: true`.
   */
  async deliveries() {
    if (!this.sinkKv) throw new Error("start the worker with { notifications: true } to observe the queue");
    const keys = [];
    let cursor;
    do {
      const page = await this.sinkKv.list({ prefix: "m:", cursor });
      keys.push(...page.keys.map((k) => k.name));
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
    keys.sort();
    const out = [];
    for (const k of keys) out.push(JSON.parse(await this.sinkKv.get(k)));
    return out;
  }

  /** The bodies of every message received so far, oldest first. */
  async messages() {
    return (await this.deliveries()).map((d) => d.body);
  }

  /**
   * Poll (bounded) until `count` messages matching `pred` have arrived; returns those messages'
   * bodies, oldest first. Throws with what did arrive when the wait runs out.
   */
  async waitForMessages(pred, { count = 1, timeoutMs = 5000, intervalMs = 25 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = (await this.messages()).filter(pred);
      if (found.length >= count) return found;
      if (Date.now() > deadline) {
        throw new Error(`waited ${timeoutMs} ms for ${count} message(s), got ${found.length}: ${JSON.stringify(await this.messages())}`);
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** The first message matching `pred` (waits for it, bounded). */
  async waitForMessage(pred, opts = {}) {
    return (await this.waitForMessages(pred, { ...opts, count: 1 }))[0];
  }

  /** Give the queue time to deliver, then the messages matching `pred` (for "nothing was sent"). */
  async settledMessages(pred, { waitMs = 300 } = {}) {
    await new Promise((r) => setTimeout(r, waitMs));
    return (await this.messages()).filter(pred);
  }

  /** The user's change events, oldest first (its keys' events, `api_key.*`, are not changes to it). */
  async events(userId) {
    const { results } = await this.db
      .prepare("SELECT * FROM user_events WHERE user_id = ? AND action NOT LIKE 'api_key.%' ORDER BY id")
      .bind(userId)
      .all();
    return results;
  }

  /** The user's verification_codes rows, oldest first (digests only: the plain code is never stored). */
  async codes(userId) {
    const { results } = await this.db.prepare("SELECT * FROM verification_codes WHERE user_id = ? ORDER BY id").bind(userId).all();
    return results;
  }
}

/**
 * What a refused request must leave as it was: the user's row (every column), its audit events
 * and, with `codes: true`, its verification codes. Hand the result to `unchanged`.
 */
export async function snapshot(w, id, { codes = false } = {}) {
  const snap = [await w.row(id), await w.events(id)];
  if (codes) snap.push(await w.codes(id));
  return snap;
}

/** Assert nothing changed since `snapshot`: same row, no new audit event, the same codes (when taken). */
export async function unchanged(w, id, [row, events, codes]) {
  assert.deepEqual(await w.row(id), row, "row must be unchanged");
  assert.equal((await w.events(id)).length, events.length, "no audit event for a refused request");
  if (codes !== undefined) assert.deepEqual(await w.codes(id), codes, "no verification code made or used");
}

/** A stored password: PBKDF2-SHA256 in PHC form, `i=<iterations>`, a 16-byte salt, a 32-byte hash (B64, no padding). */
export const PHC = /^\$pbkdf2-sha256\$i=(\d+),l=32\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/;

/** Whether the stored PHC string is PBKDF2-HMAC-SHA256 of `password`, recomputed in Node (asserts it is one). */
export function verifies(phc, password) {
  const m = phc?.match(PHC);
  assert.ok(m, `not a PBKDF2-SHA256 PHC string: ${phc?.slice(0, 20)}`);
  const [, i, salt, hash] = m;
  return pbkdf2Sync(password, Buffer.from(salt, "base64"), Number(i), 32, "sha256").toString("base64").replace(/=+$/, "") === hash;
}

/** Server-Timing metric names, in order (`kv`, `d1`, `cpu`, ...). */
export function timingNames(headers) {
  return (headers.get("server-timing") ?? "")
    .split(",")
    .map((m) => m.trim().split(";")[0])
    .filter(Boolean);
}

export function sha256(s) {
  return createHash("sha256").update(s).digest("hex");
}

/** The KV cache key of an API key. */
export function kvKeyOf(key) {
  return `key:${sha256(key)}`;
}

/**
 * Every place in `w.log` where one of `secrets` shows up in a response (headers or body). The one
 * response allowed to carry a key is the 201 that issues it; a literal such as "password_hash" is
 * allowed only where the client itself sent it (an error naming the client's own unknown field).
 */
export function leaks(w, secrets, { echoable = ["password_hash", "$pbkdf2"] } = {}) {
  const found = [];
  for (const x of w.log) {
    const issuing = x.method === "POST" && x.path === "/admin/v1/api-keys" && x.status === 201;
    for (const s of secrets) {
      if (!s) continue;
      if (issuing && /^ue_/.test(s)) continue;
      if (echoable.includes(s) && x.request.includes(s)) continue;
      if (x.text.includes(s) || x.headers.includes(s)) found.push(`${x.method} ${x.path} -> ${x.status} leaks ${JSON.stringify(s.slice(0, 24))}`);
    }
  }
  return found;
}
