// API keys on the built worker (Miniflare, real D1 + KV): scopes, expiry and rotation under a
// stale cache (KV entries put back by hand), the issuer's guard against a racing revocation,
// demotion for good, and listings without secrets.
//
//   node --test --test-concurrency=1 --test-timeout=300000 tests/worker/keys.test.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, kvKeyOf, timingNames } from "./support.mjs";

let w, A;
before(async () => {
  w = await startWorker({ cf: false });
  A = await w.seedOrg("keys");
});
after(() => w?.dispose());

const issue = (body) => w.operator("POST", "/api-keys", body);
const hi = (id, key) => w.fetch(`/api/v1/users/${id}`, { headers: { "X-Api-Key": key } });
const upsun = (uuid, key) => w.fetch(`/users/${uuid}`, { headers: { authorization: `Bearer ${key}` } });

test("scopes: a key scoped to one API is that API's 403 elsewhere, before any D1 call; read keys only GET", async () => {
  const u = A.user;
  const scoped = await issue({ user_id: u.id, scopes: ["upsun"] });
  assert.equal(scoped.status, 201, scoped.text);
  assert.deepEqual(scoped.data.scopes, ["upsun"]);
  const refused = await hi(u.id, scoped.data.key);
  assert.equal(refused.status, 403);
  assert.equal(refused.data.error, "forbidden");
  assert.deepEqual(timingNames(refused.headers), ["kv"]);
  assert.equal((await upsun(u.uuid, scoped.data.key)).status, 200);
  const read = await issue({ user_id: u.id, scopes: ["read"] });
  assert.equal((await hi(u.id, read.data.key)).status, 200);
  const write = await w.fetch(`/api/v1/users/${u.id}`, { method: "PATCH", headers: { "X-Api-Key": read.data.key }, json: { user: { name: "x" } } });
  assert.equal(write.status, 403);
});

test("a hand-widened cache entry cannot widen a key: D1's guard refuses it", async () => {
  const u = A.user;
  const { data } = await issue({ user_id: u.id, scopes: ["upsun"] });
  const entry = JSON.parse(await w.kv.get(kvKeyOf(data.key)));
  entry.scopes = null;
  await w.kv.put(kvKeyOf(data.key), JSON.stringify(entry));
  const before = await w.row(u.id);
  const r = await w.fetch(`/api/v1/users/${u.id}`, { method: "PATCH", headers: { "X-Api-Key": data.key }, json: { user: { name: "wide" } } });
  assert.equal(r.status, 401);
  assert.deepEqual(await w.row(u.id), before);
});

test("expiry: a past expires_at is 422; an expired key is 401 even when KV forgot its expiry", async () => {
  const u = A.other;
  const past = await issue({ user_id: u.id, expires_at: "2020-01-01T00:00:00Z" });
  assert.equal(past.status, 422);
  const soon = new Date(Date.now() + 1500).toISOString();
  const { data } = await issue({ user_id: u.id, expires_at: soon });
  assert.equal((await hi(u.id, data.key)).status, 200);
  const entry = JSON.parse(await w.kv.get(kvKeyOf(data.key)));
  await new Promise((r) => setTimeout(r, 1700));
  assert.equal((await hi(u.id, data.key)).status, 401, "the KV entry knows the expiry");
  entry.expires_at = null;
  await w.kv.put(kvKeyOf(data.key), JSON.stringify(entry));
  assert.equal((await hi(u.id, data.key)).status, 401, "D1 knows it too");
});

test("rotation: the old key works for the overlap, then is refused; events name key and issuer, never the key", async () => {
  const u = A.other;
  const old = await issue({ user_id: u.id, name: "ci", scopes: ["hienergy"] });
  const rotated = await w.operator("POST", `/api-keys/${old.data.id}/rotate`, { overlap_seconds: 2 });
  assert.equal(rotated.status, 201, rotated.text);
  assert.equal(rotated.data.name, "ci");
  assert.deepEqual(rotated.data.scopes, ["hienergy"]);
  assert.equal((await hi(u.id, old.data.key)).status, 200);
  assert.equal((await hi(u.id, rotated.data.key)).status, 200);
  await new Promise((r) => setTimeout(r, 2200));
  assert.equal((await hi(u.id, old.data.key)).status, 401);
  assert.equal((await hi(u.id, rotated.data.key)).status, 200);
  const events = await w.operator("GET", `/users/${u.id}/events`);
  const text = JSON.stringify(events.data);
  assert.match(text, /api_key\.rotated/);
  assert.ok(!text.includes(rotated.data.key) && !text.includes(old.data.key));
});

