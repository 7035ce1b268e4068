//! Reading and validating write bodies: POST objects and JSON-Patch documents, collecting every
//! problem as a ConnectWise field error.

use serde_json::{Map, Value, json};
use time::{OffsetDateTime, UtcOffset};

use super::error::{CwError, FieldError};
use crate::data::Id;
use crate::dialect::json::{get_ci, kind, parse_datetime};

/// How a body refers to another record: `{"id": 5}`, `{"name": "..."}` or `{"identifier": "..."}`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RefSpec {
    Id(Id),
    Name(String),
    Identifier(String),
}

impl std::fmt::Display for RefSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefSpec::Id(id) => write!(f, "id {id}"),
            RefSpec::Name(n) => write!(f, "name '{n}'"),
            RefSpec::Identifier(i) => write!(f, "identifier '{i}'"),
        }
    }
}

fn ref_spec(v: &Value) -> Option<RefSpec> {
    let obj = v.as_object()?;
    if let Some(id) = get_ci(obj, "id").filter(|v| !v.is_null()) {
        return id.as_u64().map(RefSpec::Id);
    }
    if let Some(name) = get_ci(obj, "name").and_then(Value::as_str) {
        return Some(RefSpec::Name(name.to_string()));
    }
    get_ci(obj, "identifier")
        .and_then(Value::as_str)
        .map(|i| RefSpec::Identifier(i.to_string()))
}

fn parse_json(body: &[u8]) -> Result<Value, CwError> {
    serde_json::from_slice(body).map_err(|e| {
        let message = format!("The request body is not valid JSON: {e}");
        CwError::invalid_object(
            message.clone(),
            vec![FieldError::invalid("body", "body", message)],
        )
    })
}

/// The fields of a write, with the problems found so far.
pub(crate) struct Form {
    fields: Map<String, Value>,
    resource: &'static str,
    errors: Vec<FieldError>,
}

impl Form {
    /// A POST body: a JSON object.
    pub(crate) fn object(body: &[u8], resource: &'static str) -> Result<Form, CwError> {
        match parse_json(body)? {
            Value::Object(fields) => Ok(Form {
                fields,
                resource,
                errors: Vec::new(),
            }),
            other => {
                let message = format!(
                    "The request body must be a JSON object, not {}",
                    kind(&other)
                );
                Err(CwError::invalid_object(
                    message.clone(),
                    vec![FieldError::invalid(resource, "body", message)],
                ))
            }
        }
    }

