//! The PostgreSQL [`RecordStore`]: the store several psahost processes can share.
//!
//! Same guarantees as [`crate::SledStore`] (see the crate documentation), kept by PostgreSQL
//! transactions (read committed):
//! - [`RecordStore::commit`] is one transaction: it locks the connection's row in
//!   `connections` (which holds the last sequence number), reads the stored hashes of the
//!   page's ids, then writes the changed records, their change events, the seen ids, the new
//!   last sequence number and the checkpoint, and commits. Commits of one connection (of any
//!   entity) are serialised by that row lock, so the numbers are gapless, in commit order, and a
//!   reader of the feed never sees a number whose predecessors are not visible yet. A commit
//!   that fails or whose future is dropped rolls back entirely, numbers included.
//! - Run ids come from a PostgreSQL sequence (unique and increasing across every process
//!   sharing the database; a rolled-back allocation leaves a gap, which run ids allow).
//! - A commit is durable when it returns (PostgreSQL's `synchronous_commit`); `flush` has
//!   nothing left to do.
//!
//! The schema and its migrations are in [`schema`]; the store applies them when it connects.

mod kv;
mod leases;
mod schema;
mod tls;

pub use leases::{Lease, StaleLease};
pub use schema::SCHEMA_VERSION;

use super::{
    Change, ChangeKind, Checkpoint, CommitOutcome, ListQuery, PageCommit, RecordPage, RecordStore,
    RunRecord, StoreFuture, StoredRecord, SweepDiff, SyncState,
};
use crate::Entity;
use anyhow::{Context, anyhow, bail};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Transaction};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration;
use time::OffsetDateTime;
use tokio_postgres::NoTls;
use tokio_postgres::config::SslMode;

/// How [`PgStore::connect`] uses the database.
#[derive(Clone, Debug)]
pub struct PgOptions {
    /// The schema holding the store's tables (created if missing); none: the connection's
    /// search path (normally `public`). Lower-case letters, digits and `_`.
    pub schema: Option<String>,
    /// The most connections the store opens at once.
    pub max_connections: usize,
    /// With `sslmode=require`: a PEM file of the CA certificates that sign the server's
    /// certificate (else the public roots compiled in); see [`tls`].
    pub ca_file: Option<std::path::PathBuf>,
}

impl Default for PgOptions {
    fn default() -> PgOptions {
        PgOptions {
            schema: None,
            max_connections: 16,
            ca_file: None,
        }
    }
}

/// The PostgreSQL record store (a pool of connections; cheap to clone).
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// The leases this replica writes under, by connection (see [`leases`]).
    fences: std::sync::Arc<std::sync::Mutex<HashMap<String, leases::Fence>>>,
    /// Set by [`PgStore::require_leases`]: the replica whose writes need a lease.
    replica: std::sync::Arc<std::sync::OnceLock<String>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

/// An error and its sources, at most 2,000 bytes: the pool's error names only its own layer, the
/// cause (a refused certificate, an unreachable host) is in its sources.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.ends_with(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    if text.len() > 2000 {
        let mut end = 2000;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// Is `schema` a plain lower-case SQL identifier?
fn valid_schema(schema: &str) -> bool {
    !schema.is_empty()
        && schema.len() <= 63
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !schema.as_bytes()[0].is_ascii_digit()
        && !schema.starts_with("pg_")
}

