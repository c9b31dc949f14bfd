// Concurrency and load tests on the built worker under workerd (Miniflare, real D1 + KV).
// Every test is bounded in request count and runs over Miniflare's loopback dispatch only.
// No timing is asserted: only outcomes (status codes, rows, versions, audit events).
//
//   node --test --test-concurrency=1 --test-timeout=300000 tests/worker/concurrency.test.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./support.mjs";

let w;
before(async () => {
  // cf: false — Miniflare would otherwise try to fetch a Request.cf template from the internet;
  // these tests talk to loopback only.
  w = await startWorker({ cf: false });
});
after(() => w?.dispose());

const patch = (id, key, user, headers = {}) =>
  w.fetch(`/api/v1/users/${id}`, { method: "PATCH", headers: { "X-Api-Key": key, ...headers }, json: { user } });
const get = (id, key) => w.fetch(`/api/v1/users/${id}`, { headers: { "X-Api-Key": key } });

/** Count statuses: {200: n, 412: m, ...}. */
function tally(responses) {
  const out = {};
  for (const r of responses) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

function no5xx(responses, label) {
  const bad = responses.filter((r) => r.status >= 500);
  assert.equal(bad.length, 0, `${label}: ${bad.length} 5xx, first: ${bad[0]?.status} ${bad[0]?.text}`);
}

/** Run `n` tasks with at most `limit` in flight; results in task order. */
async function pool(n, limit, task) {
  const results = new Array(n);
  let next = 0;
  async function lane() {
    while (next < n) {
      const i = next++;
      results[i] = await task(i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, n) }, lane));
  return results;
}

test("100 concurrent PATCHes with the same If-Match: exactly one wins, 99 get 412", async () => {
  const cast = await w.seedOrg("race");
  const before = await w.row(cast.user.id);
  const eventsBefore = (await w.events(cast.user.id)).length;
  const ifMatch = `"${before.version}"`;

  const responses = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      patch(cast.user.id, cast.adminKey, { role_title: `Title ${i}` }, { "If-Match": ifMatch }),
    ),
  );

  no5xx(responses, "same If-Match");
  assert.deepEqual(tally(responses), { 200: 1, 412: 99 });
  const winner = responses.find((r) => r.status === 200);
  for (const r of responses.filter((r) => r.status === 412)) {
    assert.equal(r.data.error, "precondition_failed", r.text);
  }
  assert.equal(winner.headers.get("etag"), `"${before.version + 1}"`);

  const after = await w.row(cast.user.id);
  assert.equal(after.version, before.version + 1, "final version is old + 1");
  assert.equal(after.role_title, winner.data.data.role_title, "the row holds the winner's value");
  const events = await w.events(cast.user.id);
  assert.equal(events.length, eventsBefore + 1, "exactly one new audit event");
  const last = events.at(-1);
  assert.equal(last.version, before.version + 1);
  assert.deepEqual(JSON.parse(last.fields), ["role_title"]);
  assert.equal(last.actor_key_id, cast.keys.admin.id);
});

test("the same If-Match racing through every other API: one winner each, the rest their own 412, no 5xx", async () => {
  const cast = await w.seedOrg("every");
  const bearer = { authorization: `Bearer ${cast.adminKey}` };
  const u = cast.user;
  const scimPatch = (v) => ({ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", path: "title", value: v }] });
  const apis = [
    ["upsun", (i, m) => w.fetch(`/users/${u.uuid}`, { method: "PATCH", headers: { ...bearer, "if-match": m }, json: { company: `C${i}` } }), 412],
    ["konstantly", (i, m) => w.fetch(`/openapi/v1/users/${u.uuid}`, { method: "PATCH", headers: { "x-api-key": cast.adminKey, "if-match": m }, json: { email: u.email, occupation: `O${i}` } }), 412],
    // ZITADEL's gateway answers failed_precondition as 400 (code 9).
    ["zitadel", (i, m) => w.fetch(`/v2/users/human/${u.uuid}`, { method: "PUT", headers: { ...bearer, "if-match": m }, json: { profile: { givenName: `G${i}`, familyName: "F" } } }), 400],
    ["operator", (i, m) => w.fetch(`/admin/v1/users/${u.id}`, { method: "PATCH", headers: { ...bearer, "if-match": m }, json: { nick_name: `N${i}` } }), 412],
    ["scim", (i, m) => w.fetch(`/scim/v2/Users/${u.uuid}`, { method: "PATCH", headers: { ...bearer, "if-match": m, "content-type": "application/scim+json" }, json: scimPatch(`T${i}`) }), 412],
  ];
  for (const [api, send, lost] of apis) {
    const { version } = await w.row(u.id);
    const events = (await w.events(u.id)).length;
    const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => send(i, `"${version}"`)));
    no5xx(replies, api);
    assert.deepEqual(tally(replies), { 200: 1, [lost]: 7 }, `${api}: ${replies.map((r) => r.text).join("\n")}`);
    assert.equal((await w.row(u.id)).version, version + 1, api);
    assert.equal((await w.events(u.id)).length, events + 1, `${api}: one event`);
  }
});

