//! POST and PATCH operations: tickets, ticket notes, configurations, agreement additions.
//!
//! Every write is validated in full before anything changes; the written record gets
//! `_info.lastUpdated` = now (whole seconds) and `updatedBy` = [`API_MEMBER`].

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::error::{CwError, FieldError};
use super::form::{Form, RefSpec, resolve_named};
use super::listing::record_response;
use crate::data::*;
use crate::dialect::json::cents;
use crate::state::Shared;

/// The member identifier recorded as `updatedBy` for writes through the API.
pub(crate) const API_MEMBER: &str = "APIMember";

/// Longest text fields take.
const LONG_TEXT: usize = 100_000;

fn stamp() -> Info {
    Info::now(API_MEMBER)
}

fn resolve_company(data: &DataSet, spec: &RefSpec) -> Result<Id, String> {
    let mut live = data.companies.values().filter(|c| !c.deleted);
    let found = match spec {
        RefSpec::Id(id) => data.companies.get(id).filter(|c| !c.deleted),
        RefSpec::Identifier(i) => live.find(|c| c.identifier.eq_ignore_ascii_case(i)),
        RefSpec::Name(n) => live.find(|c| c.name.eq_ignore_ascii_case(n)),
    };
    found
        .map(|c| c.id)
        .ok_or_else(|| format!("company {spec} was not found."))
}

fn resolve_by_id<T>(
    exists: impl FnOnce(Id) -> Option<T>,
    spec: &RefSpec,
    noun: &str,
) -> Result<Id, String> {
    match spec {
        RefSpec::Id(id) if exists(*id).is_some() => Ok(*id),
        RefSpec::Id(_) => Err(format!("{noun} {spec} was not found.")),
        _ => Err(format!("{noun} must be given by id, not {spec}.")),
    }
}

fn board_entries(list: &[BoardEntry], board: Id) -> impl Iterator<Item = (Id, &str)> {
    list.iter()
        .filter(move |e| e.board_id == board)
        .map(|e| (e.id, e.name.as_str()))
}

const TICKET_FIELDS: &[&str] = &[
    "summary",
    "board",
    "status",
    "priority",
    "company",
    "contact",
    "type",
    "subType",
    "item",
    "source",
    "agreement",
    "closedFlag",
];
const TICKET_REFERENCES: &[&str] = &[
    "board",
    "status",
    "priority",
    "company",
    "contact",
    "type",
    "subType",
    "item",
    "source",
    "agreement",
];