impl PgStore {
    /// Connects to the database at `url` (a `postgresql://` URL or `key=value` pairs, as libpq
    /// takes them) and brings its schema to [`SCHEMA_VERSION`]. Refuses a database migrated by a
    /// newer psahost. Error messages never contain the URL (it may hold a password).
    pub async fn connect(url: &str, options: PgOptions) -> anyhow::Result<PgStore> {
        let mut config = PgStore::check(url, &options)?;
        // Custom plans only: a statement prepared while a table was small (a new store) would
        // otherwise keep a generic plan that scans it (measured: a page's hash lookup went
        // from 1 ms to 100 ms and more as the table grew); planning is cheap next to that.
        let mut session = String::from("-c plan_cache_mode=force_custom_plan");
        if let Some(schema) = &options.schema {
            session.push_str(&format!(" -c search_path={schema}"));
        }
        let session = match config.get_options() {
            Some(o) if !o.is_empty() => format!("{o} {session}"),
            _ => session,
        };
        config.options(session);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("psahost");
        }
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = if config.get_ssl_mode() == SslMode::Require {
            let tls = tls::connector(options.ca_file.as_deref())?;
            Manager::from_config(config, tls, manager_config)
        } else {
            Manager::from_config(config, NoTls, manager_config)
        };
        let pool = Pool::builder(manager)
            .max_size(options.max_connections.max(1))
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(Duration::from_secs(15)))
            .wait_timeout(Some(Duration::from_secs(60)))
            .build()
            .context("cannot make the PostgreSQL connection pool")?;
        let mut client = pool.get().await.map_err(|e| {
            let e = error_chain(&e);
            anyhow!(
                "cannot connect to the PostgreSQL record store: {e}{}",
                tls::hint(&e)
            )
        })?;
        schema::migrate(&mut client, options.schema.as_deref()).await?;
        drop(client);
        Ok(PgStore {
            pool,
            fences: Default::default(),
            replica: Default::default(),
        })
    }

    /// Checks a connection string and options without connecting (configuration validation).
    /// The messages never contain the connection string.
    pub fn check(url: &str, options: &PgOptions) -> anyhow::Result<tokio_postgres::Config> {
        let config = tokio_postgres::Config::from_str(url).map_err(|e| {
            anyhow!("the PostgreSQL connection string is not valid ({e}); expected postgresql://user:password@host:port/database or key=value pairs")
        })?;
        if let Some(schema) = &options.schema
            && !valid_schema(schema)
        {
            bail!(
                "`{schema}` is not a schema name psahost uses: lower-case letters, digits and `_`, not starting with a digit or `pg_`"
            );
        }
        if let Some(ca_file) = &options.ca_file {
            if config.get_ssl_mode() != SslMode::Require {
                bail!(
                    "a CA file is used only with TLS: add `sslmode=require` to the connection string, or remove the CA file"
                );
            }
            tls::read_ca_file(ca_file)?;
        }
        Ok(config)
    }

    async fn client(&self) -> anyhow::Result<deadpool_postgres::Object> {
        self.pool
            .get()
            .await
            .map_err(|e| anyhow!("cannot reach the PostgreSQL record store: {e}"))
    }

    /// The schema version of the database (from `schema_version`).
    pub async fn schema_version(&self) -> anyhow::Result<i32> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT coalesce(max(version), 0)::integer FROM schema_version",
                &[],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn commit_page(&self, page: PageCommit) -> anyhow::Result<CommitOutcome> {
        let entity = page.entity.name();
        // Serialise, hash and read `updated-at` before the transaction.
        let writes: Vec<Prepared> = page.upserts.iter().map(Prepared::new).collect();
        let mut lookup: Vec<&str> = writes.iter().map(|w| w.id).collect();
        lookup.extend(page.deletions.iter().map(String::as_str));
        lookup.sort_unstable();
        lookup.dedup();

        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut seq = lock_connection(&tx, &page.connection).await?;
        if let Some(fence) = self.fence_of(&page.connection) {
            leases::check_fence(&tx, &page.connection, &fence).await?;
        }
        let first_seq = seq;
        // One primary-key probe per id (a correlated subquery stays a per-row index lookup
        // whatever the statistics; `id = ANY($3)` was planned as a scan of the whole entity
        // while the statistics still described a small table, 100 ms a page at 50,000 rows).
        let stored = tx
            .query(
                &tx.prepare_cached(
                    "SELECT u.id, (SELECT r.hash FROM records r
                                   WHERE r.connection = $1 AND r.entity = $2 AND r.id = u.id)
                     FROM unnest($3::text[]) AS u(id)",
                )
                .await?,
                &[&page.connection, &entity, &lookup],
            )
            .await?;
        // The hash of every id as the page goes along (none: absent).
        let mut current: HashMap<String, Option<Vec<u8>>> = stored
            .iter()
            .filter_map(|r| Some((r.get::<_, String>(0), Some(r.get::<_, Option<Vec<u8>>>(1)?))))
            .collect();
        let existed: HashSet<String> = current.keys().cloned().collect();
        let restated = restated(&tx, &page.connection, entity, &writes, &current).await?;
        let now = micros(OffsetDateTime::now_utc());
        let mut out = CommitOutcome::default();
        // The final write of each id (None: deleted), and the events in order.
        let mut last: HashMap<&str, Option<(u64, &Prepared)>> = HashMap::new();
        let mut events: Vec<(u64, &str, ChangeKind)> = Vec::new();
        // Records written in other words: their new text, without a change.
        let mut rewrites: HashMap<&str, &Prepared> = HashMap::new();
        for w in &writes {
            let kind = match current.get(w.id) {
                Some(Some(h)) if h[..] == w.hash[..] => {
                    out.unchanged += 1;
                    continue;
                }
                Some(Some(h)) if restated.contains(&(w.id, hash_of(h), w.hash)) => {
                    out.unchanged += 1;
                    current.insert(w.id.to_string(), Some(w.hash.to_vec()));
                    rewrites.insert(w.id, w);
                    continue;
                }
                Some(Some(_)) => {
                    out.updated += 1;
                    ChangeKind::Updated
                }
                _ => {
                    out.created += 1;
                    ChangeKind::Created
                }
            };
            seq += 1;
            current.insert(w.id.to_string(), Some(w.hash.to_vec()));
            last.insert(w.id, Some((seq, w)));
            events.push((seq, w.id, kind));
        }
        for id in &page.deletions {
            if let Some(Some(_)) = current.get(id) {
                out.deleted += 1;
                seq += 1;
                current.insert(id.clone(), None);
                last.insert(id, None);
                events.push((seq, id, ChangeKind::Deleted));
            }
        }
        // A later write or deletion of the page replaces a restatement.
        rewrites.retain(|id, _| !last.contains_key(id));

        let mut up_ids = Vec::new();
        let mut up_hashes = Vec::new();
        let mut up_seqs = Vec::new();
        let mut up_updated = Vec::new();
        let mut up_bodies = Vec::new();
        let mut deleted = Vec::new();
        for (id, write) in &last {
            match write {
                Some((s, w)) => {
                    up_ids.push(*id);
                    up_hashes.push(&w.hash[..]);
                    up_seqs.push(*s as i64);
                    up_updated.push(w.updated_at);
                    up_bodies.push(w.json);
                }
                None if existed.contains(*id) => deleted.push(*id),
                None => {}
            }
        }
        out.last_seq = seq;
        let checkpoint = page.checkpoint.as_ref().map(|cp| {
            let mut cp = cp.clone();
            cp.run.created += out.created;
            cp.run.updated += out.updated;
            cp.run.unchanged += out.unchanged;
            cp.run.deleted += out.deleted;
            cp
        });
        let mut seen_ids: Vec<&str> = Vec::new();
        if page.mark_seen {
            seen_ids = writes.iter().map(|w| w.id).collect();
            seen_ids.sort_unstable();
            seen_ids.dedup();
        }
        let seqs: Vec<i64> = events.iter().map(|e| e.0 as i64).collect();
        let event_ids: Vec<&str> = events.iter().map(|e| e.1).collect();
        let kinds: Vec<&str> = events.iter().map(|e| kind_name(e.2)).collect();
        let connection = &page.connection;
        let last_seq = seq as i64;
        // The writes are independent: sent together (tokio-postgres pipelines the statements
        // of concurrent futures on one connection), executed in order by the server.
        let upsert = async {
            if up_ids.is_empty() {
                return Ok(());
            }
            let st = tx
                .prepare_cached(
                    "INSERT INTO records (connection, entity, id, hash, seq, changed_at, updated_at, body)
                     SELECT $1, $2, u.id, u.hash, u.seq, $3, u.updated_at, u.body
                     FROM unnest($4::text[], $5::bytea[], $6::int8[], $7::timestamptz[], $8::text[])
                          AS u(id, hash, seq, updated_at, body)
                     ON CONFLICT (connection, entity, id) DO UPDATE SET
                         hash = excluded.hash, seq = excluded.seq, changed_at = excluded.changed_at,
                         updated_at = excluded.updated_at, body = excluded.body",
                )
                .await?;
            tx.execute(
                &st,
                &[
                    connection,
                    &entity,
                    &now,
                    &up_ids,
                    &up_hashes,
                    &up_seqs,
                    &up_updated,
                    &up_bodies,
                ],
            )
            .await
            .context("cannot write the page's records")?;
            anyhow::Ok(())
        };
        let restate = async {
            if rewrites.is_empty() {
                return Ok(());
            }
            let ids: Vec<&str> = rewrites.keys().copied().collect();
            let hashes: Vec<&[u8]> = rewrites.values().map(|w| &w.hash[..]).collect();
            let bodies: Vec<&str> = rewrites.values().map(|w| w.json).collect();
            let st = tx
                .prepare_cached(
                    "UPDATE records r SET hash = u.hash, body = u.body
                     FROM unnest($3::text[], $4::bytea[], $5::text[]) AS u(id, hash, body)
                     WHERE r.connection = $1 AND r.entity = $2 AND r.id = u.id",
                )
                .await?;
            tx.execute(&st, &[connection, &entity, &ids, &hashes, &bodies])
                .await
                .context("cannot write the page's restated records")?;
            anyhow::Ok(())
        };
        let delete = async {
            if deleted.is_empty() {
                return Ok(());
            }
            let st = tx
                .prepare_cached(
                    "DELETE FROM records WHERE connection = $1 AND entity = $2 AND id = ANY($3::text[])",
                )
                .await?;
            tx.execute(&st, &[connection, &entity, &deleted]).await?;
            anyhow::Ok(())
        };
        let feed = async {
            if events.is_empty() {
                return Ok(());
            }
            let st = tx
                .prepare_cached(
                    "INSERT INTO changes (connection, seq, entity, id, kind, at)
                     SELECT $1, u.seq, $2, u.id, u.kind, $3
                     FROM unnest($4::int8[], $5::text[], $6::text[]) AS u(seq, id, kind)",
                )
                .await?;
            tx.execute(&st, &[connection, &entity, &now, &seqs, &event_ids, &kinds])
                .await
                .context("cannot write the page's change events")?;
            let st = tx
                .prepare_cached("UPDATE connections SET last_seq = $2 WHERE connection = $1")
                .await?;
            tx.execute(&st, &[connection, &last_seq]).await?;
            anyhow::Ok(())
        };
        let seen = async {
            if seen_ids.is_empty() {
                return Ok(());
            }
            let st = tx
                .prepare_cached(
                    "INSERT INTO seen (connection, entity, id)
                     SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING",
                )
                .await?;
            tx.execute(&st, &[connection, &entity, &seen_ids]).await?;
            anyhow::Ok(())
        };
        let state = async {
            match &checkpoint {
                Some(cp) => put_checkpoint(&tx, connection, page.entity, cp).await,
                None => Ok(()),
            }
        };
        tokio::try_join!(upsert, restate, delete, feed, seen, state)?;
        out.run = checkpoint.map(|cp| cp.run);
        tx.commit()
            .await
            .context("cannot commit the page to the PostgreSQL record store")?;
        debug_assert!(seq >= first_seq);
        Ok(out)
    }

    async fn save_run_tx(
        &self,
        connection: &str,
        checkpoint: Checkpoint,
        clear_seen: bool,
    ) -> anyhow::Result<()> {
        let entity = checkpoint.run.entity;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        lock_connection(&tx, connection).await?;
        if let Some(fence) = self.fence_of(connection) {
            leases::check_fence(&tx, connection, &fence).await?;
        }
        if clear_seen {
            let st = tx
                .prepare_cached("DELETE FROM seen WHERE connection = $1 AND entity = $2")
                .await?;
            tx.execute(&st, &[&connection, &entity.name()]).await?;
        }
        put_checkpoint(&tx, connection, entity, &checkpoint).await?;
        tx.commit()
            .await
            .context("cannot save the run to the PostgreSQL record store")?;
        Ok(())
    }

    async fn list_records(
        &self,
        connection: &str,
        entity: Entity,
        query: ListQuery,
    ) -> anyhow::Result<RecordPage> {
        let limit = if query.limit == 0 { 100 } else { query.limit };
        // Field filters are applied here, as sled does; rows come in id-ordered batches.
        let batch: i64 = if query.equals.is_empty() {
            limit as i64 + 1
        } else {
            (limit as i64 + 1).max(500)
        };
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT id, hash, seq, changed_at, body FROM records
                 WHERE connection = $1 AND entity = $2
                   AND ($3::text IS NULL OR id > $3::text)
                   AND ($4::timestamptz IS NULL OR updated_at >= $4::timestamptz)
                 ORDER BY id LIMIT $5",
            )
            .await?;
        let mut after = query.after.clone();
        let mut records: Vec<StoredRecord> = Vec::new();
        loop {
            let rows = client
                .query(
                    &st,
                    &[
                        &connection,
                        &entity.name(),
                        &after,
                        &query.updated_since,
                        &batch,
                    ],
                )
                .await?;
            let full = rows.len() as i64 == batch;
            for row in &rows {
                let record = decode_record(entity, row)?;
                after = Some(record.id.clone());
                if !super::matches(&record.record, &query) {
                    continue;
                }
                if records.len() == limit {
                    let next = records.last().map(|r| r.id.clone());
                    return Ok(RecordPage { records, next });
                }
                records.push(record);
            }
            if !full {
                return Ok(RecordPage {
                    records,
                    next: None,
                });
            }
        }
    }
}

