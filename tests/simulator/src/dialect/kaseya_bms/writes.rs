//! Ticket creation, notes, and contract service quantities. Every violation is one
//! `validationErrors` entry naming the property, all reported at once, in the documented order.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::{BmsError, FieldError};
use super::render::{LOCATION_ID_BASE, NOTE_TYPES, QUEUES, SOURCES, STATUSES, TICKET_TYPES};
use crate::data::*;
use crate::dialect::json::get_ci;

/// A JSON body being validated.
struct Body {
    fields: Map<String, Value>,
    errors: Vec<FieldError>,
}

impl Body {
    fn parse(bytes: &[u8]) -> Result<Body, BmsError> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(fields)) => Ok(Body {
                fields,
                errors: Vec::new(),
            }),
            _ => Err(BmsError::validation(
                "The request is invalid.",
                vec![FieldError::new("body", "The body must be a JSON object.")],
            )),
        }
    }

    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    fn value(&self, field: &str) -> Option<&Value> {
        get_ci(&self.fields, field).filter(|v| !v.is_null())
    }

    /// An integer id, checked by `check` (which returns the message of a refused id).
    fn id(&mut self, field: &str, check: impl FnOnce(Id) -> Result<(), String>) -> Option<Id> {
        let v = self.value(field)?.clone();
        let Some(id) = v.as_u64() else {
            self.fail(field, format!("{field} must be an integer id, not {v}."));
            return None;
        };
        match check(id) {
            Ok(()) => Some(id),
            Err(message) => {
                self.fail(field, message);
                None
            }
        }
    }

    fn flag(&mut self, field: &str) -> bool {
        match self.value(field).cloned() {
            None => false,
            Some(Value::Bool(b)) => b,
            Some(other) => {
                self.fail(
                    field,
                    format!("{field} must be true or false, not {other}."),
                );
                false
            }
        }
    }

    fn time(&mut self, field: &str) -> Option<OffsetDateTime> {
        let v = self.value(field)?.clone();
        let parsed = v
            .as_str()
            .and_then(|s| OffsetDateTime::parse(s.trim(), &Rfc3339).ok());
        match parsed {
            Some(t) => {
                let t = t.to_offset(time::UtcOffset::UTC);
                Some(t.replace_nanosecond(0).unwrap_or(t))
            }
            None => {
                let shown = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                self.fail(
                    field,
                    format!("'{shown}' is not an ISO 8601 UTC time such as 2026-01-31T09:30:00Z."),
                );
                None
            }
        }
    }

    fn text(&self, field: &str) -> Option<String> {
        self.value(field)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    fn finish(self, message: &str) -> Result<(), BmsError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(BmsError::validation(message, self.errors))
        }
    }
}

fn exists(found: bool, noun: &str, id: Id) -> Result<(), String> {
    if found {
        Ok(())
    } else {
        Err(format!("{noun} {id} does not exist."))
    }
}

