//! JSON and time helpers shared by the dialects: case-insensitive keys, value kinds, UTC
//! timestamps in whole seconds, and the date-time formats the vendors accept.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

/// `2026-03-01T10:00:00Z`.
pub(crate) fn format_timestamp(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// A date-time as a JSON string, `2026-03-01T10:00:00Z`.
pub(crate) fn timestamp(t: OffsetDateTime) -> Value {
    Value::String(format_timestamp(t))
}

/// A date as midnight UTC, `2026-03-01T00:00:00Z`.
pub(crate) fn midnight(d: Date) -> Value {
    timestamp(d.midnight().assume_utc())
}

/// A date as `2026-03-01`.
pub(crate) fn day(d: Date) -> Value {
    Value::String(
        d.format(format_description!("[year]-[month]-[day]"))
            .unwrap_or_default(),
    )
}

/// A date-time serialised as `2026-03-01T10:00:00Z` (for typed views).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ts(pub(crate) OffsetDateTime);

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_timestamp(self.0))
    }
}

/// Money in cents as a decimal amount.
pub(crate) fn money(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// Cents of a decimal amount.
pub(crate) fn cents(amount: f64) -> i64 {
    (amount * 100.0).round() as i64
}

/// A quantity as JSON: an integer when it is whole, else the decimal.
pub(crate) fn quantity(q: f64) -> Value {
    if q.fract() == 0.0 && q.abs() < 1e15 {
        Value::from(q as i64)
    } else {
        Value::from(q)
    }
}

/// Parses `2026-01-01T00:00:00Z` (any RFC 3339 offset), `2026-01-01T00:00:00` (UTC) or
/// `2026-01-01` (midnight UTC).
pub(crate) fn parse_datetime(text: &str) -> Option<OffsetDateTime> {
    if let Ok(d) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(d);
    }
    if let Ok(d) = PrimitiveDateTime::parse(
        text,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    ) {
        return Some(d.assume_utc());
    }
    // .NET's form: a fraction and no offset (UTC).
    if let Ok(d) = PrimitiveDateTime::parse(
        text,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]"),
    ) {
        return Some(d.assume_utc());
    }
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .ok()
        .map(|d| d.midnight().assume_utc())
}

/// The value of `key` in `map`, preferring an exact match, else ignoring case.
pub(crate) fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// "a string", "an object", ... for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::{date, datetime};

    #[test]
    fn formats_and_parses() {
        let t = datetime!(2026-03-01 10:00:00 UTC);
        assert_eq!(timestamp(t), json!("2026-03-01T10:00:00Z"));
        assert_eq!(
            midnight(date!(2026 - 03 - 01)),
            json!("2026-03-01T00:00:00Z")
        );
        assert_eq!(day(date!(2026 - 03 - 01)), json!("2026-03-01"));
        assert_eq!(
            serde_json::to_value(Ts(t)).unwrap(),
            json!("2026-03-01T10:00:00Z")
        );
        assert_eq!(parse_datetime("2026-03-01T12:00:00+02:00"), Some(t));
        assert_eq!(parse_datetime("2026-03-01T10:00:00"), Some(t));
        assert_eq!(
            parse_datetime("2026-03-01"),
            Some(datetime!(2026-03-01 0:00 UTC))
        );
        assert_eq!(parse_datetime("yesterday"), None);
    }

    #[test]
    fn values() {
        let map = json!({"MaxRecords": 5}).as_object().unwrap().clone();
        assert_eq!(get_ci(&map, "maxrecords"), Some(&json!(5)));
        assert_eq!(get_ci(&map, "nope"), None);
        assert_eq!(kind(&json!([])), "an array");
        assert_eq!(quantity(25.0), json!(25));
        assert_eq!(quantity(2.5), json!(2.5));
        assert_eq!((money(4510), cents(45.1)), (45.1, 4510));
    }
}
