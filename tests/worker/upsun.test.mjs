// Upsun (seed 002): `PATCH|GET /users/{user_id}` (UUID) with `Authorization: Bearer`, on the built
// worker. Success is the whole user as the seed's response schema has it; errors are problem+json.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWithOrgs, leaks, snapshot, unchanged } from "./support.mjs";

let w, A, B;
before(async () => {
  ({ w, A, B } = await startWithOrgs());
  await member(A, { username: "taken" });
});
after(() => w?.dispose());

/** A fresh member of `org` with its own key (see support.mjs). */
const member = (org, fields = {}) => w.member(org, fields, "u");

function call(method, id, key, { json, body, headers = {} } = {}) {
  const h = { ...headers };
  if (key != null) h.authorization = `Bearer ${key}`;
  return w.fetch(`/users/${id}`, { method, json, body, headers: h });
}
const patch = (id, key, json, opts = {}) => call("PATCH", id, key, { json, ...opts });
const get = (id, key, opts = {}) => call("GET", id, key, opts);


/** An RFC 9457 problem with this status (and these field errors, in order, when given). */
function problem(r, status, fields) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get("content-type"), "application/problem+json");
  assert.equal(r.data.status, status);
  assert.equal(r.data.type, "about:blank");
  assert.ok(typeof r.data.title === "string" && r.data.title.length > 0);
  assert.ok(typeof r.data.detail === "string" && r.data.detail.length > 0);
  if (fields) assert.deepEqual(r.data.errors.map((e) => e.field), fields, r.text);
  return r.data;
}

const SECONDS_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STRINGS = ["id", "namespace", "username", "email", "first_name", "last_name", "picture", "company", "website", "country", "created_at", "updated_at"];
const BOOLEANS = ["deactivated", "email_verified"];
const MODIFIABLE = ["username", "first_name", "last_name", "picture", "company", "website", "country"];

/** The seed's response schema: every required field, with its JSON type, and nothing secret. */
function assertUserShape(u, row, org) {
  for (const k of STRINGS) assert.equal(typeof u[k], "string", `${k} must be a string: ${JSON.stringify(u)}`);
  for (const k of BOOLEANS) assert.equal(typeof u[k], "boolean", `${k} must be a boolean`);
  const allowed = new Set([...STRINGS, ...BOOLEANS, "consented_at", "consent_method"]);
  for (const k of Object.keys(u)) assert.ok(allowed.has(k), `unexpected field ${k}`);
  if ("consented_at" in u) assert.match(u.consented_at, SECONDS_Z);
  if ("consent_method" in u) assert.ok(["opt-in", "text-ref"].includes(u.consent_method));
  assert.match(u.id, UUID);
  assert.match(u.created_at, SECONDS_Z, "RFC 3339 like the seed's example");
  assert.match(u.updated_at, SECONDS_Z);
  assert.equal(u.id, row.uuid);
  assert.equal(u.namespace, org.org.uuid, "the namespace is the org");
  assert.equal(u.email, row.email);
  assert.equal(u.email_verified, row.email_verified === 1);
  assert.equal(u.deactivated, row.deactivated === 1);
  assert.equal(u.username, row.username ?? "");
  assert.equal(u.first_name, row.given_name ?? "");
  assert.equal(u.last_name, row.family_name ?? "");
  for (const k of ["picture", "company", "website", "country"]) assert.equal(u[k], row[k] ?? "", k);
  assert.equal(u.created_at, row.created_at.replace(/\.\d+Z$/, "Z"));
  assert.equal(u.updated_at, row.updated_at.replace(/\.\d+Z$/, "Z"));
  assert.ok(!/password|hash|pbkdf2/i.test(JSON.stringify(u)), "nothing about passwords");
}

const FIELDS = [
  ["username", (n) => `jane-smith-${n}`, "username"],
  ["first_name", () => "Janet", "given_name"],
  ["last_name", () => "Smith", "family_name"],
  ["picture", () => "https://cdn.example.com/jane.png", "picture"],
  ["company", () => "Acme", "company"],
  ["website", () => "https://jane.example.com/", "website"],
  ["country", () => "FR", "country"],
];

// ---------------------------------------------------------------- who may change what

