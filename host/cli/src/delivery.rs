//! `psahost delivery check`, `psahost alerts deliver`, `psahost deliveries list|retry` and
//! `psahost billable sync`: alert-to-ticket delivery and the billable-user sync of a
//! connection's `[connections.ID.delivery]`, on the configuration's store.

use crate::terminal;
use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use psahost_config::Config;
use psahost_sandbox::connector::Connection;
use psahost_store::RecordStore;
use psahost_workflows::billing;
use psahost_workflows::delivery::{self, Delivery, DeliverySettings, State, alerts, settings};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Exit code of `alerts deliver` when deliveries stay queued (the PSA was rate-limited or
/// unavailable): run it again later (`EX_TEMPFAIL`).
pub const EXIT_QUEUED: u8 = 75;

/// `psahost delivery ...`.
#[derive(Debug, Subcommand)]
pub enum DeliveryCommand {
    /// Check `[connections.ID.delivery]` against the PSA's picklists and the synced companies
    /// and contacts, as a set-up wizard would: every problem names its field and the valid
    /// choices. Exits 1 when there is one.
    Check(ConnArgs),
}

/// `psahost alerts ...`.
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Queue alerts (JSON lines or a JSON array: id, organisation, severity, type,
    /// respond-rule or ioc-rule, title, description, email, time) and deliver the queue as
    /// tickets, or notes on the open ticket with the same subject. Without --input, delivers
    /// what is queued. The same alert id is delivered once. Exits 75 when deliveries stay
    /// queued (rate-limited or unavailable PSA: run it again), 1 when one failed.
    Deliver(DeliverArgs),
}

/// `psahost deliveries ...`.
#[derive(Debug, Subcommand)]
pub enum DeliveriesCommand {
    /// List the deliveries: queued, sending, delivered (ticket id), grouped (note id), failed
    /// (reason), skipped.
    List(ConnArgs),
    /// Queue a failed delivery again and deliver the queue.
    Retry(RetryArgs),
}

/// `psahost billable ...`.
#[derive(Debug, Subcommand)]
pub enum BillableCommand {
    /// Write each organisation's billable user count as its contract service's quantity, once
    /// per month from the configured day on (the 31st: a short month's last day).
    Sync(BillableArgs),
}

/// A connection.
#[derive(Debug, Args)]
pub struct ConnArgs {
    /// The connection's id.
    #[arg(value_name = "CONNECTION")]
    pub connection: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `psahost alerts deliver`.
#[derive(Debug, Args)]
pub struct DeliverArgs {
    /// The connection's id.
    #[arg(value_name = "CONNECTION")]
    pub connection: String,
    /// The alerts: a file of JSON lines or a JSON array (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Show the tickets and notes the alerts would create, rendered; send and store nothing.
    #[arg(long, requires = "input")]
    pub dry_run: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `psahost deliveries retry`.
#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The connection's id.
    #[arg(value_name = "CONNECTION")]
    pub connection: String,
    /// The alert id of the failed delivery.
    #[arg(value_name = "ALERT-ID")]
    pub alert: String,
}

/// Arguments of `psahost billable sync`.
#[derive(Debug, Args)]
pub struct BillableArgs {
    /// The connection's id.
    #[arg(value_name = "CONNECTION")]
    pub connection: String,
    /// The counts: `{"organisation": 12, ...}` or `[{"organisation": "...", "count": 12}]`.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// The day to act as (YYYY-MM-DD, UTC); default today.
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// Write a count that changed within a period already written (else it waits for the
    /// next period).
    #[arg(long)]
    pub force: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The largest input file, in bytes.
const MAX_INPUT_BYTES: u64 = alerts::MAX_INPUT_BYTES as u64;

fn read_input(path: &Path, what: &str) -> anyhow::Result<String> {
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(path)
            .with_context(|| format!("cannot open the {what} `{}`", path.display()))?
            .take(MAX_INPUT_BYTES + 1)
            .read_to_string(&mut text)
    };
    read.with_context(|| format!("cannot read the {what} `{}`", path.display()))?;
    if text.len() as u64 > MAX_INPUT_BYTES {
        bail!(
            "`{}` is over {MAX_INPUT_BYTES} bytes: split the {what} into several files",
            path.display()
        );
    }
    Ok(text)
}

struct Opened {
    settings: DeliverySettings,
    conn: Connection,
    store: Arc<dyn RecordStore>,
}

async fn open(config: Option<&Path>, id: &str) -> anyhow::Result<Opened> {
    let path = config.ok_or_else(|| {
        anyhow!("this command needs the configuration: pass `--config psahost.toml` or set PSAHOST_CONFIG")
    })?;
    let config: Config = crate::load_config(path)?;
    let settings = config.connection(id)?.delivery.clone().ok_or_else(|| {
        anyhow!(
            "connection `{id}` has no delivery settings: add [connections.{id}.delivery] (see `psahost delivery check --help`)"
        )
    })?;
    let conn = super::connection::open(&config, id).await?;
    let store = config.open_store().await?;
    Ok(Opened {
        settings,
        conn,
        store,
    })
}

/// Prints the check's problems; true when there are none.
async fn checked(o: &Opened, json: bool) -> anyhow::Result<bool> {
    let problems = settings::check(&o.settings, &o.conn, o.store.as_ref()).await?;
    if json {
        println!(
            "{}",
            terminal::json(
                &serde_json::json!({ "ok": problems.is_empty(), "problems": problems })
            )?
        );
    } else {
        for p in &problems {
            eprintln!(
                "error: delivery.{}: {}",
                terminal::safe(&p.field),
                terminal::safe(&p.message)
            );
        }
    }
    Ok(problems.is_empty())
}

/// Runs `psahost delivery ...`.
pub(super) async fn run_delivery(
    cmd: DeliveryCommand,
    config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let DeliveryCommand::Check(args) = cmd;
    let o = open(config, &args.connection).await?;
    if checked(&o, args.json).await? {
        if !args.json {
            println!(
                "ok: the delivery settings of connection `{}` are complete",
                terminal::safe(&args.connection)
            );
        }
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}

fn print_report(report: &delivery::DrainReport, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        println!("{}", terminal::json(report)?);
    } else {
        println!(
            "delivered {}, grouped {}, failed {}, resolved by marker {}, still queued {}, PSA calls {}",
            report.delivered,
            report.grouped,
            report.failed,
            report.resolved,
            report.still_queued,
            report.psa_calls
        );
        for b in &report.blocked {
            println!("left queued: {}", terminal::safe(b));
        }
    }
    Ok(if report.still_queued > 0 {
        ExitCode::from(EXIT_QUEUED)
    } else if report.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs `psahost alerts ...`.
pub(super) async fn run_alerts(
    cmd: AlertsCommand,
    config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let AlertsCommand::Deliver(args) = cmd;
    let o = open(config, &args.connection).await?;
    if !checked(&o, false).await? {
        bail!(
            "the delivery settings of connection `{}` are incomplete (above): nothing was delivered",
            args.connection
        );
    }
    let d = Delivery::new(o.store.as_ref(), &o.conn, &o.settings);
    if let Some(input) = &args.input {
        let text = read_input(input, "alerts")?;
        let alerts =
            alerts::parse(&text).with_context(|| format!("the alerts `{}`", input.display()))?;
        if args.dry_run {
            let previews = d.dry_run(&alerts).await?;
            if args.json {
                println!("{}", terminal::json(&previews)?);
            } else {
                for p in &previews {
                    println!(
                        "{} -> account {}: {}{}",
                        terminal::safe(&p.alert_id),
                        terminal::safe(&p.account),
                        p.action,
                        p.ticket_id
                            .as_ref()
                            .map(|t| format!(" on ticket {}", terminal::safe(t)))
                            .unwrap_or_default()
                    );
                    if !p.record.is_null() {
                        println!("{}", terminal::json(&p.record)?);
                    }
                    if let Some(r) = &p.reason {
                        println!("  {}", terminal::safe(r));
                    }
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        let accepted = d.enqueue(&alerts).await?;
        let duplicates = accepted.iter().filter(|a| a.duplicate).count();
        if !args.json {
            println!(
                "queued {} alerts ({duplicates} already known, delivered once)",
                accepted.len() - duplicates
            );
        }
    }
    let report = d.drain(0).await?;
    print_report(&report, args.json)
}

/// Runs `psahost deliveries ...`.
pub(super) async fn run_deliveries(
    cmd: DeliveriesCommand,
    config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    match cmd {
        DeliveriesCommand::List(args) => {
            let path = config.ok_or_else(|| {
                anyhow!("this command needs the configuration: pass `--config psahost.toml` or set PSAHOST_CONFIG")
            })?;
            let config = crate::load_config(path)?;
            config.connection(&args.connection)?;
            let store = config.open_store().await?;
            let mut after = None;
            let mut all = Vec::new();
            loop {
                let page =
                    delivery::list(store.as_ref(), &args.connection, after.clone(), 500).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.alert.id.clone());
                all.extend(page);
            }
            if args.json {
                println!("{}", terminal::json(&all)?);
            } else {
                for r in &all {
                    let detail = match r.state {
                        State::Delivered => {
                            format!("ticket {}", r.ticket_id.as_deref().unwrap_or("?"))
                        }
                        State::Grouped => format!(
                            "note {} on ticket {}",
                            r.note_id.as_deref().unwrap_or("?"),
                            r.ticket_id.as_deref().unwrap_or("?")
                        ),
                        _ => r.reason.clone().unwrap_or_default(),
                    };
                    println!(
                        "{}\t{}\t{}\taccount {}\t{}",
                        r.seq,
                        terminal::safe(&r.alert.id),
                        r.state.name(),
                        terminal::safe(&r.account),
                        terminal::safe(&detail)
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        DeliveriesCommand::Retry(args) => {
            let o = open(config, &args.connection).await?;
            let d = Delivery::new(o.store.as_ref(), &o.conn, &o.settings);
            d.retry(&args.alert).await?;
            println!("queued again: {}", terminal::safe(&args.alert));
            let report = d.drain(0).await?;
            print_report(&report, false)
        }
    }
}

/// Runs `psahost billable ...`.
pub(super) async fn run_billable(
    cmd: BillableCommand,
    config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let BillableCommand::Sync(args) = cmd;
    let text = read_input(&args.input, "billable counts")?;
    let counts = billing::parse_counts(&text)
        .with_context(|| format!("the billable counts `{}`", args.input.display()))?;
    let today = match &args.date {
        Some(d) => time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| anyhow!("`{}` is not a date such as 2026-02-28", terminal::safe(d)))?,
        None => time::OffsetDateTime::now_utc().date(),
    };
    let o = open(config, &args.connection).await?;
    let outcomes = billing::sync_billable(
        o.store.as_ref(),
        &o.conn,
        &o.settings,
        &counts,
        today,
        args.force,
    )
    .await?;
    if args.json {
        println!("{}", terminal::json(&outcomes)?);
    } else {
        for out in &outcomes {
            println!(
                "{}\t{}\t{}\t{}{}",
                terminal::safe(&out.organisation),
                out.period,
                out.count,
                out.action,
                out.reason
                    .as_ref()
                    .map(|r| format!("\t{}", terminal::safe(r)))
                    .unwrap_or_default()
            );
        }
    }
    Ok(if outcomes.iter().any(|o| o.action == "failed") {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
