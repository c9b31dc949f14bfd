//! The change feed's tables: webhook endpoints and their deliveries. The events themselves are
//! the outbox rows of `user_events` (see `events`).

use super::guard::caller_scope;
use super::{SqlValue, Stmt};
use crate::model::Principal;

/// What a webhook listing returns: never the secret.
const WEBHOOK_COLUMNS: &str = "id, uuid, org_id, url, event_types, after_seq, created_at, created_by";

/// A new endpoint for an org; it receives the events committed after it (the org's current seq).
/// Lands only within the caller's reach (see `caller_scope`).
pub fn insert_webhook(who: &Principal, new: &NewWebhook, now: &str) -> Stmt {
    let mut params = vec![
        new.uuid.into(),
        new.url.into(),
        new.event_types.into(),
        new.secret.into(),
        now.into(),
        new.by.into(),
        new.org_id.into(),
    ];
    let scope = caller_scope(who, "orgs.id", &mut params);
    params.push(MAX_WEBHOOKS_PER_ORG.into());
    Stmt::new(
        format!(
            "INSERT INTO webhooks (uuid, org_id, url, event_types, secret, after_seq, created_at, created_by) \
             SELECT ?, id, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) FROM user_events WHERE org_id = orgs.id), ?, ? \
             FROM orgs WHERE id = ?{scope} AND ({LIVE_WEBHOOKS}) < ? RETURNING {WEBHOOK_COLUMNS}"
        ),
        params,
    )
}

/// The most webhooks an org may have at once (Stripe's own limit per account). Every event is
/// delivered to each of them, so without a bound one key could multiply every message sent.
pub const MAX_WEBHOOKS_PER_ORG: i64 = 16;

/// How many webhooks `orgs.id` has, not deleted.
const LIVE_WEBHOOKS: &str = "SELECT COUNT(*) FROM webhooks w WHERE w.org_id = orgs.id AND w.deleted_at IS NULL";

/// How many webhooks the org has, not deleted (`n`).
pub fn webhook_count(org_id: i64) -> Stmt {
    Stmt::new(format!("SELECT ({LIVE_WEBHOOKS}) AS n FROM orgs WHERE orgs.id = ?"), vec![org_id.into()])
}

/// A webhook to be written: who asked (`by`: a key id or `operator`), and where it posts.
pub struct NewWebhook<'a> {
    pub uuid: &'a str,
    pub org_id: i64,
    pub url: &'a str,
    pub event_types: Option<&'a str>,
    pub secret: &'a str,
    pub by: &'a str,
}

pub fn list_webhooks(org_id: i64) -> Stmt {
    Stmt::new(
        format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE org_id = ? AND deleted_at IS NULL ORDER BY id"),
        vec![org_id.into()],
    )
}

