// Konstantly (seed 003): `PATCH /openapi/v1/users/{userId}` with `X-API-KEY`, on the built worker.
// Keys are site-admin keys; errors are `{status, message, errors?: {field: [messages]}}`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWithOrgs, leaks, snapshot, unchanged, verifies } from "./support.mjs";

let w, A, B;
before(async () => {
  ({ w, A, B } = await startWithOrgs());
});
after(() => w?.dispose());

/** A fresh member of `org` with its own key (see support.mjs). */
const member = (org, fields = {}) => w.member(org, fields, "k");

function patch(id, key, json, { headers = {}, body } = {}) {
  const h = { ...headers };
  if (key != null) h["X-API-KEY"] = key;
  return w.fetch(`/openapi/v1/users/${id}`, { method: "PATCH", json, body, headers: h });
}


function json(r) {
  assert.equal(r.headers.get("content-type"), "application/json");
}
/** `{status, message}` exactly. */
function plainError(r, status, message) {
  assert.equal(r.status, status, r.text);
  json(r);
  assert.deepEqual(r.data, { status, message });
}
/** `{status: 400, message: "Validation failed", errors}` naming exactly these fields (a JSON object's keys have no order). */
function validation(r, fields) {
  assert.equal(r.status, 400, r.text);
  json(r);
  assert.deepEqual(Object.keys(r.data).sort(), ["errors", "message", "status"]);
  assert.equal(r.data.status, 400);
  assert.equal(r.data.message, "Validation failed");
  assert.deepEqual(Object.keys(r.data.errors).sort(), [...fields].sort(), r.text);
  for (const f of fields) {
    assert.ok(Array.isArray(r.data.errors[f]) && r.data.errors[f].length > 0, f);
    for (const m of r.data.errors[f]) assert.match(m, /^[A-Z]/, `messages are capitalised: ${m}`);
  }
  return r.data.errors;
}

/** The response: the user in Konstantly's names, as stored. */
function assertUser(u, row) {
  assert.deepEqual(Object.keys(u).sort(), ["attributes", "bio", "email", "fromApi", "id", "location", "name", "occupation", "roleAlias", "timezone", "userId"]);
  assert.equal(u.userId, row.uuid);
  assert.equal(u.id, row.id);
  assert.equal(u.email, row.email);
  assert.equal(u.name, row.name);
  assert.equal(u.roleAlias, row.role_alias);
  assert.equal(u.bio, row.bio);
  assert.equal(u.occupation, row.role_title);
  assert.equal(u.location, row.based_in);
  assert.equal(u.timezone, row.timezone);
  assert.equal(u.fromApi, row.from_api === 1);
  assert.deepEqual(u.attributes, JSON.parse(row.attributes));
}

// The seed's curl, as printed: the body sits inside a shell single-quoted string, where '\'' is
// how one apostrophe is written.
const SEED_CURL_DATA = `{
"email": "j.wunderliebb@mycompany.tld",
"bio": "An updated information about me: I'\\''ve transferred to London!",
"occupation": "Associate",
"location": "London",
"timezone": "Europe/London"
}`;
/** What the shell hands curl: each '\'' becomes one apostrophe. */
const SEED_BODY = SEED_CURL_DATA.replaceAll("'\\''", "'");

// ---------------------------------------------------------------- the seed

test("the seed's curl request verbatim (X-API-KEY, Content-Type, the shell-quoted body) → 200 with the values", async () => {
  assert.ok(SEED_CURL_DATA.includes("I'\\''ve") && SEED_BODY.includes("I've transferred"), "the quoting is undone as the shell does");
  const m = await member(A);
  const r = await w.fetch(`/openapi/v1/users/${m.user.uuid}`, {
    method: "PATCH",
    headers: { "X-API-KEY": A.adminKey, "Content-Type": "application/json" },
    body: SEED_BODY,
  });
  assert.equal(r.status, 200, r.text);
  json(r);
  const row = await w.row(m.user.id);
  assertUser(r.data, row);
  assert.equal(r.data.email, "j.wunderliebb@mycompany.tld");
  assert.equal(r.data.bio, "An updated information about me: I've transferred to London!");
  assert.equal(r.data.occupation, "Associate");
  assert.equal(r.data.location, "London");
  assert.equal(r.data.timezone, "Europe/London");
  assert.equal(r.data.name, m.user.name, "untouched fields keep their value");
  assert.equal(r.headers.get("etag"), '"2"');
  assert.deepEqual(
    [row.email, row.bio, row.role_title, row.based_in, row.timezone],
    ["j.wunderliebb@mycompany.tld", "An updated information about me: I've transferred to London!", "Associate", "London", "Europe/London"],
  );
  const ev = (await w.events(m.user.id)).at(-1);
  assert.equal(ev.dialect, "konstantly");
  assert.equal(ev.actor_key_id, A.keys.admin.id);
  assert.deepEqual(JSON.parse(ev.fields).sort(), ["based_in", "bio", "email", "role_title", "timezone"]);

  // The numeric id in the path names the same user.
  const again = await patch(String(m.user.id), A.adminKey, { email: "j.wunderliebb@mycompany.tld", name: "J W" });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.data.userId, m.user.uuid);
  assert.equal((await w.row(m.user.id)).name, "J W");
});

