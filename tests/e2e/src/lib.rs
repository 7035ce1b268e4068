//! Helpers shared by the end-to-end tests: a runtime with test limits, plugin paths, connections
//! with a grant, and a log capture.

use psahost_sandbox::capabilities::ConnectionPolicy;
use psahost_sandbox::capabilities::http::{Grant, HttpLimits, OriginPattern};
use psahost_sandbox::capabilities::kv::{KvLimits, KvStore};
use psahost_sandbox::capabilities::settings::Settings;
use psahost_sandbox::connector::Connection;
use psahost_sandbox::runtime::{Plugin, PluginSource, Runtime, RuntimeConfig};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use plugin_artifacts::{
    AUTOTASK_PATH, CONNECTWISE_MANAGE_PATH, CONNECTWISE_MANAGE_V0_1_0_PATH, EXAMPLE_RULE_PATH,
    EXAMPLE_RULE_V0_1_0_PATH, FLAWED_PATH, HOSTILE_PATH, KASEYA_BMS_PATH,
};

/// The compiled-component cache shared by the test runs.
pub fn cache_dir() -> PathBuf {
    std::env::temp_dir().join("psahost-test-cache")
}

/// A runtime with a memory cap and a deadline chosen by the test.
pub fn runtime(memory_limit: u64, call_timeout: Duration) -> Arc<Runtime> {
    Runtime::new(RuntimeConfig {
        cache_dir: Some(cache_dir()),
        memory_limit,
        call_timeout,
        max_instances: 16,
        ..RuntimeConfig::default()
    })
    .expect("runtime")
}

/// Loads a plugin from a path.
pub async fn load(runtime: &Arc<Runtime>, path: &str) -> Arc<Plugin> {
    runtime
        .load(PluginSource::File(path.into()))
        .await
        .unwrap_or_else(|e| panic!("loading {path}: {e}"))
}

/// Settings from pairs; names listed in `secret` are secret.
pub fn settings(pairs: &[(&str, &str)], secret: &[&str]) -> Settings {
    let mut s = Settings::default();
    for (k, v) in pairs {
        s.insert(*k, *v, secret.contains(k));
    }
    s
}

/// A policy granting exactly `origins` (operator patterns) with default limits.
pub fn grant(origins: &[&str]) -> ConnectionPolicy {
    ConnectionPolicy {
        grant: Grant {
            origins: origins
                .iter()
                .map(|o| OriginPattern::parse(o).expect("origin"))
                .collect(),
            all_requested: false,
            allow_private_networks: false,
        },
        http: HttpLimits::default(),
        kv: KvLimits::default(),
        log: Default::default(),
    }
}

/// Opens a connection.
pub fn connect(
    runtime: &Arc<Runtime>,
    plugin: &Arc<Plugin>,
    id: &str,
    settings: Settings,
    policy: &ConnectionPolicy,
    kv: &KvStore,
) -> Connection {
    Connection::open(runtime.clone(), plugin.clone(), id, settings, policy, kv)
        .unwrap_or_else(|e| panic!("opening connection {id}: {e:#}"))
}

/// Collects everything `tracing` writes.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Installs a capture of every event at every level as the process's global subscriber
    /// (once per test binary: every caller shares it).
    pub fn install_global() -> LogCapture {
        static GLOBAL: std::sync::OnceLock<LogCapture> = std::sync::OnceLock::new();
        GLOBAL
            .get_or_init(|| {
                let capture = LogCapture::default();
                let writer = capture.clone();
                let subscriber = tracing_subscriber::fmt()
                    .with_max_level(tracing::Level::TRACE)
                    .with_ansi(false)
                    .with_writer(move || writer.clone())
                    .finish();
                tracing::subscriber::set_global_default(subscriber)
                    .expect("one capture per test binary");
                capture
            })
            .clone()
    }

    /// What was logged.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Requests a [`TestServer`] served: path and `authorization` header.
pub type SeenRequests = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A small HTTP server on loopback for the sandbox tests: `/bytes/N` answers N bytes,
/// anything else answers `ok`. Stops when dropped.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub origin: String,
    /// Requests served (path and `authorization` header), for assertions.
    pub seen: SeenRequests,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Starts the server.
    pub async fn start() -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let origin = format!("http://{}", listener.local_addr().expect("addr"));
        let seen: SeenRequests = Arc::default();
        let log = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let log = log.clone();
                tokio::spawn(async move {
                    let _ = serve_one(stream, log).await;
                });
            }
        });
        TestServer { origin, seen, task }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_one(mut stream: tokio::net::TcpStream, log: SeenRequests) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let auth = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("authorization: ")
                .or_else(|| l.strip_prefix("Authorization: "))
        })
        .map(str::to_string);
    log.lock().unwrap().push((path.clone(), auth));
    let body = match path
        .strip_prefix("/bytes/")
        .and_then(|n| n.parse::<usize>().ok())
    {
        Some(n) => vec![b'x'; n],
        None => b"ok".to_vec(),
    };
    let header = format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(header.as_bytes()).await?;
    stream.write_all(&body).await?;
    stream.shutdown().await
}

