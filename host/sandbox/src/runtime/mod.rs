//! The sandbox: one engine, plugins compiled once and pre-instantiated, and a fresh store per
//! call with a memory cap and a deadline.
//!
//! A call never outlives its deadline: guest code is interrupted at the next epoch check, and
//! the whole call (including time spent in host functions such as HTTP) runs under a tokio
//! timeout of the same length. A call that traps or hits a cap leaves nothing behind: its store
//! is dropped and the next call starts from a fresh instance.

mod compile;
mod engine;
mod limits;
mod plugin;

pub use compile::{ChildCompiler, CompileLimits, compile_child_main};
pub use engine::{AllocatorChoice, AllocatorKind, EPOCH_TICK};
pub use limits::MemoryLimiter;
pub use plugin::{
    BundledPlugins, LoadError, Plugin, PluginInfo, PluginKind, PluginSource, SUPPORTED_WIT,
    is_kebab_id, placeholders,
};

use crate::capabilities::Capabilities;
use crate::capabilities::log::{CallLog, GuestOutput, LogBudget, LogLimits, LogTag};
use crate::text::one_line;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::{Instance, InstancePre, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The operator's runtime settings.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Where compiled components are cached; none disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Linear memory one call may use, in bytes.
    pub memory_limit: u64,
    /// How long one call may run.
    pub call_timeout: Duration,
    /// Calls running at once (the pooling allocator's size).
    pub max_instances: u32,
    /// Pooling or on-demand allocation.
    pub allocator: AllocatorChoice,
    /// The connectors `builtin:ID` sources name (none unless the program bundles some).
    pub bundled: BundledPlugins,
    /// The largest component that is compiled, in bytes; a larger one is refused unread.
    pub max_component_size: u64,
    /// The bounds of a compilation in the child compiler.
    pub compile_limits: CompileLimits,
    /// The program that compiles components in a child process; none compiles in this
    /// process, without a bound (tests and embedders that trust their components).
    pub child_compiler: Option<ChildCompiler>,
    /// Most record text (`raw`) one page may carry out of a call, in bytes.
    pub max_result_bytes: u64,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            cache_dir: None,
            memory_limit: 64 * 1024 * 1024,
            call_timeout: Duration::from_secs(30),
            max_instances: 64,
            allocator: AllocatorChoice::Auto,
            bundled: BundledPlugins::default(),
            // The first-party connectors are about 1 MiB; compile time and memory grow with size.
            max_component_size: 16 * 1024 * 1024,
            compile_limits: CompileLimits::default(),
            child_compiler: None,
            max_result_bytes: 32 * 1024 * 1024,
        }
    }
}

/// Why a call failed in the sandbox (as opposed to the plugin returning an error).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The call ran past its deadline.
    #[error(
        "`{operation}` of plugin `{plugin}` ran past its deadline of {limit_ms} ms and was stopped: raise `runtime.call-timeout` if the PSA is just slow"
    )]
    Deadline {
        /// The plugin.
        plugin: String,
        /// The export.
        operation: String,
        /// The deadline.
        limit_ms: u64,
    },
    /// The call needed more memory than the cap.
    #[error(
        "`{operation}` of plugin `{plugin}` needed more than its memory cap of {cap_mib} MiB and was stopped"
    )]
    MemoryCap {
        /// The plugin.
        plugin: String,
        /// The export.
        operation: String,
        /// The cap.
        cap_mib: u64,
    },
    /// The guest trapped (a panic, an unreachable, an out-of-bounds access).
    #[error("`{operation}` of plugin `{plugin}` crashed: {message}")]
    Trap {
        /// The plugin.
        plugin: String,
        /// The export.
        operation: String,
        /// The trap, with the guest's backtrace when there is one.
        message: String,
    },
    /// The call returned more than the host accepts to lift out of it.
    #[error("`{operation}` of plugin `{plugin}` was refused: it {message}")]
    ResultTooLarge {
        /// The plugin.
        plugin: String,
        /// The export.
        operation: String,
        /// What was too large, naming the limit.
        message: String,
    },
    /// The call could not start.
    #[error("cannot run `{operation}` of plugin `{plugin}`: {message}")]
    Setup {
        /// The plugin.
        plugin: String,
        /// The export.
        operation: String,
        /// Why.
        message: String,
    },
}

