//! Write-backs: request bodies (pure, tested) and the calls that send them.

use crate::client::Client;
use crate::conditions::{self, Conditions};
use crate::map;
use crate::paging::{MAX_PAGE_SIZE, PagePos, PageState};
use psa_sdk::http::Method;
use psa_sdk::types::{
    Configuration, ConfigurationChanges, NewConfiguration, NewNote, NewTicket, Note, Ticket,
    TicketFilter,
};
use psa_sdk::{Error, Result, input};
use serde_json::{Map, Value, json};

/// `{"id": n}` for a reference field, with the id validated.
fn reference(field: &str, id: &str) -> Result<Value> {
    Ok(json!({ "id": conditions::id(field, id)? }))
}

/// Merges the `extra` JSON object over `body` (top-level keys of `extra` win).
pub fn merge_extra(body: &mut Map<String, Value>, extra: Option<&str>) -> Result<()> {
    body.extend(input::extra_fields(extra, "ConnectWise fields")?);
    Ok(())
}

/// The body of `POST service/tickets`.
pub fn ticket_body(t: &NewTicket) -> Result<Value> {
    if t.summary.trim().is_empty() {
        return Err(Error::invalid("summary", "a ticket needs a summary"));
    }
    if t.category_id.is_some() {
        return Err(Error::invalid(
            "category-id",
            "ConnectWise tickets have no category: leave it empty and use the ticket type, sub-type or extra fields",
        ));
    }
    let mut body = Map::new();
    body.insert("summary".into(), json!(t.summary));
    body.insert("company".into(), reference("company-id", &t.company_id)?);
    let refs = [
        ("board", "queue-id", &t.queue_id),
        ("contact", "contact-id", &t.contact_id),
        ("status", "status-id", &t.status_id),
        ("priority", "priority-id", &t.priority_id),
        ("type", "ticket-type-id", &t.ticket_type_id),
        ("subType", "sub-type-id", &t.sub_type_id),
        ("source", "source-id", &t.source_id),
        ("agreement", "agreement-id", &t.agreement_id),
    ];
    for (key, field, id) in refs {
        if let Some(id) = id {
            body.insert(key.into(), reference(field, id)?);
        }
    }
    if let Some(d) = t.description.as_deref().filter(|d| !d.trim().is_empty()) {
        body.insert("initialDescription".into(), json!(d));
    }
    merge_extra(&mut body, t.extra.as_deref())?;
    // After `extra`: the marker is what finds the ticket again, so nothing may replace it.
    if let Some(marker) = &t.marker {
        body.insert(
            "externalXRef".into(),
            json!(psa_sdk::marker::check(marker)?),
        );
    }
    Ok(Value::Object(body))
}

/// The body of `POST service/tickets/{id}/notes`.
///
/// Public notes go to the discussion (`detailDescriptionFlag`), internal ones to the internal
/// analysis (`internalAnalysisFlag`); `resolutionFlag` marks the resolution on top. ConnectWise
/// notes have no title: a title becomes the note's first line.
pub fn note_body(n: &NewNote) -> Result<Value> {
    if n.note_type_id.is_some() {
        return Err(Error::invalid(
            "note-type-id",
            "ConnectWise ticket notes have no note type: leave it empty (visibility is set by `internal`)",
        ));
    }
    let text = match n.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(title) => format!("{title}\n\n{}", n.text),
        None => n.text.clone(),
    };
    if text.trim().is_empty() {
        return Err(Error::invalid("text", "a note needs text"));
    }
    // ConnectWise notes have no external reference: the marker is the text's last line.
    let text = match &n.marker {
        Some(marker) => psa_sdk::marker::note_text(&text, psa_sdk::marker::check(marker)?),
        None => text,
    };
    let mut body = Map::new();
    body.insert("text".into(), json!(text));
    body.insert("detailDescriptionFlag".into(), json!(!n.internal));
    body.insert("internalAnalysisFlag".into(), json!(n.internal));
    body.insert("resolutionFlag".into(), json!(n.resolution));
    merge_extra(&mut body, n.extra.as_deref())?;
    Ok(Value::Object(body))
}

