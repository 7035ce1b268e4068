//! `psahost delivery check|settings`, `psahost alerts deliver`, `psahost deliveries
//! list|retry` and `psahost billable sync`: alert-to-ticket delivery and the billable-user sync
//! of a connection, with its delivery settings in effect (set through the API, else
//! `[connections.ID.delivery]`), on the configuration's store or through a running daemon
//! (`--api URL --token TOKEN`).

use crate::client::{Source, Target, segment};
use crate::terminal;
use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use psahost_config::Config;
use psahost_config::delivery::Effective;
use psahost_sandbox::connector::Connection;
use psahost_store::RecordStore;
use psahost_workflows::billing;
use psahost_workflows::delivery::{self, Delivery, DeliveryRecord, State, alerts, settings};
use serde_json::{Value, json};
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
    /// The delivery settings in effect (`show`), set (`set --input FILE`: the
    /// `[connections.ID.delivery]` table as JSON, validated and checked against the PSA, then
    /// stored; they replace the TOML table) or cleared (`clear`: the TOML table again).
    #[command(subcommand)]
    Settings(SettingsCommand),
}

/// `psahost delivery settings ...`.
#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Print the settings in effect and their source (api, toml) as JSON.
    Show(ConnArgs),
    /// Set the settings from a JSON file (the TOML table's shape; `-`: standard input). Exits
    /// 1, storing nothing, when a field is invalid or the check against the PSA finds a
    /// problem (each named with the valid choices).
    Set(SetArgs),
    /// Clear the settings set through the API: the TOML table, if any, is in effect again.
    Clear(ConnArgs),
}

/// Arguments of `psahost delivery settings set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// The connection's id.
    #[arg(value_name = "CONNECTION")]
    pub connection: String,
    /// The settings: a JSON object of the `[connections.ID.delivery]` table's shape.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// The store of --config, or a running daemon.
    #[command(flatten)]
    pub target: Target,
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
    /// The store of --config, or a running daemon.
    #[command(flatten)]
    pub target: Target,
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
    /// The store of --config, or a running daemon.
    #[command(flatten)]
    pub target: Target,
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
    /// The store of --config, or a running daemon.
    #[command(flatten)]
    pub target: Target,
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
    /// The store of --config, or a running daemon.
    #[command(flatten)]
    pub target: Target,
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
    effective: Effective,
    conn: Connection,
    store: Arc<dyn RecordStore>,
}

impl Opened {
    fn settings(&self) -> &psahost_workflows::delivery::DeliverySettings {
        &self.effective.settings
    }
}

/// The store of `config`, its connection `id` and its delivery settings in effect.
async fn open_store(
    config: &Config,
    store: Arc<dyn RecordStore>,
    id: &str,
) -> anyhow::Result<Opened> {
    let toml = config.connection(id)?.delivery.clone();
    let effective = psahost_config::delivery::effective(store.as_ref(), id, toml.as_ref())
        .await?
        .ok_or_else(|| {
            anyhow!(
                "connection `{id}` has no delivery settings: add [connections.{id}.delivery] or set them with `psahost delivery settings set {id} --input FILE` (see `psahost delivery check --help`)"
            )
        })?;
    let conn = super::connection::open(config, id).await?;
    Ok(Opened {
        effective,
        conn,
        store,
    })
}

/// The connection's path under the API, with `rest` appended.
fn api_path(id: &str, rest: &str) -> String {
    format!("v1/connections/{}/{rest}", segment(id))
}

/// A request with a body to the daemon of `--api`.
async fn api_send(
    target: &Target,
    method: reqwest::Method,
    path: &str,
    body: String,
) -> anyhow::Result<Value> {
    super::link::api_send(target, method, path, body).await
}

