//! Listing engine: filters records with conditions, orders and pages them, renders only the page.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::cmp::Ordering;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value};

use super::conditions::{
    EvalError, FieldPath, Fields, Known, Mode, Scalar, json_values, order_cmp,
};
use super::error::CwError;
use super::query::ListQuery;
use super::render::{CwRecord, strip_nulls};
use super::routes::Collection;
use crate::data::{DataSet, Id};
use crate::dialect::http::{bytes_response, json_response, param};

/// Records of one collection, in id order.
pub(crate) type Records<'a> = Box<dyn DoubleEndedIterator<Item = &'a dyn CwRecord> + 'a>;

/// How many listings [`CwState`] keeps.
const KEPT_LISTINGS: usize = 8;

/// The ids recent listings in id order selected, kept for their next pages. Without them,
/// page-number paging filters the whole collection again for every page: 100 pages of 1,000
/// of 100,000 configurations walked 10 million records, most of the simulator's time in a full
/// sync. A listing is found again by its collection, filters and order, and only while the data
/// set has not changed since (its generation); at most [`KEPT_LISTINGS`] are kept, the oldest
/// dropped first.
#[derive(Debug, Default)]
pub(crate) struct CwState {
    listings: Mutex<Vec<(ListingKey, Arc<Vec<Id>>)>>,
}

/// What selects a listing's records and their order (not the page).
#[derive(Debug, PartialEq, Eq)]
struct ListingKey {
    collection: Collection,
    generation: u64,
    conditions: Option<String>,
    child_conditions: Option<String>,
    descending: bool,
}

impl CwState {
    fn get(&self, key: &ListingKey) -> Option<Arc<Vec<Id>>> {
        let listings = self.listings.lock().unwrap_or_else(|e| e.into_inner());
        listings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, ids)| ids.clone())
    }

    fn put(&self, key: ListingKey, ids: Arc<Vec<Id>>) {
        let mut listings = self.listings.lock().unwrap_or_else(|e| e.into_inner());
        // Listings of older data are of no use again.
        listings.retain(|(k, _)| k.generation == key.generation && *k != key);
        if listings.len() >= KEPT_LISTINGS {
            listings.remove(0);
        }
        listings.push((key, ids));
    }
}

/// A collection whose records are found by id, with the listings kept for it.
pub(crate) struct Indexed<'a> {
    pub(crate) state: &'a CwState,
    pub(crate) collection: Collection,
    /// The generation of the data set being read.
    pub(crate) generation: u64,
    pub(crate) find: &'a dyn Fn(Id) -> Option<&'a dyn CwRecord>,
}

/// A record being filtered: rendered to JSON only when a condition needs more than the fields
/// known without rendering (id, lastUpdated, company/id), and then at most once.
struct View<'a> {
    record: &'a dyn CwRecord,
    data: &'a DataSet,
    json: OnceCell<Value>,
}

impl<'a> View<'a> {
    fn new(record: &'a dyn CwRecord, data: &'a DataSet) -> View<'a> {
        View {
            record,
            data,
            json: OnceCell::new(),
        }
    }

    fn json(&self) -> &Value {
        self.json.get_or_init(|| self.record.render(self.data))
    }

    fn into_json(self) -> Value {
        match self.json.into_inner() {
            Some(v) => v,
            None => self.record.render(self.data),
        }
    }

    /// Appends the record's JSON, reusing the value rendered for the conditions if there is one.
    fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        match self.json.get() {
            Some(v) => serde_json::to_writer(out, &strip_nulls(v.clone())),
            None => self.record.write(self.data, out),
        }
    }
}

impl Fields for View<'_> {
    fn values(&self, path: &FieldPath, mode: Mode) -> Result<Vec<Scalar<'_>>, EvalError> {
        if mode == Mode::Conditions {
            match path.known {
                Known::Id => return Ok(vec![Scalar::Num(self.record.id() as f64)]),
                Known::LastUpdated => return Ok(vec![Scalar::Date(self.record.last_updated())]),
                Known::CompanyId => {
                    if let Some(id) = self.record.company_id() {
                        return Ok(vec![Scalar::Num(id as f64)]);
                    }
                }
                Known::Other => {}
            }
        }
        json_values(self.json(), path, mode)
    }
}

fn keep(q: &ListQuery, view: &View<'_>) -> Result<bool, CwError> {
    if view.record.hidden_by_default()
        && !q
            .conditions
            .as_ref()
            .is_some_and(|c| c.mentions("deletedFlag"))
    {
        return Ok(false);
    }
    if let Some(c) = &q.conditions
        && !c
            .eval(view, Mode::Conditions)
            .map_err(|e| CwError::bad_param("conditions", e.message))?
    {
        return Ok(false);
    }
    if let Some(c) = &q.child_conditions
        && !c
            .eval(view, Mode::Children)
            .map_err(|e| CwError::bad_param("childConditions", e.message))?
    {
        return Ok(false);
    }
    Ok(true)
}

