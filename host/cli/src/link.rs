//! `psahost link`: links the tool's customers to a connection's synced PSA companies, and lists
//! and removes the stored links; on the store of the configuration, or through a running
//! daemon (`--api`).

use super::client::{STORE_PAGE, Source, Target, segment, store_all};
use crate::terminal;
use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use psahost_matching::rules::RuleSet;
use psahost_sandbox::rule::Rule;
use psahost_sandbox::runtime::{PluginSource, Runtime};
use psahost_workflows::linking::Matcher;
use psahost_workflows::linking::customers;
use serde_json::{Value, json};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The largest input file, in bytes (the API takes as much in one request).
const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// `psahost link ...`.
#[derive(Debug, Subcommand)]
pub enum LinkCommand {
    /// Link the tool's customers (JSON lines or a JSON array: id, name, emails, phones, domain,
    /// address) to the connection's synced companies; matches are stored unless --dry-run.
    Customers(CustomersArgs),
    /// List the stored customer links (a link whose company left the PSA says so).
    List(ListArgs),
    /// Remove one customer's link.
    Remove(RemoveArgs),
}

/// Arguments of `psahost link customers`.
#[derive(Debug, Args)]
pub struct CustomersArgs {
    /// The connection's id.
    #[arg(value_name = "CONNECTION")]
    pub connection: String,
    /// The customers: a file of JSON lines or a JSON array (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Decide and show, store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// A rule set (TOML) instead of the connection's `[connections.ID.linking]` rules or the
    /// built-in customer rules (store only).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// A matching rule component (.wasm) the rule set names (`rule = "ID"`); repeatable. It
    /// runs in the sandbox under the configuration's `[runtime]` limits.
    #[arg(long, value_name = "FILE", requires = "rules")]
    pub rule_plugin: Vec<PathBuf>,
    /// Print the whole report as JSON (evidence, eligibility).
    #[arg(long)]
    pub json: bool,
    /// Where to read and write.
    #[command(flatten)]
    pub target: Target,
}

/// Arguments of `psahost link list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The connection's id.
    #[arg(value_name = "CONNECTION")]
    pub connection: String,
    /// Print the links as JSON.
    #[arg(long)]
    pub json: bool,
    /// Where to read.
    #[command(flatten)]
    pub target: Target,
}

/// Arguments of `psahost link remove`.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The connection's id.
    #[arg(value_name = "CONNECTION")]
    pub connection: String,
    /// The tool's customer id.
    #[arg(value_name = "TOOL-ID")]
    pub customer: String,
    /// Where to write.
    #[command(flatten)]
    pub target: Target,
}

/// Runs `psahost link ...`.
pub(super) async fn run(cmd: LinkCommand, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    match cmd {
        LinkCommand::Customers(args) => link(args, config).await,
        LinkCommand::List(args) => list(args, config).await,
        LinkCommand::Remove(args) => remove(args, config).await,
    }
}

