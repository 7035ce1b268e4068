//! The record store: synced PSA records, their change feed, per-entity sync state and the
//! history of sync runs, behind [`RecordStore`] so another engine can replace the embedded one.
//!
//! [`SledStore`] is the embedded default; [`PgStore`] keeps the same data in PostgreSQL, where
//! several processes can share it. Their guarantees, which any other engine must keep (and
//! [`conformance`] checks):
//! - records are keyed by (connection, entity, id) and carry a SHA-256 of their JSON; writing a
//!   record with the same hash rewrites nothing and produces no change event;
//! - every created, updated or deleted record gets one [`Change`] with the next number of its
//!   connection's sequence (1, 2, 3, ... without gaps), in the same transaction as the write;
//! - [`RecordStore::commit`] applies a page's records, its deletions, the ids it saw (for a full
//!   sweep's delete detection) and the run's checkpoint in ONE transaction: a checkpoint never
//!   exists without the records of its page, and a page's records never exist without their
//!   change events.
//!
//! Records are JSON objects with the WIT field names (the workflows crate's `records` module
//! converts them). The store knows no WIT type: it holds JSON.

pub mod compact;
pub mod conformance;
mod entity;
mod postgres;
mod sled_store;

pub use entity::{Dataset, Entity};
pub use postgres::{Lease, PgOptions, PgStore, SCHEMA_VERSION as PG_SCHEMA_VERSION, StaleLease};
pub use sled_store::SledStore;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use time::OffsetDateTime;

/// The future every [`RecordStore`] method returns (object-safe, `Send`).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = anyhow::Result<T>> + Send + 'a>>;

/// What happened to a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// The record was not in the store before.
    Created,
    /// The record's content changed.
    Updated,
    /// The record was removed (a full sweep no longer saw it, or the PSA said it is gone).
    Deleted,
}

/// One entry of a connection's change feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Change {
    /// The change's number in its connection's sequence (from 1, without gaps).
    pub seq: u64,
    /// The record's entity.
    pub entity: Entity,
    /// The record's id.
    pub id: String,
    /// What happened.
    pub kind: ChangeKind,
    /// When the store recorded it.
    #[serde(with = "rfc3339")]
    pub at: OffsetDateTime,
}

/// A record as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct StoredRecord {
    /// Its entity.
    pub entity: Entity,
    /// Its id.
    pub id: String,
    /// SHA-256 of its JSON, hex.
    pub hash: String,
    /// The sequence number of its last change.
    pub seq: u64,
    /// When it last changed in the store.
    #[serde(with = "rfc3339")]
    pub changed_at: OffsetDateTime,
    /// The record, with the WIT field names.
    pub record: Value,
}

/// A record to write: its id and its JSON text.
///
/// The stores keep the text as it is and hash it: the sync writes records without building a
/// JSON tree for each (see the workflows crate's `records::*_to_text`). Two texts of the same
/// JSON value (key order, spacing, escapes) are the same record: no change event.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordWrite {
    /// The record's id.
    pub id: String,
    /// The record: one JSON object with the WIT field names.
    json: String,
}

impl RecordWrite {
    /// A record from its JSON value.
    pub fn new(id: impl Into<String>, record: &Value) -> RecordWrite {
        RecordWrite {
            id: id.into(),
            json: record.to_string(),
        }
    }

    /// A record from its JSON text, which the caller has written: it must be one JSON object
    /// (checked in debug builds only; the sync writes 100,000s of them).
    pub fn from_text(id: impl Into<String>, json: String) -> RecordWrite {
        debug_assert!(
            serde_json::from_str::<serde_json::Map<String, Value>>(&json).is_ok(),
            "a record's text is one JSON object: {json}"
        );
        RecordWrite {
            id: id.into(),
            json,
        }
    }

    /// The record's JSON text.
    pub fn json(&self) -> &str {
        &self.json
    }
}

/// SHA-256 of a record's text, as the stores keep it.
fn record_hash(json: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(json.as_bytes()).into()
}

