//! The datasets (time entries, opportunities, projects, project tickets, invoices, members,
//! company notes and sites) as ConnectWise records, shaped after the 2026.4 GET schemas.
//!
//! Absent optional values are rendered as `null` here, so conditions know the field; the
//! responses leave them out (see [`strip_nulls`](super::render::strip_nulls)), as ConnectWise
//! does for fields its schema does not let be null.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::render::CwRecord;
use crate::data::*;
use crate::dialect::json::{midnight, money, timestamp};

fn info(i: &Info) -> Value {
    json!({"lastUpdated": timestamp(i.last_updated), "updatedBy": i.updated_by})
}

fn company(data: &DataSet, id: Id) -> Value {
    let c = data.companies.get(&id);
    json!({"id": id, "identifier": c.map(|c| &c.identifier), "name": c.map(|c| &c.name)})
}

fn member(data: &DataSet, id: Id) -> Value {
    let m = data.datasets.members.get(&id);
    json!({"id": id, "identifier": m.map(|m| &m.identifier), "name": m.map(Member::full_name)})
}

fn contact(data: &DataSet, id: Option<Id>) -> Value {
    match id {
        Some(id) => json!({"id": id, "name": data.contacts.get(&id).map(Contact::full_name)}),
        None => Value::Null,
    }
}

fn agreement(data: &DataSet, id: Option<Id>) -> Value {
    match id {
        Some(id) => json!({"id": id, "name": data.agreements.get(&id).map(|a| &a.name)}),
        None => Value::Null,
    }
}

fn country(data: &DataSet, id: Id) -> Value {
    let name = data
        .picklists
        .countries
        .iter()
        .find(|c| c.id == id)
        .map(|c| &c.name);
    json!({"id": id, "name": name})
}

/// Every dataset record: id, `_info.lastUpdated`, and a company when it has one.
macro_rules! dataset_record {
    ($ty:ty, $company:expr, $render:ident) => {
        impl CwRecord for $ty {
            fn id(&self) -> Id {
                self.id
            }
            fn last_updated(&self) -> OffsetDateTime {
                self.info.last_updated
            }
            fn company_id(&self) -> Option<Id> {
                #[allow(clippy::redundant_closure_call)]
                ($company)(self)
            }
            fn render(&self, data: &DataSet) -> Value {
                $render(self, data)
            }
        }
    };
}

fn time_entry(t: &TimeEntry, data: &DataSet) -> Value {
    let (charge_type, charge_id, ticket, project) = match t.charge_to {
        ChargeTo::Ticket(id) => (
            "ServiceTicket",
            id,
            json!({"id": id, "summary": data.tickets.get(&id).map(|t| &t.summary)}),
            Value::Null,
        ),
        ChargeTo::ProjectTask(id) => {
            let task = data.datasets.project_tasks.get(&id);
            let project = task.and_then(|t| data.datasets.projects.get(&t.project_id));
            (
                "ProjectTicket",
                id,
                json!({"id": id, "summary": task.map(|t| &t.summary)}),
                match project {
                    Some(p) => json!({"id": p.id, "name": p.name}),
                    None => Value::Null,
                },
            )
        }
    };
    json!({
        "id": t.id,
        "company": company(data, t.company_id),
        "companyType": "Client",
        "chargeToId": charge_id,
        "chargeToType": charge_type,
        "member": member(data, t.member_id),
        "agreement": agreement(data, t.agreement_id),
        "timeStart": timestamp(t.time_start),
        "timeEnd": timestamp(t.time_end),
        "hoursDeduct": 0.0,
        "actualHours": t.hours,
        "billableOption": t.billable.name(),
        "notes": t.notes,
        "addToDetailDescriptionFlag": false,
        "addToInternalAnalysisFlag": false,
        "addToResolutionFlag": false,
        "hoursBilled": if t.billable == BillCustomer::Billable { t.hours } else { 0.0 },
        "enteredBy": t.info.updated_by,
        "dateEntered": timestamp(t.time_end),
        "status": "Open",
        "ticket": ticket,
        "project": project,
        "_info": info(&t.info),
    })
}
dataset_record!(TimeEntry, |t: &TimeEntry| Some(t.company_id), time_entry);

fn opportunity(o: &Opportunity, data: &DataSet) -> Value {
    let (status_id, status) = match o.status {
        OpportunityStatus::Open => (1, "Open"),
        OpportunityStatus::Won => (2, "Won"),
        OpportunityStatus::Lost => (3, "Lost"),
    };
    let closed = o.status != OpportunityStatus::Open;
    json!({
        "id": o.id,
        "name": o.name,
        "expectedCloseDate": midnight(o.expected_close),
        "status": {"id": status_id, "name": status},
        "probability": {"id": o.probability / 5 + 1, "name": format!("{}%", o.probability)},
        "primarySalesRep": member(data, o.sales_rep_id),
        "company": company(data, o.company_id),
        "contact": contact(data, o.contact_id),
        "closedDate": if closed { midnight(o.expected_close) } else { Value::Null },
        "dateBecameLead": timestamp(o.date_entered),
        "totalSalesTax": 0.0,
        "notes": format!("Expected revenue {:.2}", money(o.amount_cents)),
        "_info": info(&o.info),
    })
}
dataset_record!(
    Opportunity,
    |o: &Opportunity| Some(o.company_id),
    opportunity
);

