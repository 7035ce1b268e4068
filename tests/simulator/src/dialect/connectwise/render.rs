//! Neutral records rendered as ConnectWise JSON.

use serde::Serialize;
use serde_json::{Value, json};
use time::{Date, OffsetDateTime};

use crate::data::*;
use crate::dialect::json::{Ts, money, timestamp};

/// A record the dialect can list, filter and render.
pub(crate) trait CwRecord {
    fn id(&self) -> Id;
    /// `_info.lastUpdated`.
    fn last_updated(&self) -> OffsetDateTime;
    /// `company/id`, for records that reference a company (a fast path for filtering).
    fn company_id(&self) -> Option<Id> {
        None
    }
    /// Left out of lists unless the conditions ask about `deletedFlag`.
    fn hidden_by_default(&self) -> bool {
        false
    }
    /// The record as a JSON value (for conditions, partial responses and tests).
    fn render(&self, data: &DataSet) -> Value;
    /// Appends the JSON a response carries to `out`: the rendered record without its nulls.
    fn write(&self, data: &DataSet, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, &strip_nulls(self.render(data)))
    }
}

/// The record as a response carries it: ConnectWise leaves out an unset field rather than
/// sending `null` (its schemas have no null strings or objects). Rendering keeps the nulls, so
/// conditions still know every field (`contact = null`).
pub(crate) fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// Dates are rendered as midnight UTC date-times, as ConnectWise does.
fn day(d: Date) -> Ts {
    Ts(d.midnight().assume_utc())
}

/// `{id, name}`; the name is null when the referenced record no longer exists.
#[derive(Serialize)]
struct Named<'a> {
    id: Id,
    name: Option<&'a str>,
}

/// `{id, identifier, name}` of a company.
#[derive(Serialize)]
struct CompanyRef<'a> {
    id: Id,
    identifier: Option<&'a str>,
    name: Option<&'a str>,
}

fn company_ref(data: &DataSet, id: Id) -> CompanyRef<'_> {
    let c = data.companies.get(&id);
    CompanyRef {
        id,
        identifier: c.map(|c| c.identifier.as_str()),
        name: c.map(|c| c.name.as_str()),
    }
}

/// A contact reference; names are built, so this one owns its name.
#[derive(Serialize)]
struct ContactRef {
    id: Id,
    name: Option<String>,
}

fn contact_ref(data: &DataSet, id: Option<Id>) -> Option<ContactRef> {
    id.map(|id| ContactRef {
        id,
        name: data.contacts.get(&id).map(Contact::full_name),
    })
}

/// `{id, name}` from a picklist.
fn pick<T>(list: &[T], id: Option<Id>, key: impl Fn(&T) -> (Id, &str)) -> Option<Named<'_>> {
    id.map(|id| Named {
        id,
        name: list
            .iter()
            .map(&key)
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InfoJson<'a> {
    last_updated: Ts,
    updated_by: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_entered: Option<Ts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    entered_by: Option<&'a str>,
}

fn info(i: &Info) -> InfoJson<'_> {
    InfoJson {
        last_updated: Ts(i.last_updated),
        updated_by: &i.updated_by,
        date_entered: None,
        entered_by: None,
    }
}

fn billing_cycle(c: BillingCycle) -> Named<'static> {
    let (id, name) = match c {
        BillingCycle::Monthly => (1, "Monthly"),
        BillingCycle::Quarterly => (2, "Quarterly"),
        BillingCycle::SemiAnnual => (3, "Semi-Annual"),
        BillingCycle::Annual => (4, "Annual"),
        BillingCycle::OneTime => (5, "One Time"),
    };
    Named {
        id,
        name: Some(name),
    }
}

fn agreement_status(s: AgreementStatus) -> &'static str {
    match s {
        AgreementStatus::Active => "Active",
        AgreementStatus::Cancelled => "Cancelled",
        AgreementStatus::Expired => "Expired",
        AgreementStatus::Inactive => "Inactive",
    }
}

