//! The Autotask REST API v1.0 dialect (see the README for the exact conventions).
//!
//! `GET {prefix}/atservicesrest/v1.0/zoneInformation?user=` answers zone discovery; everything
//! under the current zone's `/V1.0/` goes through one pipeline: zone check (an old zone answers
//! 401), the API user headers, the per-entity thread limit, the hourly request budget, the fault
//! knobs, then routing. Paths ignore case.

mod auth;
mod datasets;
mod entities;
mod error;
mod filter;
mod query;
mod render;
mod writes;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State as AxumState};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use self::entities::AtEntity;
use self::error::AtError;
use self::query::{Paging, Query};
use self::render::Rec;
use crate::config::AutotaskConfig;
use crate::data::Id;
use crate::dialect::http::{
    Injected, catch_all, encode, json_response, pairs, param, read_body, request_origin,
    with_faults,
};
use crate::dialect::window::RollingWindow;
use crate::state::Shared;

pub(crate) use self::render::render_entity;

/// The tenant database number discovery reports (`ci`).
const TENANT_CI: i64 = 29_683_500;

/// The rolling window of the hourly request budget.
const BUDGET_WINDOW: Duration = Duration::from_secs(3600);

/// The budget's key: the one tenant database.
const DATABASE: &str = "database";

/// The dialect's run-time state: the zone, the requests in flight and the hourly budget.
#[derive(Debug)]
pub(crate) struct AtState {
    zone: AtomicU32,
    threads: auth::Threads,
    budget: RollingWindow,
    adjustments: AtomicU64,
}

impl AtState {
    pub(crate) fn new(config: &AutotaskConfig) -> AtState {
        AtState {
            zone: AtomicU32::new(0),
            threads: auth::Threads::default(),
            budget: RollingWindow::new(config.hourly_requests, BUDGET_WINDOW),
            adjustments: AtomicU64::new(0),
        }
    }

    /// The zone the tenant is in (0: `/atservicesrest`, N: `/wwN/atservicesrest`).
    pub(crate) fn zone(&self) -> u32 {
        self.zone.load(Ordering::SeqCst)
    }

    /// Moves the tenant to another zone.
    pub(crate) fn set_zone(&self, zone: u32) {
        self.zone.store(zone, Ordering::SeqCst);
    }

    /// Requests counted against the budget in the last 60 minutes.
    pub(crate) fn requests_in_window(&self) -> u64 {
        self.budget.used(DATABASE)
    }
}

/// The path prefix of a zone, without a trailing slash.
pub(crate) fn zone_prefix(zone: u32) -> String {
    if zone == 0 {
        "/atservicesrest".into()
    } else {
        format!("/ww{zone}/atservicesrest")
    }
}

fn zone_name(zone: u32) -> String {
    if zone == 0 {
        "America East".into()
    } else {
        format!("America East {zone}")
    }
}

/// The dialect's routes: everything goes through [`handle`] (paths ignore case).
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    catch_all(shared, handle)
}

/// The zone a path prefix names: `[]` is zone 0, `["wwN"]` zone N.
fn zone_of(prefix: &[&str]) -> Option<u32> {
    match prefix {
        [] => Some(0),
        [ww] if ww.len() > 2 && ww[..2].eq_ignore_ascii_case("ww") => {
            ww[2..].parse().ok().filter(|n| *n > 0)
        }
        _ => None,
    }
}

async fn handle(AxumState(shared): AxumState<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let Some(at) = segments
        .iter()
        .position(|s| s.eq_ignore_ascii_case("atservicesrest"))
    else {
        return AtError::not_found().into_response();
    };
    let Some(zone) = zone_of(&segments[..at]) else {
        return AtError::not_found().into_response();
    };
    let rest = &segments[at + 1..];
    if !rest.first().is_some_and(|v| v.eq_ignore_ascii_case("v1.0")) {
        return AtError::not_found().into_response();
    }
    let rest = &rest[1..];
    if let [one] = rest
        && one.eq_ignore_ascii_case("zoneInformation")
    {
        return zone_information(&shared, &parts);
    }
    if zone != shared.autotask.zone() {
        // That zone host no longer holds the tenant.
        return AtError::unauthorized().into_response();
    }
    let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
    api(&shared, &parts, body, &rest).await
}

/// `GET .../v1.0/zoneInformation?user=` (no credentials, never limited or faulted).
fn zone_information(shared: &Shared, parts: &Parts) -> Response {
    if parts.method != Method::GET {
        return AtError::method_not_allowed(parts.method.as_str()).into_response();
    }
    let q = pairs(parts.uri.query());
    let user = param(&q, "user").unwrap_or("").trim();
    let config = &shared.config.autotask;
    let known = [&config.username, &config.non_api_username]
        .iter()
        .any(|u| !user.is_empty() && u.eq_ignore_ascii_case(user));
    if !known {
        return AtError::invalid("Zone information could not be determined").into_response();
    }
    let origin = request_origin(&parts.headers, &shared.origin);
    let zone = shared.autotask.zone();
    let web = if zone == 0 {
        format!("{origin}/")
    } else {
        format!("{origin}/ww{zone}/")
    };
    json_response(
        StatusCode::OK,
        &json!({
            "zoneName": zone_name(zone),
            "url": format!("{origin}{}/", zone_prefix(zone)),
            "webUrl": web,
            "ci": TENANT_CI,
        }),
    )
}

