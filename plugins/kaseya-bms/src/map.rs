//! Kaseya BMS JSON -> the contract's typed records.
//!
//! Every function takes the PSA's object as a `serde_json::Value` and keeps it in `raw` (the
//! list and get operations then replace `raw` with the record's text as BMS sent it, read by the
//! SDK's `json::Envelope`; see `WithRaw` in lib.rs). A record
//! without an `id` is a malformed answer; every other field is optional and read leniently with
//! [`psa_sdk::json`] (ids as numbers or strings, empty strings as absent, times normalised to
//! RFC 3339 in UTC).
//!
//! BMS references are flat pairs (`statusId` + `statusName`), read by [`pair`].
//!
//! Money and quantities: BMS sends them as JSON numbers (doubles). They become decimal strings
//! through [`psa_sdk::decimal::from_json`] (`1250.5`, `0.1`, never `0.1000000000000000055`, no
//! exponent).

use psa_sdk::json::{field, flag, id as id_of, text};
use psa_sdk::types::{
    Address, Agreement, AgreementLine, BillingCycle, Company, Contact, EntityRef, Note, Reference,
    Ticket,
};
use psa_sdk::{Error, decimal, json, time};
use serde_json::Value;

type Result<T> = core::result::Result<T, Error>;

/// A positive integer id given as a number or a string of digits (what keyset paging needs).
pub fn id_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => {
            let s = s.trim();
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        }
        _ => None,
    }
    .filter(|n| *n > 0)
}

/// A BMS record id as text (a positive whole number); `field` names the input for the error.
pub use psa_sdk::input::positive_id as parse_id;

/// The `id` of a record, required.
fn record_id(v: &Value, entity: &str) -> Result<String> {
    field(v, "id").and_then(id_of).ok_or_else(|| {
        Error::malformed(format!(
            "a Kaseya BMS {entity} without an id: {}",
            json::excerpt(v)
        ))
    })
}

/// A flat reference pair: `{prefix}Id` and `{prefix}Name` (`statusId`, `statusName`).
pub fn pair(v: &Value, prefix: &str) -> Option<EntityRef> {
    let id = field(v, &format!("{prefix}Id")).and_then(id_of)?;
    Some(EntityRef::new(id, text(v, &format!("{prefix}Name"))))
}

/// An id field as text (`accountId`).
fn id_field(v: &Value, key: &str) -> Option<String> {
    field(v, key).and_then(id_of)
}

/// A time field normalised to RFC 3339 UTC.
fn time_field(v: &Value, key: &str) -> Option<String> {
    text(v, key).and_then(|t| time::to_utc_assuming_utc(&t))
}

/// A date field as `YYYY-MM-DD`.
fn date(v: &Value, key: &str) -> Option<String> {
    text(v, key).and_then(|s| time::date_only(&s))
}

fn decimal_field(v: &Value, key: &str) -> Option<String> {
    field(v, key).and_then(decimal::from_json)
}

fn raw(v: &Value) -> String {
    v.to_string()
}

/// Whether an account is active: `isActive` when BMS sends it, else its status is named
/// `Active`; an account without either is active.
pub fn account_active(v: &Value) -> bool {
    if let Some(active) = field(v, "isActive").and_then(Value::as_bool) {
        return active;
    }
    match text(v, "statusName") {
        Some(name) => name.eq_ignore_ascii_case("active"),
        None => true,
    }
}

