//! The tool's records as the workflows read them (customers to link, devices to sync): a JSON
//! array or JSON lines (one object a line, blank lines skipped), bounded in count and in line
//! size, each parsed with its position (`customer 3`, `line 7`) for the caller's errors.

use anyhow::{Context, bail};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// How [`read`] names and bounds one kind of record.
pub struct Records<'a> {
    /// One record, in messages (`customer`).
    pub noun: &'a str,
    /// Several (`customers`).
    pub plural: &'a str,
    /// At most this many records.
    pub max: usize,
    /// At most this many bytes a line (JSON lines).
    pub max_line_bytes: usize,
    /// The record's fields, named when one does not parse (`id, name, emails`).
    pub fields: &'a str,
}

/// The records of `text`, each with its position.
pub fn read<T: DeserializeOwned>(text: &str, r: &Records<'_>) -> anyhow::Result<Vec<(String, T)>> {
    let Records {
        noun,
        plural,
        max,
        max_line_bytes,
        fields,
    } = r;
    let parse_error = |at: &str| format!("{at}: not a {noun} object ({fields})");
    if text.trim_start().starts_with('[') {
        let items: Vec<Value> = serde_json::from_str(text).with_context(|| {
            format!("the {plural} are not a JSON array: send an array of objects or JSON lines")
        })?;
        if items.len() > *max {
            bail!(
                "{} {plural}, over the {max} of one batch: send them in parts",
                items.len()
            );
        }
        return items
            .into_iter()
            .enumerate()
            .map(|(n, v)| {
                let at = format!("{noun} {}", n + 1);
                let record = serde_json::from_value(v).with_context(|| parse_error(&at))?;
                Ok((at, record))
            })
            .collect();
    }
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = format!("line {}", n + 1);
        if line.trim().is_empty() {
            continue;
        }
        if line.len() > *max_line_bytes {
            bail!(
                "{at}: {} bytes, over the {max_line_bytes} of one {noun}",
                line.len()
            );
        }
        if out.len() == *max {
            bail!("more than {max} {plural}: send them in parts");
        }
        let record = serde_json::from_str(line).with_context(|| parse_error(&at))?;
        out.push((at, record));
    }
    Ok(out)
}
