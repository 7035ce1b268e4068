//! Leases of connections across replicas, and the fencing of their writes.
//!
//! A replica owns a connection while it holds the connection's row in `leases` (owner, epoch,
//! expiry) unexpired. Expiry is judged by the database's clock (`now()`), one clock for every
//! replica. Taking a lease that expired (or was released) raises its epoch; the row is never
//! deleted, so an epoch is never handed out twice.
//!
//! Fencing: a replica registers the epoch it holds ([`PgStore::fence`]); from then on every
//! write transaction of that connection (a page commit, a run's save) checks, right after it
//! locks the connection, that the lease row still carries that owner and epoch, reading it
//! `FOR SHARE`. A replica that was paused past its lease and resumes after another took over
//! finds a higher epoch: its transaction is refused ([`StaleLease`]) before it wrote anything.
//! The share lock makes a takeover wait for a write in flight, so a write that passed the
//! check commits before the new owner starts. Lease rows, not advisory locks, so the schema
//! also runs on PostgreSQL-compatible distributed SQL engines.

use super::PgStore;
use anyhow::Context;
use deadpool_postgres::Transaction;
use std::time::Duration;
use time::OffsetDateTime;

/// A lease held on a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The connection.
    pub connection: String,
    /// The replica holding it.
    pub owner: String,
    /// Raised each time the lease changes hands (from 1).
    pub epoch: u64,
    /// When it lapses unless renewed (the database's clock).
    pub expires_at: OffsetDateTime,
}

/// A write of a connection refused because the writer's lease is no longer current (or, at
/// epoch 0, because the writer holds no lease of it, see [`PgStore::require_leases`]).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{}", self.message())]
pub struct StaleLease {
    /// The connection.
    pub connection: String,
    /// The writer.
    pub owner: String,
    /// The epoch the writer held.
    pub epoch: u64,
    /// Who holds it now, and at which epoch (`replica-b at epoch 3`, or `no lease`).
    pub current: String,
}

impl StaleLease {
    fn message(&self) -> String {
        let StaleLease {
            connection,
            owner,
            epoch,
            current,
        } = self;
        if *epoch == 0 {
            format!(
                "replica `{owner}` holds no lease of connection `{connection}` (its lease: {current}), and its write was refused: a replica writes only the connections it owns; send the request to the owner's API"
            )
        } else {
            format!(
                "the lease of connection `{connection}` held by `{owner}` at epoch {epoch} was taken over (now {current}): this replica no longer owns the connection, and its write was refused"
            )
        }
    }
}

/// The lease a replica writes under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Fence {
    pub owner: String,
    pub epoch: u64,
}

/// The longest lease, so that a replica that dies is replaced within a bounded time.
pub const MAX_LEASE: Duration = Duration::from_secs(3600);

fn ttl_of(ttl: Duration) -> anyhow::Result<f64> {
    anyhow::ensure!(
        !ttl.is_zero() && ttl <= MAX_LEASE,
        "a lease lasts from 1 ms to {} s, not {} ms",
        MAX_LEASE.as_secs(),
        ttl.as_millis()
    );
    Ok(ttl.as_secs_f64())
}

fn lease_of(connection: &str, row: &tokio_postgres::Row) -> Lease {
    Lease {
        connection: connection.to_string(),
        owner: row.get(0),
        epoch: row.get::<_, i64>(1) as u64,
        expires_at: row.get(2),
    }
}

