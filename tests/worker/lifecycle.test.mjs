// The user lifecycle on the operator API (/admin/v1), on the built worker with real D1 and KV:
// create, PATCH, deactivate, reactivate, delete and list, for the operator token and an org
// admin's key; what each state means to the other dialects (HiEnergy, Upsun, Konstantly, ZITADEL
// REST and Connect); the D1 rows, audit events and KV entries behind each answer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { pbkdf2Sync } from "node:crypto";
import { startWorker, OPERATOR_TOKEN, kvKeyOf, leaks, timingNames } from "./support.mjs";

let w, A, B;
before(async () => {
  w = await startWorker();
  A = await w.seedOrg("acme");
  B = await w.seedOrg("beta");
});
after(() => w?.dispose());

/** A fresh member of `org` with its own key, so tests share no row state. */
const member = (org, fields = {}) => w.member(org, fields, "l");

const OPERATOR = Symbol("operator");
/** Operator API call as `who`: OPERATOR, an API key (sent as Bearer), or null for no credential. */
function as(who, method, path, { json, headers = {} } = {}) {
  const h = { ...headers };
  if (who === OPERATOR) h.authorization = `Bearer ${OPERATOR_TOKEN}`;
  else if (who != null) h.authorization = `Bearer ${who}`;
  return w.fetch("/admin/v1" + path, { method, json, headers: h });
}
const op = (method, path, json, headers) => as(OPERATOR, method, path, { json, headers });

/** An RFC 9457 problem with this status (and exactly these field errors, in any order, when given). */
function problem(r, status, fields) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get("content-type"), "application/problem+json");
  assert.equal(r.data.status, status, r.text);
  assert.equal(typeof r.data.title, "string");
  assert.equal(typeof r.data.detail, "string");
  if (fields) {
    assert.deepEqual(r.data.errors.map((e) => e.field).sort(), [...fields].sort(), r.text);
    for (const e of r.data.errors) assert.ok(typeof e.message === "string" && e.message.length > 0, JSON.stringify(e));
  }
  return r.data;
}

async function eventCount() {
  return (await w.db.prepare("SELECT COUNT(*) AS n FROM user_events").first()).n;
}
async function snapshot(id) {
  return { row: await w.row(id), events: await w.events(id), all: await eventCount() };
}
async function unchanged(id, snap, label = "") {
  assert.deepEqual(await w.row(id), snap.row, `row must be unchanged ${label}`);
  assert.deepEqual(await w.events(id), snap.events, `no audit event for a refused request ${label}`);
  assert.equal(await eventCount(), snap.all, `no audit event anywhere ${label}`);
}
const actions = async (id) => (await w.events(id)).map((e) => e.action);

const PHC = /^\$pbkdf2-sha256\$i=(\d+),l=32\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/;
/** Recompute the stored PHC string's PBKDF2-HMAC-SHA256 in Node. */
function verifies(phc, password) {
  const m = phc?.match(PHC);
  assert.ok(m, `not a PBKDF2-SHA256 PHC string: ${phc?.slice(0, 20)}`);
  const [, i, salt, hash] = m;
  return pbkdf2Sync(password, Buffer.from(salt, "base64"), Number(i), 32, "sha256").toString("base64").replace(/=+$/, "") === hash;
}

const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const passwords = [];

/**
 * Every writable canonical field with a value that is already in its canonical form, so it must
 * read back byte for byte. `n` keeps the unique ones (email, username, external_id) apart.
 */
function everyField(n) {
  return {
    username: `Grace.H-${n}`,
    email: `Grace.Hopper+${n}@navy.example`,
    email_verified: true,
    phone: "+14155552671",
    phone_verified: true,
    name: "Grace Brewster Hopper",
    given_name: "Grace",
    family_name: "Hopper",
    nick_name: "Amazing Grace",
    preferred_language: "de-CH",
    gender: "female",
    role_title: "Rear Admiral",
    based_in: "Arlington, VA",
    linkedin_profile_url: "https://www.linkedin.com/in/grace-hopper",
    picture: "https://img.example/g/hopper.png?size=128",
    company: "U.S. Navy",
    website: "https://grace.example/cobol",
    country: "US",
    bio: "Found a moth.\nNamed it a bug. — «Zürich» 🐛",
    timezone: "America/New_York",
    admin: true,
    auth0_uid: `auth0|grace${n}`,
    publisher_id: 9007199254740991,
    agency_id: 0,
    network_id: 17,
    advertiser_id: 123456789,
    payment_date: "2024-02-29",
    company_type: "government",
    publisher_type: "newsletter",
    role_alias: "admiral",
    from_api: true,
    // Keys in sorted order: a JSON object's members have no order, and D1 keeps them sorted.
    attributes: { nested: { level: 2, none: null, ok: true }, tags: ["cobol", "flow-matic"], team: "compilers" },
    consented_at: "2023-11-07T06:31:56+01:00",
    consent_method: "text-ref",
    external_id: `okta-00u${n}`,
  };
}
/** The fields that `null` clears (not the flags, the attributes object, or the email). */
const CLEARABLE = [
  "username", "phone", "name", "given_name", "family_name", "nick_name", "preferred_language", "gender", "role_title",
  "based_in", "linkedin_profile_url", "picture", "company", "website", "country", "bio", "timezone", "auth0_uid",
  "publisher_id", "agency_id", "network_id", "advertiser_id", "payment_date", "company_type", "publisher_type",
  "role_alias", "consented_at", "consent_method", "external_id",
];
/** How a field sits in its D1 column (flags are integers, attributes JSON text). */
function stored(field, value) {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (field === "attributes") return JSON.stringify(value);
  return value;
}

