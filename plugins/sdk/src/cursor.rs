//! A small versioned `key=value` codec for the opaque cursors of paged reads.
//!
//! A `list-*` operation returns one page and a `next-cursor`; the host stores it in its checkpoint
//! (possibly for hours, across restarts and connector upgrades) and passes it back for the next
//! page. A cursor should therefore pin everything that decides which records a page holds (the
//! entity, the page size, the filter of the first page, the position) and be refused, with an
//! error naming `cursor`, when it is not one this connector wrote for this entity.
//!
//! The text is a query string: `v={version}&e={entity}` and then the connector's fields, each
//! value percent-encoded (`v=1&e=companies&size=100&after=1234&since=2026-01-01T00%3A00%3A00Z`).
//! [`Writer`] writes it; [`Reader`] checks the version, the entity and that every field is known
//! and given once, and then reads the fields.
//!
//! ```
//! use psa_sdk::cursor::{self, Reader, Writer};
//!
//! const VERSION: u32 = 1;
//!
//! let mut w = Writer::new(VERSION, "companies");
//! w.field("size", 100).field("after", 1234);
//! w.optional("since", Some("2026-01-01T00:00:00Z"));
//! let text = w.finish();
//! assert_eq!(text, "v=1&e=companies&size=100&after=1234&since=2026-01-01T00%3A00%3A00Z");
//!
//! let r = Reader::decode(VERSION, "companies", &text, &["size", "after", "since"])?;
//! let size: u32 = r.require("size", "bad page size", cursor::number_in(1..=500))?;
//! let after: u64 = r.require("after", "bad position", cursor::number)?;
//! let since = r.parse("since", "bad updated-since", cursor::utc_time)?;
//! assert_eq!((size, after, since.as_deref()), (100, 1234, Some("2026-01-01T00:00:00Z")));
//!
//! // Another entity's cursor, another version, an unknown field: `invalid-input` on `cursor`.
//! assert!(Reader::decode(VERSION, "tickets", &text, &["size", "after", "since"]).is_err());
//! assert!(Reader::decode(2, "companies", &text, &["size", "after", "since"]).is_err());
//! assert!(Reader::decode(VERSION, "companies", &text, &["size", "after"]).is_err());
//! # Ok::<(), psa_sdk::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::http::{decode_component, encode_component};
use core::fmt::Display;
use core::ops::RangeInclusive;
use core::str::FromStr;

/// The input every cursor error names.
pub const FIELD: &str = "cursor";

/// Writes a cursor: `v={version}&e={entity}`, then each field in the order given.
#[derive(Debug, Clone)]
pub struct Writer {
    text: String,
}

impl Writer {
    /// A cursor of format `version` for the read of `entity` (`companies`, `tickets`, ...).
    pub fn new(version: u32, entity: &str) -> Self {
        Writer {
            text: format!("v={version}&e={}", encode_component(entity)),
        }
    }

    /// Appends `key=value`, the value percent-encoded. `key` must be a plain name (letters,
    /// digits, `-`, `_`) other than `v` and `e`.
    pub fn field(&mut self, key: &str, value: impl Display) -> &mut Self {
        debug_assert!(
            !matches!(key, "v" | "e" | "")
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')),
            "cursor key `{key}`"
        );
        self.text.push('&');
        self.text.push_str(key);
        self.text.push('=');
        self.text.push_str(&encode_component(&value.to_string()));
        self
    }

    /// Appends `key=value` when there is a value.
    pub fn optional(&mut self, key: &str, value: Option<impl Display>) -> &mut Self {
        if let Some(value) = value {
            self.field(key, value);
        }
        self
    }

    /// The cursor text.
    pub fn finish(&self) -> String {
        self.text.clone()
    }
}

/// A cursor read back: its version and entity checked, its fields known and decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    entity: String,
    fields: Vec<(String, String)>,
}

