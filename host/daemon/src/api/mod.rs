//! The HTTP API of `psahost serve` (axum).
//!
//! Every route is listed in [`ROUTES`] and documented in the OpenAPI document
//! ([`openapi::document`], served at `/openapi.json` and checked in as `docs/openapi.json`).
//! Everything but `/health` and `/ready` needs the bearer token ([`auth`]). Records are served
//! as the store holds them (WIT field names, kebab-case); errors are
//! `{"error": {"code": "...", "message": "..."}}` with one of the codes of [`ApiError`].

pub mod auth;
pub mod delivery;
pub mod forward;
mod handlers;
mod inventory;
pub mod metrics;
pub mod openapi;

use crate::{ConnectionUnavailable, Daemon};
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::json;
use std::sync::Arc;

/// Every route: method, path (axum syntax), and whether it needs the token.
pub const ROUTES: &[(&str, &str, bool)] = &[
    ("get", "/health", false),
    ("get", "/ready", false),
    ("get", "/metrics", true),
    ("get", "/openapi.json", true),
    ("get", "/v1/plugins", true),
    ("get", "/v1/connections", true),
    ("get", "/v1/connections/{id}", true),
    ("get", "/v1/connections/{id}/runs", true),
    ("post", "/v1/connections/{id}/test", true),
    ("post", "/v1/connections/{id}/sync", true),
    ("post", "/v1/connections/{id}/sync/{entity}", true),
    ("get", "/v1/connections/{id}/records/{entity}", true),
    (
        "get",
        "/v1/connections/{id}/records/{entity}/{record}",
        true,
    ),
    (
        "post",
        "/v1/connections/{id}/records/{entity}/{record}/sync",
        true,
    ),
    ("get", "/v1/connections/{id}/changes", true),
    ("get", "/v1/connections/{id}/mrr", true),
    ("get", "/v1/connections/{id}/eligible", true),
    ("get", "/v1/connections/{id}/references/{kind}", true),
    ("post", "/v1/connections/{id}/link/customers", true),
    ("get", "/v1/connections/{id}/links/customers", true),
    (
        "delete",
        "/v1/connections/{id}/links/customers/{customer}",
        true,
    ),
    ("post", "/v1/connections/{id}/inventory/devices", true),
    ("get", "/v1/connections/{id}/inventory/devices", true),
    ("get", "/v1/connections/{id}/inventory/audit", true),
    ("post", "/v1/connections/{id}/alerts", true),
    ("get", "/v1/connections/{id}/deliveries", true),
    (
        "post",
        "/v1/connections/{id}/deliveries/{alert}/retry",
        true,
    ),
    ("get", "/v1/connections/{id}/delivery/check", true),
    ("get", "/v1/connections/{id}/delivery/settings", true),
    ("put", "/v1/connections/{id}/delivery/settings", true),
    ("delete", "/v1/connections/{id}/delivery/settings", true),
    ("post", "/v1/connections/{id}/billable", true),
];

/// The largest body of a customer linking request, in bytes.
pub const MAX_LINK_BODY: usize = 64 * 1024 * 1024;

/// The API's router over `daemon`.
pub fn router(daemon: Arc<Daemon>) -> Router {
    use handlers as h;
    let token = daemon
        .config()
        .api
        .as_ref()
        .map(|a| a.token.clone())
        .unwrap_or_default();
    let check = Arc::new(auth::TokenCheck::new(&token));
    let protected = Router::new()
        .route("/metrics", get(h::metrics))
        .route("/openapi.json", get(h::openapi))
        .route("/v1/plugins", get(h::plugins))
        .route("/v1/connections", get(h::connections))
        .route("/v1/connections/{id}", get(h::connection))
        .route("/v1/connections/{id}/runs", get(h::runs))
        .route("/v1/connections/{id}/test", post(h::test))
        .route("/v1/connections/{id}/sync", post(h::sync_connection))
        .route("/v1/connections/{id}/sync/{entity}", post(h::sync_entity))
        .route("/v1/connections/{id}/records/{entity}", get(h::records))
        .route(
            "/v1/connections/{id}/records/{entity}/{record}",
            get(h::record),
        )
        .route(
            "/v1/connections/{id}/records/{entity}/{record}/sync",
            post(h::sync_record),
        )
        .route("/v1/connections/{id}/changes", get(h::changes))
        .route("/v1/connections/{id}/mrr", get(h::mrr))
        .route("/v1/connections/{id}/eligible", get(h::eligible))
        .route("/v1/connections/{id}/references/{kind}", get(h::references))
        .route(
            "/v1/connections/{id}/link/customers",
            post(h::link_customers).layer(axum::extract::DefaultBodyLimit::max(MAX_LINK_BODY)),
        )
        .route(
            "/v1/connections/{id}/links/customers",
            get(h::customer_links),
        )
        .route(
            "/v1/connections/{id}/links/customers/{customer}",
            delete(h::remove_customer_link),
        )
        .route(
            "/v1/connections/{id}/inventory/devices",
            post(inventory::sync_devices)
                .layer(axum::extract::DefaultBodyLimit::max(
                    inventory::MAX_DEVICES_BODY,
                ))
                .get(inventory::devices),
        )
        .route(
            "/v1/connections/{id}/inventory/audit",
            get(inventory::audit),
        )
        .route(
            "/v1/connections/{id}/alerts",
            post(delivery::alerts).layer(axum::extract::DefaultBodyLimit::max(
                delivery::MAX_ALERTS_BODY,
            )),
        )
        .route("/v1/connections/{id}/deliveries", get(delivery::deliveries))
        .route(
            "/v1/connections/{id}/deliveries/{alert}/retry",
            post(delivery::retry),
        )
        .route("/v1/connections/{id}/delivery/check", get(delivery::check))
        .route(
            "/v1/connections/{id}/delivery/settings",
            get(delivery::get_settings)
                .put(delivery::put_settings)
                .delete(delivery::delete_settings)
                .layer(axum::extract::DefaultBodyLimit::max(
                    delivery::MAX_ALERTS_BODY,
                )),
        )
        .route(
            "/v1/connections/{id}/billable",
            post(delivery::billable).layer(axum::extract::DefaultBodyLimit::max(
                delivery::MAX_ALERTS_BODY,
            )),
        )
        // Layers run outermost last-added first: the token is checked before anything is
        // forwarded to another replica.
        .route_layer(axum::middleware::from_fn_with_state(
            daemon.clone(),
            forward::to_owner,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            check,
            auth::require_token,
        ));
    Router::new()
        .route("/health", get(h::health))
        .route("/ready", get(h::ready))
        .merge(protected)
        .fallback(h::not_found)
        .with_state(daemon)
}

/// An error answer: a status and `{"error": {"code", "message"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// `401 unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// `404 not-found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", message)
    }

    /// `400 bad-request`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-request", message)
    }

    /// `503 unavailable`: the connection is configured but not open (its plugin did not load).
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// `502 connector-error`: the connector or the PSA failed.
    pub fn connector(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_GATEWAY, "connector-error", message)
    }

    /// `500 internal`.
    pub fn internal(e: anyhow::Error) -> ApiError {
        tracing::error!("API request failed: {e:#}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("{e:#}"),
        )
    }

    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl From<ConnectionUnavailable> for ApiError {
    fn from(e: ConnectionUnavailable) -> ApiError {
        match e {
            ConnectionUnavailable::Unknown(_) => ApiError::not_found(e.to_string()),
            ConnectionUnavailable::NotOpen { .. } => ApiError::unavailable(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, axum::Json(body)).into_response()
    }
}