fn project(p: &Project, data: &DataSet) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "billingMethod": "ActualRates",
        "board": {"id": 1, "name": "Professional Services"},
        "company": company(data, p.company_id),
        "contact": contact(data, p.contact_id),
        "agreement": agreement(data, p.agreement_id),
        "estimatedStart": midnight(p.estimated_start),
        "estimatedEnd": midnight(p.estimated_end),
        "actualStart": midnight(p.estimated_start),
        "actualEnd": if p.closed { midnight(p.estimated_end) } else { Value::Null },
        "budgetHours": p.budget_hours,
        "estimatedHours": p.budget_hours,
        "actualHours": p.actual_hours,
        "percentComplete": if p.budget_hours > 0.0 {
            (p.actual_hours / p.budget_hours * 100.0).min(100.0).round() / 100.0
        } else {
            0.0
        },
        "manager": member(data, p.manager_id),
        "status": if p.closed {
            json!({"id": 2, "name": "Completed"})
        } else {
            json!({"id": 1, "name": "Open"})
        },
        "closedFlag": p.closed,
        "billTime": "Billable",
        "billExpenses": "Billable",
        "billProducts": "Billable",
        "_info": info(&p.info),
    })
}
dataset_record!(Project, |p: &Project| Some(p.company_id), project);

fn project_task(t: &ProjectTask, data: &DataSet) -> Value {
    let project = data.datasets.projects.get(&t.project_id);
    let actual: f64 = data
        .datasets
        .time_entries
        .values()
        .filter(|e| e.charge_to == ChargeTo::ProjectTask(t.id))
        .map(|e| e.hours)
        .sum();
    json!({
        "id": t.id,
        "summary": t.summary,
        "isIssueFlag": false,
        "board": {"id": 1, "name": "Professional Services"},
        "status": if t.closed {
            json!({"id": 2, "name": "Completed"})
        } else {
            json!({"id": 1, "name": "New"})
        },
        "project": {"id": t.project_id, "name": project.map(|p| &p.name)},
        "phase": {"id": t.project_id * 10 % 1_000_000 + 1, "name": "Phase 1"},
        "company": company(data, t.company_id),
        "owner": member(data, t.owner_id),
        "budgetHours": t.budget_hours,
        "actualHours": actual,
        "closedFlag": t.closed,
        "_info": info(&t.info),
    })
}
dataset_record!(
    ProjectTask,
    |t: &ProjectTask| Some(t.company_id),
    project_task
);

fn invoice(i: &Invoice, data: &DataSet) -> Value {
    let total = money(i.total_cents);
    let paid = if i.paid.is_some() { total } else { 0.0 };
    json!({
        "id": i.id,
        "invoiceNumber": i.number,
        "type": "Agreement",
        "status": if i.paid.is_some() {
            json!({"id": 3, "name": "Paid", "isClosed": true})
        } else {
            json!({"id": 1, "name": "Open", "isClosed": false})
        },
        "company": company(data, i.company_id),
        "billToCompany": company(data, i.company_id),
        "applyToType": "Agreement",
        "applyToId": i.agreement_id,
        "date": midnight(i.date),
        "dueDate": midnight(i.due),
        "subtotal": total,
        "total": total,
        "salesTax": 0.0,
        "payments": paid,
        "credits": 0.0,
        "balance": total - paid,
        "agreement": agreement(data, Some(i.agreement_id)),
        "_info": info(&i.info),
    })
}
dataset_record!(Invoice, |i: &Invoice| Some(i.company_id), invoice);

fn member_record(m: &Member, _data: &DataSet) -> Value {
    json!({
        "id": m.id,
        "identifier": m.identifier,
        "disableOnlineFlag": false,
        "licenseClass": "F",
        "inactiveFlag": m.inactive,
        "firstName": m.first_name,
        "lastName": m.last_name,
        "hireDate": timestamp(m.hire_date),
        "officeEmail": m.email,
        "defaultEmail": "Office",
        "primaryEmail": m.email,
        "officePhone": m.phone,
        "defaultPhone": "Office",
        "securityRole": {"id": 63, "name": "Technician"},
        "title": m.title,
        "adminFlag": m.identifier == "Admin1",
        "_info": info(&m.info),
    })
}
dataset_record!(Member, |_: &Member| None, member_record);

fn company_note(n: &CompanyNote, data: &DataSet) -> Value {
    json!({
        "id": n.id,
        "text": n.text,
        "type": {"id": 1, "name": "General Note"},
        "flagged": n.flagged,
        "enteredBy": n.entered_by,
        "company": company(data, n.company_id),
        "_info": {
            "lastUpdated": timestamp(n.info.last_updated),
            "updatedBy": n.info.updated_by,
            "dateEntered": timestamp(n.date_created),
        },
    })
}
dataset_record!(
    CompanyNote,
    |n: &CompanyNote| Some(n.company_id),
    company_note
);

fn site(s: &Site, data: &DataSet) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "addressLine1": s.address_line1,
        "city": s.city,
        "stateReference": {"identifier": s.state, "name": s.state},
        "zip": s.zip,
        "country": country(data, s.country_id),
        "phoneNumber": s.phone,
        "primaryAddressFlag": s.primary,
        "defaultShippingFlag": s.primary,
        "defaultBillingFlag": s.primary,
        "defaultMailingFlag": s.primary,
        "inactiveFlag": s.inactive,
        "company": company(data, s.company_id),
        "_info": info(&s.info),
    })
}
dataset_record!(Site, |s: &Site| Some(s.company_id), site);
