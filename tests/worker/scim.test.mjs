// SCIM 2.0 (/scim/v2) on workerd: Okta's and Entra's request shapes, cross-dialect visibility,
// deactivation refusing the user's keys at once, groups, and SCIM errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./support.mjs";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";

let w, A, B, key, otherKey;
before(async () => {
  w = await startWorker();
  A = await w.seedOrg("acme");
  B = await w.seedOrg("beta");
  key = (await w.operator("POST", "/api-keys", { user_id: A.admin.id, scopes: ["scim"] })).data.key;
  otherKey = (await w.operator("POST", "/api-keys", { user_id: B.admin.id, scopes: ["scim"] })).data.key;
});
after(() => w?.dispose());

function scim(method, path, json, { as = key, headers = {} } = {}) {
  const h = { authorization: `Bearer ${as}`, ...headers };
  if (json !== undefined) h["content-type"] = "application/scim+json";
  return w.fetch("/scim/v2" + path, { method, json, headers: h });
}

function patchOps(id, ops, opts) {
  return scim("PATCH", `/Users/${id}`, { schemas: [PATCH_OP], Operations: ops }, opts);
}

function scimError(r, status, scimType) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get("content-type"), "application/scim+json");
  assert.deepEqual(r.data.schemas, [ERROR]);
  assert.equal(r.data.status, String(status));
  if (scimType) assert.equal(r.data.scimType, scimType);
}

const q = (filter) => encodeURIComponent(filter);

test("discovery is public and honest about bulk and sort", async () => {
  const r = await w.fetch("/scim/v2/ServiceProviderConfig");
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "application/scim+json");
  assert.equal(r.data.bulk.supported, false);
  assert.equal(r.data.sort.supported, false);
  assert.equal(r.data.patch.supported, true);
  // Miniflare dispatches to its loopback server, so the Host is 127.0.0.1:<port> (plain http).
  assert.match(r.data.meta.location, /^http:\/\/127\.0\.0\.1:\d+\/scim\/v2\/ServiceProviderConfig$/);
  const s = await w.fetch("/scim/v2/Schemas");
  assert.deepEqual(s.data.Resources.map((x) => x.id).sort(), [ENTERPRISE, "urn:ietf:params:scim:schemas:core:2.0:Group", USER].sort());
});

test("auth: no key 401, user key 403, other org 404, as SCIM errors", async () => {
  scimError(await w.fetch("/scim/v2/Users"), 401);
  scimError(await scim("GET", "/Users", undefined, { as: A.userKey }), 403);
  scimError(await scim("GET", `/Users/${A.user.uuid}`, undefined, { as: otherKey }), 404);
  const theirs = await scim("GET", "/Users", undefined, { as: otherKey });
  assert.ok(theirs.data.Resources.every((u) => u.userName.endsWith("beta.test")), theirs.text);
});

test("Okta: probe, create with password and groups: [], full PUT, deactivate by path-less replace", async () => {
  const probe = await scim("GET", `/Users?filter=${q('userName eq "okta@acme.test"')}&startIndex=1&count=100`);
  assert.equal(probe.status, 200, probe.text);
  assert.equal(probe.data.totalResults, 0);
  const created = await scim("POST", "/Users", {
    schemas: [USER], userName: "okta@acme.test", name: { givenName: "Okta", familyName: "Person" },
    emails: [{ primary: true, value: "okta@acme.test", type: "work" }], displayName: "Okta Person",
    externalId: "00u-okta", groups: [], password: "Okta-Passw0rd!", active: true,
  });
  assert.equal(created.status, 201, created.text);
  const id = created.data.id;
  assert.ok(created.headers.get("location").endsWith(`/scim/v2/Users/${id}`));
  assert.equal(created.headers.get("location"), created.data.meta.location);
  assert.equal(created.headers.get("etag"), '"1"');
  assert.equal(created.data.password, undefined);
  const row = await w.db.prepare("SELECT id, password_hash FROM users WHERE uuid = ?").bind(id).first();
  assert.match(row.password_hash, /^\$pbkdf2/);
  const found = await scim("GET", `/Users?filter=${q('userName eq "OKTA@acme.test"')}&startIndex=1&count=100`);
  assert.equal(found.data.totalResults, 1);
  // Full PUT with a changed family name.
  const put = { ...created.data, name: { givenName: "Okta", familyName: "Renamed" } };
  const r = await scim("PUT", `/Users/${id}`, put);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.name.familyName, "Renamed");
  // The provisioned user's own key works until Okta deactivates it.
  const own = (await w.operator("POST", "/api-keys", { user_id: row.id })).data.key;
  assert.equal((await w.hi("GET", row.id, own)).status, 200);
  const off = await patchOps(id, [{ op: "replace", value: { active: false } }]);
  assert.equal(off.status, 200, off.text);
  assert.equal(off.data.active, false);
  assert.equal((await w.hi("GET", row.id, own)).status, 401, "refused at once, whatever KV holds");
  assert.equal((await scim("GET", `/Users/${id}`)).data.active, false);
  const events = await w.events(row.id);
  assert.deepEqual(events.map((e) => [e.dialect, e.action]).slice(-1), [["scim", "deactivate"]]);
});