impl CallError {
    /// The failure's name for metrics: `deadline`, `memory-cap`, `trap`, `result-too-large` or
    /// `setup`.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Deadline { .. } => "deadline",
            CallError::MemoryCap { .. } => "memory-cap",
            CallError::Trap { .. } => "trap",
            CallError::ResultTooLarge { .. } => "result-too-large",
            CallError::Setup { .. } => "setup",
        }
    }
}

/// Told about every finished call of a connection's export (metrics of `psahost serve`).
pub trait CallObserver: Send + Sync {
    /// `outcome` is `ok`, the case of a contract error the connector returned (`rate-limited`,
    /// `unauthorized`, ...), or the sandbox's failure ([`CallError::kind`]).
    fn call_finished(&self, plugin: &str, operation: &str, outcome: &str, elapsed: Duration);
}

/// What the body of a call returns: the work on the instance, borrowing its store.
pub type CallFuture<'a, R> = Pin<Box<dyn Future<Output = wasmtime::Result<R>> + Send + 'a>>;

/// The state of one call's store: WASI (with nothing granted), the memory limiter, the log tag,
/// the connection's capabilities (none for `describe` and for matching rules) and the deadline.
pub struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryLimiter,
    tag: LogTag,
    capabilities: Option<Arc<Capabilities>>,
    deadline: Instant,
}

impl CallState {
    /// The connection's capabilities, if the call belongs to a connection.
    pub fn connection(&self) -> Option<&Capabilities> {
        self.capabilities.as_deref()
    }

    /// Who is calling, for logs.
    pub fn tag(&self) -> &LogTag {
        &self.tag
    }

    /// When the call must end.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A component outside the plugin contract (no `describe`, no export checked), compiled and
/// pre-instantiated with the runtime's engine and linker: a baseline that costs what the
/// sandbox itself costs, for benchmarks (an empty component's instantiate + call next to a
/// connector's). Called with [`Runtime::call_bare`], through the same path as every plugin call.
pub struct BareComponent {
    name: String,
    pre: InstancePre<CallState>,
}

impl BareComponent {
    /// The name it was loaded under.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The engine, the linker with every host capability, and the runtime settings.
pub struct Runtime {
    engine: Engine,
    engine_settings: engine::EngineSettings,
    linker: Linker<CallState>,
    config: RuntimeConfig,
    allocator: AllocatorKind,
    observer: std::sync::OnceLock<Arc<dyn CallObserver>>,
    /// Calls running, for the epoch ticker.
    activity: Arc<engine::EpochActivity>,
}

impl Runtime {
    /// Builds the engine (pooling when possible), links WASI p2 with nothing granted and the
    /// psa:connector imports, and starts the epoch ticker.
    pub fn new(config: RuntimeConfig) -> anyhow::Result<Arc<Runtime>> {
        let engine_settings = engine::EngineSettings {
            cache_dir: config.cache_dir.clone(),
            max_instances: config.max_instances,
            memory_limit: config.memory_limit,
            allocator: config.allocator,
        };
        let (engine, allocator) = engine::build_engine(&engine_settings)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| anyhow::anyhow!("{e:#}"))?;
        crate::bindings::link_imports(&mut linker).map_err(|e| anyhow::anyhow!("{e:#}"))?;
        let activity = engine::start_epoch_ticker(&engine);
        tracing::debug!(?allocator, "runtime ready");
        Ok(Arc::new(Runtime {
            engine,
            engine_settings,
            linker,
            config,
            allocator,
            observer: std::sync::OnceLock::new(),
            activity,
        }))
    }