// ---------------------------------------------------------------- who may do what

/**
 * Each lifecycle operation on a fresh target `t` of org A: the request, what success must have
 * done, and (`prepare`) the state it needs first so that success is a real change.
 */
const OPS = [
  {
    name: "GET /users/{id}",
    req: (t) => ["GET", `/users/${t.user.id}`],
    ok: 200,
    async done(r, t) {
      assert.equal(r.data.id, t.user.id);
      assert.equal(r.headers.get("etag"), `"${r.data.version}"`);
    },
  },
  {
    name: "PATCH /users/{id}",
    req: (t) => ["PATCH", `/users/${t.user.id}`, { nick_name: `nick-${t.n}`, consent_method: "opt-in" }],
    ok: 200,
    async done(r, t) {
      const row = await w.row(t.user.id);
      assert.deepEqual([row.nick_name, row.consent_method, row.version], [`nick-${t.n}`, "opt-in", 2]);
      assert.equal(r.headers.get("etag"), '"2"');
      return "update";
    },
  },
  {
    name: "POST /users/{id}/deactivate",
    req: (t) => ["POST", `/users/${t.user.id}/deactivate`],
    ok: 200,
    async done(r, t) {
      assert.equal(r.data.deactivated, true);
      assert.equal((await w.row(t.user.id)).deactivated, 1);
      return "deactivate";
    },
  },
  {
    name: "POST /users/{id}/reactivate",
    prepare: (t) => op("POST", `/users/${t.user.id}/deactivate`),
    req: (t) => ["POST", `/users/${t.user.id}/reactivate`],
    ok: 200,
    async done(r, t) {
      assert.equal(r.data.deactivated, false);
      assert.equal((await w.row(t.user.id)).deactivated, 0);
      return "reactivate";
    },
  },
  {
    name: "DELETE /users/{id}",
    req: (t) => ["DELETE", `/users/${t.user.id}`],
    ok: 204,
    async done(r, t) {
      assert.equal(r.text, "");
      assert.match((await w.row(t.user.id)).deleted_at, TS);
      return "delete";
    },
  },
  {
    name: "GET /users/{id}/events",
    req: (t) => ["GET", `/users/${t.user.id}/events`],
    ok: 200,
    async done(r) {
      assert.deepEqual(r.data.events.map((e) => e.action).filter((a) => !a.startsWith("api_key.")), ["create"]);
    },
  },
  {
    name: "GET /users?org_id=",
    req: (t) => ["GET", `/users?org_id=${A.org.id}&email=${encodeURIComponent(t.user.email)}`],
    ok: 200,
    async done(r, t) {
      assert.deepEqual(r.data.users.map((u) => u.id), [t.user.id]);
    },
  },
  {
    name: "POST /users",
    req: (t) => ["POST", "/users", { org_id: A.org.id, email: `made-for-${t.n}@acme.test`, nick_name: "made" }],
    ok: 201,
    async done(r, t) {
      assert.equal(r.data.email, `made-for-${t.n}@acme.test`);
      assert.equal(r.headers.get("location"), `/admin/v1/users/${r.data.id}`);
      return { id: r.data.id, action: "create" };
    },
  },
];

/** Users with this email (created by a refused POST /users, if anything was). */
async function madeFor(t) {
  const { results } = await w.db.prepare("SELECT id FROM users WHERE email = ?").bind(`made-for-${t.n}@acme.test`).all();
  return results;
}

for (const o of OPS) {
  test(`${o.name}: operator and own-org admin key succeed; other org's admin 404, user key 403, no key 401, nothing done`, async () => {
    for (const [label, who, actor] of [
      ["operator", OPERATOR, null],
      ["own-org admin key", A.adminKey, A.keys.admin.id],
    ]) {
      const t = await member(A);
      if (o.prepare) assert.equal((await o.prepare(t)).status, 200);
      const snap = await snapshot(t.user.id);
      const [method, path, json] = o.req(t);
      const refusals = [
        ["other org's admin key", B.adminKey, 404],
        // Even a deactivated target's own key: a user key is refused here before D1 is asked.
        ["the target's own user key", t.key, 403],
        ["another user's key in the org", A.userKey, 403],
        ["no key", null, 401],
        ["a wrong operator token", `${OPERATOR_TOKEN}x`, 401],
      ];
      for (const [who2, key, status] of refusals) {
        problem(await as(key, method, path, { json }), status);
        await unchanged(t.user.id, snap, `after ${who2}`);
        assert.deepEqual(await madeFor(t), [], `${who2} created nothing`);
        assert.ok(await w.kv.get(kvKeyOf(t.key)), "the target's key is still cached");
      }
      const r = await as(who, method, path, { json });
      assert.equal(r.status, o.ok, `${label}: ${r.text}`);
      const did = await o.done(r, t);
      if (did) {
        // The change wrote exactly one audit event, in the operator API's name, by this actor.
        const { id, action } = typeof did === "string" ? { id: t.user.id, action: did } : did;
        const ev = (await w.events(id)).at(-1);
        assert.equal(ev.action, action);
        assert.equal(ev.dialect, "admin");
        assert.equal(ev.actor_key_id, actor, label);
        assert.equal(ev.org_id, A.org.id);
        // A deletion also revokes the target's one key, an `api_key.revoked` event of its own.
        const keyEvents = action === "delete" ? 1 : 0;
        assert.equal(await eventCount(), snap.all + 1 + keyEvents, `${label}: one event`);
        if (keyEvents) {
          const { results } = await w.db.prepare("SELECT action FROM user_events WHERE user_id = ? ORDER BY seq DESC LIMIT 2").bind(id).all();
          assert.deepEqual(results.map((e) => e.action), ["delete", "api_key.revoked"], "the deletion's event is the user's last");
        }
      } else {
        await unchanged(t.user.id, snap, `after a read by ${label}`);
      }
    }
  });
}

