//! `psahost sync ID [--entity E] [--full]`: syncs one connection of the configuration into the
//! record store (`<data-dir>/store`), with a progress bar on stderr and a summary per entity on
//! stdout.
//!
//! Exit codes: 0 every run completed; 1 a run failed (or another error); 3 a full sweep's
//! deletions were held by the mass-delete guard; 4 a run is still suspended by the PSA's rate
//! limit after `--max-wait` (run the command again later: it resumes from its checkpoint).

use crate::terminal;
use anyhow::{Context, anyhow, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use psahost_store::Entity;
use psahost_store::{RunRecord, RunStatus, SyncMode, format_time};
use psahost_workflows::sync::{Progress, ProgressSink, Skipped, SyncEngine, SyncRequest};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Exit code of a held mass deletion.
const EXIT_HELD: u8 = 3;
/// Exit code of a run still suspended by a rate limit.
const EXIT_SUSPENDED: u8 = 4;

/// Arguments of `psahost sync`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 completed; 1 failed; 3 deletions held by the mass-delete guard; \
4 still rate limited after --max-wait (run again later: the sync resumes from its checkpoint)."
)]
pub struct SyncArgs {
    /// The connection's id in the configuration.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Sync only this entity or dataset (repeatable): companies, contacts, agreements,
    /// configurations, tickets, or a dataset the connector declares (time-entries, ...).
    /// Default: every entity the connector lists, then every dataset it declares.
    #[arg(long = "entity", short = 'e', value_name = "ENTITY", value_parser = parse_entity)]
    pub entities: Vec<Entity>,
    /// A full sweep: read every record and delete the stored records the PSA no longer has.
    #[arg(long)]
    pub full: bool,
    /// Apply a full sweep's deletions even when the mass-delete guard would hold them
    /// (`sync.mass-delete-share`, `sync.mass-delete-floor`).
    #[arg(long, requires = "full")]
    pub allow_mass_delete: bool,
    /// Sync one record by its PSA id (needs exactly one --entity).
    #[arg(long, value_name = "RECORD-ID", conflicts_with = "full")]
    pub record: Option<String>,
    /// How long to wait for a rate-limited run to resume before giving up (exit code 4).
    #[arg(long, default_value = "5min", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub max_wait: Duration,
    /// Ask a running `psahost serve` to sync (its API) instead of opening the store.
    #[command(flatten)]
    pub target: super::client::Target,
}

fn parse_entity(s: &str) -> Result<Entity, String> {
    s.parse().map_err(|e: anyhow::Error| e.to_string())
}

