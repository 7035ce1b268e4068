//! `psahost inventory`: syncs the tool's devices to a connection's PSA configuration items,
//! and lists the devices' mapping states and the audit trail of the writes; on the store of
//! the configuration, or through a running daemon (`--api`).

use super::client::{STORE_PAGE, Source, Target, segment, store_all};
use crate::terminal;
use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use psahost_workflows::inventory::{self, InventoryProgress};
use psahost_workflows::sync::SyncEngine;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// `psahost inventory ...`.
#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// Sync the tool's devices (JSON lines or a JSON array: id, site, organisation,
    /// device-name, host-name, serial-number, mac-address, ip-address, device-class, make,
    /// model, managed, first-online, deleted, values) to the connection's configurations, by
    /// its `[connections.ID.inventory]` settings. --dry-run shows what would be created,
    /// updated, activated or inactivated, and writes nothing.
    Sync(SyncArgs),
    /// List the devices' mapping states (site, device, configuration, state, reason).
    List(ListArgs),
    /// List the audit trail: every write to the PSA, when, for which device, and the answer.
    Audit(AuditArgs),
}

/// Arguments of `psahost inventory sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The connection's id.
    #[arg(value_name = "CONNECTION")]
    pub connection: String,
    /// The devices: a file of JSON lines or a JSON array (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Plan and show, write nothing (to the PSA or the states).
    #[arg(long)]
    pub dry_run: bool,
    /// Print the whole report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Where to read and write.
    #[command(flatten)]
    pub target: Target,
}

/// Arguments of `psahost inventory list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The connection's id.
    #[arg(value_name = "CONNECTION")]
    pub connection: String,
    /// Print the states as JSON.
    #[arg(long)]
    pub json: bool,
    /// Where to read.
    #[command(flatten)]
    pub target: Target,
}

/// Arguments of `psahost inventory audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The connection's id.
    #[arg(value_name = "CONNECTION")]
    pub connection: String,
    /// Only the entries after this sequence number.
    #[arg(long, default_value_t = 0)]
    pub after: u64,
    /// At most this many entries.
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    /// Where to read.
    #[command(flatten)]
    pub target: Target,
}

/// Runs `psahost inventory ...`.
pub(super) async fn run(cmd: InventoryCommand, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    match cmd {
        InventoryCommand::Sync(args) => sync(args, config).await,
        InventoryCommand::List(args) => list(args, config).await,
        InventoryCommand::Audit(args) => audit(args, config).await,
    }
}

/// The progress bar on stderr (hidden when stderr is not a terminal).
struct Bar(ProgressBar);

impl InventoryProgress for Bar {
    fn device(&self, done: usize, total: usize) {
        if self.0.length() != Some(total as u64) {
            self.0.set_length(total as u64);
        }
        self.0.set_position(done as u64);
    }
}

