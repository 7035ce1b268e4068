//! The ConnectWise Manage connector (real wasm) against the simulator over loopback.

use psa_sim::{Entity, SimConfig, Simulator};
use psahost_e2e::*;
use psahost_sandbox::bindings::psa::connector::types::{
    Error as PsaError, NewNote, NewTicket, PageRequest, ReferenceKind,
};
use psahost_sandbox::capabilities::kv::KvStore;
use psahost_sandbox::connector::ConnectorError;
use std::collections::BTreeSet;
use std::time::Duration;

/// The simulator's read-write demo key pair.
fn demo_keys(sim: &Simulator) -> (&str, &str) {
    let c = &sim.config().credentials;
    (&c.public_key, &c.private_key)
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_through_every_company_and_reads_only_changes() {
    let sim = Simulator::start(SimConfig::connectwise(2700, 7))
        .await
        .unwrap();
    let rt = runtime(64 << 20, Duration::from_secs(30));
    let plugin = load(&rt, CONNECTWISE_MANAGE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let conn = connectwise(&rt, &plugin, &sim, "cw", demo_keys(&sim), &kv);

    let (ids, pages) = company_ids(&conn, 1000, None).await;
    let expected = live_company_ids(&sim);
    assert!(
        expected.len() >= 2500,
        "the data set has {} live companies",
        expected.len()
    );
    assert_eq!(pages, expected.len().div_ceil(1000));
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "no company twice");
    assert_eq!(unique, expected, "every live company, and only those");

    // Edit three companies in the "PSA": an updated-since read returns exactly them.
    let touched = touch_companies(&sim, expected.iter().step_by(700).take(3));
    let (changed, _) = company_ids(&conn, 1000, Some(&data_end())).await;
    assert_eq!(changed.into_iter().collect::<BTreeSet<_>>(), touched);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn creates_a_ticket_and_a_note_that_the_simulator_holds() {
    let sim = Simulator::start(SimConfig::connectwise(30, 2))
        .await
        .unwrap();
    let rt = runtime(64 << 20, Duration::from_secs(30));
    let plugin = load(&rt, CONNECTWISE_MANAGE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let conn = connectwise(&rt, &plugin, &sim, "cw", demo_keys(&sim), &kv);

    let board = conn
        .list_references(ReferenceKind::Queue)
        .await
        .unwrap()
        .remove(0);
    let company = sim
        .state()
        .read(|d| d.companies.values().find(|c| !c.deleted).unwrap().id);
    let ticket = conn
        .create_ticket(NewTicket {
            description: Some("Nightly job exited with code 3".into()),
            queue_id: Some(board.id.clone()),
            ..NewTicket::new(company.to_string(), "Backup failed on \"FS01\"")
        })
        .await
        .expect("create-ticket");
    let note = conn
        .add_ticket_note(NewNote::new(
            ticket.id.clone(),
            "Re-ran the job; it succeeded.",
            true,
        ))
        .await
        .expect("add-ticket-note");

    let stored = sim
        .state()
        .get(Entity::Ticket, ticket.id.parse().unwrap())
        .expect("ticket held");
    assert_eq!(stored["summary"], "Backup failed on \"FS01\"");
    assert_eq!(stored["company"]["id"], company);
    assert_eq!(stored["board"]["id"].to_string(), board.id);
    let stored = sim
        .state()
        .get(Entity::Note, note.id.parse().unwrap())
        .expect("note held");
    assert_eq!(stored["ticketId"].to_string(), ticket.id);
    assert_eq!(stored["text"], "Re-ran the job; it succeeded.");
    assert_eq!(stored["internalAnalysisFlag"], true);

    // The grouping query of alert delivery finds the open ticket by its exact summary.
    let open = conn
        .find_open_tickets(
            psahost_sandbox::bindings::psa::connector::types::TicketFilter {
                company_id: Some(company.to_string()),
                summary: Some("Backup failed on \"FS01\"".into()),
                queue_id: None,
                limit: 5,
                marker: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        open.iter().map(|t| t.id.clone()).collect::<Vec<_>>(),
        vec![ticket.id.clone()]
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_private_key_is_unauthorized_naming_the_credential() {
    let sim = Simulator::start(SimConfig::connectwise(5, 1))
        .await
        .unwrap();
    let rt = runtime(64 << 20, Duration::from_secs(30));
    let plugin = load(&rt, CONNECTWISE_MANAGE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let conn = connectwise(
        &rt,
        &plugin,
        &sim,
        "cw",
        (
            &sim.config().credentials.public_key.clone(),
            "not-the-private-key",
        ),
        &kv,
    );
    match conn.test_connection().await {
        Err(ConnectorError::Psa(PsaError::Unauthorized(p))) => {
            assert_eq!(p.settings.first().map(String::as_str), Some("private-key"));
            assert!(!p.message.contains("not-the-private-key"), "{}", p.message);
        }
        other => panic!("expected unauthorized, got {other:?}"),
    }
    let err = conn.list_companies(PageRequest::first(10));
    let shown = err.await.unwrap_err().to_string();
    assert!(shown.contains("`private-key`, `public-key`"), "{shown}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn survives_codebase_drift_rate_limits_and_reports_outages() {
    let sim = Simulator::start(SimConfig::connectwise(40, 4))
        .await
        .unwrap();
    let rt = runtime(64 << 20, Duration::from_secs(30));
    let plugin = load(&rt, CONNECTWISE_MANAGE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let conn = connectwise(&rt, &plugin, &sim, "cw", demo_keys(&sim), &kv);
    let expected = live_company_ids(&sim);
    conn.test_connection()
        .await
        .expect("discovers and caches the codebase");

    // An upgrade moves the codebase: the cached one answers 404, the connector re-discovers.
    sim.state().set_codebase("v2026_2/");
    let (ids, _) = company_ids(&conn, 1000, None).await;
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), expected);

    // Every 2nd request is throttled with Retry-After: 1 s; the host retries the GETs.
    sim.faults().set_too_many_requests(2, 1);
    let (ids, pages) = company_ids(&conn, 10, None).await;
    assert!(pages >= 3);
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), expected);
    assert!(
        conn.capabilities()
            .http
            .stats
            .retries
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
    sim.faults().clear();

    // A persistent outage is reported as unavailable, not as an empty result.
    sim.faults().set_server_errors(1, 503);
    let err = conn
        .list_companies(PageRequest::first(10))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::Psa(PsaError::Unavailable(_))),
        "{err:?}"
    );
    sim.faults().clear();

    // The read-only key pair may read but not write.
    let c = sim.config().credentials.clone();
    let readonly = connectwise(
        &rt,
        &plugin,
        &sim,
        "cw-readonly",
        (&c.readonly_public_key, &c.readonly_private_key),
        &kv,
    );
    readonly.test_connection().await.expect("reads are allowed");
    let company = expected.iter().next().unwrap().clone();
    let err = readonly
        .add_ticket_note(NewNote::new(
            sim.state().ids(Entity::Ticket)[0].to_string(),
            "x",
            false,
        ))
        .await
        .unwrap_err();
    match err {
        ConnectorError::Psa(PsaError::Forbidden(p)) => {
            assert!(p.message.contains("Service Tickets"), "{}", p.message)
        }
        other => panic!("expected forbidden for {company}, got {other:?}"),
    }
    sim.shutdown().await;
}

/// The host never patches a configuration whose type ConnectWise keeps for its integrations
/// (Managed Server, ...): it reads the item, sees the type the connector names read-only, and
/// refuses without sending the change; other items are changed as asked.
#[tokio::test(flavor = "multi_thread")]
async fn never_patches_a_read_only_configuration_type() {
    use psahost_sandbox::bindings::psa::connector::types::ConfigurationChanges;
    let sim = Simulator::start(SimConfig::connectwise(50, 1))
        .await
        .unwrap();
    let rt = runtime(64 << 20, Duration::from_secs(30));
    let plugin = load(&rt, CONNECTWISE_MANAGE_PATH).await;
    assert!(
        plugin
            .connector_info()
            .unwrap()
            .read_only_configuration_types
            .iter()
            .any(|t| t == "Managed Server")
    );
    let kv = KvStore::temporary().unwrap();
    let conn = connectwise(&rt, &plugin, &sim, "cw", demo_keys(&sim), &kv);
    let (locked, open) = sim.state().read(|d| {
        let of = |updatable: bool| {
            d.configurations
                .values()
                .find(|c| {
                    d.picklists
                        .configuration_type(c.type_id)
                        .is_some_and(|t| t.api_updatable == updatable)
                })
                .map(|c| c.id.to_string())
                .expect("the data set has both kinds")
        };
        (of(false), of(true))
    });
    let notes = |text: &str| ConfigurationChanges {
        notes: Some(text.into()),
        ..ConfigurationChanges::none()
    };
    let before = sim.faults().api_requests();
    match conn.update_configuration(locked.clone(), notes("x")).await {
        Err(ConnectorError::Psa(PsaError::InvalidInput(p))) => {
            assert_eq!(p.field, "configuration-type");
            assert!(
                p.message.contains("psahost never changes it"),
                "{}",
                p.message
            );
        }
        other => panic!("expected invalid-input, got {other:?}"),
    }
    assert_eq!(
        sim.faults().api_requests() - before,
        1,
        "only the read: no change was sent"
    );
    let changed = conn
        .update_configuration(open.clone(), notes("checked by psahost"))
        .await
        .expect("an ordinary configuration is changed");
    assert_eq!(changed.notes.as_deref(), Some("checked by psahost"));
    sim.shutdown().await;
}