/// Copies the compact JSON value at `src[i..]` to `out` without the object members whose value
/// is `null` (what [`strip_nulls`] does to a value); returns where the value ends.
fn copy_without_nulls(src: &[u8], mut i: usize, out: &mut Vec<u8>) -> usize {
    /// The end of the string starting at `src[i]` (its opening quote).
    fn string_end(src: &[u8], mut i: usize) -> usize {
        i += 1;
        while i < src.len() {
            match src[i] {
                b'\\' => i += 2,
                b'"' => return i + 1,
                _ => i += 1,
            }
        }
        i
    }
    match src.get(i) {
        Some(b'{') => {
            out.push(b'{');
            i += 1;
            let mut first = true;
            while i < src.len() && src[i] != b'}' {
                let key = i;
                i = string_end(src, i) + 1; // the key and its colon
                if src[i..].starts_with(b"null") {
                    i += 4;
                } else {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    out.extend_from_slice(&src[key..i]);
                    i = copy_without_nulls(src, i, out);
                }
                if src.get(i) == Some(&b',') {
                    i += 1;
                }
            }
            out.push(b'}');
            i + 1
        }
        Some(b'[') => {
            out.push(b'[');
            i += 1;
            while i < src.len() && src[i] != b']' {
                i = copy_without_nulls(src, i, out);
                if src.get(i) == Some(&b',') {
                    out.push(b',');
                    i += 1;
                }
            }
            out.push(b']');
            i + 1
        }
        Some(b'"') => {
            let end = string_end(src, i);
            out.extend_from_slice(&src[i..end]);
            end
        }
        _ => {
            let end = src[i..]
                .iter()
                .position(|b| matches!(b, b',' | b']' | b'}'))
                .map_or(src.len(), |n| i + n);
            out.extend_from_slice(&src[i..end]);
            end
        }
    }
}

/// Implements `render` and `write` of [`CwRecord`] from one serialisable view: `write`
/// serialises the view and drops its null members as it copies it, without a JSON tree.
macro_rules! view_methods {
    ($view:ident) => {
        fn render(&self, data: &DataSet) -> Value {
            serde_json::to_value($view::new(self, data)).unwrap_or(Value::Null)
        }

        fn write(&self, data: &DataSet, out: &mut Vec<u8>) -> serde_json::Result<()> {
            let text = serde_json::to_vec(&$view::new(self, data))?;
            copy_without_nulls(&text, 0, out);
            Ok(())
        }
    };
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CompanyJson<'a> {
    id: Id,
    identifier: &'a str,
    name: &'a str,
    status: Option<Named<'a>>,
    types: Vec<Option<Named<'a>>>,
    phone_number: &'a str,
    fax_number: &'a str,
    website: &'a str,
    address_line1: &'a str,
    address_line2: Option<&'a str>,
    city: &'a str,
    state: &'a str,
    zip: &'a str,
    country: Option<Named<'a>>,
    deleted_flag: bool,
    default_contact: Option<ContactRef>,
    date_acquired: Ts,
    parent_company: Option<CompanyRef<'a>>,
    market: Option<Named<'static>>,
    site: Option<Named<'a>>,
    lead_flag: bool,
    unsubscribe_flag: bool,
    #[serde(rename = "_info")]
    info: InfoJson<'a>,
}

impl<'a> CompanyJson<'a> {
    fn new(c: &'a Company, data: &'a DataSet) -> CompanyJson<'a> {
        let p = &data.picklists;
        let profile = data.datasets.profile(c.id);
        CompanyJson {
            id: c.id,
            identifier: &c.identifier,
            name: &c.name,
            status: pick(&p.company_statuses, Some(c.status_id), |x| (x.id, &x.name)),
            types: c
                .type_ids
                .iter()
                .map(|t| pick(&p.company_types, Some(*t), |x| (x.id, &x.name)))
                .collect(),
            phone_number: &c.phone,
            fax_number: "",
            website: &c.website,
            address_line1: &c.address_line1,
            address_line2: c.address_line2.as_deref(),
            city: &c.city,
            state: &c.state,
            zip: &c.zip,
            country: pick(&p.countries, Some(c.country_id), |x| (x.id, &x.name)),
            deleted_flag: c.deleted,
            default_contact: contact_ref(data, c.default_contact_id),
            date_acquired: Ts(c.date_entered),
            parent_company: profile.parent_id.map(|p| company_ref(data, p)),
            market: profile.market_id.and_then(|m| {
                MARKETS.iter().find(|x| x.0 == m).map(|x| Named {
                    id: x.0,
                    name: Some(x.1),
                })
            }),
            site: data
                .datasets
                .sites
                .get(&(PRIMARY_SITE_ID_BASE + c.id))
                .map(|s| Named {
                    id: s.id,
                    name: Some(&s.name),
                }),
            lead_flag: false,
            unsubscribe_flag: false,
            info: InfoJson {
                date_entered: Some(Ts(c.date_entered)),
                ..info(&c.info)
            },
        }
    }
}