/// An account (`v2/crm/accounts`): customers, prospects, vendors... `types` holds the account
/// type (`Customer`, `Prospect`, ...) and then the classification (`Managed Services`), when set.
pub fn company(v: &Value) -> Result<Company> {
    let location = field(v, "primaryLocation");
    let address = location.and_then(|l| {
        let a = Address {
            line1: text(l, "address1"),
            line2: text(l, "address2"),
            city: text(l, "city"),
            state: text(l, "state"),
            postal_code: text(l, "zipCode"),
            country: text(l, "country"),
        };
        [
            &a.line1,
            &a.line2,
            &a.city,
            &a.state,
            &a.postal_code,
            &a.country,
        ]
        .iter()
        .any(|x| x.is_some())
        .then_some(a)
    });
    let mut types: Vec<String> = Vec::new();
    for t in [text(v, "accountTypeName"), text(v, "classificationName")]
        .into_iter()
        .flatten()
    {
        if !types.iter().any(|x| x.eq_ignore_ascii_case(&t)) {
            types.push(t);
        }
    }
    Ok(Company {
        id: record_id(v, "account")?,
        name: text(v, "accountName").unwrap_or_default(),
        identifier: text(v, "accountCode"),
        status: pair(v, "status"),
        active: account_active(v),
        types,
        phone: text(v, "phone"),
        website: text(v, "website"),
        address,
        // BMS accounts have no parent account.
        parent_id: None,
        classification: pair(v, "classification"),
        market_segment: pair(v, "market"),
        sites: vec![],
        updated_at: time_field(v, "modifiedOn"),
        raw: raw(v),
    })
}

/// The values of a contact's `emails` / `phones` array, the default first, duplicates folded;
/// entries whose type name is in `skip_types` (faxes) are left out.
fn contact_items(
    v: &Value,
    list: &str,
    value_key: &str,
    type_key: &str,
    skip_types: &[&str],
) -> Vec<String> {
    let Some(items) = field(v, list).and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut found: Vec<(bool, String)> = items
        .iter()
        .filter(|item| {
            !text(item, type_key)
                .is_some_and(|t| skip_types.iter().any(|s| s.eq_ignore_ascii_case(&t)))
        })
        .filter_map(|item| {
            text(item, value_key).map(|value| (flag(item, "isDefault", false), value))
        })
        .collect();
    // Stable: the default first, the others in BMS's order.
    found.sort_by_key(|(default, _)| !*default);
    let mut out: Vec<String> = Vec::with_capacity(found.len());
    for (_, value) in found {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&value)) {
            out.push(value);
        }
    }
    out
}

/// A contact (`v2/crm/contacts`). Faxes are not phones; `primary` is `isPrimary` (the account's
/// primary contact).
pub fn contact(v: &Value) -> Result<Contact> {
    Ok(Contact {
        id: record_id(v, "contact")?,
        company_id: id_field(v, "accountId"),
        first_name: text(v, "firstName"),
        last_name: text(v, "lastName"),
        title: text(v, "title"),
        emails: contact_items(v, "emails", "emailAddress", "emailTypeName", &[]),
        phones: contact_items(v, "phones", "phoneNumber", "phoneTypeName", &["Fax"]),
        active: flag(v, "isActive", true),
        primary: flag(v, "isPrimary", false),
        updated_at: time_field(v, "modifiedOn"),
        raw: raw(v),
    })
}

/// The `billingCycle` of a contract or a service line; `None` when it has none.
pub fn billing_cycle(v: &Value) -> Option<BillingCycle> {
    text(v, "billingCycle").map(|name| BillingCycle::from_name(&name))
}

/// A contract's service line (`services[]`).
pub fn agreement_line(v: &Value) -> Result<AgreementLine> {
    Ok(AgreementLine {
        id: record_id(v, "contract service")?,
        product: pair(v, "service"),
        description: text(v, "description"),
        quantity: decimal_field(v, "quantity").unwrap_or_else(|| "0".into()),
        unit_price: decimal_field(v, "unitPrice").unwrap_or_else(|| "0".into()),
        billable: flag(v, "isBillable", true),
        billing_cycle: billing_cycle(v),
        effective_date: date(v, "effectiveDate"),
        cancelled_date: date(v, "cancelledDate"),
        raw: raw(v),
    })
}

