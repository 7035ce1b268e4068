//! Alert delivery and the billable sync with the real connectors against the simulator, in
//! each dialect where the behaviour is PSA-specific: routing (catch-all, mapping, ignored and
//! filtered accounts), overrides by alert type, respond rule and IOC rule, grouping into a
//! note, a disabled organisation, the same alert twice, a lost answer resolved by the marker,
//! a 429 storm and a restart in order, the wizard check (each missing default named), contact
//! by e-mail, and the billable sync once per period with the 31st in a short month.

use psa_sim::{Dialect, Simulator};
use psahost_conformance::simulated;
use psahost_sandbox::bindings::psa::connector::types::{Reference, ReferenceKind, TicketFilter};
use psahost_sandbox::capabilities::kv::KvStore;
use psahost_sandbox::connector::Connection;
use psahost_sandbox::runtime::{PluginSource, Runtime, RuntimeConfig};
use psahost_store::{Entity, RecordStore, SledStore};
use psahost_workflows::billing;
use psahost_workflows::delivery::settings::{
    AccountTarget, BillingSettings, DeliverySettings, IssueOverride, NoteDefaults, Organisation,
    Severity, TicketDefaults, check,
};
use psahost_workflows::delivery::{Alert, Delivery, State, list, marker};
use psahost_workflows::sync::{NoProgress, SyncEngine, SyncRequest, SyncSettings};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The alerts of these tests (a data file).
const ALERTS: &str = include_str!("../fixtures/alerts.jsonl");

fn alerts() -> Vec<Alert> {
    psahost_workflows::delivery::alerts::parse(ALERTS).expect("the fixture parses")
}

fn alert(id: &str) -> Alert {
    alerts()
        .into_iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("alert {id} in the fixture"))
}

async fn start(dialect: Dialect) -> Simulator {
    Simulator::start(simulated::sim_config(dialect, 40, 7))
        .await
        .expect("simulator")
}

/// The bundled connector of the simulator's dialect, connection `acme`, calls bounded by
/// `call_timeout`.
async fn connect(sim: &Simulator, call_timeout: Duration) -> Connection {
    let path = match sim.config().dialect {
        Dialect::ConnectWise => plugin_artifacts::CONNECTWISE_MANAGE_PATH,
        Dialect::Autotask => plugin_artifacts::AUTOTASK_PATH,
        Dialect::KaseyaBms => plugin_artifacts::KASEYA_BMS_PATH,
    };
    connect_path(sim, call_timeout, path).await
}

/// The connector at `path`, connection `acme` of `sim`, calls bounded by `call_timeout`.
async fn connect_path(sim: &Simulator, call_timeout: Duration, path: &str) -> Connection {
    let runtime = Arc::new(
        Runtime::new(RuntimeConfig {
            cache_dir: Some(psahost_testkit::cache_dir()),
            call_timeout,
            max_instances: 8,
            ..RuntimeConfig::default()
        })
        .expect("runtime"),
    );
    let plugin = Arc::new(
        runtime
            .load(PluginSource::File(path.into()))
            .await
            .expect("the connector loads"),
    );
    let kv = KvStore::temporary().expect("kv");
    simulated::connect(
        &runtime,
        &plugin,
        sim,
        "acme",
        simulated::settings_for(sim),
        &kv,
    )
    .expect("connection")
}

async fn sync_into(conn: &Connection, store: Arc<dyn RecordStore>) {
    let engine = SyncEngine::new(store, SyncSettings::default());
    for entity in [Entity::Companies, Entity::Contacts] {
        engine
            .sync_entity(conn, entity, SyncRequest::full(), &NoProgress)
            .await
            .expect("sync");
    }
}

/// Synced active companies that have a contact, by id.
async fn companies_with_contacts(store: &dyn RecordStore) -> Vec<String> {
    let companies = psahost_testkit::sync::stored_ids(store, "acme", Entity::Companies).await;
    let mut out = Vec::new();
    for id in companies {
        let c = store
            .get("acme", Entity::Companies, &id)
            .await
            .unwrap()
            .unwrap();
        if c.record.get("active") != Some(&Value::Bool(true)) {
            continue;
        }
        let contacts = psahost_workflows::delivery::settings::company_contacts(store, "acme", &id)
            .await
            .unwrap();
        if !contacts.is_empty() {
            out.push(id);
        }
    }
    out
}

fn closed_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["clos", "complete", "resolved", "cancel"]
        .iter()
        .any(|w| n.contains(w))
}

async fn refs(conn: &Connection, kind: ReferenceKind) -> Option<Vec<Reference>> {
    match conn.list_references(kind).await {
        Ok(r) => Some(r.into_iter().filter(|r| r.active).collect()),
        Err(_) => None,
    }
}