impl PgStore {
    /// Takes the lease of `connection` for `owner` for `ttl`, if nobody else holds it unexpired;
    /// none when another replica does. Taking it (even back, by the same owner) raises the epoch.
    pub async fn acquire_lease(
        &self,
        connection: &str,
        owner: &str,
        ttl: Duration,
    ) -> anyhow::Result<Option<Lease>> {
        let seconds = ttl_of(ttl)?;
        let client = self.client().await?;
        let row = client
            .query_opt(
                "INSERT INTO leases (connection, owner, epoch, expires_at)
                 VALUES ($1, $2, 1, now() + make_interval(secs => $3))
                 ON CONFLICT (connection) DO UPDATE
                   SET owner = excluded.owner, epoch = leases.epoch + 1,
                       expires_at = excluded.expires_at
                   WHERE leases.expires_at <= now()
                 RETURNING owner, epoch, expires_at",
                &[&connection, &owner, &seconds],
            )
            .await
            .with_context(|| format!("cannot take the lease of connection `{connection}`"))?;
        Ok(row.map(|r| lease_of(connection, &r)))
    }

    /// Extends `lease` by `ttl` from now; none when it was lost (expired and taken, or
    /// released): the replica must stop working on the connection.
    pub async fn renew_lease(&self, lease: &Lease, ttl: Duration) -> anyhow::Result<Option<Lease>> {
        let seconds = ttl_of(ttl)?;
        let client = self.client().await?;
        let row = client
            .query_opt(
                "UPDATE leases SET expires_at = now() + make_interval(secs => $4)
                 WHERE connection = $1 AND owner = $2 AND epoch = $3 AND expires_at > now()
                 RETURNING owner, epoch, expires_at",
                &[
                    &lease.connection,
                    &lease.owner,
                    &(lease.epoch as i64),
                    &seconds,
                ],
            )
            .await
            .with_context(|| {
                format!(
                    "cannot renew the lease of connection `{}`",
                    lease.connection
                )
            })?;
        Ok(row.map(|r| lease_of(&lease.connection, &r)))
    }

    /// Takes the leases of `connections` for `owner` for `ttl` in one statement, each if
    /// nobody else holds it unexpired (as [`PgStore::acquire_lease`]); the ones taken. Rows are
    /// locked in the connections' order, the same in every replica. A replica holding
    /// thousands of connections takes them within a round, where one statement each took
    /// longer than a lease.
    pub async fn acquire_leases(
        &self,
        connections: &[String],
        owner: &str,
        ttl: Duration,
    ) -> anyhow::Result<Vec<Lease>> {
        let seconds = ttl_of(ttl)?;
        let mut sorted = connections.to_vec();
        sorted.sort();
        sorted.dedup();
        let client = self.client().await?;
        let rows = client
            .query(
                "INSERT INTO leases (connection, owner, epoch, expires_at)
                 SELECT c, $2, 1, now() + make_interval(secs => $3)
                   FROM unnest($1::text[]) AS c ORDER BY c
                 ON CONFLICT (connection) DO UPDATE
                   SET owner = excluded.owner, epoch = leases.epoch + 1,
                       expires_at = excluded.expires_at
                   WHERE leases.expires_at <= now()
                 RETURNING owner, epoch, expires_at, connection",
                &[&sorted, &owner, &seconds],
            )
            .await
            .with_context(|| format!("cannot take the leases of {} connections", sorted.len()))?;
        Ok(rows.iter().map(|r| lease_of(r.get(3), r)).collect())
    }

    /// Extends every lease of `leases` (all held by one owner) by `ttl` from now in one
    /// statement (as [`PgStore::renew_lease`]); the ones renewed. A lease missing from the
    /// answer was lost.
    pub async fn renew_leases(
        &self,
        leases: &[Lease],
        ttl: Duration,
    ) -> anyhow::Result<Vec<Lease>> {
        let seconds = ttl_of(ttl)?;
        let Some(owner) = leases.first().map(|l| l.owner.as_str()) else {
            return Ok(Vec::new());
        };
        anyhow::ensure!(
            leases.iter().all(|l| l.owner == owner),
            "the leases renewed together have one owner"
        );
        let connections: Vec<&str> = leases.iter().map(|l| l.connection.as_str()).collect();
        let epochs: Vec<i64> = leases.iter().map(|l| l.epoch as i64).collect();
        let client = self.client().await?;
        let rows = client
            .query(
                "UPDATE leases SET expires_at = now() + make_interval(secs => $4)
                   FROM unnest($1::text[], $2::bigint[]) AS held(connection, epoch)
                 WHERE leases.connection = held.connection AND leases.epoch = held.epoch
                   AND leases.owner = $3 AND leases.expires_at > now()
                 RETURNING leases.owner, leases.epoch, leases.expires_at, leases.connection",
                &[&connections, &epochs, &owner, &seconds],
            )
            .await
            .with_context(|| format!("cannot renew the leases of {} connections", leases.len()))?;
        Ok(rows.iter().map(|r| lease_of(r.get(3), r)).collect())
    }