test("an admin key may not reach another org through the body or the query: POST /users and GET /users name org A → 404", async () => {
  const before = await eventCount();
  problem(await as(B.adminKey, "POST", "/users", { json: { org_id: A.org.id, email: "intruder@acme.test" } }), 404);
  assert.equal(await w.db.prepare("SELECT id FROM users WHERE email = 'intruder@acme.test'").first(), null);
  problem(await as(B.adminKey, "GET", `/users?org_id=${A.org.id}`), 404);
  // Its own org is the default for a listing; the operator must say which org.
  const own = await as(B.adminKey, "GET", "/users");
  assert.equal(own.status, 200, own.text);
  assert.ok(own.data.users.length >= 3 && own.data.users.every((u) => u.org_id === B.org.id));
  problem(await op("GET", "/users"), 422, ["org_id"]);
  assert.equal(await eventCount(), before);
});

// ---------------------------------------------------------------- create

test("POST /users with every canonical field: 201, each reads back byte for byte (response, GET, D1 row), one create event", async () => {
  const body = { org_id: A.org.id, ...everyField("create"), password: "Create-Horse-Battery-1" };
  passwords.push(body.password);
  const r = await op("POST", "/users", body);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.headers.get("etag"), '"1"');
  const g = await op("GET", `/users/${r.data.id}`);
  assert.equal(g.status, 200, g.text);
  assert.deepEqual(g.data, r.data);
  const row = await w.row(r.data.id);
  for (const [field, sent] of Object.entries(everyField("create"))) {
    assert.deepEqual(r.data[field], sent, `${field} in the 201`);
    assert.deepEqual(g.data[field], sent, `${field} in GET`);
    assert.deepEqual(row[field], stored(field, sent), `${field} in D1`);
  }
  assert.equal(r.data.password_set, true);
  assert.ok(verifies(row.password_hash, body.password));
  assert.ok(!r.text.includes(body.password) && !r.text.includes("pbkdf2"));
  const events = await w.events(r.data.id);
  assert.deepEqual(events.map((e) => [e.action, e.version, e.actor_key_id]), [["create", 1, null]]);
  // The audit fields: names, never values (`data` is the change feed's copy of the user).
  assert.ok(!JSON.stringify(events.map(({ data, ...e }) => e)).includes("Hopper"), "field names, never values");
});

// ---------------------------------------------------------------- PATCH

test("PATCH every writable field: 200 + ETag, GET returns each byte for byte, D1 holds it; null clears every clearable one", async () => {
  const m = await member(A);
  const body = everyField(`p${m.n}`);
  const r = await op("PATCH", `/users/${m.user.id}`, body);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get("etag"), '"2"');
  assert.equal(r.data.version, 2);
  const g = await op("GET", `/users/${m.user.id}`);
  assert.equal(g.status, 200, g.text);
  assert.equal(g.headers.get("etag"), '"2"');
  assert.deepEqual(g.data, r.data, "the PATCH answers what a GET reads");
  // Byte for byte: the JSON text of each field as read is the JSON text that was sent.
  for (const [field, sent] of Object.entries(body)) {
    assert.equal(JSON.stringify(g.data[field]), JSON.stringify(sent), `${field} reads back as sent`);
  }
  const row = await w.row(m.user.id);
  for (const [field, sent] of Object.entries(body)) assert.deepEqual(row[field], stored(field, sent), `${field} in D1`);
  assert.equal(g.data.password_set, false);
  assert.equal(g.data.password_hash, undefined);

  const nulls = Object.fromEntries(CLEARABLE.map((f) => [f, null]));
  const c = await op("PATCH", `/users/${m.user.id}`, nulls);
  assert.equal(c.status, 200, c.text);
  assert.equal(c.headers.get("etag"), '"3"');
  const g2 = await op("GET", `/users/${m.user.id}`);
  const row2 = await w.row(m.user.id);
  for (const f of CLEARABLE) {
    assert.equal(g2.data[f], null, `${f} cleared (GET)`);
    assert.equal(row2[f], null, `${f} cleared (D1)`);
  }
  for (const f of ["email", "email_verified", "admin", "from_api", "attributes"]) {
    assert.deepEqual(g2.data[f], body[f], `${f} is not touched by clearing the others`);
  }

  const events = await w.events(m.user.id);
  assert.deepEqual(events.map((e) => [e.action, e.version, e.dialect]), [["create", 1, "admin"], ["update", 2, "admin"], ["update", 3, "admin"]]);
  assert.deepEqual(JSON.parse(events[1].fields).sort(), Object.keys(body).sort());
  assert.deepEqual(JSON.parse(events[2].fields).sort(), [...CLEARABLE].sort());
});

