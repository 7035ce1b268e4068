//! One replica among several (`[cluster]`): its heartbeat, and the leases of the connections
//! it owns.
//!
//! Every `renew-every`, the membership task records the replica's heartbeat (lasting one
//! lease), reads the live replicas, computes with [`crate::cluster::plan`] which configured
//! connections this replica should own, and then, in this order: releases the leases it should
//! give up (so their new owner need not wait for expiry), renews the ones it keeps (a renewal
//! that fails means the lease was lost: the connection is no longer owned), and takes the ones
//! it should own and does not hold yet (a lease still held by another replica is taken at a
//! later round, once that replica gave it up or it expired), each step in statements of up
//! to 1,000 leases. Each held lease fences the store's
//! writes of its connection ([`PgStore::fence`]), and the store refuses writes of connections
//! without a lease ([`PgStore::require_leases`]).
//!
//! A lease counts as owned until the local deadline of its last renewal (taken *before* the
//! renewal was sent, so it never outlives the database's expiry): a replica cut off from the
//! database stops scheduling the connection by itself.

use psahost_config::ClusterConfig;
use psahost_store::{Lease, PgStore};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Leases taken, renewed or given up in one statement at most.
const LEASE_BATCH: usize = 1000;

/// A lease this replica holds, and until when it counts it as owned.
#[derive(Clone, Debug)]
struct Held {
    lease: Lease,
    deadline: Instant,
}

#[derive(Default)]
struct State {
    held: BTreeMap<String, Held>,
    peers: BTreeSet<String>,
    /// Whether a round completed (the replica heartbeated and took its share).
    joined: bool,
}

/// What `/ready` shows of a held lease.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub struct LeaseStatus {
    /// The connection.
    pub connection: String,
    /// The lease's epoch (raised each time it changes hands).
    pub epoch: u64,
    /// When it lapses unless renewed (RFC 3339, the database's clock).
    pub expires_at: String,
}

/// What `/ready` shows of the replica.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ClusterStatus {
    /// This replica's name.
    pub replica: String,
    /// Whether it has heartbeated and taken its share at least once.
    pub joined: bool,
    /// The leases it holds, by connection.
    pub leases: Vec<LeaseStatus>,
    /// The live replicas other than this one, as of the last round.
    pub peers: Vec<String>,
}

/// The replica's membership: its heartbeat and its leases (see the module documentation).
pub struct Membership {
    config: ClusterConfig,
    pg: Arc<PgStore>,
    connections: Vec<String>,
    state: Mutex<State>,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
    metrics: Arc<crate::api::metrics::Metrics>,
    /// The API address this replica advertises in its heartbeats (`[cluster] advertise`),
    /// once known (`listen`: when the API is bound).
    address: Mutex<Option<String>>,
}