/// `POST v2/servicedesk/tickets`: validates, stores, and returns the new ticket's id.
pub(crate) fn create_ticket(data: &mut DataSet, body: &[u8], by: &str) -> Result<Id, BmsError> {
    let mut b = Body::parse(body)?;
    let p = &data.picklists;
    let title = b.text("title").map(|t| t.trim().to_string());
    match &title {
        None => b.fail("title", "Title is required."),
        Some(t) if t.is_empty() => b.fail("title", "Title is required."),
        Some(t) if t.chars().count() > 255 => {
            b.fail("title", "Title must be at most 255 characters.")
        }
        Some(_) => {}
    }
    if b.value("accountId").is_none() {
        b.fail("accountId", "Account is required.");
    }
    let account = b.id("accountId", |id| {
        exists(data.company_live(id), "Account", id)
    });
    let details = b.text("details");
    let belongs = |what: &str, id: Id, owner: Option<Id>| match (owner, account) {
        (None, _) => Err(format!("{what} {id} does not exist.")),
        (Some(o), Some(a)) if o != a => Err(format!("{what} {id} does not belong to account {a}.")),
        _ => Ok(()),
    };
    let location = b.id("locationId", |id| {
        let owner = id
            .checked_sub(LOCATION_ID_BASE)
            .filter(|a| data.company_live(*a));
        belongs("Location", id, owner)
    });
    let contact = b.id("contactId", |id| {
        belongs("Contact", id, data.contacts.get(&id).map(|c| c.company_id))
    });
    let queue = b.id("queueId", |id| {
        exists(QUEUES.iter().any(|q| q.0 == id), "Queue", id)
    });
    let status = b.id("statusId", |id| {
        exists(STATUSES.iter().any(|s| s.0 == id), "Status", id)
    });
    let priority = b.id("priorityId", |id| {
        exists(p.priorities.iter().any(|x| x.id == id), "Priority", id)
    });
    let kind = b.id("typeId", |id| {
        exists(TICKET_TYPES.iter().any(|t| t.0 == id), "Ticket type", id)
    });
    let issue = b.id("issueTypeId", |id| {
        exists(p.board_types.iter().any(|t| t.id == id), "Issue type", id)
    });
    let given_issue = b.value("issueTypeId").and_then(Value::as_u64);
    let sub = b.id("subIssueTypeId", |id| {
        let Some(issue) = given_issue else {
            return Err(format!(
                "Sub-issue type {id} needs an issue type (issueTypeId)."
            ));
        };
        if p.subtype_of(issue, id).is_some() {
            Ok(())
        } else if p.sub_issue_types().any(|s| s.id == id) {
            Err(format!(
                "Sub-issue type {id} does not belong to issue type {issue}."
            ))
        } else {
            Err(format!("Sub-issue type {id} does not exist."))
        }
    });
    let source = b.id("sourceId", |id| {
        exists(SOURCES.iter().any(|s| s.0 == id), "Source", id)
    });
    let contract = b.id("contractId", |id| {
        belongs(
            "Contract",
            id,
            data.agreements.get(&id).map(|a| a.company_id),
        )
    });
    let open = b.time("openDate");
    // The simulator's dialect: an integration's own reference, at most 100 characters.
    let external = b.text("externalReference");
    if external.as_ref().is_some_and(|e| e.chars().count() > 100) {
        b.fail(
            "externalReference",
            "External reference cannot be longer than 100 characters.",
        );
    }
    b.finish("The ticket is invalid.")?;

    let info = Info::now(by);
    let mut t = Ticket::blank(&data.picklists, info.clone());
    t.summary = title.unwrap_or_default();
    t.company_id = account.unwrap_or_default();
    t.contact_id = contact;
    t.board_id = QUEUES
        .iter()
        .find(|q| q.0 == queue.unwrap_or(1))
        .and_then(|q| q.2)
        .unwrap_or(1);
    t.status_id = t.board_id * 10 + status.unwrap_or(1);
    t.priority_id = priority.unwrap_or(3);
    t.type_id = issue;
    t.subtype_id = sub.zip(issue).and_then(|(s, i)| p.subtype_of(i, s));
    let mapped_source = source
        .and_then(|s| SOURCES.iter().find(|x| x.0 == s))
        .and_then(|x| x.2);
    t.source_id = mapped_source;
    t.agreement_id = contract;
    if let Some(open) = open {
        t.date_entered = open;
    }
    // A ticket created without a type has none (generated tickets' types are derived).
    let mut extras = Map::new();
    extras.insert("typeId".into(), kind.into());
    if let (Some(s), None) = (source, mapped_source) {
        extras.insert("sourceId".into(), s.into());
    }
    if let Some(l) = location {
        extras.insert("locationId".into(), l.into());
    }
    if let Some(e) = external {
        extras.insert("externalReference".into(), e.into());
    }
    let id = data.insert_ticket(t, details);
    data.set_extras(Entity::Ticket, id, extras);
    Ok(id)
}

