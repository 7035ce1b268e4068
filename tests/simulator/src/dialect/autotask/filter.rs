//! Autotask query filters: `[{"op":"gte","field":"lastActivityDate","value":"..."}, {"op":"or",
//! "items":[...]}]`, parsed against an entity's fields and evaluated on records.
//!
//! Keys of filter items ignore case. The items of the top-level list are all and-ed. Strings
//! compare ignoring case; date-time fields compare as instants; a null field satisfies only
//! `noteq`, `notIn` and `notExist`.

use std::cmp::Ordering;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::entities::{AtEntity, Field, Ty};
use super::render::Rec;
use crate::data::{Id, Index};
use crate::dialect::json::{get_ci, parse_datetime};

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    NotEq,
    Gt,
    Gte,
    Lt,
    Lte,
    BeginsWith,
    EndsWith,
    Contains,
    Exist,
    NotExist,
    In,
    NotIn,
}

impl Op {
    fn parse(text: &str) -> Option<Op> {
        const OPS: [(&str, Op); 13] = [
            ("eq", Op::Eq),
            ("noteq", Op::NotEq),
            ("gt", Op::Gt),
            ("gte", Op::Gte),
            ("lt", Op::Lt),
            ("lte", Op::Lte),
            ("beginsWith", Op::BeginsWith),
            ("endsWith", Op::EndsWith),
            ("contains", Op::Contains),
            ("exist", Op::Exist),
            ("notExist", Op::NotExist),
            ("in", Op::In),
            ("notIn", Op::NotIn),
        ];
        OPS.iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(text))
            .map(|(_, op)| *op)
    }
}

/// A filter value converted to the field's type.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Lit {
    Null,
    Num(f64),
    Bool(bool),
    /// Lower-cased.
    Text(String),
    Date(OffsetDateTime),
}

/// A parsed filter item.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Filter {
    Cmp {
        op: Op,
        field: &'static Field,
        values: Vec<Lit>,
    },
    And(Vec<Filter>),
    Or(Vec<Filter>),
}

/// Why a filter was refused (the message of a 500).
pub(crate) type FilterError = String;

fn invalid(value: &Value, field: &str) -> FilterError {
    let shown = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    format!("Invalid value {shown} for field {field}.")
}

/// Converts a JSON value to the type of `field`.
fn literal(value: &Value, field: &Field) -> Result<Lit, FilterError> {
    let bad = || invalid(value, field.name);
    Ok(match (field.ty, value) {
        (_, Value::Null) => Lit::Null,
        (Ty::DateTime, Value::String(s)) => Lit::Date(parse_datetime(s.trim()).ok_or_else(bad)?),
        (Ty::Boolean, Value::Bool(b)) => Lit::Bool(*b),
        (Ty::Boolean, Value::Number(n)) => Lit::Bool(n.as_f64() != Some(0.0)),
        (Ty::Boolean, Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Lit::Bool(true),
            "false" | "0" => Lit::Bool(false),
            _ => return Err(bad()),
        },
        (ty, Value::Number(n)) if ty.numeric() => Lit::Num(n.as_f64().ok_or_else(bad)?),
        (ty, Value::Bool(b)) if ty.numeric() => Lit::Num(f64::from(u8::from(*b))),
        (ty, Value::String(s)) if ty.numeric() => {
            Lit::Num(s.trim().parse::<f64>().map_err(|_| bad())?)
        }
        (Ty::Text(_), Value::String(s)) => Lit::Text(s.to_lowercase()),
        (Ty::Text(_), Value::Number(n)) => Lit::Text(n.to_string()),
        (Ty::Text(_), Value::Bool(b)) => Lit::Text(b.to_string()),
        _ => return Err(bad()),
    })
}

/// Parses the filter items of a query on `entity`.
pub(crate) fn parse(items: &[Value], entity: AtEntity) -> Result<Vec<Filter>, FilterError> {
    items.iter().map(|item| parse_item(item, entity)).collect()
}

