//! ConnectWise JSON -> the contract's typed records.
//!
//! Every function takes the PSA's object as a `serde_json::Value` and keeps it in `raw`. A record
//! without an `id` is a malformed answer; every other field is optional and read leniently with
//! [`psa_sdk::json`] (ids as numbers or strings, empty strings as absent).
//!
//! Money and quantities: ConnectWise sends them as JSON numbers (doubles). They become decimal
//! strings through [`psa_sdk::decimal::from_json`] (`1250.5`, `0.1`, never
//! `0.1000000000000000055`, no exponent).

use psa_sdk::json::{field, flag, id as id_of, text};
use psa_sdk::types::{
    Address, Agreement, AgreementLine, BillingCycle, Company, Configuration, Contact, EntityRef,
    Note, Reference, Ticket,
};
use psa_sdk::{Error, decimal, json, time};
use serde_json::Value;

type Result<T> = core::result::Result<T, Error>;

/// The `id` of a record, required.
fn record_id(v: &Value, entity: &str) -> Result<String> {
    field(v, "id").and_then(id_of).ok_or_else(|| {
        Error::malformed(format!(
            "a ConnectWise {entity} without an id: {}",
            json::excerpt(v)
        ))
    })
}

/// The id inside a reference object (`"company": {"id": 2, ...}`).
fn ref_id(v: &Value, key: &str) -> Option<String> {
    field(v, key).and_then(|r| field(r, "id")).and_then(id_of)
}

/// A reference object as an entity ref; the name is `name`, else `identifier`, else
/// `description`.
pub fn entity_ref(v: &Value, key: &str) -> Option<EntityRef> {
    let r = field(v, key)?;
    let id = field(r, "id").and_then(id_of)?;
    let name = text(r, "name")
        .or_else(|| text(r, "identifier"))
        .or_else(|| text(r, "description"));
    Some(EntityRef::new(id, name))
}

/// `_info.<key>` (ConnectWise keeps `lastUpdated` and `dateEntered` there).
fn info(v: &Value, key: &str) -> Option<String> {
    field(v, "_info").and_then(|i| text(i, key))
}

fn date(v: &Value, key: &str) -> Option<String> {
    text(v, key).and_then(|s| time::date_only(&s))
}

fn decimal_field(v: &Value, key: &str) -> Option<String> {
    field(v, key).and_then(decimal::from_json)
}

fn raw(v: &Value) -> String {
    v.to_string()
}

/// Whether a company is active: not deleted, and its status is not inactive. The status's
/// `inactiveFlag` decides when the answer carries it; otherwise only the status named `Active`
/// counts (ConnectWise's stock statuses are Active, Inactive and Not-Approved). A company without
/// a status is active unless deleted.
pub fn company_active(v: &Value) -> bool {
    if flag(v, "deletedFlag", false) {
        return false;
    }
    match field(v, "status") {
        None => true,
        Some(status) => match field(status, "inactiveFlag").and_then(Value::as_bool) {
            Some(inactive) => !inactive,
            None => text(status, "name").is_some_and(|n| n.eq_ignore_ascii_case("active")),
        },
    }
}

/// A company (`company/companies`).
pub fn company(v: &Value) -> Result<Company> {
    let line1 = text(v, "addressLine1");
    let line2 = text(v, "addressLine2");
    let city = text(v, "city");
    let state = text(v, "state");
    let postal_code = text(v, "zip");
    let country = field(v, "country").and_then(|c| {
        text(c, "name")
            .or_else(|| text(c, "identifier"))
            .or_else(|| text(c, "description"))
    });
    let address = [&line1, &line2, &city, &state, &postal_code, &country]
        .iter()
        .any(|x| x.is_some())
        .then_some(Address {
            line1,
            line2,
            city,
            state,
            postal_code,
            country,
        });
    let types = field(v, "types")
        .and_then(Value::as_array)
        .map(|ts| ts.iter().filter_map(|t| text(t, "name")).collect())
        .unwrap_or_default();
    Ok(Company {
        id: record_id(v, "company")?,
        name: text(v, "name").unwrap_or_default(),
        identifier: text(v, "identifier"),
        status: entity_ref(v, "status"),
        active: company_active(v),
        types,
        phone: text(v, "phoneNumber"),
        website: text(v, "website"),
        address,
        updated_at: info(v, "lastUpdated"),
        raw: raw(v),
    })
}

