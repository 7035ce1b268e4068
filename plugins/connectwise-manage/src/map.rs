//! ConnectWise JSON -> the contract's typed records.
//!
//! Each record is read from its own JSON text into a typed, borrowing struct (the `*Wire` types
//! below, made of [`psa_sdk::json`]'s `Scalar`, `Object` and `List` fields: unknown fields are
//! skipped, and any JSON value is accepted and read leniently the way `psa_sdk::json`'s accessors
//! read a `Value`: ids as numbers or strings, empty strings as absent, a field of an unexpected
//! type as absent). The record's text is kept as `raw` as the PSA sent it (its key order and
//! formatting). A record without an `id` is a malformed answer.
//!
//! For each entity: `*_page(body)` maps a list answer (what the connector's list operations call
//! on each page; the records are slices of the body, never parsed into a `Value` tree), `*_json`
//! maps one record's text (get-by-id, writes), and the plain function (`company(&Value)`, ...)
//! maps an answer already parsed into a `Value` (its `raw` is then the value's compact JSON).
//!
//! Money and quantities: ConnectWise sends them as JSON numbers (doubles). They become decimal
//! strings through [`psa_sdk::json::Scalar::decimal`] (`1250.5`, `0.1`, never
//! `0.1000000000000000055`, no exponent).

use psa_sdk::json::{self, List, Object, Scalar};
use psa_sdk::types::{
    Address, Agreement, AgreementLine, BillingCycle, Company, Configuration, ConfigurationAnswer,
    Contact, EntityRef, Note, Reference, Ticket,
};
use psa_sdk::{Error, message, time};
use serde::Deserialize;
use serde_json::Value;

type Result<T> = core::result::Result<T, Error>;

// ---------------------------------------------------------------------------------------------
// Reading records

/// Reads every record of a list answer (a JSON array) into its wire struct, in one pass over
/// the body, and maps each with `f`, which also gets the record's own text (its `raw`). A body
/// that is not a JSON array is a malformed answer.
fn page<'a, W: Deserialize<'a> + Default, T>(
    body: &'a [u8],
    f: impl FnMut(W, &'a str) -> Result<T>,
) -> Result<Vec<T>> {
    json::map_records(body, f)
}

/// Maps an answer that holds one record (get-by-id, the answer to a write) with `f`.
pub fn one<T>(body: &[u8], f: impl FnOnce(&str) -> Result<T>) -> Result<T> {
    f(json::record(body)?.get())
}

/// The `id` of a record, required.
fn record_id(id: &Scalar<'_>, raw: &str, entity: &str) -> Result<String> {
    id.id().ok_or_else(|| {
        Error::malformed(format!(
            "a ConnectWise {entity} without an id: {}",
            message::excerpt(raw, json::EXCERPT_CHARS)
        ))
    })
}

/// A reference object (`"company": {"id": 2, "identifier": "Acme", "name": "Acme"}`), also a
/// status (`inactiveFlag`) and a billing cycle.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", bound(deserialize = "'de: 'a"))]
struct Ref<'a> {
    id: Scalar<'a>,
    name: Scalar<'a>,
    identifier: Scalar<'a>,
    description: Scalar<'a>,
    inactive_flag: Scalar<'a>,
}

/// The id inside a reference object.
fn ref_id(r: &Object<Ref<'_>>) -> Option<String> {
    r.get().and_then(|r| r.id.id())
}

/// A reference object as an entity ref; the name is `name`, else `identifier`, else
/// `description`.
fn ref_entity(r: &Object<Ref<'_>>) -> Option<EntityRef> {
    let r = r.get()?;
    let id = r.id.id()?;
    let name = r
        .name
        .text()
        .or_else(|| r.identifier.text())
        .or_else(|| r.description.text());
    Some(EntityRef::new(id, name))
}

/// `_info` (ConnectWise keeps `lastUpdated` and `dateEntered` there).
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", bound(deserialize = "'de: 'a"))]
struct Info<'a> {
    last_updated: Scalar<'a>,
    date_entered: Scalar<'a>,
}