/// Whether two record texts hold the same JSON value. The stores ask only when the hashes of
/// the texts differ: a record written in other words (before the stores kept texts as they
/// come, or by a PSA that reordered its keys) is the same record, not a change.
fn same_json(a: &[u8], b: &[u8]) -> bool {
    match (
        serde_json::from_slice::<Value>(a),
        serde_json::from_slice::<Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// How a sync run reads the PSA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncMode {
    /// Records changed since the high-water mark (minus the overlap window).
    Incremental,
    /// Every record; records no longer seen are deleted at the end (behind the mass-delete guard).
    Full,
}

impl SyncMode {
    /// `incremental` or `full`.
    pub fn name(self) -> &'static str {
        match self {
            SyncMode::Incremental => "incremental",
            SyncMode::Full => "full",
        }
    }
}

/// Where a sync run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// In progress (or interrupted by a crash: the next run resumes it).
    Running,
    /// Finished; every change applied.
    Completed,
    /// Finished paging, but the deletions were held by the mass-delete guard.
    Held,
    /// Stopped by a rate limit; resumes from its checkpoint after `suspended-until`.
    Suspended,
    /// Stopped by an error; its checkpoint is kept and the next run resumes it.
    Failed,
}

impl RunStatus {
    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Held => "held",
            RunStatus::Suspended => "suspended",
            RunStatus::Failed => "failed",
        }
    }
}

/// Deletions a full sweep found but did not apply (the mass-delete guard).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct HeldDeletion {
    /// Records the sweep did not see, which it would have deleted.
    pub would_delete: u64,
    /// Records in the store for the entity before the deletion.
    pub stored: u64,
    /// The largest share of `stored` a sweep may delete.
    pub max_share: f64,
    /// Deletions a sweep may apply whatever their share (`sync.mass-delete-floor`); 0 in runs
    /// stored before the floor existed.
    #[serde(default)]
    pub floor: u64,
    /// Some of the ids (the first ones, at most 20).
    pub sample: Vec<String>,
}

/// One sync run of one (connection, entity): one pass over the PSA, possibly spread over several
/// process lifetimes (resumed after a crash, a rate limit or a failure).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunRecord {
    /// The run's id (unique in the store, increasing).
    pub id: u64,
    /// The entity.
    pub entity: Entity,
    /// Incremental or full.
    pub mode: SyncMode,
    /// Where it stands.
    pub status: RunStatus,
    /// When it started.
    #[serde(with = "rfc3339")]
    pub started_at: OffsetDateTime,
    /// When it finished (completed, held), or last stopped (suspended, failed).
    #[serde(with = "rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// Pages committed.
    pub pages: u64,
    /// Records created in the store.
    pub created: u64,
    /// Records whose content changed.
    pub updated: u64,
    /// Records read again with the same content.
    pub unchanged: u64,
    /// Records deleted.
    pub deleted: u64,
    /// How many times it was resumed.
    pub resumed: u32,
    /// The last error, for a failed run.
    pub error: Option<String>,
    /// Until when a suspended run waits.
    #[serde(with = "rfc3339::option")]
    pub suspended_until: Option<OffsetDateTime>,
    /// Deletions held by the mass-delete guard.
    pub held: Option<HeldDeletion>,
    /// How many records the run will read, when the connector reported the PSA's count: with
    /// the records read so far it gives progress and an estimated time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

impl RunRecord {
    /// A new run, started now.
    pub fn new(id: u64, entity: Entity, mode: SyncMode) -> RunRecord {
        RunRecord {
            id,
            entity,
            mode,
            status: RunStatus::Running,
            started_at: OffsetDateTime::now_utc(),
            finished_at: None,
            pages: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            deleted: 0,
            resumed: 0,
            error: None,
            suspended_until: None,
            held: None,
            total: None,
        }
    }
}

/// The resumable position of an unfinished run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunCursor {
    /// The run (in the run history).
    pub run_id: u64,
    /// Its mode.
    pub mode: SyncMode,
    /// The `updated-since` it asks for (fixed for the whole run).
    #[serde(with = "rfc3339::option")]
    pub updated_since: Option<OffsetDateTime>,
    /// The connector's cursor of the next page; none before the first page.
    pub cursor: Option<String>,
    /// The largest `updated-at` committed so far.
    #[serde(with = "rfc3339::option")]
    pub max_updated_at: Option<OffsetDateTime>,
    /// Every page is committed; only the end of the run (a full sweep's deletions) is left.
    #[serde(default)]
    pub paged: bool,
}

