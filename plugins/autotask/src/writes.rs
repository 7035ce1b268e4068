//! Write-backs: request bodies (pure, tested) and the calls that send them.
//!
//! Autotask answers a create or an update with `{"itemId": n}` only; the connector then reads the
//! record by id and returns it as stored.

use crate::client::Client;
use crate::map;
use crate::query::{self, Filter};
use psa_sdk::http::Method;
use psa_sdk::types::{
    Configuration, ConfigurationChanges, NewConfiguration, NewNote, NewTicket, Note, Ticket,
    TicketFilter,
};
use psa_sdk::{Error, Result, input, time};
use serde_json::{Map, Value, json};

use crate::map::NOTE_TITLE_MAX;
/// The note type used when the caller gives none (decided: the first stock note type).
pub const DEFAULT_NOTE_TYPE: u64 = 1;

/// Merges the `extra` JSON object over `body` (top-level keys of `extra` win).
pub fn merge_extra(body: &mut Map<String, Value>, extra: Option<&str>) -> Result<()> {
    body.extend(input::extra_fields(
        extra,
        "Autotask fields (camelCase, e.g. {\"dueDateTime\": \"2026-03-02T17:00:00Z\"})",
    )?);
    Ok(())
}

/// Puts the optional ids of `refs` (Autotask field, input name, value) into `body`.
fn put_ids(body: &mut Map<String, Value>, refs: &[(&str, &str, &Option<String>)]) -> Result<()> {
    for (key, input, id) in refs {
        if let Some(id) = id {
            body.insert((*key).into(), json!(query::id(input, id)?));
        }
    }
    Ok(())
}

/// Puts question answers into `body` as `userDefinedFields` (`[{"name", "value"}]`): Autotask
/// names them by the field's name and changes only the fields a write lists.
fn put_answers(body: &mut Map<String, Value>, answers: &[psa_sdk::types::ConfigurationAnswer]) {
    if answers.is_empty() {
        return;
    }
    let fields: Vec<Value> = answers
        .iter()
        .map(|a| json!({"name": a.question, "value": a.answer}))
        .collect();
    body.insert("userDefinedFields".into(), Value::Array(fields));
}

/// Puts the optional texts of `texts` (Autotask field, value) into `body`.
fn put_texts(body: &mut Map<String, Value>, texts: &[(&str, &Option<String>)]) {
    for (key, value) in texts {
        if let Some(v) = value {
            body.insert((*key).into(), json!(v));
        }
    }
}

/// The body of `POST Tickets`.
pub fn ticket_body(t: &NewTicket) -> Result<Value> {
    if t.summary.trim().is_empty() {
        return Err(Error::invalid(
            "summary",
            "a ticket needs a summary (its title)",
        ));
    }
    let mut body = Map::new();
    body.insert(
        "companyID".into(),
        json!(query::id("company-id", &t.company_id)?),
    );
    body.insert("title".into(), json!(t.summary));
    if let Some(d) = t.description.as_deref().filter(|d| !d.trim().is_empty()) {
        body.insert("description".into(), json!(d));
    }
    put_ids(
        &mut body,
        &[
            ("contactID", "contact-id", &t.contact_id),
            ("queueID", "queue-id", &t.queue_id),
            ("status", "status-id", &t.status_id),
            ("priority", "priority-id", &t.priority_id),
            ("issueType", "ticket-type-id", &t.ticket_type_id),
            ("subIssueType", "sub-type-id", &t.sub_type_id),
            ("ticketCategory", "category-id", &t.category_id),
            ("source", "source-id", &t.source_id),
            ("contractID", "agreement-id", &t.agreement_id),
        ],
    )?;
    merge_extra(&mut body, t.extra.as_deref())?;
    // After `extra`: the marker is what finds the ticket again, so nothing may replace it.
    if let Some(marker) = &t.marker {
        body.insert("externalID".into(), json!(psa_sdk::marker::check(marker)?));
    }
    Ok(Value::Object(body))
}

