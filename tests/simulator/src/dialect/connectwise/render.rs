//! Neutral records rendered as ConnectWise JSON.

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::data::*;

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
    fn render(&self, data: &DataSet) -> Value;
}

/// `2026-03-01T10:00:00Z`.
pub(crate) fn timestamp(t: OffsetDateTime) -> Value {
    Value::String(t.format(&Rfc3339).unwrap_or_default())
}

fn opt_timestamp(t: Option<OffsetDateTime>) -> Value {
    t.map_or(Value::Null, timestamp)
}

/// Dates are rendered as midnight UTC date-times, as ConnectWise does.
fn day(d: Date) -> Value {
    timestamp(d.midnight().assume_utc())
}

fn opt_day(d: Option<Date>) -> Value {
    d.map_or(Value::Null, day)
}

fn money(cents: i64) -> Value {
    json!(cents as f64 / 100.0)
}

fn info(i: &Info) -> Value {
    json!({"lastUpdated": timestamp(i.last_updated), "updatedBy": i.updated_by})
}

fn named(id: Id, name: &str) -> Value {
    json!({"id": id, "name": name})
}

fn opt_text(s: &Option<String>) -> Value {
    s.as_deref()
        .map_or(Value::Null, |s| Value::String(s.to_string()))
}

/// `{id, identifier, name}` of a company (identifier and name null if it was deleted for good).
pub(crate) fn company_ref(data: &DataSet, id: Id) -> Value {
    match data.companies.get(&id) {
        Some(c) => json!({"id": id, "identifier": c.identifier, "name": c.name}),
        None => json!({"id": id, "identifier": null, "name": null}),
    }
}

fn contact_ref(data: &DataSet, id: Option<Id>) -> Value {
    id.map_or(Value::Null, |id| match data.contacts.get(&id) {
        Some(c) => named(id, &c.full_name()),
        None => json!({"id": id, "name": null}),
    })
}

/// `{id, name}` from a picklist, or null.
fn pick_ref<T>(list: &[T], id: Option<Id>, key: impl Fn(&T) -> (Id, &str)) -> Value {
    id.map_or(Value::Null, |id| {
        match list.iter().map(&key).find(|(i, _)| *i == id) {
            Some((_, name)) => named(id, name),
            None => json!({"id": id, "name": null}),
        }
    })
}

fn billing_cycle(c: BillingCycle) -> Value {
    let (id, name) = match c {
        BillingCycle::Monthly => (1, "Monthly"),
        BillingCycle::Quarterly => (2, "Quarterly"),
        BillingCycle::SemiAnnual => (3, "Semi-Annual"),
        BillingCycle::Annual => (4, "Annual"),
        BillingCycle::OneTime => (5, "One Time"),
    };
    named(id, name)
}

