// Operator API (/admin/v1): orgs, users, API keys, audit events; problem+json errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWithOrgs, OPERATOR_TOKEN, sha256, kvKeyOf, leaks } from "./support.mjs";

let w, A, B;
before(async () => {
  ({ w, A, B } = await startWithOrgs());
});
after(() => w?.dispose());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const KEY = /^ue_[A-Za-z0-9_-]{43}$/;

/** Operator API call with an arbitrary credential (`auth` is the whole Authorization value). */
function call(method, path, { json, auth, headers = {}, body } = {}) {
  const h = { ...headers };
  if (auth) h.authorization = auth;
  return w.fetch("/admin/v1" + path, { method, json, body, headers: h });
}

/** Assert an RFC 9457 problem with this status. */
function problem(r, status) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get("content-type"), "application/problem+json");
  assert.equal(r.data.status, status);
  assert.equal(typeof r.data.type, "string");
  assert.equal(typeof r.data.title, "string");
  assert.equal(typeof r.data.detail, "string");
}

const issued = [];

// ---------------------------------------------------------------- orgs

test("POST /orgs → 201 {id, uuid, name, created_at}", async () => {
  const r = await w.operator("POST", "/orgs", { name: "Gamma Inc." });
  assert.equal(r.status, 201, r.text);
  assert.match(r.headers.get("content-type"), /^application\/json/);
  assert.deepEqual(Object.keys(r.data).sort(), ["created_at", "id", "name", "uuid"]);
  assert.ok(Number.isInteger(r.data.id) && r.data.id > 0);
  assert.match(r.data.uuid, UUID);
  assert.equal(r.data.name, "Gamma Inc.");
  assert.match(r.data.created_at, TS);
  const row = await w.db.prepare("SELECT * FROM orgs WHERE id = ?").bind(r.data.id).first();
  assert.deepEqual(row, r.data);
});

test("GET /orgs pages through every org for the operator; GET /orgs/{id} reads one as created", async () => {
  const created = await w.operator("POST", "/orgs", { name: "Listed Ltd." });
  assert.equal(created.status, 201, created.text);
  const all = (await w.db.prepare("SELECT id FROM orgs ORDER BY id").all()).results.map((o) => o.id);
  const seen = [];
  let path = "/orgs?limit=1";
  for (;;) {
    const page = await w.operator("GET", path);
    assert.equal(page.status, 200, page.text);
    assert.equal(page.data.orgs.length <= 1, true);
    seen.push(...page.data.orgs.map((o) => o.id));
    if (page.data.next_cursor === null) break;
    path = `/orgs?limit=1&cursor=${encodeURIComponent(page.data.next_cursor)}`;
  }
  assert.deepEqual(seen, all);
  const one = await w.operator("GET", `/orgs/${created.data.id}`);
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(one.data, created.data);
  problem(await w.operator("GET", "/orgs/987654321"), 404);
  const bad = await w.operator("GET", "/orgs?limit=500&cursor=nope");
  problem(bad, 422);
  assert.deepEqual(bad.data.errors.map((e) => e.field), ["limit", "cursor"]);
});

test("POST /orgs: missing, blank, too long or extra fields → 422 naming each", async () => {
  const before = (await w.db.prepare("SELECT COUNT(*) AS n FROM orgs").first()).n;
  for (const [json, fields] of [
    [{}, ["name"]],
    [{ name: "   " }, ["name"]],
    [{ name: 5 }, ["name"]],
    [{ name: "x".repeat(256) }, ["name"]],
    [{ name: "Ok", id: 1, plan: "enterprise" }, ["id", "plan"]],
  ]) {
    const r = await w.operator("POST", "/orgs", json);
    problem(r, 422);
    assert.ok(Array.isArray(r.data.errors));
    assert.deepEqual(r.data.errors.map((e) => e.field).sort(), fields, JSON.stringify(json));
    assert.ok(r.data.errors.every((e) => typeof e.message === "string" && e.message));
  }
  assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM orgs").first()).n, before);
});

// ---------------------------------------------------------------- users

