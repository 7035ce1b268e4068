//! Helpers of the sync tests: the simulator, the real ConnectWise connector wasm bound to it, the
//! record store, and a `psahost.toml` for the CLI's sync commands.

use psa_sim::{SimConfig, Simulator};
use psahost_sandbox::capabilities::ConnectionPolicy;
use psahost_sandbox::capabilities::http::{Grant, HttpLimits, OriginPattern};
use psahost_sandbox::capabilities::kv::{KvLimits, KvStore};
use psahost_sandbox::capabilities::settings::Settings;
use psahost_sandbox::connector::Connection;
use psahost_sandbox::runtime::{PluginSource, Runtime, RuntimeConfig};
use psahost_store::Entity;
use psahost_store::{Change, ChangeKind, RecordStore};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// A simulator with `companies` companies (seed 7) and optionally a set number of
/// configurations.
pub async fn simulator(companies: usize, configurations: Option<usize>) -> Simulator {
    let mut config = SimConfig::connectwise(companies, 7);
    config.configurations = configurations;
    Simulator::start(config).await.expect("simulator")
}

/// The settings of the ConnectWise connector for `sim`.
pub fn cw_settings(sim: &Simulator) -> Vec<(&'static str, String)> {
    let c = &sim.config().credentials;
    vec![
        ("site", sim.origin()),
        ("company-id", c.company_id.clone()),
        ("public-key", c.public_key.clone()),
        ("private-key", c.private_key.clone()),
        ("client-id", c.client_id.clone()),
    ]
}

/// The real ConnectWise connector bound to `sim` as connection `id`. The host's own 429/503
/// retries are off so the connector (and the sync engine) see the PSA's answers.
pub async fn connect(sim: &Simulator, id: &str) -> Connection {
    connect_plugin(sim, id, plugin_artifacts::CONNECTWISE_MANAGE_PATH).await
}

/// The connector at `plugin` (a `.wasm` path) bound to `sim` as connection `id`, with the
/// simulator's settings for its dialect; the host's own 429/503 retries are off.
pub async fn connect_plugin(sim: &Simulator, id: &str, plugin: &str) -> Connection {
    let http = HttpLimits {
        max_retries: 0,
        ..HttpLimits::default()
    };
    open_connection(sim, id, plugin, http).await
}

/// The real ConnectWise connector bound to `sim` as connection `id`, under `http` limits.
pub async fn connect_limited(sim: &Simulator, id: &str, http: HttpLimits) -> Connection {
    open_connection(sim, id, plugin_artifacts::CONNECTWISE_MANAGE_PATH, http).await
}

async fn open_connection(sim: &Simulator, id: &str, plugin: &str, http: HttpLimits) -> Connection {
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(crate::cache_dir()),
        call_timeout: Duration::from_secs(60),
        max_instances: 8,
        ..RuntimeConfig::default()
    })
    .expect("runtime");
    let plugin = runtime
        .load(PluginSource::File(plugin.into()))
        .await
        .expect("the connector loads");
    let mut settings = Settings::default();
    for s in sim.connector_settings() {
        settings.insert(s.name, s.value, s.secret);
    }
    let policy = ConnectionPolicy {
        grant: Grant {
            origins: vec![OriginPattern::parse(&sim.origin()).expect("origin")],
            all_requested: false,
            allow_private_networks: false,
        },
        http,
        kv: KvLimits::default(),
        log: Default::default(),
    };
    let kv = KvStore::temporary().expect("kv");
    Connection::open(runtime, plugin, id, settings, &policy, &kv).expect("connection opens")
}

/// The simulator's entity for a psahost entity.
pub fn sim_entity(entity: Entity) -> psa_sim::Entity {
    match entity {
        Entity::Companies => psa_sim::Entity::Company,
        Entity::Contacts => psa_sim::Entity::Contact,
        Entity::Agreements => psa_sim::Entity::Agreement,
        Entity::Configurations => psa_sim::Entity::Configuration,
        Entity::Tickets => psa_sim::Entity::Ticket,
        Entity::Dataset(d) => panic!("the simulator's typed entities have no dataset `{d}`"),
    }
}

/// The simulator's ids of an entity, as strings, ascending.
pub fn sim_ids(sim: &Simulator, entity: Entity) -> Vec<String> {
    sim.state()
        .ids(sim_entity(entity))
        .into_iter()
        .map(|id| id.to_string())
        .collect()
}

/// The ids of the simulator's companies a connector lists: those the PSA has not marked
/// deleted, as strings, ascending.
pub fn listed_company_ids(sim: &Simulator) -> Vec<String> {
    sim.state().read(|d| {
        d.companies
            .values()
            .filter(|c| !c.deleted)
            .map(|c| c.id.to_string())
            .collect()
    })
}

/// Every change of `connection` after `after`.
pub async fn changes_after(store: &dyn RecordStore, connection: &str, after: u64) -> Vec<Change> {
    let mut out = Vec::new();
    let mut after = after;
    loop {
        let page = store
            .changes(connection, after, 500)
            .await
            .expect("changes");
        let Some(last) = page.last() else {
            return out;
        };
        after = last.seq;
        out.extend(page);
    }
}