test("Entra: PascalCase ops, string booleans, value-path and URN paths, aadOptscim062020, its filters", async () => {
  const created = await scim("POST", "/Users", {
    schemas: [USER, ENTERPRISE], userName: "entra@acme.test", externalId: "aad-1", active: true,
    emails: [{ value: "entra@acme.test", type: "work", primary: true }],
  });
  assert.equal(created.status, 201, created.text);
  const id = created.data.id;
  let r = await patchOps(id, [
    { op: "Replace", path: 'emails[type eq "work"].value', value: "entra2@acme.test" },
    { op: "Add", path: `${ENTERPRISE}:employeeNumber`, value: "701984" },
    { op: "Add", path: "title", value: "Engineer" },
    { op: "Replace", path: "active", value: "False" },
  ]);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.emails[0].value, "entra2@acme.test");
  assert.equal(r.data[ENTERPRISE].employeeNumber, "701984");
  assert.equal(r.data.active, false);
  r = await patchOps(id, [{ op: "replace", value: { "name.givenName": "En", [`${ENTERPRISE}:department`]: "R&D", active: "True" } }]);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.name.givenName, "En");
  assert.equal(r.data[ENTERPRISE].department, "R&D");
  assert.equal(r.data.active, true);
  for (const f of ['externalId eq "aad-1"', 'userName eq "entra@acme.test"', 'emails[type eq "work"].value eq "entra2@acme.test"']) {
    const found = await scim("GET", `/Users?filter=${q(f)}`);
    assert.equal(found.data.totalResults, 1, f);
    assert.equal(found.data.Resources[0].id, id, f);
  }
});

test("a change through SCIM shows in the other dialects at once, and the other way round", async () => {
  const m = await w.member(A, { username: "cross" });
  let r = await patchOps(m.user.uuid, [{ op: "replace", path: "name.givenName", value: "Viascim" }]);
  assert.equal(r.status, 200, r.text);
  const hi = await w.hi("GET", m.user.id, A.adminKey);
  assert.equal(hi.data.data.given_name, "Viascim");
  const up = await w.fetch(`/users/${m.user.uuid}`, { headers: { authorization: `Bearer ${m.key}` } });
  assert.equal(up.data.first_name, "Viascim");
  const back = await w.hi("PATCH", m.user.id, A.adminKey, { json: { user: { family_name: "Viahienergy", name: "Cross Over" } } });
  assert.equal(back.status, 200, back.text);
  r = await scim("GET", `/Users/${m.user.uuid}`);
  assert.equal(r.data.name.familyName, "Viahienergy");
  assert.equal(r.data.displayName, "Cross Over");
  assert.equal(r.headers.get("etag"), r.data.meta.version);
});

test("If-Match: a stale version is 412 and changes nothing", async () => {
  const m = await w.member(A, { username: "versioned", role_title: "Before" });
  const stale = await patchOps(m.user.uuid, [{ op: "replace", path: "title", value: "After" }], { headers: { "if-match": '"99"' } });
  scimError(stale, 412);
  assert.equal((await scim("GET", `/Users/${m.user.uuid}`)).data.title, "Before");
});

test("groups: create with members, add and remove members, derived user groups, delete", async () => {
  const a = await w.member(A, { username: "ga" });
  const b = await w.member(A, { username: "gb" });
  const g = await scim("POST", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Ops", members: [{ value: a.user.uuid }] });
  assert.equal(g.status, 201, g.text);
  const path = `/Groups/${g.data.id}`;
  let r = await scim("PATCH", path, { schemas: [PATCH_OP], Operations: [{ op: "Add", path: "members", value: [{ value: b.user.uuid }] }] });
  assert.equal(r.data.members.length, 2, r.text);
  assert.equal((await scim("GET", `/Users/${b.user.uuid}`)).data.groups[0].display, "Ops");
  r = await scim("PATCH", path, { schemas: [PATCH_OP], Operations: [{ op: "remove", path: `members[value eq "${a.user.uuid}"]` }] });
  assert.deepEqual(r.data.members.map((x) => x.value), [b.user.uuid]);
  // Filters on members and on a user's groups run over rows (correlated subqueries) in workerd's D1.
  const byMember = await scim("GET", `/Groups?filter=${q(`members[value eq "${b.user.uuid}"]`)}`);
  assert.deepEqual(byMember.data.Resources.map((x) => x.id), [g.data.id], byMember.text);
  assert.deepEqual(byMember.data.Resources[0].members.map((x) => x.value), [b.user.uuid]);
  const noMember = await scim("GET", `/Groups?filter=${q(`members.value eq "${a.user.uuid}"`)}`);
  assert.equal(noMember.data.totalResults, 0, noMember.text);
  const inGroup = await scim("GET", `/Users?filter=${q(`groups.value eq "${g.data.id}"`)}`);
  assert.deepEqual(inGroup.data.Resources.map((x) => x.id), [b.user.uuid], inGroup.text);
  assert.deepEqual(inGroup.data.Resources[0].groups.map((x) => x.display), ["Ops"]);
  scimError(await scim("GET", path, undefined, { as: otherKey }), 404);
  const dup = await scim("POST", "/Groups", { displayName: "ops" });
  scimError(dup, 409, "uniqueness");
  assert.equal((await scim("DELETE", path)).status, 204);
  assert.equal((await scim("GET", path)).status, 404);
});

test("writes without If-Match racing on one resource all land: 10 PATCHes of a user, 10 member adds to a group", async () => {
  const u = await w.member(A, { username: "raced" });
  const titles = Array.from({ length: 10 }, (_, i) => `title ${i}`);
  const replies = await Promise.all(titles.map((t, i) => patchOps(u.user.uuid, [{ op: "add", path: "addresses", value: [{ type: `t${i}`, locality: t }] }])));
  assert.deepEqual(replies.map((r) => r.status), titles.map(() => 200), replies.map((r) => r.text).join("\n"));
  const read = await scim("GET", `/Users/${u.user.uuid}`);
  assert.equal(read.data.addresses.length, 10, "every PATCH applied to what the one before left");
  const members = await Promise.all(Array.from({ length: 10 }, (_, i) => w.member(A, { username: `racer${i}` })));
  const g = await scim("POST", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Raced" });
  const adds = await Promise.all(
    members.map((m) => scim("PATCH", `/Groups/${g.data.id}`, { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: m.user.uuid }] }] })),
  );
  assert.deepEqual(adds.map((r) => r.status), members.map(() => 200), adds.map((r) => r.text).join("\n"));
  assert.equal((await scim("GET", `/Groups/${g.data.id}`)).data.members.length, 10);
});

