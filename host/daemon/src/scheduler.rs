//! The sync scheduler: one task per scheduled connection, so one connection's trouble (a slow
//! PSA, a rate limit, a broken plugin) never delays another; runs of different connections go
//! on at once within the sync engine's concurrency limit.
//!
//! A connection's task runs its entities one after the other (the PSA's limits apply to the
//! whole connection). For each scheduled entity:
//! - an incremental run is due `interval` after the entity's last run (finished, or started
//!   when it never finished; runs made through the API count too), or at once when it never ran;
//! - a full sweep is due `full-sweep` after its last applied full sweep, or after the last full
//!   sweep the scheduler attempted (so a sweep held by the mass-delete guard is not repeated in
//!   a loop); when the entity never swept, one `full-sweep` after the daemon started (its very
//!   first run is a sweep anyway);
//! - a run suspended by a rate limit holds every entity of the connection until its
//!   `suspended-until`; the next run resumes it from its checkpoint;
//! - a run cut short by a crash or a shutdown (still `running` in the store) resumes at once;
//! - a failed run is tried again at the next incremental time (it resumes from its checkpoint).
//!
//! - with `[cluster]`, a connection runs only while this replica owns it (checked before each
//!   run); a run refused because the lease changed hands meanwhile is logged as "lease lost",
//!   not as a failure: the connection's new owner resumes it from its checkpoint.
//!
//! The earliest due run goes first; a full sweep goes before an incremental run due at the same
//! time.

use super::Daemon;
use psahost_store::Entity;
use psahost_store::{RunStatus, StaleLease, SyncMode, format_time};
use psahost_workflows::sync::SyncRequest;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;

/// How long the task waits after a store error, or while its connection is not open.
const RETRY: Duration = Duration::from_secs(30);

/// The next run the scheduler would start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DueRun {
    /// The entity.
    pub entity: Entity,
    /// Incremental or full.
    pub mode: SyncMode,
    /// When.
    pub at: OffsetDateTime,
}

/// What the scheduler remembers between runs of one connection.
#[derive(Default)]
struct Memory {
    /// Per entity: the last full sweep the scheduler started.
    full_attempt: HashMap<Entity, OffsetDateTime>,
    /// Per entity: the last run the scheduler started.
    attempt: HashMap<Entity, OffsetDateTime>,
}

/// Runs connection `id`'s schedule until `stop`.
pub async fn run_connection(daemon: Arc<Daemon>, id: String, mut stop: watch::Receiver<bool>) {
    let mut memory = Memory::default();
    let started = daemon.started_at();
    loop {
        if *stop.borrow() {
            return;
        }
        if !daemon.owns(&id) {
            // Another replica owns it (or nobody yet): look again after the next lease round,
            // without reading its sync state meanwhile.
            let wait = daemon.cluster().map_or(RETRY, |c| c.config().renew_every);
            tracing::trace!(
                connection = id.as_str(),
                "scheduled sync skipped: another replica owns the connection"
            );
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            continue;
        }
        let (wait, due) = match Box::pin(next_run(&daemon, &id, &memory, started)).await {
            Ok(Some(due)) => {
                let wait =
                    Duration::try_from(due.at - OffsetDateTime::now_utc()).unwrap_or_default();
                (wait, Some(due))
            }
            Ok(None) => return,
            Err(e) => {
                tracing::error!(
                    connection = id.as_str(),
                    "scheduler: {e:#}; trying again in {}s",
                    RETRY.as_secs()
                );
                (RETRY, None)
            }
        };
        if !wait.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
        let Some(due) = due else { continue };
        if *stop.borrow() {
            return;
        }
        if !daemon.owns(&id) {
            // Lost while waiting for the due time: the loop's start waits for it again.
            continue;
        }
        let conn = match daemon.connection(&id) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(connection = id.as_str(), "scheduled sync skipped: {e}");
                tokio::select! {
                    _ = tokio::time::sleep(RETRY) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                continue;
            }
        };
        let now = OffsetDateTime::now_utc();
        memory.attempt.insert(due.entity, now);
        // A scheduled dataset the connector (or its hot-reloaded version) does not declare is
        // reported, not run: the run would only fail at the PSA each interval.
        if let Some(info) = conn.plugin().connector_info()
            && !psahost_workflows::sync::offers(info, due.entity)
        {
            tracing::warn!(
                connection = id.as_str(),
                entity = %due.entity,
                plugin = conn.plugin().id(),
                "scheduled sync skipped: the connector does not offer it (see `psahost plugin inspect`)"
            );
            continue;
        }
        if due.mode == SyncMode::Full {
            memory.full_attempt.insert(due.entity, now);
        }
        let request = match due.mode {
            SyncMode::Full => SyncRequest::full(),
            SyncMode::Incremental => SyncRequest::incremental(),
        };
        tracing::debug!(connection = id.as_str(), entity = %due.entity, mode = due.mode.name(), "scheduled sync starts");
        // Boxed: a run's future is kilobytes, and inline it would size this task's future,
        // which waits between runs for each of thousands of connections.
        match Box::pin(daemon.engine().sync_entity(
            &conn,
            due.entity,
            request,
            daemon.metrics().as_ref(),
        ))
        .await
        {
            Ok(run) => {
                if run.status == RunStatus::Suspended {
                    tracing::info!(
                        connection = id.as_str(),
                        entity = %due.entity,
                        until = run.suspended_until.map(format_time).unwrap_or_default(),
                        "scheduled sync suspended by a rate limit; the connection waits"
                    );
                }
            }
            Err(e) if e.downcast_ref::<StaleLease>().is_some() => {
                tracing::warn!(connection = id.as_str(), entity = %due.entity, "scheduled sync stopped: lease lost ({e:#}); the connection's new owner resumes it");
            }
            Err(e) => {
                tracing::error!(connection = id.as_str(), entity = %due.entity, "scheduled sync failed: {e:#}");
            }
        }
    }
}