test("the seed's error example: an invalid email → exactly {status:400, message:'Validation failed', errors:{email:['Invalid email format']}}", async () => {
  const m = await member(A);
  const snap = await snapshot(w, m.user.id);
  for (const email of ["j.wunderliebb@", "not-an-email", "a@b", " j@x.tld"]) {
    const r = await patch(m.user.uuid, A.adminKey, { email });
    assert.equal(r.status, 400, r.text);
    json(r);
    assert.deepEqual(r.data, { status: 400, message: "Validation failed", errors: { email: ["Invalid email format"] } }, email);
  }
  await unchanged(w, m.user.id, snap);
});

// ---------------------------------------------------------------- errors

test("a user key is 403 {status, message}, even on its own user and for a field as harmless as the bio; nothing changes", async () => {
  const m = await member(A);
  const snap = await snapshot(w, m.user.id);
  for (const body of [{ email: m.user.email }, { email: m.user.email, bio: "Hi" }, { email: "new@acme.test", name: "X" }]) {
    plainError(await patch(m.user.uuid, m.key, body), 403, "This API key may not manage users");
  }
  plainError(await patch(A.user.uuid, m.key, { email: A.user.email, bio: "x" }), 403, "This API key may not manage users");
  await unchanged(w, m.user.id, snap);
});

test("404 {status, message}: an unknown numeric id or UUID, an id that is neither, another org's user", async () => {
  const b = await member(B);
  const snap = await snapshot(w, b.user.id);
  for (const id of ["1234567890", "00000000-0000-0000-0000-000000000000", "not-an-id", b.user.uuid, String(b.user.id)]) {
    plainError(await patch(id, A.adminKey, { email: `moved-${b.n}@acme.test` }), 404, "User not found");
  }
  await unchanged(w, b.user.id, snap);
});

test("401 {status, message}: no key, the seed's placeholder key, an unknown or revoked key; nothing changes", async () => {
  const m = await member(A);
  const snap = await snapshot(w, m.user.id);
  for (const key of [null, "1qaz2wsx3edc4rfv1qaz2wsx3edc4rfv", "ue_" + "B".repeat(43)]) {
    plainError(await patch(m.user.uuid, key, { email: "a@b.co" }), 401, "Invalid or missing API key");
  }
  const admin = await member(A, { admin: true });
  const revoked = await w.createKey(admin.user.id);
  assert.equal((await w.operator("DELETE", `/api-keys/${revoked.id}`)).status, 204);
  plainError(await patch(m.user.uuid, revoked.key, { email: "a@b.co" }), 401, "Invalid or missing API key");
  await unchanged(w, m.user.id, snap);
});

