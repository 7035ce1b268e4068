//! The one wasmtime `Engine`: component model, async, epoch interruption, the pooling allocator
//! when the address space allows it (on-demand otherwise), and the on-disk compilation cache.

use anyhow::Context;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use wasmtime::{
    Cache, CacheConfig, Config, Enabled, Engine, InstanceAllocationStrategy,
    PoolingAllocationConfig,
};

/// How often the epoch advances; deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Set (to anything) in the environment, the engine writes a perf map of the compiled guest
/// code, for `perf report` to name the functions of plugins.
pub const PERF_MAP_VAR: &str = "PSAHOST_WASM_PERF_MAP";

/// Which instance allocator the engine uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AllocatorKind {
    /// Pre-reserved slots: instantiation in microseconds.
    Pooling,
    /// Memory mapped per instance: slower, needs no up-front address space.
    OnDemand,
}

/// The operator's choice of allocator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AllocatorChoice {
    /// Pooling, falling back to on-demand when the pool cannot be reserved.
    #[default]
    Auto,
    /// Pooling or fail.
    Pooling,
    /// On-demand.
    OnDemand,
}

/// Settings of the engine.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct EngineSettings {
    /// Directory of the compiled-component cache; none disables it.
    pub cache_dir: Option<PathBuf>,
    /// Instances alive at once (the pool's size).
    pub max_instances: u32,
    /// Largest linear memory of one instance, in bytes.
    pub memory_limit: u64,
    /// The allocator choice.
    pub allocator: AllocatorChoice,
}

/// Builds the engine, reporting which allocator it got.
pub fn build_engine(settings: &EngineSettings) -> anyhow::Result<(Engine, AllocatorKind)> {
    let base = base_config(settings)?;
    if settings.allocator != AllocatorChoice::OnDemand {
        let mut config = base.clone();
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling(settings)));
        match Engine::new(&config) {
            Ok(engine) => return Ok((engine, AllocatorKind::Pooling)),
            Err(e) if settings.allocator == AllocatorChoice::Auto => {
                tracing::warn!(
                    "the pooling allocator is unavailable ({e:#}); using on-demand allocation, \
                     which instantiates more slowly"
                );
            }
            Err(e) => {
                return Err(anyhow::anyhow!("{e:#}")).context(
                    "cannot reserve the pooling allocator's address space: lower \
                     `runtime.max-instances` or set `runtime.allocator = \"auto\"`",
                );
            }
        }
    }
    let engine = Engine::new(&base).map_err(|e| anyhow::anyhow!("{e:#}"))?;
    Ok((engine, AllocatorKind::OnDemand))
}

fn base_config(settings: &EngineSettings) -> anyhow::Result<Config> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    // For profiling only: `perf` can then name the guests' functions (wasmtime writes
    // /tmp/perf-PID.map as it loads code). Off unless asked for, since the map grows with
    // every component loaded.
    if std::env::var_os(PERF_MAP_VAR).is_some_and(|v| !v.is_empty()) {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    if let Some(dir) = &settings.cache_dir {
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "cannot create the compilation cache directory `{}`",
                dir.display()
            )
        })?;
        let mut cache_config = CacheConfig::new();
        cache_config.with_directory(dir);
        let cache = Cache::new(cache_config).map_err(|e| {
            anyhow::anyhow!(
                "cannot use `{}` as the compilation cache directory: {e:#}",
                dir.display()
            )
        })?;
        config.cache(Some(cache));
    }
    Ok(config)
}

/// Bytes of a linear memory slot reset in place (kept resident) rather than decommitted.
const KEEP_RESIDENT: usize = 2 << 20;

fn pooling(settings: &EngineSettings) -> PoolingAllocationConfig {
    let n = settings.max_instances.max(1);
    let mut pool = PoolingAllocationConfig::new();
    // A Rust wasip2 component holds a handful of core instances, memories and tables (the
    // program, the WASI adapter and its shims); the multipliers leave room for that.
    pool.total_component_instances(n)
        .total_core_instances(n * 8)
        .total_memories(n * 4)
        .total_tables(n * 8)
        .total_stacks(n)
        .max_memory_size(usize::try_from(settings.memory_limit).unwrap_or(usize::MAX))
        .max_unused_warm_slots(n.min(16));
    // A slot given back is reset for its next instance. By default every page of it is
    // decommitted (`madvise`), and the next call faults each page back in: measured, that was
    // most of a connector call's cost over an empty component's. Where the kernel can say which
    // pages an instance touched (`PAGEMAP_SCAN`, Linux 6.7+), those are reset in place instead,
    // up to these sizes, and only the rest is decommitted. Without it the default stays: keeping
    // memory resident would then mean resetting all of it on every call. Either way the next
    // instance sees only the component's initial image.
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        pool.pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT / 16);
    }
    pool
}

/// Whether calls are running: the epoch ticker advances the epoch only then, so an idle host
/// does not wake up every [`EPOCH_TICK`].
#[derive(Default)]
pub struct EpochActivity {
    running: AtomicUsize,
    ticker: OnceLock<std::thread::Thread>,
}

impl EpochActivity {
    /// A call starts (its store is about to run guest code): the ticker runs until the
    /// returned guard, and every other one, is dropped.
    pub fn enter(self: &Arc<Self>) -> ActiveCall {
        if self.running.fetch_add(1, Ordering::SeqCst) == 0
            && let Some(ticker) = self.ticker.get()
        {
            ticker.unpark();
        }
        ActiveCall(self.clone())
    }
}

/// A running call, for the epoch ticker (see [`EpochActivity::enter`]).
pub struct ActiveCall(Arc<EpochActivity>);

impl Drop for ActiveCall {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Advances the engine's epoch every [`EPOCH_TICK`] while a call is running (see
/// [`EpochActivity`]), until the engine is dropped. Deadlines are counted from the epoch when
/// a call starts, so the pauses in between shorten none.
pub fn start_epoch_ticker(engine: &Engine) -> Arc<EpochActivity> {
    let activity = Arc::new(EpochActivity::default());
    let weak = engine.weak();
    let shared = activity.clone();
    let ticker = std::thread::Builder::new()
        .name("psahost-epoch".into())
        .spawn(move || {
            loop {
                if shared.running.load(Ordering::SeqCst) == 0 {
                    // Woken by the next call; a call entering between the load and the park
                    // leaves the unpark token, so the park returns at once. The timeout only
                    // notices a dropped engine.
                    std::thread::park_timeout(Duration::from_secs(1));
                    if weak.upgrade().is_none() {
                        return;
                    }
                    continue;
                }
                let Some(engine) = weak.upgrade() else { return };
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("cannot start the epoch thread");
    let _ = activity.ticker.set(ticker.thread().clone());
    activity
}
