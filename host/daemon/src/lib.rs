//! The operator's daemon, `psahost serve`: the configuration's plugins and connections, the
//! record store, the sync scheduler, plugin hot reload and the HTTP API, with a graceful
//! shutdown.
//!
//! - [`Daemon::start`] opens the store and the kv store, builds the runtime (with the metrics as
//!   its call observer) and returns, loading every plugin and opening its connections in the
//!   background (a plugin still compiling is `loading`; the daemon is not ready until every
//!   plugin is loaded or refused). [`Daemon::open`] also waits for that. A plugin that does not
//!   load, or a connection that does not open, is logged and reported (readiness, connection
//!   status) but does not stop the others.
//! - [`Daemon::run`] starts the API ([`crate::api`]) at once, then, once the plugins are
//!   loaded, one scheduler task per scheduled connection ([`scheduler`]) and the plugin
//!   watcher ([`reload`]); on the shutdown signal it stops
//!   the scheduler (running syncs get a bounded grace to finish; a run cut short resumes from
//!   its last committed page next time), then the API, and flushes the stores.
//!
//! With `[cluster]`, the daemon is one replica among several sharing a PostgreSQL store: it
//! opens the store as a [`PgStore`] (the sync engine writes through it, so the writes are
//! fenced by the leases) and starts its [`membership::Membership`], which leases it a share of
//! the connections; the scheduler runs only the connections it owns ([`Daemon::owns`]), and a
//! graceful stop releases its leases. Without it, the daemon owns every connection.
//!
//! Connections hold an `Arc<Plugin>`: a reload swaps in a new [`Connection`] for new calls while
//! calls in flight finish on the clone they hold, with the old version.

pub mod api;
pub mod cluster;
mod drain;
pub mod membership;
pub mod reload;
pub mod scheduler;

use crate::api::metrics::Metrics;
use psahost_config::{Config, ConnectionConfig, PluginConfig};
use psahost_sandbox::capabilities::kv::KvStore;
use psahost_sandbox::connector::Connection;
use psahost_sandbox::runtime::{BundledPlugins, Plugin, PluginSource, Runtime};
use psahost_store::{Lease, PgStore, RecordStore, format_time};
use psahost_workflows::sync::SyncEngine;
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;

/// A configured plugin and the version currently in use.
pub struct PluginSlot {
    /// Its configuration.
    pub config: PluginConfig,
    state: RwLock<PluginState>,
}

#[derive(Default)]
struct PluginState {
    /// Not yet loaded or refused: its first load is running.
    loading: bool,
    current: Option<Arc<Plugin>>,
    loaded_at: Option<OffsetDateTime>,
    reloads: u64,
    /// The last load error (of the first load, or of a rejected new version).
    error: Option<String>,
    /// The file as last examined, and a change seen once (loaded when it holds still).
    stamp: Option<reload::FileStamp>,
    pending: Option<reload::FileStamp>,
    /// The sha256 of the last rejected file, not loaded again.
    rejected: Option<String>,
}

/// What the API shows of a plugin.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PluginStatus {
    /// The id connections refer to.
    pub id: String,
    /// Where it is loaded from.
    pub source: String,
    /// Whether a version is loaded.
    pub loaded: bool,
    /// Whether its first load (compilation) is still running.
    pub loading: bool,
    /// The plugin's own id (from `describe`).
    pub plugin_id: Option<String>,
    /// The version it describes.
    pub version: Option<String>,
    /// The sha256 of the loaded component.
    pub sha256: Option<String>,
    /// The contract version it was built for (`psa:connector@0.1.0`).
    pub wit: Option<String>,
    /// The datasets it declares.
    pub datasets: Vec<String>,
    /// When the version in use was loaded.
    pub loaded_at: Option<String>,
    /// How many times it was swapped for a new version.
    pub reloads: u64,
    /// The last load error (a rejected new version keeps the old one running).
    pub error: Option<String>,
}