/// The communication items of `kind` (`Email`, `Phone`), the default one first.
fn communication(v: &Value, kind: &str) -> Vec<String> {
    let Some(items) = field(v, "communicationItems").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut found: Vec<(bool, String)> = items
        .iter()
        .filter(|item| {
            let ty = text(item, "communicationType")
                .or_else(|| field(item, "type").and_then(|t| text(t, "name")));
            ty.is_some_and(|t| t.eq_ignore_ascii_case(kind))
        })
        .filter_map(|item| {
            text(item, "value").map(|value| (flag(item, "defaultFlag", false), value))
        })
        .collect();
    // Stable: the default first, the others in the PSA's order.
    found.sort_by_key(|(default, _)| !*default);
    let mut out: Vec<String> = Vec::with_capacity(found.len());
    for (_, value) in found {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&value)) {
            out.push(value);
        }
    }
    out
}

/// A contact (`company/contacts`). Emails and phones come from `communicationItems` by
/// `communicationType` (faxes are left out); when a contact has no phone item, the top-level
/// `defaultPhoneNbr` is used.
pub fn contact(v: &Value) -> Result<Contact> {
    let mut phones = communication(v, "Phone");
    if phones.is_empty()
        && let Some(p) = text(v, "defaultPhoneNbr")
    {
        phones.push(p);
    }
    Ok(Contact {
        id: record_id(v, "contact")?,
        company_id: ref_id(v, "company"),
        first_name: text(v, "firstName"),
        last_name: text(v, "lastName"),
        title: text(v, "title"),
        emails: communication(v, "Email"),
        phones,
        active: !flag(v, "inactiveFlag", false),
        primary: flag(v, "defaultFlag", false),
        updated_at: info(v, "lastUpdated"),
        raw: raw(v),
    })
}

/// A billing cycle from its ConnectWise name (`Monthly`, `Quarterly`, `Semi-Annual`, `Annual`,
/// `One Time`); unknown names are `other`.
pub fn billing_cycle_from_name(name: &str) -> BillingCycle {
    let key: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    match key.as_str() {
        "monthly" | "month" => BillingCycle::Monthly,
        "quarterly" | "quarter" => BillingCycle::Quarterly,
        "semiannual" | "semiannually" | "biannual" | "biannually" | "halfyearly" => {
            BillingCycle::SemiAnnual
        }
        "annual" | "annually" | "yearly" | "year" => BillingCycle::Annual,
        "onetime" | "once" => BillingCycle::OneTime,
        _ => BillingCycle::Other,
    }
}

/// The billing cycle of an agreement: by `billingCycle.name`, else by the stock ids 1..5
/// (Monthly, Quarterly, Semi-Annual, Annual, One Time); `None` when the agreement has none.
pub fn billing_cycle(v: &Value) -> Option<BillingCycle> {
    let cycle = field(v, "billingCycle")?;
    if let Some(name) = text(cycle, "name") {
        return Some(billing_cycle_from_name(&name));
    }
    let id = field(cycle, "id").and_then(id_of)?;
    Some(match id.as_str() {
        "1" => BillingCycle::Monthly,
        "2" => BillingCycle::Quarterly,
        "3" => BillingCycle::SemiAnnual,
        "4" => BillingCycle::Annual,
        "5" => BillingCycle::OneTime,
        _ => BillingCycle::Other,
    })
}

/// An agreement line (`finance/agreements/{id}/additions`).
pub fn agreement_line(v: &Value) -> Result<AgreementLine> {
    Ok(AgreementLine {
        id: record_id(v, "agreement addition")?,
        product: entity_ref(v, "product"),
        description: text(v, "description").or_else(|| text(v, "invoiceDescription")),
        quantity: decimal_field(v, "quantity").unwrap_or_else(|| "0".into()),
        unit_price: decimal_field(v, "unitPrice").unwrap_or_else(|| "0".into()),
        billable: text(v, "billCustomer").is_some_and(|b| b.eq_ignore_ascii_case("Billable")),
        // Additions bill on their agreement's cycle; ConnectWise has no per-addition cycle.
        billing_cycle: None,
        effective_date: date(v, "effectiveDate"),
        cancelled_date: date(v, "cancelledDate"),
        raw: raw(v),
    })
}

