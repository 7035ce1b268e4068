//! Validating the contract's inputs before they reach a PSA: record ids given as text, and the
//! `extra` JSON object of PSA fields that write operations accept.
//!
//! Every error is `invalid-input` naming the input, so the caller knows what to fix.
//!
//! ```
//! use psa_sdk::input;
//! use serde_json::json;
//!
//! assert_eq!(input::positive_id("company-id", " 19 ").unwrap(), 19);
//! assert!(input::positive_id("company-id", "19 or 1=1").is_err());
//!
//! let mut body = serde_json::Map::new();
//! body.insert("summary".into(), json!("Disk full"));
//! body.extend(input::extra_fields(Some(r#"{"severity": "High"}"#), "Acme ticket fields")?);
//! assert_eq!(body["severity"], "High");
//! assert!(input::extra_fields(Some("[1]"), "Acme ticket fields").is_err());
//! assert!(input::extra_fields(None, "Acme ticket fields")?.is_empty());
//! # Ok::<(), psa_sdk::Error>(())
//! ```

use crate::error::{Error, Result};
use serde_json::{Map, Value};

/// The name of the contract's input that carries PSA-specific fields.
pub const EXTRA: &str = "extra";

/// A record id given as text: a positive whole number in plain digits (blanks around it
/// allowed). Anything else (`0`, `-1`, `+3`, `1.5`, `19 or 1=1`) is an `invalid-input` error
/// naming `field`, so an id can be put into a path or a query without quoting.
pub fn positive_id(field: &str, value: &str) -> Result<u64> {
    let trimmed = value.trim();
    match trimmed.parse::<u64>() {
        Ok(n) if n > 0 && trimmed.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(Error::invalid(
            field,
            format!("`{value}` is not a record id (a positive whole number)"),
        )),
    }
}

/// The `extra` input (a JSON object of PSA fields, as text) as a map to merge into a request
/// body; empty when it is absent or blank. Text that is not JSON, or JSON that is not an object,
/// is an `invalid-input` error naming `extra`; `expected` completes its message "must be a JSON
/// object of ..." (for example "ConnectWise fields").
pub fn extra_fields(extra: Option<&str>, expected: &str) -> Result<Map<String, Value>> {
    let Some(extra) = extra.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(Map::new());
    };
    let value: Value = serde_json::from_str(extra)
        .map_err(|e| Error::invalid(EXTRA, format!("not valid JSON: {e}")))?;
    match value {
        Value::Object(fields) => Ok(fields),
        _ => Err(Error::invalid(
            EXTRA,
            format!("must be a JSON object of {expected}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(e: Error) -> String {
        match e {
            Error::InvalidInput(p) => p.field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ids_must_be_positive_integers() {
        assert_eq!(positive_id("company-id", "42").unwrap(), 42);
        assert_eq!(positive_id("company-id", " 7 ").unwrap(), 7);
        assert_eq!(positive_id("company-id", "007").unwrap(), 7);
        assert_eq!(positive_id("id", "18446744073709551615").unwrap(), u64::MAX);
        for bad in [
            "",
            " ",
            "0",
            "-1",
            "+3",
            "1.5",
            "abc",
            "1 or 1=1",
            "1 2",
            "18446744073709551616",
            "T20260302.0001",
        ] {
            assert_eq!(
                field_of(positive_id("company-id", bad).unwrap_err()),
                "company-id",
                "{bad}"
            );
        }
        match positive_id("ticket-id", "x") {
            Err(Error::InvalidInput(p)) => assert!(p.message.contains("`x`"), "{}", p.message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn extra_is_a_json_object_or_nothing() {
        assert!(extra_fields(None, "x").unwrap().is_empty());
        assert!(extra_fields(Some("  "), "x").unwrap().is_empty());
        let fields = extra_fields(Some(r#" {"severity":"High","item":{"id":3}} "#), "x").unwrap();
        assert_eq!(
            Value::Object(fields),
            json!({"severity": "High", "item": {"id": 3}})
        );
        for bad in ["[1]", "{", "1", "\"text\"", "null"] {
            assert_eq!(
                field_of(extra_fields(Some(bad), "x").unwrap_err()),
                EXTRA,
                "{bad}"
            );
        }
        match extra_fields(Some("[]"), "Acme fields (camelCase)") {
            Err(Error::InvalidInput(p)) => {
                assert_eq!(
                    p.message,
                    "must be a JSON object of Acme fields (camelCase)"
                )
            }
            other => panic!("{other:?}"),
        }
    }
}