/// The ticket id and body of `POST Tickets/{id}/Notes`: `publish` 2 (Internal Only) when
/// internal, else 1 (All Autotask Users); `noteType` the given one, else 1.
pub fn note_body(n: &NewNote) -> Result<(u64, Value)> {
    let ticket_id = query::id("ticket-id", &n.ticket_id)?;
    if n.text.trim().is_empty() {
        return Err(Error::invalid("text", "a note needs text"));
    }
    if n.resolution {
        return Err(Error::invalid(
            "resolution",
            "Autotask ticket notes cannot be marked as the resolution: write the ticket's `resolution` field instead (not a note)",
        ));
    }
    let title = match n.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(title) if title.chars().count() > NOTE_TITLE_MAX => {
            return Err(Error::invalid(
                "title",
                format!("an Autotask note title has at most {NOTE_TITLE_MAX} characters"),
            ));
        }
        Some(title) => title.to_string(),
        None => map::first_line(&n.text),
    };
    let note_type = match &n.note_type_id {
        Some(t) => query::id("note-type-id", t)?,
        None => DEFAULT_NOTE_TYPE,
    };
    let publish = if n.internal {
        map::PUBLISH_INTERNAL_ONLY
    } else {
        map::PUBLISH_ALL_USERS
    };
    // Autotask ticket notes have no external reference: the marker is the text's last line.
    let description = match &n.marker {
        Some(marker) => psa_sdk::marker::note_text(&n.text, psa_sdk::marker::check(marker)?),
        None => n.text.clone(),
    };
    let mut body = Map::new();
    body.insert("ticketID".into(), json!(ticket_id));
    body.insert("title".into(), json!(title));
    body.insert("description".into(), json!(description));
    body.insert("noteType".into(), json!(note_type));
    body.insert("publish".into(), json!(publish));
    merge_extra(&mut body, n.extra.as_deref())?;
    Ok((ticket_id, Value::Object(body)))
}

/// The filter of `find-open-tickets`: not Complete, and the given company, title and queue.
///
/// With a marker: the ticket whose `externalID` is the marker, open or closed.
pub fn open_ticket_filter(f: &TicketFilter) -> Result<Vec<Filter>> {
    let mut filter = match &f.marker {
        Some(marker) => vec![Filter::eq("externalID", psa_sdk::marker::check(marker)?)],
        None => vec![Filter::cmp("noteq", "status", map::STATUS_COMPLETE)],
    };
    if let Some(company) = &f.company_id {
        filter.push(Filter::eq("companyID", query::id("company-id", company)?));
    }
    if let Some(summary) = &f.summary {
        filter.push(Filter::eq("title", summary.as_str()));
    }
    if let Some(queue) = &f.queue_id {
        filter.push(Filter::eq("queueID", query::id("queue-id", queue)?));
    }
    filter.push(Filter::id_after(0));
    Ok(filter)
}

/// The open tickets to return: exact title matches (Autotask compares without case), newest
/// (highest id) first, at most `limit`.
pub fn select_open_tickets(items: Vec<Value>, f: &TicketFilter) -> Result<Vec<Ticket>> {
    let mut tickets = items.iter().map(map::ticket).collect::<Result<Vec<_>>>()?;
    if let Some(summary) = &f.summary {
        tickets.retain(|t| t.summary == summary.trim());
    }
    if f.marker.is_none() {
        tickets.retain(|t| !t.closed);
    }
    tickets.sort_by_key(|t| std::cmp::Reverse(t.id.parse::<u64>().unwrap_or(0)));
    tickets.truncate(f.limit as usize);
    Ok(tickets)
}

/// Inputs Autotask configuration items cannot take through the API.
fn refuse_configuration_inputs(
    status_id: &Option<String>,
    model_number: &Option<String>,
    mac_address: &Option<String>,
    ip_address: &Option<String>,
    manufacturer_id: &Option<String>,
) -> Result<()> {
    let refusals = [
        (
            status_id.is_some(),
            "status-id",
            "Autotask configuration items have no status: use `active`",
        ),
        (
            model_number.is_some(),
            "model-number",
            "Autotask configuration items have no model number (it belongs to the product): put it in `extra`, e.g. a user-defined field",
        ),
        (
            mac_address.is_some(),
            "mac-address",
            "the MAC address of an Autotask configuration item is a read-only RMM audit field: put it in `extra`, e.g. a user-defined field",
        ),
        (
            ip_address.is_some(),
            "ip-address",
            "the IP address of an Autotask configuration item is a read-only RMM audit field: put it in `extra`, e.g. a user-defined field",
        ),
        (
            manufacturer_id.is_some(),
            "manufacturer-id",
            "Autotask configuration items have no manufacturer (it is free text on the product)",
        ),
    ];
    match refusals.iter().find(|(set, _, _)| *set) {
        Some((_, field, why)) => Err(Error::invalid(*field, *why)),
        None => Ok(()),
    }
}

