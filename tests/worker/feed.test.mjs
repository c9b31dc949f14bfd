// The change feed on the built worker (Miniflare, real D1, KV, Queue and Cron): a local HTTP
// receiver on 127.0.0.1 gets every event of a mixed workload once per webhook-id, signed; a
// receiver that answers 503 twice still gets everything; a code delivered by webhook verifies;
// an event whose queue hand-off never happened arrives through the Cron sweep.
//
//   node --test --test-concurrency=1 --test-timeout=300000 tests/worker/feed.test.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createHmac, timingSafeEqual } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { startWorker } from "./support.mjs";

/** A webhook receiver on loopback: records every delivery; `plan` lists statuses to answer first. */
async function receiver(plan = []) {
  const got = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      got.push({ headers: req.headers, body });
      res.statusCode = plan.length ? plan.shift() : 200;
      res.end();
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(r);
    });
  return { got, url: `http://127.0.0.1:${server.address().port}/hook`, close };
}

/**
 * A delivery's signature, checked twice: by the Standard Webhooks reference library
 * (`standardwebhooks`, what a receiver would run; it also holds the timestamp to its 5-minute
 * tolerance and returns the parsed payload) and by hand from the spec's definition
 * (HMAC-SHA256 over `id.timestamp.body` under the base64 key after `whsec_`), so a bug the two
 * could share is unlikely.
 */