/// An agreement (`finance/agreements`) with its additions as lines.
///
/// `recurring`: the agreement has a billing cycle that is not one-time and is not billed once
/// (`billOneTimeFlag`). An agreement without a billing cycle is not recurring (cycle `other`).
pub fn agreement(v: &Value, additions: &[Value]) -> Result<Agreement> {
    let cycle = billing_cycle(v);
    let recurring = matches!(cycle, Some(c) if c != BillingCycle::OneTime)
        && !flag(v, "billOneTimeFlag", false);
    let status = text(v, "agreementStatus");
    let cancelled = flag(v, "cancelledFlag", false)
        || status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("cancelled"));
    let end_date = if flag(v, "noEndingDateFlag", false) {
        None
    } else {
        date(v, "endDate")
    };
    Ok(Agreement {
        id: record_id(v, "agreement")?,
        company_id: ref_id(v, "company").unwrap_or_default(),
        name: text(v, "name").unwrap_or_default(),
        agreement_type: entity_ref(v, "type"),
        status,
        start_date: date(v, "startDate"),
        end_date,
        recurring,
        cancelled,
        billing_cycle: cycle.unwrap_or(BillingCycle::Other),
        bill_amount: decimal_field(v, "billAmount"),
        lines: additions
            .iter()
            .map(agreement_line)
            .collect::<Result<Vec<_>>>()?,
        updated_at: info(v, "lastUpdated"),
        raw: raw(v),
    })
}

/// A configuration item (`company/configurations`). `active` is `activeFlag` (absent: active).
pub fn configuration(v: &Value) -> Result<Configuration> {
    Ok(Configuration {
        id: record_id(v, "configuration")?,
        company_id: ref_id(v, "company"),
        name: text(v, "name").unwrap_or_default(),
        configuration_type: entity_ref(v, "type"),
        status: entity_ref(v, "status"),
        active: flag(v, "activeFlag", true),
        serial_number: text(v, "serialNumber"),
        model_number: text(v, "modelNumber"),
        mac_address: text(v, "macAddress"),
        ip_address: text(v, "ipAddress"),
        device_identifier: text(v, "deviceIdentifier"),
        manufacturer: entity_ref(v, "manufacturer"),
        vendor: entity_ref(v, "vendor"),
        notes: text(v, "notes"),
        updated_at: info(v, "lastUpdated"),
        raw: raw(v),
    })
}

/// A service ticket (`service/tickets`). The board is the queue; `closed` is `closedFlag`.
pub fn ticket(v: &Value) -> Result<Ticket> {
    Ok(Ticket {
        id: record_id(v, "ticket")?,
        summary: text(v, "summary").unwrap_or_default(),
        company_id: ref_id(v, "company"),
        contact_id: ref_id(v, "contact"),
        queue: entity_ref(v, "board"),
        status: entity_ref(v, "status"),
        priority: entity_ref(v, "priority"),
        ticket_type: entity_ref(v, "type"),
        sub_type: entity_ref(v, "subType"),
        source: entity_ref(v, "source"),
        agreement_id: ref_id(v, "agreement"),
        closed: flag(v, "closedFlag", false),
        created_at: info(v, "dateEntered").or_else(|| text(v, "dateEntered")),
        updated_at: info(v, "lastUpdated"),
        raw: raw(v),
    })
}

/// A ticket note (`service/tickets/{id}/notes`). `ticket_id` is used when the note does not
/// carry its `ticketId`.
pub fn note(v: &Value, ticket_id: &str) -> Result<Note> {
    let created_by = text(v, "createdBy").or_else(|| {
        field(v, "member").and_then(|m| text(m, "identifier").or_else(|| text(m, "name")))
    });
    Ok(Note {
        id: record_id(v, "ticket note")?,
        ticket_id: field(v, "ticketId")
            .and_then(id_of)
            .unwrap_or_else(|| ticket_id.to_string()),
        text: field(v, "text")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        internal: flag(v, "internalAnalysisFlag", false),
        resolution: flag(v, "resolutionFlag", false),
        created_at: text(v, "dateCreated").or_else(|| info(v, "dateEntered")),
        created_by,
        raw: raw(v),
    })
}

