//! Maps `apis/3.0/...` paths and methods to the operations the dialect serves.

use axum::http::Method;

use super::error::CwError;
use crate::data::Id;

/// A listable collection of records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Collection {
    Companies,
    CompanyStatuses,
    CompanyTypes,
    Contacts,
    Agreements,
    AgreementTypes,
    /// Additions of one agreement.
    Additions(Id),
    Configurations,
    ConfigurationTypes,
    ConfigurationStatuses,
    Tickets,
    /// Notes of one ticket.
    Notes(Id),
    Boards,
    BoardStatuses(Id),
    BoardTypes(Id),
    BoardSubtypes(Id),
    BoardItems(Id),
    Priorities,
    Sources,
    Manufacturers,
    Catalog,
    TimeEntries,
    Opportunities,
    Projects,
    /// Project tickets: the tasks of projects' work plans.
    ProjectTickets,
    Invoices,
    Members,
    /// Notes of one company.
    CompanyNotes(Id),
    /// Sites of one company.
    CompanySites(Id),
}

impl Collection {
    /// The noun in "X with id N was not found.".
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Collection::Companies => "Company",
            Collection::CompanyStatuses => "CompanyStatus",
            Collection::CompanyTypes => "CompanyType",
            Collection::Contacts => "Contact",
            Collection::Agreements => "Agreement",
            Collection::AgreementTypes => "AgreementType",
            Collection::Additions(_) => "Addition",
            Collection::Configurations => "Configuration",
            Collection::ConfigurationTypes => "ConfigurationType",
            Collection::ConfigurationStatuses => "ConfigurationStatus",
            Collection::Tickets => "Ticket",
            Collection::Notes(_) => "ServiceNote",
            Collection::Boards => "Board",
            Collection::BoardStatuses(_) => "BoardStatus",
            Collection::BoardTypes(_) => "BoardType",
            Collection::BoardSubtypes(_) => "BoardSubType",
            Collection::BoardItems(_) => "BoardItem",
            Collection::Priorities => "Priority",
            Collection::Sources => "Source",
            Collection::Manufacturers => "Manufacturer",
            Collection::Catalog => "CatalogItem",
            Collection::TimeEntries => "TimeEntry",
            Collection::Opportunities => "Opportunity",
            Collection::Projects => "Project",
            Collection::ProjectTickets => "ProjectTicket",
            Collection::Invoices => "Invoice",
            Collection::Members => "Member",
            Collection::CompanyNotes(_) => "CompanyNote",
            Collection::CompanySites(_) => "CompanySite",
        }
    }

    fn creatable(self) -> bool {
        matches!(
            self,
            Collection::Tickets | Collection::Notes(_) | Collection::Configurations
        )
    }

    fn patchable(self) -> bool {
        matches!(
            self,
            Collection::Tickets | Collection::Configurations | Collection::Additions(_)
        )
    }
}

/// One API operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    SystemInfo,
    List(Collection),
    Count(Collection),
    Get(Collection, Id),
    Create(Collection),
    Update(Collection, Id),
}

impl Route {
    /// For writes, the security-role permission a read-only key lacks.
    pub(crate) fn permission(self) -> Option<&'static str> {
        match self {
            Route::Create(Collection::Tickets) => Some("Service Desk > Service Tickets (Add)"),
            Route::Update(Collection::Tickets, _) | Route::Create(Collection::Notes(_)) => {
                Some("Service Desk > Service Tickets (Edit)")
            }
            Route::Create(Collection::Configurations) => Some("Companies > Configurations (Add)"),
            Route::Update(Collection::Configurations, _) => {
                Some("Companies > Configurations (Edit)")
            }
            Route::Update(..) | Route::Create(_) => Some("Finance > Agreements (Edit)"),
            _ => None,
        }
    }
}

fn id(segment: &str) -> Result<Id, CwError> {
    match segment.parse::<Id>() {
        Ok(id) if segment.bytes().all(|b| b.is_ascii_digit()) => Ok(id),
        _ => Err(CwError::invalid_object(
            format!("'{segment}' is not a valid id"),
            vec![super::error::FieldError::invalid(
                "path",
                "id",
                format!("'{segment}' is not a valid id"),
            )],
        )),
    }
}

