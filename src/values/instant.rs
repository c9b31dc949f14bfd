//! RFC 3339 date-times and full-dates, to and from unix time: the little of a calendar this
//! service needs, written out rather than taken from a date-time crate (`time` was about 60 KB
//! of the wasm for four functions; BENCHMARKS.md, "Size").
//!
//! The grammar is RFC 3339 §5.6: `YYYY-MM-DD`, `T` (or `t`, or the space §5.6's note allows),
//! `hh:mm:ss`, an optional fraction of any length, and `Z` (or `z`) or `±hh:mm`. A leap second
//! (`:60`) is accepted only where one can fall — the last second of a month in UTC — and counts
//! as the nanosecond before the next minute. Years are 0000–9999, offsets at most ±23:59.

/// An instant: whole seconds since 1970-01-01T00:00:00Z and the nanoseconds past them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant {
    pub unix_seconds: i64,
    pub nanos: u32,
}

impl Instant {
    /// Milliseconds since the epoch, rounded down.
    pub fn unix_millis(self) -> i64 {
        self.unix_seconds * 1000 + i64::from(self.nanos / 1_000_000)
    }

    /// As the store writes instants: UTC, milliseconds, `Z` (`format_millis`).
    pub fn utc_text(self) -> String {
        format_millis(self.unix_millis())
    }
}

/// A calendar date: year, month (1–12), day (1–31).
pub type Ymd = (i64, u32, u32);

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> Ymd {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Exactly `n` ASCII digits at the start of `s`, as a number, and the rest.
fn digits(s: &[u8], n: usize) -> Option<(u32, &[u8])> {
    let (head, rest) = (s.get(..n)?, &s[n..]);
    head.iter().try_fold(0u32, |acc, b| b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))).map(|v| (v, rest))
}

fn literal(s: &[u8], c: u8) -> Option<&[u8]> {
    s.split_first().filter(|(b, _)| **b == c).map(|(_, rest)| rest)
}

/// `YYYY-MM-DD` at the start of `s`, a real date, and the rest.
fn full_date(s: &[u8]) -> Option<(Ymd, &[u8])> {
    let (y, s) = digits(s, 4)?;
    let (m, s) = digits(literal(s, b'-')?, 2)?;
    let (d, s) = digits(literal(s, b'-')?, 2)?;
    let y = i64::from(y);
    ((1..=12).contains(&m) && (1..=days_in_month(y, m)).contains(&d)).then_some(((y, m, d), s))
}

/// A full-date (RFC 3339 `full-date`, `2026-02-28`): year, month, day.
pub fn parse_date(s: &str) -> Option<Ymd> {
    full_date(s.as_bytes()).filter(|(_, rest)| rest.is_empty()).map(|(date, _)| date)
}

pub fn format_date((y, m, d): Ymd) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

/// An RFC 3339 `date-time`, as the instant it names.
pub fn parse_rfc3339(s: &str) -> Option<Instant> {
    let ((y, mo, d), s) = full_date(s.as_bytes())?;
    let s = s.strip_prefix(b"T").or_else(|| s.strip_prefix(b"t")).or_else(|| s.strip_prefix(b" "))?;
    let (h, s) = digits(s, 2)?;
    let (mi, s) = digits(literal(s, b':')?, 2)?;
    let (sec, mut s) = digits(literal(s, b':')?, 2)?;
    let mut nanos = 0u32;
    if let Some(rest) = literal(s, b'.') {
        let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        // Digits past the ninth are below a nanosecond: read, not kept.
        nanos = rest[..n].iter().take(9).fold(0, |acc, b| acc * 10 + u32::from(b - b'0')) * 10u32.pow(9 - n.min(9) as u32);
        s = &rest[n..];
    }
    let offset_minutes = match s {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (oh, rest) = digits(rest, 2)?;
            let (om, rest) = digits(literal(rest, b':')?, 2)?;
            if !rest.is_empty() || oh > 23 || om > 59 {
                return None;
            }
            let minutes = i64::from(oh * 60 + om);
            if *sign == b'-' {
                -minutes
            } else {
                minutes
            }
        }
        _ => return None,
    };
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let local = days_from_civil(y, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + sec.min(59));
    let unix_seconds = local - offset_minutes * 60;
    if sec == 60 {
        // Only the last second of a month in UTC can be a leap second.
        let (uy, um, ud) = civil_from_days(unix_seconds.div_euclid(86_400));
        if unix_seconds.rem_euclid(86_400) != 86_399 || ud != days_in_month(uy, um) {
            return None;
        }
        return Some(Instant { unix_seconds, nanos: 999_999_999 });
    }
    Some(Instant { unix_seconds, nanos })
}

/// The first and last millisecond the store writes (years 0000–9999, four digits each).
pub const FIRST_MS: i64 = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z
pub const LAST_MS: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

/// Unix milliseconds as RFC 3339 UTC with milliseconds and a `Z` (`2026-01-02T03:04:05.000Z`);
/// an instant outside years 0000–9999 as the epoch.
pub fn format_millis(unix_ms: i64) -> String {
    let ms = if (FIRST_MS..=LAST_MS).contains(&unix_ms) { unix_ms } else { 0 };
    let (days, in_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, milli) = (in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1000 % 60, in_day % 1000);
    // Digits by hand: `format!` was most of this function's time, and it runs on every write.
    let mut out = String::with_capacity(24);
    for (n, width, after) in
        [(y, 4, '-'), (m.into(), 2, '-'), (d.into(), 2, 'T'), (h, 2, ':'), (mi, 2, ':'), (s, 2, '.'), (milli, 3, 'Z')]
    {
        // Every part is in range here: the year in 0..=9999, the rest within their unit.
        push_digits(&mut out, n as u32, width);
        out.push(after);
    }
    out
}