/// The conditions of `find-open-tickets`.
pub fn open_ticket_conditions(f: &TicketFilter) -> Result<String> {
    let mut c = Conditions::new();
    // A marker finds its ticket open or closed (the contract's `ticket-filter.marker`).
    match &f.marker {
        Some(marker) => {
            c.eq_str("externalXRef", psa_sdk::marker::check(marker)?);
        }
        None => {
            c.push("closedFlag", "=", false);
        }
    }
    if let Some(company) = &f.company_id {
        c.push("company/id", "=", conditions::id("company-id", company)?);
    }
    if let Some(summary) = &f.summary {
        c.eq_str("summary", summary);
    }
    if let Some(queue) = &f.queue_id {
        c.push("board/id", "=", conditions::id("queue-id", queue)?);
    }
    Ok(c.build().unwrap_or_default())
}

/// The body of `POST company/configurations`.
pub fn configuration_body(c: &NewConfiguration) -> Result<Value> {
    if c.name.trim().is_empty() {
        return Err(Error::invalid("name", "a configuration needs a name"));
    }
    let mut body = Map::new();
    body.insert("name".into(), json!(c.name));
    body.insert("company".into(), reference("company-id", &c.company_id)?);
    body.insert(
        "type".into(),
        reference("configuration-type-id", &c.configuration_type_id)?,
    );
    let refs = [
        ("status", "status-id", &c.status_id),
        ("manufacturer", "manufacturer-id", &c.manufacturer_id),
        ("vendor", "vendor-id", &c.vendor_id),
    ];
    for (key, field, id) in refs {
        if let Some(id) = id {
            body.insert(key.into(), reference(field, id)?);
        }
    }
    let texts = [
        ("serialNumber", &c.serial_number),
        ("modelNumber", &c.model_number),
        ("macAddress", &c.mac_address),
        ("ipAddress", &c.ip_address),
        ("deviceIdentifier", &c.device_identifier),
        ("notes", &c.notes),
    ];
    for (key, value) in texts {
        if let Some(v) = value {
            body.insert(key.into(), json!(v));
        }
    }
    if !c.questions.is_empty() {
        body.insert("questions".into(), answers(&c.questions, &[])?);
    }
    merge_extra(&mut body, c.extra.as_deref())?;
    Ok(Value::Object(body))
}

/// `questions` as ConnectWise takes them: `[{"questionId": n, "answer": ".."}]`, `changed`
/// over `current` (ConnectWise replaces the whole list, the contract changes only the listed
/// answers). ConnectWise names questions by id only.
pub fn answers(
    changed: &[psa_sdk::types::ConfigurationAnswer],
    current: &[psa_sdk::types::ConfigurationAnswer],
) -> Result<Value> {
    let mut out: Vec<(u64, Option<String>)> = Vec::new();
    for a in current.iter().chain(changed) {
        let Some(id) = a.question_id.as_deref() else {
            return Err(Error::invalid(
                "questions",
                format!(
                    "ConnectWise names configuration questions by id: give the `question-id` of `{}`",
                    a.question
                ),
            ));
        };
        let id = conditions::id("question-id", id)?;
        out.retain(|(q, _)| *q != id);
        out.push((id, a.answer.clone()));
    }
    Ok(out
        .into_iter()
        .map(|(id, answer)| json!({"questionId": id, "answer": answer}))
        .collect())
}

fn replace(path: &str, value: Value) -> Value {
    json!({"op": "replace", "path": path, "value": value})
}

