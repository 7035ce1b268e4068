//! Starting and stopping a simulator.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{Dialect, SimConfig};
use crate::data::{DataSet, GenSpec};
use crate::dialect;
use crate::faults::Faults;
use crate::state::{Shared, SimState};

/// How long [`Simulator::shutdown`] waits for open requests before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// One setting of the first-party connector of the simulator's dialect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectorSetting {
    /// The setting's name (`site`, `username`, ...).
    pub name: &'static str,
    /// Its value for this simulator.
    pub value: String,
    /// Whether the connector declares it secret.
    pub secret: bool,
}

/// A running PSA simulator serving plain HTTP.
#[derive(Debug)]
pub struct Simulator {
    state: SimState,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl Simulator {
    /// Generates the data set, binds `config.bind` and starts serving.
    pub async fn start(config: SimConfig) -> anyhow::Result<Simulator> {
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("cannot listen on '{}'", config.bind))?;
        let addr = listener
            .local_addr()
            .context("cannot read the listening address")?;
        let spec = GenSpec {
            seed: config.seed,
            companies: config.companies,
            configurations: config.configurations,
        };
        // Large data sets take a moment to generate: keep it off the async workers.
        let data = tokio::task::spawn_blocking(move || DataSet::generate(&spec))
            .await
            .context("the data set generator failed")?;
        let origin = format!("http://{addr}");
        let shared = Arc::new(Shared::new(config, origin, data));
        let router = dialect::router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        tracing::debug!(%addr, "psa simulator listening");
        Ok(Simulator {
            state: SimState { shared },
            addr,
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// `http://127.0.0.1:PORT`: the `site` a connector is configured with.
    pub fn origin(&self) -> String {
        self.state.shared.origin.clone()
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &SimConfig {
        &self.state.shared.config
    }

    /// The settings the first-party connector of the dialect needs to reach this simulator
    /// with its read-write credentials (`connectwise-manage`, `autotask`, `kaseya-bms`).
    pub fn connector_settings(&self) -> Vec<ConnectorSetting> {
        let c = self.config();
        let origin = self.origin();
        let s = |name, value: &str, secret| ConnectorSetting {
            name,
            value: value.to_string(),
            secret,
        };
        match c.dialect {
            Dialect::ConnectWise => vec![
                s("site", &origin, false),
                s("company-id", &c.credentials.company_id, false),
                s("public-key", &c.credentials.public_key, false),
                s("private-key", &c.credentials.private_key, true),
                s("client-id", &c.credentials.client_id, false),
            ],
            Dialect::Autotask => vec![
                s("username", &c.autotask.username, false),
                s("secret", &c.autotask.secret, true),
                s("integration-code", &c.autotask.integration_code, true),
                s("discovery-url", &origin, false),
            ],
            Dialect::KaseyaBms => vec![
                s("server", &origin, false),
                s("username", &c.kaseya_bms.username, false),
                s("tenant", &c.kaseya_bms.tenant, false),
                s("password", &c.kaseya_bms.password, true),
            ],
        }
    }

    /// The live fault knobs.
    pub fn faults(&self) -> &Faults {
        &self.state.shared.faults
    }

    /// A handle on the data and settings.
    pub fn state(&self) -> &SimState {
        &self.state
    }

    /// Stops accepting connections, lets open requests finish (up to 5 seconds) and releases the port.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut server) = self.server.take() {
            match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => tracing::warn!(error = %e, "psa simulator stopped with an error"),
                Ok(Err(e)) => tracing::warn!(error = %e, "psa simulator task failed"),
                Err(_) => {
                    tracing::warn!("psa simulator did not stop in time; dropping open connections");
                    server.abort();
                    let _ = server.await;
                }
            }
        }
    }
}

impl Drop for Simulator {
    /// A simulator dropped without [`shutdown`](Simulator::shutdown) still stops serving.
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
