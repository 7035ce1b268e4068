//! The simulator's shared state, and [`SimState`]: the handle tests use to inspect and change it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::Value;

use crate::config::{Dialect, SimConfig};
use crate::data::{DataSet, Entity, Id};
use crate::dialect;
use crate::faults::Faults;

/// The codebase served at start (`/{codebase}apis/3.0/...`).
pub const DEFAULT_CODEBASE: &str = "v4_6_release/";

/// Who changes records through [`SimState::touch`].
const TOUCHED_BY: &str = "psa-sim";

/// State shared by the HTTP handlers and the [`SimState`] handles.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: SimConfig,
    pub(crate) origin: String,
    data: RwLock<DataSet>,
    /// Counts the changes of `data`: bumped under its write lock, so a reader holding the read
    /// lock sees the count of the data it reads (what cached listings are checked against).
    generation: AtomicU64,
    codebase: RwLock<String>,
    pub(crate) faults: Faults,
    requests: AtomicU64,
    /// The Autotask dialect's zone, threads and budget.
    pub(crate) autotask: dialect::autotask::AtState,
    /// The Kaseya BMS dialect's tokens and budgets.
    pub(crate) bms: dialect::kaseya_bms::BmsState,
    /// The ConnectWise dialect's listings kept for their next pages.
    pub(crate) connectwise: dialect::connectwise::CwState,
}

impl Shared {
    pub(crate) fn new(config: SimConfig, origin: String, data: DataSet) -> Shared {
        let faults = Faults::new(&config.faults);
        Shared {
            autotask: dialect::autotask::AtState::new(&config.autotask),
            bms: dialect::kaseya_bms::BmsState::new(&config.kaseya_bms),
            config,
            origin,
            data: RwLock::new(data),
            generation: AtomicU64::new(0),
            connectwise: dialect::connectwise::CwState::default(),
            codebase: RwLock::new(DEFAULT_CODEBASE.to_string()),
            faults,
            requests: AtomicU64::new(0),
        }
    }

    /// Reads the data set. A panic while it was held cannot leave it half-written (writes are
    /// validated before they change anything), so a poisoned lock is still usable.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, DataSet> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the data set.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, DataSet> {
        let guard = self.data.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        guard
    }

    /// The data set with the count of its changes (see `generation`).
    pub(crate) fn read_generation(&self) -> (RwLockReadGuard<'_, DataSet>, u64) {
        let guard = self.read();
        let generation = self.generation.load(Ordering::SeqCst);
        (guard, generation)
    }

    /// The codebase currently served, with its trailing slash.
    pub(crate) fn codebase(&self) -> String {
        self.codebase
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_codebase(&self, codebase: String) {
        *self.codebase.write().unwrap_or_else(|e| e.into_inner()) = codebase;
    }

    /// Counts one HTTP request.
    pub(crate) fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::SeqCst);
    }
}

/// A handle on a running simulator's data and settings, for tests and tools. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SimState {
    pub(crate) shared: Arc<Shared>,
}

impl SimState {
    /// Number of records of a kind (deleted companies included).
    pub fn count(&self, entity: Entity) -> usize {
        self.shared.read().count(entity)
    }

    /// One record as the active dialect renders it (the JSON a GET by id returns: for Autotask
    /// the `item`, for Kaseya BMS the `result`), if the dialect serves it: Autotask and Kaseya BMS
    /// serve neither deleted companies nor their contacts, and Kaseya BMS has no configurations.
    pub fn get(&self, entity: Entity, id: Id) -> Option<Value> {
        let data = self.shared.read();
        match self.shared.config.dialect {
            Dialect::ConnectWise => dialect::connectwise::render_entity(&data, entity, id),
            Dialect::Autotask => dialect::autotask::render_entity(&data, entity, id),
            Dialect::KaseyaBms => dialect::kaseya_bms::render_entity(&data, entity, id),
        }
    }

    /// Ids of the records of a kind, ascending.
    pub fn ids(&self, entity: Entity) -> Vec<Id> {
        self.shared.read().ids(entity)
    }

    /// Marks a record as just edited in the PSA: `lastUpdated` becomes now. False when it does not exist.
    pub fn touch(&self, entity: Entity, id: Id) -> bool {
        let now = crate::data::now();
        self.shared.write().touch(entity, id, now, TOUCHED_BY)
    }

    /// Deletes a record for good (a ticket's notes and an agreement's additions go with it).
    /// False when it does not exist.
    pub fn delete(&self, entity: Entity, id: Id) -> bool {
        self.shared.write().remove(entity, id)
    }

    /// Serves the API under another codebase (as after a PSA upgrade): requests to the old one get
    /// 404 and discovery answers the new one. A missing trailing slash is added.
    pub fn set_codebase(&self, codebase: &str) {
        let trimmed = codebase.trim().trim_matches('/');
        self.shared.set_codebase(format!("{trimmed}/"));
    }

    /// The codebase currently served, like `v4_6_release/`.
    pub fn codebase(&self) -> String {
        self.shared.codebase()
    }

    /// Autotask: moves the tenant to zone `zone` (as Autotask does when it rebalances): discovery
    /// answers `{origin}/ww{zone}/atservicesrest/` (zone 0: `{origin}/atservicesrest/`, the zone
    /// at start) and requests under any other zone get 401.
    pub fn set_autotask_zone(&self, zone: u32) {
        self.shared.autotask.set_zone(zone);
    }

    /// Autotask: the current zone's URL as discovery returns it (with its trailing slash).
    pub fn autotask_zone_url(&self) -> String {
        format!(
            "{}{}/",
            self.shared.origin,
            dialect::autotask::zone_prefix(self.shared.autotask.zone())
        )
    }

    /// Autotask: requests counted against the hourly budget in the last 60 minutes.
    pub fn autotask_requests_this_hour(&self) -> u64 {
        self.shared.autotask.requests_in_window()
    }

    /// Kaseya BMS: every access token issued so far expires now (the next request with one gets
    /// 401 `TokenExpired`).
    pub fn expire_bms_tokens(&self) {
        self.shared.bms.tokens.expire_all();
    }

    /// Kaseya BMS: every access token issued so far is forgotten (401 `InvalidToken`).
    pub fn revoke_bms_tokens(&self) {
        self.shared.bms.tokens.revoke_all();
    }

    /// Kaseya BMS: the lifetime (`expiresIn`, at least 1 s) of tokens issued from now on.
    pub fn set_bms_token_lifetime(&self, secs: u64) {
        self.shared.bms.tokens.set_lifetime(secs);
    }

    /// HTTP requests received so far (discovery included).
    pub fn requests_served(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Runs `f` on the data set, for tests that compute expectations from the neutral records.
    pub fn read<R>(&self, f: impl FnOnce(&DataSet) -> R) -> R {
        f(&self.shared.read())
    }
}