/// A record ready to write.
struct Prepared<'a> {
    id: &'a str,
    hash: [u8; 32],
    json: &'a str,
    updated_at: Option<OffsetDateTime>,
}

impl Prepared<'_> {
    fn new(w: &crate::RecordWrite) -> Prepared<'_> {
        /// The one field the table keeps beside the text (the other fields are skipped, not
        /// built).
        #[derive(serde::Deserialize)]
        struct UpdatedAt<'a> {
            #[serde(rename = "updated-at", borrow)]
            updated_at: Option<std::borrow::Cow<'a, str>>,
        }
        let updated_at = serde_json::from_str::<UpdatedAt<'_>>(w.json())
            .ok()
            .and_then(|u| u.updated_at)
            .and_then(|s| super::parse_time(&s).ok());
        Prepared {
            id: &w.id,
            hash: super::record_hash(w.json()),
            json: w.json(),
            updated_at,
        }
    }
}

/// A stored hash as an array (a damaged one as zeros: it then matches nothing).
fn hash_of(h: &[u8]) -> [u8; 32] {
    h.try_into().unwrap_or([0; 32])
}

/// The (id, stored hash, new hash) of the page's records whose text differs from the stored one
/// but holds the same JSON value (`same_json`). The stored texts are read only for the records
/// whose hash differs: none in a page of unchanged records.
async fn restated<'a>(
    tx: &Transaction<'_>,
    connection: &str,
    entity: &str,
    writes: &[Prepared<'a>],
    current: &HashMap<String, Option<Vec<u8>>>,
) -> anyhow::Result<HashSet<(&'a str, [u8; 32], [u8; 32])>> {
    let differing: Vec<&Prepared<'a>> = writes
        .iter()
        .filter(|w| matches!(current.get(w.id), Some(Some(h)) if h[..] != w.hash[..]))
        .collect();
    if differing.is_empty() {
        return Ok(HashSet::new());
    }
    let mut ids: Vec<&str> = differing.iter().map(|w| w.id).collect();
    ids.sort_unstable();
    ids.dedup();
    // Per-id probes, as the hash lookup of `commit_page` (see there).
    let rows = tx
        .query(
            &tx.prepare_cached(
                "SELECT u.id, (SELECT r.body FROM records r
                               WHERE r.connection = $1 AND r.entity = $2 AND r.id = u.id)
                 FROM unnest($3::text[]) AS u(id)",
            )
            .await?,
            &[&connection, &entity, &ids],
        )
        .await
        .context("cannot read the stored records the page changes")?;
    let stored: HashMap<String, String> = rows
        .iter()
        .filter_map(|r| Some((r.get::<_, String>(0), r.get::<_, Option<String>>(1)?)))
        .collect();
    let mut out = HashSet::new();
    for w in differing {
        if let (Some(body), Some(Some(h))) = (stored.get(w.id), current.get(w.id))
            && super::same_json(body.as_bytes(), w.json.as_bytes())
        {
            out.insert((w.id, hash_of(h), w.hash));
        }
    }
    Ok(out)
}

