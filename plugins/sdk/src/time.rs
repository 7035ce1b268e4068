//! Times and dates: RFC 3339 parsing and normalisation to UTC, date parts, and the clock.
//!
//! The contract speaks RFC 3339 in UTC without fractions, `YYYY-MM-DDTHH:MM:SSZ`: record
//! timestamps (`updated-at`, `created-at`) and the host's `updated-since` are in that form, and
//! dates (`start-date`) are `YYYY-MM-DD`. PSAs answer in several dialects
//! (`2026-03-01T10:00:00.000Z`, `2026-03-01T12:00:00+02:00`, `2026-03-01T10:00:00` meaning UTC);
//! these functions read them all and write the contract's form.
//!
//! ```
//! use psa_sdk::time;
//!
//! // An input time (the host's updated-since, a setting): the offset is required.
//! assert_eq!(time::to_utc("2026-01-01T01:30:00.25+02:00").as_deref(), Some("2025-12-31T23:30:00Z"));
//! assert_eq!(time::to_utc("2026-01-01T01:30:00"), None);
//! // A PSA's timestamp: no offset means UTC.
//! assert_eq!(time::to_utc_assuming_utc("2026-03-01T10:00:00.000").as_deref(), Some("2026-03-01T10:00:00Z"));
//! // The date part of a date or a date-time.
//! assert_eq!(time::date_only("2026-03-01T10:00:00Z").as_deref(), Some("2026-03-01"));
//! // The input named in the error when it is not a time.
//! assert!(time::utc_input("updated-since", "last week").is_err());
//! ```
//!
//! The clock is the sandbox's wall clock (WASI), see [`now_unix`] and [`today_utc`].

use crate::error::{Error, Result};

const SECONDS_PER_DAY: i64 = 86_400;

