//! The sync engine: pulls a connection's records through its connector into the record store.
//!
//! One *run* is one pass over one (connection, entity):
//! - **incremental**: pages of records changed since the high-water mark minus an overlap
//!   window (records read again unchanged make no change event); the new high-water mark, the
//!   largest `updated-at` seen, is saved when the run completes. An entity that never completed
//!   a run has no high-water mark: its first run is a full sweep;
//! - **full sweep**: every page without `updated-since`, remembering every id seen (with each
//!   page, so a resumed sweep still knows them); at the end, stored records the sweep did not
//!   see are deleted, unless they are both more than the configured share of the stored
//!   records and more than the configured floor, or all of them: then nothing is deleted and
//!   the run ends `held` (the mass-delete guard, [`mass_delete_holds`]).
//!
//! Each page is committed with the run's checkpoint (the connector's cursor of the next page)
//! in one store transaction, so a run interrupted anywhere (crash, SIGKILL, rate limit, error)
//! resumes from its last committed page: no record lost, none twice. The next run of the same
//! (connection, entity) resumes the unfinished one before anything else.
//!
//! A `rate-limited` answer suspends the run: the checkpoint stays, the state records
//! `suspended-until` (the PSA's retry-after, else a backoff) and the call returns; nothing
//! sleeps holding a sandbox or a permit, and other connections go on. `unavailable` answers,
//! malformed responses and call deadlines are retried for the page a bounded number of times
//! with exponential backoff; then, like any other error, the run ends `failed` with the error
//! recorded and its checkpoint kept for the next run.
//!
//! Runs take a permit of a global semaphore (the concurrency limit) and a per-(connection,
//! entity) lock: many connections sync at once, one run per (connection, entity) at a time.

use crate::records;
use psahost_sandbox::bindings::exports::psa::connector::connector_api::{
    ConnectorInfo, Entity as ContractEntity, Operation,
};
use psahost_sandbox::bindings::psa::connector::types::{Error as PsaError, PageRequest};
use psahost_sandbox::connector::{Connection, ConnectorError, describe_psa_error};
use psahost_sandbox::runtime::CallError;
use psahost_store::Entity;
use psahost_store::{
    ChangeKind, Checkpoint, HeldDeletion, PageCommit, RecordStore, RecordWrite, RunCursor,
    RunRecord, RunStatus, SyncMode, SyncState, format_time, parse_time,
};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Semaphore;

/// The engine's settings (`[sync]` in `psahost.toml`).
#[derive(Clone, Debug, PartialEq)]
pub struct SyncSettings {
    /// Records asked for per page (connectors clamp it to their PSA's maximum). None: the
    /// maximum the connector declares for the entity or dataset (a rate-limited PSA counts
    /// requests, not records), else [`DEFAULT_PAGE_SIZE`].
    pub page_size: Option<u32>,
    /// How far before the high-water mark an incremental run starts reading.
    pub overlap: Duration,
    /// The largest share (0 to 1) of an entity's stored records a full sweep may delete.
    pub mass_delete_share: f64,
    /// Deletions a full sweep may always apply, whatever their share (so that a small tenant
    /// losing a few records is not held), unless they would empty the entity.
    pub mass_delete_floor: u64,
    /// Runs at once, over all connections.
    pub max_concurrent: usize,
    /// Retries of a page answered `unavailable` (or malformed, or past the call deadline).
    pub page_retries: u32,
    /// The first retry's wait; each further retry waits twice as long.
    pub retry_backoff: Duration,
    /// How long a rate-limited run waits when the PSA does not say.
    pub rate_limit_backoff: Duration,
    /// Most pages one run may read (over its resumptions); beyond it the run fails.
    pub max_pages_per_run: u64,
    /// Most records one run may read (over its resumptions), unless the store already holds
    /// more than half as many for the entity: then twice what it holds.
    pub max_records_per_run: u64,
    /// Most record text (`raw`) one run may read before it is resumed; beyond it the run fails.
    pub max_bytes_per_run: u64,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            page_size: None,
            overlap: Duration::from_secs(5 * 60),
            mass_delete_share: 0.10,
            mass_delete_floor: 10,
            max_concurrent: 4,
            page_retries: 3,
            retry_backoff: Duration::from_secs(1),
            rate_limit_backoff: Duration::from_secs(60),
            max_pages_per_run: 100_000,
            // Big MSPs hold millions of tickets: the bound is for paging that never ends, and
            // `max-bytes-per-run` is the tighter one in practice.
            max_records_per_run: 10_000_000,
            max_bytes_per_run: 8 << 30,
        }
    }
}

/// The page size asked for an entity whose connector declares no maximum (a 0.1.x connector).
pub const DEFAULT_PAGE_SIZE: u32 = 250;

