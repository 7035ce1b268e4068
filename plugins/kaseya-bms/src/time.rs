//! Times: RFC 3339 parsing and normalisation to `YYYY-MM-DDTHH:MM:SSZ`, dates, and the clock.
//!
//! The contract speaks RFC 3339 in UTC; BMS filters (`modifiedSince`) take the same form. The
//! clock is WASI's wall clock (the host links it), used only to decide when the cached access
//! token must be renewed.

use psa_sdk::Error;

/// Seconds since the Unix epoch, from the wall clock (0 if the clock is before 1970).
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An RFC 3339 time as `YYYY-MM-DDTHH:MM:SSZ` in UTC, for the `modifiedSince` filter.
///
/// Fractional seconds are dropped: with an inclusive (`>=`) filter this can only include a record
/// more, never lose one. `field` names the input for the error.
pub fn filter_time(field: &str, value: &str) -> Result<String, Error> {
    to_utc(value.trim()).ok_or_else(|| {
        Error::invalid(
            field,
            format!("`{value}` is not an RFC 3339 time such as 2026-01-31T09:30:00Z"),
        )
    })
}

/// A BMS timestamp for the contract: RFC 3339 in UTC. A time without an offset
/// (`2026-03-01T10:00:00`, as some BMS answers have) is read as UTC. `None` for anything else.
pub fn timestamp(value: &str) -> Option<String> {
    let value = value.trim();
    to_utc(value).or_else(|| {
        let has_offset =
            value.ends_with(['Z', 'z']) || value.get(19..).is_some_and(|t| t.contains(['+', '-']));
        if has_offset {
            None
        } else {
            to_utc(&format!("{value}Z"))
        }
    })
}

/// `YYYY-MM-DD` from a BMS date (`2026-01-01`) or date-time (`2026-01-01T00:00:00`); `None`
/// for anything else.
pub fn date_only(value: &str) -> Option<String> {
    let d = value.trim().get(..10)?;
    let b = d.as_bytes();
    let ok = b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    ok.then(|| d.to_string())
}

/// Parses an RFC 3339 time and formats it as `YYYY-MM-DDTHH:MM:SSZ` in UTC.
pub fn to_utc(value: &str) -> Option<String> {
    let b = value.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |range: core::ops::Range<usize>| -> Option<i64> {
        let s = value.get(range)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &value[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &fraction[digits..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || !matches!(rb[0], b'+' | b'-') || rb[3] != b':' {
                return None;
            }
            let digits = |s: &str| -> Option<i64> {
                s.bytes()
                    .all(|c| c.is_ascii_digit())
                    .then(|| s.parse().ok())?
            };
            let (oh, om) = (digits(&rest[1..3])?, digits(&rest[4..6])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let sign = if rb[0] == b'-' { -1 } else { 1 };
            sign * (oh * 60 + om)
        }
    };
    let second = second.min(59);
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    let utc = local - offset_minutes * 60;
    let (days, secs) = (utc.div_euclid(86_400), utc.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return None;
    }
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    ))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_to_utc() {
        let cases = [
            ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
            ("2026-01-01T00:00:00.123456z", "2026-01-01T00:00:00Z"),
            ("2026-01-01T01:30:00+02:00", "2025-12-31T23:30:00Z"),
            ("2026-02-28T23:00:00-01:30", "2026-03-01T00:30:00Z"),
            ("2024-02-29 12:00:00Z", "2024-02-29T12:00:00Z"),
            ("2026-06-30T23:59:60Z", "2026-06-30T23:59:59Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(to_utc(input).as_deref(), Some(expected), "{input}");
        }
        for bad in [
            "",
            "2026-01-01",
            "2026-01-01T00:00:00",
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+2:00",
            "yesterday at noon, UTC",
        ] {
            assert_eq!(to_utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn filter_times_name_the_field() {
        assert_eq!(
            filter_time("updated-since", " 2026-01-31T09:30:00.5Z ").unwrap(),
            "2026-01-31T09:30:00Z"
        );
        match filter_time("updated-since", "last week") {
            Err(Error::InvalidInput(p)) => {
                assert_eq!(p.field, "updated-since");
                assert!(p.message.contains("last week"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn timestamps_and_dates() {
        assert_eq!(
            timestamp("2026-03-01T10:00:00Z").as_deref(),
            Some("2026-03-01T10:00:00Z")
        );
        assert_eq!(
            timestamp("2026-03-01T10:00:00").as_deref(),
            Some("2026-03-01T10:00:00Z"),
            "no offset: UTC"
        );
        assert_eq!(
            timestamp("2026-03-01T10:00:00.25").as_deref(),
            Some("2026-03-01T10:00:00Z")
        );
        assert_eq!(
            timestamp("2026-03-01T12:00:00+02:00").as_deref(),
            Some("2026-03-01T10:00:00Z")
        );
        assert_eq!(timestamp("2026-03-01T10:00:00+2"), None);
        assert_eq!(timestamp("soon"), None);
        assert_eq!(date_only("2026-01-01").as_deref(), Some("2026-01-01"));
        assert_eq!(
            date_only("2026-01-01T00:00:00").as_deref(),
            Some("2026-01-01")
        );
        assert_eq!(date_only("2026/01/01"), None);
        assert_eq!(date_only("2026-1-1"), None);
        assert_eq!(date_only("soon"), None);
    }

    #[test]
    fn clock_is_after_2020() {
        assert!(now_unix() > 1_577_836_800);
    }
}