impl Membership {
    /// The membership of replica `config.replica` over `connections`, writing through `pg`
    /// (which from now on refuses writes of connections without a lease). Not started.
    /// Its rounds are counted in `metrics` (leases held, peers, leases taken, given up, lost).
    pub fn new(
        config: ClusterConfig,
        pg: Arc<PgStore>,
        connections: Vec<String>,
        metrics: Arc<crate::api::metrics::Metrics>,
    ) -> Membership {
        pg.require_leases(&config.replica);
        let address = match &config.advertise {
            Some(psahost_config::Advertise::Url(url)) => Some(url.clone()),
            _ => None,
        };
        Membership {
            address: Mutex::new(address),
            config,
            pg,
            connections,
            state: Mutex::default(),
            stop: watch::channel(false).0,
            task: Mutex::default(),
            metrics,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The replica's settings.
    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// The API is bound to `addr`: with `advertise = "listen"`, the replica advertises it from
    /// its next heartbeat on.
    pub fn api_bound(&self, addr: std::net::SocketAddr) {
        if self.config.advertise == Some(psahost_config::Advertise::Listen) {
            *self.address.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(format!("http://{addr}"));
        }
    }

    /// The API address this replica advertises, if any (yet).
    pub fn address(&self) -> Option<String> {
        self.address
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The API address replica `replica` advertises, if it is live and advertises one.
    pub async fn address_of(&self, replica: &str) -> anyhow::Result<Option<String>> {
        self.pg.replica_address(replica).await
    }

    /// Starts the membership task: a round at once, then one every `renew-every`.
    pub fn start(self: &Arc<Self>) {
        let me = self.clone();
        let mut stop = self.stop.subscribe();
        let handle = tokio::spawn(async move {
            loop {
                // A round is bounded: a database that does not answer must not hold the loop
                // past the leases it should renew (they then lapse locally, see `owns`).
                match tokio::time::timeout(me.config.lease, me.round()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::error!(
                        replica = me.config.replica.as_str(),
                        "cluster membership: {e:#}; trying again in {:?}",
                        me.config.renew_every
                    ),
                    Err(_) => tracing::error!(
                        replica = me.config.replica.as_str(),
                        "cluster membership: the database did not answer within the lease; trying again"
                    ),
                }
                tokio::select! {
                    _ = tokio::time::sleep(me.config.renew_every) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
        });
        *self.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
    }

    /// One round: heartbeat, plan, give up, renew, take.
    async fn round(&self) -> anyhow::Result<()> {
        let me = self.config.replica.as_str();
        let ttl = self.config.lease;
        let address = self.address();
        self.pg.heartbeat(me, ttl, address.as_deref()).await?;
        let live = self.pg.live_replicas().await?;
        let held: BTreeSet<String> = self.state().held.keys().cloned().collect();
        let plan = crate::cluster::plan(
            self.connections.iter().map(String::as_str),
            &live,
            me,
            &held,
        );

        // A batch of leases a statement: one statement a lease took longer than a lease once
        // a replica held thousands of connections (BENCHMARKS.md, "10,000 small tenants").
        let give_up: Vec<Lease> = {
            let mut state = self.state();
            plan.give_up
                .iter()
                .filter_map(|c| state.held.remove(c).map(|h| h.lease))
                .collect()
        };
        for chunk in give_up.chunks(LEASE_BATCH) {
            for _ in chunk {
                self.metrics.lease_change("given-up");
            }
            // `release_leases` unfences first: from then on the store refuses this replica's
            // writes of these connections (no lease), a run still going included.
            match self.pg.release_leases(chunk).await {
                Ok(_) => {
                    for lease in chunk {
                        tracing::info!(
                            replica = me,
                            connection = lease.connection.as_str(),
                            epoch = lease.epoch,
                            "lease given up (rebalancing)"
                        );
                    }
                }
                Err(e) => tracing::warn!(
                    replica = me,
                    leases = chunk.len(),
                    "leases given up, but not released (they lapse at expiry): {e:#}"
                ),
            }
        }

        let keep: Vec<Lease> = self
            .state()
            .held
            .values()
            .map(|h| h.lease.clone())
            .collect();
        for chunk in keep.chunks(LEASE_BATCH) {
            // Taken before the renewal is sent, so it never outlives the database's expiry.
            let deadline = Instant::now() + ttl;
            let mut renewed: BTreeMap<String, Lease> = self
                .pg
                .renew_leases(chunk, ttl)
                .await?
                .into_iter()
                .map(|l| (l.connection.clone(), l))
                .collect();
            for old in chunk {
                match renewed.remove(&old.connection) {
                    Some(lease) => {
                        self.state()
                            .held
                            .insert(lease.connection.clone(), Held { lease, deadline });
                    }
                    None => {
                        self.pg.unfence(&old.connection);
                        self.state().held.remove(&old.connection);
                        self.metrics.lease_change("lost");
                        tracing::warn!(
                            replica = me,
                            connection = old.connection.as_str(),
                            epoch = old.epoch,
                            "lease lost (it expired before its renewal, and may be another replica's now): the connection is no longer synced here"
                        );
                    }
                }
            }
        }

        for chunk in plan.take.chunks(LEASE_BATCH) {
            let deadline = Instant::now() + ttl;
            let taken = self.pg.acquire_leases(chunk, me, ttl).await?;
            // The others are still held by another replica: it gives them up at its next
            // round, or they expire; taken at a later round.
            tracing::debug!(
                replica = me,
                taken = taken.len(),
                still_held = chunk.len() - taken.len(),
                "leases taken"
            );
            for lease in taken {
                self.pg.fence(&lease);
                self.metrics.lease_change("taken");
                tracing::info!(
                    replica = me,
                    connection = lease.connection.as_str(),
                    epoch = lease.epoch,
                    "lease taken"
                );
                self.state()
                    .held
                    .insert(lease.connection.clone(), Held { lease, deadline });
            }
        }

        let mut state = self.state();
        state.peers = live.into_iter().filter(|r| r != me).collect();
        state.joined = true;
        self.metrics
            .cluster_round(state.held.len(), state.peers.len());
        Ok(())
    }

    /// Whether this replica owns `connection` now: it holds its lease, renewed within the
    /// lease time.
    pub fn owns(&self, connection: &str) -> bool {
        self.state()
            .held
            .get(connection)
            .is_some_and(|h| Instant::now() < h.deadline)
    }

    /// The leases held, by connection.
    pub fn leases(&self) -> Vec<Lease> {
        self.state()
            .held
            .values()
            .map(|h| h.lease.clone())
            .collect()
    }

    /// What `/ready` shows.
    pub fn status(&self) -> ClusterStatus {
        let state = self.state();
        ClusterStatus {
            replica: self.config.replica.clone(),
            joined: state.joined,
            leases: state
                .held
                .values()
                .map(|h| LeaseStatus {
                    connection: h.lease.connection.clone(),
                    epoch: h.lease.epoch,
                    expires_at: psahost_store::format_time(h.lease.expires_at),
                })
                .collect(),
            peers: state.peers.iter().cloned().collect(),
        }
    }

    /// The replica holding `connection`'s lease unexpired, from the shared leases table.
    pub async fn owner_of(&self, connection: &str) -> anyhow::Result<Option<Lease>> {
        let now = time::OffsetDateTime::now_utc();
        Ok(self
            .pg
            .leases()
            .await?
            .into_iter()
            .find(|l| l.connection == connection && l.expires_at > now))
    }

    /// Leaves the cluster gracefully: stops the membership task (a round in flight finishes,
    /// within a lease), releases every lease and marks the replica gone, so the others take
    /// its connections at their next round rather than at expiry.
    pub async fn stop(&self) {
        let _ = self.stop.send(true);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut task) = task
            && tokio::time::timeout(self.config.lease, &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
        let held: Vec<Held> = std::mem::take(&mut self.state().held)
            .into_values()
            .collect();
        let me = self.config.replica.as_str();
        for h in held {
            if let Err(e) = self.pg.release_lease(&h.lease).await {
                tracing::warn!(
                    replica = me,
                    connection = h.lease.connection.as_str(),
                    "lease not released (it lapses at expiry): {e:#}"
                );
            }
        }
        if let Err(e) = self.pg.leave(me).await {
            tracing::warn!(
                replica = me,
                "could not record leaving (the heartbeat lapses at expiry): {e:#}"
            );
        }
        tracing::info!(replica = me, "left the cluster");
    }

    /// Stops the membership task at once, releasing nothing, as if the process froze: its
    /// leases lapse at expiry and other replicas take them over, while this replica still
    /// believes it holds them until their local deadline. For tests of fencing.
    pub fn freeze(&self) {
        if let Some(task) = self.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            task.abort();
        }
    }

    /// How long a lease lasts.
    pub fn lease(&self) -> Duration {
        self.config.lease
    }
}
