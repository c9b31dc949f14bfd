// Seed local D1 with a demo org, an admin and a regular user, and one API key each; print the
// keys. Runs once per local state folder: later runs print the keys saved the first time.
// Usage: node scripts/seed-demo.mjs <persist-dir>
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const persist = process.argv[2] ?? ".state";
const saved = join(persist, "demo-keys.json");
mkdirSync(persist, { recursive: true });

if (!existsSync(saved)) {
  const now = new Date().toISOString();
  const key = () => "ue_" + randomBytes(32).toString("base64url");
  const digest = (k) => createHash("sha256").update(k).digest("hex");
  const adminKey = key();
  const userKey = key();
  const q = (s) => "'" + String(s).replaceAll("'", "''") + "'";
  const sql = `
INSERT INTO orgs (id, uuid, name, created_at) VALUES (1, ${q(randomUUID())}, 'Demo Org', ${q(now)});
INSERT INTO users (id, uuid, org_id, username, email, name, given_name, family_name, admin, created_at, updated_at)
  VALUES (1, ${q(randomUUID())}, 1, 'ada', 'ada@demo.example', 'Ada Admin', 'Ada', 'Admin', 1, ${q(now)}, ${q(now)});
INSERT INTO users (id, uuid, org_id, username, email, name, given_name, family_name, admin, created_at, updated_at)
  VALUES (2, ${q(randomUUID())}, 1, 'uma', 'uma@demo.example', 'Uma User', 'Uma', 'User', 0, ${q(now)}, ${q(now)});
INSERT INTO api_keys (digest, prefix, user_id, org_id, role, created_at) VALUES
  (${q(digest(adminKey))}, ${q(adminKey.slice(0, 11))}, 1, 1, 'admin', ${q(now)}),
  (${q(digest(userKey))}, ${q(userKey.slice(0, 11))}, 2, 1, 'user', ${q(now)});
`;
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
