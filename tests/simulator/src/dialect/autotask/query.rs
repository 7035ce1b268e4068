//! Queries: the query model (`MaxRecords`, `IncludeFields`, `Filter`; keys ignore case), pages
//! in ascending id order with `pageDetails`, the opaque `paging` position of `nextPageUrl`, and
//! counts.

use serde_json::{Map, Value, json};

use super::entities::AtEntity;
use super::error::AtError;
use super::filter::{self, Candidate, Filter};
use super::render::Rec;
use crate::data::{DataSet, Id};
use crate::dialect::json::get_ci;

/// The largest (and default) page.
pub(crate) const MAX_RECORDS: usize = 500;

/// A parsed query.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Query {
    pub(crate) max_records: usize,
    /// Canonical names of the fields to return (empty: all).
    pub(crate) include: Vec<&'static str>,
    pub(crate) filters: Vec<Filter>,
}

impl Query {
    /// Parses a query model (a POST body, or the `search` parameter of a GET).
    pub(crate) fn parse(body: &[u8], entity: AtEntity) -> Result<Query, AtError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| AtError::invalid(format!("The query is not valid JSON: {e}")))?;
        let Value::Object(model) = value else {
            return Err(AtError::invalid(
                "The query must be a JSON object such as {\"filter\":[{\"op\":\"gt\",\"field\":\"id\",\"value\":0}]}.",
            ));
        };
        let max_records = match get_ci(&model, "maxRecords") {
            None | Some(Value::Null) => MAX_RECORDS,
            Some(v) => match v.as_i64() {
                Some(n) if n >= 1 => usize::try_from(n).unwrap_or(MAX_RECORDS).min(MAX_RECORDS),
                _ => {
                    return Err(AtError::invalid(format!(
                        "Invalid value {v} for field MaxRecords: it must be between 1 and 500."
                    )));
                }
            },
        };
        let include = match get_ci(&model, "includeFields") {
            Some(Value::Array(names)) => names
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|n| entity.field(n))
                .map(|f| f.name)
                .collect(),
            _ => Vec::new(),
        };
        let filters = match get_ci(&model, "filter") {
            Some(Value::Array(items)) if !items.is_empty() => {
                filter::parse(items, entity).map_err(AtError::invalid)?
            }
            _ => {
                return Err(AtError::invalid(
                    "A query must have at least one filter, for example {\"op\":\"gt\",\"field\":\"id\",\"value\":0}.",
                ));
            }
        };
        Ok(Query {
            max_records,
            include,
            filters,
        })
    }
}

/// Where the next page of a query starts: `{"pageSize":N,"afterId":X}` as the `paging`
/// parameter of `nextPageUrl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Paging {
    pub(crate) page_size: usize,
    pub(crate) after_id: Id,
}

impl Paging {
    pub(crate) fn encode(self) -> String {
        json!({"pageSize": self.page_size, "afterId": self.after_id}).to_string()
    }

    pub(crate) fn decode(text: &str) -> Result<Paging, AtError> {
        let bad = || AtError::invalid(format!("Invalid value {text} for parameter paging."));
        let v: Value = serde_json::from_str(text).map_err(|_| bad())?;
        let page_size = v
            .get("pageSize")
            .and_then(Value::as_u64)
            .filter(|n| (1..=MAX_RECORDS as u64).contains(n))
            .ok_or_else(bad)?;
        let after_id = v.get("afterId").and_then(Value::as_u64).ok_or_else(bad)?;
        Ok(Paging {
            page_size: page_size as usize,
            after_id,
        })
    }
}

/// One page of matching records.
pub(crate) struct Page {
    pub(crate) items: Vec<Value>,
    /// Where the next page starts, when more records match.
    pub(crate) next: Option<Paging>,
}