test("each modifiable field: the user itself 200, its org's admin 200, another user 403, another org (admin or user) 404", async () => {
  for (const [field, value, column] of FIELDS) {
    const m = await member(A);
    const snap = await snapshot(w, m.user.id);
    let r = await patch(m.user.uuid, A.otherKey, { [field]: value(m.n) });
    const p = problem(r, 403);
    assert.equal(p.detail, "You may only change your own user");
    problem(await patch(m.user.uuid, B.adminKey, { [field]: value(m.n) }), 404);
    problem(await patch(m.user.uuid, B.userKey, { [field]: value(m.n) }), 404);
    problem(await get(m.user.uuid, B.adminKey), 404);
    await unchanged(w, m.user.id, snap);

    r = await patch(m.user.uuid, m.key, { [field]: value(m.n) });
    assert.equal(r.status, 200, `${field} by self: ${r.text}`);
    assert.equal(r.headers.get("content-type"), "application/json");
    assert.equal(r.data[field], value(m.n));
    assert.equal(r.headers.get("etag"), '"2"');
    assert.equal((await w.row(m.user.id))[column], value(m.n));
    const ev = (await w.events(m.user.id)).at(-1);
    assert.deepEqual([ev.dialect, ev.action, ev.actor_key_id, JSON.parse(ev.fields)], ["upsun", "update", m.keyId, [column]]);

    const adminValue = field === "country" ? "DE" : field === "username" ? `admin-set-${m.n}` : field.endsWith("name") || field === "company" ? "ByAdmin" : "https://admin.example.com/x";
    r = await patch(m.user.uuid, A.adminKey, { [field]: adminValue });
    assert.equal(r.status, 200, `${field} by admin: ${r.text}`);
    assert.equal(r.data[field], adminValue);
    assert.equal((await w.row(m.user.id))[column], adminValue);
    assert.equal((await w.events(m.user.id)).at(-1).actor_key_id, A.keys.admin.id);
  }
});

test("GET: the user itself and its org's admin read it; another user 403; another org 404", async () => {
  const m = await member(A);
  let r = await get(m.user.uuid, m.key);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.id, m.user.uuid);
  r = await get(m.user.uuid, A.adminKey);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.id, m.user.uuid);
  problem(await get(m.user.uuid, A.otherKey), 403);
  problem(await get(m.user.uuid, B.userKey), 404);
});

// ---------------------------------------------------------------- the response schema

test("the response has every required field of the seed's schema with the right JSON type, on GET and PATCH", async () => {
  const m = await member(A, { username: "schema-user", given_name: "Jane", family_name: "Smith" });
  let r = await get(m.user.uuid, m.key);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get("content-type"), "application/json");
  assert.equal(r.headers.get("etag"), '"1"');
  assertUserShape(r.data, await w.row(m.user.id), A);
  assert.equal(r.data.picture, "", "a field with no value is an empty string, not null");
  assert.equal(r.data.country, "");
  assert.equal(r.data.email_verified, false);
  assert.equal(r.data.deactivated, false);
  assert.equal("consented_at" in r.data, false, "optional and unset: left out");

  r = await patch(m.user.uuid, m.key, { company: "Acme", country: "fr", website: "https://jane.example.com/" });
  assert.equal(r.status, 200, r.text);
  assertUserShape(r.data, await w.row(m.user.id), A);
  assert.equal(r.data.company, "Acme");
  assert.equal(r.data.country, "FR");
});

test("GET → PATCH back only the modifiable fields round-trips cleanly (empty and filled users)", async () => {
  for (const fields of [{}, { username: "round-trip", given_name: "Jane", family_name: "Smith" }]) {
    const m = await member(A, fields);
    if (fields.username) {
      const r = await patch(m.user.uuid, m.key, { picture: "https://cdn.example.com/j.png", company: "Acme", website: "https://jane.example.com/", country: "ch" });
      assert.equal(r.status, 200, r.text);
    }
    const rowBefore = await w.row(m.user.id);
    const got = (await get(m.user.uuid, m.key)).data;
    const back = Object.fromEntries(MODIFIABLE.map((k) => [k, got[k]]));
    const r = await patch(m.user.uuid, m.key, back);
    assert.equal(r.status, 200, r.text);
    for (const k of MODIFIABLE) assert.equal(r.data[k], got[k], `${k} survives the round trip`);
    const { updated_at: _a, ...restGot } = got;
    const { updated_at: _b, ...restNow } = r.data;
    assert.deepEqual(restNow, restGot, "everything else is as read");
    const rowAfter = await w.row(m.user.id);
    for (const c of ["username", "given_name", "family_name", "picture", "company", "website", "country", "email"]) {
      assert.equal(rowAfter[c], rowBefore[c], `${c} stored as before`);
    }
    // What was read, sent back, changes nothing: the same version and time, no event.
    assert.equal(rowAfter.version, rowBefore.version);
    assert.equal(r.data.updated_at, got.updated_at);
    assert.equal(r.headers.get("etag"), `"${rowBefore.version}"`);
  }
});