test("412 {status, message}: a stale If-Match changes nothing; the current version is honoured", async () => {
  const m = await member(A);
  const snap = await snapshot(w, m.user.id);
  plainError(await patch(m.user.uuid, A.adminKey, { email: m.user.email, bio: "stale" }, { headers: { "If-Match": '"7"' } }), 412, "The user has changed since the version in If-Match");
  await unchanged(w, m.user.id, snap);
  const r = await patch(m.user.uuid, A.adminKey, { email: m.user.email, bio: "fresh" }, { headers: { "If-Match": '"1"' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get("etag"), '"2"');
  assert.equal((await w.row(m.user.id)).bio, "fresh");
});

test("every bad field is listed at once (email required, timezone, fromApi, attributes, unknown names); nothing changes", async () => {
  const m = await member(A);
  const snap = await snapshot(w, m.user.id);
  let errors = validation(await patch(m.user.uuid, A.adminKey, { timezone: "Mars/Base", fromApi: "yes", attributes: [1], admin: true }), ["email", "timezone", "fromApi", "attributes", "admin"]);
  assert.deepEqual(errors.email, ["Email is required"]);
  errors = validation(await patch(m.user.uuid, A.adminKey, { email: "x", timezone: "Europe/Londn", attributes: "x", role: "admin" }), ["email", "timezone", "attributes", "role"]);
  assert.deepEqual(errors.email, ["Invalid email format"]);
  validation(await patch(m.user.uuid, A.adminKey, { email: null }), ["email"]);
  validation(await patch(m.user.uuid, A.adminKey, { email: m.user.email, password: "short", name: 5, bio: false, fromApi: null, attributes: null }), ["name", "bio", "fromApi", "attributes", "password"]);
  validation(await patch(m.user.uuid, A.adminKey, {}), ["email"]);
  await unchanged(w, m.user.id, snap);
});

test("a taken email (any case) is 400 with errors.email ['Email already exists'], not 409; nothing changes", async () => {
  const m = await member(A);
  const snap = await snapshot(w, m.user.id);
  for (const email of ["admin@acme.test", "Admin@ACME.test"]) {
    const r = await patch(m.user.uuid, A.adminKey, { email, bio: "won't land" });
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(r.data, { status: 400, message: "Validation failed", errors: { email: ["Email already exists"] } });
  }
  await unchanged(w, m.user.id, snap);
  // Another org's address is no conflict.
  const r = await patch(m.user.uuid, A.adminKey, { email: "admin@beta.test" });
  assert.equal(r.status, 200, r.text);
});

test("unique-email race: 20 concurrent PATCHes giving one new email to 20 users → exactly one 200, 19 × 400 errors.email, no 5xx", async () => {
  const users = [];
  for (let i = 0; i < 20; i++) users.push(await member(A));
  const before = await Promise.all(users.map((u) => w.row(u.user.id)));
  const email = "race-winner@acme.test";
  const results = await Promise.all(users.map((u) => patch(u.user.uuid, A.adminKey, { email, bio: `claimed by ${u.n}` })));
  const statuses = results.map((r) => r.status);
  assert.ok(statuses.every((s) => s < 500), `no 5xx: ${statuses}`);
  assert.equal(statuses.filter((s) => s === 200).length, 1, `exactly one winner: ${statuses}`);
  for (const r of results.filter((r) => r.status !== 200)) {
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(r.data, { status: 400, message: "Validation failed", errors: { email: ["Email already exists"] } });
  }
  const winner = results.findIndex((r) => r.status === 200);
  assert.equal(results[winner].data.email, email);
  const { results: holders } = await w.db.prepare("SELECT id FROM users WHERE email = ?").bind(email).all();
  assert.deepEqual(holders.map((h) => h.id), [users[winner].user.id]);
  for (let i = 0; i < users.length; i++) {
    if (i === winner) {
      assert.equal((await w.row(users[i].user.id)).bio, `claimed by ${users[i].n}`);
    } else {
      assert.deepEqual(await w.row(users[i].user.id), before[i], `loser ${i} unchanged`);
    }
  }
});

// ---------------------------------------------------------------- values

test("attributes replace the whole set; null can't clear it", async () => {
  const m = await member(A);
  let r = await patch(m.user.uuid, A.adminKey, { email: m.user.email, attributes: { a: 1, b: 2 } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.data.attributes, { a: 1, b: 2 });
  r = await patch(m.user.uuid, A.adminKey, { email: m.user.email, attributes: { c: 3 } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.data.attributes, { c: 3 }, "not merged: replaced");
  assert.deepEqual(JSON.parse((await w.row(m.user.id)).attributes), { c: 3 });
  r = await patch(m.user.uuid, A.adminKey, { email: m.user.email, bio: "no attributes sent" });
  assert.deepEqual(r.data.attributes, { c: 3 }, "absent: kept");
  r = await patch(m.user.uuid, A.adminKey, { email: m.user.email, attributes: {} });
  assert.deepEqual(r.data.attributes, {});
  assert.equal((await w.row(m.user.id)).attributes, "{}");
  validation(await patch(m.user.uuid, A.adminKey, { email: m.user.email, attributes: null }), ["attributes"]);
});

test("timezone is validated against the IANA names; 'europe/london' is stored as Europe/London", async () => {
  const m = await member(A);
  let r = await patch(m.user.uuid, A.adminKey, { email: m.user.email, timezone: "europe/london" });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.timezone, "Europe/London");
  assert.equal((await w.row(m.user.id)).timezone, "Europe/London");
  r = await patch(m.user.uuid, A.adminKey, { email: m.user.email, timezone: "AMERICA/NEW_YORK" });
  assert.equal(r.data.timezone, "America/New_York");
  for (const tz of ["Mars/Base", "Europe/Londn", "GMT+25", ""]) {
    const e = validation(await patch(m.user.uuid, A.adminKey, { email: m.user.email, timezone: tz }), ["timezone"]);
    assert.ok(e.timezone[0].length > 0);
  }
  assert.equal((await w.row(m.user.id)).timezone, "America/New_York");
  r = await patch(m.user.uuid, A.adminKey, { email: m.user.email, timezone: null });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.timezone, null, "null clears");
});

test("every documented field set by an admin: name, password, roleAlias, bio, occupation, location, timezone, fromApi, attributes", async () => {
  const m = await member(A);
  const body = {
    email: `kim-${m.n}@acme.test`,
    name: "Kim Doe",
    password: "Secr3tP4ssw0rd!",
    roleAlias: "learner",
    bio: "Hi",
    occupation: "Associate",
    location: "London",
    timezone: "Europe/London",
    fromApi: true,
    attributes: { team: "blue", level: 2 },
  };
  const r = await patch(m.user.uuid, A.adminKey, body);
  assert.equal(r.status, 200, r.text);
  const row = await w.row(m.user.id);
  assertUser(r.data, row);
  const { password: _p, ...visible } = body;
  for (const [k, v] of Object.entries(visible)) assert.deepEqual(r.data[k], v, k);
  assert.ok(!/password|pbkdf2|Secr3t/i.test(r.text), "no password or hash in the response");
  assert.ok(verifies(row.password_hash, "Secr3tP4ssw0rd!"), "the hash is PBKDF2-HMAC-SHA256 of the password");
  assert.equal(row.password_change_required, 0);
  assert.equal(row.role_alias, "learner");
  assert.equal(row.from_api, 1);
  const ev = (await w.events(m.user.id)).at(-1);
  assert.ok(JSON.parse(ev.fields).includes("password"));
  assert.ok(!ev.fields.includes("Secr3t"));
  // null clears the optional ones.
  const c = await patch(m.user.uuid, A.adminKey, { email: body.email, name: null, bio: null, occupation: null, location: null, roleAlias: null });
  assert.equal(c.status, 200, c.text);
  assertUser(c.data, await w.row(m.user.id));
  assert.deepEqual([c.data.name, c.data.bio, c.data.occupation, c.data.location, c.data.roleAlias], [null, null, null, null, null]);
});

test("405 for other methods (Allow: PATCH) and 415 for a non-JSON body, in the dialect's shape", async () => {
  const m = await member(A);
  let r = await w.fetch(`/openapi/v1/users/${m.user.uuid}`, { method: "GET", headers: { "X-API-KEY": A.adminKey } });
  plainError(r, 405, "Method not allowed");
  assert.equal(r.headers.get("allow"), "PATCH");
  r = await patch(m.user.uuid, A.adminKey, undefined, { body: "email=a@b.co", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
  plainError(r, 415, "Content-Type must be application/json");
  r = await patch(m.user.uuid, A.adminKey, undefined, { body: "{nope", headers: { "Content-Type": "application/json" } });
  assert.equal(r.status, 400, r.text);
  json(r);
  assert.equal(r.data.status, 400);
});

// ---------------------------------------------------------------- secrets

test("no key, key digest, password or hash appears in any response or header", async () => {
  const { results: hashes } = await w.db.prepare("SELECT password_hash FROM users WHERE password_hash IS NOT NULL").all();
  const { results: digests } = await w.db.prepare("SELECT digest FROM api_keys").all();
  assert.ok(hashes.length >= 1);
  const secrets = [...w.issuedKeys, A.adminKey, A.userKey, A.otherKey, B.adminKey, B.userKey, B.otherKey, "Secr3tP4ssw0rd!", ...hashes.map((h) => h.password_hash), ...digests.map((d) => d.digest)];
  assert.ok(w.log.length > 50);
  assert.deepEqual(leaks(w, secrets), []);
  for (const x of w.log) {
    if (x.path.startsWith("/openapi/")) assert.match(x.headers, /^content-type: application\/json$/m, `${x.method} ${x.path} -> ${x.status}`);
  }
});
