// The peer: what a team would usually write for HiEnergy's `PATCH|GET /api/v1/users/{id}` on
// Workers — Hono for routing, zod for validation, D1 + KV directly. Same tables, same KV cache
// entry (`key:<sha256 hex>` → principal JSON, with the key's scopes and expiry), same validation and
// permission rules, same wire format, the same one-batch guarded write + audit event (which is
// also the change feed's outbox row) and the same D1 sessions (read replication: a read starts
// anywhere or at the client's `X-D1-Bookmark`, a write at the primary, every response reports the
// bookmark) as users-edge, so the benchmark compares implementations of one design rather than two.
import { Hono, type Context } from "hono";
import { z } from "zod";

// ---- minimal binding types (esbuild strips types; no @cloudflare/workers-types needed) --------
interface D1Result<T = Record<string, unknown>> {
  results: T[];
  meta?: { served_by_region?: string; served_by_primary?: boolean };
}
interface D1PreparedStatement {
  bind(...values: unknown[]): D1PreparedStatement;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  all<T = Record<string, unknown>>(): Promise<D1Result<T>>;
}
interface D1DatabaseSession {
  prepare(sql: string): D1PreparedStatement;
  batch<T = Record<string, unknown>>(stmts: D1PreparedStatement[]): Promise<D1Result<T>[]>;
  getBookmark(): string | null;
}
interface D1Database {
  withSession(start: string): D1DatabaseSession;
}
interface KVNamespace {
  get(key: string, opts: { type: "json"; cacheTtl?: number }): Promise<unknown>;
  put(key: string, value: string): Promise<void>;
}
type Env = { DB: D1Database; API_KEYS: KVNamespace; PBKDF2_ITERATIONS?: string; READ_CONSISTENCY?: string };

type Role = "admin" | "user";
/** The KV cache entry, as users-edge writes it: a key's owner, role, scopes (null: every API) and expiry. */
type Principal = {
  key_id: number;
  user_id: number;
  user_uuid: string;
  org_id: number;
  role: Role;
  scopes?: string[] | null;
  expires_at?: string | null;
};
/** A key found valid at `checked_at`; the guard re-checks it in D1 against that same instant. */
type Caller = Principal & { checked_at: string };
type Row = Record<string, unknown>;

// ---- errors in HiEnergy's shape ---------------------------------------------------------------
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: Record<string, string[]>,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
const unauthorized = () => new HttpError(401, "unauthorized", "A valid API key is required in the X-Api-Key header");
const notFound = () => new HttpError(404, "not_found", "User not found");
const invalid = (errors: Record<string, string[]>) => new HttpError(422, "validation_failed", "Validation failed", errors);

// ---- validation (zod) -------------------------------------------------------------------------
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const hasControl = (s: string) => /\p{Cc}/u.test(s);
const msg = (text: string) => ({ error: text });

const shortText = z
  .string(msg("must be a string"))
  .refine((s) => [...s].length <= 255, "must be at most 255 characters")
  .refine((s) => !hasControl(s), "must not contain control characters");

const email = z
  .string({ error: (i) => (i.input === null ? "must not be null" : "must be a valid email address") })
  .max(254, "must be a valid email address")
  .refine((s) => s.trim() === s, "must be a valid email address")
  .pipe(z.email(msg("must be a valid email address")));

/**
 * What two addresses are compared by (users-edge's email_key): the domain in IDNA ASCII form, as
 * the URL parser gives it; the local part in NFKC, case-folded (lower ∘ upper ∘ lower folds `ß`
 * to `ss` as full case folding does). The address itself is stored as the client wrote it.
 */
function emailKey(address: string): string {
  const at = address.lastIndexOf("@");
  const local = address.slice(0, at).normalize("NFKC").toLowerCase().toUpperCase().toLowerCase();
  const domain = address.slice(at + 1);
  const ascii = URL.canParse(`http://${domain}/`) ? new URL(`http://${domain}/`).hostname : domain.toLowerCase();
  return `${local}@${ascii}`;
}

