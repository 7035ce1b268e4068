//! Write-backs: request bodies (pure, tested) and the calls that send them.
//!
//! Invalid-input errors name the contract's field (`summary`, `queue-id`), also when BMS's
//! validation answer names its own property (`title`, `queueId`): see [`TICKET_FIELDS`] and
//! [`NOTE_FIELDS`].

use crate::client::{Client, ErrorContext};
use crate::map::{self, parse_id};
use crate::paging::MAX_PAGE_SIZE;
use psa_sdk::http::Method;
use psa_sdk::types::{NewNote, NewTicket, Note, Ticket, TicketFilter};
use psa_sdk::{Error, Result, input};
use serde_json::{Map, Value, json};

/// The longest ticket title BMS accepts.
pub const MAX_TITLE_CHARS: usize = 255;

/// BMS ticket properties -> the contract's `new-ticket` fields.
pub const TICKET_FIELDS: &[(&str, &str)] = &[
    ("title", "summary"),
    ("details", "description"),
    ("accountId", "company-id"),
    ("contactId", "contact-id"),
    ("queueId", "queue-id"),
    ("statusId", "status-id"),
    ("priorityId", "priority-id"),
    ("typeId", "category-id"),
    ("issueTypeId", "ticket-type-id"),
    ("subIssueTypeId", "sub-type-id"),
    ("sourceId", "source-id"),
    ("contractId", "agreement-id"),
    ("externalReference", "marker"),
];

/// BMS note properties -> the contract's `new-note` fields.
pub const NOTE_FIELDS: &[(&str, &str)] = &[
    ("details", "text"),
    ("isInternal", "internal"),
    ("isResolution", "resolution"),
    ("noteTypeId", "note-type-id"),
];

/// The contract-service quantity patch's properties -> `quantity`.
const QUANTITY_FIELDS: &[(&str, &str)] = &[("quantity", "quantity"), ("value", "quantity")];

/// Merges the `extra` JSON object over `body` (top-level keys of `extra` win).
pub fn merge_extra(body: &mut Map<String, Value>, extra: Option<&str>) -> Result<()> {
    body.extend(input::extra_fields(
        extra,
        "Kaseya BMS ticket or note properties (`locationId`, `openDate`, ...)",
    )?);
    Ok(())
}

/// The body of `POST v2/servicedesk/tickets`.
pub fn ticket_body(t: &NewTicket) -> Result<Value> {
    let title_chars = t.summary.trim().chars().count();
    if title_chars == 0 {
        return Err(Error::invalid("summary", "a ticket needs a summary"));
    }
    if title_chars > MAX_TITLE_CHARS {
        return Err(Error::invalid(
            "summary",
            format!(
                "Kaseya BMS ticket titles hold at most {MAX_TITLE_CHARS} characters; this one has {title_chars}"
            ),
        ));
    }
    let mut body = Map::new();
    body.insert("title".into(), json!(t.summary));
    body.insert(
        "accountId".into(),
        json!(parse_id("company-id", &t.company_id)?),
    );
    if let Some(d) = t.description.as_deref().filter(|d| !d.trim().is_empty()) {
        body.insert("details".into(), json!(d));
    }
    let refs = [
        ("contactId", "contact-id", &t.contact_id),
        ("queueId", "queue-id", &t.queue_id),
        ("statusId", "status-id", &t.status_id),
        ("priorityId", "priority-id", &t.priority_id),
        ("typeId", "category-id", &t.category_id),
        ("issueTypeId", "ticket-type-id", &t.ticket_type_id),
        ("subIssueTypeId", "sub-type-id", &t.sub_type_id),
        ("sourceId", "source-id", &t.source_id),
        ("contractId", "agreement-id", &t.agreement_id),
    ];
    for (key, field, id) in refs {
        if let Some(id) = id {
            body.insert(key.into(), json!(parse_id(field, id)?));
        }
    }
    merge_extra(&mut body, t.extra.as_deref())?;
    // After `extra`: the marker is what finds the ticket again, so nothing may replace it.
    if let Some(marker) = &t.marker {
        body.insert(
            "externalReference".into(),
            json!(psa_sdk::marker::check(marker)?),
        );
    }
    let set = |k: &str| body.get(k).is_some_and(|v| !v.is_null());
    if set("subIssueTypeId") && !set("issueTypeId") {
        return Err(Error::invalid(
            "ticket-type-id",
            "a sub-type (BMS sub-issue type) belongs to a ticket type (BMS issue type): set ticket-type-id too",
        ));
    }
    Ok(Value::Object(body))
}

