//! `psahost connection ...`: operations on the connections of the configuration.

use crate::terminal;
use anyhow::anyhow;
use clap::Subcommand;
use psahost_config::Config;
use psahost_sandbox::connector::Connection;
use psahost_sandbox::runtime::Runtime;
use std::path::Path;
use std::process::ExitCode;

/// Connection commands.
#[derive(Debug, Subcommand)]
pub enum ConnectionCommand {
    /// Check a connection's settings against its PSA and say precisely what is wrong.
    Test {
        /// The connection's id in the configuration.
        #[arg(value_name = "ID")]
        id: String,
    },
    /// List the configured connections.
    List,
}

pub(super) async fn run(cmd: ConnectionCommand, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let path = config.ok_or_else(|| {
        anyhow!("this command needs the configuration: pass `--config psahost.toml` or set PSAHOST_CONFIG")
    })?;
    let config = crate::load_config(path)?;
    match cmd {
        ConnectionCommand::List => {
            for c in config.connections.values() {
                outln!("{}\tplugin {}", c.id, c.plugin);
            }
            Ok(ExitCode::SUCCESS)
        }
        ConnectionCommand::Test { id } => test(&config, &id).await,
    }
}

/// Opens connection `id` of `config`: loads its plugin (checking the pin) and binds it.
pub async fn open(config: &Config, id: &str) -> anyhow::Result<Connection> {
    let conn = config.connection(id)?;
    let plugin_config = &config.plugins[&conn.plugin];
    let runtime = Runtime::new(config.runtime.clone())?;
    let plugin = runtime
        .load_pinned(
            plugin_config.source.clone(),
            plugin_config.sha256.as_deref(),
        )
        .await?;
    plugin_config.check_claim(&plugin, &config.runtime.bundled)?;
    let kv = config.open_kv(None).await?;
    Connection::open(
        runtime,
        plugin,
        id,
        conn.settings.clone(),
        &conn.policy,
        &kv,
    )
}

async fn test(config: &Config, id: &str) -> anyhow::Result<ExitCode> {
    let connection = open(config, id).await?;
    match connection.test_connection().await {
        Ok(report) => {
            outln!("ok: {}", terminal::safe(&report.message));
            if let Ok(details) = serde_json::from_str::<serde_json::Value>(&report.details)
                && details.as_object().is_some_and(|o| !o.is_empty())
            {
                outln!("{}", terminal::json(&details)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!(
                "error: connection `{id}` failed its test: {}",
                terminal::safe(&e.to_string())
            );
            Ok(ExitCode::FAILURE)
        }
    }
}
