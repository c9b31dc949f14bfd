// Issue 9 ("what an outside probe got through"), value-level items, on the built worker: each test
// sends the probe's own request and checks the fixed answer (and that nothing changed).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { startWorker, OPERATOR_TOKEN } from "./support.mjs";

let w, A;
before(async () => {
  w = await startWorker({ notifications: true, attempts: { limit: 1000, period: 60 } });
  A = await w.seedOrg("acme");
});
after(() => w?.dispose());

const member = (fields = {}) => w.member(A, fields, "h");

async function snapshot(id) {
  return [await w.row(id), await w.events(id)];
}
async function unchanged(id, [row, events]) {
  assert.deepEqual(await w.row(id), row, "row must be unchanged");
  assert.equal((await w.events(id)).length, events.length, "no audit event for a refused request");
}

const bearer = (key) => ({ authorization: `Bearer ${key}` });
/** A raw JSON text body (JSON.stringify could not write a duplicate key or a 20-digit integer). */
const raw = (text) => ({ body: text, headers: { "content-type": "application/json" } });
const hi = (id, key, opts) => w.hi("PATCH", id, key, opts);
const upsun = (uuid, key, { json, body, headers = {} }) =>
  w.fetch(`/users/${uuid}`, { method: "PATCH", json, body, headers: { ...bearer(key), ...headers } });
const konstantly = (uuid, key, { json, body, headers = {} }) =>
  w.fetch(`/openapi/v1/users/${uuid}`, { method: "PATCH", json, body, headers: { "x-api-key": key, ...headers } });
const zitadel = (uuid, key, { json, body, headers = {} }) =>
  w.fetch(`/v2/users/human/${uuid}`, { method: "PUT", json, body, headers: { ...bearer(key), ...headers } });
const connect = (method, key, { json, body, headers = {} }) =>
  w.fetch(`/zitadel.user.v2.UserService/${method}`, { method: "POST", json, body, headers: { ...bearer(key), ...headers } });

/** ZITADEL REST error: 400 code 3 (invalid_argument) naming exactly these fields. */
function zitadelInvalid(r, fields) {
  assert.equal(r.status, 400, r.text);
  assert.equal(r.data.code, 3, r.text);
  assert.deepEqual(r.data.details[1].fieldViolations.map((v) => v.field), fields, r.text);
  return r.data.details[1].fieldViolations;
}
/** RFC 9457 problem (Upsun 400, operator 422) naming exactly these fields. */
function problemInvalid(r, status, fields) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get("content-type"), "application/problem+json");
  assert.deepEqual(r.data.errors.map((e) => e.field), fields, r.text);
  return r.data.errors;
}
/** `{errors: {field: [messages]}}` (HiEnergy 422, Konstantly 400) naming exactly these fields. */
function fieldErrors(r, status, fields) {
  assert.equal(r.status, status, r.text);
  assert.deepEqual(Object.keys(r.data.errors).sort(), [...fields].sort(), r.text);
  return r.data.errors;
}

// ---------------------------------------------------------------- 8. duplicate JSON keys

test("8. a duplicate member name anywhere in a body is refused in every dialect, naming its path; nothing changes", async () => {
  const m = await member();
  const snap = await snapshot(m.user.id);
  // The probe's request: the last `user` would have won.
  let errors = fieldErrors(await hi(m.user.id, A.adminKey, raw('{"user":{"admin":true},"user":{"role_title":"x"}}')), 422, ["user"]);
  assert.deepEqual(errors.user, ["is given more than once"]);
  fieldErrors(await hi(m.user.id, A.adminKey, raw('{"user":{"name":"a","admin":true,"name":"b"}}')), 422, ["user.name"]);
  zitadelInvalid(await zitadel(m.user.uuid, A.adminKey, raw('{"profile":{"givenName":"A","familyName":"B","givenName":"C"}}')), ["profile.givenName"]);
  let r = await connect("UpdateHumanUser", A.adminKey, raw(`{"userId":"${m.user.uuid}","username":"a","username":"b"}`));
  assert.equal(r.status, 400, r.text);
  assert.equal(r.data.code, "invalid_argument", r.text);
  problemInvalid(await upsun(m.user.uuid, A.adminKey, raw('{"company":"a","company":"b"}')), 400, ["company"]);
  fieldErrors(await konstantly(m.user.uuid, A.adminKey, raw(`{"email":"${m.user.email}","attributes":{"a":1},"attributes":{"b":2}}`)), 400, ["attributes"]);
  const body = `{"org_id":${A.org.id},"email":"dup@acme.test","admin":false,"admin":true}`;
  r = await w.fetch("/admin/v1/users", { method: "POST", body, headers: { "content-type": "application/json", ...bearer(OPERATOR_TOKEN) } });
  problemInvalid(r, 422, ["admin"]);
  await unchanged(m.user.id, snap);
  // The same name in different objects is no duplicate.
  r = await hi(m.user.id, A.adminKey, raw('{"user":{"name":"Same","given_name":"Same"}}'));
  assert.equal(r.status, 200, r.text);
});

