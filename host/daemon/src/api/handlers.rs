//! The API's handlers. Shapes are documented in [`super::openapi`].

use super::ApiError;
use crate::Daemon;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use psahost_sandbox::bindings::psa::connector::types::Error as PsaError;
use psahost_sandbox::connector::{Connection, ConnectorError, describe_psa_error, error_kind};
use psahost_store::Entity;
use psahost_store::{ListQuery, RunRecord, SyncMode, parse_time};
use psahost_workflows::linking::customers;
use psahost_workflows::sync::{ConnectionSync, SyncRequest};
use psahost_workflows::views;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) type D = State<Arc<Daemon>>;
pub(super) type Result<T> = std::result::Result<T, ApiError>;

/// Records per page when the caller does not say.
const DEFAULT_LIMIT: usize = 100;
/// The largest page.
const MAX_LIMIT: usize = 1000;

/// The query string as (name, value) pairs.
pub(super) fn params(query: &Option<String>) -> Vec<(String, String)> {
    query
        .as_deref()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(super) fn flag(params: &[(String, String)], name: &str) -> Result<bool> {
    match param(params, name) {
        None => Ok(false),
        Some("" | "true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(other) => Err(ApiError::bad_request(format!(
            "`{name}` must be true or false, not `{other}`"
        ))),
    }
}

pub(super) fn limit(params: &[(String, String)]) -> Result<usize> {
    match param(params, "limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(format!(
                "`limit` must be a number from 1 to {MAX_LIMIT}, not `{v}`"
            ))),
        },
    }
}

fn entity(name: &str) -> Result<Entity> {
    name.parse()
        .map_err(|e: anyhow::Error| ApiError::not_found(e.to_string()))
}

/// Checks that `conn`'s connector reads `entity` (a dataset it does not declare is unknown).
fn offered(conn: &Connection, entity: Entity) -> Result<()> {
    let info = conn.plugin().connector_info();
    match (entity.dataset(), info) {
        (Some(_), Some(info)) if !psahost_workflows::sync::offers(info, entity) => {
            let names: Vec<&str> = info.datasets.iter().map(|d| d.name.as_str()).collect();
            Err(ApiError::not_found(format!(
                "connection `{}` has no dataset `{entity}`; its connector's datasets are: {}",
                conn.id(),
                if names.is_empty() {
                    "(none)".to_string()
                } else {
                    names.join(", ")
                }
            )))
        }
        _ => Ok(()),
    }
}

/// Checks that connection `id` is configured (it need not be open to read the store).
pub(super) fn configured(daemon: &Daemon, id: &str) -> Result<()> {
    if daemon.connections().contains_key(id) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "no connection `{id}` is configured"
        )))
    }
}

pub(super) fn internal(e: anyhow::Error) -> ApiError {
    ApiError::internal(e)
}

pub async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn ready(State(daemon): D) -> Response {
    let readiness = daemon.readiness();
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness)).into_response()
}

pub async fn metrics(State(daemon): D) -> Response {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        daemon.metrics().encode(),
    )
        .into_response()
}

pub async fn openapi() -> Response {
    (
        [(CONTENT_TYPE, "application/json")],
        super::openapi::document_text(),
    )
        .into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such route; the routes are documented at /openapi.json")
}

pub async fn plugins(State(daemon): D) -> Json<Value> {
    let plugins: Vec<_> = daemon.plugins().values().map(|p| p.status()).collect();
    Json(json!({ "plugins": plugins }))
}

fn schedule_json(schedule: &psahost_config::Schedule) -> Value {
    let entities: serde_json::Map<String, Value> = schedule
        .entities
        .iter()
        .map(|(e, d)| {
            (
                e.name().to_string(),
                json!(humantime::format_duration(*d).to_string()),
            )
        })
        .collect();
    json!({
        "entities": entities,
        "full-sweep": schedule.full_sweep.map(|d| humantime::format_duration(d).to_string()),
    })
}

fn summary(daemon: &Daemon, id: &str) -> Value {
    let slot = &daemon.connections()[id];
    let plugin = daemon
        .plugins()
        .get(&slot.config.plugin)
        .map(|p| p.status());
    json!({
        "id": id,
        "plugin": slot.config.plugin,
        "plugin-version": plugin.as_ref().and_then(|p| p.version.clone()),
        "plugin-sha256": plugin.as_ref().and_then(|p| p.sha256.clone()),
        "open": slot.error().is_none(),
        "error": slot.error(),
        "schedule": schedule_json(&slot.config.schedule),
    })
}

