//! The embedded [`RecordStore`]: sled, one fixed set of trees shared by every connection.
//!
//! Key layout (`C` = the connection prefix: the connection id's length in bytes as a `u32`
//! big endian, then the id's bytes; `E` = entity name, `\0` = a zero byte, `u64` = 8 bytes big
//! endian so byte order is numeric order):
//!
//! | tree | key | value |
//! | --- | --- | --- |
//! | `records` | `C E \0 id` | 32-byte SHA-256 of the JSON text, `u64` seq of its last change, `i64` unix ms of that change, then the record's JSON |
//! | `changes` | `C u64` seq | JSON [`Change`] |
//! | `meta` | `C seq`; `C sweep-start \0 E` | `u64` last change sequence number; `u64` that number when the entity's current full sweep began (a record changed after it was seen by the sweep) |
//! | `state` | `C E` | JSON [`SyncState`] |
//! | `seen` | `C E \0 id` | empty: seen by the entity's current full sweep unchanged; or the `u64` seq of a write by another commit since it began |
//! | `runs` | `C u64` run id | JSON [`RunRecord`] |
//! | `links` | `C kind \0 key` | the link's JSON |
//! | `audit` | `C u64` seq | the audit entry's JSON |
//! | default tree | `format` | `u64` the layout version ([`FORMAT`], 2) |
//!
//! The length prefix makes a connection's keys exactly the keys starting with its prefix: no
//! other connection's prefix starts with it (connection `a`, prefix `00000001 a`, never sees
//! `ab`'s keys, prefix `00000002 ab`), whatever bytes an id holds (ids are not restricted).
//! Nine trees for any number of connections: sled 0.34 copies its whole map of tree names for
//! each tree it creates, so one set of trees per connection (layout 1, see [`migrate`]) cost
//! memory and disk quadratic in the number of connections.
//!
//! Run ids come from sled's `generate_id` (unique and increasing across restarts). Every write
//! of [`RecordStore::commit`] and [`RecordStore::save_run`] is one multi-tree sled transaction;
//! sled recovers transactions atomically, and a commit is flushed before it returns, so an
//! acknowledged page survives a crash and an unacknowledged one disappears as a whole. Sharing
//! the trees does not make commits of different connections contend more than before: sled
//! 0.34 runs every transaction of the process under one global write lock (its
//! `concurrency_control`), whatever trees it touches, so transactions never conflict with each
//! other and are not retried; they were serialised with one another in layout 1 already.

use super::{
    Change, ChangeKind, Checkpoint, CommitOutcome, ListQuery, PageCommit, RecordPage, RecordStore,
    RunRecord, StoreFuture, StoredRecord, SweepDiff, SyncState, record_hash, same_json,
};
use crate::Entity;
use anyhow::{Context, anyhow};
use serde_json::Value;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use std::path::Path;
use time::OffsetDateTime;

const HEADER: usize = 32 + 8 + 8;
const SEQ_KEY: &[u8] = b"seq";

/// The store's layout version: 1 had a set of trees per connection (see [`migrate`]), 2 has
/// shared trees keyed by connection prefix.
pub const FORMAT: u64 = 2;
/// The default tree's key holding the layout version (`u64` big endian; absent: 1).
const FORMAT_KEY: &[u8] = b"format";
/// Keys of a migration's batches: a tree's content moves in batches of this many entries.
const MIGRATION_BATCH: usize = 10_000;

/// The shared trees, and the key prefix of the connection they are used for.
#[derive(Clone)]
struct Trees {
    records: sled::Tree,
    changes: sled::Tree,
    meta: sled::Tree,
    state: sled::Tree,
    seen: sled::Tree,
    runs: sled::Tree,
    /// `C kind \0 key` -> the link's JSON.
    links: sled::Tree,
    /// `C` + sequence number (u64, big-endian) -> the audit entry's JSON.
    audit: sled::Tree,
    /// The connection's prefix (`C`, empty until [`Trees::of`]).
    prefix: Vec<u8>,
}

impl Trees {
    fn open(db: &sled::Db) -> anyhow::Result<Trees> {
        let open = |name: &str| {
            db.open_tree(name)
                .with_context(|| format!("cannot open the record store's `{name}` tree"))
        };
        Ok(Trees {
            records: open("records")?,
            changes: open("changes")?,
            meta: open("meta")?,
            state: open("state")?,
            seen: open("seen")?,
            runs: open("runs")?,
            links: open("links")?,
            audit: open("audit")?,
            prefix: Vec::new(),
        })
    }