impl CwRecord for Company {
    fn id(&self) -> Id {
        self.id
    }
    fn last_updated(&self) -> OffsetDateTime {
        self.info.last_updated
    }
    fn hidden_by_default(&self) -> bool {
        self.deleted
    }
    view_methods!(CompanyJson);
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CommunicationItemJson<'a> {
    id: Id,
    contact_id: Id,
    #[serde(rename = "type")]
    kind: Named<'a>,
    value: &'a str,
    default_flag: bool,
    communication_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContactJson<'a> {
    id: Id,
    first_name: &'a str,
    last_name: &'a str,
    company: CompanyRef<'a>,
    title: Option<&'a str>,
    inactive_flag: bool,
    default_flag: bool,
    communication_items: Vec<CommunicationItemJson<'a>>,
    #[serde(rename = "_info")]
    info: InfoJson<'a>,
}

impl<'a> ContactJson<'a> {
    fn new(c: &'a Contact, data: &'a DataSet) -> ContactJson<'a> {
        let items = c
            .communication_items
            .iter()
            .map(|item| {
                let kind = data.picklists.communication_type(item.type_id);
                CommunicationItemJson {
                    id: item.id,
                    contact_id: c.id,
                    kind: Named {
                        id: item.type_id,
                        name: kind.map(|k| k.name.as_str()),
                    },
                    value: &item.value,
                    default_flag: item.default_flag,
                    communication_type: kind.map_or("Phone", |k| k.kind.name()),
                }
            })
            .collect();
        ContactJson {
            id: c.id,
            first_name: &c.first_name,
            last_name: &c.last_name,
            company: company_ref(data, c.company_id),
            title: c.title.as_deref(),
            inactive_flag: c.inactive,
            default_flag: c.default_flag,
            communication_items: items,
            info: info(&c.info),
        }
    }
}

impl CwRecord for Contact {
    fn id(&self) -> Id {
        self.id
    }
    fn last_updated(&self) -> OffsetDateTime {
        self.info.last_updated
    }
    fn company_id(&self) -> Option<Id> {
        Some(self.company_id)
    }
    view_methods!(ContactJson);
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AgreementJson<'a> {
    id: Id,
    name: &'a str,
    #[serde(rename = "type")]
    kind: Option<Named<'a>>,
    company: CompanyRef<'a>,
    contact: Option<ContactRef>,
    start_date: Ts,
    end_date: Option<Ts>,
    no_ending_date_flag: bool,
    cancelled_flag: bool,
    date_cancelled: Option<Ts>,
    billing_cycle: Named<'static>,
    bill_amount: f64,
    bill_one_time_flag: bool,
    agreement_status: &'static str,
    #[serde(rename = "_info")]
    info: InfoJson<'a>,
}