    /// Compiles a component (its bytes and their sha256) for this runtime's engine, in the
    /// child compiler if there is one (or loads the artifact it kept, see [`compile::compile`]).
    pub(crate) async fn compile(
        &self,
        bytes: Arc<[u8]>,
        sha256: &str,
    ) -> Result<wasmtime::component::Component, compile::CompileFailure> {
        compile::compile(
            &self.engine,
            &self.engine_settings,
            self.allocator,
            self.config.child_compiler.as_ref(),
            self.config.compile_limits,
            (bytes, sha256),
        )
        .await
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The allocator in use.
    pub fn allocator(&self) -> AllocatorKind {
        self.allocator
    }

    /// The settings.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// Installs the observer of connection calls; only the first one counts (false after).
    pub fn set_observer(&self, observer: Arc<dyn CallObserver>) -> bool {
        self.observer.set(observer).is_ok()
    }

    /// The observer of connection calls, if one is installed.
    pub fn observer(&self) -> Option<&Arc<dyn CallObserver>> {
        self.observer.get()
    }

    /// Compiles (or loads from the cache), validates and describes a plugin.
    pub async fn load(self: &Arc<Self>, source: PluginSource) -> Result<Arc<Plugin>, LoadError> {
        plugin::load(self, source, None).await.map(Arc::new)
    }

    /// Like [`Runtime::load`], but refuses the plugin unless its sha256 is `pin` (hex), checked
    /// before any of its code runs.
    pub async fn load_pinned(
        self: &Arc<Self>,
        source: PluginSource,
        pin: Option<&str>,
    ) -> Result<Arc<Plugin>, LoadError> {
        plugin::load(self, source, pin).await.map(Arc::new)
    }

    pub(crate) fn linker(&self) -> &Linker<CallState> {
        &self.linker
    }

    /// Compiles `bytes` (a component, or its WAT text) in this process, without bounds (only
    /// for trusted components), and pre-instantiates it with the host's linker, without the
    /// plugin contract's checks: see [`BareComponent`].
    pub fn load_bare(&self, name: &str, bytes: &[u8]) -> anyhow::Result<BareComponent> {
        let component = wasmtime::component::Component::new(&self.engine, bytes)
            .map_err(|e| anyhow::anyhow!("cannot compile component `{name}`: {e:#}"))?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| anyhow::anyhow!("cannot link component `{name}`: {e:#}"))?;
        Ok(BareComponent {
            name: name.to_string(),
            pre,
        })
    }

    /// [`Runtime::call`] for a [`BareComponent`]: a fresh store and instance, no capabilities.
    pub async fn call_bare<R: Send>(
        &self,
        component: &BareComponent,
        operation: &str,
        body: impl for<'a> FnOnce(&'a mut Store<CallState>, &'a Instance) -> CallFuture<'a, R> + Send,
    ) -> Result<R, CallError> {
        self.call_pre(&component.name, &component.pre, None, operation, body)
            .await
    }

    /// Runs `body` on a fresh instance of `plugin`, with the connection's capabilities, under
    /// the memory cap and the deadline.
    pub async fn call<R: Send>(
        &self,
        plugin: &Plugin,
        capabilities: Option<Arc<Capabilities>>,
        operation: &str,
        body: impl for<'a> FnOnce(&'a mut Store<CallState>, &'a Instance) -> CallFuture<'a, R> + Send,
    ) -> Result<R, CallError> {
        self.call_pre(plugin.id(), plugin.pre(), capabilities, operation, body)
            .await
    }

