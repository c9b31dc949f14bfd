// Security properties: revoked keys and demoted admins under a stale KV cache, D1 as the
// authority, and secrets (passwords, hashes, keys, digests) never leaving the store.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, startWithOrgs, timingNames, OPERATOR_TOKEN, kvKeyOf, leaks, sha256, snapshot, unchanged, PHC, verifies } from "./support.mjs";

let w, A, B;
before(async () => {
  ({ w, A, B } = await startWithOrgs());
});
after(() => w?.dispose());

const passwords = [];
/** A fresh member of `org` with its own key (see support.mjs). */
const member = (org, fields = {}) => w.member(org, fields, "s");

// ---------------------------------------------------------------- revoked keys

test("revoked key: refused at once (401 for PATCH and GET), and still refused when its KV entry is put back by hand", async () => {
  const m = await member(A);
  const kvKey = kvKeyOf(m.key);
  const saved = await w.kv.get(kvKey);
  assert.ok(saved, "the key is cached in KV when issued");
  assert.equal(JSON.parse(saved).key_id, m.keyId);

  const del = await w.operator("DELETE", `/api-keys/${m.keyId}`);
  assert.equal(del.status, 204, del.text);
  assert.equal(await w.kv.get(kvKey), null, "revocation drops the KV entry");
  assert.ok((await w.keyRow(m.keyId)).revoked_at, "D1 row marked revoked");
  const [row, events] = await snapshot(w, m.user.id);

  let r = await w.hi("PATCH", m.user.id, m.key, { json: { user: { name: "After Revoke" } } });
  assert.equal(r.status, 401, r.text);
  assert.equal(r.data.error, "unauthorized");
  r = await w.hi("GET", m.user.id, m.key);
  assert.equal(r.status, 401, r.text);
  assert.equal(r.data.data, undefined);
  await unchanged(w, m.user.id, [row, events]);

  // A stale cache: the entry comes back exactly as it was.
  await w.kv.put(kvKey, saved);
  r = await w.hi("PATCH", m.user.id, m.key, { json: { user: { name: "Stale Cache" } } });
  assert.equal(r.status, 401, r.text);
  assert.equal(r.data.error, "unauthorized");
  await unchanged(w, m.user.id, [row, events]);
  r = await w.hi("GET", m.user.id, m.key);
  assert.equal(r.status, 401, r.text);
  assert.equal(r.data.data, undefined, "no user data for a revoked key");
  for (const [label, init, id] of [
    ["empty update", { json: {} }, m.user.id],
    ["If-Match *", { json: { user: { name: "x" } }, headers: { "if-match": "*" } }, m.user.id],
    ["another user of the org", { json: { user: { name: "x" } } }, A.other.id],
    ["a user of another org", { json: { user: { name: "x" } } }, B.user.id],
    ["a missing user", { json: { user: { name: "x" } } }, 999999],
  ]) {
    const x = await w.hi("PATCH", id, m.key, init);
    assert.equal(x.status, 401, `${label}: ${x.text}`);
  }
  await unchanged(w, m.user.id, [row, events]);
  assert.equal((await w.row(A.other.id)).name, A.other.name);
});

test("revoked key with a restored KV entry sending admin-only fields: refused and nothing changes", async () => {
  // Policy answers this one before D1 is asked, so today the status is the policy's 403 (naming
  // the field) rather than 401; what must hold either way is that nothing is written.
  const m = await member(A);
  const saved = await w.kv.get(kvKeyOf(m.key));
  assert.equal((await w.operator("DELETE", `/api-keys/${m.keyId}`)).status, 204);
  await w.kv.put(kvKeyOf(m.key), saved);
  const [row, events] = await snapshot(w, m.user.id);
  const r = await w.hi("PATCH", m.user.id, m.key, { json: { user: { admin: true } } });
  assert.ok([401, 403].includes(r.status), r.text);
  await unchanged(w, m.user.id, [row, events]);
  assert.equal((await w.row(m.user.id)).admin, 0);
});

