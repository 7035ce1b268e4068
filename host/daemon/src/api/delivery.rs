//! The delivery routes: alerts in (`POST .../alerts`, one or a batch, `?dry-run=true`), the
//! deliveries' states, the retry of a failed one, the settings' check and the billable-user
//! counts; the settings themselves (`GET`, `PUT`, `DELETE .../delivery/settings`). A
//! connection's queue is drained by one request at a time ([`Daemon::delivery_locks`]).
//!
//! Settings set through the API are stored (the store's `delivery-settings` link, audited) and
//! replace the connection's `[connections.ID.delivery]` until cleared; every route, the
//! background drain and the billable sync use the settings in effect
//! ([`psahost_config::delivery::effective`]).

use super::ApiError;
use crate::Daemon;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use psahost_config::delivery::{Effective, FormError};
use psahost_workflows::billing;
use psahost_workflows::delivery::{self, Delivery, DeliverySettings, alerts, settings};
use serde_json::{Value, json};
use std::sync::Arc;

type D = State<Arc<Daemon>>;
type Result<T> = std::result::Result<T, ApiError>;

/// The largest body of an alerts or counts request, in bytes.
pub const MAX_ALERTS_BODY: usize = alerts::MAX_INPUT_BYTES;

fn params(query: &Option<String>) -> Vec<(String, String)> {
    query
        .as_deref()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn flag(params: &[(String, String)], name: &str) -> Result<bool> {
    match param(params, name) {
        None => Ok(false),
        Some("" | "true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(other) => Err(ApiError::bad_request(format!(
            "`{name}` must be true or false, not `{other}`"
        ))),
    }
}

fn internal(e: anyhow::Error) -> ApiError {
    ApiError::internal(e)
}

/// Connection `id`'s delivery settings in effect (set through the API, else its TOML table).
async fn effective_of(daemon: &Daemon, id: &str) -> Result<Effective> {
    let conn = daemon
        .config()
        .connection(id)
        .map_err(|e| ApiError::not_found(format!("{e:#}")))?;
    psahost_config::delivery::effective(daemon.store().as_ref(), id, conn.delivery.as_ref())
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "connection `{id}` has no delivery settings: add [connections.{id}.delivery] to the configuration or set them with `PUT /v1/connections/{id}/delivery/settings`"
            ))
        })
}

/// Connection `id`'s delivery settings in effect.
async fn settings_of(daemon: &Daemon, id: &str) -> Result<DeliverySettings> {
    Ok(effective_of(daemon, id).await?.settings)
}

/// The check's problems as an error answer, if any.
async fn require_complete(
    daemon: &Daemon,
    conn: &psahost_sandbox::connector::Connection,
    e: &Effective,
) -> Result<()> {
    // Checked once per version of the settings: later alerts are queued even while the PSA
    // cannot answer the check.
    let key = e.check_key(conn.id());
    if daemon.delivery_locks().checked(&key) {
        return Ok(());
    }
    let problems = settings::check(&e.settings, conn, daemon.store().as_ref())
        .await
        .map_err(|e| {
            ApiError::connector(format!(
                "cannot check the delivery settings of connection `{}` against the PSA, nothing was queued: {e:#}; try again",
                conn.id()
            ))
        })?;
    if problems.is_empty() {
        daemon.delivery_locks().set_checked(&key);
        return Ok(());
    }
    let text: Vec<String> = problems
        .iter()
        .map(|p| format!("delivery.{}: {}", p.field, p.message))
        .collect();
    Err(ApiError::bad_request(format!(
        "the delivery settings of connection `{}` are incomplete, nothing was delivered: {}",
        conn.id(),
        text.join("; ")
    )))
}

/// `GET /v1/connections/{id}/delivery/check`.
pub async fn check(State(daemon): D, Path(id): Path<String>) -> Result<Json<Value>> {
    let s = settings_of(&daemon, &id).await?;
    let conn = daemon.connection(&id)?;
    let problems = settings::check(&s, &conn, daemon.store().as_ref())
        .await
        .map_err(internal)?;
    Ok(Json(json!({
        "connection": id,
        "ok": problems.is_empty(),
        "problems": problems,
    })))
}

