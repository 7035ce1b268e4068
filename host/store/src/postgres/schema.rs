//! The PostgreSQL schema and its versioned migrations, applied by [`super::PgStore::connect`].
//!
//! Every migration runs in one transaction with the `schema_version` row that records it, under
//! an exclusive lock of `schema_version`, so replicas starting together apply each migration
//! exactly once. A database whose version is newer than [`SCHEMA_VERSION`] is refused: an
//! older binary must not write into a schema it does not know.
//!
//! Migrations are append-only: once released, a migration's SQL never changes; a change is a
//! new migration at the end of [`MIGRATIONS`].

use anyhow::{Context, bail};
use deadpool_postgres::Object;
use tokio_postgres::error::SqlState;

/// One migration: its version (1, 2, 3, ...), what it does, its SQL.
pub(crate) struct Migration {
    pub version: i32,
    pub description: &'static str,
    pub sql: &'static str,
}

/// Version 1: records, the change feed, sync state, seen ids, runs.
///
/// Every table is keyed by `connection` first. Text keys use the "C" collation so that ids
/// sort in byte order, as `RecordStore::list` promises.
///
/// `connections` holds one row per connection with the last number of its change sequence.
/// Every write transaction of a connection (a page commit, a run's save) starts by locking that
/// row (`INSERT .. ON CONFLICT DO UPDATE .. RETURNING last_seq`), so the writes of one
/// connection are serialised, its sequence numbers are taken in commit order, and an aborted
/// transaction gives its numbers back: the sequence stays gapless and readers never see a
/// number before the ones below it. A PostgreSQL SEQUENCE would leak numbers on rollback.
///
/// Leases and fencing (version 2, `leases.rs`): a `leases` table keyed by connection; a fenced
/// write transaction, right after locking the connection's row, reads its lease row `FOR SHARE`
/// and is refused before it wrote anything when the owner or epoch changed. No advisory locks,
/// so the schema also runs on PostgreSQL-compatible distributed SQL engines.
///
/// Records keep their JSON as text (exactly the bytes that were hashed, any JSON string
/// included; `jsonb` would rewrite numbers and refuse `\u0000`) and their `updated-at` as a
/// column for `ListQuery::updated_since`. Field filters are evaluated by the store in Rust over
/// id-ordered batches, exactly as sled does; a later migration may add a `jsonb` expression
/// index for them.
const V1: &str = r#"
CREATE TABLE connections (
    connection text COLLATE "C" PRIMARY KEY,
    last_seq   bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0)
);

CREATE TABLE records (
    connection text COLLATE "C" NOT NULL,
    entity     text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL,
    hash       bytea NOT NULL,
    seq        bigint NOT NULL,
    changed_at timestamptz NOT NULL,
    updated_at timestamptz,
    body       text NOT NULL,
    PRIMARY KEY (connection, entity, id)
);

CREATE TABLE changes (
    connection text COLLATE "C" NOT NULL,
    seq        bigint NOT NULL,
    entity     text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('created', 'updated', 'deleted')),
    at         timestamptz NOT NULL,
    PRIMARY KEY (connection, seq)
);

CREATE TABLE seen (
    connection text COLLATE "C" NOT NULL,
    entity     text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL,
    PRIMARY KEY (connection, entity, id)
);

CREATE TABLE sync_state (
    connection text COLLATE "C" NOT NULL,
    entity     text COLLATE "C" NOT NULL,
    state      text NOT NULL,
    PRIMARY KEY (connection, entity)
);

CREATE TABLE runs (
    connection text COLLATE "C" NOT NULL,
    id         bigint NOT NULL,
    entity     text COLLATE "C" NOT NULL,
    status     text NOT NULL,
    run        text NOT NULL,
    PRIMARY KEY (connection, id)
);

CREATE SEQUENCE run_ids AS bigint START WITH 1;
"#;

/// Version 2: leases of connections across replicas (see `leases.rs`). A row is never deleted,
/// so an epoch is never handed out twice; a released lease has expired at `-infinity`.
const V2: &str = r#"
CREATE TABLE leases (
    connection text COLLATE "C" PRIMARY KEY,
    owner      text NOT NULL,
    epoch      bigint NOT NULL CHECK (epoch >= 1),
    expires_at timestamptz NOT NULL
);
"#;

