//! The operator's configuration, `psahost.toml`: raw serde structures, then validated types.
//!
//! Unknown keys are errors (a typo must not silently become a default), and every error names
//! the file, the line and the field. Relative paths are relative to the file's directory.
//!
//! ```toml
//! [runtime]
//! data-dir = "data"              # kv namespaces, the record store, the compilation cache
//! memory-limit = "64MiB"         # per call
//! call-timeout = "30s"           # per call
//!
//! [plugins.connectwise]
//! builtin = "connectwise-manage" # or: path = "plugins/connectwise_manage.wasm"
//! sha256 = "..."                 # optional pin
//!
//! [connections.acme]
//! plugin = "connectwise"
//! settings = { site = "api-na.myconnectwise.net", company-id = "acme", public-key = "...",
//!              private-key = "${env:ACME_CW_PRIVATE_KEY}", client-id = "..." }
//! grant = { hosts = ["requested"] }      # or explicit origins; private-networks = true
//! limits = { rate = "600/min", max-concurrent = 4 }
//!                                # rate-burst = 1: never more than the rate in any minute
//!                                # (for a PSA counting per window); without it, a burst of 600
//!
//! [plugins]                      # optional: every `*.wasm` in a directory is a plugin too,
//! dir = "plugins"                # its id is the file name without `.wasm`; pin one with
//!                                # [plugins.<id>] sha256 = "..." (no path)
//! watch-interval = "2s"          # how often `psahost serve` checks plugin files for changes
//!
//! [connections.acme.schedule]    # optional: `psahost serve` syncs these entities at these
//! companies = "15min"            # intervals (incremental), and sweeps every scheduled entity
//! tickets = "5min"               # completely every `full-sweep`; a connection without a
//! full-sweep = "24h"             # schedule only syncs on demand
//!
//! [connections.acme.windows]     # optional: keep only records updated within a window (by
//! tickets = "14days"             # `updated-at`); older ones leave the store with a change
//! invoices = "2years"            # event. Entities and datasets alike.
//!
//! [connections.acme.linking]    # optional: how `POST .../link/customers` links customers
//! customers-rules = "rules/customers.toml"  # a rule set (TOML) instead of the built-in one
//! rule-plugins = ["rules/my-rule.wasm"]     # the matching rule components it names
//!
//! [connections.acme.inventory]   # optional: inventory sync (see `inventory.rs` for all keys)
//! identifiers = ["serial-number"] # ...
//! [connections.acme.delivery]   # optional: alert delivery and billable sync (see `delivery`)
//! catch-all = { account = "250" }
//!
//! [api]                          # needed by `psahost serve`
//! listen = "127.0.0.1:8780"
//! token = "${env:PSAHOST_API_TOKEN}"   # bearer token of every API call (at least 16 characters)
//!
//! [store]                        # optional; without it the records are in sled, <data-dir>/store
//! postgres = "${env:PSAHOST_DATABASE_URL}"   # PostgreSQL instead: postgresql://user:pw@host/db
//! schema = "psahost"             # optional: the schema of its tables (default: the search path)
//! max-connections = 16           # optional: the pool's size
//! ca-file = "pg-ca.pem"          # optional: with `?sslmode=require` in the URL (TLS, the server's
//!                                # certificate and host name verified), the CAs to trust
//!                                # instead of the public roots
//!
//! [cluster]                      # optional, needs `[store] postgres`: one of several replicas
//! replica = "replica-a"          # this replica's name, unique among them (kebab-case)
//! lease = "30s"                  # how long a connection's lease lasts unless renewed (2s..10min)
//! renew-every = "10s"            # heartbeat and lease renewal (default lease/3; < lease/2)
//! advertise = "listen"           # optional: where the others reach this replica's API, to
//!                                # forward it requests for its connections: "listen" (the
//!                                # `[api] listen` address) or a URL, "http://10.0.0.5:8780"
//!
//! [sync]                         # optional; these are the defaults
//! page-size = 250                # records asked for per page (default: each entity's or
//!                                # dataset's maximum the connector declares, else 250)
//! overlap = "5min"               # incremental runs re-read this much before the high-water mark
//! mass-delete-share = "10%"      # a full sweep deleting more is held (0.1; "100%": no guard) ...
//! mass-delete-floor = 10         # ... unless it deletes at most this many (but not all)
//! max-concurrent = 4             # sync runs at once, over all connections
//! page-retries = 3               # retries of a page answered `unavailable`
//! retry-backoff = "1s"           # the first retry's wait, doubled each time
//! rate-limit-backoff = "1min"    # a rate-limited run's wait when the PSA gives no Retry-After
//! max-pages-per-run = 100000     # a run reading more pages fails (paging that never ends)
//! max-records-per-run = 10000000 # likewise for records (or twice what the store holds, if more)
//! max-bytes-per-run = "8GiB"     # likewise for the records' text (counted since the run resumed)
//! ```

pub mod delivery;
mod inventory;

