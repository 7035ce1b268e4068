//! Datasets: the PSA entities outside the typed ones (time entries, opportunities, invoices, ...),
//! served by `list-dataset` as the PSA's own JSON.
//!
//! A connector keeps a table of its datasets (name, label, description, endpoint, the record's
//! last-modified field, page size); [`find`] picks the one the host asked for or refuses an
//! unknown name the way the contract says (`invalid-input` naming `dataset`), and [`records`]
//! turns a list answer into [`DatasetRecord`]s: the record's id, its last change in the
//! contract's UTC form and its own text as `raw`.
//!
//! Field paths name nested fields with `/`, as ConnectWise conditions do (`_info/lastUpdated`).
//!
//! ```
//! use psa_sdk::dataset::{self, Fields};
//!
//! let fields = Fields::new("id", Some("_info/lastUpdated"));
//! let body = br#"[{"id": 7, "hours": 1.5, "_info": {"lastUpdated": "2026-03-01T12:00:00+02:00"}}]"#;
//! let records = dataset::records(body, &fields).unwrap();
//! assert_eq!(records[0].id, "7");
//! assert_eq!(records[0].updated_at.as_deref(), Some("2026-03-01T10:00:00Z"));
//! assert_eq!(records[0].raw, r#"{"id": 7, "hours": 1.5, "_info": {"lastUpdated": "2026-03-01T12:00:00+02:00"}}"#);
//!
//! let names = ["time-entries", "invoices"];
//! assert!(dataset::find(&names, "invoices", |n| n).is_ok());
//! assert_eq!(dataset::find(&names, "tickets", |n| n).unwrap_err().kind(), "invalid-input");
//! ```

use crate::error::{Error, Result};
use crate::types::DatasetRecord;
use crate::{json, message, time};
use serde_json::Value;
use serde_json::value::RawValue;

/// The field names a dataset's records are read by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields<'a> {
    /// The record's id (`id`).
    pub id: &'a str,
    /// Its last-modified time (`lastModifiedDateTime`, `_info/lastUpdated`); `None` when the
    /// entity has none (the dataset is then read in full sweeps only).
    pub updated_at: Option<&'a str>,
}

impl<'a> Fields<'a> {
    /// The id field and the last-modified field.
    pub const fn new(id: &'a str, updated_at: Option<&'a str>) -> Self {
        Fields { id, updated_at }
    }
}

/// The dataset named `name` among `datasets` (`name_of` reads a dataset's name), or
/// `invalid-input` naming `dataset` and listing the names served.
pub fn find<'a, D>(datasets: &'a [D], name: &str, name_of: impl Fn(&D) -> &str) -> Result<&'a D> {
    datasets.iter().find(|d| name_of(d) == name).ok_or_else(|| {
        let known: Vec<&str> = datasets.iter().map(&name_of).collect();
        Error::invalid(
            "dataset",
            format!(
                "unknown dataset `{name}` (this connector serves: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        )
    })
}

/// A field of `v` by a `/`-separated path.
fn at<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('/').try_fold(v, |v, key| json::field(v, key))
}

/// One record from its own JSON text. A record without an id is a malformed answer; a missing
/// or unreadable last-modified time is `None` (times without an offset are UTC).
pub fn record(raw: &str, fields: &Fields<'_>) -> Result<DatasetRecord> {
    let v: Value = serde_json::from_str(raw)?;
    let id = at(&v, fields.id).and_then(json::id).ok_or_else(|| {
        Error::malformed(format!(
            "a record without `{}`: {}",
            fields.id,
            message::excerpt(raw, json::EXCERPT_CHARS)
        ))
    })?;
    let updated_at = fields
        .updated_at
        .and_then(|path| at(&v, path))
        .and_then(Value::as_str)
        .and_then(time::to_utc_assuming_utc);
    Ok(DatasetRecord {
        id,
        updated_at,
        raw: raw.to_string(),
    })
}

/// The records of a list slice (each record's own text, as [`json::records`] or
/// [`json::Envelope::records`] return them).
pub fn records_of(raws: &[&RawValue], fields: &Fields<'_>) -> Result<Vec<DatasetRecord>> {
    raws.iter().map(|r| record(r.get(), fields)).collect()
}

/// The records of a list answer that is a JSON array.
pub fn records(body: &[u8], fields: &Fields<'_>) -> Result<Vec<DatasetRecord>> {
    records_of(&json::records(body)?, fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ids_times_and_raw_text() {
        let fields = Fields::new("id", Some("lastModifiedDateTime"));
        // Autotask's forms: seven fraction digits, with and without an offset.
        let body = br#"[
            {"id": 1, "lastModifiedDateTime": "2026-03-01T10:00:00.1234567"},
            {"id": "2", "lastModifiedDateTime": "2026-03-01T10:00:00.1234567-05:00"},
            {"id": 3, "lastModifiedDateTime": "2026-03-01T10:00:00"},
            {"id": 4, "lastModifiedDateTime": null}
        ]"#;
        let got: Vec<(String, Option<String>)> = records(body, &fields)
            .unwrap()
            .into_iter()
            .map(|r| (r.id, r.updated_at))
            .collect();
        assert_eq!(
            got,
            [
                ("1".into(), Some("2026-03-01T10:00:00Z".into())),
                ("2".into(), Some("2026-03-01T15:00:00Z".into())),
                ("3".into(), Some("2026-03-01T10:00:00Z".into())),
                ("4".into(), None),
            ]
        );
        let nested = Fields::new("id", Some("_info/lastUpdated"));
        let r = record(
            r#"{"id":5,"_info":{"lastUpdated":"2026-01-02T03:04:05Z"}}"#,
            &nested,
        )
        .unwrap();
        assert_eq!(r.updated_at.as_deref(), Some("2026-01-02T03:04:05Z"));
        assert_eq!(
            r.raw,
            r#"{"id":5,"_info":{"lastUpdated":"2026-01-02T03:04:05Z"}}"#
        );
    }

    #[test]
    fn a_record_without_an_id_is_malformed() {
        let e = records(br#"[{"name": "x"}]"#, &Fields::new("id", None)).unwrap_err();
        match e {
            Error::Remote(p) => {
                assert_eq!(p.code.as_deref(), Some("malformed-response"));
                assert!(p.message.contains("`id`"), "{}", p.message);
            }
            other => panic!("{other:?}"),
        }
        assert!(records(br#"{"id": 1}"#, &Fields::new("id", None)).is_err());
    }

    #[test]
    fn an_unknown_name_is_invalid_input_naming_dataset() {
        let names = ["time-entries", "invoices"];
        assert_eq!(
            *find(&names, "time-entries", |n| n).unwrap(),
            "time-entries"
        );
        match find(&names, "Time-Entries", |n| n).unwrap_err() {
            Error::InvalidInput(p) => {
                assert_eq!(p.field, "dataset");
                assert!(p.message.contains("`Time-Entries`"), "{}", p.message);
                assert!(
                    p.message.contains("time-entries, invoices"),
                    "{}",
                    p.message
                );
            }
            other => panic!("{other:?}"),
        }
        let none: [&str; 0] = [];
        assert!(find(&none, "x", |n| n).is_err());
    }
}
