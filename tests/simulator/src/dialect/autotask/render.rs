//! Neutral records as Autotask entities: one value per field of the entity's field list (the
//! value a dialect write stored for it wins), plus `userDefinedFields`.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::{date, datetime};

use super::datasets::{self, DsRec};
use super::entities::{AtEntity, COMPANY_TYPES, PRIORITIES, Ty, status_of};
use crate::data::*;
use crate::dialect::json::{midnight, money, quantity, timestamp};

/// Contract service units are derived, one billing period per contract service: their ids are
/// the service's id plus this.
pub(crate) const UNIT_ID_BASE: Id = 7_000_000;

/// The end of the billing period of a contract service whose contract has no end date.
const OPEN_PERIOD_END: time::Date = date!(2099 - 12 - 31);

/// Records changed before this have no `lastTracked...` date (Autotask started tracking later).
const TRACKING_START: OffsetDateTime = datetime!(2024-01-01 0:00 UTC);

/// The resource id of the API user (creator of records written through the API).
pub(crate) const API_RESOURCE_ID: i64 = 29_683_000;

/// A record of an Autotask entity.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rec<'a> {
    Company(&'a Company),
    Contact(&'a Contact),
    Contract(&'a Agreement),
    Service(&'a AgreementLine),
    Unit(&'a AgreementLine),
    Item(&'a Configuration),
    Ticket(&'a Ticket),
    Note(&'a Note),
    Product(&'a Product),
    /// A dataset record (time entries, invoices, ...).
    Ds(DsRec<'a>),
}

fn opt<T: Into<Value>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, Into::into)
}

fn text(s: &Option<String>) -> Value {
    opt(s.as_deref())
}

fn ts(t: Option<OffsetDateTime>) -> Value {
    t.map_or(Value::Null, timestamp)
}

/// The resource id of a member name (generated records), else the API user's.
pub(crate) fn resource_id(name: &str) -> i64 {
    MEMBERS
        .iter()
        .position(|m| *m == name)
        .map_or(API_RESOURCE_ID, |i| 29_682_885 + i as i64)
}

/// Autotask country ids of the neutral countries (United States, Canada, United Kingdom, Australia).
pub(crate) fn country_id(id: Id) -> i64 {
    match id {
        2 => 38,
        3 => 236,
        4 => 14,
        _ => 237,
    }
}

/// The end of a contract service's billing period: the first of its cancellation, its
/// contract's end and its contract's cancellation; far in the future for an open contract.
pub(crate) fn period_end(line: &AgreementLine, agreement: Option<&Agreement>) -> time::Date {
    [
        line.cancelled_date,
        agreement.and_then(|a| a.end_date),
        agreement.and_then(|a| a.cancelled_date),
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(OPEN_PERIOD_END)
}

/// The first line of a note, cut to 250 characters: its title when none was written.
fn first_line(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    line.chars().take(250).collect()
}

/// Autotask's ticket type of a neutral ticket: Alert on the Alerts board, else by its board type.
fn ticket_type(data: &DataSet, t: &Ticket) -> i64 {
    if t.board_id == 2 {
        return 5;
    }
    let name = t
        .type_id
        .and_then(|id| data.picklists.board_types.iter().find(|x| x.id == id))
        .map_or("", |x| x.name.as_str());
    match name {
        "Incident" => 2,
        "Problem" => 3,
        "Change" => 4,
        _ => 1,
    }
}

impl<'a> Rec<'a> {
    /// The served record of `entity` with this id (deleted companies and their contacts are not
    /// served).
    pub(crate) fn get(data: &'a DataSet, entity: AtEntity, id: Id) -> Option<Rec<'a>> {
        Some(match entity {
            AtEntity::Companies => Rec::Company(data.companies.get(&id).filter(|c| !c.deleted)?),
            AtEntity::Contacts => Rec::Contact(
                data.contacts
                    .get(&id)
                    .filter(|c| data.company_live(c.company_id))?,
            ),
            AtEntity::Contracts => Rec::Contract(data.agreements.get(&id)?),
            AtEntity::ContractServices => Rec::Service(data.agreement_lines.get(&id)?),
            AtEntity::ContractServiceUnits => {
                Rec::Unit(data.agreement_lines.get(&id.checked_sub(UNIT_ID_BASE)?)?)
            }
            AtEntity::ConfigurationItems => Rec::Item(data.configurations.get(&id)?),
            AtEntity::Tickets => Rec::Ticket(data.tickets.get(&id)?),
            AtEntity::TicketNotes => Rec::Note(data.notes.get(&id)?),
            AtEntity::Services => {
                Rec::Product(data.picklists.products.iter().find(|p| p.id == id)?)
            }
            AtEntity::ContractServiceAdjustments => return None,
            other => Rec::Ds(datasets::get(data, other, id)?),
        })
    }

    /// Ids of the served records of `entity` above `after`, ascending.
    pub(crate) fn ids_after(
        data: &'a DataSet,
        entity: AtEntity,
        after: Id,
    ) -> Box<dyn Iterator<Item = Id> + 'a> {
        use std::ops::Bound::{Excluded, Unbounded};
        let range = (Excluded(after), Unbounded);
        match entity {
            AtEntity::Companies => Box::new(
                data.companies
                    .range(range)
                    .filter(|(_, c)| !c.deleted)
                    .map(|(id, _)| *id),
            ),
            AtEntity::Contacts => Box::new(
                data.contacts
                    .range(range)
                    .filter(|(_, c)| data.company_live(c.company_id))
                    .map(|(id, _)| *id),
            ),
            AtEntity::Contracts => Box::new(data.agreements.range(range).map(|(id, _)| *id)),
            AtEntity::ContractServices => {
                Box::new(data.agreement_lines.range(range).map(|(id, _)| *id))
            }
            AtEntity::ContractServiceUnits => Box::new(
                data.agreement_lines
                    .range((Excluded(after.saturating_sub(UNIT_ID_BASE)), Unbounded))
                    .map(|(id, _)| id + UNIT_ID_BASE)
                    .filter(move |id| *id > after),
            ),
            AtEntity::ConfigurationItems => {
                Box::new(data.configurations.range(range).map(|(id, _)| *id))
            }
            AtEntity::Tickets => Box::new(data.tickets.range(range).map(|(id, _)| *id)),
            AtEntity::TicketNotes => Box::new(data.notes.range(range).map(|(id, _)| *id)),
            AtEntity::Services => Box::new(
                data.picklists
                    .products
                    .iter()
                    .map(|p| p.id)
                    .filter(move |id| *id > after),
            ),
            AtEntity::ContractServiceAdjustments => Box::new(std::iter::empty()),
            other => {
                datasets::ids_after(data, other, after).unwrap_or(Box::new(std::iter::empty()))
            }
        }
    }

    /// The neutral record whose dialect fields (extras) apply, if any.
    fn neutral(&self) -> Option<(Entity, Id)> {
        Some(match self {
            Rec::Company(c) => (Entity::Company, c.id),
            Rec::Contact(c) => (Entity::Contact, c.id),
            Rec::Contract(a) => (Entity::Agreement, a.id),
            Rec::Service(l) => (Entity::AgreementLine, l.id),
            Rec::Item(c) => (Entity::Configuration, c.id),
            Rec::Ticket(t) => (Entity::Ticket, t.id),
            Rec::Note(n) => (Entity::Note, n.id),
            Rec::Unit(_) | Rec::Product(_) | Rec::Ds(_) => return None,
        })
    }

    /// The value of `field` (its canonical name): what a dialect write stored, else computed.
    pub(crate) fn value(&self, ix: &Index<'a>, field: &str) -> Value {
        if let Some(v) = self
            .neutral()
            .and_then(|(e, id)| ix.data.extra(e, id, field))
        {
            return v.clone();
        }
        self.computed(ix, field)
    }

    fn computed(&self, ix: &Index<'a>, field: &str) -> Value {
        let data = ix.data;
        match self {
            Rec::Company(c) => company(data, c, field),
            Rec::Contact(c) => contact(data, c, field),
            Rec::Contract(a) => contract(a, field),
            Rec::Service(l) => service(data, l, field),
            Rec::Unit(l) => unit(data, l, field),
            Rec::Item(c) => item(data, c, field),
            Rec::Ticket(t) => ticket(ix, t, field),
            Rec::Note(n) => note(n, field),
            Rec::Product(p) => product(p, field),
            Rec::Ds(r) => r.value(data, field),
        }
    }

    /// Whether a dialect write stored this field (it is read back as written).
    fn written(&self, ix: &Index<'a>, field: &str) -> bool {
        self.neutral()
            .is_some_and(|(e, id)| ix.data.extra(e, id, field).is_some())
    }

    /// How this record's date-times are written: real tenants answer in several forms (data
    /// migrated from older versions, .NET clients writing local times), chosen here by id so
    /// every read of a record looks the same.
    fn time_form(&self) -> TimeForm {
        let id = match self {
            Rec::Company(r) => r.id,
            Rec::Contact(r) => r.id,
            Rec::Contract(r) => r.id,
            Rec::Service(r) | Rec::Unit(r) => r.id,
            Rec::Item(r) => r.id,
            Rec::Ticket(r) => r.id,
            Rec::Note(r) => r.id,
            Rec::Product(r) => r.id,
            Rec::Ds(r) => r.id(),
        };
        TimeForm::of(id)
    }

    /// The whole record as Autotask JSON.
    pub(crate) fn render(&self, ix: &Index<'a>, entity: AtEntity) -> Value {
        let mut out = Map::new();
        let form = self.time_form();
        for f in entity.fields() {
            let mut value = self.value(ix, f.name);
            if f.ty == Ty::DateTime && !self.written(ix, f.name) {
                value = form.apply(value);
            }
            out.insert(f.name.to_string(), value);
        }
        let udfs = match self {
            Rec::Item(c) => Value::Array(user_defined_fields(ix.data, c)),
            _ => json!([]),
        };
        out.insert("userDefinedFields".into(), udfs);
        // Fields a write stored that are not in the list (user-defined fields, ...).
        if let Some(extras) = self.neutral().and_then(|k| ix.data.extras.get(&k)) {
            for (k, v) in extras {
                out.insert(k.clone(), v.clone());
            }
        }
        Value::Object(out)
    }
}

/// A configuration item's user-defined fields: those a write set, else its answers to its
/// type's questions (`{"name": question, "value": answer}`, the same facts ConnectWise shows
/// as `questions`).
pub(crate) fn user_defined_fields(data: &DataSet, c: &Configuration) -> Vec<Value> {
    if let Some(Value::Array(written)) =
        data.extra(Entity::Configuration, c.id, "userDefinedFields")
    {
        return written.clone();
    }
    let kind = data.picklists.configuration_type(c.type_id);
    c.questions
        .iter()
        .filter_map(|q| {
            let question = kind?.questions.iter().find(|x| x.id == q.question_id)?;
            Some(json!({"name": question.question, "value": q.answer}))
        })
        .collect()
}

/// The forms of date-times Autotask answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeForm {
    /// `2026-01-31T09:30:00Z`.
    Zulu,
    /// `2026-01-31T09:30:00.000Z`, milliseconds as in the vendor's examples.
    Millis,
    /// `2026-01-31T09:30:00.0000000`: .NET's seven fractional digits and no offset (UTC).
    DotNet,
    /// `2026-01-31T09:30:00+00:00`.
    Offset,
}

impl TimeForm {
    /// The form of the record with this id: about half the records use `Z`.
    pub(crate) fn of(id: Id) -> TimeForm {
        match id % 6 {
            0..=2 => TimeForm::Zulu,
            3 => TimeForm::Millis,
            4 => TimeForm::DotNet,
            _ => TimeForm::Offset,
        }
    }

    /// A rendered `...Z` date-time in this form (other values unchanged).
    pub(crate) fn apply(self, value: Value) -> Value {
        let Value::String(text) = &value else {
            return value;
        };
        let Some(base) = text.strip_suffix('Z').filter(|b| !b.contains('.')) else {
            return value;
        };
        Value::String(match self {
            TimeForm::Zulu => return value,
            TimeForm::Millis => format!("{base}.000Z"),
            TimeForm::DotNet => format!("{base}.0000000"),
            TimeForm::Offset => format!("{base}+00:00"),
        })
    }
}

fn company(data: &DataSet, c: &Company, field: &str) -> Value {
    let p = &data.picklists;
    let profile = || data.datasets.profile(c.id);
    match field {
        "parentCompanyID" => opt(profile().parent_id),
        "classification" => opt(profile().classification_id),
        "marketSegmentID" => opt(profile().market_id),
        "id" => c.id.into(),
        "companyName" => c.name.as_str().into(),
        "companyNumber" => c.identifier.as_str().into(),
        "companyType" => {
            let neutral = c.type_ids.first().copied();
            COMPANY_TYPES
                .iter()
                .find(|t| t.2.is_some() && t.2 == neutral)
                .map_or(1, |t| t.0)
                .into()
        }
        "isActive" => p
            .company_statuses
            .iter()
            .find(|s| s.id == c.status_id)
            .is_none_or(|s| !s.inactive)
            .into(),
        "phone" => c.phone.as_str().into(),
        "webAddress" => c.website.as_str().into(),
        "address1" => c.address_line1.as_str().into(),
        "address2" => text(&c.address_line2),
        "city" => c.city.as_str().into(),
        "state" => c.state.as_str().into(),
        "postalCode" => c.zip.as_str().into(),
        "countryID" => country_id(c.country_id).into(),
        "ownerResourceID" => resource_id(MEMBERS[0]).into(),
        "isClientPortalActive" | "isTaxExempt" => false.into(),
        "createDate" => timestamp(c.date_entered),
        "lastActivityDate" => timestamp(c.info.last_updated),
        "lastTrackedModifiedDateTime" => tracked(c.info.last_updated),
        _ => Value::Null,
    }
}

/// A modification time Autotask tracked (null before tracking started).
fn tracked(t: OffsetDateTime) -> Value {
    if t < TRACKING_START {
        Value::Null
    } else {
        timestamp(t)
    }
}

fn contact(data: &DataSet, c: &Contact, field: &str) -> Value {
    let of_kind = |kind: CommunicationKind, type_id: Option<Id>| {
        c.communication_items.iter().filter(move |i| {
            data.picklists
                .communication_type(i.type_id)
                .is_some_and(|t| t.kind == kind)
                && type_id.is_none_or(|t| t == i.type_id)
        })
    };
    let email = |n: usize| {
        opt(of_kind(CommunicationKind::Email, None)
            .nth(n)
            .map(|i| i.value.as_str()))
    };
    let phone = |type_id: Id| {
        opt(of_kind(CommunicationKind::Phone, Some(type_id))
            .next()
            .map(|i| i.value.as_str()))
    };
    match field {
        "id" => c.id.into(),
        "companyID" => c.company_id.into(),
        "firstName" => c.first_name.as_str().into(),
        "lastName" => c.last_name.as_str().into(),
        "title" => text(&c.title),
        "emailAddress" => email(0),
        "emailAddress2" => email(1),
        "emailAddress3" => email(2),
        "phone" => phone(communication_type::DIRECT),
        "mobilePhone" => phone(communication_type::CELL),
        "faxNumber" => opt(of_kind(CommunicationKind::Fax, None)
            .next()
            .map(|i| i.value.as_str())),
        "isActive" => i64::from(!c.inactive).into(),
        "primaryContact" => c.default_flag.into(),
        "createDate" => {
            let entered = data
                .companies
                .get(&c.company_id)
                .map_or(c.info.last_updated, |co| co.date_entered);
            timestamp(entered.min(c.info.last_updated))
        }
        "lastActivityDate" | "lastModifiedDate" => timestamp(c.info.last_updated),
        _ => Value::Null,
    }
}

/// Autotask's contract type: Recurring Service for every recurring cycle, Block Hours for block
/// time, Fixed Price for other one-time contracts.
pub(crate) fn contract_type(a: &Agreement) -> i64 {
    match (a.billing_cycle, a.type_id) {
        (BillingCycle::OneTime, 4) => 4,
        (BillingCycle::OneTime, _) => 3,
        _ => 7,
    }
}

fn contract(a: &Agreement, field: &str) -> Value {
    match field {
        "id" => a.id.into(),
        "companyID" => a.company_id.into(),
        "contractName" => a.name.as_str().into(),
        "contractNumber" => format!("C{}", a.id).into(),
        "contractType" => contract_type(a).into(),
        "contractCategory" => a.type_id.into(),
        "contractPeriodType" => match a.billing_cycle {
            BillingCycle::Monthly => 1.into(),
            BillingCycle::Quarterly => 2.into(),
            BillingCycle::SemiAnnual => 3.into(),
            BillingCycle::Annual => 4.into(),
            BillingCycle::OneTime => Value::Null,
        },
        "status" => i64::from(a.status == AgreementStatus::Active).into(),
        "startDate" => midnight(a.start_date),
        "endDate" => a
            .end_date
            .or(a.cancelled_date)
            .map_or(Value::Null, midnight),
        "isDefaultContract" => false.into(),
        "setupFee" => 0.0.into(),
        "estimatedRevenue" => money(a.bill_amount_cents).into(),
        _ => Value::Null,
    }
}

fn product_of(data: &DataSet, id: Id) -> Option<&Product> {
    data.picklists.products.iter().find(|p| p.id == id)
}

fn service(data: &DataSet, l: &AgreementLine, field: &str) -> Value {
    match field {
        "id" => l.id.into(),
        "contractID" => l.agreement_id.into(),
        "serviceID" => l.product_id.into(),
        "invoiceDescription" => l.description.as_str().into(),
        "internalDescription" => opt(product_of(data, l.product_id).map(|p| p.identifier.as_str())),
        "unitPrice" | "internalCurrencyUnitPrice" => money(l.unit_price_cents).into(),
        "unitCost" => money(l.unit_cost_cents).into(),
        _ => Value::Null,
    }
}

fn unit(data: &DataSet, l: &AgreementLine, field: &str) -> Value {
    let ext = |cents: i64| (cents as f64 * l.quantity).round() / 100.0;
    match field {
        "id" => (l.id + UNIT_ID_BASE).into(),
        "contractID" => l.agreement_id.into(),
        "contractServiceID" => l.id.into(),
        "serviceID" => l.product_id.into(),
        "startDate" => midnight(l.effective_date),
        "endDate" => midnight(period_end(l, data.agreements.get(&l.agreement_id))),
        "units" => quantity(l.quantity),
        "price" => ext(l.unit_price_cents).into(),
        "cost" => ext(l.unit_cost_cents).into(),
        _ => Value::Null,
    }
}

fn item(data: &DataSet, c: &Configuration, field: &str) -> Value {
    let rmm = data
        .picklists
        .configuration_type(c.type_id)
        .is_some_and(|t| !t.api_updatable);
    match field {
        "id" => c.id.into(),
        "companyID" => c.company_id.into(),
        "configurationItemType" => c.type_id.into(),
        "productID" => (2000 + c.type_id).into(),
        "isActive" => c.active.into(),
        "referenceTitle" => c.name.as_str().into(),
        "referenceNumber" => text(&c.device_identifier),
        "serialNumber" => text(&c.serial_number),
        "vendorID" => opt(c.vendor_id),
        "contactID" => opt(c.contact_id),
        "notes" => text(&c.notes),
        "installDate" => ts(c.installation_date),
        "warrantyExpirationDate" => ts(c.warranty_expiration),
        "rmmDeviceUID" if rmm => text(&c.device_identifier),
        "rmmDeviceAuditHostname" if rmm => c.name.to_lowercase().into(),
        "rmmDeviceAuditMacAddress" => text(&c.mac_address),
        "rmmDeviceAuditIPAddress" => text(&c.ip_address),
        // Generated items were entered with their company (API-created ones keep their own).
        "createDate" => timestamp(
            data.companies
                .get(&c.company_id)
                .map_or(c.info.last_updated, |co| {
                    co.date_entered.min(c.info.last_updated)
                }),
        ),
        "lastModifiedTime" => timestamp(c.info.last_updated),
        _ => Value::Null,
    }
}

fn ticket(ix: &Index<'_>, t: &Ticket, field: &str) -> Value {
    let data = ix.data;
    let p = &data.picklists;
    let closed = data.ticket_closed(t);
    match field {
        "id" => t.id.into(),
        "ticketNumber" => {
            let d = t.date_entered.date();
            format!(
                "T{:04}{:02}{:02}.{:04}",
                d.year(),
                u8::from(d.month()),
                d.day(),
                t.id % 10_000
            )
            .into()
        }
        "title" => t.summary.as_str().into(),
        "description" => opt(ix.description(t.id).map(|n| n.text.as_str())),
        "companyID" => t.company_id.into(),
        "contactID" => opt(t.contact_id),
        "queueID" => t.board_id.into(),
        "status" => status_of(
            p.board_status(t.status_id)
                .map_or(1, |s| Id::from(s.sort_order)),
        )
        .into(),
        "priority" => PRIORITIES
            .iter()
            .find(|x| x.2 == t.priority_id)
            .map_or(2, |x| x.0)
            .into(),
        "issueType" => opt(t.type_id),
        "subIssueType" => match (t.type_id, t.subtype_id) {
            (Some(ty), Some(sub)) => Picklists::sub_issue_type_id(ty, sub).into(),
            _ => Value::Null,
        },
        "ticketCategory" => match t.board_id {
            2 => 2,
            3 => 3,
            _ => 1,
        }
        .into(),
        "ticketType" => ticket_type(data, t).into(),
        "source" => opt(t.source_id),
        "contractID" => opt(t.agreement_id),
        "completedDate" if closed => timestamp(t.info.last_updated),
        "createDate" => timestamp(t.date_entered),
        "creatorResourceID" => resource_id(&t.entered_by).into(),
        "lastActivityDate" => timestamp(t.info.last_updated),
        "lastTrackedModificationDateTime" => tracked(t.info.last_updated),
        _ => Value::Null,
    }
}

fn note(n: &Note, field: &str) -> Value {
    match field {
        "id" => n.id.into(),
        "ticketID" => n.ticket_id.into(),
        "title" => first_line(&n.text).into(),
        "description" => n.text.as_str().into(),
        "noteType" => 1.into(),
        "publish" => if n.internal_analysis { 2 } else { 1 }.into(),
        "createDateTime" => timestamp(n.date_created),
        "creatorResourceID" => resource_id(&n.created_by).into(),
        "lastActivityDate" => timestamp(n.info.last_updated),
        _ => Value::Null,
    }
}

fn product(p: &Product, field: &str) -> Value {
    match field {
        "id" => p.id.into(),
        "name" => p.description.as_str().into(),
        "description" => p.identifier.as_str().into(),
        "invoiceDescription" => p.description.as_str().into(),
        "unitPrice" => money(p.price_cents).into(),
        "unitCost" => money(p.cost_cents).into(),
        "periodType" => 1.into(),
        "isActive" => (!p.inactive).into(),
        _ => Value::Null,
    }
}

/// The Autotask JSON of a neutral record, if the dialect serves it.
pub(crate) fn render_entity(data: &DataSet, entity: Entity, id: Id) -> Option<Value> {
    let at = match entity {
        Entity::Company => AtEntity::Companies,
        Entity::Contact => AtEntity::Contacts,
        Entity::Agreement => AtEntity::Contracts,
        Entity::AgreementLine => AtEntity::ContractServices,
        Entity::Configuration => AtEntity::ConfigurationItems,
        Entity::Ticket => AtEntity::Tickets,
        Entity::Note => AtEntity::TicketNotes,
    };
    let ix = data.index();
    Rec::get(data, at, id).map(|r| r.render(&ix, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_field_is_rendered_and_nothing_unlisted() {
        let data = DataSet::sample(3, 30);
        let ix = data.index();
        for entity in AtEntity::ALL.into_iter().filter(|e| e.queryable()) {
            let ids: Vec<Id> = Rec::ids_after(&data, entity, 0).collect();
            assert!(!ids.is_empty(), "{entity:?}");
            let mut seen_values = std::collections::HashSet::new();
            for id in &ids {
                let rec = Rec::get(&data, entity, *id).unwrap();
                let json = rec.render(&ix, entity);
                let obj = json.as_object().unwrap();
                assert_eq!(obj.len(), entity.fields().len() + 1, "{entity:?}");
                for (k, v) in obj {
                    if !v.is_null() {
                        seen_values.insert(k.clone());
                    }
                }
            }
            // Every field but the never-set ones carries a value somewhere.
            for f in entity.fields() {
                let unset = [
                    "parentCompanyID",
                    "fax",
                    "alternatePhone",
                    "description",
                    "contactID",
                    "purchaseOrderNumber",
                    "quoteItemID",
                    "approveAndPostDate",
                    "vendorCompanyID",
                    "configurationItemID",
                    "assignedResourceID",
                    "assignedResourceRoleID",
                    "dueDateTime",
                    "createdByContactID",
                    "emailAddress2",
                    "emailAddress3",
                    "externalID",
                ];
                assert!(
                    seen_values.contains(f.name) || unset.contains(&f.name),
                    "{entity:?}.{} is never set",
                    f.name
                );
            }
        }
        let deleted = data.companies.values().find(|c| c.deleted).unwrap();
        assert!(Rec::get(&data, AtEntity::Companies, deleted.id).is_none());
        assert!(render_entity(&data, Entity::Company, deleted.id).is_none());
    }
}