fn agreement_status(s: AgreementStatus) -> &'static str {
    match s {
        AgreementStatus::Active => "Active",
        AgreementStatus::Cancelled => "Cancelled",
        AgreementStatus::Expired => "Expired",
        AgreementStatus::Inactive => "Inactive",
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
    fn render(&self, data: &DataSet) -> Value {
        let p = &data.picklists;
        let types: Vec<Value> = self
            .type_ids
            .iter()
            .map(|t| pick_ref(&p.company_types, Some(*t), |x| (x.id, &x.name)))
            .collect();
        json!({
            "id": self.id,
            "identifier": self.identifier,
            "name": self.name,
            "status": pick_ref(&p.company_statuses, Some(self.status_id), |x| (x.id, &x.name)),
            "types": types,
            "phoneNumber": self.phone,
            "faxNumber": "",
            "website": self.website,
            "addressLine1": self.address_line1,
            "addressLine2": opt_text(&self.address_line2),
            "city": self.city,
            "state": self.state,
            "zip": self.zip,
            "country": pick_ref(&p.countries, Some(self.country_id), |x| (x.id, &x.name)),
            "deletedFlag": self.deleted,
            "defaultContact": contact_ref(data, self.default_contact_id),
            "dateAcquired": timestamp(self.date_entered),
            "leadFlag": false,
            "unsubscribeFlag": false,
            "_info": {
                "lastUpdated": timestamp(self.info.last_updated),
                "updatedBy": self.info.updated_by,
                "dateEntered": timestamp(self.date_entered),
            },
        })
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
    fn render(&self, data: &DataSet) -> Value {
        let items: Vec<Value> = self
            .communication_items
            .iter()
            .map(|item| {
                let kind = data.picklists.communication_type(item.type_id);
                json!({
                    "id": item.id,
                    "contactId": self.id,
                    "type": named(item.type_id, kind.map_or("", |k| k.name.as_str())),
                    "value": item.value,
                    "defaultFlag": item.default_flag,
                    "communicationType": kind.map_or("Phone", |k| k.kind.name()),
                })
            })
            .collect();
        json!({
            "id": self.id,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "company": company_ref(data, self.company_id),
            "title": opt_text(&self.title),
            "inactiveFlag": self.inactive,
            "defaultFlag": self.default_flag,
            "communicationItems": items,
            "_info": info(&self.info),
        })
    }
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
    fn render(&self, data: &DataSet) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "type": pick_ref(&data.picklists.agreement_types, Some(self.type_id), |x| (x.id, &x.name)),
            "company": company_ref(data, self.company_id),
            "startDate": day(self.start_date),
            "endDate": opt_day(self.end_date),
            "noEndingDateFlag": self.end_date.is_none(),
            "cancelledFlag": self.cancelled_date.is_some(),
            "dateCancelled": opt_day(self.cancelled_date),
            "billingCycle": billing_cycle(self.billing_cycle),
            "billAmount": money(self.bill_amount_cents),
            "billOneTimeFlag": self.billing_cycle == BillingCycle::OneTime,
            "agreementStatus": agreement_status(self.status),
            "_info": info(&self.info),
        })
    }
}

