//! The datasets as Kaseya BMS lists: time logs, opportunities, projects, project tasks,
//! invoices, employees, account notes and account locations. Kaseya BMS publishes no schema for
//! them; the shapes follow the dialect's own records (camelCase, flat `xxxId`/`xxxName`
//! references, every property present, `createdOn`/`modifiedOn`).

use axum::response::Response;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::error::BmsError;
use super::list::{Extra, ListQuery};
use crate::data::*;
use crate::dialect::http::Pair;
use crate::dialect::json::{day, money, timestamp};

/// A dataset list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dataset {
    TimeLogs,
    Opportunities,
    Projects,
    Tasks,
    Invoices,
    Employees,
    Notes,
    /// The locations of one account.
    Locations(Id),
}

impl Dataset {
    /// The dataset served at `area/name` (the path after `v2/`), for lists without a parent.
    pub(crate) fn at(area: &str, name: &str) -> Option<Dataset> {
        Some(match (area, name) {
            ("servicedesk", "timelogs") => Dataset::TimeLogs,
            ("crm", "opportunities") => Dataset::Opportunities,
            ("projects", "projects") => Dataset::Projects,
            ("projects", "tasks") => Dataset::Tasks,
            ("finance", "invoices") => Dataset::Invoices,
            ("admin", "employees") => Dataset::Employees,
            ("crm", "notes") => Dataset::Notes,
            _ => return None,
        })
    }

    /// The noun of "X 5 was not found.".
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Dataset::TimeLogs => "Time log",
            Dataset::Opportunities => "Opportunity",
            Dataset::Projects => "Project",
            Dataset::Tasks => "Task",
            Dataset::Invoices => "Invoice",
            Dataset::Employees => "Employee",
            Dataset::Notes => "Note",
            Dataset::Locations(_) => "Location",
        }
    }

    /// The lists' own filters: `accountId` where records belong to an account.
    fn extras(self) -> &'static [Extra] {
        match self {
            Dataset::Employees | Dataset::Tasks | Dataset::Locations(_) => &[],
            _ => &[Extra::AccountId],
        }
    }
}

fn account_name(data: &DataSet, id: Id) -> Value {
    data.companies
        .get(&id)
        .map_or(Value::Null, |c| c.name.as_str().into())
}

fn employee_name(data: &DataSet, id: Id) -> Value {
    data.datasets
        .members
        .get(&id)
        .map_or(Value::Null, |m| m.full_name().into())
}

fn opt<T: Into<Value>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, Into::into)
}

/// One record of a dataset: its id, account, modification time and JSON. The JSON is rendered
/// only for the records a page serves: a list request filters every record first.
struct Row<'a> {
    id: Id,
    account: Option<Id>,
    modified: OffsetDateTime,
    json: Box<dyn Fn() -> Value + 'a>,
}

fn time_log<'a>(data: &'a DataSet, t: &'a TimeEntry) -> Row<'a> {
    let (ticket, task) = match t.charge_to {
        ChargeTo::Ticket(id) => (Some(id), None),
        ChargeTo::ProjectTask(id) => (None, Some(id)),
    };
    let project = task
        .and_then(|id| data.datasets.project_tasks.get(&id))
        .map(|t| t.project_id);
    Row {
        id: t.id,
        account: Some(t.company_id),
        modified: t.info.last_updated,
        json: Box::new(move || {
            json!({
                "id": t.id,
                "ticketId": ticket,
                "taskId": task,
                "projectId": project,
                "accountId": t.company_id,
                "accountName": account_name(data, t.company_id),
                "employeeId": t.member_id,
                "employeeName": employee_name(data, t.member_id),
                "contractId": t.agreement_id,
                "startTime": timestamp(t.time_start),
                "endTime": timestamp(t.time_end),
                "hours": t.hours,
                "isBillable": t.billable == BillCustomer::Billable,
                "billableStatus": match t.billable {
                    BillCustomer::Billable => "Billable",
                    BillCustomer::DoNotBill => "Non-Billable",
                    BillCustomer::NoCharge => "No Charge",
                },
                "notes": t.notes,
                "createdOn": timestamp(t.time_end),
                "modifiedOn": timestamp(t.info.last_updated),
            })
        }),
    }
}