/// Parses an RFC 3339 date-time into seconds since the Unix epoch.
///
/// Accepted: `YYYY-MM-DD`, then `T`, `t` or a space, `HH:MM:SS`, an optional fraction (dropped),
/// and an offset `Z`, `z` or `±HH:MM`; with `assume_utc`, no offset at all also means UTC.
/// Surrounding blanks are ignored. The date must exist (no 30 February); a leap second (`:60`)
/// counts as `:59`. `None` for anything else, including offsets without a colon (`+0200`).
fn parse(value: &str, assume_utc: bool) -> Option<i64> {
    let value = value.trim();
    let b = value.as_bytes();
    if b.len() < 19
        || !b[..19].is_ascii()
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (
        digits(&value[0..4])?,
        digits(&value[5..7])?,
        digits(&value[8..10])?,
    );
    let (hour, minute, second) = (
        digits(&value[11..13])?,
        digits(&value[14..16])?,
        digits(&value[17..19])?,
    );
    if !valid_date(year, month, day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &value[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &fraction[n..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        "" if assume_utc => 0,
        _ => {
            let r = rest.as_bytes();
            if r.len() != 6 || !matches!(r[0], b'+' | b'-') || r[3] != b':' {
                return None;
            }
            let (oh, om) = (digits(&rest[1..3])?, digits(&rest[4..6])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let sign = if r[0] == b'-' { -1 } else { 1 };
            sign * (oh * 60 + om)
        }
    };
    let local = days_from_civil(year, month, day) * SECONDS_PER_DAY
        + hour * 3600
        + minute * 60
        + second.min(59);
    Some(local - offset_minutes * 60)
}

/// A run of ASCII digits as a number (no sign, no blanks).
fn digits(s: &str) -> Option<i64> {
    if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Parses an RFC 3339 date-time with an offset (`Z`, `+02:00`) into seconds since the Unix
/// epoch; fractions are dropped. `None` for anything else.
pub fn parse_rfc3339(value: &str) -> Option<i64> {
    parse(value, false)
}

/// Parses an HTTP date (RFC 9110's IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`, the form
/// servers send in `Retry-After` and `Date`) into seconds since the Unix epoch. The day name is
/// not checked against the date; `None` for anything else (the obsolete RFC 850 and asctime
/// forms included).
///
/// ```
/// assert_eq!(psa_sdk::time::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784111777));
/// assert_eq!(psa_sdk::time::parse_http_date("1994-11-06T08:49:37Z"), None);
/// ```
pub fn parse_http_date(value: &str) -> Option<i64> {
    let value = value.trim();
    let b = value.as_bytes();
    // `Sun, 06 Nov 1994 08:49:37 GMT`: 29 ASCII bytes.
    if b.len() != 29
        || !value.is_ascii()
        || &value[3..5] != ", "
        || b[7] != b' '
        || b[11] != b' '
        || b[16] != b' '
        || b[19] != b':'
        || b[22] != b':'
        || &value[25..] != " GMT"
    {
        return None;
    }
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    if !DAYS.contains(&&value[0..3]) {
        return None;
    }
    let month = MONTHS.iter().position(|m| *m == &value[8..11])? as i64 + 1;
    let (day, year) = (digits(&value[5..7])?, digits(&value[12..16])?);
    let (hour, minute, second) = (
        digits(&value[17..19])?,
        digits(&value[20..22])?,
        digits(&value[23..25])?,
    );
    if !valid_date(year, month, day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(
        days_from_civil(year, month, day) * SECONDS_PER_DAY
            + hour * 3600
            + minute * 60
            + second.min(59),
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the Unix epoch; `None` outside the years 0000 to
/// 9999, which RFC 3339 cannot write.
pub fn format_utc(unix: i64) -> Option<String> {
    let (days, secs) = (
        unix.div_euclid(SECONDS_PER_DAY),
        unix.rem_euclid(SECONDS_PER_DAY),
    );
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

/// An RFC 3339 time with an offset, as `YYYY-MM-DDTHH:MM:SSZ` in UTC (fractional seconds
/// dropped); `None` when it is not one. Use it for input: a time without an offset is ambiguous.
///
/// Dropping the fraction rounds down, so an inclusive (`>=`) filter built from the result can
/// only include a record more, never lose one.
pub fn to_utc(value: &str) -> Option<String> {
    parse(value, false).and_then(format_utc)
}

/// Like [`to_utc`], but a time without an offset (`2026-03-01T10:00:00`, as several PSAs answer)
/// is read as UTC. Use it for the PSA's own timestamps.
pub fn to_utc_assuming_utc(value: &str) -> Option<String> {
    parse(value, true).and_then(format_utc)
}

/// Whether `value` is already in the contract's form `YYYY-MM-DDTHH:MM:SSZ` (what [`to_utc`]
/// returns), for instance to validate a time read back from a cursor.
pub fn is_utc(value: &str) -> bool {
    to_utc(value).as_deref() == Some(value)
}

/// An RFC 3339 time given as input `field` (the host's `updated-since`, a setting, an argument)
/// as `YYYY-MM-DDTHH:MM:SSZ` in UTC, or an `invalid-input` error naming `field`.
pub fn utc_input(field: &str, value: &str) -> Result<String> {
    to_utc(value).ok_or_else(|| {
        Error::invalid(
            field,
            format!("`{value}` is not an RFC 3339 time such as 2026-01-31T09:30:00Z"),
        )
    })
}

/// `YYYY-MM-DD` from a date (`2026-01-31`) or the date part of a date-time
/// (`2026-01-31T09:30:00Z`, `2026-01-31 09:30`), as written (the offset is not applied: a
/// contract's start date is a calendar day). `None` when it is not a date that exists.
pub fn date_only(value: &str) -> Option<String> {
    let value = value.trim();
    let date = value.get(..10)?;
    let b = date.as_bytes();
    if !b.is_ascii() || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (
        digits(&date[0..4])?,
        digits(&date[5..7])?,
        digits(&date[8..10])?,
    );
    let rest_ok = value[10..].is_empty() || value[10..].starts_with(['T', 't', ' ']);
    (rest_ok && valid_date(year, month, day)).then(|| date.to_string())
}

/// The UTC date `YYYY-MM-DD` of seconds since the Unix epoch.
pub fn date_of_unix(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(SECONDS_PER_DAY));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Seconds since the Unix epoch, from the sandbox's wall clock (0 if the clock is before 1970);
/// in a native test, the [`crate::fake::FakeHost`]'s clock when it set one.
pub fn now_unix() -> u64 {
    if let Some(now) = crate::host::clock() {
        return now;
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Today's date in UTC, `YYYY-MM-DD`, from the sandbox's wall clock.
pub fn today_utc() -> String {
    date_of_unix(i64::try_from(now_unix()).unwrap_or(i64::MAX))
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

fn valid_date(year: i64, month: i64, day: i64) -> bool {
    (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Autotask answers with 0 to 7 fraction digits, with or without an offset (none is UTC).
    #[test]
    fn autotask_forms_normalise_to_utc() {
        let cases = [
            ("2026-03-01T10:00:00", "2026-03-01T10:00:00Z"),
            ("2026-03-01T10:00:00.1", "2026-03-01T10:00:00Z"),
            ("2026-03-01T10:00:00.997", "2026-03-01T10:00:00Z"),
            ("2026-03-01T10:00:00.9999999", "2026-03-01T10:00:00Z"),
            ("2026-03-01T10:00:00.1234567Z", "2026-03-01T10:00:00Z"),
            ("2026-03-01T10:00:00.1234567+01:00", "2026-03-01T09:00:00Z"),
            ("2026-03-01T23:30:00.50-05:00", "2026-03-02T04:30:00Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                to_utc_assuming_utc(input).as_deref(),
                Some(expected),
                "{input}"
            );
        }
        // Input times keep requiring an offset.
        assert_eq!(to_utc("2026-03-01T10:00:00.1234567"), None);
        assert_eq!(to_utc_assuming_utc("2026-03-01T10:00:00."), None);
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            parse_rfc3339("1994-11-06T08:49:37Z")
        );
        assert_eq!(parse_http_date(" Thu, 01 Jan 1970 00:00:00 GMT "), Some(0));
        assert_eq!(
            parse_http_date("Thu, 29 Feb 2024 23:59:59 GMT"),
            parse_rfc3339("2024-02-29T23:59:59Z")
        );
        for bad in [
            "",
            "120",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Now 1994 08:49:37 GMT",
            "Sun, 30 Feb 2026 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMTé",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn normalises_to_utc() {
        let cases = [
            ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
            ("2026-01-01T00:00:00.123456Z", "2026-01-01T00:00:00Z"),
            ("2026-01-01T00:00:00.123456z", "2026-01-01T00:00:00Z"),
            ("2026-03-01t10:00:00z", "2026-03-01T10:00:00Z"),
            (" 2026-01-31T09:30:00.5Z ", "2026-01-31T09:30:00Z"),
            ("2026-01-01T01:30:00+02:00", "2025-12-31T23:30:00Z"),
            ("2024-02-28T23:00:00-01:30", "2024-02-29T00:30:00Z"),
            ("2026-02-28T23:00:00-01:30", "2026-03-01T00:30:00Z"),
            ("2024-02-29 12:00:00Z", "2024-02-29T12:00:00Z"),
            ("2026-06-30T23:59:60Z", "2026-06-30T23:59:59Z"),
            ("2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z"),
            ("0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z"),
            ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(to_utc(input).as_deref(), Some(expected), "{input}");
            assert_eq!(
                to_utc_assuming_utc(input).as_deref(),
                Some(expected),
                "{input}"
            );
        }
        for bad in [
            "",
            "2026-01-01",
            "yesterday",
            "yesterday at noon, UTC",
            "2026-01-01T00:00:00",
            "2026-02-29T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+0200",
            "2026-01-01T00:00:00+2:00",
            "2026-01-01T00:00:00+24:00",
            "2026-01-01T00:00:00Z] or [x",
            "2026-01-01T00:00:00Z\"}]",
            "+026-01-01T00:00:00Z",
            "2026-01-01X00:00:00Z",
            "2026-01-01T00:00:00ZZ",
            // Out of the years RFC 3339 can write once in UTC.
            "0000-01-01T00:00:00+01:00",
            "9999-12-31T23:30:00-01:00",
            "2026-01-01T00:00:0é",
        ] {
            assert_eq!(to_utc(bad), None, "{bad}");
            assert!(!is_utc(bad), "{bad}");
        }
    }

    #[test]
    fn psa_timestamps_without_offset_are_utc() {
        for (input, expected) in [
            ("2012-06-18T13:15:47", "2012-06-18T13:15:47Z"),
            ("2026-03-01T10:00:00.25", "2026-03-01T10:00:00Z"),
            ("2018-01-23T11:00:00.00Z", "2018-01-23T11:00:00Z"),
            ("2026-03-01T12:00:00+02:00", "2026-03-01T10:00:00Z"),
        ] {
            assert_eq!(
                to_utc_assuming_utc(input).as_deref(),
                Some(expected),
                "{input}"
            );
        }
        assert_eq!(to_utc("2012-06-18T13:15:47"), None);
        for bad in ["2026-03-01T10:00:00+2", "2026-03-01T10:00:00.", "soon"] {
            assert_eq!(to_utc_assuming_utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn unix_seconds() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), Some(-1));
        assert_eq!(parse_rfc3339("2026-03-01T00:00:00Z"), Some(1_772_323_200));
        assert_eq!(
            parse_rfc3339("2026-03-01T01:00:00+01:00"),
            Some(1_772_323_200)
        );
        assert_eq!(parse_rfc3339("2026-03-01T00:00:00"), None);
        assert_eq!(format_utc(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(format_utc(-1).as_deref(), Some("1969-12-31T23:59:59Z"));
        assert_eq!(format_utc(253_402_300_800), None, "year 10000");
        // Every day of four centuries round-trips.
        for day in (-146_097 * 2..146_097 * 2).step_by(13) {
            let text = format_utc(day * SECONDS_PER_DAY + 45_296).unwrap();
            assert_eq!(parse_rfc3339(&text), Some(day * SECONDS_PER_DAY + 45_296));
        }
    }

    #[test]
    fn input_times_name_the_field() {
        assert_eq!(
            utc_input("updated-since", " 2026-01-31T09:30:00.5Z ").unwrap(),
            "2026-01-31T09:30:00Z"
        );
        match utc_input("updated-since", "last week") {
            Err(Error::InvalidInput(p)) => {
                assert_eq!(p.field, "updated-since");
                assert!(p.message.contains("last week"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn normalized_form() {
        assert!(is_utc("2026-01-01T00:00:00Z"));
        for other in [
            "2026-01-01T00:00:00z",
            "2026-01-01T00:00:00.0Z",
            "2026-01-01 00:00:00Z",
            "2026-01-01T01:00:00+01:00",
            " 2026-01-01T00:00:00Z",
        ] {
            assert!(!is_utc(other), "{other}");
        }
    }

    #[test]
    fn dates() {
        for (input, expected) in [
            ("2026-01-01T00:00:00Z", "2026-01-01"),
            ("2026-01-01T00:00:00", "2026-01-01"),
            ("2026-12-31", "2026-12-31"),
            (" 2026-12-31 ", "2026-12-31"),
            ("2024-02-29 10:00", "2024-02-29"),
            ("2026-01-31T23:00:00-05:00", "2026-01-31"),
        ] {
            assert_eq!(date_only(input).as_deref(), Some(expected), "{input}");
        }
        for bad in [
            "2026/12/31",
            "2026-1-1",
            "2026-13-01",
            "2026-02-29",
            "2026-12-31x",
            "20261231",
            "soon",
            "",
            "2026-12-3é",
        ] {
            assert_eq!(date_only(bad), None, "{bad}");
        }
        assert_eq!(date_of_unix(0), "1970-01-01");
        assert_eq!(date_of_unix(-1), "1969-12-31");
        assert_eq!(date_of_unix(1_772_323_200), "2026-03-01");
        assert_eq!(date_of_unix(951_782_400), "2000-02-29");
    }

    #[test]
    fn clock_is_after_2020() {
        assert!(now_unix() > 1_577_836_800);
        let today = today_utc();
        assert_eq!(date_only(&today).as_deref(), Some(today.as_str()));
        assert!(today.as_str() >= "2020-01-01");
    }
}