/// The sync state of one (connection, entity).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct SyncState {
    /// The unfinished run, if any: the next run resumes it.
    pub in_progress: Option<RunCursor>,
    /// The largest `updated-at` of the last finished run: incremental runs start from it.
    #[serde(with = "rfc3339::option")]
    pub high_water: Option<OffsetDateTime>,
    /// When the last full sweep whose deletions were applied finished.
    #[serde(with = "rfc3339::option")]
    pub last_full_sweep: Option<OffsetDateTime>,
    /// A rate-limited run waits until then.
    #[serde(with = "rfc3339::option")]
    pub suspended_until: Option<OffsetDateTime>,
    /// The last run (finished or not).
    pub last_run: Option<u64>,
}

/// A run's state and history entry, written together with a page or on their own.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// The entity's new sync state.
    pub state: SyncState,
    /// The run's history entry. In [`RecordStore::commit`] the page's counts are added to it
    /// by the store, inside the transaction.
    pub run: RunRecord,
}

/// One atomic write: a page of records, deletions, and optionally the run's checkpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct PageCommit {
    /// The connection.
    pub connection: String,
    /// The entity of every record and deletion.
    pub entity: Entity,
    /// Records to create or update.
    pub upserts: Vec<RecordWrite>,
    /// Ids to delete (absent ids are ignored).
    pub deletions: Vec<String>,
    /// Remember the upserted ids as seen by the current full sweep.
    pub mark_seen: bool,
    /// The checkpoint to save with the page.
    pub checkpoint: Option<Checkpoint>,
}

/// What a commit did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CommitOutcome {
    /// Records created.
    pub created: u64,
    /// Records updated.
    pub updated: u64,
    /// Records with the same content as stored (not rewritten).
    pub unchanged: u64,
    /// Records deleted.
    pub deleted: u64,
    /// The connection's last change sequence number after the commit.
    pub last_seq: u64,
    /// The run entry as saved (with this page's counts added).
    pub run: Option<RunRecord>,
}

/// Filters and paging of [`RecordStore::list`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListQuery {
    /// Field equals value, all of them. A field is a WIT field name, nested with `/`
    /// (`company-id`, `status/name`); a string value also matches a number or boolean with
    /// that text (`"true"` matches `true`).
    pub equals: Vec<(String, Value)>,
    /// Only records whose `updated-at` is at or after this time.
    pub updated_since: Option<OffsetDateTime>,
    /// Start after this id (the previous page's `next`).
    pub after: Option<String>,
    /// At most this many records (0: 100).
    pub limit: usize,
}

/// One page of [`RecordStore::list`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RecordPage {
    /// The records, ordered by id (byte order).
    pub records: Vec<StoredRecord>,
    /// The `after` of the next page; none on the last page.
    pub next: Option<String>,
}

/// The stored records a full sweep did not see.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepDiff {
    /// Records of the entity in the store.
    pub stored: u64,
    /// Their ids that the sweep did not see, in id order.
    pub unseen: Vec<String>,
}

/// A store of synced records. Every method is async; implementations keep blocking I/O off the
/// async workers.
pub trait RecordStore: Send + Sync {
    /// Applies `page` in one transaction (see the module documentation) and returns what changed.
    fn commit(&self, page: PageCommit) -> StoreFuture<'_, CommitOutcome>;

    /// Saves a run's state and history entry without records (start, suspension, failure).
    /// `clear_seen` forgets the ids seen by the entity's previous full sweep (a new sweep starts).
    fn save_run(
        &self,
        connection: &str,
        checkpoint: Checkpoint,
        clear_seen: bool,
    ) -> StoreFuture<'_, ()>;

    /// A new run id, larger than every earlier one.
    fn next_run_id(&self) -> StoreFuture<'_, u64>;

    /// One record.
    fn get(
        &self,
        connection: &str,
        entity: Entity,
        id: &str,
    ) -> StoreFuture<'_, Option<StoredRecord>>;

    /// Records of an entity, filtered, in pages.
    fn list(
        &self,
        connection: &str,
        entity: Entity,
        query: ListQuery,
    ) -> StoreFuture<'_, RecordPage>;

    /// How many records of an entity the store holds.
    fn count(&self, connection: &str, entity: Entity) -> StoreFuture<'_, u64>;

