//! `psahost plugin inspect|call|check|new`: the plugin author's test bench.

use crate::terminal::{self, safe};
use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use psahost_conformance::{AnyOptions, CheckOptions, check_any, check_connector};
use psahost_sandbox::bindings::exports::psa::connector::connector_api::{
    ConnectorInfo, LimitScope,
};
use psahost_sandbox::bindings::exports::psa::connector::rule_api::RuleInfo;
use psahost_sandbox::capabilities::ConnectionPolicy;
use psahost_sandbox::capabilities::http::{Grant, HttpLimits, OriginPattern};
use psahost_sandbox::capabilities::kv::{KvLimits, KvStore};
use psahost_sandbox::capabilities::settings::{Settings, resolve_value};
use psahost_sandbox::connector::{Connection, call_json, wit_json};
use psahost_sandbox::runtime::{
    CompileLimits, Plugin, PluginInfo, PluginSource, Runtime, RuntimeConfig,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Plugin commands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Show what a plugin is: id, version, vendor, WIT version, settings, hosts, operations.
    Inspect(InspectArgs),
    /// Run one export of a plugin and print its result as JSON.
    Call(CallArgs),
    /// Run a connector through the conformance suite, against your PSA's server (real or fake:
    /// `--setting`, `--grant`) or a built-in simulator dialect (`--sim`); exit non-zero on any
    /// failure.
    ///
    /// Against your server, the connector runs with the settings you give (`--setting`, or a
    /// connection of the configuration with `--connection`) and reaches only the origins you
    /// grant. The checks need no knowledge of your data, so keep it unchanged during the run
    /// (a test tenant, or a fake server): `describe`; good credentials, and each secret setting
    /// corrupted answered `unauthorized` naming it; every list paged at a small and at the
    /// largest page size (each record once, the same set); a sample read back by id with the
    /// same `raw`; updated-since returning exactly the records at or after the median
    /// `updated-at`; picklists; writes with `--writes` only; and faults the host injects into
    /// the connector's requests (429 with and without Retry-After, 503, a timeout, a truncated
    /// and an oversized body), which must surface as the contract's errors.
    Check(CheckArgs),
    /// Write a new connector crate to start from: a working example, every operation's
    /// skeleton, native tests on the SDK's fake host.
    New(crate::scaffold::NewArgs),
}

/// `psahost plugin check` (see [`PluginCommand::Check`]).
#[derive(Debug, Args)]
#[command(after_help = "Examples:
      psahost plugin check acme.wasm --setting site=127.0.0.1:8700 --setting 'api-key=${env:ACME_KEY}' --grant http://127.0.0.1:8700
      psahost --config psahost.toml plugin check acme.wasm --connection acme-test --writes
      psahost plugin check builtin:autotask --sim autotask")]
