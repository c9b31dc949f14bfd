//! How long an event keeps what it carried of a user. Stripe keeps events 30 days; so does the
//! feed by default. After that the retention sweep (the Cron Trigger) erases an event's user
//! snapshots and a code event's recipient, and keeps its audit fields (who, when, which fields,
//! through which API) for good; a webhook's finished deliveries go as well. The feed's storage
//! then grows by audit rows only, and a deleted user's personal data leaves the feed within the
//! retention as well as the user row at once.

/// `FEED_RETENTION_DAYS` unset or unreadable.
pub const DEFAULT_DAYS: u32 = 30;
/// At least a week: a delivery is retried for up to about a day and a half (`schedule`), and
/// nothing may erase what a retry is about to send.
pub const MIN_DAYS: u32 = 7;
/// At most ten years (any longer is kept as ten years).
pub const MAX_DAYS: u32 = 3650;

const DAY_MS: i64 = 86_400_000;

/// The retention in days, from the `FEED_RETENTION_DAYS` variable: a whole number of days,
/// raised to [`MIN_DAYS`] and capped at [`MAX_DAYS`]; [`DEFAULT_DAYS`] if unset or not a number.
pub fn days_from_config(raw: Option<&str>) -> u32 {
    match raw.map(str::trim).and_then(|s| s.parse::<u64>().ok()) {
        Some(n) => n.clamp(u64::from(MIN_DAYS), u64::from(MAX_DAYS)) as u32,
        None => DEFAULT_DAYS,
    }
}

/// The instant (unix ms) before which events are past a retention of `days` at `now_ms`. `0`
/// days (a `Config` nobody filled in) is the default.
pub fn cutoff_ms(now_ms: i64, days: u32) -> i64 {
    let days = if days == 0 { DEFAULT_DAYS } else { days };
    now_ms - i64::from(days) * DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_read_clamped_and_defaulted() {
        assert_eq!(days_from_config(None), 30);
        assert_eq!(days_from_config(Some("90")), 90);
        assert_eq!(days_from_config(Some(" 45 ")), 45);
        assert_eq!(days_from_config(Some("1")), 7, "never under a week");
        assert_eq!(days_from_config(Some("0")), 7);
        assert_eq!(days_from_config(Some("99999999999")), 3650);
        for bad in ["", "thirty", "-3", "1.5", "30d"] {
            assert_eq!(days_from_config(Some(bad)), 30, "{bad}");
        }
    }

    #[test]
    fn the_cutoff_is_that_many_days_back() {
        assert_eq!(cutoff_ms(40 * DAY_MS, 30), 10 * DAY_MS);
        assert_eq!(cutoff_ms(40 * DAY_MS, 0), 10 * DAY_MS, "unset is the default");
    }
}
