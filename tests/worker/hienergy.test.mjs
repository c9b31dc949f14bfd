// HiEnergy dialect (seed 000): PATCH/GET /api/v1/users/{id} with X-Api-Key, on the built worker.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWithOrgs, timingNames, OPERATOR_TOKEN, BASE, leaks, sha256, snapshot, unchanged } from "./support.mjs";

let w, A, B;
before(async () => {
  ({ w, A, B } = await startWithOrgs());
});
after(() => w?.dispose());

/** A fresh member of `org` with its own key (see support.mjs). */
const member = (org, fields = {}) => w.member(org, fields, "m");

const ADMIN_ONLY = {
  email: "moved@acme.test",
  admin: true,
  auth0_uid: "auth0|123",
  publisher_id: 1,
  agency_id: 2,
  network_id: 3,
  advertiser_id: 4,
  payment_date: "2024-02-29",
  company_type: "agency",
  publisher_type: "blog",
  password: "a long enough password",
};


// ---------------------------------------------------------------- seed examples, verbatim

test("seed example self_profile_update by the user on itself", async () => {
  const m = await member(A);
  const r = await w.hi("PATCH", m.user.id, m.key, {
    headers: { Accept: "application/json" },
    json: { user: { given_name: "New", family_name: "Name", based_in: "Paris, FR" } },
  });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get("content-type"), /^application\/json/);
  assert.equal(r.data.data.id, m.user.id);
  assert.equal(r.data.data.given_name, "New");
  assert.equal(r.data.data.family_name, "Name");
  assert.equal(r.data.data.based_in, "Paris, FR");
  assert.equal(r.data.data.name, m.user.name, "untouched fields keep their value");
  assert.equal(r.headers.get("etag"), '"2"');
  const row = await w.row(m.user.id);
  assert.equal(row.given_name, "New");
  assert.equal(row.family_name, "Name");
  assert.equal(row.based_in, "Paris, FR");
  assert.equal(row.version, 2);
  const events = await w.events(m.user.id);
  assert.equal(events.length, 2, "create + one update");
  const ev = events.at(-1);
  assert.equal(ev.action, "update");
  assert.equal(ev.dialect, "hienergy");
  assert.deepEqual(JSON.parse(ev.fields), ["given_name", "family_name", "based_in"]);
  assert.equal(ev.actor_key_id, m.keyId);
  assert.equal(ev.version, 2);
  assert.equal(ev.org_id, A.org.id);
});