    /// Gives `lease` up at once (a graceful stop), so another replica need not wait for its
    /// expiry. The row stays, with its epoch. Also removes this store's fence of it.
    pub async fn release_lease(&self, lease: &Lease) -> anyhow::Result<bool> {
        self.unfence(&lease.connection);
        let client = self.client().await?;
        let released = client
            .execute(
                "UPDATE leases SET expires_at = '-infinity'
                 WHERE connection = $1 AND owner = $2 AND epoch = $3",
                &[&lease.connection, &lease.owner, &(lease.epoch as i64)],
            )
            .await
            .with_context(|| {
                format!(
                    "cannot release the lease of connection `{}`",
                    lease.connection
                )
            })?;
        Ok(released == 1)
    }

    /// Gives every lease of `leases` (all held by one owner) up at once in one statement (as
    /// [`PgStore::release_lease`], this store's fences removed first); the connections whose
    /// lease was still theirs.
    pub async fn release_leases(&self, leases: &[Lease]) -> anyhow::Result<Vec<String>> {
        let Some(owner) = leases.first().map(|l| l.owner.as_str()) else {
            return Ok(Vec::new());
        };
        anyhow::ensure!(
            leases.iter().all(|l| l.owner == owner),
            "the leases released together have one owner"
        );
        for lease in leases {
            self.unfence(&lease.connection);
        }
        let connections: Vec<&str> = leases.iter().map(|l| l.connection.as_str()).collect();
        let epochs: Vec<i64> = leases.iter().map(|l| l.epoch as i64).collect();
        let client = self.client().await?;
        let rows = client
            .query(
                "UPDATE leases SET expires_at = '-infinity'
                   FROM unnest($1::text[], $2::bigint[]) AS held(connection, epoch)
                 WHERE leases.connection = held.connection AND leases.epoch = held.epoch
                   AND leases.owner = $3
                 RETURNING leases.connection",
                &[&connections, &epochs, &owner],
            )
            .await
            .with_context(|| {
                format!("cannot release the leases of {} connections", leases.len())
            })?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Every lease row (held, expired or released), by connection.
    pub async fn leases(&self) -> anyhow::Result<Vec<Lease>> {
        let client = self.client().await?;
        let rows = client
            .query(
                // A released lease expired at `-infinity`, which no `OffsetDateTime` holds: it
                // reads as expired at the Unix epoch.
                "SELECT connection, owner, epoch, greatest(expires_at, 'epoch'::timestamptz)
                 FROM leases ORDER BY connection",
                &[],
            )
            .await
            .context("cannot read the leases")?;
        rows.iter()
            .map(|r| {
                Ok(Lease {
                    connection: r.try_get(0)?,
                    owner: r.try_get(1)?,
                    epoch: r.try_get::<_, i64>(2)? as u64,
                    expires_at: r.try_get(3)?,
                })
            })
            .collect::<Result<_, tokio_postgres::Error>>()
            .context("cannot read the leases")
    }

    /// Records that `replica` is alive until `ttl` from now (its heartbeat), serving its API at
    /// `address` (an URL such as `http://10.0.0.5:8080`) when it has one.
    pub async fn heartbeat(
        &self,
        replica: &str,
        ttl: Duration,
        address: Option<&str>,
    ) -> anyhow::Result<()> {
        let seconds = ttl_of(ttl)?;
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO replicas (replica, seen_at, expires_at, address)
                 VALUES ($1, now(), now() + make_interval(secs => $2), $3)
                 ON CONFLICT (replica) DO UPDATE
                   SET seen_at = excluded.seen_at, expires_at = excluded.expires_at,
                       address = excluded.address",
                &[&replica, &seconds, &address],
            )
            .await
            .with_context(|| format!("cannot record the heartbeat of replica `{replica}`"))?;
        Ok(())
    }