    /// A PATCH body: `[{"op":"replace","path":"status/id","value":5}, ...]`. Each operation becomes
    /// a field of the form (`status/id` = 5 becomes `status` = `{"id": 5}`). `fields` lists the
    /// patchable fields; `references` those that also take `/id`, `/name` or `/identifier`.
    pub(crate) fn patch(
        body: &[u8],
        resource: &'static str,
        fields: &[&'static str],
        references: &[&'static str],
    ) -> Result<Form, CwError> {
        let ops = match parse_json(body)? {
            Value::Array(ops) => ops,
            other => {
                let message = format!(
                    "The request body must be a JSON Patch array of operations, not {}",
                    kind(&other)
                );
                return Err(CwError::invalid_object(
                    message.clone(),
                    vec![FieldError::invalid(resource, "body", message)],
                ));
            }
        };
        let mut form = Form {
            fields: Map::new(),
            resource,
            errors: Vec::new(),
        };
        for (i, op) in ops.iter().enumerate() {
            let Some(op) = op.as_object() else {
                form.fail("op", format!("Operation {} is not an object.", i + 1));
                continue;
            };
            let verb = get_ci(op, "op").and_then(Value::as_str).unwrap_or("");
            if !verb.eq_ignore_ascii_case("replace") && !verb.eq_ignore_ascii_case("add") {
                form.fail(
                    "op",
                    format!("Operation '{verb}' is not supported; use replace or add."),
                );
                continue;
            }
            let Some(path) = get_ci(op, "path").and_then(Value::as_str) else {
                form.fail("path", format!("Operation {} has no path.", i + 1));
                continue;
            };
            let Some(value) = get_ci(op, "value") else {
                form.fail(path, format!("Operation on '{path}' has no value."));
                continue;
            };
            let trimmed = path.trim_start_matches('/');
            let (head, tail) = match trimmed.split_once('/') {
                Some((h, t)) => (h, Some(t)),
                None => (trimmed, None),
            };
            let Some(field) = fields.iter().find(|f| f.eq_ignore_ascii_case(head)) else {
                form.fail(path, format!("The field '{path}' cannot be changed."));
                continue;
            };
            let value = match tail {
                None => value.clone(),
                Some(sub) if references.contains(field) => {
                    match ["id", "name", "identifier"]
                        .iter()
                        .find(|s| s.eq_ignore_ascii_case(sub))
                    {
                        Some(_) if value.is_null() => Value::Null,
                        Some(key) => json!({ *key: value }),
                        None => {
                            form.fail(path, format!("The field '{path}' cannot be changed."));
                            continue;
                        }
                    }
                }
                Some(_) => {
                    form.fail(path, format!("The field '{path}' cannot be changed."));
                    continue;
                }
            };
            form.fields.insert(field.to_string(), value);
        }
        Ok(form)
    }

    /// True when the form sets no field.
    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Records a problem with `field`.
    pub(crate) fn fail(&mut self, field: &str, message: String) {
        self.errors
            .push(FieldError::invalid(self.resource, field, message));
    }

    fn require(&mut self, field: &str) {
        self.errors.push(FieldError::required(self.resource, field));
    }

    /// The raw value of a field (`None` when absent).
    pub(crate) fn value(&self, field: &str) -> Option<&Value> {
        get_ci(&self.fields, field)
    }

    /// True when the field is present (even as null).
    pub(crate) fn has(&self, field: &str) -> bool {
        self.value(field).is_some()
    }

    /// An optional string: `None` absent, `Some(None)` null.
    pub(crate) fn text(&mut self, field: &str, max: usize) -> Option<Option<String>> {
        match self.value(field)? {
            Value::Null => Some(None),
            Value::String(s) if s.chars().count() > max => {
                let n = s.chars().count();
                self.fail(
                    field,
                    format!("The {field} field can hold at most {max} characters, not {n}."),
                );
                None
            }
            Value::String(s) => Some(Some(s.clone())),
            other => {
                let message = format!("The {field} field must be a string, not {}.", kind(other));
                self.fail(field, message);
                None
            }
        }
    }

    /// A string that may not be missing (when `creating`), null or blank.
    pub(crate) fn required_text(
        &mut self,
        field: &str,
        max: usize,
        creating: bool,
    ) -> Option<String> {
        if !self.has(field) {
            if creating {
                self.require(field);
            }
            return None;
        }
        match self.text(field, max) {
            Some(Some(s)) if !s.trim().is_empty() => Some(s),
            Some(_) => {
                self.require(field);
                None
            }
            None => None,
        }
    }

    /// A boolean (`None` when absent or invalid).
    pub(crate) fn flag(&mut self, field: &str) -> Option<bool> {
        match self.value(field)? {
            Value::Bool(b) => Some(*b),
            other => {
                let message = format!(
                    "The {field} field must be true or false, not {}.",
                    kind(other)
                );
                self.fail(field, message);
                None
            }
        }
    }

    /// A non-negative number.
    pub(crate) fn amount(&mut self, field: &str) -> Option<f64> {
        let message = match self.value(field)? {
            Value::Number(n) => match n.as_f64() {
                Some(x) if x >= 0.0 && x.is_finite() => return Some(x),
                _ => format!("The {field} field must be 0 or more, not {n}."),
            },
            other => format!("The {field} field must be a number, not {}.", kind(other)),
        };
        self.fail(field, message);
        None
    }

    /// An optional date-time: `None` absent, `Some(None)` null.
    pub(crate) fn date(&mut self, field: &str) -> Option<Option<OffsetDateTime>> {
        match self.value(field)? {
            Value::Null => Some(None),
            Value::String(s) => {
                match parse_datetime(s.trim()) {
                    Some(d) => {
                        // Stored like every timestamp: UTC, whole seconds.
                        let d = d.to_offset(UtcOffset::UTC);
                        Some(Some(d.replace_nanosecond(0).unwrap_or(d)))
                    }
                    None => {
                        self.fail(field, format!("The {field} field '{s}' is not a date-time like 2026-01-01T00:00:00Z."));
                        None
                    }
                }
            }
            other => {
                let message = format!(
                    "The {field} field must be a date-time string, not {}.",
                    kind(other)
                );
                self.fail(field, message);
                None
            }
        }
    }

    /// An optional reference: `None` absent or invalid, `Some(None)` null.
    pub(crate) fn reference(
        &mut self,
        field: &str,
        resolve: impl FnOnce(&RefSpec) -> Result<Id, String>,
    ) -> Option<Option<Id>> {
        let value = self.value(field)?;
        if value.is_null() {
            return Some(None);
        }
        let Some(spec) = ref_spec(value) else {
            let message =
                format!("The {field} field must be an object with an id, like {{\"id\": 1}}.");
            self.fail(field, message);
            return None;
        };
        match resolve(&spec) {
            Ok(id) => Some(Some(id)),
            Err(message) => {
                self.fail(field, message);
                None
            }
        }
    }

    /// A reference that may not be missing (when `creating`) or null.
    pub(crate) fn required_reference(
        &mut self,
        field: &str,
        creating: bool,
        resolve: impl FnOnce(&RefSpec) -> Result<Id, String>,
    ) -> Option<Id> {
        match self.value(field) {
            None if creating => {
                self.require(field);
                None
            }
            None => None,
            Some(Value::Null) => {
                self.require(field);
                None
            }
            Some(_) => self.reference(field, resolve).flatten(),
        }
    }

    /// Fails with every problem found, as "{Noun} object is invalid".
    pub(crate) fn finish(self, noun: &str) -> Result<(), CwError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(CwError::invalid_object(
                format!("{noun} object is invalid"),
                self.errors,
            ))
        }
    }
}

