//! Evaluation of parsed conditions against records.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Comparison, EvalError, FieldPath, Literal, Op, Operand};
use crate::dialect::json::get_ci;

/// A field value as conditions see it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Scalar<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'a, str>),
    Date(OffsetDateTime),
    /// An object (a reference such as `contact`): it can only be compared with null.
    Object,
}

impl Scalar<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Scalar::Null => "null",
            Scalar::Bool(_) => "true or false",
            Scalar::Num(_) => "a number",
            Scalar::Str(_) => "a string",
            Scalar::Date(_) => "a date-time",
            Scalar::Object => "an object",
        }
    }
}

/// Which parameter a condition came from: `conditions` may not reach into collections,
/// `childConditions` must.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Conditions,
    Children,
}

/// A record that conditions can be evaluated on.
pub(crate) trait Fields {
    /// The values at `path`: one for a plain field, one per item when the path crosses a collection.
    fn values(&self, path: &FieldPath, mode: Mode) -> Result<Vec<Scalar<'_>>, EvalError>;
}

impl Fields for Value {
    fn values(&self, path: &FieldPath, mode: Mode) -> Result<Vec<Scalar<'_>>, EvalError> {
        json_values(self, path, mode)
    }
}

/// Looks `path` up in a JSON record. A one-segment name missing at the top level is looked up in
/// `_info` (so `lastUpdated` means `_info/lastUpdated`); field names ignore case.
pub(crate) fn json_values<'a>(
    root: &'a Value,
    path: &FieldPath,
    mode: Mode,
) -> Result<Vec<Scalar<'a>>, EvalError> {
    let mut current: Vec<&'a Value> = vec![root];
    let mut crossed = false;
    for (depth, segment) in path.segments.iter().enumerate() {
        let mut next = Vec::with_capacity(current.len());
        for value in current {
            match value {
                Value::Object(map) => {
                    let child = get_ci(map, segment).or_else(|| {
                        (depth == 0 && path.segments.len() == 1)
                            .then(|| {
                                map.get("_info")
                                    .and_then(Value::as_object)
                                    .and_then(|i| get_ci(i, segment))
                            })
                            .flatten()
                    });
                    match child {
                        None => {
                            return Err(EvalError::new(format!("unknown field '{}'", path.text)));
                        }
                        Some(Value::Array(items)) => {
                            crossed = true;
                            next.extend(items.iter());
                        }
                        Some(child) => next.push(child),
                    }
                }
                Value::Null => next.push(value),
                _ => {
                    let parent = path.segments[..depth].join("/");
                    return Err(EvalError::new(format!(
                        "unknown field '{}': '{parent}' has no fields",
                        path.text
                    )));
                }
            }
        }
        current = next;
    }
    match (mode, crossed) {
        (Mode::Conditions, true) => {
            return Err(EvalError::new(format!(
                "field '{}' is in a collection; filter it with childConditions",
                path.text
            )));
        }
        (Mode::Children, false) => {
            return Err(EvalError::new(format!(
                "field '{}' is not in a collection; filter it with conditions",
                path.text
            )));
        }
        _ => {}
    }
    current
        .into_iter()
        .map(|v| match v {
            Value::Null => Ok(Scalar::Null),
            Value::Bool(b) => Ok(Scalar::Bool(*b)),
            Value::Number(n) => Ok(Scalar::Num(n.as_f64().unwrap_or(f64::NAN))),
            Value::String(s) => Ok(string_scalar(s)),
            Value::Object(_) => Ok(Scalar::Object),
            Value::Array(_) => Err(EvalError::new(format!(
                "field '{}' is a list of values; filter it with childConditions",
                path.text
            ))),
        })
        .collect()
}

/// Date-time strings as rendered (`2026-01-01T00:00:00Z`) are dates; everything else is text.
fn string_scalar(s: &str) -> Scalar<'_> {
    let b = s.as_bytes();
    if b.len() == 20
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'Z'
        && let Ok(d) = OffsetDateTime::parse(s, &Rfc3339)
    {
        return Scalar::Date(d);
    }
    Scalar::Str(Cow::Borrowed(s))
}