/// Locks the connection's row (creating it) and returns its last sequence number. Every write
/// transaction of a connection begins here (see [`schema`] for the later lease epoch check).
async fn lock_connection(tx: &Transaction<'_>, connection: &str) -> anyhow::Result<u64> {
    let st = tx
        .prepare_cached(
            "INSERT INTO connections (connection) VALUES ($1)
             ON CONFLICT (connection) DO UPDATE SET last_seq = connections.last_seq
             RETURNING last_seq",
        )
        .await?;
    let last: i64 = tx
        .query_one(&st, &[&connection])
        .await
        .with_context(|| format!("cannot lock connection `{connection}` in the record store"))?
        .get(0);
    Ok(last as u64)
}

async fn put_checkpoint(
    tx: &Transaction<'_>,
    connection: &str,
    entity: Entity,
    checkpoint: &Checkpoint,
) -> anyhow::Result<()> {
    let state = serde_json::to_string(&checkpoint.state).expect("sync state serialises");
    let run = serde_json::to_string(&checkpoint.run).expect("runs serialise");
    let st = tx
        .prepare_cached(
            "INSERT INTO sync_state (connection, entity, state) VALUES ($1, $2, $3)
             ON CONFLICT (connection, entity) DO UPDATE SET state = excluded.state",
        )
        .await?;
    tx.execute(&st, &[&connection, &entity.name(), &state])
        .await?;
    let st = tx
        .prepare_cached(
            "INSERT INTO runs (connection, id, entity, status, run) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (connection, id) DO UPDATE SET
                 entity = excluded.entity, status = excluded.status, run = excluded.run",
        )
        .await?;
    tx.execute(
        &st,
        &[
            &connection,
            &(checkpoint.run.id as i64),
            &checkpoint.run.entity.name(),
            &checkpoint.run.status.name(),
            &run,
        ],
    )
    .await?;
    Ok(())
}

