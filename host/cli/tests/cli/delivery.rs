//! `psahost delivery check`, `alerts deliver` (dry run, the same alert twice, SIGKILL between
//! the PSA's create and the acknowledgement, then a restart: one ticket), `deliveries list`
//! and `billable sync`, with the real ConnectWise connector against the simulator.

use psahost_sandbox::bindings::psa::connector::types::TicketFilter;
use psahost_testkit::sync::*;
use psahost_workflows::delivery::marker;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The alerts of this test (a data file).
const ALERT: &str = include_str!("../fixtures/alert.jsonl");

/// A `psahost.toml` for `sim` with a `[connections.sim.delivery]` section, `without` one of
/// its ticket keys left out.
async fn config(dir: &Path, sim: &psa_sim::Simulator, without: Option<&str>) -> PathBuf {
    let path = write_config(dir, sim, 100);
    let TicketDefaults {
        queue,
        status,
        ticket_type: ty,
        source,
        priority: p,
        company,
        agreement,
        product: line,
    } = ticket_defaults(sim).await;
    let mut ticket = vec![
        format!("queue = {queue:?}"),
        format!("status = {status:?}"),
        format!("ticket-type = {ty:?}"),
        format!("source = {source:?}"),
        "subject = \"MDR {severity}: {title}\"".to_string(),
        format!("priorities = {{ critical = {p:?}, high = {p:?}, medium = {p:?}, low = {p:?} }}"),
    ];
    if let Some(key) = without {
        ticket.retain(|l| !l.starts_with(&format!("{key} ")));
    }
    let text = format!(
        r#"
[connections.sim.delivery]
catch-all = {{ account = "{company}" }}
attach-contacts = false

[connections.sim.delivery.organisations.billed]
account = "{company}"
contract = "{agreement}"

[connections.sim.delivery.ticket]
{ticket}

[connections.sim.delivery.note]
visibility = "internal"
title = "Alert {{id}}: {{title}}"

[connections.sim.delivery.billing]
service = "{line}"
day = 31
"#,
        ticket = ticket.join("\n"),
    );
    let mut all = std::fs::read_to_string(&path).unwrap();
    all.push_str(&text);
    std::fs::write(&path, all).unwrap();
    path
}

fn tickets(sim: &psa_sim::Simulator) -> usize {
    sim.state().count(psa_sim::Entity::Ticket)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_between_the_create_and_the_acknowledgement_then_one_ticket() {
    let sim = simulator(20, Some(0)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &sim, None).await;
    let alerts = dir.path().join("alert.jsonl");
    std::fs::write(&alerts, ALERT).unwrap();
    let alerts = alerts.to_str().unwrap();
    for entity in ["companies", "contacts"] {
        let out = crate::run(&config, &["sync", "sim", "--entity", entity, "--full"]).await;
        assert_eq!(out.code, Some(0), "{}", out.stderr);
    }
    let check = crate::run(&config, &["delivery", "check", "sim"]).await;
    assert_eq!(check.code, Some(0), "{}{}", check.stdout, check.stderr);
    assert!(check.stdout.contains("complete"), "{}", check.stdout);

    // A dry run shows the ticket and sends nothing; it makes the requests a delivery makes
    // before its create.
    let before = tickets(&sim);
    let requests = sim.faults().api_requests();
    let dry = crate::run(
        &config,
        &["alerts", "deliver", "sim", "--input", alerts, "--dry-run"],
    )
    .await;
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    assert!(dry.stdout.contains("k-1 -> account"), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("MDR critical: Beaconing from SRV-9"),
        "{}",
        dry.stdout
    );
    assert_eq!(tickets(&sim), before, "a dry run creates nothing");
    let before_create = sim.faults().api_requests() - requests;

    // The create is applied, its answer held back; psahost is killed while it waits.
    sim.faults()
        .set_answer_delay_after(sim.faults().api_requests() + before_create, 120_000);
    let mut child = psahost_command(
        crate::psahost_bin(),
        &config,
        &["alerts", "deliver", "sim", "--input", alerts],
    )
    .spawn()
    .unwrap();
    let started = Instant::now();
    while tickets(&sim) == before {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().await.unwrap();
            panic!(
                "psahost alerts deliver ended before the create ({status}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no create");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().await.expect("SIGKILL");
    assert!(!child.wait().await.unwrap().success());
    sim.faults().clear();
    assert_eq!(tickets(&sim), before + 1);

    // The restart finds the ticket by its marker and sends nothing again.
    let again = crate::run(&config, &["alerts", "deliver", "sim"]).await;
    assert_eq!(again.code, Some(0), "{}{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains("resolved by marker 1"),
        "{}",
        again.stdout
    );
    assert_eq!(tickets(&sim), before + 1, "one ticket");
    // The same alert delivered again: known, nothing sent.
    let twice = crate::run(&config, &["alerts", "deliver", "sim", "--input", alerts]).await;
    assert_eq!(twice.code, Some(0), "{}", twice.stderr);
    assert!(twice.stdout.contains("1 already known"), "{}", twice.stdout);
    assert_eq!(tickets(&sim), before + 1, "still one ticket");
    let conn = connect(&sim, "probe").await;
    let found = conn
        .find_open_tickets(TicketFilter {
            company_id: None,
            summary: None,
            queue_id: None,
            limit: 5,
            marker: Some(marker("k-1")),
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let list = crate::run(&config, &["deliveries", "list", "sim"]).await;
    assert!(
        list.stdout.contains("k-1\tdelivered\taccount")
            && list.stdout.contains(&format!("ticket {}", found[0].id)),
        "{}",
        list.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_a_missing_default_and_billable_sync_runs_once() {
    let sim = simulator(20, Some(0)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &sim, Some("status")).await;
    for entity in ["companies", "contacts"] {
        let out = crate::run(&config, &["sync", "sim", "--entity", entity, "--full"]).await;
        assert_eq!(out.code, Some(0), "{}", out.stderr);
    }
    let check = crate::run(&config, &["delivery", "check", "sim"]).await;
    assert_eq!(check.code, Some(1), "{}", check.stdout);
    assert!(
        check.stderr.contains("delivery.ticket.status") && check.stderr.contains("valid choices"),
        "{}",
        check.stderr
    );
    let refused = crate::run(&config, &["alerts", "deliver", "sim"]).await;
    assert_eq!(refused.code, Some(1));
    assert!(refused.stderr.contains("incomplete"), "{}", refused.stderr);

    let counts = dir.path().join("counts.json");
    std::fs::write(&counts, r#"{"billed": 42}"#).unwrap();
    let counts = counts.to_str().unwrap();
    let sync = |date: &'static str| {
        let config = config.clone();
        async move {
            crate::run(
                &config,
                &["billable", "sync", "sim", "--input", counts, "--date", date],
            )
            .await
        }
    };
    assert!(sync("2026-04-29").await.stdout.contains("not-due"));
    let written = sync("2026-04-30").await;
    assert!(
        written.stdout.contains("billed\t2026-04\t42\twritten"),
        "{}{}",
        written.stdout,
        written.stderr
    );
    let again = sync("2026-04-30").await;
    assert!(again.stdout.contains("already-written"), "{}", again.stdout);
}