test("\"\" and null clear a field (stored NULL, read back as \"\"); country is stored upper case", async () => {
  const m = await member(A, { given_name: "Jane", family_name: "Smith" });
  let r = await patch(m.user.uuid, m.key, { company: "Acme", country: "ch" });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.country, "CH");
  assert.equal((await w.row(m.user.id)).country, "CH");
  r = await patch(m.user.uuid, m.key, { company: "", last_name: null, country: "gB" });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.company, "");
  assert.equal(r.data.last_name, "");
  assert.equal(r.data.country, "GB");
  const row = await w.row(m.user.id);
  assert.equal(row.company, null);
  assert.equal(row.family_name, null);
  assert.equal(row.given_name, "Jane");
  assert.equal(row.country, "GB");
});

// ---------------------------------------------------------------- errors

test("400: a user_id that isn't a UUID (GET and PATCH), as problem+json naming user_id", async () => {
  for (const id of ["not-a-uuid", String(A.user.id), "00000000-0000-0000-0000-00000000000g"]) {
    problem(await get(id, A.adminKey), 400, ["user_id"]);
    problem(await patch(id, A.adminKey, { company: "X" }), 400, ["user_id"]);
  }
});

test("400: bad country ('XX', 'UK', 'FRA'), bad URLs and read-only fields are all named; nothing changes", async () => {
  const m = await member(A);
  const snap = await snapshot(w, m.user.id);
  let r = await patch(m.user.uuid, m.key, { country: "XX", website: "nope", email: "x@y.z" });
  const p = problem(r, 400, ["website", "country", "email"]);
  assert.equal(p.title, "Bad Request");
  for (const e of p.errors) assert.ok(typeof e.message === "string" && e.message.length > 0);
  problem(await patch(m.user.uuid, m.key, { country: "UK" }), 400, ["country"]);
  problem(await patch(m.user.uuid, m.key, { country: "FRA" }), 400, ["country"]);
  problem(await patch(m.user.uuid, m.key, { picture: "ftp://cdn.example.com/j.png", website: "https://user:pw@example.com/" }), 400, ["picture", "website"]);
  problem(await patch(m.user.uuid, m.key, { id: m.user.uuid, namespace: "x", email_verified: true, deactivated: false }), 400, ["deactivated", "email_verified", "id", "namespace"]); // unknown names, in name order
  problem(await patch(m.user.uuid, m.key, { username: "has space", first_name: 7 }), 400, ["username", "first_name"]);
  // The seed's request with its placeholders as values: the URLs and the country aren't valid.
  r = await patch(m.user.uuid, m.key, {
    username: "<string>", first_name: "<string>", last_name: "<string>", picture: "<string>", company: "<string>", website: "<string>", country: "<string>",
  });
  problem(r, 400, ["picture", "website", "country"]);
  problem(await patch(m.user.uuid, m.key, [1, 2]), 400);
  await unchanged(w, m.user.id, snap);
});

test("409: a username taken in the org (compared case-insensitively); the same name in another org is free", async () => {
  const m = await member(A);
  const snap = await snapshot(w, m.user.id);
  for (const name of ["taken", "TAKEN", "Taken"]) {
    const p = problem(await patch(m.user.uuid, m.key, { username: name }), 409, ["username"]);
    assert.equal(p.title, "Conflict");
  }
  await unchanged(w, m.user.id, snap);
  const b = await member(B);
  const r = await patch(b.user.uuid, b.key, { username: "Taken" });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.username, "Taken");
});