fn parse_item(item: &Value, entity: AtEntity) -> Result<Filter, FilterError> {
    let Some(obj) = item.as_object() else {
        return Err(format!(
            "A filter item must be an object such as {{\"op\":\"eq\",\"field\":\"id\",\"value\":1}}, not {item}."
        ));
    };
    let op_text = get_ci(obj, "op").and_then(Value::as_str).unwrap_or("");
    if op_text.eq_ignore_ascii_case("and") || op_text.eq_ignore_ascii_case("or") {
        let items = match get_ci(obj, "items") {
            Some(Value::Array(items)) if !items.is_empty() => items,
            _ => return Err(format!("The '{op_text}' filter needs a list of items.")),
        };
        let parsed = parse(items, entity)?;
        return Ok(if op_text.eq_ignore_ascii_case("and") {
            Filter::And(parsed)
        } else {
            Filter::Or(parsed)
        });
    }
    let op =
        Op::parse(op_text).ok_or_else(|| format!("'{op_text}' is not a valid filter operator."))?;
    let name = get_ci(obj, "field").and_then(Value::as_str).unwrap_or("");
    let field = entity
        .field(name)
        .ok_or_else(|| format!("Unable to find {name} in the {} entity.", entity.name()))?;
    let value = get_ci(obj, "value").unwrap_or(&Value::Null);
    let values = match op {
        Op::Exist | Op::NotExist => Vec::new(),
        Op::In | Op::NotIn => match value {
            Value::Array(list) => list
                .iter()
                .map(|v| literal(v, field))
                .collect::<Result<_, _>>()?,
            other => return Err(invalid(other, field.name)),
        },
        _ => vec![literal(value, field)?],
    };
    Ok(Filter::Cmp { op, field, values })
}