// ---------------------------------------------------------------- 7. weak ETags

test("7. If-Match uses strong comparison: W/\"<current>\" never matches (412), the strong tag does", async () => {
  const m = await member();
  const snap = await snapshot(m.user.id);
  for (const tag of ['W/"1"', 'w/"1"', 'W/"1", W/"2"', '"01"', '"+1"']) {
    let r = await hi(m.user.id, m.key, { json: { user: { name: "Weak" } }, headers: { "if-match": tag } });
    assert.equal(r.status, 412, `${tag}: ${r.text}`);
    r = await upsun(m.user.uuid, m.key, { json: { company: "Weak" }, headers: { "if-match": tag } });
    assert.equal(r.status, 412, `${tag}: ${r.text}`);
    r = await konstantly(m.user.uuid, A.adminKey, { json: { email: m.user.email, bio: "Weak" }, headers: { "if-match": tag } });
    assert.equal(r.status, 412, `${tag}: ${r.text}`);
  }
  await unchanged(m.user.id, snap);
  const r = await hi(m.user.id, m.key, { json: { user: { name: "Strong" } }, headers: { "if-match": 'W/"1", "1"' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get("etag"), '"2"');
});

// ---------------------------------------------------------------- 6. urlTemplate

test("6. sendCode.urlTemplate: the probe's templates are 400 on email.sendCode.urlTemplate; nothing is queued", async () => {
  const m = await member();
  const snap = await snapshot(m.user.id);
  const to = `tpl${m.n}@acme.test`;
  for (const urlTemplate of [
    'https://x.example/v?c={{.Code}}&q="',
    "https://x.example/<script>alert(1)</script>?c={{.Code}}",
    "https://x.example/%zz?c={{.Code}}",
    "https:example.com/v?c={{.Code}}",
    "https:///example.com/v?c={{.Code}}",
    "https://x.example/v?c={{.Code}}#a#b",
    "https://x.example\\@evil.example/?c={{.Code}}",
  ]) {
    const r = await zitadel(m.user.uuid, m.key, { json: { email: { email: to, sendCode: { urlTemplate } } } });
    const [v] = zitadelInvalid(r, ["email.sendCode.urlTemplate"]);
    assert.match(v.description, /must|may|has/, urlTemplate);
  }
  await unchanged(m.user.id, snap);
  assert.deepEqual(await w.settledMessages((b) => b.to === to), [], "no message for a refused template");
});

test("6. a link is rendered in canonical form, with the code and ids as data", async () => {
  const m = await member();
  const to = `canon${m.n}@acme.test`;
  const urlTemplate = "HTTPS://Example.COM:443/a/./v/../verify?code={{.Code}}&user={{ .UserID }}#org={{.OrgID}}";
  const r = await zitadel(m.user.uuid, m.key, { json: { email: { email: to, sendCode: { urlTemplate } } } });
  assert.equal(r.status, 200, r.text);
  const msg = await w.waitForMessage((b) => b.to === to);
  assert.equal(msg.url, `https://example.com/a/verify?code=${msg.code}&user=${m.user.uuid}#org=${A.org.id}`);
});

// ---------------------------------------------------------------- 4/5. imported hashes

const b64 = (buf) => buf.toString("base64").replace(/=+$/, "");
const ab64 = (buf) => b64(buf).replace(/\+/g, ".");
const phc = (alg, params, len) => `$${alg}$${params}$${b64(randomBytes(16))}$${b64(randomBytes(len))}`;

test("4/5. hashedPassword: what verify can't check, and what costs more than the default PBKDF2 to verify, are 400; nothing changes", async () => {
  const m = await member({ password: "Old-Passw0rd!" });
  const snap = await snapshot(m.user.id);
  for (const hash of [
    phc("pbkdf2-sha256", "x=1,i=1000", 32), // the probe's
    phc("pbkdf2-sha256", "i=1000,l=99999", 32), // the probe's
    phc("pbkdf2-sha256", "i=1000,l=32,p=4", 32),
    `$pbkdf2-sha256$i=1000$${b64(randomBytes(16))}$not*base64`,
    `$pbkdf2-sha256$i=1000$${b64(randomBytes(16))}$${b64(randomBytes(8))}`,
    phc("pbkdf2-sha512", "i=2000000,l=64", 64), // the probe's 4.5 s guess
    `$pbkdf2-sha512$2000000$${ab64(randomBytes(16))}$${ab64(randomBytes(64))}`,
    phc("pbkdf2-sha256", "i=600001,l=32", 32),
    "$2b$14$lJ08fqVr8bFJilRVnDT9QeULI7YW.nT3iwUv6dyg0aCrfm3UY8XR2", // the probe's 1.6 s guess
    "$2b$13$lJ08fqVr8bFJilRVnDT9QeULI7YW.nT3iwUv6dyg0aCrfm3UY8XR2",
    "$2b$10$lJ08fqVr8bFJilRVnDT9QeULI7YW.nT3iwUv6dyg0aCrfm3UY8X*2",
  ]) {
    zitadelInvalid(await zitadel(m.user.uuid, A.adminKey, { json: { password: { hashedPassword: { hash } } } }), ["password.hashedPassword.hash"]);
  }
  await unchanged(m.user.id, snap);
});

test("4/5. hashedPassword at the cost bound is accepted and verifies", async () => {
  const m = await member();
  const salt = randomBytes(16);
  const hash = `$pbkdf2-sha512$300000$${ab64(salt)}$${ab64(pbkdf2Sync("Imp0rted-Secret", salt, 300000, 64, "sha512"))}`;
  let r = await zitadel(m.user.uuid, A.adminKey, { json: { password: { hashedPassword: { hash } } } });
  assert.equal(r.status, 200, r.text);
  assert.equal((await w.row(m.user.id)).password_hash, hash);
  r = await zitadel(m.user.uuid, m.key, { json: { password: { password: { password: "Brand-N3w-One" }, currentPassword: "Imp0rted-Secret" } } });
  assert.equal(r.status, 200, r.text);
});

// ---------------------------------------------------------------- 10. Konstantly attributes

test("10. attributes: 500 keys one level down are refused (keys count at every depth); nothing changes", async () => {
  const m = await member();
  const snap = await snapshot(m.user.id);
  const inner = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]));
  const errors = fieldErrors(await konstantly(m.user.uuid, A.adminKey, { json: { email: m.user.email, attributes: { outer: inner } } }), 400, ["attributes"]);
  assert.match(errors.attributes[0], /100 keys/);
  await unchanged(m.user.id, snap);
});

