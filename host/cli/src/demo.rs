//! `psahost demo`: for each PSA (ConnectWise Manage, Autotask, Kaseya BMS), the simulator on
//! loopback and the bundled connector against it: the connection tested, every entity pulled
//! through all pages, picklists read, a ticket and a note written back and verified in the
//! simulator, and a summary.

use anyhow::{Context, anyhow};
use clap::Args;
use psa_sim::{Dialect, Simulator};
use psahost_conformance::simulated::{self, TicketDefaults};
use psahost_sandbox::bindings::exports::psa::connector::connector_api::Operation;
use psahost_sandbox::bindings::psa::connector::types::{
    NewNote, NewTicket, PageRequest, ReferenceKind,
};
use psahost_sandbox::capabilities::kv::KvStore;
use psahost_sandbox::connector::ConnectorError;
use psahost_sandbox::runtime::{AllocatorKind, PluginSource, Runtime, RuntimeConfig};
use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// `psahost demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Which PSA to run; all three by default.
    #[arg(long, value_enum)]
    pub psa: Option<Dialect>,
    /// Companies in each simulator's generated data set.
    #[arg(long, default_value_t = 1200)]
    pub records: usize,
    /// Seed of the generated data set.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Records per page requested from the connectors (they clamp it to their PSA's maximum).
    #[arg(long, default_value_t = 1000)]
    pub page_size: u32,
}

pub(super) async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let runtime = Runtime::new(crate::with_this_program(RuntimeConfig {
        cache_dir: super::default_cache_dir(),
        ..RuntimeConfig::default()
    }))?;
    let allocator = match runtime.allocator() {
        AllocatorKind::Pooling => "pooling",
        AllocatorKind::OnDemand => "on-demand",
    };
    outln!(
        "psahost demo: the bundled connectors against the PSA simulator ({allocator} allocator)"
    );
    let dialects = match args.psa {
        Some(d) => vec![d],
        None => simulated::DIALECTS.to_vec(),
    };
    for dialect in dialects {
        let sim = Simulator::start(simulated::sim_config(dialect, args.records, args.seed))
            .await
            .context("cannot start the simulator")?;
        let result = demo(&runtime, &sim, &args).await;
        sim.shutdown().await;
        result.with_context(|| format!("the {} demo failed", dialect.product()))?;
    }
    outln!("done in {}", millis(started.elapsed()));
    Ok(ExitCode::SUCCESS)
}

fn millis(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} ms", d.as_millis())
    }
}

fn line(label: &str, text: impl std::fmt::Display) {
    outln!("  {label:<24}{text}");
}

fn psa(e: ConnectorError) -> anyhow::Error {
    anyhow!("{e}")
}

