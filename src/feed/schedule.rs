//! When to try a webhook delivery again, and what a response means.
//!
//! The schedule is Svix's (and the Standard Webhooks spec's example) cut after eight attempts:
//! immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — about 27.5 hours in all. Every
//! delay fits a Cloudflare Queues retry (`delaySeconds` is at most 12 hours).

/// `DELAYS_SECS[n]`: the wait before attempt `n + 1`, once attempt `n` (1-based) has failed.
const DELAYS_SECS: [u32; 8] = [0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600];

/// How many times a delivery is tried before it is marked failed.
pub const MAX_ATTEMPTS: u32 = DELAYS_SECS.len() as u32;

/// Seconds to wait after attempt number `attempt` (1-based) failed before the next one; `None`
/// once the last attempt has failed (the delivery is then failed, and visible as such).
/// `attempt = 0` (nothing tried yet) gives `Some(0)`: the first attempt goes at once.
pub fn next_attempt_after(attempt: u32) -> Option<u32> {
    DELAYS_SECS.get(attempt as usize).copied()
}

/// What one delivery attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A 2xx: done, never sent again.
    Delivered,
    /// Any other status (3xx included: redirects are not followed, so a moved endpoint must be
    /// updated rather than chased), or no response at all (timeout, DNS, TLS, connection reset):
    /// try again on the schedule.
    Retry,
    /// 410 Gone: the receiver says it wants no more. As Svix does and the Standard Webhooks spec
    /// recommends ("Delivery success and failure"), stop retrying this delivery (it is failed
    /// with that reason) and disable the endpoint so nothing more is sent to it.
    Gone,
}

/// Classify an attempt: `Some(status)` for a response, `None` for a timeout or network error.
pub fn classify(status: Option<u16>) -> Verdict {
    match status {
        Some(200..=299) => Verdict::Delivered,
        Some(410) => Verdict::Gone,
        _ => Verdict::Retry,
    }
}

/// The next step after attempt number `attempt` (1-based) ended with `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Delivered,
    /// Try again in this many seconds.
    RetryIn(u32),
    /// Out of attempts: the delivery is failed.
    Failed,
    /// 410: the delivery is failed and the endpoint should be disabled.
    Disable,
}

pub fn after_attempt(attempt: u32, status: Option<u16>) -> Next {
    match classify(status) {
        Verdict::Delivered => Next::Delivered,
        Verdict::Gone => Next::Disable,
        Verdict::Retry => next_attempt_after(attempt).map_or(Next::Failed, Next::RetryIn),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule() {
        let delays: Vec<_> = (0..=MAX_ATTEMPTS).map(next_attempt_after).collect();
        assert_eq!(delays, [Some(0), Some(5), Some(300), Some(1800), Some(7200), Some(18000), Some(36000), Some(36000), None]);
        assert_eq!(MAX_ATTEMPTS, 8);
        assert_eq!(next_attempt_after(u32::MAX), None);
        // Total span from the first attempt to the last: 27 h 35 min 5 s.
        let total: u32 = (1..MAX_ATTEMPTS).filter_map(next_attempt_after).sum();
        assert_eq!(total, 27 * 3600 + 35 * 60 + 5);
        // Cloudflare Queues caps a retry delay at 12 hours.
        assert!((0..MAX_ATTEMPTS).filter_map(next_attempt_after).all(|d| d <= 12 * 3600));
    }

    #[test]
    fn outcomes() {
        for s in [200, 201, 202, 204, 299] {
            assert_eq!(classify(Some(s)), Verdict::Delivered, "{s}");
        }
        for s in [100, 199, 300, 301, 302, 304, 307, 308, 400, 401, 403, 404, 408, 409, 429, 500, 502, 503, 504, 599] {
            assert_eq!(classify(Some(s)), Verdict::Retry, "{s}");
        }
        assert_eq!(classify(None), Verdict::Retry, "timeout or network error");
        assert_eq!(classify(Some(410)), Verdict::Gone);
    }

    #[test]
    fn next_steps() {
        assert_eq!(after_attempt(1, Some(200)), Next::Delivered);
        assert_eq!(after_attempt(1, Some(503)), Next::RetryIn(5));
        assert_eq!(after_attempt(2, None), Next::RetryIn(300));
        assert_eq!(after_attempt(7, Some(500)), Next::RetryIn(36000));
        assert_eq!(after_attempt(8, Some(500)), Next::Failed);
        assert_eq!(after_attempt(8, Some(204)), Next::Delivered, "the last attempt can still succeed");
        assert_eq!(after_attempt(3, Some(410)), Next::Disable);
    }
}