/// Settings an operator would pick in the dialect's picklists: catch-all `accounts[0]`,
/// `mapped` -> `accounts[1]`, `disabled` -> `accounts[2]` with tickets off, and overrides
/// (`ransomware` alert type, `isolate-host` respond rule, `bad-hash` IOC rule) on other ticket
/// types of the queue.
async fn settings(conn: &Connection, accounts: &[String]) -> DeliverySettings {
    let queues = refs(conn, ReferenceKind::Queue).await.unwrap();
    let queue = queues[0].id.clone();
    let of_queue = |r: &Reference| r.parent_id.as_deref().is_none_or(|p| p == queue);
    let statuses = refs(conn, ReferenceKind::TicketStatus).await.unwrap();
    let status = statuses
        .iter()
        .find(|s| of_queue(s) && !closed_name(&s.name))
        .expect("an open status")
        .id
        .clone();
    let types: Vec<Reference> = refs(conn, ReferenceKind::TicketType)
        .await
        .unwrap()
        .into_iter()
        .filter(of_queue)
        .collect();
    let ty = |i: usize| types[i.min(types.len() - 1)].id.clone();
    let subs = refs(conn, ReferenceKind::TicketSubType)
        .await
        .unwrap_or_default();
    let sub_of = |t: &str| {
        subs.iter()
            .find(|s| s.parent_id.as_deref().is_some_and(|p| p == t || p == queue))
            .map(|s| s.id.clone())
    };
    let priorities = refs(conn, ReferenceKind::TicketPriority).await.unwrap();
    let mut prio = BTreeMap::new();
    for (i, s) in Severity::ALL.into_iter().enumerate() {
        prio.insert(s, priorities[i.min(priorities.len() - 1)].id.clone());
    }
    let first = |r: Option<Vec<Reference>>| r.and_then(|r| r.first().map(|x| x.id.clone()));
    let org = |account: &str, tickets: bool| Organisation {
        target: AccountTarget {
            account: account.to_string(),
            contact: None,
        },
        tickets,
        contract: None,
        service: None,
    };
    let mut organisations = BTreeMap::new();
    organisations.insert("mapped".to_string(), org(&accounts[1], true));
    organisations.insert("disabled".to_string(), org(&accounts[2], false));
    let mut overrides = psahost_workflows::delivery::settings::Overrides::default();
    overrides.alert_types.insert(
        "ransomware".into(),
        IssueOverride {
            ticket_type: ty(1),
            sub_type: None,
        },
    );
    overrides.respond_rules.insert(
        "isolate-host".into(),
        IssueOverride {
            ticket_type: ty(2),
            sub_type: sub_of(&ty(2)),
        },
    );
    overrides.ioc_rules.insert(
        "bad-hash".into(),
        IssueOverride {
            ticket_type: ty(3),
            sub_type: None,
        },
    );
    DeliverySettings {
        catch_all: AccountTarget {
            account: accounts[0].clone(),
            contact: None,
        },
        organisations,
        filter: Default::default(),
        ignored: Default::default(),
        attach_contacts: true,
        ticket: TicketDefaults {
            category: first(refs(conn, ReferenceKind::TicketCategory).await),
            ticket_type: Some(ty(0)),
            status: Some(status),
            queue: Some(queue),
            source: first(refs(conn, ReferenceKind::TicketSource).await),
            subject: Some("MDR {severity}: {title}".into()),
            priorities: prio,
        },
        note: NoteDefaults {
            note_type: first(refs(conn, ReferenceKind::NoteType).await),
            internal: Some(true),
            title: Some("Alert {id}: {title}".into()),
        },
        overrides,
        billing: None,
    }
}

/// The tickets holding the alert's marker.
async fn marked(conn: &Connection, alert_id: &str) -> Vec<String> {
    conn.find_open_tickets(TicketFilter {
        company_id: None,
        summary: None,
        queue_id: None,
        limit: 10,
        marker: Some(marker(alert_id)),
    })
    .await
    .expect("find by marker")
    .into_iter()
    .map(|t| t.id)
    .collect()
}