impl<'a> AgreementJson<'a> {
    fn new(a: &'a Agreement, data: &'a DataSet) -> AgreementJson<'a> {
        AgreementJson {
            id: a.id,
            name: &a.name,
            kind: pick(&data.picklists.agreement_types, Some(a.type_id), |x| {
                (x.id, &x.name)
            }),
            company: company_ref(data, a.company_id),
            contact: contact_ref(data, agreement_contact(data, a.company_id)),
            start_date: day(a.start_date),
            end_date: a.end_date.map(day),
            no_ending_date_flag: a.end_date.is_none(),
            cancelled_flag: a.cancelled_date.is_some(),
            date_cancelled: a.cancelled_date.map(day),
            billing_cycle: billing_cycle(a.billing_cycle),
            bill_amount: money(a.bill_amount_cents),
            bill_one_time_flag: a.billing_cycle == BillingCycle::OneTime,
            agreement_status: agreement_status(a.status),
            info: info(&a.info),
        }
    }
}

/// The contact of an agreement: its company's default contact, else the company's first
/// contact (ConnectWise requires one; a company without contacts leaves it out).
fn agreement_contact(data: &DataSet, company_id: Id) -> Option<Id> {
    data.companies
        .get(&company_id)
        .and_then(|c| c.default_contact_id)
        .or_else(|| {
            data.contacts
                .values()
                .find(|c| c.company_id == company_id)
                .map(|c| c.id)
        })
}

impl CwRecord for Agreement {
    fn id(&self) -> Id {
        self.id
    }
    fn last_updated(&self) -> OffsetDateTime {
        self.info.last_updated
    }
    fn company_id(&self) -> Option<Id> {
        Some(self.company_id)
    }
    view_methods!(AgreementJson);
}

#[derive(Serialize)]
struct ProductRef<'a> {
    id: Id,
    identifier: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AdditionJson<'a> {
    id: Id,
    product: ProductRef<'a>,
    description: &'a str,
    invoice_description: &'a str,
    quantity: f64,
    unit_price: f64,
    unit_cost: f64,
    ext_price: f64,
    ext_cost: f64,
    bill_customer: &'static str,
    effective_date: Ts,
    cancelled_date: Option<Ts>,
    agreement_id: Id,
    #[serde(rename = "_info")]
    info: InfoJson<'a>,
}

impl<'a> AdditionJson<'a> {
    fn new(l: &'a AgreementLine, data: &'a DataSet) -> AdditionJson<'a> {
        let product = data
            .picklists
            .products
            .iter()
            .find(|p| p.id == l.product_id);
        let ext = |cents: i64| (cents as f64 * l.quantity).round() / 100.0;
        AdditionJson {
            id: l.id,
            product: ProductRef {
                id: l.product_id,
                identifier: product.map(|p| p.identifier.as_str()),
            },
            description: &l.description,
            invoice_description: &l.description,
            quantity: l.quantity,
            unit_price: money(l.unit_price_cents),
            unit_cost: money(l.unit_cost_cents),
            ext_price: ext(l.unit_price_cents),
            ext_cost: ext(l.unit_cost_cents),
            bill_customer: l.bill_customer.name(),
            effective_date: day(l.effective_date),
            cancelled_date: l.cancelled_date.map(day),
            agreement_id: l.agreement_id,
            info: info(&l.info),
        }
    }
}

impl CwRecord for AgreementLine {
    fn id(&self) -> Id {
        self.id
    }
    fn last_updated(&self) -> OffsetDateTime {
        self.info.last_updated
    }
    view_methods!(AdditionJson);
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QuestionJson<'a> {
    answer_id: Id,
    question_id: Id,
    question: Option<&'a str>,
    answer: Option<&'a str>,
    sequence_number: f64,
    number_of_decimals: u32,
    field_type: &'static str,
    required_flag: bool,
}

/// The id of a configuration's answer to a question: unique over all configurations.
pub(crate) fn answer_id(configuration: Id, question: Id) -> Id {
    question * 1_000_000 + configuration % 1_000_000
}

