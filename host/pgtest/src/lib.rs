//! The PostgreSQL server of psahost's tests (the store's, the workflows'): `PSAHOST_TEST_DATABASE_URL` when it is set, otherwise a
//! throwaway server this test process starts on first use (shared by all its tests) and that
//! stops when the process ends.
//!
//! The throwaway server: `initdb` into a new directory under the temporary directory, then
//! `pg_ctl start` listening on a unix socket in that directory only (no TCP port, so parallel
//! test processes never collide), with durability off (fsync, synchronous commit). As root it
//! runs as the `postgres` user (PostgreSQL refuses root) through `runuser`. A watcher process
//! (its own process group, deaf to SIGINT/SIGTERM/SIGHUP) waits for this process to end, however
//! it ends, then stops the server and removes the directory.
//!
//! Each test gets its own schema ([`PgFactory`]), so tests run in parallel; with
//! `PSAHOST_TEST_DATABASE_URL` the schemas are dropped when their test ends.

use psahost_store::conformance::StoreFactory;
use psahost_store::{PgOptions, PgStore, RecordStore, StoreFuture};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// The variable naming an existing server for the tests.
pub const URL_VAR: &str = "PSAHOST_TEST_DATABASE_URL";

const MISSING: &str = "\
The PostgreSQL tests of psahost-store need PostgreSQL (they are never skipped). Either
  - install the PostgreSQL server binaries so that `initdb` and `pg_ctl` are on PATH or in
    /usr/lib/postgresql/<version>/bin (Debian/Ubuntu: `apt-get install postgresql`; Fedora:
    `dnf install postgresql-server`; macOS: `brew install postgresql@15`): the tests start a
    throwaway server of their own; or
  - set PSAHOST_TEST_DATABASE_URL to a server they may use, e.g.
    PSAHOST_TEST_DATABASE_URL=postgresql://postgres:password@127.0.0.1:5432/postgres
    (each test creates and drops its own schema in that database).";

static SERVER: OnceLock<Server> = OnceLock::new();

struct Server {
    url: String,
    /// Started by this process (not from the variable).
    own: bool,
}

fn server() -> &'static Server {
    SERVER.get_or_init(|| match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Server { url, own: false },
        _ => match start() {
            Ok(url) => Server { url, own: true },
            Err(e) => panic!("{e}"),
        },
    })
}

/// The connection string of the tests' server (starting it on first use; blocking).
pub fn url() -> &'static str {
    &server().url
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The directory with `initdb` and `pg_ctl`: on PATH, else the newest /usr/lib/postgresql/N/bin.
fn bin_dir() -> Option<PathBuf> {
    let has_both = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH")
        && let Some(d) = std::env::split_paths(&path).find(|d| has_both(d))
    {
        return Some(d);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_both(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, d)| d).or_else(|| {
        [
            "/usr/local/pgsql/bin",
            "/opt/homebrew/bin",
            "/usr/local/bin",
        ]
        .into_iter()
        .map(PathBuf::from)
        .find(|d| has_both(d))
    })
}

fn run(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}\n\n{MISSING}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}):\n{}{}\n\n{MISSING}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn start() -> Result<String, String> {
    let server = Instance::create()?;
    server.start()?;
    Ok(server.url())
}

/// A PostgreSQL server in a temporary directory of its own, removed (and the server stopped)
/// when this process ends.
pub struct Instance {
    dir: PathBuf,
    bin: PathBuf,
    root: bool,
}

impl Instance {
    /// `initdb` into a new directory (and the watcher that removes it); not started yet.
    pub fn create() -> Result<Instance, String> {
        let bin = bin_dir().ok_or_else(|| MISSING.to_string())?;
        let root = is_root();
        // As root, the postgres user must be able to write there: /tmp, not a private TMPDIR.
        let tmp = if root {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let template = tmp.join("psahost-pg.XXXXXX");
        let mut mktemp = if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "mktemp"]);
            c
        } else {
            Command::new("mktemp")
        };
        let dir = run(
            mktemp.arg("-d").arg(&template),
            if root {
                "`runuser -u postgres -- mktemp -d` (as root the tests run PostgreSQL as the `postgres` user)"
            } else {
                "`mktemp -d`"
            },
        )?;
        let server = Instance {
            dir: PathBuf::from(dir),
            bin,
            root,
        };
        // The watcher first: whatever happens next, the directory (and the server) go away
        // when this process ends.
        let script = r#"trap '' INT TERM HUP
while kill -0 "$1" 2>/dev/null; do sleep 1; done
if [ -f "$2/data/postmaster.pid" ]; then
  if [ "$4" = root ]; then runuser -u postgres -- "$3" -D "$2/data" -m immediate stop
  else "$3" -D "$2/data" -m immediate stop; fi
