//! The delivery routes: alerts in (`POST .../alerts`, one or a batch, `?dry-run=true`), the
//! deliveries' states, the retry of a failed one, the settings' check and the billable-user
//! counts. A connection's queue is drained by one request at a time
//! ([`Daemon::delivery_locks`]).

use super::ApiError;
use crate::Daemon;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
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

/// Connection `id`'s delivery settings.
fn settings_of(daemon: &Daemon, id: &str) -> Result<DeliverySettings> {
    let conn = daemon
        .config()
        .connection(id)
        .map_err(|e| ApiError::not_found(format!("{e:#}")))?;
    conn.delivery.clone().ok_or_else(|| {
        ApiError::not_found(format!(
            "connection `{id}` has no delivery settings: add [connections.{id}.delivery] to the configuration"
        ))
    })
}

/// The check's problems as an error answer, if any.
async fn require_complete(
    daemon: &Daemon,
    conn: &psahost_sandbox::connector::Connection,
    s: &DeliverySettings,
) -> Result<()> {
    // Checked once: later alerts are queued even while the PSA cannot answer the check.
    if daemon.delivery_locks().checked(conn.id()) {
        return Ok(());
    }
    let problems = settings::check(s, conn, daemon.store().as_ref())
        .await
        .map_err(|e| {
            ApiError::connector(format!(
                "cannot check the delivery settings of connection `{}` against the PSA, nothing was queued: {e:#}; try again",
                conn.id()
            ))
        })?;
    if problems.is_empty() {
        daemon.delivery_locks().set_checked(conn.id());
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
    let s = settings_of(&daemon, &id)?;
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
    let s = settings_of(&daemon, &id)?;
    let alerts = alerts::parse(&body).map_err(|e| ApiError::bad_request(format!("{e:#}")))?;
    let conn = daemon.connection(&id)?;
    require_complete(&daemon, &conn, &s).await?;
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
    settings_of(&daemon, &id)?;
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
    let next = (records.len() == limit)
        .then(|| records.last().map(|r| r.alert.id.clone()))
        .flatten();
    Ok(Json(json!({
        "connection": id,
        "deliveries": records,
        "next": next,
    })))
}

/// `POST /v1/connections/{id}/deliveries/{alert}/retry`.
pub async fn retry(
    State(daemon): D,
    Path((id, alert)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let s = settings_of(&daemon, &id)?;
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
    let s = settings_of(&daemon, &id)?;
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