function verify(secret, { headers, body }) {
  let parsed;
  try {
    parsed = new Webhook(secret).verify(body, headers);
  } catch {
    return false;
  }
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`).digest();
  const byHand = headers["webhook-signature"].split(" ").some((s) => {
    const got = Buffer.from(s.split(",")[1] ?? "", "base64");
    return s.startsWith("v1,") && got.length === expected.length && timingSafeEqual(got, expected);
  });
  return byHand && JSON.stringify(parsed) === JSON.stringify(JSON.parse(body));
}

async function until(pred, what, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const feedWorker = (extra = {}) =>
  startWorker({
    cf: false,
    notifications: true,
    bindings: { ALLOW_HTTP_WEBHOOKS: "true", CODE_SECRET: "workerd-test-code-secret" },
    queueProducers: { NOTIFICATIONS: "notifications", FEED: "feed" },
    queueConsumers: { feed: { maxBatchTimeout: 0.05, maxBatchSize: 10 } },
    attempts: { limit: 100, period: 60 },
    ...extra,
  });

let w, A, B;
before(async () => {
  w = await feedWorker();
  A = await w.seedOrg("feeda");
  B = await w.seedOrg("feedb");
});
after(() => w?.dispose());

async function subscribe(org, url, extra = {}) {
  const r = await w.operator("POST", "/webhooks", { org_id: org.org.id, url, ...extra });
  assert.equal(r.status, 201, r.text);
  assert.match(r.data.secret, /^whsec_/);
  return r.data;
}

test("a mixed workload through several dialects arrives once per webhook-id, signed, in seq order", async () => {
  const rx = await receiver();
  const hook = await subscribe(A, rx.url);
  const { user, userKey, admin } = A;
  await w.fetch(`/api/v1/users/${user.id}`, { method: "PATCH", headers: { "X-Api-Key": userKey }, json: { user: { based_in: "Oslo" } } });
  await w.fetch(`/users/${user.uuid}`, { method: "PATCH", headers: { authorization: `Bearer ${userKey}` }, json: { company: "Acme" } });
  await w.fetch(`/openapi/v1/users/${user.uuid}`, { method: "PATCH", headers: { "X-Api-Key": A.adminKey }, json: { email: user.email, bio: "hi" } });
  await w.operator("POST", `/users/${admin.id}/deactivate`);
  await w.operator("POST", `/users/${admin.id}/reactivate`);
  const expected = ["user.updated", "user.updated", "user.updated", "user.deactivated", "user.reactivated"];
  await until(() => new Set(rx.got.map((d) => d.headers["webhook-id"])).size >= expected.length, "5 deliveries");
  const byId = new Map(rx.got.map((d) => [d.headers["webhook-id"], d]));
  const bodies = [...byId.values()].map((d) => JSON.parse(d.body)).sort((a, b) => a.data.seq - b.data.seq);
  assert.deepEqual(bodies.map((b) => b.type), expected);
  assert.deepEqual(bodies.map((b) => b.data.dialect), ["hienergy", "upsun", "konstantly", "admin", "admin"]);
  assert.ok(rx.got.every((d) => verify(hook.secret, d)), "every signature verifies");
  const [first] = rx.got;
  assert.ok(!verify(hook.secret, { ...first, body: first.body.replace("user.", "user-") }), "a changed body fails");
  assert.ok(!verify(hook.secret, { ...first, headers: { ...first.headers, "webhook-id": "msg_other" } }), "a changed id fails");
  assert.ok(!verify("whsec_" + Buffer.alloc(32, 7).toString("base64"), first), "another secret fails");
  assert.ok(!rx.got.some((d) => d.body.includes("password_hash") || d.body.includes(userKey)));
  const pulled = await w.operator("GET", `/events?org_id=${A.org.id}&after=${bodies[0].data.seq - 1}`);
  assert.deepEqual(pulled.data.events.map((e) => e.id), bodies.map((b) => b.data.id), "the pull feed has the same events");
  await rx.close();
});

test("a receiver that answers 503 twice still gets everything (retried on schedule)", async () => {
  const rx = await receiver([503, 503]);
  try {
    const hook = await subscribe(A, rx.url, { event_types: ["user.updated"] });
    await w.fetch(`/api/v1/users/${A.other.id}`, { method: "PATCH", headers: { "X-Api-Key": A.otherKey }, json: { user: { name: "Retry Me" } } });
    // The first retry comes 5 s later, from the queue (a delayed message).
    await until(() => rx.got.length >= 2, "the retry after 5 s", 30000);
    // The next one is due 5 minutes later: play the clock forward in D1, and let the Cron sweep find it.
    await until(async () => (await w.db.prepare("SELECT attempts FROM deliveries WHERE webhook_id = ?").bind(hook.id).first())?.attempts === 2, "two attempts recorded");
    await w.db.prepare("UPDATE deliveries SET next_attempt_at = '2000-01-01T00:00:00.000Z' WHERE webhook_id = ?").bind(hook.id).run();
    await (await w.mf.getWorker()).scheduled({ cron: "* * * * *" });
    await until(() => rx.got.length >= 3, "a third attempt");
    const ids = new Set(rx.got.map((d) => d.headers["webhook-id"]));
    assert.equal(ids.size, 1, "one event, one webhook-id across attempts");
    assert.equal(JSON.parse(rx.got[2].body).data.user.name, "Retry Me");
    const log = await w.operator("GET", `/webhooks/${hook.id}/deliveries`);
    assert.equal(log.data.deliveries[0].status, "delivered");
    assert.equal(log.data.deliveries[0].attempts, 3);
  } finally {
    await rx.close();
  }
});

test("a code delivered by webhook verifies through /v2/users/{id}/email/verify; the pull feed never shows it", async () => {
  const rx = await receiver();
  await subscribe(B, rx.url, { event_types: ["user.email.code_requested"] });
  const auth = { authorization: `Bearer ${B.userKey}` };
  const put = await w.fetch(`/v2/users/human/${B.user.uuid}`, { method: "PUT", headers: auth, json: { email: { email: "verify-me@feedb.test", sendCode: {} } } });
  assert.equal(put.status, 200, put.text);
  await until(() => rx.got.length >= 1, "the code event");
  const code = JSON.parse(rx.got[0].body).data.code;
  assert.equal(code.to, "verify-me@feedb.test");
  const pulled = await w.operator("GET", `/events?org_id=${B.org.id}`);
  assert.ok(!pulled.text.includes(code.code), "no code in the pull feed");
  const ok = await w.fetch(`/v2/users/${B.user.uuid}/email/verify`, { method: "POST", headers: auth, json: { verificationCode: code.code } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await w.row(B.user.id)).email_verified, 1);
  await rx.close();
});

test("an email change's event carries the old address in previous_attributes, delivered and pulled alike", async () => {
  const rx = await receiver();
  try {
    await subscribe(A, rx.url, { event_types: ["user.updated"] });
    const old = (await w.row(A.other.id)).email;
    const r = await w.fetch(`/openapi/v1/users/${A.other.uuid}`, { method: "PATCH", headers: { "X-Api-Key": A.adminKey }, json: { email: "moved@feeda.test" } });
    assert.equal(r.status, 200, r.text);
    await until(() => rx.got.length >= 1, "the update's delivery");
    const delivered = JSON.parse(rx.got[0].body).data;
    assert.deepEqual([delivered.fields, delivered.user.email, delivered.previous_attributes], [["email"], "moved@feeda.test", { email: old }]);
    const pulled = await w.operator("GET", `/events?org_id=${A.org.id}&after=${delivered.seq - 1}`);
    assert.deepEqual(pulled.data.events[0].previous_attributes, { email: old });
  } finally {
    await rx.close();
  }
});

test("another org's admin can neither subscribe to nor read this org's feed", async () => {
  const asB = { authorization: `Bearer ${B.adminKey}` };
  const sub = await w.fetch("/admin/v1/webhooks", { method: "POST", headers: asB, json: { org_id: A.org.id, url: "https://x.example/" } });
  assert.equal(sub.status, 404);
  assert.equal((await w.fetch(`/admin/v1/events?org_id=${A.org.id}`, { headers: asB })).status, 404);
  assert.equal((await w.fetch(`/admin/v1/webhooks?org_id=${A.org.id}`, { headers: asB })).status, 404);
});

test("an event whose queue hand-off never happened arrives through the Cron sweep", async () => {
  // A worker without the FEED queue: a committed change asks for a dispatch and nobody hears it.
  const lonely = await startWorker({ cf: false, bindings: { ALLOW_HTTP_WEBHOOKS: "true" } });
  try {
    const rx = await receiver();
    const org = await lonely.seedOrg("sweep");
    const sub = await lonely.operator("POST", "/webhooks", { org_id: org.org.id, url: rx.url });
    assert.equal(sub.status, 201, sub.text);
    await lonely.fetch(`/api/v1/users/${org.user.id}`, { method: "PATCH", headers: { "X-Api-Key": org.userKey }, json: { user: { name: "Swept" } } });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rx.got.length, 0, "nothing yet: the hand-off was lost");
    const worker = await lonely.mf.getWorker();
    await worker.scheduled({ cron: "* * * * *" });
    await until(() => rx.got.length >= 1, "the swept delivery");
    assert.equal(JSON.parse(rx.got[0].body).data.user.name, "Swept");
    await rx.close();
  } finally {
    await lonely.dispose();
  }
});

test("SCIM group changes are events too: group.created / updated / deleted delivered signed, with the group; a refused write sends none", async () => {
  const rx = await receiver();
  try {
    const hook = await subscribe(A, rx.url, { event_types: ["group.created", "group.updated", "group.deleted"] });
    const scim = (method, path, json, headers = {}) =>
      w.fetch(`/scim/v2${path}`, { method, json, headers: { authorization: `Bearer ${A.adminKey}`, ...headers } });
    const created = await scim("POST", "/Groups", { displayName: "Feed Ops", members: [{ value: A.user.uuid }] });
    assert.equal(created.status, 201, created.text);
    const path = `/Groups/${created.data.id}`;
    const patched = await scim("PATCH", path, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "replace", path: "displayName", value: "Feed Operations" }],
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal((await scim("DELETE", path, undefined, { "if-match": 'W/"1"' })).status, 412);
    assert.equal((await scim("DELETE", path)).status, 204);
    await until(() => new Set(rx.got.map((d) => d.headers["webhook-id"])).size >= 3, "3 group deliveries");
    const bodies = [...new Map(rx.got.map((d) => [d.headers["webhook-id"], JSON.parse(d.body)])).values()];
    bodies.sort((a, b) => a.data.seq - b.data.seq);
    assert.deepEqual(bodies.map((b) => b.type), ["group.created", "group.updated", "group.deleted"]);
    assert.ok(rx.got.every((d) => verify(hook.secret, d)), "every signature verifies");
    for (const b of bodies) {
      assert.equal(b.data.dialect, "scim");
      assert.equal(b.data.group.id, created.data.id);
      assert.equal(b.data.user, null);
    }
    assert.deepEqual(bodies[0].data.group.members, [A.user.uuid]);
    assert.equal(bodies[1].data.group.display_name, "Feed Operations");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(new Set(rx.got.map((d) => d.headers["webhook-id"])).size, 3, "the refused delete sent nothing");
  } finally {
    await rx.close();
  }
});

test("the Cron sweep erases user snapshots from events past the feed's retention and keeps their audit fields", async () => {
  const r = await w.fetch(`/api/v1/users/${B.other.id}`, { method: "PATCH", headers: { "X-Api-Key": B.otherKey }, json: { user: { based_in: "Aged" } } });
  assert.equal(r.status, 200, r.text);
  const last = await w.db.prepare("SELECT MAX(id) AS id FROM user_events").first();
  // Everything so far is 30 days old and more (event ids follow commit order); the next one is new.
  await w.db.prepare("UPDATE user_events SET at = '2000-01-01T00:00:00.000Z' WHERE id <= ?").bind(last.id).run();
  await w.db.prepare("UPDATE deliveries SET created_at = '2000-01-01T00:00:00.000Z'").run();
  const fresh = await w.fetch(`/api/v1/users/${B.other.id}`, { method: "PATCH", headers: { "X-Api-Key": B.otherKey }, json: { user: { based_in: "Fresh" } } });
  assert.equal(fresh.status, 200, fresh.text);
  await (await w.mf.getWorker()).scheduled({ cron: "* * * * *" });
  const rows = await w.db.prepare("SELECT id, data, previous, fields FROM user_events WHERE user_id = ? ORDER BY id DESC LIMIT 2").bind(B.other.id).all();
  const [newest, aged] = rows.results;
  assert.equal(aged.id, last.id);
  assert.deepEqual([aged.data, aged.previous, JSON.parse(aged.fields)], [null, null, ["based_in"]], "erased, audit kept");
  assert.match(newest.data, /Fresh/, "within the retention: kept");
  const mark = await w.db.prepare("SELECT pruned_through, deliveries_pruned_through FROM feed_retention").first();
  assert.equal(mark.pruned_through, last.id);
  // Finished deliveries as old are gone, oldest first, up to the first one still being retried.
  assert.ok(mark.deliveries_pruned_through > 0, "the first webhook's deliveries finished long ago");
  const left = await w.db.prepare("SELECT COUNT(*) AS n FROM deliveries WHERE id <= ? AND status <> 'pending'").bind(mark.deliveries_pruned_through).first();
  assert.equal(left.n, 0);
  const pulled = await w.operator("GET", `/events?org_id=${B.org.id}&after=0`);
  assert.equal(pulled.status, 200, pulled.text);
  const shown = pulled.data.events.find((e) => e.id && e.seq && e.user === null && e.type === "user.updated");
  assert.ok(shown, "an aged event is still listed, without its user");
});