async fn demo(runtime: &Arc<Runtime>, sim: &Simulator, args: &DemoArgs) -> anyhow::Result<()> {
    let dialect = sim.config().dialect;
    outln!();
    outln!("{}", dialect.product());
    line(
        "simulator",
        format!(
            "{} ({} companies, seed {})",
            sim.origin(),
            args.records,
            args.seed
        ),
    );
    let load_started = Instant::now();
    let plugin = runtime
        .load(PluginSource::Builtin(
            simulated::bundled_connector(dialect).into(),
        ))
        .await?;
    let info = plugin
        .connector_info()
        .expect("a bundled plugin is a connector")
        .clone();
    line(
        "connector",
        format!(
            "{} {} (sha256 {}…), loaded in {}",
            info.id,
            info.version,
            &plugin.sha256()[..12],
            millis(load_started.elapsed())
        ),
    );
    let kv = KvStore::temporary()?;
    let conn = simulated::connect(
        runtime,
        &plugin,
        sim,
        "demo",
        simulated::settings_for(sim),
        &kv,
    )?;

    let t = Instant::now();
    let report = conn.test_connection().await.map_err(psa)?;
    line(
        "test-connection",
        format!("ok: {} ({})", report.message, millis(t.elapsed())),
    );

    let declares = |op| info.operations.contains(&op);
    let page = args.page_size;
    let companies = pull("companies", page, |p| {
        let conn = conn.clone();
        async move {
            conn.list_companies(p)
                .await
                .map(|r| (r.items, r.next_cursor))
        }
    })
    .await?;
    if declares(Operation::ListContacts) {
        pull("contacts", page, |p| {
            let conn = conn.clone();
            async move {
                conn.list_contacts(p)
                    .await
                    .map(|r| (r.items, r.next_cursor))
            }
        })
        .await?;
    }
    if declares(Operation::ListAgreements) {
        pull("agreements", page, |p| {
            let conn = conn.clone();
            async move {
                conn.list_agreements(p)
                    .await
                    .map(|r| (r.items, r.next_cursor))
            }
        })
        .await?;
    }
    if declares(Operation::ListConfigurations) {
        pull("configurations", page, |p| {
            let conn = conn.clone();
            async move {
                conn.list_configurations(p)
                    .await
                    .map(|r| (r.items, r.next_cursor))
            }
        })
        .await?;
    }
    if declares(Operation::ListTickets) {
        pull("tickets", page, |p| {
            let conn = conn.clone();
            async move { conn.list_tickets(p).await.map(|r| (r.items, r.next_cursor)) }
        })
        .await?;
    }
    // The datasets reporting tools sync, each at the page size the connector declares.
    for dataset in &info.datasets {
        let name = dataset.name.clone();
        pull(&name, dataset.max_page_size.min(page), |p| {
            let (conn, name) = (conn.clone(), name.clone());
            async move {
                conn.list_dataset(&name, p)
                    .await
                    .map(|r| (r.items, r.next_cursor))
            }
        })
        .await?;
    }

    let t = Instant::now();
    let queues = conn
        .list_references(ReferenceKind::Queue)
        .await
        .map_err(psa)?;
    let statuses = conn
        .list_references(ReferenceKind::TicketStatus)
        .await
        .map_err(psa)?;
    let priorities = conn
        .list_references(ReferenceKind::TicketPriority)
        .await
        .map_err(psa)?;
    line(
        "picklists",
        format!(
            "queues {}, statuses {}, priorities {} ({})",
            queues.len(),
            statuses.len(),
            priorities.len(),
            millis(t.elapsed())
        ),
    );
    let defaults = TicketDefaults::choose(&queues, &statuses, &priorities);

    let company = companies
        .iter()
        .find(|c| c.active)
        .or(companies.first())
        .ok_or_else(|| anyhow!("the simulator returned no company"))?;
    let t = Instant::now();
    let ticket = conn
        .create_ticket(NewTicket {
            description: Some("Created by `psahost demo`.".into()),
            queue_id: defaults.queue.clone(),
            status_id: defaults.status.clone(),
            priority_id: defaults.priority.clone(),
            ..NewTicket::new(company.id.clone(), "psahost demo: disk space low on FS01")
        })
        .await
        .map_err(psa)?;
    line(
        "create-ticket",
        format!(
            "#{} \"{}\" for {} ({})",
            ticket.id,
            ticket.summary,
            company.name,
            millis(t.elapsed())
        ),
    );
    let t = Instant::now();
    let note = conn
        .add_ticket_note(NewNote::new(
            ticket.id.clone(),
            "Free space is back above 20% after log rotation.",
            true,
        ))
        .await
        .map_err(psa)?;
    line(
        "add-ticket-note",
        format!(
            "note #{} on ticket #{} ({})",
            note.id,
            ticket.id,
            millis(t.elapsed())
        ),
    );
    let held = |entity, id: &str| {
        id.parse()
            .ok()
            .and_then(|id| sim.state().get(entity, id))
            .is_some()
    };
    if !held(psa_sim::Entity::Ticket, &ticket.id) || !held(psa_sim::Entity::Note, &note.id) {
        return Err(anyhow!(
            "the simulator does not hold ticket {} and note {} after the writes",
            ticket.id,
            note.id
        ));
    }
    line(
        "verified",
        format!(
            "the simulator holds ticket #{} and note #{}",
            ticket.id, note.id
        ),
    );
    let stats = &conn.capabilities().http.stats;
    line(
        "http",
        format!(
            "{} requests, {} KiB received, {} retried, {} denied",
            stats.requests.load(Ordering::Relaxed),
            stats.bytes_received.load(Ordering::Relaxed) / 1024,
            stats.retries.load(Ordering::Relaxed),
            stats.denied.load(Ordering::Relaxed)
        ),
    );
    Ok(())
}

/// Pulls every page of one entity, printing a summary line; returns the items.
async fn pull<T, F, Fut>(label: &str, page_size: u32, fetch: F) -> anyhow::Result<Vec<T>>
where
    F: Fn(PageRequest) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), ConnectorError>>,
{
    let started = Instant::now();
    let mut items = Vec::new();
    let mut pages = 0;
    let mut cursor = None;
    loop {
        let (batch, next) = fetch(PageRequest {
            cursor: cursor.take(),
            ..PageRequest::first(page_size)
        })
        .await
        .map_err(|e| anyhow!("{label}: {e}"))?;
        pages += 1;
        items.extend(batch);
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    line(
        label,
        format!(
            "{} records in {pages} page{}, {}",
            items.len(),
            if pages == 1 { "" } else { "s" },
            millis(started.elapsed())
        ),
    );
    Ok(items)
}
