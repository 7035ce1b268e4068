//! Building ConnectWise `conditions` / `childConditions` expressions with correct quoting.
//!
//! ConnectWise's condition language: comparisons (`=`, `!=`, `<`, `<=`, `>`, `>=`, `like`,
//! `contains`, `in (...)`) combined with `and` / `or`. Strings are in double quotes with `\"` and
//! `\\` escapes, date-times in square brackets (`[2026-01-01T00:00:00Z]`), numbers and booleans
//! bare. Every value that reaches a condition goes through one of the functions here, so an input
//! can never break out of its literal (a summary containing `" or 1 = 1` stays a string).

use psa_sdk::Error;

/// A string literal: `"..."` with `\` and `"` escaped.
pub fn string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A ConnectWise record id (a positive integer) given as text; `field` names the input for the
/// error when it is not one.
pub fn id(field: &str, value: &str) -> Result<u64, Error> {
    let trimmed = value.trim();
    match trimmed.parse::<u64>() {
        Ok(n) if n > 0 && trimmed.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(Error::invalid(
            field,
            format!("`{value}` is not a ConnectWise id (a positive whole number)"),
        )),
    }
}

/// A date-time literal `[YYYY-MM-DDTHH:MM:SSZ]` for an RFC 3339 time, converted to UTC.
///
/// Fractional seconds are dropped: with `>=` this can only include a record more, never lose one.
/// `field` names the input for the error when the text is not an RFC 3339 time.
pub fn datetime(field: &str, value: &str) -> Result<String, Error> {
    let utc = to_utc(value.trim()).ok_or_else(|| {
        Error::invalid(
            field,
            format!("`{value}` is not an RFC 3339 time such as 2026-01-31T09:30:00Z"),
        )
    })?;
    Ok(format!("[{utc}]"))
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

/// Clauses joined with `and`. Each clause is built from literals made by this module.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Conditions {
    clauses: Vec<String>,
}

impl Conditions {
    /// No clause yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `field op literal`; `literal` must come from [`string`], [`datetime`], a number or a
    /// boolean.
    pub fn push(&mut self, field: &str, op: &str, literal: impl core::fmt::Display) -> &mut Self {
        self.clauses.push(format!("{field} {op} {literal}"));
        self
    }

    /// Adds `field = "value"` with the value quoted and escaped.
    pub fn eq_str(&mut self, field: &str, value: &str) -> &mut Self {
        self.push(field, "=", string(value))
    }

    /// Whether no clause was added.
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// The expression, or `None` when there is no clause.
    pub fn build(&self) -> Option<String> {
        (!self.clauses.is_empty()).then(|| self.clauses.join(" and "))
    }
}

/// The fixed conditions of an incremental read: `lastUpdated >= [since]` and the entity's own
/// fixed clauses (for companies `deletedFlag = false`), in that order.
pub fn incremental(
    since: Option<&str>,
    fixed: &[(&str, &str, &str)],
) -> Result<Option<String>, Error> {
    let mut c = Conditions::new();
    if let Some(since) = since.filter(|s| !s.trim().is_empty()) {
        c.push("lastUpdated", ">=", datetime("updated-since", since)?);
    }
    for (field, op, literal) in fixed {
        c.push(field, op, literal);
    }
    Ok(c.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_and_escaped() {
        assert_eq!(string("plain"), r#""plain""#);
        assert_eq!(string(r#"say "hi""#), r#""say \"hi\"""#);
        assert_eq!(string(r"C:\temp\"), r#""C:\\temp\\""#);
        assert_eq!(string(r#"\""#), r#""\\\"""#);
        assert_eq!(string(""), r#""""#);
        // An injection attempt stays inside the literal.
        assert_eq!(
            string(r#"x" or closedFlag = true or summary = "y"#),
            r#""x\" or closedFlag = true or summary = \"y""#
        );
        // Non-ASCII passes through (the query string encoding is done by the HTTP layer).
        assert_eq!(string("Störung [Critical]"), r#""Störung [Critical]""#);
    }

    #[test]
    fn ids_must_be_positive_integers() {
        assert_eq!(id("company-id", "42").unwrap(), 42);
        assert_eq!(id("company-id", " 7 ").unwrap(), 7);
        for bad in ["", "0", "-1", "1.5", "abc", "1 or 1=1", "+3"] {
            let e = id("company-id", bad).unwrap_err();
            match e {
                Error::InvalidInput(p) => assert_eq!(p.field, "company-id"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn datetimes_are_bracketed_utc() {
        assert_eq!(
            datetime("updated-since", "2026-01-01T00:00:00Z").unwrap(),
            "[2026-01-01T00:00:00Z]"
        );
        assert_eq!(
            datetime("updated-since", "2026-01-01T00:00:00.123456Z").unwrap(),
            "[2026-01-01T00:00:00Z]"
        );
        assert_eq!(
            datetime("updated-since", "2026-01-01T01:30:00+02:00").unwrap(),
            "[2025-12-31T23:30:00Z]"
        );
        assert_eq!(
            datetime("updated-since", "2024-02-28T23:00:00-01:30").unwrap(),
            "[2024-02-29T00:30:00Z]"
        );
        assert_eq!(
            to_utc("2026-03-01t10:00:00z").as_deref(),
            Some("2026-03-01T10:00:00Z")
        );
        for bad in [
            "2026-01-01",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00Z] or [x",
            "2026-01-01T00:00:00+0200",
            "2026-01-01T00:00:00.Z",
        ] {
            assert!(datetime("updated-since", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn incremental_conditions() {
        assert_eq!(incremental(None, &[]).unwrap(), None);
        assert_eq!(
            incremental(None, &[("deletedFlag", "=", "false")])
                .unwrap()
                .as_deref(),
            Some("deletedFlag = false")
        );
        assert_eq!(
            incremental(
                Some("2026-01-01T00:00:00Z"),
                &[("deletedFlag", "=", "false")]
            )
            .unwrap()
            .as_deref(),
            Some("lastUpdated >= [2026-01-01T00:00:00Z] and deletedFlag = false")
        );
        assert_eq!(
            incremental(Some("2026-01-01T00:00:00Z"), &[])
                .unwrap()
                .as_deref(),
            Some("lastUpdated >= [2026-01-01T00:00:00Z]")
        );
        assert!(incremental(Some("soon"), &[]).is_err());
    }

    #[test]
    fn builder_joins_with_and() {
        let mut c = Conditions::new();
        assert!(c.is_empty());
        assert_eq!(c.build(), None);
        c.push("closedFlag", "=", false)
            .push("company/id", "=", 19)
            .eq_str("summary", r#"Disk "C:" full"#)
            .push("board/id", "=", 1);
        assert_eq!(
            c.build().unwrap(),
            r#"closedFlag = false and company/id = 19 and summary = "Disk \"C:\" full" and board/id = 1"#
        );
    }
}
