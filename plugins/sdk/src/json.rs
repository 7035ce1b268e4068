//! Reading a PSA's JSON records leniently.
//!
//! PSA answers are loose: a field may be missing or `null`, a name may be `""` or padded with
//! blanks, an id or a postal code may come as a number or as a string, a flag as `true` or `1`.
//! These accessors read a field the same way whatever of those forms it takes, so a mapping
//! function reads as a list of fields. Money and quantities are [`crate::decimal`]'s, times
//! [`crate::time`]'s.
//!
//! ```
//! use psa_sdk::json;
//! use serde_json::json;
//!
//! let v = json!({"id": 19, "name": " Acme ", "zip": 33602, "phone": "", "inactiveFlag": 0});
//! assert_eq!(json::id(&v["id"]).as_deref(), Some("19"));
//! assert_eq!(json::text(&v, "name").as_deref(), Some("Acme"));
//! assert_eq!(json::text(&v, "zip").as_deref(), Some("33602"));
//! assert_eq!(json::text(&v, "phone"), None);
//! assert!(!json::flag(&v, "inactiveFlag", true));
//! assert!(json::flag(&v, "activeFlag", true));
//! ```

use serde_json::Value;

/// How many characters of a record [`excerpt`] keeps.
pub const EXCERPT_CHARS: usize = 200;

/// The object's field `key`, if present and not null.
pub fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

/// Field `key` as text: a string, trimmed, or a number as written; `None` when it is absent,
/// null, blank or of another type.
pub fn text(v: &Value, key: &str) -> Option<String> {
    match field(v, key)? {
        Value::String(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Field `key` as a boolean: `true`/`false`, or a number (0 is false, any other whole number
/// true); `default` when it is absent, null or of another type.
pub fn flag(v: &Value, key: &str, default: bool) -> bool {
    match field(v, key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64().map_or(default, |i| i != 0),
        _ => default,
    }
}

/// An id given as a number or a string (trimmed, not blank).
pub fn id(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string),
        _ => None,
    }
}

/// The start of a record, at most [`EXCERPT_CHARS`] characters, to quote in a malformed-answer
/// error.
pub fn excerpt(v: &Value) -> String {
    crate::message::excerpt(&v.to_string(), EXCERPT_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_and_texts() {
        let v = json!({
            "name": "  Acme Dental ",
            "blank": "   ",
            "nothing": null,
            "zip": 33602,
            "ratio": 1.5,
            "flagged": true,
            "list": ["a"],
        });
        assert_eq!(field(&v, "nothing"), None);
        assert_eq!(field(&v, "missing"), None);
        assert_eq!(field(&v, "zip"), Some(&json!(33602)));
        assert_eq!(text(&v, "name").as_deref(), Some("Acme Dental"));
        assert_eq!(text(&v, "zip").as_deref(), Some("33602"));
        assert_eq!(text(&v, "ratio").as_deref(), Some("1.5"));
        for absent in ["blank", "nothing", "missing", "flagged", "list"] {
            assert_eq!(text(&v, absent), None, "{absent}");
        }
        // Not an object: every field is absent.
        assert_eq!(text(&json!("name"), "name"), None);
        assert_eq!(field(&json!([1]), "0"), None);
    }

    #[test]
    fn flags() {
        let v = json!({"t": true, "f": false, "one": 1, "zero": 0, "two": 2, "s": "true", "x": 1.5, "n": null});
        assert!(flag(&v, "t", false));
        assert!(!flag(&v, "f", true));
        assert!(flag(&v, "one", false));
        assert!(!flag(&v, "zero", true));
        assert!(flag(&v, "two", false));
        for default in [true, false] {
            for other in ["s", "x", "n", "missing"] {
                assert_eq!(flag(&v, other, default), default, "{other}");
            }
        }
    }

    #[test]
    fn ids_and_excerpts() {
        assert_eq!(id(&json!(42)).as_deref(), Some("42"));
        assert_eq!(
            id(&json!(18446744073709551615u64)).as_deref(),
            Some("18446744073709551615")
        );
        assert_eq!(id(&json!(" T-42 ")).as_deref(), Some("T-42"));
        for bad in [
            json!(""),
            json!("  "),
            json!(null),
            json!(true),
            json!({"id": 1}),
        ] {
            assert_eq!(id(&bad), None, "{bad}");
        }
        assert_eq!(excerpt(&json!({"id": 1})), r#"{"id":1}"#);
        let long = json!({"text": "x".repeat(500)});
        assert_eq!(excerpt(&long).chars().count(), EXCERPT_CHARS + 1);
        assert!(excerpt(&long).ends_with('…'));
    }
}
