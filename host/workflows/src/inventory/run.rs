//! The runner: refreshes the synced configurations, reads the picklists, plans every device
//! of a batch ([`super::plan`]) and writes through the connection, recording each device's
//! state, each write's audit entry, and an intent before each create.
//!
//! Crash safety: before a configuration is created, an [`Intent`] (the device, its company,
//! its identifier values, the planned configuration) is stored and flushed; once the PSA
//! answered, the device's mapping is stored and the intent removed. A run that finds intents
//! left behind (the process died between the PSA's create and the local record, or the PSA's
//! answer was lost) refreshes the configurations from the PSA first and looks each intent's
//! configuration up by its identifiers in its company: found, the device is mapped to it;
//! not found, the device is matched (and created) as usual; several new ones, the device is
//! reported ambiguous. So a create is never repeated. A dry run resolves the intents too, in
//! memory, so its preview never shows a second create.

use super::plan::{self, Action, Catalog, Entry, FieldChange, Plan, Planner};
use super::settings::InventorySettings;
use super::state::{
    AUTO_MAKES, AutoMake, DEVICES, DeviceRecord, INTENTS, Inactivated, Intent, MappingState,
    NotSynced,
};
use super::{Device, MAX_SHOWN_CANDIDATES};
use crate::records;
use crate::sync::{NoProgress, SyncEngine, SyncRequest};
use anyhow::Context;
use psahost_matching::normalize;
use psahost_matching::rules::{Conditions, Outcome, OwnedIndex, Subject};
use psahost_sandbox::bindings::psa::connector::types::{
    Configuration, Error as PsaError, ReferenceKind,
};
use psahost_sandbox::connector::{Connection, ConnectorError, error_kind};
use psahost_store::{Entity, PageCommit, RecordStore, RecordWrite, RunStatus};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What became of one device.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DeviceResult {
    /// The tool's id.
    pub device_id: String,
    /// What the run did (or, in a dry run, would do) to its configuration.
    pub action: Action,
    /// Its state after the run (as it would be, in a dry run).
    pub state: MappingState,
    /// Its configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration_id: Option<String>,
    /// What decided the mapping (`stored mapping`, an identifier).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// The fields written (or to write).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// Why it is not synced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The not-synced reason as data (the ambiguous candidates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_synced: Option<NotSynced>,
    /// A note (a read-only configuration type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How long the parts of a run took.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Timings {
    /// Refreshing the synced configurations from the PSA.
    pub refresh_seconds: f64,
    /// Loading and indexing the stored configurations.
    pub index_seconds: f64,
    /// Planning (matching) every device.
    pub matching_seconds: f64,
    /// Writing to the PSA (and recording).
    pub writes_seconds: f64,
}

/// The answer of one inventory run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct InventoryReport {
    /// Nothing was written (to the PSA or the states).
    pub dry_run: bool,
    /// Devices in the batch.
    pub devices: usize,
    /// Configurations created.
    pub created: usize,
    /// Configurations changed.
    pub updated: usize,
    /// Configurations marked active.
    pub activated: usize,
    /// Configurations marked inactive.
    pub inactivated: usize,
    /// Devices whose configuration already held the values.
    pub unchanged: usize,
    /// Devices not synced (reasons per device).
    pub not_synced: usize,
    /// Devices waiting for an online time.
    pub waiting: usize,
    /// Writes the PSA refused or that failed.
    pub failed: usize,
    /// Write calls made (creates and updates).
    pub writes: usize,
    /// Intents of an earlier, interrupted run resolved first (a dry run resolves them in
    /// memory only: its preview accounts for them, the intents stay for the real run).
    pub intents_resolved: usize,
    /// Makes mapped automatically by this run.
    pub makes_mapped: Vec<String>,
    /// Set when the run stopped early (the PSA's rate limit); the rest is done next time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Configurations indexed.
    pub configurations: usize,
    /// How long its parts took.
    pub timings: Timings,
    /// Per device, in the batch's order.
    pub results: Vec<DeviceResult>,
}

/// Progress of a run: `done` of `total` devices.
pub trait InventoryProgress: Send + Sync {
    /// After each device.
    fn device(&self, done: usize, total: usize);
}

impl InventoryProgress for NoProgress {
    fn device(&self, _: usize, _: usize) {}
}

fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Every host datum of `kind`.
async fn all_links(
    store: &dyn RecordStore,
    connection: &str,
    kind: &str,
) -> anyhow::Result<Vec<(String, Value)>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store.links(connection, kind, after, 1000).await?;
        let Some((last, _)) = page.last() else {
            return Ok(out);
        };
        after = Some(last.clone());
        let full = page.len() == 1000;
        out.extend(page);
        if !full {
            return Ok(out);
        }
    }
}

/// A picklist as entries; an `unsupported` answer is an empty list (the PSA has none).
async fn picklist(conn: &Connection, kind: ReferenceKind) -> anyhow::Result<Vec<Entry>> {
    match conn.list_references(kind).await {
        Ok(list) => Ok(list
            .into_iter()
            .map(|r| Entry {
                id: r.id,
                name: r.name,
            })
            .collect()),
        Err(ConnectorError::Psa(PsaError::Unsupported(_))) => Ok(Vec::new()),
        Err(e) => Err(anyhow::anyhow!(
            "cannot read the PSA's {kind:?} list of connection `{}`: {e}",
            conn.id()
        )),
    }
}

/// The picklists the settings need.
async fn catalog(conn: &Connection, s: &InventorySettings) -> anyhow::Result<Catalog> {
    let questions = s
        .fields
        .iter()
        .any(|f| matches!(f.target, super::settings::Target::Question { .. }));
    let mut c = Catalog {
        read_only_types: conn
            .plugin()
            .connector_info()
            .map(|i| i.read_only_configuration_types.clone())
            .unwrap_or_default(),
        ..Catalog::default()
    };
    if !s.class_types.is_empty() || questions {
        c.types = picklist(conn, ReferenceKind::ConfigurationType).await?;
    }
    let statuses = [&s.mark_active, &s.inactivate_on_delete]
        .iter()
        .any(|x| x.as_ref().is_some_and(|x| x.status.is_some()));
    if statuses {
        c.statuses = picklist(conn, ReferenceKind::ConfigurationStatus).await?;
    }
    if !s.makes.is_empty() || s.auto_makes {
        c.vendors = picklist(conn, ReferenceKind::Vendor).await?;
        c.manufacturers = picklist(conn, ReferenceKind::Manufacturer).await?;
    }
    Ok(c)
}

/// Writes the device's state.
async fn save(
    store: &dyn RecordStore,
    connection: &str,
    record: &DeviceRecord,
) -> anyhow::Result<()> {
    store
        .set_link(
            connection,
            DEVICES,
            &record.device_id,
            Some(serde_json::to_value(record)?),
        )
        .await?;
    Ok(())
}

/// Records one write in the audit trail.
async fn audit(store: &dyn RecordStore, connection: &str, mut entry: Value) -> anyhow::Result<()> {
    if let Some(m) = entry.as_object_mut() {
        m.insert("workflow".into(), json!("inventory"));
    }
    store.append_audit(connection, entry).await?;
    Ok(())
}

/// What the PSA answered, for the audit trail.
fn answer(result: &Result<Configuration, ConnectorError>) -> Value {
    match result {
        Ok(c) => json!({"ok": true, "configuration-id": c.id}),
        Err(ConnectorError::Psa(e)) => {
            json!({"ok": false, "error": error_kind(e), "message": e.to_string()})
        }
        Err(e) => json!({"ok": false, "error": "call", "message": e.to_string()}),
    }
}

/// The runner's view of the stored configurations.
struct Population {
    index: OwnedIndex,
    configs: Vec<Configuration>,
    by_id: HashMap<String, usize>,
}

impl Population {
    fn get(&self, id: &str) -> Option<&Configuration> {
        self.by_id.get(id).map(|&at| &self.configs[at])
    }

    fn put(&mut self, c: Configuration, settings: &InventorySettings) {
        self.index.insert(plan::candidate(&c, settings));
        match self.by_id.get(&c.id) {
            Some(&at) => self.configs[at] = c,
            None => {
                self.by_id.insert(c.id.clone(), self.configs.len());
                self.configs.push(c);
            }
        }
    }
}

