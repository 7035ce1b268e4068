//! The daemon in process: its HTTP API over the real ConnectWise connector and the simulator on
//! loopback ([`api`], [`inventory`]), alert delivery through the API ([`delivery`]), and the identity of its plugins ([`plugins`]).

mod api;
mod cluster;
mod delivery;
mod delivery_settings;
mod inventory;
mod plugins;
mod versions;

use psahost_config::Config;
use psahost_daemon::{Daemon, RunOptions};
use psahost_testkit::daemon::Api;
use std::time::Duration;

/// Opens the daemon of the configuration at `path` (its plugins loaded) and serves its API on a
/// free loopback port until the sender is used.
pub(crate) async fn serve(
    path: &std::path::Path,
) -> (
    std::sync::Arc<Daemon>,
    Api,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let config = Config::load(path).expect("config");
    let daemon = Daemon::open(config).await.expect("daemon opens");
    let (api, stop, task) = serve_daemon(&daemon).await;
    (daemon, api, stop, task)
}

/// Serves `daemon`'s API on a free loopback port until the sender is used.
pub(crate) async fn serve_daemon(
    daemon: &std::sync::Arc<Daemon>,
) -> (
    Api,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    serve_daemon_with(
        daemon,
        RunOptions {
            shutdown_grace: Duration::from_secs(5),
            // Queued deliveries drained soon (the delivery test waits for it).
            delivery_drain_every: Duration::from_millis(300),
            ..RunOptions::default()
        },
    )
    .await
}

/// Serves `daemon`'s API with `options` on a free loopback port until the sender is used.
pub(crate) async fn serve_daemon_with(
    daemon: &std::sync::Arc<Daemon>,
    options: RunOptions,
) -> (
    Api,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = Api::new(&format!("http://{}", listener.local_addr().unwrap()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = daemon.clone();
    let task = tokio::spawn(async move {
        running
            .run(
                listener,
                async {
                    let _ = stopped.await;
                },
                options,
            )
            .await
    });
    (api, stop, task)
}