/// The body of `POST ConfigurationItems`. Autotask requires a product: `extra` must hold
/// `productID`.
pub fn configuration_body(c: &NewConfiguration) -> Result<Value> {
    if c.name.trim().is_empty() {
        return Err(Error::invalid("name", "a configuration item needs a name"));
    }
    refuse_configuration_inputs(
        &c.status_id,
        &c.model_number,
        &c.mac_address,
        &c.ip_address,
        &c.manufacturer_id,
    )?;
    let mut body = Map::new();
    body.insert(
        "companyID".into(),
        json!(query::id("company-id", &c.company_id)?),
    );
    body.insert(
        "configurationItemType".into(),
        json!(query::id(
            "configuration-type-id",
            &c.configuration_type_id
        )?),
    );
    body.insert("referenceTitle".into(), json!(c.name));
    body.insert("isActive".into(), json!(true));
    put_texts(
        &mut body,
        &[
            ("serialNumber", &c.serial_number),
            ("referenceNumber", &c.device_identifier),
            ("notes", &c.notes),
        ],
    );
    put_ids(&mut body, &[("vendorID", "vendor-id", &c.vendor_id)])?;
    put_answers(&mut body, &c.questions);
    merge_extra(&mut body, c.extra.as_deref())?;
    if body.get("productID").is_none_or(Value::is_null) {
        return Err(Error::invalid(
            "productID",
            "Autotask requires a product for every configuration item: pass its id in `extra` as {\"productID\": n} (Admin > Products)",
        ));
    }
    Ok(Value::Object(body))
}

/// The body of `PATCH ConfigurationItems` (`id` and the changed fields), or `None` when nothing
/// changes. `extra` is an object of Autotask fields to values.
pub fn configuration_patch(id: u64, c: &ConfigurationChanges) -> Result<Option<Value>> {
    refuse_configuration_inputs(
        &c.status_id,
        &c.model_number,
        &c.mac_address,
        &c.ip_address,
        &c.manufacturer_id,
    )?;
    let mut body = Map::new();
    if let Some(name) = &c.name {
        if name.trim().is_empty() {
            return Err(Error::invalid(
                "name",
                "a configuration item's name cannot be empty",
            ));
        }
        body.insert("referenceTitle".into(), json!(name));
    }
    if let Some(active) = c.active {
        body.insert("isActive".into(), json!(active));
    }
    put_texts(
        &mut body,
        &[
            ("serialNumber", &c.serial_number),
            ("referenceNumber", &c.device_identifier),
            ("notes", &c.notes),
        ],
    );
    put_ids(&mut body, &[("vendorID", "vendor-id", &c.vendor_id)])?;
    put_answers(&mut body, &c.questions);
    merge_extra(&mut body, c.extra.as_deref())?;
    body.remove("id");
    if body.is_empty() {
        return Ok(None);
    }
    body.insert("id".into(), json!(id));
    Ok(Some(Value::Object(body)))
}

/// A quantity as Autotask units: a whole number >= 0 (`12`, `12.0`).
pub fn whole_quantity(quantity: &str) -> Result<i64> {
    let q = psa_sdk::decimal::normalize(quantity).ok_or_else(|| {
        Error::invalid(
            "quantity",
            format!("`{quantity}` is not a decimal number such as 12"),
        )
    })?;
    if q.starts_with('-') {
        return Err(Error::invalid("quantity", "a quantity cannot be negative"));
    }
    if q.contains('.') {
        return Err(Error::invalid(
            "quantity",
            format!("Autotask contract service units are whole numbers, not {q}"),
        ));
    }
    q.parse::<i64>()
        .map_err(|_| Error::invalid("quantity", format!("{q} units is too large")))
}

/// The body of `POST ContractServiceAdjustments` changing the units by `unit_change` from `today`.
pub fn adjustment_body(
    contract_id: u64,
    contract_service_id: u64,
    today: &str,
    unit_change: i64,
    unit_price: Option<&Value>,
) -> Value {
    let mut body = Map::new();
    body.insert("contractID".into(), json!(contract_id));
    body.insert("contractServiceID".into(), json!(contract_service_id));
    body.insert("effectiveDate".into(), json!(query::midnight(today)));
    body.insert("unitChange".into(), json!(unit_change));
    if let Some(price) = unit_price.filter(|p| p.is_number()) {
        body.insert("adjustedUnitPrice".into(), price.clone());
    }
    Value::Object(body)
}