/// Stores a configuration the PSA answered with, as a sync would.
async fn keep(store: &dyn RecordStore, connection: &str, c: &Configuration) -> anyhow::Result<()> {
    store
        .commit(PageCommit {
            connection: connection.to_string(),
            entity: Entity::Configurations,
            upserts: vec![RecordWrite::from_text(
                c.id.clone(),
                records::configuration_to_text(c),
            )],
            deletions: Vec::new(),
            mark_seen: true,
            checkpoint: None,
        })
        .await?;
    Ok(())
}

/// A rate limit answered by the PSA stops the run.
fn rate_limited(e: &ConnectorError) -> bool {
    matches!(e, ConnectorError::Psa(PsaError::RateLimited(_)))
}

/// Whether a failed create may still have created the configuration (the answer was lost):
/// its intent is kept for the next run to resolve.
fn maybe_created(e: &ConnectorError) -> bool {
    !matches!(
        e,
        ConnectorError::Psa(
            PsaError::RateLimited(_)
                | PsaError::InvalidInput(_)
                | PsaError::Unsupported(_)
                | PsaError::Forbidden(_)
                | PsaError::NotFound(_)
                | PsaError::Unauthorized(_)
        )
    )
}

/// Runs the inventory sync of `devices` through `conn` with `settings`; with `dry_run`
/// nothing is written (the configurations are still refreshed from the PSA, a read).
pub async fn sync_inventory(
    engine: &SyncEngine,
    conn: &Connection,
    settings: &InventorySettings,
    devices: &[Device],
    dry_run: bool,
    progress: &dyn InventoryProgress,
) -> anyhow::Result<InventoryReport> {
    let store = engine.store().as_ref();
    let connection = conn.id();
    let mut report = InventoryReport {
        dry_run,
        devices: devices.len(),
        ..InventoryReport::default()
    };

    // The configurations as the PSA has them now (an interrupted create included).
    let started = Instant::now();
    let run = engine
        .sync_entity(
            conn,
            Entity::Configurations,
            SyncRequest::incremental(),
            &NoProgress,
        )
        .await?;
    match run.status {
        RunStatus::Completed | RunStatus::Held => {}
        RunStatus::Suspended => anyhow::bail!(
            "the PSA rate-limits connection `{connection}`: the configurations could not be refreshed; run the inventory sync again after {}",
            run.suspended_until
                .and_then(|t| t.format(&Rfc3339).ok())
                .unwrap_or_else(|| "a while".into())
        ),
        _ => anyhow::bail!(
            "the configurations of connection `{connection}` could not be refreshed from the PSA: {}",
            run.error.as_deref().unwrap_or("the sync did not complete")
        ),
    }
    report.timings.refresh_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let catalog = catalog(conn, settings).await?;
    let mut auto: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
    for (key, value) in all_links(store, connection, AUTO_MAKES).await? {
        let m: AutoMake = serde_json::from_value(value)
            .with_context(|| format!("the stored automatic mapping of make `{key}` is damaged"))?;
        auto.insert(key, (m.vendor_id, m.manufacturer_id));
    }
    if settings.auto_makes {
        let added = plan::auto_makes(
            devices.iter().filter_map(|d| d.make.as_deref()),
            settings,
            &auto,
            &catalog,
        );
        for (key, make, vendor_id, manufacturer_id) in added {
            if !dry_run {
                let m = AutoMake {
                    make: make.clone(),
                    vendor_id: vendor_id.clone(),
                    manufacturer_id: manufacturer_id.clone(),
                    mapped_at: now(),
                };
                store
                    .set_link(
                        connection,
                        AUTO_MAKES,
                        &key,
                        Some(serde_json::to_value(&m)?),
                    )
                    .await?;
            }
            report.makes_mapped.push(make);
            auto.insert(key, (vendor_id, manufacturer_id));
        }
    }
    let resolved = plan::resolve(settings, &catalog, &auto).with_context(|| {
        format!("the inventory settings of connection `{connection}` do not fit its PSA")
    })?;

    let configs = crate::views::load_all(
        store,
        connection,
        Entity::Configurations,
        records::configuration_from_json,
    )
    .await?;
    let mut population = Population {
        index: OwnedIndex::new(plan::rule_set(settings)),
        configs: Vec::with_capacity(configs.len()),
        by_id: HashMap::with_capacity(configs.len()),
    };
    for c in configs {
        population.put(c, settings);
    }
    report.configurations = population.configs.len();

    let mut records: HashMap<String, DeviceRecord> = HashMap::new();
    for (key, value) in all_links(store, connection, DEVICES).await? {
        let r: DeviceRecord = serde_json::from_value(value)
            .with_context(|| format!("the stored state of device `{key}` is damaged"))?;
        records.insert(key, r);
    }
    let mut customers: HashMap<String, String> = HashMap::new();
    for (key, value) in all_links(store, connection, crate::linking::customers::LINK_KIND).await? {
        if let Some(company) = value.get("company-id").and_then(Value::as_str) {
            customers.insert(key, company.to_string());
        }
    }
    report.timings.index_seconds = started.elapsed().as_secs_f64();

    // Intents an interrupted run left: their configurations are looked for before anything
    // is created. A dry run resolves them too, in memory only, so its preview shows an update
    // of the configuration a lost answer created, not a second create.
    let intents = all_links(store, connection, INTENTS).await?;
    {
        for (key, value) in intents {
            let intent: Intent = serde_json::from_value(value)
                .with_context(|| format!("the stored intent of device `{key}` is damaged"))?;
            let found = find_created(&population, settings, &intent);
            let mut record = records.get(&key).cloned().unwrap_or_else(|| DeviceRecord {
                device_id: key.clone(),
                site: None,
                device_name: None,
                state: MappingState::ReadyToMatch,
                configuration_id: None,
                company_id: Some(intent.company_id.clone()),
                not_synced: None,
                note: None,
                mapped_class: None,
                mapped_make: None,
                inactivated: None,
                updated_at: now(),
            });
            record.updated_at = now();
            record.not_synced = None;
            let found = match found {
                Created::Found(id) => {
                    record.state = MappingState::MappedAndSyncing;
                    record.configuration_id = Some(id.clone());
                    Some(id)
                }
                Created::Missing => {
                    record.state = MappingState::ReadyToMatch;
                    None
                }
                Created::Several(ids) => {
                    record.state = MappingState::NotSynced;
                    record.not_synced = Some(NotSynced::Ambiguous {
                        identifier: "intent".into(),
                        total: ids.len(),
                        candidates: ids.into_iter().take(super::MAX_SHOWN_CANDIDATES).collect(),
                    });
                    None
                }
            };
            if !dry_run {
                save(store, connection, &record).await?;
                audit(
                    store,
                    connection,
                    json!({
                        "at": now(), "device-id": key, "action": "resolve-intent",
                        "configuration-id": found, "intent": intent.planned,
                        "answer": {"ok": true, "found": found.is_some()},
                    }),
                )
                .await?;
                store.set_link(connection, INTENTS, &key, None).await?;
            }
            records.insert(key, record);
            report.intents_resolved += 1;
        }
        if !dry_run {
            store.flush().await?;
        }
    }

    // Every device received and never seen is ready to match: a run stopped early (a rate
    // limit, a crash) leaves the rest in that state.
    if !dry_run {
        for device in devices {
            if records.contains_key(&device.id) {
                continue;
            }
            let record = DeviceRecord {
                device_id: device.id.clone(),
                site: device.site.clone(),
                device_name: device
                    .device_name
                    .clone()
                    .or_else(|| device.host_name.clone()),
                state: MappingState::ReadyToMatch,
                configuration_id: None,
                company_id: None,
                not_synced: None,
                note: None,
                mapped_class: None,
                mapped_make: None,
                inactivated: None,
                updated_at: now(),
            };
            save(store, connection, &record).await?;
        }
    }

    let today = OffsetDateTime::now_utc().date().to_string();
    let planner = Planner {
        settings,
        resolved: &resolved,
        read_only_types: &catalog.read_only_types,
        today: &today,
    };
    let mut matching = 0.0;
    let mut writing = 0.0;
    for (n, device) in devices.iter().enumerate() {
        if report.stopped.is_some() {
            break;
        }
        let t = Instant::now();
        let record = records.get(&device.id);
        let company = device
            .organisation
            .as_ref()
            .and_then(|o| settings.companies.get(o).or_else(|| customers.get(o)))
            .cloned()
            .or_else(|| {
                record
                    .and_then(|r| r.company_id.clone())
                    .filter(|_| device.organisation.is_none())
            });
        let mapped = record
            .and_then(|r| r.configuration_id.as_deref())
            .and_then(|id| population.get(id));
        let planned = {
            let view = population.index.view();
            planner.plan(device, company.as_deref(), record, mapped, &view, |id| {
                population.get(id)
            })
        };
        matching += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let result = execute(
            store,
            conn,
            settings,
            &mut population,
            &mut report,
            device,
            company,
            record.cloned(),
            planned,
            dry_run,
        )
        .await?;
        if let Some(r) = result.1 {
            records.insert(device.id.clone(), r);
        }
        report.results.push(result.0);
        writing += t.elapsed().as_secs_f64();
        progress.device(n + 1, devices.len());
    }
    report.timings.matching_seconds = matching;
    report.timings.writes_seconds = writing;
    if !dry_run {
        store.flush().await?;
    }
    Ok(report)
}