/// The field type of a question, as ConnectWise's form shows it.
fn field_type(question: &str) -> &'static str {
    if question.to_ascii_lowercase().contains("date") {
        "Date"
    } else {
        "Text"
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfigurationJson<'a> {
    id: Id,
    name: &'a str,
    #[serde(rename = "type")]
    kind: Option<Named<'a>>,
    status: Option<Named<'a>>,
    company: CompanyRef<'a>,
    contact: Option<ContactRef>,
    active_flag: bool,
    serial_number: Option<&'a str>,
    model_number: Option<&'a str>,
    tag_number: Option<&'a str>,
    mac_address: Option<&'a str>,
    ip_address: Option<&'a str>,
    device_identifier: Option<&'a str>,
    manufacturer: Option<Named<'a>>,
    vendor: Option<CompanyRef<'a>>,
    notes: Option<&'a str>,
    installation_date: Option<Ts>,
    warranty_expiration_date: Option<Ts>,
    questions: Vec<QuestionJson<'a>>,
    #[serde(rename = "_info")]
    info: InfoJson<'a>,
}

impl<'a> ConfigurationJson<'a> {
    fn new(c: &'a Configuration, data: &'a DataSet) -> ConfigurationJson<'a> {
        let p = &data.picklists;
        let kind = p.configuration_type(c.type_id);
        let questions = c
            .questions
            .iter()
            .map(|q| {
                let position = kind.and_then(|k| {
                    k.questions
                        .iter()
                        .position(|x| x.id == q.question_id)
                        .map(|i| (i, &k.questions[i]))
                });
                QuestionJson {
                    answer_id: answer_id(c.id, q.question_id),
                    question_id: q.question_id,
                    question: position.map(|(_, x)| x.question.as_str()),
                    answer: q.answer.as_deref(),
                    sequence_number: position.map_or(0.0, |(i, _)| i as f64 + 1.0),
                    number_of_decimals: 0,
                    field_type: field_type(position.map_or("", |(_, x)| x.question.as_str())),
                    required_flag: false,
                }
            })
            .collect();
        ConfigurationJson {
            id: c.id,
            name: &c.name,
            kind: pick(&p.configuration_types, Some(c.type_id), |x| (x.id, &x.name)),
            status: pick(&p.configuration_statuses, Some(c.status_id), |x| {
                (x.id, &x.name)
            }),
            company: company_ref(data, c.company_id),
            contact: contact_ref(data, c.contact_id),
            active_flag: c.active,
            serial_number: c.serial_number.as_deref(),
            model_number: c.model_number.as_deref(),
            tag_number: c.tag_number.as_deref(),
            mac_address: c.mac_address.as_deref(),
            ip_address: c.ip_address.as_deref(),
            device_identifier: c.device_identifier.as_deref(),
            manufacturer: pick(&p.manufacturers, c.manufacturer_id, |x| (x.id, &x.name)),
            vendor: c.vendor_id.map(|v| company_ref(data, v)),
            notes: c.notes.as_deref(),
            installation_date: c.installation_date.map(Ts),
            warranty_expiration_date: c.warranty_expiration.map(Ts),
            questions,
            info: info(&c.info),
        }
    }
}

impl CwRecord for Configuration {
    fn id(&self) -> Id {
        self.id
    }
    fn last_updated(&self) -> OffsetDateTime {
        self.info.last_updated
    }
    fn company_id(&self) -> Option<Id> {
        Some(self.company_id)
    }
    view_methods!(ConfigurationJson);
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TicketJson<'a> {
    id: Id,
    summary: &'a str,
    record_type: &'static str,
    board: Option<Named<'a>>,
    status: Option<Named<'a>>,
    priority: Option<Named<'a>>,
    company: CompanyRef<'a>,
    contact: Option<ContactRef>,
    #[serde(rename = "type")]
    kind: Option<Named<'a>>,
    sub_type: Option<Named<'a>>,
    item: Option<Named<'a>>,
    source: Option<Named<'a>>,
    agreement: Option<Named<'a>>,
    closed_flag: bool,
    /// What an integration stored as its own reference (null when none did).
    #[serde(rename = "externalXRef")]
    external_x_ref: Option<&'a str>,
    #[serde(rename = "_info")]
    info: InfoJson<'a>,
}