/// What a caller asks of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncRequest {
    /// Incremental or full. An unfinished run is resumed first, whatever its mode; a full
    /// request after a resumed incremental run then sweeps.
    pub mode: SyncMode,
    /// Apply a full sweep's deletions even when the mass-delete guard would hold them.
    pub allow_mass_delete: bool,
}

impl SyncRequest {
    /// An incremental run.
    pub fn incremental() -> SyncRequest {
        SyncRequest {
            mode: SyncMode::Incremental,
            allow_mass_delete: false,
        }
    }

    /// A full sweep.
    pub fn full() -> SyncRequest {
        SyncRequest {
            mode: SyncMode::Full,
            allow_mass_delete: false,
        }
    }
}

/// What the engine reports while it works.
#[derive(Debug)]
pub enum Progress<'a> {
    /// A run starts or resumes.
    Started {
        /// The connection.
        connection: &'a str,
        /// The run.
        run: &'a RunRecord,
        /// Whether it continues an unfinished run.
        resumed: bool,
    },
    /// A page was committed.
    Page {
        /// The connection.
        connection: &'a str,
        /// The run, counts included.
        run: &'a RunRecord,
        /// Records in the page.
        records: usize,
    },
    /// A page failed and will be asked again.
    Retrying {
        /// The connection.
        connection: &'a str,
        /// The entity.
        entity: Entity,
        /// The retry's number (from 1).
        attempt: u32,
        /// How long the engine waits first.
        wait: Duration,
        /// The error.
        error: &'a str,
    },
    /// A run stopped (completed, held, suspended or failed).
    Finished {
        /// The connection.
        connection: &'a str,
        /// The run.
        run: &'a RunRecord,
    },
}

/// Receives [`Progress`] events (a progress bar, logs, metrics).
pub trait ProgressSink: Send + Sync {
    /// One event.
    fn event(&self, event: &Progress<'_>);
}

/// A sink that ignores everything.
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn event(&self, _: &Progress<'_>) {}
}

/// The result of syncing one connection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConnectionSync {
    /// One run per entity synced, in order.
    pub runs: Vec<RunRecord>,
    /// Entities not synced, with why.
    pub skipped: Vec<(Entity, Skipped)>,
}

/// Why an entity of a connection was not synced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skipped {
    /// The connector does not implement the entity's list operation, or offer the dataset.
    Unsupported {
        /// The plugin.
        plugin: String,
    },
    /// An earlier entity's run was suspended by the PSA's rate limit (which applies to the
    /// whole connection) until then.
    RateLimited {
        /// When the suspension ends.
        until: OffsetDateTime,
    },
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skipped::Unsupported { plugin } => write!(
                f,
                "plugin `{plugin}` does not implement its list operation or offer it as a dataset"
            ),
            Skipped::RateLimited { until } => write!(
                f,
                "the connection is rate limited until {}",
                format_time(*until)
            ),
        }
    }
}

impl ConnectionSync {
    /// Whether every run completed (none held, suspended or failed). An entity skipped for a
    /// rate limit always follows a suspended run, so this is false then too.
    pub fn all_completed(&self) -> bool {
        self.runs.iter().all(|r| r.status == RunStatus::Completed)
    }
}

/// The result of syncing one record by id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSync {
    /// The entity.
    pub entity: Entity,
    /// The record's id.
    pub id: String,
    /// What changed in the store; none when the record was unchanged (or absent and not found).
    pub change: Option<ChangeKind>,
    /// Whether the PSA has the record.
    pub found: bool,
}

/// Syncs connections into a record store.
pub struct SyncEngine {
    store: Arc<dyn RecordStore>,
    settings: SyncSettings,
    permits: Arc<Semaphore>,
    running: Mutex<HashMap<(String, Entity), RunLock>>,
    windows: Mutex<HashMap<String, Windows>>,
}

/// A connection's windows: per entity or dataset, how far back its records are kept (by
/// `updated-at`; records without one are kept).
pub type Windows = std::collections::BTreeMap<Entity, Duration>;

/// Held while a run of one (connection, entity) is going on.
type RunLock = Arc<tokio::sync::Mutex<()>>;

/// The contract's name of a typed entity, none for a dataset.
fn contract_entity(entity: Entity) -> Option<ContractEntity> {
    Some(match entity {
        Entity::Companies => ContractEntity::Companies,
        Entity::Contacts => ContractEntity::Contacts,
        Entity::Agreements => ContractEntity::Agreements,
        Entity::Configurations => ContractEntity::Configurations,
        Entity::Tickets => ContractEntity::Tickets,
        Entity::Dataset(_) => return None,
    })
}