impl PluginSlot {
    /// The version in use.
    pub fn current(&self) -> Option<Arc<Plugin>> {
        self.read().current.clone()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, PluginState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, PluginState> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Its status.
    pub fn status(&self) -> PluginStatus {
        let s = self.read();
        let info = s.current.as_ref().and_then(|p| p.connector_info());
        PluginStatus {
            id: self.config.id.clone(),
            source: self.config.source.to_string(),
            loaded: s.current.is_some(),
            loading: s.loading,
            plugin_id: s.current.as_ref().map(|p| p.id().to_string()),
            version: info.map(|i| i.version.clone()),
            sha256: s.current.as_ref().map(|p| p.sha256().to_string()),
            wit: s.current.as_ref().map(|p| p.wit_version().to_string()),
            datasets: info
                .map(|i| i.datasets.iter().map(|d| d.name.clone()).collect())
                .unwrap_or_default(),
            loaded_at: s.loaded_at.map(format_time),
            reloads: s.reloads,
            error: s.error.clone(),
        }
    }
}

/// A configured connection and its open binding.
pub struct ConnectionSlot {
    /// Its configuration.
    pub config: ConnectionConfig,
    state: RwLock<ConnectionState>,
}

#[derive(Default)]
struct ConnectionState {
    current: Option<Connection>,
    error: Option<String>,
}

impl ConnectionSlot {
    /// The open connection, or why there is none.
    pub fn current(&self) -> Result<Connection, String> {
        let s = self.state.read().unwrap_or_else(|e| e.into_inner());
        match &s.current {
            Some(c) => Ok(c.clone()),
            None => Err(s
                .error
                .clone()
                .unwrap_or_else(|| "the connection is not open".into())),
        }
    }

    /// Why the connection could not be opened, if it could not.
    pub fn error(&self) -> Option<String> {
        let s = self.state.read().unwrap_or_else(|e| e.into_inner());
        if s.current.is_some() {
            None
        } else {
            s.error.clone()
        }
    }

    fn set(&self, result: anyhow::Result<Connection>) {
        let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(c) => {
                s.current = Some(c);
                s.error = None;
            }
            Err(e) => {
                s.error = Some(format!("{e:#}"));
            }
        }
    }
}

/// Why a connection cannot serve a request.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionUnavailable {
    /// No such connection in the configuration.
    #[error("no connection `{0}` is configured")]
    Unknown(String),
    /// Configured, but its plugin did not load or it did not open.
    #[error("connection `{id}` is not available: {reason}")]
    NotOpen {
        /// The connection.
        id: String,
        /// Why.
        reason: String,
    },
}

/// The readiness of the daemon: configuration loaded, store open, plugins loaded.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Readiness {
    /// Whether every check passes.
    pub ready: bool,
    /// The configuration file.
    pub config: String,
    /// Whether the record store is open.
    pub store: bool,
    /// Plugins that are not loaded, with where to read why (the route needs the token).
    pub plugins_not_loaded: BTreeMap<String, String>,
    /// Connections that are not open, with where to read why (the route needs the token).
    pub connections_not_open: BTreeMap<String, String>,
    /// Whether the daemon is shutting down.
    pub shutting_down: bool,
    /// With `[cluster]`: the replica, its leases and its peers (ready once it joined).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<membership::ClusterStatus>,
}

/// The daemon's state, shared by the scheduler, the watcher and the API.
pub struct Daemon {
    config: Config,
    runtime: Arc<Runtime>,
    store: Arc<dyn RecordStore>,
    kv: KvStore,
    engine: Arc<SyncEngine>,
    /// The linking workflow's company indexes, kept up to date from the change feed.
    link_indexes: Arc<psahost_workflows::linking::kept::CompanyIndexes>,
    /// One delivery queue drain at a time per connection.
    delivery_locks: psahost_workflows::delivery::DeliveryLocks,
    inventory_locks: psahost_workflows::locks::ConnectionLocks,
    /// With `[cluster]`: the replica's membership (its leases).
    cluster: Option<Arc<membership::Membership>>,
    /// With `[cluster]`: the client that forwards requests to a connection's owner.
    forward_client: reqwest::Client,
    metrics: Arc<Metrics>,
    plugins: BTreeMap<String, PluginSlot>,
    connections: BTreeMap<String, ConnectionSlot>,
    /// True once every plugin is loaded or refused (see [`Daemon::start`]).
    loaded: watch::Receiver<bool>,
    started_at: OffsetDateTime,
    shutting_down: AtomicBool,
}

