//! The synced entities and their records as JSON, with the WIT field names.
//!
//! Records are kept in the store as JSON objects whose keys are the WIT field names (kebab-case:
//! `company-id`, `updated-at`, ...), produced by one explicit function per WIT record type, and
//! read back by their inverse. The conversions are written out field by field (no serde derive
//! on the generated types) so the stored shape is exactly the contract's, visible in one place.
//!
//! Mapping rules:
//! - an `option` is `null` or its value; a `list` is an array; an `entity-ref` is
//!   `{"id": .., "name": ..}`; a `billing-cycle` is its WIT case name (`semi-annual`);
//! - decimals, dates and timestamps stay strings, exactly as the connector wrote them;
//! - `raw` (the PSA's own JSON text) is stored as JSON when it is a JSON object or array, so
//!   consumers get a document rather than a string; any other text is stored as a string.
//!   Reading back serialises the parsed document again (same content, key order may differ).
//!
//! Each record is written once, by a borrowed `…Json` struct serialised with serde: to text for
//! the store (`*_to_text`, the sync's hot path: the PSA's `raw` text goes in as it is, checked
//! but never parsed into a tree) and to a [`Value`] for everything else (`*_to_json`). The store
//! hashes the text and compares the JSON values when two texts differ (see `psahost_store`).

use anyhow::{Context, anyhow, bail};
use psahost_sandbox::bindings::psa::connector::types::{
    Address, Agreement, AgreementLine, BillingCycle, Company, Configuration, ConfigurationAnswer,
    Contact, DatasetRecord, EntityRef, Note, Site, Ticket,
};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// Shared parts

/// `raw` as it is serialised: the PSA's text itself when it is a JSON object or array (checked by
/// a scan that builds no tree), else a JSON string. Serialised to a [`Value`] it is the parsed
/// document or the string.
struct RawJson<'a>(&'a str);

impl Serialize for RawJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match serde_json::from_str::<&RawValue>(self.0) {
            Ok(v) if v.get().starts_with(['{', '[']) => v.serialize(s),
            _ => s.serialize_str(self.0),
        }
    }
}

/// A record's JSON text for the store.
fn to_text(record: &impl Serialize) -> String {
    serde_json::to_string(record).expect("records serialise: their keys are strings")
}

/// A record's JSON value.
fn to_value(record: &impl Serialize) -> Value {
    serde_json::to_value(record).expect("records serialise: their keys are strings")
}

/// A stored `raw` value back as JSON text (the inverse of [`RawJson`]).
pub fn raw_from_json(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// An `entity-ref` as `{"id": .., "name": ..}`.
#[derive(Serialize)]
struct RefJson<'a> {
    id: &'a str,
    name: &'a Option<String>,
}

fn opt_ref(r: &Option<EntityRef>) -> Option<RefJson<'_>> {
    r.as_ref().map(|r| RefJson {
        id: &r.id,
        name: &r.name,
    })
}

/// A `billing-cycle` as its WIT case name.
pub fn billing_cycle_name(c: BillingCycle) -> &'static str {
    match c {
        BillingCycle::Monthly => "monthly",
        BillingCycle::Quarterly => "quarterly",
        BillingCycle::SemiAnnual => "semi-annual",
        BillingCycle::Annual => "annual",
        BillingCycle::OneTime => "one-time",
        BillingCycle::Other => "other",
    }
}

/// A `billing-cycle` from its WIT case name.
pub fn billing_cycle_from_name(name: &str) -> anyhow::Result<BillingCycle> {
    Ok(match name {
        "monthly" => BillingCycle::Monthly,
        "quarterly" => BillingCycle::Quarterly,
        "semi-annual" => BillingCycle::SemiAnnual,
        "annual" => BillingCycle::Annual,
        "one-time" => BillingCycle::OneTime,
        "other" => BillingCycle::Other,
        _ => bail!(
            "`{name}` is not a billing cycle (monthly, quarterly, semi-annual, annual, one-time, other)"
        ),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct AddressJson<'a> {
    line1: &'a Option<String>,
    line2: &'a Option<String>,
    city: &'a Option<String>,
    state: &'a Option<String>,
    postal_code: &'a Option<String>,
    country: &'a Option<String>,
}

fn address_json(a: &Option<Address>) -> Option<AddressJson<'_>> {
    a.as_ref().map(|a| AddressJson {
        line1: &a.line1,
        line2: &a.line2,
        city: &a.city,
        state: &a.state,
        postal_code: &a.postal_code,
        country: &a.country,
    })
}

/// Reads the fields of one stored object, naming the field at fault in errors.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    what: &'static str,
}