/// The JSON Patch operations of `PATCH company/configurations/{id}`: one `replace` per set field,
/// then one per entry of `extra` (an object of ConnectWise field paths to values).
pub fn configuration_patch(c: &ConfigurationChanges) -> Result<Vec<Value>> {
    let mut ops = Vec::new();
    if let Some(name) = &c.name {
        if name.trim().is_empty() {
            return Err(Error::invalid(
                "name",
                "a configuration's name cannot be empty",
            ));
        }
        ops.push(replace("name", json!(name)));
    }
    let refs = [
        ("type/id", "configuration-type-id", &c.configuration_type_id),
        ("status/id", "status-id", &c.status_id),
        ("manufacturer/id", "manufacturer-id", &c.manufacturer_id),
        ("vendor/id", "vendor-id", &c.vendor_id),
    ];
    for (path, field, id) in refs {
        if let Some(id) = id {
            ops.push(replace(path, json!(conditions::id(field, id)?)));
        }
    }
    if let Some(active) = c.active {
        ops.push(replace("activeFlag", json!(active)));
    }
    let texts = [
        ("serialNumber", &c.serial_number),
        ("modelNumber", &c.model_number),
        ("macAddress", &c.mac_address),
        ("ipAddress", &c.ip_address),
        ("deviceIdentifier", &c.device_identifier),
        ("notes", &c.notes),
    ];
    for (path, value) in texts {
        if let Some(v) = value {
            ops.push(replace(path, json!(v)));
        }
    }
    let extra = input::extra_fields(
        c.extra.as_deref(),
        "ConnectWise field paths (`status/id`, `tagNumber`) to values",
    )?;
    for (path, value) in extra {
        let path = path.trim().trim_start_matches('/').to_string();
        if path.is_empty() {
            return Err(Error::invalid("extra", "a field path is empty"));
        }
        ops.push(replace(&path, value));
    }
    Ok(ops)
}

/// The body of `PATCH finance/agreements/{id}/additions/{id}` setting the quantity. The decimal
/// text is written into the JSON as a number literal, exactly as given (no float round trip).
pub fn quantity_patch(quantity: &str) -> Result<String> {
    let q = psa_sdk::decimal::normalize(quantity).ok_or_else(|| {
        Error::invalid(
            "quantity",
            format!("`{quantity}` is not a decimal number such as 12 or 2.5"),
        )
    })?;
    if q.starts_with('-') {
        return Err(Error::invalid("quantity", "a quantity cannot be negative"));
    }
    Ok(format!(
        r#"[{{"op":"replace","path":"quantity","value":{q}}}]"#
    ))
}

fn to_bytes(v: &impl serde::Serialize) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::invalid("body", format!("cannot encode JSON: {e}")))
}

/// `create-ticket`.
pub fn create_ticket(client: &mut Client, t: &NewTicket) -> Result<Ticket> {
    let body = to_bytes(&ticket_body(t)?)?;
    let response = client.send(Method::Post, "service/tickets", &[], &[], Some(&body), None)?;
    map::one(&response.body, map::ticket_json)
}

/// `add-ticket-note`.
pub fn add_ticket_note(client: &mut Client, n: &NewNote) -> Result<Note> {
    let ticket_id = conditions::id("ticket-id", &n.ticket_id)?;
    let body = to_bytes(&note_body(n)?)?;
    let subject = format!("ticket {ticket_id}");
    let response = client.send(
        Method::Post,
        &format!("service/tickets/{ticket_id}/notes"),
        &[],
        &[],
        Some(&body),
        Some(&subject),
    )?;
    let ticket_id = ticket_id.to_string();
    map::one(&response.body, |raw| map::note_json(raw, &ticket_id))
}