test("412: a stale If-Match changes nothing; a current one is honoured; a weak tag never matches (RFC 9110 strong comparison)", async () => {
  const m = await member(A);
  const snap = await snapshot(w, m.user.id);
  problem(await patch(m.user.uuid, m.key, { company: "X" }, { headers: { "if-match": '"99"' } }), 412);
  problem(await patch(m.user.uuid, m.key, { company: "X" }, { headers: { "if-match": '"abc"' } }), 412);
  await unchanged(w, m.user.id, snap);
  let r = await patch(m.user.uuid, m.key, { company: "X" }, { headers: { "if-match": '"1"' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get("etag"), '"2"');
  problem(await patch(m.user.uuid, m.key, { company: "W" }, { headers: { "if-match": 'W/"2"' } }), 412);
  r = await patch(m.user.uuid, m.key, { company: "Y" }, { headers: { "if-match": '"2"' } });
  assert.equal(r.status, 200, r.text);
  problem(await patch(m.user.uuid, m.key, { company: "Z" }, { headers: { "if-match": '"2"' } }), 412);
  assert.equal((await w.row(m.user.id)).company, "Y");
});

test("401: no key, a malformed or unknown key, a revoked key, a non-Bearer scheme; nothing changes", async () => {
  const m = await member(A);
  const snap = await snapshot(w, m.user.id);
  for (const key of [null, "nope", "ue_" + "A".repeat(43)]) {
    problem(await patch(m.user.uuid, key, { company: "X" }), 401);
    problem(await get(m.user.uuid, key), 401);
  }
  problem(await call("PATCH", m.user.uuid, null, { json: { company: "X" }, headers: { authorization: `Basic ${m.key}` } }), 401);
  const revoked = await w.createKey(m.user.id);
  assert.equal((await w.operator("DELETE", `/api-keys/${revoked.id}`)).status, 204);
  problem(await patch(m.user.uuid, revoked.key, { company: "X" }), 401);
  await unchanged(w, m.user.id, snap);
});

test("404: an unknown UUID (even for an admin); 405 other methods; 415 a non-JSON body", async () => {
  const m = await member(A);
  problem(await get("00000000-0000-0000-0000-000000000000", A.adminKey), 404);
  problem(await patch("3c90c3cc-0d44-4b50-8888-8dd25736052a", A.adminKey, { company: "X" }), 404);
  problem(await call("DELETE", m.user.uuid, A.adminKey), 405);
  problem(await call("PUT", m.user.uuid, A.adminKey, { json: { company: "X" } }), 405);
  problem(await call("PATCH", m.user.uuid, m.key, { body: "company=X", headers: { "content-type": "application/x-www-form-urlencoded" } }), 415);
  problem(await call("PATCH", m.user.uuid, m.key, { body: "{nope", headers: { "content-type": "application/json" } }), 400);
  assert.equal((await w.row(m.user.id)).company, null);
});

test("the seed's curl shape (Bearer, Content-Type) with real values: 200 and the values stored", async () => {
  const m = await member(A);
  const r = await w.fetch(`/users/${m.user.uuid}`, {
    method: "PATCH",
    headers: { Authorization: `Bearer ${m.key}`, "Content-Type": "application/json" },
    body: `
{
  "username": "jsmith-${m.n}",
  "first_name": "Jane",
  "last_name": "Smith",
  "picture": "https://cdn.example.com/jsmith.png",
  "company": "Example Corp",
  "website": "https://jsmith.example.com/",
  "country": "us"
}
`,
  });
  assert.equal(r.status, 200, r.text);
  const row = await w.row(m.user.id);
  assertUserShape(r.data, row, A);
  assert.deepEqual(
    [row.username, row.given_name, row.family_name, row.picture, row.company, row.website, row.country],
    [`jsmith-${m.n}`, "Jane", "Smith", "https://cdn.example.com/jsmith.png", "Example Corp", "https://jsmith.example.com/", "US"],
  );
  const ev = (await w.events(m.user.id)).at(-1);
  assert.deepEqual(JSON.parse(ev.fields).sort(), ["company", "country", "family_name", "given_name", "picture", "username", "website"]);
});

// ---------------------------------------------------------------- secrets

test("no key, key digest or password hash appears in any response or header", async () => {
  const pw = await member(A, { password: "Upsun-Passw0rd!" });
  const r = await get(pw.user.uuid, pw.key);
  assert.equal(r.status, 200, r.text);
  const { results: hashes } = await w.db.prepare("SELECT password_hash FROM users WHERE password_hash IS NOT NULL").all();
  const { results: digests } = await w.db.prepare("SELECT digest FROM api_keys").all();
  assert.equal(hashes.length, 1);
  const secrets = [...w.issuedKeys, A.adminKey, A.userKey, A.otherKey, B.adminKey, B.userKey, B.otherKey, "Upsun-Passw0rd!", ...hashes.map((h) => h.password_hash), ...digests.map((d) => d.digest)];
  assert.ok(w.log.length > 50);
  assert.deepEqual(leaks(w, secrets), []);
  for (const x of w.log) {
    if (!x.path.startsWith("/users/")) continue;
    assert.ok(!/password|pbkdf2/i.test(x.text), `${x.method} ${x.path} -> ${x.status}`);
    const type = x.status < 400 ? "application/json" : "application/problem+json";
    assert.match(x.headers, new RegExp(`^content-type: ${type.replace("+", "\\+")}$`, "m"), `${x.method} ${x.path} -> ${x.status}`);
  }
});