/// How [`Daemon::run`] shuts down.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// How long running syncs may go on after the shutdown signal before they are cut short.
    pub shutdown_grace: Duration,
    /// How often a connection's queued deliveries are drained (and its due billable counts
    /// written) in the background.
    pub delivery_drain_every: Duration,
    /// Today's date (UTC) for the background billable sync; tests set their own clock.
    pub today: fn() -> time::Date,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            shutdown_grace: Duration::from_secs(10),
            delivery_drain_every: Duration::from_secs(15),
            today: || OffsetDateTime::now_utc().date(),
        }
    }
}

/// Whether `plugin`, loaded for `config`, may take its place beside the `others` loaded so
/// far: its id claim passes [`PluginConfig::check_claim`], and no other plugin of this host
/// carries the same id unless it is the same component.
pub(crate) fn admit<'a>(
    config: &PluginConfig,
    plugin: &Plugin,
    bundled: &BundledPlugins,
    others: impl Iterator<Item = (&'a str, Arc<Plugin>)>,
) -> anyhow::Result<()> {
    config.check_claim(plugin, bundled)?;
    for (other_id, other) in others {
        if other_id != config.id && other.id() == plugin.id() && other.sha256() != plugin.sha256() {
            anyhow::bail!(
                "plugin `{}` ({}) says it is `{}`, like plugin `{other_id}` ({}), and is another component: plugin ids are unique per host, so it is refused; remove one of them",
                config.id,
                config.source,
                plugin.id(),
                other.source()
            );
        }
    }
    Ok(())
}

impl Daemon {
    /// Opens the stores, loads the plugins and opens the connections of `config`, and returns
    /// when every plugin is loaded or refused ([`Daemon::start`], then
    /// [`Daemon::plugins_loaded`]).
    pub async fn open(config: Config) -> anyhow::Result<Arc<Daemon>> {
        let daemon = Daemon::start(config).await?;
        daemon.plugins_loaded().await;
        Ok(daemon)
    }

    /// Opens the stores and returns at once, loading the plugins and opening their connections
    /// in the background: compiling a plugin can take a while (within
    /// `runtime.compile-timeout`), and the API answers meanwhile, reporting such a plugin as
    /// `loading` and its connections as not open yet.
    pub async fn start(config: Config) -> anyhow::Result<Arc<Daemon>> {
        let metrics = Arc::new(Metrics::new());
        let (store, cluster, pg) = match (&config.cluster, &config.store) {
            (Some(cluster), psahost_config::StoreConfig::Postgres { url, options }) => {
                // The engine writes through this very store, so the leases fence its writes.
                let pg = Arc::new(PgStore::connect(url, options.clone()).await.map_err(|e| {
                    e.context("cannot open the PostgreSQL record store (`[store] postgres`)")
                })?);
                let membership = Arc::new(membership::Membership::new(
                    cluster.clone(),
                    pg.clone(),
                    config.connections.keys().cloned().collect(),
                    metrics.clone(),
                ));
                let shared = (*pg).clone();
                let store: Arc<dyn RecordStore> = pg;
                (store, Some(membership), Some(shared))
            }
            (Some(_), psahost_config::StoreConfig::Sled) => {
                anyhow::bail!("`[cluster]` needs `[store] postgres`: add it or remove `[cluster]`")
            }
            (None, _) => (config.open_store().await?, None, None),
        };
        // With PostgreSQL, the kv namespaces are there too (a connector's saved state follows
        // its connection to another replica).
        let kv = config.open_kv(pg.as_ref()).await?;
        let runtime = Runtime::new(config.runtime.clone())?;
        runtime.set_observer(metrics.clone());
        let engine = Arc::new(SyncEngine::new(store.clone(), config.sync.clone()));
        let link_indexes = Arc::new(psahost_workflows::linking::kept::CompanyIndexes::default());
        metrics.track_linking(link_indexes.clone());
        for (id, connection) in &config.connections {
            engine.set_windows(id, connection.windows.clone());
        }
        let plugins = config
            .plugins
            .iter()
            .map(|(id, plugin_config)| {
                let slot = PluginSlot {
                    config: plugin_config.clone(),
                    state: RwLock::new(PluginState {
                        loading: true,
                        ..PluginState::default()
                    }),
                };
                (id.clone(), slot)
            })
            .collect();
        let connections = config
            .connections
            .iter()
            .map(|(id, c)| {
                let slot = ConnectionSlot {
                    config: c.clone(),
                    state: RwLock::default(),
                };
                slot.set(Err(anyhow::anyhow!(
                    "its plugin `{}` is still loading",
                    c.plugin
                )));
                (id.clone(), slot)
            })
            .collect();
        let (loaded_tx, loaded) = watch::channel(false);
        let daemon = Arc::new(Daemon {
            config,
            runtime,
            store,
            kv,
            engine,
            link_indexes,
            delivery_locks: Default::default(),
            inventory_locks: Default::default(),
            // Replicas talk directly: a proxy of the environment is never used.
            forward_client: reqwest::Client::builder().no_proxy().build().map_err(|e| {
                anyhow::anyhow!(
                    "cannot make the HTTP client that forwards requests to other replicas: {e}"
                )
            })?,
            cluster,
            metrics,
            plugins,
            connections,
            loaded,
            started_at: OffsetDateTime::now_utc(),
            shutting_down: AtomicBool::new(false),
        });
        if let Some(membership) = &daemon.cluster {
            membership.start();
        }
        let loader = daemon.clone();
        tokio::spawn(async move {
            loader.load_plugins().await;
            let _ = loaded_tx.send(true);
        });
        Ok(daemon)
    }