test("seed example admin_moves_user by the admin on the user", async () => {
  const m = await member(A);
  const r = await w.hi("PATCH", m.user.id, A.adminKey, { json: { user: { publisher_id: 42 } } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.data.publisher_id, 42);
  assert.equal(r.headers.get("etag"), '"2"');
  const row = await w.row(m.user.id);
  assert.equal(row.publisher_id, 42);
  assert.equal(row.version, 2);
  const ev = (await w.events(m.user.id)).at(-1);
  assert.equal(ev.action, "update");
  assert.equal(ev.dialect, "hienergy");
  assert.deepEqual(JSON.parse(ev.fields), ["publisher_id"]);
  assert.equal(ev.actor_key_id, A.keys.admin.id);
});

test("seed curl as documented (X-Api-Key, Accept, Content-Type, -d '{}') is an empty update: 200, nothing changes", async () => {
  const m = await member(A);
  const [row, events] = await snapshot(w, m.user.id);
  const r = await w.hi("PATCH", m.user.id, null, {
    headers: { "X-Api-Key": m.key, Accept: "application/json", "Content-Type": "application/json" },
    body: "{}",
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.data.id, m.user.id);
  assert.equal(r.data.data.email, m.user.email);
  assert.equal(r.headers.get("etag"), '"1"', "version unchanged");
  await unchanged(w, m.user.id, [row, events]);
});

test("seed curl as the shell runs it (missing line continuation: no body, no content type) → 200, nothing changes", async () => {
  const m = await member(A);
  const [row, events] = await snapshot(w, m.user.id);
  const r = await w.hi("PATCH", m.user.id, null, { headers: { "X-Api-Key": m.key, Accept: "application/json" } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.data.id, m.user.id);
  assert.equal(r.headers.get("etag"), '"1"');
  await unchanged(w, m.user.id, [row, events]);
});

test("an empty body with any content type, and {\"user\": {}}, are empty updates too", async () => {
  const m = await member(A);
  const [row, events] = await snapshot(w, m.user.id);
  for (const init of [{ body: "" }, { body: "  \n", headers: { "content-type": "text/plain" } }, { json: { user: {} } }, { json: {} }]) {
    const r = await w.hi("PATCH", m.user.id, m.key, init);
    assert.equal(r.status, 200, `${JSON.stringify(init)}: ${r.text}`);
    assert.equal(r.data.data.id, m.user.id);
    assert.equal(r.headers.get("etag"), '"1"');
  }
  await unchanged(w, m.user.id, [row, events]);
});

// ---------------------------------------------------------------- reads, auth headers

test("GET: a user reads itself, an admin reads anyone in its org, a user may not read another (403)", async () => {
  const m = await member(A);
  let r = await w.hi("GET", m.user.id, m.key);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.data.id, m.user.id);
  assert.equal(r.data.data.email, m.user.email);
  assert.equal(r.data.data.admin, false);
  assert.equal(r.headers.get("etag"), '"1"');
  r = await w.hi("GET", m.user.id, A.adminKey);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.data.id, m.user.id);
  r = await w.hi("GET", A.other.id, m.key);
  assert.equal(r.status, 403, r.text);
  assert.equal(r.data.error, "forbidden");
  assert.equal(r.data.data, undefined);
});

test("GET with If-None-Match naming the current ETag → 304, no body, ETag and CORS kept; after a change → 200", async () => {
  const m = await member(A);
  let r = await w.hi("GET", m.user.id, m.key, { headers: { "if-none-match": 'W/"1"' } });
  assert.equal(r.status, 304, r.text);
  assert.equal(r.text, "");
  assert.equal(r.headers.get("etag"), '"1"');
  assert.equal(r.headers.get("content-type"), null);
  assert.equal(r.headers.get("access-control-allow-origin"), "*");
  assert.ok(r.headers.get("x-d1-bookmark"), "the bookmark still comes back");
  r = await w.hi("PATCH", m.user.id, m.key, { json: { user: { based_in: "Oslo" } } });
  assert.equal(r.status, 200, r.text);
  r = await w.hi("GET", m.user.id, m.key, { headers: { "if-none-match": '"1"' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.data.based_in, "Oslo");
  assert.equal(r.headers.get("etag"), '"2"');
});

test("Authorization: Bearer <key> is accepted like X-Api-Key", async () => {
  const m = await member(A);
  const r = await w.fetch(`/api/v1/users/${m.user.id}`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${m.key}` },
    json: { user: { role_title: "Engineer" } },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal((await w.row(m.user.id)).role_title, "Engineer");
  const g = await w.fetch(`/api/v1/users/${m.user.id}`, { headers: { authorization: `bearer ${m.key}` } });
  assert.equal(g.status, 200, g.text);
  assert.equal(g.data.data.role_title, "Engineer");
});

test("self-service fields: every one of them can be set and cleared with null by the user", async () => {
  const m = await member(A);
  const set = {
    name: "Ünïcode Näme",
    given_name: "Given",
    family_name: "Family",
    linkedin_profile_url: "https://www.linkedin.com/in/someone",
    role_title: "CTO",
    based_in: "Berlin, DE",
  };
  let r = await w.hi("PATCH", m.user.id, m.key, { json: { user: set } });
  assert.equal(r.status, 200, r.text);
  const row = await w.row(m.user.id);
  for (const [k, v] of Object.entries(set)) assert.equal(row[k], v, k);
  const clear = Object.fromEntries(Object.keys(set).map((k) => [k, null]));
  r = await w.hi("PATCH", m.user.id, m.key, { json: { user: clear } });
  assert.equal(r.status, 200, r.text);
  const row2 = await w.row(m.user.id);
  for (const k of Object.keys(set)) assert.equal(row2[k], null, k);
  assert.equal(row2.version, 3);
  assert.deepEqual(JSON.parse((await w.events(m.user.id)).at(-1).fields).sort(), Object.keys(set).sort());
});

test("an admin may set every admin-only field (and clear the optional ones)", async () => {
  const m = await member(A);
  const r = await w.hi("PATCH", m.user.id, A.adminKey, { json: { user: { ...ADMIN_ONLY, email: "Moved.Person@ACME.test" } } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.data.email, "Moved.Person@ACME.test", "stored as sent (compared on its canonical key)");
  assert.equal(r.data.data.admin, true);
  assert.equal(r.data.data.payment_date, "2024-02-29");
  assert.equal(r.data.data.password, undefined);
  const row = await w.row(m.user.id);
  assert.equal(row.email, "Moved.Person@ACME.test");
  assert.equal(row.admin, 1);
  assert.equal(row.auth0_uid, "auth0|123");
  assert.deepEqual([row.publisher_id, row.agency_id, row.network_id, row.advertiser_id], [1, 2, 3, 4]);
  assert.equal(row.company_type, "agency");
  assert.equal(row.publisher_type, "blog");
  assert.match(row.password_hash, /^\$pbkdf2-sha256\$i=1000,l=32\$/);
  const fields = JSON.parse((await w.events(m.user.id)).at(-1).fields);
  assert.deepEqual([...fields].sort(), Object.keys(ADMIN_ONLY).sort());
  const c = await w.hi("PATCH", m.user.id, A.adminKey, { json: { user: { publisher_id: null, payment_date: null, auth0_uid: null } } });
  assert.equal(c.status, 200, c.text);
  const row2 = await w.row(m.user.id);
  assert.deepEqual([row2.publisher_id, row2.payment_date, row2.auth0_uid], [null, null, null]);
});

// ---------------------------------------------------------------- 401

test("401: no key, malformed key, unknown well-formed key, operator token as key; nothing changes", async () => {
  const m = await member(A);
  const [row, events] = await snapshot(w, m.user.id);
  const unknown = "ue_" + "A".repeat(43);
  const cases = [
    ["no key", {}],
    ["empty X-Api-Key", { "x-api-key": "" }],
    ["malformed", { "x-api-key": "not-a-key" }],
    ["truncated real key", { "x-api-key": m.key.slice(0, -1) }],
    ["unknown well-formed", { "x-api-key": unknown }],
    ["operator token as key", { "x-api-key": OPERATOR_TOKEN }],
    ["operator token as bearer", { authorization: `Bearer ${OPERATOR_TOKEN}` }],
    ["basic auth", { authorization: `Basic ${Buffer.from("u:" + m.key).toString("base64")}` }],
  ];
  for (const [label, headers] of cases) {
    for (const method of ["PATCH", "GET"]) {
      const r = await w.fetch(`/api/v1/users/${m.user.id}`, {
        method,
        headers,
        json: method === "PATCH" ? { user: { name: "Hacked" } } : undefined,
      });
      assert.equal(r.status, 401, `${label} ${method}: ${r.text}`);
      assert.equal(r.data.error, "unauthorized", label);
      assert.equal(typeof r.data.message, "string");
      assert.equal(r.data.data, undefined);
    }
  }
  await unchanged(w, m.user.id, [row, events]);
});

test("401 comes before 404 and 400: an unauthenticated caller learns nothing about ids or bodies", async () => {
  for (const [id, init] of [
    ["999999", { json: { user: { name: "x" } } }],
    ["abc", {}],
    [String(A.user.id), { body: "{nope", headers: { "content-type": "application/json" } }],
  ]) {
    const r = await w.hi("PATCH", id, null, init);
    assert.equal(r.status, 401, `${id}: ${r.text}`);
    assert.equal(r.data.error, "unauthorized");
  }
});

// ---------------------------------------------------------------- 403

test("403: a user may not update another user of its org; nothing changes", async () => {
  const m = await member(A);
  const target = await member(A);
  const [row, events] = await snapshot(w, target.user.id);
  const r = await w.hi("PATCH", target.user.id, m.key, { json: { user: { name: "Not Yours" } } });
  assert.equal(r.status, 403, r.text);
  assert.equal(r.data.error, "forbidden");
  assert.equal(typeof r.data.message, "string");
  await unchanged(w, target.user.id, [row, events]);
  // The admin of the org is another user too.
  const [arow, aevents] = await snapshot(w, A.admin.id);
  const r2 = await w.hi("PATCH", A.admin.id, m.key, { json: { user: { name: "Not Yours" } } });
  assert.equal(r2.status, 403, r2.text);
  await unchanged(w, A.admin.id, [arow, aevents]);
});

test("403: a user sending admin-only fields on itself: every denied field named, nothing applied", async () => {
  const m = await member(A);
  const [row, events] = await snapshot(w, m.user.id);
  const r = await w.hi("PATCH", m.user.id, m.key, { json: { user: { name: "Allowed Part", ...ADMIN_ONLY } } });
  assert.equal(r.status, 403, r.text);
  assert.equal(r.data.error, "forbidden");
  assert.deepEqual(Object.keys(r.data.errors).sort(), Object.keys(ADMIN_ONLY).sort(), "every admin-only field, and only those");
  for (const msgs of Object.values(r.data.errors)) {
    assert.ok(Array.isArray(msgs) && msgs.length > 0 && msgs.every((s) => typeof s === "string"));
  }
  await unchanged(w, m.user.id, [row, events]);
  // One at a time, too.
  for (const [field, value] of Object.entries(ADMIN_ONLY)) {
    const r1 = await w.hi("PATCH", m.user.id, m.key, { json: { user: { [field]: value } } });
    assert.equal(r1.status, 403, `${field}: ${r1.text}`);
    assert.deepEqual(Object.keys(r1.data.errors), [field]);
  }
  await unchanged(w, m.user.id, [row, events]);
});

// ---------------------------------------------------------------- 404

test("404: missing id and ids that can't exist, for user and admin keys", async () => {
  for (const key of [A.userKey, A.adminKey]) {
    for (const id of ["999999", "0", "-1", "abc", "1.5", "1e3", "0x10", "99999999999999999999", "00000000-0000-4000-8000-000000000000"]) {
      for (const method of ["PATCH", "GET"]) {
        const r = await w.hi(method, id, key, { json: method === "PATCH" ? { user: { name: "x" } } : undefined });
        assert.equal(r.status, 404, `${method} ${id}: ${r.text}`);
        assert.equal(r.data.error, "not_found");
      }
    }
  }
});

test("404, never 403: a user in another org, for org B's user key and admin key", async () => {
  const target = await member(A);
  const [row, events] = await snapshot(w, target.user.id);
  for (const [label, key] of [["B user key", B.userKey], ["B admin key", B.adminKey]]) {
    for (const body of [{ user: { name: "Cross Org" } }, { user: { publisher_id: 7 } }, {}]) {
      const r = await w.hi("PATCH", target.user.id, key, { json: body });
      assert.equal(r.status, 404, `${label} ${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.data.error, "not_found");
    }
    const g = await w.hi("GET", target.user.id, key);
    assert.equal(g.status, 404, `${label} GET: ${g.text}`);
    assert.equal(g.data.error, "not_found");
    assert.equal(g.data.data, undefined);
  }
  // Same answer as for an id nobody has.
  const missing = await w.hi("PATCH", 999999, B.adminKey, { json: { user: { name: "Cross Org" } } });
  const cross = await w.hi("PATCH", target.user.id, B.adminKey, { json: { user: { name: "Cross Org" } } });
  assert.deepEqual(cross.data, missing.data);
  await unchanged(w, target.user.id, [row, events]);
});

// ---------------------------------------------------------------- 422

test("422: several bad fields at once, every one named, nothing applied", async () => {
  const m = await member(A);
  const [row, events] = await snapshot(w, m.user.id);
  const r = await w.hi("PATCH", m.user.id, A.adminKey, {
    json: {
      user: {
        name: "Fine Name",
        email: "not-an-email",
        linkedin_profile_url: "linkedin.com/in/someone",
        publisher_id: "42",
        agency_id: -1,
        network_id: 1.5,
        payment_date: "2023-02-30",
        admin: "yes",
        given_name: 5,
        role_title: "x".repeat(256),
        password: "short",
        favourite_colour: "blue",
      },
    },
  });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.data.error, "validation_failed");
  assert.deepEqual(
    Object.keys(r.data.errors).sort(),
    ["admin", "agency_id", "email", "favourite_colour", "given_name", "linkedin_profile_url", "network_id", "password", "payment_date", "publisher_id", "role_title"].sort(),
  );
  for (const msgs of Object.values(r.data.errors)) assert.ok(msgs.length > 0 && msgs.every((s) => typeof s === "string" && s.length > 0));
  assert.ok(!r.text.includes("short"), "the password value is not echoed");
  await unchanged(w, m.user.id, [row, events]);
});

test("422 for a user too (validation names bad fields before policy), and for bad shapes", async () => {
  const m = await member(A);
  const [row, events] = await snapshot(w, m.user.id);
  const cases = [
    [{ user: { linkedin_profile_url: "javascript:alert(1)" } }, ["linkedin_profile_url"]],
    [{ user: { linkedin_profile_url: "https://u:p@example.com/" } }, ["linkedin_profile_url"]],
    [{ user: { based_in: "line\nbreak" } }, ["based_in"]],
    [{ user: { name: ["array"] } }, ["name"]],
    [{ user: { email: null } }, ["email"]],
    [{ user: { admin: null } }, ["admin"]],
    [{ user: "string" }, ["user"]],
    [{ user: null }, ["user"]],
    [{ user: {}, extra: 1 }, ["extra"]],
    [{ name: "top-level" }, ["name"]],
    [[1, 2], ["body"]],
  ];
  for (const [body, fields] of cases) {
    const r = await w.hi("PATCH", m.user.id, m.key, { json: body });
    assert.equal(r.status, 422, `${JSON.stringify(body)}: ${r.text}`);
    assert.equal(r.data.error, "validation_failed");
    assert.deepEqual(Object.keys(r.data.errors).sort(), fields.sort(), JSON.stringify(body));
  }
  await unchanged(w, m.user.id, [row, events]);
});

test("422 errors.email: admin sets an email already taken in the org (any case); nothing changes", async () => {
  const m = await member(A);
  const [row, events] = await snapshot(w, m.user.id);
  const taken = [A.other.email, "OTHER@acme.test", A.admin.email];
  const answers = [];
  for (const email of taken) answers.push(await w.hi("PATCH", m.user.id, A.adminKey, { json: { user: { email } } }));
  // Nothing may have changed whatever the status was; then the status and body themselves.
  await unchanged(w, m.user.id, [row, events]);
  for (const [i, r] of answers.entries()) {
    assert.equal(r.status, 422, `${taken[i]}: ${r.text}`);
    assert.equal(r.data.error, "validation_failed");
    assert.deepEqual(Object.keys(r.data.errors), ["email"]);
    assert.ok(r.data.errors.email.length > 0);
  }
});

test("email uniqueness is per org: another org's address is free", async () => {
  const m = await member(A);
  const ok = await w.hi("PATCH", m.user.id, A.adminKey, { json: { user: { email: B.admin.email } } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.data.data.email, B.admin.email);
  assert.equal((await w.row(m.user.id)).email, B.admin.email);
});

// ---------------------------------------------------------------- mass assignment

test("mass assignment: a non-admin sending admin: true on itself → 403, still not admin, nothing recorded", async () => {
  const m = await member(A);
  const [row, events] = await snapshot(w, m.user.id);
  for (const body of [{ user: { admin: true } }, { user: { admin: true, name: "Sneaky" } }]) {
    const r = await w.hi("PATCH", m.user.id, m.key, { json: body });
    assert.equal(r.status, 403, r.text);
    assert.deepEqual(Object.keys(r.data.errors), ["admin"]);
  }
  await unchanged(w, m.user.id, [row, events]);
  const after = await w.row(m.user.id);
  assert.equal(after.admin, 0);
  assert.equal(after.version, 1);
  // And the key still can't do admin things.
  const g = await w.hi("GET", A.other.id, m.key);
  assert.equal(g.status, 403);
});

test("mass assignment: org_id, id, uuid, version, password_hash, created_at, ... are unknown fields → 422 naming each", async () => {
  const m = await member(A);
  const [row, events] = await snapshot(w, m.user.id);
  const smuggled = {
    org_id: B.org.id,
    id: 1,
    uuid: "00000000-0000-4000-8000-000000000000",
    version: 99,
    password_hash: "$pbkdf2-sha256$i=1,l=32$AAAA$AAAA",
    created_at: "2000-01-01T00:00:00Z",
    updated_at: "2000-01-01T00:00:00Z",
    email_verified: true,
    deactivated: true,
    role: "admin",
    last_write: "x",
  };
  for (const key of [m.key, A.adminKey]) {
    const r = await w.hi("PATCH", m.user.id, key, { json: { user: { name: "With Extras", ...smuggled } } });
    assert.equal(r.status, 422, r.text);
    assert.equal(r.data.error, "validation_failed");
    assert.deepEqual(Object.keys(r.data.errors).sort(), Object.keys(smuggled).sort());
  }
  // At the top level too.
  const top = await w.hi("PATCH", m.user.id, A.adminKey, { json: { user: { name: "x" }, org_id: B.org.id, admin: true } });
  assert.equal(top.status, 422, top.text);
  assert.deepEqual(Object.keys(top.data.errors).sort(), ["admin", "org_id"]);
  await unchanged(w, m.user.id, [row, events]);
  const after = await w.row(m.user.id);
  assert.equal(after.org_id, A.org.id);
  assert.equal(after.version, 1);
  assert.equal(after.password_hash, null);
});

// ---------------------------------------------------------------- If-Match

test("If-Match: current version → 200 and version+1; stale → 412 and unchanged; * → 200", async () => {
  const m = await member(A);
  let r = await w.hi("PATCH", m.user.id, m.key, { headers: { "if-match": '"1"' }, json: { user: { name: "V2" } } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get("etag"), '"2"');
  assert.equal((await w.row(m.user.id)).version, 2);

  const [row, events] = await snapshot(w, m.user.id);
  for (const stale of ['"1"', '"0"', '"abc"', '"1", "3"']) {
    r = await w.hi("PATCH", m.user.id, m.key, { headers: { "if-match": stale }, json: { user: { name: "Stale" } } });
    assert.equal(r.status, 412, `${stale}: ${r.text}`);
    assert.equal(r.data.error, "precondition_failed");
  }
  // The admin path is guarded the same way.
  r = await w.hi("PATCH", m.user.id, A.adminKey, { headers: { "if-match": '"1"' }, json: { user: { publisher_id: 9 } } });
  assert.equal(r.status, 412, r.text);
  // An empty update with a stale tag is refused as well.
  r = await w.hi("PATCH", m.user.id, m.key, { headers: { "if-match": '"1"' }, json: {} });
  assert.equal(r.status, 412, r.text);
  await unchanged(w, m.user.id, [row, events]);

  r = await w.hi("PATCH", m.user.id, m.key, { headers: { "if-match": "*" }, json: { user: { name: "V3" } } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get("etag"), '"3"');
  r = await w.hi("PATCH", m.user.id, m.key, { headers: { "if-match": '"2", "3"' }, json: { user: { name: "V4" } } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get("etag"), '"4"');
  const final = await w.row(m.user.id);
  assert.equal(final.version, 4);
  assert.equal(final.name, "V4");
  assert.equal((await w.events(m.user.id)).length, 4, "create + three updates");
});

test("no lost update: concurrent PATCHes with the same If-Match → exactly one 200, the rest 412", async () => {
  const m = await member(A);
  const names = ["Racer A", "Racer B", "Racer C", "Racer D", "Racer E"];
  const answers = await Promise.all(
    names.map((name, i) => w.hi("PATCH", m.user.id, i % 2 ? A.adminKey : m.key, { headers: { "if-match": '"1"' }, json: { user: { name } } })),
  );
  const statuses = answers.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 412, 412, 412, 412], answers.map((r) => r.text).join("\n"));
  const winner = answers.find((r) => r.status === 200);
  const row = await w.row(m.user.id);
  assert.equal(row.version, 2);
  assert.equal(row.name, winner.data.data.name);
  assert.equal((await w.events(m.user.id)).length, 2, "one create + the one winning update");
});

test("concurrent PATCHes without If-Match all apply: versions and events line up", async () => {
  const m = await member(A);
  const answers = await Promise.all([1, 2, 3, 4].map((n) => w.hi("PATCH", m.user.id, m.key, { json: { user: { role_title: `T${n}` } } })));
  assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200]);
  assert.deepEqual(answers.map((r) => r.headers.get("etag")).sort(), ['"2"', '"3"', '"4"', '"5"']);
  const events = await w.events(m.user.id);
  assert.deepEqual(events.map((e) => e.version), [1, 2, 3, 4, 5]);
  assert.equal((await w.row(m.user.id)).version, 5);
});

test("If-Match on another org's user is 404, not 412", async () => {
  const r = await w.hi("PATCH", A.user.id, B.adminKey, { headers: { "if-match": '"1"' }, json: { user: { name: "x" } } });
  assert.equal(r.status, 404, r.text);
});

// ---------------------------------------------------------------- audit

test("audit: exactly one event per successful change, none for any refused request", async () => {
  const m = await member(A);
  const id = m.user.id;
  const big = JSON.stringify({ user: { name: "x" }, pad: " ".repeat(70 * 1024) });
  const refused = [
    [401, () => w.hi("PATCH", id, null, { json: { user: { name: "a" } } })],
    [403, () => w.hi("PATCH", id, m.key, { json: { user: { admin: true } } })],
    [403, () => w.hi("PATCH", id, A.otherKey, { json: { user: { name: "a" } } })],
    [404, () => w.hi("PATCH", id, B.adminKey, { json: { user: { name: "a" } } })],
    [412, () => w.hi("PATCH", id, m.key, { headers: { "if-match": '"77"' }, json: { user: { name: "a" } } })],
    [422, () => w.hi("PATCH", id, m.key, { json: { user: { name: 1 } } })],
    [413, () => w.hi("PATCH", id, m.key, { body: big, headers: { "content-type": "application/json" } })],
    [415, () => w.hi("PATCH", id, m.key, { body: '{"user":{"name":"a"}}', headers: { "content-type": "text/plain" } })],
    [400, () => w.hi("PATCH", id, m.key, { body: '{"user":', headers: { "content-type": "application/json" } })],
  ];
  const ok = [
    () => w.hi("PATCH", id, m.key, { json: { user: { name: "One" } } }),
    () => w.hi("PATCH", id, A.adminKey, { json: { user: { publisher_id: 5, name: "Two" } } }),
    () => w.hi("PATCH", id, m.key, { json: { user: { role_title: "Three" } } }),
  ];
  for (const [i, doOk] of ok.entries()) {
    for (const [status, f] of refused) {
      const r = await f();
      assert.equal(r.status, status, `${status}: ${r.text}`);
    }
    const r = await doOk();
    assert.equal(r.status, 200, r.text);
    assert.equal((await w.events(id)).length, 2 + i, "one create + one per success so far");
  }
  const events = await w.events(id);
  assert.deepEqual(events.map((e) => e.action), ["create", "update", "update", "update"]);
  assert.deepEqual(events.map((e) => e.version), [1, 2, 3, 4]);
  assert.deepEqual(events.slice(1).map((e) => JSON.parse(e.fields)), [["name"], ["name", "publisher_id"], ["role_title"]]);
  assert.deepEqual(events.slice(1).map((e) => e.actor_key_id), [m.keyId, A.keys.admin.id, m.keyId]);
  assert.ok(events.slice(1).every((e) => e.dialect === "hienergy" && e.org_id === A.org.id));
  // The audit fields name what changed, never values (`data` and `previous`, the change feed's copies
  // of the user as it then was and of what the change replaced, are not part of the audit trail the
  // events endpoint shows).
  for (const { data, previous, ...e } of events) assert.ok(!JSON.stringify(e).includes("One") && !JSON.stringify(e).includes("Three"), "names, never values");
  assert.equal((await w.row(id)).version, 4);
});

// ---------------------------------------------------------------- Server-Timing

test("Server-Timing: a successful PATCH (key cached) makes exactly one kv and one d1 call; every response carries it", async () => {
  const m = await member(A);
  const r = await w.hi("PATCH", m.user.id, m.key, { json: { user: { name: "Timed" } } });
  assert.equal(r.status, 200, r.text);
  const names = timingNames(r.headers);
  assert.equal(names.filter((n) => n === "kv").length, 1, r.headers.get("server-timing"));
  assert.equal(names.filter((n) => n === "d1").length, 1, r.headers.get("server-timing"));
  assert.deepEqual(names, ["kv", "d1"]);
  assert.match(r.headers.get("server-timing"), /^kv;desc="get";dur=[\d.]+, d1;desc="batch";dur=[\d.]+$/);
  const admin = await w.hi("PATCH", m.user.id, A.adminKey, { json: { user: { publisher_id: 3 } } });
  assert.equal(admin.status, 200);
  assert.deepEqual(timingNames(admin.headers), ["kv", "d1"]);
  const g = await w.hi("GET", m.user.id, m.key);
  assert.equal(g.status, 200);
  assert.deepEqual(timingNames(g.headers), ["kv", "d1"]);
  // Refusals carry the header too; a 401 for a malformed key spends no call at all.
  const bad = await w.hi("PATCH", m.user.id, "nope", { json: { user: { name: "x" } } });
  assert.equal(bad.status, 401);
  assert.equal(bad.headers.has("server-timing"), true);
  assert.deepEqual(timingNames(bad.headers), []);
  const denied = await w.hi("PATCH", m.user.id, m.key, { json: { user: { admin: true } } });
  assert.equal(denied.status, 403);
  assert.deepEqual(timingNames(denied.headers), ["kv"], "policy refuses before D1 is asked");
});

test("a key missing from KV is resolved from D1 and cached again (first request kv+d1+kv+d1, then kv+d1)", async () => {
  const m = await member(A);
  await w.kv.delete(`key:${sha256(m.key)}`);
  let r = await w.hi("PATCH", m.user.id, m.key, { json: { user: { name: "Cold" } } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(timingNames(r.headers), ["kv", "d1", "kv", "d1"]);
  const cached = JSON.parse(await w.kv.get(`key:${sha256(m.key)}`));
  assert.equal(cached.key_id, m.keyId);
  assert.equal(cached.user_id, m.user.id);
  assert.equal(cached.org_id, A.org.id);
  assert.equal(cached.role, "user");
  r = await w.hi("PATCH", m.user.id, m.key, { json: { user: { name: "Warm" } } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(timingNames(r.headers), ["kv", "d1"]);
  assert.equal((await w.row(m.user.id)).name, "Warm");
});

// ---------------------------------------------------------------- 413 / 415 / 400 / 405

test("413 (> 64 KiB), 415 (text/plain with a body), 400 (malformed JSON): nothing changes", async () => {
  const m = await member(A);
  const [row, events] = await snapshot(w, m.user.id);
  const cases = [
    [413, "payload_too_large", JSON.stringify({ user: { name: "x" } }) + " ".repeat(64 * 1024), "application/json"],
    [413, "payload_too_large", JSON.stringify({ user: { based_in: "y".repeat(200 * 1024) } }), "application/json"],
    [415, "unsupported_media_type", JSON.stringify({ user: { name: "Plain" } }), "text/plain"],
    [415, "unsupported_media_type", "name=Form", "application/x-www-form-urlencoded"],
    [415, "unsupported_media_type", JSON.stringify({ user: { name: "NoType" } }), undefined],
    [400, "bad_request", '{"user": {"name": "x"', "application/json"],
    [400, "bad_request", "{nope}", "application/json"],
    [400, "bad_request", '{"user": {"name": "x"}} trailing', "application/json"],
    [400, "bad_request", "[".repeat(200) + "]".repeat(200), "application/json"],
    [400, "bad_request", Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), "application/json"],
  ];
  for (const [status, code, body, ct] of cases) {
    const headers = ct ? { "content-type": ct } : {};
    const r = await w.hi("PATCH", m.user.id, m.key, { body, headers });
    assert.equal(r.status, status, `${status} ${ct} ${String(body).slice(0, 40)}: ${r.text}`);
    assert.equal(r.data.error, code);
    assert.equal(typeof r.data.message, "string");
  }
  await unchanged(w, m.user.id, [row, events]);
});

test("the 64 KiB limit is inclusive: a 65536-byte JSON body is accepted, 65537 is not", async () => {
  const m = await member(A);
  const make = (n) => {
    const core = JSON.stringify({ user: { role_title: "Limit" } });
    return core + " ".repeat(n - core.length);
  };
  let r = await w.hi("PATCH", m.user.id, m.key, { body: make(65536), headers: { "content-type": "application/json" } });
  assert.equal(r.status, 200, r.text);
  assert.equal((await w.row(m.user.id)).role_title, "Limit");
  r = await w.hi("PATCH", m.user.id, m.key, { body: make(65537), headers: { "content-type": "application/json" } });
  assert.equal(r.status, 413, r.text);
  assert.equal((await w.row(m.user.id)).version, 2);
});

test("a body sent without a length (chunked) is held to the same limit: kept up to it, then 413", async () => {
  const m = await member(A);
  const send = (body) =>
    w.mf.dispatchFetch(`${BASE}/api/v1/users/${m.user.id}`, {
      method: "PATCH",
      headers: { "x-api-key": m.key, "content-type": "application/json" },
      body,
      duplex: "half",
    });
  const parts = ['{"user":', '{"role_title":"Chunked"}}'].map((p) => new TextEncoder().encode(p));
  let r = await send(new ReadableStream({ pull: (c) => (parts.length ? c.enqueue(parts.shift()) : c.close()) }));
  assert.equal(r.status, 200, await r.text());
  assert.equal((await w.row(m.user.id)).role_title, "Chunked");
  const chunked = (n) => new ReadableStream({ pull: (c) => (n-- > 0 ? c.enqueue(new Uint8Array(16 * 1024).fill(32)) : c.close()) });
  r = await send(chunked(5)); // 80 KiB
  assert.equal(r.status, 413, await r.text());
  // 2 MiB: the Worker keeps one byte past the limit, drops the rest as it arrives, and answers 413
  // once the client is done sending (answering earlier resets the connection under the client).
  r = await send(chunked(128));
  assert.equal(r.status, 413, await r.text());
  assert.equal((await w.row(m.user.id)).role_title, "Chunked");
});

test("JSON content types: charset parameter and +json are accepted", async () => {
  const m = await member(A);
  for (const [ct, v] of [["application/json; charset=utf-8", "A"], ["Application/JSON", "B"], ["application/merge-patch+json", "C"]]) {
    const r = await w.hi("PATCH", m.user.id, m.key, { body: JSON.stringify({ user: { name: v } }), headers: { "content-type": ct } });
    assert.equal(r.status, 200, `${ct}: ${r.text}`);
    assert.equal((await w.row(m.user.id)).name, v);
  }
});

test("other methods → 405 with Allow; unknown paths → 404", async () => {
  for (const method of ["DELETE", "PUT", "POST"]) {
    const r = await w.hi(method, A.user.id, A.adminKey, { json: { user: { name: "x" } } });
    assert.equal(r.status, 405, `${method}: ${r.text}`);
    assert.equal(r.data.error, "method_not_allowed");
    assert.match(r.headers.get("allow"), /GET/);
    assert.match(r.headers.get("allow"), /PATCH/);
  }
  const r = await w.fetch("/api/v1/users", { headers: { "x-api-key": A.adminKey } });
  assert.equal(r.status, 404);
  assert.equal((await w.row(A.user.id)).version, 1);
});

// ---------------------------------------------------------------- secrets in this file's responses

test("no response in this file carried an API key, its digest, or a password hash", async () => {
  const { results: keys } = await w.db.prepare("SELECT digest FROM api_keys").all();
  const { results: hashes } = await w.db.prepare("SELECT password_hash FROM users WHERE password_hash IS NOT NULL").all();
  assert.ok(hashes.length > 0, "the admin-only test set a password");
  const secrets = [
    A.adminKey, A.userKey, A.otherKey, B.adminKey, B.userKey, B.otherKey, ...w.issuedKeys,
    ...keys.map((k) => k.digest),
    ...hashes.map((h) => h.password_hash),
    ADMIN_ONLY.password, "$pbkdf2", "password_hash",
  ];
  assert.deepEqual(leaks(w, secrets), []);
  assert.ok(w.log.length > 100, `scanned ${w.log.length} responses`);
});