/// Applies the fields of `f` to `t`, checking them against the data set.
fn apply_ticket(f: &mut Form, data: &DataSet, t: &mut Ticket, creating: bool) {
    let p = &data.picklists;
    if let Some(summary) = f.required_text("summary", 100, creating) {
        t.summary = summary;
    }
    if let Some(company) = f.required_reference("company", creating, |s| resolve_company(data, s)) {
        t.company_id = company;
    }
    let old_board = t.board_id;
    let boards = p
        .boards
        .iter()
        .filter(|b| !b.inactive)
        .map(|b| (b.id, b.name.as_str()));
    if let Some(board) =
        f.required_reference("board", creating, |s| resolve_named(boards, s, "board"))
    {
        t.board_id = board;
    }
    let board = t.board_id;
    let moved = board != old_board;
    let statuses = p
        .board_statuses
        .iter()
        .filter(|s| s.board_id == board)
        .map(|s| (s.id, s.name.as_str()));
    let default_status = p.default_board_status(board).map_or(t.status_id, |s| s.id);
    match f.reference("status", |s| resolve_named(statuses, s, "status")) {
        Some(Some(status)) => t.status_id = status,
        Some(None) => t.status_id = default_status,
        None if moved => t.status_id = default_status,
        None => {
            if let Some(closed) = f.flag("closedFlag") {
                let is_closed = p.board_status(t.status_id).is_some_and(|s| s.closed);
                if closed && !is_closed {
                    let first_closed = p
                        .board_statuses
                        .iter()
                        .find(|s| s.board_id == board && s.closed);
                    t.status_id = first_closed.map_or(t.status_id, |s| s.id);
                } else if !closed && is_closed {
                    t.status_id = default_status;
                }
            }
        }
    }
    let priorities = p.priorities.iter().map(|x| (x.id, x.name.as_str()));
    if let Some(priority) = f.reference("priority", |s| resolve_named(priorities, s, "priority")) {
        t.priority_id = priority.unwrap_or_else(|| p.default_priority());
    }
    if let Some(contact) = f.reference("contact", |s| {
        resolve_by_id(|id| data.contacts.get(&id), s, "contact")
    }) {
        t.contact_id = contact;
    }
    // Type, subtype and item belong to the board; moving the ticket drops those of the old board.
    for (field, list, slot) in [
        ("type", &p.board_types, &mut t.type_id),
        ("subType", &p.board_subtypes, &mut t.subtype_id),
        ("item", &p.board_items, &mut t.item_id),
    ] {
        match f.reference(field, |s| {
            resolve_named(board_entries(list, board), s, field)
        }) {
            Some(v) => *slot = v,
            None if moved => {
                *slot = slot.filter(|id| board_entries(list, board).any(|(e, _)| e == *id))
            }
            None => {}
        }
    }
    let sources = p.sources.iter().map(|x| (x.id, x.name.as_str()));
    if let Some(source) = f.reference("source", |s| resolve_named(sources, s, "source")) {
        t.source_id = source;
    }
    if let Some(agreement) = f.reference("agreement", |s| {
        resolve_by_id(|id| data.agreements.get(&id), s, "agreement")
    }) {
        t.agreement_id = agreement;
    }
    if let Some(contact) = t.contact_id.and_then(|id| data.contacts.get(&id))
        && contact.company_id != t.company_id
        && t.company_id != 0
    {
        f.fail(
            "contact",
            format!(
                "contact id {} does not belong to company id {}.",
                contact.id, t.company_id
            ),
        );
    }
    if let Some(agreement) = t.agreement_id.and_then(|id| data.agreements.get(&id))
        && agreement.company_id != t.company_id
        && t.company_id != 0
    {
        let message = format!(
            "agreement id {} does not belong to company id {}.",
            agreement.id, t.company_id
        );
        f.fail("agreement", message);
    }
}

/// `POST service/tickets`; `initialDescription` becomes the first note, as in ConnectWise.
pub(crate) fn create_ticket(shared: &Shared, body: &[u8]) -> Result<Response, CwError> {
    let mut f = Form::object(body, "ticket")?;
    let mut data = shared.write();
    let mut t = Ticket::blank(&data.picklists, stamp());
    apply_ticket(&mut f, &data, &mut t, true);
    let description = f.text("initialDescription", LONG_TEXT).flatten();
    // ConnectWise keeps an integration's own reference in `externalXRef` (100 characters).
    let external = f.text("externalXRef", 100).flatten();
    f.finish("Ticket")?;
    let ticket_id = data.insert_ticket(t, description);
    if let Some(external) = external {
        let mut extras = serde_json::Map::new();
        extras.insert("externalXRef".into(), external.into());
        data.set_extras(Entity::Ticket, ticket_id, extras);
    }
    let ticket = data
        .tickets
        .get(&ticket_id)
        .ok_or_else(|| CwError::record_not_found("Ticket", ticket_id))?;
    record_response(ticket, &data, None, StatusCode::CREATED)
}

/// `PATCH service/tickets/{id}`.
pub(crate) fn patch_ticket(shared: &Shared, id: Id, body: &[u8]) -> Result<Response, CwError> {
    let mut f = Form::patch(body, "ticket", TICKET_FIELDS, TICKET_REFERENCES)?;
    let mut data = shared.write();
    let mut t = data
        .tickets
        .get(&id)
        .cloned()
        .ok_or_else(|| CwError::record_not_found("Ticket", id))?;
    apply_ticket(&mut f, &data, &mut t, false);
    let changed = !f.is_empty();
    f.finish("Ticket")?;
    if changed {
        t.info = stamp();
    }
    data.tickets.insert(id, t);
    let ticket = data
        .tickets
        .get(&id)
        .ok_or_else(|| CwError::record_not_found("Ticket", id))?;
    record_response(ticket, &data, None, StatusCode::OK)
}