/// The API pipeline: credentials, thread limit, budget, faults, then the operation.
async fn api(shared: &Shared, parts: &Parts, body: Body, rest: &[String]) -> Response {
    let config = &shared.config.autotask;
    if let Err(e) = auth::check(config, &parts.headers) {
        return e.into_response();
    }
    let endpoint = rest.first().map_or("", String::as_str);
    let endpoint = AtEntity::parse(endpoint).map_or(endpoint, |e| e.name());
    let state = &shared.autotask;
    let _slot = match state
        .threads
        .enter(config, endpoint, config.threads_per_endpoint)
    {
        Ok(slot) => slot,
        Err(e) => return e.into_response(),
    };
    let used = match state.budget.hit(DATABASE) {
        Ok(used) => used,
        Err(over) => {
            return AtError::request_threshold(config.hourly_requests, over.retry_after_secs)
                .into_response();
        }
    };
    if config.latency_ms > 0 && config.hourly_requests > 0 && used * 2 > config.hourly_requests {
        tokio::time::sleep(Duration::from_millis(config.latency_ms)).await;
    }
    let answer = |fault| match fault {
        Injected::TooManyRequests(secs) => {
            AtError::request_threshold(config.hourly_requests, secs).into_response()
        }
        Injected::ServerError(status) => AtError::unexpected(status).into_response(),
    };
    let operation = async {
        route(shared, parts, body, rest)
            .await
            .unwrap_or_else(IntoResponse::into_response)
    };
    with_faults(&shared.faults, answer, operation).await
}

/// How a query came: a POST body, or the `search` parameter of a GET.
fn query_text(parts: &Parts, body: &[u8]) -> Result<(Vec<u8>, Option<String>), AtError> {
    if parts.method == Method::GET {
        let q = pairs(parts.uri.query());
        let search = param(&q, "search")
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string);
        match search {
            Some(s) => Ok((s.clone().into_bytes(), Some(s))),
            None => Err(AtError::method_not_allowed("GET")),
        }
    } else {
        Ok((body.to_vec(), None))
    }
}

async fn route(
    shared: &Shared,
    parts: &Parts,
    body: Body,
    rest: &[String],
) -> Result<Response, AtError> {
    let method = &parts.method;
    let body = if *method == Method::POST || *method == Method::PATCH {
        read_body(body)
            .await
            .ok_or_else(|| AtError::invalid("The request body is too large."))?
    } else {
        Default::default()
    };
    let lower: Vec<String> = rest.iter().map(|s| s.to_ascii_lowercase()).collect();
    let segs: Vec<&str> = lower.iter().map(String::as_str).collect();
    if let ["thresholdinformation"] = segs.as_slice() {
        return if *method == Method::GET {
            Ok(threshold(shared))
        } else {
            Err(AtError::method_not_allowed(method.as_str()))
        };
    }
    let Some(entity) = segs.first().and_then(|s| AtEntity::parse(s)) else {
        return Err(AtError::not_found());
    };
    let not_allowed = || AtError::method_not_allowed(method.as_str());
    let is = |m: Method| *method == m;
    match &segs[1..] {
        ["query"] | ["query", "next"] if entity.queryable() => {
            if !(is(Method::GET) || is(Method::POST)) {
                return Err(not_allowed());
            }
            let next = segs.len() == 3;
            let (text, search) = query_text(parts, &body)?;
            let paging = if next {
                let q = pairs(parts.uri.query());
                let token = param(&q, "paging")
                    .ok_or_else(|| AtError::invalid("Missing required parameter: paging."))?;
                Some(Paging::decode(token)?)
            } else {
                None
            };
            let q = Query::parse(&text, entity)?;
            Ok(query_page(shared, parts, entity, &q, paging, search))
        }
        ["query", "count"] if entity.queryable() => {
            if !is(Method::POST) {
                return Err(not_allowed());
            }
            let q = Query::parse(&body, entity)?;
            let n = query::count(&shared.read(), entity, &q);
            Ok(json_response(StatusCode::OK, &json!({ "queryCount": n })))
        }
        ["entityinformation", "fields"] => {
            if !is(Method::GET) {
                return Err(not_allowed());
            }
            Ok(fields(shared, entity))
        }
        [id] if entity.queryable() => {
            let id: Id = id.parse().map_err(|_| AtError::not_found())?;
            if !is(Method::GET) {
                return Err(not_allowed());
            }
            let data = shared.read();
            let ix = data.index();
            let item = Rec::get(&data, entity, id).map_or(Value::Null, |r| r.render(&ix, entity));
            Ok(json_response(StatusCode::OK, &json!({ "item": item })))
        }
        [] => write(shared, entity, method, &body),
        [ticket, "notes"] if entity == AtEntity::Tickets => {
            let ticket: Id = ticket.parse().map_err(|_| AtError::not_found())?;
            if !is(Method::POST) {
                return Err(not_allowed());
            }
            let by = &shared.config.autotask.username;
            let id = writes::create_note(&mut shared.write(), ticket, &body, by)?;
            Ok(json_response(StatusCode::OK, &writes::item_id(id)))
        }
        _ => Err(AtError::not_found()),
    }
}