test("POST /users → 201 canonical user + ETag; GET /users/{id} → 200 the same", async () => {
  const r = await w.operator("POST", "/users", {
    org_id: A.org.id,
    email: "Canon@Example.COM",
    username: "canon",
    name: "Can On",
    given_name: "Can",
    family_name: "On",
    admin: false,
    password: "correct horse battery",
  });
  assert.equal(r.status, 201, r.text);
  assert.match(r.headers.get("content-type"), /^application\/json/);
  assert.equal(r.headers.get("etag"), '"1"');
  const u = r.data;
  assert.ok(Number.isInteger(u.id));
  assert.match(u.uuid, UUID);
  assert.equal(u.org_id, A.org.id);
  assert.equal(u.email, "Canon@Example.COM", "stored as sent (compared on its canonical key)");
  assert.equal(u.username, "canon");
  assert.equal(u.name, "Can On");
  assert.equal(u.given_name, "Can");
  assert.equal(u.family_name, "On");
  assert.equal(u.admin, false);
  assert.equal(u.version, 1);
  assert.equal(u.password_set, true);
  assert.equal(u.email_verified, false);
  assert.equal(u.deactivated, false);
  assert.deepEqual(u.attributes, {});
  assert.match(u.created_at, TS);
  assert.equal(u.updated_at, u.created_at);
  for (const k of Object.keys(u)) assert.match(k, /^[a-z0-9_]+$/, "snake_case");
  assert.equal(u.password, undefined);
  assert.equal(u.password_hash, undefined);
  assert.equal(u.last_write, undefined);
  assert.ok(!r.text.includes("correct horse"));
  assert.ok(!r.text.includes("pbkdf2"));

  const g = await w.operator("GET", `/users/${u.id}`);
  assert.equal(g.status, 200, g.text);
  assert.equal(g.headers.get("etag"), '"1"');
  assert.deepEqual(g.data, u);

  const row = await w.row(u.id);
  assert.equal(row.org_id, A.org.id);
  assert.match(row.password_hash, /^\$pbkdf2-sha256\$i=1000,l=32\$/);

  const ev = await w.events(u.id);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].action, "create");
  assert.equal(ev[0].actor_key_id, null, "the operator acted");
  assert.deepEqual(JSON.parse(ev[0].fields), ["email", "username", "name", "given_name", "family_name", "password"]);
  assert.ok(!JSON.stringify(ev).includes("correct horse"));
});

test("POST /users: only org_id and email are needed; password_set false without one", async () => {
  const r = await w.operator("POST", "/users", { org_id: A.org.id, email: "minimal@acme.test" });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.data.password_set, false);
  assert.equal(r.data.admin, false);
  assert.equal(r.data.name, null);
  assert.equal((await w.row(r.data.id)).password_hash, null);
  const admin = await w.operator("POST", "/users", { org_id: A.org.id, email: "boss@acme.test", admin: true });
  assert.equal(admin.status, 201, admin.text);
  assert.equal(admin.data.admin, true);
  assert.equal((await w.row(admin.data.id)).admin, 1);
});

test("POST /users: every bad field named (422), nothing inserted", async () => {
  const count = async () => (await w.db.prepare("SELECT COUNT(*) AS n FROM users").first()).n;
  const before = await count();
  const r = await w.operator("POST", "/users", {
    email: "nope",
    username: "has space",
    admin: "yes",
    password: "short",
    name: 7,
    role: "root",
    password_hash: "$pbkdf2-sha256$i=1,l=32$AA$AA",
    id: 5,
  });
  problem(r, 422);
  assert.deepEqual(r.data.errors.map((e) => e.field).sort(), ["admin", "email", "id", "name", "org_id", "password", "password_hash", "role", "username"]);
  assert.ok(!r.text.includes('"short"'), "password value not echoed");
  assert.equal(await count(), before);
});

test("POST /users: an email taken in the org → 409 problem naming email; nothing inserted", async () => {
  const count = async () => (await w.db.prepare("SELECT COUNT(*) AS n FROM users").first()).n;
  // Another org may use it.
  const ok = await w.operator("POST", "/users", { org_id: B.org.id, email: A.user.email });
  assert.equal(ok.status, 201, ok.text);
  const before = await count();
  const r = await w.operator("POST", "/users", { org_id: A.org.id, email: A.user.email.toUpperCase().replace("ACME.TEST", "acme.test") });
  assert.equal(await count(), before, "nothing inserted");
  problem(r, 409);
  assert.deepEqual(r.data.errors.map((e) => e.field), ["email"]);
});

test("POST /users into an org that doesn't exist → 404, nothing inserted", async () => {
  const r = await w.operator("POST", "/users", { org_id: 999999, email: "ghost@nowhere.test" });
  problem(r, 404);
  const row = await w.db.prepare("SELECT id FROM users WHERE email = ?").bind("ghost@nowhere.test").first();
  assert.equal(row, null);
});

test("GET /users/{id}: missing or malformed id → 404 problem", async () => {
  for (const id of ["999999", "0", "abc"]) {
    problem(await w.operator("GET", `/users/${id}`), 404);
  }
});

// ---------------------------------------------------------------- events