/// `POST service/tickets/{id}/notes`. Without any of the three flags the note is a discussion
/// note (`detailDescriptionFlag`); with all three false it is refused. Adding a note changes the ticket.
pub(crate) fn create_note(
    shared: &Shared,
    ticket_id: Id,
    body: &[u8],
) -> Result<Response, CwError> {
    let mut f = Form::object(body, "serviceNote")?;
    let mut data = shared.write();
    if !data.tickets.contains_key(&ticket_id) {
        return Err(CwError::record_not_found("Ticket", ticket_id));
    }
    let text = f.required_text("text", LONG_TEXT, true);
    let flags = [
        "detailDescriptionFlag",
        "internalAnalysisFlag",
        "resolutionFlag",
    ];
    let given = flags.iter().any(|flag| f.has(flag));
    let [detail, internal, resolution] = flags.map(|flag| f.flag(flag).unwrap_or(false));
    let detail = detail || !given;
    if !(detail || internal || resolution) {
        f.fail(
            "detailDescriptionFlag",
            "One of detailDescriptionFlag, internalAnalysisFlag or resolutionFlag must be true."
                .into(),
        );
    }
    f.finish("ServiceNote")?;
    let stamp = stamp();
    let id = data.insert_note(Note {
        id: 0,
        ticket_id,
        text: text.unwrap_or_default(),
        detail_description: detail,
        internal_analysis: internal,
        resolution,
        date_created: stamp.last_updated,
        created_by: API_MEMBER.to_string(),
        info: stamp,
    });
    let note = data
        .notes
        .get(&id)
        .ok_or_else(|| CwError::record_not_found("ServiceNote", id))?;
    record_response(note, &data, None, StatusCode::CREATED)
}

const CONFIGURATION_FIELDS: &[&str] = &[
    "name",
    "type",
    "status",
    "company",
    "contact",
    "activeFlag",
    "serialNumber",
    "modelNumber",
    "tagNumber",
    "macAddress",
    "ipAddress",
    "deviceIdentifier",
    "manufacturer",
    "vendor",
    "notes",
    "installationDate",
    "warrantyExpirationDate",
    "questions",
];
const CONFIGURATION_REFERENCES: &[&str] = &[
    "type",
    "status",
    "company",
    "contact",
    "manufacturer",
    "vendor",
];