/// What became of an intent's create in the PSA.
enum Created {
    /// The one configuration the intent's identifiers match that was not there before.
    Found(String),
    /// None: the create did not happen (or the PSA lost it).
    Missing,
    /// Several new ones (another tool created one too): not guessed, the operator decides.
    Several(Vec<String>),
}

/// The configuration an intent created: among the configurations of its company its
/// identifiers match (active or not, whatever their type), those that were not there before.
fn find_created(population: &Population, settings: &InventorySettings, intent: &Intent) -> Created {
    let mut new: Vec<String> = matching_ids(
        population,
        settings,
        &intent.company_id,
        &intent.identifiers,
    )
    .into_iter()
    .filter(|id| !intent.known.contains(id))
    .collect();
    match new.len() {
        0 => Created::Missing,
        1 => Created::Found(new.remove(0)),
        _ => Created::Several(new),
    }
}

/// The configurations of `company_id` that `identifiers` match at their best priority (active
/// or not, whatever their type).
fn matching_ids(
    population: &Population,
    settings: &InventorySettings,
    company_id: &str,
    identifiers: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let mut rules = plan::rule_set(settings);
    rules.conditions = Conditions {
        active_only: false,
        same_company: true,
        same_kind: false,
    };
    let candidates: Vec<_> = population
        .configs
        .iter()
        .filter(|c| c.company_id.as_deref() == Some(company_id))
        .map(|c| plan::candidate(c, settings))
        .collect();
    let subject = Subject {
        id: String::new(),
        fields: identifiers.clone(),
        company: Some(company_id.to_string()),
        kind: None,
    };
    match rules.decide(&subject, &candidates) {
        Outcome::Matched { found, .. } => vec![found.candidate],
        Outcome::Ambiguous { found, .. } => found.into_iter().map(|f| f.candidate).collect(),
        Outcome::None => Vec::new(),
    }
}