test("GET /users/{id}/events → 200 {events} newest first, field names only", async () => {
  const u = await w.createUser({ org_id: A.org.id, email: "evented@acme.test" });
  const k = await w.createKey(u.id);
  issued.push(k.key);
  let r = await w.hi("PATCH", u.id, k.key, { json: { user: { name: "First Change" } } });
  assert.equal(r.status, 200, r.text);
  r = await w.hi("PATCH", u.id, A.adminKey, { json: { user: { publisher_id: 42, based_in: "Oslo" } } });
  assert.equal(r.status, 200, r.text);
  const e = await w.operator("GET", `/users/${u.id}/events`);
  assert.equal(e.status, 200, e.text);
  assert.deepEqual(Object.keys(e.data), ["events"]);
  // The key's own event (issue 10) sits in the owner's history, naming the key and the issuer.
  const keyEvents = e.data.events.filter((x) => x.action.startsWith("api_key."));
  assert.deepEqual(keyEvents.map((x) => [x.action, x.detail.key_id, x.detail.issuer]), [["api_key.created", k.id, "operator"]]);
  const evs = e.data.events.filter((x) => !x.action.startsWith("api_key."));
  assert.equal(evs.length, 3);
  assert.deepEqual(evs.map((x) => x.version), [3, 2, 1], "newest first");
  assert.ok(evs[0].id > evs[1].id && evs[1].id > evs[2].id);
  assert.deepEqual(evs.map((x) => x.action), ["update", "update", "create"]);
  assert.deepEqual(evs.map((x) => x.dialect), ["hienergy", "hienergy", "admin"]);
  assert.deepEqual(evs[0].fields, ["based_in", "publisher_id"]);
  assert.deepEqual(evs[1].fields, ["name"]);
  assert.deepEqual(evs[2].fields, ["email"]);
  assert.deepEqual(evs.map((x) => x.actor_key_id), [A.keys.admin.id, k.id, null]);
  for (const x of evs) {
    assert.equal(x.user_id, u.id);
    assert.match(x.at, TS);
  }
  assert.ok(!e.text.includes("First Change") && !e.text.includes("Oslo"), "never values");
  problem(await w.operator("GET", "/users/999999/events"), 404);
});

// ---------------------------------------------------------------- API keys

test("POST /api-keys → 201 {id, key, prefix, name, role, user_id, scopes, expires_at, created_at, created_by}; only the digest is stored; KV holds the principal", async () => {
  const r = await w.operator("POST", "/api-keys", { user_id: A.user.id });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(Object.keys(r.data).sort(), ["created_at", "created_by", "expires_at", "id", "key", "name", "prefix", "role", "scopes", "user_id"]);
  assert.equal(r.data.created_by, "operator");
  const { id, key, prefix, role, user_id } = r.data;
  issued.push(key);
  assert.match(key, KEY);
  assert.equal(prefix, key.slice(0, 11));
  assert.equal(role, "user");
  assert.equal(user_id, A.user.id);
  const row = await w.keyRow(id);
  assert.equal(row.digest, sha256(key));
  assert.equal(row.prefix, prefix);
  assert.equal(row.role, "user");
  assert.equal(row.user_id, A.user.id);
  assert.equal(row.org_id, A.org.id);
  assert.equal(row.revoked_at, null);
  const { results } = await w.db.prepare("SELECT * FROM api_keys").all();
  assert.ok(!JSON.stringify(results).includes(key), "the key itself is stored nowhere in D1");
  const cached = JSON.parse(await w.kv.get(kvKeyOf(key)));
  assert.equal(cached.key_id, id);
  assert.equal(cached.user_id, A.user.id);
  assert.equal(cached.user_uuid, A.user.uuid);
  assert.equal(cached.org_id, A.org.id);
  assert.equal(cached.role, "user");
  assert.ok(!JSON.stringify(cached).includes(key));
  // An admin's key has the admin role; the key works at once.
  const a = await w.operator("POST", "/api-keys", { user_id: A.admin.id });
  assert.equal(a.status, 201, a.text);
  issued.push(a.data.key);
  assert.equal(a.data.role, "admin");
  assert.equal((await w.keyRow(a.data.id)).role, "admin");
  const use = await w.hi("GET", A.user.id, a.data.key);
  assert.equal(use.status, 200, use.text);
  // Two keys are never the same.
  assert.notEqual(a.data.key, key);
});

test("POST /api-keys: unknown user → 404; bad body → 422 naming fields", async () => {
  problem(await w.operator("POST", "/api-keys", { user_id: 999999 }), 404);
  const r = await w.operator("POST", "/api-keys", { user_id: "1", role: "admin" });
  problem(r, 422);
  assert.deepEqual(r.data.errors.map((e) => e.field).sort(), ["role", "user_id"]);
  const r2 = await w.operator("POST", "/api-keys", {});
  problem(r2, 422);
  assert.deepEqual(r2.data.errors.map((e) => e.field), ["user_id"]);
});

