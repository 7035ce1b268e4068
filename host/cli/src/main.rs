//! The `psahost` command line.

// First: its output macros are used by the modules below.
#[macro_use]
mod terminal;
mod client;
mod connection;
mod delivery;
mod demo;
mod inventory;
mod link;
mod mrr;
mod plugin;
mod records;
mod scaffold;
mod serve;
mod store;
mod sync;

use anyhow::Context;
use clap::{Parser, Subcommand};
use psahost_config::Config;
use psahost_sandbox::runtime::{BundledPlugins, ChildCompiler, RuntimeConfig, compile_child_main};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Runs PSA integrations (ConnectWise Manage, Autotask, Kaseya BMS, ...) as sandboxed
/// WebAssembly components.
#[derive(Debug, Parser)]
#[command(name = "psahost", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The operator configuration (TOML).
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "PSAHOST_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// Log filter: a level (error, warn, info, debug, trace) or a tracing filter such as
    /// `psahost=debug,psahost::guest=trace`.
    #[arg(
        long,
        global = true,
        env = "PSAHOST_LOG",
        default_value = "info",
        value_name = "FILTER"
    )]
    pub log: String,

    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect or run plugins (.wasm components).
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Work with the connections of the configuration.
    #[command(subcommand)]
    Connection(connection::ConnectionCommand),
    /// Run the PSA simulator on loopback (for demos, tests and plugin authors).
    Sim(Box<psa_sim::SimArgs>),
    /// Run each bundled connector end to end against the PSA simulator, print a summary.
    Demo(demo::DemoArgs),
    /// Sync a connection's records into the record store (incremental, or --full).
    Sync(sync::SyncArgs),
    /// Run the daemon: scheduled syncs, plugin hot reload and the HTTP API (needs [api]).
    Serve(serve::ServeArgs),
    /// Read synced records and the change feed (from the store, or a daemon with --api).
    #[command(subcommand)]
    Records(records::RecordsCommand),
    /// MRR per company on a day, from the synced agreements.
    Mrr(mrr::MrrArgs),
    /// Companies a tool may create customers from (active, with an active contact), and why not.
    Eligible(mrr::EligibleArgs),
    /// Link the tool's customers to PSA companies; list and remove the links.
    #[command(subcommand)]
    Link(link::LinkCommand),
    /// Sync the tool's devices to PSA configuration items; list their mapping states and the
    /// audit trail of the writes.
    #[command(subcommand)]
    Inventory(inventory::InventoryCommand),
    /// Check a connection's alert delivery settings against the PSA (`delivery check ID`).
    #[command(subcommand)]
    Delivery(delivery::DeliveryCommand),
    /// Deliver alerts as tickets or grouped notes, exactly once (`alerts deliver ID`).
    #[command(subcommand)]
    Alerts(delivery::AlertsCommand),
    /// List deliveries and retry a failed one.
    #[command(subcommand)]
    Deliveries(delivery::DeliveriesCommand),
    /// Sync billable user counts to contract service quantities once per month.
    #[command(subcommand)]
    Billable(delivery::BillableCommand),
    /// Maintain the embedded store (`store compact`: give back unused disk space, offline).
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// Compiles a component for the host in a separate process (internal: the host runs it to
    /// bound a compilation's time and memory).
    #[command(name = "__compile-component", hide = true)]
    CompileComponent {
        /// The engine settings (JSON).
        settings: String,
        /// The component.
        input: PathBuf,
        /// Where the compiled artifact goes.
        output: PathBuf,
    },
}

/// The async runtime's blocking threads at most (see [`main`]).
const BLOCKING_THREADS: usize = 16;