/// `find-open-tickets`: newest first (id descending), at most `limit`.
pub fn find_open_tickets(client: &mut Client, f: &TicketFilter) -> Result<Vec<Ticket>> {
    let limit = f.limit as usize;
    if limit == 0 {
        return Ok(Vec::new());
    }
    let conditions = open_ticket_conditions(f)?;
    let page_size = f.limit.min(MAX_PAGE_SIZE);
    let mut page = 1u32;
    let mut out = Vec::new();
    loop {
        let query = vec![
            ("conditions".to_string(), conditions.clone()),
            ("orderBy".to_string(), "id desc".to_string()),
            ("pageSize".to_string(), page_size.to_string()),
            ("page".to_string(), page.to_string()),
        ];
        let response = client.send(Method::Get, "service/tickets", &query, &[], None, None)?;
        let items = psa_sdk::json::records(&response.body)?;
        for raw in items.iter().take(limit - out.len()) {
            out.push(map::ticket_json(raw.get())?);
        }
        if out.len() >= limit {
            return Ok(out);
        }
        // The Link header decides whether there is a next page (and never lets it go backwards).
        let here = PageState::first("tickets", page_size, None).at(PagePos::Page(page));
        match here.next(response.header("link")).map(|next| next.pos) {
            Some(PagePos::Page(next)) => page = next,
            _ => return Ok(out),
        }
    }
}

/// The conditions of `find-note-by-marker`: notes whose text contains the marker's line.
pub fn note_marker_conditions(marker: &str) -> Result<String> {
    let line = format!(
        "{}{}",
        psa_sdk::marker::NOTE_PREFIX,
        psa_sdk::marker::check(marker)?
    );
    let mut c = Conditions::new();
    c.push("text", "contains", conditions::string(&line));
    Ok(c.build().unwrap_or_default())
}

/// `find-note-by-marker`: the ticket's notes whose text contains the marker's line, checked
/// exactly here (`contains` also matches a longer marker), the first that carries it.
pub fn find_note_by_marker(
    client: &mut Client,
    ticket_id: &str,
    marker: &str,
) -> Result<Option<Note>> {
    let ticket = conditions::id("ticket-id", ticket_id)?;
    let query = vec![
        ("conditions".to_string(), note_marker_conditions(marker)?),
        ("orderBy".to_string(), "id asc".to_string()),
        ("pageSize".to_string(), "25".to_string()),
    ];
    let subject = format!("ticket {ticket}");
    let response = client.send(
        Method::Get,
        &format!("service/tickets/{ticket}/notes"),
        &query,
        &[],
        None,
        Some(&subject),
    )?;
    let ticket = ticket.to_string();
    for raw in psa_sdk::json::records(&response.body)? {
        let note = map::note_json(raw.get(), &ticket)?;
        if psa_sdk::marker::note_has(&note.text, marker) {
            return Ok(Some(note));
        }
    }
    Ok(None)
}

/// `create-configuration`.
pub fn create_configuration(client: &mut Client, c: &NewConfiguration) -> Result<Configuration> {
    let body = to_bytes(&configuration_body(c)?)?;
    let response = client.send(
        Method::Post,
        "company/configurations",
        &[],
        &[],
        Some(&body),
        None,
    )?;
    map::one(&response.body, map::configuration_json)
}

/// `update-configuration`. With nothing to change it returns the configuration as stored.
pub fn update_configuration(
    client: &mut Client,
    id: &str,
    changes: &ConfigurationChanges,
) -> Result<Configuration> {
    let id = conditions::id("id", id)?;
    let subject = format!("configuration {id}");
    let path = format!("company/configurations/{id}");
    let mut ops = configuration_patch(changes)?;
    if !changes.questions.is_empty() {
        // ConnectWise replaces the whole list: the answers not changed are sent as they are.
        let current = client.send(Method::Get, &path, &[], &[], None, Some(&subject))?;
        let current = map::one(&current.body, map::configuration_json)?;
        ops.push(replace(
            "questions",
            answers(&changes.questions, &current.questions)?,
        ));
    }
    let response = if ops.is_empty() {
        client.send(Method::Get, &path, &[], &[], None, Some(&subject))?
    } else {
        let body = to_bytes(&ops)?;
        client.send(Method::Patch, &path, &[], &[], Some(&body), Some(&subject))?
    };
    map::one(&response.body, map::configuration_json)
}