fn opportunity<'a>(data: &'a DataSet, o: &'a Opportunity) -> Row<'a> {
    let closed = o.status != OpportunityStatus::Open;
    Row {
        id: o.id,
        account: Some(o.company_id),
        modified: o.info.last_updated,
        json: Box::new(move || {
            json!({
                "id": o.id,
                "opportunityName": o.name,
                "accountId": o.company_id,
                "accountName": account_name(data, o.company_id),
                "contactId": o.contact_id,
                "ownerId": o.sales_rep_id,
                "ownerName": employee_name(data, o.sales_rep_id),
                "statusName": match o.status {
                    OpportunityStatus::Open => "Open",
                    OpportunityStatus::Won => "Won",
                    OpportunityStatus::Lost => "Lost",
                },
                "isClosed": closed,
                "probability": o.probability,
                "amount": money(o.amount_cents),
                "expectedCloseDate": day(o.expected_close),
                "closedDate": if closed { day(o.expected_close) } else { Value::Null },
                "createdOn": timestamp(o.date_entered),
                "modifiedOn": timestamp(o.info.last_updated),
            })
        }),
    }
}

fn project<'a>(data: &'a DataSet, p: &'a Project) -> Row<'a> {
    Row {
        id: p.id,
        account: Some(p.company_id),
        modified: p.info.last_updated,
        json: Box::new(move || {
            json!({
                "id": p.id,
                "projectNumber": format!("PRJ-{:05}", p.id % 100_000),
                "projectName": p.name,
                "accountId": p.company_id,
                "accountName": account_name(data, p.company_id),
                "contractId": p.agreement_id,
                "managerId": p.manager_id,
                "managerName": employee_name(data, p.manager_id),
                "statusName": if p.closed { "Completed" } else { "Open" },
                "isClosed": p.closed,
                "startDate": day(p.estimated_start),
                "endDate": day(p.estimated_end),
                "budgetHours": p.budget_hours,
                "actualHours": p.actual_hours,
                "createdOn": timestamp(p.date_entered),
                "modifiedOn": timestamp(p.info.last_updated),
            })
        }),
    }
}

fn task<'a>(data: &'a DataSet, t: &'a ProjectTask) -> Row<'a> {
    Row {
        id: t.id,
        account: Some(t.company_id),
        modified: t.info.last_updated,
        json: Box::new(move || {
            json!({
                "id": t.id,
                "projectId": t.project_id,
                "projectName": data.datasets.projects.get(&t.project_id).map(|p| &p.name),
                "taskName": t.summary,
                "assigneeId": t.owner_id,
                "assigneeName": employee_name(data, t.owner_id),
                "statusName": if t.closed { "Completed" } else { "Open" },
                "isClosed": t.closed,
                "estimatedHours": t.budget_hours,
                "createdOn": timestamp(t.date_entered),
                "modifiedOn": timestamp(t.info.last_updated),
            })
        }),
    }
}

fn invoice<'a>(data: &'a DataSet, i: &'a Invoice) -> Row<'a> {
    let total = money(i.total_cents);
    Row {
        id: i.id,
        account: Some(i.company_id),
        modified: i.info.last_updated,
        json: Box::new(move || {
            json!({
                "id": i.id,
                "invoiceNumber": i.number,
                "accountId": i.company_id,
                "accountName": account_name(data, i.company_id),
                "contractId": i.agreement_id,
                "invoiceDate": day(i.date),
                "dueDate": day(i.due),
                "totalAmount": total,
                "balance": if i.paid.is_some() { 0.0 } else { total },
                "statusName": if i.paid.is_some() { "Paid" } else { "Open" },
                "paidDate": opt(i.paid.map(day)),
                "createdOn": timestamp(i.date.midnight().assume_utc()),
                "modifiedOn": timestamp(i.info.last_updated),
            })
        }),
    }
}