/// Resolves `rest` (the path after `apis/3.0/`) for `method`. Paths ignore case and a trailing slash.
pub(crate) fn resolve(method: &Method, rest: &str) -> Result<Route, CwError> {
    let lower = rest.to_ascii_lowercase();
    let segs: Vec<&str> = lower.split('/').filter(|s| !s.is_empty()).collect();
    let not_found = || CwError::not_found(format!("The resource 'apis/3.0/{rest}' was not found."));
    let (collection, tail): (Collection, &[&str]) = match segs.as_slice() {
        ["system", "info"] => {
            return if method == Method::GET {
                Ok(Route::SystemInfo)
            } else {
                Err(CwError::method_not_allowed(method.as_str()))
            };
        }
        ["company", "companies", "statuses", tail @ ..] => (Collection::CompanyStatuses, tail),
        ["company", "companies", "types", tail @ ..] => (Collection::CompanyTypes, tail),
        ["company", "companies", parent, "notes", tail @ ..] => {
            (Collection::CompanyNotes(id(parent)?), tail)
        }
        ["company", "companies", parent, "sites", tail @ ..] => {
            (Collection::CompanySites(id(parent)?), tail)
        }
        ["company", "companies", tail @ ..] => (Collection::Companies, tail),
        ["time", "entries", tail @ ..] => (Collection::TimeEntries, tail),
        ["sales", "opportunities", tail @ ..] => (Collection::Opportunities, tail),
        ["project", "projects", tail @ ..] => (Collection::Projects, tail),
        ["project", "tickets", tail @ ..] => (Collection::ProjectTickets, tail),
        ["finance", "invoices", tail @ ..] => (Collection::Invoices, tail),
        ["system", "members", tail @ ..] => (Collection::Members, tail),
        ["company", "contacts", tail @ ..] => (Collection::Contacts, tail),
        ["company", "configurations", "types", tail @ ..] => (Collection::ConfigurationTypes, tail),
        ["company", "configurations", "statuses", tail @ ..] => {
            (Collection::ConfigurationStatuses, tail)
        }
        ["company", "configurations", tail @ ..] => (Collection::Configurations, tail),
        ["finance", "agreements", "types", tail @ ..] => (Collection::AgreementTypes, tail),
        ["finance", "agreements", parent, "additions", tail @ ..] => {
            (Collection::Additions(id(parent)?), tail)
        }
        ["finance", "agreements", tail @ ..] => (Collection::Agreements, tail),
        ["service", "tickets", parent, "notes", tail @ ..] => {
            (Collection::Notes(id(parent)?), tail)
        }
        ["service", "tickets", tail @ ..] => (Collection::Tickets, tail),
        [
            "service",
            "boards",
            parent,
            kind @ ("statuses" | "types" | "subtypes" | "items"),
            tail @ ..,
        ] => {
            let board = id(parent)?;
            let c = match *kind {
                "statuses" => Collection::BoardStatuses(board),
                "types" => Collection::BoardTypes(board),
                "subtypes" => Collection::BoardSubtypes(board),
                _ => Collection::BoardItems(board),
            };
            (c, tail)
        }
        ["service", "boards", tail @ ..] => (Collection::Boards, tail),
        ["service", "priorities", tail @ ..] => (Collection::Priorities, tail),
        ["service", "sources", tail @ ..] => (Collection::Sources, tail),
        ["procurement", "manufacturers", tail @ ..] => (Collection::Manufacturers, tail),
        ["procurement", "catalog", tail @ ..] => (Collection::Catalog, tail),
        _ => return Err(not_found()),
    };
    let route = match (tail, method) {
        ([], &Method::GET) => Route::List(collection),
        ([], &Method::POST) if collection.creatable() => Route::Create(collection),
        (["count"], &Method::GET) => Route::Count(collection),
        ([one], &Method::GET) => Route::Get(collection, id(one)?),
        ([one], &Method::PATCH) if collection.patchable() => Route::Update(collection, id(one)?),
        ([] | ["count"] | [_], _) => return Err(CwError::method_not_allowed(method.as_str())),
        _ => return Err(not_found()),
    };
    Ok(route)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(method: Method, path: &str) -> Result<Route, u16> {
        resolve(&method, path).map_err(|e| e.status.as_u16())
    }

    #[test]
    fn resolves_reads_and_writes() {
        assert_eq!(
            r(Method::GET, "company/companies"),
            Ok(Route::List(Collection::Companies))
        );
        assert_eq!(
            r(Method::GET, "Company/Companies/"),
            Ok(Route::List(Collection::Companies))
        );
        assert_eq!(
            r(Method::GET, "company/companies/count"),
            Ok(Route::Count(Collection::Companies))
        );
        assert_eq!(
            r(Method::GET, "company/companies/12"),
            Ok(Route::Get(Collection::Companies, 12))
        );
        assert_eq!(
            r(Method::GET, "company/companies/statuses"),
            Ok(Route::List(Collection::CompanyStatuses))
        );
        assert_eq!(
            r(Method::GET, "finance/agreements/5/additions"),
            Ok(Route::List(Collection::Additions(5)))
        );
        assert_eq!(
            r(Method::PATCH, "finance/agreements/5/additions/7"),
            Ok(Route::Update(Collection::Additions(5), 7))
        );
        assert_eq!(
            r(Method::POST, "service/tickets/9/notes"),
            Ok(Route::Create(Collection::Notes(9)))
        );
        assert_eq!(
            r(Method::GET, "service/boards/1/statuses/count"),
            Ok(Route::Count(Collection::BoardStatuses(1)))
        );
        assert_eq!(r(Method::GET, "system/info"), Ok(Route::SystemInfo));
        assert_eq!(
            r(Method::GET, "company/companies/250/sites/count"),
            Ok(Route::Count(Collection::CompanySites(250)))
        );
        assert_eq!(
            r(Method::GET, "company/companies/250/notes"),
            Ok(Route::List(Collection::CompanyNotes(250)))
        );
        assert_eq!(
            r(Method::GET, "project/tickets/5500001"),
            Ok(Route::Get(Collection::ProjectTickets, 5_500_001))
        );
        assert_eq!(r(Method::POST, "time/entries"), Err(405));
    }

    #[test]
    fn rejects_unknown_paths_methods_and_ids() {
        assert_eq!(r(Method::GET, "company/nothing"), Err(404));
        assert_eq!(r(Method::GET, "company/companies/1/2/3"), Err(404));
        assert_eq!(r(Method::POST, "company/companies"), Err(405));
        assert_eq!(r(Method::DELETE, "service/tickets/1"), Err(405));
        assert_eq!(r(Method::PATCH, "company/contacts/1"), Err(405));
        assert_eq!(r(Method::GET, "company/companies/abc"), Err(400));
        assert_eq!(r(Method::GET, "company/companies/-1"), Err(400));
        assert_eq!(r(Method::GET, "finance/agreements/x/additions"), Err(400));
    }
}