impl<'a> Fields<'a> {
    fn of(value: &'a Value, what: &'static str) -> anyhow::Result<Fields<'a>> {
        let map = value
            .as_object()
            .ok_or_else(|| anyhow!("a stored {what} must be a JSON object"))?;
        Ok(Fields { map, what })
    }

    fn field(&self, name: &str) -> &'a Value {
        self.map.get(name).unwrap_or(&Value::Null)
    }

    fn string(&self, name: &str) -> anyhow::Result<String> {
        match self.field(name) {
            Value::String(s) => Ok(s.clone()),
            other => bail!(
                "field `{name}` of a stored {} must be a string, not {other}",
                self.what
            ),
        }
    }

    fn opt_string(&self, name: &str) -> anyhow::Result<Option<String>> {
        match self.field(name) {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.clone())),
            other => bail!(
                "field `{name}` of a stored {} must be a string or null, not {other}",
                self.what
            ),
        }
    }

    fn bool(&self, name: &str) -> anyhow::Result<bool> {
        self.field(name).as_bool().ok_or_else(|| {
            anyhow!(
                "field `{name}` of a stored {} must be true or false",
                self.what
            )
        })
    }

    fn strings(&self, name: &str) -> anyhow::Result<Vec<String>> {
        match self.field(name) {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        anyhow!(
                            "field `{name}` of a stored {} must hold strings only",
                            self.what
                        )
                    })
                })
                .collect(),
            other => bail!(
                "field `{name}` of a stored {} must be an array, not {other}",
                self.what
            ),
        }
    }

    fn opt_ref(&self, name: &str) -> anyhow::Result<Option<EntityRef>> {
        match self.field(name) {
            Value::Null => Ok(None),
            v @ Value::Object(_) => {
                let f = Fields::of(v, "reference")?;
                Ok(Some(EntityRef {
                    id: f.string("id")?,
                    name: f.opt_string("name")?,
                }))
            }
            other => bail!(
                "field `{name}` of a stored {} must be a reference object or null, not {other}",
                self.what
            ),
        }
    }

    /// A list of records; absent or null is empty.
    fn list<T>(
        &self,
        name: &str,
        item: impl Fn(&Value) -> anyhow::Result<T>,
    ) -> anyhow::Result<Vec<T>> {
        match self.field(name) {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items
                .iter()
                .map(item)
                .collect::<anyhow::Result<_>>()
                .with_context(|| format!("field `{name}` of a stored {}", self.what)),
            other => bail!(
                "field `{name}` of a stored {} must be an array, not {other}",
                self.what
            ),
        }
    }

    fn raw(&self) -> String {
        raw_from_json(self.field("raw"))
    }
}

// ---------------------------------------------------------------------------------------------
// Dataset records

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct DatasetRecordJson<'a> {
    id: &'a str,
    updated_at: &'a Option<String>,
    raw: RawJson<'a>,
}

fn dataset_record_json(r: &DatasetRecord) -> DatasetRecordJson<'_> {
    DatasetRecordJson {
        id: &r.id,
        updated_at: &r.updated_at,
        raw: RawJson(&r.raw),
    }
}

/// A dataset record as stored JSON: its id, time and the PSA's JSON (a document, like `raw`
/// everywhere).
pub fn dataset_record_to_json(r: &DatasetRecord) -> Value {
    to_value(&dataset_record_json(r))
}

/// [`dataset_record_to_json`] as text, for the store.
pub fn dataset_record_to_text(r: &DatasetRecord) -> String {
    to_text(&dataset_record_json(r))
}

// ---------------------------------------------------------------------------------------------
// Companies

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct CompanyJson<'a> {
    id: &'a str,
    name: &'a str,
    identifier: &'a Option<String>,
    status: Option<RefJson<'a>>,
    active: bool,
    types: &'a [String],
    phone: &'a Option<String>,
    website: &'a Option<String>,
    address: Option<AddressJson<'a>>,
    updated_at: &'a Option<String>,
    raw: RawJson<'a>,
    // Contract 0.2.0's fields are stored only when set, so what a 0.1.x connector returns keeps
    // its content (and an upgrade of the host emits no change events).
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    classification: Option<RefJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    market_segment: Option<RefJson<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sites: Vec<SiteJson<'a>>,
}

