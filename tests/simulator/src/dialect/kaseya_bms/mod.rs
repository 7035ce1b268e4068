//! The Kaseya BMS REST API V2 dialect (see the README for the exact conventions).
//!
//! Everything under `/api/v2/` goes through one pipeline: the fault knobs, then the login or the
//! Bearer token, the per-endpoint hourly call budget, routing, the read-only check and the
//! operation. Anything else is 404. Paths ignore case.

mod auth;
mod datasets;
mod error;
mod list;
mod render;
mod writes;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State as AxumState};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use self::datasets::Dataset;
use self::error::{BmsError, one};
use self::list::{Extra, ListQuery};
use self::render::Picklist;
use crate::config::KaseyaBmsConfig;
use crate::data::{DataSet, Entity, Id, PICKLIST_UPDATED};
use crate::dialect::http::{Injected, catch_all, pairs, read_body, request_origin, with_faults};
use crate::dialect::window::RollingWindow;
use crate::state::Shared;

/// The rolling window of the call budget.
const BUDGET_WINDOW: Duration = Duration::from_secs(3600);

/// The dialect's run-time state: issued tokens and the calls per endpoint.
#[derive(Debug)]
pub(crate) struct BmsState {
    pub(crate) tokens: auth::Tokens,
    calls: RollingWindow,
}

impl BmsState {
    pub(crate) fn new(config: &KaseyaBmsConfig) -> BmsState {
        BmsState {
            tokens: auth::Tokens::new(config.token_lifetime_secs),
            calls: RollingWindow::new(config.hourly_calls_per_endpoint, BUDGET_WINDOW),
        }
    }
}

/// The dialect's routes: everything goes through [`handle`].
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    catch_all(shared, handle)
}