/// Resolves a reference against `(id, name)` pairs (names ignore case).
pub(crate) fn resolve_named<'a>(
    items: impl Iterator<Item = (Id, &'a str)>,
    spec: &RefSpec,
    noun: &str,
) -> Result<Id, String> {
    let mut items = items;
    let found = match spec {
        RefSpec::Id(id) => items.find(|(i, _)| i == id),
        RefSpec::Name(n) | RefSpec::Identifier(n) => {
            items.find(|(_, name)| name.eq_ignore_ascii_case(n))
        }
    };
    found
        .map(|(id, _)| id)
        .ok_or_else(|| format!("{noun} {spec} was not found."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_operations_become_fields() {
        let body = br#"[{"op":"replace","path":"/status/id","value":5},{"op":"add","path":"name","value":"x"},
            {"op":"replace","path":"contact","value":null}]"#;
        let form = Form::patch(
            body,
            "configuration",
            &["name", "status", "contact"],
            &["status", "contact"],
        )
        .unwrap();
        assert_eq!(form.value("status"), Some(&json!({"id": 5})));
        assert_eq!(form.value("name"), Some(&json!("x")));
        assert_eq!(form.value("contact"), Some(&Value::Null));
        assert!(form.finish("Configuration").is_ok());
    }

    #[test]
    fn bad_patch_operations_are_reported_together() {
        let body = br#"[{"op":"remove","path":"name"},{"op":"replace","path":"id","value":1},
            {"op":"replace","path":"name/x","value":1},{"op":"replace","path":"name"},7]"#;
        let form = Form::patch(body, "configuration", &["name"], &[]).unwrap();
        let messages: Vec<&str> = form.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            vec![
                "Operation 'remove' is not supported; use replace or add.",
                "The field 'id' cannot be changed.",
                "The field 'name/x' cannot be changed.",
                "Operation on 'name' has no value.",
                "Operation 5 is not an object.",
            ]
        );
        assert_eq!(
            form.finish("Configuration").unwrap_err().message,
            "Configuration object is invalid"
        );
        let Err(e) = Form::patch(br#"{"op":"replace"}"#, "configuration", &["name"], &[]) else {
            panic!()
        };
        assert_eq!(
            e.message,
            "The request body must be a JSON Patch array of operations, not an object"
        );
        let Err(e) = Form::patch(b"[", "configuration", &["name"], &[]) else {
            panic!()
        };
        assert!(
            e.message
                .starts_with("The request body is not valid JSON: "),
            "{}",
            e.message
        );
    }

    #[test]
    fn fields_are_validated() {
        let mut f = Form::object(
            br#"{"summary":"  ","flag":"yes","when":"soon","who":{"name":"Help Desk"},"n":-1,"long":"abcdef"}"#,
            "ticket",
        )
        .unwrap();
        assert_eq!(f.required_text("summary", 100, true), None);
        assert_eq!(f.required_text("absent", 100, true), None);
        assert_eq!(f.required_text("absent2", 100, false), None);
        assert_eq!(f.flag("flag"), None);
        assert_eq!(f.date("when"), None);
        assert_eq!(f.amount("n"), None);
        assert_eq!(f.text("long", 3), None);
        let boards = [(1, "Help Desk"), (2, "Alerts")];
        assert_eq!(
            f.reference("who", |s| resolve_named(boards.iter().copied(), s, "board")),
            Some(Some(1))
        );
        assert_eq!(f.errors.len(), 6);
        let mut g =
            Form::object(br#"{"at":"2026-07-01T12:30:00.75+02:00"}"#, "configuration").unwrap();
        let at = g.date("at").unwrap().unwrap();
        assert_eq!(
            (at.offset(), at.hour(), at.nanosecond()),
            (UtcOffset::UTC, 10, 0)
        );
        assert_eq!(f.errors[0], FieldError::required("ticket", "summary"));
        assert_eq!(f.errors[1], FieldError::required("ticket", "absent"));
        assert_eq!(
            f.errors[2].message,
            "The flag field must be true or false, not a string."
        );
        assert_eq!(
            f.errors[3].message,
            "The when field 'soon' is not a date-time like 2026-01-01T00:00:00Z."
        );
        assert_eq!(
            f.errors[5].message,
            "The long field can hold at most 3 characters, not 6."
        );
        assert_eq!(
            resolve_named(boards.iter().copied(), &RefSpec::Id(9), "board"),
            Err("board id 9 was not found.".to_string())
        );
    }
}