#[derive(Serialize)]
struct SiteJson<'a> {
    id: &'a str,
    name: &'a str,
    address: Option<AddressJson<'a>>,
    phone: &'a Option<String>,
    primary: bool,
    active: bool,
}

fn company_json(c: &Company) -> CompanyJson<'_> {
    CompanyJson {
        id: &c.id,
        name: &c.name,
        identifier: &c.identifier,
        status: opt_ref(&c.status),
        active: c.active,
        types: &c.types,
        phone: &c.phone,
        website: &c.website,
        address: address_json(&c.address),
        updated_at: &c.updated_at,
        raw: RawJson(&c.raw),
        parent_id: &c.parent_id,
        classification: opt_ref(&c.classification),
        market_segment: opt_ref(&c.market_segment),
        sites: c
            .sites
            .iter()
            .map(|s| SiteJson {
                id: &s.id,
                name: &s.name,
                address: address_json(&s.address),
                phone: &s.phone,
                primary: s.primary,
                active: s.active,
            })
            .collect(),
    }
}

/// A company as stored JSON.
pub fn company_to_json(c: &Company) -> Value {
    to_value(&company_json(c))
}

/// [`company_to_json`] as text, for the store.
pub fn company_to_text(c: &Company) -> String {
    to_text(&company_json(c))
}

fn address_from_json(v: &Value) -> anyhow::Result<Option<Address>> {
    Ok(match v {
        Value::Null => None,
        a => {
            let a = Fields::of(a, "address")?;
            Some(Address {
                line1: a.opt_string("line1")?,
                line2: a.opt_string("line2")?,
                city: a.opt_string("city")?,
                state: a.opt_string("state")?,
                postal_code: a.opt_string("postal-code")?,
                country: a.opt_string("country")?,
            })
        }
    })
}

fn site_from_json(v: &Value) -> anyhow::Result<Site> {
    let f = Fields::of(v, "site")?;
    Ok(Site {
        id: f.string("id")?,
        name: f.string("name")?,
        address: address_from_json(f.field("address"))?,
        phone: f.opt_string("phone")?,
        primary: f.bool("primary")?,
        active: f.bool("active")?,
    })
}

/// A stored company back as the WIT record.
pub fn company_from_json(v: &Value) -> anyhow::Result<Company> {
    let f = Fields::of(v, "company")?;
    let address = address_from_json(f.field("address"))?;
    Ok(Company {
        id: f.string("id")?,
        name: f.string("name")?,
        identifier: f.opt_string("identifier")?,
        status: f.opt_ref("status")?,
        active: f.bool("active")?,
        types: f.strings("types")?,
        phone: f.opt_string("phone")?,
        website: f.opt_string("website")?,
        address,
        parent_id: f.opt_string("parent-id")?,
        classification: f.opt_ref("classification")?,
        market_segment: f.opt_ref("market-segment")?,
        sites: f.list("sites", site_from_json)?,
        updated_at: f.opt_string("updated-at")?,
        raw: f.raw(),
    })
}

// ---------------------------------------------------------------------------------------------
// Contacts

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ContactJson<'a> {
    id: &'a str,
    company_id: &'a Option<String>,
    first_name: &'a Option<String>,
    last_name: &'a Option<String>,
    title: &'a Option<String>,
    emails: &'a [String],
    phones: &'a [String],
    active: bool,
    primary: bool,
    updated_at: &'a Option<String>,
    raw: RawJson<'a>,
}

fn contact_json(c: &Contact) -> ContactJson<'_> {
    ContactJson {
        id: &c.id,
        company_id: &c.company_id,
        first_name: &c.first_name,
        last_name: &c.last_name,
        title: &c.title,
        emails: &c.emails,
        phones: &c.phones,
        active: c.active,
        primary: c.primary,
        updated_at: &c.updated_at,
        raw: RawJson(&c.raw),
    }
}

/// A contact as stored JSON.
pub fn contact_to_json(c: &Contact) -> Value {
    to_value(&contact_json(c))
}

/// [`contact_to_json`] as text, for the store.
pub fn contact_to_text(c: &Contact) -> String {
    to_text(&contact_json(c))
}