    /// The shared tree of `kind` (its name: `records`, `changes`, ...).
    fn by_kind(&self, kind: &str) -> Option<&sled::Tree> {
        Some(match kind {
            "records" => &self.records,
            "changes" => &self.changes,
            "meta" => &self.meta,
            "state" => &self.state,
            "seen" => &self.seen,
            "runs" => &self.runs,
            "links" => &self.links,
            "audit" => &self.audit,
            _ => return None,
        })
    }

    /// The trees, for `connection`'s keys.
    fn of(&self, connection: &str) -> Trees {
        Trees {
            prefix: connection_prefix(connection),
            ..self.clone()
        }
    }

    /// `C key`.
    fn key(&self, key: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + key.len());
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(key);
        k
    }

    /// `C u64`.
    fn seq_key(&self, seq: u64) -> Vec<u8> {
        self.key(&seq.to_be_bytes())
    }

    /// The `u64` at the end of a `C u64` key.
    fn seq_of(&self, key: &[u8]) -> anyhow::Result<u64> {
        seq_of_key(key.get(self.prefix.len()..).unwrap_or_default())
    }
}

/// `C`: the id's length (`u32` big endian), then its bytes.
fn connection_prefix(connection: &str) -> Vec<u8> {
    let len = u32::try_from(connection.len()).expect("a connection id is shorter than 4 GiB");
    let mut k = Vec::with_capacity(4 + connection.len());
    k.extend_from_slice(&len.to_be_bytes());
    k.extend_from_slice(connection.as_bytes());
    k
}

/// The sled record store.
#[derive(Clone)]
pub struct SledStore {
    db: sled::Db,
    trees: Trees,
    flush_each_commit: bool,
}

impl SledStore {
    /// Opens (or creates) the store in directory `path`, moving a store of the previous
    /// layout (a set of trees per connection) into the shared trees first; refuses a store of
    /// a newer layout than this binary knows.
    pub fn open(path: &Path) -> anyhow::Result<SledStore> {
        crate::compact::check_not_interrupted(path)?;
        let db = sled::open(path).with_context(|| {
            format!(
                "cannot open the record store at `{}` (is another psahost using it?)",
                path.display()
            )
        })?;
        let store = SledStore::from_db(db, true)?;
        // On a thread that ends: dropping a layout-1 tree copies sled's map of tree names,
        // and the old copies wait in the dropping thread's garbage bag until it ends (see
        // `Trees` on creating trees).
        std::thread::scope(|s| {
            std::thread::Builder::new()
                .name("psahost-sled-migrate".into())
                .spawn_scoped(s, || migrate(&store.db, &store.trees))
                .map_err(|e| anyhow!("cannot start a thread to migrate the store: {e}"))?
                .join()
                .map_err(|_| anyhow!("migrating the record store panicked"))?
        })
        .with_context(|| format!("cannot open the record store at `{}`", path.display()))?;
        Ok(store)
    }

    /// A store in memory only (tests, one-off commands).
    pub fn temporary() -> anyhow::Result<SledStore> {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .context("cannot create a temporary record store")?;
        let store = SledStore::from_db(db, false)?;
        migrate(&store.db, &store.trees)?;
        Ok(store)
    }

    fn from_db(db: sled::Db, flush_each_commit: bool) -> anyhow::Result<SledStore> {
        Ok(SledStore {
            trees: Trees::open(&db)?,
            db,
            flush_each_commit,
        })
    }

    /// Runs `f` with the connection's trees on the blocking pool.
    fn blocking<T: Send + 'static>(
        &self,
        connection: &str,
        f: impl FnOnce(&SledStore, Trees) -> anyhow::Result<T> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let this = self.clone();
        let trees = self.trees.of(connection);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || f(&this, trees))
                .await
                .map_err(|e| anyhow!("a record store task failed: {e}"))?
        })
    }
}

