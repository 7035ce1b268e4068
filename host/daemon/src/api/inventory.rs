//! The inventory sync routes: a batch of devices synced to the connection's configurations,
//! the devices' mapping states, the audit trail of the writes.

use super::ApiError;
use super::handlers::{
    D, Result, configured, flag, internal, keyed_page, limit, param, params, require_owner,
};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use psahost_workflows::inventory;
use psahost_workflows::sync::NoProgress;
use serde_json::{Value, json};

/// The largest body of a device batch, in bytes.
pub const MAX_DEVICES_BODY: usize = 64 * 1024 * 1024;

/// Syncs the batch of devices in the body to the connection's configurations by its
/// `[connections.ID.inventory]` settings; `dry-run` writes nothing.
pub async fn sync_devices(
    State(daemon): D,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    body: String,
) -> Result<Json<Value>> {
    configured(&daemon, &id)?;
    let dry_run = flag(&params(&query), "dry-run")?;
    let settings = daemon
        .config()
        .connection(&id)
        .map_err(internal)?
        .inventory
        .clone()
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "not-configured",
                format!(
                    "connection `{id}` has no inventory settings: add `[connections.{id}.inventory]` to the configuration"
                ),
            )
        })?;
    let devices =
        inventory::parse_devices(&body).map_err(|e| ApiError::bad_request(format!("{e:#}")))?;
    require_owner(&daemon, &id).await?;
    let conn = daemon.connection(&id)?;
    // Two runs of one connection at once could both create a device's configuration.
    let _running = daemon.inventory_locks().try_lock(&id).ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "busy",
            "an inventory sync of this connection is under way: send the batch again when it has finished",
        )
    })?;
    let report = inventory::sync_inventory(
        daemon.engine(),
        &conn,
        &settings,
        &devices,
        dry_run,
        &NoProgress,
    )
    .await
    .map_err(internal)?;
    Ok(Json(json!(report)))
}

/// The devices' mapping states, by device id.
pub async fn devices(
    State(daemon): D,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    configured(&daemon, &id)?;
    let params = params(&query);
    let limit = limit(&params)?;
    let after = param(&params, "after").map(str::to_string);
    let devices = inventory::list_devices(daemon.store().as_ref(), &id, after, limit)
        .await
        .map_err(internal)?;
    keyed_page(&id, "devices", devices, limit, |d| d.device_id.clone())
}

/// The inventory entries of the connection's audit trail, oldest first.
pub async fn audit(
    State(daemon): D,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    configured(&daemon, &id)?;
    let params = params(&query);
    let limit = limit(&params)?;
    let after = match param(&params, "after") {
        None => 0,
        Some(v) => v.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!(
                "`after` must be a sequence number (0 or more), not `{v}`"
            ))
        })?,
    };
    let page = daemon
        .store()
        .audit(&id, after, limit)
        .await
        .map_err(internal)?;
    // The trail is shared by the workflows: a full page may have more after it, of any.
    let next = (page.len() == limit)
        .then(|| page.last().map(|(seq, _)| *seq))
        .flatten();
    let entries: Vec<Value> = page
        .into_iter()
        .filter(|(_, e)| e["workflow"] == "inventory")
        .map(|(seq, entry)| json!({ "seq": seq, "entry": entry }))
        .collect();
    Ok(Json(
        json!({ "connection": id, "entries": entries, "next": next }),
    ))
}