const httpUrl = z
  .string(msg("must be an absolute http(s) URL"))
  .max(2048, "must be an absolute http(s) URL")
  .refine((s) => !/[\s\p{Cc}]/u.test(s), "must be an absolute http(s) URL")
  .pipe(z.url({ protocol: /^https?$/, hostname: /./, error: "must be an absolute http(s) URL" }))
  .refine((s) => {
    // zod runs this refinement even when z.url() above has already failed
    const u = URL.canParse(s) ? new URL(s) : null;
    return !u || (!u.username && !u.password);
  }, "must not contain credentials")
  .transform((s) => new URL(s).toString());

const externalId = z
  .number(msg(`must be an integer between 0 and ${MAX_SAFE}`))
  .int(`must be an integer between 0 and ${MAX_SAFE}`)
  .min(0, `must be an integer between 0 and ${MAX_SAFE}`)
  .max(MAX_SAFE, `must be an integer between 0 and ${MAX_SAFE}`);

const date = z.iso.date(msg("must be a valid date in YYYY-MM-DD form"));

const password = z
  .string(msg("must be a string"))
  .refine((s) => [...s].length >= 8, "must be at least 8 characters")
  .refine((s) => [...s].length <= 256, "must be at most 256 characters")
  .refine((s) => s.trim() !== "", "must not be only white space")
  .refine((s) => !hasControl(s), "must not contain control characters");

const admin = z.boolean({ error: (i) => (i.input === null ? "must not be null" : "must be a boolean") });

/** Absent keeps, null clears, a value sets. */
const clearable = <T extends z.ZodType>(t: T) => t.nullable().optional();

const UserPatch = z.strictObject({
  name: clearable(shortText),
  given_name: clearable(shortText),
  family_name: clearable(shortText),
  linkedin_profile_url: clearable(httpUrl),
  role_title: clearable(shortText),
  based_in: clearable(shortText),
  email: email.optional(),
  admin: admin.optional(),
  auth0_uid: clearable(shortText),
  publisher_id: clearable(externalId),
  agency_id: clearable(externalId),
  network_id: clearable(externalId),
  advertiser_id: clearable(externalId),
  payment_date: clearable(date),
  company_type: clearable(shortText),
  publisher_type: clearable(shortText),
  password: password.optional(),
});
const Body = z.strictObject({ user: z.unknown().optional() });
type Patch = z.infer<typeof UserPatch>;

const SELF_SERVICE = new Set(["name", "given_name", "family_name", "linkedin_profile_url", "role_title", "based_in"]);

function fieldErrors(issues: z.core.$ZodIssue[], prefixDepth: number): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (field: string, m: string) => (out[field] ??= []).push(m);
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const k of issue.keys) add(k, "is not a recognised field");
    } else {
      add(String(issue.path[prefixDepth] ?? "body"), issue.message);
    }
  }
  return out;
}

function parsePatch(json: unknown): Patch {
  const body = Body.safeParse(json);
  if (!body.success) {
    if (json === null || typeof json !== "object" || Array.isArray(json)) throw invalid({ body: ["must be an object"] });
    const errors = fieldErrors(body.error.issues, 0);
    // still validate `user` so every bad field is named
    const u = (json as Row).user;
    if (u !== undefined) Object.assign(errors, userErrors(u));
    throw invalid(errors);
  }
  if (body.data.user === undefined) return {};
  const errors = userErrors(body.data.user);
  if (errors) throw invalid(errors);
  return UserPatch.parse(body.data.user);
}

function userErrors(u: unknown): Record<string, string[]> | null {
  if (u === null || typeof u !== "object" || Array.isArray(u)) return { user: ["must be an object"] };
  const r = UserPatch.safeParse(u);
  return r.success ? null : fieldErrors(r.error.issues, 0);
}