test("revoked admin key with its KV entry restored: no admin write, no read, no operator API", async () => {
  const adm = await member(A, { admin: true });
  const saved = await w.kv.get(kvKeyOf(adm.key));
  assert.equal(JSON.parse(saved).role, "admin");
  // Revoked with the operator token.
  assert.equal((await w.operator("DELETE", `/api-keys/${adm.keyId}`)).status, 204);
  await w.kv.put(kvKeyOf(adm.key), saved);
  const target = await member(A);
  const [row, events] = await snapshot(w, target.user.id);
  let r = await w.hi("PATCH", target.user.id, adm.key, { json: { user: { publisher_id: 13, admin: true } } });
  assert.equal(r.status, 401, r.text);
  r = await w.hi("GET", target.user.id, adm.key);
  assert.equal(r.status, 401, r.text);
  await unchanged(w, target.user.id, [row, events]);
  const auth = { authorization: `Bearer ${adm.key}` };
  r = await w.fetch("/admin/v1/users", { method: "POST", headers: auth, json: { org_id: A.org.id, email: "revoked-made@acme.test" } });
  assert.equal(r.status, 401, r.text);
  assert.equal(r.headers.get("content-type"), "application/problem+json");
  assert.equal(await w.db.prepare("SELECT id FROM users WHERE email = 'revoked-made@acme.test'").first(), null);
  r = await w.fetch("/admin/v1/api-keys", { method: "POST", headers: auth, json: { user_id: target.user.id } });
  assert.equal(r.status, 401, r.text);
  r = await w.fetch(`/admin/v1/users/${target.user.id}`, { headers: auth });
  assert.equal(r.status, 401, r.text);
  r = await w.fetch(`/admin/v1/api-keys/${target.keyId}`, { method: "DELETE", headers: auth });
  assert.equal(r.status, 401, r.text);
  assert.equal((await w.keyRow(target.keyId)).revoked_at, null);
});

test("an admin key revoking its own org's key works, and the revoked key stops at once", async () => {
  const m = await member(A);
  const r = await w.fetch(`/admin/v1/api-keys/${m.keyId}`, { method: "DELETE", headers: { authorization: `Bearer ${A.adminKey}` } });
  assert.equal(r.status, 204, r.text);
  const x = await w.hi("PATCH", m.user.id, m.key, { json: { user: { name: "x" } } });
  assert.equal(x.status, 401, x.text);
  assert.equal((await w.row(m.user.id)).name, m.user.name);
});

// ---------------------------------------------------------------- demoted admins

