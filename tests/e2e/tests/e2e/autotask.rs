//! The Autotask connector (real wasm) against the simulator's Autotask dialect over loopback.

use psa_sim::{Entity, SimConfig, Simulator};
use psahost_conformance::simulated::TicketDefaults;
use psahost_e2e::*;
use psahost_sandbox::bindings::psa::connector::types::{NewNote, NewTicket, ReferenceKind};
use psahost_sandbox::capabilities::kv::KvStore;
use std::collections::BTreeSet;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn pages_through_1200_companies_and_reads_only_changes() {
    let sim = Simulator::start(SimConfig::autotask(1300, 5))
        .await
        .unwrap();
    let rt = runtime(64 << 20, Duration::from_secs(30));
    let plugin = load(&rt, AUTOTASK_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let conn = simulated_connection(&rt, &plugin, &sim, "at", &[], &kv);

    let expected = live_company_ids(&sim);
    assert!(expected.len() >= 1200, "{} live companies", expected.len());
    let (ids, pages) = company_ids(&conn, 500, None).await;
    assert_eq!(pages, expected.len().div_ceil(500), "500-row pages");
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "no company twice");
    assert_eq!(unique, expected);

    let touched = touch_companies(&sim, expected.iter().step_by(400));
    let (changed, _) = company_ids(&conn, 500, Some(&data_end())).await;
    assert_eq!(changed.into_iter().collect::<BTreeSet<_>>(), touched);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_are_held_by_the_simulator() {
    let sim = Simulator::start(SimConfig::autotask(20, 3)).await.unwrap();
    let rt = runtime(64 << 20, Duration::from_secs(30));
    let plugin = load(&rt, AUTOTASK_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let conn = simulated_connection(&rt, &plugin, &sim, "at", &[], &kv);
    let defaults = TicketDefaults::choose(
        &conn.list_references(ReferenceKind::Queue).await.unwrap(),
        &conn
            .list_references(ReferenceKind::TicketStatus)
            .await
            .unwrap(),
        &conn
            .list_references(ReferenceKind::TicketPriority)
            .await
            .unwrap(),
    );
    let company = live_company_ids(&sim).into_iter().next().unwrap();
    let ticket = conn
        .create_ticket(NewTicket {
            queue_id: defaults.queue.clone(),
            status_id: defaults.status.clone(),
            priority_id: defaults.priority.clone(),
            ..NewTicket::new(company.clone(), "EDR alert: ransomware behaviour on WS-7")
        })
        .await
        .expect("create-ticket");
    let note = conn
        .add_ticket_note(NewNote {
            title: Some("Containment".into()),
            ..NewNote::new(ticket.id.clone(), "Host isolated by the MDR service.", true)
        })
        .await
        .expect("add-ticket-note");
    let stored = sim
        .state()
        .get(Entity::Ticket, ticket.id.parse().unwrap())
        .expect("ticket held");
    assert_eq!(stored["title"], "EDR alert: ransomware behaviour on WS-7");
    assert_eq!(stored["companyID"].to_string(), company);
    assert_eq!(stored["queueID"].to_string(), defaults.queue.unwrap());
    let stored = sim
        .state()
        .get(Entity::Note, note.id.parse().unwrap())
        .expect("note held");
    assert_eq!(stored["ticketID"].to_string(), ticket.id);
    assert_eq!(stored["title"], "Containment");
    assert_eq!(stored["description"], "Host isolated by the MDR service.");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_credential_error_names_its_setting() {
    let sim = Simulator::start(SimConfig::autotask(5, 1)).await.unwrap();
    let rt = runtime(64 << 20, Duration::from_secs(30));
    let plugin = load(&rt, AUTOTASK_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let a = sim.config().autotask.clone();
    for (setting, wrong) in [
        ("username", "nobody@psahost-demo.example".to_string()),
        ("secret", format!("{}x", a.secret)),
        ("integration-code", format!("{}X", a.integration_code)),
    ] {
        let conn = simulated_connection(
            &rt,
            &plugin,
            &sim,
            &format!("at-{setting}"),
            &[(setting, &wrong)],
            &kv,
        );
        let problem = unauthorized_setting(conn.test_connection().await);
        assert_eq!(
            problem.settings.first().map(String::as_str),
            Some(setting),
            "{}",
            problem.message
        );
        assert!(
            !problem.message.contains(&wrong) || setting == "username",
            "{}",
            problem.message
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn follows_a_zone_move() {
    let sim = Simulator::start(SimConfig::autotask(30, 2)).await.unwrap();
    let rt = runtime(64 << 20, Duration::from_secs(30));
    let plugin = load(&rt, AUTOTASK_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let conn = simulated_connection(&rt, &plugin, &sim, "at", &[], &kv);
    conn.test_connection()
        .await
        .expect("discovers and caches the zone");
    sim.state().set_autotask_zone(3);
    let (ids, _) = company_ids(&conn, 500, None).await;
    assert_eq!(
        ids.into_iter().collect::<BTreeSet<_>>(),
        live_company_ids(&sim)
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_host_keeps_within_the_thread_limit_per_entity() {
    let sim = Simulator::start(SimConfig::autotask(30, 4)).await.unwrap();
    // Every answer takes a while, so the calls below overlap at the simulator.
    sim.faults().set_delay_ms(150);
    let rt = runtime(64 << 20, Duration::from_secs(30));
    let plugin = load(&rt, AUTOTASK_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let conn = simulated_connection(&rt, &plugin, &sim, "at", &[], &kv);
    conn.test_connection().await.unwrap();
    let company = live_company_ids(&sim).into_iter().next().unwrap();
    // Queries and reads by id of one entity: different paths, one Autotask thread budget of 3.
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..9 {
        let (conn, company) = (conn.clone(), company.clone());
        calls.spawn(async move {
            if i % 2 == 0 {
                conn.list_companies(
                    psahost_sandbox::bindings::psa::connector::types::PageRequest::first(10),
                )
                .await
                .map(drop)
            } else {
                conn.get_company(company).await.map(drop)
            }
        });
    }
    while let Some(result) = calls.join_next().await {
        result.unwrap().expect("every call succeeds");
    }
    // Not even a refused-then-retried request: the host held the fourth call back.
    let stats = &conn.capabilities().http.stats;
    let refused = stats.responses_by_class[4].load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        refused, 0,
        "{refused} requests were refused for the thread limit"
    );
    sim.shutdown().await;
}