pub struct CheckArgs {
    /// The connector: a `.wasm` file, or `builtin:NAME` for a bundled connector.
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Check against a built-in simulator dialect instead of your server (for connectors of
    /// ConnectWise, Autotask or Kaseya BMS, with the first-party connector's settings).
    #[arg(long, value_enum, value_name = "DIALECT")]
    pub sim: Option<psa_sim::Dialect>,
    /// With --sim: companies in the simulator's data set.
    #[arg(long, default_value_t = 120, requires = "sim")]
    pub records: usize,
    /// The small page size used to force several pages.
    #[arg(long, default_value_t = 25)]
    pub page_size: u32,
    /// A setting of the connection, `name=value`; against your server, the value may be
    /// `${env:NAME}` or `${file:PATH}` (such values are secret). Repeat for each setting. With
    /// --sim, it adds to or replaces the first-party connector's settings (`{origin}` is the
    /// simulator's origin).
    #[arg(long = "setting", short = 's', value_name = "NAME=VALUE")]
    pub settings: Vec<String>,
    /// Take the settings and grant of connection ID of the configuration (`--config`); the
    /// plugin checked is still FILE. `--setting` and `--grant` add to them.
    #[arg(long, value_name = "ID", conflicts_with = "sim")]
    pub connection: Option<String>,
    /// Grant an origin the connector may reach (`https://api.acme.example`,
    /// `http://127.0.0.1:8700`: a loopback or private address only this way), or `requested`
    /// for every host the plugin requests. Repeat for each origin.
    #[arg(long = "grant", value_name = "ORIGIN", conflicts_with = "sim")]
    pub grants: Vec<String>,
    /// A setting to corrupt, to check that `test-connection` answers `unauthorized` naming it.
    /// Repeat for each. Default: every setting the plugin marks secret.
    #[arg(long = "corrupt", value_name = "NAME", conflicts_with = "sim")]
    pub corrupt: Vec<String>,
    /// Also check the writes: create a ticket and a note on your server and read them back.
    #[arg(long, conflicts_with = "sim")]
    pub writes: bool,
    /// Most listed records of each entity read back by id.
    #[arg(long, default_value_t = 20, value_name = "N", conflicts_with = "sim")]
    pub sample: usize,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

/// Where a plugin comes from and how to run it.
#[derive(Debug, Args)]
pub struct RuntimeArgs {
    /// Linear memory one call may use (for example 64MiB).
    #[arg(long, default_value = "64MiB", value_name = "SIZE")]
    pub memory_limit: bytesize::ByteSize,
    /// How long one call may run (for example 30s).
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// The longest the plugin's compilation may take (runtime.compile-timeout).
    #[arg(long, default_value = "120s", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub compile_timeout: Duration,
    /// The most memory its compilation may use (runtime.compile-memory).
    #[arg(long, default_value = "2GiB", value_name = "SIZE")]
    pub compile_memory: bytesize::ByteSize,
    /// Compile the plugin every time instead of using the cache (PSAHOST_CACHE_DIR,
    /// $XDG_CACHE_HOME/psahost or ~/.cache/psahost).
    #[arg(long)]
    pub no_cache: bool,
}

impl RuntimeArgs {
    fn runtime(&self) -> anyhow::Result<Arc<Runtime>> {
        Runtime::new(crate::with_this_program(RuntimeConfig {
            cache_dir: if self.no_cache {
                None
            } else {
                super::default_cache_dir()
            },
            memory_limit: self.memory_limit.as_u64(),
            call_timeout: self.timeout,
            max_instances: 8,
            compile_limits: CompileLimits {
                timeout: self.compile_timeout,
                max_memory: self.compile_memory.as_u64(),
            },
            ..RuntimeConfig::default()
        }))
    }
}

/// `psahost plugin inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The plugin: a `.wasm` file, or `builtin:NAME` for a bundled connector.
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

/// `psahost plugin call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The plugin: a `.wasm` file, or `builtin:NAME` for a bundled connector.
    #[arg(value_name = "FILE")]
    pub file: String,
    /// The export to run, as named in the WIT (`test-connection`, `list-companies`, ...).
    #[arg(value_name = "OPERATION")]
    pub operation: String,
    /// A setting of the connection, `name=value`; the value may be `${env:NAME}` or
    /// `${file:PATH}` (such values are secret). Repeat for each setting.
    #[arg(long = "setting", short = 's', value_name = "NAME=VALUE")]
    pub settings: Vec<String>,
    /// Grant an origin (`https://api-na.myconnectwise.net`, `http://127.0.0.1:8700`), or
    /// `requested` for every host the plugin requests. Repeat for each origin. Nothing is
    /// granted by default.
    #[arg(long = "allow-host", value_name = "ORIGIN")]
    pub allow_hosts: Vec<String>,
    /// Let host names resolve to private, loopback and link-local addresses.
    #[arg(long)]
    pub allow_private_networks: bool,
    /// One argument of the export, as JSON (a bare word is taken as a string). Repeat for each
    /// parameter, in order. Record fields of option type may be left out.
    #[arg(long = "arg", short = 'a', value_name = "JSON")]
    pub args: Vec<String>,
    /// Follow `next-cursor` from page to page: every record as one JSON line on stdout, then a
    /// summary (pages, records, duplicate ids) on stderr; exits 1 if a record id repeats, the
    /// connector fails, or its cursors loop. The export must take one page request
    /// (`--arg '{"page-size": 100}'`).
    #[arg(long)]
    pub all_pages: bool,
    /// With `--all-pages`: stop after this many pages.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub max_pages: u64,
    /// The connection id (names the kv namespace).
    #[arg(long, default_value = "cli")]
    pub connection: String,
    /// Keep the connection's kv namespace in this directory between calls (default: in memory).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

pub(super) async fn run(cmd: PluginCommand, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    match cmd {
        PluginCommand::Inspect(args) => inspect(args).await,
        PluginCommand::Call(args) => call(args).await,
        PluginCommand::Check(args) => check(args, config).await,
        PluginCommand::New(args) => crate::scaffold::run(args),
    }
}

async fn check(args: CheckArgs, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let runtime = args.runtime.runtime()?;
    let plugin = runtime.load(PluginSource::parse(&args.file)).await?;
    let report = match args.sim {
        Some(dialect) => {
            let mut options = CheckOptions::new(dialect);
            options.companies = args.records;
            options.page_size = args.page_size;
            for setting in &args.settings {
                let (name, value) = assignment(setting)?;
                options.settings.push((name.to_string(), value.to_string()));
            }
            check_connector(&runtime, &plugin, &options).await?
        }
        None => check_any(&runtime, &plugin, &any_options(&args, config)?).await?,
    };
    if args.json {
        outln!("{}", terminal::json(&report)?);
    } else {
        out!("{}", report.table());
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn inspect(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let runtime = args.runtime.runtime()?;
    let plugin = runtime.load(PluginSource::parse(&args.file)).await?;
    if args.json {
        outln!("{}", terminal::json(&inspect_json(&plugin))?);
    } else {
        out!("{}", inspect_text(&plugin));
    }
    Ok(ExitCode::SUCCESS)
}

fn scope_name(scope: LimitScope) -> &'static str {
    match scope {
        LimitScope::Connection => "connection",
        LimitScope::Endpoint => "endpoint",
    }
}

/// The plugin's description as JSON (stable keys, kebab-case).
pub fn inspect_json(plugin: &Plugin) -> Value {
    let common = json!({
        "kind": plugin.kind(),
        "wit": plugin.wit_version(),
        "export": plugin.export_name(),
        "source": plugin.source().to_string(),
        "sha256": plugin.sha256(),
    });
    let specific = match plugin.info() {
        PluginInfo::Connector(c) => connector_json(c),
        PluginInfo::MatchingRule(r) => rule_json(r),
    };
    let mut out = specific;
    if let (Value::Object(out), Value::Object(common)) = (&mut out, common) {
        out.extend(common);
    }
    out
}

fn connector_json(c: &ConnectorInfo) -> Value {
    json!({
        "id": c.id, "name": c.name, "version": c.version, "vendor": c.vendor,
        "description": c.description,
        "settings": c.settings.iter().map(|s| json!({
            "name": s.name, "label": s.label, "description": s.description,
            "required": s.required, "secret": s.secret,
            "default": s.default_value, "example": s.example,
        })).collect::<Vec<_>>(),
        "outbound-hosts": c.outbound_hosts,
        "operations": c.operations.iter().map(|o| o.name()).collect::<Vec<_>>(),
        "rate-limits": c.rate_limits.iter().map(|r| json!({
            "scope": scope_name(r.scope), "requests": r.requests,
            "per-seconds": r.per_seconds, "max-concurrent": r.max_concurrent,
        })).collect::<Vec<_>>(),
        "paging": c.paging.iter().map(|p| json!({
            "entity": p.entity.name(), "max-page-size": p.max_page_size,
            "updated-since": p.updated_since,
        })).collect::<Vec<_>>(),
        "datasets": c.datasets.iter().map(|d| json!({
            "name": d.name, "label": d.label, "description": d.description,
            "updated-since": d.updated_since, "max-page-size": d.max_page_size,
        })).collect::<Vec<_>>(),
        "read-only-configuration-types": c.read_only_configuration_types,
    })
}

fn rule_json(r: &RuleInfo) -> Value {
    json!({
        "id": r.id, "name": r.name, "version": r.version, "vendor": r.vendor,
        "description": r.description, "subject-kinds": r.subject_kinds,
        "candidate-entities": r.candidate_entities,
    })
}

fn inspect_text(plugin: &Plugin) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let (id, name, version, vendor, description) = match plugin.info() {
        PluginInfo::Connector(c) => (&c.id, &c.name, &c.version, &c.vendor, &c.description),
        PluginInfo::MatchingRule(r) => (&r.id, &r.name, &r.version, &r.vendor, &r.description),
    };
    let kind = match plugin.kind() {
        psahost_sandbox::runtime::PluginKind::Connector => "connector",
        psahost_sandbox::runtime::PluginKind::MatchingRule => "matching rule",
    };
    let (name, version, vendor) = (safe(name), safe(version), safe(vendor));
    let _ = writeln!(out, "{name} ({id}) {version}, by {vendor}");
    if !description.is_empty() {
        let _ = writeln!(out, "  {}", safe(description));
    }
    let _ = writeln!(out, "kind:        {kind}");
    let _ = writeln!(
        out,
        "wit:         {} ({})",
        plugin.wit_version(),
        plugin.export_name()
    );
    let _ = writeln!(out, "source:      {}", plugin.source());
    let _ = writeln!(out, "sha256:      {}", plugin.sha256());
    match plugin.info() {
        PluginInfo::Connector(c) => {
            let _ = writeln!(out, "settings:");
            let width = c.settings.iter().map(|s| s.name.len()).max().unwrap_or(0);
            for s in &c.settings {
                let mut flags = vec![if s.required { "required" } else { "optional" }];
                if s.secret {
                    flags.push("secret");
                }
                let default = s
                    .default_value
                    .as_ref()
                    .map(|d| format!(" [default: {}]", safe(d)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {:width$}  {:18} {}{default}",
                    s.name,
                    flags.join(", "),
                    safe(&s.description)
                );
            }
            let _ = writeln!(
                out,
                "outbound hosts: {}",
                join_or_none(c.outbound_hosts.iter().map(|h| safe(h)))
            );
            let _ = writeln!(
                out,
                "operations:  {}",
                join_or_none(c.operations.iter().map(|o| o.name()))
            );
            let limits: Vec<String> = c
                .rate_limits
                .iter()
                .map(|r| {
                    let mut parts = Vec::new();
                    if r.requests > 0 && r.per_seconds > 0 {
                        parts.push(format!("{} requests / {} s", r.requests, r.per_seconds));
                    }
                    if r.max_concurrent > 0 {
                        parts.push(format!("{} concurrent", r.max_concurrent));
                    }
                    format!("per {}: {}", scope_name(r.scope), parts.join(", "))
                })
                .collect();
            let _ = writeln!(
                out,
                "rate limits: {}",
                join_or_none(limits.iter().map(String::as_str))
            );
            let paging: Vec<String> = c
                .paging
                .iter()
                .map(|p| {
                    let mode = if p.updated_since {
                        "incremental"
                    } else {
                        "full sweeps"
                    };
                    format!("{} {} ({mode})", p.entity.name(), p.max_page_size)
                })
                .collect();
            let _ = writeln!(
                out,
                "paging:      {}",
                join_or_none(paging.iter().map(String::as_str))
            );
            let _ = writeln!(
                out,
                "datasets:{}",
                if c.datasets.is_empty() { " (none)" } else { "" }
            );
            let width = c.datasets.iter().map(|d| d.name.len()).max().unwrap_or(0);
            for d in &c.datasets {
                let mode = if d.updated_since {
                    "incremental"
                } else {
                    "full sweeps"
                };
                let _ = writeln!(
                    out,
                    "  {:width$}  {:5} per page, {mode:11}  {}",
                    d.name,
                    d.max_page_size,
                    safe(&d.label)
                );
            }
            if !c.read_only_configuration_types.is_empty() {
                let _ = writeln!(
                    out,
                    "read-only configuration types: {}",
                    c.read_only_configuration_types
                        .iter()
                        .map(|t| safe(t))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        PluginInfo::MatchingRule(r) => {
            let _ = writeln!(
                out,
                "subjects:    {}",
                join_or_none(r.subject_kinds.iter().map(|k| safe(k)))
            );
            let _ = writeln!(
                out,
                "candidates:  {}",
                join_or_none(r.candidate_entities.iter().map(|e| safe(e)))
            );
        }
    }
    out
}

/// The options of a check against the vendor's server: the connection of `--connection`, if
/// any, then `--setting` and `--grant`.
fn any_options(args: &CheckArgs, config: Option<&Path>) -> anyhow::Result<AnyOptions> {
    let (mut settings, mut grant) = match &args.connection {
        Some(id) => {
            let path = config.ok_or_else(|| {
                anyhow!("--connection `{id}` needs the configuration: pass `--config psahost.toml` or set PSAHOST_CONFIG")
            })?;
            let config = crate::load_config(path)?;
            let connection = config.connection(id)?;
            (connection.settings.clone(), connection.policy.grant.clone())
        }
        None => (Settings::default(), Grant::default()),
    };
    add_settings(&mut settings, &args.settings)?;
    add_grants(&mut grant, &args.grants, "--grant")?;
    if grant.origins.is_empty() && !grant.all_requested {
        return Err(anyhow!(
            "nothing is granted: name the server the connector reaches with --grant ORIGIN (for example --grant http://127.0.0.1:8700), take a connection of the configuration with --connection ID, or check against a simulator with --sim DIALECT"
        ));
    }
    let mut options = AnyOptions::new(settings, grant);
    options.corrupt = (!args.corrupt.is_empty()).then(|| args.corrupt.clone());
    options.writes = args.writes;
    options.page_size = args.page_size;
    options.sample = args.sample;
    Ok(options)
}

/// Adds `--setting name=value` arguments (references resolved; their values are secret).
fn add_settings(settings: &mut Settings, assignments: &[String]) -> anyhow::Result<()> {
    for setting in assignments {
        let (name, value) = assignment(setting)?;
        let (value, secret) =
            resolve_value(value, Path::new(".")).with_context(|| format!("--setting `{name}`"))?;
        settings.insert(name, value, secret);
    }
    Ok(())
}

/// Adds origins (or `requested`) given with `flag` to `grant`.
fn add_grants(grant: &mut Grant, origins: &[String], flag: &str) -> anyhow::Result<()> {
    for origin in origins {
        if origin == "requested" {
            grant.all_requested = true;
        } else {
            grant
                .origins
                .push(OriginPattern::parse(origin).with_context(|| format!("{flag} `{origin}`"))?);
        }
    }
    Ok(())
}

/// A `--setting name=value` argument.
fn assignment(text: &str) -> anyhow::Result<(&str, &str)> {
    text.split_once('=')
        .map(|(name, value)| (name.trim(), value))
        .ok_or_else(|| anyhow!("--setting `{text}` is not `name=value`"))
}

fn join_or_none<S: AsRef<str>>(items: impl Iterator<Item = S>) -> String {
    let items: Vec<S> = items.collect();
    if items.is_empty() {
        "(none)".into()
    } else {
        items
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<&str>>()
            .join(", ")
    }
}

async fn call(args: CallArgs) -> anyhow::Result<ExitCode> {
    let runtime = args.runtime.runtime()?;
    let plugin = runtime.load(PluginSource::parse(&args.file)).await?;
    let call_args = args
        .args
        .iter()
        .map(|a| wit_json::parse_arg(a))
        .collect::<anyhow::Result<Vec<_>>>()?;

    if args.all_pages && !matches!(call_args.as_slice(), [Value::Object(_)]) {
        return Err(anyhow!(
            "--all-pages needs exactly one `--arg`, the page request as a JSON object (for example `--arg '{{\"page-size\": 100}}'`)"
        ));
    }
    let result = match plugin.info() {
        PluginInfo::MatchingRule(_) if args.all_pages => {
            return Err(anyhow!(
                "`{}` is a matching rule: it has no pages to follow (drop --all-pages)",
                args.file
            ));
        }
        PluginInfo::MatchingRule(_) => {
            if !args.settings.is_empty() || !args.allow_hosts.is_empty() {
                return Err(anyhow!(
                    "`{}` is a matching rule: it takes no settings and makes no requests",
                    args.file
                ));
            }
            call_json(&runtime, &plugin, None, &args.operation, call_args).await?
        }
        PluginInfo::Connector(_) => {
            let connection = open_cli_connection(&runtime, &plugin, &args)?;
            if let (true, [Value::Object(request)]) = (args.all_pages, call_args.as_slice()) {
                return all_pages(&connection, &args, request.clone()).await;
            }
            connection.call_json(&args.operation, call_args).await?
        }
    };
    outln!("{}", terminal::json(&result)?);
    if let Some(err) = result
        .get("err")
        .filter(|_| result.as_object().is_some_and(|o| o.len() == 1))
    {
        eprintln!(
            "error: `{}` returned an error: {}",
            args.operation,
            terminal::safe(&err.to_string())
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// `plugin call --all-pages`: calls the list export page after page, each with the previous
/// page's `next-cursor`, and prints the records as JSON lines. Bounded by `--max-pages`, and a
/// cursor the connector gives twice (a cycle) stops the walk.
async fn all_pages(
    connection: &Connection,
    args: &CallArgs,
    mut request: serde_json::Map<String, Value>,
) -> anyhow::Result<ExitCode> {
    let mut cursors = std::collections::HashSet::new();
    let mut ids = std::collections::HashSet::new();
    let (mut pages, mut records, mut duplicates) = (0u64, 0u64, 0u64);
    let summary = |pages: u64, records: u64, duplicates: u64| {
        eprintln!("{pages} pages, {records} records, {duplicates} duplicate ids");
    };
    loop {
        if pages == args.max_pages {
            summary(pages, records, duplicates);
            eprintln!(
                "error: stopped after --max-pages {} pages; the connector still had a next cursor",
                args.max_pages
            );
            return Ok(ExitCode::FAILURE);
        }
        let result = connection
            .call_json(&args.operation, vec![Value::Object(request.clone())])
            .await?;
        pages += 1;
        let page = match (result.get("ok"), result.get("err")) {
            (Some(page), _) => page,
            (None, Some(err)) => {
                summary(pages - 1, records, duplicates);
                eprintln!(
                    "error: page {pages} of `{}` returned an error: {}",
                    args.operation,
                    terminal::safe(&err.to_string())
                );
                return Ok(ExitCode::FAILURE);
            }
            _ => {
                return Err(anyhow!(
                    "`{}` does not return a page (`result<..-page, error>`): --all-pages is for the list exports",
                    args.operation
                ));
            }
        };
        let Some(items) = page.get("items").and_then(Value::as_array) else {
            return Err(anyhow!(
                "`{}` returned no `items`: --all-pages is for the list exports",
                args.operation
            ));
        };
        for item in items {
            records += 1;
            if let Some(id) = item.get("id").and_then(Value::as_str)
                && !ids.insert(id.to_string())
            {
                duplicates += 1;
            }
            outln!("{}", terminal::json_line(item)?);
        }
        match page.get("next-cursor").and_then(Value::as_str) {
            None => break,
            Some(cursor) => {
                if !cursors.insert(cursor.to_string()) {
                    summary(pages, records, duplicates);
                    eprintln!(
                        "error: page {pages} gave the cursor `{}` a second time: the connector's paging loops",
                        terminal::safe(cursor)
                    );
                    return Ok(ExitCode::FAILURE);
                }
                request.insert("cursor".into(), Value::String(cursor.to_string()));
            }
        }
    }
    summary(pages, records, duplicates);
    Ok(if duplicates > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn open_cli_connection(
    runtime: &Arc<Runtime>,
    plugin: &Arc<Plugin>,
    args: &CallArgs,
) -> anyhow::Result<Connection> {
    let mut settings = Settings::default();
    add_settings(&mut settings, &args.settings)?;
    let mut grant = Grant {
        allow_private_networks: args.allow_private_networks,
        ..Grant::default()
    };
    add_grants(&mut grant, &args.allow_hosts, "--allow-host")?;
    let kv = match &args.data_dir {
        Some(dir) => KvStore::open(&dir.join("kv"))?,
        None => KvStore::temporary()?,
    };
    let policy = ConnectionPolicy {
        grant,
        http: HttpLimits::default(),
        kv: KvLimits::default(),
        log: Default::default(),
    };
    Connection::open(
        runtime.clone(),
        plugin.clone(),
        &args.connection,
        settings,
        &policy,
        &kv,
    )
}