test("demoted admin: its old admin key (KV still says admin) can't make admin-only changes → 403, nothing changes", async () => {
  const adm = await member(A, { admin: true });
  assert.equal(JSON.parse(await w.kv.get(kvKeyOf(adm.key))).role, "admin");
  // Works while the role is held.
  const target = await member(A);
  let r = await w.hi("PATCH", target.user.id, adm.key, { json: { user: { publisher_id: 1 } } });
  assert.equal(r.status, 200, r.text);

  // Another admin demotes it through HiEnergy.
  r = await w.hi("PATCH", adm.user.id, A.adminKey, { json: { user: { admin: false } } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.data.admin, false);
  assert.equal((await w.row(adm.user.id)).admin, 0);
  assert.equal(JSON.parse(await w.kv.get(kvKeyOf(adm.key))).role, "admin", "the cache is stale: the guard must decide");

  const [row, events] = await snapshot(w, target.user.id);
  r = await w.hi("PATCH", target.user.id, adm.key, { json: { user: { publisher_id: 2 } } });
  assert.equal(r.status, 403, r.text);
  assert.equal(r.data.error, "forbidden");
  r = await w.hi("PATCH", target.user.id, adm.key, { json: { user: { name: "Renamed By Demoted" } } });
  assert.equal(r.status, 403, r.text);
  r = await w.hi("GET", target.user.id, adm.key);
  assert.equal(r.status, 403, r.text);
  assert.equal(r.data.data, undefined);
  await unchanged(w, target.user.id, [row, events]);

  // Nor can it promote itself back.
  const [srow, sevents] = await snapshot(w, adm.user.id);
  r = await w.hi("PATCH", adm.user.id, adm.key, { json: { user: { admin: true } } });
  assert.equal(r.status, 403, r.text);
  await unchanged(w, adm.user.id, [srow, sevents]);
  assert.equal((await w.row(adm.user.id)).admin, 0);

  // Nor use the operator API.
  const op = await w.fetch("/admin/v1/users", { method: "POST", headers: { authorization: `Bearer ${adm.key}` }, json: { org_id: A.org.id, email: "demoted-made@acme.test", admin: true } });
  assert.equal(op.status, 403, op.text);
  assert.equal(op.headers.get("content-type"), "application/problem+json");
  assert.equal(await w.db.prepare("SELECT id FROM users WHERE email = 'demoted-made@acme.test'").first(), null);

  // A key issued after the demotion is a user key.
  const fresh = await w.createKey(adm.user.id);
  w.issuedKeys.push(fresh.key);
  assert.equal(fresh.role, "user");
});

// ---------------------------------------------------------------- D1, not KV, decides

test("a KV entry claiming the admin role for a user key is not honoured (D1 says the key is a user key)", async () => {
  const m = await member(A);
  const kvKey = kvKeyOf(m.key);
  const principal = JSON.parse(await w.kv.get(kvKey));
  assert.equal(principal.role, "user");
  await w.kv.put(kvKey, JSON.stringify({ ...principal, role: "admin" }));
  const victim = await member(A);
  const [row, events] = await snapshot(w, m.user.id);
  const [orow, oevents] = await snapshot(w, victim.user.id);
  const self = await w.hi("PATCH", m.user.id, m.key, { json: { user: { admin: true, publisher_id: 666 } } });
  const other = await w.hi("PATCH", victim.user.id, m.key, { json: { user: { name: "Owned" } } });
  await w.kv.put(kvKey, JSON.stringify(principal));
  await unchanged(w, m.user.id, [row, events]);
  await unchanged(w, victim.user.id, [orow, oevents]);
  assert.ok([401, 403].includes(self.status), `self: ${self.status} ${self.text}`);
  assert.ok([401, 403].includes(other.status), `other: ${other.status} ${other.text}`);
});

test("a KV entry naming another user for a key is not honoured (the key acts only as its own user)", async () => {
  const m = await member(A);
  const victim = await member(A);
  const kvKey = kvKeyOf(m.key);
  const principal = JSON.parse(await w.kv.get(kvKey));
  await w.kv.put(kvKey, JSON.stringify({ ...principal, user_id: victim.user.id, user_uuid: victim.user.uuid }));
  const [row, events] = await snapshot(w, victim.user.id);
  const r = await w.hi("PATCH", victim.user.id, m.key, { json: { user: { name: "Owned" } } });
  const g = await w.hi("GET", victim.user.id, m.key);
  await w.kv.put(kvKey, JSON.stringify(principal));
  await unchanged(w, victim.user.id, [row, events]);
  assert.ok([401, 403].includes(r.status), `PATCH: ${r.status} ${r.text}`);
  assert.ok([401, 403].includes(g.status), `GET: ${g.status} ${g.text}`);
});

test("a KV entry moving a key to another org is not honoured (404/401, nothing changes there)", async () => {
  const m = await member(A);
  const kvKey = kvKeyOf(m.key);
  const principal = JSON.parse(await w.kv.get(kvKey));
  await w.kv.put(kvKey, JSON.stringify({ ...principal, org_id: B.org.id, role: "admin" }));
  const [row, events] = await snapshot(w, B.user.id);
  const r = await w.hi("PATCH", B.user.id, m.key, { json: { user: { name: "Cross" } } });
  await w.kv.put(kvKey, JSON.stringify(principal));
  await unchanged(w, B.user.id, [row, events]);
  assert.ok([401, 403, 404].includes(r.status), r.text);
});

test("a garbage KV entry falls back to D1 (the key still works, as itself)", async () => {
  const m = await member(A);
  await w.kv.put(kvKeyOf(m.key), "not json");
  const r = await w.hi("PATCH", m.user.id, m.key, { json: { user: { name: "Recovered" } } });
  assert.equal(r.status, 200, r.text);
  assert.equal((await w.row(m.user.id)).name, "Recovered");
  assert.deepEqual(timingNames(r.headers), ["kv", "d1", "kv", "d1"]);
  assert.equal(JSON.parse(await w.kv.get(kvKeyOf(m.key))).key_id, m.keyId);
});

// ---------------------------------------------------------------- passwords and secrets

test("a password given at creation is stored only as a PBKDF2 PHC string (i=1000 here) and never returned", async () => {
  const password = "Sup3r secret passphrase";
  passwords.push(password);
  const r = await w.operator("POST", "/users", { org_id: A.org.id, email: "pw@acme.test", password });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.data.password_set, true);
  const row = await w.row(r.data.id);
  assert.match(row.password_hash, PHC);
  assert.match(row.password_hash, /^\$pbkdf2-sha256\$i=1000,l=32\$/);
  assert.ok(verifies(row.password_hash, password), "the hash is PBKDF2-HMAC-SHA256 of the password");
  assert.ok(!verifies(row.password_hash, password + "x"));
  const again = await w.operator("POST", "/users", { org_id: B.org.id, email: "pw@beta.test", password });
  assert.equal(again.status, 201, again.text);
  assert.notEqual((await w.row(again.data.id)).password_hash, row.password_hash, "salted: same password, different hash");
  for (const x of [r, again, await w.operator("GET", `/users/${r.data.id}`), await w.operator("GET", `/users/${r.data.id}/events`)]) {
    assert.ok(!x.text.includes(password));
    assert.ok(!x.text.includes("$pbkdf2"));
    assert.ok(!x.text.includes("password_hash"));
    assert.ok(!x.text.includes(row.password_hash));
  }
});