async fn sync(args: SyncArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let text = super::link::read_input(&args.input, "devices")?;
    let report = match args.target.open(config).await? {
        Source::Store { config, store } => {
            let settings = config
                .connection(&args.connection)?
                .inventory
                .clone()
                .ok_or_else(|| {
                    anyhow!(
                        "connection `{}` has no inventory settings: add `[connections.{}.inventory]` to the configuration (identifiers, options, mappings)",
                        args.connection,
                        args.connection
                    )
                })?;
            let devices = inventory::parse_devices(&text)
                .with_context(|| format!("the devices `{}`", args.input.display()))?;
            let connection = super::connection::open(&config, &args.connection).await?;
            let engine = SyncEngine::new(store, config.sync.clone());
            let bar = ProgressBar::with_draw_target(
                Some(devices.len() as u64),
                ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {elapsed:>4} devices {pos}/{len} {wide_bar}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            let progress = Bar(bar);
            let report = inventory::sync_inventory(
                &engine,
                &connection,
                &settings,
                &devices,
                args.dry_run,
                &progress,
            )
            .await;
            progress.0.finish_and_clear();
            json!(report?)
        }
        Source::Api(_) => {
            let query = if args.dry_run { "?dry-run=true" } else { "" };
            super::link::api_send(
                &args.target,
                reqwest::Method::POST,
                &format!(
                    "v1/connections/{}/inventory/devices{query}",
                    segment(&args.connection)
                ),
                text,
            )
            .await?
        }
    };
    if args.json {
        outln!("{}", terminal::json(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let text = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => terminal::safe(s).into_owned(),
        other => terminal::safe(&other.to_string()).into_owned(),
    };
    let empty = Vec::new();
    for d in report["results"].as_array().unwrap_or(&empty) {
        let mut line = format!(
            "{:<16} {:<10} {:<24} {:<10}",
            text(&d["device-id"]),
            text(&d["action"]),
            text(&d["state"]),
            text(&d["configuration-id"]),
        );
        for extra in [&d["reason"], &d["note"]] {
            if !extra.is_null() {
                line.push_str("  ");
                line.push_str(&text(extra));
            }
        }
        outln!("{}", line.trim_end());
        for c in d["changes"].as_array().unwrap_or(&empty) {
            outln!(
                "{:<16}   {}: {} -> {}",
                "",
                text(&c["field"]),
                if c["from"].is_null() {
                    "-".into()
                } else {
                    text(&c["from"])
                },
                text(&c["to"])
            );
        }
    }
    outln!(
        "{} devices: {} created, {} updated, {} activated, {} inactivated, {} unchanged, {} not synced, {} waiting, {} failed{}",
        report["devices"],
        report["created"],
        report["updated"],
        report["activated"],
        report["inactivated"],
        report["unchanged"],
        report["not-synced"],
        report["waiting"],
        report["failed"],
        if report["dry-run"].as_bool().unwrap_or(false) {
            " (dry run: nothing written)"
        } else {
            ""
        }
    );
    if let Some(stopped) = report["stopped"].as_str() {
        outln!(
            "stopped early: {}; run it again to go on",
            terminal::safe(stopped)
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(args: ListArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let devices = match args.target.open(config).await? {
        Source::Store { config, store } => {
            config.connection(&args.connection)?;
            store_all(
                |after| {
                    inventory::list_devices(store.as_ref(), &args.connection, after, STORE_PAGE)
                },
                |d| d.device_id.clone(),
            )
            .await?
        }
        Source::Api(api) => {
            let path = format!(
                "v1/connections/{}/inventory/devices",
                segment(&args.connection)
            );
            api.get_all(&path, "devices").await?
        }
    };
    if args.json {
        outln!("{}", terminal::json(&json!(devices))?);
        return Ok(ExitCode::SUCCESS);
    }
    let text = |v: &Value| terminal::safe(v.as_str().unwrap_or_default()).into_owned();
    outln!(
        "{:<12} {:<16} {:<24} {:<10} {:<24}",
        "SITE",
        "DEVICE",
        "NAME",
        "CONFIG",
        "STATE"
    );
    for d in &devices {
        let reason = match d["reason"].as_str() {
            Some(r) => {
                let mut r = r.to_string();
                if let Some(c) = d["candidates"].as_array() {
                    r.push_str(&format!(
                        " ({})",
                        c.iter().map(&text).collect::<Vec<_>>().join(", ")
                    ));
                }
                format!("  {}", terminal::safe(&r))
            }
            None => String::new(),
        };
        let note = d["note"]
            .as_str()
            .map(|n| format!("  {}", terminal::safe(n)))
            .unwrap_or_default();
        outln!(
            "{:<12} {:<16} {:<24} {:<10} {:<24}{reason}{note}",
            text(&d["site"]),
            text(&d["device-id"]),
            text(&d["device-name"]),
            text(&d["configuration-id"]),
            text(&d["state"]),
        );
    }
    outln!("{} devices", devices.len());
    Ok(ExitCode::SUCCESS)
}

async fn audit(args: AuditArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let entries: Vec<Value> = match args.target.open(config).await? {
        Source::Store { config, store } => {
            config.connection(&args.connection)?;
            store
                .audit(&args.connection, args.after, args.limit)
                .await?
                .into_iter()
                .map(|(seq, entry)| json!({"seq": seq, "entry": entry}))
                .collect()
        }
        Source::Api(api) => {
            let page = api
                .get(
                    &format!(
                        "v1/connections/{}/inventory/audit",
                        segment(&args.connection)
                    ),
                    &[
                        ("after", args.after.to_string()),
                        ("limit", args.limit.to_string()),
                    ],
                )
                .await?;
            page["entries"].as_array().cloned().unwrap_or_default()
        }
    };
    if entries.len() > args.limit {
        bail!("the store answered more entries than asked for");
    }
    for e in &entries {
        outln!("{}", terminal::json_line(e)?);
    }
    Ok(ExitCode::SUCCESS)
}