/// A contract (`v2/finance/contracts`) with its embedded `services` as lines.
///
/// `recurring`: the contract has a billing cycle that is not one-time and BMS does not say
/// `isRecurring: false`. A contract without a cycle is not recurring (cycle `other`).
/// `cancelled`: status `Cancelled` or a `cancelledDate`.
pub fn agreement(v: &Value) -> Result<Agreement> {
    let cycle = billing_cycle(v);
    let recurring =
        matches!(cycle, Some(c) if c != BillingCycle::OneTime) && flag(v, "isRecurring", true);
    let status = text(v, "statusName");
    let cancelled = date(v, "cancelledDate").is_some()
        || status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("cancelled"));
    let lines = match field(v, "services") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(agreement_line)
            .collect::<Result<Vec<_>>>()?,
        Some(other) => {
            return Err(Error::malformed(format!(
                "a Kaseya BMS contract whose `services` is not an array: {}",
                json::excerpt(other)
            )));
        }
    };
    Ok(Agreement {
        id: record_id(v, "contract")?,
        company_id: id_field(v, "accountId").unwrap_or_default(),
        name: text(v, "contractName").unwrap_or_default(),
        agreement_type: pair(v, "contractType"),
        status,
        start_date: date(v, "startDate"),
        end_date: date(v, "endDate"),
        recurring,
        cancelled,
        billing_cycle: cycle.unwrap_or(BillingCycle::Other),
        bill_amount: decimal_field(v, "billingAmount"),
        lines,
        updated_at: time_field(v, "modifiedOn"),
        raw: raw(v),
    })
}

/// A ticket (`v2/servicedesk/tickets`). The queue is `queueId`; the contract's ticket type is
/// BMS's issue type and its sub-type BMS's sub-issue type (BMS's own ticket type, `typeId`, is
/// the contract's category and stays in `raw`); `closed` is `isClosed`.
pub fn ticket(v: &Value) -> Result<Ticket> {
    Ok(Ticket {
        id: record_id(v, "ticket")?,
        summary: text(v, "title").unwrap_or_default(),
        company_id: id_field(v, "accountId"),
        contact_id: id_field(v, "contactId"),
        queue: pair(v, "queue"),
        status: pair(v, "status"),
        priority: pair(v, "priority"),
        ticket_type: pair(v, "issueType"),
        sub_type: pair(v, "subIssueType"),
        source: pair(v, "source"),
        agreement_id: id_field(v, "contractId"),
        closed: flag(v, "isClosed", false) || field(v, "closedOn").is_some(),
        created_at: time_field(v, "createdOn").or_else(|| time_field(v, "openDate")),
        updated_at: time_field(v, "modifiedOn"),
        raw: raw(v),
    })
}

/// A ticket note (`v2/servicedesk/tickets/{id}/notes`). `ticket_id` is used when the note does
/// not carry its `ticketId`.
pub fn note(v: &Value, ticket_id: &str) -> Result<Note> {
    Ok(Note {
        id: record_id(v, "ticket note")?,
        ticket_id: id_field(v, "ticketId").unwrap_or_else(|| ticket_id.to_string()),
        text: field(v, "details")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        internal: flag(v, "isInternal", false),
        resolution: flag(v, "isResolution", false),
        created_at: time_field(v, "createdOn").or_else(|| time_field(v, "noteDate")),
        created_by: text(v, "createdBy"),
        raw: raw(v),
    })
}