/// Runs `psahost sync`.
pub(super) async fn run(args: SyncArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    if args.target.api.is_some() {
        return run_api(&args).await;
    }
    let path = config.ok_or_else(|| {
        anyhow!("this command needs the configuration: pass `--config psahost.toml` or set PSAHOST_CONFIG")
    })?;
    let config = crate::load_config(path)?;
    let connection = super::connection::open(&config, &args.id).await?;
    let store = config.open_store().await?;
    let engine = SyncEngine::new(store, config.sync.clone());
    if let Ok(c) = config.connection(&args.id) {
        engine.set_windows(&args.id, c.windows.clone());
    }

    if let Some(record) = &args.record {
        let [entity] = args.entities.as_slice() else {
            bail!(
                "--record needs exactly one --entity (companies, contacts, agreements, configurations, tickets)"
            );
        };
        let result = engine.sync_record(&connection, *entity, record).await?;
        let what = match (result.change, result.found) {
            (Some(kind), _) => format!("{kind:?}").to_lowercase(),
            (None, true) => "unchanged".into(),
            (None, false) => "not found in the PSA (and not stored)".into(),
        };
        outln!(
            "{} `{}` of `{}`: {what}",
            result.entity,
            terminal::safe(&result.id),
            args.id
        );
        return Ok(ExitCode::SUCCESS);
    }

    let entities = if args.entities.is_empty() {
        psahost_workflows::sync::everything(connection.plugin().connector_info())
    } else {
        args.entities.clone()
    };
    let request = SyncRequest {
        mode: if args.full {
            SyncMode::Full
        } else {
            SyncMode::Incremental
        },
        allow_mass_delete: args.allow_mass_delete,
    };
    let bar = Bar::new();
    let deadline = Instant::now() + args.max_wait;
    let mut finals: BTreeMap<Entity, RunRecord> = BTreeMap::new();
    let mut skipped = Vec::new();
    let mut todo = entities;
    loop {
        let result = engine
            .sync_connection(&connection, &todo, request, &bar)
            .await?;
        let mut again = Vec::new();
        let mut until: Option<OffsetDateTime> = None;
        for run in result.runs {
            if run.status == RunStatus::Suspended {
                again.push(run.entity);
                until = until.max(run.suspended_until);
            }
            finals.insert(run.entity, run);
        }
        for (entity, why) in result.skipped {
            match why {
                Skipped::RateLimited { until: u } => {
                    again.push(entity);
                    until = until.max(Some(u));
                }
                Skipped::Unsupported { .. } => skipped.push((entity, why)),
            }
        }
        let Some(until) = until else { break };
        let wait = until - OffsetDateTime::now_utc();
        let wait = Duration::try_from(wait).unwrap_or_default() + Duration::from_millis(50);
        if Instant::now() + wait > deadline {
            break;
        }
        bar.suspended(wait);
        tokio::time::sleep(wait).await;
        todo = again;
    }
    bar.finish();

    let mut code = 0u8;
    for run in finals.values() {
        outln!("{}", summary(run));
        match run.status {
            RunStatus::Completed | RunStatus::Running => {}
            RunStatus::Failed => code = 1,
            RunStatus::Held => {
                if code != 1 {
                    code = EXIT_HELD;
                }
                if let Some(held) = &run.held {
                    outln!(
                        "  held: the sweep did not see {} of the {} stored {}, {}; nothing was deleted.\n  \
                         first ids: {}\n  \
                         if the PSA really lost them, run `psahost sync {} --entity {} --full --allow-mass-delete`",
                        held.would_delete,
                        held.stored,
                        run.entity,
                        if held.would_delete >= held.stored {
                            "all of them".to_string()
                        } else {
                            format!(
                                "more than the allowed {:.0}% and more than {}",
                                held.max_share * 100.0,
                                held.floor
                            )
                        },
                        terminal::safe(&held.sample.join(", ")),
                        args.id,
                        run.entity,
                    );
                }
            }
            RunStatus::Suspended => {
                if code == 0 {
                    code = EXIT_SUSPENDED;
                }
                outln!(
                    "  rate limited until {}: run the command again then; it resumes from its checkpoint",
                    run.suspended_until.map(format_time).unwrap_or_default()
                );
            }
        }
        if let Some(error) = &run.error {
            outln!("  error: {}", terminal::safe(error));
        }
    }
    for (entity, why) in skipped {
        outln!("{entity:<15} skipped: {why}");
    }
    Ok(ExitCode::from(code))
}

/// `psahost sync --api URL`: the daemon runs the sync (without waiting out rate limits: a
/// suspended run resumes on the daemon's schedule); the same summaries and exit codes.
async fn run_api(args: &SyncArgs) -> anyhow::Result<ExitCode> {
    use super::client::segment;
    let Some(super::client::Source::Api(api)) = args.target.open(None).await.ok() else {
        bail!("--api needs the API token: pass --token or set PSAHOST_API_TOKEN");
    };
    let id = segment(&args.id);
    if let Some(record) = &args.record {
        let [entity] = args.entities.as_slice() else {
            bail!(
                "--record needs exactly one --entity (companies, contacts, agreements, configurations, tickets)"
            );
        };
        let answer = api
            .post(
                &format!(
                    "v1/connections/{id}/records/{entity}/{}/sync",
                    segment(record)
                ),
                &[],
            )
            .await?;
        let what = match (answer["change"].as_str(), answer["found"].as_bool()) {
            (Some(kind), _) => kind.to_string(),
            (None, Some(true)) => "unchanged".into(),
            _ => "not found in the PSA (and not stored)".into(),
        };
        outln!("{entity} `{record}` of `{}`: {what}", args.id);
        return Ok(ExitCode::SUCCESS);
    }
    let mut query: Vec<(&str, String)> = args
        .entities
        .iter()
        .map(|e| ("entity", e.name().to_string()))
        .collect();
    if args.full {
        query.push(("full", "true".into()));
    }
    if args.allow_mass_delete {
        query.push(("allow-mass-delete", "true".into()));
    }
    let answer = api
        .post(&format!("v1/connections/{id}/sync"), &query)
        .await?;
    let runs: Vec<RunRecord> = serde_json::from_value(answer["runs"].clone())
        .context("the API answered runs this psahost cannot read")?;
    let mut code = 0u8;
    for run in &runs {
        outln!("{}", summary(run));
        match run.status {
            RunStatus::Failed => code = 1,
            RunStatus::Held if code != 1 => code = EXIT_HELD,
            RunStatus::Suspended if code == 0 => code = EXIT_SUSPENDED,
            _ => {}
        }
        if let Some(error) = &run.error {
            outln!("  error: {}", terminal::safe(error));
        }
    }
    for skipped in answer["skipped"].as_array().into_iter().flatten() {
        outln!(
            "{:<15} skipped: {}",
            skipped["entity"].as_str().unwrap_or_default(),
            terminal::safe(skipped["reason"].as_str().unwrap_or_default())
        );
    }
    Ok(ExitCode::from(code))
}