test("errors: bad filter, bad PATCH path, bad attribute values — 400 with scimType, never 5xx", async () => {
  scimError(await scim("GET", `/Users?filter=${q("userName eq")}`), 400, "invalidFilter");
  scimError(await patchOps(A.user.uuid, [{ op: "replace", path: "emails[type eq", value: "x" }]), 400, "invalidPath");
  const bad = await scim("POST", "/Users", { userName: "", emails: [{ value: "nope" }], active: 7 });
  scimError(bad, 400, "invalidValue");
  for (const attr of ["userName", "emails[0].value", "active"]) assert.ok(bad.data.detail.includes(attr), bad.data.detail);
  scimError(await scim("POST", "/Users", "not an object"), 400);
  const raw = await w.fetch("/scim/v2/Users", { method: "POST", body: "{", headers: { authorization: `Bearer ${key}`, "content-type": "application/scim+json" } });
  scimError(raw, 400, "invalidSyntax");
});

test("DELETE → 204, then 404", async () => {
  const m = await w.member(A, { username: "gone" });
  assert.equal((await scim("DELETE", `/Users/${m.user.uuid}`)).status, 204);
  scimError(await scim("GET", `/Users/${m.user.uuid}`), 404);
});

test("deleting a member changes its groups: a new ETag, members without it, group.updated after user.deleted in the feed", async () => {
  const a = await w.member(A, { username: "leaver" });
  const b = await w.member(A, { username: "stayer" });
  const g = await scim("POST", "/Groups", { displayName: "Leavers", members: [{ value: a.user.uuid }, { value: b.user.uuid }] });
  assert.equal(g.status, 201, g.text);
  const path = `/Groups/${g.data.id}`;
  const etag = g.headers.get("etag");
  assert.equal((await scim("GET", path, undefined, { headers: { "if-none-match": etag } })).status, 304);
  const feed = async (after) => (await w.operator("GET", `/events?org_id=${A.org.id}&after=${after}`)).data;
  const { next } = await feed(0);
  assert.equal((await scim("DELETE", `/Users/${a.user.uuid}`)).status, 204);
  const r = await scim("GET", path, undefined, { headers: { "if-none-match": etag } });
  assert.equal(r.status, 200, r.text);
  assert.notEqual(r.headers.get("etag"), etag);
  assert.deepEqual(r.data.members.map((m) => m.value), [b.user.uuid]);
  const { events } = await feed(next);
  // The member's own key goes first, then the deletion, then the group it left.
  assert.deepEqual(events.map((e) => e.type), ["api_key.revoked", "user.deleted", "group.updated"]);
  assert.equal(events[2].seq, events[1].seq + 1);
  assert.deepEqual(events[2].group.members, [b.user.uuid]);
});

test("a co/sw/ew filter with a value past D1's 50-byte LIKE pattern limit matches, never a 500", async () => {
  const long = `${"l".repeat(60)}@long.example`;
  const r = await scim("POST", "/Users", { userName: "longfilter", emails: [{ value: long }] });
  assert.equal(r.status, 201, r.text);
  for (const filter of [`emails.value co "${long.slice(1)}"`, `emails.value sw "${long.slice(0, -1).toUpperCase()}"`, `userName ew "${"x".repeat(60)}"`]) {
    const found = await scim("GET", `/Users?filter=${q(filter)}`);
    assert.equal(found.status, 200, `${filter}: ${found.text}`);
    assert.deepEqual(found.data.Resources.map((u) => u.id), filter.startsWith("userName") ? [] : [r.data.id], filter);
  }
});