/// Brings the store to layout [`FORMAT`].
///
/// Layout 1 (psahost before the shared trees) kept eight trees per connection `C`, named
/// `records/C`, `changes/C`, `meta/C`, `state/C`, `seen/C`, `runs/C`, `links/C` and `audit/C`,
/// with the keys and values of the shared trees' table in the module documentation without
/// the leading `C` (`records/C`: `E \0 id`; `changes/C`: `u64` seq; `meta/C`: `seq`; and so
/// on), and no `format` key. Each such tree's entries move into the shared tree of its kind
/// under the connection's prefix, in batches of [`MIGRATION_BATCH`] (each batch atomic); the
/// store is flushed, and only then the old tree is dropped. A migration interrupted at any
/// point runs again at the next open: a key moved twice is written twice with the same
/// value, so nothing is duplicated (a change keeps its number, the sequence its last value).
/// The `format` key is written when no layout-1 tree is left.
fn migrate(db: &sled::Db, trees: &Trees) -> anyhow::Result<()> {
    let version = match db.get(FORMAT_KEY)? {
        Some(v) => u64::from_be_bytes(
            v.as_ref()
                .try_into()
                .map_err(|_| anyhow!("the store's layout version is damaged"))?,
        ),
        None => 1,
    };
    if version > FORMAT {
        return Err(anyhow!(
            "the store has layout version {version}, newer than this psahost knows ({FORMAT}): \
             run the newer psahost that wrote it, or point `data-dir` elsewhere"
        ));
    }
    if version == FORMAT {
        return Ok(());
    }
    let old_trees: Vec<(sled::IVec, String, String)> = db
        .tree_names()
        .into_iter()
        .filter_map(|name| {
            let (kind, connection) = std::str::from_utf8(&name).ok()?.split_once('/')?;
            trees.by_kind(kind)?;
            let (kind, connection) = (kind.to_string(), connection.to_string());
            Some((name, kind, connection))
        })
        .collect();
    let started = std::time::Instant::now();
    if !old_trees.is_empty() {
        // Seconds for thousands of connections, before the daemon is ready: say why.
        tracing::info!(
            trees = old_trees.len(),
            "moving the record store to layout {FORMAT} (shared trees), once"
        );
    }
    for (name, kind, connection) in &old_trees {
        let target = trees.by_kind(kind).expect("kept above");
        let old = db.open_tree(name)?;
        move_prefixed(&old, target, &connection_prefix(connection))
            .with_context(|| format!("cannot migrate the store's tree `{kind}/{connection}`"))?;
        db.flush()?;
        db.drop_tree(name)?;
    }
    db.insert(FORMAT_KEY, &FORMAT.to_be_bytes()[..])?;
    db.flush()?;
    if !old_trees.is_empty() {
        tracing::info!(
            trees = old_trees.len(),
            seconds = started.elapsed().as_secs_f64(),
            "the record store is at layout {FORMAT}"
        );
    }
    Ok(())
}

/// Copies every entry of `from` into `to` with `prefix` before its key, in atomic batches.
fn move_prefixed(from: &sled::Tree, to: &sled::Tree, prefix: &[u8]) -> sled::Result<()> {
    let mut batch = sled::Batch::default();
    let mut n = 0;
    for item in from.iter() {
        let (k, v) = item?;
        let mut key = Vec::with_capacity(prefix.len() + k.len());
        key.extend_from_slice(prefix);
        key.extend_from_slice(&k);
        batch.insert(key, v);
        n += 1;
        if n == MIGRATION_BATCH {
            to.apply_batch(std::mem::take(&mut batch))?;
            n = 0;
        }
    }
    to.apply_batch(batch)
}

impl Trees {
    /// The `meta` key of an entity's sweep start (`C sweep-start \0 E`): the connection's last
    /// sequence number when its current full sweep began.
    fn sweep_key(&self, entity: Entity) -> Vec<u8> {
        let mut k = self.key(b"sweep-start\0");
        k.extend_from_slice(entity.name().as_bytes());
        k
    }

    /// `C kind \0 key`.
    fn link_key(&self, kind: &str, key: &str) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + kind.len() + 1 + key.len());
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(kind.as_bytes());
        k.push(0);
        k.extend_from_slice(key.as_bytes());
        k
    }

    /// `C E \0 id`.
    fn record_key(&self, entity: Entity, id: &str) -> Vec<u8> {
        let mut k = self.entity_prefix(entity);
        k.extend_from_slice(id.as_bytes());
        k
    }

    /// `C E \0`.
    fn entity_prefix(&self, entity: Entity) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + entity.name().len() + 1);
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(entity.name().as_bytes());
        k.push(0);
        k
    }
}