/// `set-contract-service-quantity`.
pub fn set_contract_service_quantity(
    client: &mut Client,
    agreement_id: &str,
    service_id: &str,
    quantity: &str,
) -> Result<()> {
    let agreement = conditions::id("agreement-id", agreement_id)?;
    let addition = conditions::id("service-id", service_id)?;
    let body = quantity_patch(quantity)?;
    let subject = format!("addition {addition} of agreement {agreement}");
    client.send(
        Method::Patch,
        &format!("finance/agreements/{agreement}/additions/{addition}"),
        &[],
        &[],
        Some(body.as_bytes()),
        Some(&subject),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_ticket() -> NewTicket {
        NewTicket {
            company_id: "19".into(),
            contact_id: Some("31".into()),
            summary: "Disk C: almost full".into(),
            description: Some("Free space below 5%".into()),
            queue_id: Some("1".into()),
            status_id: Some("11".into()),
            priority_id: Some("4".into()),
            ticket_type_id: Some("21".into()),
            sub_type_id: Some("31".into()),
            category_id: None,
            source_id: Some("6".into()),
            agreement_id: Some("5".into()),
            extra: Some(r#"{"severity":"High","item":{"id":3}}"#.into()),
            marker: None,
        }
    }

    fn field(e: Error) -> String {
        match e {
            Error::InvalidInput(p) => p.field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ticket_bodies() {
        let body = ticket_body(&new_ticket()).unwrap();
        assert_eq!(
            body,
            json!({
                "summary": "Disk C: almost full",
                "company": {"id": 19},
                "board": {"id": 1},
                "contact": {"id": 31},
                "status": {"id": 11},
                "priority": {"id": 4},
                "type": {"id": 21},
                "subType": {"id": 31},
                "source": {"id": 6},
                "agreement": {"id": 5},
                "initialDescription": "Free space below 5%",
                "severity": "High",
                "item": {"id": 3},
            })
        );
        let minimal = NewTicket {
            contact_id: None,
            description: None,
            queue_id: None,
            status_id: None,
            priority_id: None,
            ticket_type_id: None,
            sub_type_id: None,
            source_id: None,
            agreement_id: None,
            extra: None,
            ..new_ticket()
        };
        assert_eq!(
            ticket_body(&minimal).unwrap(),
            json!({"summary": "Disk C: almost full", "company": {"id": 19}})
        );
        // extra overrides.
        let over = NewTicket {
            extra: Some(r#"{"summary":"from extra"}"#.into()),
            ..minimal.clone()
        };
        assert_eq!(ticket_body(&over).unwrap()["summary"], "from extra");

        let bad = [
            (
                NewTicket {
                    company_id: "acme".into(),
                    ..minimal.clone()
                },
                "company-id",
            ),
            (
                NewTicket {
                    queue_id: Some("x".into()),
                    ..minimal.clone()
                },
                "queue-id",
            ),
            (
                NewTicket {
                    summary: " ".into(),
                    ..minimal.clone()
                },
                "summary",
            ),
            (
                NewTicket {
                    category_id: Some("1".into()),
                    ..minimal.clone()
                },
                "category-id",
            ),
            (
                NewTicket {
                    extra: Some("[1]".into()),
                    ..minimal.clone()
                },
                "extra",
            ),
            (
                NewTicket {
                    extra: Some("{".into()),
                    ..minimal.clone()
                },
                "extra",
            ),
        ];
        for (t, f) in bad {
            assert_eq!(field(ticket_body(&t).unwrap_err()), f);
        }
    }

    fn new_note(internal: bool, resolution: bool) -> NewNote {
        NewNote {
            ticket_id: "9001".into(),
            text: "Alert repeated".into(),
            internal,
            resolution,
            title: None,
            note_type_id: None,
            extra: None,
            marker: None,
        }
    }

    #[test]
    fn note_bodies() {
        assert_eq!(
            note_body(&new_note(false, false)).unwrap(),
            json!({"text": "Alert repeated", "detailDescriptionFlag": true, "internalAnalysisFlag": false, "resolutionFlag": false})
        );
        assert_eq!(
            note_body(&new_note(true, false)).unwrap(),
            json!({"text": "Alert repeated", "detailDescriptionFlag": false, "internalAnalysisFlag": true, "resolutionFlag": false})
        );
        assert_eq!(
            note_body(&new_note(false, true)).unwrap(),
            json!({"text": "Alert repeated", "detailDescriptionFlag": true, "internalAnalysisFlag": false, "resolutionFlag": true})
        );
        let titled = NewNote {
            title: Some("Repeated alert".into()),
            extra: Some(r#"{"processNotifications": false}"#.into()),
            ..new_note(false, false)
        };
        let body = note_body(&titled).unwrap();
        assert_eq!(body["text"], "Repeated alert\n\nAlert repeated");
        assert_eq!(body["processNotifications"], false);
        let typed = NewNote {
            note_type_id: Some("3".into()),
            ..new_note(false, false)
        };
        assert_eq!(field(note_body(&typed).unwrap_err()), "note-type-id");
        let empty = NewNote {
            text: "  ".into(),
            ..new_note(false, false)
        };
        assert_eq!(field(note_body(&empty).unwrap_err()), "text");
    }

    #[test]
    fn open_ticket_filter() {
        let f = TicketFilter {
            company_id: Some("19".into()),
            summary: Some(r#"CPU "high" on \\srv01"#.into()),
            queue_id: Some("1".into()),
            limit: 5,
            marker: None,
        };
        assert_eq!(
            open_ticket_conditions(&f).unwrap(),
            r#"closedFlag = false and company/id = 19 and summary = "CPU \"high\" on \\\\srv01" and board/id = 1"#
        );
        let only = TicketFilter {
            company_id: None,
            summary: None,
            queue_id: None,
            limit: 1,
            marker: None,
        };
        assert_eq!(open_ticket_conditions(&only).unwrap(), "closedFlag = false");
        let bad = TicketFilter {
            company_id: Some("19 or 1=1".into()),
            ..only
        };
        assert_eq!(
            field(open_ticket_conditions(&bad).unwrap_err()),
            "company-id"
        );
    }

    #[test]
    fn configuration_bodies() {
        let c = NewConfiguration {
            company_id: "19".into(),
            name: "ACME-DC01".into(),
            configuration_type_id: "12".into(),
            status_id: Some("2".into()),
            serial_number: Some("CZ1234ABC".into()),
            model_number: None,
            mac_address: Some("00:1A:2B:3C:4D:5E".into()),
            ip_address: None,
            device_identifier: Some("auvik-dev-881".into()),
            manufacturer_id: Some("3".into()),
            vendor_id: None,
            notes: None,
            questions: vec![],
            extra: Some(r#"{"tagNumber":"T-1"}"#.into()),
        };
        assert_eq!(
            configuration_body(&c).unwrap(),
            json!({
                "name": "ACME-DC01",
                "company": {"id": 19},
                "type": {"id": 12},
                "status": {"id": 2},
                "manufacturer": {"id": 3},
                "serialNumber": "CZ1234ABC",
                "macAddress": "00:1A:2B:3C:4D:5E",
                "deviceIdentifier": "auvik-dev-881",
                "tagNumber": "T-1",
            })
        );
        let bad = NewConfiguration {
            configuration_type_id: "Server".into(),
            ..c
        };
        assert_eq!(
            field(configuration_body(&bad).unwrap_err()),
            "configuration-type-id"
        );
    }

    #[test]
    fn question_answers_by_id_over_the_current_ones() {
        let a = |id: Option<&str>, q: &str, answer: &str| psa_sdk::types::ConfigurationAnswer {
            question_id: id.map(str::to_string),
            question: q.into(),
            answer: Some(answer.into()),
        };
        let current = [
            a(Some("40"), "Firmware", "1.0"),
            a(Some("41"), "Support", "yes"),
        ];
        let changed = [a(Some("40"), "Firmware", "2.0")];
        assert_eq!(
            answers(&changed, &current).unwrap(),
            json!([{"questionId": 41, "answer": "yes"}, {"questionId": 40, "answer": "2.0"}])
        );
        let e = answers(&[a(None, "Firmware", "2.0")], &[]).unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput(ref p) if p.field == "questions"),
            "{e:?}"
        );
    }

    #[test]
    fn configuration_patches() {
        let changes = ConfigurationChanges {
            name: Some("ACME-DC01".into()),
            configuration_type_id: Some("3".into()),
            questions: vec![],
            status_id: Some("5".into()),
            active: Some(false),
            serial_number: Some("CZ1".into()),
            model_number: None,
            mac_address: None,
            ip_address: Some("10.0.0.11".into()),
            device_identifier: None,
            manufacturer_id: None,
            vendor_id: Some("250".into()),
            notes: None,
            extra: Some(r#"{"tagNumber":"T-2","/site/id":4}"#.into()),
        };
        let ops = configuration_patch(&changes).unwrap();
        assert_eq!(
            Value::Array(ops),
            json!([
                {"op": "replace", "path": "name", "value": "ACME-DC01"},
                {"op": "replace", "path": "type/id", "value": 3},
                {"op": "replace", "path": "status/id", "value": 5},
                {"op": "replace", "path": "vendor/id", "value": 250},
                {"op": "replace", "path": "activeFlag", "value": false},
                {"op": "replace", "path": "serialNumber", "value": "CZ1"},
                {"op": "replace", "path": "ipAddress", "value": "10.0.0.11"},
                {"op": "replace", "path": "site/id", "value": 4},
                {"op": "replace", "path": "tagNumber", "value": "T-2"},
            ])
        );
        let nothing = ConfigurationChanges {
            name: None,
            configuration_type_id: None,
            questions: vec![],
            status_id: None,
            active: None,
            serial_number: None,
            model_number: None,
            mac_address: None,
            ip_address: None,
            device_identifier: None,
            manufacturer_id: None,
            vendor_id: None,
            notes: None,
            extra: None,
        };
        assert!(configuration_patch(&nothing).unwrap().is_empty());
        let bad = ConfigurationChanges {
            status_id: Some("Active".into()),
            ..nothing.clone()
        };
        assert_eq!(field(configuration_patch(&bad).unwrap_err()), "status-id");
        let bad = ConfigurationChanges {
            extra: Some(r#"{"":1}"#.into()),
            ..nothing
        };
        assert_eq!(field(configuration_patch(&bad).unwrap_err()), "extra");
    }

    #[test]
    fn quantity_patches() {
        assert_eq!(
            quantity_patch("12").unwrap(),
            r#"[{"op":"replace","path":"quantity","value":12}]"#
        );
        assert_eq!(
            quantity_patch(" 2.50 ").unwrap(),
            r#"[{"op":"replace","path":"quantity","value":2.5}]"#
        );
        assert_eq!(
            quantity_patch("0.1").unwrap(),
            r#"[{"op":"replace","path":"quantity","value":0.1}]"#
        );
        let parsed: Value = serde_json::from_str(&quantity_patch("1234567.125").unwrap()).unwrap();
        assert_eq!(parsed[0]["value"], json!(1234567.125));
        for bad in ["", "abc", "1e3", "-1", "1,5", "NaN"] {
            assert_eq!(field(quantity_patch(bad).unwrap_err()), "quantity", "{bad}");
        }
    }
}