fn apply_configuration(f: &mut Form, data: &DataSet, c: &mut Configuration, creating: bool) {
    let p = &data.picklists;
    if let Some(name) = f.required_text("name", 100, creating) {
        c.name = name;
    }
    let types = p
        .configuration_types
        .iter()
        .map(|x| (x.id, x.name.as_str()));
    if let Some(kind) = f.required_reference("type", creating, |s| resolve_named(types, s, "type"))
    {
        if kind != c.type_id {
            // Answers belong to the questions of a type: a new type keeps only those it asks.
            let asked = p.configuration_type(kind);
            c.questions.retain(|q| {
                asked.is_some_and(|k| k.questions.iter().any(|x| x.id == q.question_id))
            });
        }
        c.type_id = kind;
    }
    let statuses = p
        .configuration_statuses
        .iter()
        .map(|x| (x.id, x.name.as_str()));
    if let Some(status) = f.reference("status", |s| resolve_named(statuses, s, "status")) {
        c.status_id = status.unwrap_or_else(|| p.default_configuration_status());
    }
    if let Some(company) = f.required_reference("company", creating, |s| resolve_company(data, s)) {
        c.company_id = company;
    }
    if let Some(contact) = f.reference("contact", |s| {
        resolve_by_id(|id| data.contacts.get(&id), s, "contact")
    }) {
        c.contact_id = contact;
    }
    if let Some(active) = f.flag("activeFlag") {
        c.active = active;
    }
    for (field, slot) in [
        ("serialNumber", &mut c.serial_number),
        ("modelNumber", &mut c.model_number),
        ("tagNumber", &mut c.tag_number),
        ("macAddress", &mut c.mac_address),
        ("ipAddress", &mut c.ip_address),
        ("deviceIdentifier", &mut c.device_identifier),
    ] {
        if let Some(v) = f.text(field, 250) {
            *slot = v;
        }
    }
    if let Some(notes) = f.text("notes", LONG_TEXT) {
        c.notes = notes;
    }
    let makers = p.manufacturers.iter().map(|x| (x.id, x.name.as_str()));
    if let Some(maker) = f.reference("manufacturer", |s| resolve_named(makers, s, "manufacturer")) {
        c.manufacturer_id = maker;
    }
    let vendor = |s: &RefSpec| {
        let id = resolve_company(data, s).map_err(|_| format!("vendor {s} was not found."))?;
        let is_vendor = data
            .companies
            .get(&id)
            .is_some_and(|v| v.type_ids.contains(&company_type::VENDOR));
        if is_vendor {
            Ok(id)
        } else {
            Err(format!("company id {id} is not a vendor."))
        }
    };
    if let Some(v) = f.reference("vendor", vendor) {
        c.vendor_id = v;
    }
    if let Some(d) = f.date("installationDate") {
        c.installation_date = d;
    }
    if let Some(d) = f.date("warrantyExpirationDate") {
        c.warranty_expiration = d;
    }
    if let Some(questions) = f.value("questions").cloned() {
        match questions_of(&questions, p.configuration_type(c.type_id)) {
            Ok(answers) => c.questions = answers,
            Err(message) => f.fail("questions", message),
        }
    }
    if let Some(contact) = c.contact_id.and_then(|id| data.contacts.get(&id))
        && contact.company_id != c.company_id
        && c.company_id != 0
    {
        f.fail(
            "contact",
            format!(
                "contact id {} does not belong to company id {}.",
                contact.id, c.company_id
            ),
        );
    }
}

/// `[{"questionId": 10, "answer": "..."}]`, checked against the questions of the type.
fn questions_of(
    value: &Value,
    kind: Option<&ConfigurationType>,
) -> Result<Vec<QuestionAnswer>, String> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => return Err("The questions field must be an array.".into()),
    };
    let mut answers = Vec::new();
    for item in items {
        let Some(question_id) = item.get("questionId").and_then(Value::as_u64) else {
            return Err("Each question needs a numeric questionId.".into());
        };
        let asked = kind.is_some_and(|k| k.questions.iter().any(|q| q.id == question_id));
        if !asked {
            let type_name = kind.map_or("?", |k| k.name.as_str());
            return Err(format!(
                "question {question_id} is not asked for configurations of type '{type_name}'."
            ));
        }
        let answer = match item.get("answer") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        };
        answers.push(QuestionAnswer {
            question_id,
            answer,
        });
    }
    Ok(answers)
}

/// `POST company/configurations` (any type, including those the API may not update later).
pub(crate) fn create_configuration(shared: &Shared, body: &[u8]) -> Result<Response, CwError> {
    let mut f = Form::object(body, "configuration")?;
    let mut data = shared.write();
    let mut c = Configuration::blank(&data.picklists, stamp());
    apply_configuration(&mut f, &data, &mut c, true);
    f.finish("Configuration")?;
    let id = data.insert_configuration(c);
    let c = data
        .configurations
        .get(&id)
        .ok_or_else(|| CwError::record_not_found("Configuration", id))?;
    record_response(c, &data, None, StatusCode::CREATED)
}