/// The last sequence number of `connection`'s change feed.
pub async fn last_seq(store: &dyn RecordStore, connection: &str) -> u64 {
    changes_after(store, connection, 0)
        .await
        .last()
        .map_or(0, |c| c.seq)
}

/// Per (entity, id): the kinds of its changes, in order.
pub fn kinds_by_record(changes: &[Change]) -> BTreeMap<(Entity, String), Vec<ChangeKind>> {
    let mut map: BTreeMap<(Entity, String), Vec<ChangeKind>> = BTreeMap::new();
    for c in changes {
        map.entry((c.entity, c.id.clone()))
            .or_default()
            .push(c.kind);
    }
    map
}

/// Every stored id of an entity, in store order.
pub async fn stored_ids(store: &dyn RecordStore, connection: &str, entity: Entity) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list(
                connection,
                entity,
                psahost_store::ListQuery {
                    after,
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .expect("list");
        ids.extend(page.records.into_iter().map(|r| r.id));
        match page.next {
            Some(n) => after = Some(n),
            None => return ids,
        }
    }
}

/// `ids` sorted as numbers (the simulator's order).
pub fn numeric_sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort_by_key(|id| id.parse::<u64>().unwrap_or(u64::MAX));
    ids
}

/// Writes a `psahost.toml` with connection `sim` against `sim` (the host's own 429/503 retries
/// off) and `page_size` records per page.
pub fn write_config(dir: &Path, sim: &psa_sim::Simulator, page_size: u32) -> PathBuf {
    let settings = cw_settings(sim)
        .into_iter()
        .map(|(k, v)| format!("{k} = {v:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let text = format!(
        r#"
[runtime]
data-dir = "data"
cache-dir = {cache:?}
call-timeout = "60s"

[plugins.cw]
path = {plugin:?}

[connections.sim]
plugin = "cw"
settings = {{ {settings} }}
grant = {{ hosts = [{origin:?}] }}
limits = {{ max-retries = 0 }}

[sync]
page-size = {page_size}
"#,
        cache = crate::cache_dir().display().to_string(),
        plugin = plugin_artifacts::CONNECTWISE_MANAGE_PATH,
        origin = sim.origin(),
    );
    let path = dir.join("psahost.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `BIN --config CONFIG ARGS...` (`BIN`: the `psahost` binary), quiet logs, output captured,
/// killed when dropped.
pub fn psahost_command(bin: &Path, config: &Path, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(bin);
    cmd.arg("--config")
        .arg(config)
        .args(args)
        .env_remove("PSAHOST_CONFIG")
        .env_remove("PSAHOST_API")
        .env_remove("PSAHOST_API_TOKEN")
        .env("PSAHOST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Ticket defaults a delivery configuration can use on `sim` (ConnectWise), read from its
/// picklists through the real connector, and a company with an agreement line.
#[derive(Clone, Debug)]
pub struct TicketDefaults {
    /// The first active queue (board).
    pub queue: String,
    /// An open status of that queue.
    pub status: String,
    /// A type of that queue.
    pub ticket_type: String,
    /// The first active source.
    pub source: String,
    /// The first active priority.
    pub priority: String,
    /// The company of `agreement`.
    pub company: String,
    /// An agreement with a line.
    pub agreement: String,
    /// That line's product (a contract service).
    pub product: String,
}

/// See [`TicketDefaults`].
pub async fn ticket_defaults(sim: &Simulator) -> TicketDefaults {
    use psahost_sandbox::bindings::psa::connector::types::ReferenceKind;
    let conn = connect(sim, "probe").await;
    let active = async |kind| {
        conn.list_references(kind)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.active)
            .collect::<Vec<_>>()
    };
    let queue = active(ReferenceKind::Queue).await[0].id.clone();
    let of_queue = |p: &Option<String>| p.as_deref().is_none_or(|p| p == queue);
    let status = active(ReferenceKind::TicketStatus)
        .await
        .into_iter()
        .find(|s| of_queue(&s.parent_id) && !s.name.to_ascii_lowercase().contains("clos"))
        .unwrap()
        .id;
    let ticket_type = active(ReferenceKind::TicketType)
        .await
        .into_iter()
        .find(|t| of_queue(&t.parent_id))
        .unwrap()
        .id;
    let source = active(ReferenceKind::TicketSource).await[0].id.clone();
    let priority = active(ReferenceKind::TicketPriority).await[0].id.clone();
    let (agreement, product) = sim.state().read(|d| {
        let l = d.agreement_lines.values().next().unwrap();
        (l.agreement_id, l.product_id)
    });
    let company = sim.state().read(|d| d.agreements[&agreement].company_id);
    TicketDefaults {
        queue,
        status,
        ticket_type,
        source,
        priority,
        company: company.to_string(),
        agreement: agreement.to_string(),
        product: product.to_string(),
    }
}