    /// Marks `replica` gone at once (a graceful stop), so the others rebalance without waiting.
    pub async fn leave(&self, replica: &str) -> anyhow::Result<()> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE replicas SET expires_at = '-infinity' WHERE replica = $1",
                &[&replica],
            )
            .await
            .with_context(|| format!("cannot record that replica `{replica}` left"))?;
        Ok(())
    }

    /// The replicas whose heartbeat has not expired, by name.
    pub async fn live_replicas(&self) -> anyhow::Result<std::collections::BTreeSet<String>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT replica FROM replicas WHERE expires_at > now() ORDER BY replica",
                &[],
            )
            .await
            .context("cannot read the live replicas")?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// The API address `replica` advertised in its last heartbeat, if it is live and gave one.
    pub async fn replica_address(&self, replica: &str) -> anyhow::Result<Option<String>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT address FROM replicas WHERE replica = $1 AND expires_at > now()",
                &[&replica],
            )
            .await
            .with_context(|| format!("cannot read the address of replica `{replica}`"))?;
        Ok(row.and_then(|r| r.get(0)))
    }

    /// From now on, this store's writes of `lease.connection` are made under `lease`: each is
    /// refused with [`StaleLease`] once another replica has taken the connection over.
    pub fn fence(&self, lease: &Lease) {
        let mut fences = self.fences.lock().unwrap_or_else(|e| e.into_inner());
        fences.insert(
            lease.connection.clone(),
            Fence {
                owner: lease.owner.clone(),
                epoch: lease.epoch,
            },
        );
    }

    /// Writes of `connection` are no longer fenced by this store.
    pub fn unfence(&self, connection: &str) {
        let mut fences = self.fences.lock().unwrap_or_else(|e| e.into_inner());
        fences.remove(connection);
    }

    /// From now on, a write of a connection this store holds no fence of is refused too
    /// ([`StaleLease`] at epoch 0: no lease), not made unchecked: a replica writes only the
    /// connections it leased, including after it gave one up while a run of it was still going.
    /// Set once per store (a second call with another name is ignored).
    pub fn require_leases(&self, replica: &str) {
        let _ = self.replica.set(replica.to_string());
    }

    pub(super) fn fence_of(&self, connection: &str) -> Option<Fence> {
        let fences = self.fences.lock().unwrap_or_else(|e| e.into_inner());
        fences.get(connection).cloned().or_else(|| {
            // Epochs start at 1: epoch 0 matches no lease row, so the write is refused.
            self.replica.get().map(|owner| Fence {
                owner: owner.clone(),
                epoch: 0,
            })
        })
    }
}

/// In a write transaction of `connection`, after it locked the connection: refuses the
/// transaction when `fence` is no longer the connection's lease.
pub(super) async fn check_fence(
    tx: &Transaction<'_>,
    connection: &str,
    fence: &Fence,
) -> anyhow::Result<()> {
    let st = tx
        .prepare_cached("SELECT owner, epoch FROM leases WHERE connection = $1 FOR SHARE")
        .await?;
    let row = tx.query_opt(&st, &[&connection]).await?;
    let current = row.map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64));
    match current {
        Some((owner, epoch)) if owner == fence.owner && epoch == fence.epoch => Ok(()),
        other => Err(StaleLease {
            connection: connection.to_string(),
            owner: fence.owner.clone(),
            epoch: fence.epoch,
            current: match other {
                Some((owner, epoch)) => format!("`{owner}` at epoch {epoch}"),
                None => "no lease".into(),
            },
        }
        .into()),
    }
}