test("concurrent PATCHes of different fields without If-Match lose no acknowledged update", async () => {
  const cast = await w.seedOrg("fields");
  const id = cast.user.id;
  const before = await w.row(id);
  const eventsBefore = (await w.events(id)).length;
  // The six self-service fields; every request sets one of them to a value unique to it.
  const fields = ["name", "given_name", "family_name", "linkedin_profile_url", "role_title", "based_in"];
  const value = (field, round) =>
    field === "linkedin_profile_url" ? `https://www.linkedin.com/in/round-${round}` : `${field} round ${round}`;
  const ROUNDS = 8;
  const jobs = [];
  for (let round = 0; round < ROUNDS; round++) for (const field of fields) jobs.push({ field, round });

  const responses = await Promise.all(jobs.map(({ field, round }) => patch(id, cast.userKey, { [field]: value(field, round) })));

  no5xx(responses, "different fields");
  const ok = jobs.map((job, i) => ({ ...job, r: responses[i] })).filter((x) => x.r.status === 200);
  // Without If-Match nothing should be refused; but the invariants below hold for any subset.
  assert.equal(ok.length, jobs.length, `statuses: ${JSON.stringify(tally(responses))}`);

  // Each acknowledged write reports its own value and a distinct version.
  const versions = ok.map((x) => Number(JSON.parse(x.r.headers.get("etag"))));
  for (const x of ok) assert.equal(x.r.data.data[x.field], value(x.field, x.round), "a 200 shows its own change");
  assert.equal(new Set(versions).size, ok.length, "every acknowledged write got its own version");
  assert.deepEqual(
    [...versions].sort((a, b) => a - b),
    Array.from({ length: ok.length }, (_, i) => before.version + 1 + i),
    "versions are exactly old+1 .. old+n",
  );

  // For every field, the acknowledged write with the highest version was applied last: the
  // final row must hold its value (a lost update would show an older or foreign value).
  const final = await w.row(id);
  assert.equal(final.version, before.version + ok.length);
  for (const field of fields) {
    const mine = ok.filter((x) => x.field === field);
    const latest = mine.reduce((a, b) => (Number(JSON.parse(a.r.headers.get("etag"))) > Number(JSON.parse(b.r.headers.get("etag"))) ? a : b));
    assert.equal(final[field], value(field, latest.round), `final ${field} is its latest acknowledged write`);
  }

  const events = (await w.events(id)).slice(eventsBefore);
  assert.equal(events.length, ok.length, "one audit event per 200");
  assert.deepEqual(
    events.map((e) => e.version).sort((a, b) => a - b),
    [...versions].sort((a, b) => a - b),
    "audit versions match acknowledged versions",
  );
  for (const e of events) {
    const x = ok.find((o) => Number(JSON.parse(o.r.headers.get("etag"))) === e.version);
    assert.deepEqual(JSON.parse(e.fields), [x.field], `event v${e.version} names the field written`);
  }
});

// Fails on the build of 6a5b404: every taken-email PATCH hangs inside the wasm and workerd
// answers 500 "code had hung" (the workers-rs shell's db_error formatted D1Error with Display,
// which throws on a non-string cause; `git show 6a5b404` is the shell it ran on).
test("50 concurrent admin PATCHes giving the same new email to 50 users: one 200, 49 x 422 errors.email", async () => {
  const cast = await w.seedOrg("emails");
  const users = await pool(50, 8, (i) => w.createUser({ org_id: cast.org.id, email: `member${i}@emails.test` }));
  const email = "wanted@emails.test";
  const eventsBefore = await Promise.all(users.map((u) => w.events(u.id).then((e) => e.length)));

  const responses = await Promise.all(users.map((u) => patch(u.id, cast.adminKey, { email })));

  no5xx(responses, "same email");
  assert.deepEqual(tally(responses), { 200: 1, 422: 49 });
  for (const r of responses.filter((r) => r.status === 422)) {
    assert.equal(r.data.error, "validation_failed", r.text);
    assert.ok(Array.isArray(r.data.errors?.email) && r.data.errors.email.length > 0, `errors.email in ${r.text}`);
    assert.deepEqual(Object.keys(r.data.errors), ["email"]);
  }
  const { results } = await w.db.prepare("SELECT id FROM users WHERE email = ? COLLATE NOCASE").bind(email).all();
  assert.equal(results.length, 1, "the email is on exactly one row");
  const winnerIndex = responses.findIndex((r) => r.status === 200);
  assert.equal(results[0].id, users[winnerIndex].id, "…the winner's");

  // Losers changed nothing: version unchanged, no event.
  const rows = await Promise.all(users.map((u) => w.row(u.id)));
  const eventsAfter = await Promise.all(users.map((u) => w.events(u.id).then((e) => e.length)));
  rows.forEach((row, i) => {
    const won = i === winnerIndex;
    assert.equal(row.version, won ? 2 : 1, `user ${i} version`);
    assert.equal(eventsAfter[i] - eventsBefore[i], won ? 1 : 0, `user ${i} events`);
    if (!won) assert.equal(row.email, `member${i}@emails.test`);
  });
});