fn not_updatable(kind: &str, changing_to: bool) -> CwError {
    let message = if changing_to {
        format!("Configurations cannot be changed to type '{kind}' through the API.")
    } else {
        format!("Configurations of type '{kind}' cannot be updated through the API.")
    };
    CwError::invalid_object(
        "Configuration object is invalid",
        vec![FieldError::invalid("configuration", "type", message)],
    )
}

/// `PATCH company/configurations/{id}`; refused for the types owned by other integrations.
pub(crate) fn patch_configuration(
    shared: &Shared,
    id: Id,
    body: &[u8],
) -> Result<Response, CwError> {
    let mut f = Form::patch(
        body,
        "configuration",
        CONFIGURATION_FIELDS,
        CONFIGURATION_REFERENCES,
    )?;
    let mut data = shared.write();
    let mut c = data
        .configurations
        .get(&id)
        .cloned()
        .ok_or_else(|| CwError::record_not_found("Configuration", id))?;
    let kind = |type_id: Id| data.picklists.configuration_type(type_id);
    if let Some(k) = kind(c.type_id).filter(|k| !k.api_updatable) {
        return Err(not_updatable(&k.name, false));
    }
    apply_configuration(&mut f, &data, &mut c, false);
    if let Some(k) = kind(c.type_id).filter(|k| !k.api_updatable) {
        return Err(not_updatable(&k.name, true));
    }
    let changed = !f.is_empty();
    f.finish("Configuration")?;
    if changed {
        c.info = stamp();
    }
    data.configurations.insert(id, c);
    let c = data
        .configurations
        .get(&id)
        .ok_or_else(|| CwError::record_not_found("Configuration", id))?;
    record_response(c, &data, None, StatusCode::OK)
}

const ADDITION_FIELDS: &[&str] = &[
    "quantity",
    "unitPrice",
    "unitCost",
    "billCustomer",
    "description",
    "effectiveDate",
    "cancelledDate",
];

/// `PATCH finance/agreements/{id}/additions/{additionId}` (the agreement itself is not changed).
pub(crate) fn patch_addition(
    shared: &Shared,
    agreement_id: Id,
    id: Id,
    body: &[u8],
) -> Result<Response, CwError> {
    let mut f = Form::patch(body, "addition", ADDITION_FIELDS, &[])?;
    let mut data = shared.write();
    if !data.agreements.contains_key(&agreement_id) {
        return Err(CwError::record_not_found("Agreement", agreement_id));
    }
    let mut line = data
        .agreement_lines
        .get(&id)
        .filter(|l| l.agreement_id == agreement_id)
        .cloned()
        .ok_or_else(|| CwError::record_not_found("Addition", id))?;
    if let Some(q) = f.amount("quantity") {
        line.quantity = q;
    }
    if let Some(p) = f.amount("unitPrice") {
        line.unit_price_cents = cents(p);
    }
    if let Some(c) = f.amount("unitCost") {
        line.unit_cost_cents = cents(c);
    }
    if let Some(b) = f.required_text("billCustomer", 20, false) {
        match BillCustomer::parse(&b) {
            Some(b) => line.bill_customer = b,
            None => f.fail(
                "billCustomer",
                format!("billCustomer '{b}' is not one of Billable, DoNotBill, NoCharge."),
            ),
        }
    }
    if let Some(d) = f.required_text("description", 250, false) {
        line.description = d;
    }
    match f.date("effectiveDate") {
        Some(Some(d)) => line.effective_date = d.date(),
        Some(None) => f.fail(
            "effectiveDate",
            "The effectiveDate field is required.".into(),
        ),
        None => {}
    }
    if let Some(d) = f.date("cancelledDate") {
        line.cancelled_date = d.map(|d| d.date());
    }
    let changed = !f.is_empty();
    f.finish("Addition")?;
    if changed {
        line.info = stamp();
    }
    data.agreement_lines.insert(id, line);
    let line = data
        .agreement_lines
        .get(&id)
        .ok_or_else(|| CwError::record_not_found("Addition", id))?;
    record_response(line, &data, None, StatusCode::OK)
}
