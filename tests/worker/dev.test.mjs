// `make dev`, run as a new user runs it: scripts/dev.sh (migrations on a fresh local D1, the demo org
// seeded, keys printed, `wrangler dev` with its own build) on a free port and a state folder of its
// own. What it prints is then used as printed: the HiEnergy curl it suggests runs verbatim, the
// operator token it shows reads the demo org, and the Cron command it gives runs the sweep. The
// seed run again prints the same keys. So the README's first command cannot silently break. And
// `wrangler deploy --dry-run` bundles the Worker as a real deployment would, with every binding.
//
//   node --test --test-timeout=300000 tests/worker/dev.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const run = promisify(execFile);

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** Whether the process has ended, by exiting or by a signal. */
const gone = (child) => child.exitCode !== null || child.signalCode !== null;

/** Stop the process group (wrangler and workerd with it); SIGKILL if it has not gone in 10 s. */
async function stop(child) {
  const kill = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  if (gone(child)) return;
  const exited = new Promise((r) => child.once("exit", r));
  kill("SIGTERM");
  const late = setTimeout(() => kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(late);
}

/** Wait until `output()` matches `re`, the process exits, or `ms` pass. */
async function waitFor(child, output, re, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (re.test(output())) return;
    if (gone(child)) throw new Error(`make dev exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`make dev did not print ${re} in ${ms} ms:\n${output()}`);
}

/** A command printed over several lines with `\` continuations, as one line for bash. */
const printedCommand = (text, after) => {
  const lines = text.slice(text.indexOf(after) + after.length).split("\n").map((l) => l.trim());
  const start = lines.findIndex((l) => l.startsWith("curl "));
  let cmd = "";
  for (const l of lines.slice(start)) {
    if (!l.endsWith("\\")) return cmd + l;
    cmd += l.slice(0, -1) + " ";
  }
  return cmd;
};

test("make dev: a fresh state, the printed keys and curl work as printed", async () => {
  const port = await freePort();
  const persist = mkdtempSync(join(tmpdir(), "ue-dev-"));
  const hadDevVars = existsSync(join(root, ".dev.vars"));
  let out = "";
  const child = spawn("bash", ["scripts/dev.sh"], {
    cwd: root,
    env: { ...process.env, PORT: String(port), PERSIST: persist },
    detached: true, // its own process group: wrangler and workerd stop with it
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (c) => (out += c));
  child.stderr.on("data", (c) => (out += c));
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(child, () => out, new RegExp(`Ready on http://127\\.0\\.0\\.1:${port}`), 240_000);

    const adminKey = out.match(/admin\s+\(user 1, ada@demo\.example\): (ue_\S+)/)?.[1];
    const userKey = out.match(/user\s+\(user 2, uma@demo\.example\): (ue_\S+)/)?.[1];
    const operator = out.match(/Operator token \(ADMIN_TOKEN, from \.dev\.vars\): (\S+)/)?.[1];
    assert.ok(adminKey && userKey && operator, `keys and the operator token are printed:\n${out}`);

    // The suggested HiEnergy request, exactly as printed (curl writes the body to stdout).
    const curl = printedCommand(out, "Try the HiEnergy seed request:");
    assert.ok(curl.includes(userKey) && curl.includes(`:${port}/api/v1/users/2`), curl);
    const { stdout } = await run("bash", ["-c", curl]);
    const { data } = JSON.parse(stdout);
    assert.deepEqual([data.id, data.given_name, data.family_name, data.based_in], [2, "New", "Name", "Paris, FR"]);

    // The printed operator token reads the demo org; the printed admin key reads its org's users.
    const orgs = await (await fetch(`${base}/admin/v1/orgs`, { headers: { authorization: `Bearer ${operator}` } })).json();
    assert.deepEqual(orgs.orgs.map((o) => o.name), ["Demo Org"]);
    const users = await fetch(`${base}/admin/v1/users?org_id=1`, { headers: { authorization: `Bearer ${adminKey}` } });
    assert.equal(users.status, 200);
    assert.deepEqual((await users.json()).users.map((u) => u.email), ["ada@demo.example", "uma@demo.example"]);

    // The Cron command it gives runs the sweep; the OpenAPI document is served from the assets.
    const cron = out.match(/at once with: (curl '[^']+')/)?.[1];
    assert.ok(cron?.includes(`:${port}/__scheduled`), out);
    await run("bash", ["-c", `${cron} --fail --silent`]);
    const doc = await fetch(`${base}/openapi.json`);
    assert.equal(doc.status, 200);
    assert.equal((await doc.json()).openapi, "3.1.0");

    // Seeding again keeps the state and prints the keys saved the first time.
    const again = await run("node", ["scripts/seed-demo.mjs", persist], { cwd: root, env: { ...process.env, PORT: String(port) } });
    assert.ok(again.stdout.includes(adminKey) && again.stdout.includes(userKey), again.stdout);
  } finally {
    await stop(child);
    rmSync(persist, { recursive: true, force: true });
    if (!hadDevVars) rmSync(join(root, ".dev.vars"), { force: true });
  }
});

test("the deployment bundles: wrangler deploy --dry-run with every binding, under the Workers size limit", async () => {
  const outdir = mkdtempSync(join(tmpdir(), "ue-deploy-"));
  try {
    const env = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" };
    const { stdout } = await run("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir], { cwd: root, env });
    const bindings = [...stdout.matchAll(/^env\.(\w+)/gm)].map((m) => m[1]).sort();
    assert.deepEqual(bindings, [
      "API_KEYS", "ASSETS", "DB", "FEED", "NOTIFICATIONS", "PASSWORD_ATTEMPTS", "PBKDF2_ITERATIONS",
      "SENDS_PER_ORG", "SENDS_PER_RECIPIENT", "SENDS_PER_USER",
    ]);
    assert.match(stdout, /Read 1 file from the assets directory/, "openapi.json goes up as a static asset");
    // Workers take at most 3 MiB compressed on the free plan (10 MiB paid).
    const gzip = Number(stdout.match(/Total Upload: [\d.]+ KiB \/ gzip: ([\d.]+) KiB/)?.[1]);
    assert.ok(gzip > 0 && gzip < 3 * 1024, stdout);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});