/// The endpoint a budget counts: the path after `/api/`, lower-cased, ids as `{id}`.
fn endpoint(segments: &[String]) -> String {
    segments
        .iter()
        .map(|s| {
            if s.bytes().all(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                s.as_str()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn handle(AxumState(shared): AxumState<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let lower = path.to_ascii_lowercase();
    let segments: Vec<String> = lower
        .strip_prefix("/api/")
        .unwrap_or("")
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if segments.first().map(String::as_str) != Some("v2") {
        return BmsError::no_endpoint(parts.method.as_str(), &path).into_response();
    }
    let endpoint = endpoint(&segments);
    let limit = shared.config.kaseya_bms.hourly_calls_per_endpoint;
    let answer = |fault| match fault {
        Injected::TooManyRequests(secs) => BmsError::quota(limit, &endpoint, secs).into_response(),
        Injected::ServerError(status) => BmsError::server(status).into_response(),
    };
    let operation = async {
        route(&shared, &parts, body, &segments[1..], &endpoint, &path)
            .await
            .unwrap_or_else(IntoResponse::into_response)
    };
    with_faults(&shared.faults, answer, operation).await
}

/// Counts a call of `key` (an endpoint, or the login per tenant) against the hourly budget.
fn budget(shared: &Shared, key: &str, endpoint: &str) -> Result<(), BmsError> {
    shared.bms.calls.hit(key).map(|_| ()).map_err(|over| {
        BmsError::quota(
            shared.config.kaseya_bms.hourly_calls_per_endpoint,
            endpoint,
            over.retry_after_secs,
        )
    })
}

/// A list of records with a by-id read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Collection {
    Accounts,
    Contacts,
    Contracts,
    Tickets,
}

/// One operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    List(Collection),
    Get(Collection, Id),
    CreateTicket,
    Notes(Id),
    CreateNote(Id),
    Services(Id),
    Service(Id, Id),
    SetQuantity(Id, Id),
    Picklist(Picklist),
    DatasetList(Dataset),
    DatasetGet(Dataset, Id),
}

impl Route {
    /// For writes, the permission a read-only user lacks.
    fn permission(self) -> Option<&'static str> {
        match self {
            Route::CreateTicket => Some("Service Desk > Tickets (Add)"),
            Route::CreateNote(_) => Some("Service Desk > Notes (Add)"),
            Route::SetQuantity(..) => Some("Finance > Contracts (Edit)"),
            _ => None,
        }
    }
}

/// Resolves the path after `v2/` for `method`.
fn resolve(segments: &[String], method: &Method, path: &str) -> Result<Route, BmsError> {
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let no_endpoint = || BmsError::no_endpoint(method.as_str(), path);
    let id = |s: &str| s.parse::<Id>().map_err(|_| no_endpoint());
    let get = method == Method::GET;
    let post = method == Method::POST;
    // The datasets' lists and records (read-only).
    let dataset = match segs.as_slice() {
        ["crm", "accounts", a, "locations"] => Some(Route::DatasetList(Dataset::Locations(id(a)?))),
        ["crm", "accounts", a, "locations", l] => {
            Some(Route::DatasetGet(Dataset::Locations(id(a)?), id(l)?))
        }
        [area, name] => Dataset::at(area, name).map(Route::DatasetList),
        [area, name, one] => match Dataset::at(area, name) {
            Some(d) => Some(Route::DatasetGet(d, id(one)?)),
            None => None,
        },
        _ => None,
    };
    let (route, allowed) = if let Some(route) = dataset {
        (route, get)
    } else {
        match segs.as_slice() {
            ["crm", "accounts"] => (Route::List(Collection::Accounts), get),
            ["crm", "accounts", a] => (Route::Get(Collection::Accounts, id(a)?), get),
            ["crm", "contacts"] => (Route::List(Collection::Contacts), get),
            ["crm", "contacts", c] => (Route::Get(Collection::Contacts, id(c)?), get),
            ["finance", "contracts"] => (Route::List(Collection::Contracts), get),
            ["finance", "contracts", c] => (Route::Get(Collection::Contracts, id(c)?), get),
            ["finance", "contracts", c, "services"] => (Route::Services(id(c)?), get),
            ["finance", "contracts", c, "services", l] if method == Method::PATCH => {
                (Route::SetQuantity(id(c)?, id(l)?), true)
            }
            ["finance", "contracts", c, "services", l] => (Route::Service(id(c)?, id(l)?), get),
            ["servicedesk", "tickets"] if post => (Route::CreateTicket, true),
            ["servicedesk", "tickets"] => (Route::List(Collection::Tickets), get),
            ["servicedesk", "tickets", t] => (Route::Get(Collection::Tickets, id(t)?), get),
            ["servicedesk", "tickets", t, "notes"] if post => (Route::CreateNote(id(t)?), true),
            ["servicedesk", "tickets", t, "notes"] => (Route::Notes(id(t)?), get),
            [area, name] => match Picklist::at(area, name) {
                Some(p) => (Route::Picklist(p), get),
                None => return Err(no_endpoint()),
            },
            _ => return Err(no_endpoint()),
        }
    };
    if allowed {
        Ok(route)
    } else {
        Err(BmsError::method_not_allowed(method.as_str(), path))
    }
}

async fn route(
    shared: &Shared,
    parts: &Parts,
    body: Body,
    segments: &[String],
    endpoint: &str,
    path: &str,
) -> Result<Response, BmsError> {
    let method = &parts.method;
    let config = &shared.config.kaseya_bms;
    let too_large = || {
        BmsError::validation(
            "The request is invalid.",
            vec![error::FieldError::new("body", "The body is too large.")],
        )
    };
    if segments == ["security", "authenticate"] {
        if *method != Method::POST {
            return Err(BmsError::method_not_allowed(method.as_str(), path));
        }
        let body = read_body(body).await.ok_or_else(too_large)?;
        let key = format!("{endpoint}\n{}", auth::submitted_tenant(&body));
        budget(shared, &key, endpoint)?;
        let result = auth::login(config, &shared.bms.tokens, &parts.headers, &body)?;
        return Ok(one(StatusCode::OK, result));
    }
    let session = shared.bms.tokens.check(&parts.headers)?;
    budget(shared, endpoint, endpoint)?;
    let route = resolve(segments, method, path)?;
    if let (true, Some(permission)) = (session.readonly, route.permission()) {
        return Err(BmsError::forbidden(permission));
    }
    let body = match route {
        Route::CreateTicket | Route::CreateNote(_) | Route::SetQuantity(..) => {
            read_body(body).await.ok_or_else(too_large)?
        }
        _ => Default::default(),
    };
    let q = || pairs(parts.uri.query());
    match route {
        Route::List(c) => list(&shared.read(), c, &q()),
        Route::Get(c, id) => get(&shared.read(), c, id),
        Route::Notes(ticket) => {
            let data = shared.read();
            if !data.tickets.contains_key(&ticket) {
                return Err(BmsError::record("Ticket", ticket));
            }
            let query = ListQuery::parse(&q(), &[])?;
            let notes = data
                .notes_of(ticket)
                .filter(|n| query.keeps(n.id, n.info.last_updated))
                .collect();
            Ok(query.page(notes, |n| render::note(&data, n)))
        }
        Route::Services(contract) => {
            let data = shared.read();
            if !data.agreements.contains_key(&contract) {
                return Err(BmsError::record("Contract", contract));
            }
            let query = ListQuery::parse(&q(), &[])?;
            let ix = data.index();
            let lines = ix
                .lines(contract)
                .iter()
                .filter(|l| query.keeps(l.id, l.info.last_updated))
                .collect();
            Ok(query.page(lines, |l| render::service(&data, l)))
        }
        Route::Service(contract, line) => {
            let data = shared.read();
            service(&data, contract, line).map(|v| one(StatusCode::OK, v))
        }
        Route::SetQuantity(contract, line) => {
            let mut data = shared.write();
            writes::set_quantity(&mut data, contract, line, &body, &session.user)?;
            service(&data, contract, line).map(|v| one(StatusCode::OK, v))
        }
        Route::CreateTicket => {
            let mut data = shared.write();
            let id = writes::create_ticket(&mut data, &body, &session.user)?;
            let ix = data.index();
            let mut response = one(StatusCode::CREATED, render::ticket(&ix, &data.tickets[&id]));
            let location = format!(
                "{}/api/v2/servicedesk/tickets/{id}",
                request_origin(&parts.headers, &shared.origin)
            );
            if let Ok(v) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            Ok(response)
        }
        Route::CreateNote(ticket) => {
            let mut data = shared.write();
            let id = writes::create_note(&mut data, ticket, &body, &session.user)?;
            Ok(one(
                StatusCode::CREATED,
                render::note(&data, &data.notes[&id]),
            ))
        }
        Route::DatasetList(d) => datasets::list(&shared.read(), d, &q()),
        Route::DatasetGet(d, id) => {
            datasets::get(&shared.read(), d, id).map(|v| one(StatusCode::OK, v))
        }
        Route::Picklist(p) => {
            let query = ListQuery::parse(&q(), &[])?;
            let data = shared.read();
            let entries = p
                .entries(&data)
                .into_iter()
                .filter(|e| query.keeps(e["id"].as_u64().unwrap_or(0), PICKLIST_UPDATED))
                .collect();
            Ok(query.page(entries, Value::clone))
        }
    }
}

/// One service line of a contract.
fn service(data: &DataSet, contract: Id, line: Id) -> Result<Value, BmsError> {
    if !data.agreements.contains_key(&contract) {
        return Err(BmsError::record("Contract", contract));
    }
    data.agreement_lines
        .get(&line)
        .filter(|l| l.agreement_id == contract)
        .map(|l| render::service(data, l))
        .ok_or_else(|| BmsError::record("Contract service", line))
}

/// `GET` a list with its filters.
fn list(
    data: &DataSet,
    c: Collection,
    pairs: &[crate::dialect::http::Pair],
) -> Result<Response, BmsError> {
    let ix = data.index();
    Ok(match c {
        Collection::Accounts => {
            let q = ListQuery::parse(pairs, &[])?;
            let rows = data
                .companies
                .values()
                .filter(|a| !a.deleted && q.keeps(a.id, a.info.last_updated))
                .collect();
            q.page(rows, |a| render::account(data, a))
        }
        Collection::Contacts => {
            let q = ListQuery::parse(pairs, &[Extra::AccountId])?;
            let rows = data
                .contacts
                .values()
                .filter(|c| {
                    data.company_live(c.company_id)
                        && q.account_id.is_none_or(|a| a == c.company_id)
                        && q.keeps(c.id, c.info.last_updated)
                })
                .collect();
            q.page(rows, |c| render::contact(data, c))
        }
        Collection::Contracts => {
            let q = ListQuery::parse(pairs, &[Extra::AccountId])?;
            let rows = data
                .agreements
                .values()
                .filter(|a| {
                    q.account_id.is_none_or(|id| id == a.company_id)
                        && q.keeps(a.id, render::contract_modified(&ix, a))
                })
                .collect();
            q.page(rows, |a| render::contract(&ix, a))
        }
        Collection::Tickets => {
            let q = ListQuery::parse(
                pairs,
                &[
                    Extra::AccountId,
                    Extra::QueueId,
                    Extra::IsClosed,
                    Extra::Title,
                    Extra::ExternalReference,
                ],
            )?;
            let rows = data
                .tickets
                .values()
                .filter(|t| {
                    q.account_id.is_none_or(|a| a == t.company_id)
                        && q.queue_id
                            .is_none_or(|id| id == render::queue_of(t.board_id))
                        && q.is_closed.is_none_or(|c| c == data.ticket_closed(t))
                        && q.title
                            .as_deref()
                            .is_none_or(|title| t.summary.trim().to_lowercase() == title)
                        && q.external_reference.as_deref().is_none_or(|e| {
                            data.extra(Entity::Ticket, t.id, "externalReference")
                                .and_then(Value::as_str)
                                == Some(e)
                        })
                        && q.keeps(t.id, t.info.last_updated)
                })
                .collect();
            q.page(rows, |t| render::ticket(&ix, t))
        }
    })
}

/// `GET` one record.
fn get(data: &DataSet, c: Collection, id: Id) -> Result<Response, BmsError> {
    let ix = data.index();
    let found = match c {
        Collection::Accounts => data
            .companies
            .get(&id)
            .filter(|a| !a.deleted)
            .map(|a| render::account(data, a)),
        Collection::Contacts => data
            .contacts
            .get(&id)
            .filter(|c| data.company_live(c.company_id))
            .map(|c| render::contact(data, c)),
        Collection::Contracts => data.agreements.get(&id).map(|a| render::contract(&ix, a)),
        Collection::Tickets => data.tickets.get(&id).map(|t| render::ticket(&ix, t)),
    };
    let noun = match c {
        Collection::Accounts => "Account",
        Collection::Contacts => "Contact",
        Collection::Contracts => "Contract",
        Collection::Tickets => "Ticket",
    };
    found
        .map(|v| one(StatusCode::OK, v))
        .ok_or_else(|| BmsError::record(noun, id))
}

/// The BMS JSON of a neutral record, if the dialect serves it.
pub(crate) fn render_entity(data: &DataSet, entity: Entity, id: Id) -> Option<Value> {
    let ix = data.index();
    match entity {
        Entity::Company => data
            .companies
            .get(&id)
            .filter(|c| !c.deleted)
            .map(|c| render::account(data, c)),
        Entity::Contact => data
            .contacts
            .get(&id)
            .filter(|c| data.company_live(c.company_id))
            .map(|c| render::contact(data, c)),
        Entity::Agreement => data.agreements.get(&id).map(|a| render::contract(&ix, a)),
        Entity::AgreementLine => data
            .agreement_lines
            .get(&id)
            .map(|l| render::service(data, l)),
        Entity::Ticket => data.tickets.get(&id).map(|t| render::ticket(&ix, t)),
        Entity::Note => data.notes.get(&id).map(|n| render::note(data, n)),
        // The dialect has no configuration items.
        Entity::Configuration => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(method: Method, path: &str) -> Result<Route, u16> {
        let segs: Vec<String> = path.split('/').map(str::to_string).collect();
        resolve(&segs, &method, path).map_err(|e| e.status.as_u16())
    }

    #[test]
    fn routes() {
        assert_eq!(
            r(Method::GET, "crm/accounts"),
            Ok(Route::List(Collection::Accounts))
        );
        assert_eq!(
            r(Method::GET, "crm/accounts/5"),
            Ok(Route::Get(Collection::Accounts, 5))
        );
        assert_eq!(r(Method::PUT, "crm/accounts"), Err(405));
        assert_eq!(r(Method::GET, "crm/accounts/x"), Err(404));
        assert_eq!(
            r(Method::GET, "crm/accounts/5/locations"),
            Ok(Route::DatasetList(Dataset::Locations(5)))
        );
        assert_eq!(
            r(Method::GET, "servicedesk/timelogs/6000001"),
            Ok(Route::DatasetGet(Dataset::TimeLogs, 6_000_001))
        );
        assert_eq!(
            r(Method::GET, "crm/notes"),
            Ok(Route::DatasetList(Dataset::Notes))
        );
        assert_eq!(r(Method::POST, "admin/employees"), Err(405));
        assert_eq!(r(Method::GET, "projects/tasks/x"), Err(404));
        assert_eq!(
            r(Method::PATCH, "finance/contracts/5/services/7"),
            Ok(Route::SetQuantity(5, 7))
        );
        assert_eq!(
            r(Method::GET, "finance/contracts/5/services/7"),
            Ok(Route::Service(5, 7))
        );
        assert_eq!(
            r(Method::POST, "servicedesk/tickets"),
            Ok(Route::CreateTicket)
        );
        assert_eq!(
            r(Method::POST, "servicedesk/tickets/9/notes"),
            Ok(Route::CreateNote(9))
        );
        assert_eq!(
            r(Method::GET, "servicedesk/queues"),
            Ok(Route::Picklist(Picklist::Queues))
        );
        assert_eq!(r(Method::POST, "servicedesk/queues"), Err(405));
        assert_eq!(r(Method::GET, "servicedesk/nothing"), Err(404));
        assert_eq!(r(Method::GET, "assets/configurations/1"), Err(404));
        assert_eq!(
            endpoint(&["v2", "servicedesk", "tickets", "42", "notes"].map(String::from)),
            "v2/servicedesk/tickets/{id}/notes"
        );
        assert_eq!(
            Route::CreateNote(1).permission(),
            Some("Service Desk > Notes (Add)")
        );
    }
}