/// The input file (or standard input) of `what` (`customers`), at most [`MAX_INPUT_BYTES`].
pub(crate) fn read_input(path: &Path, what: &str) -> anyhow::Result<String> {
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

async fn link(args: CustomersArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let text = read_input(&args.input, "customers")?;
    let report = match args.target.open(config).await? {
        Source::Store { config, store } => {
            let linking = config.connection(&args.connection)?.linking.clone();
            let customers = customers::parse_customers(&text)
                .with_context(|| format!("the customers `{}`", args.input.display()))?;
            // --rules replaces the connection's `[connections.ID.linking]` rule set (and its
            // components), which replaces the built-in one.
            let (rules, components) = match (&args.rules, linking.customers_rules) {
                (Some(path), _) => (RuleSet::load(path)?, args.rule_plugin.clone()),
                (None, Some((_, rules))) => (
                    rules,
                    linking
                        .rule_plugins
                        .into_iter()
                        .chain(args.rule_plugin.iter().cloned())
                        .collect(),
                ),
                (None, None) => (customers::default_rules(), args.rule_plugin.clone()),
            };
            let mut loaded = Vec::new();
            if !components.is_empty() {
                let runtime = Runtime::new(config.runtime.clone())?;
                for path in &components {
                    let plugin = runtime.load(PluginSource::File(path.clone())).await?;
                    loaded.push(
                        Rule::open(runtime.clone(), plugin)
                            .with_context(|| format!("--rule-plugin `{}`", path.display()))?,
                    );
                }
            }
            let matcher = Matcher::new(rules, &loaded)?;
            json!(
                customers::link_customers(
                    store.as_ref(),
                    &args.connection,
                    &matcher,
                    &customers,
                    args.dry_run
                )
                .await?
            )
        }
        Source::Api(_) => {
            if args.rules.is_some() || !args.rule_plugin.is_empty() {
                bail!(
                    "--rules and --rule-plugin work on the store only: the daemon links by the connection's `[connections.ID.linking]` rules; set them there, or drop --api"
                );
            }
            let query = if args.dry_run { "?dry-run=true" } else { "" };
            api_send(
                &args.target,
                reqwest::Method::POST,
                &format!(
                    "v1/connections/{}/link/customers{query}",
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
    let text = |v: &Value| terminal::safe(v.as_str().unwrap_or_default()).into_owned();
    let company = |c: &Value| {
        format!(
            "{} {} (score {:.2}{})",
            text(&c["company-id"]),
            text(&c["name"]),
            c["score"].as_f64().unwrap_or_default(),
            if c["eligible"].as_bool().unwrap_or(false) {
                ", eligible".to_string()
            } else {
                format!(", not eligible: {}", text(&c["ineligible"]))
            }
        )
    };
    let empty = Vec::new();
    for c in report["customers"].as_array().unwrap_or(&empty) {
        let id = text(&c["customer-id"]);
        let by = text(&c["decided-by"]);
        match c["outcome"].as_str().unwrap_or_default() {
            "matched" => outln!(
                "{id:<16} matched    {} by {by}{}",
                company(&c["company"]),
                if c["stored"].as_bool().unwrap_or(false) {
                    ", stored"
                } else {
                    ""
                }
            ),
            "ambiguous" => {
                outln!(
                    "{id:<16} ambiguous  {} candidates by {by}:",
                    c["candidates-total"]
                );
                for candidate in c["candidates"].as_array().unwrap_or(&empty) {
                    outln!("{:<16}              {}", "", company(candidate));
                }
            }
            "error" => outln!("{id:<16} error      {}", text(&c["error"])),
            _ => outln!("{id:<16} none"),
        }
    }
    outln!(
        "{} matched{}, {} ambiguous, {} none, {} errors",
        report["matched"],
        if report["dry-run"].as_bool().unwrap_or(true) {
            " (dry run: nothing stored)"
        } else {
            " (stored)"
        },
        report["ambiguous"],
        report["none"],
        report["errors"]
    );
    Ok(ExitCode::SUCCESS)
}

async fn list(args: ListArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let links = match args.target.open(config).await? {
        Source::Store { config, store } => {
            config.connection(&args.connection)?;
            store_all(
                |after| customers::list_links(store.as_ref(), &args.connection, after, STORE_PAGE),
                |l| l.customer_id.clone(),
            )
            .await?
        }
        Source::Api(api) => {
            let path = format!(
                "v1/connections/{}/links/customers",
                segment(&args.connection)
            );
            api.get_all(&path, "links").await?
        }
    };
    if args.json {
        outln!("{}", terminal::json(&json!(links))?);
        return Ok(ExitCode::SUCCESS);
    }
    let text = |v: &Value| terminal::safe(v.as_str().unwrap_or_default()).into_owned();
    for l in &links {
        outln!(
            "{:<16} -> {:<10} {:<16} by {} at {}{}",
            text(&l["customer-id"]),
            text(&l["company-id"]),
            text(&l["company-name"]),
            text(&l["decided-by"]),
            text(&l["linked-at"]),
            if l["status"] == "company-deleted" {
                "  COMPANY DELETED in the PSA: link the customer again or remove the link"
            } else {
                ""
            }
        );
    }
    outln!("{} links", links.len());
    Ok(ExitCode::SUCCESS)
}

async fn remove(args: RemoveArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    match args.target.open(config).await? {
        Source::Store { config, store } => {
            config.connection(&args.connection)?;
            if !customers::remove_link(store.as_ref(), &args.connection, &args.customer).await? {
                bail!(customers::no_link(&args.connection, &args.customer));
            }
        }
        Source::Api(_) => {
            api_send(
                &args.target,
                reqwest::Method::DELETE,
                &format!(
                    "v1/connections/{}/links/customers/{}",
                    segment(&args.connection),
                    segment(&args.customer)
                ),
                String::new(),
            )
            .await?;
        }
    }
    outln!(
        "removed the link of customer `{}`",
        terminal::safe(&args.customer)
    );
    Ok(ExitCode::SUCCESS)
}

/// A request with a body to the daemon of `--api` (the data commands' client only reads).
pub(crate) async fn api_send(
    target: &Target,
    method: reqwest::Method,
    path: &str,
    body: String,
) -> anyhow::Result<Value> {
    let (base, token) = match (&target.api, &target.token) {
        (Some(base), Some(token)) => (base, token),
        _ => bail!("--api needs the API token: pass --token or set PSAHOST_API_TOKEN"),
    };
    let url = url::Url::parse(base)
        .and_then(|b| b.join(path))
        .with_context(|| {
            format!("`{base}` is not a URL; write for example http://127.0.0.1:8780")
        })?;
    let response = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()?
        .request(method, url)
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .with_context(|| format!("cannot reach the psahost API at {base}"))?;
    let status = response.status();
    let body = response.bytes().await?;
    let value: Value = serde_json::from_slice(&body)
        .map_err(|_| anyhow!("the API answered {status} with a body that is not JSON"))?;
    if status.is_success() {
        return Ok(value);
    }
    bail!(
        "the API answered {status} ({}): {}",
        value["error"]["code"].as_str().unwrap_or("error"),
        value["error"]["message"].as_str().unwrap_or_default()
    )
}