/// A picklist entry: `name`, `active` = `isActive` (absent: active), the parent from
/// `parent_key` (sub-issue types: `issueTypeId`).
pub fn reference(v: &Value, parent_key: Option<&str>) -> Result<Reference> {
    Ok(Reference {
        id: record_id(v, "picklist entry")?,
        name: text(v, "name")
            .or_else(|| text(v, "description"))
            .unwrap_or_default(),
        active: flag(v, "isActive", true),
        parent_id: parent_key.and_then(|k| id_field(v, k)),
        raw: raw(v),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::list_envelope;
    use serde_json::json;

    /// The records of a list answer in `tests/data`.
    pub(crate) fn list(name: &str) -> Vec<Value> {
        let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
        let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        list_envelope(200, &body).unwrap().0
    }

    fn malformed(e: Error) {
        match e {
            Error::Remote(p) => assert_eq!(p.code.as_deref(), Some("malformed-response")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ids() {
        assert_eq!(id_u64(&json!(42)), Some(42));
        assert_eq!(id_u64(&json!(" 42 ")), Some(42));
        for bad in [
            json!(0),
            json!(-1),
            json!(1.5),
            json!("4x"),
            json!(""),
            json!(null),
        ] {
            assert_eq!(id_u64(&bad), None, "{bad}");
        }
        assert_eq!(parse_id("ticket-id", "9001").unwrap(), 9001);
        match parse_id("ticket-id", "T20260302.0001") {
            Err(Error::InvalidInput(p)) => assert_eq!(p.field, "ticket-id"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn accounts() {
        let items = list("accounts.json");
        let acme = company(&items[0]).unwrap();
        assert_eq!(acme.id, "101");
        assert_eq!(acme.name, "Acme Dental");
        assert_eq!(acme.identifier.as_deref(), Some("ACMEDENTAL"));
        assert_eq!(
            acme.status,
            Some(EntityRef::new("1", Some("Active".into())))
        );
        assert!(acme.active);
        assert_eq!(acme.types, vec!["Customer", "Managed Services"]);
        assert_eq!(acme.phone.as_deref(), Some("+1 813 555 0100"));
        assert_eq!(acme.website.as_deref(), Some("acmedental.example"));
        let a = acme.address.unwrap();
        assert_eq!(a.line1.as_deref(), Some("1 Harbour Street"));
        assert_eq!(a.line2, None);
        assert_eq!(a.city.as_deref(), Some("Tampa"));
        assert_eq!(a.state.as_deref(), Some("FL"));
        assert_eq!(a.postal_code.as_deref(), Some("33602"));
        assert_eq!(a.country.as_deref(), Some("United States"));
        assert_eq!(acme.updated_at.as_deref(), Some("2026-03-01T10:00:00Z"));
        let raw: Value = serde_json::from_str(&acme.raw).unwrap();
        assert_eq!(raw, items[0]);

        // A prospect without classification, phone or address.
        let prospect = company(&items[1]).unwrap();
        assert_eq!(prospect.types, vec!["Prospect"]);
        assert!(prospect.active);
        assert_eq!(prospect.phone, None, "an empty phone is absent");
        assert_eq!(prospect.address, None, "a location without an address");

        // Inactive; a classification equal to the type is not repeated.
        let old = company(&items[2]).unwrap();
        assert!(!old.active);
        assert_eq!(old.types, vec!["Customer"]);
        assert_eq!(old.address.unwrap().line2.as_deref(), Some("Unit 4"));

        // Without isActive the status name decides; without both, active.
        assert!(
            !company(&json!({"id": 1, "statusName": "Inactive"}))
                .unwrap()
                .active
        );
        let bare = company(&json!({"id": "77", "accountName": "Bare"})).unwrap();
        assert_eq!(bare.id, "77");
        assert!(bare.active);
        assert!(bare.types.is_empty());
        assert_eq!(bare.status, None);
        malformed(company(&json!({"accountName": "x"})).unwrap_err());
    }

    #[test]
    fn contacts() {
        let items = list("contacts.json");
        let c = contact(&items[0]).unwrap();
        assert_eq!(c.id, "31");
        assert_eq!(c.company_id.as_deref(), Some("101"));
        assert_eq!(c.first_name.as_deref(), Some("Dana"));
        assert_eq!(c.last_name.as_deref(), Some("Reyes"));
        assert_eq!(c.title.as_deref(), Some("Office Manager"));
        // Default first, then in order; duplicates (any case) folded; the fax is not a phone.
        assert_eq!(
            c.emails,
            vec!["dana@acmedental.example", "d.reyes@gmail.example"]
        );
        assert_eq!(c.phones, vec!["+1 813 555 0101", "+1 813 555 0199"]);
        assert!(c.active);
        assert!(c.primary);
        assert_eq!(c.updated_at.as_deref(), Some("2026-02-11T08:15:00Z"));
        let inactive = contact(&items[1]).unwrap();
        assert!(!inactive.active);
        assert!(!inactive.primary);
        assert_eq!(inactive.title, None);
        assert!(inactive.emails.is_empty() && inactive.phones.is_empty());
    }

    #[test]
    fn contracts() {
        let items = list("contracts.json");
        let a = agreement(&items[0]).unwrap();
        assert_eq!(a.id, "5");
        assert_eq!(a.company_id, "101");
        assert_eq!(a.name, "Managed Services - Acme");
        assert_eq!(
            a.agreement_type,
            Some(EntityRef::new("3", Some("Managed Services".into())))
        );
        assert_eq!(a.status.as_deref(), Some("Active"));
        assert_eq!(a.start_date.as_deref(), Some("2025-01-01"));
        assert_eq!(a.end_date, None);
        assert!(a.recurring);
        assert!(!a.cancelled);
        assert_eq!(a.billing_cycle, BillingCycle::Monthly);
        assert_eq!(a.bill_amount.as_deref(), Some("1250.5"));
        assert_eq!(a.updated_at.as_deref(), Some("2026-03-01T10:00:00Z"));
        assert_eq!(a.lines.len(), 2);
        let l = &a.lines[0];
        assert_eq!(l.id, "701");
        assert_eq!(
            l.product,
            Some(EntityRef::new("44", Some("MSP-USER".into())))
        );
        assert_eq!(l.description.as_deref(), Some("Managed user"));
        assert_eq!(l.quantity, "25");
        assert_eq!(l.unit_price, "45.1");
        assert!(l.billable);
        assert_eq!(l.billing_cycle, None, "bills on the contract's cycle");
        assert_eq!(l.effective_date.as_deref(), Some("2025-01-01"));
        assert_eq!(l.cancelled_date, None);
        let l = &a.lines[1];
        assert_eq!((l.quantity.as_str(), l.unit_price.as_str()), ("2.5", "0.3"));
        assert!(!l.billable);
        assert_eq!(l.billing_cycle, Some(BillingCycle::Annual));
        assert_eq!(l.effective_date.as_deref(), Some("2025-03-01"));
        assert_eq!(l.cancelled_date.as_deref(), Some("2026-02-28"));

        let cancelled = agreement(&items[1]).unwrap();
        assert_eq!(cancelled.billing_cycle, BillingCycle::Quarterly);
        assert!(cancelled.recurring);
        assert!(cancelled.cancelled);
        assert_eq!(cancelled.end_date.as_deref(), Some("2026-06-30"));
        assert!(cancelled.lines.is_empty());

        let once = agreement(&items[2]).unwrap();
        assert_eq!(once.billing_cycle, BillingCycle::OneTime);
        assert!(!once.recurring);
        assert_eq!(once.bill_amount.as_deref(), Some("10000"));

        // A semi-annual cycle that BMS marks not recurring.
        let expired = agreement(&items[3]).unwrap();
        assert_eq!(expired.billing_cycle, BillingCycle::SemiAnnual);
        assert!(!expired.recurring);
        assert!(!expired.cancelled);
        assert_eq!(expired.bill_amount.as_deref(), Some("0"));

        // No cycle: not recurring, cycle other; isRecurring absent follows the cycle.
        let none = agreement(&json!({"id": 9, "accountId": 1})).unwrap();
        assert_eq!(none.billing_cycle, BillingCycle::Other);
        assert!(!none.recurring);
        assert!(
            agreement(&json!({"id": 9, "billingCycle": "Annually"}))
                .unwrap()
                .recurring
        );
        malformed(agreement(&json!({"id": 9, "services": {"id": 1}})).unwrap_err());
        malformed(agreement(&json!({"id": 9, "services": [{"quantity": 1}]})).unwrap_err());
    }

    #[test]
    fn billing_cycle_names() {
        for (name, cycle) in [
            ("Monthly", BillingCycle::Monthly),
            ("Quarterly", BillingCycle::Quarterly),
            ("Semi-Annually", BillingCycle::SemiAnnual),
            ("Semi Annual", BillingCycle::SemiAnnual),
            ("Annually", BillingCycle::Annual),
            ("Yearly", BillingCycle::Annual),
            ("One Time", BillingCycle::OneTime),
            ("one-time", BillingCycle::OneTime),
            ("Weekly", BillingCycle::Other),
        ] {
            assert_eq!(BillingCycle::from_name(name), cycle, "{name}");
        }
    }

    #[test]
    fn tickets_and_notes() {
        let items = list("tickets.json");
        let t = ticket(&items[0]).unwrap();
        assert_eq!(t.id, "9001");
        assert_eq!(t.summary, "Disk C: almost full on ACME-DC01");
        assert_eq!(t.company_id.as_deref(), Some("101"));
        assert_eq!(t.contact_id.as_deref(), Some("31"));
        assert_eq!(t.queue, Some(EntityRef::new("1", Some("Help Desk".into()))));
        assert_eq!(t.status, Some(EntityRef::new("1", Some("New".into()))));
        assert_eq!(t.priority, Some(EntityRef::new("2", Some("High".into()))));
        assert_eq!(
            t.ticket_type,
            Some(EntityRef::new("21", Some("Storage".into())))
        );
        assert_eq!(
            t.sub_type,
            Some(EntityRef::new("31", Some("Disk space".into())))
        );
        assert_eq!(
            t.source,
            Some(EntityRef::new("5", Some("Monitoring System".into())))
        );
        assert_eq!(t.agreement_id.as_deref(), Some("5"));
        assert!(!t.closed);
        assert_eq!(t.created_at.as_deref(), Some("2026-03-02T07:00:00Z"));
        assert_eq!(t.updated_at.as_deref(), Some("2026-03-02T07:05:00Z"));
        let closed = ticket(&items[1]).unwrap();
        assert!(closed.closed);
        assert_eq!(closed.contact_id, None);
        assert_eq!(closed.ticket_type, None);
        assert_eq!(closed.source, None);
        // closedOn alone closes.
        assert!(
            ticket(&json!({"id": 1, "closedOn": "2026-01-01T00:00:00Z"}))
                .unwrap()
                .closed
        );

        let notes = list("notes.json");
        let n = note(&notes[0], "0").unwrap();
        assert_eq!(n.id, "51");
        assert_eq!(n.ticket_id, "9001");
        assert_eq!(n.text, "Alert repeated at 07:05");
        assert!(!n.internal);
        assert!(!n.resolution);
        assert_eq!(n.created_at.as_deref(), Some("2026-03-02T07:05:00Z"));
        assert_eq!(n.created_by.as_deref(), Some("api.psahost"));
        let internal = note(&notes[1], "9001").unwrap();
        assert_eq!(internal.ticket_id, "9001", "from the request when absent");
        assert!(internal.internal);
        assert!(internal.resolution);
        assert_eq!(
            internal.created_at.as_deref(),
            Some("2026-03-02T08:00:00Z"),
            "noteDate in UTC"
        );
        assert_eq!(internal.created_by.as_deref(), Some("jdoe"));
    }

    #[test]
    fn references() {
        let statuses: Vec<Reference> = list("statuses.json")
            .iter()
            .map(|v| reference(v, None))
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(statuses.len(), 4);
        assert_eq!(
            (statuses[0].id.as_str(), statuses[0].name.as_str()),
            ("1", "New")
        );
        assert!(statuses[0].active);
        assert!(!statuses[3].active);
        assert_eq!(statuses[0].parent_id, None);
        let subs: Vec<Reference> = list("subissuetypes.json")
            .iter()
            .map(|v| reference(v, Some("issueTypeId")))
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(subs[0].parent_id.as_deref(), Some("21"));
        assert_eq!(subs[2].parent_id.as_deref(), Some("23"));
        let service = reference(&json!({"id": 44, "description": "Managed user"}), None).unwrap();
        assert_eq!(service.name, "Managed user");
        assert!(service.active);
    }
}
