// The floor: the irreducible I/O of an update in this design on this runtime, and nothing else.
// One KV get of the key digest, one D1 `UPDATE … RETURNING`, the row back as JSON. No validation,
// no policy, no audit event, no error handling beyond "no key". (GET: the KV get and one SELECT.)
//
// FLOOR_SQL=full is a diagnostic variant (bench "floor+sql"): the same JS, but the exact D1 work
// users-edge does — the guarded UPDATE returning every user column, plus the audit-event INSERT,
// in one batch — so the gap to users-edge splits into "SQL the design asks for" and "the rest".
// With FLOOR_REPLAY (JSON {PATCH, GET}: the D1 call users-edge handed its host for that request,
// recorded by the bench) it replays those very statements, parameters and session, so it tracks
// whatever SQL users-edge issues today; the built-in statements below are the fallback. The bench's
// "floor+peer-sql" replays the peer's D1 call the same way, recorded from the peer itself.
// FLOOR_SQL=noop (bench "noop") answers at once: the runtime's own cost of a request.
const COLUMNS = "id, email, name, given_name, family_name, linkedin_profile_url, role_title, based_in, admin, auth0_uid, " +
  "publisher_id, agency_id, network_id, advertiser_id, payment_date, company_type, publisher_type, version, created_at, updated_at";
const ALL_COLUMNS = "id, uuid, org_id, username, email, email_verified, phone, phone_verified, name, given_name, family_name, " +
  "nick_name, preferred_language, gender, role_title, based_in, linkedin_profile_url, picture, company, website, country, bio, " +
  "timezone, admin, auth0_uid, publisher_id, agency_id, network_id, advertiser_id, payment_date, company_type, publisher_type, " +
  "role_alias, from_api, attributes, password_hash IS NOT NULL AS password_set, password_change_required, deactivated, " +
  "consented_at, consent_method, version, created_at, updated_at";
const GUARD = "EXISTS (SELECT 1 FROM api_keys k JOIN users c ON c.id = k.user_id WHERE k.id = ? AND k.revoked_at IS NULL " +
  "AND c.deactivated = 0 AND c.org_id = ? AND (k.role = 'user' OR c.admin = 1))";
const WRITABLE = new Set(["name", "given_name", "family_name", "linkedin_profile_url", "role_title", "based_in"]);
const enc = new TextEncoder();

/**
 * users-edge's recorded D1 call for this method, run as recorded but for the values made up per
 * request (`fresh`: its write tag and event id, and the tag in the PATCH body's value, so that
 * every replayed write is a change), which are made up anew here too, wherever they appear in a
 * parameter; the first statement's rows.
 */
async function replay(call, db) {
  const made = new Map();
  const anew = (v) => {
    if (!made.has(v)) made.set(v, v.includes("-") ? crypto.randomUUID() : crypto.randomUUID().replaceAll("-", ""));
    return made.get(v);
  };
  const fresh = (p) => (typeof p === "string" ? (call.fresh ?? []).reduce((text, v) => text.replaceAll(v, anew(v)), p) : p);
  // users-edge and the peer open a D1 session per request, where the recording says.
  const session = call.session ? db.withSession(call.session) : db;
  if (call.op === "d1.first") return await session.prepare(call.sql).bind(...call.params.map(fresh)).first();
  if (call.op === "d1.all") return (await session.prepare(call.sql).bind(...call.params.map(fresh)).all()).results[0];
  const results = await session.batch(call.statements.map((s) => session.prepare(s.sql).bind(...s.params.map(fresh))));
  return results[0].results[0];
}

let recorded;

export default {
  async fetch(req, env) {
    if (env.FLOOR_SQL === "noop") {
      if (req.body) await req.arrayBuffer(); // an unread body would cost the connection
      return new Response("{}", { headers: { "content-type": "application/json" } });
    }
    const key = req.headers.get("x-api-key") ?? "";
    const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(key)))]
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    const who = await env.API_KEYS.get("key:" + digest, { type: "json", cacheTtl: 60 });
    if (!who) return new Response(null, { status: 401 });
    const id = Number(new URL(req.url).pathname.split("/")[4]);
    const full = env.FLOOR_SQL === "full";
    recorded ??= env.FLOOR_REPLAY ? JSON.parse(env.FLOOR_REPLAY) : null;
    let row;
    if (full && recorded?.[req.method]) {
      if (req.method === "PATCH") await req.json(); // read the body, as every other target does
      row = await replay(recorded[req.method], env.DB);
    } else if (req.method === "PATCH") {
      const { user } = await req.json();
      const cols = Object.keys(user).filter((k) => WRITABLE.has(k));
      const sets = cols.map((c) => `${c} = ?, `).join("");
      const values = cols.map((c) => user[c]);
      const now = new Date().toISOString();
      if (full) {
        const tag = crypto.randomUUID();
        const [upd] = await env.DB.batch([
          env.DB.prepare(`UPDATE users SET ${sets}version = version + 1, updated_at = ?, last_write = ? WHERE id = ? AND org_id = ? AND ${GUARD} RETURNING ${ALL_COLUMNS}`)
            .bind(...values, now, tag, id, who.org_id, who.key_id, who.org_id),
          env.DB.prepare("INSERT INTO user_events (user_id, org_id, actor_key_id, action, dialect, fields, version, at) " +
            "SELECT id, org_id, ?, 'update', 'hienergy', ?, version, ? FROM users WHERE id = ? AND last_write = ?")
            .bind(who.key_id, JSON.stringify(cols), now, id, tag),
        ]);
        row = upd.results[0];
      } else {
        row = await env.DB.prepare(`UPDATE users SET ${sets}version = version + 1, updated_at = ? WHERE id = ? AND org_id = ? RETURNING ${COLUMNS}`)
          .bind(...values, now, id, who.org_id).first();
      }
    } else {
      row = full
        ? await env.DB.prepare(`SELECT ${ALL_COLUMNS} FROM users WHERE id = ? AND org_id = ? AND ${GUARD}`).bind(id, who.org_id, who.key_id, who.org_id).first()
        : await env.DB.prepare(`SELECT ${COLUMNS} FROM users WHERE id = ? AND org_id = ?`).bind(id, who.org_id).first();
    }
    if (!row) return new Response(null, { status: 404 });
    return Response.json({ data: row }, { headers: { etag: `"${row.version}"` } });
  },
};
