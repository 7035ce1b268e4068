//! JSON <-> component values, guided by WIT types: the bridge that lets `psahost plugin call`
//! run any export with JSON arguments and print its result as JSON, with WIT's own names.
//!
//! Mapping: records are objects with the WIT field names; an `option` is `null` or its value
//! (an absent record field of option type reads as `null`); enums are strings; variants are a
//! string for a case without payload and `{"case": payload}` otherwise; `result` is
//! `{"ok": ..}` or `{"err": ..}`; lists and tuples are arrays; flags are arrays of names.

use anyhow::{Context, anyhow, bail};
use serde_json::{Map, Number, Value};
use wasmtime::component::{Type, Val};

/// A component value as JSON.
pub fn to_json(val: &Val) -> Value {
    match val {
        Val::Bool(b) => Value::Bool(*b),
        Val::S8(n) => Value::from(*n),
        Val::U8(n) => Value::from(*n),
        Val::S16(n) => Value::from(*n),
        Val::U16(n) => Value::from(*n),
        Val::S32(n) => Value::from(*n),
        Val::U32(n) => Value::from(*n),
        Val::S64(n) => Value::from(*n),
        Val::U64(n) => Value::from(*n),
        Val::Float32(f) => Number::from_f64(f64::from(*f)).map_or(Value::Null, Value::Number),
        Val::Float64(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Val::Char(c) => Value::String(c.to_string()),
        Val::String(s) => Value::String(s.clone()),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            Value::Array(items.iter().map(to_json).collect())
        }
        Val::Map(pairs) => Value::Array(
            pairs
                .iter()
                .map(|(k, v)| Value::Array(vec![to_json(k), to_json(v)]))
                .collect(),
        ),
        Val::Record(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, v)| (name.clone(), to_json(v)))
                .collect(),
        ),
        Val::Variant(case, None) | Val::Enum(case) => Value::String(case.clone()),
        Val::Variant(case, Some(payload)) => {
            Value::Object(Map::from_iter([(case.clone(), to_json(payload))]))
        }
        Val::Option(None) => Value::Null,
        Val::Option(Some(v)) => to_json(v),
        Val::Result(Ok(v)) => Value::Object(Map::from_iter([(
            "ok".to_string(),
            v.as_deref().map_or(Value::Null, to_json),
        )])),
        Val::Result(Err(v)) => Value::Object(Map::from_iter([(
            "err".to_string(),
            v.as_deref().map_or(Value::Null, to_json),
        )])),
        Val::Flags(names) => Value::Array(names.iter().cloned().map(Value::String).collect()),
        Val::Resource(_) | Val::Future(_) | Val::Stream(_) | Val::ErrorContext(_) => {
            Value::String("<handle>".into())
        }
    }
}

/// A JSON value as a component value of type `ty`; errors name the path of the bad part.
pub fn from_json(json: &Value, ty: &Type) -> anyhow::Result<Val> {
    convert(json, ty, &mut String::new())
}

/// The prefix of an error message about the part at `path`.
fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("at `{path}`: ")
    }
}

fn int<T: TryFrom<i64> + TryFrom<u64>>(json: &Value, name: &str, path: &str) -> anyhow::Result<T> {
    let n = json
        .as_i64()
        .and_then(|n| T::try_from(n).ok())
        .or_else(|| json.as_u64().and_then(|n| T::try_from(n).ok()));
    n.ok_or_else(|| anyhow!("{}expected {name}, found {json}", at(path)))
}

