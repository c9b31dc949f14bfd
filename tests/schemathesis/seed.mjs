// Fixture for scripts/schemathesis.sh: the demo org of scripts/seed-demo.mjs (org 1; user 1 "ada",
// admin; user 2 "uma", user; keys 1 and 2), plus the keys the schemathesis runs present.
//
// Schemathesis draws path ids, and small ones (1, 2, 3) come up constantly. Left alone, the admin
// run would soon PATCH `{"user": {"admin": false}}` onto its own user, or DELETE its own key, and
// every later request would be a 403/401 that tests nothing. So the admin run acts as a separate
// admin user whose user id and key id are far from anything a generator favours, and the user run
// presents a second key of user 2 ("uma", the regular user, whom the runs should hit) with such an
// id too. The demo keys 1 and 2 stay as targets any run may revoke.
//
// The operator API can also deactivate and delete users, and an admin's key may do it to anyone in
// its org, itself included. So each of the three runs gets its own copy of this fixture
// (scripts/schemathesis.sh), the admin run must keep its own user and key (hooks.py's
// filter_case), and the fixture has users to spare, named by the operator API's path examples in
// openapi.json:
// - 73400331, in the demo org, and 73400342, in a second org: the examples of DELETE. The admin run
//   deletes the first and is refused the second (404: another org); the operator run deletes both.
// - 73400341, in the second org: with uma, the example of the other /admin/v1/users/{id} operations.
//   The admin run gets 404 for it (another org); the operator run reaches it whatever it has done
//   to uma.
//
// ZITADEL, Upsun, Konstantly and SCIM name users by UUID, which a generator never guesses. So the
// demo users get fixed UUIDs, the ones openapi.json gives as path examples (Upsun's own examples
// from its documentation), and so do the users to spare above (SCIM's examples: its DELETE names
// the two doomed users, its other /scim/v2/Users/{id} operations uma and olga): the examples phase
// and the links from those responses then reach real users. The admin's own UUID is random (no
// example names it) and passed on, so that hooks.py's filter_case keeps the admin run from
// deleting or deactivating itself through SCIM.
//
// Usage: node tests/schemathesis/seed.mjs <persist-dir>   (writes <persist-dir>/schemathesis-keys.json)
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const persist = process.argv[2];
if (!persist) throw new Error("usage: seed.mjs <persist-dir>");
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

execFileSync("node", [join(root, "scripts/seed-demo.mjs"), persist], { stdio: ["ignore", "ignore", "inherit"] });

const ADMIN_USER_ID = 73400321;
// Keep in step with the `examples` of the userId / user_id parameters in openapi.json.
const ADA_UUID = "3c90c3cc-0d44-4b50-8888-8dd25736052a";
const UMA_UUID = "d81c8ee2-44b3-429f-b944-a33ad7437690";
const ADMIN_KEY_ID = 73400322;
const USER_KEY_ID = 73400323;
// Keep in step with the `examples` of the operator API's `id` path parameters in openapi.json.
const DOOMED_ID = 73400331;
const OTHER_ORG_USER_ID = 73400341;
const OTHER_ORG_DOOMED_ID = 73400342;
// SCIM names users by UUID: keep in step with the `examples` of the SCIM `id` path parameters.
const DOOMED_UUID = "9a3e5b7c-1d2f-4e6a-8b0c-3d5f7a9b1c2e";
const OTHER_ORG_USER_UUID = "5f0c2d36-8a41-4c7e-9b1d-2e6f7a3c4b51";
const OTHER_ORG_DOOMED_UUID = "c4e6a8b0-2d4f-4a6c-8e0a-4b6d8f0a2c4e";
const ADMIN_UUID = randomUUID();

const now = new Date().toISOString();
const key = () => "ue_" + randomBytes(32).toString("base64url");
const digest = (k) => createHash("sha256").update(k).digest("hex");
const q = (s) => "'" + String(s).replaceAll("'", "''") + "'";
const adminKey = key();
const userKey = key();
const keyRow = (id, k, userId, orgId, role) =>
  `(${id}, ${q(digest(k))}, ${q(k.slice(0, 11))}, ${userId}, ${orgId}, ${q(role)}, ${q(now)})`;
const sql = `
UPDATE users SET uuid = ${q(ADA_UUID)} WHERE id = 1;
UPDATE users SET uuid = ${q(UMA_UUID)} WHERE id = 2;
INSERT INTO orgs (id, uuid, name, created_at) VALUES (2, ${q(randomUUID())}, 'Other Org', ${q(now)});
INSERT INTO users (id, uuid, org_id, username, email, name, admin, created_at, updated_at) VALUES
  (${ADMIN_USER_ID}, ${q(ADMIN_UUID)}, 1, 'schemathesis-admin', 'schemathesis-admin@demo.example',
   'Schemathesis Admin', 1, ${q(now)}, ${q(now)}),
  (${DOOMED_ID}, ${q(DOOMED_UUID)}, 1, 'doomed', 'doomed@demo.example', 'Doomed', 0, ${q(now)}, ${q(now)}),
  (${OTHER_ORG_USER_ID}, ${q(OTHER_ORG_USER_UUID)}, 2, 'olga', 'olga@other.example', 'Olga Other', 0, ${q(now)}, ${q(now)}),
  (${OTHER_ORG_DOOMED_ID}, ${q(OTHER_ORG_DOOMED_UUID)}, 2, 'doomed', 'doomed@other.example', 'Doomed Too', 0, ${q(now)}, ${q(now)});
INSERT INTO api_keys (id, digest, prefix, user_id, org_id, role, created_at) VALUES
  ${keyRow(ADMIN_KEY_ID, adminKey, ADMIN_USER_ID, 1, "admin")},
  ${keyRow(USER_KEY_ID, userKey, 2, 1, "user")};
`;
const file = join(persist, "schemathesis-seed.sql");
writeFileSync(file, sql);
execFileSync("npx", ["wrangler", "d1", "execute", "DB", "--local", "--persist-to", persist, "--file", file], {
  cwd: root,
  stdio: ["ignore", "ignore", "inherit"],
});
writeFileSync(
  join(persist, "schemathesis-keys.json"),
  JSON.stringify(
    {
      admin: { user_id: ADMIN_USER_ID, user_uuid: ADMIN_UUID, key_id: ADMIN_KEY_ID, key: adminKey },
      user: { user_id: 2, user_uuid: UMA_UUID, key_id: USER_KEY_ID, key: userKey },
    },
    null,
    2,
  ),
);