/// `POST`/`PATCH {Entity}`.
fn write(
    shared: &Shared,
    entity: AtEntity,
    method: &Method,
    body: &[u8],
) -> Result<Response, AtError> {
    let by = &shared.config.autotask.username;
    let id = match (entity, method.as_str()) {
        (AtEntity::Tickets, "POST") => writes::create_ticket(&mut shared.write(), body, by)?,
        (AtEntity::Tickets, "PATCH") => writes::update_ticket(&mut shared.write(), body, by)?,
        (AtEntity::ConfigurationItems, "POST") => {
            writes::create_item(&mut shared.write(), body, by)?
        }
        (AtEntity::ConfigurationItems, "PATCH") => {
            writes::update_item(&mut shared.write(), body, by)?
        }
        (AtEntity::ContractServiceAdjustments, "POST") => {
            writes::adjust_units(&mut shared.write(), body, by)?;
            shared.autotask.adjustments.fetch_add(1, Ordering::SeqCst) + 1
        }
        _ => return Err(AtError::method_not_allowed(method.as_str())),
    };
    Ok(json_response(StatusCode::OK, &writes::item_id(id)))
}

/// One page of a query, with `pageDetails`.
fn query_page(
    shared: &Shared,
    parts: &Parts,
    entity: AtEntity,
    q: &Query,
    paging: Option<Paging>,
    search: Option<String>,
) -> Response {
    let page = query::page(&shared.read(), entity, q, paging);
    let next = page.next.map(|p| {
        let mut url = format!(
            "{}{}/V1.0/{}/query/next?paging={}",
            request_origin(&parts.headers, &shared.origin),
            zone_prefix(shared.autotask.zone()),
            entity.name(),
            encode(&p.encode())
        );
        if let Some(search) = &search {
            url.push_str("&search=");
            url.push_str(&encode(search));
        }
        url
    });
    let body = json!({
        "items": page.items,
        "pageDetails": {
            "count": page.items.len(),
            "requestCount": paging.map_or(q.max_records, |p| p.page_size),
            "prevPageUrl": null,
            "nextPageUrl": next,
        }
    });
    json_response(StatusCode::OK, &body)
}

/// `GET ThresholdInformation` (this request included).
fn threshold(shared: &Shared) -> Response {
    json_response(
        StatusCode::OK,
        &json!({
            "externalRequestThreshold": shared.config.autotask.hourly_requests,
            "requestThresholdTimeframe": BUDGET_WINDOW.as_secs() / 60,
            "currentTimeframeRequestCount": shared.autotask.requests_in_window(),
        }),
    )
}

/// `GET {Entity}/entityInformation/fields`.
fn fields(shared: &Shared, entity: AtEntity) -> Response {
    let data = shared.read();
    let fields: Vec<Value> = entity
        .fields()
        .iter()
        .map(|f| {
            let picklist = f.pick.map(|p| {
                p.values(&data)
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        json!({
                            "value": v.value.to_string(),
                            "label": v.label,
                            "isDefaultValue": v.default,
                            "sortOrder": i,
                            "parentValue": v.parent.map_or(String::new(), |p| p.to_string()),
                            "isActive": v.active,
                            "isSystem": true,
                        })
                    })
                    .collect::<Vec<_>>()
            });
            let length = match f.ty {
                entities::Ty::Text(n) => n,
                _ => 0,
            };
            json!({
                "name": f.name,
                "dataType": f.ty.name(),
                "length": length,
                "isRequired": f.required,
                "isReadOnly": f.read_only,
                "isQueryable": true,
                "isReference": !f.reference.is_empty(),
                "referenceEntityType": f.reference,
                "isPickList": picklist.is_some(),
                "picklistValues": picklist,
                "picklistParentValueField": if f.pick == Some(entities::Pick::SubIssueType) { "issueType" } else { "" },
                "isSupportedWebhookField": false,
            })
        })
        .collect();
    json_response(StatusCode::OK, &json!({ "fields": fields }))
}
