//! Autotask query bodies: `{"MaxRecords":n,"IncludeFields":[],"Filter":[...]}`.
//!
//! Filter items are JSON objects (`{"op":"gte","field":"lastActivityDate","value":"..."}`), so an
//! input value can never change a query's structure: text stays a JSON string. Top-level items
//! are AND-ed; an `or` item holds `items`. Autotask refuses a query without a filter, so every
//! query the connector builds carries at least `id gt N`.

use serde_json::{Value, json};

/// The largest page Autotask serves.
pub const MAX_RECORDS: u32 = 500;

/// One filter item.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `{"op": op, "field": field, "value": value}`.
    Cmp {
        /// `eq`, `noteq`, `gt`, `gte`, `lt`, `lte`, `in`, ...
        op: &'static str,
        /// The camelCase field name.
        field: String,
        /// A JSON scalar (or an array for `in`).
        value: Value,
    },
    /// `{"op": "or", "items": [...]}`.
    Or(Vec<Filter>),
}

impl Filter {
    /// A comparison.
    pub fn cmp(op: &'static str, field: &str, value: impl Into<Value>) -> Self {
        Filter::Cmp {
            op,
            field: field.to_string(),
            value: value.into(),
        }
    }

    /// `field eq value`.
    pub fn eq(field: &str, value: impl Into<Value>) -> Self {
        Self::cmp("eq", field, value)
    }

    /// `id gt after`: the keyset position (and the filter every query needs).
    pub fn id_after(after: u64) -> Self {
        Self::cmp("gt", "id", after)
    }

    /// `field in [ids]`.
    pub fn in_ids(field: &str, ids: &[u64]) -> Self {
        Self::cmp("in", field, Value::from(ids.to_vec()))
    }

    /// The JSON item.
    pub fn to_json(&self) -> Value {
        match self {
            Filter::Cmp { op, field, value } => json!({"op": op, "field": field, "value": value}),
            Filter::Or(items) => {
                json!({"op": "or", "items": items.iter().map(Filter::to_json).collect::<Vec<_>>()})
            }
        }
    }

    /// The field names this item mentions (to recognise them in error messages).
    pub fn fields(&self) -> Vec<String> {
        match self {
            Filter::Cmp { field, .. } => vec![field.clone()],
            Filter::Or(items) => items.iter().flat_map(Filter::fields).collect(),
        }
    }
}

/// The filter of an incremental read: records changed at or after `since` by any of `fields`
/// (one field: `gte`; several: an `or` of `gte`s). `None` when the entity has no such field or
/// there is no `since`.
pub fn updated_since(fields: &[&str], since: Option<&str>) -> Option<Filter> {
    let since = since?;
    let mut items: Vec<Filter> = fields
        .iter()
        .map(|f| Filter::cmp("gte", f, since))
        .collect();
    match items.len() {
        0 => None,
        1 => items.pop(),
        _ => Some(Filter::Or(items)),
    }
}

/// A query body.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Records per page (1..=500).
    pub max_records: u32,
    /// The AND-ed filter items.
    pub filter: Vec<Filter>,
}

impl Query {
    /// A query of `filter` with pages of `max_records` (clamped to 1..=500).
    pub fn new(max_records: u32, filter: Vec<Filter>) -> Self {
        Query {
            max_records: max_records.clamp(1, MAX_RECORDS),
            filter,
        }
    }

    /// The JSON body.
    pub fn to_json(&self) -> Value {
        json!({
            "MaxRecords": self.max_records,
            "IncludeFields": [],
            "Filter": self.filter.iter().map(Filter::to_json).collect::<Vec<_>>(),
        })
    }

    /// The body as bytes.
    pub fn body(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    /// Every field the filter mentions.
    pub fn fields(&self) -> Vec<String> {
        self.filter.iter().flat_map(Filter::fields).collect()
    }
}

/// `YYYY-MM-DDT00:00:00Z`: a date (`YYYY-MM-DD`) as the date-time Autotask filters and bodies
/// take.
pub fn midnight(date: &str) -> String {
    format!("{date}T00:00:00Z")
}

/// An Autotask record id (a positive integer) given as text; `field` names the input for the
/// error when it is not one.
pub use psa_sdk::input::positive_id as id;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        let q = Query::new(
            5000,
            vec![
                updated_since(
                    &["lastActivityDate", "lastTrackedModifiedDateTime"],
                    Some("2026-01-01T00:00:00Z"),
                )
                .unwrap(),
                Filter::id_after(0),
            ],
        );
        assert_eq!(
            q.to_json(),
            json!({
                "MaxRecords": 500,
                "IncludeFields": [],
                "Filter": [
                    {"op": "or", "items": [
                        {"op": "gte", "field": "lastActivityDate", "value": "2026-01-01T00:00:00Z"},
                        {"op": "gte", "field": "lastTrackedModifiedDateTime", "value": "2026-01-01T00:00:00Z"},
                    ]},
                    {"op": "gt", "field": "id", "value": 0},
                ]
            })
        );
        assert_eq!(
            q.fields(),
            ["lastActivityDate", "lastTrackedModifiedDateTime", "id"]
        );
        assert_eq!(Query::new(0, vec![]).max_records, 1);
        let body: Value = serde_json::from_slice(
            &Query::new(7, vec![Filter::in_ids("contractID", &[3, 4])]).body(),
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"MaxRecords": 7, "IncludeFields": [], "Filter": [{"op": "in", "field": "contractID", "value": [3, 4]}]})
        );
    }

    #[test]
    fn incremental_filters() {
        assert_eq!(updated_since(&["lastModifiedTime"], None), None);
        assert_eq!(updated_since(&[], Some("2026-01-01T00:00:00Z")), None);
        assert_eq!(
            updated_since(&["lastModifiedTime"], Some("2026-01-01T00:00:00Z")),
            Some(Filter::cmp(
                "gte",
                "lastModifiedTime",
                "2026-01-01T00:00:00Z"
            ))
        );
    }

    #[test]
    fn text_stays_a_string() {
        let f = Filter::eq("title", r#"x"},{"op":"noteq","field":"status","value":5"#);
        let v = f.to_json();
        assert_eq!(
            v["value"],
            r#"x"},{"op":"noteq","field":"status","value":5"#
        );
        assert_eq!(v.as_object().unwrap().len(), 3);
    }

    #[test]
    fn dates_at_midnight() {
        assert_eq!(midnight("2026-03-01"), "2026-03-01T00:00:00Z");
    }
}