pub async fn connections(State(daemon): D) -> Json<Value> {
    let list: Vec<Value> = daemon
        .connections()
        .keys()
        .map(|id| summary(&daemon, id))
        .collect();
    Json(json!({ "connections": list }))
}

pub async fn connection(State(daemon): D, Path(id): Path<String>) -> Result<Json<Value>> {
    configured(&daemon, &id)?;
    let store = daemon.store();
    let mut entities = Vec::new();
    // The connector's datasets are known once its plugin is loaded.
    let all = match daemon.connection(&id) {
        Ok(conn) => psahost_workflows::sync::everything(conn.plugin().connector_info()),
        Err(_) => Entity::ALL.to_vec(),
    };
    for entity in all {
        let state = store.sync_state(&id, entity).await.map_err(internal)?;
        let last_run = match state.last_run {
            Some(run) => store.run(&id, run).await.map_err(internal)?,
            None => None,
        };
        let stored = store.count(&id, entity).await.map_err(internal)?;
        let interval = daemon.connections()[&id]
            .config
            .schedule
            .entities
            .iter()
            .find(|(e, _)| *e == entity)
            .map(|(_, d)| humantime::format_duration(*d).to_string());
        entities.push(json!({
            "entity": entity,
            "schedule": interval,
            "stored": stored,
            "state": state,
            "last-run": last_run,
        }));
    }
    let runs = store.runs(&id, 20).await.map_err(internal)?;
    let mut body = summary(&daemon, &id);
    body["entities"] = json!(entities);
    body["runs"] = json!(runs);
    Ok(Json(body))
}

pub async fn runs(
    State(daemon): D,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    configured(&daemon, &id)?;
    let limit = limit(&params(&query))?;
    let runs = daemon.store().runs(&id, limit).await.map_err(internal)?;
    Ok(Json(json!({ "runs": runs })))
}

fn plugin_of(conn: &psahost_sandbox::connector::Connection) -> Value {
    let p = conn.plugin();
    json!({
        "id": p.id(),
        "version": p.connector_info().map(|i| i.version.clone()),
        "sha256": p.sha256(),
    })
}

fn psa_error_json(e: &PsaError) -> Value {
    json!({"kind": error_kind(e), "message": describe_psa_error(e)})
}

pub async fn test(State(daemon): D, Path(id): Path<String>) -> Result<Json<Value>> {
    let conn = daemon.connection(&id)?;
    let plugin = plugin_of(&conn);
    Ok(Json(match conn.test_connection().await {
        Ok(report) => {
            let details = serde_json::from_str::<Value>(&report.details)
                .unwrap_or(Value::String(report.details.clone()));
            json!({
                "connection": id,
                "plugin": plugin,
                "ok": true,
                "message": report.message,
                "details": details,
            })
        }
        Err(ConnectorError::Psa(e)) => json!({
            "connection": id,
            "plugin": plugin,
            "ok": false,
            "error": psa_error_json(&e),
        }),
        Err(e @ ConnectorError::Call(_)) => json!({
            "connection": id,
            "plugin": plugin,
            "ok": false,
            "error": {"kind": "sandbox", "message": e.to_string()},
        }),
    }))
}

fn sync_request(params: &[(String, String)]) -> Result<SyncRequest> {
    let full = flag(params, "full")?;
    let allow_mass_delete = flag(params, "allow-mass-delete")?;
    if allow_mass_delete && !full {
        return Err(ApiError::bad_request(
            "`allow-mass-delete` only applies to a full sweep: add `full=true`",
        ));
    }
    Ok(SyncRequest {
        mode: if full {
            SyncMode::Full
        } else {
            SyncMode::Incremental
        },
        allow_mass_delete,
    })
}

fn sync_json(id: &str, result: ConnectionSync) -> Json<Value> {
    let runs: Vec<&RunRecord> = result.runs.iter().collect();
    let skipped: Vec<Value> = result
        .skipped
        .iter()
        .map(|(entity, why)| json!({"entity": entity, "reason": why.to_string()}))
        .collect();
    Json(json!({
        "connection": id,
        "all-completed": result.all_completed(),
        "runs": runs,
        "skipped": skipped,
    }))
}