/// One line per run: entity, mode, status, counts, duration.
fn summary(run: &RunRecord) -> String {
    let took = run
        .finished_at
        .map(|f| {
            let d = Duration::try_from(f - run.started_at).unwrap_or_default();
            if d < Duration::from_secs(1) {
                format!(" in {} ms", d.as_millis())
            } else {
                format!(" in {:.1}s", d.as_secs_f64())
            }
        })
        .unwrap_or_default();
    format!(
        "{:<15}{:<12} {:<10} pages {}, created {}, updated {}, unchanged {}, deleted {}{}{}",
        run.entity.name(),
        run.mode.name(),
        run.status.name(),
        run.pages,
        run.created,
        run.updated,
        run.unchanged,
        run.deleted,
        if run.resumed > 0 {
            format!(", resumed {}x", run.resumed)
        } else {
            String::new()
        },
        took,
    )
}

/// The progress bar on stderr (hidden when stderr is not a terminal).
struct Bar {
    bar: ProgressBar,
    /// When the current run (re)started, and its record count then.
    started: Mutex<(Instant, u64)>,
}

impl Bar {
    fn new() -> Bar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Bar {
            bar,
            started: Mutex::new((Instant::now(), 0)),
        }
    }

    fn suspended(&self, wait: Duration) {
        self.bar.set_message(format!(
            "rate limited by the PSA: resuming in {:.0}s",
            wait.as_secs_f64().ceil()
        ));
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl ProgressSink for Bar {
    fn event(&self, event: &Progress<'_>) {
        match event {
            Progress::Started { run, resumed, .. } => {
                let records = run.created + run.updated + run.unchanged;
                *self.started.lock().unwrap_or_else(|e| e.into_inner()) = (Instant::now(), records);
                self.bar.set_message(format!(
                    "{}: {} {}",
                    run.entity,
                    if *resumed { "resuming" } else { "starting" },
                    run.mode.name()
                ));
            }
            Progress::Page { run, .. } => {
                let records = run.created + run.updated + run.unchanged;
                let (since, base) = *self.started.lock().unwrap_or_else(|e| e.into_inner());
                let secs = since.elapsed().as_secs_f64().max(0.001);
                let rate = records.saturating_sub(base) as f64 / secs;
                // With the PSA's total, the count becomes a share and an estimated time left.
                let of_total = match run.total {
                    Some(total) if total > 0 => {
                        let left = total.saturating_sub(records) as f64;
                        let eta = if rate > 0.0 {
                            format!(", about {:.0}s left", left / rate)
                        } else {
                            String::new()
                        };
                        format!(
                            " of {total} ({:.0}%{eta})",
                            (records as f64 * 100.0 / total as f64).min(100.0)
                        )
                    }
                    _ => String::new(),
                };
                self.bar.set_message(format!(
                    "{}: {} pages, {} records{of_total} ({:.0}/s), {} created, {} updated",
                    run.entity, run.pages, records, rate, run.created, run.updated
                ));
            }
            Progress::Retrying {
                entity,
                attempt,
                wait,
                error,
                ..
            } => self.bar.set_message(format!(
                "{entity}: retry {attempt} in {:.1}s after: {error}",
                wait.as_secs_f64()
            )),
            Progress::Finished { run, .. } => {
                self.bar
                    .set_message(format!("{}: {}", run.entity, run.status.name()));
            }
        }
    }
}