/// `POST v2/servicedesk/tickets/{id}/notes`.
pub(crate) fn create_note(
    data: &mut DataSet,
    ticket_id: Id,
    body: &[u8],
    by: &str,
) -> Result<Id, BmsError> {
    if !data.tickets.contains_key(&ticket_id) {
        return Err(BmsError::record("Ticket", ticket_id));
    }
    let mut b = Body::parse(body)?;
    let details = b.text("details").filter(|d| !d.trim().is_empty());
    if details.is_none() {
        b.fail("details", "Details are required.");
    }
    let internal = b.flag("isInternal");
    let resolution = b.flag("isResolution");
    let kind = b.id("noteTypeId", |id| {
        exists(NOTE_TYPES.iter().any(|t| t.0 == id), "Note type", id)
    });
    let date = b.time("noteDate");
    b.finish("The note is invalid.")?;
    let info = Info::now(by);
    let id = data.insert_note(Note {
        id: 0,
        ticket_id,
        text: details.unwrap_or_default(),
        detail_description: !internal && !resolution,
        internal_analysis: internal,
        resolution,
        date_created: date.unwrap_or(info.last_updated),
        created_by: by.to_string(),
        info,
    });
    // Without a note type the note gets the default one, General.
    let mut extras = Map::new();
    extras.insert("noteTypeId".into(), kind.unwrap_or(1).into());
    data.set_extras(Entity::Note, id, extras);
    Ok(id)
}

