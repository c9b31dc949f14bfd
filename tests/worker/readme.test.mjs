// README.md's and docs/scim.md's API examples, held to the built worker: each `curl` in a ```sh
// block (and docs/scim.md's raw ```http exchange) is parsed from the document at test time, its
// placeholders filled with a seeded worker's real tokens, keys and ids, sent, and its answer held
// to the ```json (or ```http) block that follows it. The error shapes the README writes inline are
// triggered and held to the same rules. So the documents cannot drift from the behaviour: an edit
// to either shows up here.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { randomBytes, randomUUID } from "node:crypto";
import { startWorker, statements, OPERATOR_TOKEN } from "./support.mjs";
import { demoSeedSql } from "../../scripts/seed-demo.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const README = readFileSync(join(root, "README.md"), "utf8");
const SCIM_DOC = readFileSync(join(root, "docs/scim.md"), "utf8");

// ---------------------------------------------------------------- reading the documents

/** The fenced blocks of a markdown text, in order: `{lang, body, line, start, end}` (offsets of the fence). */
function fences(md) {
  const out = [];
  const re = /^([ \t]*)```([\w-]*)[ \t]*\n([\s\S]*?)^[ \t]*```[ \t]*$/gm;
  for (let m; (m = re.exec(md)); ) {
    // An indented fence (inside a list item) has its indentation taken off every line.
    const indent = m[1];
    const body = m[3].split("\n").map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l)).join("\n");
    out.push({ lang: m[2], body, line: md.slice(0, m.index).split("\n").length, start: m.index, end: re.lastIndex });
  }
  return out;
}

/** Whether only white space lies between two blocks: then the second is the first's answer. */
const adjacent = (md, a, b) => b && md.slice(a.end, b.start).trim() === "";

/**
 * Shell words of a ```sh block, one array per command: single quotes are literal (and may span
 * lines), double quotes expand variables and take backslash escapes, a backslash at the end of a
 * line continues the command, `#` starts a comment. A variable becomes the marker `\u0001NAME\u0002`,
 * filled in later by `bind` (so a test's title can show it as written). Anything else a shell would
 * make of the text (pipes, redirections, `;`, `$(...)`) is refused: the examples don't use it, and a
 * new one must be taught here rather than misread.
 */
function shellCommands(src) {
  const commands = [];
  let words = [];
  let word = null;
  const endWord = () => {
    if (word !== null) words.push(word);
    word = null;
  };
  const endCommand = () => {
    endWord();
    if (words.length) commands.push(words);
    words = [];
  };
  const variable = (i) => {
    const m = /^\$(\w+)|^\$\{(\w+)\}/.exec(src.slice(i));
    if (!m) throw new Error(`unsupported shell expansion at ${JSON.stringify(src.slice(i, i + 20))}`);
    return [`\u0001${m[1] ?? m[2]}\u0002`, m[0].length];
  };
  for (let i = 0; i < src.length; ) {
    const c = src[i];
    if (c === "\\" && src[i + 1] === "\n") {
      i += 2;
    } else if (c === "\\") {
      word = (word ?? "") + src[i + 1];
      i += 2;
    } else if (c === " " || c === "\t") {
      endWord();
      i++;
    } else if (c === "\n") {
      endCommand();
      i++;
    } else if (c === "#" && word === null) {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === "'") {
      const close = src.indexOf("'", i + 1);
      if (close < 0) throw new Error("unterminated single quote");
      word = (word ?? "") + src.slice(i + 1, close);
      i = close + 1;
    } else if (c === '"') {
      word ??= "";
      for (i++; src[i] !== '"'; ) {
        if (i >= src.length) throw new Error("unterminated double quote");
        if (src[i] === "\\" && '"\\$`'.includes(src[i + 1])) {
          word += src[i + 1];
          i += 2;
        } else if (src[i] === "$") {
          const [v, n] = variable(i);
          word += v;
          i += n;
        } else if (src[i] === "`") {
          throw new Error("command substitution is not supported");
        } else {
          word += src[i++];
        }
      }
      i++;
    } else if (c === "$") {
      const [v, n] = variable(i);
      word = (word ?? "") + v;
      i += n;
    } else if (";|&<>`(){}".includes(c)) {
      throw new Error(`unsupported shell syntax ${JSON.stringify(c)}`);
    } else {
      word = (word ?? "") + c;
      i++;
    }
  }
  endCommand();
  return commands;
}

