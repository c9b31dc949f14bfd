// D1 read replication through the Sessions API, as far as local D1 shows it: it returns real
// bookmarks and keeps the latest one a session has seen, but has no replicas and does not wait
// for the bookmark it is given. So a session's start is observable from outside: a session
// started from a client's (far-ahead, well-formed) bookmark reports that bookmark back, one
// started at the primary reports the database's own. What only a deployment shows (replica lag,
// `served_by_region`, D1 refusing a bookmark) is in docs/read-replication.md and the host tests.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, timingNames } from "./support.mjs";

const SHAPE = /^[0-9a-f]+(-[0-9a-f]+)*$/;
// Well-formed, and later than anything this database will reach during the test.
const AHEAD = "7fffffff-7fffffff-7fffffff-00000000000000000000000000000000";

let w, cast;
before(async () => {
  w = await startWorker();
  cast = await w.seedOrg("sessions");
});
after(() => w?.dispose());

const bookmarkOf = (r) => r.headers.get("x-d1-bookmark");
const get = (id, key, bookmark) => w.hi("GET", id, key, { headers: bookmark === undefined ? {} : { "x-d1-bookmark": bookmark } });
const patch = (id, key, user, bookmark) =>
  w.hi("PATCH", id, key, { json: { user }, headers: bookmark === undefined ? {} : { "x-d1-bookmark": bookmark } });

const EXPOSED = "ETag, Location, Retry-After, Server-Timing, X-D1-Bookmark";

test("every response exposes X-D1-Bookmark; reads and writes carry the session's bookmark", async () => {
  const g = await get(cast.user.id, cast.userKey);
  assert.equal(g.status, 200, g.text);
  assert.match(bookmarkOf(g), SHAPE);
  assert.equal(g.headers.get("access-control-expose-headers"), EXPOSED);
  assert.equal(g.headers.get("access-control-allow-origin"), "*");
  assert.deepEqual(timingNames(g.headers), ["kv", "d1"], "still one KV read and one D1 call");

  const p = await patch(cast.user.id, cast.userKey, { based_in: "Oslo" });
  assert.equal(p.status, 200, p.text);
  assert.match(bookmarkOf(p), SHAPE);
  assert.ok(bookmarkOf(p) >= bookmarkOf(g), "a write's bookmark is not behind an earlier read's");
  assert.deepEqual(timingNames(p.headers), ["kv", "d1"]);

  const op = await w.operator("GET", `/users/${cast.user.id}`);
  assert.equal(op.status, 200);
  assert.match(bookmarkOf(op), SHAPE);

  // No query ran and the client sent no bookmark: nothing to report, but the header is exposed.
  const refused = await w.hi("GET", cast.user.id, null);
  assert.equal(refused.status, 401);
  assert.equal(bookmarkOf(refused), null);
  assert.equal(refused.headers.get("access-control-expose-headers"), EXPOSED);
  assert.equal(refused.headers.get("access-control-allow-origin"), "*");
});

test("a browser's preflight is answered at once, for any path, with no storage call", async () => {
  for (const path of [`/api/v1/users/${cast.user.id}`, "/scim/v2/Users", "/openapi.json"]) {
    const r = await w.fetch(path, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "PATCH", "access-control-request-headers": "x-api-key, if-match" },
    });
    assert.equal(r.status, 204, path);
    assert.equal(r.headers.get("access-control-allow-origin"), "*");
    assert.match(r.headers.get("access-control-allow-headers"), /X-Api-Key.*If-Match|If-Match.*X-Api-Key/);
    assert.deepEqual(timingNames(r.headers), [], "no KV or D1 call");
    assert.equal(r.headers.get("x-content-type-options"), "nosniff");
  }
});

test("read your own write: the bookmark a write returns, sent with the next read", async () => {
  const m = await w.member(cast, {}, "ryw");
  const p = await patch(m.user.id, m.key, { name: "After Write" });
  assert.equal(p.status, 200, p.text);
  const bookmark = bookmarkOf(p);
  const g = await get(m.user.id, m.key, bookmark);
  assert.equal(g.status, 200, g.text);
  assert.equal(g.data.data.name, "After Write");
  assert.equal(g.headers.get("etag"), p.headers.get("etag"));
  assert.ok(bookmarkOf(g) >= bookmark, "the read's session starts at the client's bookmark or later");
  assert.deepEqual(timingNames(g.headers), ["kv", "d1"]);
});

test("a read starts its session at the client's bookmark; a write and the operator API at the primary", async () => {
  const read = await get(cast.user.id, cast.userKey, AHEAD);
  assert.equal(read.status, 200, read.text);
  assert.equal(bookmarkOf(read), AHEAD, "the read session was opened from the client's bookmark");

  const write = await patch(cast.user.id, cast.userKey, { role_title: "Tester" }, AHEAD);
  assert.equal(write.status, 200, write.text);
  assert.notEqual(bookmarkOf(write), AHEAD, "a write ignores the client's bookmark: first-primary");
  assert.match(bookmarkOf(write), SHAPE);

  const op = await w.fetch(`/admin/v1/users/${cast.user.id}`, { headers: { authorization: "Bearer test-operator-token", "x-d1-bookmark": AHEAD } });
  assert.equal(op.status, 200, op.text);
  assert.notEqual(bookmarkOf(op), AHEAD, "the operator API always reads the primary");

  // A refusal before any query reports the client's bookmark as the session's.
  const refused = await w.hi("GET", cast.user.id, null, { headers: { "x-d1-bookmark": AHEAD } });
  assert.equal(refused.status, 401);
  assert.equal(bookmarkOf(refused), AHEAD);
});

test("a malformed bookmark is ignored, never reflected, never a 5xx", async () => {
  const bad = [
    "garbage",
    "first-primary",
    "first-unconstrained",
    "0000000A-0000",
    "00--00",
    "-",
    "0".repeat(200),
    "00000000-00000000-00000000-0000000000000000000000000000000g",
    "00000000 00000000",
    "é",
    "",
  ];
  for (const b of bad) {
    const r = await get(cast.user.id, cast.userKey, b);
    assert.equal(r.status, 200, `${JSON.stringify(b)}: ${r.text}`);
    assert.notEqual(bookmarkOf(r), b, JSON.stringify(b));
    assert.match(bookmarkOf(r), SHAPE, JSON.stringify(b));
    const p = await patch(cast.user.id, cast.userKey, { based_in: "Bergen" }, b);
    assert.equal(p.status, 200, `${JSON.stringify(b)}: ${p.text}`);
  }
});

test('READ_CONSISTENCY = "primary": every read starts at the primary, whatever the client sends', async () => {
  const strict = await startWorker({ bindings: { READ_CONSISTENCY: "primary" } });
  try {
    const c = await strict.seedOrg("strict");
    const r = await strict.hi("GET", c.user.id, c.userKey, { headers: { "x-d1-bookmark": AHEAD } });
    assert.equal(r.status, 200, r.text);
    assert.notEqual(bookmarkOf(r), AHEAD, "the client's bookmark was not used");
    assert.match(bookmarkOf(r), SHAPE);
    assert.deepEqual(timingNames(r.headers), ["kv", "d1"]);
    const plain = await strict.hi("GET", c.user.id, c.userKey);
    assert.equal(plain.status, 200);
    assert.match(bookmarkOf(plain), SHAPE);
  } finally {
    await strict.dispose();
  }
});