/// Carries out one device's plan; returns its result and its new stored state.
#[allow(clippy::too_many_arguments)]
async fn execute(
    store: &dyn RecordStore,
    conn: &Connection,
    settings: &InventorySettings,
    population: &mut Population,
    report: &mut InventoryReport,
    device: &Device,
    company: Option<String>,
    prior: Option<DeviceRecord>,
    planned: Plan,
    dry_run: bool,
) -> anyhow::Result<(DeviceResult, Option<DeviceRecord>)> {
    let connection = conn.id();
    let fold = |v: &Option<String>| v.as_deref().map(normalize::fold);
    let mut record = prior.clone().unwrap_or_else(|| DeviceRecord {
        device_id: device.id.clone(),
        site: None,
        device_name: None,
        state: MappingState::ReadyToMatch,
        configuration_id: None,
        company_id: None,
        not_synced: None,
        note: None,
        mapped_class: None,
        mapped_make: None,
        inactivated: None,
        updated_at: String::new(),
    });
    record.site = device.site.clone();
    record.device_name = device
        .device_name
        .clone()
        .or_else(|| device.host_name.clone());
    record.company_id = company.clone().or(record.company_id);
    record.updated_at = now();
    record.note = None;
    let mut result = DeviceResult {
        device_id: device.id.clone(),
        action: Action::None,
        state: MappingState::ReadyToMatch,
        configuration_id: None,
        decided_by: None,
        changes: Vec::new(),
        reason: None,
        not_synced: None,
        note: None,
    };
    let not_synced = |record: &mut DeviceRecord, result: &mut DeviceResult, why: NotSynced| {
        result.reason = Some(why.describe());
        result.not_synced = Some(why.clone());
        record.not_synced = Some(why);
        record.state = MappingState::NotSynced;
    };
    match planned {
        Plan::Waiting => {
            report.waiting += 1;
            record.state = MappingState::WaitingForOnlineTime;
            record.not_synced = None;
        }
        Plan::NotSynced(why) => {
            report.not_synced += 1;
            not_synced(&mut record, &mut result, why);
        }
        Plan::Create {
            new,
            identifiers,
            changes,
        } => {
            result.action = Action::Create;
            result.changes = changes;
            result.decided_by = Some("no match: create".into());
            record.not_synced = None;
            if dry_run {
                report.created += 1;
                record.state = MappingState::MappedAndSyncing;
            } else {
                let planned_json = new_configuration_json(&new);
                let known = matching_ids(population, settings, &new.company_id, &identifiers);
                let intent = Intent {
                    device_id: device.id.clone(),
                    company_id: new.company_id.clone(),
                    identifiers,
                    planned: planned_json.clone(),
                    known,
                    at: now(),
                };
                store
                    .set_link(
                        connection,
                        INTENTS,
                        &device.id,
                        Some(serde_json::to_value(&intent)?),
                    )
                    .await?;
                record.state = MappingState::MatchingInProgress;
                save(store, connection, &record).await?;
                // Durable before the PSA is asked: a crash after its create finds the intent.
                store.flush().await?;
                report.writes += 1;
                let created = conn.create_configuration(new).await;
                audit(
                    store,
                    connection,
                    json!({"at": now(), "device-id": device.id, "action": "create",
                           "request": planned_json, "answer": answer(&created)}),
                )
                .await?;
                match created {
                    Ok(c) => {
                        report.created += 1;
                        keep(store, connection, &c).await?;
                        record.state = MappingState::MappedAndSyncing;
                        record.configuration_id = Some(c.id.clone());
                        record.mapped_class = fold(&device.device_class);
                        record.mapped_make = fold(&device.make);
                        record.inactivated = None;
                        save(store, connection, &record).await?;
                        store
                            .set_link(connection, INTENTS, &device.id, None)
                            .await?;
                        population.put(c, settings);
                    }
                    Err(e) if rate_limited(&e) => {
                        report.stopped = Some(format!("the PSA rate-limits the writes: {e}"));
                        record.state = MappingState::ReadyToMatch;
                        save(store, connection, &record).await?;
                        store
                            .set_link(connection, INTENTS, &device.id, None)
                            .await?;
                    }
                    Err(e) => {
                        report.failed += 1;
                        if maybe_created(&e) {
                            // The intent stays: the next run looks for the configuration.
                            record.note = Some(format!(
                                "the create's answer was lost ({e}); the next run looks for it before creating"
                            ));
                            result.note = record.note.clone();
                        } else {
                            store
                                .set_link(connection, INTENTS, &device.id, None)
                                .await?;
                            not_synced(
                                &mut record,
                                &mut result,
                                NotSynced::Failed {
                                    error: e.to_string(),
                                },
                            );
                        }
                    }
                }
            }
        }
        Plan::Sync {
            configuration_id,
            decided_by,
            action,
            changes,
            fields,
            note,
            previous_status_id,
        } => {
            result.decided_by = Some(decided_by);
            result.action = action;
            result.changes = fields;
            result.note = note.clone();
            record.note = note;
            record.configuration_id = Some(configuration_id.clone());
            record.not_synced = None;
            record.state = MappingState::MappedAndSyncing;
            let mut write_ok = true;
            match (changes, dry_run) {
                (None, _) => {
                    if action == Action::None {
                        report.unchanged += 1;
                    }
                }
                (Some(_), true) => {}
                (Some(changes), false) => {
                    report.writes += 1;
                    let request = changes_json(&changes);
                    let updated = conn
                        .update_configuration(configuration_id.clone(), changes)
                        .await;
                    audit(
                        store,
                        connection,
                        json!({"at": now(), "device-id": device.id, "action": action_name(action),
                               "configuration-id": configuration_id, "request": request,
                               "answer": answer(&updated)}),
                    )
                    .await?;
                    match updated {
                        Ok(c) => {
                            keep(store, connection, &c).await?;
                            population.put(c, settings);
                        }
                        Err(e) => {
                            write_ok = false;
                            report.failed += 1;
                            if rate_limited(&e) {
                                report.stopped =
                                    Some(format!("the PSA rate-limits the writes: {e}"));
                            }
                            record.note = Some(format!("the PSA refused the change: {e}"));
                            result.note = record.note.clone();
                        }
                    }
                }
            }
            if write_ok {
                match action {
                    Action::Update => report.updated += 1,
                    Action::Activate => {
                        report.activated += 1;
                        record.inactivated = None;
                    }
                    Action::Inactivate => {
                        report.inactivated += 1;
                        record.inactivated = Some(Inactivated { previous_status_id });
                    }
                    Action::Create | Action::None => {}
                }
                record.mapped_class = fold(&device.device_class);
                record.mapped_make = fold(&device.make);
            }
            if device.deleted {
                // Deleted: not synced any more, the configuration kept for a re-discovery.
                result.reason = Some(NotSynced::Deleted.describe());
                record.not_synced = Some(NotSynced::Deleted);
                record.state = MappingState::NotSynced;
            }
        }
    }
    result.state = record.state;
    result.configuration_id = record.configuration_id.clone();
    if result.not_synced.is_none() {
        result.not_synced = record.not_synced.clone();
    }
    if dry_run {
        return Ok((result, None));
    }
    save(store, connection, &record).await?;
    Ok((result, Some(record)))
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::Create => "create",
        Action::Update => "update",
        Action::Activate => "activate",
        Action::Inactivate => "inactivate",
        Action::None => "none",
    }
}

