//! Autotask JSON -> the contract's typed records.
//!
//! Every function takes the PSA's object as a `serde_json::Value` and keeps it in `raw`. A record
//! without an `id` is a malformed answer; every other field is optional and read leniently with
//! [`psa_sdk::json`] (ids and picklist values as numbers or strings, empty strings as absent,
//! booleans as `true`/`false` or `1`/`0`).
//!
//! Autotask records carry ids, not names, for their picklist and reference fields (`queueID: 5`,
//! `status: 1`): the typed records' entity refs have an id and no name; `list-references` gives
//! the names.
//!
//! Money and quantities: Autotask sends them as JSON numbers (doubles). They become decimal strings
//! through [`psa_sdk::decimal::from_json`] (`45.1`, `0.3`, never `0.30000000000000004`, no
//! exponent).

use psa_sdk::json::{field, flag, id as id_of, text};
use psa_sdk::types::{
    Address, Agreement, AgreementLine, BillingCycle, Company, Configuration, ConfigurationAnswer,
    Contact, EntityRef, Note, Reference, Ticket,
};
use psa_sdk::{Error, decimal, json, time};
use serde_json::Value;

type Result<T> = core::result::Result<T, Error>;

/// Tickets `status` value of the system status Complete: the only closed status.
pub const STATUS_COMPLETE: i64 = 5;
/// Contracts `contractType` value of Recurring Service contracts.
pub const CONTRACT_TYPE_RECURRING_SERVICE: i64 = 7;
/// TicketNotes `publish` value: visible to all Autotask users.
pub const PUBLISH_ALL_USERS: i64 = 1;
/// TicketNotes `publish` value: internal users only.
pub const PUBLISH_INTERNAL_ONLY: i64 = 2;

/// An integer field given as a number or a numeric string.
pub fn int(v: &Value, key: &str) -> Option<i64> {
    match field(v, key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The `id` of a record, required.
fn record_id(v: &Value, entity: &str) -> Result<String> {
    field(v, "id").and_then(id_of).ok_or_else(|| {
        Error::malformed(format!(
            "an Autotask {entity} without an id: {}",
            json::excerpt(v)
        ))
    })
}

/// A reference field (`queueID: 5`) as an id; 0 counts as absent.
fn ref_id(v: &Value, key: &str) -> Option<String> {
    field(v, key).and_then(id_of).filter(|id| id != "0")
}

/// A reference field as an entity ref without a name.
fn id_ref(v: &Value, key: &str) -> Option<EntityRef> {
    ref_id(v, key).map(|id| EntityRef::new(id, None))
}

/// The latest of several date-time fields, as a UTC timestamp.
fn latest(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter()
        .filter_map(|k| text(v, k).and_then(|t| time::to_utc_assuming_utc(&t)))
        .max()
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

/// The label of a stock Companies `companyType` value.
pub fn company_type_name(value: i64) -> Option<&'static str> {
    Some(match value {
        1 => "Customer",
        2 => "Lead",
        3 => "Prospect",
        4 => "Dead",
        6 => "Cancelation",
        7 => "Vendor",
        8 => "Partner",
        _ => return None,
    })
}

/// A company (`Companies`). `active` is `isActive`; `identifier` the company number; `types` the
/// company type's label. `updated-at` is the later of `lastActivityDate` and
/// `lastTrackedModifiedDateTime`.
pub fn company(v: &Value) -> Result<Company> {
    let line1 = text(v, "address1");
    let line2 = text(v, "address2");
    let city = text(v, "city");
    let state = text(v, "state");
    let postal_code = text(v, "postalCode");
    let address = [&line1, &line2, &city, &state, &postal_code]
        .iter()
        .any(|x| x.is_some())
        .then_some(Address {
            line1,
            line2,
            city,
            state,
            postal_code,
            // Autotask gives a countryID only; the raw record keeps it.
            country: None,
        });
    let types = int(v, "companyType")
        .map(|t| {
            vec![
                company_type_name(t)
                    .map(str::to_string)
                    .unwrap_or_else(|| t.to_string()),
            ]
        })
        .unwrap_or_default();
    Ok(Company {
        id: record_id(v, "company")?,
        name: text(v, "companyName").unwrap_or_default(),
        identifier: text(v, "companyNumber"),
        status: None,
        active: flag(v, "isActive", true),
        types,
        phone: text(v, "phone"),
        website: text(v, "webAddress"),
        address,
        parent_id: ref_id(v, "parentCompanyID"),
        // Both are picklist values; their labels come from `list-references` where the host
        // wants them (resolving them here would cost a request per page).
        classification: id_ref(v, "classification"),
        market_segment: id_ref(v, "marketSegmentID"),
        sites: vec![],
        updated_at: latest(v, &["lastActivityDate", "lastTrackedModifiedDateTime"]),
        raw: raw(v),
    })
}

/// Distinct non-empty values of `keys`, in order.
fn distinct(v: &Value, keys: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in keys.iter().filter_map(|k| text(v, k)) {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&value)) {
            out.push(value);
        }
    }
    out
}