impl<'a> TicketJson<'a> {
    fn new(t: &'a Ticket, data: &'a DataSet) -> TicketJson<'a> {
        let p = &data.picklists;
        TicketJson {
            id: t.id,
            summary: &t.summary,
            record_type: "ServiceTicket",
            board: pick(&p.boards, Some(t.board_id), |x| (x.id, &x.name)),
            status: pick(&p.board_statuses, Some(t.status_id), |x| (x.id, &x.name)),
            priority: pick(&p.priorities, Some(t.priority_id), |x| (x.id, &x.name)),
            company: company_ref(data, t.company_id),
            contact: contact_ref(data, t.contact_id),
            kind: pick(&p.board_types, t.type_id, |x| (x.id, &x.name)),
            sub_type: pick(&p.board_subtypes, t.subtype_id, |x| (x.id, &x.name)),
            item: pick(&p.board_items, t.item_id, |x| (x.id, &x.name)),
            source: pick(&p.sources, t.source_id, |x| (x.id, &x.name)),
            agreement: t.agreement_id.map(|id| Named {
                id,
                name: data.agreements.get(&id).map(|a| a.name.as_str()),
            }),
            closed_flag: data.ticket_closed(t),
            external_x_ref: data
                .extra(Entity::Ticket, t.id, "externalXRef")
                .and_then(Value::as_str),
            info: InfoJson {
                date_entered: Some(Ts(t.date_entered)),
                entered_by: Some(&t.entered_by),
                ..info(&t.info)
            },
        }
    }
}

impl CwRecord for Ticket {
    fn id(&self) -> Id {
        self.id
    }
    fn last_updated(&self) -> OffsetDateTime {
        self.info.last_updated
    }
    fn company_id(&self) -> Option<Id> {
        Some(self.company_id)
    }
    view_methods!(TicketJson);
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NoteJson<'a> {
    id: Id,
    ticket_id: Id,
    text: &'a str,
    detail_description_flag: bool,
    internal_analysis_flag: bool,
    resolution_flag: bool,
    date_created: Ts,
    created_by: &'a str,
    #[serde(rename = "_info")]
    info: InfoJson<'a>,
}

impl<'a> NoteJson<'a> {
    fn new(n: &'a Note, _data: &'a DataSet) -> NoteJson<'a> {
        NoteJson {
            id: n.id,
            ticket_id: n.ticket_id,
            text: &n.text,
            detail_description_flag: n.detail_description,
            internal_analysis_flag: n.internal_analysis,
            resolution_flag: n.resolution,
            date_created: Ts(n.date_created),
            created_by: &n.created_by,
            info: info(&n.info),
        }
    }
}

impl CwRecord for Note {
    fn id(&self) -> Id {
        self.id
    }
    fn last_updated(&self) -> OffsetDateTime {
        self.info.last_updated
    }
    view_methods!(NoteJson);
}

/// Reference data never changes at run time.
fn picklist_info() -> Value {
    json!({"lastUpdated": timestamp(PICKLIST_UPDATED), "updatedBy": "Admin1"})
}

macro_rules! picklist_record {
    ($ty:ty, |$s:ident, $d:ident| $body:expr) => {
        impl CwRecord for $ty {
            fn id(&self) -> Id {
                self.id
            }
            fn last_updated(&self) -> OffsetDateTime {
                PICKLIST_UPDATED
            }
            fn render(&self, data: &DataSet) -> Value {
                let ($s, $d) = (self, data);
                let _ = $d;
                let mut v = $body;
                v["_info"] = picklist_info();
                v
            }
        }
    };
}

fn board_ref(data: &DataSet, id: Id) -> Value {
    let name = data
        .picklists
        .boards
        .iter()
        .find(|b| b.id == id)
        .map(|b| b.name.as_str());
    json!({"id": id, "name": name})
}