test("10. attributes: numbers come back with every digit sent (2^64, a 30-digit integer, a long fraction)", async () => {
  const m = await member();
  const attributes = '{"big":18446744073709551616,"neg":-9007199254740993,"list":[123456789012345678901234567890],"frac":0.10000000000000000000001}';
  const r = await konstantly(m.user.uuid, A.adminKey, raw(`{"email":"${m.user.email}","attributes":${attributes}}`));
  assert.equal(r.status, 200, r.text);
  for (const digits of ["18446744073709551616", "-9007199254740993", "123456789012345678901234567890", "0.10000000000000000000001"]) {
    assert.ok(r.text.includes(digits), `response keeps ${digits}: ${r.text}`);
    assert.ok((await w.row(m.user.id)).attributes.includes(digits), `row keeps ${digits}`);
  }
  assert.ok(!r.text.includes("e+19"), r.text);
});

// ---------------------------------------------------------------- 3. usernames and display texts

test("3. usernames: zero-width, bidi, tag characters, mixed scripts and stray combining marks are refused (Upsun, ZITADEL)", async () => {
  const m = await member({ username: `plain-${Date.now()}` });
  const snap = await snapshot(m.user.id);
  for (const username of ["user1\u200B", "user1\u202E", "\u2066user1", "user\u200E1", "user1\u{E0041}", "user1-\u0430", "us\u0435r1", "us\u0335er1", "\u0301user"]) {
    const errors = problemInvalid(await upsun(m.user.uuid, m.key, { json: { username } }), 400, ["username"]);
    assert.match(errors[0].message, /must/, JSON.stringify(username));
    zitadelInvalid(await zitadel(m.user.uuid, m.key, { json: { username } }), ["username"]);
  }
  await unchanged(m.user.id, snap);
});