/// Whether the connector reads `entity`: a typed entity's list operation, or a dataset it
/// declares.
pub fn offers(info: &ConnectorInfo, entity: Entity) -> bool {
    let operation = match entity {
        Entity::Companies => Operation::ListCompanies,
        Entity::Contacts => Operation::ListContacts,
        Entity::Agreements => Operation::ListAgreements,
        Entity::Configurations => Operation::ListConfigurations,
        Entity::Tickets => Operation::ListTickets,
        Entity::Dataset(d) => return info.datasets.iter().any(|s| s.name == d.name()),
    };
    info.operations.contains(&operation)
}

/// Whether the connector declares that it honours `updated-since` for `entity`.
fn honours_updated_since(info: Option<&ConnectorInfo>, entity: Entity) -> bool {
    let Some(info) = info else { return false };
    match (entity, contract_entity(entity)) {
        (_, Some(e)) => info.paging.iter().any(|p| p.entity == e && p.updated_since),
        (Entity::Dataset(d), None) => info
            .datasets
            .iter()
            .any(|s| s.name == d.name() && s.updated_since),
        _ => false,
    }
}

/// What a connection syncs when no entity is named: the five typed entities, then the
/// connector's datasets.
pub fn everything(info: Option<&ConnectorInfo>) -> Vec<Entity> {
    let mut all = Entity::ALL.to_vec();
    all.extend(info.map(datasets).unwrap_or_default());
    all
}

/// The datasets a connector declares, as entities.
pub fn datasets(info: &ConnectorInfo) -> Vec<Entity> {
    info.datasets
        .iter()
        .filter_map(|d| {
            psahost_store::Dataset::new(&d.name)
                .ok()
                .map(Entity::Dataset)
        })
        .collect()
}

/// The page size asked for `entity`: the operator's, else the connector's declared maximum,
/// else [`DEFAULT_PAGE_SIZE`].
pub fn page_size(settings: &SyncSettings, info: Option<&ConnectorInfo>, entity: Entity) -> u32 {
    if let Some(size) = settings.page_size {
        return size;
    }
    let declared = info.and_then(|info| match (entity, contract_entity(entity)) {
        (_, Some(e)) => info
            .paging
            .iter()
            .find(|p| p.entity == e)
            .map(|p| p.max_page_size),
        (Entity::Dataset(d), None) => info
            .datasets
            .iter()
            .find(|s| s.name == d.name())
            .map(|s| s.max_page_size),
        _ => None,
    });
    declared.unwrap_or(DEFAULT_PAGE_SIZE)
}

/// At most 64 characters of a connector's cursor, for messages.
fn shorten(cursor: &str) -> String {
    match cursor.char_indices().nth(64) {
        Some((at, _)) => format!("{}...", &cursor[..at]),
        None => cursor.to_string(),
    }
}

/// A page read from the connector: (id, updated-at, JSON) per record, and the next cursor.
struct Fetched {
    /// Each record's id, `updated-at` and stored text.
    items: Vec<(String, Option<String>, String)>,
    next: Option<String>,
    /// The PSA's count of the whole read, when the connector reported it.
    total: Option<u64>,
    /// Bytes of the records' own text (`raw`).
    raw_bytes: u64,
}

async fn fetch_page(
    conn: &Connection,
    entity: Entity,
    request: PageRequest,
) -> Result<Fetched, ConnectorError> {
    macro_rules! page {
        ($call:ident, $convert:path) => {{
            let page = conn.$call(request).await?;
            Fetched {
                items: page
                    .items
                    .iter()
                    .map(|r| (r.id.clone(), r.updated_at.clone(), $convert(r)))
                    .collect(),
                raw_bytes: page.items.iter().map(|r| r.raw.len() as u64).sum(),
                next: page.next_cursor,
                total: page.total,
            }
        }};
    }
    Ok(match entity {
        Entity::Companies => page!(list_companies, records::company_to_text),
        Entity::Contacts => page!(list_contacts, records::contact_to_text),
        Entity::Agreements => page!(list_agreements, records::agreement_to_text),
        Entity::Configurations => page!(list_configurations, records::configuration_to_text),
        Entity::Tickets => page!(list_tickets, records::ticket_to_text),
        Entity::Dataset(d) => {
            let page = conn.list_dataset(d.name(), request).await?;
            Fetched {
                items: page
                    .items
                    .iter()
                    .map(|r| {
                        let json = records::dataset_record_to_text(r);
                        (r.id.clone(), r.updated_at.clone(), json)
                    })
                    .collect(),
                raw_bytes: page.items.iter().map(|r| r.raw.len() as u64).sum(),
                next: page.next_cursor,
                total: page.total,
            }
        }
    })
}