test("mixed read/write load, 400 requests at concurrency 16: no 5xx, one audit event per acknowledged write", async () => {
  const cast = await w.seedOrg("mixed");
  // Several users and keys: the cast's admin, user and other, plus three more users with keys.
  const extra = await pool(3, 3, (i) => w.createUser({ org_id: cast.org.id, email: `extra${i}@mixed.test`, name: `Extra ${i}` }));
  const extraKeys = await Promise.all(extra.map((u) => w.createKey(u.id)));
  const selfers = [
    { id: cast.user.id, key: cast.userKey },
    { id: cast.other.id, key: cast.otherKey },
    ...extra.map((u, i) => ({ id: u.id, key: extraKeys[i].key })),
  ];
  const everyone = [cast.admin.id, ...selfers.map((s) => s.id)];
  const countEvents = async () =>
    (await w.db.prepare("SELECT COUNT(*) AS n FROM user_events WHERE org_id = ?").bind(cast.org.id).first()).n;
  const versionSum = async () =>
    (await w.db.prepare("SELECT SUM(version) AS v FROM users WHERE org_id = ?").bind(cast.org.id).first()).v;
  const eventsBefore = await countEvents();
  const versionsBefore = await versionSum();

  // A fixed, deterministic mix: 40% reads, 35% self writes, 15% admin writes on others,
  // 10% writes that must be refused (a user touching an admin-only field, or someone else).
  const N = 400;
  const plan = (i) => {
    const s = selfers[i % selfers.length];
    switch (i % 20) {
      case 0: case 1: case 2: case 3: case 4: case 5: case 6:
        return { kind: "read", run: () => get(s.id, s.key) };
      case 7:
        return { kind: "read", run: () => get(everyone[i % everyone.length], cast.adminKey) };
      case 8: case 9: case 10: case 11: case 12: case 13: case 14:
        return { kind: "write", run: () => patch(s.id, s.key, { based_in: `City ${i}`, role_title: `Role ${i}` }) };
      case 15: case 16: case 17:
        return { kind: "write", run: () => patch(s.id, cast.adminKey, { publisher_id: i, name: `Renamed ${i}` }) };
      case 18:
        return { kind: "denied", run: () => patch(s.id, s.key, { admin: true }) };
      default:
        return { kind: "denied", run: () => patch(cast.admin.id, s.key, { name: "Not yours" }) };
    }
  };
  const outcomes = await pool(N, 16, async (i) => {
    const p = plan(i);
    return { kind: p.kind, r: await p.run() };
  });

  no5xx(outcomes.map((o) => o.r), "mixed load");
  const reads = outcomes.filter((o) => o.kind === "read");
  const writes = outcomes.filter((o) => o.kind === "write");
  const denied = outcomes.filter((o) => o.kind === "denied");
  assert.equal(reads.length + writes.length + denied.length, N);
  assert.deepEqual(tally(reads.map((o) => o.r)), { 200: reads.length }, "every read succeeds");
  assert.deepEqual(tally(denied.map((o) => o.r)), { 403: denied.length }, "every refused write is a 403");
  const acknowledged = writes.filter((o) => o.r.status === 200).length;
  assert.equal(acknowledged, writes.length, `writes: ${JSON.stringify(tally(writes.map((o) => o.r)))}`);

  assert.equal((await countEvents()) - eventsBefore, acknowledged, "new audit events = acknowledged writes");
  assert.equal((await versionSum()) - versionsBefore, acknowledged, "version bumps = acknowledged writes");
});