fn answers_json(
    q: &[psahost_sandbox::bindings::psa::connector::types::ConfigurationAnswer],
) -> Value {
    q.iter()
        .map(|a| json!({"question-id": a.question_id, "question": a.question, "answer": a.answer}))
        .collect()
}

/// A configuration to create as JSON (WIT field names), for the intent and the audit trail.
pub fn new_configuration_json(
    n: &psahost_sandbox::bindings::psa::connector::types::NewConfiguration,
) -> Value {
    json!({
        "company-id": n.company_id, "name": n.name,
        "configuration-type-id": n.configuration_type_id, "status-id": n.status_id,
        "serial-number": n.serial_number, "model-number": n.model_number,
        "mac-address": n.mac_address, "ip-address": n.ip_address,
        "device-identifier": n.device_identifier, "manufacturer-id": n.manufacturer_id,
        "vendor-id": n.vendor_id, "notes": n.notes, "questions": answers_json(&n.questions),
    })
}

/// Changes as JSON (only the fields set), for the audit trail.
pub fn changes_json(
    c: &psahost_sandbox::bindings::psa::connector::types::ConfigurationChanges,
) -> Value {
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    };
    put("name", &c.name);
    put("configuration-type-id", &c.configuration_type_id);
    put("status-id", &c.status_id);
    put("serial-number", &c.serial_number);
    put("model-number", &c.model_number);
    put("mac-address", &c.mac_address);
    put("ip-address", &c.ip_address);
    put("device-identifier", &c.device_identifier);
    put("manufacturer-id", &c.manufacturer_id);
    put("vendor-id", &c.vendor_id);
    put("notes", &c.notes);
    if let Some(a) = c.active {
        m.insert("active".into(), json!(a));
    }
    if !c.questions.is_empty() {
        m.insert("questions".into(), answers_json(&c.questions));
    }
    Value::Object(m)
}

/// The stored states of the devices of `connection`, by device id, after `after`, at most
/// `limit` (0: 100).
pub async fn list_devices(
    store: &dyn RecordStore,
    connection: &str,
    after: Option<String>,
    limit: usize,
) -> anyhow::Result<Vec<DeviceRecord>> {
    store
        .links(connection, DEVICES, after, limit)
        .await?
        .into_iter()
        .map(|(key, value)| {
            serde_json::from_value(value)
                .with_context(|| format!("the stored state of device `{key}` is damaged"))
        })
        .collect()
}

/// The most candidates a result lists (re-exported for the API's documentation).
pub const SHOWN_CANDIDATES: usize = MAX_SHOWN_CANDIDATES;