/// `POST /v1/connections/{id}/alerts[?dry-run=true]`: one alert, an array or JSON lines.
pub async fn alerts(
    State(daemon): D,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    body: String,
) -> Result<Json<Value>> {
    let dry_run = flag(&params(&query), "dry-run")?;
    let e = effective_of(&daemon, &id).await?;
    let alerts = alerts::parse(&body).map_err(|e| ApiError::bad_request(format!("{e:#}")))?;
    let conn = daemon.connection(&id)?;
    require_complete(&daemon, &conn, &e).await?;
    let s = e.settings;
    let store = daemon.store().clone();
    let d = Delivery::new(store.as_ref(), &conn, &s);
    if dry_run {
        let previews = d.dry_run(&alerts).await.map_err(internal)?;
        return Ok(Json(
            json!({ "connection": id, "dry-run": true, "previews": previews }),
        ));
    }
    let _drain = daemon.delivery_locks().lock(&id).await;
    let accepted = d.enqueue(&alerts).await.map_err(internal)?;
    let report = d.drain(0).await.map_err(internal)?;
    Ok(Json(json!({
        "connection": id,
        "accepted": accepted,
        "report": report,
    })))
}

/// `GET /v1/connections/{id}/deliveries[?after=ALERT&limit=N]`.
pub async fn deliveries(
    State(daemon): D,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    settings_of(&daemon, &id).await?;
    let p = params(&query);
    let limit = match param(&p, "limit") {
        None => 100,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "`limit` must be a number from 1 to 1000, not `{v}`"
                )));
            }
        },
    };
    let after = param(&p, "after").map(str::to_string);
    let records = delivery::list(daemon.store().as_ref(), &id, after, limit)
        .await
        .map_err(internal)?;
    super::handlers::keyed_page(&id, "deliveries", records, limit, |r| r.alert.id.clone())
}

/// `POST /v1/connections/{id}/deliveries/{alert}/retry`.
pub async fn retry(
    State(daemon): D,
    Path((id, alert)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let s = settings_of(&daemon, &id).await?;
    let conn = daemon.connection(&id)?;
    let store = daemon.store().clone();
    let d = Delivery::new(store.as_ref(), &conn, &s);
    let _drain = daemon.delivery_locks().lock(&id).await;
    let record = d
        .retry(&alert)
        .await
        .map_err(|e| ApiError::bad_request(format!("{e:#}")))?;
    let report = d.drain(0).await.map_err(internal)?;
    Ok(Json(json!({
        "connection": id,
        "alert-id": record.alert.id,
        "report": report,
    })))
}

/// `POST /v1/connections/{id}/billable[?date=YYYY-MM-DD&force=true]`: the organisations'
/// billable user counts, `{"org": 12}` or `[{"organisation": "org", "count": 12}]`.
pub async fn billable(
    State(daemon): D,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    body: String,
) -> Result<Json<Value>> {
    let p = params(&query);
    let force = flag(&p, "force")?;
    let today = match param(&p, "date") {
        Some(d) => time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| ApiError::bad_request(format!("`date` must be YYYY-MM-DD, not `{d}`")))?,
        None => time::OffsetDateTime::now_utc().date(),
    };
    let s = settings_of(&daemon, &id).await?;
    let counts =
        billing::parse_counts(&body).map_err(|e| ApiError::bad_request(format!("{e:#}")))?;
    let conn = daemon.connection(&id)?;
    let _one = daemon.delivery_locks().lock(&id).await;
    let outcomes =
        billing::sync_billable(daemon.store().as_ref(), &conn, &s, &counts, today, force)
            .await
            .map_err(|e| ApiError::bad_request(format!("{e:#}")))?;
    Ok(Json(json!({ "connection": id, "outcomes": outcomes })))
}