fn owned(s: Scalar<'_>) -> Scalar<'static> {
    match s {
        Scalar::Null => Scalar::Null,
        Scalar::Bool(b) => Scalar::Bool(b),
        Scalar::Num(n) => Scalar::Num(n),
        Scalar::Date(d) => Scalar::Date(d),
        Scalar::Str(s) => Scalar::Str(Cow::Owned(s.into_owned())),
        Scalar::Object => Scalar::Object,
    }
}

fn sort_key(q: &ListQuery, view: &View<'_>) -> Result<Vec<Scalar<'static>>, CwError> {
    q.order
        .iter()
        .map(|k| {
            let mut values = view
                .values(&k.field, Mode::Conditions)
                .map_err(|e| CwError::bad_param("orderBy", e.message))?;
            Ok(owned(values.pop().unwrap_or(Scalar::Null)))
        })
        .collect()
}

/// Copies the `fields` of `src` (a partial response).
fn project(src: Value, fields: &[FieldPath]) -> Value {
    fn copy(src: &Value, segments: &[String], out: &mut Map<String, Value>) {
        let Some(obj) = src.as_object() else { return };
        let Some((key, value)) = obj
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&segments[0]))
        else {
            return;
        };
        if segments.len() == 1 || !value.is_object() {
            out.insert(key.clone(), value.clone());
            return;
        }
        if let Value::Object(inner) = out
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()))
        {
            copy(value, &segments[1..], inner);
        }
    }
    let mut out = Map::new();
    for f in fields {
        copy(&src, &f.segments, &mut out);
    }
    Value::Object(out)
}

fn serialisation_failed(e: serde_json::Error) -> CwError {
    CwError::internal(format!("the response could not be serialised: {e}"))
}

/// One record as a response, honouring `fields`.
pub(crate) fn record_response(
    record: &dyn CwRecord,
    data: &DataSet,
    fields: Option<&[FieldPath]>,
    status: StatusCode,
) -> Result<Response, CwError> {
    match fields {
        Some(f) => Ok(json_response(
            status,
            &strip_nulls(project(record.render(data), f)),
        )),
        None => {
            let mut bytes = Vec::with_capacity(1024);
            record
                .write(data, &mut bytes)
                .map_err(serialisation_failed)?;
            Ok(bytes_response(status, bytes))
        }
    }
}

/// `GET .../count`: `{"count": n}` for the records the conditions select.
pub(crate) fn count(
    q: &ListQuery,
    data: &DataSet,
    records: Records<'_>,
) -> Result<Response, CwError> {
    let mut n = 0u64;
    for record in records {
        if keep(q, &View::new(record, data))? {
            n += 1;
        }
    }
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({ "count": n }),
    ))
}