/// The body of `POST v2/servicedesk/tickets/{id}/notes`. BMS notes have no title: a title
/// becomes the note's first line.
pub fn note_body(n: &NewNote) -> Result<Value> {
    let text = match n.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(title) => format!("{title}\n\n{}", n.text),
        None => n.text.clone(),
    };
    if text.trim().is_empty() {
        return Err(Error::invalid("text", "a note needs text"));
    }
    // BMS notes have no external reference: the marker is the text's last line.
    let text = match &n.marker {
        Some(marker) => psa_sdk::marker::note_text(&text, psa_sdk::marker::check(marker)?),
        None => text,
    };
    let mut body = Map::new();
    body.insert("details".into(), json!(text));
    body.insert("isInternal".into(), json!(n.internal));
    body.insert("isResolution".into(), json!(n.resolution));
    if let Some(id) = &n.note_type_id {
        body.insert("noteTypeId".into(), json!(parse_id("note-type-id", id)?));
    }
    merge_extra(&mut body, n.extra.as_deref())?;
    Ok(Value::Object(body))
}

/// The filters of `find-open-tickets` (without paging): not closed, and the account, queue and
/// exact title when given.
///
/// With a marker: the ticket whose `externalReference` is the marker, open or closed.
pub fn open_ticket_query(f: &TicketFilter) -> Result<Vec<(String, String)>> {
    let mut q = match &f.marker {
        Some(marker) => vec![(
            "externalReference".to_string(),
            psa_sdk::marker::check(marker)?.to_string(),
        )],
        None => vec![("isClosed".to_string(), "false".to_string())],
    };
    if let Some(company) = &f.company_id {
        q.push((
            "accountId".into(),
            parse_id("company-id", company)?.to_string(),
        ));
    }
    if let Some(queue) = &f.queue_id {
        q.push(("queueId".into(), parse_id("queue-id", queue)?.to_string()));
    }
    if let Some(summary) = &f.summary {
        if summary.trim().is_empty() {
            return Err(Error::invalid(
                "summary",
                "a blank summary matches no ticket title",
            ));
        }
        q.push(("title".into(), summary.trim().to_string()));
    }
    Ok(q)
}

/// Whether a ticket BMS returned for the filter really matches it. BMS compares titles without
/// case; the contract wants them equal exactly (leading and trailing blanks aside).
pub fn matches_filter(t: &Ticket, f: &TicketFilter) -> bool {
    let marked = match &f.marker {
        Some(marker) => serde_json::from_str::<Value>(&t.raw).is_ok_and(|v| {
            v.get("externalReference").and_then(Value::as_str) == Some(marker.as_str())
        }),
        None => !t.closed,
    };
    marked
        && f.summary
            .as_deref()
            .is_none_or(|s| t.summary.trim() == s.trim())
        && f.company_id
            .as_deref()
            .is_none_or(|c| t.company_id.as_deref() == Some(c.trim()))
        && f.queue_id
            .as_deref()
            .is_none_or(|q| t.queue.as_ref().is_some_and(|r| r.id == q.trim()))
}

/// The JSON Patch of `PATCH v2/finance/contracts/{id}/services/{lineId}` setting the quantity.
/// BMS keeps at most 2 decimals; the decimal text becomes a JSON number exactly (no more than 15
/// significant digits, which a double holds).
pub fn quantity_patch(quantity: &str) -> Result<Value> {
    let bad = |why: &str| Error::invalid("quantity", format!("`{quantity}` {why}"));
    let q = psa_sdk::decimal::normalize(quantity)
        .ok_or_else(|| bad("is not a decimal number such as 12 or 2.5"))?;
    if q.starts_with('-') {
        return Err(bad("is negative: a quantity cannot be"));
    }
    let (int, frac) = q.split_once('.').unwrap_or((&q, ""));
    if frac.len() > 2 {
        return Err(bad(
            "has more than 2 decimals, which Kaseya BMS does not keep",
        ));
    }
    if int.trim_start_matches('0').len() + frac.len() > 15 {
        return Err(bad("is too large"));
    }
    let value: Value = serde_json::from_str(&q).map_err(|_| bad("is not a number"))?;
    Ok(json!([{"op": "replace", "path": "/quantity", "value": value}]))
}