// ---- SQL (the same statements users-edge issues) ------------------------------------------------
const USER_COLUMNS = `id, uuid, org_id, username, email, email_verified, phone, phone_verified,
name, given_name, family_name, nick_name, preferred_language, gender, role_title, based_in,
linkedin_profile_url, picture, company, website, country, bio, timezone, admin, auth0_uid,
publisher_id, agency_id, network_id, advertiser_id, payment_date, company_type, publisher_type,
role_alias, from_api, attributes, password_hash IS NOT NULL AS password_set, password_change_required,
deactivated, consented_at, consent_method, version, created_at, updated_at`;
// The key, re-checked in D1 in the same statement as the read or write: not revoked or expired,
// still its user's with the role and scopes the cache says, its user active, not deleted, in the org.
const GUARD = `EXISTS (SELECT 1 FROM api_keys k JOIN users c ON c.id = k.user_id
WHERE k.id = ? AND k.user_id = ? AND k.role = ? AND k.scopes IS ? AND k.revoked_at IS NULL
AND (k.expires_at IS NULL OR k.expires_at > ?) AND c.deactivated = 0 AND c.deleted_at IS NULL AND c.org_id = ?
AND (k.role = 'user' OR c.admin = 1))`;
/** The scopes as D1 stores them: the JSON list, or NULL for every API. */
const scopesOf = (who: Caller) => (who.scopes ? JSON.stringify(who.scopes) : null);
const guardParams = (who: Caller) => [
  who.key_id,
  who.user_id,
  who.role,
  scopesOf(who),
  who.checked_at,
  who.org_id,
];

/** Whether a key's scopes let it call HiEnergy (`read`: GETs only, on every API it names, or all). */
function permits(scopes: string[] | null | undefined, read: boolean): boolean {
  if (!scopes) return true;
  const readOnly = scopes.includes("read");
  if (readOnly && !read) return false;
  const apis = scopes.filter((s) => s !== "read");
  return apis.length === 0 ? readOnly : apis.includes("hienergy");
}

/** A user as a change left it, for the feed (never the password hash: only whether there is one). */
const SNAPSHOT = `json_object('id', id, 'uuid', uuid, 'org_id', org_id,
'org_uuid', (SELECT uuid FROM orgs WHERE orgs.id = users.org_id), 'username', username, 'email', email,
'email_verified', email_verified, 'phone', phone, 'phone_verified', phone_verified, 'name', name,
'given_name', given_name, 'family_name', family_name, 'nick_name', nick_name, 'preferred_language', preferred_language,
'gender', gender, 'role_title', role_title, 'based_in', based_in, 'linkedin_profile_url', linkedin_profile_url,
'picture', picture, 'company', company, 'website', website, 'country', country, 'bio', bio, 'timezone', timezone,
'admin', admin, 'auth0_uid', auth0_uid, 'publisher_id', publisher_id, 'agency_id', agency_id, 'network_id', network_id,
'advertiser_id', advertiser_id, 'payment_date', payment_date, 'company_type', company_type,
'publisher_type', publisher_type, 'role_alias', role_alias, 'from_api', from_api, 'attributes', attributes,
'password_set', password_hash IS NOT NULL, 'password_change_required', password_change_required,
'deactivated', deactivated, 'consented_at', consented_at, 'consent_method', consent_method,
'external_id', external_id, 'scim', scim, 'version', version, 'created_at', created_at, 'updated_at', updated_at)`;

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
const sha256hex = async (s: string) => hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)));
const KEY_RE = /^ue_[A-Za-z0-9_-]{43}$/;

/** Server-Timing, like users-edge: every KV and D1 call made. */
class Timings {
  private items: string[] = [];
  async time<T>(name: string, desc: string, f: () => Promise<T>, note: (r: T) => string = () => ""): Promise<T> {
    const t = Date.now();
    let r: T | undefined;
    try {
      r = await f();
      return r;
    } finally {
      const served = r === undefined ? "" : note(r);
      this.items.push(`${name};desc="${desc}${served}";dur=${(Date.now() - t).toFixed(1)}`);
    }
  }
  header() {
    return this.items.join(", ");
  }
}