/// One live webhook within reach (`org`: the caller's, or any for the operator).
pub fn webhook(id: i64, org: Option<i64>) -> Stmt {
    let (scope, mut params) = org_scope(org);
    params.insert(0, id.into());
    Stmt::new(format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ? AND deleted_at IS NULL{scope}"), params)
}

fn org_scope(org: Option<i64>) -> (&'static str, Vec<SqlValue>) {
    match org {
        Some(o) => (" AND org_id = ?", vec![o.into()]),
        None => ("", vec![]),
    }
}

/// Unsubscribe: nothing more is delivered to it (pending deliveries fail with a note). Lands
/// only within the caller's reach.
pub fn delete_webhook(who: &Principal, id: i64, now: &str) -> Vec<Stmt> {
    let mut params = vec![now.into(), id.into()];
    let scope = caller_scope(who, "org_id", &mut params);
    vec![
        Stmt::new(format!("UPDATE webhooks SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL{scope} RETURNING id"), params),
        Stmt::new(
            "UPDATE deliveries SET status = 'failed', last_error = 'endpoint deleted', next_attempt_at = NULL \
             WHERE webhook_id = ? AND status = 'pending' AND EXISTS (SELECT 1 FROM webhooks WHERE id = ? AND deleted_at IS NOT NULL)",
            vec![id.into(), id.into()],
        ),
    ]
}

/// Deliveries of one webhook, newest first.
pub fn deliveries(webhook_id: i64, limit: u32) -> Stmt {
    Stmt::new(
        "SELECT d.id, e.event_id, e.seq, e.type, d.status, d.attempts, d.next_attempt_at, d.last_status, d.last_error, \
         d.created_at, d.delivered_at FROM deliveries d JOIN user_events e ON e.id = d.event_row \
         WHERE d.webhook_id = ? ORDER BY d.id DESC LIMIT ?",
        vec![webhook_id.into(), i64::from(limit).into()],
    )
}

/// Fan out: a pending delivery for every (event not yet handed over, live subscribed webhook)
/// pair of an org (or of every org), then mark those events handed over. Idempotent.
pub fn fan_out(org: Option<i64>, now: &str) -> Vec<Stmt> {
    let (scope, scope_params) = match org {
        Some(o) => (" AND e.org_id = ?", vec![SqlValue::from(o)]),
        None => ("", vec![]),
    };
    let mut params = vec![now.into(), now.into()];
    params.extend(scope_params.clone());
    let mut mark = vec![now.into()];
    mark.extend(scope_params);
    vec![
        Stmt::new(
            format!(
                "INSERT OR IGNORE INTO deliveries (webhook_id, event_row, status, next_attempt_at, created_at) \
                 SELECT w.id, e.id, 'pending', ?, ? FROM user_events e JOIN webhooks w ON w.org_id = e.org_id \
                 WHERE e.enqueued_at IS NULL AND e.type IS NOT NULL AND w.deleted_at IS NULL AND e.seq > w.after_seq \
                 AND (w.event_types IS NULL OR EXISTS (SELECT 1 FROM json_each(w.event_types) t WHERE t.value = e.type)){scope}"
            ),
            params,
        ),
        Stmt::new(
            format!("UPDATE user_events SET enqueued_at = ? WHERE enqueued_at IS NULL{}", scope.replace("e.org_id", "org_id")),
            mark,
        ),
    ]
}

/// Claim up to `limit` due deliveries for one attempt each: their next attempt moves to
/// `lease_until`, so a second worker running the same sweep skips them. Returns what the attempt
/// needs: the event row, the endpoint and its secret.
pub fn claim_due(org: Option<i64>, now: &str, lease_until: &str, limit: u32) -> Stmt {
    let (scope, scope_params) = match org {
        Some(o) => (" AND webhook_id IN (SELECT id FROM webhooks WHERE org_id = ?)", vec![SqlValue::from(o)]),
        None => ("", vec![]),
    };
    let mut params = vec![lease_until.into(), now.into()];
    params.extend(scope_params);
    params.push(i64::from(limit).into());
    Stmt::new(
        format!(
            "UPDATE deliveries SET next_attempt_at = ?, attempts = attempts + 1 WHERE id IN \
             (SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?{scope} ORDER BY next_attempt_at LIMIT ?) \
             RETURNING id, attempts, webhook_id, event_row, \
             (SELECT url FROM webhooks WHERE webhooks.id = deliveries.webhook_id) AS url, \
             (SELECT secret FROM webhooks WHERE webhooks.id = deliveries.webhook_id) AS secret, \
             (SELECT deleted_at FROM webhooks WHERE webhooks.id = deliveries.webhook_id) AS webhook_deleted_at"
        ),
        params,
    )
}

/// The event rows behind claimed deliveries.
pub fn event_rows(ids: &[i64]) -> Stmt {
    let marks = super::placeholders(ids.len().max(1));
    let params = if ids.is_empty() { vec![SqlValue::Int(-1)] } else { ids.iter().map(|i| SqlValue::Int(*i)).collect() };
    Stmt::new(format!("SELECT {} FROM user_events WHERE id IN ({marks})", super::events::FEED_COLUMNS), params)
}

/// How an attempt ended.
pub enum Outcome<'a> {
    Delivered {
        status: u16,
    },
    /// Try again at `at`.
    Retry {
        at: &'a str,
        status: Option<u16>,
        error: &'a str,
    },
    Failed {
        status: Option<u16>,
        error: &'a str,
    },
}