fi
rm -rf "$2""#;
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("psahost-pg-watcher")
            .arg(std::process::id().to_string())
            .arg(&server.dir)
            .arg(server.bin.join("pg_ctl"))
            .arg(if root { "root" } else { "user" })
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start the watcher of the test PostgreSQL server: {e}"))?;
        run(
            server
                .command("initdb")
                .arg("-D")
                .arg(server.dir.join("data"))
                .args([
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "--no-sync",
                ]),
            "initdb",
        )?;
        Ok(server)
    }

    /// A PostgreSQL program, as the postgres user when we are root.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    /// Starts the server (unix socket in its directory only, durability off); blocking.
    pub fn start(&self) -> Result<(), String> {
        self.start_with("-c listen_addresses=")
    }

    /// Starts the server with TLS on, listening on 127.0.0.1 too (TLS needs TCP: PostgreSQL
    /// never negotiates it on a unix socket), with the given PEM certificate (chain) and key;
    /// blocking. Returns the TCP port.
    pub fn start_tls(&self, cert_pem: &str, key_pem: &str) -> Result<u16, String> {
        let cert = self.dir.join("server.crt");
        let key = self.dir.join("server.key");
        self.write_private(&cert, cert_pem)?;
        self.write_private(&key, key_pem)?;
        // A free port now; another process taking it before the server does makes start fail
        // with the log saying so, never a wrong server.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("cannot find a free port on 127.0.0.1: {e}"))?
            .port();
        self.start_with(&format!(
            "-c listen_addresses=127.0.0.1 -c port={port} -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            cert.display(),
            key.display()
        ))?;
        Ok(port)
    }

    /// Writes a file the server reads, readable by its user alone (PostgreSQL refuses a key
    /// readable by others).
    fn write_private(&self, path: &Path, text: &str) -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt;
        let fail = |e: std::io::Error| format!("cannot write `{}`: {e}", path.display());
        std::fs::write(path, text).map_err(fail)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(fail)?;
        if self.root {
            let id = |flag: &str| {
                run(Command::new("id").args([flag, "postgres"]), "`id postgres`")?
                    .parse::<u32>()
                    .map_err(|e| format!("`id {flag} postgres`: {e}"))
            };
            std::os::unix::fs::chown(path, Some(id("-u")?), Some(id("-g")?)).map_err(fail)?;
        }
        Ok(())
    }

    fn start_with(&self, listen: &str) -> Result<(), String> {
        let options = format!(
            "-k {} {listen} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=400",
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        if let Err(e) = run(
            self.command("pg_ctl")
                .arg("-D")
                .arg(self.dir.join("data"))
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "-o", &options, "start"]),
            "pg_ctl start",
        ) {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(format!("{e}\n\nserver log:\n{log}"));
        }
        Ok(())
    }

    /// Stops the server (`-m fast`: sessions are ended); blocking.
    pub fn stop(&self) -> Result<(), String> {
        run(
            self.command("pg_ctl")
                .arg("-D")
                .arg(self.dir.join("data"))
                .args(["-w", "-m", "fast", "stop"]),
            "pg_ctl stop",
        )
        .map(|_| ())
    }

    /// Its connection string.
    pub fn url(&self) -> String {
        format!("host={} user=postgres dbname=postgres", self.dir.display())
    }
}

/// A connection of its own to the tests' server, with `schema` first in its search path.
pub async fn raw_client(schema: &str) -> tokio_postgres::Client {
    let url = tokio::task::spawn_blocking(url).await.unwrap();
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("a connection to the tests' PostgreSQL");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("SET search_path = {schema}"))
        .await
        .unwrap();
    client
}

/// A new schema name, unique across test processes and runs.
pub fn new_schema() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    static RUN: OnceLock<u64> = OnceLock::new();
    let run = RUN.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    });
    format!(
        "psahost_test_{run}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A `PgStore` in a schema of its own (reopened in place), dropped with the factory when the
/// server is not the tests' own.
pub struct PgFactory {
    /// The schema its stores open.
    pub schema: String,
}

impl Default for PgFactory {
    /// A factory with a new schema of its own.
    fn default() -> PgFactory {
        PgFactory {
            schema: new_schema(),
        }
    }
}

impl PgFactory {
    /// A factory with a new schema of its own.
    pub fn new() -> PgFactory {
        PgFactory::default()
    }
}

/// Opens a `PgStore` in `schema` of the tests' server.
pub async fn open(schema: &str) -> anyhow::Result<PgStore> {
    let url = tokio::task::spawn_blocking(url).await?;
    PgStore::connect(
        url,
        PgOptions {
            schema: Some(schema.to_string()),
            max_connections: 6,
            ..PgOptions::default()
        },
    )
    .await
}

impl StoreFactory for PgFactory {
    fn open(&self) -> StoreFuture<'_, Arc<dyn RecordStore>> {
        Box::pin(async move {
            let store: Arc<dyn RecordStore> = Arc::new(open(&self.schema).await?);
            Ok(store)
        })
    }
}

impl Drop for PgFactory {
    fn drop(&mut self) {
        let Some(server) = SERVER.get() else { return };
        if server.own {
            return; // the whole server goes away
        }
        let url = server.url.clone();
        let schema = self.schema.clone();
        // A thread of its own: drop may run inside the test's runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .ok()?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .await
                    .ok()
            })
        })
        .join();
    }
}