/// With `[cluster]`, a sync of connection `id` runs only on the replica that owns it. The
/// forwarding middleware (`forward.rs`) sends such requests to the owner; this refuses what
/// reaches a non-owner anyway (forwarded during a rebalancing, or the owner advertises no
/// address) with `409 not-owner`, naming the owner from the shared leases table.
pub(super) async fn require_owner(daemon: &Daemon, id: &str) -> Result<()> {
    let Some(cluster) = daemon.cluster() else {
        return Ok(());
    };
    if daemon.connections().get(id).is_none() || daemon.owns(id) {
        return Ok(());
    }
    let me = &cluster.config().replica;
    let message = match cluster.owner_of(id).await.map_err(internal)? {
        Some(lease) if lease.owner != *me => format!(
            "connection `{id}` is synced by replica `{}` (lease epoch {}), not by this replica `{me}`: send the request to `{}`",
            lease.owner, lease.epoch, lease.owner
        ),
        _ => format!(
            "no replica holds the lease of connection `{id}` right now (this is replica `{me}`): the replicas are rebalancing; try again in a few seconds"
        ),
    };
    Err(ApiError::new(StatusCode::CONFLICT, "not-owner", message))
}

pub async fn sync_connection(
    State(daemon): D,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    let params = params(&query);
    let request = sync_request(&params)?;
    require_owner(&daemon, &id).await?;
    let mut entities = Vec::new();
    for (k, v) in &params {
        if k == "entity" {
            entities.push(entity(v).map_err(|e| ApiError::bad_request(e.message))?);
        }
    }
    let conn = daemon.connection(&id)?;
    for &entity in &entities {
        offered(&conn, entity)?;
    }
    if entities.is_empty() {
        entities = psahost_workflows::sync::everything(conn.plugin().connector_info());
    }
    let result = daemon
        .engine()
        .sync_connection(&conn, &entities, request, daemon.metrics().as_ref())
        .await
        .map_err(internal)?;
    Ok(sync_json(&id, result))
}