/// A stored contact back as the WIT record.
pub fn contact_from_json(v: &Value) -> anyhow::Result<Contact> {
    let f = Fields::of(v, "contact")?;
    Ok(Contact {
        id: f.string("id")?,
        company_id: f.opt_string("company-id")?,
        first_name: f.opt_string("first-name")?,
        last_name: f.opt_string("last-name")?,
        title: f.opt_string("title")?,
        emails: f.strings("emails")?,
        phones: f.strings("phones")?,
        active: f.bool("active")?,
        primary: f.bool("primary")?,
        updated_at: f.opt_string("updated-at")?,
        raw: f.raw(),
    })
}

// ---------------------------------------------------------------------------------------------
// Agreements

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct AgreementLineJson<'a> {
    id: &'a str,
    product: Option<RefJson<'a>>,
    description: &'a Option<String>,
    quantity: &'a str,
    unit_price: &'a str,
    billable: bool,
    billing_cycle: Option<&'static str>,
    effective_date: &'a Option<String>,
    cancelled_date: &'a Option<String>,
    raw: RawJson<'a>,
}

fn agreement_line_json(l: &AgreementLine) -> AgreementLineJson<'_> {
    AgreementLineJson {
        id: &l.id,
        product: opt_ref(&l.product),
        description: &l.description,
        quantity: &l.quantity,
        unit_price: &l.unit_price,
        billable: l.billable,
        billing_cycle: l.billing_cycle.map(billing_cycle_name),
        effective_date: &l.effective_date,
        cancelled_date: &l.cancelled_date,
        raw: RawJson(&l.raw),
    }
}

/// A stored agreement line back as the WIT record.
pub fn agreement_line_from_json(v: &Value) -> anyhow::Result<AgreementLine> {
    let f = Fields::of(v, "agreement line")?;
    Ok(AgreementLine {
        id: f.string("id")?,
        product: f.opt_ref("product")?,
        description: f.opt_string("description")?,
        quantity: f.string("quantity")?,
        unit_price: f.string("unit-price")?,
        billable: f.bool("billable")?,
        billing_cycle: f
            .opt_string("billing-cycle")?
            .map(|c| billing_cycle_from_name(&c))
            .transpose()
            .context("field `billing-cycle` of a stored agreement line")?,
        effective_date: f.opt_string("effective-date")?,
        cancelled_date: f.opt_string("cancelled-date")?,
        raw: f.raw(),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct AgreementJson<'a> {
    id: &'a str,
    company_id: &'a str,
    name: &'a str,
    agreement_type: Option<RefJson<'a>>,
    status: &'a Option<String>,
    start_date: &'a Option<String>,
    end_date: &'a Option<String>,
    recurring: bool,
    cancelled: bool,
    billing_cycle: &'static str,
    bill_amount: &'a Option<String>,
    lines: Vec<AgreementLineJson<'a>>,
    updated_at: &'a Option<String>,
    raw: RawJson<'a>,
}

fn agreement_json(a: &Agreement) -> AgreementJson<'_> {
    AgreementJson {
        id: &a.id,
        company_id: &a.company_id,
        name: &a.name,
        agreement_type: opt_ref(&a.agreement_type),
        status: &a.status,
        start_date: &a.start_date,
        end_date: &a.end_date,
        recurring: a.recurring,
        cancelled: a.cancelled,
        billing_cycle: billing_cycle_name(a.billing_cycle),
        bill_amount: &a.bill_amount,
        lines: a.lines.iter().map(agreement_line_json).collect(),
        updated_at: &a.updated_at,
        raw: RawJson(&a.raw),
    }
}

/// An agreement, with its lines, as stored JSON.
pub fn agreement_to_json(a: &Agreement) -> Value {
    to_value(&agreement_json(a))
}

/// [`agreement_to_json`] as text, for the store.
pub fn agreement_to_text(a: &Agreement) -> String {
    to_text(&agreement_json(a))
}

/// A stored agreement back as the WIT record.
pub fn agreement_from_json(v: &Value) -> anyhow::Result<Agreement> {
    let f = Fields::of(v, "agreement")?;
    let lines = match f.field("lines") {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .map(agreement_line_from_json)
            .collect::<anyhow::Result<_>>()?,
        other => bail!("field `lines` of a stored agreement must be an array, not {other}"),
    };
    Ok(Agreement {
        id: f.string("id")?,
        company_id: f.string("company-id")?,
        name: f.string("name")?,
        agreement_type: f.opt_ref("agreement-type")?,
        status: f.opt_string("status")?,
        start_date: f.opt_string("start-date")?,
        end_date: f.opt_string("end-date")?,
        recurring: f.bool("recurring")?,
        cancelled: f.bool("cancelled")?,
        billing_cycle: billing_cycle_from_name(&f.string("billing-cycle")?)
            .context("field `billing-cycle` of a stored agreement")?,
        bill_amount: f.opt_string("bill-amount")?,
        lines,
        updated_at: f.opt_string("updated-at")?,
        raw: f.raw(),
    })
}

// ---------------------------------------------------------------------------------------------
// Configurations

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ConfigurationJson<'a> {
    id: &'a str,
    company_id: &'a Option<String>,
    name: &'a str,
    configuration_type: Option<RefJson<'a>>,
    status: Option<RefJson<'a>>,
    active: bool,
    serial_number: &'a Option<String>,
    model_number: &'a Option<String>,
    mac_address: &'a Option<String>,
    ip_address: &'a Option<String>,
    device_identifier: &'a Option<String>,
    manufacturer: Option<RefJson<'a>>,
    vendor: Option<RefJson<'a>>,
    notes: &'a Option<String>,
    updated_at: &'a Option<String>,
    raw: RawJson<'a>,
    /// Stored only when set, as the company's 0.2.0 fields.
    #[serde(
        skip_serializing_if = "no_answers",
        serialize_with = "serialize_answers"
    )]
    questions: &'a [ConfigurationAnswer],
}