/// `create-ticket`: `POST Tickets`, then the stored ticket.
pub fn create_ticket(client: &mut Client, t: &NewTicket) -> Result<Ticket> {
    let body = ticket_body(t)?;
    let id = client.write(Method::Post, "Tickets", &body, None, None)?;
    map::ticket(&client.get_item("Tickets", id, &format!("ticket {id}"))?)
}

/// `add-ticket-note`: `POST Tickets/{id}/Notes`, then the stored note.
pub fn add_ticket_note(client: &mut Client, n: &NewNote) -> Result<Note> {
    let (ticket_id, body) = note_body(n)?;
    let subject = format!("ticket {ticket_id}");
    let id = client.write(
        Method::Post,
        &format!("Tickets/{ticket_id}/Notes"),
        &body,
        Some(&subject),
        Some("ticketID"),
    )?;
    let v = client.get_item("TicketNotes", id, &format!("ticket note {id}"))?;
    map::note(&v, &ticket_id.to_string())
}

/// `find-open-tickets`: every page of the open tickets matching the filter, newest first, at most
/// `limit`.
pub fn find_open_tickets(client: &mut Client, f: &TicketFilter) -> Result<Vec<Ticket>> {
    let filter = open_ticket_filter(f)?;
    if f.limit == 0 {
        return Ok(Vec::new());
    }
    let items = client.query_all("Tickets", filter)?;
    select_open_tickets(items, f)
}

/// The filter of `find-note-by-marker`: the ticket's notes whose description contains the
/// marker's line.
pub fn note_marker_filter(ticket_id: &str, marker: &str) -> Result<Vec<Filter>> {
    let line = format!(
        "{}{}",
        psa_sdk::marker::NOTE_PREFIX,
        psa_sdk::marker::check(marker)?
    );
    Ok(vec![
        Filter::eq("ticketID", query::id("ticket-id", ticket_id)?),
        Filter::cmp("contains", "description", line),
    ])
}

/// `find-note-by-marker`: `TicketNotes/query`, the marker's line checked exactly here (`contains`
/// also matches a longer marker).
pub fn find_note_by_marker(
    client: &mut Client,
    ticket_id: &str,
    marker: &str,
) -> Result<Option<Note>> {
    let filter = note_marker_filter(ticket_id, marker)?;
    for v in client.query_all("TicketNotes", filter)? {
        let note = map::note(&v, ticket_id)?;
        if psa_sdk::marker::note_has(&note.text, marker) {
            return Ok(Some(note));
        }
    }
    Ok(None)
}

/// `create-configuration`: `POST ConfigurationItems`, then the stored item.
pub fn create_configuration(client: &mut Client, c: &NewConfiguration) -> Result<Configuration> {
    let body = configuration_body(c)?;
    let id = client.write(Method::Post, "ConfigurationItems", &body, None, None)?;
    map::configuration(&client.get_item(
        "ConfigurationItems",
        id,
        &format!("configuration item {id}"),
    )?)
}

/// `update-configuration`: `PATCH ConfigurationItems` with the changes (none: no write), then
/// the stored item.
pub fn update_configuration(
    client: &mut Client,
    id: &str,
    changes: &ConfigurationChanges,
) -> Result<Configuration> {
    let id = query::id("id", id)?;
    let subject = format!("configuration item {id}");
    if let Some(body) = configuration_patch(id, changes)? {
        client.write(
            Method::Patch,
            "ConfigurationItems",
            &body,
            Some(&subject),
            Some("id"),
        )?;
    }
    map::configuration(&client.get_item("ConfigurationItems", id, &subject)?)
}