/// PostgreSQL keeps microseconds: times are cut to them before they are stored, so what a
/// commit returns and what a read returns agree.
fn micros(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000)
        .unwrap_or(t)
}

fn kind_name(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Created => "created",
        ChangeKind::Updated => "updated",
        ChangeKind::Deleted => "deleted",
    }
}

fn kind_of(name: &str) -> anyhow::Result<ChangeKind> {
    Ok(match name {
        "created" => ChangeKind::Created,
        "updated" => ChangeKind::Updated,
        "deleted" => ChangeKind::Deleted,
        other => bail!("a stored change has the unknown kind `{other}`"),
    })
}

/// A `records` row (id, hash, seq, changed_at, body) as a [`StoredRecord`].
fn decode_record(entity: Entity, row: &tokio_postgres::Row) -> anyhow::Result<StoredRecord> {
    let id: String = row.get(0);
    let hash: Vec<u8> = row.get(1);
    let seq: i64 = row.get(2);
    let changed_at: OffsetDateTime = row.get(3);
    let body: &str = row.get(4);
    let record: Value = serde_json::from_str(body)
        .with_context(|| format!("stored {entity} `{id}` is not JSON"))?;
    Ok(StoredRecord {
        entity,
        hash: hex::encode(hash),
        id,
        seq: seq as u64,
        changed_at,
        record,
    })
}

