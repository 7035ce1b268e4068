//! With `[cluster]`: the requests that act through a connection (every `POST`, `PUT` and
//! `DELETE` under `/v1/connections/{id}/`: a sync now, a linking run, a delivery or an
//! inventory batch, the delivery settings, a link removed) run on
//! the replica that holds the connection's lease, so the PSA's rate limits are counted by one
//! process and the writes are fenced by one lease. Any other replica forwards such a request to
//! the owner, at the API address the owner advertises in its heartbeats (`[cluster]
//! advertise`), and relays the owner's answer.
//!
//! Every answer of a replica names who handled it (`psahost-replica`); a forwarded answer also
//! names the replica that forwarded it (`psahost-forwarded-by`). A request is forwarded at most
//! once: a forwarded request that reaches a replica that no longer owns the connection (the
//! replicas are rebalancing) is answered `409 not-owner`, never forwarded again, so requests
//! cannot loop between replicas. Reads are served by every replica from the shared store.

use super::ApiError;
use crate::Daemon;
use crate::membership::Membership;
use axum::body::Body;
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{RawPathParams, Request, State};
use axum::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;

/// The answer header naming the replica that handled the request.
pub const REPLICA_HEADER: &str = "psahost-replica";
/// The request and answer header naming the replica that forwarded the request.
pub const FORWARDED_BY_HEADER: &str = "psahost-forwarded-by";
/// The largest request body forwarded (the largest any route accepts).
pub const MAX_FORWARD_BODY: usize = super::MAX_LINK_BODY;
/// How long a forwarded request may run on the owner (a sync now of a large connection is long).
const FORWARD_TIMEOUT: Duration = Duration::from_secs(3600);

/// The middleware: forwards what the owner must do, and names the replica on every answer.
pub async fn to_owner(
    State(daemon): State<Arc<Daemon>>,
    params: Result<RawPathParams, RawPathParamsRejection>,
    request: Request,
    next: Next,
) -> Response {
    let Some(cluster) = daemon.cluster().cloned() else {
        return next.run(request).await;
    };
    let owned_elsewhere = match &params {
        Ok(params) => owned_elsewhere(&daemon, &request, params),
        Err(_) => None,
    };
    let mut response = match owned_elsewhere {
        None => next.run(request).await,
        Some(id) => forward(&daemon, &cluster, &id, request)
            .await
            .unwrap_or_else(IntoResponse::into_response),
    };
    if let Ok(me) = HeaderValue::from_str(&cluster.config().replica) {
        // A relayed answer keeps the owner's name.
        response.headers_mut().entry(REPLICA_HEADER).or_insert(me);
    }
    response
}

/// The connection id when `request` acts through a connection this replica does not own.
fn owned_elsewhere(daemon: &Daemon, request: &Request, params: &RawPathParams) -> Option<String> {
    // What writes through a connection (POST, and the settings' PUT and DELETE) runs on its
    // owner: the shared store refuses another replica's writes.
    let writes = [Method::POST, Method::PUT, Method::DELETE].contains(request.method());
    if !writes || !request.uri().path().starts_with("/v1/connections/") {
        return None;
    }
    let id = params.iter().find(|(k, _)| *k == "id").map(|(_, v)| v)?;
    // An unknown connection is the handler's 404; an owned one runs here.
    if !daemon.connections().contains_key(id) || daemon.owns(id) {
        return None;
    }
    Some(id.to_string())
}

async fn forward(
    daemon: &Daemon,
    cluster: &Membership,
    id: &str,
    request: Request,
) -> Result<Response, ApiError> {
    let me = cluster.config().replica.as_str();
    let not_owner = |message: String| ApiError::new(StatusCode::CONFLICT, "not-owner", message);
    if let Some(by) = request.headers().get(FORWARDED_BY_HEADER) {
        return Err(not_owner(format!(
            "replica `{me}` does not hold the lease of connection `{id}` (the request was forwarded here by `{}`): the replicas are rebalancing; try again in a few seconds",
            String::from_utf8_lossy(by.as_bytes()).escape_debug()
        )));
    }
    let lease = cluster
        .owner_of(id)
        .await
        .map_err(ApiError::internal)?
        .filter(|lease| lease.owner != me);
    let Some(lease) = lease else {
        return Err(not_owner(format!(
            "no replica holds the lease of connection `{id}` right now (this is replica `{me}`): the replicas are rebalancing; try again in a few seconds"
        )));
    };
    let owner = lease.owner.as_str();
    let Some(address) = cluster
        .address_of(owner)
        .await
        .map_err(ApiError::internal)?
    else {
        return Err(not_owner(format!(
            "connection `{id}` is handled by replica `{owner}` (lease epoch {}), which advertises no API address to forward to: send the request to it, or set `[cluster] advertise` on every replica",
            lease.epoch
        )));
    };
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_FORWARD_BODY)
        .await
        .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")))?;
    let path = parts
        .uri
        .path_and_query()
        .map_or(parts.uri.path(), |p| p.as_str());
    let mut out = daemon
        .forward_client()
        .request(parts.method.clone(), format!("{address}{path}"))
        .timeout(FORWARD_TIMEOUT)
        .header(FORWARDED_BY_HEADER, me)
        .body(body);
    for name in [AUTHORIZATION, CONTENT_TYPE, ACCEPT] {
        if let Some(value) = parts.headers.get(&name) {
            out = out.header(name, value);
        }
    }
    tracing::debug!(
        connection = id,
        owner,
        "forwarding `{}` to the connection's owner",
        parts.uri.path()
    );
    let unreachable = |e: reqwest::Error| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "owner-unreachable",
            format!(
                "connection `{id}` is handled by replica `{owner}`, and forwarding the request to it at `{address}` failed: {e}; try again, or send the request to it"
            ),
        )
    };
    let answer = out.send().await.map_err(unreachable)?;
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await.map_err(unreachable)?;
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    for name in [CONTENT_TYPE.as_str(), REPLICA_HEADER] {
        if let Some(value) = headers.get(name) {
            response.headers_mut().insert(name, value.clone());
        }
    }
    if let Ok(me) = HeaderValue::from_str(me) {
        response.headers_mut().insert(FORWARDED_BY_HEADER, me);
    }
    Ok(response)
}