pub fn record(delivery_id: i64, outcome: &Outcome, now: &str) -> Stmt {
    match outcome {
        Outcome::Delivered { status } => Stmt::new(
            "UPDATE deliveries SET status = 'delivered', last_status = ?, last_error = NULL, delivered_at = ?, \
             next_attempt_at = NULL WHERE id = ?",
            vec![i64::from(*status).into(), now.into(), delivery_id.into()],
        ),
        Outcome::Retry { at, status, error } => Stmt::new(
            "UPDATE deliveries SET next_attempt_at = ?, last_status = ?, last_error = ? WHERE id = ? AND status = 'pending'",
            vec![(*at).into(), status.map(i64::from).into(), (*error).into(), delivery_id.into()],
        ),
        Outcome::Failed { status, error } => Stmt::new(
            "UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, last_status = ?, last_error = ? WHERE id = ?",
            vec![status.map(i64::from).into(), (*error).into(), delivery_id.into()],
        ),
    }
}

/// The most events one replay covers: the next ones of the org's feed from `from_seq` on. A
/// replay from the start of a large org's feed would write a delivery per event in one statement,
/// past what one D1 call should hold; the client goes on from where the answer says it stopped.
pub const REPLAY_MAX_EVENTS: i64 = 10_000;

/// Replay: deliver again the events of the webhook's org from `from_seq` on (at most
/// `REPLAY_MAX_EVENTS` of its feed), new attempts with the same event ids, so receivers dedupe.
/// The webhook first with the last `seq` the replay covers and whether events follow it (none
/// within the caller's reach: nothing was replayed), then its deliveries in that range set pending
/// again and the missing ones added; each statement lands only within the caller's reach.
pub fn replay(who: &Principal, webhook_id: i64, from_seq: i64, now: &str) -> Vec<Stmt> {
    // The last seq covered: uncorrelated, so SQLite reads it once per statement.
    let through = |params: &mut Vec<SqlValue>| {
        params.extend([webhook_id.into(), from_seq.into(), REPLAY_MAX_EVENTS.into()]);
        "(SELECT MAX(seq) FROM (SELECT seq FROM user_events WHERE org_id = (SELECT org_id FROM webhooks WHERE id = ?) \
         AND seq >= ? AND type IS NOT NULL ORDER BY seq LIMIT ?))"
    };
    let matching = |params: &mut Vec<SqlValue>| {
        params.push(webhook_id.into());
        let scope = caller_scope(who, "w.org_id", params);
        params.push(from_seq.into());
        let through_sql = through(params);
        format!(
            "FROM user_events e JOIN webhooks w ON w.org_id = e.org_id WHERE w.id = ? AND w.deleted_at IS NULL{scope} \
             AND e.seq >= ? AND e.seq <= {through_sql} AND e.type IS NOT NULL \
             AND (w.event_types IS NULL OR EXISTS (SELECT 1 FROM json_each(w.event_types) t WHERE t.value = e.type))"
        )
    };
    let mut reset = vec![now.into(), webhook_id.into()];
    let reset_from = matching(&mut reset);
    let mut added = vec![now.into(), now.into()];
    let added_from = matching(&mut added);
    let mut found = Vec::new();
    let (through_sql, after_sql) = (through(&mut found), through(&mut found));
    found.push(webhook_id.into());
    let scope = caller_scope(who, "org_id", &mut found);
    vec![
        Stmt::new(
            format!(
                "SELECT id, {through_sql} AS through_seq, EXISTS (SELECT 1 FROM user_events x WHERE x.org_id = webhooks.org_id \
                 AND x.type IS NOT NULL AND x.seq > {after_sql}) AS more FROM webhooks WHERE id = ? AND deleted_at IS NULL{scope}"
            ),
            found,
        ),
        Stmt::new(
            format!(
                "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, last_error = NULL \
                 WHERE webhook_id = ? AND event_row IN (SELECT e.id {reset_from})"
            ),
            reset,
        ),
        Stmt::new(
            format!(
                "INSERT OR IGNORE INTO deliveries (webhook_id, event_row, status, next_attempt_at, created_at) \
                 SELECT w.id, e.id, 'pending', ?, ? {added_from}"
            ),
            added,
        ),
    ]
}

/// Delete the finished deliveries after `after` through `through`, all made before the feed's
/// retention (`retention::prune`); one pending again is kept.
pub fn delete_finished(after: i64, through: i64) -> Stmt {
    Stmt::new("DELETE FROM deliveries WHERE id > ? AND id <= ? AND status <> 'pending'", vec![after.into(), through.into()])
}
