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
/// error when it is not one. Ids go into conditions bare, so this is what keeps them literals.
pub use psa_sdk::input::positive_id as id;

/// A date-time literal `[YYYY-MM-DDTHH:MM:SSZ]` for an RFC 3339 time, converted to UTC.
///
/// Fractional seconds are dropped: with `>=` this can only include a record more, never lose one.
/// `field` names the input for the error when the text is not an RFC 3339 time.
pub fn datetime(field: &str, value: &str) -> Result<String, Error> {
    Ok(format!("[{}]", psa_sdk::time::utc_input(field, value)?))
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
            datetime("updated-since", " 2026-03-01t10:00:00z ").unwrap(),
            "[2026-03-01T10:00:00Z]"
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