impl CwRecord for AgreementLine {
    fn id(&self) -> Id {
        self.id
    }
    fn last_updated(&self) -> OffsetDateTime {
        self.info.last_updated
    }
    fn render(&self, data: &DataSet) -> Value {
        let product = data
            .picklists
            .products
            .iter()
            .find(|p| p.id == self.product_id);
        let ext = |cents: i64| json!((cents as f64 * self.quantity).round() / 100.0);
        json!({
            "id": self.id,
            "product": {"id": self.product_id, "identifier": product.map(|p| p.identifier.as_str())},
            "description": self.description,
            "quantity": self.quantity,
            "unitPrice": money(self.unit_price_cents),
            "unitCost": money(self.unit_cost_cents),
            "extPrice": ext(self.unit_price_cents),
            "extCost": ext(self.unit_cost_cents),
            "billCustomer": self.bill_customer.name(),
            "effectiveDate": day(self.effective_date),
            "cancelledDate": opt_day(self.cancelled_date),
            "agreementId": self.agreement_id,
            "_info": info(&self.info),
        })
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
    fn render(&self, data: &DataSet) -> Value {
        let p = &data.picklists;
        let kind = p.configuration_type(self.type_id);
        let questions: Vec<Value> = self
            .questions
            .iter()
            .map(|q| {
                let text = kind
                    .and_then(|k| k.questions.iter().find(|x| x.id == q.question_id))
                    .map(|x| x.question.as_str());
                json!({"questionId": q.question_id, "question": text, "answer": q.answer})
            })
            .collect();
        json!({
            "id": self.id,
            "name": self.name,
            "type": pick_ref(&p.configuration_types, Some(self.type_id), |x| (x.id, &x.name)),
            "status": pick_ref(&p.configuration_statuses, Some(self.status_id), |x| (x.id, &x.name)),
            "company": company_ref(data, self.company_id),
            "contact": contact_ref(data, self.contact_id),
            "activeFlag": self.active,
            "serialNumber": opt_text(&self.serial_number),
            "modelNumber": opt_text(&self.model_number),
            "tagNumber": opt_text(&self.tag_number),
            "macAddress": opt_text(&self.mac_address),
            "ipAddress": opt_text(&self.ip_address),
            "deviceIdentifier": opt_text(&self.device_identifier),
            "manufacturer": pick_ref(&p.manufacturers, self.manufacturer_id, |x| (x.id, &x.name)),
            "vendor": self.vendor_id.map_or(Value::Null, |v| company_ref(data, v)),
            "notes": opt_text(&self.notes),
            "installationDate": opt_timestamp(self.installation_date),
            "warrantyExpirationDate": opt_timestamp(self.warranty_expiration),
            "questions": questions,
            "_info": info(&self.info),
        })
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
    fn render(&self, data: &DataSet) -> Value {
        let p = &data.picklists;
        let agreement =
            self.agreement_id
                .map_or(Value::Null, |id| match data.agreements.get(&id) {
                    Some(a) => named(id, &a.name),
                    None => json!({"id": id, "name": null}),
                });
        json!({
            "id": self.id,
            "summary": self.summary,
            "recordType": "ServiceTicket",
            "board": pick_ref(&p.boards, Some(self.board_id), |x| (x.id, &x.name)),
            "status": pick_ref(&p.board_statuses, Some(self.status_id), |x| (x.id, &x.name)),
            "priority": pick_ref(&p.priorities, Some(self.priority_id), |x| (x.id, &x.name)),
            "company": company_ref(data, self.company_id),
            "contact": contact_ref(data, self.contact_id),
            "type": pick_ref(&p.board_types, self.type_id, |x| (x.id, &x.name)),
            "subType": pick_ref(&p.board_subtypes, self.subtype_id, |x| (x.id, &x.name)),
            "item": pick_ref(&p.board_items, self.item_id, |x| (x.id, &x.name)),
            "source": pick_ref(&p.sources, self.source_id, |x| (x.id, &x.name)),
            "agreement": agreement,
            "closedFlag": data.ticket_closed(self),
            "_info": {
                "lastUpdated": timestamp(self.info.last_updated),
                "updatedBy": self.info.updated_by,
                "dateEntered": timestamp(self.date_entered),
                "enteredBy": self.entered_by,
            },
        })
    }
}

impl CwRecord for Note {
    fn id(&self) -> Id {
        self.id
    }
    fn last_updated(&self) -> OffsetDateTime {
        self.info.last_updated
    }
    fn render(&self, _data: &DataSet) -> Value {
        json!({
            "id": self.id,
            "ticketId": self.ticket_id,
            "text": self.text,
            "detailDescriptionFlag": self.detail_description,
            "internalAnalysisFlag": self.internal_analysis,
            "resolutionFlag": self.resolution,
            "dateCreated": timestamp(self.date_created),
            "createdBy": self.created_by,
            "_info": info(&self.info),
        })
    }
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
    pick_ref(&data.picklists.boards, Some(id), |x| (x.id, &x.name))
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
}));
picklist_record!(Product, |s, d| json!({
    "id": s.id, "identifier": s.identifier, "description": s.description, "inactiveFlag": s.inactive,
    "price": money(s.price_cents), "cost": money(s.cost_cents),
}));
picklist_record!(Board, |s, d| json!({
    "id": s.id, "name": s.name, "inactiveFlag": s.inactive, "projectFlag": false,
}));
picklist_record!(BoardStatus, |s, d| json!({
    "id": s.id, "name": s.name, "board": board_ref(d, s.board_id), "sortOrder": s.sort_order,
    "displayOnBoard": true, "inactive": false, "closedStatus": s.closed, "defaultFlag": s.default,
}));
picklist_record!(BoardEntry, |s, d| json!({
    "id": s.id, "name": s.name, "board": board_ref(d, s.board_id), "inactiveFlag": false,
}));
picklist_record!(Priority, |s, d| json!({
    "id": s.id, "name": s.name, "sortOrder": s.sort_order, "defaultFlag": s.default,
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
    Some(record.render(data))
}
