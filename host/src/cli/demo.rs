//! `psahost demo`: the simulator on loopback, the bundled ConnectWise connector against it,
//! every entity pulled through all pages, a ticket and a note written back, and a summary.

use crate::bindings::psa::connector::types::{NewNote, NewTicket, PageRequest, ReferenceKind};
use crate::capabilities::ConnectionPolicy;
use crate::capabilities::http::{Grant, HttpLimits, OriginPattern};
use crate::capabilities::kv::{KvLimits, KvStore};
use crate::capabilities::settings::Settings;
use crate::connector::{Connection, ConnectorError};
use crate::runtime::{PluginSource, Runtime, RuntimeConfig};
use anyhow::{Context, anyhow};
use clap::Args;
use psa_sim::{SimConfig, Simulator};
use std::future::Future;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// `psahost demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Companies in the simulator's generated data set.
    #[arg(long, default_value_t = 1200)]
    pub records: usize,
    /// Seed of the generated data set.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Records per page requested from the connector.
    #[arg(long, default_value_t = 1000)]
    pub page_size: u32,
}

pub(super) async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let sim = Simulator::start(SimConfig::connectwise(args.records, args.seed))
        .await
        .context("cannot start the simulator")?;
    let result = demo(&sim, &args).await;
    sim.shutdown().await;
    result?;
    println!("done in {}", millis(started.elapsed()));
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
    println!("  {label:<17}{text}");
}

async fn demo(sim: &Simulator, args: &DemoArgs) -> anyhow::Result<()> {
    println!("psahost demo: the ConnectWise Manage connector against the PSA simulator");
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
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: super::default_cache_dir(),
        ..RuntimeConfig::default()
    })?;
    let plugin = runtime
        .load(PluginSource::Builtin("connectwise-manage".into()))
        .await?;
    let info = plugin
        .connector_info()
        .expect("the bundled plugin is a connector");
    line(
        "connector",
        format!(
            "{} {} (sha256 {}…), loaded in {} with the {:?} allocator",
            info.id,
            info.version,
            &plugin.sha256()[..12],
            millis(load_started.elapsed()),
            runtime.allocator()
        ),
    );

    let credentials = &sim.config().credentials;
    let mut settings = Settings::default();
    settings.insert("site", sim.origin(), false);
    settings.insert("company-id", credentials.company_id.clone(), false);
    settings.insert("public-key", credentials.public_key.clone(), false);
    settings.insert("private-key", credentials.private_key.clone(), true);
    settings.insert("client-id", credentials.client_id.clone(), false);
    let policy = ConnectionPolicy {
        grant: Grant {
            // The simulator's own origin, by its loopback address: nothing else is reachable.
            origins: vec![OriginPattern::parse(&sim.origin())?],
            all_requested: false,
            allow_private_networks: false,
        },
        http: HttpLimits::default(),
        kv: KvLimits::default(),
    };
    let kv = KvStore::temporary()?;
    let conn = Connection::open(
        runtime.clone(),
        plugin.clone(),
        "demo",
        settings,
        &policy,
        &kv,
    )?;

    let t = Instant::now();
    let report = conn.test_connection().await.map_err(psa)?;
    line(
        "test-connection",
        format!("ok: {} ({})", report.message, millis(t.elapsed())),
    );

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
    pull("contacts", page, |p| {
        let conn = conn.clone();
        async move {
            conn.list_contacts(p)
                .await
                .map(|r| (r.items, r.next_cursor))
        }
    })
    .await?;
    pull("agreements", page, |p| {
        let conn = conn.clone();
        async move {
            conn.list_agreements(p)
                .await
                .map(|r| (r.items, r.next_cursor))
        }
    })
    .await?;
    pull("configurations", page, |p| {
        let conn = conn.clone();
        async move {
            conn.list_configurations(p)
                .await
                .map(|r| (r.items, r.next_cursor))
        }
    })
    .await?;
    pull("tickets", page, |p| {
        let conn = conn.clone();
        async move { conn.list_tickets(p).await.map(|r| (r.items, r.next_cursor)) }
    })
    .await?;

    let t = Instant::now();
    let boards = conn
        .list_references(ReferenceKind::Queue)
        .await
        .map_err(psa)?;
    let mut picklists = vec![format!("queues {}", boards.len())];
    for (name, kind) in [
        ("statuses", ReferenceKind::TicketStatus),
        ("priorities", ReferenceKind::TicketPriority),
        ("configuration types", ReferenceKind::ConfigurationType),
    ] {
        let refs = conn.list_references(kind).await.map_err(psa)?;
        picklists.push(format!("{name} {}", refs.len()));
    }
    line(
        "picklists",
        format!("{} ({})", picklists.join(", "), millis(t.elapsed())),
    );

    let company = companies
        .iter()
        .find(|c| c.active)
        .or(companies.first())
        .ok_or_else(|| anyhow!("the simulator returned no company"))?;
    let board = boards
        .first()
        .ok_or_else(|| anyhow!("the simulator returned no service board"))?;
    let t = Instant::now();
    let ticket = conn
        .create_ticket(NewTicket {
            description: Some("Created by `psahost demo`.".into()),
            queue_id: Some(board.id.clone()),
            ..NewTicket::new(company.id.clone(), "psahost demo: disk space low on FS01")
        })
        .await
        .map_err(psa)?;
    line(
        "create-ticket",
        format!(
            "#{} \"{}\" for {} on board {} ({})",
            ticket.id,
            ticket.summary,
            company.name,
            board.name,
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
            "{} requests, {} KiB received, {} denied",
            stats.requests.load(std::sync::atomic::Ordering::Relaxed),
            stats
                .bytes_received
                .load(std::sync::atomic::Ordering::Relaxed)
                / 1024,
            stats.denied.load(std::sync::atomic::Ordering::Relaxed)
        ),
    );
    Ok(())
}

fn psa(e: ConnectorError) -> anyhow::Error {
    anyhow!("{e}")
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
            updated_since: None,
            page_size,
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
    let count = items.len();
    line(
        label,
        format!(
            "{count} records in {pages} page{}, {}",
            if pages == 1 { "" } else { "s" },
            millis(started.elapsed())
        ),
    );
    Ok(items)
}