/// One record by id; none for a dataset (the contract reads datasets by page only).
async fn fetch_one(
    conn: &Connection,
    entity: Entity,
    id: &str,
) -> Result<Option<String>, ConnectorError> {
    let id = id.to_string();
    Ok(Some(match entity {
        Entity::Dataset(_) => return Ok(None),
        Entity::Companies => records::company_to_text(&conn.get_company(id).await?),
        Entity::Contacts => records::contact_to_text(&conn.get_contact(id).await?),
        Entity::Agreements => records::agreement_to_text(&conn.get_agreement(id).await?),
        Entity::Configurations => {
            records::configuration_to_text(&conn.get_configuration(id).await?)
        }
        Entity::Tickets => records::ticket_to_text(&conn.get_ticket(id).await?),
    }))
}

/// How the engine treats a failed page.
enum Failure {
    /// Suspend the run until then.
    RateLimited(OffsetDateTime),
    /// Ask again after a backoff (bounded).
    Retryable(String),
    /// Stop the run.
    Fatal(String),
}

fn classify(e: &ConnectorError, settings: &SyncSettings) -> Failure {
    match e {
        ConnectorError::Psa(PsaError::RateLimited(hint)) => {
            let wait = hint
                .retry_after_ms
                .map(Duration::from_millis)
                .unwrap_or(settings.rate_limit_backoff);
            Failure::RateLimited(OffsetDateTime::now_utc() + wait)
        }
        ConnectorError::Psa(PsaError::Unavailable(_)) => Failure::Retryable(e.to_string()),
        ConnectorError::Psa(PsaError::Remote(r))
            if r.status >= 500 || r.code.as_deref() == Some("malformed-response") =>
        {
            Failure::Retryable(e.to_string())
        }
        ConnectorError::Call(CallError::Deadline { .. }) => Failure::Retryable(e.to_string()),
        ConnectorError::Psa(p) => Failure::Fatal(describe_psa_error(p)),
        ConnectorError::Call(c) => Failure::Fatal(c.to_string()),
    }
}