/// The lowest id the filters allow: ids must be above it (from top-level `id gt`/`gte`).
pub(crate) fn id_floor(filters: &[Filter]) -> Id {
    filters
        .iter()
        .filter_map(|f| match f {
            Filter::Cmp {
                op: op @ (Op::Gt | Op::Gte),
                field,
                values,
            } if field.name == "id" => match values.first() {
                Some(Lit::Num(n)) if *n >= 1.0 => {
                    let n = n.floor() as Id;
                    Some(if *op == Op::Gte { n - 1 } else { n })
                }
                _ => None,
            },
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// The record's value as a literal of the field's type.
fn record_value(v: &Value, field: &Field) -> Lit {
    match (field.ty, v) {
        (_, Value::Null) => Lit::Null,
        (Ty::DateTime, Value::String(s)) => parse_datetime(s).map_or(Lit::Null, Lit::Date),
        (_, Value::Bool(b)) if field.ty == Ty::Boolean => Lit::Bool(*b),
        (_, Value::Number(n)) => Lit::Num(n.as_f64().unwrap_or(0.0)),
        (_, Value::Bool(b)) => Lit::Num(f64::from(u8::from(*b))),
        (_, Value::String(s)) => Lit::Text(s.to_lowercase()),
        (_, other) => Lit::Text(other.to_string().to_lowercase()),
    }
}

fn order(a: &Lit, b: &Lit) -> Option<Ordering> {
    match (a, b) {
        (Lit::Num(x), Lit::Num(y)) => x.partial_cmp(y),
        (Lit::Text(x), Lit::Text(y)) => Some(x.cmp(y)),
        (Lit::Date(x), Lit::Date(y)) => Some(x.cmp(y)),
        (Lit::Bool(x), Lit::Bool(y)) => Some(x.cmp(y)),
        (Lit::Bool(x), Lit::Num(y)) | (Lit::Num(y), Lit::Bool(x)) => {
            Some(f64::from(u8::from(*x)).total_cmp(y))
        }
        _ => None,
    }
}

fn compare(op: Op, have: &Lit, values: &[Lit]) -> bool {
    let want = values.first().unwrap_or(&Lit::Null);
    let is = |o: Ordering| order(have, want) == Some(o);
    let text = || match (have, want) {
        (Lit::Text(h), Lit::Text(w)) => Some((h.as_str(), w.as_str())),
        _ => None,
    };
    match op {
        Op::Exist => *have != Lit::Null,
        Op::NotExist => *have == Lit::Null,
        Op::Eq if *want == Lit::Null => *have == Lit::Null,
        Op::NotEq if *want == Lit::Null => *have != Lit::Null,
        _ if *have == Lit::Null => matches!(op, Op::NotEq | Op::NotIn),
        Op::Eq => is(Ordering::Equal),
        Op::NotEq => !is(Ordering::Equal),
        Op::Gt => is(Ordering::Greater),
        Op::Gte => is(Ordering::Greater) || is(Ordering::Equal),
        Op::Lt => is(Ordering::Less),
        Op::Lte => is(Ordering::Less) || is(Ordering::Equal),
        Op::BeginsWith => text().is_some_and(|(h, w)| h.starts_with(w)),
        Op::EndsWith => text().is_some_and(|(h, w)| h.ends_with(w)),
        Op::Contains => text().is_some_and(|(h, w)| h.contains(w)),
        Op::In => values
            .iter()
            .any(|v| order(have, v) == Some(Ordering::Equal)),
        Op::NotIn => !values
            .iter()
            .any(|v| order(have, v) == Some(Ordering::Equal)),
    }
}

/// A record being filtered, with the values read so far (each field is computed once).
pub(crate) struct Candidate<'a, 'i> {
    rec: Rec<'a>,
    ix: &'i Index<'a>,
    cache: Map<String, Value>,
}

impl<'a, 'i> Candidate<'a, 'i> {
    pub(crate) fn new(rec: Rec<'a>, ix: &'i Index<'a>) -> Candidate<'a, 'i> {
        Candidate {
            rec,
            ix,
            cache: Map::new(),
        }
    }

    fn value(&mut self, field: &str) -> &Value {
        if !self.cache.contains_key(field) {
            let v = self.rec.value(self.ix, field);
            self.cache.insert(field.to_string(), v);
        }
        &self.cache[field]
    }

    /// Whether the record satisfies every filter.
    pub(crate) fn matches(&mut self, filters: &[Filter]) -> bool {
        filters.iter().all(|f| self.satisfies(f))
    }

    fn satisfies(&mut self, filter: &Filter) -> bool {
        match filter {
            Filter::And(items) => items.iter().all(|f| self.satisfies(f)),
            Filter::Or(items) => items.iter().any(|f| self.satisfies(f)),
            Filter::Cmp { op, field, values } => {
                let have = record_value(self.value(field.name), field);
                compare(*op, &have, values)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::data::DataSet;

    fn filters(v: Value, e: AtEntity) -> Result<Vec<Filter>, FilterError> {
        parse(v.as_array().unwrap(), e)
    }

    #[test]
    fn refuses_unknown_fields_operators_and_bad_values() {
        let e = AtEntity::Companies;
        assert_eq!(
            filters(json!([{"op":"eq","field":"nosuch","value":1}]), e).unwrap_err(),
            "Unable to find nosuch in the Companies entity."
        );
        assert_eq!(
            filters(json!([{"op":"like","field":"id","value":1}]), e).unwrap_err(),
            "'like' is not a valid filter operator."
        );
        assert_eq!(
            filters(
                json!([{"op":"gte","field":"lastActivityDate","value":"soon"}]),
                e
            )
            .unwrap_err(),
            "Invalid value soon for field lastActivityDate."
        );
        assert_eq!(
            filters(json!([{"op":"in","field":"id","value":5}]), e).unwrap_err(),
            "Invalid value 5 for field id."
        );
        assert!(filters(json!([{"op":"or","items":[]}]), e).is_err());
        assert!(filters(json!([7]), e).is_err());
        let ok = filters(
            json!([{"OP":"GT","Field":"ID","Value":"5"},{"op":"or","items":[{"op":"exist","field":"city"}]}]),
            e,
        )
        .unwrap();
        assert_eq!(id_floor(&ok), 5);
        assert_eq!(
            id_floor(&filters(json!([{"op":"gte","field":"id","value":5}]), e).unwrap()),
            4
        );
    }

    #[test]
    fn evaluates_on_records() {
        let data = DataSet::sample(2, 20);
        let ix = data.index();
        let c = data.companies.values().find(|c| !c.deleted).unwrap();
        let rec = Rec::get(&data, AtEntity::Companies, c.id).unwrap();
        let check = |v: Value| {
            let f = filters(v, AtEntity::Companies).unwrap();
            Candidate::new(rec, &ix).matches(&f)
        };
        let upper = c.name.to_uppercase();
        assert!(check(
            json!([{"op":"eq","field":"companyName","value":upper}])
        ));
        assert!(check(
            json!([{"op":"beginsWith","field":"companyName","value":&c.name[..2]}])
        ));
        assert!(check(json!([{"op":"eq","field":"id","value":c.id}])));
        assert!(!check(json!([{"op":"noteq","field":"id","value":c.id}])));
        assert!(check(json!([{"op":"in","field":"id","value":[1, c.id]}])));
        assert!(!check(json!([{"op":"notIn","field":"id","value":[c.id]}])));
        assert!(check(
            json!([{"op":"gte","field":"lastActivityDate","value":"2000-01-01T00:00:00Z"}])
        ));
        assert!(!check(
            json!([{"op":"gt","field":"lastActivityDate","value":"2030-01-01T00:00:00Z"}])
        ));
        assert!(check(json!([{"op":"or","items":[
            {"op":"eq","field":"id","value":0},{"op":"exist","field":"companyName"}]}])));
        assert!(!check(json!([{"op":"exist","field":"parentCompanyID"}])));
        assert!(check(json!([{"op":"notExist","field":"parentCompanyID"}])));
        assert!(check(
            json!([{"op":"noteq","field":"parentCompanyID","value":3}])
        ));
        assert!(!check(
            json!([{"op":"gte","field":"parentCompanyID","value":3}])
        ));
        assert!(
            check(json!([{"op":"eq","field":"isActive","value":true}]))
                != check(json!([{"op":"eq","field":"isActive","value":false}]))
        );
    }
}