/// `set-contract-service-quantity`: reads the contract service and its current units, and posts a
/// `ContractServiceAdjustments` record for the difference (none when the units already match).
pub fn set_contract_service_quantity(
    client: &mut Client,
    agreement_id: &str,
    service_id: &str,
    quantity: &str,
) -> Result<()> {
    let contract = query::id("agreement-id", agreement_id)?;
    let service = query::id("service-id", service_id)?;
    let target = whole_quantity(quantity)?;
    let subject = format!("contract service {service} of contract {contract}");
    let line = client.get_item("ContractServices", service, &subject)?;
    if map::int(&line, "contractID") != Some(contract as i64) {
        return Err(Error::not_found(format!(
            "{subject} was not found in Autotask (the service belongs to another contract)"
        )));
    }
    let today = time::today_utc();
    let units = client.query_all(
        "ContractServiceUnits",
        vec![
            Filter::eq("contractServiceID", service),
            Filter::cmp("gte", "endDate", query::midnight(&today)),
        ],
    )?;
    let Some(current) = map::current_units(&units, &service.to_string(), &today) else {
        return Err(Error::invalid(
            "agreement-id",
            format!(
                "contract {contract} has no billing period covering {today} or later: Autotask can only adjust units within the contract's dates"
            ),
        ));
    };
    if current == target {
        psa_sdk::debug!("{subject} already has {target} units");
        return Ok(());
    }
    let body = adjustment_body(
        contract,
        service,
        &today,
        target - current,
        line.get("unitPrice"),
    );
    client.write(
        Method::Post,
        "ContractServiceAdjustments",
        &body,
        Some(&subject),
        Some("contractServiceID"),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_ticket() -> NewTicket {
        NewTicket {
            company_id: "174".into(),
            contact_id: Some("29683589".into()),
            summary: "Disk C: almost full".into(),
            description: Some("Free space below 5%".into()),
            queue_id: Some("29682833".into()),
            status_id: Some("1".into()),
            priority_id: Some("2".into()),
            ticket_type_id: Some("10".into()),
            sub_type_id: Some("136".into()),
            category_id: Some("3".into()),
            source_id: Some("6".into()),
            agreement_id: Some("29684183".into()),
            extra: Some(
                r#"{"dueDateTime":"2026-03-02T17:00:00Z","configurationItemID":7001}"#.into(),
            ),
            marker: None,
        }
    }

    fn minimal() -> NewTicket {
        NewTicket {
            contact_id: None,
            description: None,
            queue_id: None,
            status_id: None,
            priority_id: None,
            ticket_type_id: None,
            sub_type_id: None,
            category_id: None,
            source_id: None,
            agreement_id: None,
            extra: None,
            ..new_ticket()
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
        assert_eq!(
            ticket_body(&new_ticket()).unwrap(),
            json!({
                "companyID": 174,
                "title": "Disk C: almost full",
                "description": "Free space below 5%",
                "contactID": 29683589,
                "queueID": 29682833,
                "status": 1,
                "priority": 2,
                "issueType": 10,
                "subIssueType": 136,
                "ticketCategory": 3,
                "source": 6,
                "contractID": 29684183,
                "dueDateTime": "2026-03-02T17:00:00Z",
                "configurationItemID": 7001,
            })
        );
        assert_eq!(
            ticket_body(&minimal()).unwrap(),
            json!({"companyID": 174, "title": "Disk C: almost full"})
        );
        let over = NewTicket {
            extra: Some(r#"{"title":"from extra"}"#.into()),
            ..minimal()
        };
        assert_eq!(ticket_body(&over).unwrap()["title"], "from extra");
        let bad = [
            (
                NewTicket {
                    company_id: "acme".into(),
                    ..minimal()
                },
                "company-id",
            ),
            (
                NewTicket {
                    queue_id: Some("Help Desk".into()),
                    ..minimal()
                },
                "queue-id",
            ),
            (
                NewTicket {
                    category_id: Some("-3".into()),
                    ..minimal()
                },
                "category-id",
            ),
            (
                NewTicket {
                    summary: " ".into(),
                    ..minimal()
                },
                "summary",
            ),
            (
                NewTicket {
                    extra: Some("[1]".into()),
                    ..minimal()
                },
                "extra",
            ),
            (
                NewTicket {
                    extra: Some("{".into()),
                    ..minimal()
                },
                "extra",
            ),
        ];
        for (t, f) in bad {
            assert_eq!(field(ticket_body(&t).unwrap_err()), f);
        }
    }

    fn new_note(internal: bool) -> NewNote {
        NewNote {
            ticket_id: "9001".into(),
            text: "Alert repeated at 07:05\nSecond line".into(),
            internal,
            resolution: false,
            title: None,
            note_type_id: None,
            extra: None,
            marker: None,
        }
    }

    #[test]
    fn note_bodies() {
        let (ticket, body) = note_body(&new_note(false)).unwrap();
        assert_eq!(ticket, 9001);
        assert_eq!(
            body,
            json!({
                "ticketID": 9001,
                "title": "Alert repeated at 07:05",
                "description": "Alert repeated at 07:05\nSecond line",
                "noteType": 1,
                "publish": 1,
            })
        );
        let (_, internal) = note_body(&NewNote {
            title: Some("Repeated alert".into()),
            note_type_id: Some("3".into()),
            extra: Some(r#"{"publish": 4}"#.into()),
            ..new_note(true)
        })
        .unwrap();
        assert_eq!(internal["title"], "Repeated alert");
        assert_eq!(internal["noteType"], 3);
        assert_eq!(internal["publish"], 4, "extra wins");
        assert_eq!(note_body(&new_note(true)).unwrap().1["publish"], 2);
        let long = "x".repeat(300);
        assert_eq!(map::first_line(&format!("\n  {long}\nmore")).len(), 250);
        let bad = [
            (
                NewNote {
                    resolution: true,
                    ..new_note(false)
                },
                "resolution",
            ),
            (
                NewNote {
                    text: " ".into(),
                    ..new_note(false)
                },
                "text",
            ),
            (
                NewNote {
                    ticket_id: "T20260302.0001".into(),
                    ..new_note(false)
                },
                "ticket-id",
            ),
            (
                NewNote {
                    note_type_id: Some("Task Detail".into()),
                    ..new_note(false)
                },
                "note-type-id",
            ),
            (
                NewNote {
                    title: Some(long),
                    ..new_note(false)
                },
                "title",
            ),
        ];
        for (n, f) in bad {
            assert_eq!(field(note_body(&n).unwrap_err()), f);
        }
    }

    #[test]
    fn open_ticket_filters_and_selection() {
        let f = TicketFilter {
            company_id: Some("174".into()),
            summary: Some(r#"CPU "high" on \\srv01"#.into()),
            queue_id: Some("5".into()),
            limit: 5,
            marker: None,
        };
        let filter = open_ticket_filter(&f).unwrap();
        assert_eq!(
            filter.iter().map(Filter::to_json).collect::<Vec<_>>(),
            vec![
                json!({"op": "noteq", "field": "status", "value": 5}),
                json!({"op": "eq", "field": "companyID", "value": 174}),
                json!({"op": "eq", "field": "title", "value": r#"CPU "high" on \\srv01"#}),
                json!({"op": "eq", "field": "queueID", "value": 5}),
                json!({"op": "gt", "field": "id", "value": 0}),
            ]
        );
        let only = TicketFilter {
            company_id: None,
            summary: None,
            queue_id: None,
            limit: 2,
            marker: None,
        };
        assert_eq!(open_ticket_filter(&only).unwrap().len(), 2);
        let bad = TicketFilter {
            company_id: Some("174 or 1=1".into()),
            ..only.clone()
        };
        assert_eq!(field(open_ticket_filter(&bad).unwrap_err()), "company-id");

        let t =
            |id: u64, title: &str, status: i64| json!({"id": id, "title": title, "status": status});
        let items = vec![
            t(10, "Disk full", 1),
            t(12, "disk FULL", 1),
            t(14, "Disk full", 5),
            t(15, "Disk full", 8),
            t(11, "Disk full", 1),
        ];
        let wanted = TicketFilter {
            summary: Some("Disk full".into()),
            ..only.clone()
        };
        let ids: Vec<String> = select_open_tickets(items.clone(), &wanted)
            .unwrap()
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, ["15", "11"], "exact title, open, newest first, limit");
        assert_eq!(select_open_tickets(items, &only).unwrap().len(), 2);
    }

    fn new_configuration() -> NewConfiguration {
        NewConfiguration {
            company_id: "174".into(),
            name: "ACME-DC01".into(),
            configuration_type_id: "1".into(),
            status_id: None,
            serial_number: Some("CZ1234ABC".into()),
            model_number: None,
            mac_address: None,
            ip_address: None,
            device_identifier: Some("auvik-dev-881".into()),
            manufacturer_id: None,
            vendor_id: Some("250".into()),
            notes: Some("host: acme-dc01".into()),
            questions: vec![],
            extra: Some(r#"{"productID":88,"installDate":"2026-01-01T00:00:00Z"}"#.into()),
        }
    }

    #[test]
    fn configuration_bodies() {
        assert_eq!(
            configuration_body(&new_configuration()).unwrap(),
            json!({
                "companyID": 174,
                "configurationItemType": 1,
                "referenceTitle": "ACME-DC01",
                "isActive": true,
                "serialNumber": "CZ1234ABC",
                "referenceNumber": "auvik-dev-881",
                "notes": "host: acme-dc01",
                "vendorID": 250,
                "productID": 88,
                "installDate": "2026-01-01T00:00:00Z",
            })
        );
        let c = new_configuration;
        let bad = [
            (NewConfiguration { extra: None, ..c() }, "productID"),
            (
                NewConfiguration {
                    extra: Some(r#"{"productID":null}"#.into()),
                    ..c()
                },
                "productID",
            ),
            (
                NewConfiguration {
                    configuration_type_id: "Server".into(),
                    ..c()
                },
                "configuration-type-id",
            ),
            (
                NewConfiguration {
                    status_id: Some("2".into()),
                    ..c()
                },
                "status-id",
            ),
            (
                NewConfiguration {
                    mac_address: Some("00:11".into()),
                    ..c()
                },
                "mac-address",
            ),
            (
                NewConfiguration {
                    ip_address: Some("10.0.0.1".into()),
                    ..c()
                },
                "ip-address",
            ),
            (
                NewConfiguration {
                    model_number: Some("DL360".into()),
                    ..c()
                },
                "model-number",
            ),
            (
                NewConfiguration {
                    manufacturer_id: Some("3".into()),
                    ..c()
                },
                "manufacturer-id",
            ),
            (
                NewConfiguration {
                    name: "".into(),
                    ..c()
                },
                "name",
            ),
        ];
        for (cfg, f) in bad {
            assert_eq!(field(configuration_body(&cfg).unwrap_err()), f);
        }
    }

    fn no_changes() -> ConfigurationChanges {
        ConfigurationChanges {
            name: None,
            configuration_type_id: None,
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
            questions: vec![],
            extra: None,
        }
    }

    #[test]
    fn configuration_patches() {
        let changes = ConfigurationChanges {
            name: Some("ACME-DC01".into()),
            active: Some(false),
            serial_number: Some("CZ1".into()),
            vendor_id: Some("250".into()),
            extra: Some(r#"{"id": 1, "location": "Rack 4"}"#.into()),
            ..no_changes()
        };
        assert_eq!(
            configuration_patch(7001, &changes).unwrap().unwrap(),
            json!({
                "id": 7001,
                "referenceTitle": "ACME-DC01",
                "isActive": false,
                "serialNumber": "CZ1",
                "vendorID": 250,
                "location": "Rack 4",
            })
        );
        assert_eq!(configuration_patch(7001, &no_changes()).unwrap(), None);
        let bad = [
            (
                ConfigurationChanges {
                    status_id: Some("5".into()),
                    ..no_changes()
                },
                "status-id",
            ),
            (
                ConfigurationChanges {
                    name: Some(" ".into()),
                    ..no_changes()
                },
                "name",
            ),
            (
                ConfigurationChanges {
                    vendor_id: Some("Ingram".into()),
                    ..no_changes()
                },
                "vendor-id",
            ),
            (
                ConfigurationChanges {
                    extra: Some("[]".into()),
                    ..no_changes()
                },
                "extra",
            ),
        ];
        for (c, f) in bad {
            assert_eq!(field(configuration_patch(7001, &c).unwrap_err()), f);
        }
    }

    #[test]
    fn quantities_and_adjustments() {
        assert_eq!(whole_quantity("12").unwrap(), 12);
        assert_eq!(whole_quantity(" 12.0 ").unwrap(), 12);
        assert_eq!(whole_quantity("0").unwrap(), 0);
        for bad in ["", "abc", "1e3", "-1", "2.5", "1,5", "99999999999999999999"] {
            assert_eq!(field(whole_quantity(bad).unwrap_err()), "quantity", "{bad}");
        }
        let price: Value = serde_json::from_str("45.1").unwrap();
        assert_eq!(
            adjustment_body(29684183, 501, "2026-03-15", -2, Some(&price)),
            json!({
                "contractID": 29684183,
                "contractServiceID": 501,
                "effectiveDate": "2026-03-15T00:00:00Z",
                "unitChange": -2,
                "adjustedUnitPrice": 45.1,
            })
        );
        let body = adjustment_body(1, 2, "2026-03-15", 3, Some(&json!(null)));
        assert!(body.get("adjustedUnitPrice").is_none());
    }
}