test("DELETE /api-keys/{id} → 204: D1 row marked, KV entry deleted, key refused; revoking twice → 204 both times", async () => {
  const k = await w.createKey(A.other.id);
  issued.push(k.key);
  assert.ok(await w.kv.get(kvKeyOf(k.key)));
  let r = await w.operator("DELETE", `/api-keys/${k.id}`);
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, "");
  const row = await w.keyRow(k.id);
  assert.match(row.revoked_at, TS);
  assert.equal(await w.kv.get(kvKeyOf(k.key)), null);
  const use = await w.hi("GET", A.other.id, k.key);
  assert.equal(use.status, 401, use.text);
  r = await w.operator("DELETE", `/api-keys/${k.id}`);
  assert.equal(r.status, 204, r.text);
  assert.equal((await w.keyRow(k.id)).revoked_at, row.revoked_at, "the first revocation time is kept");
  problem(await w.operator("DELETE", "/api-keys/999999"), 404);
  problem(await w.operator("DELETE", "/api-keys/abc"), 404);
});

// ---------------------------------------------------------------- who may call

/** One call to each operator route, as [method, path, json]: the user it creates has `email`, the key it revokes is `keyId`. */
function everyRoute(email, keyId) {
  return [
    ["POST", "/orgs", { name: "Nope" }],
    ["POST", "/users", { org_id: A.org.id, email }],
    ["GET", `/users/${A.user.id}`],
    ["GET", `/users/${A.user.id}/events`],
    ["POST", "/api-keys", { user_id: A.user.id }],
    ["DELETE", `/api-keys/${keyId}`],
  ];
}

test("no auth → 401; wrong operator token → 401; problem+json", async () => {
  for (const auth of [undefined, "Bearer wrong-token", `Bearer ${OPERATOR_TOKEN}x`, `Basic ${OPERATOR_TOKEN}`, `Bearer ue_${"A".repeat(43)}`]) {
    for (const [method, path, json] of everyRoute("nope@acme.test", A.keys.user.id)) {
      const r = await call(method, path, { json, auth });
      problem(r, 401);
    }
  }
  assert.equal(await w.db.prepare("SELECT id FROM users WHERE email = 'nope@acme.test'").first(), null);
  assert.equal((await w.keyRow(A.keys.user.id)).revoked_at, null);
});

test("a user key on the operator API → 403 problem, nothing done", async () => {
  for (const auth of [`Bearer ${A.userKey}`]) {
    for (const [method, path, json] of everyRoute("nope2@acme.test", A.keys.other.id)) {
      problem(await call(method, path, { json, auth }), 403);
    }
  }
  // X-Api-Key works as the credential too, with the same answer.
  problem(await call("GET", `/users/${A.user.id}`, { headers: { "x-api-key": A.userKey } }), 403);
  assert.equal(await w.db.prepare("SELECT id FROM users WHERE email = 'nope2@acme.test'").first(), null);
  assert.equal((await w.keyRow(A.keys.other.id)).revoked_at, null);
});

