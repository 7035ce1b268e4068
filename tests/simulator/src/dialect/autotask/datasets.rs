//! The datasets as Autotask entities: their fields (named as in the vendor's Swagger, in
//! camelCase as the API answers) and values. They are queried like every other entity; an
//! updated-since filter is a `gte` on the entity's own last-modified field, where it has one
//! (see the README).

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Unbounded};

use serde_json::Value;

use super::entities::{AtEntity, Field, ID, Ty, f};
use super::render::resource_id;
use crate::data::*;
use crate::dialect::json::{midnight, money, timestamp};

/// A dataset record.
#[derive(Clone, Copy, Debug)]
pub(crate) enum DsRec<'a> {
    TimeEntry(&'a TimeEntry),
    Opportunity(&'a Opportunity),
    Project(&'a Project),
    Task(&'a ProjectTask),
    Invoice(&'a Invoice),
    Resource(&'a Member),
    CompanyNote(&'a CompanyNote),
    Block(&'a ContractBlock),
    Sla(&'a SlaResult),
    Survey(&'a SurveyResult),
    Location(&'a Site),
}

static TIME_ENTRY_FIELDS: &[Field] = &[
    ID,
    f("resourceID", Ty::Integer).refs("Resource"),
    f("ticketID", Ty::Integer).refs("Ticket"),
    f("taskID", Ty::Integer).refs("Task"),
    f("contractID", Ty::Integer).refs("Contract"),
    f("timeEntryType", Ty::Integer),
    f("dateWorked", Ty::DateTime),
    f("startDateTime", Ty::DateTime),
    f("endDateTime", Ty::DateTime),
    f("hoursWorked", Ty::Double),
    f("hoursToBill", Ty::Double),
    f("isNonBillable", Ty::Boolean),
    f("showOnInvoice", Ty::Boolean),
    f("summaryNotes", Ty::Text(8000)),
    f("createDateTime", Ty::DateTime).ro(),
    f("lastModifiedDateTime", Ty::DateTime).ro(),
];

static OPPORTUNITY_FIELDS: &[Field] = &[
    ID,
    f("companyID", Ty::Integer).req().refs("Company"),
    f("contactID", Ty::Integer).refs("Contact"),
    f("title", Ty::Text(128)).req(),
    f("amount", Ty::Double).req(),
    f("cost", Ty::Double).req(),
    f("probability", Ty::Integer).req(),
    f("status", Ty::Integer).req(),
    f("stage", Ty::Integer).req(),
    f("projectedCloseDate", Ty::DateTime).req(),
    f("closedDate", Ty::DateTime),
    f("lostDate", Ty::DateTime),
    f("ownerResourceID", Ty::Integer).req().refs("Resource"),
    f("createDate", Ty::DateTime).ro(),
    f("lastActivity", Ty::DateTime).ro(),
];

static PROJECT_FIELDS: &[Field] = &[
    ID,
    f("companyID", Ty::Integer).req().refs("Company"),
    f("contractID", Ty::Integer).refs("Contract"),
    f("projectName", Ty::Text(100)).req(),
    f("projectNumber", Ty::Text(50)).ro(),
    f("projectType", Ty::Integer).req(),
    f("status", Ty::Integer).req(),
    f("startDateTime", Ty::DateTime).req(),
    f("endDateTime", Ty::DateTime).req(),
    f("completedDateTime", Ty::DateTime).ro(),
    f("estimatedTime", Ty::Double).ro(),
    f("actualHours", Ty::Double).ro(),
    f("projectLeadResourceID", Ty::Integer).refs("Resource"),
    f("createDateTime", Ty::DateTime).ro(),
    f("lastActivityDateTime", Ty::DateTime).ro(),
];

static TASK_FIELDS: &[Field] = &[
    ID,
    f("projectID", Ty::Integer).req().refs("Project"),
    f("title", Ty::Text(255)).req(),
    f("taskNumber", Ty::Text(50)).ro(),
    f("taskType", Ty::Integer).req(),
    f("status", Ty::Integer).req(),
    f("assignedResourceID", Ty::Integer).refs("Resource"),
    f("estimatedHours", Ty::Double),
    f("remainingHours", Ty::Double).ro(),
    f("isTaskBillable", Ty::Boolean),
    f("completedDateTime", Ty::DateTime).ro(),
    f("createDateTime", Ty::DateTime).ro(),
    f("lastActivityDateTime", Ty::DateTime).ro(),
];

static INVOICE_FIELDS: &[Field] = &[
    ID,
    f("companyID", Ty::Integer).ro().refs("Company"),
    f("invoiceNumber", Ty::Text(50)).ro(),
    f("invoiceDateTime", Ty::DateTime).ro(),
    f("dueDate", Ty::DateTime).ro(),
    f("fromDate", Ty::DateTime).ro(),
    f("toDate", Ty::DateTime).ro(),
    f("invoiceTotal", Ty::Double).ro(),
    f("totalTaxValue", Ty::Double).ro(),
    f("isVoided", Ty::Boolean).ro(),
    f("paidDate", Ty::DateTime).ro(),
    f("createDateTime", Ty::DateTime).ro(),
    f("creatorResourceID", Ty::Integer).ro().refs("Resource"),
];

static RESOURCE_FIELDS: &[Field] = &[
    ID,
    f("userName", Ty::Text(32)).req(),
    f("firstName", Ty::Text(50)).req(),
    f("lastName", Ty::Text(50)).req(),
    f("email", Ty::Text(254)).req(),
    f("title", Ty::Text(50)),
    f("officePhone", Ty::Text(25)),
    f("isActive", Ty::Boolean).req(),
    f("hireDate", Ty::DateTime),
    f("resourceType", Ty::Text(15)).ro(),
    f("userType", Ty::Integer).req(),
    f("licenseType", Ty::Integer).ro(),
];

static COMPANY_NOTE_FIELDS: &[Field] = &[
    ID,
    f("companyID", Ty::Integer).req().refs("Company"),
    f("name", Ty::Text(250)),
    f("note", Ty::Text(32000)),
    f("actionType", Ty::Integer).req(),
    f("assignedResourceID", Ty::Integer).req().refs("Resource"),
    f("startDateTime", Ty::DateTime).req(),
    f("endDateTime", Ty::DateTime).req(),
    f("completedDateTime", Ty::DateTime),
    f("createDateTime", Ty::DateTime).ro(),
    f("lastModifiedDate", Ty::DateTime).ro(),
];

static CONTRACT_BLOCK_FIELDS: &[Field] = &[
    ID,
    f("contractID", Ty::Integer).req().refs("Contract"),
    f("datePurchased", Ty::DateTime).req(),
    f("startDate", Ty::DateTime).req(),
    f("endDate", Ty::DateTime).req(),
    f("hours", Ty::Double).req(),
    f("hoursApproved", Ty::Double).ro(),
    f("hourlyRate", Ty::Double).req(),
    f("isPaid", Ty::Boolean),
    f("status", Ty::Integer).ro(),
];

static SLA_RESULT_FIELDS: &[Field] = &[
    ID,
    f("ticketID", Ty::Integer).ro().refs("Ticket"),
    f("serviceLevelAgreementName", Ty::Text(100)).ro(),
    f("firstResponseElapsedHours", Ty::Double).ro(),
    f("isFirstResponseMet", Ty::Boolean).ro(),
    f("resolutionElapsedHours", Ty::Double).ro(),
    f("isResolutionMet", Ty::Boolean).ro(),
    f("resolutionResourceID", Ty::Integer).ro().refs("Resource"),
];

static SURVEY_RESULT_FIELDS: &[Field] = &[
    ID,
    f("surveyID", Ty::Integer).ro().refs("Survey"),
    f("ticketID", Ty::Integer).ro().refs("Ticket"),
    f("companyID", Ty::Integer).ro().refs("Company"),
    f("contactID", Ty::Integer).ro().refs("Contact"),
    f("surveyRating", Ty::Double).ro(),
    f("sendDate", Ty::DateTime).ro(),
    f("completeDate", Ty::DateTime).ro(),
];

static COMPANY_LOCATION_FIELDS: &[Field] = &[
    ID,
    f("companyID", Ty::Integer).req().refs("Company"),
    f("name", Ty::Text(100)).req(),
    f("address1", Ty::Text(150)),
    f("city", Ty::Text(50)),
    f("state", Ty::Text(25)),
    f("postalCode", Ty::Text(20)),
    f("countryID", Ty::Integer).refs("Country"),
    f("phone", Ty::Text(25)),
    f("isPrimary", Ty::Boolean),
    f("isActive", Ty::Boolean),
    f("isTaxExempt", Ty::Boolean),
];

/// The fields of a dataset entity (none for the core entities, which list their own).
pub(crate) fn fields(entity: AtEntity) -> &'static [Field] {
    match entity {
        AtEntity::TimeEntries => TIME_ENTRY_FIELDS,
        AtEntity::Opportunities => OPPORTUNITY_FIELDS,
        AtEntity::Projects => PROJECT_FIELDS,
        AtEntity::Tasks => TASK_FIELDS,
        AtEntity::Invoices => INVOICE_FIELDS,
        AtEntity::Resources => RESOURCE_FIELDS,
        AtEntity::CompanyNotes => COMPANY_NOTE_FIELDS,
        AtEntity::ContractBlocks => CONTRACT_BLOCK_FIELDS,
        AtEntity::ServiceLevelAgreementResults => SLA_RESULT_FIELDS,
        AtEntity::SurveyResults => SURVEY_RESULT_FIELDS,
        AtEntity::CompanyLocations => COMPANY_LOCATION_FIELDS,
        _ => &[],
    }
}

/// The record of a dataset entity with this id.
pub(crate) fn get(data: &DataSet, entity: AtEntity, id: Id) -> Option<DsRec<'_>> {
    let d = &data.datasets;
    Some(match entity {
        AtEntity::TimeEntries => DsRec::TimeEntry(d.time_entries.get(&id)?),
        AtEntity::Opportunities => DsRec::Opportunity(d.opportunities.get(&id)?),
        AtEntity::Projects => DsRec::Project(d.projects.get(&id)?),
        AtEntity::Tasks => DsRec::Task(d.project_tasks.get(&id)?),
        AtEntity::Invoices => DsRec::Invoice(d.invoices.get(&id)?),
        AtEntity::Resources => DsRec::Resource(d.members.get(&id)?),
        // Like their contacts, the notes and locations of deleted companies are not served.
        AtEntity::CompanyNotes => DsRec::CompanyNote(
            d.company_notes
                .get(&id)
                .filter(|n| data.company_live(n.company_id))?,
        ),
        AtEntity::ContractBlocks => DsRec::Block(d.contract_blocks.get(&id)?),
        AtEntity::ServiceLevelAgreementResults => DsRec::Sla(d.sla_results.get(&id)?),
        AtEntity::SurveyResults => DsRec::Survey(d.survey_results.get(&id)?),
        AtEntity::CompanyLocations => DsRec::Location(
            d.sites
                .get(&id)
                .filter(|s| data.company_live(s.company_id))?,
        ),
        _ => return None,
    })
}

fn keys_after<T>(map: &BTreeMap<Id, T>, after: Id) -> Box<dyn Iterator<Item = Id> + '_> {
    Box::new(map.range((Excluded(after), Unbounded)).map(|(id, _)| *id))
}

/// Ids of a dataset entity's records above `after`, ascending (`None` for other entities).
pub(crate) fn ids_after(
    data: &DataSet,
    entity: AtEntity,
    after: Id,
) -> Option<Box<dyn Iterator<Item = Id> + '_>> {
    let d = &data.datasets;
    Some(match entity {
        AtEntity::TimeEntries => keys_after(&d.time_entries, after),
        AtEntity::Opportunities => keys_after(&d.opportunities, after),
        AtEntity::Projects => keys_after(&d.projects, after),
        AtEntity::Tasks => keys_after(&d.project_tasks, after),
        AtEntity::Invoices => keys_after(&d.invoices, after),
        AtEntity::Resources => keys_after(&d.members, after),
        AtEntity::CompanyNotes => Box::new(
            d.company_notes
                .range((Excluded(after), Unbounded))
                .filter(|(_, n)| data.company_live(n.company_id))
                .map(|(id, _)| *id),
        ),
        AtEntity::ContractBlocks => keys_after(&d.contract_blocks, after),
        AtEntity::ServiceLevelAgreementResults => keys_after(&d.sla_results, after),
        AtEntity::SurveyResults => keys_after(&d.survey_results, after),
        AtEntity::CompanyLocations => Box::new(
            d.sites
                .range((Excluded(after), Unbounded))
                .filter(|(_, s)| data.company_live(s.company_id))
                .map(|(id, _)| *id),
        ),
        _ => return None,
    })
}

fn opt<T: Into<Value>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, Into::into)
}

/// Autotask's resource id of a member (the dataset's members are Autotask's resources).
fn resource(data: &DataSet, member: Id) -> Value {
    match data.datasets.members.get(&member) {
        Some(m) => m.id.into(),
        None => resource_id("").into(),
    }
}

impl DsRec<'_> {
    /// The value of `field` (its canonical name).
    pub(crate) fn value(&self, data: &DataSet, field: &str) -> Value {
        if field == "id" {
            return self.id().into();
        }
        match self {
            DsRec::TimeEntry(t) => time_entry(data, t, field),
            DsRec::Opportunity(o) => opportunity(data, o, field),
            DsRec::Project(p) => project(data, p, field),
            DsRec::Task(t) => task(data, t, field),
            DsRec::Invoice(i) => invoice(i, field),
            DsRec::Resource(m) => member(m, field),
            DsRec::CompanyNote(n) => company_note(data, n, field),
            DsRec::Block(b) => block(b, field),
            DsRec::Sla(s) => sla(data, s, field),
            DsRec::Survey(s) => survey(s, field),
            DsRec::Location(s) => location(s, field),
        }
    }

    /// The record's id.
    pub(crate) fn id(&self) -> Id {
        match self {
            DsRec::TimeEntry(r) => r.id,
            DsRec::Opportunity(r) => r.id,
            DsRec::Project(r) => r.id,
            DsRec::Task(r) => r.id,
            DsRec::Invoice(r) => r.id,
            DsRec::Resource(r) => r.id,
            DsRec::CompanyNote(r) => r.id,
            DsRec::Block(r) => r.id,
            DsRec::Sla(r) => r.id,
            DsRec::Survey(r) => r.id,
            DsRec::Location(r) => r.id,
        }
    }
}

fn time_entry(data: &DataSet, t: &TimeEntry, field: &str) -> Value {
    match field {
        "resourceID" => resource(data, t.member_id),
        "ticketID" => match t.charge_to {
            ChargeTo::Ticket(id) => id.into(),
            ChargeTo::ProjectTask(_) => Value::Null,
        },
        "taskID" => match t.charge_to {
            ChargeTo::ProjectTask(id) => id.into(),
            ChargeTo::Ticket(_) => Value::Null,
        },
        "contractID" => opt(t.agreement_id),
        // 2 ticket time, 6 project task time.
        "timeEntryType" => match t.charge_to {
            ChargeTo::Ticket(_) => 2.into(),
            ChargeTo::ProjectTask(_) => 6.into(),
        },
        "dateWorked" => midnight(t.time_start.date()),
        "startDateTime" => timestamp(t.time_start),
        "endDateTime" => timestamp(t.time_end),
        "hoursWorked" => t.hours.into(),
        "hoursToBill" => if t.billable == BillCustomer::Billable {
            t.hours
        } else {
            0.0
        }
        .into(),
        "isNonBillable" => (t.billable == BillCustomer::DoNotBill).into(),
        "showOnInvoice" => (t.billable != BillCustomer::DoNotBill).into(),
        "summaryNotes" => t.notes.as_str().into(),
        "createDateTime" => timestamp(t.time_end),
        "lastModifiedDateTime" => timestamp(t.info.last_updated),
        _ => Value::Null,
    }
}

fn opportunity(data: &DataSet, o: &Opportunity, field: &str) -> Value {
    // Autotask's opportunity statuses: 0 Not Ready To Buy, 1 Active, 2 Lost, 3 Closed (won).
    let closed_at = || midnight(o.expected_close);
    match field {
        "companyID" => o.company_id.into(),
        "contactID" => opt(o.contact_id),
        "title" => o.name.as_str().into(),
        "amount" => money(o.amount_cents).into(),
        "cost" => money(o.amount_cents * 6 / 10).into(),
        "probability" => o.probability.into(),
        "status" => match o.status {
            OpportunityStatus::Open => 1,
            OpportunityStatus::Lost => 2,
            OpportunityStatus::Won => 3,
        }
        .into(),
        "stage" => match o.status {
            OpportunityStatus::Open => 1,
            _ => 4,
        }
        .into(),
        "projectedCloseDate" => midnight(o.expected_close),
        "closedDate" if o.status == OpportunityStatus::Won => closed_at(),
        "lostDate" if o.status == OpportunityStatus::Lost => closed_at(),
        "ownerResourceID" => resource(data, o.sales_rep_id),
        "createDate" => timestamp(o.date_entered),
        "lastActivity" => timestamp(o.info.last_updated),
        _ => Value::Null,
    }
}

fn project(data: &DataSet, p: &Project, field: &str) -> Value {
    match field {
        "companyID" => p.company_id.into(),
        "contractID" => opt(p.agreement_id),
        "projectName" => p.name.as_str().into(),
        "projectNumber" => format!("P{}", p.id).into(),
        // 5 Client project.
        "projectType" => 5.into(),
        // 1 New, 5 Complete.
        "status" => if p.closed { 5 } else { 1 }.into(),
        "startDateTime" => midnight(p.estimated_start),
        "endDateTime" => midnight(p.estimated_end),
        "completedDateTime" if p.closed => timestamp(p.info.last_updated),
        "estimatedTime" => p.budget_hours.into(),
        "actualHours" => p.actual_hours.into(),
        "projectLeadResourceID" => resource(data, p.manager_id),
        "createDateTime" => timestamp(p.date_entered),
        "lastActivityDateTime" => timestamp(p.info.last_updated),
        _ => Value::Null,
    }
}

fn task(data: &DataSet, t: &ProjectTask, field: &str) -> Value {
    match field {
        "projectID" => t.project_id.into(),
        "title" => t.summary.as_str().into(),
        "taskNumber" => format!("T{}", t.id).into(),
        // 1 Fixed Work.
        "taskType" => 1.into(),
        "status" => if t.closed { 5 } else { 1 }.into(),
        "assignedResourceID" => resource(data, t.owner_id),
        "estimatedHours" => t.budget_hours.into(),
        "remainingHours" => if t.closed { 0.0 } else { t.budget_hours }.into(),
        "isTaskBillable" => true.into(),
        "completedDateTime" if t.closed => timestamp(t.info.last_updated),
        "createDateTime" => timestamp(t.date_entered),
        "lastActivityDateTime" => timestamp(t.info.last_updated),
        _ => Value::Null,
    }
}

fn invoice(i: &Invoice, field: &str) -> Value {
    match field {
        "companyID" => i.company_id.into(),
        "invoiceNumber" => i.number.as_str().into(),
        "invoiceDateTime" => midnight(i.date),
        "dueDate" => midnight(i.due),
        "fromDate" => midnight(i.date),
        "toDate" => midnight(i.due),
        "invoiceTotal" => money(i.total_cents).into(),
        "totalTaxValue" => 0.0.into(),
        "isVoided" => false.into(),
        "paidDate" => opt(i.paid.map(midnight)),
        "createDateTime" => timestamp(i.date.midnight().assume_utc()),
        "creatorResourceID" => resource_id("Admin1").into(),
        _ => Value::Null,
    }
}

fn member(m: &Member, field: &str) -> Value {
    match field {
        "userName" => m.identifier.as_str().into(),
        "firstName" => m.first_name.as_str().into(),
        "lastName" => m.last_name.as_str().into(),
        "email" => m.email.as_str().into(),
        "title" => m.title.as_str().into(),
        "officePhone" => m.phone.as_str().into(),
        "isActive" => (!m.inactive).into(),
        "hireDate" => timestamp(m.hire_date),
        "resourceType" => "Employee".into(),
        // 1 Full, 2 Administrator.
        "userType" => if m.identifier == "Admin1" { 2 } else { 1 }.into(),
        "licenseType" => 1.into(),
        _ => Value::Null,
    }
}

fn company_note(data: &DataSet, n: &CompanyNote, field: &str) -> Value {
    match field {
        "companyID" => n.company_id.into(),
        "name" => n.text.chars().take(60).collect::<String>().into(),
        "note" => n.text.as_str().into(),
        // 3 General note.
        "actionType" => 3.into(),
        "assignedResourceID" => data
            .datasets
            .member_named(&n.entered_by)
            .map_or_else(|| resource_id(&n.entered_by).into(), |m| m.id.into()),
        "startDateTime" | "endDateTime" | "completedDateTime" | "createDateTime" => {
            timestamp(n.date_created)
        }
        "lastModifiedDate" => timestamp(n.info.last_updated),
        _ => Value::Null,
    }
}

fn block(b: &ContractBlock, field: &str) -> Value {
    match field {
        "contractID" => b.agreement_id.into(),
        "datePurchased" => midnight(b.date_purchased),
        "startDate" => midnight(b.start),
        "endDate" => midnight(b.end),
        "hours" => b.hours.into(),
        "hoursApproved" => b.hours_approved.into(),
        "hourlyRate" => money(b.hourly_rate_cents).into(),
        "isPaid" => b.paid.into(),
        "status" => 1.into(),
        _ => Value::Null,
    }
}

fn sla(data: &DataSet, s: &SlaResult, field: &str) -> Value {
    match field {
        "ticketID" => s.ticket_id.into(),
        "serviceLevelAgreementName" => s.sla_name.as_str().into(),
        "firstResponseElapsedHours" => s.first_response_hours.into(),
        "isFirstResponseMet" => s.first_response_met.into(),
        "resolutionElapsedHours" => s.resolution_hours.into(),
        "isResolutionMet" => s.resolution_met.into(),
        "resolutionResourceID" => resource(data, s.resolution_member_id),
        _ => Value::Null,
    }
}

fn survey(s: &SurveyResult, field: &str) -> Value {
    match field {
        "surveyID" => s.survey_id.into(),
        "ticketID" => s.ticket_id.into(),
        "companyID" => s.company_id.into(),
        "contactID" => opt(s.contact_id),
        "surveyRating" => s.rating.into(),
        "sendDate" => timestamp(s.send_date),
        "completeDate" => timestamp(s.complete_date),
        _ => Value::Null,
    }
}

fn location(s: &Site, field: &str) -> Value {
    match field {
        "companyID" => s.company_id.into(),
        "name" => s.name.as_str().into(),
        "address1" => s.address_line1.as_str().into(),
        "city" => s.city.as_str().into(),
        "state" => s.state.as_str().into(),
        "postalCode" => s.zip.as_str().into(),
        "countryID" => super::render::country_id(s.country_id).into(),
        "phone" => s.phone.as_str().into(),
        "isPrimary" => s.primary.into(),
        "isActive" => (!s.inactive).into(),
        "isTaxExempt" => false.into(),
        _ => Value::Null,
    }
}