test("8 rotations of one key racing: one successor (201), the rest 409, no 5xx", async () => {
  const { data: old } = await issue({ user_id: A.user.id, name: "raced" });
  const replies = await Promise.all(
    Array.from({ length: 8 }, () => w.operator("POST", `/api-keys/${old.id}/rotate`, { overlap_seconds: 600 })),
  );
  const statuses = replies.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409, 409, 409], replies.map((r) => r.text).join("\n"));
  const { results } = await w.db.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE rotated_from = ?").bind(old.id).all();
  assert.equal(results[0].n, 1);
});

test("a scoped, expiring admin key issues no key that outlives it or reaches another API", async () => {
  const soon = new Date(Date.now() + 3600_000).toISOString();
  const { data: narrow } = await issue({ user_id: A.admin.id, scopes: ["admin"], expires_at: soon });
  const as = (body) => w.fetch("/admin/v1/api-keys", { method: "POST", headers: { authorization: `Bearer ${narrow.key}` }, json: body });
  const wide = await as({ user_id: A.user.id });
  assert.equal(wide.status, 403, wide.text);
  assert.deepEqual(wide.data.errors.map((e) => e.field), ["scopes", "expires_at"]);
  const within = await as({ user_id: A.admin.id, scopes: ["admin"], expires_at: soon });
  assert.equal(within.status, 201, within.text);
  // The operator API takes admin keys only: on a user's key, its scope is refused, naming it.
  const useless = await as({ user_id: A.user.id, scopes: ["admin"], expires_at: soon });
  assert.equal(useless.status, 422, useless.text);
  assert.deepEqual(useless.data.errors.map((e) => e.field), ["scopes"]);
});

test("40 keys issued by one admin key racing its revocation: none created after the revocation committed", async () => {
  const admin = A.admin;
  const issuer = await w.createKey(admin.id);
  const auth = { authorization: `Bearer ${issuer.key}` };
  const issues = Array.from({ length: 40 }, () => w.fetch("/admin/v1/api-keys", { method: "POST", headers: auth, json: { user_id: A.user.id } }));
  const revoke = w.operator("DELETE", `/api-keys/${issuer.id}`);
  const results = await Promise.all([...issues, revoke]);
  assert.ok(results.every((r) => r.status < 500), results.map((r) => r.status).join(","));
  const { revoked_at } = await w.db.prepare("SELECT revoked_at FROM api_keys WHERE id = ?").bind(issuer.id).first();
  const { results: minted } = await w.db
    .prepare("SELECT created_at FROM api_keys WHERE created_by = ?")
    .bind(String(issuer.id))
    .all();
  assert.ok(minted.every((k) => k.created_at <= revoked_at), `a key created after ${revoked_at}: ${JSON.stringify(minted)}`);
  const after = await w.fetch("/admin/v1/api-keys", { method: "POST", headers: auth, json: { user_id: A.user.id } });
  assert.equal(after.status, 401);
});

test("demotion retires admin keys for good; listings carry no secret", async () => {
  const second = await w.createUser({ org_id: A.org.id, email: "admin2@keys.test", admin: true });
  const key = await w.createKey(second.id);
  const own = { authorization: `Bearer ${key.key}` };
  assert.equal((await w.fetch(`/admin/v1/users/${second.id}`, { headers: own })).status, 200);
  assert.equal((await w.operator("PATCH", `/users/${second.id}`, { admin: false })).status, 200);
  assert.equal((await w.fetch(`/admin/v1/users/${second.id}`, { headers: own })).status, 403);
  assert.equal((await w.operator("PATCH", `/users/${second.id}`, { admin: true })).status, 200);
  assert.equal((await w.fetch(`/admin/v1/users/${second.id}`, { headers: own })).status, 401);
  const list = await w.operator("GET", `/api-keys?org_id=${A.org.id}`);
  assert.equal(list.status, 200);
  assert.ok(list.data.api_keys.length >= 5);
  assert.ok(!list.text.includes("digest") && !list.text.includes(key.key));
  assert.ok(list.data.api_keys.some((k) => k.last_used_at), "last_used_at is noted after use");
});