/// A page of records as a bare JSON array, with a `Link` header to the other pages.
pub(crate) fn list<'a>(
    q: &ListQuery,
    data: &'a DataSet,
    records: Records<'a>,
    indexed: Option<Indexed<'a>>,
) -> Result<Response, CwError> {
    let size = q.page_size;
    let (page, links) = if q.forward_only {
        let after = q.page_id.unwrap_or(0);
        let mut page = Vec::with_capacity(size.min(1024));
        let mut more = false;
        for record in records.filter(|r| r.id() > after) {
            let view = View::new(record, data);
            if !keep(q, &view)? {
                continue;
            }
            if page.len() == size {
                more = true;
                break;
            }
            page.push(view);
        }
        let links = match (more, page.last()) {
            (true, Some(last)) => vec![(q.link("pageId", last.record.id()), "next")],
            _ => Vec::new(),
        };
        (page, links)
    } else {
        let skip = (q.page - 1).saturating_mul(size);
        let mut total = 0usize;
        let mut page = Vec::with_capacity(size.min(1024));
        if let (true, Some(indexed)) = (q.by_id(), &indexed) {
            let key = ListingKey {
                collection: indexed.collection,
                generation: indexed.generation,
                conditions: param(&q.pairs, "conditions").map(str::to_string),
                child_conditions: param(&q.pairs, "childconditions").map(str::to_string),
                descending: q.descending_ids(),
            };
            let ids = match indexed.state.get(&key) {
                Some(ids) => ids,
                None => {
                    let records: Records<'_> = if key.descending {
                        Box::new(records.rev())
                    } else {
                        records
                    };
                    let mut ids = Vec::new();
                    for record in records {
                        if keep(q, &View::new(record, data))? {
                            ids.push(record.id());
                        }
                    }
                    let ids = Arc::new(ids);
                    indexed.state.put(key, ids.clone());
                    ids
                }
            };
            total = ids.len();
            for id in ids.iter().skip(skip).take(size) {
                let record = (indexed.find)(*id).ok_or_else(|| {
                    CwError::internal(format!("record {id} of a kept listing is gone"))
                })?;
                page.push(View::new(record, data));
            }
        } else if q.by_id() {
            let records: Records<'_> = if q.descending_ids() {
                Box::new(records.rev())
            } else {
                records
            };
            for record in records {
                let view = View::new(record, data);
                if !keep(q, &view)? {
                    continue;
                }
                if total >= skip && total - skip < size {
                    page.push(view);
                }
                total += 1;
            }
        } else {
            let mut all = Vec::new();
            for record in records {
                let view = View::new(record, data);
                if keep(q, &view)? {
                    let key = sort_key(q, &view)?;
                    all.push((key, view));
                }
            }
            all.sort_by(|(a, va), (b, vb)| {
                for (k, (x, y)) in q.order.iter().zip(a.iter().zip(b)) {
                    let o = order_cmp(x, y);
                    let o = if k.descending { o.reverse() } else { o };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                va.record.id().cmp(&vb.record.id())
            });
            total = all.len();
            page = all
                .into_iter()
                .skip(skip)
                .take(size)
                .map(|(_, v)| v)
                .collect();
        }
        let last = total.div_ceil(size).max(1);
        let mut links = Vec::new();
        if q.page < last {
            links.push((q.link("page", q.page + 1), "next"));
            links.push((q.link("page", last), "last"));
        }
        if q.page > 1 {
            links.push((q.link("page", 1), "first"));
            links.push((q.link("page", (q.page - 1).min(last)), "prev"));
        }
        (page, links)
    };
    // Serialise straight into the body: no intermediate values for the common case.
    let mut body = Vec::with_capacity(page.len() * 800 + 2);
    body.push(b'[');
    for (i, view) in page.into_iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        match &q.fields {
            Some(f) => serde_json::to_writer(&mut body, &strip_nulls(project(view.into_json(), f))),
            None => view.write(&mut body),
        }
        .map_err(serialisation_failed)?;
    }
    body.push(b']');
    let mut response = bytes_response(StatusCode::OK, body);
    if !links.is_empty() {
        let text = links
            .iter()
            .map(|(url, rel)| format!("<{url}>; rel=\"{rel}\""))
            .collect::<Vec<_>>()
            .join(", ");
        if let Ok(value) = HeaderValue::from_str(&text) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn every_record(d: &DataSet) -> Vec<&dyn CwRecord> {
        let mut all: Vec<&dyn CwRecord> = Vec::new();
        all.extend(d.companies.values().map(|r| r as &dyn CwRecord));
        all.extend(d.contacts.values().map(|r| r as &dyn CwRecord));
        all.extend(d.agreements.values().map(|r| r as &dyn CwRecord));
        all.extend(d.agreement_lines.values().map(|r| r as &dyn CwRecord));
        all.extend(d.configurations.values().map(|r| r as &dyn CwRecord));
        all.extend(d.tickets.values().map(|r| r as &dyn CwRecord));
        all.extend(d.notes.values().map(|r| r as &dyn CwRecord));
        all.extend(d.datasets.time_entries.values().map(|r| r as &dyn CwRecord));
        all.extend(
            d.datasets
                .project_tasks
                .values()
                .map(|r| r as &dyn CwRecord),
        );
        all.extend(d.datasets.sites.values().map(|r| r as &dyn CwRecord));
        all.extend(
            d.picklists
                .board_statuses
                .iter()
                .map(|r| r as &dyn CwRecord),
        );
        all
    }

    #[test]
    fn the_fast_paths_agree_with_the_rendered_json() {
        let d = DataSet::sample(21, 25);
        let paths = ["id", "lastUpdated", "_info/lastUpdated", "company/id"]
            .map(|p| FieldPath::parse(p).unwrap());
        for record in every_record(&d) {
            let json = record.render(&d);
            assert!(json.is_object());
            let mut written = Vec::new();
            record.write(&d, &mut written).unwrap();
            assert_eq!(
                serde_json::from_slice::<Value>(&written).unwrap(),
                strip_nulls(json.clone())
            );
            let view = View::new(record, &d);
            for path in &paths {
                let fast = view.values(path, Mode::Conditions).ok();
                let slow = json_values(&json, path, Mode::Conditions).ok();
                if fast.is_some() || record.company_id().is_some() {
                    assert_eq!(fast, slow, "{} of {json}", path.text);
                }
            }
        }
    }

    #[test]
    fn projection_keeps_only_the_asked_fields() {
        let v = json!({"id": 1, "name": "A", "company": {"id": 2, "name": "B"}, "_info": {"lastUpdated": "x"}});
        let f = |s: &str| FieldPath::parse(s).unwrap();
        assert_eq!(
            project(
                v.clone(),
                &[
                    f("id"),
                    f("company/name"),
                    f("_info/lastUpdated"),
                    f("nosuch")
                ]
            ),
            json!({"id": 1, "company": {"name": "B"}, "_info": {"lastUpdated": "x"}})
        );
        assert_eq!(
            project(v, &[f("Company")]),
            json!({"company": {"id": 2, "name": "B"}})
        );
    }
}