    /// Resolves once every plugin has been loaded or refused and the connections opened.
    pub async fn plugins_loaded(&self) {
        let mut loaded = self.loaded.clone();
        let _ = loaded.wait_for(|done| *done).await;
    }

    /// Loads the plugins (compiled, or read from the cache, all at once), then admits them in
    /// order (a later plugin is checked against the earlier ones, see [`admit`]), each followed
    /// by its connections.
    async fn load_plugins(&self) {
        let loads: Vec<_> = self
            .plugins
            .values()
            .map(|slot| {
                let stamp = match &slot.config.source {
                    PluginSource::File(path) => reload::FileStamp::of(path).ok(),
                    _ => None,
                };
                let runtime = self.runtime.clone();
                let (source, pin) = (slot.config.source.clone(), slot.config.sha256.clone());
                let load =
                    tokio::spawn(async move { runtime.load_pinned(source, pin.as_deref()).await });
                (stamp, load)
            })
            .collect();
        for ((id, slot), (stamp, load)) in self.plugins.iter().zip(loads) {
            let plugin_config = &slot.config;
            let result = match load.await {
                Ok(result) => result.map_err(anyhow::Error::from),
                Err(e) => Err(anyhow::anyhow!(
                    "the load of plugin `{id}` stopped: {e}; restart the daemon"
                )),
            };
            let loaded = match result {
                Ok(plugin) => admit(
                    plugin_config,
                    &plugin,
                    &self.runtime.config().bundled,
                    self.plugins
                        .iter()
                        .filter_map(|(other, slot)| Some((other.as_str(), slot.current()?))),
                )
                .map(|()| plugin),
                Err(e) => Err(e),
            };
            let current = match loaded {
                Ok(plugin) => {
                    tracing::info!(
                        plugin = id.as_str(),
                        source = %plugin_config.source,
                        sha256 = plugin.sha256(),
                        "plugin loaded"
                    );
                    let mut s = slot.write();
                    s.current = Some(plugin.clone());
                    s.loaded_at = Some(OffsetDateTime::now_utc());
                    s.stamp = stamp;
                    s.loading = false;
                    Some(plugin)
                }
                Err(e) => {
                    tracing::error!(plugin = id.as_str(), "plugin not loaded: {e:#}");
                    let mut s = slot.write();
                    s.error = Some(format!("{e:#}"));
                    s.stamp = stamp;
                    s.loading = false;
                    None
                }
            };
            for (cid, c) in &self.connections {
                if c.config.plugin != *id {
                    continue;
                }
                let opened = match &current {
                    Some(plugin) => self.bind(&c.config, plugin.clone()),
                    None => Err(anyhow::anyhow!(
                        "its plugin `{id}` is not loaded: {}",
                        slot.read().error.clone().unwrap_or_default()
                    )),
                };
                if let Err(e) = &opened {
                    tracing::error!(connection = cid.as_str(), "connection not opened: {e:#}");
                }
                c.set(opened);
            }
        }
    }