impl Reader {
    /// Reads `text` as a cursor of format `version` for the read of `entity`, whose fields are
    /// among `keys` (besides `v` and `e`). Anything else (no `v` or another version, another
    /// entity, an unknown or repeated field, a pair without `=`) is an `invalid-input` error
    /// naming `cursor`.
    pub fn decode(version: u32, entity: &str, text: &str, keys: &[&str]) -> Result<Self> {
        let bad = |why: &str| invalid(entity, why);
        let mut fields: Vec<(String, String)> = Vec::new();
        let (mut v, mut e) = (None, None);
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').ok_or_else(|| bad("malformed"))?;
            let value = decode_component(value);
            let slot = match key {
                "v" => &mut v,
                "e" => &mut e,
                _ if keys.contains(&key) => {
                    if fields.iter().any(|(k, _)| k == key) {
                        return Err(bad("repeated field"));
                    }
                    fields.push((key.to_string(), value));
                    continue;
                }
                _ => return Err(bad("unknown field")),
            };
            if slot.replace(value).is_some() {
                return Err(bad("repeated field"));
            }
        }
        if v != Some(version.to_string()) {
            return Err(bad("unknown version"));
        }
        if e.as_deref() != Some(entity) {
            return Err(bad("it belongs to another entity"));
        }
        Ok(Reader {
            entity: entity.to_string(),
            fields,
        })
    }

    /// The decoded value of field `key`, if the cursor has it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Field `key` read by `read` (for example [`number`]), if the cursor has it; a value `read`
    /// refuses is an error saying `why`.
    pub fn parse<T>(
        &self,
        key: &str,
        why: &str,
        read: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>> {
        self.get(key)
            .map(|v| read(v).ok_or_else(|| self.invalid(why)))
            .transpose()
    }

    /// Like [`Reader::parse`], and a missing field is an error saying `why` too.
    pub fn require<T>(
        &self,
        key: &str,
        why: &str,
        read: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T> {
        self.parse(key, why, read)?.ok_or_else(|| self.invalid(why))
    }

    /// The `invalid-input` error of this cursor: `why` says what is wrong with it.
    pub fn invalid(&self, why: &str) -> Error {
        invalid(&self.entity, why)
    }
}

/// The error of a cursor that is not one of this connector's `entity` read.
fn invalid(entity: &str, why: &str) -> Error {
    Error::invalid(
        FIELD,
        format!(
            "not a cursor of this connector's {entity} read ({why}): restart the sweep without a cursor"
        ),
    )
}

/// Reads a number written by [`Writer::field`]: digits as `Display` writes them (no sign, no
/// leading zeros, no blanks).
pub fn number<T: FromStr + Display>(value: &str) -> Option<T> {
    value.parse::<T>().ok().filter(|n| n.to_string() == value)
}

/// A reader of numbers within `range` (a page size between 1 and the PSA's maximum).
pub fn number_in<T: FromStr + Display + PartialOrd>(
    range: RangeInclusive<T>,
) -> impl FnOnce(&str) -> Option<T> {
    move |value| number(value).filter(|n| range.contains(n))
}

/// Reads a time in the contract's form `YYYY-MM-DDTHH:MM:SSZ` (see [`crate::time::is_utc`]).
pub fn utc_time(value: &str) -> Option<String> {
    crate::time::is_utc(value).then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &["size", "page", "c"];

    fn field_of(e: Error) -> String {
        match e {
            Error::InvalidInput(p) => {
                assert!(p.message.contains("restart the sweep"), "{}", p.message);
                p.field
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn round_trips_with_encoding() {
        let conditions = r#"summary = "a&b=c \"d\" +e%" and x = [2026-01-01T00:00:00Z]"#;
        let mut w = Writer::new(1, "tickets/open");
        w.field("size", 7u32)
            .field("page", 3u32)
            .optional("c", Some(conditions))
            .optional("x", None::<&str>);
        let text = w.finish();
        assert!(
            text.starts_with("v=1&e=tickets%2Fopen&size=7&page=3&c=summary%20%3D%20%22a%26b%3Dc")
        );
        assert!(!text.contains('+') && !text.contains(' ') && !text.contains('"'));
        let r = Reader::decode(1, "tickets/open", &text, KEYS).unwrap();
        assert_eq!(r.get("c"), Some(conditions));
        assert_eq!(r.require("size", "bad size", number::<u32>).unwrap(), 7);
        assert_eq!(r.parse("page", "bad page", number::<u32>).unwrap(), Some(3));
        assert_eq!(r.get("x"), None);
        assert_eq!(r.parse("x", "bad x", number::<u32>).unwrap(), None);
        // Empty pairs are ignored; the order of the fields does not matter.
        let r = Reader::decode(1, "tickets", "&c=x&&e=tickets&v=1&", KEYS).unwrap();
        assert_eq!(r.get("c"), Some("x"));
    }

    #[test]
    fn refuses_other_cursors() {
        for text in [
            "",
            "garbage",
            "v=1",
            "e=companies",
            "v=2&e=companies&size=10",
            "v=01&e=companies&size=10",
            "v=1&e=contacts&size=10",
            "v=1&e=companies&size=10&x=1",
            "v=1&e=companies&size=10&size=11",
            "v=1&v=1&e=companies",
            "v=1&e=companies&e=companies",
            "v=1&e=companies&size",
        ] {
            assert_eq!(
                field_of(Reader::decode(1, "companies", text, KEYS).unwrap_err()),
                FIELD,
                "{text}"
            );
        }
    }

    #[test]
    fn reads_fields_or_says_why_not() {
        let r = Reader::decode(1, "companies", "v=1&e=companies&size=0&page=x", KEYS).unwrap();
        assert_eq!(
            field_of(
                r.require("size", "bad page size", number_in(1..=100u32))
                    .unwrap_err()
            ),
            FIELD
        );
        assert!(r.parse("page", "bad page", number::<u32>).is_err());
        assert!(
            r.require("c", "no conditions", |v| Some(v.to_string()))
                .is_err()
        );
        match r.invalid("bad page") {
            Error::InvalidInput(p) => assert_eq!(
                p.message,
                "not a cursor of this connector's companies read (bad page): restart the sweep without a cursor"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn field_readers() {
        assert_eq!(number::<u32>("42"), Some(42));
        assert_eq!(number::<u64>("0"), Some(0));
        for bad in ["", "+42", "042", " 42", "-1", "4.2", "4294967296"] {
            assert_eq!(number::<u32>(bad), None, "{bad}");
        }
        assert_eq!(number::<i64>("-1"), Some(-1));
        assert_eq!(number_in(1..=500u32)("500"), Some(500));
        assert_eq!(number_in(1..=500u32)("501"), None);
        assert_eq!(number_in(1..=500u32)("0"), None);
        assert_eq!(
            utc_time("2026-01-01T00:00:00Z").as_deref(),
            Some("2026-01-01T00:00:00Z")
        );
        assert_eq!(utc_time("2026-01-01T01:00:00+01:00"), None);
        assert_eq!(utc_time("yesterday"), None);
    }
}