fn max_time(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

impl SyncEngine {
    /// An engine over `store`.
    pub fn new(store: Arc<dyn RecordStore>, settings: SyncSettings) -> SyncEngine {
        let permits = Arc::new(Semaphore::new(settings.max_concurrent.max(1)));
        SyncEngine {
            store,
            settings,
            permits,
            running: Mutex::default(),
            windows: Mutex::default(),
        }
    }

    /// Sets the windows of `connection` (`[connections.ID.windows]`): from its next run on, an
    /// entity with a window keeps only records updated within it. Records that leave the window
    /// leave the store with a `deleted` change event; records older than it are not stored.
    pub fn set_windows(&self, connection: &str, windows: Windows) {
        let mut all = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.is_empty() {
            all.remove(connection);
        } else {
            all.insert(connection.to_string(), windows);
        }
    }

    fn window(&self, connection: &str, entity: Entity) -> Option<Duration> {
        let all = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        all.get(connection).and_then(|w| w.get(&entity)).copied()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn RecordStore> {
        &self.store
    }

    /// The settings.
    pub fn settings(&self) -> &SyncSettings {
        &self.settings
    }

    fn lock_of(&self, connection: &str, entity: Entity) -> RunLock {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running
            .entry((connection.to_string(), entity))
            .or_default()
            .clone()
    }

    /// Syncs `entities` of `conn` one after the other ("Sync now"). Entities the connector does
    /// not list are skipped; after a rate-limited (suspended) run the remaining entities are
    /// skipped too, since the PSA's limit applies to the whole connection.
    pub async fn sync_connection(
        &self,
        conn: &Connection,
        entities: &[Entity],
        request: SyncRequest,
        progress: &dyn ProgressSink,
    ) -> anyhow::Result<ConnectionSync> {
        let mut result = ConnectionSync::default();
        let info = conn.plugin().connector_info();
        let mut suspended: Option<OffsetDateTime> = None;
        for &entity in entities {
            if let Some(until) = suspended {
                result
                    .skipped
                    .push((entity, Skipped::RateLimited { until }));
                continue;
            }
            if !info.is_some_and(|info| offers(info, entity)) {
                let plugin = conn.plugin().id().to_string();
                result
                    .skipped
                    .push((entity, Skipped::Unsupported { plugin }));
                continue;
            }
            let run = self.sync_entity(conn, entity, request, progress).await?;
            if run.status == RunStatus::Suspended {
                suspended = run.suspended_until;
            }
            result.runs.push(run);
        }
        Ok(result)
    }

    /// Syncs several connections at once (each like [`SyncEngine::sync_connection`]), within the
    /// engine's concurrency limit.
    pub async fn sync_connections(
        self: &Arc<Self>,
        connections: Vec<Connection>,
        entities: &[Entity],
        request: SyncRequest,
        progress: Arc<dyn ProgressSink>,
    ) -> Vec<(String, anyhow::Result<ConnectionSync>)> {
        let mut tasks = tokio::task::JoinSet::new();
        for (index, conn) in connections.into_iter().enumerate() {
            let engine = self.clone();
            let entities = entities.to_vec();
            let progress = progress.clone();
            tasks.spawn(async move {
                let result = engine
                    .sync_connection(&conn, &entities, request, progress.as_ref())
                    .await;
                (index, conn.id().to_string(), result)
            });
        }
        let mut results = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(r) => results.push(r),
                Err(e) => results.push((
                    usize::MAX,
                    "?".into(),
                    Err(anyhow::anyhow!("a sync task failed: {e}")),
                )),
            }
        }
        results.sort_by_key(|(i, _, _)| *i);
        results.into_iter().map(|(_, id, r)| (id, r)).collect()
    }

    /// Runs (or resumes) one run of (`conn`, `entity`) until it completes, is held, suspended or
    /// fails, and returns its history entry. A run still suspended is returned as it is, without
    /// calling the connector. Errors are the store's; connector errors end up in the run.
    pub async fn sync_entity(
        &self,
        conn: &Connection,
        entity: Entity,
        request: SyncRequest,
        progress: &dyn ProgressSink,
    ) -> anyhow::Result<RunRecord> {
        let lock = self.lock_of(conn.id(), entity);
        let _running = lock.lock().await;
        let _permit = self.permits.acquire().await?;
        let mut run = self.run_once(conn, entity, request, progress).await?;
        // A resumed incremental run does not satisfy a request for a full sweep.
        if request.mode == SyncMode::Full
            && run.mode == SyncMode::Incremental
            && run.status == RunStatus::Completed
        {
            run = self.run_once(conn, entity, request, progress).await?;
        }
        Ok(run)
    }

    async fn run_once(
        &self,
        conn: &Connection,
        entity: Entity,
        request: SyncRequest,
        progress: &dyn ProgressSink,
    ) -> anyhow::Result<RunRecord> {
        let connection = conn.id();
        let mut state = self.store.sync_state(connection, entity).await?;
        let now = OffsetDateTime::now_utc();
        if let Some(until) = state.suspended_until
            && until > now
            && let Some(id) = state.last_run
            && let Some(run) = self.store.run(connection, id).await?
        {
            return Ok(run);
        }
        state.suspended_until = None;
        let info = conn.plugin().connector_info();
        // The window's start, fixed for the whole run.
        let cutoff = self.window(connection, entity).map(|w| now - w);

        let (mut run, mut cursor, resumed) = match state.in_progress.clone() {
            Some(cursor) => {
                let mut run = self
                    .store
                    .run(connection, cursor.run_id)
                    .await?
                    .unwrap_or_else(|| RunRecord::new(cursor.run_id, entity, cursor.mode));
                run.status = RunStatus::Running;
                run.resumed += 1;
                run.error = None;
                run.suspended_until = None;
                run.finished_at = None;
                (run, cursor, true)
            }
            None => {
                let mode = match (request.mode, state.high_water) {
                    (SyncMode::Incremental, Some(_)) => SyncMode::Incremental,
                    _ => SyncMode::Full,
                };
                let id = self.store.next_run_id().await?;
                let run = RunRecord::new(id, entity, mode);
                let updated_since = match mode {
                    SyncMode::Incremental => state.high_water.map(|hw| hw - self.settings.overlap),
                    SyncMode::Full => None,
                };
                // With a window, nothing older than its start is read when the connector can
                // filter: a sweep of the window still finds every deletion inside it.
                let updated_since = match cutoff {
                    Some(c) if honours_updated_since(info, entity) => {
                        Some(updated_since.map_or(c, |u| u.max(c)))
                    }
                    _ => updated_since,
                };
                let cursor = RunCursor {
                    run_id: id,
                    mode,
                    updated_since,
                    cursor: None,
                    max_updated_at: None,
                    paged: false,
                };
                (run, cursor, false)
            }
        };
        state.in_progress = Some(cursor.clone());
        state.last_run = Some(run.id);
        self.store
            .save_run(
                connection,
                Checkpoint {
                    state: state.clone(),
                    run: run.clone(),
                },
                !resumed && cursor.mode == SyncMode::Full,
            )
            .await?;
        tracing::info!(
            connection,
            %entity,
            run = run.id,
            mode = cursor.mode.name(),
            resumed,
            "sync run {}",
            if resumed { "resumes" } else { "starts" }
        );
        progress.event(&Progress::Started {
            connection,
            run: &run,
            resumed,
        });

        // Each page is committed while the next one is read: the store's work overlaps the
        // connector's. Both finish before either outcome is acted on, so a failure of the read
        // is saved after (and on top of) the previous page's checkpoint.
        let page_size = page_size(&self.settings, conn.plugin().connector_info(), entity);
        let page_request = |cursor: &RunCursor| PageRequest {
            cursor: cursor.cursor.clone(),
            updated_since: cursor.updated_since.map(format_time),
            page_size,
        };
        let mut fetched = if cursor.paged {
            None
        } else {
            Some(
                self.fetch_with_retries(conn, entity, page_request(&cursor), progress)
                    .await,
            )
        };
        // A connector whose cursor keeps changing, or cycles (A, B, A, B ...), would page
        // forever: the cursors of this run are remembered (as hashes), and the run is bounded.
        let cursor_hash = |c: &str| {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            c.hash(&mut h);
            h.finish()
        };
        let mut seen_cursors: std::collections::HashSet<u64> = cursor
            .cursor
            .as_deref()
            .map(cursor_hash)
            .into_iter()
            .collect();
        let stored = self.store.count(connection, entity).await?;
        let max_records = self
            .settings
            .max_records_per_run
            .max(stored.saturating_mul(2));
        let mut bytes_read: u64 = 0;
        while let Some(result) = fetched.take() {
            let page = match result {
                Ok(page) => page,
                Err(Failure::RateLimited(until)) => {
                    run.status = RunStatus::Suspended;
                    run.suspended_until = Some(until);
                    state.suspended_until = Some(until);
                    return self.stop(connection, state, run, progress).await;
                }
                Err(Failure::Retryable(error) | Failure::Fatal(error)) => {
                    run.status = RunStatus::Failed;
                    run.error = Some(error);
                    return self.stop(connection, state, run, progress).await;
                }
            };
            if page.next.is_some() && page.next == cursor.cursor {
                run.status = RunStatus::Failed;
                run.error = Some(format!(
                    "the connector returned the cursor it was given ({}): paging would never end",
                    cursor.cursor.as_deref().unwrap_or_default()
                ));
                return self.stop(connection, state, run, progress).await;
            }
            if let Some(next) = &page.next
                && !seen_cursors.insert(cursor_hash(next))
            {
                run.status = RunStatus::Failed;
                run.error = Some(format!(
                    "the connector returned a cursor it had already returned in this run ({}): its cursors cycle, paging would never end",
                    shorten(next)
                ));
                return self.stop(connection, state, run, progress).await;
            }
            let records = page.items.len();
            let read = run.created + run.updated + run.unchanged + records as u64;
            let limit = if run.pages + 1 > self.settings.max_pages_per_run {
                Some(format!(
                    "the run read more than {} pages (`sync.max-pages-per-run`)",
                    self.settings.max_pages_per_run
                ))
            } else if bytes_read + page.raw_bytes > self.settings.max_bytes_per_run {
                Some(format!(
                    "the run read more than {} bytes of records (`sync.max-bytes-per-run`)",
                    self.settings.max_bytes_per_run
                ))
            } else if read > max_records {
                Some(format!(
                    "the run read more than {max_records} records (`sync.max-records-per-run`, or twice the {stored} stored): the connector's paging does not end"
                ))
            } else {
                None
            };
            bytes_read += page.raw_bytes;
            if let Some(message) = limit {
                run.status = RunStatus::Failed;
                run.error = Some(message);
                return self.stop(connection, state, run, progress).await;
            }
            let mut upserts = Vec::with_capacity(records);
            for (id, updated_at, record) in page.items {
                let updated = updated_at.as_deref().and_then(|t| parse_time(t).ok());
                cursor.max_updated_at = max_time(cursor.max_updated_at, updated);
                if let (Some(cutoff), Some(updated)) = (cutoff, updated)
                    && updated < cutoff
                {
                    continue;
                }
                upserts.push(RecordWrite::from_text(id, record));
            }
            cursor.paged = page.next.is_none();
            cursor.cursor = page.next;
            state.in_progress = Some(cursor.clone());
            run.pages += 1;
            if page.total.is_some() {
                run.total = page.total;
            }
            let commit = self.store.commit(PageCommit {
                connection: connection.to_string(),
                entity,
                upserts,
                deletions: Vec::new(),
                mark_seen: cursor.mode == SyncMode::Full,
                checkpoint: Some(Checkpoint {
                    state: state.clone(),
                    run: run.clone(),
                }),
            });
            let outcome = if cursor.paged {
                commit.await?
            } else {
                let next = self.fetch_with_retries(conn, entity, page_request(&cursor), progress);
                let (outcome, next) = tokio::join!(commit, next);
                fetched = Some(next);
                outcome?
            };
            run = outcome
                .run
                .expect("a commit with a checkpoint returns the run");
            progress.event(&Progress::Page {
                connection,
                run: &run,
                records,
            });
        }

        // Every page is committed: finish.
        let now = OffsetDateTime::now_utc();
        state.in_progress = None;
        // A record changed while the sweep ran may sit behind the cursor with a time below the
        // newest one seen; so the mark never passes the run's start, and the next incremental run
        // reads everything changed since then (less the overlap, for clock skew).
        let seen_until = cursor.max_updated_at.map(|m| m.min(run.started_at));
        state.high_water = max_time(state.high_water, seen_until);
        run.finished_at = Some(now);
        run.status = RunStatus::Completed;
        if let Some(cutoff) = cutoff {
            run.deleted += self.prune_window(connection, entity, cutoff).await?;
        }
        let mut deletions = Vec::new();
        if cursor.mode == SyncMode::Full {
            let diff = self.store.sweep_diff(connection, entity).await?;
            let share = self.settings.mass_delete_share;
            let floor = self.settings.mass_delete_floor;
            let would_delete = diff.unseen.len() as u64;
            if !request.allow_mass_delete
                && mass_delete_holds(would_delete, diff.stored, share, floor)
            {
                tracing::warn!(
                    connection,
                    %entity,
                    would_delete,
                    stored = diff.stored,
                    "full sweep holds its deletions: more than {:.0}% and more than {floor} of \
                     the stored records, or all of them",
                    share * 100.0
                );
                run.status = RunStatus::Held;
                run.held = Some(HeldDeletion {
                    would_delete,
                    stored: diff.stored,
                    max_share: share,
                    floor,
                    sample: diff.unseen.iter().take(20).cloned().collect(),
                });
            } else {
                deletions = diff.unseen;
                state.last_full_sweep = Some(now);
            }
        }
        let outcome = self
            .store
            .commit(PageCommit {
                connection: connection.to_string(),
                entity,
                upserts: Vec::new(),
                deletions,
                mark_seen: false,
                checkpoint: Some(Checkpoint {
                    state,
                    run: run.clone(),
                }),
            })
            .await?;
        let run = outcome
            .run
            .expect("a commit with a checkpoint returns the run");
        tracing::info!(
            connection,
            %entity,
            run = run.id,
            status = run.status.name(),
            pages = run.pages,
            created = run.created,
            updated = run.updated,
            unchanged = run.unchanged,
            deleted = run.deleted,
            "sync run finished"
        );
        progress.event(&Progress::Finished {
            connection,
            run: &run,
        });
        Ok(run)
    }

    /// Deletes the stored records of (`connection`, `entity`) updated before `cutoff`, each with
    /// a change event, and returns how many. Not behind the mass-delete guard: leaving the
    /// window is what the operator asked for.
    async fn prune_window(
        &self,
        connection: &str,
        entity: Entity,
        cutoff: OffsetDateTime,
    ) -> anyhow::Result<u64> {
        let mut old = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .store
                .list(
                    connection,
                    entity,
                    psahost_store::ListQuery {
                        after,
                        limit: 1000,
                        ..Default::default()
                    },
                )
                .await?;
            for r in page.records {
                let updated = r
                    .record
                    .get("updated-at")
                    .and_then(Value::as_str)
                    .and_then(|t| parse_time(t).ok());
                if updated.is_some_and(|u| u < cutoff) {
                    old.push(r.id);
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let mut deleted = 0;
        for chunk in old.chunks(1000) {
            let outcome = self
                .store
                .commit(PageCommit {
                    connection: connection.to_string(),
                    entity,
                    upserts: Vec::new(),
                    deletions: chunk.to_vec(),
                    mark_seen: false,
                    checkpoint: None,
                })
                .await?;
            deleted += outcome.deleted;
        }
        if deleted > 0 {
            tracing::info!(connection, %entity, deleted, cutoff = %format_time(cutoff), "records left the window");
        }
        Ok(deleted)
    }

    /// Saves a stopped (suspended or failed) run; its checkpoint stays for the next run.
    async fn stop(
        &self,
        connection: &str,
        state: SyncState,
        mut run: RunRecord,
        progress: &dyn ProgressSink,
    ) -> anyhow::Result<RunRecord> {
        run.finished_at = Some(OffsetDateTime::now_utc());
        match run.status {
            RunStatus::Suspended => tracing::warn!(
                connection,
                entity = %run.entity,
                run = run.id,
                until = run.suspended_until.map(format_time).unwrap_or_default(),
                "sync run suspended by a rate limit; it resumes from its checkpoint"
            ),
            _ => tracing::warn!(
                connection,
                entity = %run.entity,
                run = run.id,
                error = run.error.as_deref().unwrap_or_default(),
                "sync run failed; the next run resumes from its checkpoint"
            ),
        }
        self.store
            .save_run(
                connection,
                Checkpoint {
                    state,
                    run: run.clone(),
                },
                false,
            )
            .await?;
        progress.event(&Progress::Finished {
            connection,
            run: &run,
        });
        Ok(run)
    }

    async fn fetch_with_retries(
        &self,
        conn: &Connection,
        entity: Entity,
        request: PageRequest,
        progress: &dyn ProgressSink,
    ) -> Result<Fetched, Failure> {
        let mut attempt = 0;
        loop {
            let error = match fetch_page(conn, entity, request.clone()).await {
                Ok(page) => return Ok(page),
                Err(e) => e,
            };
            match classify(&error, &self.settings) {
                Failure::Retryable(message) if attempt < self.settings.page_retries => {
                    attempt += 1;
                    let wait = self.settings.retry_backoff * 2u32.saturating_pow(attempt - 1);
                    tracing::info!(
                        connection = conn.id(),
                        %entity,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "page failed, asking again: {message}"
                    );
                    progress.event(&Progress::Retrying {
                        connection: conn.id(),
                        entity,
                        attempt,
                        wait,
                        error: &message,
                    });
                    // The sandbox call has returned: waiting holds no instance.
                    tokio::time::sleep(wait).await;
                }
                other => return Err(other),
            }
        }
    }

    /// Syncs one record by id (the "Sync" on one customer): reads it with the connector's
    /// `get-*` and writes it like any page (a change event when it is new or changed). When the
    /// PSA answers `not-found`, the stored copy is deleted (a `deleted` event).
    pub async fn sync_record(
        &self,
        conn: &Connection,
        entity: Entity,
        id: &str,
    ) -> anyhow::Result<RecordSync> {
        if entity.dataset().is_some() {
            anyhow::bail!(
                "cannot sync {entity} `{id}` by itself: datasets are read by page only; sync the dataset instead"
            );
        }
        let _permit = self.permits.acquire().await?;
        let (upserts, deletions, found) = match fetch_one(conn, entity, id).await {
            Ok(None) => unreachable!("datasets were refused above"),
            Ok(Some(record)) => (vec![RecordWrite::from_text(id, record)], Vec::new(), true),
            Err(ConnectorError::Psa(PsaError::NotFound(_))) => {
                (Vec::new(), vec![id.to_string()], false)
            }
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "cannot sync {entity} `{id}` of connection `{}`: {e}",
                    conn.id()
                ));
            }
        };
        let outcome = self
            .store
            .commit(PageCommit {
                connection: conn.id().to_string(),
                entity,
                upserts,
                deletions,
                // A full sweep in progress must not delete a record synced by hand meanwhile.
                mark_seen: true,
                checkpoint: None,
            })
            .await?;
        let change = if outcome.created > 0 {
            Some(ChangeKind::Created)
        } else if outcome.updated > 0 {
            Some(ChangeKind::Updated)
        } else if outcome.deleted > 0 {
            Some(ChangeKind::Deleted)
        } else {
            None
        };
        Ok(RecordSync {
            entity,
            id: id.to_string(),
            change,
            found,
        })
    }
}