pub async fn sync_entity(
    State(daemon): D,
    Path((id, entity_name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    let request = sync_request(&params(&query))?;
    let entity = entity(&entity_name)?;
    require_owner(&daemon, &id).await?;
    let conn = daemon.connection(&id)?;
    offered(&conn, entity)?;
    let result = daemon
        .engine()
        .sync_connection(&conn, &[entity], request, daemon.metrics().as_ref())
        .await
        .map_err(internal)?;
    Ok(sync_json(&id, result))
}

pub async fn sync_record(
    State(daemon): D,
    Path((id, entity_name, record)): Path<(String, String, String)>,
) -> Result<Json<Value>> {
    let entity = entity(&entity_name)?;
    require_owner(&daemon, &id).await?;
    let conn = daemon.connection(&id)?;
    let result = daemon
        .engine()
        .sync_record(&conn, entity, &record)
        .await
        .map_err(|e| ApiError::connector(format!("{e:#}")))?;
    let stored = daemon
        .store()
        .get(&id, entity, &record)
        .await
        .map_err(internal)?;
    Ok(Json(json!({
        "connection": id,
        "entity": result.entity,
        "id": result.id,
        "found": result.found,
        "change": result.change,
        "record": stored,
    })))
}

pub async fn records(
    State(daemon): D,
    Path((id, entity_name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    configured(&daemon, &id)?;
    let entity = entity(&entity_name)?;
    let params = params(&query);
    let mut list = ListQuery {
        limit: limit(&params)?,
        ..ListQuery::default()
    };
    for (k, v) in &params {
        match k.as_str() {
            "limit" => {}
            "after" => list.after = Some(v.clone()),
            "updated-since" => {
                list.updated_since = Some(
                    parse_time(v)
                        .map_err(|e| ApiError::bad_request(format!("`updated-since`: {e}")))?,
                )
            }
            field => list
                .equals
                .push((field.to_string(), Value::String(v.clone()))),
        }
    }
    let page = daemon
        .store()
        .list(&id, entity, list)
        .await
        .map_err(internal)?;
    Ok(Json(json!(page)))
}

pub async fn record(
    State(daemon): D,
    Path((id, entity_name, record)): Path<(String, String, String)>,
) -> Result<Json<Value>> {
    configured(&daemon, &id)?;
    let entity = entity(&entity_name)?;
    match daemon
        .store()
        .get(&id, entity, &record)
        .await
        .map_err(internal)?
    {
        Some(r) => Ok(Json(json!(r))),
        None => Err(ApiError::not_found(format!(
            "no {entity} `{record}` is stored for connection `{id}`"
        ))),
    }
}

pub async fn changes(
    State(daemon): D,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    configured(&daemon, &id)?;
    let params = params(&query);
    let after = match param(&params, "after") {
        None => 0,
        Some(v) => v.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("`after` must be a sequence number, not `{v}`"))
        })?,
    };
    let limit = limit(&params)?;
    let changes = daemon
        .store()
        .changes(&id, after, limit)
        .await
        .map_err(internal)?;
    let next = changes.last().map_or(after, |c| c.seq);
    Ok(Json(json!({
        "changes": changes,
        "next-after": next,
    })))
}

pub async fn mrr(
    State(daemon): D,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    configured(&daemon, &id)?;
    let params = params(&query);
    let day = match param(&params, "day") {
        Some(d) => {
            views::mrr::parse_day(d).map_err(|e| ApiError::bad_request(format!("`day`: {e:#}")))?
        }
        None => time::OffsetDateTime::now_utc().date(),
    };
    let report = views::mrr_from_store(daemon.store().as_ref(), &id, day)
        .await
        .map_err(internal)?;
    Ok(Json(json!(report)))
}

pub async fn eligible(State(daemon): D, Path(id): Path<String>) -> Result<Json<Value>> {
    configured(&daemon, &id)?;
    let verdicts = views::eligible_from_store(daemon.store().as_ref(), &id)
        .await
        .map_err(internal)?;
    let companies: Vec<Value> = verdicts
        .iter()
        .map(|v| {
            let mut j = json!(v);
            j["reason-text"] = json!(v.reason.map(|r| r.describe()));
            j
        })
        .collect();
    let eligible = verdicts.iter().filter(|v| v.eligible).count();
    Ok(Json(json!({
        "connection": id,
        "eligible": eligible,
        "companies": companies,
    })))
}

pub async fn references(
    State(daemon): D,
    Path((id, kind)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let conn = daemon.connection(&id)?;
    let result = conn
        .call_json("list-references", vec![Value::String(kind.clone())])
        .await
        .map_err(|e| {
            let text = format!("{e:#}");
            if text.contains("argument `kind`") {
                ApiError::not_found(format!("`{kind}` is not a picklist kind: {text}"))
            } else {
                ApiError::connector(text)
            }
        })?;
    match result {
        Value::Object(mut m) if m.contains_key("ok") => Ok(Json(json!({
            "connection": id,
            "kind": kind,
            "references": m.remove("ok").unwrap_or_default(),
        }))),
        Value::Object(m) if m.contains_key("err") => Err(ApiError::connector(format!(
            "the connector could not list `{kind}`: {}",
            m.get("err").cloned().unwrap_or_default()
        ))),
        other => Err(ApiError::connector(format!(
            "unexpected answer of list-references: {other}"
        ))),
    }
}

/// Links the tool's customers in the body (a JSON array or JSON lines) to the connection's
/// synced companies by its customer rules, over the companies' index kept for the connection
/// (brought up to date from the change feed); `dry-run` stores nothing.
pub async fn link_customers(
    State(daemon): D,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    body: String,
) -> Result<Json<Value>> {
    configured(&daemon, &id)?;
    let dry_run = flag(&params(&query), "dry-run")?;
    let customers =
        customers::parse_customers(&body).map_err(|e| ApiError::bad_request(format!("{e:#}")))?;
    let matcher = customer_matcher(&daemon, &id).await?;
    let indexes = daemon.link_indexes().clone();
    let report = customers::link_customers_kept(
        daemon.store().as_ref(),
        &id,
        &matcher,
        &indexes,
        &customers,
        dry_run,
    )
    .await
    .map_err(internal)?;
    Ok(Json(json!(report)))
}

/// The matcher of connection `id`'s customer linking: the rule set of its
/// `[connections.ID.linking]` with the components it names, or the built-in customer rules.
async fn customer_matcher(
    daemon: &Arc<Daemon>,
    id: &str,
) -> Result<psahost_workflows::linking::Matcher> {
    use psahost_workflows::linking::Matcher;
    let linking = &daemon.config().connection(id).map_err(internal)?.linking;
    let Some((path, rules)) = &linking.customers_rules else {
        return Matcher::new(customers::default_rules(), &[]).map_err(internal);
    };
    let loaded = rule_components(daemon, &linking.rule_plugins).await?;
    Matcher::new(rules.clone(), &loaded).map_err(|e| {
        internal(e.context(format!(
            "the customer rules `{}` of connection `{id}` (`[connections.{id}.linking]`)",
            path.display()
        )))
    })
}

/// The most daemons whose rule components a process keeps loaded (one, but tests run several).
const RULE_COMPONENT_DAEMONS: usize = 4;

/// The matching rule components at `paths`, loaded on first use and kept for the daemon's
/// life (a changed file is read again when the daemon restarts). They run in a runtime of
/// their own, built from `[runtime]`: the daemon's is not reachable from its routes.
async fn rule_components(
    daemon: &Arc<Daemon>,
    paths: &[std::path::PathBuf],
) -> Result<Vec<psahost_sandbox::rule::Rule>> {
    use psahost_sandbox::rule::Rule;
    use psahost_sandbox::runtime::{PluginSource, Runtime};
    use std::collections::HashMap;
    use std::sync::{LazyLock, Weak};
    struct Loaded {
        daemon: Weak<Daemon>,
        runtime: Arc<Runtime>,
        rules: HashMap<std::path::PathBuf, Rule>,
    }
    // Loading is rare and slow (a compilation): one lock for all, held across it, so a
    // component is never compiled twice at once.
    static LOADED: LazyLock<tokio::sync::Mutex<Vec<Loaded>>> = LazyLock::new(Default::default);
    let mut loaded = LOADED.lock().await;
    loaded.retain(|l| l.daemon.strong_count() > 0);
    let at = match loaded
        .iter()
        .position(|l| std::ptr::eq(l.daemon.as_ptr(), Arc::as_ptr(daemon)))
    {
        Some(at) => at,
        None => {
            if loaded.len() == RULE_COMPONENT_DAEMONS {
                loaded.remove(0);
            }
            loaded.push(Loaded {
                daemon: Arc::downgrade(daemon),
                runtime: Runtime::new(daemon.config().runtime.clone()).map_err(internal)?,
                rules: HashMap::new(),
            });
            loaded.len() - 1
        }
    };
    let entry = &mut loaded[at];
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        if let Some(rule) = entry.rules.get(path) {
            out.push(rule.clone());
            continue;
        }
        let rule = async {
            let plugin = entry
                .runtime
                .load(PluginSource::File(path.clone()))
                .await?;
            Rule::open(entry.runtime.clone(), plugin)
        }
        .await
        .map_err(|e: anyhow::Error| {
            internal(e.context(format!(
                "the rule component `{}` (`rule-plugins`) did not load: fix or replace the file and restart",
                path.display()
            )))
        })?;
        entry.rules.insert(path.clone(), rule.clone());
        out.push(rule);
    }
    Ok(out)
}

/// The stored customer links of the connection, by customer id, in pages.
pub async fn customer_links(
    State(daemon): D,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    configured(&daemon, &id)?;
    let params = params(&query);
    let limit = limit(&params)?;
    let after = param(&params, "after").map(str::to_string);
    let links = customers::list_links(daemon.store().as_ref(), &id, after, limit)
        .await
        .map_err(internal)?;
    keyed_page(&id, "links", links, limit, |l| l.customer_id.clone())
}

/// A page of a list keyed by text ids: `{connection, NAME: items, next}`, `next` the last
/// item's key when the page is full (a full page may have more after it).
pub(super) fn keyed_page<T: serde::Serialize>(
    connection: &str,
    name: &str,
    items: Vec<T>,
    limit: usize,
    key: impl Fn(&T) -> String,
) -> Result<Json<Value>> {
    let next = (items.len() == limit)
        .then(|| items.last().map(key))
        .flatten();
    let mut answer = json!({ "connection": connection, "next": next });
    answer[name] = serde_json::to_value(items).map_err(|e| internal(e.into()))?;
    Ok(Json(answer))
}

/// Removes one customer's link.
pub async fn remove_customer_link(
    State(daemon): D,
    Path((id, customer)): Path<(String, String)>,
) -> Result<Json<Value>> {
    configured(&daemon, &id)?;
    if !customers::remove_link(daemon.store().as_ref(), &id, &customer)
        .await
        .map_err(internal)?
    {
        return Err(ApiError::not_found(customers::no_link(&id, &customer)));
    }
    Ok(Json(json!({ "connection": id, "removed": customer })))
}
