//! `psahost mrr` and `psahost eligible`: the business views of a connection's synced records,
//! from the store of the configuration or from a running daemon (`--api`).

use super::client::{Source, Target, segment};
use crate::terminal;
use anyhow::Context;
use clap::Args;
use psahost_workflows::views;
use serde_json::{Value, json};
use std::path::Path;
use std::process::ExitCode;

/// Arguments of `psahost mrr`.
#[derive(Debug, Args)]
#[command(
    after_help = "The rules (active and recurring agreements, billable lines, cycles \
normalised to a month, decimal arithmetic) are in docs/mrr.md."
)]
pub struct MrrArgs {
    /// The connection's id.
    #[arg(value_name = "CONNECTION")]
    pub connection: String,
    /// The day, YYYY-MM-DD (default: today, UTC).
    #[arg(long, value_name = "DAY")]
    pub day: Option<String>,
    /// Print the whole report as JSON (agreements, lines, exclusions with reasons).
    #[arg(long)]
    pub json: bool,
    /// Where to read.
    #[command(flatten)]
    pub target: Target,
}

/// Arguments of `psahost eligible`.
#[derive(Debug, Args)]
pub struct EligibleArgs {
    /// The connection's id.
    #[arg(value_name = "CONNECTION")]
    pub connection: String,
    /// Also list the companies that are not eligible, with why.
    #[arg(long)]
    pub all: bool,
    /// Print the verdicts as JSON.
    #[arg(long)]
    pub json: bool,
    /// Where to read.
    #[command(flatten)]
    pub target: Target,
}

/// Runs `psahost mrr`.
pub(super) async fn run_mrr(args: MrrArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let report = match args.target.open(config).await? {
        Source::Store { config, store } => {
            config.connection(&args.connection)?;
            let day = match &args.day {
                Some(d) => views::mrr::parse_day(d).context("--day")?,
                None => time::OffsetDateTime::now_utc().date(),
            };
            json!(views::mrr_from_store(store.as_ref(), &args.connection, day).await?)
        }
        Source::Api(api) => {
            let query: Vec<(&str, String)> = args.day.iter().map(|d| ("day", d.clone())).collect();
            api.get(
                &format!("v1/connections/{}/mrr", segment(&args.connection)),
                &query,
            )
            .await?
        }
    };
    if args.json {
        outln!("{}", terminal::json(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let text = |v: &Value| terminal::safe(v.as_str().unwrap_or_default()).into_owned();
    outln!("MRR of `{}` on {}", args.connection, text(&report["day"]));
    let empty = Vec::new();
    let companies = report["companies"].as_array().unwrap_or(&empty);
    outln!("{:<16} {:>14}  agreements", "company", "mrr");
    for c in companies {
        outln!(
            "{:<16} {:>14}  {}",
            text(&c["company-id"]),
            text(&c["mrr"]),
            c["agreements"].as_array().map_or(0, Vec::len)
        );
    }
    outln!("{:<16} {:>14}", "total", text(&report["total"]));
    let excluded = report["excluded"].as_array().map_or(0, Vec::len);
    if excluded > 0 {
        outln!("{excluded} agreements or lines did not count (--json shows why)");
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `psahost eligible`.
pub(super) async fn run_eligible(
    args: EligibleArgs,
    config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let result = match args.target.open(config).await? {
        Source::Store { config, store } => {
            config.connection(&args.connection)?;
            let verdicts = views::eligible_from_store(store.as_ref(), &args.connection).await?;
            let companies: Vec<Value> = verdicts
                .iter()
                .map(|v| {
                    let mut j = json!(v);
                    j["reason-text"] = json!(v.reason.map(|r| r.describe()));
                    j
                })
                .collect();
            json!({
                "connection": args.connection,
                "eligible": verdicts.iter().filter(|v| v.eligible).count(),
                "companies": companies,
            })
        }
        Source::Api(api) => {
            api.get(
                &format!("v1/connections/{}/eligible", segment(&args.connection)),
                &[],
            )
            .await?
        }
    };
    if args.json {
        outln!("{}", terminal::json(&result)?);
        return Ok(ExitCode::SUCCESS);
    }
    let empty = Vec::new();
    let companies = result["companies"].as_array().unwrap_or(&empty);
    let text = |v: &Value| terminal::safe(v.as_str().unwrap_or_default()).into_owned();
    for c in companies {
        let eligible = c["eligible"].as_bool().unwrap_or(false);
        if eligible {
            outln!(
                "{:<12} eligible      {} ({} active contacts)",
                text(&c["company-id"]),
                text(&c["name"]),
                c["active-contacts"]
            );
        } else if args.all {
            outln!(
                "{:<12} not eligible  {}: {}",
                text(&c["company-id"]),
                text(&c["name"]),
                text(&c["reason-text"])
            );
        }
    }
    outln!(
        "{} of {} companies eligible",
        result["eligible"],
        companies.len()
    );
    Ok(ExitCode::SUCCESS)
}