/// The mass-delete guard: whether a full sweep that did not see `would_delete` of the `stored`
/// records holds its deletions. It holds when they are both more than `share` of the stored
/// records and more than `floor`, and whenever they would empty the entity: a PSA answering an
/// empty list is likelier a fault (a permission removed, a filter gone wrong) than a tenant
/// that lost every record. A share of 1 (100%) turns the guard off.
pub fn mass_delete_holds(would_delete: u64, stored: u64, share: f64, floor: u64) -> bool {
    if would_delete == 0 || share >= 1.0 {
        return false;
    }
    let everything = would_delete >= stored;
    let too_many = would_delete as f64 > share * stored as f64 && would_delete > floor;
    everything || too_many
}

#[cfg(test)]
mod tests {
    use super::mass_delete_holds;

    #[test]
    fn the_mass_delete_guard() {
        // (would delete, stored, share, floor) -> held
        let cases = [
            (0, 0, 0.1, 10, false),
            (0, 500, 0.1, 10, false),
            // Within the share.
            (50, 500, 0.1, 10, false),
            (51, 500, 0.1, 10, true),
            // A small tenant: over the share but not over the floor.
            (2, 3, 0.1, 10, false),
            (10, 40, 0.1, 10, false),
            (11, 40, 0.1, 10, true),
            // Everything gone is always held, however few.
            (3, 3, 0.1, 10, true),
            (1, 1, 0.1, 10, true),
            (500, 500, 0.99, 1000, true),
            // A share of 100% turns the guard off.
            (500, 500, 1.0, 10, false),
            // A floor of 0 leaves the share alone.
            (1, 5, 0.1, 0, true),
            (1, 10, 0.1, 0, false),
        ];
        for (would_delete, stored, share, floor, held) in cases {
            assert_eq!(
                mass_delete_holds(would_delete, stored, share, floor),
                held,
                "{would_delete} of {stored}, share {share}, floor {floor}"
            );
        }
    }
}
