//! The ConnectWise Manage REST dialect (see the README for the exact conventions).
//!
//! `GET /login/companyinfo/{companyId}` answers codebase discovery; everything under
//! `/{codebase}apis/3.0/` goes through one handler: codebase check, faults, authentication,
//! routing, the read-only check, then the operation.

mod auth;
mod conditions;
mod datasets;
mod error;
mod form;
mod listing;
mod query;
mod reads;
mod render;
mod routes;
mod writes;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header, request::Parts};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::json;

use self::auth::Access;
use self::error::CwError;
use self::query::ListQuery;
use self::routes::{Collection, Route};
use crate::dialect::http::{
    Injected, MAX_BODY, count_requests, json_response, read_body, with_faults,
};
use crate::state::Shared;

pub(crate) use self::listing::CwState;
pub(crate) use self::render::render_entity;

/// The dialect's routes.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/login/companyinfo/{company_id}", get(company_info))
        .route("/{codebase}/apis/3.0/{*rest}", any(api))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            count_requests,
        ))
        .with_state(shared)
}

async fn not_found(request: Request) -> Response {
    CwError::not_found(format!(
        "The resource '{}' was not found.",
        request.uri().path()
    ))
    .into_response()
}

/// Codebase discovery (no authentication, no faults).
async fn company_info(
    State(shared): State<Arc<Shared>>,
    company_id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    let Ok(Path(company_id)) = company_id else {
        return CwError::not_found("Company '' was not found").into_response();
    };
    let creds = &shared.config.credentials;
    if !company_id.eq_ignore_ascii_case(&creds.company_id) {
        return CwError::not_found(format!("Company '{company_id}' was not found")).into_response();
    }
    let site = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(
            || shared.origin.trim_start_matches("http://").to_string(),
            str::to_string,
        );
    json_response(
        StatusCode::OK,
        &json!({
            "CompanyName": "Psahost Demo",
            "Codebase": shared.codebase(),
            "VersionCode": "v2026.4",
            "VersionNumber": "v4.6.2026",
            "CompanyID": creds.company_id,
            "IsCloud": true,
            "SiteUrl": site,
        }),
    )
}

/// `/{codebase}apis/3.0/{rest}`.
async fn api(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let mut segments = path.trim_start_matches('/').splitn(2, '/');
    let codebase = segments.next().unwrap_or_default();
    let rest = segments
        .next()
        .unwrap_or_default()
        .strip_prefix("apis/3.0/")
        .unwrap_or_default();
    if format!("{codebase}/") != shared.codebase() {
        return CwError::not_found(format!("The resource '{path}' was not found.")).into_response();
    }
    let answer = |fault| match fault {
        Injected::TooManyRequests(secs) => CwError::too_many_requests(secs).into_response(),
        Injected::ServerError(status) => CwError::server_error(status).into_response(),
    };
    with_faults(&shared.faults, answer, handle(&shared, &parts, body, rest)).await
}

async fn handle(shared: &Shared, parts: &Parts, body: Body, rest: &str) -> Response {
    let access = match auth::authenticate(&shared.config.credentials, &parts.headers) {
        Ok(access) => access,
        Err(e) => return e.into_response(),
    };
    let route = match routes::resolve(&parts.method, rest) {
        Ok(route) => route,
        Err(e) => return e.into_response(),
    };
    if let (Access::ReadOnly, Some(permission)) = (access, route.permission()) {
        return CwError::forbidden(format!(
            "You do not have permission to perform this action: the security role lacks {permission}"
        ))
        .into_response();
    }
    let body = match route {
        Route::Create(_) | Route::Update(..) => match read_body(body).await {
            Some(bytes) => bytes,
            None => {
                let message = format!("The request body is larger than {MAX_BODY} bytes.");
                return CwError::invalid_object(
                    message.clone(),
                    vec![error::FieldError::invalid("body", "body", message)],
                )
                .into_response();
            }
        },
        _ => Default::default(),
    };
    dispatch(shared, parts, route, &body).unwrap_or_else(IntoResponse::into_response)
}

fn dispatch(
    shared: &Shared,
    parts: &Parts,
    route: Route,
    body: &[u8],
) -> Result<Response, CwError> {
    let list_query = || {
        ListQuery::parse(
            parts.uri.query(),
            parts.uri.path(),
            &parts.headers,
            &shared.origin,
        )
    };
    match route {
        Route::SystemInfo => Ok(reads::system_info()),
        Route::List(c) => {
            let q = list_query()?;
            let (data, generation) = shared.read_generation();
            reads::list(&data, c, &q, (&shared.connectwise, generation))
        }
        Route::Count(c) => {
            let q = list_query()?;
            reads::count(&shared.read(), c, &q)
        }
        Route::Get(c, id) => reads::get(&shared.read(), c, id, parts.uri.query()),
        Route::Create(Collection::Tickets) => writes::create_ticket(shared, body),
        Route::Create(Collection::Notes(ticket)) => writes::create_note(shared, ticket, body),
        Route::Create(Collection::Configurations) => writes::create_configuration(shared, body),
        Route::Update(Collection::Tickets, id) => writes::patch_ticket(shared, id, body),
        Route::Update(Collection::Configurations, id) => {
            writes::patch_configuration(shared, id, body)
        }
        Route::Update(Collection::Additions(agreement), id) => {
            writes::patch_addition(shared, agreement, id, body)
        }
        Route::Create(_) | Route::Update(..) => {
            Err(CwError::method_not_allowed(parts.method.as_str()))
        }
    }
}