type Vars = { timings: Timings; start: string; db: D1DatabaseSession };
type C = Context<{ Bindings: Env; Variables: Vars }>;

// ---- D1 sessions (read replication) ------------------------------------------------------------
/** A bookmark as D1 formats it: groups of lower-case hex digits joined by dashes; far longer is not one. */
const isBookmark = (b: string | null | undefined): b is string =>
  !!b && b.length <= 128 && b.split("-").every((g) => /^[0-9a-f]+$/.test(g));

/** Reads outside the operator API may start anywhere, or at the client's bookmark; all else at the primary. */
function sessionStart(c: C): string {
  const read = c.req.method === "GET" || c.req.method === "HEAD";
  const strict = (c.env.READ_CONSISTENCY ?? "").trim();
  if (!read || (strict !== "" && strict.toLowerCase() !== "nearest")) return "first-primary";
  const bookmark = c.req.header("x-d1-bookmark")?.trim();
  return isBookmark(bookmark) ? bookmark : "first-unconstrained";
}

/** ` (WEUR, replica)`: which D1 served a call, where the runtime says (local D1 never does). */
function servedNote(r: D1Result | D1Result[]): string {
  const meta = (Array.isArray(r) ? r[0] : r)?.meta;
  const region = meta?.served_by_region?.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 32);
  const role = meta?.served_by_primary === undefined ? undefined : meta.served_by_primary ? "primary" : "replica";
  const parts = [region, role].filter(Boolean);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

/**
 * One D1 call in the request's session, timed. D1 may refuse a bookmark it never issued: the read
 * then runs again unconstrained, so a forged bookmark costs a retry, never a 5xx.
 */
async function d1<R extends D1Result | D1Result[]>(c: C, desc: string, run: (db: D1DatabaseSession) => Promise<R>): Promise<R> {
  return c.get("timings").time(
    "d1",
    desc,
    async () => {
      try {
        return await run(c.get("db"));
      } catch (e) {
        if (!isBookmark(c.get("start"))) throw e;
        c.set("start", "first-unconstrained");
        c.set("db", c.env.DB.withSession("first-unconstrained"));
        return await run(c.get("db"));
      }
    },
    servedNote,
  );
}

/** The bookmark to report (the session's latest, else the client's own) and the CORS headers users-edge sends. */
function reportSession(c: C, res: Response) {
  const bookmark = c.get("db")?.getBookmark() ?? c.get("start");
  if (isBookmark(bookmark)) res.headers.set("x-d1-bookmark", bookmark);
  res.headers.set("access-control-allow-origin", "*");
  res.headers.set("access-control-expose-headers", "ETag, Location, Retry-After, Server-Timing, X-D1-Bookmark");
}

async function authenticate(c: C): Promise<Caller> {
  const bearer = c.req.header("authorization")?.match(/^bearer\s+(.+)$/i)?.[1]?.trim();
  const key = c.req.header("x-api-key")?.trim() || bearer;
  if (!key || !KEY_RE.test(key)) throw unauthorized();
  const digest = await sha256hex(key);
  const t = c.get("timings");
  const now = new Date().toISOString();
  let who = (await t.time("kv", "get", () => c.env.API_KEYS.get(`key:${digest}`, { type: "json", cacheTtl: 60 }))) as Principal | null;
  if (!who) {
    const found = await d1(c, "query", (db) =>
      db.prepare(
        `SELECT k.id AS key_id, k.user_id AS user_id, u.uuid AS user_uuid, k.org_id AS org_id, k.role AS role,
         k.scopes AS scopes, k.expires_at AS expires_at
         FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.digest = ? AND k.revoked_at IS NULL
         AND (k.expires_at IS NULL OR k.expires_at > ?) AND u.deactivated = 0 AND u.deleted_at IS NULL`,
      )
        .bind(digest, now)
        .all<Omit<Principal, "scopes"> & { scopes: string | null }>(),
    );
    const row = found.results[0];
    if (!row) throw unauthorized();
    who = { ...row, scopes: row.scopes ? (JSON.parse(row.scopes) as string[]) : null };
    const entry = JSON.stringify(who);
    await t.time("kv", "put", () => c.env.API_KEYS.put(`key:${digest}`, entry));
  }
  if (who.expires_at && who.expires_at <= now) throw unauthorized();
  if (!permits(who.scopes, c.req.method === "GET" || c.req.method === "HEAD")) {
    throw new HttpError(403, "forbidden", "This API key's scopes do not allow this request");
  }
  return { ...who, checked_at: now };
}