/// A contact (`Contacts`): emails `emailAddress`, `emailAddress2`, `emailAddress3`; phones
/// `phone`, `mobilePhone`, `alternatePhone`; `active` from `isActive` (1/0); `primary` from
/// `primaryContact`.
pub fn contact(v: &Value) -> Result<Contact> {
    Ok(Contact {
        id: record_id(v, "contact")?,
        company_id: ref_id(v, "companyID"),
        first_name: text(v, "firstName"),
        last_name: text(v, "lastName"),
        title: text(v, "title"),
        emails: distinct(v, &["emailAddress", "emailAddress2", "emailAddress3"]),
        phones: distinct(v, &["phone", "mobilePhone", "alternatePhone"]),
        active: flag(v, "isActive", true),
        primary: flag(v, "primaryContact", false),
        updated_at: latest(v, &["lastModifiedDate", "lastActivityDate"]),
        raw: raw(v),
    })
}

/// The billing cycle of a contract's `contractPeriodType`: 1 Monthly, 2 Quarterly, 3 Semi-Annual,
/// 4 Yearly, or the one-letter codes `m`, `q`, `s`, `y`; `None` when absent.
pub fn billing_cycle(v: &Value) -> Option<BillingCycle> {
    Some(match field(v, "contractPeriodType")? {
        Value::Number(n) => match n.as_i64() {
            Some(1) => BillingCycle::Monthly,
            Some(2) => BillingCycle::Quarterly,
            Some(3) => BillingCycle::SemiAnnual,
            Some(4) => BillingCycle::Annual,
            _ => BillingCycle::Other,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "m" | "monthly" => BillingCycle::Monthly,
            "2" | "q" | "quarterly" => BillingCycle::Quarterly,
            "3" | "s" | "semi-annual" | "semiannual" | "semi-annually" => BillingCycle::SemiAnnual,
            "4" | "y" | "yearly" | "annual" | "annually" => BillingCycle::Annual,
            _ => BillingCycle::Other,
        },
        _ => BillingCycle::Other,
    })
}

/// The units of a contract service today: those of its `ContractServiceUnits` period that covers
/// `today` (`YYYY-MM-DD`), else of its earliest period that starts later; `None` when it has no
/// current or future period.
pub fn current_units(units: &[Value], contract_service_id: &str, today: &str) -> Option<i64> {
    let mut periods: Vec<(String, String, i64)> = units
        .iter()
        .filter(|u| ref_id(u, "contractServiceID").as_deref() == Some(contract_service_id))
        .filter_map(|u| Some((date(u, "startDate")?, date(u, "endDate")?, int(u, "units")?)))
        .filter(|(_, end, _)| end.as_str() >= today)
        .collect();
    periods.sort();
    periods
        .iter()
        .find(|(start, _, _)| start.as_str() <= today)
        .or_else(|| periods.first())
        .map(|(_, _, units)| *units)
}

/// A contract service (`ContractServices`) as an agreement line with `quantity` units.
pub fn agreement_line(v: &Value, quantity: Option<i64>) -> Result<AgreementLine> {
    Ok(AgreementLine {
        id: record_id(v, "contract service")?,
        product: id_ref(v, "serviceID"),
        description: text(v, "invoiceDescription").or_else(|| text(v, "internalDescription")),
        quantity: quantity.unwrap_or(0).to_string(),
        unit_price: decimal_field(v, "unitPrice").unwrap_or_else(|| "0".into()),
        // Every contract service of a contract is billed with it.
        billable: true,
        // Services bill on their contract's period.
        billing_cycle: None,
        effective_date: None,
        cancelled_date: None,
        raw: raw(v),
    })
}