    /// Binds connection `c` to `plugin`, and counts its HTTP in the metrics.
    fn bind(&self, c: &ConnectionConfig, plugin: Arc<Plugin>) -> anyhow::Result<Connection> {
        let conn = Connection::open(
            self.runtime.clone(),
            plugin,
            &c.id,
            c.settings.clone(),
            &c.policy,
            &self.kv,
        )?;
        self.metrics
            .track_http(&c.id, conn.capabilities().http.stats.clone());
        Ok(conn)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The record store.
    pub fn store(&self) -> &Arc<dyn RecordStore> {
        &self.store
    }

    /// The HTTP client that forwards requests to the replica owning a connection.
    pub fn forward_client(&self) -> &reqwest::Client {
        &self.forward_client
    }

    /// The linking workflow's kept company indexes.
    pub fn link_indexes(&self) -> &Arc<psahost_workflows::linking::kept::CompanyIndexes> {
        &self.link_indexes
    }

    /// The per-connection locks of alert delivery.
    pub fn delivery_locks(&self) -> &psahost_workflows::delivery::DeliveryLocks {
        &self.delivery_locks
    }

    /// The inventory batches under way, one per connection (a second is refused as busy).
    pub fn inventory_locks(&self) -> &psahost_workflows::locks::ConnectionLocks {
        &self.inventory_locks
    }

    /// The sync engine.
    pub fn engine(&self) -> &Arc<SyncEngine> {
        &self.engine
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The plugins by id.
    pub fn plugins(&self) -> &BTreeMap<String, PluginSlot> {
        &self.plugins
    }

    /// The connections by id.
    pub fn connections(&self) -> &BTreeMap<String, ConnectionSlot> {
        &self.connections
    }

    /// With `[cluster]`: the replica's membership.
    pub fn cluster(&self) -> Option<&Arc<membership::Membership>> {
        self.cluster.as_ref()
    }

    /// Whether this process owns connection `id` now: always without `[cluster]`; with it,
    /// while it holds the connection's lease.
    pub fn owns(&self, id: &str) -> bool {
        self.cluster.as_ref().is_none_or(|c| c.owns(id))
    }

    /// The leases this replica holds (none without `[cluster]`).
    pub fn leases(&self) -> Vec<Lease> {
        self.cluster
            .as_ref()
            .map(|c| c.leases())
            .unwrap_or_default()
    }

    /// Leaves the cluster gracefully (releases the leases, marks the replica gone); nothing
    /// without `[cluster]`. [`Daemon::run`] does it when it stops.
    pub async fn leave_cluster(&self) {
        if let Some(c) = &self.cluster {
            c.stop().await;
        }
    }

    /// When the daemon started.
    pub fn started_at(&self) -> OffsetDateTime {
        self.started_at
    }

    /// The open connection `id` (its current plugin version), for one or more calls.
    pub fn connection(&self, id: &str) -> Result<Connection, ConnectionUnavailable> {
        let slot = self
            .connections
            .get(id)
            .ok_or_else(|| ConnectionUnavailable::Unknown(id.to_string()))?;
        slot.current()
            .map_err(|reason| ConnectionUnavailable::NotOpen {
                id: id.to_string(),
                reason,
            })
    }

    /// Whether the daemon is ready to serve.
    pub fn readiness(&self) -> Readiness {
        let plugins_not_loaded: BTreeMap<String, String> = self
            .plugins
            .iter()
            .filter(|(_, p)| p.current().is_none())
            .map(|(id, p)| {
                let why = if p.read().loading {
                    "loading (compiling)"
                } else {
                    "not loaded: see /v1/plugins"
                };
                (id.clone(), why.to_string())
            })
            .collect();
        // `/ready` needs no token: it names what is missing, never why (errors can quote
        // settings); the authenticated `/v1/plugins` and `/v1/connections` say why.
        let connections_not_open: BTreeMap<String, String> = self
            .connections
            .iter()
            .filter(|(_, c)| c.error().is_some())
            .map(|(id, _)| (id.clone(), "not open: see /v1/connections".to_string()))
            .collect();
        let shutting_down = self.shutting_down.load(Ordering::Relaxed);
        let cluster = self.cluster.as_ref().map(|c| c.status());
        Readiness {
            ready: plugins_not_loaded.is_empty()
                && connections_not_open.is_empty()
                && !shutting_down
                && cluster.as_ref().is_none_or(|c| c.joined),
            config: self.config.path.display().to_string(),
            store: true,
            plugins_not_loaded,
            connections_not_open,
            shutting_down,
            cluster,
        }
    }

    /// Runs the scheduler, the plugin watcher and the API on `listener` until `shutdown`
    /// completes, then shuts down gracefully (see the module documentation).
    pub async fn run(
        self: &Arc<Self>,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send,
        options: RunOptions,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut scheduled = tokio::task::JoinSet::new();
        // The API answers at once; the scheduler and the watcher wait for the first loads.
        let (api_stop_tx, mut api_stop_rx) = watch::channel(false);
        let app = crate::api::router(self.clone());
        if let (Some(cluster), Ok(addr)) = (&self.cluster, listener.local_addr()) {
            cluster.api_bound(addr);
        }
        let api = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = api_stop_rx.wait_for(|stop| *stop).await;
                })
                .await
        });
        tokio::pin!(shutdown);
        tokio::select! {
            () = self.plugins_loaded() => {}
            () = &mut shutdown => {
                tracing::info!("shutting down while plugins were loading");
                self.shutting_down.store(true, Ordering::Relaxed);
                let _ = api_stop_tx.send(true);
                match tokio::time::timeout(options.shutdown_grace, api).await {
                    Ok(Ok(Ok(()))) => {}
                    Ok(Ok(Err(e))) => tracing::error!("the API server failed: {e}"),
                    Ok(Err(e)) => tracing::error!("the API server task failed: {e}"),
                    Err(_) => tracing::warn!("requests still running after the grace: dropped"),
                }
                self.leave_cluster().await;
                self.store.flush().await?;
                self.kv.flush().await?;
                return Ok(());
            }
        }
        for (id, slot) in &self.connections {
            // Every connection: delivery settings may be set through the API at any time.
            scheduled.spawn(drain::run_connection(
                self.clone(),
                id.clone(),
                options.delivery_drain_every,
                options.today,
                stop_rx.clone(),
            ));
            if slot.config.schedule.is_empty() {
                tracing::info!(
                    connection = id.as_str(),
                    "no schedule: the connection syncs on demand only"
                );
                continue;
            }
            scheduled.spawn(scheduler::run_connection(
                self.clone(),
                id.clone(),
                stop_rx.clone(),
            ));
        }
        let watcher = tokio::spawn(reload::watch(self.clone(), stop_rx.clone()));

        shutdown.await;
        tracing::info!("shutting down: stopping the scheduler");
        self.shutting_down.store(true, Ordering::Relaxed);
        let _ = stop_tx.send(true);
        watcher.abort();
        let grace = tokio::time::sleep(options.shutdown_grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                next = scheduled.join_next() => {
                    if next.is_none() {
                        break;
                    }
                }
                _ = &mut grace => {
                    tracing::warn!(
                        running = scheduled.len(),
                        "shutdown grace over: cutting running syncs short; they resume from their last committed page"
                    );
                    scheduled.shutdown().await;
                    break;
                }
            }
        }
        tracing::info!("shutting down: stopping the API");
        let _ = api_stop_tx.send(true);
        match tokio::time::timeout(options.shutdown_grace, api).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::error!("the API server failed: {e}"),
            Ok(Err(e)) => tracing::error!("the API server task failed: {e}"),
            Err(_) => tracing::warn!("requests still running after the grace: dropped"),
        }
        // After the syncs stopped: their last writes were made under the leases.
        self.leave_cluster().await;
        tracing::info!("shutting down: flushing the stores");
        self.store.flush().await?;
        self.kv.flush().await?;
        tracing::info!("stopped");
        Ok(())
    }
}