/// The sequence number of an audit key (without its connection prefix).
fn seq_of_key(key: &[u8]) -> anyhow::Result<u64> {
    let bytes: [u8; 8] = key
        .try_into()
        .map_err(|_| anyhow!("a stored audit key is damaged"))?;
    Ok(u64::from_be_bytes(bytes))
}

fn id_of_key(key: &[u8], prefix_len: usize) -> String {
    String::from_utf8_lossy(&key[prefix_len..]).into_owned()
}

fn encode_record(hash: &[u8; 32], seq: u64, at: OffsetDateTime, json: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(HEADER + json.len());
    v.extend_from_slice(hash);
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&unix_ms(at).to_be_bytes());
    v.extend_from_slice(json);
    v
}

fn unix_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn from_unix_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn decode_record(entity: Entity, id: String, value: &[u8]) -> anyhow::Result<StoredRecord> {
    if value.len() < HEADER {
        return Err(anyhow!(
            "stored {entity} `{id}` is damaged (shorter than its header)"
        ));
    }
    let seq = u64::from_be_bytes(value[32..40].try_into().expect("8 bytes"));
    let ms = i64::from_be_bytes(value[40..48].try_into().expect("8 bytes"));
    let record: Value = serde_json::from_slice(&value[HEADER..])
        .with_context(|| format!("stored {entity} `{id}` is not JSON"))?;
    Ok(StoredRecord {
        entity,
        hash: hex::encode(&value[..32]),
        id,
        seq,
        changed_at: from_unix_ms(ms),
        record,
    })
}

fn tx_error(e: TransactionError<anyhow::Error>) -> anyhow::Error {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => anyhow!("record store: {e}"),
    }
}

fn json_bytes<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("store structures serialise")
}

/// Writes a checkpoint inside a transaction: the entity state and the run entry.
fn put_checkpoint(
    t: &Trees,
    state_tree: &TransactionalTree,
    runs: &TransactionalTree,
    entity: Entity,
    checkpoint: &Checkpoint,
) -> TxResult<()> {
    state_tree.insert(
        t.key(entity.name().as_bytes()),
        json_bytes(&checkpoint.state),
    )?;
    runs.insert(t.seq_key(checkpoint.run.id), json_bytes(&checkpoint.run))?;
    Ok(())
}

type TxResult<T> = Result<T, ConflictableTransactionError<anyhow::Error>>;

/// Appends one change to the feed inside a transaction.
fn put_change(
    t: &Trees,
    changes: &TransactionalTree,
    seq: u64,
    entity: Entity,
    id: String,
    kind: ChangeKind,
    at: OffsetDateTime,
) -> TxResult<()> {
    let c = Change {
        seq,
        entity,
        id,
        kind,
        at,
    };
    changes.insert(t.seq_key(seq), json_bytes(&c))?;
    Ok(())
}