/// The connection's next due run, from its schedule and the store's sync state.
async fn next_run(
    daemon: &Daemon,
    id: &str,
    memory: &Memory,
    started: OffsetDateTime,
) -> anyhow::Result<Option<DueRun>> {
    let Some(slot) = daemon.connections().get(id) else {
        return Ok(None);
    };
    let schedule = &slot.config.schedule;
    let store = daemon.store();
    let now = OffsetDateTime::now_utc();
    let mut best: Option<DueRun> = None;
    let mut suspended_until: Option<OffsetDateTime> = None;
    for &(entity, interval) in &schedule.entities {
        let state = store.sync_state(id, entity).await?;
        if let Some(until) = state.suspended_until.filter(|u| *u > now) {
            suspended_until = suspended_until.max(Some(until));
        }
        let last_run = match state.last_run {
            Some(run) => store.run(id, run).await?,
            None => None,
        };
        let last = last_run
            .as_ref()
            .map(|r| r.finished_at.unwrap_or(r.started_at))
            .max(memory.attempt.get(&entity).copied());
        let mut due = DueRun {
            entity,
            mode: SyncMode::Incremental,
            at: last.map_or(now, |t| t + interval),
        };
        match last_run.as_ref().map(|r| (r.status, r.suspended_until)) {
            // A suspended run resumes as soon as the PSA's limit allows, not an interval later.
            Some((RunStatus::Suspended, until)) => due.at = until.unwrap_or(now),
            // A run cut short (a crash, a shutdown) resumes at once, unless this process
            // already tried it.
            Some((RunStatus::Running, _))
                if state.in_progress.is_some() && !memory.attempt.contains_key(&entity) =>
            {
                due.at = now
            }
            _ => {}
        }
        if let Some(full) = schedule.full_sweep
            && state.high_water.is_some()
        {
            let base = state
                .last_full_sweep
                .max(memory.full_attempt.get(&entity).copied())
                .unwrap_or(started);
            let full_at = base + full;
            if full_at <= due.at {
                due = DueRun {
                    entity,
                    mode: SyncMode::Full,
                    at: full_at,
                };
            }
        }
        best = match best {
            Some(b) if b.at <= due.at => Some(b),
            _ => Some(due),
        };
    }
    Ok(best.map(|mut b| {
        if let Some(until) = suspended_until {
            b.at = b.at.max(until);
        }
        b
    }))
}