/// `usize` limits as SQL `LIMIT`s.
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl RecordStore for PgStore {
    fn commit(&self, page: PageCommit) -> StoreFuture<'_, CommitOutcome> {
        Box::pin(self.commit_page(page))
    }

    fn save_run(
        &self,
        connection: &str,
        checkpoint: Checkpoint,
        clear_seen: bool,
    ) -> StoreFuture<'_, ()> {
        let connection = connection.to_string();
        Box::pin(async move { self.save_run_tx(&connection, checkpoint, clear_seen).await })
    }

    fn next_run_id(&self) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let client = self.client().await?;
            let st = client.prepare_cached("SELECT nextval('run_ids')").await?;
            let id: i64 = client
                .query_one(&st, &[])
                .await
                .context("cannot allocate a run id")?
                .get(0);
            Ok(id as u64)
        })
    }

    fn get(
        &self,
        connection: &str,
        entity: Entity,
        id: &str,
    ) -> StoreFuture<'_, Option<StoredRecord>> {
        let connection = connection.to_string();
        let id = id.to_string();
        Box::pin(async move {
            let client = self.client().await?;
            let st = client
                .prepare_cached(
                    "SELECT id, hash, seq, changed_at, body FROM records
                     WHERE connection = $1 AND entity = $2 AND id = $3",
                )
                .await?;
            client
                .query_opt(&st, &[&connection, &entity.name(), &id])
                .await?
                .map(|row| decode_record(entity, &row))
                .transpose()
        })
    }

    fn list(
        &self,
        connection: &str,
        entity: Entity,
        query: ListQuery,
    ) -> StoreFuture<'_, RecordPage> {
        let connection = connection.to_string();
        Box::pin(async move { self.list_records(&connection, entity, query).await })
    }

    fn count(&self, connection: &str, entity: Entity) -> StoreFuture<'_, u64> {
        let connection = connection.to_string();
        Box::pin(async move {
            let client = self.client().await?;
            let st = client
                .prepare_cached(
                    "SELECT count(*) FROM records WHERE connection = $1 AND entity = $2",
                )
                .await?;
            let n: i64 = client
                .query_one(&st, &[&connection, &entity.name()])
                .await?
                .get(0);
            Ok(n as u64)
        })
    }

    fn changes(
        &self,
        connection: &str,
        after_seq: u64,
        limit: usize,
    ) -> StoreFuture<'_, Vec<Change>> {
        let connection = connection.to_string();
        Box::pin(async move {
            let Ok(after) = i64::try_from(after_seq) else {
                return Ok(Vec::new());
            };
            let client = self.client().await?;
            let st = client
                .prepare_cached(
                    "SELECT seq, entity, id, kind, at FROM changes
                     WHERE connection = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                )
                .await?;
            client
                .query(&st, &[&connection, &after, &sql_limit(limit)])
                .await?
                .iter()
                .map(|row| {
                    Ok(Change {
                        seq: row.get::<_, i64>(0) as u64,
                        entity: Entity::from_str(row.get(1))?,
                        id: row.get(2),
                        kind: kind_of(row.get(3))?,
                        at: row.get(4),
                    })
                })
                .collect()
        })
    }

    fn sync_state(&self, connection: &str, entity: Entity) -> StoreFuture<'_, SyncState> {
        let connection = connection.to_string();
        Box::pin(async move {
            let client = self.client().await?;
            let st = client
                .prepare_cached(
                    "SELECT state FROM sync_state WHERE connection = $1 AND entity = $2",
                )
                .await?;
            match client
                .query_opt(&st, &[&connection, &entity.name()])
                .await?
            {
                Some(row) => serde_json::from_str(row.get(0))
                    .with_context(|| format!("the stored sync state of {entity} is damaged")),
                None => Ok(SyncState::default()),
            }
        })
    }

    fn sweep_diff(&self, connection: &str, entity: Entity) -> StoreFuture<'_, SweepDiff> {
        let connection = connection.to_string();
        Box::pin(async move {
            let mut client = self.client().await?;
            // One snapshot for both answers.
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let st = tx
                .prepare_cached(
                    "SELECT count(*) FROM records WHERE connection = $1 AND entity = $2",
                )
                .await?;
            let stored: i64 = tx
                .query_one(&st, &[&connection, &entity.name()])
                .await?
                .get(0);
            let st = tx
                .prepare_cached(
                    "SELECT r.id FROM records r
                     WHERE r.connection = $1 AND r.entity = $2 AND NOT EXISTS (
                         SELECT 1 FROM seen s
                         WHERE s.connection = r.connection AND s.entity = r.entity AND s.id = r.id)
                     ORDER BY r.id",
                )
                .await?;
            let unseen = tx
                .query(&st, &[&connection, &entity.name()])
                .await?
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect();
            tx.commit().await?;
            Ok(SweepDiff {
                stored: stored as u64,
                unseen,
            })
        })
    }

    fn run(&self, connection: &str, id: u64) -> StoreFuture<'_, Option<RunRecord>> {
        let connection = connection.to_string();
        Box::pin(async move {
            let Ok(id) = i64::try_from(id) else {
                return Ok(None);
            };
            let client = self.client().await?;
            let st = client
                .prepare_cached("SELECT run FROM runs WHERE connection = $1 AND id = $2")
                .await?;
            client
                .query_opt(&st, &[&connection, &id])
                .await?
                .map(|row| serde_json::from_str(row.get(0)).context("a stored run is damaged"))
                .transpose()
        })
    }

    fn runs(&self, connection: &str, limit: usize) -> StoreFuture<'_, Vec<RunRecord>> {
        let connection = connection.to_string();
        Box::pin(async move {
            let client = self.client().await?;
            let st = client
                .prepare_cached(
                    "SELECT run FROM runs WHERE connection = $1 ORDER BY id DESC LIMIT $2",
                )
                .await?;
            client
                .query(&st, &[&connection, &sql_limit(limit)])
                .await?
                .iter()
                .map(|row| serde_json::from_str(row.get(0)).context("a stored run is damaged"))
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
        let (connection, kind, key) = (connection.to_string(), kind.to_string(), key.to_string());
        Box::pin(async move {
            let mut client = self.client().await?;
            // A fenced connection's links are written by its lease holder alone (a workflow's
            // intents and outcomes are links): lock and check as a page commit does.
            let fenced = self.fence_of(&connection);
            let tx = client.transaction().await?;
            if let Some(fence) = fenced {
                lock_connection(&tx, &connection).await?;
                leases::check_fence(&tx, &connection, &fence).await?;
            }
            let client = &tx;
            let before = match link {
                Some(link) => {
                    // `xmax <> 0` tells an update of an existing row from an insert.
                    let st = client
                        .prepare_cached(
                            "INSERT INTO links (connection, kind, key, body) VALUES ($1, $2, $3, $4)
                             ON CONFLICT (connection, kind, key) DO UPDATE SET body = EXCLUDED.body
                             RETURNING (xmax <> 0)",
                        )
                        .await?;
                    let body = serde_json::to_string(&link)?;
                    client
                        .query_one(&st, &[&connection, &kind, &key, &body])
                        .await?
                        .get::<_, bool>(0)
                }
                None => {
                    let st = client
                        .prepare_cached(
                            "DELETE FROM links WHERE connection = $1 AND kind = $2 AND key = $3",
                        )
                        .await?;
                    client.execute(&st, &[&connection, &kind, &key]).await? > 0
                }
            };
            tx.commit()
                .await
                .context("cannot write the link to the PostgreSQL record store")?;
            Ok(before)
        })
    }

    fn links(
        &self,
        connection: &str,
        kind: &str,
        after: Option<String>,
        limit: usize,
    ) -> StoreFuture<'_, Vec<(String, Value)>> {
        let (connection, kind) = (connection.to_string(), kind.to_string());
        Box::pin(async move {
            let limit = if limit == 0 { 100 } else { limit };
            let client = self.client().await?;
            let st = client
                .prepare_cached(
                    "SELECT key, body FROM links
                     WHERE connection = $1 AND kind = $2 AND ($3::text IS NULL OR key > $3)
                     ORDER BY key LIMIT $4",
                )
                .await?;
            client
                .query(&st, &[&connection, &kind, &after, &sql_limit(limit)])
                .await?
                .iter()
                .map(|row| {
                    let link =
                        serde_json::from_str(row.get(1)).context("a stored link is damaged")?;
                    Ok((row.get(0), link))
                })
                .collect()
        })
    }

    fn get_link(&self, connection: &str, kind: &str, key: &str) -> StoreFuture<'_, Option<Value>> {
        let (connection, kind, key) = (connection.to_string(), kind.to_string(), key.to_string());
        Box::pin(async move {
            let client = self.client().await?;
            let st = client
                .prepare_cached(
                    "SELECT body FROM links WHERE connection = $1 AND kind = $2 AND key = $3",
                )
                .await?;
            client
                .query_opt(&st, &[&connection, &kind, &key])
                .await?
                .map(|row| serde_json::from_str(row.get(0)).context("a stored link is damaged"))
                .transpose()
        })
    }

    fn append_audit(&self, connection: &str, entry: Value) -> StoreFuture<'_, u64> {
        let connection = connection.to_string();
        Box::pin(async move {
            let body = serde_json::to_string(&entry)?;
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            lock_connection(&tx, &connection).await?;
            if let Some(fence) = self.fence_of(&connection) {
                leases::check_fence(&tx, &connection, &fence).await?;
            }
            let st = tx
                .prepare_cached(
                    "INSERT INTO audit (connection, seq, body)
                     SELECT $1, coalesce(max(seq), 0) + 1, $2 FROM audit WHERE connection = $1
                     RETURNING seq",
                )
                .await?;
            let seq: i64 = tx.query_one(&st, &[&connection, &body]).await?.get(0);
            tx.commit()
                .await
                .context("cannot append to the audit trail in the PostgreSQL record store")?;
            Ok(seq as u64)
        })
    }

    fn audit(
        &self,
        connection: &str,
        after_seq: u64,
        limit: usize,
    ) -> StoreFuture<'_, Vec<(u64, Value)>> {
        let connection = connection.to_string();
        Box::pin(async move {
            let limit = if limit == 0 { 100 } else { limit };
            let after = i64::try_from(after_seq).unwrap_or(i64::MAX);
            let client = self.client().await?;
            let st = client
                .prepare_cached(
                    "SELECT seq, body FROM audit WHERE connection = $1 AND seq > $2
                     ORDER BY seq LIMIT $3",
                )
                .await?;
            client
                .query(&st, &[&connection, &after, &sql_limit(limit)])
                .await?
                .iter()
                .map(|row| {
                    let entry = serde_json::from_str(row.get(1))
                        .context("a stored audit entry is damaged")?;
                    Ok((row.get::<_, i64>(0) as u64, entry))
                })
                .collect()
        })
    }

    fn flush(&self) -> StoreFuture<'_, ()> {
        // Every commit is durable when it returns.
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(valid_schema("psahost"));
        assert!(valid_schema("t_12_ab"));
        for bad in ["", "Public", "1x", "a-b", "a b", "pg_catalog", "x;drop"] {
            assert!(!valid_schema(bad), "{bad}");
        }
    }
}