    /// A call of the component pre-instantiated as `pre` (plugin `id`).
    async fn call_pre<R: Send>(
        &self,
        id: &str,
        pre: &InstancePre<CallState>,
        capabilities: Option<Arc<Capabilities>>,
        operation: &str,
        body: impl for<'a> FnOnce(&'a mut Store<CallState>, &'a Instance) -> CallFuture<'a, R> + Send,
    ) -> Result<R, CallError> {
        let timeout = self.config.call_timeout;
        let tag = LogTag {
            plugin: id.into(),
            connection: capabilities
                .as_ref()
                .map(|c| c.connection.as_str())
                .unwrap_or("-")
                .into(),
            redactor: capabilities
                .as_ref()
                .map(|c| c.redactor.clone())
                .unwrap_or_default(),
            log: Arc::new(CallLog::new(
                capabilities
                    .as_ref()
                    .map(|c| c.log.clone())
                    .unwrap_or_else(|| Arc::new(LogBudget::new(LogLimits::default()))),
            )),
        };
        // Declared before the store, so dropped after it (and after its stdout/stderr's last
        // line): the one notice of what the log limits suppressed.
        struct Notice(LogTag);
        impl Drop for Notice {
            fn drop(&mut self) {
                self.0.finish();
            }
        }
        let _notice = Notice(tag.clone());
        // Declared before the store too: the epoch advances until the store is gone.
        let _active = self.activity.enter();
        let mut store = Store::new(
            &self.engine,
            CallState {
                wasi: wasi_context(&tag),
                table: ResourceTable::new(),
                memory: MemoryLimiter::new(self.config.memory_limit),
                tag: tag.clone(),
                capabilities,
                deadline: Instant::now() + timeout,
            },
        );
        store.limiter(|state| &mut state.memory);
        let ticks = timeout.as_millis().div_ceil(EPOCH_TICK.as_millis()) as u64 + 1;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();

        let failure = |store: &Store<CallState>, e: wasmtime::Error| {
            classify(id, operation, timeout, store.data(), e)
        };
        let run = async {
            let instance = pre
                .instantiate_async(&mut store)
                .await
                .map_err(|e| (true, e))?;
            body(&mut store, &instance).await.map_err(|e| (false, e))
        };
        let outcome = tokio::time::timeout(timeout, run).await;
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err((instantiating, e))) => {
                let err = failure(&store, e);
                let err = match err {
                    CallError::Trap { message, .. } if instantiating => CallError::Setup {
                        plugin: id.to_string(),
                        operation: operation.to_string(),
                        message,
                    },
                    other => other,
                };
                // A trap's message is guest text (a panic message): one line, escaped.
                tracing::warn!(
                    plugin = id,
                    connection = &*tag.connection,
                    "{}",
                    one_line(&tag.redactor.redact(&err.to_string()))
                );
                Err(err)
            }
            Err(_) => {
                let err = CallError::Deadline {
                    plugin: id.to_string(),
                    operation: operation.to_string(),
                    limit_ms: timeout.as_millis() as u64,
                };
                tracing::warn!(plugin = id, connection = &*tag.connection, "{err}");
                Err(err)
            }
        }
    }
}

fn wasi_context(tag: &LogTag) -> WasiCtx {
    // Nothing is granted: no preopened directories, no environment, no arguments, no sockets.
    // Clocks and randomness are harmless and needed by ordinary Rust code.
    WasiCtx::builder()
        .stdout(GuestOutput::stdout(tag.clone()))
        .stderr(GuestOutput::stderr(tag.clone()))
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build()
}

fn classify(
    plugin: &str,
    operation: &str,
    timeout: Duration,
    state: &CallState,
    e: wasmtime::Error,
) -> CallError {
    let (plugin, operation) = (plugin.to_string(), operation.to_string());
    if matches!(
        e.downcast_ref::<wasmtime::Trap>(),
        Some(wasmtime::Trap::Interrupt)
    ) {
        return CallError::Deadline {
            plugin,
            operation,
            limit_ms: timeout.as_millis() as u64,
        };
    }
    if state.memory.refused() {
        return CallError::MemoryCap {
            plugin,
            operation,
            cap_mib: (state.memory.cap() / (1024 * 1024)) as u64,
        };
    }
    let message = state.tag.redactor.redact(&format!("{e:#}")).into_owned();
    CallError::Trap {
        plugin,
        operation,
        message,
    }
}