/// A ConnectWise connection `id` to `sim` with the given key pair (the simulator's company and
/// client id), granted exactly the simulator's origin.
pub fn connectwise(
    runtime: &Arc<Runtime>,
    plugin: &Arc<Plugin>,
    sim: &psa_sim::Simulator,
    id: &str,
    (public_key, private_key): (&str, &str),
    kv: &KvStore,
) -> Connection {
    let c = &sim.config().credentials;
    let origin = sim.origin();
    connect(
        runtime,
        plugin,
        id,
        settings(
            &[
                ("site", &origin),
                ("company-id", &c.company_id),
                ("public-key", public_key),
                ("private-key", private_key),
                ("client-id", &c.client_id),
            ],
            &["private-key"],
        ),
        &grant(&[&origin]),
        kv,
    )
}

/// Every page of a paged read, following cursors; returns the items and the page count.
pub async fn pull_all<T, E, F, Fut>(
    page_size: u32,
    updated_since: Option<&str>,
    fetch: F,
) -> Result<(Vec<T>, usize), E>
where
    F: Fn(psahost_sandbox::bindings::psa::connector::types::PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>), E>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let (batch, next) = fetch(
            psahost_sandbox::bindings::psa::connector::types::PageRequest {
                cursor: cursor.take(),
                updated_since: updated_since.map(str::to_string),
                page_size,
            },
        )
        .await?;
        pages += 1;
        items.extend(batch);
        match next {
            Some(n) => cursor = Some(n),
            None => return Ok((items, pages)),
        }
    }
}

/// A connection of the bundled connector's `plugin` to `sim` with the settings
/// `psahost_conformance::simulated` gives for the simulator's dialect, some replaced by `overrides`.
pub fn simulated_connection(
    runtime: &Arc<Runtime>,
    plugin: &Arc<Plugin>,
    sim: &psa_sim::Simulator,
    id: &str,
    overrides: &[(&str, &str)],
    kv: &KvStore,
) -> Connection {
    let mut settings = psahost_conformance::simulated::settings_for(sim);
    for (name, value) in overrides {
        settings.insert(*name, *value, true);
    }
    psahost_conformance::simulated::connect(runtime, plugin, sim, id, settings, kv)
        .unwrap_or_else(|e| panic!("opening connection {id}: {e:#}"))
}

/// The ids of the companies the simulator serves (deleted ones are not).
pub fn live_company_ids(sim: &psa_sim::Simulator) -> std::collections::BTreeSet<String> {
    sim.state().read(|d| {
        d.companies
            .values()
            .filter(|c| !c.deleted)
            .map(|c| c.id.to_string())
            .collect()
    })
}

/// Every company id through a connection, and the number of pages.
pub async fn company_ids(
    conn: &Connection,
    page_size: u32,
    since: Option<&str>,
) -> (Vec<String>, usize) {
    let (items, pages) = pull_all(page_size, since, |p| {
        let conn = conn.clone();
        async move {
            conn.list_companies(p)
                .await
                .map(|r| (r.items, r.next_cursor))
        }
    })
    .await
    .expect("companies");
    (items.into_iter().map(|c| c.id).collect(), pages)
}

/// Edits the companies `ids` in the simulator (a new last-update time), as a PSA user would; the
/// ids touched, for comparing with an updated-since read.
pub fn touch_companies<'a>(
    sim: &psa_sim::Simulator,
    ids: impl IntoIterator<Item = &'a String>,
) -> std::collections::BTreeSet<String> {
    ids.into_iter()
        .map(|id| {
            let n = id.parse().expect("simulator ids are numbers");
            assert!(
                sim.state().touch(psa_sim::Entity::Company, n),
                "company {id}"
            );
            id.clone()
        })
        .collect()
}

/// The simulator's data set end as RFC 3339: anything changed after it was touched by a test.
pub fn data_end() -> String {
    psa_sim::data::DATA_END
        .format(&time::format_description::well_known::Rfc3339)
        .expect("a fixed date formats")
}

/// The setting a refused credential names, or a panic describing what came instead.
pub fn unauthorized_setting<T: std::fmt::Debug>(
    result: Result<T, psahost_sandbox::connector::ConnectorError>,
) -> psahost_sandbox::bindings::psa::connector::types::CredentialProblem {
    use psahost_sandbox::bindings::psa::connector::types::Error as PsaError;
    match result {
        Err(psahost_sandbox::connector::ConnectorError::Psa(PsaError::Unauthorized(p))) => p,
        other => panic!("expected unauthorized, got {other:?}"),
    }
}