fn no_answers(answers: &&[ConfigurationAnswer]) -> bool {
    answers.is_empty()
}

/// Configuration answers as `[{"question-id": .., "question": .., "answer": ..}]`.
fn serialize_answers<S: Serializer>(
    answers: &&[ConfigurationAnswer],
    s: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct AnswerJson<'a> {
        question_id: &'a Option<String>,
        question: &'a str,
        answer: &'a Option<String>,
    }
    s.collect_seq(answers.iter().map(|q| AnswerJson {
        question_id: &q.question_id,
        question: &q.question,
        answer: &q.answer,
    }))
}

fn configuration_json(c: &Configuration) -> ConfigurationJson<'_> {
    ConfigurationJson {
        id: &c.id,
        company_id: &c.company_id,
        name: &c.name,
        configuration_type: opt_ref(&c.configuration_type),
        status: opt_ref(&c.status),
        active: c.active,
        serial_number: &c.serial_number,
        model_number: &c.model_number,
        mac_address: &c.mac_address,
        ip_address: &c.ip_address,
        device_identifier: &c.device_identifier,
        manufacturer: opt_ref(&c.manufacturer),
        vendor: opt_ref(&c.vendor),
        notes: &c.notes,
        updated_at: &c.updated_at,
        raw: RawJson(&c.raw),
        questions: &c.questions,
    }
}

/// A configuration item as stored JSON.
pub fn configuration_to_json(c: &Configuration) -> Value {
    to_value(&configuration_json(c))
}

/// [`configuration_to_json`] as text, for the store.
pub fn configuration_to_text(c: &Configuration) -> String {
    to_text(&configuration_json(c))
}

fn answer_from_json(v: &Value) -> anyhow::Result<ConfigurationAnswer> {
    let f = Fields::of(v, "configuration answer")?;
    Ok(ConfigurationAnswer {
        question_id: f.opt_string("question-id")?,
        question: f.string("question")?,
        answer: f.opt_string("answer")?,
    })
}

/// A stored configuration item back as the WIT record.
pub fn configuration_from_json(v: &Value) -> anyhow::Result<Configuration> {
    let f = Fields::of(v, "configuration")?;
    Ok(Configuration {
        id: f.string("id")?,
        company_id: f.opt_string("company-id")?,
        name: f.string("name")?,
        configuration_type: f.opt_ref("configuration-type")?,
        status: f.opt_ref("status")?,
        active: f.bool("active")?,
        serial_number: f.opt_string("serial-number")?,
        model_number: f.opt_string("model-number")?,
        mac_address: f.opt_string("mac-address")?,
        ip_address: f.opt_string("ip-address")?,
        device_identifier: f.opt_string("device-identifier")?,
        manufacturer: f.opt_ref("manufacturer")?,
        vendor: f.opt_ref("vendor")?,
        notes: f.opt_string("notes")?,
        questions: f.list("questions", answer_from_json)?,
        updated_at: f.opt_string("updated-at")?,
        raw: f.raw(),
    })
}