test("PATCH password: 200 password_set, a PBKDF2 hash that verifies, never echoed; the event names `password`", async () => {
  const m = await member(A);
  const pw = "Patch-Horse-Battery-2";
  passwords.push(pw);
  const r = await as(A.adminKey, "PATCH", `/users/${m.user.id}`, { json: { password: pw } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.password_set, true);
  assert.ok(!r.text.includes(pw) && !r.text.includes("pbkdf2"));
  assert.ok(verifies((await w.row(m.user.id)).password_hash, pw));
  assert.deepEqual(JSON.parse((await w.events(m.user.id)).at(-1).fields), ["password"]);
});

test("PATCH with bad fields: 422 problem naming every one, nothing changes (D1 row, user_events)", async () => {
  const m = await member(A, { username: `bad-${w.memberSeq + 1}` });
  const snap = await snapshot(m.user.id);
  const body = {
    name: "Would Be Fine",
    email: null,
    username: "has space",
    phone: "0791234567",
    country: "XX",
    consent_method: "maybe",
    consented_at: "yesterday",
    website: "ftp://grace.example/",
    payment_date: "2023-02-29",
    publisher_id: -1,
    admin: "yes",
    attributes: ["not", "an", "object"],
    timezone: "Mars/Olympus_Mons",
    gender: "GENDER_FEMALE",
    password: "short",
    deactivated: true,
    password_hash: "$pbkdf2-sha256$i=1,l=32$AA$AA",
    id: 9,
    uuid: "00000000-0000-4000-8000-000000000000",
  };
  const r = await op("PATCH", `/users/${m.user.id}`, body);
  problem(r, 422, Object.keys(body).filter((f) => f !== "name"));
  assert.ok(!r.text.includes('"short"'), "a password is never echoed");
  await unchanged(m.user.id, snap);
  // The same with an admin key.
  problem(await as(A.adminKey, "PATCH", `/users/${m.user.id}`, { json: { email: null, nick_name: 5 } }), 422, ["email", "nick_name"]);
  await unchanged(m.user.id, snap);
});

test("PATCH, deactivate, reactivate, DELETE with a stale If-Match: 412, nothing changes; the current ETag succeeds", async () => {
  const m = await member(A);
  const path = `/users/${m.user.id}`;
  const snap = await snapshot(m.user.id);
  for (const [method, p, json] of [
    ["PATCH", path, { name: "Stale" }],
    ["POST", `${path}/deactivate`],
    ["DELETE", path],
  ]) {
    for (const who of [OPERATOR, A.adminKey]) {
      problem(await as(who, method, p, { json, headers: { "if-match": '"7"' } }), 412);
      await unchanged(m.user.id, snap, `${method} ${p}`);
    }
  }
  const ok = await as(A.adminKey, "PATCH", path, { json: { name: "Fresh" }, headers: { "if-match": '"1"' } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.headers.get("etag"), '"2"');
  // The old ETag is stale now.
  problem(await op("PATCH", path, { name: "Late" }, { "if-match": '"1"' }), 412);
  const d = await op("POST", `${path}/deactivate`, undefined, { "if-match": '"2"' });
  assert.equal(d.status, 200, d.text);
  assert.equal(d.headers.get("etag"), '"3"');
  const snap2 = await snapshot(m.user.id);
  problem(await op("POST", `${path}/reactivate`, undefined, { "if-match": '"2"' }), 412);
  await unchanged(m.user.id, snap2);
  assert.equal((await w.row(m.user.id)).name, "Fresh");
  assert.deepEqual(await actions(m.user.id), ["create", "update", "deactivate"]);
});

// ---------------------------------------------------------------- deactivate / reactivate

test("deactivate: the user's key is refused at once though KV still holds it; admins read it (Upsun deactivated: true); twice = one event; reactivate restores the key", async () => {
  const m = await member(A);
  assert.equal((await w.hi("GET", m.user.id, m.key)).status, 200);
  const d = await op("POST", `/users/${m.user.id}/deactivate`);
  assert.equal(d.status, 200, d.text);
  assert.equal(d.data.deactivated, true);
  assert.equal(d.headers.get("etag"), '"2"');
  assert.equal((await w.row(m.user.id)).deactivated, 1);

  // KV still says the key is fine: the guard in D1 refuses it on the very next request.
  const cached = JSON.parse(await w.kv.get(kvKeyOf(m.key)));
  assert.equal(cached.key_id, m.keyId);
  assert.equal((await w.keyRow(m.keyId)).revoked_at, null, "deactivation does not revoke the key");
  const snap = await snapshot(m.user.id);
  assert.equal((await w.hi("GET", m.user.id, m.key)).status, 401);
  assert.equal((await w.hi("PATCH", m.user.id, m.key, { json: { user: { name: "Still Me" } } })).status, 401);
  const upsunSelf = await w.fetch(`/users/${m.user.uuid}`, { headers: { authorization: `Bearer ${m.key}` } });
  assert.equal(upsunSelf.status, 401, upsunSelf.text);
  await unchanged(m.user.id, snap);
  assert.ok(await w.kv.get(kvKeyOf(m.key)), "the KV entry is still there");

  // Admins still read it, in HiEnergy and Upsun; the operator too.
  const hi = await w.hi("GET", m.user.id, A.adminKey);
  assert.equal(hi.status, 200, hi.text);
  const upsun = await w.fetch(`/users/${m.user.uuid}`, { headers: { authorization: `Bearer ${A.adminKey}` } });
  assert.equal(upsun.status, 200, upsun.text);
  assert.equal(upsun.data.deactivated, true);
  assert.equal(upsun.data.id, m.user.uuid);
  const other = await w.fetch(`/users/${A.other.uuid}`, { headers: { authorization: `Bearer ${A.adminKey}` } });
  assert.equal(other.data.deactivated, false, "an active user reads deactivated: false");
  assert.equal((await op("GET", `/users/${m.user.id}`)).data.deactivated, true);

  // Twice: the same answer, nothing written.
  const again = await as(A.adminKey, "POST", `/users/${m.user.id}/deactivate`);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.headers.get("etag"), '"2"');
  assert.equal(again.data.deactivated, true);
  await unchanged(m.user.id, snap);
  assert.deepEqual(await actions(m.user.id), ["create", "deactivate"]);

  const back = await op("POST", `/users/${m.user.id}/reactivate`);
  assert.equal(back.status, 200, back.text);
  assert.equal(back.data.deactivated, false);
  assert.equal(back.headers.get("etag"), '"3"');
  assert.equal((await w.row(m.user.id)).deactivated, 0);
  const use = await w.hi("GET", m.user.id, m.key);
  assert.equal(use.status, 200, use.text);
  const twice = await op("POST", `/users/${m.user.id}/reactivate`);
  assert.equal(twice.status, 200);
  assert.equal(twice.headers.get("etag"), '"3"');
  assert.deepEqual(await actions(m.user.id), ["create", "deactivate", "reactivate"]);
  const ev = (await w.events(m.user.id)).slice(1);
  assert.deepEqual(ev.map((e) => [e.version, e.dialect, e.actor_key_id]), [[2, "admin", null], [3, "admin", null]]);
});

test("a deactivated admin's key is refused on the operator API at once (401), and works again after reactivation", async () => {
  const boss = await member(A, { admin: true });
  const path = `/users/${A.other.id}`;
  assert.equal((await as(boss.key, "GET", path)).status, 200);
  assert.equal((await op("POST", `/users/${boss.user.id}/deactivate`)).status, 200);
  assert.ok(await w.kv.get(kvKeyOf(boss.key)));
  const snap = await snapshot(A.other.id);
  problem(await as(boss.key, "GET", path), 401);
  problem(await as(boss.key, "PATCH", path, { json: { nick_name: "by a ghost" } }), 401);
  problem(await as(boss.key, "GET", `/users?org_id=${A.org.id}`), 401);
  // Reads whose key check rides in their own batch, and one aimed at another org.
  for (const read of ["/orgs", `/orgs/${A.org.id}`, `/events?org_id=${A.org.id}`, `/api-keys?user_id=${boss.user.id}`, `/orgs/${B.org.id}`]) {
    problem(await as(boss.key, "GET", read), 401);
  }
  problem(await as(boss.key, "POST", "/users", { json: { org_id: A.org.id, email: "ghost-made@acme.test" } }), 401);
  assert.equal(await w.db.prepare("SELECT id FROM users WHERE email = 'ghost-made@acme.test'").first(), null);
  await unchanged(A.other.id, snap);
  assert.equal((await op("POST", `/users/${boss.user.id}/reactivate`)).status, 200);
  assert.equal((await as(boss.key, "GET", path)).status, 200);
});

// ---------------------------------------------------------------- delete

test("DELETE: 204; then 404 in every dialect and the operator API, the key 401 and gone from KV, events still readable", async () => {
  const m = await member(A, { username: `Doomed.User${w.memberSeq + 1}`, phone: "+41791234567", given_name: "Doomed" });
  const extra = await w.createKey(m.user.id);
  assert.equal((await w.hi("PATCH", m.user.id, m.key, { json: { user: { based_in: "Bern" } } })).status, 200);
  assert.ok(await w.kv.get(kvKeyOf(m.key)));
  assert.ok(await w.kv.get(kvKeyOf(extra.key)));

  const r = await op("DELETE", `/users/${m.user.id}`);
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, "");

  // The tombstone: ids, org and dates kept; every personal field and secret erased.
  const row = await w.row(m.user.id);
  assert.match(row.deleted_at, TS);
  assert.equal(row.uuid, m.user.uuid);
  assert.equal(row.org_id, A.org.id);
  assert.deepEqual([row.email, row.username, row.phone, row.given_name, row.name, row.based_in, row.password_hash], ["", null, null, null, null, null, null]);
  // Every key of the user is revoked in D1 and dropped from KV.
  for (const [key, id] of [[m.key, m.keyId], [extra.key, extra.id]]) {
    assert.match((await w.keyRow(id)).revoked_at, TS);
    assert.equal(await w.kv.get(kvKeyOf(key)), null);
  }

  const admin = { authorization: `Bearer ${A.adminKey}` };
  const answers = {
    "HiEnergy GET": await w.hi("GET", m.user.id, A.adminKey),
    "HiEnergy PATCH": await w.hi("PATCH", m.user.id, A.adminKey, { json: { user: { name: "Back" } } }),
    "Upsun GET": await w.fetch(`/users/${m.user.uuid}`, { headers: admin }),
    "Upsun PATCH": await w.fetch(`/users/${m.user.uuid}`, { method: "PATCH", headers: admin, json: { first_name: "Back" } }),
    // Konstantly's PATCH always carries the email.
    "Konstantly PATCH by id": await w.fetch(`/openapi/v1/users/${m.user.id}`, { method: "PATCH", headers: { "x-api-key": A.adminKey }, json: { email: "back@acme.test", bio: "Back" } }),
    "Konstantly PATCH by uuid": await w.fetch(`/openapi/v1/users/${m.user.uuid}`, { method: "PATCH", headers: { "x-api-key": A.adminKey }, json: { email: "back@acme.test", bio: "Back" } }),
    "ZITADEL REST": await w.fetch(`/v2/users/human/${m.user.uuid}`, { method: "PUT", headers: admin, json: { username: "back" } }),
    "ZITADEL REST by id": await w.fetch(`/v2/users/human/${m.user.id}`, { method: "PUT", headers: admin, json: { username: "back" } }),
    "ZITADEL Connect": await w.fetch("/zitadel.user.v2.UserService/UpdateUser", { method: "POST", headers: admin, json: { userId: m.user.uuid, username: "back" } }),
    "operator GET": await op("GET", `/users/${m.user.id}`),
    "operator PATCH": await op("PATCH", `/users/${m.user.id}`, { name: "Back" }),
    "operator deactivate": await op("POST", `/users/${m.user.id}/deactivate`),
    "operator reactivate": await op("POST", `/users/${m.user.id}/reactivate`),
    "operator DELETE again": await op("DELETE", `/users/${m.user.id}`),
    "admin key GET": await as(A.adminKey, "GET", `/users/${m.user.id}`),
    "admin key DELETE again": await as(A.adminKey, "DELETE", `/users/${m.user.id}`),
    "new key for it": await op("POST", "/api-keys", { user_id: m.user.id }),
  };
  for (const [label, res] of Object.entries(answers)) assert.equal(res.status, 404, `${label}: ${res.text}`);
  assert.equal(answers["HiEnergy GET"].data.error, "not_found");
  assert.equal(answers["Konstantly PATCH by id"].data.message, "User not found");
  assert.equal(answers["ZITADEL REST"].data.code, 5);
  assert.equal(answers["ZITADEL Connect"].data.code, "not_found");
  assert.equal(answers["Upsun GET"].headers.get("content-type"), "application/problem+json");
  // Nothing above wrote anything: the row is the tombstone still; no key was issued.
  assert.deepEqual(await w.row(m.user.id), row);
  assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE user_id = ?").bind(m.user.id).first()).n, 2);

  // The user's own keys are refused, in any dialect.
  assert.equal((await w.hi("GET", m.user.id, m.key)).status, 401);
  assert.equal((await w.fetch(`/users/${m.user.uuid}`, { headers: { authorization: `Bearer ${extra.key}` } })).status, 401);

  // The audit history stays readable, newest first, ending in the delete.
  const e = await op("GET", `/users/${m.user.id}/events`);
  assert.equal(e.status, 200, e.text);
  // The user's changes (its keys' own events, api_key.*, sit beside them).
  assert.deepEqual(e.data.events.map((x) => x.action).filter((a) => !a.startsWith("api_key.")), ["delete", "update", "create"]);
  assert.equal(e.data.events[0].version, 3);
  assert.equal(e.data.events[0].dialect, "admin");
  assert.equal(e.data.events[0].actor_key_id, null);
  assert.deepEqual(e.data.events[0].fields, []);
  assert.ok(!e.text.includes("Doomed") && !e.text.includes("Bern"), "the history holds field names, never values");
  problem(await as(B.adminKey, "GET", `/users/${m.user.id}/events`), 404);
  // The listing no longer has it.
  const list = await op("GET", `/users?org_id=${A.org.id}&limit=200`);
  assert.ok(!list.data.users.some((u) => u.id === m.user.id));
});