fn project(record: Value, include: &[&str]) -> Value {
    if include.is_empty() {
        return record;
    }
    let Value::Object(all) = record else {
        return record;
    };
    let mut out = Map::new();
    for (k, v) in all {
        if k == "id" || include.contains(&k.as_str()) {
            out.insert(k, v);
        }
    }
    Value::Object(out)
}

/// The records matching `q` after `paging` (the first page when none), in ascending id order.
pub(crate) fn page(data: &DataSet, entity: AtEntity, q: &Query, paging: Option<Paging>) -> Page {
    let size = paging.map_or(q.max_records, |p| p.page_size);
    let after = paging
        .map_or(0, |p| p.after_id)
        .max(filter::id_floor(&q.filters));
    let ix = data.index();
    let mut items = Vec::with_capacity(size.min(MAX_RECORDS));
    let mut last = after;
    let mut more = false;
    for id in Rec::ids_after(data, entity, after) {
        let Some(rec) = Rec::get(data, entity, id) else {
            continue;
        };
        if !Candidate::new(rec, &ix).matches(&q.filters) {
            continue;
        }
        if items.len() == size {
            more = true;
            break;
        }
        items.push(project(rec.render(&ix, entity), &q.include));
        last = id;
    }
    Page {
        items,
        next: more.then_some(Paging {
            page_size: size,
            after_id: last,
        }),
    }
}

/// How many records match `q`.
pub(crate) fn count(data: &DataSet, entity: AtEntity, q: &Query) -> usize {
    let ix = data.index();
    Rec::ids_after(data, entity, filter::id_floor(&q.filters))
        .filter_map(|id| Rec::get(data, entity, id))
        .filter(|rec| Candidate::new(*rec, &ix).matches(&q.filters))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_model_ignoring_key_case() {
        let q = Query::parse(
            br#"{"MaxRecords":9000,"IncludeFields":["companyname","nosuch"],"Filter":[{"op":"gt","field":"id","value":0}]}"#,
            AtEntity::Companies,
        )
        .unwrap();
        assert_eq!(q.max_records, 500);
        assert_eq!(q.include, vec!["companyName"]);
        let q = Query::parse(
            br#"{"maxRecords":7,"filter":[{"op":"gt","field":"id","value":0}]}"#,
            AtEntity::Companies,
        )
        .unwrap();
        assert_eq!(q.max_records, 7);
        for bad in [
            &br#"{"filter":[]}"#[..],
            br#"{}"#,
            br#"[]"#,
            b"{",
            br#"{"maxRecords":0,"filter":[{"op":"gt","field":"id","value":0}]}"#,
        ] {
            assert_eq!(
                Query::parse(bad, AtEntity::Companies).unwrap_err().status,
                500
            );
        }
        let p = Paging {
            page_size: 5,
            after_id: 77,
        };
        assert_eq!(Paging::decode(&p.encode()).unwrap(), p);
        assert!(Paging::decode("x").is_err());
        assert!(Paging::decode(r#"{"pageSize":501,"afterId":1}"#).is_err());
    }

    #[test]
    fn pages_follow_each_other_without_gaps() {
        let data = DataSet::sample(4, 40);
        let q = Query::parse(
            br#"{"maxRecords":7,"includeFields":["companyName"],"filter":[{"op":"gt","field":"id","value":0}]}"#,
            AtEntity::Companies,
        )
        .unwrap();
        let mut seen = Vec::new();
        let mut paging = None;
        loop {
            let p = page(&data, AtEntity::Companies, &q, paging);
            assert!(p.items.len() <= 7);
            for item in &p.items {
                assert_eq!(item.as_object().unwrap().len(), 2);
                seen.push(item["id"].as_u64().unwrap());
            }
            match p.next {
                Some(n) => paging = Some(n),
                None => break,
            }
        }
        let live: Vec<Id> = data
            .companies
            .values()
            .filter(|c| !c.deleted)
            .map(|c| c.id)
            .collect();
        assert_eq!(seen, live);
        assert_eq!(count(&data, AtEntity::Companies, &q), live.len());
    }
}