picklist_record!(CompanyStatus, |s, d| json!({
    "id": s.id, "name": s.name, "defaultFlag": s.default, "inactiveFlag": s.inactive,
    "notifyFlag": false, "disallowSavingFlag": false,
}));
picklist_record!(CompanyType, |s, d| json!({
    "id": s.id, "name": s.name, "defaultFlag": s.id == company_type::CLIENT, "vendorFlag": s.vendor,
}));
picklist_record!(AgreementType, |s, d| json!({
    "id": s.id, "name": s.name, "defaultFlag": false, "inactiveFlag": false,
    "employeeCompRate": "Actual", "employeeCompNotExceed": "Billing",
    "invoicingCycle": "ContractYear", "billTime": "Billable", "billExpenses": "Billable",
    "billProducts": "Billable",
}));
picklist_record!(Product, |s, d| json!({
    "id": s.id, "identifier": s.identifier, "description": s.description, "inactiveFlag": s.inactive,
    "customerDescription": s.description,
    "type": {"id": 1, "name": "Service"},
    "subcategory": {"id": 1, "name": "Managed Services"},
    "price": money(s.price_cents), "cost": money(s.cost_cents),
}));
picklist_record!(Board, |s, d| json!({
    "id": s.id, "name": s.name, "inactiveFlag": s.inactive, "projectFlag": false,
    "location": {"id": 1, "name": "Tampa Office"},
    "department": {"id": 10, "name": "Service"},
}));
picklist_record!(BoardStatus, |s, d| json!({
    "id": s.id, "name": s.name, "board": board_ref(d, s.board_id), "sortOrder": s.sort_order,
    "displayOnBoard": true, "inactive": false, "closedStatus": s.closed, "defaultFlag": s.default,
}));
picklist_record!(BoardEntry, |s, d| json!({
    "id": s.id, "name": s.name, "board": board_ref(d, s.board_id), "inactiveFlag": false,
}));
/// Critical red, high orange, medium yellow, low green.
fn priority_color(sort_order: u32) -> &'static str {
    match sort_order {
        1 => "Red",
        2 => "Orange",
        3 => "Yellow",
        _ => "Green",
    }
}

picklist_record!(Priority, |s, d| json!({
    "id": s.id, "name": s.name, "sortOrder": s.sort_order, "defaultFlag": s.default,
    "color": priority_color(s.sort_order),
}));
picklist_record!(Source, |s, d| json!({
    "id": s.id, "name": s.name, "defaultFlag": s.default,
}));
picklist_record!(ConfigurationType, |s, d| json!({
    "id": s.id, "name": s.name, "inactiveFlag": false,
}));
picklist_record!(ConfigurationStatus, |s, d| json!({
    "id": s.id, "description": s.name, "closedFlag": s.closed, "defaultFlag": s.default,
}));
picklist_record!(Manufacturer, |s, d| json!({
    "id": s.id, "name": s.name, "inactiveFlag": false,
}));

/// The ConnectWise JSON of one record, if it exists.
pub(crate) fn render_entity(data: &DataSet, entity: Entity, id: Id) -> Option<Value> {
    let record: &dyn CwRecord = match entity {
        Entity::Company => data.companies.get(&id)?,
        Entity::Contact => data.contacts.get(&id)?,
        Entity::Agreement => data.agreements.get(&id)?,
        Entity::AgreementLine => data.agreement_lines.get(&id)?,
        Entity::Configuration => data.configurations.get(&id)?,
        Entity::Ticket => data.tickets.get(&id)?,
        Entity::Note => data.notes.get(&id)?,
    };
    Some(strip_nulls(record.render(data)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The copy drops exactly what `strip_nulls` drops, at any depth, and nothing from arrays
    /// or strings.
    #[test]
    fn copying_without_nulls_is_strip_nulls() {
        for value in [
            json!({"a": null, "b": 1, "c": null}),
            json!({"a": null}),
            json!({}),
            json!([]),
            json!([null, {"x": null, "y": [null, {"z": null, "w": "null"}]}, null]),
            json!({"s": "a \"quoted\" \\ null, {}", "n": {"m": null}, "t": true, "f": -1.5e-7}),
            json!({"k\"ey": null, "k\\": "v", "last": null}),
            json!(null),
            json!("text"),
        ] {
            let text = serde_json::to_vec(&value).unwrap();
            let mut out = Vec::new();
            assert_eq!(copy_without_nulls(&text, 0, &mut out), text.len());
            let copied: Value = serde_json::from_slice(&out)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)));
            assert_eq!(copied, strip_nulls(value));
        }
    }
}