test("after DELETE the email and username are free: a new user takes them (differently cased) in the same org", async () => {
  const n = w.memberSeq + 1;
  const m = await member(A, { email: `taken.back${n}@acme.test`, username: `Taken.Back${n}` });
  // While the user lives, both are taken, in any case.
  problem(await op("POST", "/users", { org_id: A.org.id, email: `TAKEN.BACK${n}@ACME.TEST` }), 409, ["email"]);
  problem(await op("POST", "/users", { org_id: A.org.id, email: `fresh${n}@acme.test`, username: `taken.back${n}` }), 409, ["username"]);
  assert.equal((await as(A.adminKey, "DELETE", `/users/${m.user.id}`)).status, 204);
  const del = (await w.events(m.user.id)).at(-1);
  assert.deepEqual([del.action, del.actor_key_id], ["delete", A.keys.admin.id]);

  const again = await op("POST", "/users", { org_id: A.org.id, email: `TAKEN.BACK${n}@ACME.TEST`, username: `TAKEN.back${n}` });
  assert.equal(again.status, 201, again.text);
  assert.notEqual(again.data.id, m.user.id);
  assert.notEqual(again.data.uuid, m.user.uuid);
  assert.equal(again.data.email, `TAKEN.BACK${n}@ACME.TEST`, "stored as sent");
  assert.equal(again.data.username, `TAKEN.back${n}`);
  assert.deepEqual(await actions(again.data.id), ["create"]);
  // The new user's history is its own; the old one's is still the old one's.
  assert.deepEqual(await actions(m.user.id), ["create", "delete"]);
  // An existing user can move onto a freed name too.
  const n2 = w.memberSeq + 1;
  const gone = await member(A, { username: `Moving.Target${n2}` });
  assert.equal((await op("DELETE", `/users/${gone.user.id}`)).status, 204);
  const moved = await op("PATCH", `/users/${A.other.id}`, { username: `moving.target${n2}` });
  assert.equal(moved.status, 200, moved.text);
  const list = await op("GET", `/users?org_id=${A.org.id}&username=MOVING.TARGET${n2}`);
  assert.deepEqual(list.data.users.map((u) => u.id), [A.other.id]);
});