/// `PATCH v2/finance/contracts/{id}/services/{lineId}` with `[{"op":"replace","path":"/quantity","value":25}]`.
pub(crate) fn set_quantity(
    data: &mut DataSet,
    contract: Id,
    line: Id,
    body: &[u8],
    by: &str,
) -> Result<(), BmsError> {
    if !data.agreements.contains_key(&contract) {
        return Err(BmsError::record("Contract", contract));
    }
    if data
        .agreement_lines
        .get(&line)
        .is_none_or(|l| l.agreement_id != contract)
    {
        return Err(BmsError::record("Contract service", line));
    }
    let ops = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(ops)) if !ops.is_empty() => ops,
        _ => {
            return Err(BmsError::validation(
                "The request is invalid.",
                vec![FieldError::new(
                    "body",
                    "The body must be a JSON Patch array such as [{\"op\":\"replace\",\"path\":\"/quantity\",\"value\":25}].",
                )],
            ));
        }
    };
    let mut errors = Vec::new();
    let mut quantity = None;
    for op in &ops {
        let get = |k: &str| op.as_object().and_then(|o| get_ci(o, k));
        let verb = get("op").and_then(Value::as_str).unwrap_or("");
        if verb != "replace" {
            errors.push(FieldError::new(
                "op",
                format!("Operation '{verb}' is not supported: use 'replace'."),
            ));
            continue;
        }
        let path = get("path").and_then(Value::as_str).unwrap_or("");
        if !path.eq_ignore_ascii_case("/quantity") {
            errors.push(FieldError::new(
                "path",
                format!("Path '{path}' cannot be changed: use '/quantity'."),
            ));
            continue;
        }
        let value = get("value").cloned().unwrap_or(Value::Null);
        let ok = value
            .as_f64()
            .filter(|q| *q >= 0.0 && ((q * 100.0).round() - q * 100.0).abs() < 1e-6);
        match ok {
            Some(q) => quantity = Some(q),
            None => errors.push(FieldError::new(
                "quantity",
                format!(
                    "{value} is not a quantity: use a number of 0 or more with at most 2 decimals."
                ),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(BmsError::validation("The request is invalid.", errors));
    }
    let info = Info::now(by);
    if let (Some(q), Some(l)) = (quantity, data.agreement_lines.get_mut(&line)) {
        l.quantity = q;
        l.info = info.clone();
    }
    if let Some(a) = data.agreements.get_mut(&contract) {
        a.info = info;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn data() -> DataSet {
        DataSet::sample(7, 30)
    }

    fn fields(e: BmsError) -> Vec<(String, String)> {
        e.validation
            .into_iter()
            .map(|f| (f.field, f.message))
            .collect()
    }

    #[test]
    fn tickets_report_every_violation_in_order() {
        let mut d = data();
        let e =
            create_ticket(&mut d, br#"{"queueId": 77, "subIssueTypeId": 10101}"#, "u").unwrap_err();
        assert_eq!(e.message, "The ticket is invalid.");
        assert_eq!(
            fields(e),
            vec![
                ("title".to_string(), "Title is required.".to_string()),
                ("accountId".into(), "Account is required.".into()),
                ("queueId".into(), "Queue 77 does not exist.".into()),
                (
                    "subIssueTypeId".into(),
                    "Sub-issue type 10101 needs an issue type (issueTypeId).".into()
                ),
            ]
        );
        let account = d.companies.values().find(|c| !c.deleted).unwrap().id;
        let other = d
            .contacts
            .values()
            .find(|c| c.company_id != account)
            .unwrap()
            .id;
        let body = json!({"title": "x", "accountId": account, "contactId": other,
            "issueTypeId": 101, "subIssueTypeId": 20101, "openDate": "soon"});
        let e = create_ticket(&mut d, body.to_string().as_bytes(), "u").unwrap_err();
        assert_eq!(
            fields(e).into_iter().map(|f| f.0).collect::<Vec<_>>(),
            ["contactId", "subIssueTypeId", "openDate"]
        );
        let body = json!({"title": " Disk full ", "accountId": account, "queueId": 4, "statusId": 2,
            "typeId": 1, "issueTypeId": 101, "subIssueTypeId": 10103, "sourceId": 4, "details": "C: 98%",
            "unknown": 1});
        let id = create_ticket(&mut d, body.to_string().as_bytes(), "u").unwrap();
        let t = &d.tickets[&id];
        assert_eq!(
            (t.summary.as_str(), t.board_id, t.status_id),
            ("Disk full", 3, 32)
        );
        assert_eq!(
            (t.type_id, t.subtype_id, t.source_id),
            (Some(101), Some(103), None)
        );
        assert_eq!(d.extra(Entity::Ticket, id, "sourceId"), Some(&json!(4)));
        assert_eq!(d.extra(Entity::Ticket, id, "unknown"), None);
    }

    #[test]
    fn notes_and_quantities() {
        let mut d = data();
        let ticket = *d.tickets.keys().next().unwrap();
        assert_eq!(
            create_note(&mut d, 1, b"{}", "u").unwrap_err().message,
            "Ticket 1 was not found."
        );
        let e = create_note(
            &mut d,
            ticket,
            br#"{"details": " ", "isInternal": "yes", "noteTypeId": 9}"#,
            "u",
        )
        .unwrap_err();
        assert_eq!(
            fields(e).into_iter().map(|f| f.0).collect::<Vec<_>>(),
            ["details", "isInternal", "noteTypeId"]
        );
        let id = create_note(
            &mut d,
            ticket,
            br#"{"details": "x", "isInternal": true, "noteTypeId": 3}"#,
            "u",
        )
        .unwrap();
        assert!(d.notes[&id].internal_analysis);
        assert_eq!(d.notes[&id].created_by, "u");

        let line = d.agreement_lines.values().next().unwrap().clone();
        let patch =
            |d: &mut DataSet, c: Id, l: Id, body: &str| set_quantity(d, c, l, body.as_bytes(), "u");
        patch(
            &mut d,
            line.agreement_id,
            line.id,
            r#"[{"op":"replace","path":"/Quantity","value":12.5}]"#,
        )
        .unwrap();
        assert_eq!(d.agreement_lines[&line.id].quantity, 12.5);
        assert_eq!(
            d.agreements[&line.agreement_id].info,
            d.agreement_lines[&line.id].info
        );
        for (body, field) in [
            (
                r#"[{"op":"replace","path":"/quantity","value":1.234}]"#,
                "quantity",
            ),
            (r#"[{"op":"add","path":"/quantity","value":1}]"#, "op"),
            (
                r#"[{"op":"replace","path":"/unitPrice","value":1}]"#,
                "path",
            ),
            ("[]", "body"),
        ] {
            let e = patch(&mut d, line.agreement_id, line.id, body).unwrap_err();
            assert_eq!(fields(e)[0].0, field, "{body}");
        }
        let e = patch(&mut d, 1, line.id, "[]").unwrap_err();
        assert_eq!(e.message, "Contract 1 was not found.");
        let e = patch(&mut d, line.agreement_id, 1, "[]").unwrap_err();
        assert_eq!(e.message, "Contract service 1 was not found.");
    }
}