fn print_problems(problems: &[Value], json: bool, ok: bool) -> anyhow::Result<()> {
    if json {
        outln!(
            "{}",
            terminal::json(&json!({ "ok": ok, "problems": problems }))?
        );
    } else {
        for p in problems {
            eprintln!(
                "error: delivery.{}: {}",
                terminal::safe(p["field"].as_str().unwrap_or("")),
                terminal::safe(p["message"].as_str().unwrap_or(""))
            );
        }
    }
    Ok(())
}

/// Prints the check's problems; true when there are none.
async fn checked(o: &Opened, json: bool) -> anyhow::Result<bool> {
    let problems = settings::check(o.settings(), &o.conn, o.store.as_ref()).await?;
    let values: Vec<Value> = problems
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()?;
    print_problems(&values, json, problems.is_empty())?;
    Ok(problems.is_empty())
}

/// Runs `psahost delivery ...`.
pub(super) async fn run_delivery(
    cmd: DeliveryCommand,
    config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let args = match cmd {
        DeliveryCommand::Check(args) => args,
        DeliveryCommand::Settings(cmd) => return run_settings(cmd, config).await,
    };
    let ok = match args.target.open(config).await? {
        Source::Store { config, store } => {
            let o = open_store(&config, store, &args.connection).await?;
            checked(&o, args.json).await?
        }
        Source::Api(api) => {
            let answer = api
                .get(&api_path(&args.connection, "delivery/check"), &[])
                .await?;
            let ok = answer["ok"] == true;
            let problems = answer["problems"].as_array().cloned().unwrap_or_default();
            print_problems(&problems, args.json, ok)?;
            ok
        }
    };
    if ok {
        if !args.json {
            outln!(
                "ok: the delivery settings of connection `{}` are complete",
                terminal::safe(&args.connection)
            );
        }
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}

/// Runs `psahost delivery settings ...`.
async fn run_settings(cmd: SettingsCommand, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let (id, target) = match &cmd {
        SettingsCommand::Show(a) | SettingsCommand::Clear(a) => (a.connection.clone(), &a.target),
        SettingsCommand::Set(a) => (a.connection.clone(), &a.target),
    };
    let path = api_path(&id, "delivery/settings");
    let answer = match (target.open(config).await?, &cmd) {
        (Source::Api(api), SettingsCommand::Show(_)) => api.get(&path, &[]).await?,
        (Source::Api(_), SettingsCommand::Set(a)) => {
            let text = read_input(&a.input, "delivery settings")?;
            match api_send(target, reqwest::Method::PUT, &path, text).await {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("error: {}", terminal::safe(&format!("{e:#}")));
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        (Source::Api(_), SettingsCommand::Clear(_)) => {
            api_send(target, reqwest::Method::DELETE, &path, String::new()).await?
        }
        (Source::Store { config, store }, cmd) => {
            let toml = config.connection(&id)?.delivery.clone();
            match cmd {
                SettingsCommand::Show(_) => {}
                SettingsCommand::Clear(_) => {
                    let held = settings::stored(store.as_ref(), &id).await?;
                    if held.is_some_and(|s| s.document.is_some()) {
                        settings::store_settings(store.as_ref(), &id, None).await?;
                    }
                }
                SettingsCommand::Set(a) => {
                    let text = read_input(&a.input, "delivery settings")?;
                    let document: Value = serde_json::from_str(&text).with_context(|| {
                        format!(
                            "`{}` is not JSON: give the settings as a JSON object of the `[connections.{id}.delivery]` table's shape",
                            a.input.display()
                        )
                    })?;
                    let s = match psahost_config::delivery::from_json(&document) {
                        Ok(s) => s,
                        Err(e) => {
                            eprintln!("error: {}", terminal::safe(&e.to_string()));
                            return Ok(ExitCode::FAILURE);
                        }
                    };
                    let conn = super::connection::open(&config, &id).await?;
                    let problems = settings::check(&s, &conn, store.as_ref()).await?;
                    if !problems.is_empty() {
                        let values: Vec<Value> = problems
                            .iter()
                            .map(serde_json::to_value)
                            .collect::<Result<_, _>>()?;
                        print_problems(&values, false, false)?;
                        eprintln!("error: nothing was stored");
                        return Ok(ExitCode::FAILURE);
                    }
                    settings::store_settings(
                        store.as_ref(),
                        &id,
                        Some(psahost_config::delivery::to_json(&s)),
                    )
                    .await?;
                }
            }
            let e = psahost_config::delivery::effective(store.as_ref(), &id, toml.as_ref()).await?;
            psahost_config::delivery::answer(&id, e.as_ref())
        }
    };
    outln!("{}", terminal::json(&answer)?);
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &Value, json: bool) -> anyhow::Result<ExitCode> {
    let n = |k: &str| report[k].as_u64().unwrap_or(0);
    if json {
        outln!("{}", terminal::json(report)?);
    } else {
        outln!(
            "delivered {}, grouped {}, failed {}, resolved by marker {}, still queued {}, PSA calls {}",
            n("delivered"),
            n("grouped"),
            n("failed"),
            n("resolved"),
            n("still-queued"),
            n("psa-calls")
        );
        for b in report["blocked"].as_array().into_iter().flatten() {
            outln!("left queued: {}", terminal::safe(b.as_str().unwrap_or("")));
        }
    }
    Ok(if n("still-queued") > 0 {
        ExitCode::from(EXIT_QUEUED)
    } else if n("failed") > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_previews(previews: &[Value], json: bool) -> anyhow::Result<()> {
    if json {
        outln!("{}", terminal::json(&previews)?);
        return Ok(());
    }
    let text = |v: &Value| terminal::safe(v.as_str().unwrap_or("")).into_owned();
    for p in previews {
        outln!(
            "{} -> account {}: {}{}",
            text(&p["alert-id"]),
            text(&p["account"]),
            text(&p["action"]),
            p["ticket-id"]
                .as_str()
                .map(|t| format!(" on ticket {}", terminal::safe(t)))
                .unwrap_or_default()
        );
        if !p["record"].is_null() {
            outln!("{}", terminal::json(&p["record"])?);
        }
        if let Some(r) = p["reason"].as_str() {
            outln!("  {}", terminal::safe(r));
        }
    }
    Ok(())
}

fn print_accepted(accepted: &[Value], json: bool) {
    if !json {
        let duplicates = accepted.iter().filter(|a| a["duplicate"] == true).count();
        outln!(
            "queued {} alerts ({duplicates} already known, delivered once)",
            accepted.len() - duplicates
        );
    }
}

/// Runs `psahost alerts ...`.
pub(super) async fn run_alerts(
    cmd: AlertsCommand,
    config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let AlertsCommand::Deliver(args) = cmd;
    let text = args
        .input
        .as_ref()
        .map(|input| read_input(input, "alerts"))
        .transpose()?;
    let (config, store) = match args.target.open(config).await? {
        Source::Store { config, store } => (config, store),
        Source::Api(_) => {
            // Without --input: an empty batch, which drains the queue.
            let body = text.unwrap_or_else(|| "[]".to_string());
            let query = if args.dry_run { "?dry-run=true" } else { "" };
            let answer = api_send(
                &args.target,
                reqwest::Method::POST,
                &api_path(&args.connection, &format!("alerts{query}")),
                body,
            )
            .await?;
            if args.dry_run {
                print_previews(
                    answer["previews"].as_array().unwrap_or(&Vec::new()),
                    args.json,
                )?;
                return Ok(ExitCode::SUCCESS);
            }
            if args.input.is_some() {
                print_accepted(
                    answer["accepted"].as_array().unwrap_or(&Vec::new()),
                    args.json,
                );
            }
            return print_report(&answer["report"], args.json);
        }
    };
    let o = open_store(&config, store, &args.connection).await?;
    if !checked(&o, false).await? {
        bail!(
            "the delivery settings of connection `{}` are incomplete (above): nothing was delivered",
            args.connection
        );
    }
    let d = Delivery::new(o.store.as_ref(), &o.conn, o.settings());
    if let (Some(input), Some(text)) = (&args.input, &text) {
        let alerts =
            alerts::parse(text).with_context(|| format!("the alerts `{}`", input.display()))?;
        if args.dry_run {
            let previews = d.dry_run(&alerts).await?;
            let previews: Vec<Value> = previews
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<_, _>>()?;
            print_previews(&previews, args.json)?;
            return Ok(ExitCode::SUCCESS);
        }
        let accepted = d.enqueue(&alerts).await?;
        let accepted: Vec<Value> = accepted
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?;
        print_accepted(&accepted, args.json);
    }
    let report = d.drain(0).await?;
    print_report(&serde_json::to_value(&report)?, args.json)
}

/// Runs `psahost deliveries ...`.
pub(super) async fn run_deliveries(
    cmd: DeliveriesCommand,
    config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    match cmd {
        DeliveriesCommand::List(args) => {
            let all: Vec<DeliveryRecord> = match args.target.open(config).await? {
                Source::Store { config, store } => {
                    config.connection(&args.connection)?;
                    let mut after = None;
                    let mut all = Vec::new();
                    loop {
                        let page =
                            delivery::list(store.as_ref(), &args.connection, after.clone(), 500)
                                .await?;
                        let Some(last) = page.last() else { break };
                        after = Some(last.alert.id.clone());
                        all.extend(page);
                    }
                    all
                }
                Source::Api(api) => api
                    .get_all(&api_path(&args.connection, "deliveries"), "deliveries")
                    .await?
                    .into_iter()
                    .map(|v| {
                        serde_json::from_value(v)
                            .context("the API answered a delivery this psahost cannot read")
                    })
                    .collect::<anyhow::Result<_>>()?,
            };
            if args.json {
                outln!("{}", terminal::json(&all)?);
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
                    outln!(
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
            let report = match args.target.open(config).await? {
                Source::Store { config, store } => {
                    let o = open_store(&config, store, &args.connection).await?;
                    let d = Delivery::new(o.store.as_ref(), &o.conn, o.settings());
                    d.retry(&args.alert).await?;
                    serde_json::to_value(d.drain(0).await?)?
                }
                Source::Api(_) => {
                    let answer = api_send(
                        &args.target,
                        reqwest::Method::POST,
                        &api_path(
                            &args.connection,
                            &format!("deliveries/{}/retry", segment(&args.alert)),
                        ),
                        String::new(),
                    )
                    .await?;
                    answer["report"].clone()
                }
            };
            outln!("queued again: {}", terminal::safe(&args.alert));
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
    let outcomes: Vec<Value> = match args.target.open(config).await? {
        Source::Store { config, store } => {
            let o = open_store(&config, store, &args.connection).await?;
            billing::sync_billable(
                o.store.as_ref(),
                &o.conn,
                o.settings(),
                &counts,
                today,
                args.force,
            )
            .await?
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?
        }
        Source::Api(_) => {
            let mut query = format!("?date={today}");
            if args.force {
                query.push_str("&force=true");
            }
            let answer = api_send(
                &args.target,
                reqwest::Method::POST,
                &api_path(&args.connection, &format!("billable{query}")),
                text,
            )
            .await?;
            answer["outcomes"].as_array().cloned().unwrap_or_default()
        }
    };
    if args.json {
        outln!("{}", terminal::json(&outcomes)?);
    } else {
        let text = |v: &Value| match v {
            Value::String(s) => terminal::safe(s).into_owned(),
            other => other.to_string(),
        };
        for out in &outcomes {
            outln!(
                "{}\t{}\t{}\t{}{}",
                text(&out["organisation"]),
                text(&out["period"]),
                text(&out["count"]),
                text(&out["action"]),
                out["reason"]
                    .as_str()
                    .map(|r| format!("\t{}", terminal::safe(r)))
                    .unwrap_or_default()
            );
        }
    }
    Ok(if outcomes.iter().any(|o| o["action"] == "failed") {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