test("an org admin's key: users, keys, events in its own org; 404 for another org's; POST /orgs → 403", async () => {
  const auth = `Bearer ${A.adminKey}`;
  // Own org.
  const u = await call("POST", "/users", { auth, json: { org_id: A.org.id, email: "by-admin@acme.test", name: "By Admin" } });
  assert.equal(u.status, 201, u.text);
  assert.equal(u.data.org_id, A.org.id);
  const ev = await w.events(u.data.id);
  assert.equal(ev[0].actor_key_id, A.keys.admin.id);
  const k = await call("POST", "/api-keys", { auth, json: { user_id: u.data.id } });
  assert.equal(k.status, 201, k.text);
  issued.push(k.data.key);
  assert.equal(k.data.role, "user");
  const g = await call("GET", `/users/${A.user.id}`, { auth });
  assert.equal(g.status, 200, g.text);
  assert.equal(g.data.id, A.user.id);
  const e = await call("GET", `/users/${A.user.id}/events`, { auth });
  assert.equal(e.status, 200, e.text);
  const d = await call("DELETE", `/api-keys/${k.data.id}`, { auth });
  assert.equal(d.status, 204, d.text);
  assert.ok((await w.keyRow(k.data.id)).revoked_at);
  // X-Api-Key is accepted too.
  const x = await call("GET", `/users/${A.user.id}`, { headers: { "x-api-key": A.adminKey } });
  assert.equal(x.status, 200, x.text);

  // Another org: 404, never 403, and nothing happens.
  problem(await call("POST", "/users", { auth, json: { org_id: B.org.id, email: "intruder@beta.test" } }), 404);
  assert.equal(await w.db.prepare("SELECT id FROM users WHERE email = 'intruder@beta.test'").first(), null);
  problem(await call("GET", `/users/${B.user.id}`, { auth }), 404);
  problem(await call("GET", `/users/${B.user.id}/events`, { auth }), 404);
  const keysBefore = (await w.db.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE user_id = ?").bind(B.user.id).first()).n;
  problem(await call("POST", "/api-keys", { auth, json: { user_id: B.user.id } }), 404);
  assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE user_id = ?").bind(B.user.id).first()).n, keysBefore);

  // An admin key reads its own org; every other org is 404 to it, and creating one is the operator's alone.
  const listed = await call("GET", "/orgs", { auth });
  assert.equal(listed.status, 200, listed.text);
  assert.deepEqual(listed.data.orgs.map((o) => o.id), [A.org.id]);
  assert.equal((await call("GET", `/orgs/${A.org.id}`, { auth })).status, 200);
  problem(await call("GET", `/orgs/${B.org.id}`, { auth }), 404);
  problem(await call("GET", "/orgs", { headers: { "x-api-key": A.userKey } }), 403);
  const orgsBefore = (await w.db.prepare("SELECT COUNT(*) AS n FROM orgs").first()).n;
  problem(await call("POST", "/orgs", { auth, json: { name: "Admin's Own Org" } }), 403);
  assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM orgs").first()).n, orgsBefore);
});

test("revoking another org's key with an admin key → 404; the key stays valid", async () => {
  const r = await call("DELETE", `/api-keys/${B.keys.user.id}`, { auth: `Bearer ${A.adminKey}` });
  problem(r, 404);
  assert.equal((await w.keyRow(B.keys.user.id)).revoked_at, null);
  assert.ok(await w.kv.get(kvKeyOf(B.userKey)), "KV entry untouched");
  const use = await w.hi("GET", B.user.id, B.userKey);
  assert.equal(use.status, 200, use.text);
});

// ---------------------------------------------------------------- transport errors

test("operator API: 405 for a wrong method, 404 for unknown paths, 415/400/413 for bad bodies", async () => {
  const orgs405 = await w.operator("PUT", "/orgs", { name: "x" });
  problem(orgs405, 405);
  assert.equal(orgs405.headers.get("allow"), "GET, HEAD, POST");
  problem(await w.operator("DELETE", `/orgs/${A.org.id}`), 405);
  problem(await w.operator("PUT", `/users/${A.user.id}`, { name: "x" }), 405);
  problem(await w.operator("GET", `/users/${A.user.id}/deactivate`), 405);
  problem(await w.operator("GET", "/nothing-here"), 404);
  problem(await w.fetch("/nothing-at-all"), 404);
  const auth = `Bearer ${OPERATOR_TOKEN}`;
  const count = async () => (await w.db.prepare("SELECT COUNT(*) AS n FROM orgs").first()).n;
  const before = await count();
  problem(await call("POST", "/orgs", { auth, body: '{"name":"Plain"}', headers: { "content-type": "text/plain" } }), 415);
  problem(await call("POST", "/orgs", { auth, body: '{"name":', headers: { "content-type": "application/json" } }), 400);
  problem(await call("POST", "/orgs", { auth, body: JSON.stringify({ name: "Big" }) + " ".repeat(65 * 1024), headers: { "content-type": "application/json" } }), 413);
  problem(await call("POST", "/orgs", { auth, body: "" }), 422);
  assert.equal(await count(), before);
});

test("openapi.json is served", async () => {
  const r = await w.fetch("/openapi.json");
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "application/json");
  assert.equal(typeof r.data, "object");
});

test("no response in this file carried an API key (other than the 201 issuing it), a digest or a password hash", async () => {
  const { results: keys } = await w.db.prepare("SELECT digest FROM api_keys").all();
  const { results: hashes } = await w.db.prepare("SELECT password_hash FROM users WHERE password_hash IS NOT NULL").all();
  assert.ok(hashes.length > 0);
  const secrets = [
    A.adminKey, A.userKey, A.otherKey, B.adminKey, B.userKey, B.otherKey, ...issued,
    ...keys.map((k) => k.digest), ...hashes.map((h) => h.password_hash),
    "correct horse battery", "$pbkdf2", "password_hash",
  ];
  assert.deepEqual(leaks(w, secrets), []);
});