async fn records(
    store: &dyn RecordStore,
) -> BTreeMap<String, psahost_workflows::delivery::DeliveryRecord> {
    list(store, "acme", None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.alert.id.clone(), r))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_overrides_grouping_and_exactly_once_in_each_dialect() {
    for dialect in simulated::DIALECTS {
        let sim = start(dialect).await;
        let conn = connect(&sim, Duration::from_secs(60)).await;
        let store: Arc<dyn RecordStore> = Arc::new(SledStore::temporary().unwrap());
        sync_into(&conn, store.clone()).await;
        let accounts = companies_with_contacts(store.as_ref()).await;
        assert!(accounts.len() >= 3, "{dialect:?}: companies with contacts");
        let settings = settings(&conn, &accounts).await;
        let problems = check(&settings, &conn, store.as_ref()).await.unwrap();
        assert_eq!(problems, [], "{dialect:?}: the settings are complete");

        let d = Delivery::new(store.as_ref(), &conn, &settings);
        let tickets_before = sim.state().count(psa_sim::Entity::Ticket);
        let all = alerts();
        let accepted = d.enqueue(&all).await.unwrap();
        assert!(accepted.iter().all(|a| !a.duplicate));
        // The same alerts again (a client's retry): nothing new is queued.
        let again = d.enqueue(&all).await.unwrap();
        assert!(again.iter().all(|a| a.duplicate), "{dialect:?}: {again:?}");
        let report = d.drain(0).await.unwrap();
        assert_eq!(
            report.failed,
            0,
            "{dialect:?}: {report:?} {:?}",
            records(store.as_ref()).await
        );
        assert_eq!(report.still_queued, 0, "{dialect:?}: {report:?}");

        let recs = records(store.as_ref()).await;
        let state = |id: &str| recs[id].state;
        let ticket = |id: &str| recs[id].ticket_id.clone().unwrap();
        // Catch-all for an unmapped organisation, the mapping for a mapped one.
        assert_eq!(recs["a-unmapped"].account, accounts[0]);
        assert_eq!(recs["a-mapped-1"].account, accounts[1]);
        assert_eq!(state("a-unmapped"), State::Delivered);
        // Same subject on the same account: a note on the first alert's ticket.
        assert_eq!(state("a-mapped-1"), State::Delivered);
        assert_eq!(state("a-mapped-2"), State::Grouped, "{dialect:?}");
        assert_eq!(ticket("a-mapped-2"), ticket("a-mapped-1"));
        assert!(recs["a-mapped-2"].note_id.is_some());
        // Ticket creation off for the organisation.
        assert_eq!(state("a-disabled"), State::Skipped);
        // One ticket per delivered alert, found by its marker.
        let delivered: Vec<&str> = recs
            .values()
            .filter(|r| r.state == State::Delivered)
            .map(|r| r.alert.id.as_str())
            .collect();
        assert_eq!(
            sim.state().count(psa_sim::Entity::Ticket) - tickets_before,
            delivered.len(),
            "{dialect:?}: one ticket per delivered alert"
        );
        for id in &delivered {
            assert_eq!(marked(&conn, id).await, [ticket(id)], "{dialect:?}: {id}");
        }
        // Overrides: respond rule, IOC rule, alert type; else the default type.
        let type_of = async |id: &str| {
            conn.get_ticket(ticket(id))
                .await
                .unwrap()
                .ticket_type
                .map(|t| t.id)
        };
        let o = &settings.overrides;
        assert_eq!(
            type_of("a-ransomware").await,
            Some(o.alert_types["ransomware"].ticket_type.clone()),
            "{dialect:?}"
        );
        assert_eq!(
            type_of("a-respond").await,
            Some(o.respond_rules["isolate-host"].ticket_type.clone()),
            "{dialect:?}"
        );
        assert_eq!(
            type_of("a-ioc").await,
            Some(o.ioc_rules["bad-hash"].ticket_type.clone()),
            "{dialect:?}"
        );
        assert_eq!(
            type_of("a-unmapped").await,
            settings.ticket.ticket_type.clone(),
            "{dialect:?}"
        );
        // A third drain finds nothing to do; the audit trail has every step.
        let idle = d.drain(0).await.unwrap();
        assert_eq!(idle.psa_calls, 0);
        let audit = store.audit("acme", 0, 1000).await.unwrap();
        assert!(
            audit
                .iter()
                .any(|(_, e)| e["event"] == "sent" && e["alert-id"] == "a-mapped-2"),
            "{dialect:?}: {audit:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_resolved_by_the_marker_in_each_dialect() {
    for dialect in simulated::DIALECTS {
        let sim = start(dialect).await;
        // Calls give up after 3 s; the simulator answers 6 s after applying the write.
        let conn = connect(&sim, Duration::from_secs(3)).await;
        let store: Arc<dyn RecordStore> = Arc::new(SledStore::temporary().unwrap());
        sync_into(&conn, store.clone()).await;
        let accounts = companies_with_contacts(store.as_ref()).await;
        let settings = settings(&conn, &accounts).await;
        let d = Delivery::new(store.as_ref(), &conn, &settings);
        let before = sim.state().count(psa_sim::Entity::Ticket);
        d.enqueue(&[alert("a-unmapped")]).await.unwrap();
        // A dry run makes the drain's grouping lookup: its requests go through, the create's
        // answer (after the simulator applied it) comes too late.
        let first = sim.faults().api_requests();
        let probe = d.dry_run(&[alert("a-unmapped")]).await.unwrap();
        assert_eq!(probe[0].action, "ticket");
        let lookup = sim.faults().api_requests() - first;
        sim.faults()
            .set_answer_delay_after(sim.faults().api_requests() + lookup, 6_000);
        let lost = d.drain(0).await.unwrap();
        sim.faults().clear();
        assert_eq!(lost.still_queued, 1, "{dialect:?}: {lost:?}");
        assert_eq!(
            records(store.as_ref()).await["a-unmapped"].state,
            State::Sending
        );
        let applied = sim.state().count(psa_sim::Entity::Ticket) - before;
        // The next drain asks for the marker before sending anything again.
        let again = d.drain(0).await.unwrap();
        assert_eq!(again.still_queued, 0, "{dialect:?}: {again:?}");
        assert_eq!(
            sim.state().count(psa_sim::Entity::Ticket) - before,
            1,
            "{dialect:?}: one ticket"
        );
        assert_eq!(
            applied, 1,
            "{dialect:?}: the create was applied, its answer lost"
        );
        assert_eq!(
            again.resolved, 1,
            "{dialect:?}: found by its marker, not sent again"
        );
        let rec = &records(store.as_ref()).await["a-unmapped"];
        assert_eq!(rec.state, State::Delivered);
        assert_eq!(
            marked(&conn, "a-unmapped").await,
            [rec.ticket_id.clone().unwrap()]
        );
    }
}

/// Delays the answer of the write after the lookup `d`'s dry run of `alert` makes (the write is
/// applied, its answer comes after the call's deadline), drains, and clears the fault.
async fn drain_losing_the_answer(sim: &Simulator, d: &Delivery<'_>, alert: &Alert) {
    let first = sim.faults().api_requests();
    d.dry_run(std::slice::from_ref(alert)).await.unwrap();
    let lookup = sim.faults().api_requests() - first;
    sim.faults()
        .set_answer_delay_after(sim.faults().api_requests() + lookup, 6_000);
    let lost = d.drain(0).await.unwrap();
    sim.faults().clear();
    assert_eq!(lost.still_queued, 1, "{lost:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_markers_a_lost_ticket_is_found_by_subject_and_company() {
    // The frozen ConnectWise connector of contract 0.1.0: no marker field, no
    // find-note-by-marker. Calls give up after 3 s; the lost answers come after 6 s.
    let sim = start(Dialect::ConnectWise).await;
    let conn = connect_path(
        &sim,
        Duration::from_secs(3),
        plugin_artifacts::CONNECTWISE_MANAGE_V0_1_0_PATH,
    )
    .await;
    let store: Arc<dyn RecordStore> = Arc::new(SledStore::temporary().unwrap());
    sync_into(&conn, store.clone()).await;
    let accounts = companies_with_contacts(store.as_ref()).await;
    let settings = settings(&conn, &accounts).await;
    let d = Delivery::new(store.as_ref(), &conn, &settings);
    let tickets = || sim.state().count(psa_sim::Entity::Ticket);
    let notes = || sim.state().count(psa_sim::Entity::Note);

    // A ticket whose answer was lost: found by its subject and company, not sent again.
    let before = tickets();
    d.enqueue(&[alert("a-unmapped")]).await.unwrap();
    drain_losing_the_answer(&sim, &d, &alert("a-unmapped")).await;
    assert_eq!(
        records(store.as_ref()).await["a-unmapped"].state,
        State::Sending
    );
    assert_eq!(tickets() - before, 1, "the create was applied");
    let again = d.drain(0).await.unwrap();
    assert_eq!((again.resolved, again.failed), (1, 0), "{again:?}");
    assert_eq!(tickets() - before, 1, "one ticket");
    let rec = &records(store.as_ref()).await["a-unmapped"];
    assert_eq!(rec.state, State::Delivered);
    let ticket = conn
        .get_ticket(rec.ticket_id.clone().unwrap())
        .await
        .unwrap();
    assert_eq!(ticket.summary, rec.subject.clone().unwrap());
    assert_eq!(ticket.company_id.as_deref(), Some(accounts[0].as_str()));

    // Grouping works without markers; a note whose answer was lost cannot be looked for:
    // it fails naming the ticket, and a retry adds it.
    d.enqueue(&[alert("a-mapped-1")]).await.unwrap();
    let first = d.drain(0).await.unwrap();
    assert_eq!(first.delivered, 1, "{first:?}");
    let before_notes = notes();
    d.enqueue(&[alert("a-mapped-2")]).await.unwrap();
    drain_losing_the_answer(&sim, &d, &alert("a-mapped-2")).await;
    assert_eq!(notes() - before_notes, 1, "the note was applied");
    let unknown = d.drain(0).await.unwrap();
    assert_eq!(unknown.failed, 1, "{unknown:?}");
    let rec = records(store.as_ref()).await["a-mapped-2"].clone();
    let mapped_ticket = records(store.as_ref()).await["a-mapped-1"]
        .ticket_id
        .clone()
        .unwrap();
    assert_eq!(rec.state, State::Failed);
    assert!(
        rec.reason.as_deref().unwrap().contains(&mapped_ticket),
        "{:?}",
        rec.reason
    );
    assert_eq!(notes() - before_notes, 1, "nothing sent again by itself");
    d.retry("a-mapped-2").await.unwrap();
    let retried = d.drain(0).await.unwrap();
    assert_eq!(retried.grouped, 1, "{retried:?}");
    assert_eq!(
        records(store.as_ref()).await["a-mapped-2"].ticket_id,
        Some(mapped_ticket)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_deliveries_survive_a_429_storm_and_a_restart_in_order() {
    let sim = start(Dialect::ConnectWise).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let alerts: Vec<Alert> = (1..=6)
        .map(|i| Alert {
            id: format!("storm-{i}"),
            organisation: if i % 2 == 0 {
                "mapped".into()
            } else {
                "elsewhere".into()
            },
            title: format!("Storm alert {i}"),
            ..alert("a-unmapped")
        })
        .collect();
    let settings;
    {
        let conn = connect(&sim, Duration::from_secs(60)).await;
        let store: Arc<dyn RecordStore> = Arc::new(SledStore::open(&path).unwrap());
        sync_into(&conn, store.clone()).await;
        let accounts = companies_with_contacts(store.as_ref()).await;
        settings = self::settings(&conn, &accounts).await;
        let d = Delivery::new(store.as_ref(), &conn, &settings);
        d.enqueue(&alerts).await.unwrap();
        // Every request answered 429 (Retry-After 1): nothing goes, everything stays queued.
        sim.faults().set_too_many_requests(1, 1);
        let storm = d.drain(0).await.unwrap();
        assert_eq!(storm.still_queued, 6, "{storm:?}");
        assert_eq!(storm.delivered + storm.failed, 0);
        assert_eq!(storm.blocked.len(), 2, "one line per account: {storm:?}");
        for r in records(store.as_ref()).await.values() {
            assert!(matches!(r.state, State::Queued | State::Sending), "{r:?}");
        }
        store.flush().await.unwrap();
    }
    sim.faults().clear();
    // A restart: a new connection and the store opened again.
    let conn = connect(&sim, Duration::from_secs(60)).await;
    let store: Arc<dyn RecordStore> = Arc::new(SledStore::open(&path).unwrap());
    let d = Delivery::new(store.as_ref(), &conn, &settings);
    let report = d.drain(0).await.unwrap();
    assert_eq!(
        (report.delivered, report.still_queued),
        (6, 0),
        "{report:?}"
    );
    let recs = records(store.as_ref()).await;
    // In order per account: ticket ids grow with the alerts' order.
    for account in [
        &settings.catch_all.account,
        &settings.organisations["mapped"].target.account,
    ] {
        let ids: Vec<u64> = (1..=6)
            .map(|i| &recs[&format!("storm-{i}")])
            .filter(|r| &r.account == account)
            .map(|r| r.ticket_id.as_deref().unwrap().parse().unwrap())
            .collect();
        assert_eq!(ids.len(), 3);
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    }
    for i in 1..=6 {
        assert_eq!(marked(&conn, &format!("storm-{i}")).await.len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_required_default_missing_is_named_in_each_dialect() {
    for dialect in simulated::DIALECTS {
        let sim = start(dialect).await;
        let conn = connect(&sim, Duration::from_secs(60)).await;
        let store: Arc<dyn RecordStore> = Arc::new(SledStore::temporary().unwrap());
        sync_into(&conn, store.clone()).await;
        let accounts = companies_with_contacts(store.as_ref()).await;
        let good = settings(&conn, &accounts).await;
        let fields = async |s: &DeliverySettings| -> Vec<String> {
            check(s, &conn, store.as_ref())
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.field)
                .collect()
        };
        type Edit = fn(&mut DeliverySettings);
        let mut cases: Vec<(&str, Edit)> = vec![
            ("ticket.queue", |s| s.ticket.queue = None),
            ("ticket.ticket-type", |s| s.ticket.ticket_type = None),
            ("ticket.status", |s| s.ticket.status = None),
            ("ticket.source", |s| s.ticket.source = None),
            ("ticket.subject", |s| s.ticket.subject = None),
            ("ticket.priorities.critical", |s| {
                s.ticket.priorities.remove(&Severity::Critical);
            }),
            ("ticket.priorities.high", |s| {
                s.ticket.priorities.remove(&Severity::High);
            }),
            ("ticket.priorities.medium", |s| {
                s.ticket.priorities.remove(&Severity::Medium);
            }),
            ("ticket.priorities.low", |s| {
                s.ticket.priorities.remove(&Severity::Low);
            }),
            ("note.visibility", |s| s.note.internal = None),
            ("note.title", |s| s.note.title = None),
        ];
        // Categories and note types only where the PSA has them.
        if good.ticket.category.is_some() {
            cases.push(("ticket.category", |s| s.ticket.category = None));
        }
        if good.note.note_type.is_some() {
            cases.push(("note.note-type", |s| s.note.note_type = None));
        }
        for (field, edit) in cases {
            let mut s = good.clone();
            edit(&mut s);
            assert_eq!(fields(&s).await, [field], "{dialect:?}");
        }
        // Where the PSA has no such picklist, setting it is the error.
        if good.ticket.category.is_none() {
            let mut s = good.clone();
            s.ticket.category = Some("1".into());
            assert_eq!(fields(&s).await, ["ticket.category"], "{dialect:?}");
        }
        // An unknown id lists the valid choices.
        let mut s = good.clone();
        s.ticket.queue = Some("999999".into());
        let problems = check(&s, &conn, store.as_ref()).await.unwrap();
        let queue = problems.iter().find(|p| p.field == "ticket.queue").unwrap();
        assert!(queue.message.contains("valid choices"), "{queue:?}");
        assert!(
            queue
                .message
                .contains(good.ticket.queue.as_deref().unwrap())
        );
        // An ignored account, and one the filter leaves out, cannot be mapped.
        let mut s = good.clone();
        s.ignored.insert(accounts[1].clone());
        assert_eq!(
            fields(&s).await,
            ["organisations.mapped.account"],
            "{dialect:?}"
        );
        let mut s = good.clone();
        s.filter.types = vec!["no such type".into()];
        let f = fields(&s).await;
        assert!(
            f.contains(&"organisations.mapped.account".to_string()),
            "{f:?}"
        );
        assert!(
            !f.contains(&"catch-all.account".to_string()),
            "the catch-all is not filtered"
        );
        // An ignored account's alerts go to the catch-all.
        let mut s = good.clone();
        s.ignored.insert(accounts[1].clone());
        let d = Delivery::new(store.as_ref(), &conn, &s);
        assert_eq!(d.route("mapped").0.account, accounts[0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_by_email_then_the_default_then_the_check_error() {
    let sim = start(Dialect::ConnectWise).await;
    let conn = connect(&sim, Duration::from_secs(60)).await;
    let store: Arc<dyn RecordStore> = Arc::new(SledStore::temporary().unwrap());
    sync_into(&conn, store.clone()).await;
    let accounts = companies_with_contacts(store.as_ref()).await;
    // An account with two contacts or more: one found by e-mail, another by default.
    let mut chosen = None;
    for a in &accounts {
        let contacts =
            psahost_workflows::delivery::settings::company_contacts(store.as_ref(), "acme", a)
                .await
                .unwrap();
        let with_email: Vec<&Value> = contacts
            .iter()
            .filter(|c| c["emails"].as_array().is_some_and(|e| !e.is_empty()))
            .collect();
        if contacts.len() >= 2 && !with_email.is_empty() {
            chosen = Some((
                a.clone(),
                contacts.clone(),
                with_email[with_email.len() - 1].clone(),
            ));
            break;
        }
    }
    let (account, contacts, by_email) = chosen.expect("a company with two contacts");
    let mut s = settings(&conn, &accounts).await;
    s.catch_all.account = account.clone();
    let d = Delivery::new(store.as_ref(), &conn, &s);
    let email = by_email["emails"][0].as_str().unwrap().to_ascii_uppercase();
    let found = Alert {
        id: "c-email".into(),
        email: Some(format!("Someone <{email}>")),
        title: "Contact by e-mail".into(),
        ..alert("a-unmapped")
    };
    let unknown = Alert {
        id: "c-default".into(),
        email: Some("nobody@unknown.example".into()),
        title: "Contact by default".into(),
        ..alert("a-unmapped")
    };
    let preview = d.dry_run(&[found, unknown]).await.unwrap();
    assert_eq!(preview[0].record["contact-id"], by_email["id"]);
    let default = psahost_workflows::delivery::settings::default_contact(
        store.as_ref(),
        "acme",
        &s.catch_all,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        preview[1].record["contact-id"],
        Value::String(default.clone())
    );
    assert!(
        contacts
            .iter()
            .any(|c| c["id"] == Value::String(default.clone()))
    );
    // A company without contacts, with attach-contacts on: the check names the field.
    let all = psahost_testkit::sync::stored_ids(store.as_ref(), "acme", Entity::Companies).await;
    let mut lonely = None;
    for id in all {
        if psahost_workflows::delivery::settings::company_contacts(store.as_ref(), "acme", &id)
            .await
            .unwrap()
            .is_empty()
        {
            lonely = Some(id);
            break;
        }
    }
    let lonely = lonely.expect("a company without contacts");
    s.catch_all.account = lonely.clone();
    let problems = check(&s, &conn, store.as_ref()).await.unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.field == "catch-all.contact" && p.message.contains(&lonely)),
        "{problems:?}"
    );
    // Attach-contacts off: no contact needed, none attached.
    s.attach_contacts = false;
    assert!(
        check(&s, &conn, store.as_ref())
            .await
            .unwrap()
            .iter()
            .all(|p| p.field != "catch-all.contact")
    );
}

/// An agreement of the simulator with a line (addition), its company and the line's product.
fn agreement_with_line(sim: &Simulator) -> (String, String, String, String) {
    sim.state().read(|data| {
        let line = data
            .agreement_lines
            .values()
            .next()
            .expect("an agreement line");
        let agreement = &data.agreements[&line.agreement_id];
        (
            agreement.company_id.to_string(),
            agreement.id.to_string(),
            line.id.to_string(),
            line.product_id.to_string(),
        )
    })
}

fn quantity(sim: &Simulator, line: &str) -> String {
    let id = line.parse().unwrap();
    sim.state()
        .read(|data| data.agreement_lines[&id].quantity.to_string())
}

fn day(text: &str) -> time::Date {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billable_sync_once_per_period_across_a_restart_and_the_31st_in_february() {
    let sim = start(Dialect::ConnectWise).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let (company, agreement, line, product) = agreement_with_line(&sim);
    let mut s;
    {
        let conn = connect(&sim, Duration::from_secs(60)).await;
        let store: Arc<dyn RecordStore> = Arc::new(SledStore::open(&path).unwrap());
        sync_into(&conn, store.clone()).await;
        let accounts = companies_with_contacts(store.as_ref()).await;
        s = settings(&conn, &accounts).await;
        s.billing = Some(BillingSettings {
            service: product.clone(),
            day: 31,
        });
        s.organisations.insert(
            "billed".into(),
            Organisation {
                target: AccountTarget {
                    account: company.clone(),
                    contact: None,
                },
                tickets: true,
                contract: Some(agreement.clone()),
                service: None,
            },
        );
        let counts = BTreeMap::from([("billed".to_string(), 17u64)]);
        // February 27th: not yet (the 31st falls on the 28th in 2026).
        let early =
            billing::sync_billable(store.as_ref(), &conn, &s, &counts, day("2026-02-27"), false)
                .await
                .unwrap();
        assert_eq!(early[0].action, "not-due");
        let due =
            billing::sync_billable(store.as_ref(), &conn, &s, &counts, day("2026-02-28"), false)
                .await
                .unwrap();
        assert_eq!(due[0].action, "written", "{due:?}");
        assert_eq!(quantity(&sim, &line), "17");
    }
    // A restart, then the same period again: nothing is written; a changed count waits.
    let conn = connect(&sim, Duration::from_secs(60)).await;
    let store: Arc<dyn RecordStore> = Arc::new(SledStore::open(&path).unwrap());
    let requests = sim.faults().api_requests();
    let again = billing::sync_billable(
        store.as_ref(),
        &conn,
        &s,
        &BTreeMap::from([("billed".to_string(), 17u64)]),
        day("2026-02-28"),
        false,
    )
    .await
    .unwrap();
    assert_eq!(again[0].action, "already-written");
    assert_eq!(sim.faults().api_requests(), requests, "no PSA call");
    let changed = BTreeMap::from([("billed".to_string(), 20u64)]);
    let wait = billing::sync_billable(
        store.as_ref(),
        &conn,
        &s,
        &changed,
        day("2026-02-28"),
        false,
    )
    .await
    .unwrap();
    assert_eq!(wait[0].action, "pending-next-period");
    assert_eq!(quantity(&sim, &line), "17");
    // Forced, it is written now; the next period writes it anyway.
    let forced =
        billing::sync_billable(store.as_ref(), &conn, &s, &changed, day("2026-02-28"), true)
            .await
            .unwrap();
    assert_eq!(forced[0].action, "written");
    assert_eq!(quantity(&sim, &line), "20");
    let march = billing::sync_billable(
        store.as_ref(),
        &conn,
        &s,
        &BTreeMap::from([("billed".to_string(), 21u64)]),
        day("2026-03-31"),
        false,
    )
    .await
    .unwrap();
    assert_eq!(march[0].action, "written");
    assert_eq!(quantity(&sim, &line), "21");
    let audit = store.audit("acme", 0, 100).await.unwrap();
    let written: Vec<u64> = audit
        .iter()
        .filter(|(_, e)| e["workflow"] == "billing")
        .map(|(_, e)| e["count"].as_u64().unwrap())
        .collect();
    assert_eq!(written, [17, 20, 21], "every quantity change is audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_and_billing_on_postgres_once_each() {
    // Two stores on one PostgreSQL schema, as two replicas share it.
    let factory = psahost_pgtest::PgFactory::new();
    let pg: Arc<dyn RecordStore> = Arc::new(
        psahost_pgtest::open(&factory.schema)
            .await
            .expect("PgStore opens"),
    );
    let other: Arc<dyn RecordStore> = Arc::new(
        psahost_pgtest::open(&factory.schema)
            .await
            .expect("PgStore opens"),
    );
    let sim = start(Dialect::ConnectWise).await;
    // Calls give up after 3 s; a lost answer comes after 6 s.
    let conn = connect(&sim, Duration::from_secs(3)).await;
    sync_into(&conn, pg.clone()).await;
    let accounts = companies_with_contacts(pg.as_ref()).await;
    let mut s = settings(&conn, &accounts).await;
    let (company, agreement, line, product) = agreement_with_line(&sim);
    s.billing = Some(BillingSettings {
        service: product,
        day: 31,
    });
    s.organisations.insert(
        "billed".into(),
        Organisation {
            target: AccountTarget {
                account: company,
                contact: None,
            },
            tickets: true,
            contract: Some(agreement),
            service: None,
        },
    );
    assert_eq!(check(&s, &conn, pg.as_ref()).await.unwrap(), []);

    // Enqueued, drained; the same alerts again (through the other store): nothing new.
    let tickets = || sim.state().count(psa_sim::Entity::Ticket);
    let before = tickets();
    let d = Delivery::new(pg.as_ref(), &conn, &s);
    let all = alerts();
    d.enqueue(&all).await.unwrap();
    let report = d.drain(0).await.unwrap();
    assert_eq!((report.failed, report.still_queued), (0, 0), "{report:?}");
    let created = tickets() - before;
    let recs = records(pg.as_ref()).await;
    assert_eq!(recs["a-mapped-2"].state, State::Grouped);
    let d2 = Delivery::new(other.as_ref(), &conn, &s);
    assert!(d2.enqueue(&all).await.unwrap().iter().all(|a| a.duplicate));
    assert_eq!(d2.drain(0).await.unwrap().psa_calls, 0);
    assert_eq!(
        tickets() - before,
        created,
        "the same alerts twice: no new ticket"
    );

    // A lost answer: the next drain finds the ticket by its marker, one ticket.
    let lost = Alert {
        id: "pg-lost".into(),
        title: "Lost on PostgreSQL".into(),
        ..alert("a-unmapped")
    };
    let before = tickets();
    d.enqueue(std::slice::from_ref(&lost)).await.unwrap();
    drain_losing_the_answer(&sim, &d, &lost).await;
    let again = d2.drain(0).await.unwrap();
    assert_eq!((again.resolved, again.failed), (1, 0), "{again:?}");
    assert_eq!(tickets() - before, 1, "one ticket");

    // Billing: counts kept, written once per period on its day, by either store.
    let counts = BTreeMap::from([("billed".to_string(), 33u64)]);
    let early = billing::sync_billable(pg.as_ref(), &conn, &s, &counts, day("2026-02-27"), false)
        .await
        .unwrap();
    assert_eq!(early[0].action, "not-due");
    assert_eq!(
        billing::kept_counts(other.as_ref(), "acme").await.unwrap(),
        counts
    );
    let due = billing::sync_kept(other.as_ref(), &conn, &s, day("2026-02-28"))
        .await
        .unwrap();
    assert_eq!(due[0].action, "written", "{due:?}");
    assert_eq!(quantity(&sim, &line), "33");
    let requests = sim.faults().api_requests();
    assert_eq!(
        billing::sync_kept(pg.as_ref(), &conn, &s, day("2026-02-28"))
            .await
            .unwrap(),
        [],
        "the period is written"
    );
    let twice = billing::sync_billable(pg.as_ref(), &conn, &s, &counts, day("2026-02-28"), false)
        .await
        .unwrap();
    assert_eq!(twice[0].action, "already-written");
    assert_eq!(sim.faults().api_requests(), requests, "no PSA call");

    // Settings set through the API are seen through the other store.
    let doc = serde_json::json!({"catch-all": {"account": "1"}});
    let stored =
        psahost_workflows::delivery::settings::store_settings(pg.as_ref(), "acme", Some(doc))
            .await
            .unwrap();
    let seen = psahost_workflows::delivery::settings::stored(other.as_ref(), "acme")
        .await
        .unwrap();
    assert_eq!(seen, Some(stored));
}
