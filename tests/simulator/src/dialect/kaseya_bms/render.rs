//! Neutral records as Kaseya BMS JSON (camelCase, flat `xxxId`/`xxxName` references, every
//! property present), and the dialect's picklists with their mapping to the neutral ones.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::data::*;
use crate::dialect::json::{day, money, quantity, timestamp};

/// Location ids: each account has one main location, `LOCATION_ID_BASE + account id`.
pub(crate) const LOCATION_ID_BASE: Id = 5_000;

/// A picklist entry: (BMS id, name, the neutral id it stands for).
pub(crate) type Mapped = (Id, &'static str, Option<Id>);

/// Queues and the neutral boards they are (1 is the default).
pub(crate) const QUEUES: [Mapped; 4] = [
    (1, "Help Desk", Some(1)),
    (2, "Network Operations", Some(2)),
    (3, "Security Operations", Some(4)),
    (4, "Projects", Some(3)),
];
/// Statuses: the BMS id is the status's position on its neutral board (5 and 6 are closed).
pub(crate) const STATUSES: [(Id, &str, bool); 6] = [
    (1, "New", false),
    (2, "In Progress", false),
    (3, "Waiting Customer", false),
    (4, "Escalated", false),
    (5, "Completed", true),
    (6, "Cancelled", true),
];
/// Priorities (the neutral ids; 3 Medium is the default).
pub(crate) const PRIORITIES: [(Id, &str); 4] =
    [(1, "Critical"), (2, "High"), (3, "Medium"), (4, "Low")];
/// Ticket types.
pub(crate) const TICKET_TYPES: [(Id, &str); 5] = [
    (1, "Incident"),
    (2, "Service Request"),
    (3, "Problem"),
    (4, "Change"),
    (5, "Alert"),
];
/// Sources and the neutral sources they are.
pub(crate) const SOURCES: [Mapped; 6] = [
    (1, "Client Portal", Some(3)),
    (2, "Phone", Some(2)),
    (3, "Email", Some(1)),
    (4, "On Site", None),
    (5, "Monitoring System", Some(4)),
    (6, "Other", Some(5)),
];
/// Note types (1 General is the default).
pub(crate) const NOTE_TYPES: [(Id, &str); 3] = [
    (1, "General"),
    (2, "Internal Analysis"),
    (3, "Alert Update"),
];
/// Account types and the neutral company types they are.
pub(crate) const ACCOUNT_TYPES: [Mapped; 5] = [
    (1, "Customer", Some(1)),
    (2, "Prospect", Some(2)),
    (3, "Vendor", Some(4)),
    (4, "Partner", Some(3)),
    (5, "Other", Some(5)),
];
/// Account statuses.
pub(crate) const ACCOUNT_STATUSES: [(Id, &str); 2] = [(1, "Active"), (2, "Inactive")];

/// The BMS id of a neutral id in a mapped list.
pub(crate) fn to_bms(list: &[Mapped], neutral: Id) -> Option<&Mapped> {
    list.iter().find(|m| m.2 == Some(neutral))
}

/// The name of an id in a list of (id, name).
fn name_of(list: &[(Id, &'static str)], id: Id) -> Option<&'static str> {
    list.iter().find(|x| x.0 == id).map(|x| x.1)
}

/// The queue of a neutral board.
pub(crate) fn queue_of(board: Id) -> Id {
    to_bms(&QUEUES, board).map_or(1, |q| q.0)
}

fn pair(id: Option<Id>, name: Option<&str>) -> (Value, Value) {
    match id {
        Some(id) => (id.into(), name.map_or(Value::Null, Value::from)),
        None => (Value::Null, Value::Null),
    }
}

/// An account (a non-deleted company).
pub(crate) fn account(data: &DataSet, c: &Company) -> Value {
    let p = &data.picklists;
    let kind = c
        .type_ids
        .first()
        .and_then(|t| to_bms(&ACCOUNT_TYPES, *t))
        .unwrap_or(&ACCOUNT_TYPES[4]);
    let active = p
        .company_statuses
        .iter()
        .find(|s| s.id == c.status_id)
        .is_none_or(|s| !s.inactive);
    let status = if active { 1 } else { 2 };
    let classification: [Option<(Id, &str)>; 3] =
        [Some((1, "Managed Services")), Some((2, "Break/Fix")), None];
    let classification = classification[(c.id % 3) as usize];
    let market: [Option<(Id, &str)>; 4] = [
        None,
        Some((1, "Healthcare")),
        Some((2, "Legal")),
        Some((3, "Manufacturing")),
    ];
    let market = market[(c.id % 4) as usize];
    let (class_id, class_name) = pair(classification.map(|x| x.0), classification.map(|x| x.1));
    let (market_id, market_name) = pair(market.map(|x| x.0), market.map(|x| x.1));
    let country = p.countries.iter().find(|x| x.id == c.country_id);
    json!({
        "id": c.id,
        "accountCode": c.identifier.to_uppercase(),
        "accountName": c.name,
        "accountTypeId": kind.0,
        "accountTypeName": kind.1,
        "classificationId": class_id,
        "classificationName": class_name,
        "marketId": market_id,
        "marketName": market_name,
        "statusId": status,
        "statusName": name_of(&ACCOUNT_STATUSES, status),
        "isActive": active,
        "phone": c.phone,
        "fax": null,
        "website": c.website,
        "primaryContactId": c.default_contact_id,
        "primaryLocation": {
            "id": LOCATION_ID_BASE + c.id,
            "locationName": "Main Office",
            "address1": c.address_line1,
            "address2": c.address_line2,
            "city": c.city,
            "state": c.state,
            "zipCode": c.zip,
            "country": country.map(|x| x.name.as_str()),
        },
        "createdOn": timestamp(c.date_entered),
        "modifiedOn": timestamp(c.info.last_updated),
    })
}

/// When a contact was entered: its company's entry, unless it changed before that.
fn contact_created(data: &DataSet, c: &Contact) -> OffsetDateTime {
    data.companies
        .get(&c.company_id)
        .map_or(c.info.last_updated, |co| co.date_entered)
        .min(c.info.last_updated)
}

/// A contact of a non-deleted account.
pub(crate) fn contact(data: &DataSet, c: &Contact) -> Value {
    let company = data.companies.get(&c.company_id);
    let mut emails = Vec::new();
    let mut phones = Vec::new();
    let (mut email_default, mut phone_default) = (false, false);
    for item in &c.communication_items {
        let Some(kind) = data.picklists.communication_type(item.type_id) else {
            continue;
        };
        match kind.kind {
            CommunicationKind::Email => {
                let default = item.default_flag && !email_default;
                email_default |= default;
                emails.push(json!({"emailTypeId": 1, "emailTypeName": "Work",
                    "emailAddress": item.value, "isDefault": default}));
            }
            CommunicationKind::Phone | CommunicationKind::Fax => {
                let (id, name) = match item.type_id {
                    communication_type::CELL => (3, "Mobile"),
                    communication_type::FAX => (4, "Fax"),
                    _ => (1, "Work"),
                };
                let default = item.default_flag && id != 4 && !phone_default;
                phone_default |= default;
                phones.push(json!({"phoneTypeId": id, "phoneTypeName": name,
                    "phoneNumber": item.value, "isDefault": default}));
            }
        }
    }
    json!({
        "id": c.id,
        "accountId": c.company_id,
        "accountName": company.map(|x| x.name.as_str()),
        "locationId": LOCATION_ID_BASE + c.company_id,
        "firstName": c.first_name,
        "lastName": c.last_name,
        "title": c.title,
        "isActive": !c.inactive,
        "isPrimary": company.is_some_and(|x| x.default_contact_id == Some(c.id)),
        "emails": emails,
        "phones": phones,
        "createdOn": timestamp(contact_created(data, c)),
        "modifiedOn": timestamp(c.info.last_updated),
    })
}

fn cycle(c: BillingCycle) -> &'static str {
    match c {
        BillingCycle::Monthly => "Monthly",
        BillingCycle::Quarterly => "Quarterly",
        BillingCycle::SemiAnnual => "Semi-Annually",
        BillingCycle::Annual => "Annually",
        BillingCycle::OneTime => "One Time",
    }
}

/// A contract's `modifiedOn`: its own change or a change to one of its services, the later.
pub(crate) fn contract_modified(ix: &Index<'_>, a: &Agreement) -> OffsetDateTime {
    ix.lines(a.id)
        .iter()
        .map(|l| l.info.last_updated)
        .fold(a.info.last_updated, OffsetDateTime::max)
}

/// A service line of a contract.
pub(crate) fn service(data: &DataSet, l: &AgreementLine) -> Value {
    let product = data
        .picklists
        .products
        .iter()
        .find(|p| p.id == l.product_id);
    json!({
        "id": l.id,
        "contractId": l.agreement_id,
        "serviceId": l.product_id,
        "serviceName": product.map(|p| p.identifier.as_str()),
        "description": l.description,
        "quantity": quantity(l.quantity),
        "unitPrice": money(l.unit_price_cents),
        "unitCost": money(l.unit_cost_cents),
        "isBillable": l.bill_customer == BillCustomer::Billable,
        "billingCycle": null,
        "effectiveDate": day(l.effective_date),
        "cancelledDate": l.cancelled_date.map(day),
        "modifiedOn": timestamp(l.info.last_updated),
    })
}

/// A contract with its service lines.
pub(crate) fn contract(ix: &Index<'_>, a: &Agreement) -> Value {
    let data = ix.data;
    let status = match a.status {
        AgreementStatus::Active => "Active",
        AgreementStatus::Inactive => "Inactive",
        AgreementStatus::Expired => "Expired",
        AgreementStatus::Cancelled => "Cancelled",
    };
    let kind = data
        .picklists
        .agreement_types
        .iter()
        .find(|t| t.id == a.type_id);
    let services: Vec<Value> = ix.lines(a.id).iter().map(|l| service(data, l)).collect();
    let created = a
        .start_date
        .midnight()
        .assume_utc()
        .min(a.info.last_updated);
    json!({
        "id": a.id,
        "contractNumber": format!("CT-{:04}", a.id),
        "contractName": a.name,
        "accountId": a.company_id,
        "accountName": data.companies.get(&a.company_id).map(|c| c.name.as_str()),
        "contractTypeId": a.type_id,
        "contractTypeName": kind.map(|t| t.name.as_str()),
        "statusName": status,
        "isRecurring": a.billing_cycle != BillingCycle::OneTime,
        "billingCycle": cycle(a.billing_cycle),
        "billingAmount": money(a.bill_amount_cents),
        "startDate": day(a.start_date),
        "endDate": a.end_date.map(day),
        "cancelledDate": (a.status == AgreementStatus::Cancelled)
            .then(|| day(a.cancelled_date.unwrap_or(a.start_date))),
        "services": services,
        "createdOn": timestamp(created),
        "modifiedOn": timestamp(contract_modified(ix, a)),
    })
}

/// BMS's ticket type of a neutral ticket, when no write set one: Alert on the Alerts board,
/// else by its board type's name.
fn derived_type(data: &DataSet, t: &Ticket) -> Option<Id> {
    if t.board_id == 2 {
        return Some(5);
    }
    let name = data
        .picklists
        .board_types
        .iter()
        .find(|x| Some(x.id) == t.type_id)?
        .name
        .as_str();
    TICKET_TYPES.iter().find(|x| x.1 == name).map(|x| x.0)
}

/// An id a write stored for a record (see `DataSet::extras`).
fn stored(data: &DataSet, entity: Entity, id: Id, key: &str) -> Option<Option<Id>> {
    data.extra(entity, id, key).map(Value::as_u64)
}

/// A ticket's source: what a write stored, else the neutral source.
pub(crate) fn ticket_source(data: &DataSet, t: &Ticket) -> Option<Id> {
    stored(data, Entity::Ticket, t.id, "sourceId")
        .unwrap_or_else(|| t.source_id.and_then(|s| to_bms(&SOURCES, s)).map(|s| s.0))
}

/// A ticket.
pub(crate) fn ticket(ix: &Index<'_>, t: &Ticket) -> Value {
    let data = ix.data;
    let p = &data.picklists;
    let closed = data.ticket_closed(t);
    let status = p
        .board_status(t.status_id)
        .map_or(1, |s| Id::from(s.sort_order));
    let queue = queue_of(t.board_id);
    let kind =
        stored(data, Entity::Ticket, t.id, "typeId").unwrap_or_else(|| derived_type(data, t));
    let issue = t
        .type_id
        .and_then(|id| p.board_types.iter().find(|x| x.id == id));
    let sub = t
        .subtype_id
        .and_then(|id| p.board_subtypes.iter().find(|x| x.id == id))
        .filter(|_| issue.is_some());
    let source = ticket_source(data, t);
    let company = data.companies.get(&t.company_id);
    let contact = t.contact_id.and_then(|id| data.contacts.get(&id));
    let contract = t.agreement_id.and_then(|id| data.agreements.get(&id));
    let d = t.date_entered.date();
    let (type_id, type_name) = pair(kind, kind.and_then(|k| name_of(&TICKET_TYPES, k)));
    let (issue_id, issue_name) = pair(issue.map(|i| i.id), issue.map(|i| i.name.as_str()));
    let (sub_id, sub_name) = pair(
        sub.zip(issue)
            .map(|(s, i)| Picklists::sub_issue_type_id(i.id, s.id)),
        sub.map(|s| s.name.as_str()),
    );
    let source_name = source
        .and_then(|s| SOURCES.iter().find(|x| x.0 == s))
        .map(|x| x.1);
    let (source_id, source_name) = pair(source, source_name);
    let location = stored(data, Entity::Ticket, t.id, "locationId")
        .flatten()
        .unwrap_or(LOCATION_ID_BASE + t.company_id);
    json!({
        "id": t.id,
        "ticketNumber": format!("T{:04}{:02}{:02}.{:04}", d.year(), u8::from(d.month()), d.day(), t.id % 10_000),
        "title": t.summary,
        "details": ix.description(t.id).map_or("", |n| n.text.as_str()),
        "accountId": t.company_id,
        "accountName": company.map(|c| c.name.as_str()),
        "locationId": location,
        "contactId": t.contact_id,
        "contactName": contact.map(Contact::full_name),
        "queueId": queue,
        "queueName": QUEUES.iter().find(|q| q.0 == queue).map(|q| q.1),
        "statusId": status,
        "statusName": STATUSES.iter().find(|s| s.0 == status).map(|s| s.1),
        "priorityId": t.priority_id,
        "priorityName": name_of(&PRIORITIES, t.priority_id),
        "typeId": type_id,
        "typeName": type_name,
        "issueTypeId": issue_id,
        "issueTypeName": issue_name,
        "subIssueTypeId": sub_id,
        "subIssueTypeName": sub_name,
        "sourceId": source_id,
        "sourceName": source_name,
        "contractId": t.agreement_id,
        "contractName": contract.map(|a| a.name.as_str()),
        "isClosed": closed,
        "externalReference": data.extra(Entity::Ticket, t.id, "externalReference"),
        "openDate": timestamp(t.date_entered),
        "closedOn": closed.then(|| timestamp(t.info.last_updated)),
        "createdOn": timestamp(t.date_entered),
        "modifiedOn": timestamp(t.info.last_updated),
    })
}

/// A ticket note.
pub(crate) fn note(data: &DataSet, n: &Note) -> Value {
    let kind = stored(data, Entity::Note, n.id, "noteTypeId")
        .flatten()
        .unwrap_or(if n.internal_analysis { 2 } else { 1 });
    json!({
        "id": n.id,
        "ticketId": n.ticket_id,
        "details": n.text,
        "isInternal": n.internal_analysis,
        "isResolution": n.resolution,
        "noteTypeId": kind,
        "noteTypeName": name_of(&NOTE_TYPES, kind),
        "noteDate": timestamp(n.date_created),
        "createdBy": n.created_by,
        "createdOn": timestamp(n.date_created),
        "modifiedOn": timestamp(n.info.last_updated),
    })
}

/// A picklist: its entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Picklist {
    Queues,
    Statuses,
    Priorities,
    TicketTypes,
    IssueTypes,
    SubIssueTypes,
    Sources,
    NoteTypes,
    AccountTypes,
    AccountStatuses,
    ContractTypes,
    Services,
}

impl Picklist {
    /// The picklist at `area/name` (`servicedesk/queues`).
    pub(crate) fn at(area: &str, name: &str) -> Option<Picklist> {
        Some(match (area, name) {
            ("servicedesk", "queues") => Picklist::Queues,
            ("servicedesk", "statuses") => Picklist::Statuses,
            ("servicedesk", "priorities") => Picklist::Priorities,
            ("servicedesk", "tickettypes") => Picklist::TicketTypes,
            ("servicedesk", "issuetypes") => Picklist::IssueTypes,
            ("servicedesk", "subissuetypes") => Picklist::SubIssueTypes,
            ("servicedesk", "sources") => Picklist::Sources,
            ("servicedesk", "notetypes") => Picklist::NoteTypes,
            ("crm", "accounttypes") => Picklist::AccountTypes,
            ("crm", "accountstatuses") => Picklist::AccountStatuses,
            ("finance", "contracttypes") => Picklist::ContractTypes,
            ("finance", "services") => Picklist::Services,
            _ => return None,
        })
    }

    /// The entries, by id.
    pub(crate) fn entries(self, data: &DataSet) -> Vec<Value> {
        let p = &data.picklists;
        let plain = |list: &[(Id, &str)]| -> Vec<Value> {
            list.iter()
                .map(|(id, name)| json!({"id": id, "name": name, "isActive": true}))
                .collect()
        };
        let mut entries = match self {
            Picklist::Queues => QUEUES
                .iter()
                .map(|(id, name, _)| json!({"id": id, "name": name, "isActive": true, "isDefault": *id == 1}))
                .collect(),
            Picklist::Statuses => STATUSES
                .iter()
                .map(|(id, name, closed)| json!({"id": id, "name": name, "isActive": true,
                    "isClosed": closed, "isDefault": *id == 1}))
                .collect(),
            Picklist::Priorities => PRIORITIES
                .iter()
                .map(|(id, name)| json!({"id": id, "name": name, "isActive": true,
                    "isDefault": *id == 3, "sortOrder": id}))
                .collect(),
            Picklist::TicketTypes => plain(&TICKET_TYPES),
            Picklist::IssueTypes => p
                .board_types
                .iter()
                .map(|t| json!({"id": t.id, "name": t.name, "isActive": true}))
                .collect(),
            Picklist::SubIssueTypes => p
                .sub_issue_types()
                .map(|s| json!({"id": s.id, "name": s.subtype.name, "isActive": true,
                    "issueTypeId": s.issue_type.id}))
                .collect(),
            Picklist::Sources => SOURCES
                .iter()
                .map(|(id, name, _)| json!({"id": id, "name": name, "isActive": true}))
                .collect(),
            Picklist::NoteTypes => NOTE_TYPES
                .iter()
                .map(|(id, name)| json!({"id": id, "name": name, "isActive": true, "isDefault": *id == 1}))
                .collect(),
            Picklist::AccountTypes => ACCOUNT_TYPES
                .iter()
                .map(|(id, name, _)| json!({"id": id, "name": name, "isActive": true}))
                .collect(),
            Picklist::AccountStatuses => plain(&ACCOUNT_STATUSES),
            Picklist::ContractTypes => p
                .agreement_types
                .iter()
                .map(|t| json!({"id": t.id, "name": t.name, "isActive": true}))
                .collect(),
            Picklist::Services => p
                .products
                .iter()
                .map(|s| {
                    let one_time = s.identifier == "ONBOARD" || s.identifier.starts_with("BLOCK");
                    json!({"id": s.id, "name": s.identifier, "isActive": !s.inactive,
                        "description": s.description, "unitPrice": money(s.price_cents),
                        "billingCycle": if one_time { "One Time" } else { "Monthly" }})
                })
                .collect::<Vec<Value>>(),
        };
        entries.sort_by_key(|e| e["id"].as_u64());
        entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_lists_cover_the_neutral_ids() {
        let data = DataSet::sample(1, 20);
        for b in &data.picklists.boards {
            assert!(to_bms(&QUEUES, b.id).is_some(), "board {}", b.id);
        }
        for s in &data.picklists.sources {
            assert!(to_bms(&SOURCES, s.id).is_some(), "source {}", s.id);
        }
        for t in &data.picklists.company_types {
            assert!(to_bms(&ACCOUNT_TYPES, t.id).is_some(), "type {}", t.id);
        }
        let ix = data.index();
        let t = data.tickets.values().next().unwrap();
        let v = ticket(&ix, t);
        assert_eq!(v.as_object().unwrap().len(), 31);
        let c = data
            .contacts
            .values()
            .find(|c| c.communication_items.len() > 1)
            .unwrap();
        let v = contact(&data, c);
        for list in ["emails", "phones"] {
            let defaults = v[list]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["isDefault"] == true)
                .count();
            assert!(defaults <= 1, "{v}");
        }
        let subs = Picklist::SubIssueTypes.entries(&data);
        assert!(subs.iter().all(|s| s["issueTypeId"].is_u64()));
        assert!(Picklist::at("crm", "nope").is_none());
    }
}