/// `create-ticket`. When BMS answers with less than the ticket (only its id), the ticket is
/// read back.
pub fn create_ticket(client: &mut Client, t: &NewTicket) -> Result<Ticket> {
    let body = ticket_body(t)?;
    let ctx = ErrorContext {
        fields: TICKET_FIELDS,
        ..ErrorContext::default()
    };
    let v = client.send_json(Method::Post, "v2/servicedesk/tickets", &body, ctx)?;
    if v.get("title").is_some() {
        return map::ticket(&v);
    }
    let id = v.get("id").and_then(map::id_u64).ok_or_else(|| {
        Error::malformed("Kaseya BMS created a ticket but answered without its id")
    })?;
    let subject = format!("ticket {id}");
    map::ticket(&client.get(&format!("v2/servicedesk/tickets/{id}"), Some(&subject))?)
}

/// `add-ticket-note`.
pub fn add_ticket_note(client: &mut Client, n: &NewNote) -> Result<Note> {
    let ticket_id = parse_id("ticket-id", &n.ticket_id)?;
    let body = note_body(n)?;
    let subject = format!("ticket {ticket_id}");
    let ctx = ErrorContext {
        subject: Some(&subject),
        fields: NOTE_FIELDS,
        ..ErrorContext::default()
    };
    let v = client.send_json(
        Method::Post,
        &format!("v2/servicedesk/tickets/{ticket_id}/notes"),
        &body,
        ctx,
    )?;
    map::note(&v, &ticket_id.to_string())
}

/// `find-open-tickets`: newest first (id descending), at most `limit`.
pub fn find_open_tickets(client: &mut Client, f: &TicketFilter) -> Result<Vec<Ticket>> {
    let limit = f.limit as usize;
    if limit == 0 {
        return Ok(Vec::new());
    }
    let filters = open_ticket_query(f)?;
    let page_size = f.limit.clamp(1, MAX_PAGE_SIZE);
    let mut out = Vec::new();
    let mut seen = 0u64;
    for page in 1..=1000u32 {
        let mut query = filters.clone();
        query.extend([
            ("orderBy".to_string(), "id desc".to_string()),
            ("pageSize".to_string(), page_size.to_string()),
            ("pageNumber".to_string(), page.to_string()),
        ]);
        let (items, total) = client.get_list("v2/servicedesk/tickets", &query)?;
        seen += items.len() as u64;
        for v in &items {
            let t = map::ticket(v)?;
            if matches_filter(&t, f) && !out.iter().any(|o: &Ticket| o.id == t.id) {
                out.push(t);
                if out.len() >= limit {
                    return Ok(out);
                }
            }
        }
        let more = match total {
            Some(total) => seen < total,
            None => items.len() as u64 >= u64::from(page_size),
        };
        if items.is_empty() || !more {
            break;
        }
    }
    Ok(out)
}

/// How many pages of a ticket's notes `find-note-by-marker` reads at most.
pub const MAX_NOTE_PAGES: u32 = 100;

/// `find-note-by-marker`: the ticket's notes, oldest first, page by page (BMS filters notes by
/// nothing but paging), the first whose text carries the marker's line.
pub fn find_note_by_marker(
    client: &mut Client,
    ticket_id: &str,
    marker: &str,
) -> Result<Option<Note>> {
    let ticket = parse_id("ticket-id", ticket_id)?;
    let marker = psa_sdk::marker::check(marker)?;
    let path = format!("v2/servicedesk/tickets/{ticket}/notes");
    let mut seen = 0u64;
    for page in 1..=MAX_NOTE_PAGES {
        let query = vec![
            ("orderBy".to_string(), "id asc".to_string()),
            ("pageSize".to_string(), MAX_PAGE_SIZE.to_string()),
            ("pageNumber".to_string(), page.to_string()),
        ];
        let (items, total) = client.get_list(&path, &query)?;
        seen += items.len() as u64;
        for v in &items {
            let note = map::note(v, &ticket.to_string())?;
            if psa_sdk::marker::note_has(&note.text, marker) {
                return Ok(Some(note));
            }
        }
        let more = match total {
            Some(total) => seen < total,
            None => items.len() as u64 >= u64::from(MAX_PAGE_SIZE),
        };
        if items.is_empty() || !more {
            return Ok(None);
        }
    }
    Err(Error::unavailable(format!(
        "ticket {ticket} has more than {} notes: the marked note cannot be looked for",
        u64::from(MAX_NOTE_PAGES) * u64::from(MAX_PAGE_SIZE)
    )))
}

