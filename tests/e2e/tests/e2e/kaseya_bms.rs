//! The Kaseya BMS connector (real wasm) against the simulator's BMS dialect over loopback.

use psa_sim::{Entity, SimConfig, Simulator};
use psahost_conformance::simulated::TicketDefaults;
use psahost_e2e::*;
use psahost_sandbox::bindings::psa::connector::types::{NewNote, NewTicket, ReferenceKind};
use psahost_sandbox::capabilities::kv::KvStore;
use std::collections::BTreeSet;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn pages_through_every_account_and_reads_only_changes() {
    let sim = Simulator::start(SimConfig::kaseya_bms(1300, 6))
        .await
        .unwrap();
    let rt = runtime(64 << 20, Duration::from_secs(30));
    let plugin = load(&rt, KASEYA_BMS_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let conn = simulated_connection(&rt, &plugin, &sim, "bms", &[], &kv);

    let expected = live_company_ids(&sim);
    let (ids, pages) = company_ids(&conn, 1000, None).await;
    assert!(
        pages > 10,
        "BMS pages hold at most 100 records: {pages} pages"
    );
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "no account twice");
    assert_eq!(unique, expected);

    let touched = touch_companies(&sim, expected.iter().step_by(500));
    let (changed, _) = company_ids(&conn, 100, Some(&data_end())).await;
    assert_eq!(changed.into_iter().collect::<BTreeSet<_>>(), touched);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_are_held_by_the_simulator_across_a_token_expiry() {
    let sim = Simulator::start(SimConfig::kaseya_bms(20, 3))
        .await
        .unwrap();
    let rt = runtime(64 << 20, Duration::from_secs(30));
    let plugin = load(&rt, KASEYA_BMS_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let conn = simulated_connection(&rt, &plugin, &sim, "bms", &[], &kv);
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
    // The token kept in kv expires server-side: the connector signs in again, once.
    sim.state().expire_bms_tokens();
    let company = live_company_ids(&sim).into_iter().next().unwrap();
    let ticket = conn
        .create_ticket(NewTicket {
            queue_id: defaults.queue.clone(),
            status_id: defaults.status.clone(),
            priority_id: defaults.priority.clone(),
            ..NewTicket::new(company.clone(), "Firewall offline at branch office")
        })
        .await
        .expect("create-ticket after the token expired");
    let note = conn
        .add_ticket_note(NewNote::new(
            ticket.id.clone(),
            "ISP confirms an outage.",
            false,
        ))
        .await
        .expect("add-ticket-note");
    let stored = sim
        .state()
        .get(Entity::Ticket, ticket.id.parse().unwrap())
        .expect("ticket held");
    assert_eq!(stored["title"], "Firewall offline at branch office");
    assert_eq!(stored["accountId"].to_string(), company);
    let stored = sim
        .state()
        .get(Entity::Note, note.id.parse().unwrap())
        .expect("note held");
    assert_eq!(stored["details"], "ISP confirms an outage.");
    assert_eq!(stored["isInternal"], false);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_credential_error_names_its_setting() {
    let sim = Simulator::start(SimConfig::kaseya_bms(5, 1)).await.unwrap();
    let rt = runtime(64 << 20, Duration::from_secs(30));
    let plugin = load(&rt, KASEYA_BMS_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let k = sim.config().kaseya_bms.clone();
    for (setting, wrong) in [
        ("username", "nobody".to_string()),
        ("password", format!("{}x", k.password)),
        ("tenant", "Some Other MSP".to_string()),
    ] {
        let conn = simulated_connection(
            &rt,
            &plugin,
            &sim,
            &format!("bms-{setting}"),
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
        if setting == "password" {
            assert!(!problem.message.contains(&wrong), "{}", problem.message);
        }
    }
    sim.shutdown().await;
}