/// A contract (`Contracts`) with its contract services (those whose `contractID` is this
/// contract's) as lines, their quantities taken from `units` (`ContractServiceUnits`) as of
/// `today`.
///
/// `recurring`: the contract type is Recurring Service (7). Autotask contracts are Active (1) or
/// Inactive (0), never cancelled.
pub fn agreement(v: &Value, services: &[Value], units: &[Value], today: &str) -> Result<Agreement> {
    let id = record_id(v, "contract")?;
    let status = int(v, "status").map(|s| match s {
        1 => "Active".to_string(),
        0 => "Inactive".to_string(),
        other => other.to_string(),
    });
    let lines = services
        .iter()
        .filter(|s| ref_id(s, "contractID").as_deref() == Some(id.as_str()))
        .map(|s| {
            let service_id = field(s, "id").and_then(id_of).unwrap_or_default();
            agreement_line(s, current_units(units, &service_id, today))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Agreement {
        company_id: ref_id(v, "companyID").unwrap_or_default(),
        name: text(v, "contractName").unwrap_or_default(),
        agreement_type: id_ref(v, "contractType"),
        status,
        start_date: date(v, "startDate"),
        end_date: date(v, "endDate"),
        recurring: int(v, "contractType") == Some(CONTRACT_TYPE_RECURRING_SERVICE),
        cancelled: false,
        billing_cycle: billing_cycle(v).unwrap_or(BillingCycle::Other),
        bill_amount: None,
        lines,
        // Contracts carry no modification time.
        updated_at: None,
        raw: raw(v),
        id,
    })
}

/// A configuration item (`ConfigurationItems`). The name is `referenceTitle`; the device
/// identifier `referenceNumber`, else the RMM's `rmmDeviceUID`; MAC and IP addresses come from
/// the RMM audit fields; the vendor is `vendorID` (a vendor company). Autotask has no status,
/// model number or manufacturer on a configuration item.
pub fn configuration(v: &Value) -> Result<Configuration> {
    Ok(Configuration {
        id: record_id(v, "configuration item")?,
        company_id: ref_id(v, "companyID"),
        name: text(v, "referenceTitle").unwrap_or_default(),
        configuration_type: id_ref(v, "configurationItemType"),
        status: None,
        active: flag(v, "isActive", true),
        serial_number: text(v, "serialNumber"),
        model_number: None,
        mac_address: text(v, "rmmDeviceAuditMacAddress"),
        ip_address: text(v, "rmmDeviceAuditIPAddress"),
        device_identifier: text(v, "referenceNumber").or_else(|| text(v, "rmmDeviceUID")),
        manufacturer: None,
        vendor: id_ref(v, "vendorID"),
        notes: text(v, "notes"),
        questions: user_defined_fields(v),
        updated_at: latest(v, &["lastModifiedTime"]),
        raw: raw(v),
    })
}

/// The user-defined fields of a record (`userDefinedFields: [{name, value}]`) as question
/// answers: the field's name is the question (Autotask has no question ids). Fields without a
/// name are skipped.
fn user_defined_fields(v: &Value) -> Vec<ConfigurationAnswer> {
    field(v, "userDefinedFields")
        .and_then(Value::as_array)
        .map(|fields| {
            fields
                .iter()
                .filter_map(|f| {
                    Some(ConfigurationAnswer {
                        question_id: None,
                        question: text(f, "name")?,
                        answer: text(f, "value"),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A ticket (`Tickets`): summary `title`, queue `queueID`, type `issueType`, sub-type
/// `subIssueType`, agreement `contractID`; closed when the status is Complete (5).
pub fn ticket(v: &Value) -> Result<Ticket> {
    Ok(Ticket {
        id: record_id(v, "ticket")?,
        summary: text(v, "title").unwrap_or_default(),
        company_id: ref_id(v, "companyID"),
        contact_id: ref_id(v, "contactID"),
        queue: id_ref(v, "queueID"),
        status: id_ref(v, "status"),
        priority: id_ref(v, "priority"),
        ticket_type: id_ref(v, "issueType"),
        sub_type: id_ref(v, "subIssueType"),
        source: id_ref(v, "source"),
        agreement_id: ref_id(v, "contractID"),
        closed: int(v, "status") == Some(STATUS_COMPLETE),
        created_at: latest(v, &["createDate"]),
        updated_at: latest(v, &["lastActivityDate", "lastTrackedModificationDateTime"]),
        raw: raw(v),
    })
}

/// A ticket note (`TicketNotes`). `ticket_id` is used when the note does not carry `ticketID`.
/// Internal when `publish` is not 1 (All Autotask Users); the title is the first line of `text`.
pub fn note(v: &Value, ticket_id: &str) -> Result<Note> {
    let description = field(v, "description")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let text = match text(v, "title") {
        Some(title) if title != first_line(description) => format!("{title}\n\n{description}"),
        _ => description.to_string(),
    };
    Ok(Note {
        id: record_id(v, "ticket note")?,
        ticket_id: ref_id(v, "ticketID").unwrap_or_else(|| ticket_id.to_string()),
        text,
        internal: int(v, "publish").is_some_and(|p| p != PUBLISH_ALL_USERS),
        resolution: false,
        created_at: latest(v, &["createDateTime"]),
        created_by: ref_id(v, "creatorResourceID")
            .map(|r| format!("resource {r}"))
            .or_else(|| ref_id(v, "createdByContactID").map(|c| format!("contact {c}"))),
        raw: raw(v),
    })
}

/// The longest note title Autotask stores.
pub const NOTE_TITLE_MAX: usize = 250;

/// The first non-empty line of a text, trimmed and cut to [`NOTE_TITLE_MAX`] characters: the
/// title the connector gives a note when the caller gives none.
pub fn first_line(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    line.chars().take(NOTE_TITLE_MAX).collect()
}

/// The field named `name` (case-insensitive) of an `entityInformation/fields` answer.
pub fn field_info<'a>(fields: &'a Value, name: &str) -> Option<&'a Value> {
    fields
        .get("fields")?
        .as_array()?
        .iter()
        .find(|f| text(f, "name").is_some_and(|n| n.eq_ignore_ascii_case(name)))
}

/// The picklist of field `name` of an `entityInformation/fields` answer: id = `value`, name =
/// `label`, active = `isActive`, parent = `parentValue`. `None` when the answer has no such field.
pub fn picklist(fields: &Value, name: &str) -> Option<Result<Vec<Reference>>> {
    let info = field_info(fields, name)?;
    let values = field(info, "picklistValues")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Some(
        values
            .iter()
            .map(|p| {
                let id = field(p, "value").and_then(id_of).ok_or_else(|| {
                    Error::malformed(format!(
                        "an Autotask picklist value of {name} without a value: {}",
                        json::excerpt(p)
                    ))
                })?;
                Ok(Reference {
                    id,
                    name: text(p, "label").unwrap_or_default(),
                    active: flag(p, "isActive", true),
                    parent_id: field(p, "parentValue").and_then(id_of),
                    raw: raw(p),
                })
            })
            .collect(),
    )
}

/// A service (`Services`) as a contract-service picklist entry.
pub fn service_reference(v: &Value) -> Result<Reference> {
    Ok(Reference {
        id: record_id(v, "service")?,
        name: text(v, "name")
            .or_else(|| text(v, "invoiceDescription"))
            .unwrap_or_default(),
        active: flag(v, "isActive", true),
        parent_id: None,
        raw: raw(v),
    })
}

/// A vendor company as a picklist entry.
pub fn vendor_reference(v: &Value) -> Result<Reference> {
    Ok(Reference {
        id: record_id(v, "vendor company")?,
        name: text(v, "companyName").unwrap_or_default(),
        active: flag(v, "isActive", true),
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

    /// The `items` of a query answer in the test data.
    fn items(name: &str) -> Vec<Value> {
        data(name)["items"].as_array().unwrap().clone()
    }

    #[test]
    fn companies() {
        let list = items("companies.json");
        let c = company(&list[0]).unwrap();
        assert_eq!(c.id, "174");
        assert_eq!(c.name, "Acme Dental");
        assert_eq!(c.identifier.as_deref(), Some("ACME-001"));
        assert_eq!(c.status, None);
        assert!(c.active);
        assert_eq!(c.types, vec!["Customer"]);
        assert_eq!(c.phone.as_deref(), Some("+1 813 555 0100"));
        assert_eq!(c.website.as_deref(), Some("acmedental.example"));
        let a = c.address.unwrap();
        assert_eq!(a.line1.as_deref(), Some("1 Harbour Street"));
        assert_eq!(a.line2, None, "an empty line is absent");
        assert_eq!(a.city.as_deref(), Some("Tampa"));
        assert_eq!(a.state.as_deref(), Some("FL"));
        assert_eq!(
            a.postal_code.as_deref(),
            Some("33602"),
            "a numeric postal code"
        );
        assert_eq!(a.country, None);
        // The later of lastActivityDate and lastTrackedModifiedDateTime, fraction dropped.
        assert_eq!(c.updated_at.as_deref(), Some("2026-03-01T10:00:00Z"));
        let raw: Value = serde_json::from_str(&c.raw).unwrap();
        assert_eq!(raw, list[0]);

        let inactive = company(&list[1]).unwrap();
        assert!(!inactive.active);
        assert_eq!(inactive.address, None);
        assert_eq!(inactive.types, vec!["Prospect"]);
        assert_eq!(inactive.updated_at.as_deref(), Some("2025-11-20T08:00:00Z"));
        let vendor = company(&list[2]).unwrap();
        assert_eq!(vendor.types, vec!["Vendor"]);
        let odd = company(&json!({"id": "9", "companyType": 99})).unwrap();
        assert_eq!(odd.types, vec!["99"]);
        assert!(odd.active);
        match company(&json!({"companyName": "x"})).unwrap_err() {
            Error::Remote(p) => assert_eq!(p.code.as_deref(), Some("malformed-response")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn contacts() {
        let list = items("contacts.json");
        let c = contact(&list[0]).unwrap();
        assert_eq!(c.id, "29683589");
        assert_eq!(c.company_id.as_deref(), Some("174"));
        assert_eq!(c.first_name.as_deref(), Some("Dana"));
        assert_eq!(c.last_name.as_deref(), Some("Reyes"));
        assert_eq!(c.title.as_deref(), Some("Office Manager"));
        assert_eq!(
            c.emails,
            vec!["dana@acmedental.example", "d.reyes@mail.example"],
            "duplicates folded, empty ones dropped"
        );
        assert_eq!(c.phones, vec!["+1 813 555 0101", "+1 813 555 0199"]);
        assert!(c.active);
        assert!(c.primary);
        assert_eq!(c.updated_at.as_deref(), Some("2026-02-11T08:15:00Z"));
        let inactive = contact(&list[1]).unwrap();
        assert!(!inactive.active, "isActive 0");
        assert!(!inactive.primary);
        assert!(inactive.emails.is_empty());
        assert_eq!(inactive.updated_at.as_deref(), Some("2025-06-01T12:00:00Z"));
    }

    #[test]
    fn agreements() {
        let contracts = items("contracts.json");
        let services = items("contract_services.json");
        let units = items("contract_service_units.json");
        let today = "2026-03-15";
        let a = agreement(&contracts[0], &services, &units, today).unwrap();
        assert_eq!(a.id, "29684183");
        assert_eq!(a.company_id, "174");
        assert_eq!(a.name, "Managed Services - Acme");
        assert_eq!(a.agreement_type, Some(EntityRef::new("7", None)));
        assert_eq!(a.status.as_deref(), Some("Active"));
        assert_eq!(a.start_date.as_deref(), Some("2025-01-01"));
        assert_eq!(a.end_date.as_deref(), Some("2026-12-31"));
        assert!(a.recurring);
        assert!(!a.cancelled);
        assert_eq!(a.billing_cycle, BillingCycle::Monthly);
        assert_eq!(a.bill_amount, None);
        assert_eq!(a.updated_at, None);
        assert_eq!(a.lines.len(), 2, "only this contract's services");
        let l = &a.lines[0];
        assert_eq!(l.id, "501");
        assert_eq!(l.product, Some(EntityRef::new("31", None)));
        assert_eq!(l.description.as_deref(), Some("Managed user"));
        assert_eq!(l.quantity, "25", "the period covering today");
        assert_eq!(l.unit_price, "45.1");
        assert!(l.billable);
        assert_eq!(l.billing_cycle, None);
        let backup = &a.lines[1];
        assert_eq!(backup.description.as_deref(), Some("Backup (internal)"));
        assert_eq!(
            backup.quantity, "3",
            "the next period when none covers today"
        );
        assert_eq!(backup.unit_price, "0.3");

        let quarterly = agreement(&contracts[1], &services, &units, today).unwrap();
        assert_eq!(quarterly.billing_cycle, BillingCycle::Quarterly);
        assert!(!quarterly.recurring, "block hours");
        assert_eq!(quarterly.status.as_deref(), Some("Inactive"));
        assert_eq!(quarterly.lines.len(), 1);
        assert_eq!(
            quarterly.lines[0].quantity, "0",
            "no current or future period"
        );

        // The one-letter period codes of recorded payloads.
        let letters = agreement(&contracts[2], &[], &[], today).unwrap();
        assert_eq!(letters.billing_cycle, BillingCycle::Annual);
        assert!(letters.recurring);
        let none = agreement(&json!({"id": 9}), &[], &[], today).unwrap();
        assert_eq!(none.billing_cycle, BillingCycle::Other);
        assert!(!none.recurring);
        assert_eq!(none.company_id, "");
    }

    #[test]
    fn billing_cycles() {
        for (value, cycle) in [
            (json!(1), BillingCycle::Monthly),
            (json!(2), BillingCycle::Quarterly),
            (json!(3), BillingCycle::SemiAnnual),
            (json!(4), BillingCycle::Annual),
            (json!(9), BillingCycle::Other),
            (json!("m"), BillingCycle::Monthly),
            (json!("q"), BillingCycle::Quarterly),
            (json!("s"), BillingCycle::SemiAnnual),
            (json!("y"), BillingCycle::Annual),
            (json!("weekly"), BillingCycle::Other),
        ] {
            assert_eq!(
                billing_cycle(&json!({"contractPeriodType": value})),
                Some(cycle),
                "{value}"
            );
        }
        assert_eq!(billing_cycle(&json!({})), None);
    }

    #[test]
    fn units_as_of_a_day() {
        let units = items("contract_service_units.json");
        assert_eq!(current_units(&units, "501", "2026-03-15"), Some(25));
        assert_eq!(current_units(&units, "501", "2026-03-31"), Some(25));
        assert_eq!(current_units(&units, "501", "2026-04-01"), Some(27));
        assert_eq!(current_units(&units, "502", "2026-03-15"), Some(3));
        assert_eq!(current_units(&units, "502", "2026-05-01"), None);
        assert_eq!(current_units(&units, "999", "2026-03-15"), None);
    }

    #[test]
    fn configurations() {
        let list = items("configuration_items.json");
        let c = configuration(&list[0]).unwrap();
        assert_eq!(c.id, "7001");
        assert_eq!(c.company_id.as_deref(), Some("174"));
        assert_eq!(c.name, "ACME-DC01");
        assert_eq!(c.configuration_type, Some(EntityRef::new("1", None)));
        assert_eq!(c.status, None);
        assert!(c.active);
        assert_eq!(c.serial_number.as_deref(), Some("CZ1234ABC"));
        assert_eq!(c.model_number, None);
        assert_eq!(c.mac_address.as_deref(), Some("00:1A:2B:3C:4D:5E"));
        assert_eq!(c.ip_address.as_deref(), Some("10.0.0.10"));
        assert_eq!(c.device_identifier.as_deref(), Some("auvik-dev-881"));
        assert_eq!(c.manufacturer, None);
        assert_eq!(c.vendor, Some(EntityRef::new("250", None)));
        assert_eq!(c.notes.as_deref(), Some("host: acme-dc01.acme.local"));
        assert_eq!(c.updated_at.as_deref(), Some("2026-03-01T09:00:00Z"));
        let inactive = configuration(&list[1]).unwrap();
        assert!(!inactive.active);
        assert_eq!(inactive.serial_number, None);
        assert_eq!(
            inactive.device_identifier.as_deref(),
            Some("c3f1e0aa-rmm"),
            "falls back to the RMM's device UID"
        );
        assert_eq!(inactive.vendor, None, "vendorID 0 is none");
    }

    #[test]
    fn tickets_and_notes() {
        let list = items("tickets.json");
        let t = ticket(&list[0]).unwrap();
        assert_eq!(t.id, "9001");
        assert_eq!(t.summary, "Disk C: almost full on ACME-DC01");
        assert_eq!(t.company_id.as_deref(), Some("174"));
        assert_eq!(t.contact_id.as_deref(), Some("29683589"));
        assert_eq!(t.queue, Some(EntityRef::new("29682833", None)));
        assert_eq!(t.status, Some(EntityRef::new("1", None)));
        assert_eq!(t.priority, Some(EntityRef::new("2", None)));
        assert_eq!(t.ticket_type, Some(EntityRef::new("10", None)));
        assert_eq!(t.sub_type, Some(EntityRef::new("136", None)));
        assert_eq!(t.source, Some(EntityRef::new("6", None)));
        assert_eq!(t.agreement_id.as_deref(), Some("29684183"));
        assert!(!t.closed);
        assert_eq!(t.created_at.as_deref(), Some("2026-03-02T07:00:00Z"));
        assert_eq!(t.updated_at.as_deref(), Some("2026-03-02T07:05:00Z"));
        let done = ticket(&list[1]).unwrap();
        assert!(done.closed, "status 5 Complete");
        assert_eq!(done.contact_id, None);
        assert_eq!(done.sub_type, None);
        assert_eq!(done.agreement_id, None);

        let notes = items("ticket_notes.json");
        let n = note(&notes[0], "0").unwrap();
        assert_eq!(n.id, "45");
        assert_eq!(n.ticket_id, "9001");
        assert_eq!(n.text, "Alert repeated\n\nAlert repeated at 07:05");
        assert!(!n.internal);
        assert!(!n.resolution);
        assert_eq!(n.created_at.as_deref(), Some("2026-03-02T07:05:00Z"));
        assert_eq!(n.created_by.as_deref(), Some("resource 10"));
        let internal = note(&notes[1], "9001").unwrap();
        assert!(internal.internal, "publish 2");
        assert_eq!(
            internal.text,
            "Checked the disk\n\nChecked the disk: log files."
        );
        let untitled = note(
            &json!({"id": 47, "ticketID": 9001, "title": "Disk full", "description": "Disk full\nC: 98%", "publish": 1}),
            "9001",
        )
        .unwrap();
        assert_eq!(
            untitled.text, "Disk full\nC: 98%",
            "a title that is the first line"
        );
        assert_eq!(internal.ticket_id, "9001");
    }

    #[test]
    fn picklists() {
        let fields = data("ticket_fields.json");
        let queues = picklist(&fields, "queueID").unwrap().unwrap();
        assert_eq!(queues.len(), 2);
        assert_eq!(
            (
                queues[0].id.as_str(),
                queues[0].name.as_str(),
                queues[0].active
            ),
            ("5", "Client Portal", true)
        );
        assert!(!queues[1].active);
        assert_eq!(queues[0].parent_id, None, "an empty parentValue is none");
        let subs = picklist(&fields, "SubIssueType").unwrap().unwrap();
        assert_eq!(subs[0].id, "136", "numeric values are accepted");
        assert_eq!(subs[0].parent_id.as_deref(), Some("10"));
        assert_eq!(subs[1].parent_id.as_deref(), Some("10"));
        assert!(picklist(&fields, "noSuchField").is_none());
        let broken = json!({"fields": [{"name": "x", "picklistValues": [{"label": "no value"}]}]});
        assert!(picklist(&broken, "x").unwrap().is_err());
        let service = service_reference(
            &json!({"id": 31, "name": "Managed user", "isActive": true, "unitPrice": 45.1}),
        )
        .unwrap();
        assert_eq!(
            (service.id.as_str(), service.name.as_str()),
            ("31", "Managed user")
        );
        let vendor =
            vendor_reference(&json!({"id": 250, "companyName": "Ingram Micro", "isActive": false}))
                .unwrap();
        assert_eq!(vendor.name, "Ingram Micro");
        assert!(!vendor.active);
    }
}