// ---------------------------------------------------------------------------------------------
// Tickets and notes

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct TicketJson<'a> {
    id: &'a str,
    summary: &'a str,
    company_id: &'a Option<String>,
    contact_id: &'a Option<String>,
    queue: Option<RefJson<'a>>,
    status: Option<RefJson<'a>>,
    priority: Option<RefJson<'a>>,
    ticket_type: Option<RefJson<'a>>,
    sub_type: Option<RefJson<'a>>,
    source: Option<RefJson<'a>>,
    agreement_id: &'a Option<String>,
    closed: bool,
    created_at: &'a Option<String>,
    updated_at: &'a Option<String>,
    raw: RawJson<'a>,
}

fn ticket_json(t: &Ticket) -> TicketJson<'_> {
    TicketJson {
        id: &t.id,
        summary: &t.summary,
        company_id: &t.company_id,
        contact_id: &t.contact_id,
        queue: opt_ref(&t.queue),
        status: opt_ref(&t.status),
        priority: opt_ref(&t.priority),
        ticket_type: opt_ref(&t.ticket_type),
        sub_type: opt_ref(&t.sub_type),
        source: opt_ref(&t.source),
        agreement_id: &t.agreement_id,
        closed: t.closed,
        created_at: &t.created_at,
        updated_at: &t.updated_at,
        raw: RawJson(&t.raw),
    }
}

/// A ticket as stored JSON.
pub fn ticket_to_json(t: &Ticket) -> Value {
    to_value(&ticket_json(t))
}

/// [`ticket_to_json`] as text, for the store.
pub fn ticket_to_text(t: &Ticket) -> String {
    to_text(&ticket_json(t))
}

/// A stored ticket back as the WIT record.
pub fn ticket_from_json(v: &Value) -> anyhow::Result<Ticket> {
    let f = Fields::of(v, "ticket")?;
    Ok(Ticket {
        id: f.string("id")?,
        summary: f.string("summary")?,
        company_id: f.opt_string("company-id")?,
        contact_id: f.opt_string("contact-id")?,
        queue: f.opt_ref("queue")?,
        status: f.opt_ref("status")?,
        priority: f.opt_ref("priority")?,
        ticket_type: f.opt_ref("ticket-type")?,
        sub_type: f.opt_ref("sub-type")?,
        source: f.opt_ref("source")?,
        agreement_id: f.opt_string("agreement-id")?,
        closed: f.bool("closed")?,
        created_at: f.opt_string("created-at")?,
        updated_at: f.opt_string("updated-at")?,
        raw: f.raw(),
    })
}

/// A ticket note as stored JSON.
pub fn note_to_json(n: &Note) -> Value {
    #[derive(Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct NoteJson<'a> {
        id: &'a str,
        ticket_id: &'a str,
        text: &'a str,
        internal: bool,
        resolution: bool,
        created_at: &'a Option<String>,
        created_by: &'a Option<String>,
        raw: RawJson<'a>,
    }
    to_value(&NoteJson {
        id: &n.id,
        ticket_id: &n.ticket_id,
        text: &n.text,
        internal: n.internal,
        resolution: n.resolution,
        created_at: &n.created_at,
        created_by: &n.created_by,
        raw: RawJson(&n.raw),
    })
}