test("an admin password change via HiEnergy: new hash stored, event names 'password' without the value", async () => {
  const old = "Original passphrase 1";
  const next = "Brand new passphrase 2";
  passwords.push(old, next);
  const u = await w.createUser({ org_id: A.org.id, email: "pwchange@acme.test", password: old });
  const before = (await w.row(u.id)).password_hash;
  assert.ok(verifies(before, old));
  const r = await w.hi("PATCH", u.id, A.adminKey, { json: { user: { password: next } } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.data.password, undefined);
  assert.equal(r.data.data.password_hash, undefined);
  assert.ok(!r.text.includes(next) && !r.text.includes("pbkdf2"));
  assert.deepEqual(timingNames(r.headers), ["kv", "cpu", "d1"], "hashing shows as cpu; still one kv and one d1");
  const row = await w.row(u.id);
  assert.notEqual(row.password_hash, before);
  assert.match(row.password_hash, /^\$pbkdf2-sha256\$i=1000,l=32\$/);
  assert.ok(verifies(row.password_hash, next));
  assert.ok(!verifies(row.password_hash, old));
  assert.equal(row.version, 2);
  const ev = (await w.events(u.id)).at(-1);
  assert.deepEqual(JSON.parse(ev.fields), ["password"]);
  assert.equal(ev.dialect, "hienergy");
  assert.ok(!JSON.stringify(ev).includes(next));
  const listed = await w.operator("GET", `/users/${u.id}/events`);
  assert.deepEqual(listed.data.events[0].fields, ["password"]);
  assert.ok(!listed.text.includes(next));
});

test("a user may not set its own password via HiEnergy (403 naming password); a bad password is 422 without its value", async () => {
  const u = await w.createUser({ org_id: A.org.id, email: "pwself@acme.test", password: "Initial passphrase" });
  passwords.push("Initial passphrase");
  const k = await w.createKey(u.id);
  w.issuedKeys.push(k.key);
  const [row, events] = await snapshot(w, u.id);
  const r = await w.hi("PATCH", u.id, k.key, { json: { user: { password: "Self chosen passphrase" } } });
  assert.equal(r.status, 403, r.text);
  assert.deepEqual(Object.keys(r.data.errors), ["password"]);
  assert.ok(!r.text.includes("Self chosen"));
  for (const bad of ["short", " ".repeat(12), "tab\there passphrase", 12345678, "x".repeat(257)]) {
    const x = await w.hi("PATCH", u.id, A.adminKey, { json: { user: { password: bad } } });
    assert.equal(x.status, 422, `${JSON.stringify(bad).slice(0, 20)}: ${x.text}`);
    assert.deepEqual(Object.keys(x.data.errors), ["password"]);
    if (typeof bad === "string" && bad.trim()) assert.ok(!x.text.includes(bad), "value not echoed");
  }
  await unchanged(w, u.id, [row, events]);
});

test("API keys: D1 and KV hold only the SHA-256 digest; no response but the issuing one shows the key", async () => {
  const m = await member(A);
  const row = await w.keyRow(m.keyId);
  assert.equal(row.digest, sha256(m.key));
  assert.equal(row.prefix, m.key.slice(0, 11));
  const { keys } = await w.kv.list();
  assert.ok(keys.some((k) => k.name === `key:${sha256(m.key)}`));
  for (const k of keys) assert.match(k.name, /^key:[0-9a-f]{64}$/);
  for (const k of keys) assert.ok(!(await w.kv.get(k.name)).includes("ue_"), "no key in a KV value");
  const { results } = await w.db.prepare("SELECT * FROM api_keys").all();
  for (const key of w.issuedKeys) assert.ok(!JSON.stringify(results).includes(key));
});

test("no response in this file leaked a password, a hash, an API key or a digest", async () => {
  const { results: keys } = await w.db.prepare("SELECT digest FROM api_keys").all();
  const { results: hashes } = await w.db.prepare("SELECT password_hash FROM users WHERE password_hash IS NOT NULL").all();
  assert.ok(hashes.length >= 3 && passwords.length >= 3);
  const secrets = [
    A.adminKey, A.userKey, A.otherKey, B.adminKey, B.userKey, B.otherKey, ...w.issuedKeys, OPERATOR_TOKEN,
    ...keys.map((k) => k.digest), ...hashes.map((h) => h.password_hash), ...passwords,
    "$pbkdf2", "password_hash",
  ];
  assert.deepEqual(leaks(w, secrets), []);
});

// ---------------------------------------------------------------- production default cost

for (const [label, value] of [["without PBKDF2_ITERATIONS", undefined], ["with an out-of-range PBKDF2_ITERATIONS (\"1\")", "1"]]) test(`${label} the worker hashes with the default 600,000 iterations`, async () => {
  const prod = await startWorker({ bindings: { PBKDF2_ITERATIONS: value } });
  try {
    const org = await prod.createOrg("prod");
    const password = "Production passphrase";
    const u = await prod.createUser({ org_id: org.id, email: "prod@prod.test", password });
    assert.equal(u.password_set, true);
    const phc = (await prod.row(u.id)).password_hash;
    assert.match(phc, /^\$pbkdf2-sha256\$i=600000,l=32\$/);
    assert.ok(verifies(phc, password));
  } finally {
    await prod.dispose();
  }
});