/** The origins the documents' examples are addressed to (`make dev`'s and a deployment's). */
const DOC_ORIGINS = ["http://localhost:8787", "http://127.0.0.1:8787", "https://users.example.com"];

/**
 * One `curl` command as a request `{method, path, headers, body}`, with curl's own rules: `-d`
 * without `-G` is the body and makes the method POST (and the content type form-encoded, unless a
 * `-H` sets one); with `-G` every `-d` / `--data-urlencode` goes into the query string instead; a
 * URL without a scheme is http. Only the options the documents use are known; another is an error.
 */
function parseCurl(words) {
  assert.equal(words[0], "curl", `not a curl command: ${words.join(" ")}`);
  let method = null;
  let url = null;
  let get = false;
  const headers = {};
  const data = [];
  for (let i = 1; i < words.length; i++) {
    const w = words[i];
    const value = () => {
      if (i + 1 >= words.length) throw new Error(`${w} needs a value`);
      return words[++i];
    };
    if (w === "-X" || w === "--request") method = value();
    else if (w === "-H" || w === "--header") {
      const h = value();
      const colon = h.indexOf(":");
      assert.ok(colon > 0, `bad header ${h}`);
      headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
    } else if (w === "-d" || w === "--data") data.push(value());
    else if (w === "--data-urlencode") {
      const v = value();
      const eq = v.indexOf("=");
      data.push(eq < 0 ? encodeURIComponent(v) : v.slice(0, eq + 1) + encodeURIComponent(v.slice(eq + 1)));
    } else if (w === "-G" || w === "--get") get = true;
    else if (w.startsWith("-")) throw new Error(`curl option ${w} is not understood by this test`);
    else if (url !== null) throw new Error(`two URLs: ${url} and ${w}`);
    else url = w;
  }
  assert.ok(url, `no URL in ${words.join(" ")}`);
  const full = new URL(/^[a-z]+:\/\//.test(url) ? url : `http://${url}`);
  assert.ok(DOC_ORIGINS.includes(full.origin), `unexpected host in ${url}`);
  let path = full.pathname + full.search;
  let body;
  if (get) {
    if (data.length) path += (full.search ? "&" : "?") + data.join("&");
  } else if (data.length) {
    body = data.join("&");
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["Content-Type"] = "application/x-www-form-urlencoded";
  }
  return { method: method ?? (get || !data.length ? "GET" : "POST"), path, headers, body, origin: full.origin };
}

/**
 * A raw HTTP message of an ```http block: `{start, headers, body}` (the start line split into its
 * words). A request's `Host` names its origin (https, as the document's deployment).
 */
function parseHttp(text) {
  const [head, ...rest] = text.split(/\n\n/);
  const [start, ...lines] = head.split("\n");
  const headers = {};
  for (const l of lines) {
    const colon = l.indexOf(":");
    assert.ok(colon > 0, `bad header line ${l}`);
    headers[l.slice(0, colon).trim()] = l.slice(colon + 1).trim();
  }
  return { start: start.trim().split(/\s+/), headers, body: rest.join("\n\n").trim() };
}

/**
 * Every API example of a document, in order: `{line, kind: "curl" | "http", words | request, answer}`.
 * A ```sh block is an example when a command in it is `curl` (then every command in it must be);
 * `make dev`, `npx wrangler ...` blocks are not. The ```json block right after a block is the
 * answer of its last command; for an ```http request, the ```http block right after it.
 */
function examples(md) {
  const blocks = fences(md);
  const out = [];
  blocks.forEach((b, i) => {
    const next = adjacent(md, b, blocks[i + 1]) ? blocks[i + 1] : null;
    if (b.lang === "sh") {
      if (!/^\s*curl\s/m.test(b.body)) return;
      const commands = shellCommands(b.body);
      commands.forEach((words, k) => {
        assert.equal(words[0], "curl", `line ${b.line}: a block of curl examples runs ${words[0]}`);
        const last = k === commands.length - 1;
        out.push({ line: b.line, kind: "curl", words, answer: last && next?.lang === "json" ? docJson(next.body) : null });
      });
    } else if (b.lang === "http" && /^[A-Z]+ \S+ HTTP\/1\.1$/m.test(b.body.split("\n")[0])) {
      assert.equal(next?.lang, "http", `line ${b.line}: an HTTP request without its response`);
      out.push({ line: b.line, kind: "http", request: parseHttp(b.body), response: parseHttp(next.body) });
    }
  });
  return out;
}

/**
 * JSON as the documents write it: real JSON, except that a bare `...` among an object's members
 * means "and other members" (as in `{"@type": "...ErrorDetail", ...}`); it becomes the elided key
 * `"...": "..."`, which `differences` reads the same way.
 */
function docJson(text) {
  return JSON.parse(text.replace(/([{,]\s*)\.\.\.(\s*[},])/g, '$1"...": "..."$2'));
}

/**
 * The inline `code` span of a document that starts with `prefix` (fenced blocks left out): the
 * README writes its error shapes this way. Exactly one must match, so an example that is reworded
 * fails here rather than being skipped.
 */
function inlineJson(md, prefix) {
  const prose = md.replace(/^[ \t]*```[\s\S]*?^[ \t]*```[ \t]*$/gm, "");
  const spans = [...prose.matchAll(/`([^`]+)`/g)].map((m) => m[1]).filter((s) => s.startsWith(prefix));
  assert.equal(spans.length, 1, `one inline example starting ${prefix}, found ${spans.length}`);
  // Markdown shows a line break inside a code span as a space (the SCIM one breaks mid-string).
  return docJson(spans[0].replace(/\s*\n\s*/g, " "));
}

// ---------------------------------------------------------------- comparing answers

// The loose parts, on purpose few: a value the run decides is held to its form, not its text.
// Inside any string (expected and actual alike) an RFC 3339 timestamp reads as <timestamp> and a
// UUID as <uuid>, and the document's origins (localhost:8787, users.example.com) stand for the one
// Miniflare serves on. A string written with "…" or "..." is elided (only its type is checked), and
// so is every member not shown in an object that has a "..." member.
const TIMESTAMP = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const elided = (s) => s.includes("…") || s.includes("...");
const kind = (v) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

/** Every way `actual` departs from the documented `expected`, as `path: what` lines. */
function differences(actual, expected, origin, path = "$", out = []) {
  if (kind(actual) !== kind(expected)) {
    out.push(`${path}: documented ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  } else if (kind(expected) === "string") {
    if (!elided(expected)) {
      const norm = (s) => s.replace(TIMESTAMP, "<timestamp>").replace(UUID, "<uuid>");
      let want = expected;
      for (const o of DOC_ORIGINS) want = want.replaceAll(o, origin);
      if (norm(actual) !== norm(want)) out.push(`${path}: documented ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    }
  } else if (kind(expected) === "array") {
    if (actual.length !== expected.length) out.push(`${path}: documented ${expected.length} items, got ${actual.length}`);
    for (let i = 0; i < Math.min(actual.length, expected.length); i++) differences(actual[i], expected[i], origin, `${path}[${i}]`, out);
  } else if (kind(expected) === "object") {
    const shown = Object.keys(expected).filter((k) => k !== "...");
    for (const k of shown) {
      if (!(k in actual)) out.push(`${path}.${k}: documented, missing`);
      else differences(actual[k], expected[k], origin, `${path}.${k}`, out);
    }
    if (!("..." in expected)) for (const k of Object.keys(actual)) if (!(k in expected)) out.push(`${path}.${k}: not documented, got ${JSON.stringify(actual[k])}`);
  } else if (actual !== expected) {
    out.push(`${path}: documented ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
  return out;
}

/** Assert the answer has the documented status, body and headers, naming every difference at once. */
function assertAnswer(r, status, body, origin, what, headers = {}) {
  const problems = [];
  if (typeof status === "number" ? r.status !== status : !status(r.status)) problems.push(`status: got ${r.status}`);
  if (body !== undefined && body !== null) differences(r.data, body, origin, "$", problems);
  for (const [name, value] of Object.entries(headers)) differences(r.headers.get(name), value, origin, `header ${name}`, problems);
  assert.deepEqual(problems, [], `${what}\n  ${problems.join("\n  ")}\nanswer: ${r.text}`);
}
const ok = (s) => s >= 200 && s < 300;

// ---------------------------------------------------------------- the seeded worker

/**
 * `make dev`'s state, seeded by `make dev`'s own SQL (scripts/seed-demo.mjs): org 1 "Demo Org";
 * user 1 ada@demo.example, an admin; user 2 uma@demo.example; a key for each, in D1 only (KV
 * starts empty, as under `make dev`). The ZITADEL example sends a code, so the queue and its
 * limiters are bound.
 */
async function demo() {
  const w = await startWorker({ notifications: true });
  try {
    const adminKey = "ue_" + randomBytes(32).toString("base64url");
    const userKey = "ue_" + randomBytes(32).toString("base64url");
    const sql = demoSeedSql({ now: new Date().toISOString(), uuids: [randomUUID(), randomUUID(), randomUUID()], adminKey, userKey });
    for (const stmt of statements(sql)) await w.db.prepare(stmt).run();
    const read = async (path) => (await w.operator("GET", path)).data;
    const [org, ada, uma] = [await read("/orgs/1"), await read("/users/1"), await read("/users/2")];
    const origin = (await w.mf.ready).origin;
    return { w, org, ada, uma, adminKey, userKey, origin };
  } catch (e) {
    await w.dispose().catch(() => {});
    throw e;
  }
}

test("make dev's demo users are found by email and username, and their addresses and names stay taken", async () => {
  const d = await demo();
  try {
    const byEmail = await d.w.operator("GET", "/users?org_id=1&email=UMA@demo.example");
    assert.deepEqual(byEmail.data.users.map((u) => u.id), [2], byEmail.text);
    const byName = await d.w.operator("GET", "/users?org_id=1&username=Ada");
    assert.deepEqual(byName.data.users.map((u) => u.id), [1], byName.text);
    const again = await d.w.operator("POST", "/users", { org_id: 1, email: "uma@demo.example" });
    assert.equal(again.status, 409, again.text);
    const named = await d.w.operator("POST", "/users", { org_id: 1, email: "new@demo.example", username: "ADA" });
    assert.equal(named.status, 409, named.text);
  } finally {
    await d.w.dispose();
  }
});

/** Fill a command's variables (`$ADMIN_TOKEN`) and literal placeholders (`<user key>`) in. */
function bind(words, vars, literals = {}) {
  return words.map((w) => {
    let s = w.replace(/\u0001(\w+)\u0002/g, (_, name) => {
      assert.ok(name in vars, `the example uses $${name}, which this test does not provide`);
      return vars[name];
    });
    for (const [text, value] of Object.entries(literals)) s = s.replaceAll(text, value);
    return s;
  });
}
const shown = (words) => words.map((w) => w.replace(/\u0001(\w+)\u0002/g, "$$$1"));

/**
 * Send a parsed request to the worker. The document's origin is not sent: Miniflare serves on a
 * loopback address of its own (and sets `Host` to it), which `differences` reads the origin as.
 */
function send(w, { method, path, headers, body }) {
  return w.fetch(path, { method, headers, body });
}

// ---------------------------------------------------------------- README.md

const readme = examples(README);

test("README.md: the examples are all found (a parse that misses them must not pass quietly)", () => {
  // As written: 8 curl examples (HiEnergy after `make dev`, the operator API's two, SCIM, HiEnergy,
  // ZITADEL, Upsun, Konstantly), 6 of them with their answer.
  assert.ok(readme.length >= 8, `found ${readme.length} curl examples`);
  assert.ok(readme.filter((e) => e.answer).length >= 6, "examples with a ```json answer");
  assert.ok(readme.every((e) => e.kind === "curl"));
});

// Each example runs on a worker of its own, seeded as `make dev` leaves it, so none depends on
// another having run first (the ZITADEL example's `sequence` is the user's first change, say).
for (const ex of readme) {
  const title = shown(ex.words).join(" ").replace(/\s+/g, " ");
  test(`README.md:${ex.line} ${title.slice(0, 110)}`, async () => {
    const d = await demo();
    try {
      const vars = { ADMIN_TOKEN: OPERATOR_TOKEN, ADMIN_KEY: d.adminKey, USER_KEY: d.userKey, USER_UUID: d.uma.uuid };
      const req = parseCurl(bind(ex.words, vars, { "<user key>": d.userKey }));
      const r = await send(d.w, req);
      assertAnswer(r, ok, ex.answer, d.origin, `README.md:${ex.line} ${req.method} ${req.path}`);
    } finally {
      await d.w.dispose();
    }
  });
}

// The error shapes the README writes inline, each provoked on a demo worker. Refused requests
// change nothing, so they share one.
describe("README.md: documented error shapes", () => {
  let d;
  before(async () => {
    d = await demo();
  });
  after(() => d?.w.dispose());

  const json = (method, path, headers, body) => d.w.fetch(path, { method, headers, json: body });

  test("operator API: 422 problem+json naming the bad email", async () => {
    const r = await json("POST", "/admin/v1/users", { authorization: `Bearer ${OPERATOR_TOKEN}` }, { org_id: 1, email: "not-an-email" });
    const documented = inlineJson(README, '{"type": "about:blank"');
    assertAnswer(r, 422, documented, d.origin, "operator 422", { "content-type": "application/problem+json" });
  });

  test("HiEnergy: 403 naming the admin-only field a user key sent", async () => {
    const r = await json("PATCH", "/api/v1/users/2", { "X-Api-Key": d.userKey }, { user: { admin: true } });
    assertAnswer(r, 403, inlineJson(README, '{"error": "forbidden"'), d.origin, "HiEnergy 403");
  });

  test("ZITADEL REST: 400 code 3 with the field violation", async () => {
    const r = await json("PUT", `/v2/users/human/${d.uma.uuid}`, { authorization: `Bearer ${d.userKey}` }, { profile: { givenName: "", familyName: "User" } });
    assertAnswer(r, 400, inlineJson(README, '{"code": 3,'), d.origin, "ZITADEL REST 400");
  });

  test("ZITADEL Connect: 400 invalid_argument", async () => {
    const body = { userId: d.uma.uuid, profile: { givenName: "", familyName: "User" } };
    const r = await json("POST", "/zitadel.user.v2.UserService/UpdateHumanUser", { authorization: `Bearer ${d.userKey}` }, body);
    assertAnswer(r, 400, inlineJson(README, '{"code": "invalid_argument"'), d.origin, "Connect 400");
  });

  test("Konstantly: 400 Validation failed on a bad email, 404 User not found", async () => {
    let r = await json("PATCH", "/openapi/v1/users/2", { "X-API-KEY": d.adminKey }, { email: "not-an-email" });
    assertAnswer(r, 400, inlineJson(README, '{"status": 400, "message": "Validation failed"'), d.origin, "Konstantly 400");
    r = await json("PATCH", "/openapi/v1/users/999", { "X-API-KEY": d.adminKey }, { email: "nobody@demo.example" });
    assertAnswer(r, 404, inlineJson(README, '{"status": 404'), d.origin, "Konstantly 404");
  });
});

// ---------------------------------------------------------------- docs/scim.md

// docs/scim.md tells one story, so its examples share one worker and run in order: issue a SCIM key
// for user 42, an admin (`ue_…` below is that key), create a user with it (the ```http exchange;
// `0b5c6c1e-…` below is that user's id), deactivate it, find it again.
describe("docs/scim.md: the examples, in order", () => {
  const doc = examples(SCIM_DOC);
  let d;
  const state = {};
  before(async () => {
    d = await demo();
    // The document's admin is user 42 of the org: users 3–41 never existed.
    await d.w.db.prepare("UPDATE sqlite_sequence SET seq = 41 WHERE name = 'users'").run();
    const it = await d.w.createUser({ org_id: 1, username: "it", email: "it@demo.example", name: "IT Admin", admin: true });
    assert.equal(it.id, 42);
  });
  after(() => d?.w.dispose());

  test("docs/scim.md: the examples are all found", () => {
    // As written: the key's curl, the ```http exchange, the PATCH and the GET's curls.
    assert.ok(doc.filter((e) => e.kind === "curl").length >= 3, "curl examples");
    assert.ok(doc.filter((e) => e.kind === "http").length >= 1, "http exchanges");
  });

  const literals = () => ({ "ue_…": state.key, "0b5c6c1e-…": state.userId });
  for (const ex of doc) {
    const title = ex.kind === "curl" ? shown(ex.words).join(" ") : `${ex.request.start[0]} ${ex.request.start[1]}`;
    test(`docs/scim.md:${ex.line} ${title.replace(/\s+/g, " ").slice(0, 110)}`, async () => {
      if (ex.kind === "curl") {
        const req = parseCurl(bind(ex.words, { ADMIN_TOKEN: OPERATOR_TOKEN }, literals()));
        const r = await send(d.w, req);
        if (req.path === "/admin/v1/api-keys") state.key = r.data?.key;
        assertAnswer(r, ok, ex.answer, d.origin, `docs/scim.md:${ex.line} ${req.method} ${req.path}`);
        // "finding the user again": the filter finds exactly the user the exchange created.
        if (req.method === "GET") assert.deepEqual(r.data.Resources.map((u) => u.id), [state.userId], r.text);
      } else {
        const { start, headers, body } = ex.request;
        // `Host` is the document's deployment; Miniflare sets its own.
        const h = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== "host").map(([k, v]) => [k, bind([v], {}, literals())[0]]));
        const r = await send(d.w, { method: start[0], path: start[1], headers: h, body: bind([body], {}, literals())[0] });
        // The later examples act on this user, whatever the comparison below finds.
        state.userId = r.data?.id;
        const res = ex.response;
        assertAnswer(r, Number(res.start[1]), docJson(res.body), d.origin, `docs/scim.md:${ex.line} ${start[0]} ${start[1]}`, res.headers);
      }
    });
  }

  test("docs/scim.md: 400 invalidValue naming every bad attribute", async () => {
    const r = await d.w.fetch("/scim/v2/Users", {
      method: "POST",
      headers: { authorization: `Bearer ${d.adminKey}`, "content-type": "application/scim+json" },
      json: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], emails: [{ value: "nope" }] },
    });
    const documented = inlineJson(SCIM_DOC, '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"]');
    assertAnswer(r, 400, documented, d.origin, "SCIM 400", { "content-type": "application/scim+json" });
  });
});
