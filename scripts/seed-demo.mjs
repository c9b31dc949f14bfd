// Seed local D1 with a demo org, an admin and a regular user, and one API key each; print the
// keys. Runs once per local state folder: later runs print the keys saved the first time.
// Usage: node scripts/seed-demo.mjs <persist-dir>
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * The demo state as SQL: org 1 "Demo Org", user 1 ada (an admin), user 2 uma, a key for each (only
 * its digest stored). The users' `email_key` and `username_key` are the canonical keys the worker
 * compares on (migration 0007's unique indexes; values/web.rs, values/identity.rs): for these ASCII
 * names, their lower case. tests/worker/readme.test.mjs seeds the README's examples with it.
 */
export function demoSeedSql({ now, uuids: [org, ada, uma], adminKey, userKey }) {
  const digest = (k) => createHash("sha256").update(k).digest("hex");
  const q = (s) => "'" + String(s).replaceAll("'", "''") + "'";
  const user = (id, uuid, username, email, name, given, family, admin) =>
    `INSERT INTO users (id, uuid, org_id, username, username_key, email, email_key, name, given_name, family_name, admin, created_at, updated_at)
  VALUES (${id}, ${q(uuid)}, 1, ${q(username)}, ${q(username.toLowerCase())}, ${q(email)}, ${q(email.toLowerCase())}, ${q(name)}, ${q(given)}, ${q(family)}, ${admin}, ${q(now)}, ${q(now)});`;
  return `
INSERT INTO orgs (id, uuid, name, created_at) VALUES (1, ${q(org)}, 'Demo Org', ${q(now)});
${user(1, ada, "ada", "ada@demo.example", "Ada Admin", "Ada", "Admin", 1)}
${user(2, uma, "uma", "uma@demo.example", "Uma User", "Uma", "User", 0)}
INSERT INTO api_keys (digest, prefix, user_id, org_id, role, created_at, created_by) VALUES
  (${q(digest(adminKey))}, ${q(adminKey.slice(0, 11))}, 1, 1, 'admin', ${q(now)}, 'operator'),
  (${q(digest(userKey))}, ${q(userKey.slice(0, 11))}, 2, 1, 'user', ${q(now)}, 'operator');
`;
}

/** Seed the state folder once, then print its keys. */
function main() {
  const persist = process.argv[2] ?? ".state";
  const saved = join(persist, "demo-keys.json");
  mkdirSync(persist, { recursive: true });

  if (!existsSync(saved)) {
    const key = () => "ue_" + randomBytes(32).toString("base64url");
    const adminKey = key();
    const userKey = key();
    const sql = demoSeedSql({ now: new Date().toISOString(), uuids: [randomUUID(), randomUUID(), randomUUID()], adminKey, userKey });
    const file = join(persist, "seed.sql");
    writeFileSync(file, sql);
    execFileSync("npx", ["wrangler", "d1", "execute", "DB", "--local", "--persist-to", persist, "--file", file], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    writeFileSync(saved, JSON.stringify({ admin: { user_id: 1, key: adminKey }, user: { user_id: 2, key: userKey } }, null, 2));
  }

  const keys = JSON.parse(readFileSync(saved, "utf8"));
  // The port `make dev` serves on (scripts/dev.sh passes its PORT).
  const port = process.env.PORT ?? "8787";
  console.log(`
  Demo org seeded in local D1 (${persist}). API keys (keep them; only their digests are stored):
    admin  (user 1, ada@demo.example): ${keys.admin.key}
    user   (user 2, uma@demo.example): ${keys.user.key}

  Try the HiEnergy seed request:
    curl -X PATCH http://127.0.0.1:${port}/api/v1/users/2 -H "X-Api-Key: ${keys.user.key}" \\
      -H "Content-Type: application/json" -d '{"user": {"given_name": "New", "family_name": "Name", "based_in": "Paris, FR"}}'
`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) main();
