// Serve a Worker with Miniflare on a loopback port, with local (SQLite-backed) D1 and KV persisted
// in a folder, and seed the same data into any of them. Every target of the benchmark goes
// through this one function, so runtime, storage and settings are identical.
import { Miniflare } from "miniflare";
import childProcess from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { statements } from "../../tests/worker/support.mjs";

export const COMPAT_DATE = "2026-04-26";

// When Miniflare spawns workerd: the Workers runtime's own start. What `new Miniflare` does before that is
// assembling and encoding workerd's configuration in node, which a deployment never runs, and which grows
// with every module's size times the configuration that follows it (its capnp arena regrows by copying
// itself whole: cloudflare/workers-sdk#15271). Miniflare looks `spawn` up on the module when it calls it.
let workerdSpawnedAt = null;
const spawn = childProcess.spawn;
childProcess.spawn = function (command, ...rest) {
  if (/workerd/.test(String(command))) workerdSpawnedAt = performance.now();
  return spawn.call(this, command, ...rest);
};


const sha256 = (s) => createHash("sha256").update(s).digest("hex");
/** A deterministic, well-formed API key (`ue_` + 43 base64url characters). */
const makeKey = (label) => "ue_" + createHash("sha256").update("users-edge-bench:" + label).digest("base64url");

/** The seeded cast, identical for every target. */
export const SEED = {
  now: "2026-01-01T00:00:00.000Z",
  orgs: [
    { id: 1, uuid: "0b7c5a1e-4c1b-4f55-9d57-000000000001", name: "Bench Org" },
    { id: 2, uuid: "0b7c5a1e-4c1b-4f55-9d57-000000000002", name: "Elsewhere" },
  ],
  users: [
    { id: 1, org_id: 1, uuid: "5a3f0c8e-0000-4000-8000-000000000001", email: "ada@bench.example", name: "Ada Admin", admin: 1 },
    { id: 2, org_id: 1, uuid: "5a3f0c8e-0000-4000-8000-000000000002", email: "uma@bench.example", name: "Uma User", admin: 0 },
    { id: 3, org_id: 1, uuid: "5a3f0c8e-0000-4000-8000-000000000003", email: "otto@bench.example", name: "Otto Other", admin: 0 },
    { id: 4, org_id: 2, uuid: "5a3f0c8e-0000-4000-8000-000000000004", email: "eve@elsewhere.example", name: "Eve Elsewhere", admin: 0 },
    // Deleted: the tombstone a delete leaves (its ids kept, personal fields erased), which no read may return.
    { id: 5, org_id: 1, uuid: "5a3f0c8e-0000-4000-8000-000000000005", email: "", name: null, admin: 0, deleted_at: "2026-01-02T00:00:00.000Z" },
  ],
  keys: [
    { id: 1, user_id: 1, role: "admin", key: makeKey("admin") },
    { id: 2, user_id: 2, role: "user", key: makeKey("user") },
    { id: 3, user_id: 3, role: "user", key: makeKey("other") },
    // Uma's keys that must not work here: one past its expiry, one scoped to another API (Upsun).
    { id: 4, user_id: 2, role: "user", key: makeKey("expired"), expires_at: "2026-01-01T00:00:00.000Z" },
    { id: 5, user_id: 2, role: "user", key: makeKey("scoped"), scopes: ["upsun"] },
  ],
};
export const KEYS = {
  admin: SEED.keys[0].key,
  user: SEED.keys[1].key,
  other: SEED.keys[2].key,
  expired: SEED.keys[3].key,
  scoped: SEED.keys[4].key,
};

/** Apply migrations/*.sql and insert the cast into D1, and the key cache entries into KV. */
export async function seed(mf, root) {
  const db = await mf.getD1Database("DB");
  const dir = join(root, "migrations");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    for (const stmt of statements(readFileSync(join(dir, file), "utf8"))) await db.prepare(stmt).run();
  }
  const { now } = SEED;
  for (const o of SEED.orgs) {
    await db.prepare("INSERT INTO orgs (id, uuid, name, created_at) VALUES (?, ?, ?, ?)").bind(o.id, o.uuid, o.name, now).run();
  }
  for (const u of SEED.users) {
    await db
      // A live user's address is compared on its key (the unique index is on it, migration 0007); a tombstone has none.
      .prepare("INSERT INTO users (id, uuid, org_id, email, email_key, name, admin, created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(u.id, u.uuid, u.org_id, u.email, u.deleted_at ? null : u.email.toLowerCase(), u.name, u.admin, now, now, u.deleted_at ?? null)
      .run();
  }
  const kv = await mf.getKVNamespace("API_KEYS");
  for (const k of SEED.keys) {
    const u = SEED.users.find((x) => x.id === k.user_id);
    const digest = sha256(k.key);
    const scopes = k.scopes ? JSON.stringify(k.scopes) : null;
    await db
      .prepare("INSERT INTO api_keys (id, digest, prefix, user_id, org_id, role, created_at, scopes, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(k.id, digest, k.key.slice(0, 11), k.user_id, u.org_id, k.role, now, scopes, k.expires_at ?? null)
      .run();
    // The cache entry as users-edge writes it (the peer reads the same one).
    const principal = { key_id: k.id, user_id: k.user_id, user_uuid: u.uuid, org_id: u.org_id, role: k.role, scopes: k.scopes ?? null, expires_at: k.expires_at ?? null };
    await kv.put(`key:${digest}`, JSON.stringify(principal));
  }
}

/** PIDs of the workerd processes this node process has spawned. */
export function workerdChildren() {
  const out = new Set();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const m = readFileSync(`/proc/${d}/stat`, "utf8").match(/^(\d+) \((.*)\) \S (\d+)/);
      if (m && Number(m[3]) === process.pid && m[2] === "workerd") out.add(Number(m[1]));
    } catch {
      // the process went away while we looked
    }
  }
  return out;
}

/** user+system CPU seconds a process has used so far. */
export function cpuSeconds(pid, ticksPerSecond) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond; // utime, stime (fields 14, 15)
}

/**
 * Start one target on 127.0.0.1 (a free port). `target` = {name, scriptPath, wasm?, bindings?}.
 * Returns {mf, url, pid, startedMs, readyMs}.
 */
export async function start(target, persistDir) {
  const before = workerdChildren();
  workerdSpawnedAt = null;
  const t0 = performance.now();
  const mf = new Miniflare({
    modules: true,
    scriptPath: target.scriptPath,
    modulesRules: target.wasm
      ? [
          { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
          { type: "CompiledWasm", include: ["**/*.wasm"] },
        ]
      : undefined,
    compatibilityDate: COMPAT_DATE,
    host: "127.0.0.1",
    port: 0,
    cf: false, // never fetch a Request.cf template from the internet: loopback only
    d1Databases: { DB: "bench-db" },
    kvNamespaces: { API_KEYS: "bench-kv" },
    d1Persist: persistDir,
    kvPersist: persistDir,
    bindings: { ADMIN_TOKEN: "bench-operator-token", ...(target.bindings ?? {}) },
    ...(target.inspectorPort ? { inspectorPort: target.inspectorPort } : {}),
  });
  const url = await mf.ready;
  const readyMs = performance.now() - t0;
  const pids = [...workerdChildren()].filter((p) => !before.has(p));
  const spawnedAt = workerdSpawnedAt;
  return { mf, url: url.href.replace(/\/$/, ""), pid: pids[0], t0, spawnedAt, readyMs, inspectorPort: target.inspectorPort };
}
