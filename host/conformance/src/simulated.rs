//! The first-party connectors against the simulator: which bundled connector speaks which
//! dialect, the settings it needs for a running simulator, a connection granted exactly the
//! simulator's origin, and the ticket defaults an operator would pick. Shared by `psahost demo`
//! and the conformance suite.

use psa_sim::{Dialect, SimConfig, Simulator};
use psahost_sandbox::bindings::psa::connector::types::Reference;
use psahost_sandbox::capabilities::ConnectionPolicy;
use psahost_sandbox::capabilities::http::{Grant, HttpLimits, OriginPattern};
use psahost_sandbox::capabilities::kv::{KvLimits, KvStore};
use psahost_sandbox::capabilities::settings::Settings;
use psahost_sandbox::connector::Connection;
use psahost_sandbox::runtime::{Plugin, Runtime};
use std::sync::Arc;

/// Every dialect, in demo order.
pub const DIALECTS: [Dialect; 3] = [Dialect::ConnectWise, Dialect::Autotask, Dialect::KaseyaBms];

/// The bundled connector that speaks `dialect`.
pub fn bundled_connector(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::ConnectWise => "connectwise-manage",
        Dialect::Autotask => "autotask",
        Dialect::KaseyaBms => "kaseya-bms",
    }
}

/// A simulator configuration of `dialect` with the demo credentials.
pub fn sim_config(dialect: Dialect, companies: usize, seed: u64) -> SimConfig {
    match dialect {
        Dialect::ConnectWise => SimConfig::connectwise(companies, seed),
        Dialect::Autotask => SimConfig::autotask(companies, seed),
        Dialect::KaseyaBms => SimConfig::kaseya_bms(companies, seed),
    }
}

/// The settings the bundled connector of the simulator's dialect needs (the simulator says
/// which are secret).
pub fn settings_for(sim: &Simulator) -> Settings {
    let mut settings = Settings::default();
    for s in sim.connector_settings() {
        settings.insert(s.name, s.value, s.secret);
    }
    settings
}

/// A policy granting exactly the simulator's origin (a loopback address, named explicitly).
pub fn grant_for(sim: &Simulator) -> anyhow::Result<ConnectionPolicy> {
    Ok(ConnectionPolicy {
        grant: Grant {
            origins: vec![OriginPattern::parse(&sim.origin())?],
            all_requested: false,
            allow_private_networks: false,
        },
        http: HttpLimits::default(),
        kv: KvLimits::default(),
        log: Default::default(),
    })
}

/// Connection `id` of `plugin` to `sim` with `settings`, granted exactly the simulator's origin.
pub fn connect(
    runtime: &Arc<Runtime>,
    plugin: &Arc<Plugin>,
    sim: &Simulator,
    id: &str,
    settings: Settings,
    kv: &KvStore,
) -> anyhow::Result<Connection> {
    Connection::open(
        runtime.clone(),
        plugin.clone(),
        id,
        settings,
        &grant_for(sim)?,
        kv,
    )
}

/// Picklist entries a generic client sets on a new ticket, as an operator's defaults do.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TicketDefaults {
    /// The first active queue.
    pub queue: Option<String>,
    /// The first active status of that queue (or of no queue, where statuses are global).
    pub status: Option<String>,
    /// The first active priority.
    pub priority: Option<String>,
}

impl TicketDefaults {
    /// Chooses from the three picklists.
    pub fn choose(queues: &[Reference], statuses: &[Reference], priorities: &[Reference]) -> Self {
        let first_active =
            |refs: &[Reference]| refs.iter().find(|r| r.active).map(|r| r.id.clone());
        let queue = first_active(queues);
        let status = statuses
            .iter()
            .find(|r| r.active && (r.parent_id.is_none() || r.parent_id == queue))
            .map(|r| r.id.clone());
        TicketDefaults {
            queue,
            status,
            priority: first_active(priorities),
        }
    }
}