fn convert(json: &Value, ty: &Type, path: &mut String) -> anyhow::Result<Val> {
    let expected = |what: &str| anyhow!("{}expected {what}, found {json}", at(path));
    Ok(match ty {
        Type::Bool => Val::Bool(json.as_bool().ok_or_else(|| expected("true or false"))?),
        Type::S8 => Val::S8(int(json, "s8", path)?),
        Type::U8 => Val::U8(int(json, "u8", path)?),
        Type::S16 => Val::S16(int(json, "s16", path)?),
        Type::U16 => Val::U16(int(json, "u16", path)?),
        Type::S32 => Val::S32(int(json, "s32", path)?),
        Type::U32 => Val::U32(int(json, "u32", path)?),
        Type::S64 => Val::S64(int(json, "s64", path)?),
        Type::U64 => Val::U64(int(json, "u64", path)?),
        Type::Float32 => Val::Float32(json.as_f64().ok_or_else(|| expected("a number"))? as f32),
        Type::Float64 => Val::Float64(json.as_f64().ok_or_else(|| expected("a number"))?),
        Type::Char => {
            let s = json
                .as_str()
                .ok_or_else(|| expected("a one-character string"))?;
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Val::Char(c),
                _ => return Err(expected("a one-character string")),
            }
        }
        // An id typed as a bare number on the command line is meant as text.
        Type::String => Val::String(match json {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(expected("a string")),
        }),
        Type::List(list) => {
            let items = json.as_array().ok_or_else(|| expected("an array"))?;
            let elem = list.ty();
            Val::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| nested(path, &format!("[{i}]"), |p| convert(item, &elem, p)))
                    .collect::<anyhow::Result<_>>()?,
            )
        }
        Type::Tuple(tuple) => {
            let items = json.as_array().ok_or_else(|| expected("an array"))?;
            let types: Vec<Type> = tuple.types().collect();
            if items.len() != types.len() {
                return Err(expected(&format!("an array of {} items", types.len())));
            }
            Val::Tuple(
                items
                    .iter()
                    .zip(&types)
                    .enumerate()
                    .map(|(i, (item, t))| nested(path, &format!("[{i}]"), |p| convert(item, t, p)))
                    .collect::<anyhow::Result<_>>()?,
            )
        }
        Type::Record(record) => {
            let object = json.as_object().ok_or_else(|| expected("an object"))?;
            let fields: Vec<_> = record
                .fields()
                .map(|f| (f.name.to_string(), f.ty))
                .collect();
            if let Some(unknown) = object.keys().find(|k| !fields.iter().any(|(n, _)| n == *k)) {
                bail!(
                    "{}unknown field `{unknown}`; the fields are: {}",
                    at(path),
                    fields
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let mut vals = Vec::with_capacity(fields.len());
            for (name, ty) in &fields {
                let val = match (object.get(name), ty) {
                    (Some(v), _) => nested(path, &format!(".{name}"), |p| convert(v, ty, p))?,
                    (None, Type::Option(_)) => Val::Option(None),
                    (None, _) => bail!("{}missing field `{name}`", at(path)),
                };
                vals.push((name.clone(), val));
            }
            Val::Record(vals)
        }
        Type::Variant(variant) => {
            let (name, payload) = single_case(json)
                .ok_or_else(|| expected("a case name, or an object with one case"))?;
            let case = variant.cases().find(|c| c.name == name).ok_or_else(|| {
                anyhow!(
                    "{}unknown case `{name}`; the cases are: {}",
                    at(path),
                    variant
                        .cases()
                        .map(|c| c.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            let payload = match (case.ty, payload) {
                (Some(t), Some(p)) => Some(Box::new(nested(path, &format!(".{name}"), |pa| {
                    convert(p, &t, pa)
                })?)),
                (None, None) | (None, Some(Value::Null)) => None,
                (Some(_), None) => bail!("{}case `{name}` needs a payload", at(path)),
                (None, Some(_)) => bail!("{}case `{name}` has no payload", at(path)),
            };
            Val::Variant(name.to_string(), payload)
        }
        Type::Enum(e) => {
            let name = json.as_str().ok_or_else(|| expected("a case name"))?;
            if !e.names().any(|n| n == name) {
                bail!(
                    "{}unknown case `{name}`; the cases are: {}",
                    at(path),
                    e.names().collect::<Vec<_>>().join(", ")
                );
            }
            Val::Enum(name.to_string())
        }
        Type::Option(o) => match json {
            Value::Null => Val::Option(None),
            v => Val::Option(Some(Box::new(convert(v, &o.ty(), path)?))),
        },
        Type::Result(r) => {
            let (name, payload) =
                single_case(json).ok_or_else(|| expected("{\"ok\": ..} or {\"err\": ..}"))?;
            let ty = match name {
                "ok" => r.ok(),
                "err" => r.err(),
                _ => return Err(expected("{\"ok\": ..} or {\"err\": ..}")),
            };
            let val = match (ty, payload) {
                (Some(t), Some(p)) => Some(Box::new(nested(path, &format!(".{name}"), |pa| {
                    convert(p, &t, pa)
                })?)),
                _ => None,
            };
            Val::Result(if name == "ok" { Ok(val) } else { Err(val) })
        }
        Type::Flags(f) => {
            let items = json
                .as_array()
                .ok_or_else(|| expected("an array of flag names"))?;
            let mut names = Vec::new();
            for item in items {
                let name = item
                    .as_str()
                    .ok_or_else(|| expected("an array of flag names"))?;
                if !f.names().any(|n| n == name) {
                    bail!("{}unknown flag `{name}`", at(path));
                }
                names.push(name.to_string());
            }
            Val::Flags(names)
        }
        other => bail!(
            "{}values of type {other:?} cannot be given as JSON",
            at(path)
        ),
    })
}

fn single_case(json: &Value) -> Option<(&str, Option<&Value>)> {
    match json {
        Value::String(s) => Some((s.as_str(), None)),
        Value::Object(o) if o.len() == 1 => o.iter().next().map(|(k, v)| (k.as_str(), Some(v))),
        _ => None,
    }
}

fn nested<T>(
    path: &mut String,
    part: &str,
    f: impl FnOnce(&mut String) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let len = path.len();
    path.push_str(part);
    let result = f(path);
    path.truncate(len);
    result
}

/// Parses an argument given on the command line: JSON, or a bare word taken as a string.
pub fn parse_arg(text: &str) -> anyhow::Result<Value> {
    serde_json::from_str(text)
        .or_else(|_| {
            if text.trim_start().starts_with(['{', '[', '"']) {
                Err(anyhow!("not valid JSON"))
            } else {
                Ok(Value::String(text.to_string()))
            }
        })
        .with_context(|| format!("argument `{text}`"))
}