fn last_updated(info: &Object<Info<'_>>) -> Option<String> {
    info.get().and_then(|i| i.last_updated.text())
}

fn date(s: &Scalar<'_>) -> Option<String> {
    s.text().and_then(|s| time::date_only(&s))
}

// ---------------------------------------------------------------------------------------------
// Companies

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", bound(deserialize = "'de: 'a"))]
struct CompanyWire<'a> {
    id: Scalar<'a>,
    name: Scalar<'a>,
    identifier: Scalar<'a>,
    status: Object<Ref<'a>>,
    deleted_flag: Scalar<'a>,
    types: List<Object<Ref<'a>>>,
    phone_number: Scalar<'a>,
    website: Scalar<'a>,
    address_line1: Scalar<'a>,
    address_line2: Scalar<'a>,
    city: Scalar<'a>,
    state: Scalar<'a>,
    zip: Scalar<'a>,
    country: Object<Ref<'a>>,
    parent_company: Object<Ref<'a>>,
    market: Object<Ref<'a>>,
    #[serde(rename = "_info")]
    info: Object<Info<'a>>,
}

/// Whether a company is active: not deleted, and its status is not inactive. The status's
/// `inactiveFlag` decides when the answer carries it; otherwise only the status named `Active`
/// counts (ConnectWise's stock statuses are Active, Inactive and Not-Approved). A company without
/// a status is active unless deleted.
fn active(deleted_flag: &Scalar<'_>, status: &Object<Ref<'_>>) -> bool {
    if deleted_flag.flag(false) {
        return false;
    }
    match status {
        Object::Absent => true,
        Object::NotObject => false,
        Object::Object(status) => match status.inactive_flag.as_bool() {
            Some(inactive) => !inactive,
            None => status
                .name
                .text()
                .is_some_and(|n| n.eq_ignore_ascii_case("active")),
        },
    }
}