fn employee<'a>(m: &'a Member) -> Row<'a> {
    Row {
        id: m.id,
        account: None,
        modified: m.info.last_updated,
        json: Box::new(move || {
            json!({
                "id": m.id,
                "userName": m.identifier,
                "firstName": m.first_name,
                "lastName": m.last_name,
                "email": m.email,
                "title": m.title,
                "phone": m.phone,
                "isActive": !m.inactive,
                "hireDate": day(m.hire_date.date()),
                "createdOn": timestamp(m.hire_date),
                "modifiedOn": timestamp(m.info.last_updated),
            })
        }),
    }
}

fn note<'a>(data: &'a DataSet, n: &'a CompanyNote) -> Row<'a> {
    Row {
        id: n.id,
        account: Some(n.company_id),
        modified: n.info.last_updated,
        json: Box::new(move || {
            json!({
                "id": n.id,
                "accountId": n.company_id,
                "accountName": account_name(data, n.company_id),
                "details": n.text,
                "isFlagged": n.flagged,
                "createdBy": n.entered_by,
                "createdOn": timestamp(n.date_created),
                "modifiedOn": timestamp(n.info.last_updated),
            })
        }),
    }
}

fn location<'a>(data: &'a DataSet, s: &'a Site) -> Row<'a> {
    let country = data
        .picklists
        .countries
        .iter()
        .find(|c| c.id == s.country_id)
        .map(|c| c.name.as_str());
    Row {
        id: s.id,
        account: Some(s.company_id),
        modified: s.info.last_updated,
        json: Box::new(move || {
            json!({
                "id": s.id,
                "accountId": s.company_id,
                "locationName": s.name,
                "address1": s.address_line1,
                "address2": null,
                "city": s.city,
                "state": s.state,
                "zipCode": s.zip,
                "country": country,
                "phone": s.phone,
                "isPrimary": s.primary,
                "isActive": !s.inactive,
                "createdOn": timestamp(data.companies.get(&s.company_id).map_or(s.info.last_updated, |c| c.date_entered.min(s.info.last_updated))),
                "modifiedOn": timestamp(s.info.last_updated),
            })
        }),
    }
}

/// Every row of a dataset, ascending by id (rendered: the lists are small). Records of deleted
/// accounts are not served, as their accounts are not.
fn rows(data: &DataSet, ds: Dataset) -> Result<Vec<Row<'_>>, BmsError> {
    let d = &data.datasets;
    let mut rows: Vec<Row<'_>> = match ds {
        Dataset::TimeLogs => d.time_entries.values().map(|t| time_log(data, t)).collect(),
        Dataset::Opportunities => d
            .opportunities
            .values()
            .map(|o| opportunity(data, o))
            .collect(),
        Dataset::Projects => d.projects.values().map(|p| project(data, p)).collect(),
        Dataset::Tasks => d.project_tasks.values().map(|t| task(data, t)).collect(),
        Dataset::Invoices => d.invoices.values().map(|i| invoice(data, i)).collect(),
        Dataset::Employees => d.members.values().map(employee).collect(),
        Dataset::Notes => d.company_notes.values().map(|n| note(data, n)).collect(),
        Dataset::Locations(account) => {
            if !data.company_live(account) {
                return Err(BmsError::record("Account", account));
            }
            d.sites_of(account).map(|s| location(data, s)).collect()
        }
    };
    rows.retain(|r| r.account.is_none_or(|a| data.company_live(a)));
    Ok(rows)
}

/// `GET` a dataset list.
pub(crate) fn list(data: &DataSet, ds: Dataset, pairs: &[Pair]) -> Result<Response, BmsError> {
    let q = ListQuery::parse(pairs, ds.extras())?;
    let matching: Vec<Row<'_>> = rows(data, ds)?
        .into_iter()
        .filter(|r| q.account_id.is_none_or(|a| r.account == Some(a)) && q.keeps(r.id, r.modified))
        .collect();
    Ok(q.page(matching, |r| (r.json)()))
}

/// `GET` one record of a dataset.
pub(crate) fn get(data: &DataSet, ds: Dataset, id: Id) -> Result<Value, BmsError> {
    rows(data, ds)?
        .into_iter()
        .find(|r| r.id == id)
        .map(|r| (r.json)())
        .ok_or_else(|| BmsError::record(ds.noun(), id))
}
