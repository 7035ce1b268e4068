//! `psahost serve`: the daemon. Loads the configuration, its plugins and connections, runs the
//! sync scheduler, watches plugin files and serves the HTTP API until SIGTERM or SIGINT, then
//! shuts down gracefully (exit code 0).

use anyhow::{Context, anyhow};
use clap::Args;
use psahost_daemon::{Daemon, RunOptions};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `psahost serve`.
#[derive(Debug, Args)]
#[command(
    after_help = "The configuration needs an [api] section (listen address and bearer token). \
Connections with a [connections.ID.schedule] are synced on schedule; plugin files are watched \
and reloaded when they change. SIGTERM or SIGINT shut down gracefully."
)]
pub struct ServeArgs {
    /// How long running syncs may go on after SIGTERM before they are cut short (they resume
    /// from their last committed page at the next start).
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub shutdown_grace: Duration,
}

/// Runs `psahost serve`.
pub(super) async fn run(args: ServeArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let path = config.ok_or_else(|| {
        anyhow!("this command needs the configuration: pass `--config psahost.toml` or set PSAHOST_CONFIG")
    })?;
    let config = crate::load_config(path)?;
    let api = config.api.clone().ok_or_else(|| {
        anyhow!(
            "`{}` has no [api] section: `psahost serve` needs `listen = \"127.0.0.1:8780\"` and `token = \"${{env:PSAHOST_API_TOKEN}}\"`",
            path.display()
        )
    })?;
    // The API answers while plugins compile; connections open as their plugin loads.
    let daemon = Daemon::start(config).await?;
    let listener = tokio::net::TcpListener::bind(api.listen)
        .await
        .with_context(|| format!("cannot listen on {}", api.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "API listening");
    // For scripts and tests: the address actually bound (the configuration may say port 0).
    println!("listening on http://{addr}");
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tokio::spawn(trim_the_heap());
    daemon
        .run(
            listener,
            shutdown_signal(),
            RunOptions {
                shutdown_grace: args.shutdown_grace,
                ..RunOptions::default()
            },
        )
        .await?;
    Ok(ExitCode::SUCCESS)
}

/// Gives the memory glibc's allocator keeps after a burst back to the system, once a minute.
/// The first syncs of thousands of connections and their pooled HTTP connections (closed 30 s
/// after their last request) leave hundreds of megabytes free in glibc's arenas, which it keeps
/// otherwise: 10,000 tenants held 473 MB 100 s after their first syncs, 286 MB with this
/// (BENCHMARKS.md, "What a connection costs at rest").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
async fn trim_the_heap() {
    let mut every = tokio::time::interval(TRIM_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        // SAFETY: glibc's `malloc_trim` takes no pointer, is thread-safe and only gives free
        // memory back.
        #[allow(unsafe_code)]
        let trim = || unsafe { libc::malloc_trim(0) };
        let _ = tokio::task::spawn_blocking(trim).await;
    }
}

/// How often [`trim_the_heap`] runs.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_EVERY: Duration = Duration::from_secs(60);

/// Completes on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received"),
                    _ = interrupt => tracing::info!("SIGINT received"),
                }
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM ({e}); SIGINT still stops the daemon");
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
        tracing::info!("interrupt received");
    }
}
