//! GET operations: lists, counts, single records, system info.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::error::CwError;
use super::listing::{self, Records};
use super::query::{self, ListQuery};
use super::render::CwRecord;
use super::routes::Collection;
use crate::data::{DataSet, Id};

fn boxed<'a, T: CwRecord + 'a>(iter: impl DoubleEndedIterator<Item = &'a T> + 'a) -> Records<'a> {
    Box::new(iter.map(|r| r as &dyn CwRecord))
}

/// The records of a collection; 404 when its parent record does not exist.
pub(crate) fn records(c: Collection, data: &DataSet) -> Result<Records<'_>, CwError> {
    let p = &data.picklists;
    let board = |id: Id| {
        if p.boards.iter().any(|b| b.id == id) {
            Ok(())
        } else {
            Err(CwError::record_not_found("Board", id))
        }
    };
    let company = |id: Id| {
        if data.companies.contains_key(&id) {
            Ok(())
        } else {
            Err(CwError::record_not_found("Company", id))
        }
    };
    Ok(match c {
        Collection::Companies => boxed(data.companies.values()),
        Collection::CompanyStatuses => boxed(p.company_statuses.iter()),
        Collection::CompanyTypes => boxed(p.company_types.iter()),
        Collection::Contacts => boxed(data.contacts.values()),
        Collection::Agreements => boxed(data.agreements.values()),
        Collection::AgreementTypes => boxed(p.agreement_types.iter()),
        Collection::Additions(a) => {
            if !data.agreements.contains_key(&a) {
                return Err(CwError::record_not_found("Agreement", a));
            }
            boxed(data.lines_of(a))
        }
        Collection::Configurations => boxed(data.configurations.values()),
        Collection::ConfigurationTypes => boxed(p.configuration_types.iter()),
        Collection::ConfigurationStatuses => boxed(p.configuration_statuses.iter()),
        Collection::Tickets => boxed(data.tickets.values()),
        Collection::Notes(t) => {
            if !data.tickets.contains_key(&t) {
                return Err(CwError::record_not_found("Ticket", t));
            }
            boxed(data.notes_of(t))
        }
        Collection::Boards => boxed(p.boards.iter()),
        Collection::BoardStatuses(b) => {
            board(b)?;
            boxed(p.board_statuses.iter().filter(move |s| s.board_id == b))
        }
        Collection::BoardTypes(b) => {
            board(b)?;
            boxed(p.board_types.iter().filter(move |s| s.board_id == b))
        }
        Collection::BoardSubtypes(b) => {
            board(b)?;
            boxed(p.board_subtypes.iter().filter(move |s| s.board_id == b))
        }
        Collection::BoardItems(b) => {
            board(b)?;
            boxed(p.board_items.iter().filter(move |s| s.board_id == b))
        }
        Collection::Priorities => boxed(p.priorities.iter()),
        Collection::Sources => boxed(p.sources.iter()),
        Collection::Manufacturers => boxed(p.manufacturers.iter()),
        Collection::Catalog => boxed(p.products.iter()),
        Collection::TimeEntries => boxed(data.datasets.time_entries.values()),
        Collection::Opportunities => boxed(data.datasets.opportunities.values()),
        Collection::Projects => boxed(data.datasets.projects.values()),
        Collection::ProjectTickets => boxed(data.datasets.project_tasks.values()),
        Collection::Invoices => boxed(data.datasets.invoices.values()),
        Collection::Members => boxed(data.datasets.members.values()),
        Collection::CompanyNotes(c) => {
            company(c)?;
            boxed(data.datasets.notes_of(c))
        }
        Collection::CompanySites(c) => {
            company(c)?;
            boxed(data.datasets.sites_of(c))
        }
    })
}

/// One record of a collection.
pub(crate) fn find(c: Collection, data: &DataSet, id: Id) -> Result<&dyn CwRecord, CwError> {
    let found: Option<&dyn CwRecord> = match c {
        Collection::Companies => data.companies.get(&id).map(|r| r as &dyn CwRecord),
        Collection::Contacts => data.contacts.get(&id).map(|r| r as &dyn CwRecord),
        Collection::Agreements => data.agreements.get(&id).map(|r| r as &dyn CwRecord),
        Collection::Configurations => data.configurations.get(&id).map(|r| r as &dyn CwRecord),
        Collection::Tickets => data.tickets.get(&id).map(|r| r as &dyn CwRecord),
        Collection::TimeEntries => data.datasets.time_entries.get(&id).map(|r| r as _),
        Collection::Opportunities => data.datasets.opportunities.get(&id).map(|r| r as _),
        Collection::Projects => data.datasets.projects.get(&id).map(|r| r as _),
        Collection::ProjectTickets => data.datasets.project_tasks.get(&id).map(|r| r as _),
        Collection::Invoices => data.datasets.invoices.get(&id).map(|r| r as _),
        Collection::Members => data.datasets.members.get(&id).map(|r| r as _),
        // Scoped and reference collections are small: scan them.
        _ => records(c, data)?.find(|r| r.id() == id),
    };
    found.ok_or_else(|| CwError::record_not_found(c.noun(), id))
}

/// `GET collection`. Collections whose records are found by id keep the ids a listing
/// selected for its next pages (`listing::CwState`).
pub(crate) fn list(
    data: &DataSet,
    c: Collection,
    q: &ListQuery,
    (state, generation): (&listing::CwState, u64),
) -> Result<Response, CwError> {
    let index = match c {
        Collection::Companies
        | Collection::Contacts
        | Collection::Agreements
        | Collection::Configurations
        | Collection::Tickets
        | Collection::TimeEntries
        | Collection::Opportunities
        | Collection::Projects
        | Collection::ProjectTickets
        | Collection::Invoices
        | Collection::Members => Some(listing::Indexed {
            state,
            collection: c,
            generation,
            find: &|id| find(c, data, id).ok(),
        }),
        _ => None,
    };
    listing::list(q, data, records(c, data)?, index)
}

/// `GET collection/count`.
pub(crate) fn count(data: &DataSet, c: Collection, q: &ListQuery) -> Result<Response, CwError> {
    listing::count(q, data, records(c, data)?)
}

/// `GET collection/{id}` (only `fields` is read from the query).
pub(crate) fn get(
    data: &DataSet,
    c: Collection,
    id: Id,
    raw_query: Option<&str>,
) -> Result<Response, CwError> {
    let fields = query::fields(&query::pairs(raw_query))?;
    let record = find(c, data, id)?;
    listing::record_response(record, data, fields.as_deref(), StatusCode::OK)
}

/// `GET system/info`.
pub(crate) fn system_info() -> Response {
    crate::dialect::http::json_response(
        StatusCode::OK,
        &json!({
            "version": "v2026.4.12345",
            "isCloud": true,
            "serverTimeZone": "Eastern Standard Time",
            "cloudRegion": "NA",
            "licenseBits": [],
        }),
    )
}
