//! `psahost delivery check`, `alerts deliver` (dry run, the same alert twice, SIGKILL between
//! the PSA's create and the acknowledgement, then a restart: one ticket), `deliveries list`
//! and `billable sync`, with the real ConnectWise connector against the simulator; and every
//! delivery command through a running `psahost serve` (`--api`), the settings set, shown and
//! cleared through it included.

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
    with_delivery(write_config(dir, sim, 100), sim, without).await
}

/// `path` with a `[connections.sim.delivery]` section appended, `without` one of its ticket
/// keys.
async fn with_delivery(path: PathBuf, sim: &psa_sim::Simulator, without: Option<&str>) -> PathBuf {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_commands_through_a_running_daemon() {
    use psahost_testkit::daemon::{ConfigSpec, Served, TOKEN};
    let sim = simulator(20, Some(0)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = with_delivery(
        psahost_testkit::daemon::write_config(dir.path(), &sim, &ConfigSpec::default()),
        &sim,
        None,
    )
    .await;
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let alerts = file("alert.jsonl", ALERT);
    let counts = file("counts.json", r#"{"billed": 42}"#);
    let served = Served::start(crate::psahost_bin(), &config, &[]).await;
    let synced = served.api.post("/v1/connections/sim/sync").await;
    assert_eq!(synced.status, 200, "{}", synced.text);
    let url = served.api.base.clone();
    let remote = |args: &[&str]| {
        let config = config.clone();
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.extend(["--api".into(), url.clone(), "--token".into(), TOKEN.into()]);
        async move {
            let refs: Vec<&str> = v.iter().map(String::as_str).collect();
            crate::run(&config, &refs).await
        }
    };

    let check = remote(&["delivery", "check", "sim"]).await;
    assert_eq!(check.code, Some(0), "{}{}", check.stdout, check.stderr);
    assert!(check.stdout.contains("complete"), "{}", check.stdout);
    let show = remote(&["delivery", "settings", "show", "sim"]).await;
    assert_eq!(show.code, Some(0), "{}", show.stderr);
    let shown: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(shown["source"], "toml", "{}", show.stdout);

    // Settings through the daemon: an invalid field is refused and named, nothing stored.
    let mut settings = shown["settings"].clone();
    settings["note"]["visibility"] = "secret".into();
    let bad = file("bad.json", &settings.to_string());
    let refused = remote(&["delivery", "settings", "set", "sim", "--input", &bad]).await;
    assert_eq!(refused.code, Some(1), "{}", refused.stdout);
    assert!(
        refused.stderr.contains("422") && refused.stderr.contains("note.visibility"),
        "{}",
        refused.stderr
    );
    let mut settings = shown["settings"].clone();
    settings["ticket"]["subject"] = "API {severity}: {title}".into();
    let good = file("good.json", &settings.to_string());
    let set = remote(&["delivery", "settings", "set", "sim", "--input", &good]).await;
    assert_eq!(set.code, Some(0), "{}", set.stderr);
    assert!(set.stdout.contains("\"source\": \"api\""), "{}", set.stdout);

    let dry = remote(&["alerts", "deliver", "sim", "--input", &alerts, "--dry-run"]).await;
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    assert!(
        dry.stdout.contains("k-1 -> account") && dry.stdout.contains("API critical: Beaconing"),
        "{}",
        dry.stdout
    );
    let before = tickets(&sim);
    let sent = remote(&["alerts", "deliver", "sim", "--input", &alerts]).await;
    assert_eq!(sent.code, Some(0), "{}{}", sent.stdout, sent.stderr);
    assert!(
        sent.stdout.contains("queued 1 alerts") && sent.stdout.contains("delivered 1"),
        "{}",
        sent.stdout
    );
    assert_eq!(tickets(&sim), before + 1);
    let twice = remote(&["alerts", "deliver", "sim", "--input", &alerts]).await;
    assert!(twice.stdout.contains("1 already known"), "{}", twice.stdout);
    assert_eq!(tickets(&sim), before + 1, "one ticket");
    let list = remote(&["deliveries", "list", "sim"]).await;
    assert!(
        list.stdout.contains("k-1\tdelivered\taccount"),
        "{}{}",
        list.stdout,
        list.stderr
    );
    let retry = remote(&["deliveries", "retry", "sim", "k-1"]).await;
    assert_eq!(retry.code, Some(1));
    assert!(retry.stderr.contains("not failed"), "{}", retry.stderr);
    let billed = remote(&[
        "billable",
        "sync",
        "sim",
        "--input",
        &counts,
        "--date",
        "2026-04-30",
    ])
    .await;
    assert!(
        billed.stdout.contains("billed\t2026-04\t42\twritten"),
        "{}{}",
        billed.stdout,
        billed.stderr
    );

    let cleared = remote(&["delivery", "settings", "clear", "sim"]).await;
    assert_eq!(cleared.code, Some(0), "{}", cleared.stderr);
    assert!(
        cleared.stdout.contains("\"source\": \"toml\""),
        "{}",
        cleared.stdout
    );
    let (code, log) = served.terminate().await;
    assert_eq!(code, Some(0), "{log}");
}