    /// The changes of a connection after sequence number `after_seq`, at most `limit`.
    fn changes(
        &self,
        connection: &str,
        after_seq: u64,
        limit: usize,
    ) -> StoreFuture<'_, Vec<Change>>;

    /// The entity's sync state (the default when it never synced).
    fn sync_state(&self, connection: &str, entity: Entity) -> StoreFuture<'_, SyncState>;

    /// The records the current full sweep has not seen, and how many are stored.
    fn sweep_diff(&self, connection: &str, entity: Entity) -> StoreFuture<'_, SweepDiff>;

    /// One run of the history.
    fn run(&self, connection: &str, id: u64) -> StoreFuture<'_, Option<RunRecord>>;

    /// The newest runs of a connection first, at most `limit`.
    fn runs(&self, connection: &str, limit: usize) -> StoreFuture<'_, Vec<RunRecord>>;

    /// Sets (`Some`) or removes (`None`) the host's link `key` of kind `kind` (`customers`: a
    /// tool's customer id -> its PSA company); true when a link was there before. Links are the
    /// host's own data about a connection's records: they have no change events.
    fn set_link(
        &self,
        connection: &str,
        kind: &str,
        key: &str,
        link: Option<Value>,
    ) -> StoreFuture<'_, bool>;

    /// The links of `kind` ordered by key (byte order), after key `after`, at most `limit`
    /// (0: 100).
    fn links(
        &self,
        connection: &str,
        kind: &str,
        after: Option<String>,
        limit: usize,
    ) -> StoreFuture<'_, Vec<(String, Value)>>;

    /// The link `key` of kind `kind`, if there is one.
    fn get_link(&self, connection: &str, kind: &str, key: &str) -> StoreFuture<'_, Option<Value>>;

    /// Appends `entry` to the connection's audit trail (the host's record of what it wrote to
    /// the PSA: a workflow, its subject, the write and the PSA's answer) and returns its
    /// sequence number: 1 for the connection's first entry, then one more than the last. Entries
    /// are never changed or removed; they are not records, so no change events.
    fn append_audit(&self, connection: &str, entry: Value) -> StoreFuture<'_, u64>;

    /// The audit trail's entries after sequence number `after_seq`, oldest first, at most
    /// `limit` (0: 100).
    fn audit(
        &self,
        connection: &str,
        after_seq: u64,
        limit: usize,
    ) -> StoreFuture<'_, Vec<(u64, Value)>>;

    /// Makes everything committed so far durable.
    fn flush(&self) -> StoreFuture<'_, ()>;
}

/// Does `record` match every filter of `query`?
pub(crate) fn matches(record: &Value, query: &ListQuery) -> bool {
    for (field, expected) in &query.equals {
        let mut v = record;
        for part in field.split('/') {
            v = match v {
                Value::Object(m) => m.get(part).unwrap_or(&Value::Null),
                _ => &Value::Null,
            };
        }
        let equal = v == expected
            || match (v, expected) {
                (Value::Bool(b), Value::String(s)) => b.to_string() == *s,
                (Value::Number(n), Value::String(s)) => n.to_string() == *s,
                _ => false,
            };
        if !equal {
            return false;
        }
    }
    if let Some(since) = query.updated_since {
        let updated = record
            .get("updated-at")
            .and_then(Value::as_str)
            .and_then(|s| parse_time(s).ok());
        if updated.is_none_or(|u| u < since) {
            return false;
        }
    }
    true
}

/// RFC 3339 (de)serialisation of `OffsetDateTime` for the stored structures.
pub(crate) mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    /// Formats a time as RFC 3339 in UTC.
    pub fn format(t: OffsetDateTime) -> String {
        t.to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_else(|_| t.unix_timestamp().to_string())
    }

    /// Parses an RFC 3339 time.
    pub fn parse(s: &str) -> anyhow::Result<OffsetDateTime> {
        OffsetDateTime::parse(s, &Rfc3339)
            .map_err(|e| anyhow::anyhow!("`{s}` is not an RFC 3339 time: {e}"))
    }

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }

    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use time::OffsetDateTime;

        pub fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_some(&super::format(*t)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| super::parse(&s).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}

pub use rfc3339::{format as format_time, parse as parse_time};