/** Why a guarded statement matched nothing: key first, then target, then version. */
async function diagnose(c: C, who: Caller, id: number): Promise<"revoked" | "demoted" | "absent" | "present"> {
  const found = await d1(c, "query", (db) =>
    db.prepare(
      `SELECT (SELECT CASE WHEN k.user_id = ? AND k.role = ? AND c.org_id = ? AND k.role = 'admin' AND c.admin = 0
       AND c.deactivated = 0 AND c.deleted_at IS NULL THEN 'demoted'
       WHEN k.revoked_at IS NOT NULL OR c.deactivated <> 0 OR c.deleted_at IS NOT NULL OR k.user_id <> ? OR k.role <> ?
       OR k.scopes IS NOT ? OR (k.expires_at IS NOT NULL AND k.expires_at <= ?) THEN 'revoked' ELSE 'ok' END
       FROM api_keys k JOIN users c ON c.id = k.user_id WHERE k.id = ? AND c.org_id = ?) AS key_state,
       (SELECT version FROM users WHERE id = ? AND org_id = ? AND deleted_at IS NULL) AS version`,
    )
      .bind(who.user_id, who.role, who.org_id, who.user_id, who.role, scopesOf(who), who.checked_at, who.key_id, who.org_id, id, who.org_id)
      .all<{ key_state: string | null; version: number | null }>(),
  );
  const row = found.results[0];
  if (row?.key_state === "demoted") return "demoted";
  if (row?.key_state !== "ok") return "revoked";
  return row.version == null ? "absent" : "present";
}

function failureFor(state: Awaited<ReturnType<typeof diagnose>>, present: HttpError): HttpError {
  switch (state) {
    case "revoked":
      return unauthorized();
    case "demoted":
      return new HttpError(403, "forbidden", "This API key's admin role is no longer held");
    case "absent":
      return notFound();
    default:
      return present;
  }
}

async function authorize(c: C, who: Caller, id: number, touched: string[]) {
  if (who.role === "user" && id !== who.user_id) {
    throw failureFor(await diagnose(c, who, id), new HttpError(403, "forbidden", "You may only update your own user"));
  }
  if (who.role === "user") {
    const denied = touched.filter((f) => !SELF_SERVICE.has(f));
    if (denied.length) {
      const errors = Object.fromEntries(denied.map((f) => [f, ["can only be changed by an admin"]]));
      throw new HttpError(403, "forbidden", `Only admins may change: ${denied.join(", ")}`, errors);
    }
  }
}