impl RecordStore for SledStore {
    fn commit(&self, page: PageCommit) -> StoreFuture<'_, CommitOutcome> {
        let flush = self.flush_each_commit;
        let connection = page.connection.clone();
        let fut = self.blocking(&connection, move |store, t| {
            // Hash outside the transaction (it may run more than once).
            let writes: Vec<(Vec<u8>, [u8; 32], &[u8])> = page
                .upserts
                .iter()
                .map(|w| {
                    let json = w.json().as_bytes();
                    (
                        t.record_key(page.entity, &w.id),
                        record_hash(w.json()),
                        json,
                    )
                })
                .collect();
            let entity = page.entity;
            let seq_key = t.key(SEQ_KEY);
            let id_at = t.prefix.len() + entity.name().len() + 1;
            let outcome = (&t.records, &t.changes, &t.meta, &t.state, &t.seen, &t.runs)
                .transaction(|(records, changes, meta, state, seen, runs)| {
                    let now = OffsetDateTime::now_utc();
                    let mut seq = meta
                        .get(&seq_key)?
                        .map(|v| u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8])))
                        .unwrap_or(0);
                    let mut out = CommitOutcome::default();
                    let change = |seq: u64, key: &[u8], kind: ChangeKind| {
                        let id = id_of_key(key, id_at);
                        put_change(&t, changes, seq, entity, id, kind, now)
                    };
                    // A record a sweep's page creates or changes is seen through its new sequence
                    // number; one written otherwise is marked with it (see `sweep_diff`).
                    let sweep_started = meta.get(t.sweep_key(entity))?.is_some();
                    let mark = |key: &[u8]| -> TxResult<()> {
                        if page.mark_seen {
                            seen.insert(key, &[] as &[u8])?;
                        }
                        Ok(())
                    };
                    let mark_changed = |key: &[u8], seq: u64| -> TxResult<()> {
                        match (page.mark_seen, sweep_started) {
                            (true, false) => mark(key),
                            (false, true) => {
                                seen.insert(key, &seq.to_be_bytes()[..])?;
                                Ok(())
                            }
                            _ => Ok(()),
                        }
                    };
                    for (key, hash, json) in &writes {
                        let kind = match records.get(key)? {
                            Some(old) if old.len() >= 32 && old[..32] == hash[..] => {
                                out.unchanged += 1;
                                mark(key)?;
                                continue;
                            }
                            Some(old) if old.len() >= HEADER && same_json(&old[HEADER..], json) => {
                                // The same record in other words: it keeps its last change,
                                // and its new text makes the next comparison a hash's.
                                let mut restated = old.to_vec();
                                restated[..32].copy_from_slice(hash);
                                restated.truncate(HEADER);
                                restated.extend_from_slice(json);
                                records.insert(key.as_slice(), restated)?;
                                out.unchanged += 1;
                                mark(key)?;
                                continue;
                            }
                            Some(_) => {
                                out.updated += 1;
                                ChangeKind::Updated
                            }
                            None => {
                                out.created += 1;
                                ChangeKind::Created
                            }
                        };
                        seq += 1;
                        records.insert(key.as_slice(), encode_record(hash, seq, now, json))?;
                        change(seq, key, kind)?;
                        mark_changed(key, seq)?;
                    }
                    for id in &page.deletions {
                        let key = t.record_key(entity, id);
                        if records.remove(key.as_slice())?.is_some() {
                            out.deleted += 1;
                            seq += 1;
                            change(seq, &key, ChangeKind::Deleted)?;
                        }
                    }
                    meta.insert(seq_key.as_slice(), &seq.to_be_bytes()[..])?;
                    out.last_seq = seq;
                    if let Some(cp) = &page.checkpoint {
                        let mut cp = cp.clone();
                        cp.run.created += out.created;
                        cp.run.updated += out.updated;
                        cp.run.unchanged += out.unchanged;
                        cp.run.deleted += out.deleted;
                        put_checkpoint(&t, state, runs, entity, &cp)?;
                        out.run = Some(cp.run);
                    }
                    Ok(out)
                })
                .map_err(tx_error)?;
            if flush {
                store.db.flush().context("cannot flush the record store")?;
            }
            Ok(outcome)
        });
        Box::pin(fut)
    }

    fn save_run(
        &self,
        connection: &str,
        checkpoint: Checkpoint,
        clear_seen: bool,
    ) -> StoreFuture<'_, ()> {
        let flush = self.flush_each_commit;
        self.blocking(connection, move |store, t| {
            let entity = checkpoint.run.entity;
            if clear_seen {
                // Outside the transaction: a crash before the state is saved leaves the entity
                // without a sweep in progress, and the next sweep clears again.
                let prefix = t.entity_prefix(entity);
                let mut batch = sled::Batch::default();
                for key in t.seen.scan_prefix(&prefix).keys() {
                    batch.remove(key?);
                }
                t.seen.apply_batch(batch)?;
            }
            (&t.state, &t.runs, &t.meta)
                .transaction(|(state, runs, meta)| {
                    if clear_seen {
                        // Where the new sweep starts in the change feed: a record written after
                        // it was seen by the sweep (`sweep_diff`).
                        let seq = meta
                            .get(t.key(SEQ_KEY))?
                            .map_or([0; 8], |v| v.as_ref().try_into().unwrap_or([0; 8]));
                        meta.insert(t.sweep_key(entity), &seq[..])?;
                    }
                    put_checkpoint(&t, state, runs, entity, &checkpoint)
                })
                .map_err(tx_error)?;
            if flush {
                store.db.flush().context("cannot flush the record store")?;
            }
            Ok(())
        })
    }

    fn next_run_id(&self) -> StoreFuture<'_, u64> {
        let db = self.db.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                // generate_id starts at 0; run ids start at 1.
                db.generate_id()
                    .map(|id| id + 1)
                    .context("cannot allocate a run id")
            })
            .await
            .map_err(|e| anyhow!("a record store task failed: {e}"))?
        })
    }

    fn get(
        &self,
        connection: &str,
        entity: Entity,
        id: &str,
    ) -> StoreFuture<'_, Option<StoredRecord>> {
        let id = id.to_string();
        self.blocking(connection, move |_, t| {
            t.records
                .get(t.record_key(entity, &id))?
                .map(|v| decode_record(entity, id, &v))
                .transpose()
        })
    }

    fn list(
        &self,
        connection: &str,
        entity: Entity,
        query: ListQuery,
    ) -> StoreFuture<'_, RecordPage> {
        self.blocking(connection, move |_, t| {
            let prefix = t.entity_prefix(entity);
            let limit = if query.limit == 0 { 100 } else { query.limit };
            let mut upper = prefix.clone();
            *upper.last_mut().expect("prefix ends with 0") = 1;
            let start = match &query.after {
                Some(after) => {
                    let mut k = t.record_key(entity, after);
                    k.push(0); // the smallest key after `after`
                    k
                }
                None => prefix.clone(),
            };
            let mut records = Vec::new();
            let mut next = None;
            for item in t.records.range(start..upper) {
                let (key, value) = item?;
                let id = id_of_key(&key, prefix.len());
                let record = decode_record(entity, id, &value)?;
                if !super::matches(&record.record, &query) {
                    continue;
                }
                if records.len() == limit {
                    next = records.last().map(|r: &StoredRecord| r.id.clone());
                    break;
                }
                records.push(record);
            }
            Ok(RecordPage { records, next })
        })
    }

    fn count(&self, connection: &str, entity: Entity) -> StoreFuture<'_, u64> {
        self.blocking(connection, move |_, t| {
            let mut n = 0;
            for key in t.records.scan_prefix(t.entity_prefix(entity)).keys() {
                key?;
                n += 1;
            }
            Ok(n)
        })
    }

    fn changes(
        &self,
        connection: &str,
        after_seq: u64,
        limit: usize,
    ) -> StoreFuture<'_, Vec<Change>> {
        self.blocking(connection, move |_, t| {
            let Some(start) = after_seq.checked_add(1) else {
                return Ok(Vec::new());
            };
            t.changes
                .range(t.seq_key(start)..)
                .take_while(|item| {
                    item.as_ref()
                        .map_or(true, |(k, _)| k.starts_with(&t.prefix))
                })
                .take(limit)
                .map(|item| {
                    let (_, v) = item?;
                    serde_json::from_slice(&v).context("a stored change is damaged")
                })
                .collect()
        })
    }

    fn sync_state(&self, connection: &str, entity: Entity) -> StoreFuture<'_, SyncState> {
        self.blocking(connection, move |_, t| {
            match t.state.get(t.key(entity.name().as_bytes()))? {
                Some(v) => serde_json::from_slice(&v)
                    .with_context(|| format!("the stored sync state of {entity} is damaged")),
                None => Ok(SyncState::default()),
            }
        })
    }

    fn sweep_diff(&self, connection: &str, entity: Entity) -> StoreFuture<'_, SweepDiff> {
        self.blocking(connection, move |_, t| {
            let prefix = t.entity_prefix(entity);
            let mut diff = SweepDiff::default();
            // Seen: marked empty by the sweep, or written by the sweep since it started (a
            // sequence number after its start, unless marked with that number: written by a
            // commit that was not the sweep's). A sweep begun before starts were kept has none
            // (`u64::MAX`): only its marks count.
            let start = match t.meta.get(t.sweep_key(entity))? {
                Some(v) => u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8])),
                None => u64::MAX,
            };
            for item in t.records.scan_prefix(&prefix) {
                let (key, value) = item?;
                diff.stored += 1;
                let seq = value
                    .get(32..40)
                    .map_or(0, |s| u64::from_be_bytes(s.try_into().expect("8 bytes")));
                let seen = match t.seen.get(&key)? {
                    Some(mark) if mark.is_empty() => true,
                    Some(mark) if mark[..] == seq.to_be_bytes() => false,
                    _ => seq > start,
                };
                if !seen {
                    diff.unseen.push(id_of_key(&key, prefix.len()));
                }
            }
            Ok(diff)
        })
    }

    fn run(&self, connection: &str, id: u64) -> StoreFuture<'_, Option<RunRecord>> {
        self.blocking(connection, move |_, t| {
            t.runs
                .get(t.seq_key(id))?
                .map(|v| serde_json::from_slice(&v).context("a stored run is damaged"))
                .transpose()
        })
    }

    fn runs(&self, connection: &str, limit: usize) -> StoreFuture<'_, Vec<RunRecord>> {
        self.blocking(connection, move |_, t| {
            t.runs
                .scan_prefix(&t.prefix)
                .rev()
                .take(limit)
                .map(|item| {
                    let (_, v) = item?;
                    serde_json::from_slice(&v).context("a stored run is damaged")
                })
                .collect()
        })
    }

    fn set_link(
        &self,
        connection: &str,
        kind: &str,
        key: &str,
        link: Option<Value>,
    ) -> StoreFuture<'_, bool> {
        let (kind, key) = (kind.to_string(), key.to_string());
        self.blocking(connection, move |store, t| {
            let at = t.link_key(&kind, &key);
            let before = match link {
                Some(link) => t.links.insert(at, json_bytes(&link))?,
                None => t.links.remove(at)?,
            };
            if store.flush_each_commit {
                t.links.flush()?;
            }
            Ok(before.is_some())
        })
    }

    fn links(
        &self,
        connection: &str,
        kind: &str,
        after: Option<String>,
        limit: usize,
    ) -> StoreFuture<'_, Vec<(String, Value)>> {
        let kind = kind.to_string();
        self.blocking(connection, move |_, t| {
            let prefix = t.link_key(&kind, "");
            let limit = if limit == 0 { 100 } else { limit };
            let start = match &after {
                Some(after) => {
                    let mut k = prefix.clone();
                    k.extend_from_slice(after.as_bytes());
                    k.push(0); // the smallest key after `after`
                    k
                }
                None => prefix.clone(),
            };
            let mut upper = prefix.clone();
            *upper.last_mut().expect("prefix ends with 0") = 1;
            t.links
                .range(start..upper)
                .take(limit)
                .map(|item| {
                    let (k, v) = item?;
                    let link = serde_json::from_slice(&v).context("a stored link is damaged")?;
                    Ok((id_of_key(&k, prefix.len()), link))
                })
                .collect()
        })
    }

    fn get_link(&self, connection: &str, kind: &str, key: &str) -> StoreFuture<'_, Option<Value>> {
        let (kind, key) = (kind.to_string(), key.to_string());
        self.blocking(connection, move |_, t| {
            t.links
                .get(t.link_key(&kind, &key))?
                .map(|v| serde_json::from_slice(&v).context("a stored link is damaged"))
                .transpose()
        })
    }

    fn append_audit(&self, connection: &str, entry: Value) -> StoreFuture<'_, u64> {
        self.blocking(connection, move |store, t| {
            let body = json_bytes(&entry);
            // The next number is the last key plus one; a compare-and-swap on that key makes
            // two appends at once take different numbers.
            loop {
                let seq = match t.audit.scan_prefix(&t.prefix).next_back().transpose()? {
                    Some((k, _)) => t.seq_of(&k)? + 1,
                    None => 1,
                };
                let swapped =
                    t.audit
                        .compare_and_swap(t.seq_key(seq), None::<&[u8]>, Some(&body[..]))?;
                if swapped.is_ok() {
                    if store.flush_each_commit {
                        t.audit.flush()?;
                    }
                    return Ok(seq);
                }
            }
        })
    }

    fn audit(
        &self,
        connection: &str,
        after_seq: u64,
        limit: usize,
    ) -> StoreFuture<'_, Vec<(u64, Value)>> {
        self.blocking(connection, move |_, t| {
            let limit = if limit == 0 { 100 } else { limit };
            let Some(start) = after_seq.checked_add(1) else {
                return Ok(Vec::new());
            };
            t.audit
                .range(t.seq_key(start)..)
                .take_while(|item| {
                    item.as_ref()
                        .map_or(true, |(k, _)| k.starts_with(&t.prefix))
                })
                .take(limit)
                .map(|item| {
                    let (k, v) = item?;
                    let entry =
                        serde_json::from_slice(&v).context("a stored audit entry is damaged")?;
                    Ok((t.seq_of(&k)?, entry))
                })
                .collect()
        })
    }

    fn flush(&self) -> StoreFuture<'_, ()> {
        let db = self.db.clone();
        Box::pin(async move {
            db.flush_async()
                .await
                .context("cannot flush the record store")?;
            Ok(())
        })
    }
}