/// `set-contract-service-quantity`.
pub fn set_contract_service_quantity(
    client: &mut Client,
    agreement_id: &str,
    service_id: &str,
    quantity: &str,
) -> Result<()> {
    let contract = parse_id("agreement-id", agreement_id)?;
    let line = parse_id("service-id", service_id)?;
    let body = quantity_patch(quantity)?;
    let subject = format!("service line {line} of contract {contract}");
    let ctx = ErrorContext {
        subject: Some(&subject),
        fields: QUANTITY_FIELDS,
        ..ErrorContext::default()
    };
    client.send_json(
        Method::Patch,
        &format!("v2/finance/contracts/{contract}/services/{line}"),
        &body,
        ctx,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use psa_sdk::types::EntityRef;

    fn new_ticket() -> NewTicket {
        NewTicket {
            company_id: "101".into(),
            contact_id: Some("31".into()),
            summary: "Disk C: almost full".into(),
            description: Some("Free space below 5%".into()),
            queue_id: Some("1".into()),
            status_id: Some("1".into()),
            priority_id: Some("2".into()),
            ticket_type_id: Some("21".into()),
            sub_type_id: Some("31".into()),
            category_id: Some("5".into()),
            source_id: Some("5".into()),
            agreement_id: Some("5".into()),
            extra: Some(r#"{"locationId":5101,"openDate":"2026-03-02T07:00:00Z"}"#.into()),
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
                "title": "Disk C: almost full",
                "accountId": 101,
                "details": "Free space below 5%",
                "contactId": 31,
                "queueId": 1,
                "statusId": 1,
                "priorityId": 2,
                "typeId": 5,
                "issueTypeId": 21,
                "subIssueTypeId": 31,
                "sourceId": 5,
                "contractId": 5,
                "locationId": 5101,
                "openDate": "2026-03-02T07:00:00Z",
            })
        );
        assert_eq!(
            ticket_body(&minimal()).unwrap(),
            json!({"title": "Disk C: almost full", "accountId": 101})
        );
        let over = NewTicket {
            extra: Some(r#"{"title":"from extra","subIssueTypeId":32,"issueTypeId":21}"#.into()),
            ..minimal()
        };
        let body = ticket_body(&over).unwrap();
        assert_eq!(body["title"], "from extra");
        assert_eq!(body["subIssueTypeId"], 32);

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
                    company_id: "0".into(),
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
                    category_id: Some("x".into()),
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
                    summary: "x".repeat(256),
                    ..minimal()
                },
                "summary",
            ),
            (
                NewTicket {
                    sub_type_id: Some("31".into()),
                    ..minimal()
                },
                "ticket-type-id",
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
        // 255 characters (not bytes) fit.
        assert!(
            ticket_body(&NewTicket {
                summary: "é".repeat(255),
                ..minimal()
            })
            .is_ok()
        );
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
            json!({"details": "Alert repeated", "isInternal": false, "isResolution": false})
        );
        assert_eq!(
            note_body(&new_note(true, true)).unwrap(),
            json!({"details": "Alert repeated", "isInternal": true, "isResolution": true})
        );
        let full = NewNote {
            title: Some("Repeated alert".into()),
            note_type_id: Some("3".into()),
            extra: Some(r#"{"noteDate":"2026-03-02T07:05:00Z"}"#.into()),
            ..new_note(false, false)
        };
        assert_eq!(
            note_body(&full).unwrap(),
            json!({
                "details": "Repeated alert\n\nAlert repeated",
                "isInternal": false,
                "isResolution": false,
                "noteTypeId": 3,
                "noteDate": "2026-03-02T07:05:00Z",
            })
        );
        let typed = NewNote {
            note_type_id: Some("General".into()),
            ..new_note(false, false)
        };
        assert_eq!(field(note_body(&typed).unwrap_err()), "note-type-id");
        let empty = NewNote {
            text: "  ".into(),
            ..new_note(false, false)
        };
        assert_eq!(field(note_body(&empty).unwrap_err()), "text");
    }

    fn filter() -> TicketFilter {
        TicketFilter {
            company_id: Some("101".into()),
            summary: Some(" CPU high on SRV01 ".into()),
            queue_id: Some("1".into()),
            limit: 5,
            marker: None,
        }
    }

    #[test]
    fn open_ticket_filters() {
        let q = open_ticket_query(&filter()).unwrap();
        assert_eq!(
            q,
            vec![
                ("isClosed".to_string(), "false".to_string()),
                ("accountId".to_string(), "101".to_string()),
                ("queueId".to_string(), "1".to_string()),
                ("title".to_string(), "CPU high on SRV01".to_string()),
            ]
        );
        let only = TicketFilter {
            company_id: None,
            summary: None,
            queue_id: None,
            limit: 1,
            marker: None,
        };
        assert_eq!(open_ticket_query(&only).unwrap().len(), 1);
        let bad = TicketFilter {
            company_id: Some("101 or 1=1".into()),
            ..filter()
        };
        assert_eq!(field(open_ticket_query(&bad).unwrap_err()), "company-id");
        let blank = TicketFilter {
            summary: Some(" ".into()),
            ..filter()
        };
        assert_eq!(field(open_ticket_query(&blank).unwrap_err()), "summary");
    }

    #[test]
    fn open_ticket_matching_is_exact() {
        let t = |summary: &str, closed: bool| Ticket {
            id: "1".into(),
            summary: summary.into(),
            company_id: Some("101".into()),
            contact_id: None,
            queue: Some(EntityRef::new("1", Some("Help Desk".into()))),
            status: None,
            priority: None,
            ticket_type: None,
            sub_type: None,
            source: None,
            agreement_id: None,
            closed,
            created_at: None,
            updated_at: None,
            raw: "{}".into(),
        };
        let f = filter();
        assert!(matches_filter(&t("CPU high on SRV01", false), &f));
        assert!(matches_filter(&t("CPU high on SRV01 ", false), &f));
        assert!(
            !matches_filter(&t("cpu high on srv01", false), &f),
            "case matters"
        );
        assert!(!matches_filter(&t("CPU high on SRV01", true), &f));
        let other_queue = TicketFilter {
            queue_id: Some("2".into()),
            ..filter()
        };
        assert!(!matches_filter(
            &t("CPU high on SRV01", false),
            &other_queue
        ));
        let other_company = TicketFilter {
            company_id: Some("102".into()),
            ..filter()
        };
        assert!(!matches_filter(
            &t("CPU high on SRV01", false),
            &other_company
        ));
    }

    #[test]
    fn quantity_patches() {
        assert_eq!(
            quantity_patch("12").unwrap(),
            json!([{"op": "replace", "path": "/quantity", "value": 12}])
        );
        assert_eq!(
            serde_json::to_string(&quantity_patch(" 2.50 ").unwrap()).unwrap(),
            r#"[{"op":"replace","path":"/quantity","value":2.5}]"#
        );
        assert_eq!(quantity_patch("0.1").unwrap()[0]["value"], json!(0.1));
        assert_eq!(quantity_patch("0").unwrap()[0]["value"], json!(0));
        assert_eq!(
            serde_json::to_string(&quantity_patch("1234567890123.45").unwrap()[0]["value"])
                .unwrap(),
            "1234567890123.45"
        );
        for bad in [
            "",
            "abc",
            "1e3",
            "-1",
            "1,5",
            "NaN",
            "2.125",
            "123456789012345.6",
        ] {
            assert_eq!(field(quantity_patch(bad).unwrap_err()), "quantity", "{bad}");
        }
    }
}