/// A stored ticket note back as the WIT record.
pub fn note_from_json(v: &Value) -> anyhow::Result<Note> {
    let f = Fields::of(v, "note")?;
    Ok(Note {
        id: f.string("id")?,
        ticket_id: f.string("ticket-id")?,
        text: f.string("text")?,
        internal: f.bool("internal")?,
        resolution: f.bool("resolution")?,
        created_at: f.opt_string("created-at")?,
        created_by: f.opt_string("created-by")?,
        raw: f.raw(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(id: &str, name: Option<&str>) -> Option<EntityRef> {
        Some(EntityRef {
            id: id.into(),
            name: name.map(Into::into),
        })
    }

    /// What a 0.1.x connector returns must be stored exactly as before contract 0.2.0, so an
    /// upgrade of the host changes no content hash.
    #[test]
    fn records_without_0_2_fields_store_the_0_1_keys_only() {
        let c = Company {
            id: "7".into(),
            name: "Acme".into(),
            identifier: None,
            status: None,
            active: true,
            types: vec![],
            phone: None,
            website: None,
            address: None,
            parent_id: None,
            classification: None,
            market_segment: None,
            sites: vec![],
            updated_at: None,
            raw: "{}".into(),
        };
        let v = company_to_json(&c);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "active",
                "address",
                "id",
                "identifier",
                "name",
                "phone",
                "raw",
                "status",
                "types",
                "updated-at",
                "website"
            ]
        );
        assert_eq!(company_from_json(&v).unwrap(), c);
    }

    #[test]
    fn company_round_trip_with_wit_names_and_parsed_raw() {
        let c = Company {
            id: "7".into(),
            name: "Acme".into(),
            identifier: Some("acme".into()),
            status: r("1", Some("Active")),
            active: true,
            types: vec!["Customer".into()],
            phone: None,
            website: Some("acme.example".into()),
            address: Some(Address {
                line1: Some("1 Main St".into()),
                line2: None,
                city: Some("Springfield".into()),
                state: None,
                postal_code: Some("12345".into()),
                country: None,
            }),
            parent_id: Some("3".into()),
            classification: r("2", Some("Gold")),
            market_segment: r("5", None),
            sites: vec![Site {
                id: "11".into(),
                name: "Main".into(),
                address: None,
                phone: Some("+1 555 0100".into()),
                primary: true,
                active: true,
            }],
            updated_at: Some("2026-01-31T09:30:00Z".into()),
            raw: r#"{"id":7,"name":"Acme"}"#.into(),
        };
        let v = company_to_json(&c);
        assert_eq!(v["updated-at"], "2026-01-31T09:30:00Z");
        assert_eq!(v["address"]["postal-code"], "12345");
        assert_eq!(v["status"], json!({"id": "1", "name": "Active"}));
        assert_eq!(v["raw"]["name"], "Acme");
        assert_eq!(company_from_json(&v).unwrap(), c);
        assert_eq!(parsed(&company_to_text(&c)), v);
    }

    #[test]
    fn agreement_round_trip_with_lines_and_cycles() {
        let a = Agreement {
            id: "3".into(),
            company_id: "7".into(),
            name: "Managed".into(),
            agreement_type: r("2", None),
            status: Some("Active".into()),
            start_date: Some("2026-01-01".into()),
            end_date: None,
            recurring: true,
            cancelled: false,
            billing_cycle: BillingCycle::SemiAnnual,
            bill_amount: Some("600.00".into()),
            lines: vec![AgreementLine {
                id: "30".into(),
                product: r("p", Some("Seat")),
                description: None,
                quantity: "3".into(),
                unit_price: "12.50".into(),
                billable: true,
                billing_cycle: Some(BillingCycle::OneTime),
                effective_date: None,
                cancelled_date: Some("2026-06-30".into()),
                raw: "not json".into(),
            }],
            updated_at: None,
            raw: "[1,2]".into(),
        };
        let v = agreement_to_json(&a);
        assert_eq!(parsed(&agreement_to_text(&a)), v);
        assert_eq!(v["billing-cycle"], "semi-annual");
        assert_eq!(v["lines"][0]["billing-cycle"], "one-time");
        assert_eq!(v["lines"][0]["unit-price"], "12.50");
        assert_eq!(v["lines"][0]["raw"], "not json");
        assert_eq!(v["raw"], json!([1, 2]));
        assert_eq!(agreement_from_json(&v).unwrap(), a);
        let mut bad = v.clone();
        bad["billing-cycle"] = json!("weekly");
        let e = format!("{:#}", agreement_from_json(&bad).unwrap_err());
        assert!(e.contains("billing-cycle") && e.contains("weekly"), "{e}");
    }

    #[test]
    fn contact_configuration_ticket_note_round_trip() {
        let c = Contact {
            id: "1".into(),
            company_id: Some("7".into()),
            first_name: Some("Ada".into()),
            last_name: None,
            title: None,
            emails: vec!["ada@example.com".into()],
            phones: vec![],
            active: true,
            primary: false,
            updated_at: None,
            raw: "{}".into(),
        };
        assert_eq!(contact_from_json(&contact_to_json(&c)).unwrap(), c);
        assert_eq!(parsed(&contact_to_text(&c)), contact_to_json(&c));
        let cfg = Configuration {
            id: "9".into(),
            company_id: None,
            name: "fw01".into(),
            configuration_type: r("4", Some("Firewall")),
            status: None,
            active: false,
            serial_number: Some("SN1".into()),
            model_number: None,
            mac_address: None,
            ip_address: Some("10.0.0.1".into()),
            device_identifier: None,
            manufacturer: None,
            vendor: None,
            notes: None,
            questions: vec![ConfigurationAnswer {
                question_id: Some("31".into()),
                question: "Firmware".into(),
                answer: None,
            }],
            updated_at: Some("2026-02-01T00:00:00Z".into()),
            raw: "{}".into(),
        };
        let v = configuration_to_json(&cfg);
        assert_eq!(parsed(&configuration_to_text(&cfg)), v);
        assert_eq!(v["questions"][0]["question"], "Firmware");
        assert_eq!(v["serial-number"], "SN1");
        assert_eq!(configuration_from_json(&v).unwrap(), cfg);
        let t = Ticket {
            id: "5".into(),
            summary: "Disk full".into(),
            company_id: Some("7".into()),
            contact_id: None,
            queue: r("1", Some("Help Desk")),
            status: None,
            priority: None,
            ticket_type: None,
            sub_type: None,
            source: None,
            agreement_id: None,
            closed: false,
            created_at: None,
            updated_at: None,
            raw: "{}".into(),
        };
        assert_eq!(ticket_from_json(&ticket_to_json(&t)).unwrap(), t);
        assert_eq!(parsed(&ticket_to_text(&t)), ticket_to_json(&t));
        let n = Note {
            id: "8".into(),
            ticket_id: "5".into(),
            text: "hello".into(),
            internal: true,
            resolution: false,
            created_at: None,
            created_by: Some("bot".into()),
            raw: "{}".into(),
        };
        assert_eq!(note_from_json(&note_to_json(&n)).unwrap(), n);
    }

    /// What `raw` was stored as before records were written as text: the parsed document when
    /// it is an object or an array, else the text itself.
    fn raw_to_json(raw: &str) -> Value {
        match serde_json::from_str::<Value>(raw) {
            Ok(v @ (Value::Object(_) | Value::Array(_))) => v,
            _ => Value::String(raw.to_string()),
        }
    }

    fn parsed(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    /// The stored text keeps the PSA's `raw` as it came when it is a JSON document (no tree is
    /// built for it) and as a string otherwise; parsed, it is the stored value, which is
    /// [`raw_to_json`]'s.
    #[test]
    fn raw_goes_into_the_text_as_it_is() {
        let record = |raw: &str| DatasetRecord {
            id: "1".into(),
            updated_at: None,
            raw: raw.into(),
        };
        for (raw, text) in [
            (
                r#" {"b": 1,  "a": [1.50, "\u00e9"]} "#,
                r#"{"id":"1","updated-at":null,"raw":{"b": 1,  "a": [1.50, "\u00e9"]}}"#,
            ),
            ("[]", r#"{"id":"1","updated-at":null,"raw":[]}"#),
            ("42", r#"{"id":"1","updated-at":null,"raw":"42"}"#),
            (
                r#"{"a": 1"#,
                r#"{"id":"1","updated-at":null,"raw":"{\"a\": 1"}"#,
            ),
            (
                "not json",
                r#"{"id":"1","updated-at":null,"raw":"not json"}"#,
            ),
            (
                r#"{"a":1} {"b":2}"#,
                r#"{"id":"1","updated-at":null,"raw":"{\"a\":1} {\"b\":2}"}"#,
            ),
        ] {
            let r = record(raw);
            assert_eq!(dataset_record_to_text(&r), text, "{raw}");
            assert_eq!(parsed(text)["raw"], raw_to_json(raw), "{raw}");
            assert_eq!(parsed(text), dataset_record_to_json(&r), "{raw}");
        }
    }

    #[test]
    fn wrong_shapes_name_the_field() {
        let e = contact_from_json(&json!({"id": 1}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`id`") && e.contains("contact"), "{e}");
        let e = contact_from_json(&json!("x")).unwrap_err().to_string();
        assert!(e.contains("object"), "{e}");
    }
}