/// Version 3: the replicas sharing the store, each with the time it was last seen (by the
/// database's clock), so every replica can tell the live ones apart and assign connections.
const V3: &str = r#"
CREATE TABLE replicas (
    replica text COLLATE "C" PRIMARY KEY,
    seen_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
"#;

/// Version 4: the host's links of the tool's records to a connection's records (customer
/// links), by kind and key; not records, so no change events and no lock of `connections`.
const V4: &str = r#"
CREATE TABLE links (
    connection text COLLATE "C" NOT NULL,
    kind       text COLLATE "C" NOT NULL,
    key        text COLLATE "C" NOT NULL,
    body       text NOT NULL,
    PRIMARY KEY (connection, kind, key)
);
"#;

/// Version 5: the audit trail, what the host wrote to a connection's PSA, numbered per
/// connection. An append locks the connection's row in `connections` (as every write of a
/// connection does, so fencing applies) and takes the next number under that lock.
const V5: &str = r#"
CREATE TABLE audit (
    connection text COLLATE "C" NOT NULL,
    seq        bigint NOT NULL CHECK (seq >= 1),
    body       text NOT NULL,
    PRIMARY KEY (connection, seq)
);
"#;

/// Version 6: the address at which each replica serves its API (`[cluster] advertise`), so a
/// replica can forward a request for a connection to the replica that holds its lease.
const V6: &str = r#"
ALTER TABLE replicas ADD COLUMN address text;
"#;

/// Every migration, in order.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "records, change feed, sync state, seen ids, runs",
        sql: V1,
    },
    Migration {
        version: 2,
        description: "leases of connections across replicas",
        sql: V2,
    },
    Migration {
        version: 3,
        description: "replicas and their heartbeats",
        sql: V3,
    },
    Migration {
        version: 4,
        description: "links of the tool's records",
        sql: V4,
    },
    Migration {
        version: 5,
        description: "the audit trail of writes to the PSA",
        sql: V5,
    },
    Migration {
        version: 6,
        description: "the API address of each replica",
        sql: V6,
    },
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Brings the schema (in the session's search path) to [`SCHEMA_VERSION`].
pub(crate) async fn migrate(client: &mut Object, schema: Option<&str>) -> anyhow::Result<i32> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match migrate_once(client, schema).await {
            Err(e) if attempt < 5 && is_creation_race(&e) => continue,
            other => return other,
        }
    }
}

/// Two processes creating the same table at once: one fails on the catalog's unique index; it
/// tries again and finds the table.
fn is_creation_race(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<tokio_postgres::Error>())
        .filter_map(tokio_postgres::Error::code)
        .any(|c| {
            *c == SqlState::UNIQUE_VIOLATION
                || *c == SqlState::DUPLICATE_TABLE
                || *c == SqlState::DUPLICATE_SCHEMA
                || *c == SqlState::T_R_DEADLOCK_DETECTED
        })
}

async fn migrate_once(client: &mut Object, schema: Option<&str>) -> anyhow::Result<i32> {
    let tx = client.transaction().await?;
    if let Some(schema) = schema {
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await
            .with_context(|| format!("cannot create the schema `{schema}`"))?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version     integer PRIMARY KEY,
             description text NOT NULL,
             applied_at  timestamptz NOT NULL DEFAULT now()
         );
         LOCK TABLE schema_version IN EXCLUSIVE MODE;",
    )
    .await
    .context("cannot create or lock the table `schema_version`")?;
    let current: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0)::integer FROM schema_version",
            &[],
        )
        .await?
        .get(0);
    if current > SCHEMA_VERSION {
        bail!(
            "the PostgreSQL record store has schema version {current}, newer than this psahost \
             knows (version {SCHEMA_VERSION}): a newer psahost migrated it. Run that version (or \
             newer), or point this one at another database or schema"
        );
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        tx.batch_execute(m.sql).await.with_context(|| {
            format!(
                "cannot apply the record store's schema migration {} ({})",
                m.version, m.description
            )
        })?;
        tx.execute(
            "INSERT INTO schema_version (version, description) VALUES ($1, $2)",
            &[&m.version, &m.description],
        )
        .await?;
    }
    tx.commit()
        .await
        .context("cannot commit the schema migration")?;
    Ok(SCHEMA_VERSION)
}