/// `n`'s last `width` decimal digits, zero-padded.
fn push_digits(out: &mut String, n: u32, width: u32) {
    for place in (0..width).rev() {
        out.push(char::from(b'0' + (n / 10u32.pow(place) % 10) as u8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Option<(i64, u32)> {
        parse_rfc3339(s).map(|i| (i.unix_seconds, i.nanos))
    }

    #[test]
    fn date_times_name_their_instant() {
        assert_eq!(at("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(at("2023-11-07T05:31:56Z"), Some((1_699_335_116, 0)));
        assert_eq!(at("2023-11-07T06:31:56+01:00"), Some((1_699_335_116, 0)));
        assert_eq!(at("2023-11-06T23:01:56-06:30"), Some((1_699_335_116, 0)));
        assert_eq!(at("2023-11-07t05:31:56z"), Some((1_699_335_116, 0)));
        assert_eq!(at("2023-11-07 05:31:56Z"), Some((1_699_335_116, 0)), "RFC 3339 §5.6's space");
        assert_eq!(at("2023-11-07T05:31:56.5Z"), Some((1_699_335_116, 500_000_000)));
        assert_eq!(at("2023-11-07T05:31:56.123456789123Z"), Some((1_699_335_116, 123_456_789)));
        assert_eq!(at("1969-12-31T23:59:59.999Z"), Some((-1, 999_000_000)));
        assert_eq!(at("0000-01-01T00:00:00Z"), Some((-62_167_219_200, 0)));
        assert_eq!(at("9999-12-31T23:59:59Z"), Some((253_402_300_799, 0)));
        assert_eq!(at("2024-02-29T12:00:00Z").map(|t| t.0), Some(1_709_208_000));
    }

    #[test]
    fn a_leap_second_only_where_one_can_fall() {
        assert_eq!(at("2016-12-31T23:59:60Z"), Some((1_483_228_799, 999_999_999)));
        assert_eq!(at("2017-01-01T00:59:60+01:00"), Some((1_483_228_799, 999_999_999)));
        assert_eq!(at("2016-06-30T23:59:60Z").map(|t| t.1), Some(999_999_999));
        for bad in ["2016-12-30T23:59:60Z", "2016-12-31T22:59:60Z", "2016-12-31T23:58:60Z", "2016-12-31T23:59:60+01:00"] {
            assert_eq!(at(bad), None, "{bad}");
        }
    }

    #[test]
    fn anything_else_is_not_a_date_time() {
        for bad in [
            "",
            "2023-11-07",
            "2023-11-07T05:31:56",
            "2023-11-07T05:31Z",
            "2023-11-07X05:31:56Z",
            "2023-11-07T05:31:56.Z",
            "2023-11-07T05:31:56+0100",
            "2023-11-07T05:31:56+24:00",
            "2023-11-07T05:31:56+01:60",
            "2023-11-07T24:00:00Z",
            "2023-11-07T23:60:00Z",
            "2023-11-07T23:59:61Z",
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-00-01T00:00:00Z",
            "2023-01-00T00:00:00Z",
            "+2023-11-07T05:31:56Z",
            "23-11-07T05:31:56Z",
            "2023-11-07T05:31:56Zjunk",
            "2023-11-07T05:31:56 Z",
            "２０２３-11-07T05:31:56Z",
        ] {
            assert_eq!(at(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn dates_are_real_calendar_dates() {
        assert_eq!(parse_date("2024-02-29"), Some((2024, 2, 29)));
        assert_eq!(parse_date("2000-02-29"), Some((2000, 2, 29)));
        for bad in ["1900-02-29", "2023-02-29", "2023-04-31", "2023-4-01", "2023-04-01T", "20230401", "+2023-04-01"] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(format_date((7, 3, 9)), "0007-03-09");
    }

    #[test]
    fn millis_format_and_parse_back() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_millis(1_742_918_434_438), "2025-03-25T16:00:34.438Z");
        assert_eq!(format_millis(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(format_millis(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        assert_eq!(format_millis(253_402_300_800_000), "1970-01-01T00:00:00.000Z", "beyond year 9999: the epoch");
        for ms in [0, 1, 999, 86_399_999, 951_782_400_000, 1_709_208_000_123, -62_167_219_200_000, 253_402_300_799_999] {
            assert_eq!(parse_rfc3339(&format_millis(ms)).map(Instant::unix_millis), Some(ms), "{ms}");
        }
    }

    /// Every day of 1600–2400 and the year 0 round-trips through both directions.
    #[test]
    fn the_calendar_agrees_with_itself_day_by_day() {
        let mut days = days_from_civil(0, 1, 1);
        for y in (0..1).chain(1600..2401) {
            if y == 1600 {
                days = days_from_civil(1600, 1, 1);
            }
            for m in 1..=12 {
                for d in 1..=days_in_month(y, m) {
                    assert_eq!(civil_from_days(days), (y, m, d));
                    assert_eq!(days_from_civil(y, m, d), days);
                    days += 1;
                }
            }
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }
}
