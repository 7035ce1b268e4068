//! Date and time helpers: RFC 3339 parsing into UTC, Autotask's date-times, and today's date.
//!
//! Autotask answers date-times in UTC, usually with a `Z` and milliseconds
//! (`2026-03-01T10:00:00.000Z`), sometimes without an offset (`2026-03-01T10:00:00`), which also
//! means UTC. The connector sends date-times as `YYYY-MM-DDTHH:MM:SSZ`.

use psa_sdk::Error;

/// Parses an RFC 3339 time (offset `Z` or `±HH:MM`; with `assume_utc`, no offset at all means
/// UTC) and formats it as `YYYY-MM-DDTHH:MM:SSZ` in UTC. Fractional seconds are dropped.
pub fn to_utc(value: &str, assume_utc: bool) -> Option<String> {
    let value = value.trim();
    let b = value.as_bytes();
    if b.len() < 19 {
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
        "" if assume_utc => 0,
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
    format_unix(utc)
}

/// An updated-since time from the host as a filter value; `field` names the input in the error.
pub fn filter_time(field: &str, value: &str) -> Result<String, Error> {
    to_utc(value, false).ok_or_else(|| {
        Error::invalid(
            field,
            format!("`{value}` is not an RFC 3339 time such as 2026-01-31T09:30:00Z"),
        )
    })
}

/// An Autotask date-time as the contract's timestamp (UTC, no fraction); `None` for anything that
/// is not a date-time.
pub fn timestamp(value: &str) -> Option<String> {
    to_utc(value, true)
}

/// `YYYY-MM-DD` from an Autotask date-time or date.
pub fn date_only(s: &str) -> Option<String> {
    let d = s.trim().get(0..10)?;
    let b = d.as_bytes();
    let ok = b.iter().enumerate().all(|(i, c)| match i {
        4 | 7 => *c == b'-',
        _ => c.is_ascii_digit(),
    });
    ok.then(|| d.to_string())
}

/// `YYYY-MM-DDT00:00:00Z` for a date.
pub fn midnight(date: &str) -> String {
    format!("{date}T00:00:00Z")
}

/// Today's date in UTC, from the sandbox's wall clock.
pub fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    date_of_unix(secs)
}

/// The UTC date of a Unix time.
pub fn date_of_unix(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

fn format_unix(utc: i64) -> Option<String> {
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
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_normalisation() {
        assert_eq!(
            to_utc("2026-01-01T00:00:00Z", false).as_deref(),
            Some("2026-01-01T00:00:00Z")
        );
        assert_eq!(
            to_utc("2026-01-01T00:00:00.123456Z", false).as_deref(),
            Some("2026-01-01T00:00:00Z")
        );
        assert_eq!(
            to_utc("2026-01-01T01:30:00+02:00", false).as_deref(),
            Some("2025-12-31T23:30:00Z")
        );
        assert_eq!(
            to_utc("2024-02-28T23:00:00-01:30", false).as_deref(),
            Some("2024-02-29T00:30:00Z")
        );
        // Autotask without an offset means UTC, only where allowed.
        assert_eq!(
            to_utc("2012-06-18T13:15:47", true).as_deref(),
            Some("2012-06-18T13:15:47Z")
        );
        assert_eq!(to_utc("2012-06-18T13:15:47", false), None);
        assert_eq!(
            timestamp("2018-01-23T11:00:00.00Z").as_deref(),
            Some("2018-01-23T11:00:00Z")
        );
        for bad in [
            "2026-01-01",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-01-01T00:00:00Z\"}]",
            "2026-01-01T00:00:00+0200",
            "2026-01-01T00:00:00.Z",
        ] {
            assert!(filter_time("updated-since", bad).is_err(), "{bad}");
        }
        match filter_time("updated-since", "soon") {
            Err(Error::InvalidInput(p)) => assert_eq!(p.field, "updated-since"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn dates() {
        assert_eq!(
            date_only("2026-01-01T00:00:00Z").as_deref(),
            Some("2026-01-01")
        );
        assert_eq!(date_only("2026-12-31").as_deref(), Some("2026-12-31"));
        assert_eq!(date_only("2026/12/31"), None);
        assert_eq!(midnight("2026-03-01"), "2026-03-01T00:00:00Z");
        assert_eq!(date_of_unix(0), "1970-01-01");
        assert_eq!(date_of_unix(1_772_323_200), "2026-03-01");
        assert_eq!(date_of_unix(951_782_400), "2000-02-29");
        assert_eq!(today_utc().len(), 10);
    }
}