fn company_of(w: CompanyWire<'_>, raw: String) -> Result<Company> {
    let line1 = w.address_line1.text();
    let line2 = w.address_line2.text();
    let city = w.city.text();
    let state = w.state.text();
    let postal_code = w.zip.text();
    let country = w.country.get().and_then(|c| {
        c.name
            .text()
            .or_else(|| c.identifier.text())
            .or_else(|| c.description.text())
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
    let types = w
        .types
        .0
        .iter()
        .filter_map(|t| t.get().and_then(|t| t.name.text()))
        .collect();
    Ok(Company {
        id: record_id(&w.id, &raw, "company")?,
        name: w.name.text().unwrap_or_default(),
        identifier: w.identifier.text(),
        status: ref_entity(&w.status),
        active: active(&w.deleted_flag, &w.status),
        types,
        phone: w.phone_number.text(),
        website: w.website.text(),
        address,
        parent_id: ref_id(&w.parent_company),
        // ConnectWise has no company classification (Autotask's); its types are in `types`.
        classification: None,
        market_segment: ref_entity(&w.market),
        // Sites cost one request per company: read by get-company only (see `sites`).
        sites: vec![],
        updated_at: last_updated(&w.info),
        raw,
    })
}

/// A company (`company/companies`) from its JSON text, kept as `raw`.
pub fn company_json(raw: &str) -> Result<Company> {
    company_of(json::typed(raw)?, raw.to_string())
}

/// A page of companies (the answer of `company/companies`).
pub fn companies_page(body: &[u8]) -> Result<Vec<Company>> {
    page(body, |w, raw| company_of(w, raw.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Contacts

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", bound(deserialize = "'de: 'a"))]
struct ContactWire<'a> {
    id: Scalar<'a>,
    company: Object<Ref<'a>>,
    first_name: Scalar<'a>,
    last_name: Scalar<'a>,
    title: Scalar<'a>,
    communication_items: List<Object<CommunicationItem<'a>>>,
    default_phone_nbr: Scalar<'a>,
    inactive_flag: Scalar<'a>,
    default_flag: Scalar<'a>,
    #[serde(rename = "_info")]
    info: Object<Info<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", bound(deserialize = "'de: 'a"))]
struct CommunicationItem<'a> {
    communication_type: Scalar<'a>,
    #[serde(rename = "type")]
    kind: Object<Ref<'a>>,
    value: Scalar<'a>,
    default_flag: Scalar<'a>,
}

/// The communication items of `kind` (`Email`, `Phone`), the default one first.
fn communication(items: &List<Object<CommunicationItem<'_>>>, kind: &str) -> Vec<String> {
    let mut found: Vec<(bool, String)> = items
        .0
        .iter()
        .filter_map(Object::get)
        .filter(|item| {
            let ty = item
                .communication_type
                .text()
                .or_else(|| item.kind.get().and_then(|t| t.name.text()));
            ty.is_some_and(|t| t.eq_ignore_ascii_case(kind))
        })
        .filter_map(|item| {
            item.value
                .text()
                .map(|value| (item.default_flag.flag(false), value))
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

/// Emails and phones come from `communicationItems` by `communicationType` (faxes are left out);
/// when a contact has no phone item, the top-level `defaultPhoneNbr` is used.
fn contact_of(w: ContactWire<'_>, raw: String) -> Result<Contact> {
    let mut phones = communication(&w.communication_items, "Phone");
    if phones.is_empty()
        && let Some(p) = w.default_phone_nbr.text()
    {
        phones.push(p);
    }
    Ok(Contact {
        id: record_id(&w.id, &raw, "contact")?,
        company_id: ref_id(&w.company),
        first_name: w.first_name.text(),
        last_name: w.last_name.text(),
        title: w.title.text(),
        emails: communication(&w.communication_items, "Email"),
        phones,
        active: !w.inactive_flag.flag(false),
        primary: w.default_flag.flag(false),
        updated_at: last_updated(&w.info),
        raw,
    })
}

/// A contact (`company/contacts`) from its JSON text, kept as `raw`.
pub fn contact_json(raw: &str) -> Result<Contact> {
    contact_of(json::typed(raw)?, raw.to_string())
}

/// A page of contacts (the answer of `company/contacts`).
pub fn contacts_page(body: &[u8]) -> Result<Vec<Contact>> {
    page(body, |w, raw| contact_of(w, raw.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Agreements and their additions

/// The billing cycle of an agreement's `billingCycle`: by name, else by the stock ids 1..5.
fn cycle_of(cycle: &Object<Ref<'_>>) -> Option<BillingCycle> {
    let cycle = cycle.get()?;
    if let Some(name) = cycle.name.text() {
        return Some(BillingCycle::from_name(&name));
    }
    let id = cycle.id.id()?;
    Some(match id.as_str() {
        "1" => BillingCycle::Monthly,
        "2" => BillingCycle::Quarterly,
        "3" => BillingCycle::SemiAnnual,
        "4" => BillingCycle::Annual,
        "5" => BillingCycle::OneTime,
        _ => BillingCycle::Other,
    })
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", bound(deserialize = "'de: 'a"))]
struct AdditionWire<'a> {
    id: Scalar<'a>,
    product: Object<Ref<'a>>,
    description: Scalar<'a>,
    invoice_description: Scalar<'a>,
    quantity: Scalar<'a>,
    unit_price: Scalar<'a>,
    bill_customer: Scalar<'a>,
    effective_date: Scalar<'a>,
    cancelled_date: Scalar<'a>,
}

fn agreement_line_of(w: AdditionWire<'_>, raw: String) -> Result<AgreementLine> {
    Ok(AgreementLine {
        id: record_id(&w.id, &raw, "agreement addition")?,
        product: ref_entity(&w.product),
        description: w
            .description
            .text()
            .or_else(|| w.invoice_description.text()),
        quantity: w.quantity.decimal().unwrap_or_else(|| "0".into()),
        unit_price: w.unit_price.decimal().unwrap_or_else(|| "0".into()),
        billable: w
            .bill_customer
            .text()
            .is_some_and(|b| b.eq_ignore_ascii_case("Billable")),
        // Additions bill on their agreement's cycle; ConnectWise has no per-addition cycle.
        billing_cycle: None,
        effective_date: date(&w.effective_date),
        cancelled_date: date(&w.cancelled_date),
        raw,
    })
}

/// An agreement line (`finance/agreements/{id}/additions`) from its JSON text, kept as `raw`.
pub fn agreement_line_json(raw: &str) -> Result<AgreementLine> {
    agreement_line_of(json::typed(raw)?, raw.to_string())
}

/// A page of agreement lines (the answer of `finance/agreements/{id}/additions`).
pub fn agreement_lines_page(body: &[u8]) -> Result<Vec<AgreementLine>> {
    page(body, |w, raw| agreement_line_of(w, raw.to_string()))
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", bound(deserialize = "'de: 'a"))]
struct AgreementWire<'a> {
    id: Scalar<'a>,
    company: Object<Ref<'a>>,
    name: Scalar<'a>,
    #[serde(rename = "type")]
    kind: Object<Ref<'a>>,
    agreement_status: Scalar<'a>,
    start_date: Scalar<'a>,
    end_date: Scalar<'a>,
    no_ending_date_flag: Scalar<'a>,
    cancelled_flag: Scalar<'a>,
    bill_one_time_flag: Scalar<'a>,
    billing_cycle: Object<Ref<'a>>,
    bill_amount: Scalar<'a>,
    #[serde(rename = "_info")]
    info: Object<Info<'a>>,
}

/// `recurring`: the agreement has a billing cycle that is not one-time and is not billed once
/// (`billOneTimeFlag`). An agreement without a billing cycle is not recurring (cycle `other`).
/// `lines` gets the agreement's id and returns its lines.
fn agreement_of(
    w: AgreementWire<'_>,
    raw: String,
    lines: impl FnOnce(&str) -> Result<Vec<AgreementLine>>,
) -> Result<Agreement> {
    let id = record_id(&w.id, &raw, "agreement")?;
    let cycle = cycle_of(&w.billing_cycle);
    let recurring =
        matches!(cycle, Some(c) if c != BillingCycle::OneTime) && !w.bill_one_time_flag.flag(false);
    let status = w.agreement_status.text();
    let cancelled = w.cancelled_flag.flag(false)
        || status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("cancelled"));
    let end_date = if w.no_ending_date_flag.flag(false) {
        None
    } else {
        date(&w.end_date)
    };
    let lines = lines(&id)?;
    Ok(Agreement {
        id,
        company_id: ref_id(&w.company).unwrap_or_default(),
        name: w.name.text().unwrap_or_default(),
        agreement_type: ref_entity(&w.kind),
        status,
        start_date: date(&w.start_date),
        end_date,
        recurring,
        cancelled,
        billing_cycle: cycle.unwrap_or(BillingCycle::Other),
        bill_amount: w.bill_amount.decimal(),
        lines,
        updated_at: last_updated(&w.info),
        raw,
    })
}

/// An agreement (`finance/agreements`) from its JSON text, kept as `raw`. `lines` gets the
/// agreement's id (once the record is known to have one) and returns its lines (the connector
/// reads its additions).
pub fn agreement_json(
    raw: &str,
    lines: impl FnOnce(&str) -> Result<Vec<AgreementLine>>,
) -> Result<Agreement> {
    agreement_of(json::typed(raw)?, raw.to_string(), lines)
}

/// A page of agreements (the answer of `finance/agreements`); `lines` gets each agreement's id
/// and returns its lines.
pub fn agreements_page(
    body: &[u8],
    mut lines: impl FnMut(&str) -> Result<Vec<AgreementLine>>,
) -> Result<Vec<Agreement>> {
    page(body, |w, raw| agreement_of(w, raw.to_string(), &mut lines))
}

// ---------------------------------------------------------------------------------------------
// Configurations

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", bound(deserialize = "'de: 'a"))]
struct ConfigurationWire<'a> {
    id: Scalar<'a>,
    company: Object<Ref<'a>>,
    name: Scalar<'a>,
    #[serde(rename = "type")]
    kind: Object<Ref<'a>>,
    status: Object<Ref<'a>>,
    active_flag: Scalar<'a>,
    serial_number: Scalar<'a>,
    model_number: Scalar<'a>,
    mac_address: Scalar<'a>,
    ip_address: Scalar<'a>,
    device_identifier: Scalar<'a>,
    manufacturer: Object<Ref<'a>>,
    vendor: Object<Ref<'a>>,
    notes: Scalar<'a>,
    questions: List<Object<QuestionWire<'a>>>,
    #[serde(rename = "_info")]
    info: Object<Info<'a>>,
}

/// One answered question of a configuration (`questions[]`).
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", bound(deserialize = "'de: 'a"))]
struct QuestionWire<'a> {
    question_id: Scalar<'a>,
    question: Scalar<'a>,
    answer: Scalar<'a>,
}

/// The configuration's questions in ConnectWise's order; one without an id or a text is
/// skipped (nothing could match it in a write).
fn questions(list: &List<Object<QuestionWire<'_>>>) -> Vec<ConfigurationAnswer> {
    list.0
        .iter()
        .filter_map(Object::get)
        .filter_map(|q| {
            let question_id = q.question_id.id();
            let question = q.question.text();
            if question_id.is_none() && question.is_none() {
                return None;
            }
            Some(ConfigurationAnswer {
                question_id,
                question: question.unwrap_or_default(),
                answer: q.answer.text(),
            })
        })
        .collect()
}

/// `active` is `activeFlag` (absent: active).
fn configuration_of(w: ConfigurationWire<'_>, raw: String) -> Result<Configuration> {
    Ok(Configuration {
        id: record_id(&w.id, &raw, "configuration")?,
        company_id: ref_id(&w.company),
        name: w.name.text().unwrap_or_default(),
        configuration_type: ref_entity(&w.kind),
        status: ref_entity(&w.status),
        active: w.active_flag.flag(true),
        serial_number: w.serial_number.text(),
        model_number: w.model_number.text(),
        mac_address: w.mac_address.text(),
        ip_address: w.ip_address.text(),
        device_identifier: w.device_identifier.text(),
        manufacturer: ref_entity(&w.manufacturer),
        vendor: ref_entity(&w.vendor),
        notes: w.notes.text(),
        questions: questions(&w.questions),
        updated_at: last_updated(&w.info),
        raw,
    })
}

/// A configuration item (`company/configurations`) from its JSON text, kept as `raw`.
pub fn configuration_json(raw: &str) -> Result<Configuration> {
    configuration_of(json::typed(raw)?, raw.to_string())
}

/// A page of configuration items (the answer of `company/configurations`).
pub fn configurations_page(body: &[u8]) -> Result<Vec<Configuration>> {
    page(body, |w, raw| configuration_of(w, raw.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Tickets and notes

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", bound(deserialize = "'de: 'a"))]
struct TicketWire<'a> {
    id: Scalar<'a>,
    summary: Scalar<'a>,
    company: Object<Ref<'a>>,
    contact: Object<Ref<'a>>,
    board: Object<Ref<'a>>,
    status: Object<Ref<'a>>,
    priority: Object<Ref<'a>>,
    #[serde(rename = "type")]
    kind: Object<Ref<'a>>,
    sub_type: Object<Ref<'a>>,
    source: Object<Ref<'a>>,
    agreement: Object<Ref<'a>>,
    closed_flag: Scalar<'a>,
    date_entered: Scalar<'a>,
    #[serde(rename = "_info")]
    info: Object<Info<'a>>,
}

/// The board is the queue; `closed` is `closedFlag`.
fn ticket_of(w: TicketWire<'_>, raw: String) -> Result<Ticket> {
    Ok(Ticket {
        id: record_id(&w.id, &raw, "ticket")?,
        summary: w.summary.text().unwrap_or_default(),
        company_id: ref_id(&w.company),
        contact_id: ref_id(&w.contact),
        queue: ref_entity(&w.board),
        status: ref_entity(&w.status),
        priority: ref_entity(&w.priority),
        ticket_type: ref_entity(&w.kind),
        sub_type: ref_entity(&w.sub_type),
        source: ref_entity(&w.source),
        agreement_id: ref_id(&w.agreement),
        closed: w.closed_flag.flag(false),
        created_at: w
            .info
            .get()
            .and_then(|i| i.date_entered.text())
            .or_else(|| w.date_entered.text()),
        updated_at: last_updated(&w.info),
        raw,
    })
}

/// A service ticket (`service/tickets`) from its JSON text, kept as `raw`.
pub fn ticket_json(raw: &str) -> Result<Ticket> {
    ticket_of(json::typed(raw)?, raw.to_string())
}

/// A page of service tickets (the answer of `service/tickets`).
pub fn tickets_page(body: &[u8]) -> Result<Vec<Ticket>> {
    page(body, |w, raw| ticket_of(w, raw.to_string()))
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", bound(deserialize = "'de: 'a"))]
struct NoteWire<'a> {
    id: Scalar<'a>,
    ticket_id: Scalar<'a>,
    text: Scalar<'a>,
    internal_analysis_flag: Scalar<'a>,
    resolution_flag: Scalar<'a>,
    date_created: Scalar<'a>,
    created_by: Scalar<'a>,
    member: Object<Ref<'a>>,
    #[serde(rename = "_info")]
    info: Object<Info<'a>>,
}

/// `ticket_id` is used when the note does not carry its `ticketId`.
fn note_of(w: NoteWire<'_>, raw: String, ticket_id: &str) -> Result<Note> {
    let created_by = w.created_by.text().or_else(|| {
        w.member
            .get()
            .and_then(|m| m.identifier.text().or_else(|| m.name.text()))
    });
    Ok(Note {
        id: record_id(&w.id, &raw, "ticket note")?,
        ticket_id: w.ticket_id.id().unwrap_or_else(|| ticket_id.to_string()),
        text: w.text.as_str().unwrap_or_default().to_string(),
        internal: w.internal_analysis_flag.flag(false),
        resolution: w.resolution_flag.flag(false),
        created_at: w
            .date_created
            .text()
            .or_else(|| w.info.get().and_then(|i| i.date_entered.text())),
        created_by,
        raw,
    })
}

/// A ticket note (`service/tickets/{id}/notes`) from its JSON text, kept as `raw`.
/// `ticket_id` is used when the note does not carry its `ticketId`.
pub fn note_json(raw: &str, ticket_id: &str) -> Result<Note> {
    note_of(json::typed(raw)?, raw.to_string(), ticket_id)
}

// ---------------------------------------------------------------------------------------------
// Picklists

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", bound(deserialize = "'de: 'a"))]
struct PicklistWire<'a> {
    id: Scalar<'a>,
    name: Scalar<'a>,
    description: Scalar<'a>,
    identifier: Scalar<'a>,
    inactive_flag: Scalar<'a>,
    inactive: Scalar<'a>,
    deleted_flag: Scalar<'a>,
    status: Object<Ref<'a>>,
}

/// A picklist entry. The name is `name`, else `description` (configuration statuses), else
/// `identifier`; `active` is false when `inactiveFlag` or `inactive` (board statuses) is set.
pub fn reference(v: &Value, parent_id: Option<String>) -> Result<Reference> {
    let w: PicklistWire<'_> = json::typed_value(v)?;
    let raw = v.to_string();
    Ok(Reference {
        id: record_id(&w.id, &raw, "picklist entry")?,
        name: w
            .name
            .text()
            .or_else(|| w.description.text())
            .or_else(|| w.identifier.text())
            .unwrap_or_default(),
        active: !(w.inactive_flag.flag(false) || w.inactive.flag(false)),
        parent_id,
        raw,
    })
}

/// A catalog product as a contract service: named by its product identifier (what additions
/// reference), else its description.
pub fn catalog_reference(v: &Value) -> Result<Reference> {
    let w: PicklistWire<'_> = json::typed_value(v)?;
    let raw = v.to_string();
    Ok(Reference {
        id: record_id(&w.id, &raw, "catalog item")?,
        name: w
            .identifier
            .text()
            .or_else(|| w.description.text())
            .unwrap_or_default(),
        active: !w.inactive_flag.flag(false),
        parent_id: None,
        raw,
    })
}

/// A vendor company as a picklist entry (active as in [`company_active`]).
pub fn vendor_reference(v: &Value) -> Result<Reference> {
    let w: PicklistWire<'_> = json::typed_value(v)?;
    let raw = v.to_string();
    Ok(Reference {
        id: record_id(&w.id, &raw, "vendor company")?,
        name: w
            .name
            .text()
            .or_else(|| w.identifier.text())
            .unwrap_or_default(),
        active: active(&w.deleted_flag, &w.status),
        parent_id: None,
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // The mapping of one record given as a `Value` (its text is the record's `raw`).
    fn company(v: &Value) -> Result<Company> {
        company_json(&v.to_string())
    }
    fn contact(v: &Value) -> Result<Contact> {
        contact_json(&v.to_string())
    }
    fn agreement_line(v: &Value) -> Result<AgreementLine> {
        agreement_line_json(&v.to_string())
    }
    fn agreement(v: &Value, additions: &[Value]) -> Result<Agreement> {
        agreement_json(&v.to_string(), |_| {
            additions.iter().map(agreement_line).collect()
        })
    }
    fn configuration(v: &Value) -> Result<Configuration> {
        configuration_json(&v.to_string())
    }
    fn ticket(v: &Value) -> Result<Ticket> {
        ticket_json(&v.to_string())
    }
    fn note(v: &Value, ticket_id: &str) -> Result<Note> {
        note_json(&v.to_string(), ticket_id)
    }

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
            assert_eq!(BillingCycle::from_name(name), cycle, "{name}");
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

    fn text(name: &str) -> String {
        let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// A record read from its text maps exactly as from its `Value`, but keeps its own text.
    macro_rules! same {
        ($from_text:expr, $from_value:expr, $text:expr) => {{
            let (mut t, mut v) = ($from_text, $from_value);
            assert_eq!(t.raw, $text, "raw is the record's own text");
            let parsed: Value = serde_json::from_str(&t.raw).unwrap();
            assert_eq!(parsed.to_string(), v.raw);
            t.raw.clear();
            v.raw.clear();
            assert_eq!(t, v);
        }};
    }

    #[test]
    fn pages_map_like_values_and_keep_the_text() {
        let body = text("companies.json");
        let records = json::records(body.as_bytes()).unwrap();
        let page = companies_page(body.as_bytes()).unwrap();
        assert_eq!(page.len(), records.len());
        for ((t, v), raw) in page.into_iter().zip(list("companies.json")).zip(&records) {
            same!(t, company(&v).unwrap(), raw.get());
        }
        let body = text("contacts.json");
        let records = json::records(body.as_bytes()).unwrap();
        let page = contacts_page(body.as_bytes()).unwrap();
        assert_eq!(page.len(), records.len());
        for ((t, v), raw) in page.into_iter().zip(list("contacts.json")).zip(&records) {
            same!(t, contact(&v).unwrap(), raw.get());
        }
        let body = text("configurations.json");
        let records = json::records(body.as_bytes()).unwrap();
        let page = configurations_page(body.as_bytes()).unwrap();
        assert_eq!(page.len(), records.len());
        for ((t, v), raw) in page
            .into_iter()
            .zip(list("configurations.json"))
            .zip(&records)
        {
            same!(t, configuration(&v).unwrap(), raw.get());
        }
        let body = text("tickets.json");
        let records = json::records(body.as_bytes()).unwrap();
        let page = tickets_page(body.as_bytes()).unwrap();
        assert_eq!(page.len(), records.len());
        for ((t, v), raw) in page.into_iter().zip(list("tickets.json")).zip(&records) {
            same!(t, ticket(&v).unwrap(), raw.get());
        }
        let body = text("notes.json");
        let records = json::records(body.as_bytes()).unwrap();
        for (v, raw) in list("notes.json").iter().zip(&records) {
            same!(
                note_json(raw.get(), "9001").unwrap(),
                note(v, "9001").unwrap(),
                raw.get()
            );
        }
        let body = text("additions.json");
        let records = json::records(body.as_bytes()).unwrap();
        let page = agreement_lines_page(body.as_bytes()).unwrap();
        assert_eq!(page.len(), records.len());
        let additions = list("additions.json");
        for ((t, v), raw) in page.into_iter().zip(&additions).zip(&records) {
            same!(t, agreement_line(v).unwrap(), raw.get());
        }
        let body = text("agreements.json");
        let records = json::records(body.as_bytes()).unwrap();
        for (v, raw) in list("agreements.json").iter().zip(&records) {
            let mut asked = None;
            let t = agreement_json(raw.get(), |id| {
                asked = Some(id.to_string());
                additions.iter().map(agreement_line).collect()
            })
            .unwrap();
            assert_eq!(asked.as_deref(), Some(t.id.as_str()));
            same!(t, agreement(v, &additions).unwrap(), raw.get());
        }
    }

    #[test]
    fn single_records_and_malformed_answers() {
        // Get-by-id: the answer is one record; blanks around it are not part of `raw`.
        let body = b"\n {\"id\": 7001, \"name\": \"ACME-DC01\", \"activeFlag\": 0}\n";
        let c = one(body, configuration_json).unwrap();
        assert_eq!(
            (c.id.as_str(), c.name.as_str(), c.active),
            ("7001", "ACME-DC01", false)
        );
        assert_eq!(
            c.raw,
            r#"{"id": 7001, "name": "ACME-DC01", "activeFlag": 0}"#
        );
        // A repeated key: the last one counts, as in a `Value`.
        let c = configuration_json(r#"{"id": 1, "name": "first", "name": "last"}"#).unwrap();
        assert_eq!(c.name, "last");
        // Fields of unexpected types are absent, not errors.
        let c = configuration_json(
            r#"{"id": "  9 ", "name": ["x"], "type": "Server", "status": [1], "activeFlag": "no", "_info": 5}"#,
        )
        .unwrap();
        assert_eq!(c.id, "9");
        assert_eq!(c.name, "");
        assert_eq!(
            (c.configuration_type, c.status, c.updated_at),
            (None, None, None)
        );
        assert!(c.active);
        // No id, or not an object: malformed, quoting the record.
        for bad in [r#"{"name": "x"}"#, "7", "null", r#"[{"id": 1}]"#] {
            match configuration_json(bad).unwrap_err() {
                Error::Remote(p) => {
                    assert_eq!(p.code.as_deref(), Some("malformed-response"));
                    assert!(p.message.contains(bad), "{}", p.message);
                }
                other => panic!("{other:?}"),
            }
        }
        // A page that is not a JSON array, or not JSON.
        for bad in [&br#"{"id": 1}"#[..], b"<html>", b"[{\"id\": 1},"] {
            match configurations_page(bad).unwrap_err() {
                Error::Remote(p) => assert_eq!(p.code.as_deref(), Some("malformed-response")),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(configurations_page(b" [ ] ").unwrap(), vec![]);
        // A record without an id fails its page, naming the entity.
        match tickets_page(br#"[{"id": 1, "summary": "a"}, {"summary": "b"}]"#).unwrap_err() {
            Error::Remote(p) => {
                assert!(p.message.starts_with("a ConnectWise ticket without an id"))
            }
            other => panic!("{other:?}"),
        }
        // An agreement without an id is refused before its additions are read.
        let err = agreement_json(r#"{"name": "x"}"#, |_| panic!("no additions read")).unwrap_err();
        assert_eq!(err.kind(), "remote");
    }
}