/// `422 invalid-settings` with every problem (field and message).
fn invalid(id: &str, problems: &[FormError]) -> Response {
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "error": {
            "code": "invalid-settings",
            "message": format!(
                "the delivery settings for connection `{id}` were not stored: {}",
                text.join("; ")
            ),
            "problems": problems,
        } })),
    )
        .into_response()
}

/// `GET /v1/connections/{id}/delivery/settings`: the settings in effect and their source
/// (`api`: set through the API, `toml`: the configuration's table, `null`: none).
pub async fn get_settings(State(daemon): D, Path(id): Path<String>) -> Result<Json<Value>> {
    let conn = daemon
        .config()
        .connection(&id)
        .map_err(|e| ApiError::not_found(format!("{e:#}")))?;
    let e =
        psahost_config::delivery::effective(daemon.store().as_ref(), &id, conn.delivery.as_ref())
            .await
            .map_err(internal)?;
    Ok(Json(psahost_config::delivery::answer(&id, e.as_ref())))
}

/// `PUT /v1/connections/{id}/delivery/settings`: settings in the TOML table's shape, validated
/// as the configuration is and checked against the PSA as the set-up wizard checks them;
/// stored (audited) when complete, in effect at once for every process of the store.
pub async fn put_settings(
    State(daemon): D,
    Path(id): Path<String>,
    body: String,
) -> Result<Response> {
    daemon
        .config()
        .connection(&id)
        .map_err(|e| ApiError::not_found(format!("{e:#}")))?;
    let document: Value = serde_json::from_str(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not JSON ({e}): send the settings as a JSON object of the `[connections.{id}.delivery]` table's shape"
        ))
    })?;
    let s = match psahost_config::delivery::from_json(&document) {
        Ok(s) => s,
        Err(problem) => return Ok(invalid(&id, &[problem])),
    };
    let conn = daemon.connection(&id)?;
    let problems = settings::check(&s, &conn, daemon.store().as_ref())
        .await
        .map_err(|e| {
            ApiError::connector(format!(
                "cannot check the delivery settings of connection `{id}` against the PSA, nothing was stored: {e:#}; try again"
            ))
        })?;
    if !problems.is_empty() {
        let problems: Vec<FormError> = problems
            .into_iter()
            .map(|p| FormError {
                field: p.field,
                message: p.message,
            })
            .collect();
        return Ok(invalid(&id, &problems));
    }
    // One change of a connection's settings at a time, and none during a drain.
    let _one = daemon.delivery_locks().lock(&id).await;
    // What is stored is the settings as read, so a later read gives the same settings.
    let stored = settings::store_settings(
        daemon.store().as_ref(),
        &id,
        Some(psahost_config::delivery::to_json(&s)),
    )
    .await
    .map_err(internal)?;
    let e = Effective {
        settings: s,
        source: psahost_config::delivery::SettingsSource::Api,
        version: Some(stored.version),
        set_at: Some(stored.at),
    };
    // Checked just now.
    daemon.delivery_locks().set_checked(&e.check_key(&id));
    Ok(Json(psahost_config::delivery::answer(&id, Some(&e))).into_response())
}

/// `DELETE /v1/connections/{id}/delivery/settings`: clears the settings set through the API;
/// the connection's TOML table, if any, is in effect again.
pub async fn delete_settings(State(daemon): D, Path(id): Path<String>) -> Result<Json<Value>> {
    let conn = daemon
        .config()
        .connection(&id)
        .map_err(|e| ApiError::not_found(format!("{e:#}")))?;
    let _one = daemon.delivery_locks().lock(&id).await;
    let held = settings::stored(daemon.store().as_ref(), &id)
        .await
        .map_err(internal)?;
    if held.is_some_and(|s| s.document.is_some()) {
        settings::store_settings(daemon.store().as_ref(), &id, None)
            .await
            .map_err(internal)?;
    }
    let e =
        psahost_config::delivery::effective(daemon.store().as_ref(), &id, conn.delivery.as_ref())
            .await
            .map_err(internal)?;
    Ok(Json(psahost_config::delivery::answer(&id, e.as_ref())))
}