use anyhow::{Context, anyhow};
use psahost_sandbox::capabilities::ConnectionPolicy;
use psahost_sandbox::capabilities::http::{Grant, HttpLimits, OriginPattern, Rate, ScopeLimits};
use psahost_sandbox::capabilities::kv::KvLimits;
use psahost_sandbox::capabilities::log::LogLimits;
use psahost_sandbox::capabilities::settings::{Settings, resolve_value};
use psahost_sandbox::runtime::{
    AllocatorChoice, BundledPlugins, CompileLimits, Plugin, PluginSource, RuntimeConfig,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

mod kv;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    runtime: RawRuntime,
    #[serde(default)]
    plugins: RawPlugins,
    #[serde(default)]
    connections: BTreeMap<String, RawConnection>,
    #[serde(default)]
    sync: RawSync,
    api: Option<RawApi>,
    #[serde(default)]
    store: RawStore,
    cluster: Option<Spanned<RawCluster>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCluster {
    replica: Option<Spanned<String>>,
    lease: Option<Spanned<String>>,
    renew_every: Option<Spanned<String>>,
    advertise: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawStore {
    postgres: Option<Spanned<String>>,
    schema: Option<Spanned<String>>,
    max_connections: Option<Spanned<u32>>,
    ca_file: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawApi {
    listen: Spanned<String>,
    token: Spanned<String>,
}

/// `[plugins]`: plugin tables by id, plus the reserved keys `dir` and `watch-interval`.
#[derive(Default)]
struct RawPlugins {
    dir: Option<Spanned<String>>,
    watch_interval: Option<Spanned<String>>,
    by_id: BTreeMap<String, RawPlugin>,
}

impl<'de> Deserialize<'de> for RawPlugins {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawPlugins;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("plugin tables (`[plugins.ID]`), `dir` or `watch-interval`")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawPlugins, A::Error> {
                let mut out = RawPlugins::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "dir" => out.dir = Some(map.next_value()?),
                        "watch-interval" => out.watch_interval = Some(map.next_value()?),
                        _ => {
                            let plugin = map.next_value()?;
                            out.by_id.insert(key, plugin);
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(Visitor)
    }
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSync {
    page_size: Option<Spanned<i64>>,
    overlap: Option<Spanned<String>>,
    mass_delete_share: Option<Spanned<RawShare>>,
    mass_delete_floor: Option<Spanned<i64>>,
    max_concurrent: Option<Spanned<i64>>,
    page_retries: Option<u32>,
    max_pages_per_run: Option<Spanned<i64>>,
    max_records_per_run: Option<Spanned<i64>>,
    max_bytes_per_run: Option<Spanned<String>>,
    retry_backoff: Option<Spanned<String>>,
    rate_limit_backoff: Option<Spanned<String>>,
}

/// A share: a number from 0 to 1, or a percentage text ("10%").
#[derive(Deserialize)]
#[serde(untagged)]
enum RawShare {
    Number(f64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRuntime {
    data_dir: Spanned<String>,
    cache_dir: Option<Spanned<String>>,
    memory_limit: Option<Spanned<String>>,
    max_component_size: Option<Spanned<String>>,
    compile_timeout: Option<Spanned<String>>,
    compile_memory: Option<Spanned<String>>,
    call_timeout: Option<Spanned<String>>,
    max_instances: Option<u32>,
    allocator: Option<AllocatorChoice>,
    max_result_size: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPlugin {
    path: Option<Spanned<String>>,
    builtin: Option<Spanned<String>>,
    sha256: Option<Spanned<String>>,
    replaces_builtin: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConnection {
    plugin: Spanned<String>,
    #[serde(default)]
    settings: BTreeMap<String, Spanned<String>>,
    grant: RawGrant,
    #[serde(default)]
    limits: RawLimits,
    schedule: Option<BTreeMap<String, Spanned<String>>>,
    windows: Option<BTreeMap<String, Spanned<String>>>,
    linking: Option<RawLinking>,
    inventory: Option<inventory::RawInventory>,
    delivery: Option<Spanned<delivery::RawDelivery>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLinking {
    customers_rules: Option<Spanned<String>>,
    rule_plugins: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawGrant {
    hosts: Vec<Spanned<String>>,
    #[serde(default)]
    private_networks: bool,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLimits {
    rate: Option<Spanned<String>>,
    rate_burst: Option<Spanned<u32>>,
    max_concurrent: Option<u32>,
    connect_timeout: Option<Spanned<String>>,
    request_timeout: Option<Spanned<String>>,
    max_response_size: Option<Spanned<String>>,
    max_retries: Option<u32>,
    max_retry_wait: Option<Spanned<String>>,
    max_queue_wait: Option<Spanned<String>>,
    max_endpoint_scopes: Option<Spanned<u32>>,
    log_line_size: Option<Spanned<String>>,
    log_lines_per_call: Option<Spanned<u32>>,
    log_rate: Option<Spanned<String>>,
    kv_quota: Option<Spanned<String>>,
    kv_max_value: Option<Spanned<String>>,
}

/// A validated configuration.
#[derive(Debug)]
pub struct Config {
    /// The file it came from.
    pub path: PathBuf,
    /// Where psahost keeps its state.
    pub data_dir: PathBuf,
    /// Engine and per-call limits.
    pub runtime: RuntimeConfig,
    /// Plugins by id.
    pub plugins: BTreeMap<String, PluginConfig>,
    /// Connections by id.
    pub connections: BTreeMap<String, ConnectionConfig>,
    /// The sync engine's settings (`[sync]`).
    pub sync: psahost_workflows::sync::SyncSettings,
    /// The HTTP API of `psahost serve` (`[api]`), if configured.
    pub api: Option<ApiConfig>,
    /// The plugin directory (`[plugins] dir`): its `*.wasm` files are plugins too.
    pub plugin_dir: Option<PathBuf>,
    /// How often `psahost serve` checks plugin files for changes (`[plugins] watch-interval`).
    pub plugin_watch_interval: Duration,
    /// Where the records live (`[store]`).
    pub store: StoreConfig,
    /// One replica of several (`[cluster]`), if configured; none: this process owns every
    /// connection.
    pub cluster: Option<ClusterConfig>,
}

/// The settings of a replica (`[cluster]`): connections are leased across the replicas that
/// share one PostgreSQL store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterConfig {
    /// This replica's name, unique among the replicas (kebab-case).
    pub replica: String,
    /// How long a lease (and a heartbeat) lasts unless renewed.
    pub lease: Duration,
    /// How often the replica heartbeats, rebalances and renews its leases.
    pub renew_every: Duration,
    /// Where the other replicas reach this replica's API to forward it the requests for the
    /// connections it owns; none: they answer `409 not-owner` naming it instead.
    pub advertise: Option<Advertise>,
}

/// How a replica tells the others where its API is (`[cluster] advertise`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Advertise {
    /// `"listen"`: `http://` and the address the API is bound to (a specific address, so the
    /// others can reach it: not `0.0.0.0` or `::`).
    Listen,
    /// A base URL (`http://` or `https://`, a host and maybe a port, no path), for an address
    /// the others see differently (a container's published port, a load balancer).
    Url(String),
}

/// The shortest lease: renewals need a few round trips to the database within it.
pub const MIN_LEASE: Duration = Duration::from_secs(2);
/// The longest lease: a replica that dies is replaced within it.
pub const MAX_LEASE: Duration = Duration::from_secs(600);

/// The record store's backend (`[store]`).
#[derive(Clone, Default)]
pub enum StoreConfig {
    /// sled in `<data-dir>/store` (the default; one process).
    #[default]
    Sled,
    /// PostgreSQL (`[store] postgres`): the connection string (secret: it may hold a password)
    /// and the pool's options.
    Postgres {
        /// The connection string, references resolved.
        url: String,
        /// Schema and pool size.
        options: psahost_store::PgOptions,
    },
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreConfig::Sled => f.write_str("Sled"),
            StoreConfig::Postgres { options, .. } => f
                .debug_struct("Postgres")
                .field("url", &"[redacted]")
                .field("options", options)
                .finish(),
        }
    }
}

/// The HTTP API's settings (`[api]`).
#[derive(Clone)]
pub struct ApiConfig {
    /// The address to listen on.
    pub listen: std::net::SocketAddr,
    /// The bearer token every call but health and readiness must carry.
    pub token: String,
}

impl std::fmt::Debug for ApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiConfig")
            .field("listen", &self.listen)
            .field("token", &"[redacted]")
            .finish()
    }
}

/// When `psahost serve` syncs a connection (`[connections.ID.schedule]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    /// Entities synced incrementally, each at its interval.
    pub entities: Vec<(psahost_store::Entity, Duration)>,
    /// How often every scheduled entity is swept completely (deletes detected).
    pub full_sweep: Option<Duration>,
}

impl Schedule {
    /// Whether nothing is scheduled (the connection syncs on demand only).
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }
}

/// A configured plugin.
#[derive(Clone, Debug)]
pub struct PluginConfig {
    /// The id connections refer to.
    pub id: String,
    /// Where it is loaded from.
    pub source: PluginSource,
    /// The operator's sha256 pin.
    pub sha256: Option<String>,
    /// `replaces-builtin = true`: this file plugin may carry the id of a connector the program
    /// bundles (it replaces that connector); otherwise such a claim is refused.
    pub replaces_builtin: bool,
}

impl PluginConfig {
    /// Whether `plugin`, loaded for this configuration, may carry the id its `describe` claims.
    ///
    /// A plugin names itself, and logs, metrics and the API show that name: a file plugin that
    /// claims the id of a bundled connector would pass for it. It may only when it is that
    /// very component (same sha256) or the operator set `replaces-builtin = true`.
    pub fn check_claim(&self, plugin: &Plugin, bundled: &BundledPlugins) -> anyhow::Result<()> {
        if matches!(self.source, PluginSource::Builtin(_)) || self.replaces_builtin {
            return Ok(());
        }
        let claimed = plugin.id();
        let Some(bytes) = bundled.get(claimed) else {
            return Ok(());
        };
        if hex::encode(Sha256::digest(bytes)) == plugin.sha256() {
            return Ok(());
        }
        Err(anyhow!(
            "plugin `{}` ({}) says it is `{claimed}`, the id of a bundled connector, and is not that connector: refused, so that logs, metrics and the API cannot show it as `{claimed}`; if it is meant to replace the bundled connector, set `plugins.{}.replaces-builtin = true`",
            self.id,
            self.source,
            self.id
        ))
    }
}

/// A configured connection.
#[derive(Clone, Debug)]
pub struct ConnectionConfig {
    /// Its id.
    pub id: String,
    /// The id of its plugin.
    pub plugin: String,
    /// Its settings, references resolved (values from references are secret).
    pub settings: Settings,
    /// Its grant and limits.
    pub policy: ConnectionPolicy,
    /// When `psahost serve` syncs it.
    pub schedule: Schedule,
    /// How far back, by `updated-at`, each windowed entity or dataset is kept
    /// (`[connections.ID.windows]`).
    pub windows: psahost_workflows::sync::Windows,
    /// How its customers are linked (`[connections.ID.linking]`).
    pub linking: LinkingConfig,
    /// Its inventory sync (`[connections.ID.inventory]`), if configured.
    pub inventory: Option<psahost_workflows::inventory::InventorySettings>,
    /// Alert delivery and the billable sync (`[connections.ID.delivery]`), if configured.
    pub delivery: Option<psahost_workflows::delivery::DeliverySettings>,
}

/// The most rule components one connection's linking loads.
pub const MAX_RULE_PLUGINS: usize = 16;

/// `[connections.ID.linking]`: the rule set customers are linked by and its components.
#[derive(Clone, Debug, Default)]
pub struct LinkingConfig {
    /// The rule set (`customers-rules`, read and validated at load) and its file; the
    /// built-in customer rules when absent.
    pub customers_rules: Option<(PathBuf, psahost_matching::rules::RuleSet)>,
    /// The matching rule components it names (`rule-plugins`), absolute paths.
    pub rule_plugins: Vec<PathBuf>,
}

impl Config {
    /// Reads and validates `path`.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration `{}`", path.display()))?;
        Config::parse(&text, path)
    }

    /// Validates `text`, read from `path`.
    pub fn parse(text: &str, path: &Path) -> anyhow::Result<Config> {
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| anyhow!("invalid configuration `{}`: {e}", path.display()))?;
        // Relative paths are relative to the file's directory, made absolute so that they hold
        // whatever the working directory (wasmtime's cache refuses a relative directory).
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let base = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let v = Validator {
            text,
            path,
            base: &base,
        };
        v.config(raw)
    }

    /// The connection `id`, or an error listing the configured ones.
    pub fn connection(&self, id: &str) -> anyhow::Result<&ConnectionConfig> {
        self.connections.get(id).ok_or_else(|| {
            anyhow!(
                "no connection `{id}` in `{}`; configured: {}",
                self.path.display(),
                list(self.connections.keys())
            )
        })
    }

    /// Where the kv namespaces live with sled (without `[store] postgres`).
    pub fn kv_dir(&self) -> PathBuf {
        self.data_dir.join("kv")
    }

    /// Opens the connectors' kv namespaces: in PostgreSQL when `[store] postgres` is set
    /// (through `pg`, the record store's pool, when the caller has it), so a connector's saved
    /// state follows its connection from replica to replica; sled in [`Config::kv_dir`]
    /// otherwise.
    pub async fn open_kv(
        &self,
        pg: Option<&psahost_store::PgStore>,
    ) -> anyhow::Result<psahost_sandbox::capabilities::kv::KvStore> {
        match (&self.store, pg) {
            (StoreConfig::Sled, _) => {
                let dir = self.kv_dir();
                psahost_store::compact::check_not_interrupted(&dir)?;
                tokio::task::spawn_blocking(move || {
                    psahost_sandbox::capabilities::kv::KvStore::open(&dir)
                })
                .await
                .context("cannot open the kv store")?
            }
            (StoreConfig::Postgres { .. }, Some(pg)) => Ok(kv::shared_kv(pg.clone())),
            (StoreConfig::Postgres { url, options }, None) => {
                let pg = psahost_store::PgStore::connect(url, options.clone())
                    .await
                    .context("cannot open the PostgreSQL store of the kv namespaces (`[store] postgres`)")?;
                Ok(kv::shared_kv(pg))
            }
        }
    }

    /// Where the sled record store lives.
    pub fn store_dir(&self) -> PathBuf {
        self.data_dir.join("store")
    }

    /// Opens the record store: PostgreSQL when `[store] postgres` is set (its schema migrated;
    /// with `[cluster]`, refusing writes of connections this process holds no lease of), sled
    /// in [`Config::store_dir`] otherwise.
    pub async fn open_store(
        &self,
    ) -> anyhow::Result<std::sync::Arc<dyn psahost_store::RecordStore>> {
        Ok(match &self.store {
            StoreConfig::Sled => {
                let dir = self.store_dir();
                std::sync::Arc::new(
                    tokio::task::spawn_blocking(move || psahost_store::SledStore::open(&dir))
                        .await
                        .context("cannot open the record store")??,
                )
            }
            StoreConfig::Postgres { url, options } => {
                let pg = psahost_store::PgStore::connect(url, options.clone())
                    .await
                    .context("cannot open the PostgreSQL record store (`[store] postgres`)")?;
                // With `[cluster]`, only a replica holding a connection's lease writes it: a
                // command writing the store directly would race the owner, so its writes are
                // refused (reads are not).
                if let Some(cluster) = &self.cluster {
                    pg.require_leases(&cluster.replica);
                }
                std::sync::Arc::new(pg)
            }
        })
    }
}

fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join(", ")
    }
}

