import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, timingNames } from "./support.mjs";

let w, cast;
before(async () => {
  w = await startWorker();
  cast = await w.seedOrg();
});
after(() => w?.dispose());

test("seed example self_profile_update, verbatim", async () => {
  const r = await w.fetch(`/api/v1/users/${cast.user.id}`, {
    method: "PATCH",
    headers: { "X-Api-Key": cast.userKey, Accept: "application/json" },
    json: { user: { given_name: "New", family_name: "Name", based_in: "Paris, FR" } },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.data.given_name, "New");
  assert.equal(r.data.data.based_in, "Paris, FR");
  assert.equal(r.headers.get("etag"), '"2"');
  assert.deepEqual(timingNames(r.headers), ["kv", "d1"]);
});