test("3. usernames are stored as sent: fullwidth and NFD are valid (they compare through the canonical key)", async () => {
  const m = await member();
  for (const username of [`ｕｓｅｒ${m.n}-ａ`, `jose\u0301-${m.n}`]) {
    const r = await upsun(m.user.uuid, m.key, { json: { username } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.data.username, username);
    assert.equal((await w.row(m.user.id)).username, username);
  }
});

test("3. display texts refuse bidi controls and invisible characters, naming the field, in every dialect", async () => {
  const m = await member();
  const snap = await snapshot(m.user.id);
  const bad = ["Ada\u202EnnA", "Ad\u200Ba", "\u2066Ada\u2069", "Ada\u{E0041}", "\uFEFFAda", "\u3164"];
  for (const text of bad) {
    fieldErrors(await hi(m.user.id, m.key, { json: { user: { given_name: text } } }), 422, ["given_name"]);
    problemInvalid(await upsun(m.user.uuid, m.key, { json: { company: text } }), 400, ["company"]);
    fieldErrors(await konstantly(m.user.uuid, A.adminKey, { json: { email: m.user.email, name: text } }), 400, ["name"]);
    zitadelInvalid(await zitadel(m.user.uuid, m.key, { json: { profile: { givenName: "Ada", familyName: "L", nickName: text } } }), ["profile.nickName"]);
  }
  const r = await w.operator("POST", "/orgs", { name: "Evil\u202Egro" });
  problemInvalid(r, 422, ["name"]);
  await unchanged(m.user.id, snap);
  // Real text stays allowed: other scripts, ZWJ emoji, ZWNJ in Persian.
  const ok = await hi(m.user.id, m.key, { json: { user: { given_name: "محمد", family_name: "👩\u200D💻", based_in: "می\u200Cخواهم" } } });
  assert.equal(ok.status, 200, ok.text);
});

// ---------------------------------------------------------------- 2. emails (value level)

test("2. emails are stored exactly as sent (the canonical key is for comparison only); hidden characters are refused", async () => {
  const m = await member();
  const email = `Idn${m.n}@MÜNCHEN.example`;
  let r = await hi(m.user.id, A.adminKey, { json: { user: { email } } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.data.email, email);
  assert.equal((await w.row(m.user.id)).email, email);
  const snap = await snapshot(m.user.id);
  for (const bad of ["a\u202Eb@acme.test", "a@acme\u200B.test", "a@xn--.test"]) {
    r = await hi(m.user.id, A.adminKey, { json: { user: { email: bad } } });
    fieldErrors(r, 422, ["email"]);
  }
  await unchanged(m.user.id, snap);
});

test("7. HEAD is answered wherever GET is: same status and headers, no body; Allow lists HEAD beside GET", async () => {
  const m = await member();
  for (const [path, headers] of [
    [`/api/v1/users/${m.user.id}`, { "x-api-key": m.key }],
    [`/users/${m.user.uuid}`, bearer(m.key)],
    [`/openapi.json`, {}],
  ]) {
    const get = await w.fetch(path, { headers });
    const head = await w.fetch(path, { method: "HEAD", headers });
    assert.equal(head.status, get.status, path);
    assert.equal(head.status, 200, `${path}: ${get.text}`);
    assert.equal(head.text, "", `${path}: no body`);
    assert.equal(head.headers.get("content-type"), get.headers.get("content-type"), path);
  }
  const r = await w.fetch(`/api/v1/users/${m.user.id}`, { method: "PUT", headers: { "x-api-key": m.key } });
  assert.equal(r.status, 405);
  assert.equal(r.headers.get("allow"), "GET, HEAD, PATCH");
  // A read-scoped request still: HEAD writes nothing and needs the same key as GET.
  assert.equal((await w.fetch(`/api/v1/users/${m.user.id}`, { method: "HEAD" })).status, 401);
});

test("9. off the path, each dialect answers in its own shape; Connect's unknown method is `unimplemented` (HTTP 404)", async () => {
  const m = await member();
  let r = await w.fetch(`/api/v1/users/${m.user.id}/secrets`, { headers: { "x-api-key": m.key } });
  assert.equal(r.status, 404);
  assert.equal(r.data.error, "not_found", r.text);
  r = await w.fetch(`/v2/users/${m.user.uuid}/totp`, { method: "POST", headers: bearer(m.key) });
  assert.equal(r.status, 404);
  assert.equal(r.data.code, 5, r.text);
  r = await connect("DeleteUser", m.key, { json: { userId: m.user.uuid } });
  assert.equal(r.status, 404);
  assert.deepEqual([r.data.code, r.headers.get("content-type")], ["unimplemented", "application/json"], r.text);
  r = await w.fetch(`/openapi/v1/users/${m.user.uuid}/groups`, { method: "PATCH", headers: { "x-api-key": m.key } });
  assert.equal(r.status, 404);
  assert.equal(r.data.status, 404, r.text);
  assert.equal(r.data.type, undefined, "Konstantly's own error shape, not problem+json");
});
