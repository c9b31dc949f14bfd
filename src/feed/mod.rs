//! The change feed's pure core: event types and bodies, endpoint URLs, signatures, retry schedule.
//!
//! The design is an outbox. Every committed change writes its event row in the same D1 batch as
//! the change itself, so an event exists exactly when its change does; each org's events carry a
//! strictly increasing `seq`, which is also the pull feed's cursor. After the commit the request
//! hands the event to a Cloudflare Queue inside `waitUntil`; a Cron Trigger sweeps events that were
//! never handed over (the request died, the send failed) and enqueues them again. The Queue
//! consumer delivers to every subscribed endpoint with Standard Webhooks headers and retries on
//! the schedule in [`schedule`]. Delivery is at least once: receivers dedupe on `webhook-id`,
//! which is the event id and stays the same across retries and re-enqueues. The code of a code
//! event (email, phone, password reset) appears only in signed webhook deliveries, never in the
//! pull feed, the audit trail or logs.

pub mod endpoint;
pub mod event;
pub mod retention;
pub mod schedule;
pub mod signature;