/// Parses the command line, runs the command, prints errors; the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = init_tracing(&cli.log, cli.log_format) {
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // The record store's and the kv store's sled operations run on the blocking pool. With
        // tokio's default (512 threads), a daemon starting 1,000 new connections ran one
        // thread per connection at once, and each kept garbage of sled's (a copy of the tree
        // map per tree created) until it exited: 2.6 GB resident instead of 0.6 GB with 16
        // threads, and the first syncs were slower (BENCHMARKS.md, "1,000 connections").
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(_) if terminal::output_failed() => ExitCode::FAILURE,
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", terminal::safe(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Plugin(cmd) => plugin::run(cmd, cli.config.as_deref()).await,
        Command::Connection(cmd) => connection::run(cmd, cli.config.as_deref()).await,
        Command::Sim(args) => psa_sim::run(*args).await.map(|()| ExitCode::SUCCESS),
        Command::Demo(args) => demo::run(args).await,
        Command::Sync(args) => sync::run(args, cli.config.as_deref()).await,
        Command::Serve(args) => serve::run(args, cli.config.as_deref()).await,
        Command::Records(cmd) => records::run(cmd, cli.config.as_deref()).await,
        Command::Mrr(args) => mrr::run_mrr(args, cli.config.as_deref()).await,
        Command::Eligible(args) => mrr::run_eligible(args, cli.config.as_deref()).await,
        Command::Link(cmd) => link::run(cmd, cli.config.as_deref()).await,
        Command::Inventory(cmd) => inventory::run(cmd, cli.config.as_deref()).await,
        Command::Delivery(cmd) => delivery::run_delivery(cmd, cli.config.as_deref()).await,
        Command::Alerts(cmd) => delivery::run_alerts(cmd, cli.config.as_deref()).await,
        Command::Deliveries(cmd) => delivery::run_deliveries(cmd, cli.config.as_deref()).await,
        Command::Billable(cmd) => delivery::run_billable(cmd, cli.config.as_deref()).await,
        Command::Store(cmd) => store::run(cmd, cli.config.as_deref()).await,
        Command::CompileComponent {
            settings,
            input,
            output,
        } => compile_child_main(&settings, &input, &output).map(|()| ExitCode::SUCCESS),
    }
}

fn init_tracing(filter: &str, format: LogFormat) -> anyhow::Result<()> {
    // A bare level applies to psahost and its plugins; libraries stay at `warn`.
    let levels = ["error", "warn", "info", "debug", "trace"];
    let filter = if levels.contains(&filter.trim().to_ascii_lowercase().as_str()) {
        let level = filter.trim().to_ascii_lowercase();
        format!("warn,psahost={level},psa_sim={level}")
    } else {
        filter.to_string()
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&filter).with_context(|| {
        format!("`{filter}` is not a log filter; try `info` or `psahost=debug`")
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(())
}

/// The first-party connectors this binary embeds: what `builtin:ID` names.
fn bundled() -> BundledPlugins {
    BundledPlugins(plugin_artifacts::bundled())
}

/// This binary as the runtime's child compiler (`psahost __compile-component`), so that a
/// component's compilation is bounded in time and memory.
fn child_compiler() -> Option<ChildCompiler> {
    match std::env::current_exe() {
        Ok(program) => Some(ChildCompiler {
            program,
            args: vec!["__compile-component".into()],
        }),
        Err(e) => {
            tracing::warn!(
                "cannot find this program's own path ({e}): components are compiled in process, without the compile-timeout and compile-memory bounds"
            );
            None
        }
    }
}

/// Reads the operator's configuration; `builtin:` plugins are the connectors this binary
/// embeds, and components are compiled by this binary in a child process.
pub(crate) fn load_config(path: &Path) -> anyhow::Result<Config> {
    let mut config = Config::load(path)?;
    config.runtime = with_this_program(config.runtime);
    Ok(config)
}

/// `runtime` with what this binary provides: its bundled connectors as `builtin:`, and itself
/// as the child compiler. Every runtime the command builds goes through here.
pub(crate) fn with_this_program(runtime: RuntimeConfig) -> RuntimeConfig {
    RuntimeConfig {
        bundled: bundled(),
        child_compiler: child_compiler(),
        ..runtime
    }
}

/// The directory for the compiled-component cache of one-off commands.
pub(crate) fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PSAHOST_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("psahost"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/psahost"))
}