/// Case-insensitive string order.
fn cmp_ci(a: &str, b: &str) -> Ordering {
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

/// `*`-wildcard match, ignoring case.
fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let p: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
    let (mut ti, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            ti += 1;
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn contains_ci(text: &str, needle: &str) -> bool {
    text.to_lowercase().contains(&needle.to_lowercase())
}

/// The order of a field value and a literal, or why they cannot be compared.
fn order(value: &Scalar<'_>, literal: &Literal, path: &FieldPath) -> Result<Ordering, EvalError> {
    let ordering = match (value, literal) {
        (Scalar::Bool(a), Literal::Bool(b)) => Some(a.cmp(b)),
        (Scalar::Num(a), Literal::Num(b)) => Some(a.partial_cmp(b).unwrap_or(Ordering::Less)),
        (Scalar::Str(a), Literal::Str(b)) => Some(cmp_ci(a, b)),
        (Scalar::Date(a), Literal::Date(b)) => Some(a.cmp(b)),
        _ => None,
    };
    ordering.ok_or_else(|| {
        let hint = match (value, literal) {
            (Scalar::Date(_), Literal::Str(_)) => {
                ": write date-times in square brackets, like [2026-01-01T00:00:00Z]"
            }
            (Scalar::Str(_), Literal::Date(_)) => ": quote the value to compare it as text",
            _ => "",
        };
        EvalError::new(format!(
            "field '{}' holds {} and cannot be compared with {}{hint}",
            path.text,
            value.kind(),
            literal.describe()
        ))
    })
}

fn text_op(value: &Scalar<'_>, op: Op, pattern: &str, path: &FieldPath) -> Result<bool, EvalError> {
    let Scalar::Str(text) = value else {
        return Err(EvalError::new(format!(
            "field '{}' holds {}; '{}' works on strings only",
            path.text,
            value.kind(),
            op.text()
        )));
    };
    Ok(match op {
        Op::Like => like(text, pattern),
        Op::NotLike => !like(text, pattern),
        Op::Contains => contains_ci(text, pattern),
        _ => !contains_ci(text, pattern),
    })
}

fn equals(value: &Scalar<'_>, literal: &Literal, path: &FieldPath) -> Result<bool, EvalError> {
    match (value, literal) {
        (Scalar::Null, Literal::Null) => Ok(true),
        (Scalar::Null, _) | (_, Literal::Null) => Ok(false),
        _ => Ok(order(value, literal, path)? == Ordering::Equal),
    }
}

/// One field value against one comparison. A null field satisfies only `= null` (and `in` lists
/// holding null).
fn holds(
    value: &Scalar<'_>,
    op: Op,
    operand: &Operand,
    path: &FieldPath,
) -> Result<bool, EvalError> {
    if *value == Scalar::Object && *operand != Operand::One(Literal::Null) {
        return Err(EvalError::new(format!(
            "field '{0}' is an object; compare one of its fields, like '{0}/id', or compare it with null",
            path.text
        )));
    }
    match operand {
        Operand::List(items) => {
            let mut found = false;
            for item in items {
                found |= equals(value, item, path)?;
            }
            Ok(if op == Op::In {
                found
            } else {
                !found && *value != Scalar::Null
            })
        }
        Operand::One(Literal::Null) => Ok(match op {
            Op::Eq => *value == Scalar::Null,
            _ => *value != Scalar::Null,
        }),
        Operand::One(literal) => {
            if *value == Scalar::Null {
                return Ok(false);
            }
            match (op, literal) {
                (Op::Like | Op::NotLike | Op::Contains | Op::NotContains, Literal::Str(p)) => {
                    text_op(value, op, p, path)
                }
                _ => {
                    let o = order(value, literal, path)?;
                    Ok(match op {
                        Op::Eq => o == Ordering::Equal,
                        Op::Ne => o != Ordering::Equal,
                        Op::Lt => o == Ordering::Less,
                        Op::Le => o != Ordering::Greater,
                        Op::Gt => o == Ordering::Greater,
                        _ => o != Ordering::Less,
                    })
                }
            }
        }
    }
}

pub(super) fn comparison(
    c: &Comparison,
    record: &dyn Fields,
    mode: Mode,
) -> Result<bool, EvalError> {
    for value in &record.values(&c.field, mode)? {
        if holds(value, c.op, &c.operand, &c.field)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Total order for `orderBy`: nulls first, then booleans, numbers, date-times, strings (ignoring case).
pub(crate) fn order_cmp(a: &Scalar<'_>, b: &Scalar<'_>) -> Ordering {
    fn rank(s: &Scalar<'_>) -> u8 {
        match s {
            Scalar::Null => 0,
            Scalar::Bool(_) => 1,
            Scalar::Num(_) => 2,
            Scalar::Date(_) => 3,
            Scalar::Str(_) => 4,
            Scalar::Object => 5,
        }
    }
    match (a, b) {
        (Scalar::Bool(x), Scalar::Bool(y)) => x.cmp(y),
        (Scalar::Num(x), Scalar::Num(y)) => x.total_cmp(y),
        (Scalar::Date(x), Scalar::Date(y)) => x.cmp(y),
        (Scalar::Str(x), Scalar::Str(y)) => cmp_ci(x, y),
        _ => rank(a).cmp(&rank(b)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{Expr, parse};
    use super::*;

    fn record() -> Value {
        json!({
            "id": 42,
            "name": "Acme \"Dental\" Group",
            "identifier": "AcmeDental",
            "deletedFlag": false,
            "website": null,
            "status": {"id": 1, "name": "Active"},
            "contact": null,
            "types": [{"id": 1, "name": "Client"}, {"id": 4, "name": "Vendor"}],
            "communicationItems": [],
            "_info": {"lastUpdated": "2026-03-01T10:00:00Z", "updatedBy": "jsmith"}
        })
    }

    fn check(cond: &str) -> Result<bool, String> {
        let expr: Expr = parse(cond).map_err(|e| e.message)?.expect("not blank");
        expr.eval(&record(), Mode::Conditions)
            .map_err(|e| e.message)
    }

    fn child(cond: &str) -> Result<bool, String> {
        let expr: Expr = parse(cond).map_err(|e| e.message)?.expect("not blank");
        expr.eval(&record(), Mode::Children).map_err(|e| e.message)
    }

    #[test]
    fn compares_numbers_strings_booleans_and_dates() {
        assert_eq!(check("id = 42"), Ok(true));
        assert_eq!(check("id != 42"), Ok(false));
        assert_eq!(
            check("id > 41.5 and id <= 42 and id >= 42 and id < 43"),
            Ok(true)
        );
        assert_eq!(
            check(r#"identifier = "acmedental""#),
            Ok(true),
            "strings ignore case"
        );
        assert_eq!(
            check(r#"name = "Acme \"Dental\" Group""#),
            Ok(true),
            "escaped quotes"
        );
        assert_eq!(check(r#"identifier < "B""#), Ok(true));
        assert_eq!(check("deletedFlag = false"), Ok(true));
        assert_eq!(check("lastUpdated > [2026-01-01T00:00:00Z]"), Ok(true));
        assert_eq!(check("lastUpdated > [2026-03-01T10:00:00Z]"), Ok(false));
        assert_eq!(check("lastUpdated >= [2026-03-01T10:00:00Z]"), Ok(true));
        assert_eq!(check("_info/lastUpdated < [2026-03-01]"), Ok(false));
        assert_eq!(
            check("STATUS/NAME = \"active\""),
            Ok(true),
            "field names ignore case"
        );
    }

    #[test]
    fn like_contains_and_in() {
        assert_eq!(check(r#"identifier like "acme*""#), Ok(true));
        assert_eq!(check(r#"identifier like "*dent*""#), Ok(true));
        assert_eq!(
            check(r#"identifier like "acme""#),
            Ok(false),
            "no wildcard means the whole text"
        );
        assert_eq!(check(r#"identifier like "a*e*l""#), Ok(true));
        assert_eq!(check(r#"identifier not like "x*""#), Ok(true));
        assert_eq!(check(r#"name contains "DENTAL""#), Ok(true));
        assert_eq!(check(r#"name not contains "dental""#), Ok(false));
        assert_eq!(check("id in (1, 42, 7)"), Ok(true));
        assert_eq!(check("id not in (1, 42)"), Ok(false));
        assert_eq!(check("status/id in (2, 3)"), Ok(false));
    }

    #[test]
    fn nulls_satisfy_only_equals_null() {
        assert_eq!(check("website = null"), Ok(true));
        assert_eq!(check("website != null"), Ok(false));
        assert_eq!(check(r#"website = "x""#), Ok(false));
        assert_eq!(check(r#"website != "x""#), Ok(false));
        assert_eq!(check(r#"website like "*""#), Ok(false));
        assert_eq!(
            check("contact/id = null"),
            Ok(true),
            "a null parent makes its fields null"
        );
        assert_eq!(check("contact/id = 5"), Ok(false));
        assert_eq!(check("status != null"), Ok(true));
    }

    #[test]
    fn precedence_parentheses_and_not() {
        assert_eq!(check("id = 1 or id = 42 and deletedFlag = true"), Ok(false));
        assert_eq!(
            check("(id = 1 or id = 42) and deletedFlag = false"),
            Ok(true)
        );
        assert_eq!(check("not (id = 1) and not id = 2"), Ok(true));
        assert_eq!(
            check("id = 1 and nosuchfield = 2"),
            Ok(false),
            "and short-circuits"
        );
    }

    #[test]
    fn explains_evaluation_errors() {
        assert_eq!(check("nosuch = 1"), Err("unknown field 'nosuch'".into()));
        assert_eq!(
            check("status/nosuch = 1"),
            Err("unknown field 'status/nosuch'".into())
        );
        assert_eq!(
            check("id/x = 1"),
            Err("unknown field 'id/x': 'id' has no fields".into())
        );
        assert_eq!(
            check(r#"id = "42""#),
            Err(r#"field 'id' holds a number and cannot be compared with the string "42""#.into())
        );
        assert_eq!(
            check(r#"lastUpdated > "2026-01-01""#),
            Err(r#"field 'lastUpdated' holds a date-time and cannot be compared with the string "2026-01-01": write date-times in square brackets, like [2026-01-01T00:00:00Z]"#.into())
        );
        assert_eq!(
            check("name > [2026-01-01]"),
            Err("field 'name' holds a string and cannot be compared with the date-time [2026-01-01T00:00:00Z]: quote the value to compare it as text".into())
        );
        assert_eq!(
            check("id like \"4*\""),
            Err("field 'id' holds a number; 'like' works on strings only".into())
        );
        assert_eq!(
            check("status = 1"),
            Err("field 'status' is an object; compare one of its fields, like 'status/id', or compare it with null".into())
        );
        assert_eq!(
            check(r#"types/name = "Vendor""#),
            Err("field 'types/name' is in a collection; filter it with childConditions".into())
        );
    }

    #[test]
    fn child_conditions_match_any_item_of_a_collection() {
        assert_eq!(child(r#"types/name = "Vendor""#), Ok(true));
        assert_eq!(child(r#"types/name = "Partner""#), Ok(false));
        assert_eq!(child(r#"types/id = 1 and types/name = "vendor""#), Ok(true));
        assert_eq!(
            child(r#"communicationItems/value = "x""#),
            Ok(false),
            "empty collection"
        );
        assert_eq!(
            child("id = 42"),
            Err("field 'id' is not in a collection; filter it with conditions".into())
        );
    }

    #[test]
    fn like_handles_backtracking() {
        assert!(like("aaab", "*ab"));
        assert!(like("abcabd", "ab*abd"));
        assert!(!like("abcabe", "ab*abd"));
        assert!(like("", "*"));
        assert!(!like("", "a"));
        assert!(like("Ünïcode", "üNÏ*"));
    }

    #[test]
    fn order_puts_nulls_first_and_ignores_case() {
        let mut v = vec![
            Scalar::Str("b".into()),
            Scalar::Null,
            Scalar::Str("A".into()),
            Scalar::Num(3.0),
        ];
        v.sort_by(order_cmp);
        assert_eq!(
            v,
            vec![
                Scalar::Null,
                Scalar::Num(3.0),
                Scalar::Str("A".into()),
                Scalar::Str("b".into())
            ]
        );
    }
}