async function readGuarded(c: C, who: Caller, id: number): Promise<Row> {
  const found = await d1(c, "query", (db) =>
    db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE id = ? AND deleted_at IS NULL AND org_id = ? AND ${GUARD}`)
      .bind(id, who.org_id, ...guardParams(who))
      .all(),
  );
  const row = found.results[0];
  if (!row) throw failureFor(await diagnose(c, who, id), new HttpError(412, "precondition_failed", "The user has changed since the version in If-Match"));
  return row;
}

function parseIfMatch(h: string | undefined): number[] | "any" | null {
  const v = h?.trim();
  if (!v) return null;
  if (v === "*") return "any";
  return v
    .split(",")
    .slice(0, 16)
    .map((t) => {
      const m = t.trim().replace(/^W\//, "").match(/^"(\d+)"$/);
      return m ? Number(m[1]) : -1;
    });
}

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/=+$/, "");

/** PBKDF2-HMAC-SHA256 PHC string with WebCrypto (capped at 100,000 iterations in production). */
async function hashPassword(pw: string, iterations: number): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(pw), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256);
  return `$pbkdf2-sha256$i=${iterations},l=32$${b64(salt)}$${b64(new Uint8Array(bits))}`;
}

function render(row: Row) {
  const flag = (v: unknown) => v === 1 || v === true;
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    given_name: row.given_name,
    family_name: row.family_name,
    linkedin_profile_url: row.linkedin_profile_url,
    role_title: row.role_title,
    based_in: row.based_in,
    admin: flag(row.admin),
    auth0_uid: row.auth0_uid,
    publisher_id: row.publisher_id,
    agency_id: row.agency_id,
    network_id: row.network_id,
    advertiser_id: row.advertiser_id,
    payment_date: row.payment_date,
    company_type: row.company_type,
    publisher_type: row.publisher_type,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

async function readJson(c: C): Promise<unknown> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > 64 * 1024) throw new HttpError(413, "payload_too_large", "The request body is larger than 64 KiB");
  const text = await c.req.text();
  if (text.length > 64 * 1024) throw new HttpError(413, "payload_too_large", "The request body is larger than 64 KiB");
  if (text.trim() === "") return {};
  const mime = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (!(mime === "application/json" || (mime.startsWith("application/") && mime.endsWith("+json")))) {
    throw new HttpError(415, "unsupported_media_type", "The request body must be application/json");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, "bad_request", `body is not valid JSON: ${(e as Error).message}`);
  }
}

function targetId(c: C): number {
  const s = c.req.param("id") ?? "";
  const id = /^\d{1,16}$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(id) || id <= 0) throw notFound();
  return id;
}

// ---- routes ------------------------------------------------------------------------------------
const app = new Hono<{ Bindings: Env; Variables: Vars }>();

app.use("*", async (c, next) => {
  c.set("timings", new Timings());
  const start = sessionStart(c);
  c.set("start", start);
  c.set("db", c.env.DB.withSession(start));
  await next();
  reportSession(c, c.res);
  c.header("server-timing", c.get("timings").header());
  c.header("x-content-type-options", "nosniff");
  c.header("cache-control", "no-store");
});

app.get("/api/v1/users/:id", async (c) => {
  const who = await authenticate(c);
  const id = targetId(c);
  await authorize(c, who, id, []);
  const row = await readGuarded(c, who, id);
  return c.json({ data: render(row) }, 200, { etag: `"${row.version}"` });
});

app.patch("/api/v1/users/:id", async (c) => {
  const who = await authenticate(c);
  const id = targetId(c);
  const patch = parsePatch(await readJson(c));
  const ifMatch = parseIfMatch(c.req.header("if-match"));
  const touched = Object.keys(patch);
  await authorize(c, who, id, touched);

  if (touched.length === 0) {
    const row = await readGuarded(c, who, id);
    if (Array.isArray(ifMatch) && !ifMatch.includes(row.version as number)) {
      throw new HttpError(412, "precondition_failed", "The user has changed since the version in If-Match");
    }
    return c.json({ data: render(row) }, 200, { etag: `"${row.version}"` });
  }

  const sets: string[] = [];
  const params: unknown[] = [];
  for (const [field, value] of Object.entries(patch)) {
    if (field === "password") continue;
    sets.push(`${field} = ?`);
    params.push(typeof value === "boolean" ? Number(value) : value);
  }
  // A new address: compared on its key, unverified unless it stays the same, no expiring claim.
  const newKey = patch.email === undefined ? null : emailKey(patch.email);
  if (newKey !== null) {
    sets.push("email_key = ?", "email_claim_until = NULL", "email_verified = CASE WHEN email = ? THEN email_verified ELSE 0 END");
    params.push(newKey, patch.email);
  }
  if (patch.password !== undefined) {
    const iterations = Number(c.env.PBKDF2_ITERATIONS ?? "100000");
    sets.push("password_hash = ?");
    params.push(await hashPassword(patch.password, iterations));
  }
  // What the changed fields held before (the feed's `previous_attributes`), from the row as it was.
  const before = Object.keys(patch).filter((field) => field !== "password");
  sets.push(`last_previous = json_object(${before.map((field) => `'${field}', ${field}`).join(", ")})`);
  const now = new Date().toISOString();
  const tag = hex(crypto.getRandomValues(new Uint8Array(16)).buffer);
  const versionSql = Array.isArray(ifMatch) ? ` AND version IN (${ifMatch.map(() => "?").join(", ")})` : "";
  const db = c.get("db");
  const update = db.prepare(
    `UPDATE users SET ${sets.join(", ")}, version = version + 1, updated_at = ?, last_write = ?
     WHERE id = ? AND deleted_at IS NULL AND org_id = ?${versionSql} AND ${GUARD} RETURNING ${USER_COLUMNS}`,
  ).bind(...params, now, tag, id, who.org_id, ...(Array.isArray(ifMatch) ? ifMatch : []), ...guardParams(who));
  // The audit event is also the change feed's outbox row: its type, id, per-org seq and the user as
  // the change left it, written only if the update was.
  const event = db.prepare(
    `INSERT INTO user_events (user_id, org_id, actor_key_id, actor_user_id, action, type, dialect, fields, detail, event_id, at, version, seq, data, previous)
     SELECT id, org_id, ?, ?, 'update', 'user.updated', 'hienergy', ?, NULL, ?, ?, version,
     (SELECT COALESCE(MAX(e.seq), 0) + 1 FROM user_events e WHERE e.org_id = users.org_id), ${SNAPSHOT}, last_previous
     FROM users WHERE id = ? AND last_write = ?`,
  ).bind(who.key_id, who.user_id, JSON.stringify(touched), crypto.randomUUID(), now, id, tag);

  // Another user's expired, unverified claim on the address gives way first, in the target's org.
  const release = newKey === null ? [] : [
    db.prepare(
      `UPDATE users SET email_key = NULL WHERE email_key = ? AND email_verified = 0 AND email_claim_until IS NOT NULL
       AND email_claim_until <= ? AND deleted_at IS NULL AND org_id = (SELECT org_id FROM users WHERE id = ? AND deleted_at IS NULL
       AND org_id = ? AND ${GUARD})`,
    ).bind(newKey, now, id, who.org_id, ...guardParams(who)),
  ];

  let results: D1Result[];
  try {
    results = await d1(c, "batch", (session) => session.batch([...release, update, event]));
  } catch (e) {
    const m = String((e as Error).message) + " " + String(((e as Error).cause as Error | undefined)?.message ?? "");
    if (m.includes("UNIQUE constraint failed") && m.includes("users.email")) throw invalid({ email: ["has already been taken"] });
    throw e;
  }
  const row = results[release.length]?.results[0];
  if (!row) {
    throw failureFor(await diagnose(c, who, id), new HttpError(412, "precondition_failed", "The user has changed since the version in If-Match"));
  }
  return c.json({ data: render(row) }, 200, { etag: `"${row.version}"` });
});

app.all("/api/v1/users/:id", () => {
  throw new HttpError(405, "method_not_allowed", "Use GET or PATCH", undefined, { allow: "GET, PATCH" });
});

app.onError((err, c) => {
  const e = err instanceof HttpError ? err : new HttpError(500, "internal_error", "Something went wrong on our side");
  const body: Record<string, unknown> = { error: e.code, message: e.message };
  if (e.errors) body.errors = e.errors;
  const res = c.json(body, e.status as 400, e.headers);
  res.headers.set("server-timing", c.get("timings")?.header() ?? "");
  if (c.get("db")) reportSession(c, res);
  return res;
});

export default app;
