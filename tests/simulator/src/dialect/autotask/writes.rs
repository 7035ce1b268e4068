//! Creates and updates: tickets, ticket notes, configuration items, contract service
//! adjustments. Every answer is `{"itemId": n}`; every problem is one message of a 500
//! (`Missing required field: status.`, `Invalid value 99 for field queueID.`, ...), all reported
//! at once, before anything changes.
//!
//! Body keys ignore case. Fields the neutral model holds change the record; other writable
//! fields (and unknown ones, such as user-defined fields) are kept as the record's extras and
//! read back; read-only fields are ignored.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::entities::{AtEntity, Pick, STATUSES, Ty, subtype_of};
use super::error::AtError;
use crate::data::*;
use crate::dialect::json::{cents, get_ci, parse_datetime, timestamp};

/// A write body being read: the fields not read yet, and the problems found.
struct Body<'a> {
    entity: AtEntity,
    data: &'a DataSet,
    fields: Map<String, Value>,
    errors: Vec<String>,
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl<'a> Body<'a> {
    fn parse(bytes: &[u8], entity: AtEntity, data: &'a DataSet) -> Result<Body<'a>, AtError> {
        match serde_json::from_slice(bytes) {
            Ok(Value::Object(fields)) => Ok(Body {
                entity,
                data,
                fields,
                errors: Vec::new(),
            }),
            Ok(_) => Err(AtError::invalid(format!(
                "The {} body must be a JSON object.",
                entity.name()
            ))),
            Err(e) => Err(AtError::invalid(format!(
                "The request body is not valid JSON: {e}"
            ))),
        }
    }

    fn fail(&mut self, message: String) {
        self.errors.push(message);
    }

    fn invalid(&mut self, field: &str, v: &Value) {
        self.fail(format!("Invalid value {} for field {field}.", shown(v)));
    }

    /// Removes `name` (ignoring case): `None` absent, `Some(Null)` null.
    fn take(&mut self, name: &str, required: bool) -> Option<Value> {
        let key = self
            .fields
            .keys()
            .find(|k| k.eq_ignore_ascii_case(name))
            .cloned();
        let value = key.and_then(|k| self.fields.remove(&k));
        if required && value.as_ref().is_none_or(Value::is_null) {
            self.fail(format!("Missing required field: {name}."));
            return None;
        }
        value
    }

    /// `userDefinedFields`: `[{"name": "...", "value": "..."|null}]`, merged by name (ignoring
    /// case) into `current`, as Autotask changes only the fields a write names.
    fn user_defined_fields(&mut self, current: Vec<Value>) -> Option<Vec<Value>> {
        let given = self.take("userDefinedFields", false)?;
        let items = match &given {
            Value::Null => return None,
            Value::Array(items) => items.clone(),
            other => {
                self.invalid("userDefinedFields", other);
                return None;
            }
        };
        let mut merged = current;
        for item in items {
            let name = item
                .as_object()
                .and_then(|o| get_ci(o, "name"))
                .and_then(Value::as_str)
                .filter(|n| !n.trim().is_empty());
            let value = item.as_object().and_then(|o| get_ci(o, "value"));
            let value = match value {
                None | Some(Value::Null) => Some(Value::Null),
                Some(Value::String(s)) => Some(Value::String(s.clone())),
                Some(Value::Number(n)) => Some(Value::String(n.to_string())),
                Some(_) => None,
            };
            let (Some(name), Some(value)) = (name, value) else {
                self.invalid("userDefinedFields", &item);
                continue;
            };
            let entry = json!({"name": name, "value": value});
            match merged.iter_mut().find(|u| {
                u["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            }) {
                Some(slot) => *slot = entry,
                None => merged.push(entry),
            }
        }
        Some(merged)
    }

    /// An integer field: `Some(None)` when null.
    fn int(&mut self, name: &str, required: bool) -> Option<Option<i64>> {
        match self.take(name, required)? {
            Value::Null => Some(None),
            v => match v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            {
                Some(n) => Some(Some(n)),
                None => {
                    self.invalid(name, &v);
                    None
                }
            },
        }
    }

    /// A required integer.
    fn required_int(&mut self, name: &str) -> Option<i64> {
        self.int(name, true).flatten()
    }

    /// A text field, checked against the field's length (blank required text is missing).
    fn text(&mut self, name: &str, required: bool) -> Option<Option<String>> {
        let max = match self.entity.field(name).map(|f| f.ty) {
            Some(Ty::Text(n)) => n as usize,
            _ => usize::MAX,
        };
        match self.take(name, required)? {
            Value::Null => Some(None),
            Value::String(s) if required && s.trim().is_empty() => {
                self.fail(format!("Missing required field: {name}."));
                None
            }
            Value::String(s) if s.chars().count() > max => {
                self.fail(format!(
                    "{name} exceeds the maximum length of {max} characters."
                ));
                None
            }
            Value::String(s) => Some(Some(s)),
            other => {
                self.invalid(name, &other);
                None
            }
        }
    }

    fn boolean(&mut self, name: &str, required: bool) -> Option<bool> {
        match self.take(name, required)? {
            Value::Bool(b) => Some(b),
            Value::Number(n) if n.as_i64().is_some_and(|n| n == 0 || n == 1) => {
                Some(n.as_i64() == Some(1))
            }
            Value::Null => None,
            other => {
                self.invalid(name, &other);
                None
            }
        }
    }

    fn datetime(&mut self, name: &str, required: bool) -> Option<Option<OffsetDateTime>> {
        match self.take(name, required)? {
            Value::Null => Some(None),
            Value::String(s) => match parse_datetime(s.trim()) {
                Some(d) => {
                    let d = d.to_offset(time::UtcOffset::UTC);
                    Some(Some(d.replace_nanosecond(0).unwrap_or(d)))
                }
                None => {
                    self.invalid(name, &Value::String(s));
                    None
                }
            },
            other => {
                self.invalid(name, &other);
                None
            }
        }
    }

    /// A reference: an id accepted by `exists`, `Some(None)` when null.
    fn reference(
        &mut self,
        name: &str,
        required: bool,
        exists: impl FnOnce(Id) -> bool,
    ) -> Option<Option<Id>> {
        match self.int(name, required)? {
            None => Some(None),
            Some(n) => match u64::try_from(n).ok().filter(|id| *id > 0 && exists(*id)) {
                Some(id) => Some(Some(id)),
                None => {
                    self.invalid(name, &Value::from(n));
                    None
                }
            },
        }
    }

    /// A picklist field: a value of the list, `Some(None)` when null.
    fn pick(&mut self, name: &str, pick: Pick, required: bool) -> Option<Option<i64>> {
        let data = self.data;
        match self.int(name, required)? {
            None => Some(None),
            Some(v) if pick.allows(data, v) => Some(Some(v)),
            Some(v) => {
                self.invalid(name, &Value::from(v));
                None
            }
        }
    }

    /// Checks the remaining fields and returns those to keep as extras (read-only fields are
    /// dropped); fails with every problem found.
    fn finish(mut self) -> Result<Map<String, Value>, AtError> {
        let mut extras = Map::new();
        for (key, value) in std::mem::take(&mut self.fields) {
            let Some(field) = self.entity.field(&key) else {
                extras.insert(key, value);
                continue;
            };
            if field.read_only {
                continue;
            }
            let ok = match (field.ty, &value) {
                (_, Value::Null) => true,
                (Ty::Text(max), Value::String(s)) => {
                    if s.chars().count() > max as usize {
                        self.fail(format!(
                            "{} exceeds the maximum length of {max} characters.",
                            field.name
                        ));
                    }
                    true
                }
                (Ty::DateTime, Value::String(s)) => parse_datetime(s.trim()).is_some(),
                (Ty::Boolean, Value::Bool(_)) => true,
                (ty, Value::Number(n)) if ty.numeric() => match field.pick {
                    Some(pick) => n.as_i64().is_some_and(|v| pick.allows(self.data, v)),
                    None => true,
                },
                _ => false,
            };
            if ok {
                extras.insert(field.name.to_string(), value);
            } else {
                self.invalid(field.name, &value);
            }
        }
        if self.errors.is_empty() {
            Ok(extras)
        } else {
            Err(AtError::server(self.errors))
        }
    }
}

/// `{"itemId": id}`.
pub(crate) fn item_id(id: Id) -> Value {
    serde_json::json!({ "itemId": id })
}

/// The neutral status on `board` of Autotask status `status`.
fn board_status(board: Id, status: i64) -> Id {
    let position = STATUSES.iter().find(|s| s.0 == status).map_or(1, |s| s.2);
    board * 10 + position
}

/// The Autotask status of a neutral board status.
fn status_value(data: &DataSet, status_id: Id) -> i64 {
    super::entities::status_of(
        data.picklists
            .board_status(status_id)
            .map_or(1, |s| Id::from(s.sort_order)),
    )
}

/// Applies the ticket fields of `b` to `t` (creating: the required ones must be there).
fn apply_ticket(b: &mut Body<'_>, t: &mut Ticket, creating: bool) -> Option<String> {
    let data = b.data;
    if let Some(Some(title)) = b.text("title", creating) {
        t.summary = title;
    }
    if let Some(Some(company)) = b.reference("companyID", creating, |id| data.company_live(id)) {
        t.company_id = company;
    }
    let status = b.pick("status", Pick::TicketStatus, creating).flatten();
    if let Some(Some(priority)) = b.pick("priority", Pick::Priority, creating) {
        t.priority_id = super::entities::PRIORITIES
            .iter()
            .find(|p| p.0 == priority)
            .map_or(3, |p| p.2);
    }
    let (old_board, old_status) = (t.board_id, status_value(data, t.status_id));
    match b.pick("queueID", Pick::Queue, false) {
        Some(Some(queue)) => t.board_id = queue as Id,
        _ if creating => t.board_id = 1,
        _ => {}
    }
    if status.is_some() || t.board_id != old_board {
        t.status_id = board_status(t.board_id, status.unwrap_or(old_status));
    }
    if let Some(contact) = b.reference("contactID", false, |id| {
        data.contacts
            .get(&id)
            .is_some_and(|c| c.company_id == t.company_id)
    }) {
        t.contact_id = contact;
    }
    let boards = &data.picklists.board_types;
    if let Some(issue) = b.reference("issueType", false, |id| boards.iter().any(|x| x.id == id)) {
        t.type_id = issue;
        t.subtype_id = None;
    }
    match (b.int("subIssueType", false), t.type_id) {
        (Some(Some(sub)), Some(issue)) => match subtype_of(data, issue, sub) {
            Some(subtype) => t.subtype_id = Some(subtype),
            None => b.invalid("subIssueType", &Value::from(sub)),
        },
        (Some(Some(sub)), None) => b.invalid("subIssueType", &Value::from(sub)),
        (Some(None), _) => t.subtype_id = None,
        (None, _) => {}
    }
    let sources = &data.picklists.sources;
    if let Some(source) = b.reference("source", false, |id| sources.iter().any(|s| s.id == id)) {
        t.source_id = source;
    }
    if let Some(contract) = b.reference("contractID", false, |id| {
        data.agreements
            .get(&id)
            .is_some_and(|a| a.company_id == t.company_id)
    }) {
        t.agreement_id = contract;
    }
    b.text("description", false).flatten()
}

/// `POST Tickets`: companyID, title, status and priority are required; the description
/// becomes the ticket's first note.
pub(crate) fn create_ticket(data: &mut DataSet, body: &[u8], by: &str) -> Result<Id, AtError> {
    let mut b = Body::parse(body, AtEntity::Tickets, data)?;
    let mut t = Ticket::blank(&data.picklists, Info::now(by));
    let description = apply_ticket(&mut b, &mut t, true);
    let extras = b.finish()?;
    let id = data.insert_ticket(t, description);
    data.set_extras(Entity::Ticket, id, extras);
    Ok(id)
}

/// The record id of a PATCH body (`id`, required).
fn patch_id(b: &mut Body<'_>, exists: impl FnOnce(Id) -> bool) -> Result<Id, AtError> {
    match b.reference("id", true, exists) {
        Some(Some(id)) => Ok(id),
        _ => Err(AtError::server(std::mem::take(&mut b.errors))),
    }
}

/// `PATCH Tickets` with `id` and the fields to change.
pub(crate) fn update_ticket(data: &mut DataSet, body: &[u8], by: &str) -> Result<Id, AtError> {
    let mut b = Body::parse(body, AtEntity::Tickets, data)?;
    let id = patch_id(&mut b, |id| data.tickets.contains_key(&id))?;
    let mut t = data.tickets[&id].clone();
    let description = apply_ticket(&mut b, &mut t, false);
    let extras = b.finish()?;
    if description.is_some() {
        return Err(AtError::invalid(
            "description cannot be changed once the ticket is created: add a note.",
        ));
    }
    t.info = Info::now(by);
    data.tickets.insert(id, t);
    data.set_extras(Entity::Ticket, id, extras);
    Ok(id)
}

/// `POST Tickets/{id}/Notes`: title, description, noteType and publish are required; publish 2
/// (Internal Only) makes an internal note.
pub(crate) fn create_note(
    data: &mut DataSet,
    ticket_id: Id,
    body: &[u8],
    by: &str,
) -> Result<Id, AtError> {
    if !data.tickets.contains_key(&ticket_id) {
        return Err(AtError::invalid(format!(
            "Invalid value {ticket_id} for field ticketID."
        )));
    }
    let mut b = Body::parse(body, AtEntity::TicketNotes, data)?;
    if let Some(Some(given)) = b.int("ticketID", false)
        && given != ticket_id as i64
    {
        b.invalid("ticketID", &Value::from(given));
    }
    let title = b.text("title", true).flatten();
    let description = b.text("description", true).flatten().unwrap_or_default();
    let note_type = b.pick("noteType", Pick::NoteType, true).flatten();
    let publish = b.pick("publish", Pick::Publish, true).flatten();
    let mut extras = b.finish()?;
    if let Some(title) = title {
        extras.insert("title".into(), title.into());
    }
    if let Some(t) = note_type.filter(|t| *t != 1) {
        extras.insert("noteType".into(), t.into());
    }
    let internal = publish == Some(2);
    let info = Info::now(by);
    let id = data.insert_note(Note {
        id: 0,
        ticket_id,
        text: description,
        detail_description: !internal,
        internal_analysis: internal,
        resolution: false,
        date_created: info.last_updated,
        created_by: by.to_string(),
        info,
    });
    data.set_extras(Entity::Note, id, extras);
    Ok(id)
}

/// Applies the configuration item fields of `b` to `c`.
fn apply_item(b: &mut Body<'_>, c: &mut Configuration, creating: bool) {
    let data = b.data;
    if let Some(Some(company)) = b.reference("companyID", creating, |id| data.company_live(id)) {
        c.company_id = company;
    }
    if let Some(Some(kind)) = b.reference("configurationItemType", creating, |id| {
        data.picklists.configuration_type(id).is_some()
    }) {
        c.type_id = kind;
    }
    if let Some(active) = b.boolean("isActive", creating) {
        c.active = active;
    }
    if let Some(name) = b.text("referenceTitle", false) {
        c.name = name.unwrap_or_default();
    }
    for (field, slot) in [
        ("referenceNumber", &mut c.device_identifier),
        ("serialNumber", &mut c.serial_number),
        ("notes", &mut c.notes),
    ] {
        if let Some(v) = b.text(field, false) {
            *slot = v;
        }
    }
    let vendor = |id: Id| {
        data.companies
            .get(&id)
            .is_some_and(|v| !v.deleted && v.type_ids.contains(&company_type::VENDOR))
    };
    if let Some(v) = b.reference("vendorID", false, vendor) {
        c.vendor_id = v;
    }
    let company = c.company_id;
    if let Some(contact) = b.reference("contactID", false, |id| {
        data.contacts
            .get(&id)
            .is_some_and(|x| x.company_id == company)
    }) {
        c.contact_id = contact;
    }
    if let Some(d) = b.datetime("installDate", false) {
        c.installation_date = d;
    }
    if let Some(d) = b.datetime("warrantyExpirationDate", false) {
        c.warranty_expiration = d;
    }
}

/// `POST ConfigurationItems`: companyID, configurationItemType, productID and isActive are
/// required; any type can be created.
pub(crate) fn create_item(data: &mut DataSet, body: &[u8], by: &str) -> Result<Id, AtError> {
    let mut b = Body::parse(body, AtEntity::ConfigurationItems, data)?;
    let info = Info::now(by);
    let mut c = Configuration::blank(&data.picklists, info.clone());
    apply_item(&mut b, &mut c, true);
    let product = b.reference("productID", true, |_| true);
    let udfs = b.user_defined_fields(Vec::new());
    let mut extras = b.finish()?;
    if let Some(udfs) = udfs {
        extras.insert("userDefinedFields".into(), Value::Array(udfs));
    }
    if let Some(Some(product)) = product {
        extras.insert("productID".into(), product.into());
    }
    extras.insert("createDate".into(), timestamp(info.last_updated));
    let id = data.insert_configuration(c);
    data.set_extras(Entity::Configuration, id, extras);
    Ok(id)
}

/// Refuses configuration items of the types other integrations own.
fn updatable(data: &DataSet, type_id: Id) -> Result<(), AtError> {
    match data.picklists.configuration_type(type_id) {
        Some(t) if !t.api_updatable => Err(AtError::invalid(format!(
            "Configuration items of type {} cannot be updated through the API.",
            t.name
        ))),
        _ => Ok(()),
    }
}

/// `PATCH ConfigurationItems` with `id` and the fields to change.
pub(crate) fn update_item(data: &mut DataSet, body: &[u8], by: &str) -> Result<Id, AtError> {
    let mut b = Body::parse(body, AtEntity::ConfigurationItems, data)?;
    let id = patch_id(&mut b, |id| data.configurations.contains_key(&id))?;
    let mut c = data.configurations[&id].clone();
    updatable(data, c.type_id)?;
    let before = c.type_id;
    apply_item(&mut b, &mut c, false);
    if c.type_id != before {
        // Answers belong to the questions of a type (as in ConnectWise's PATCH).
        let asked = data.picklists.configuration_type(c.type_id);
        c.questions
            .retain(|q| asked.is_some_and(|k| k.questions.iter().any(|x| x.id == q.question_id)));
    }
    let product = b.reference("productID", false, |_| true);
    let udfs = b.user_defined_fields(super::render::user_defined_fields(
        data,
        &data.configurations[&id],
    ));
    let mut extras = b.finish()?;
    updatable(data, c.type_id)?;
    if let Some(udfs) = udfs {
        extras.insert("userDefinedFields".into(), Value::Array(udfs));
    }
    if let Some(Some(product)) = product {
        extras.insert("productID".into(), product.into());
    }
    c.info = Info::now(by);
    data.configurations.insert(id, c);
    data.set_extras(Entity::Configuration, id, extras);
    Ok(id)
}

/// `POST ContractServiceAdjustments`: adds `unitChange` to the units of the contract service's
/// billing period when it ends on or after `effectiveDate` (and sets its unit price to
/// `adjustedUnitPrice` when given).
pub(crate) fn adjust_units(data: &mut DataSet, body: &[u8], by: &str) -> Result<(), AtError> {
    let mut b = Body::parse(body, AtEntity::ContractServiceAdjustments, data)?;
    let contract = b.reference("contractID", true, |id| data.agreements.contains_key(&id));
    let contract = contract.flatten().unwrap_or(0);
    let service = b
        .reference("contractServiceID", true, |id| {
            contract == 0
                || data
                    .agreement_lines
                    .get(&id)
                    .is_some_and(|l| l.agreement_id == contract)
        })
        .flatten();
    let effective = b.datetime("effectiveDate", true).flatten();
    let change = b.required_int("unitChange");
    let price = match b.take("adjustedUnitPrice", false) {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_f64().filter(|p| *p >= 0.0) {
            Some(p) => Some(p),
            None => {
                b.invalid("adjustedUnitPrice", &v);
                None
            }
        },
    };
    b.finish()?;
    let (Some(service), Some(effective), Some(change)) = (service, effective, change) else {
        return Err(AtError::invalid(
            "Missing required field: contractServiceID.",
        ));
    };
    let mut line = data.agreement_lines[&service].clone();
    let end = super::render::period_end(&line, data.agreements.get(&line.agreement_id));
    if end < effective.date() {
        return Err(AtError::invalid(format!(
            "Invalid value {} for field effectiveDate.",
            crate::dialect::json::format_timestamp(effective)
        )));
    }
    let units = line.quantity + change as f64;
    if units < 0.0 {
        return Err(AtError::invalid(format!(
            "Invalid value {change} for field unitChange."
        )));
    }
    line.quantity = units;
    if let Some(p) = price {
        line.unit_price_cents = cents(p);
    }
    line.info = Info::now(by);
    data.agreement_lines.insert(service, line);
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn data() -> DataSet {
        DataSet::sample(9, 30)
    }

    fn errors(r: Result<Id, AtError>) -> Vec<String> {
        r.unwrap_err().errors
    }

    #[test]
    fn tickets_need_their_required_fields_and_valid_references() {
        let mut d = data();
        assert_eq!(
            errors(create_ticket(&mut d, b"{}", "api")),
            vec![
                "Missing required field: title.",
                "Missing required field: companyID.",
                "Missing required field: status.",
                "Missing required field: priority.",
            ]
        );
        let company = d.companies.values().find(|c| !c.deleted).unwrap().id;
        let body = json!({"companyID": company, "title": "x", "status": 1, "priority": 2, "queueID": 99,
            "subIssueType": 10101, "dueDateTime": "soon"});
        assert_eq!(
            errors(create_ticket(&mut d, body.to_string().as_bytes(), "api")),
            vec![
                "Invalid value 99 for field queueID.",
                "Invalid value 10101 for field subIssueType.",
                "Invalid value soon for field dueDateTime.",
            ]
        );
        let body = json!({"companyID": company, "title": "Disk full", "status": 8, "priority": 4,
            "queueID": 2, "issueType": 201, "subIssueType": 20102, "description": "C: at 98%",
            "dueDateTime": "2026-12-01T17:00:00Z", "UDF1": "x", "ticketNumber": "ignored"});
        let id = create_ticket(&mut d, body.to_string().as_bytes(), "api").unwrap();
        let t = &d.tickets[&id];
        assert_eq!((t.board_id, t.status_id, t.priority_id), (2, 22, 1));
        assert_eq!((t.type_id, t.subtype_id), (Some(201), Some(202)));
        assert_eq!(d.notes_of(id).next().unwrap().text, "C: at 98%");
        assert_eq!(
            d.extra(Entity::Ticket, id, "dueDateTime"),
            Some(&json!("2026-12-01T17:00:00Z"))
        );
        assert_eq!(d.extra(Entity::Ticket, id, "UDF1"), Some(&json!("x")));
        assert_eq!(d.extra(Entity::Ticket, id, "ticketNumber"), None);
        let body = json!({"id": id, "status": 5, "queueID": 1});
        update_ticket(&mut d, body.to_string().as_bytes(), "api").unwrap();
        assert_eq!(d.tickets[&id].status_id, 15);
        assert!(d.ticket_closed(&d.tickets[&id]));
        assert_eq!(
            errors(update_ticket(&mut d, br#"{"id": 5, "title": "x"}"#, "api")),
            vec!["Invalid value 5 for field id."]
        );
    }

    #[test]
    fn notes_items_and_adjustments() {
        let mut d = data();
        let ticket = *d.tickets.keys().next().unwrap();
        let err = create_note(&mut d, 1, b"{}", "api").unwrap_err();
        assert_eq!(err.errors, vec!["Invalid value 1 for field ticketID."]);
        let body = json!({"ticketID": ticket, "title": "T", "description": "text", "noteType": 2, "publish": 2});
        let id = create_note(&mut d, ticket, body.to_string().as_bytes(), "api").unwrap();
        assert!(d.notes[&id].internal_analysis);
        assert_eq!(d.extra(Entity::Note, id, "noteType"), Some(&json!(2)));
        assert_eq!(d.tickets[&ticket].info, d.notes[&id].info);

        let company = d.companies.values().find(|c| !c.deleted).unwrap().id;
        let body = json!({"companyID": company, "configurationItemType": 1, "isActive": true, "referenceTitle": "PC1"});
        assert_eq!(
            errors(create_item(&mut d, body.to_string().as_bytes(), "api")),
            vec!["Missing required field: productID."]
        );
        let body = json!({"companyID": company, "configurationItemType": 11, "isActive": true,
            "referenceTitle": "SRV1", "productID": 7, "rmmDeviceAuditMacAddress": "ignored"});
        let item = create_item(&mut d, body.to_string().as_bytes(), "api").unwrap();
        assert_eq!(d.configurations[&item].name, "SRV1");
        assert_eq!(
            d.extra(Entity::Configuration, item, "productID"),
            Some(&json!(7))
        );
        assert!(d.extra(Entity::Configuration, item, "createDate").is_some());
        let body = json!({"id": item, "referenceTitle": "SRV2"});
        assert_eq!(
            errors(update_item(&mut d, body.to_string().as_bytes(), "api")),
            vec!["Configuration items of type Managed Server cannot be updated through the API."]
        );

        let line = d
            .agreement_lines
            .values()
            .find(|l| {
                super::super::render::period_end(l, d.agreements.get(&l.agreement_id))
                    > time::macros::date!(2030 - 01 - 01)
            })
            .unwrap()
            .clone();
        let body = json!({"contractID": line.agreement_id, "contractServiceID": line.id,
            "effectiveDate": "2026-11-01T00:00:00Z", "unitChange": 3, "adjustedUnitPrice": 12.5});
        adjust_units(&mut d, body.to_string().as_bytes(), "api").unwrap();
        assert_eq!(d.agreement_lines[&line.id].quantity, line.quantity + 3.0);
        assert_eq!(d.agreement_lines[&line.id].unit_price_cents, 1250);
        let body = json!({"contractID": line.agreement_id, "contractServiceID": line.id + 100_000,
            "effectiveDate": "2026-11-01T00:00:00Z", "unitChange": 1});
        let err = adjust_units(&mut d, body.to_string().as_bytes(), "api").unwrap_err();
        assert_eq!(
            err.errors,
            vec![format!(
                "Invalid value {} for field contractServiceID.",
                line.id + 100_000
            )]
        );
    }
}