struct Validator<'a> {
    text: &'a str,
    path: &'a Path,
    base: &'a Path,
}

impl Validator<'_> {
    /// An error at the line of `span`, naming `field`.
    fn error<T>(
        &self,
        span: std::ops::Range<usize>,
        field: &str,
        message: impl std::fmt::Display,
    ) -> anyhow::Result<T> {
        let line = self.text[..span.start.min(self.text.len())]
            .matches('\n')
            .count()
            + 1;
        Err(anyhow!(
            "invalid configuration `{}`, line {line}, `{field}`: {message}",
            self.path.display()
        ))
    }

    fn path_of(&self, value: &str) -> PathBuf {
        self.base.join(value)
    }

    fn duration(
        &self,
        value: &Option<Spanned<String>>,
        field: &str,
        default: Duration,
    ) -> anyhow::Result<Duration> {
        match value {
            None => Ok(default),
            Some(v) => match humantime::parse_duration(v.get_ref()) {
                Ok(d) if !d.is_zero() => Ok(d),
                Ok(_) => self.error(v.span(), field, "must be longer than zero"),
                Err(e) => self.error(
                    v.span(),
                    field,
                    format!(
                        "`{}` is not a duration ({e}); write for example \"30s\" or \"2min\"",
                        v.get_ref()
                    ),
                ),
            },
        }
    }

    fn size(
        &self,
        value: &Option<Spanned<String>>,
        field: &str,
        default: u64,
    ) -> anyhow::Result<u64> {
        match value {
            None => Ok(default),
            Some(v) => match v.get_ref().parse::<bytesize::ByteSize>() {
                Ok(size) if size.as_u64() > 0 => Ok(size.as_u64()),
                Ok(_) => self.error(v.span(), field, "must be larger than zero"),
                Err(e) => self.error(
                    v.span(),
                    field,
                    format!(
                        "`{}` is not a size ({e}); write for example \"64MiB\"",
                        v.get_ref()
                    ),
                ),
            },
        }
    }

    /// A count from 1 to `max`.
    fn count(
        &self,
        value: &Option<Spanned<u32>>,
        field: &str,
        default: usize,
        max: usize,
    ) -> anyhow::Result<usize> {
        match value {
            None => Ok(default),
            Some(v) => match *v.get_ref() as usize {
                n if (1..=max).contains(&n) => Ok(n),
                n => self.error(
                    v.span(),
                    field,
                    format!("{n} is out of range: write a number from 1 to {max}"),
                ),
            },
        }
    }

    fn rate(&self, value: &Spanned<String>, field: &str) -> anyhow::Result<Rate> {
        let text = value.get_ref();
        let parsed = text.split_once('/').and_then(|(n, unit)| {
            let requests: u32 = n.trim().parse().ok().filter(|n| *n > 0)?;
            let period = match unit.trim() {
                "s" | "sec" | "second" => Duration::from_secs(1),
                "min" | "minute" => Duration::from_secs(60),
                "h" | "hour" => Duration::from_secs(3600),
                _ => return None,
            };
            Some(Rate::new(requests, period))
        });
        match parsed {
            Some(rate) => Ok(rate),
            None => self.error(
                value.span(),
                field,
                format!("`{text}` is not a rate; write requests per period, for example \"600/min\" (periods: s, min, h)"),
            ),
        }
    }

    /// `rate`, with `rate-burst` when given: never more than the rate in any period.
    fn rate_with_burst(
        &self,
        l: &RawLimits,
        rate_field: &str,
        burst_field: &str,
    ) -> anyhow::Result<Option<Rate>> {
        let rate = l
            .rate
            .as_ref()
            .map(|r| self.rate(r, rate_field))
            .transpose()?;
        let Some(burst) = &l.rate_burst else {
            return Ok(rate);
        };
        let Some(rate) = rate else {
            return self.error(
                burst.span(),
                burst_field,
                "needs a `rate`: add one, for example `rate = \"100/min\"`, or remove `rate-burst`",
            );
        };
        let n = *burst.get_ref();
        if !(1..=rate.requests).contains(&n) {
            return self.error(
                burst.span(),
                burst_field,
                format!(
                    "{n} is out of range: write a number from 1 to the rate's {} requests",
                    rate.requests
                ),
            );
        }
        Ok(Some(Rate {
            burst: Some(n),
            ..rate
        }))
    }

    fn config(&self, raw: RawConfig) -> anyhow::Result<Config> {
        let r = &raw.runtime;
        let data_dir = self.path_of(r.data_dir.get_ref());
        let defaults = RuntimeConfig::default();
        let runtime = RuntimeConfig {
            cache_dir: Some(
                r.cache_dir
                    .as_ref()
                    .map(|c| self.path_of(c.get_ref()))
                    .unwrap_or_else(|| data_dir.join("cache")),
            ),
            memory_limit: self.size(
                &r.memory_limit,
                "runtime.memory-limit",
                defaults.memory_limit,
            )?,
            call_timeout: self.duration(
                &r.call_timeout,
                "runtime.call-timeout",
                defaults.call_timeout,
            )?,
            max_instances: r.max_instances.unwrap_or(defaults.max_instances),
            max_component_size: self.size(
                &r.max_component_size,
                "runtime.max-component-size",
                defaults.max_component_size,
            )?,
            compile_limits: CompileLimits {
                timeout: self.duration(
                    &r.compile_timeout,
                    "runtime.compile-timeout",
                    defaults.compile_limits.timeout,
                )?,
                max_memory: self.size(
                    &r.compile_memory,
                    "runtime.compile-memory",
                    defaults.compile_limits.max_memory,
                )?,
            },
            // Like `bundled`, the program decides how it compiles (see `psahost`'s
            // `load_config`).
            child_compiler: defaults.child_compiler,
            allocator: r.allocator.unwrap_or_default(),
            max_result_bytes: self.size(
                &r.max_result_size,
                "runtime.max-result-size",
                defaults.max_result_bytes,
            )?,
            // The program, not the operator, decides what `builtin:` names (see `psahost`'s
            // `load_config`).
            bundled: defaults.bundled,
        };

        let plugin_dir = raw
            .plugins
            .dir
            .as_ref()
            .map(|d| self.plugin_dir(d))
            .transpose()?;
        let mut in_dir: BTreeMap<String, PathBuf> = plugin_dir
            .as_ref()
            .map(|(_, files)| files.clone())
            .unwrap_or_default();
        let plugin_watch_interval = self.duration(
            &raw.plugins.watch_interval,
            "plugins.watch-interval",
            Duration::from_secs(2),
        )?;
        let mut plugins = BTreeMap::new();
        for (id, p) in &raw.plugins.by_id {
            let field = format!("plugins.{id}");
            let from_dir = in_dir.remove(id);
            if let (Some(file), Some(path)) = (&from_dir, p.path.as_ref().or(p.builtin.as_ref())) {
                return self.error(
                    path.span(),
                    &field,
                    format!(
                        "plugin `{id}` is also the file `{}` of the plugin directory: rename one of them, or drop `path`/`builtin` to pin the directory's file",
                        file.display()
                    ),
                );
            }
            let source = match (&p.path, &p.builtin) {
                (None, None) if from_dir.is_some() => {
                    PluginSource::File(from_dir.clone().unwrap_or_default())
                }
                (Some(path), None) => PluginSource::File(self.path_of(path.get_ref())),
                (None, Some(name)) => PluginSource::Builtin(name.get_ref().clone()),
                (Some(path), Some(_)) => {
                    return self.error(
                        path.span(),
                        &field,
                        "give either `path` or `builtin`, not both",
                    );
                }
                (None, None) => {
                    return Err(anyhow!(
                        "invalid configuration `{}`, `{field}`: give `path = \"...wasm\"` or `builtin = \"connectwise-manage\"`{}",
                        self.path.display(),
                        if plugin_dir.is_some() {
                            format!(", or put `{id}.wasm` in the plugin directory")
                        } else {
                            String::new()
                        }
                    ));
                }
            };
            let sha256 = match &p.sha256 {
                Some(h)
                    if h.get_ref().len() == 64
                        && h.get_ref().bytes().all(|b| b.is_ascii_hexdigit()) =>
                {
                    Some(h.get_ref().to_ascii_lowercase())
                }
                Some(h) => {
                    return self.error(
                        h.span(),
                        &format!("{field}.sha256"),
                        format!("`{}` is not 64 hexadecimal digits", h.get_ref()),
                    );
                }
                None => None,
            };
            let replaces_builtin = match &p.replaces_builtin {
                Some(r) if *r.get_ref() && !matches!(source, PluginSource::File(_)) => {
                    return self.error(
                        r.span(),
                        &format!("{field}.replaces-builtin"),
                        "only a plugin loaded from a file can replace a bundled connector; drop `replaces-builtin` or give `path`",
                    );
                }
                Some(r) => *r.get_ref(),
                None => false,
            };
            plugins.insert(
                id.clone(),
                PluginConfig {
                    id: id.clone(),
                    source,
                    sha256,
                    replaces_builtin,
                },
            );
        }
        for (id, file) in in_dir {
            plugins.insert(
                id.clone(),
                PluginConfig {
                    id,
                    source: PluginSource::File(file),
                    sha256: None,
                    replaces_builtin: false,
                },
            );
        }

        let mut connections = BTreeMap::new();
        for (id, c) in &raw.connections {
            let field = format!("connections.{id}");
            if !plugins.contains_key(c.plugin.get_ref()) {
                return self.error(
                    c.plugin.span(),
                    &format!("{field}.plugin"),
                    format!(
                        "plugin `{}` is not defined; defined plugins: {}",
                        c.plugin.get_ref(),
                        list(plugins.keys())
                    ),
                );
            }
            let mut settings = Settings::default();
            for (name, value) in &c.settings {
                let (resolved, secret) = match resolve_value(value.get_ref(), self.base) {
                    Ok(v) => v,
                    Err(e) => {
                        return self.error(
                            value.span(),
                            &format!("{field}.settings.{name}"),
                            format!("{e:#}"),
                        );
                    }
                };
                settings.insert(name.clone(), resolved, secret);
            }
            let mut grant = Grant {
                allow_private_networks: c.grant.private_networks,
                ..Grant::default()
            };
            if c.grant.hosts.is_empty() {
                return Err(anyhow!(
                    "invalid configuration `{}`, `{field}.grant.hosts`: grant at least one origin, or \"requested\" for the hosts the plugin asks for",
                    self.path.display()
                ));
            }
            for host in &c.grant.hosts {
                if host.get_ref() == "requested" {
                    grant.all_requested = true;
                    continue;
                }
                match OriginPattern::parse(host.get_ref()) {
                    Ok(p) => grant.origins.push(p),
                    Err(e) => {
                        return self.error(
                            host.span(),
                            &format!("{field}.grant.hosts"),
                            format!("`{}`: {e:#}", host.get_ref()),
                        );
                    }
                }
            }
            let l = &c.limits;
            let lf = |name: &str| format!("{field}.limits.{name}");
            let http_defaults = HttpLimits::default();
            let kv_defaults = KvLimits::default();
            let http = HttpLimits {
                connect_timeout: self.duration(
                    &l.connect_timeout,
                    &lf("connect-timeout"),
                    http_defaults.connect_timeout,
                )?,
                request_timeout: self.duration(
                    &l.request_timeout,
                    &lf("request-timeout"),
                    http_defaults.request_timeout,
                )?,
                max_response_bytes: self.size(
                    &l.max_response_size,
                    &lf("max-response-size"),
                    http_defaults.max_response_bytes,
                )?,
                max_retries: l.max_retries.unwrap_or(http_defaults.max_retries),
                max_retry_wait: self.duration(
                    &l.max_retry_wait,
                    &lf("max-retry-wait"),
                    http_defaults.max_retry_wait,
                )?,
                max_queue_wait: self.duration(
                    &l.max_queue_wait,
                    &lf("max-queue-wait"),
                    http_defaults.max_queue_wait,
                )?,
                max_endpoint_scopes: self.count(
                    &l.max_endpoint_scopes,
                    &lf("max-endpoint-scopes"),
                    http_defaults.max_endpoint_scopes,
                    65_536,
                )?,
                connection: ScopeLimits {
                    rate: self.rate_with_burst(l, &lf("rate"), &lf("rate-burst"))?,
                    max_concurrent: l.max_concurrent,
                },
            };
            let kv = KvLimits {
                quota_bytes: self.size(&l.kv_quota, &lf("kv-quota"), kv_defaults.quota_bytes)?,
                max_value_bytes: u32::try_from(self.size(
                    &l.kv_max_value,
                    &lf("kv-max-value"),
                    u64::from(kv_defaults.max_value_bytes),
                )?)
                .unwrap_or(u32::MAX),
                max_key_bytes: kv_defaults.max_key_bytes,
            };
            let log_defaults = LogLimits::default();
            let log = LogLimits {
                max_line_bytes: match (
                    &l.log_line_size,
                    self.size(
                        &l.log_line_size,
                        &lf("log-line-size"),
                        log_defaults.max_line_bytes as u64,
                    )?,
                ) {
                    (Some(v), n) if n > 1 << 20 => {
                        return self.error(v.span(), &lf("log-line-size"), "at most 1MiB");
                    }
                    (_, n) => n as usize,
                },
                lines_per_call: self.count(
                    &l.log_lines_per_call,
                    &lf("log-lines-per-call"),
                    log_defaults.lines_per_call as usize,
                    1_000_000,
                )? as u32,
                rate: l
                    .log_rate
                    .as_ref()
                    .map(|r| self.rate(r, &lf("log-rate")))
                    .transpose()?
                    .unwrap_or(log_defaults.rate),
            };
            let schedule = match &c.schedule {
                Some(s) => self.schedule(s, &format!("{field}.schedule"))?,
                None => Schedule::default(),
            };
            let windows = match &c.windows {
                Some(w) => self.windows(w, &format!("{field}.windows"))?,
                None => Default::default(),
            };
            let linking = match &c.linking {
                Some(l) => self.linking(l, &format!("{field}.linking"))?,
                None => LinkingConfig::default(),
            };
            let inventory = c
                .inventory
                .as_ref()
                .map(|i| self.inventory(i, &format!("{field}.inventory")))
                .transpose()?;
            let delivery = match &c.delivery {
                Some(d) => Some(delivery::delivery(
                    d.get_ref(),
                    &format!("{field}.delivery"),
                    d.span(),
                    &|span, field, message| {
                        self.error::<()>(span, field, message)
                            .expect_err("an error is an error")
                    },
                )?),
                None => None,
            };
            connections.insert(
                id.clone(),
                ConnectionConfig {
                    id: id.clone(),
                    plugin: c.plugin.get_ref().clone(),
                    settings,
                    policy: ConnectionPolicy {
                        grant,
                        http,
                        kv,
                        log,
                    },
                    schedule,
                    windows,
                    linking,
                    inventory,
                    delivery,
                },
            );
        }

        let sync = self.sync(&raw.sync)?;
        let api = raw.api.as_ref().map(|a| self.api(a)).transpose()?;
        let store = self.store(&raw.store)?;
        let cluster = raw
            .cluster
            .as_ref()
            .map(|c| self.cluster(c, &store, api.as_ref()))
            .transpose()?;
        Ok(Config {
            path: self.path.to_path_buf(),
            data_dir,
            runtime,
            plugins,
            connections,
            sync,
            api,
            plugin_dir: plugin_dir.map(|(dir, _)| dir),
            plugin_watch_interval,
            store,
            cluster,
        })
    }

    fn cluster(
        &self,
        raw: &Spanned<RawCluster>,
        store: &StoreConfig,
        api: Option<&ApiConfig>,
    ) -> anyhow::Result<ClusterConfig> {
        if matches!(store, StoreConfig::Sled) {
            return self.error(
                raw.span(),
                "cluster",
                "needs `[store] postgres`: replicas share their records and leases in PostgreSQL; add a `[store]` section with `postgres = \"...\"` or remove `[cluster]`",
            );
        }
        let c = raw.get_ref();
        let Some(replica) = &c.replica else {
            return self.error(
                raw.span(),
                "cluster.replica",
                "is missing: name this replica, for example `replica = \"replica-a\"` (unique among the replicas)",
            );
        };
        let name = replica.get_ref();
        let kebab = !name.is_empty()
            && name.len() <= 63
            && name
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
            && !name.starts_with('-')
            && !name.ends_with('-');
        if !kebab {
            return self.error(
                replica.span(),
                "cluster.replica",
                format!(
                    "`{}` is not a replica name: use 1 to 63 lowercase letters, digits and inner dashes, like \"replica-a\"",
                    name.escape_debug()
                ),
            );
        }
        let lease = self.duration(&c.lease, "cluster.lease", Duration::from_secs(30))?;
        if !(MIN_LEASE..=MAX_LEASE).contains(&lease) {
            let span = c.lease.as_ref().map_or(raw.span(), |l| l.span());
            return self.error(
                span,
                "cluster.lease",
                format!(
                    "`{}` is out of range: write a duration from 2s to 10min",
                    humantime::format_duration(lease)
                ),
            );
        }
        let renew_every = self.duration(&c.renew_every, "cluster.renew-every", lease / 3)?;
        if renew_every >= lease / 2 {
            let span = c.renew_every.as_ref().map_or(raw.span(), |r| r.span());
            return self.error(
                span,
                "cluster.renew-every",
                format!(
                    "`{}` is too long for a lease of {}: renew more often than every half lease (a lost renewal must leave time for another), or leave it out (lease/3)",
                    humantime::format_duration(renew_every),
                    humantime::format_duration(lease)
                ),
            );
        }
        let advertise = match &c.advertise {
            None => None,
            Some(a) => Some(self.advertise(a, api)?),
        };
        Ok(ClusterConfig {
            replica: name.clone(),
            lease,
            renew_every,
            advertise,
        })
    }

    fn advertise(
        &self,
        raw: &Spanned<String>,
        api: Option<&ApiConfig>,
    ) -> anyhow::Result<Advertise> {
        let value = raw.get_ref();
        if value == "listen" {
            return match api {
                None => self.error(
                    raw.span(),
                    "cluster.advertise",
                    "`listen` needs an `[api]` section: add one with `listen = \"10.0.0.5:8780\"`, or advertise a URL",
                ),
                Some(api) if api.listen.ip().is_unspecified() => self.error(
                    raw.span(),
                    "cluster.advertise",
                    format!(
                        "`listen` cannot advertise `{}`: the other replicas cannot reach an unspecified address; advertise the URL they reach this replica at, like \"http://10.0.0.5:{}\"",
                        api.listen,
                        api.listen.port()
                    ),
                ),
                Some(_) => Ok(Advertise::Listen),
            };
        }
        let rest = value
            .strip_prefix("http://")
            .or_else(|| value.strip_prefix("https://"));
        let authority = rest.map(|r| r.strip_suffix('/').unwrap_or(r));
        let valid = authority.is_some_and(|a| {
            !a.is_empty()
                && a.len() <= 255
                && a.chars().all(|ch| {
                    ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-' | ':' | '[' | ']')
                })
        });
        if !valid {
            return self.error(
                raw.span(),
                "cluster.advertise",
                format!(
                    "`{}` is not an API address: write \"listen\" or a URL with a host and a port and nothing after, like \"http://10.0.0.5:8780\"",
                    value.escape_debug()
                ),
            );
        }
        Ok(Advertise::Url(value.trim_end_matches('/').to_string()))
    }

    fn store(&self, raw: &RawStore) -> anyhow::Result<StoreConfig> {
        let Some(postgres) = &raw.postgres else {
            if let Some(schema) = &raw.schema {
                return self.error(schema.span(), "store.schema", "needs `postgres`");
            }
            if let Some(n) = &raw.max_connections {
                return self.error(n.span(), "store.max-connections", "needs `postgres`");
            }
            if let Some(f) = &raw.ca_file {
                return self.error(f.span(), "store.ca-file", "needs `postgres`");
            }
            return Ok(StoreConfig::Sled);
        };
        // Literal or reference, the value is treated as a secret (it may hold a password):
        // no message repeats it.
        let url = match resolve_value(postgres.get_ref(), self.base) {
            Ok((url, _)) => url.trim().to_string(),
            Err(e) => return self.error(postgres.span(), "store.postgres", format!("{e:#}")),
        };
        let mut options = psahost_store::PgOptions {
            schema: raw.schema.as_ref().map(|s| s.get_ref().clone()),
            ..psahost_store::PgOptions::default()
        };
        if let Some(n) = &raw.max_connections {
            if *n.get_ref() == 0 {
                return self.error(n.span(), "store.max-connections", "must be at least 1");
            }
            options.max_connections = *n.get_ref() as usize;
        }
        if let Err(e) = psahost_store::PgStore::check(
            &url,
            &psahost_store::PgOptions {
                schema: None,
                ca_file: None,
                ..options.clone()
            },
        ) {
            return self.error(postgres.span(), "store.postgres", format!("{e:#}"));
        }
        let only_schema = psahost_store::PgOptions {
            ca_file: None,
            ..options.clone()
        };
        if let (Some(schema), Err(e)) =
            (&raw.schema, psahost_store::PgStore::check("", &only_schema))
        {
            return self.error(schema.span(), "store.schema", format!("{e:#}"));
        }
        if let Some(f) = &raw.ca_file {
            options.ca_file = Some(self.path_of(f.get_ref()));
            if let Err(e) = psahost_store::PgStore::check(&url, &options) {
                return self.error(f.span(), "store.ca-file", format!("{e:#}"));
            }
        }
        Ok(StoreConfig::Postgres { url, options })
    }

    /// The plugin directory and its `*.wasm` files by id (the file name without `.wasm`).
    fn plugin_dir(
        &self,
        dir: &Spanned<String>,
    ) -> anyhow::Result<(PathBuf, BTreeMap<String, PathBuf>)> {
        let path = self.path_of(dir.get_ref());
        let entries = match std::fs::read_dir(&path) {
            Ok(entries) => entries,
            Err(e) => {
                return self.error(
                    dir.span(),
                    "plugins.dir",
                    format!("cannot read the directory `{}`: {e}", path.display()),
                );
            }
        };
        let mut files = BTreeMap::new();
        for entry in entries.flatten() {
            let file = entry.path();
            if file.extension().is_some_and(|x| x == "wasm")
                && file.is_file()
                && let Some(id) = file.file_stem().and_then(|s| s.to_str())
            {
                files.insert(id.to_string(), file.clone());
            }
        }
        Ok((path, files))
    }

    fn api(&self, a: &RawApi) -> anyhow::Result<ApiConfig> {
        let listen = match a.listen.get_ref().parse::<std::net::SocketAddr>() {
            Ok(addr) => addr,
            Err(e) => {
                return self.error(
                    a.listen.span(),
                    "api.listen",
                    format!(
                        "`{}` is not an address and port ({e}); write for example \"127.0.0.1:8780\"",
                        a.listen.get_ref()
                    ),
                );
            }
        };
        let token = match resolve_value(a.token.get_ref(), self.base) {
            Ok((token, _)) => token,
            Err(e) => return self.error(a.token.span(), "api.token", format!("{e:#}")),
        };
        if token.trim().chars().count() < 16 {
            return self.error(
                a.token.span(),
                "api.token",
                "the token must have at least 16 characters; generate one, for example with `openssl rand -hex 32`, and reference it as \"${env:PSAHOST_API_TOKEN}\"",
            );
        }
        Ok(ApiConfig {
            listen,
            token: token.trim().to_string(),
        })
    }

    fn schedule(
        &self,
        raw: &BTreeMap<String, Spanned<String>>,
        field: &str,
    ) -> anyhow::Result<Schedule> {
        let mut schedule = Schedule::default();
        for (key, value) in raw {
            let name = format!("{field}.{key}");
            let interval = self.duration(&Some(value.clone()), &name, Duration::ZERO)?;
            if interval < Duration::from_secs(1) {
                return self.error(value.span(), &name, "must be at least one second");
            }
            if key == "full-sweep" {
                schedule.full_sweep = Some(interval);
                continue;
            }
            match key.parse::<psahost_store::Entity>() {
                Ok(entity) => schedule.entities.push((entity, interval)),
                Err(_) => {
                    return self.error(
                        value.span(),
                        &name,
                        format!(
                            "`{key}` is neither an entity ({}) nor `full-sweep`",
                            psahost_store::Entity::ALL.map(|e| e.name()).join(", ")
                        ),
                    );
                }
            }
        }
        if schedule.full_sweep.is_some() && schedule.entities.is_empty() {
            return Err(anyhow!(
                "invalid configuration `{}`, `{field}`: `full-sweep` sweeps the scheduled entities, but none is scheduled; add for example `companies = \"15min\"`",
                self.path.display()
            ));
        }
        schedule.entities.sort();
        Ok(schedule)
    }

    fn windows(
        &self,
        raw: &BTreeMap<String, Spanned<String>>,
        field: &str,
    ) -> anyhow::Result<psahost_workflows::sync::Windows> {
        let mut windows = psahost_workflows::sync::Windows::new();
        for (key, value) in raw {
            let name = format!("{field}.{key}");
            let entity = match key.parse::<psahost_store::Entity>() {
                Ok(entity) => entity,
                Err(e) => return self.error(value.span(), &name, format!("{e:#}")),
            };
            let window = self.duration(&Some(value.clone()), &name, Duration::ZERO)?;
            if window < Duration::from_secs(3600) {
                return self.error(
                    value.span(),
                    &name,
                    "a window must be at least an hour; write for example \"14days\" or \"2years\"",
                );
            }
            windows.insert(entity, window);
        }
        Ok(windows)
    }

    /// `[connections.ID.linking]`: the rule set is read and validated now, so that a bad file
    /// stops the start, not a linking request; the components must be files (they are loaded
    /// when the first request needs them).
    fn linking(&self, raw: &RawLinking, field: &str) -> anyhow::Result<LinkingConfig> {
        let rules_field = format!("{field}.customers-rules");
        let plugins_field = format!("{field}.rule-plugins");
        let customers_rules = match &raw.customers_rules {
            Some(value) => {
                let path = self.path_of(value.get_ref());
                match psahost_matching::rules::RuleSet::load(&path) {
                    Ok(rules) => Some((path, rules)),
                    Err(e) => return self.error(value.span(), &rules_field, format!("{e:#}")),
                }
            }
            None => None,
        };
        let plugins_span = raw.rule_plugins.as_ref().map_or(0..0, Spanned::span);
        let plugins: &[Spanned<String>] = raw.rule_plugins.as_ref().map_or(&[], |p| p.get_ref());
        if plugins.len() > MAX_RULE_PLUGINS {
            return self.error(
                plugins_span.clone(),
                &plugins_field,
                format!(
                    "{} components, over {MAX_RULE_PLUGINS}: list only those the rule set names",
                    plugins.len()
                ),
            );
        }
        let mut rule_plugins = Vec::with_capacity(plugins.len());
        for value in plugins {
            let path = self.path_of(value.get_ref());
            if !path.is_file() {
                return self.error(
                    value.span(),
                    &plugins_field,
                    format!(
                        "`{}` is not a file: give the path of a matching rule component (`.wasm`), relative to this file",
                        path.display()
                    ),
                );
            }
            rule_plugins.push(path);
        }
        match &customers_rules {
            None if !rule_plugins.is_empty() => {
                return self.error(
                    plugins_span,
                    &plugins_field,
                    "the built-in customer rules call no component: set `customers-rules` to a rule set naming them, or remove `rule-plugins`",
                );
            }
            Some((path, rules)) if !rules.custom.is_empty() && rule_plugins.is_empty() => {
                return self.error(
                    raw.customers_rules.as_ref().map_or(0..0, Spanned::span),
                    &rules_field,
                    format!(
                        "`{}` names matching rule `{}`: list its component in `rule-plugins`",
                        path.display(),
                        rules.custom[0].rule
                    ),
                );
            }
            _ => {}
        }
        Ok(LinkingConfig {
            customers_rules,
            rule_plugins,
        })
    }

    fn sync(&self, raw: &RawSync) -> anyhow::Result<psahost_workflows::sync::SyncSettings> {
        let defaults = psahost_workflows::sync::SyncSettings::default();
        let page_size = match &raw.page_size {
            None => defaults.page_size,
            Some(v) => match u32::try_from(*v.get_ref()) {
                Ok(n) if (1..=10_000).contains(&n) => Some(n),
                _ => {
                    return self.error(
                        v.span(),
                        "sync.page-size",
                        format!("{} is not a page size from 1 to 10000", v.get_ref()),
                    );
                }
            },
        };
        let max_concurrent = match &raw.max_concurrent {
            None => defaults.max_concurrent,
            Some(v) => match usize::try_from(*v.get_ref()) {
                Ok(n) if n >= 1 => n,
                _ => {
                    return self.error(
                        v.span(),
                        "sync.max-concurrent",
                        format!("{} is not a number of runs (at least 1)", v.get_ref()),
                    );
                }
            },
        };
        let mass_delete_share = match &raw.mass_delete_share {
            None => defaults.mass_delete_share,
            Some(v) => {
                let share = match v.get_ref() {
                    RawShare::Number(n) => Some(*n),
                    RawShare::Text(t) => t
                        .trim()
                        .strip_suffix('%')
                        .and_then(|p| p.trim().parse::<f64>().ok())
                        .map(|p| p / 100.0),
                };
                match share {
                    Some(s) if (0.0..=1.0).contains(&s) => s,
                    _ => {
                        return self.error(
                            v.span(),
                            "sync.mass-delete-share",
                            "write a share from 0 to 1 (0.1) or a percentage (\"10%\")",
                        );
                    }
                }
            }
        };
        let mass_delete_floor = match &raw.mass_delete_floor {
            None => defaults.mass_delete_floor,
            Some(v) => match u64::try_from(*v.get_ref()) {
                Ok(n) => n,
                Err(_) => {
                    return self.error(
                        v.span(),
                        "sync.mass-delete-floor",
                        format!(
                            "{} is not a number of records (0 or more; 0 leaves only the share)",
                            v.get_ref()
                        ),
                    );
                }
            },
        };
        Ok(psahost_workflows::sync::SyncSettings {
            page_size,
            overlap: self.duration(&raw.overlap, "sync.overlap", defaults.overlap)?,
            mass_delete_share,
            mass_delete_floor,
            max_concurrent,
            page_retries: raw.page_retries.unwrap_or(defaults.page_retries),
            retry_backoff: self.duration(
                &raw.retry_backoff,
                "sync.retry-backoff",
                defaults.retry_backoff,
            )?,
            rate_limit_backoff: self.duration(
                &raw.rate_limit_backoff,
                "sync.rate-limit-backoff",
                defaults.rate_limit_backoff,
            )?,
            max_pages_per_run: self.positive(
                &raw.max_pages_per_run,
                "sync.max-pages-per-run",
                defaults.max_pages_per_run,
            )?,
            max_records_per_run: self.positive(
                &raw.max_records_per_run,
                "sync.max-records-per-run",
                defaults.max_records_per_run,
            )?,
            max_bytes_per_run: self.size(
                &raw.max_bytes_per_run,
                "sync.max-bytes-per-run",
                defaults.max_bytes_per_run,
            )?,
        })
    }

    /// A number of 1 or more.
    fn positive(
        &self,
        value: &Option<Spanned<i64>>,
        field: &str,
        default: u64,
    ) -> anyhow::Result<u64> {
        match value {
            None => Ok(default),
            Some(v) if *v.get_ref() > 0 => Ok(*v.get_ref() as u64),
            Some(v) => self.error(v.span(), field, "must be 1 or more"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[runtime]
data-dir = "data"
memory-limit = "32MiB"
call-timeout = "5s"

[plugins.cw]
builtin = "connectwise-manage"

[connections.acme]
plugin = "cw"
settings = { site = "api-na.myconnectwise.net", private-key = "${file:key.txt}" }
grant = { hosts = ["requested", "http://127.0.0.1:*"] }
limits = { rate = "600/min", max-concurrent = 4, kv-quota = "2MiB" }
"#;

    fn parse(text: &str) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("key.txt"), "k3y\n").unwrap();
        Config::parse(text, &dir.path().join("psahost.toml"))
    }

    #[test]
    fn relative_paths_are_absolute_from_the_files_directory() {
        let text = GOOD.replace("${file:key.txt}", "k3y");
        let c = Config::parse(&text, Path::new("psahost.toml")).unwrap();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(c.data_dir, cwd.join("data"));
        assert!(c.data_dir.is_absolute());
        let c = Config::parse(&text, Path::new("conf/psahost.toml")).unwrap();
        assert_eq!(c.data_dir, cwd.join("conf").join("data"));
    }

    #[test]
    fn parses_a_good_config() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.runtime.memory_limit, 32 * 1024 * 1024);
        assert_eq!(c.runtime.call_timeout, Duration::from_secs(5));
        assert_eq!(c.runtime.max_result_bytes, 32 * 1024 * 1024);
        let c = parse(&GOOD.replace("call-timeout", "max-result-size = \"1MiB\"\ncall-timeout"))
            .unwrap();
        assert_eq!(c.runtime.max_result_bytes, 1024 * 1024);
        let e = parse(&GOOD.replace("call-timeout", "max-result-size = \"lots\"\ncall-timeout"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("runtime.max-result-size"), "{e}");
        let acme = c.connection("acme").unwrap();
        assert_eq!(acme.settings.get("private-key"), Some("k3y"));
        assert!(acme.policy.grant.all_requested);
        assert_eq!(acme.policy.grant.origins.len(), 1);
        assert_eq!(acme.policy.http.connection.max_concurrent, Some(4));
        assert_eq!(acme.policy.kv.quota_bytes, 2 * 1024 * 1024);
        assert!(
            c.connection("nope")
                .unwrap_err()
                .to_string()
                .contains("configured: acme")
        );
    }

    #[test]
    fn sync_section_defaults_and_errors() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.sync, psahost_workflows::sync::SyncSettings::default());
        let c = parse(&format!(
            "{GOOD}\n[sync]\npage-size = 100\noverlap = \"10min\"\nmass-delete-share = \"25%\"\nmax-concurrent = 2\n"
        ))
        .unwrap();
        assert_eq!(c.sync.page_size, Some(100));
        assert_eq!(c.sync.overlap, Duration::from_secs(600));
        assert_eq!(c.sync.mass_delete_share, 0.25);
        assert_eq!(c.sync.max_concurrent, 2);
        let c = parse(&format!(
            "{GOOD}\n[sync]\nmass-delete-share = 0.05\nmass-delete-floor = 0\n"
        ))
        .unwrap();
        assert_eq!(c.sync.mass_delete_share, 0.05);
        assert_eq!(c.sync.mass_delete_floor, 0);
        let c = parse(&format!(
            "{GOOD}\n[sync]\nmax-pages-per-run = 7\nmax-records-per-run = 70\n"
        ))
        .unwrap();
        assert_eq!(
            (c.sync.max_pages_per_run, c.sync.max_records_per_run),
            (7, 70)
        );
        for (bad, field) in [
            ("page-size = 0", "sync.page-size"),
            ("mass-delete-share = \"150%\"", "sync.mass-delete-share"),
            ("mass-delete-share = 2", "sync.mass-delete-share"),
            ("mass-delete-floor = -1", "sync.mass-delete-floor"),
            ("max-concurrent = 0", "sync.max-concurrent"),
            ("overlap = \"soon\"", "sync.overlap"),
            ("max-pages-per-run = 0", "sync.max-pages-per-run"),
            ("max-records-per-run = -5", "sync.max-records-per-run"),
            ("max-bytes-per-run = \"lots\"", "sync.max-bytes-per-run"),
        ] {
            let e = parse(&format!("{GOOD}\n[sync]\n{bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(field) && e.contains("line 17"), "{bad}: {e}");
        }
        let e = parse(&format!("{GOOD}\n[sync]\npagesize = 5\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("pagesize"), "{e}");
    }

    #[test]
    fn linking_rules_and_their_components() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("rules")).unwrap();
        std::fs::write(dir.path().join("rules/my-rule.wasm"), b"").unwrap();
        std::fs::write(
            dir.path().join("rules/customers.toml"),
            "[[identifier]]\nname = \"name\"\nsubject = \"name\"\ncandidate = \"name\"\ncompare = \"company-name\"\n\n[[identifier]]\nrule = \"my-rule\"\ncandidates = \"preselected\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("rules/bad.toml"),
            "[[identifier]]\nname = \"name\"\nsubject = \"name\"\ncandidate = \"name\"\ncompare = \"soundex\"\n",
        )
        .unwrap();
        let parse = |extra: &str| {
            Config::parse(
                &format!("{GOOD}\n[connections.acme.linking]\n{extra}")
                    .replace("${file:key.txt}", "k"),
                &dir.path().join("psahost.toml"),
            )
        };
        let c = parse(
            "customers-rules = \"rules/customers.toml\"\nrule-plugins = [\"rules/my-rule.wasm\"]\n",
        )
        .unwrap();
        let linking = &c.connection("acme").unwrap().linking;
        let (path, rules) = linking.customers_rules.as_ref().unwrap();
        assert_eq!(path, &dir.path().join("rules/customers.toml"));
        assert_eq!(rules.custom[0].rule, "my-rule");
        assert_eq!(
            linking.rule_plugins,
            [dir.path().join("rules/my-rule.wasm")]
        );
        assert!(
            GOOD.contains("[connections.acme]")
                && Config::parse(
                    &GOOD.replace("${file:key.txt}", "k"),
                    &dir.path().join("p.toml")
                )
                .unwrap()
                .connection("acme")
                .unwrap()
                .linking
                .customers_rules
                .is_none(),
            "absent: the built-in rules"
        );
        for (extra, wanted) in [
            (
                "customers-rules = \"rules/bad.toml\"\n",
                &[
                    "connections.acme.linking.customers-rules",
                    "bad.toml",
                    "line 5",
                    "identifier[1].compare`",
                    "soundex",
                ][..],
            ),
            (
                "customers-rules = \"rules/none.toml\"\n",
                &["connections.acme.linking.customers-rules", "none.toml"],
            ),
            (
                "customers-rules = \"rules/customers.toml\"\n",
                &["names matching rule `my-rule`", "rule-plugins"],
            ),
            (
                "customers-rules = \"rules/customers.toml\"\nrule-plugins = [\"rules/gone.wasm\"]\n",
                &[
                    "connections.acme.linking.rule-plugins",
                    "gone.wasm",
                    "is not a file",
                ],
            ),
            (
                "rule-plugins = [\"rules/my-rule.wasm\"]\n",
                &["set `customers-rules`"],
            ),
            ("customer-rules = \"x\"\n", &["customer-rules"]),
        ] {
            let e = format!("{:#}", parse(extra).unwrap_err());
            for w in wanted {
                assert!(e.contains(w), "{extra}: {w} not in {e}");
            }
        }
    }

    #[test]
    fn api_plugin_dir_and_schedule() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("plugins")).unwrap();
        std::fs::write(dir.path().join("plugins/vendor-x.wasm"), b"").unwrap();
        std::fs::write(dir.path().join("plugins/notes.txt"), b"").unwrap();
        let parse = |extra: &str| {
            Config::parse(
                &format!("{GOOD}{extra}").replace("${file:key.txt}", "k"),
                &dir.path().join("psahost.toml"),
            )
        };
        let text = "\n[api]\nlisten = \"127.0.0.1:8780\"\ntoken = \"0123456789abcdef\"\n\
                    \n[connections.acme.schedule]\ncompanies = \"15min\"\ntickets = \"5min\"\nfull-sweep = \"24h\"\n";
        let c = parse(text).unwrap();
        let api = c.api.as_ref().unwrap();
        assert_eq!(api.listen.port(), 8780);
        assert!(!format!("{api:?}").contains("0123456789abcdef"));
        let s = &c.connection("acme").unwrap().schedule;
        assert_eq!(
            s.entities,
            vec![
                (psahost_store::Entity::Companies, Duration::from_secs(900)),
                (psahost_store::Entity::Tickets, Duration::from_secs(300)),
            ]
        );
        assert_eq!(s.full_sweep, Some(Duration::from_secs(86400)));
        assert_eq!(c.plugin_watch_interval, Duration::from_secs(2));
        assert!(c.plugin_dir.is_none());

        // The plugin directory: every *.wasm is a plugin; a pin-only table pins one.
        let c = parse("\n[plugins]\ndir = \"plugins\"\nwatch-interval = \"500ms\"\n").unwrap();
        assert!(c.plugins.contains_key("vendor-x") && !c.plugins.contains_key("notes"));
        assert_eq!(c.plugin_watch_interval, Duration::from_millis(500));
        let pin = "a".repeat(64);
        let c = parse(&format!(
            "\n[plugins]\ndir = \"plugins\"\n[plugins.vendor-x]\nsha256 = \"{pin}\"\n"
        ))
        .unwrap();
        assert_eq!(c.plugins["vendor-x"].sha256.as_deref(), Some(pin.as_str()));

        for (extra, field) in [
            (
                "\n[api]\nlisten = \"localhost\"\ntoken = \"0123456789abcdef\"\n",
                "api.listen",
            ),
            (
                "\n[api]\nlisten = \"127.0.0.1:1\"\ntoken = \"short\"\n",
                "api.token",
            ),
            (
                "\n[api]\nlisten = \"127.0.0.1:1\"\ntoken = \"${env:PSAHOST_SURELY_UNSET}\"\n",
                "api.token",
            ),
            (
                "\n[connections.acme.schedule]\nWidget_s = \"5min\"\n",
                "connections.acme.schedule.Widget_s",
            ),
            (
                "\n[connections.acme.windows]\ntime-entries = \"10min\"\n",
                "connections.acme.windows.time-entries",
            ),
            (
                "\n[connections.acme.windows]\nTickets = \"14days\"\n",
                "connections.acme.windows.Tickets",
            ),
            (
                "\n[connections.acme.schedule]\ncompanies = \"soon\"\n",
                "connections.acme.schedule.companies",
            ),
            (
                "\n[connections.acme.schedule]\ncompanies = \"10ms\"\n",
                "connections.acme.schedule.companies",
            ),
            (
                "\n[connections.acme.schedule]\nfull-sweep = \"1h\"\n",
                "connections.acme.schedule",
            ),
            ("\n[plugins]\ndir = \"missing\"\n", "plugins.dir"),
        ] {
            let e = parse(extra).unwrap_err().to_string();
            assert!(
                e.contains(field) && e.contains("psahost.toml"),
                "{extra}: {e}"
            );
        }
        let e = parse("\n[api]\nlisten = \"127.0.0.1:1\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("token"), "{e}");
    }

    #[test]
    fn max_component_size() {
        assert_eq!(
            parse(GOOD).unwrap().runtime.max_component_size,
            16 * 1024 * 1024
        );
        let c = parse(&GOOD.replace(
            "call-timeout",
            "max-component-size = \"2MiB\"\ncall-timeout",
        ))
        .unwrap();
        assert_eq!(c.runtime.max_component_size, 2 * 1024 * 1024);
        let e = parse(&GOOD.replace(
            "call-timeout",
            "max-component-size = \"huge\"\ncall-timeout",
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("runtime.max-component-size") && e.contains("`huge`"),
            "{e}"
        );
    }

    #[test]
    fn sandbox_limits_have_defaults_and_name_their_key() {
        let c = parse(GOOD).unwrap();
        let acme = c.connection("acme").unwrap();
        assert_eq!(
            acme.policy.http.max_endpoint_scopes,
            psahost_sandbox::capabilities::http::DEFAULT_MAX_ENDPOINT_SCOPES
        );
        assert_eq!(
            acme.policy.log,
            psahost_sandbox::capabilities::log::LogLimits::default()
        );
        let c = parse(&GOOD.replace(
            "max-concurrent = 4",
            "log-line-size = \"1KiB\", log-lines-per-call = 10, log-rate = \"60/min\"",
        ))
        .unwrap();
        let log = c.connection("acme").unwrap().policy.log;
        assert_eq!(
            (log.max_line_bytes, log.lines_per_call, log.rate.requests),
            (1024, 10, 60)
        );
        for (bad, key) in [
            ("log-line-size = \"2MiB\"", "log-line-size"),
            ("log-lines-per-call = 0", "log-lines-per-call"),
            ("log-rate = \"lots\"", "log-rate"),
        ] {
            let e = parse(&GOOD.replace("max-concurrent = 4", bad))
                .unwrap_err()
                .to_string();
            assert!(e.contains(&format!("connections.acme.limits.{key}")), "{e}");
        }
        let c = parse(&GOOD.replace("max-concurrent = 4", "max-endpoint-scopes = 32")).unwrap();
        assert_eq!(
            c.connection("acme")
                .unwrap()
                .policy
                .http
                .max_endpoint_scopes,
            32
        );
        let e = parse(&GOOD.replace("max-concurrent = 4", "max-endpoint-scopes = 0"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("connections.acme.limits.max-endpoint-scopes") && e.contains("line 14"),
            "{e}"
        );
    }

    #[test]
    fn replaces_builtin_is_for_file_plugins_only() {
        let e = parse(&GOOD.replace(
            "builtin = \"connectwise-manage\"",
            "builtin = \"connectwise-manage\"\nreplaces-builtin = true",
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("plugins.cw.replaces-builtin")
                && e.contains("only a plugin loaded from a file"),
            "{e}"
        );
        let c = parse(&GOOD.replace(
            "builtin = \"connectwise-manage\"",
            "path = \"cw.wasm\"\nreplaces-builtin = true",
        ))
        .unwrap();
        assert!(c.plugins["cw"].replaces_builtin);
        assert!(!parse(GOOD).unwrap().plugins["cw"].replaces_builtin);
    }

    #[test]
    fn typo_names_file_line_and_field() {
        let text = GOOD.replace("memory-limit", "memroy-limit");
        let e = parse(&text).unwrap_err().to_string();
        assert!(e.contains("psahost.toml"), "{e}");
        assert!(e.contains("line 4"), "{e}");
        assert!(e.contains("memroy-limit"), "{e}");
    }

    #[test]
    fn semantic_errors_name_line_and_field() {
        let e = parse(&GOOD.replace("plugin = \"cw\"", "plugin = \"cwm\""))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 11")
                && e.contains("connections.acme.plugin")
                && e.contains("defined plugins: cw"),
            "{e}"
        );
        let burst = |b: &str| {
            parse(&GOOD.replace("rate = \"600/min\"", b)).map(|c| {
                c.connections["acme"]
                    .policy
                    .http
                    .connection
                    .rate
                    .and_then(|r| r.burst)
            })
        };
        assert_eq!(
            burst("rate = \"600/min\", rate-burst = 1").unwrap(),
            Some(1)
        );
        assert_eq!(burst("rate = \"600/min\"").unwrap(), None);
        for (bad, says) in [
            ("rate = \"600/min\", rate-burst = 0", "0 is out of range"),
            (
                "rate = \"600/min\", rate-burst = 601",
                "the rate's 600 requests",
            ),
            ("rate-burst = 5", "needs a `rate`"),
        ] {
            let e = burst(bad).unwrap_err().to_string();
            assert!(
                e.contains("connections.acme.limits.rate-burst") && e.contains(says),
                "{bad}: {e}"
            );
        }
        let e = parse(&GOOD.replace("600/min", "600 per minute"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("connections.acme.limits.rate") && e.contains("600/min"),
            "{e}"
        );
        let e = parse(&GOOD.replace("\"5s\"", "\"5 parsecs\""))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 5") && e.contains("runtime.call-timeout"),
            "{e}"
        );
        let e = parse(&GOOD.replace("http://127.0.0.1:*", "ftp://x"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("grant.hosts") && e.contains("ftp"), "{e}");
        let e = parse(&GOOD.replace("${file:key.txt}", "${file:missing.txt}"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("settings.private-key") && e.contains("missing.txt"),
            "{e}"
        );
    }

    #[test]
    fn store_is_sled_by_default_or_postgres_when_set() {
        assert!(matches!(parse(GOOD).unwrap().store, StoreConfig::Sled));
        let c = parse(&format!(
            "{GOOD}\n[store]\npostgres = \"${{file:pg.txt}}\"\nschema = \"psahost\"\nmax-connections = 4\n"
        ));
        // (the file is missing: the reference is resolved and its failure reported)
        let e = c.unwrap_err().to_string();
        assert!(e.contains("store.postgres") && e.contains("pg.txt"), "{e}");

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("key.txt"), "k3y\n").unwrap();
        std::fs::write(
            dir.path().join("pg.txt"),
            "postgresql://psahost:s3cret@127.0.0.1/psahost\n",
        )
        .unwrap();
        let text = format!(
            "{GOOD}\n[store]\npostgres = \"${{file:pg.txt}}\"\nschema = \"psahost\"\nmax-connections = 4\n"
        );
        let c = Config::parse(&text, &dir.path().join("psahost.toml")).unwrap();
        let StoreConfig::Postgres { url, options } = &c.store else {
            panic!("{:?}", c.store)
        };
        assert_eq!(url, "postgresql://psahost:s3cret@127.0.0.1/psahost");
        assert_eq!(
            (options.schema.as_deref(), options.max_connections),
            (Some("psahost"), 4)
        );
        let debug = format!("{c:?}");
        assert!(!debug.contains("s3cret"), "{debug}");

        let e = parse(&format!(
            "{GOOD}\n[store]\npostgres = \"postgresql://u:s3cret@[nope\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("store.postgres") && e.contains("not valid") && !e.contains("s3cret"),
            "{e}"
        );
        let e = parse(&format!(
            "{GOOD}\n[store]\npostgres = \"postgresql://h/db\"\nschema = \"Bad-Name\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("store.schema") && e.contains("Bad-Name"), "{e}");
        let e = parse(&format!("{GOOD}\n[store]\nschema = \"psahost\"\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("store.schema") && e.contains("needs `postgres`"),
            "{e}"
        );
        let e = parse(&format!("{GOOD}\n[store]\npostgre = \"x\"\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("postgre"), "{e}");
    }

    #[test]
    fn store_ca_file_needs_tls_and_a_readable_bundle() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("key.txt"), "k3y\n").unwrap();
        let parse_in = |store: &str| {
            Config::parse(
                &format!("{GOOD}\n[store]\n{store}"),
                &dir.path().join("psahost.toml"),
            )
            .map(|_| ())
            .unwrap_err()
            .to_string()
        };
        let e = parse_in("ca-file = \"ca.pem\"\n");
        assert!(
            e.contains("store.ca-file") && e.contains("needs `postgres`"),
            "{e}"
        );
        let e = parse_in("postgres = \"postgresql://u:s3cret@h/db\"\nca-file = \"ca.pem\"\n");
        assert!(
            e.contains("store.ca-file") && e.contains("sslmode=require") && !e.contains("s3cret"),
            "{e}"
        );
        // The path is the configuration's directory's, and its failure names it.
        let e = parse_in(
            "postgres = \"postgresql://u:s3cret@h/db?sslmode=require\"\nca-file = \"ca.pem\"\n",
        );
        let path = dir.path().join("ca.pem");
        assert!(
            e.contains("store.ca-file")
                && e.contains(&path.display().to_string())
                && !e.contains("s3cret"),
            "{e}"
        );
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = parse_in(
            "postgres = \"postgresql://u:s3cret@h/db?sslmode=require\"\nca-file = \"ca.pem\"\n",
        );
        assert!(
            e.contains("store.ca-file") && e.contains("certificate 1"),
            "{e}"
        );
    }

    #[test]
    fn cluster_needs_postgres_a_replica_name_and_a_sane_lease() {
        const PG: &str = "\n[store]\npostgres = \"postgresql://h/db\"\n";
        assert_eq!(parse(GOOD).unwrap().cluster, None);
        let c = parse(&format!("{GOOD}{PG}[cluster]\nreplica = \"replica-a\"\n")).unwrap();
        assert_eq!(
            c.cluster,
            Some(ClusterConfig {
                replica: "replica-a".into(),
                lease: Duration::from_secs(30),
                renew_every: Duration::from_secs(10),
                advertise: None,
            })
        );
        let with = |advertise: &str| {
            parse(&format!(
                "{GOOD}{PG}\n[api]\nlisten = \"127.0.0.1:8780\"\ntoken = \"0123456789abcdef\"\n\
                 [cluster]\nreplica = \"a\"\nadvertise = {advertise:?}\n"
            ))
            .map(|c| c.cluster.unwrap().advertise)
            .map_err(|e| e.to_string())
        };
        assert_eq!(with("listen"), Ok(Some(Advertise::Listen)));
        assert_eq!(
            with("https://replica-a.example:8780/"),
            Ok(Some(Advertise::Url(
                "https://replica-a.example:8780".into()
            )))
        );
        for bad in [
            "10.0.0.5:8780",
            "http://h/path",
            "ftp://h",
            "http://",
            "http://a b",
        ] {
            let e = with(bad).unwrap_err();
            assert!(
                e.contains("cluster.advertise") && e.contains(bad),
                "{bad}: {e}"
            );
        }
        let e = parse(&format!(
            "{GOOD}{PG}\n[api]\nlisten = \"0.0.0.0:8780\"\ntoken = \"0123456789abcdef\"\n\
             [cluster]\nreplica = \"a\"\nadvertise = \"listen\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("cluster.advertise") && e.contains("0.0.0.0:8780"),
            "{e}"
        );
        let e = parse(&format!(
            "{GOOD}{PG}[cluster]\nreplica = \"a\"\nadvertise = \"listen\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("needs an `[api]` section"), "{e}");
        let c = parse(&format!(
            "{GOOD}{PG}[cluster]\nreplica = \"b\"\nlease = \"2s\"\nrenew-every = \"500ms\"\n"
        ))
        .unwrap()
        .cluster
        .unwrap();
        assert_eq!(
            (c.lease, c.renew_every),
            (Duration::from_secs(2), Duration::from_millis(500))
        );

        let e = parse(&format!("{GOOD}\n[cluster]\nreplica = \"replica-a\"\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("psahost.toml") && e.contains("`cluster`") && e.contains("[store] postgres"),
            "{e}"
        );
        let e = parse(&format!("{GOOD}{PG}[cluster]\nlease = \"30s\"\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cluster.replica") && e.contains("missing"),
            "{e}"
        );
        let text = format!("{GOOD}{PG}[cluster]\nreplica = \"Replica_A\"\n");
        let e = parse(&text).unwrap_err().to_string();
        let line = text.lines().count();
        assert!(
            e.contains("cluster.replica")
                && e.contains("Replica_A")
                && e.contains(&format!("line {line}")),
            "{e}"
        );
        let e = parse(&format!(
            "{GOOD}{PG}[cluster]\nreplica = \"a\"\nlease = \"1s\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("cluster.lease") && e.contains("1s"), "{e}");
        let e = parse(&format!(
            "{GOOD}{PG}[cluster]\nreplica = \"a\"\nlease = \"11min\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("cluster.lease") && e.contains("11m"), "{e}");
        let e = parse(&format!(
            "{GOOD}{PG}[cluster]\nreplica = \"a\"\nlease = \"10s\"\nrenew-every = \"5s\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("cluster.renew-every") && e.contains("5s"), "{e}");
        let e = parse(&format!(
            "{GOOD}{PG}[cluster]\nreplica = \"a\"\nleese = \"10s\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("leese"), "{e}");
    }
}