test("a deleted admin's key is refused at once on the operator API (401)", async () => {
  const boss = await member(A, { admin: true });
  assert.equal((await as(boss.key, "GET", `/users/${A.other.id}`)).status, 200);
  assert.equal((await op("DELETE", `/users/${boss.user.id}`)).status, 204);
  problem(await as(boss.key, "GET", `/users/${A.other.id}`), 401);
  problem(await as(boss.key, "GET", "/users"), 401);
});

// ---------------------------------------------------------------- list

test("GET /users: pages of `limit` with next_cursor cover every live user once, in id order; the same users as GET /users/{id}", async () => {
  const C = await w.seedOrg("gamma");
  for (let i = 0; i < 6; i++) await w.createUser({ org_id: C.org.id, email: `walker${i}@gamma.test`, username: `Walker${i}` });
  const gone = await w.createUser({ org_id: C.org.id, email: "gone@gamma.test" });
  assert.equal((await op("DELETE", `/users/${gone.id}`)).status, 204);
  const sleeper = await w.createUser({ org_id: C.org.id, email: "sleeper@gamma.test" });
  assert.equal((await op("POST", `/users/${sleeper.id}/deactivate`)).status, 200);
  const { results } = await w.db.prepare("SELECT id FROM users WHERE org_id = ? AND deleted_at IS NULL ORDER BY id").bind(C.org.id).all();
  const expected = results.map((x) => x.id);
  assert.equal(expected.length, 10);

  for (const [who, q] of [[OPERATOR, `org_id=${C.org.id}&`], [C.adminKey, ""]]) {
    for (const limit of [1, 3, 4, 10, 200]) {
      const seen = [];
      let cursor = null;
      let pages = 0;
      do {
        const r = await as(who, "GET", `/users?${q}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.headers.get("content-type"), "application/json");
        assert.deepEqual(Object.keys(r.data).sort(), ["next_cursor", "users"]);
        assert.ok(r.data.users.length <= limit);
        seen.push(...r.data.users.map((u) => u.id));
        cursor = r.data.next_cursor;
        assert.ok(cursor === null || (typeof cursor === "string" && cursor.length > 0));
        assert.ok(++pages <= 11, "the walk ends");
      } while (cursor);
      assert.deepEqual(seen, expected, `limit ${limit}: every live user once, in id order`);
      assert.equal(pages, Math.max(1, Math.ceil(expected.length / limit)), `limit ${limit}: no empty trailing page`);
    }
  }
  // Each listed user is the canonical user, as GET /users/{id} has it.
  const all = await op("GET", `/users?org_id=${C.org.id}`);
  assert.equal(all.data.next_cursor, null);
  for (const u of all.data.users) assert.deepEqual(u, (await op("GET", `/users/${u.id}`)).data);
  assert.equal(all.data.users.find((u) => u.id === sleeper.id).deactivated, true, "a deactivated user is listed");
  assert.ok(!all.data.users.some((u) => u.id === gone.id), "a deleted user is not");

  // A cursor stays valid when users before or after it change: no repeats, no gaps.
  const first = await op("GET", `/users?org_id=${C.org.id}&limit=4`);
  assert.equal((await op("DELETE", `/users/${first.data.users[1].id}`)).status, 204);
  const late = await w.createUser({ org_id: C.org.id, email: "late@gamma.test" });
  const rest = [];
  for (let cursor = first.data.next_cursor; cursor; ) {
    const r = await op("GET", `/users?org_id=${C.org.id}&limit=4&cursor=${encodeURIComponent(cursor)}`);
    rest.push(...r.data.users.map((u) => u.id));
    cursor = r.data.next_cursor;
  }
  assert.deepEqual(rest, [...expected.slice(4), late.id]);
});

test("GET /users: email and username match case-insensitively (exactly); no match is an empty last page", async () => {
  const C = await w.seedOrg("delta");
  const plus = await w.createUser({ org_id: C.org.id, email: "Ann+Tag@delta.test", username: "Ann.Example" });
  await w.createUser({ org_id: C.org.id, email: "ann@delta.test", username: "ann" });
  const twin = await w.createUser({ org_id: A.org.id, email: "ann+tag@delta.test", username: "ann.example" });
  const ids = (r) => r.data.users.map((u) => u.id);
  const q = (s) => op("GET", `/users?org_id=${C.org.id}&${s}`);
  for (const email of ["Ann+Tag@delta.test", "ANN+TAG@DELTA.TEST", "ann+tag@delta.test"]) {
    const r = await q(`email=${encodeURIComponent(email)}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(ids(r), [plus.id], email);
  }
  for (const username of ["Ann.Example", "ANN.EXAMPLE", "ann.example"]) {
    assert.deepEqual(ids(await q(`username=${encodeURIComponent(username)}`)), [plus.id], username);
  }
  assert.deepEqual(ids(await q(`email=${encodeURIComponent("ANN+TAG@delta.test")}&username=ann.EXAMPLE`)), [plus.id]);
  // Exact matches only: no prefix, no wildcard, no other org.
  for (const s of ["email=ann%2Btag", "email=%25delta.test", "username=ann.%25", "username=Ann.Exampl", `email=${encodeURIComponent("ann@delta.test")}&username=Ann.Example`]) {
    const r = await q(s);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.data, { users: [], next_cursor: null }, s);
  }
  const own = await as(A.adminKey, "GET", `/users?email=${encodeURIComponent("ANN+TAG@DELTA.TEST")}`);
  assert.deepEqual(ids(own), [twin.id], "an admin key finds its own org's user only");
});

test("GET /users: limit 201, 0 or not a number, a forged cursor, an unknown parameter → 422 naming each; limit 200 is fine", async () => {
  const base = `/users?org_id=${A.org.id}`;
  for (const [q, fields] of [
    ["&limit=201", ["limit"]],
    ["&limit=0", ["limit"]],
    ["&limit=-1", ["limit"]],
    ["&limit=ten", ["limit"]],
    ["&cursor=zz", ["cursor"]],
    [`&cursor=${Buffer.from("u-5").toString("base64url")}`, ["cursor"]],
    ["&offset=3", ["offset"]],
    ["&limit=201&cursor=zz&offset=3", ["cursor", "limit", "offset"]],
  ]) {
    for (const who of [OPERATOR, A.adminKey]) problem(await as(who, "GET", base + q), 422, fields);
  }
  problem(await op("GET", "/users?org_id=abc"), 422, ["org_id"]);
  const r = await op("GET", `${base}&limit=200`);
  assert.equal(r.status, 200, r.text);
  assert.ok(r.data.users.length > 3 && r.data.users.length <= 200);
});

test("GET /users: no password hash, key digest, key or password anywhere in a listing", async () => {
  const pw = "Listed-Horse-Battery-3";
  passwords.push(pw);
  const withPw = await op("POST", "/users", { org_id: A.org.id, email: "listed@acme.test", password: pw });
  assert.equal(withPw.status, 201);
  const r = await as(A.adminKey, "GET", "/users?limit=200");
  assert.equal(r.status, 200, r.text);
  assert.ok(r.data.users.some((u) => u.id === withPw.data.id && u.password_set === true));
  const { results: keys } = await w.db.prepare("SELECT digest FROM api_keys").all();
  const { results: hashes } = await w.db.prepare("SELECT password_hash FROM users WHERE password_hash IS NOT NULL").all();
  for (const s of ["password_hash", "$pbkdf2", "digest", pw, A.adminKey, A.userKey, ...keys.map((k) => k.digest), ...hashes.map((h) => h.password_hash)]) {
    assert.ok(!r.text.includes(s), `the listing leaks ${s.slice(0, 16)}`);
  }
  for (const u of r.data.users) {
    assert.deepEqual(Object.keys(u).filter((k) => /password|hash|digest|key|secret|last_write/.test(k) && !["password_set", "password_change_required"].includes(k)), []);
  }
});

// ---------------------------------------------------------------- Server-Timing

test("Server-Timing: a PATCH by an admin key is exactly one kv and one d1 call; by the operator, one d1 call", async () => {
  const m = await member(A);
  const r = await as(A.adminKey, "PATCH", `/users/${m.user.id}`, { json: { nick_name: "timed" } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(timingNames(r.headers), ["kv", "d1"], r.headers.get("server-timing"));
  assert.match(r.headers.get("server-timing"), /^kv;desc="get";dur=[\d.]+, d1;desc="batch";dur=[\d.]+$/);
  const o = await op("PATCH", `/users/${m.user.id}`, { nick_name: "timed again" });
  assert.equal(o.status, 200, o.text);
  assert.deepEqual(timingNames(o.headers), ["d1"], o.headers.get("server-timing"));
  // A refusal by the parser spends no D1 call.
  const bad = await as(A.adminKey, "PATCH", `/users/${m.user.id}`, { json: { country: "XX" } });
  assert.equal(bad.status, 422);
  assert.ok(!timingNames(bad.headers).includes("d1"), bad.headers.get("server-timing"));
});

test("Server-Timing: an admin key's reads re-check it in the same D1 batch: one kv and one d1 call", async () => {
  const m = await member(A);
  // A user with no keys too: its empty listing reads the user in the same batch.
  const keyless = await op("POST", "/users", { org_id: A.org.id, email: `keyless${Date.now()}@acme.test` });
  assert.equal(keyless.status, 201, keyless.text);
  const reads = ["/orgs", `/orgs/${A.org.id}`, `/api-keys?user_id=${m.user.id}`, `/api-keys?user_id=${keyless.data.id}`, `/users/${m.user.id}/events`, `/events?org_id=${A.org.id}`];
  for (const path of reads) {
    const r = await as(A.adminKey, "GET", path);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    assert.deepEqual(timingNames(r.headers), ["kv", "d1"], `${path}: ${r.headers.get("server-timing")}`);
    assert.match(r.headers.get("server-timing"), /^kv;desc="get";dur=[\d.]+, d1;desc="batch";dur=[\d.]+$/, path);
  }
});

// ---------------------------------------------------------------- secrets

test("no response in this file carried an API key (other than the 201 issuing it), a digest, a password or its hash", async () => {
  const { results: keys } = await w.db.prepare("SELECT digest FROM api_keys").all();
  const { results: hashes } = await w.db.prepare("SELECT password_hash FROM users WHERE password_hash IS NOT NULL").all();
  assert.ok(hashes.length >= 2);
  const secrets = [
    A.adminKey, A.userKey, A.otherKey, B.adminKey, B.userKey, B.otherKey, ...w.issuedKeys,
    ...keys.map((k) => k.digest), ...hashes.map((h) => h.password_hash), ...passwords, "$pbkdf2", "password_hash",
  ];
  assert.deepEqual(leaks(w, secrets), []);
});
