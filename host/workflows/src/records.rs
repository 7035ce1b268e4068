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
//! - `raw` (the PSA's own JSON text) is stored parsed when it is a JSON object or array, so
//!   consumers get a document rather than a string; any other text is stored as a string.
//!   Reading back serialises the parsed document again (same content, key order may differ).

use anyhow::{Context, anyhow, bail};
use psahost_sandbox::bindings::psa::connector::types::{
    Address, Agreement, AgreementLine, BillingCycle, Company, Configuration, ConfigurationAnswer,
    Contact, DatasetRecord, EntityRef, Note, Site, Ticket,
};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------------
// Shared parts

/// `raw` JSON text as a stored value: the parsed document when it is an object or an array,
/// else the text itself.
pub fn raw_to_json(raw: &str) -> Value {
    match serde_json::from_str::<Value>(raw) {
        Ok(v @ (Value::Object(_) | Value::Array(_))) => v,
        _ => Value::String(raw.to_string()),
    }
}

/// A stored `raw` value back as JSON text (the inverse of [`raw_to_json`]).
pub fn raw_from_json(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// An `entity-ref` as `{"id": .., "name": ..}`.
pub fn entity_ref_to_json(r: &EntityRef) -> Value {
    json!({ "id": r.id, "name": r.name })
}

fn opt_ref(r: &Option<EntityRef>) -> Value {
    r.as_ref().map_or(Value::Null, entity_ref_to_json)
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

fn address_to_json(a: &Address) -> Value {
    json!({
        "line1": a.line1,
        "line2": a.line2,
        "city": a.city,
        "state": a.state,
        "postal-code": a.postal_code,
        "country": a.country,
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

/// A dataset record as stored JSON: its id, time and the PSA's JSON (parsed, like `raw`
/// everywhere).
pub fn dataset_record_to_json(r: &DatasetRecord) -> Value {
    json!({
        "id": r.id,
        "updated-at": r.updated_at,
        "raw": raw_to_json(&r.raw),
    })
}

// ---------------------------------------------------------------------------------------------
// Companies

/// A company as stored JSON.
pub fn company_to_json(c: &Company) -> Value {
    let mut v = json!({
        "id": c.id,
        "name": c.name,
        "identifier": c.identifier,
        "status": opt_ref(&c.status),
        "active": c.active,
        "types": c.types,
        "phone": c.phone,
        "website": c.website,
        "address": c.address.as_ref().map_or(Value::Null, address_to_json),
        "updated-at": c.updated_at,
        "raw": raw_to_json(&c.raw),
    });
    // Contract 0.2.0's fields are stored only when set, so what a 0.1.x connector returns
    // keeps its content hash (and an upgrade of the host emits no change events).
    let map = v.as_object_mut().expect("a company is an object");
    if let Some(p) = &c.parent_id {
        map.insert("parent-id".into(), json!(p));
    }
    if c.classification.is_some() {
        map.insert("classification".into(), opt_ref(&c.classification));
    }
    if c.market_segment.is_some() {
        map.insert("market-segment".into(), opt_ref(&c.market_segment));
    }
    if !c.sites.is_empty() {
        map.insert(
            "sites".into(),
            c.sites.iter().map(site_to_json).collect::<Vec<_>>().into(),
        );
    }
    v
}

fn site_to_json(s: &Site) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "address": s.address.as_ref().map_or(Value::Null, address_to_json),
        "phone": s.phone,
        "primary": s.primary,
        "active": s.active,
    })
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

/// A contact as stored JSON.
pub fn contact_to_json(c: &Contact) -> Value {
    json!({
        "id": c.id,
        "company-id": c.company_id,
        "first-name": c.first_name,
        "last-name": c.last_name,
        "title": c.title,
        "emails": c.emails,
        "phones": c.phones,
        "active": c.active,
        "primary": c.primary,
        "updated-at": c.updated_at,
        "raw": raw_to_json(&c.raw),
    })
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

/// An agreement line as stored JSON.
pub fn agreement_line_to_json(l: &AgreementLine) -> Value {
    json!({
        "id": l.id,
        "product": opt_ref(&l.product),
        "description": l.description,
        "quantity": l.quantity,
        "unit-price": l.unit_price,
        "billable": l.billable,
        "billing-cycle": l.billing_cycle.map(billing_cycle_name),
        "effective-date": l.effective_date,
        "cancelled-date": l.cancelled_date,
        "raw": raw_to_json(&l.raw),
    })
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

/// An agreement, with its lines, as stored JSON.
pub fn agreement_to_json(a: &Agreement) -> Value {
    json!({
        "id": a.id,
        "company-id": a.company_id,
        "name": a.name,
        "agreement-type": opt_ref(&a.agreement_type),
        "status": a.status,
        "start-date": a.start_date,
        "end-date": a.end_date,
        "recurring": a.recurring,
        "cancelled": a.cancelled,
        "billing-cycle": billing_cycle_name(a.billing_cycle),
        "bill-amount": a.bill_amount,
        "lines": a.lines.iter().map(agreement_line_to_json).collect::<Vec<_>>(),
        "updated-at": a.updated_at,
        "raw": raw_to_json(&a.raw),
    })
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

/// A configuration item as stored JSON.
pub fn configuration_to_json(c: &Configuration) -> Value {
    let mut v = json!({
        "id": c.id,
        "company-id": c.company_id,
        "name": c.name,
        "configuration-type": opt_ref(&c.configuration_type),
        "status": opt_ref(&c.status),
        "active": c.active,
        "serial-number": c.serial_number,
        "model-number": c.model_number,
        "mac-address": c.mac_address,
        "ip-address": c.ip_address,
        "device-identifier": c.device_identifier,
        "manufacturer": opt_ref(&c.manufacturer),
        "vendor": opt_ref(&c.vendor),
        "notes": c.notes,
        "updated-at": c.updated_at,
        "raw": raw_to_json(&c.raw),
    });
    // Stored only when set, as the company's 0.2.0 fields.
    if !c.questions.is_empty() {
        let answers: Vec<Value> = c
            .questions
            .iter()
            .map(|q| json!({ "question-id": q.question_id, "question": q.question, "answer": q.answer }))
            .collect();
        v.as_object_mut()
            .expect("a configuration is an object")
            .insert("questions".into(), answers.into());
    }
    v
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

/// A ticket as stored JSON.
pub fn ticket_to_json(t: &Ticket) -> Value {
    json!({
        "id": t.id,
        "summary": t.summary,
        "company-id": t.company_id,
        "contact-id": t.contact_id,
        "queue": opt_ref(&t.queue),
        "status": opt_ref(&t.status),
        "priority": opt_ref(&t.priority),
        "ticket-type": opt_ref(&t.ticket_type),
        "sub-type": opt_ref(&t.sub_type),
        "source": opt_ref(&t.source),
        "agreement-id": t.agreement_id,
        "closed": t.closed,
        "created-at": t.created_at,
        "updated-at": t.updated_at,
        "raw": raw_to_json(&t.raw),
    })
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
    json!({
        "id": n.id,
        "ticket-id": n.ticket_id,
        "text": n.text,
        "internal": n.internal,
        "resolution": n.resolution,
        "created-at": n.created_at,
        "created-by": n.created_by,
        "raw": raw_to_json(&n.raw),
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