/// A picklist entry. The name is `name`, else `description` (configuration statuses), else
/// `identifier`; `active` is false when `inactiveFlag` or `inactive` (board statuses) is set.
pub fn reference(v: &Value, parent_id: Option<String>) -> Result<Reference> {
    Ok(Reference {
        id: record_id(v, "picklist entry")?,
        name: text(v, "name")
            .or_else(|| text(v, "description"))
            .or_else(|| text(v, "identifier"))
            .unwrap_or_default(),
        active: !(flag(v, "inactiveFlag", false) || flag(v, "inactive", false)),
        parent_id,
        raw: raw(v),
    })
}

/// A catalog product as a contract service: named by its product identifier (what additions
/// reference), else its description.
pub fn catalog_reference(v: &Value) -> Result<Reference> {
    Ok(Reference {
        id: record_id(v, "catalog item")?,
        name: text(v, "identifier")
            .or_else(|| text(v, "description"))
            .unwrap_or_default(),
        active: !flag(v, "inactiveFlag", false),
        parent_id: None,
        raw: raw(v),
    })
}

/// A vendor company as a picklist entry (active as in [`company_active`]).
pub fn vendor_reference(v: &Value) -> Result<Reference> {
    Ok(Reference {
        id: record_id(v, "vendor company")?,
        name: text(v, "name")
            .or_else(|| text(v, "identifier"))
            .unwrap_or_default(),
        active: company_active(v),
        parent_id: None,
        raw: raw(v),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(name: &str) -> Value {
        let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    fn list(name: &str) -> Vec<Value> {
        data(name).as_array().unwrap().clone()
    }

    #[test]
    fn companies() {
        let items = list("companies.json");
        let acme = company(&items[0]).unwrap();
        assert_eq!(acme.id, "19");
        assert_eq!(acme.name, "Acme Dental");
        assert_eq!(acme.identifier.as_deref(), Some("AcmeDental"));
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

        // Inactive by the status name; no address at all.
        let inactive = company(&items[1]).unwrap();
        assert!(!inactive.active);
        assert_eq!(inactive.address, None);
        assert_eq!(inactive.phone, None, "an empty phone is absent");
        // The status's inactiveFlag wins over its name.
        let flagged = company(&items[2]).unwrap();
        assert!(!flagged.active);
        // Deleted is never active.
        let deleted = company(&items[3]).unwrap();
        assert!(!deleted.active);
        // Ids as strings, no status.
        let bare = company(&json!({"id": "77", "name": "Bare"})).unwrap();
        assert_eq!(bare.id, "77");
        assert!(bare.active);
        assert!(bare.types.is_empty());
        // No id: malformed.
        match company(&json!({"name": "x"})).unwrap_err() {
            Error::Remote(p) => assert_eq!(p.code.as_deref(), Some("malformed-response")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn contacts() {
        let items = list("contacts.json");
        let c = contact(&items[0]).unwrap();
        assert_eq!(c.id, "31");
        assert_eq!(c.company_id.as_deref(), Some("19"));
        assert_eq!(c.first_name.as_deref(), Some("Dana"));
        assert_eq!(c.last_name.as_deref(), Some("Reyes"));
        assert_eq!(c.title.as_deref(), Some("Office Manager"));
        // Default first, then in order; the fax is not a phone; duplicates folded.
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
        assert!(inactive.emails.is_empty());
        assert_eq!(
            inactive.phones,
            vec!["8139357100"],
            "falls back to defaultPhoneNbr"
        );
    }

    #[test]
    fn agreements() {
        let items = list("agreements.json");
        let additions = list("additions.json");
        let a = agreement(&items[0], &additions).unwrap();
        assert_eq!(a.id, "5");
        assert_eq!(a.company_id, "19");
        assert_eq!(a.name, "Managed Services - Acme");
        assert_eq!(
            a.agreement_type,
            Some(EntityRef::new("3", Some("Managed Services".into())))
        );
        assert_eq!(a.status.as_deref(), Some("Active"));
        assert_eq!(a.start_date.as_deref(), Some("2025-01-01"));
        assert_eq!(a.end_date, None, "noEndingDateFlag");
        assert!(a.recurring);
        assert!(!a.cancelled);
        assert_eq!(a.billing_cycle, BillingCycle::Monthly);
        assert_eq!(a.bill_amount.as_deref(), Some("1250.5"));
        assert_eq!(a.lines.len(), 3);
        let l = &a.lines[0];
        assert_eq!(l.id, "101");
        assert_eq!(
            l.product,
            Some(EntityRef::new("44", Some("MSP-USER".into())))
        );
        assert_eq!(l.description.as_deref(), Some("Managed user"));
        assert_eq!(l.quantity, "25");
        assert_eq!(l.unit_price, "45.1");
        assert!(l.billable);
        assert_eq!(l.billing_cycle, None);
        assert_eq!(l.effective_date.as_deref(), Some("2025-01-01"));
        assert_eq!(l.cancelled_date, None);
        assert_eq!(a.lines[1].quantity, "2.5");
        assert_eq!(a.lines[1].unit_price, "0.3");
        assert!(!a.lines[1].billable, "DoNotBill");
        assert!(!a.lines[2].billable, "NoCharge");
        assert_eq!(a.lines[2].cancelled_date.as_deref(), Some("2026-02-28"));

        let quarterly = agreement(&items[1], &[]).unwrap();
        assert_eq!(quarterly.billing_cycle, BillingCycle::Quarterly);
        assert!(quarterly.recurring);
        assert!(quarterly.cancelled);
        assert_eq!(quarterly.end_date.as_deref(), Some("2026-06-30"));
        assert!(quarterly.lines.is_empty());

        let once = agreement(&items[2], &[]).unwrap();
        assert_eq!(once.billing_cycle, BillingCycle::OneTime);
        assert!(!once.recurring);
        assert_eq!(once.bill_amount.as_deref(), Some("10000"));

        // Annual cycle but billed once.
        let billed_once = agreement(&items[3], &[]).unwrap();
        assert_eq!(billed_once.billing_cycle, BillingCycle::Annual);
        assert!(!billed_once.recurring);

        // No cycle: not recurring; cycle by id when it has no name.
        let none = agreement(&json!({"id": 9, "company": {"id": 1}}), &[]).unwrap();
        assert_eq!(none.billing_cycle, BillingCycle::Other);
        assert!(!none.recurring);
        let by_id = agreement(&json!({"id": 9, "billingCycle": {"id": 3}}), &[]).unwrap();
        assert_eq!(by_id.billing_cycle, BillingCycle::SemiAnnual);
    }

    #[test]
    fn billing_cycle_names() {
        for (name, cycle) in [
            ("Monthly", BillingCycle::Monthly),
            ("Quarterly", BillingCycle::Quarterly),
            ("Semi-Annual", BillingCycle::SemiAnnual),
            ("Semi Annually", BillingCycle::SemiAnnual),
            ("Annual", BillingCycle::Annual),
            ("Yearly", BillingCycle::Annual),
            ("One Time", BillingCycle::OneTime),
            ("one-time", BillingCycle::OneTime),
            ("Weekly", BillingCycle::Other),
        ] {
            assert_eq!(billing_cycle_from_name(name), cycle, "{name}");
        }
    }

    #[test]
    fn configurations() {
        let items = list("configurations.json");
        let c = configuration(&items[0]).unwrap();
        assert_eq!(c.id, "7001");
        assert_eq!(c.company_id.as_deref(), Some("19"));
        assert_eq!(c.name, "ACME-DC01");
        assert_eq!(
            c.configuration_type,
            Some(EntityRef::new("12", Some("Server".into())))
        );
        assert_eq!(c.status, Some(EntityRef::new("2", Some("Active".into()))));
        assert!(c.active);
        assert_eq!(c.serial_number.as_deref(), Some("CZ1234ABC"));
        assert_eq!(c.model_number.as_deref(), Some("ProLiant DL360"));
        assert_eq!(c.mac_address.as_deref(), Some("00:1A:2B:3C:4D:5E"));
        assert_eq!(c.ip_address.as_deref(), Some("10.0.0.10"));
        assert_eq!(c.device_identifier.as_deref(), Some("auvik-dev-881"));
        assert_eq!(c.manufacturer, Some(EntityRef::new("3", Some("HP".into()))));
        assert_eq!(
            c.vendor,
            Some(EntityRef::new("250", Some("Ingram Micro".into())))
        );
        assert_eq!(c.notes.as_deref(), Some("host: acme-dc01.acme.local"));
        let inactive = configuration(&items[1]).unwrap();
        assert!(!inactive.active);
        assert_eq!(inactive.serial_number, None);
        assert_eq!(inactive.manufacturer, None);
    }

    #[test]
    fn tickets_and_notes() {
        let items = list("tickets.json");
        let t = ticket(&items[0]).unwrap();
        assert_eq!(t.id, "9001");
        assert_eq!(t.summary, "Disk C: almost full on ACME-DC01");
        assert_eq!(t.company_id.as_deref(), Some("19"));
        assert_eq!(t.contact_id.as_deref(), Some("31"));
        assert_eq!(t.queue, Some(EntityRef::new("1", Some("Help Desk".into()))));
        assert_eq!(t.status, Some(EntityRef::new("11", Some("New".into()))));
        assert_eq!(
            t.priority,
            Some(EntityRef::new("4", Some("Priority 2 - High".into())))
        );
        assert_eq!(
            t.ticket_type,
            Some(EntityRef::new("21", Some("Alert".into())))
        );
        assert_eq!(
            t.sub_type,
            Some(EntityRef::new("31", Some("Storage".into())))
        );
        assert_eq!(
            t.source,
            Some(EntityRef::new("6", Some("Monitoring".into())))
        );
        assert_eq!(t.agreement_id.as_deref(), Some("5"));
        assert!(!t.closed);
        assert_eq!(t.created_at.as_deref(), Some("2026-03-02T07:00:00Z"));
        assert_eq!(t.updated_at.as_deref(), Some("2026-03-02T07:05:00Z"));
        let closed = ticket(&items[1]).unwrap();
        assert!(closed.closed);
        assert_eq!(closed.contact_id, None);
        assert_eq!(closed.sub_type, None);

        let notes = list("notes.json");
        let n = note(&notes[0], "0").unwrap();
        assert_eq!(n.id, "51");
        assert_eq!(n.ticket_id, "9001");
        assert_eq!(n.text, "Alert repeated at 07:05");
        assert!(!n.internal);
        assert!(!n.resolution);
        assert_eq!(n.created_at.as_deref(), Some("2026-03-02T07:05:00Z"));
        assert_eq!(n.created_by.as_deref(), Some("psahost-api"));
        let internal = note(&notes[1], "9001").unwrap();
        assert!(internal.internal);
        assert!(internal.resolution);
        assert_eq!(internal.ticket_id, "9001");
        assert_eq!(internal.created_by.as_deref(), Some("jdoe"));
    }

    #[test]
    fn references() {
        let r = reference(
            &json!({"id": 1, "name": "Help Desk", "inactiveFlag": false}),
            None,
        )
        .unwrap();
        assert_eq!(
            (r.id.as_str(), r.name.as_str(), r.active),
            ("1", "Help Desk", true)
        );
        let status = reference(
            &json!({"id": 11, "name": "Closed", "board": {"id": 1}, "inactive": true, "closedStatus": true}),
            Some("1".into()),
        )
        .unwrap();
        assert!(!status.active);
        assert_eq!(status.parent_id.as_deref(), Some("1"));
        let cfg_status = reference(
            &json!({"id": 1, "description": "Testing Network", "closedFlag": false}),
            None,
        )
        .unwrap();
        assert_eq!(cfg_status.name, "Testing Network");
        assert!(cfg_status.active);
        let product = catalog_reference(
            &json!({"id": 44, "identifier": "MSP-USER", "description": "Managed user", "inactiveFlag": true}),
        )
        .unwrap();
        assert_eq!(product.name, "MSP-USER");
        assert!(!product.active);
        let vendor = vendor_reference(
            &json!({"id": 250, "name": "Ingram Micro", "status": {"id": 1, "name": "Active"}, "types": [{"id": 4, "name": "Vendor"}]}),
        )
        .unwrap();
        assert_eq!(vendor.name, "Ingram Micro");
        assert!(vendor.active);
    }
}
