//! The sync engine end to end: the real ConnectWise connector (wasm) against the PSA simulator
//! over loopback, into a sled record store. No mocks.

use psahost_store::Entity;
use psahost_store::{ChangeKind, RecordStore, RunStatus, SledStore, SyncMode};
use psahost_testkit::sync::*;
use psahost_workflows::sync::{
    NoProgress, Progress, ProgressSink, SyncEngine, SyncRequest, SyncSettings,
};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;

fn settings(page_size: u32) -> SyncSettings {
    SyncSettings {
        page_size: Some(page_size),
        retry_backoff: Duration::from_millis(10),
        ..SyncSettings::default()
    }
}

fn engine(page_size: u32) -> (Arc<SyncEngine>, Arc<dyn RecordStore>) {
    let store: Arc<dyn RecordStore> = Arc::new(SledStore::temporary().unwrap());
    (
        Arc::new(SyncEngine::new(store.clone(), settings(page_size))),
        store,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_sync_picks_up_exactly_the_simulators_changes() {
    let sim = simulator(50, None).await;
    let conn = connect(&sim, "acme").await;
    let (engine, store) = engine(10);
    let expected = sim_ids(&sim, Entity::Contacts);
    assert!(expected.len() > 50, "enough contacts for several pages");

    // The first run has no high-water mark: it is a full sweep that creates everything.
    let first = engine
        .sync_entity(
            &conn,
            Entity::Contacts,
            SyncRequest::incremental(),
            &NoProgress,
        )
        .await
        .unwrap();
    assert_eq!(first.status, RunStatus::Completed, "{first:?}");
    assert_eq!(first.mode, SyncMode::Full);
    assert_eq!(first.created as usize, expected.len());
    assert!(first.pages >= 3, "{first:?}");
    assert_eq!(
        numeric_sorted(stored_ids(store.as_ref(), "acme", Entity::Contacts).await),
        expected
    );
    let seq0 = last_seq(store.as_ref(), "acme").await;
    assert_eq!(
        seq0 as usize,
        expected.len(),
        "one created event per record"
    );

    // Nothing changed in the PSA: an incremental run produces no event.
    let idle = engine
        .sync_entity(
            &conn,
            Entity::Contacts,
            SyncRequest::incremental(),
            &NoProgress,
        )
        .await
        .unwrap();
    assert_eq!(idle.mode, SyncMode::Incremental);
    assert_eq!(
        (idle.created, idle.updated, idle.deleted),
        (0, 0, 0),
        "{idle:?}"
    );
    assert_eq!(last_seq(store.as_ref(), "acme").await, seq0);

    // Touch 5 contacts in the PSA.
    let step = expected.len() / 5;
    let touched: BTreeSet<String> = expected.iter().step_by(step).take(5).cloned().collect();
    assert_eq!(touched.len(), 5);
    for id in &touched {
        assert!(
            sim.state()
                .touch(psa_sim::Entity::Contact, id.parse().unwrap())
        );
    }
    let before = sim.faults().api_requests();
    let run = engine
        .sync_entity(
            &conn,
            Entity::Contacts,
            SyncRequest::incremental(),
            &NoProgress,
        )
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    assert_eq!(run.mode, SyncMode::Incremental);
    assert_eq!(
        (run.created, run.updated, run.deleted),
        (0, 5, 0),
        "{run:?}"
    );
    // An incremental run reads only what changed (one page here), not the whole entity.
    assert_eq!(run.pages, 1, "{run:?}");
    assert_eq!(sim.faults().api_requests() - before, 1);

    let changes = changes_after(store.as_ref(), "acme", seq0).await;
    assert_eq!(changes.len(), 5, "{changes:?}");
    assert!(changes.iter().all(|c| c.kind == ChangeKind::Updated));
    assert!(changes.iter().all(|c| c.entity == Entity::Contacts));
    let changed: BTreeSet<String> = changes.iter().map(|c| c.id.clone()).collect();
    assert_eq!(changed, touched);
    // Sequence numbers continue without gaps.
    let seqs: Vec<u64> = changes.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (seq0 + 1..=seq0 + 5).collect::<Vec<_>>());

    // The touched records are inside the overlap window of the next run: read again, unchanged,
    // no event.
    let again = engine
        .sync_entity(
            &conn,
            Entity::Contacts,
            SyncRequest::incremental(),
            &NoProgress,
        )
        .await
        .unwrap();
    assert_eq!((again.updated, again.unchanged), (0, 5), "{again:?}");
    assert_eq!(last_seq(store.as_ref(), "acme").await, seq0 + 5);

    // The stored record carries the PSA's new time.
    let id = touched.iter().next().unwrap();
    let stored = store
        .get("acme", Entity::Contacts, id)
        .await
        .unwrap()
        .unwrap();
    let sim_record = sim
        .state()
        .get(psa_sim::Entity::Contact, id.parse().unwrap())
        .unwrap();
    assert_eq!(
        stored.record["raw"]["_info"]["lastUpdated"],
        sim_record["_info"]["lastUpdated"]
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_sweep_deletes_and_the_mass_delete_guard_holds() {
    let sim = simulator(40, None).await;
    let conn = connect(&sim, "acme").await;
    let (engine, store) = engine(20);
    let all = sim_ids(&sim, Entity::Contacts);
    let n = all.len();
    assert!(n >= 40, "{n} contacts");
    let full = engine
        .sync_entity(&conn, Entity::Contacts, SyncRequest::full(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        (full.status, full.created as usize),
        (RunStatus::Completed, n)
    );

    // Two contacts disappear from the PSA (well under 10%).
    let gone = [all[3].clone(), all[n - 2].clone()];
    for id in &gone {
        assert!(
            sim.state()
                .delete(psa_sim::Entity::Contact, id.parse().unwrap())
        );
    }
    // Only a complete sweep may delete: an incremental run does not.
    let inc = engine
        .sync_entity(
            &conn,
            Entity::Contacts,
            SyncRequest::incremental(),
            &NoProgress,
        )
        .await
        .unwrap();
    assert_eq!(inc.deleted, 0);
    assert_eq!(
        store.count("acme", Entity::Contacts).await.unwrap() as usize,
        n
    );

    let seq = last_seq(store.as_ref(), "acme").await;
    let sweep = engine
        .sync_entity(&conn, Entity::Contacts, SyncRequest::full(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(sweep.status, RunStatus::Completed, "{sweep:?}");
    assert_eq!(
        (
            sweep.created,
            sweep.updated,
            sweep.unchanged as usize,
            sweep.deleted
        ),
        (0, 0, n - 2, 2)
    );
    let changes = changes_after(store.as_ref(), "acme", seq).await;
    let deleted: Vec<(&str, ChangeKind)> =
        changes.iter().map(|c| (c.id.as_str(), c.kind)).collect();
    assert_eq!(
        deleted,
        vec![
            (gone[0].as_str(), ChangeKind::Deleted),
            (gone[1].as_str(), ChangeKind::Deleted)
        ]
    );
    for id in &gone {
        assert!(
            store
                .get("acme", Entity::Contacts, id)
                .await
                .unwrap()
                .is_none()
        );
    }
    let state = store.sync_state("acme", Entity::Contacts).await.unwrap();
    assert!(state.last_full_sweep.is_some() && state.in_progress.is_none());

    // A third of the rest disappears: the sweep holds its deletions.
    let remaining = sim_ids(&sim, Entity::Contacts);
    let stored_before = remaining.len();
    let lost: Vec<String> = remaining.iter().step_by(3).cloned().collect();
    for id in &lost {
        assert!(
            sim.state()
                .delete(psa_sim::Entity::Contact, id.parse().unwrap())
        );
    }
    let seq = last_seq(store.as_ref(), "acme").await;
    let held = engine
        .sync_entity(&conn, Entity::Contacts, SyncRequest::full(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(held.status, RunStatus::Held, "{held:?}");
    assert_eq!(held.deleted, 0);
    let h = held.held.as_ref().unwrap();
    assert_eq!(
        (h.would_delete as usize, h.stored as usize),
        (lost.len(), stored_before)
    );
    assert_eq!(h.sample[0], lost[0]);
    assert!(
        changes_after(store.as_ref(), "acme", seq).await.is_empty(),
        "a held sweep changes nothing"
    );
    assert_eq!(
        store.count("acme", Entity::Contacts).await.unwrap() as usize,
        stored_before
    );
    let state = store.sync_state("acme", Entity::Contacts).await.unwrap();
    assert!(state.in_progress.is_none(), "a held run is finished");

    // The operator confirms: the deletions apply.
    let forced = engine
        .sync_entity(
            &conn,
            Entity::Contacts,
            SyncRequest {
                mode: SyncMode::Full,
                allow_mass_delete: true,
            },
            &NoProgress,
        )
        .await
        .unwrap();
    assert_eq!(forced.status, RunStatus::Completed, "{forced:?}");
    assert_eq!(forced.deleted as usize, lost.len());
    assert_eq!(
        numeric_sorted(stored_ids(store.as_ref(), "acme", Entity::Contacts).await),
        sim_ids(&sim, Entity::Contacts)
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_suspends_and_resumes_from_the_checkpoint() {
    let sim = simulator(60, None).await;
    let conn = connect(&sim, "acme").await;
    let (engine, store) = engine(10);
    let expected = listed_company_ids(&sim);
    let pages = expected.len().div_ceil(10);
    assert!(pages >= 4, "{} companies", expected.len());
    // Every third API request is answered 429 with Retry-After: 1.
    sim.faults().set_too_many_requests(3, 1);

    let mut suspensions = 0;
    let mut last = None;
    for _ in 0..(3 * pages + 5) {
        let run = engine
            .sync_entity(&conn, Entity::Companies, SyncRequest::full(), &NoProgress)
            .await
            .unwrap();
        match run.status {
            RunStatus::Suspended => {
                suspensions += 1;
                let until = run.suspended_until.expect("suspended until");
                let wait = until - OffsetDateTime::now_utc();
                assert!(
                    wait <= time::Duration::seconds(2),
                    "Retry-After is honoured: {wait}"
                );
                assert_eq!(
                    store
                        .sync_state("acme", Entity::Companies)
                        .await
                        .unwrap()
                        .suspended_until,
                    Some(until)
                );
                // Asked again before the time: the engine does not call the PSA.
                let requests = sim.faults().api_requests();
                let early = engine
                    .sync_entity(&conn, Entity::Companies, SyncRequest::full(), &NoProgress)
                    .await
                    .unwrap();
                assert_eq!(early.status, RunStatus::Suspended);
                assert_eq!(early.id, run.id);
                assert_eq!(sim.faults().api_requests(), requests);
                // What was committed before the 429 stays committed.
                let stored = store.count("acme", Entity::Companies).await.unwrap();
                assert_eq!(stored, run.created);
                tokio::time::sleep(Duration::try_from(wait).unwrap_or_default()).await;
            }
            RunStatus::Completed => {
                last = Some(run);
                break;
            }
            other => panic!("unexpected {other:?}: {run:?}"),
        }
    }
    let run = last.expect("the run completes");
    assert!(suspensions >= 1, "the fault suspended the run");
    assert_eq!(run.resumed as usize, suspensions, "{run:?}");
    assert_eq!(run.created as usize, expected.len(), "{run:?}");
    assert_eq!(run.unchanged, 0, "no page was read twice: {run:?}");
    assert!(run.pages as usize >= pages, "{run:?}");

    let stored = numeric_sorted(stored_ids(store.as_ref(), "acme", Entity::Companies).await);
    assert_eq!(stored, expected);
    let kinds = kinds_by_record(&changes_after(store.as_ref(), "acme", 0).await);
    assert_eq!(kinds.len(), expected.len());
    assert!(
        kinds.values().all(|k| k == &vec![ChangeKind::Created]),
        "exactly one created event per record"
    );
    let history = store.runs("acme", 10).await.unwrap();
    assert_eq!(history.len(), 1, "one run, resumed: {history:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_then_fail_and_resume() {
    let sim = simulator(40, None).await;
    let conn = connect(&sim, "acme").await;
    let (engine, store) = engine(10);
    let expected = sim_ids(&sim, Entity::Contacts);

    // Every second request fails with 503: each page succeeds on its retry.
    sim.faults().set_server_errors(2, 503);
    #[derive(Default)]
    struct Retries(AtomicUsize);
    impl ProgressSink for Retries {
        fn event(&self, e: &Progress<'_>) {
            if let Progress::Retrying { .. } = e {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    let retries = Retries::default();
    let run = engine
        .sync_entity(&conn, Entity::Contacts, SyncRequest::full(), &retries)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    assert_eq!(run.created as usize, expected.len());
    assert!(retries.0.load(Ordering::SeqCst) >= 1);
    let total_pages = run.pages;
    assert!(total_pages >= 4, "{run:?}");

    // The PSA goes down mid-sweep: bounded retries, then the run fails with the error kept.
    sim.faults().clear();
    sim.state()
        .touch(psa_sim::Entity::Contact, expected[0].parse().unwrap());
    let engine2 = SyncEngine::new(
        store.clone(),
        SyncSettings {
            page_size: Some(10),
            page_retries: 2,
            retry_backoff: Duration::from_millis(5),
            ..SyncSettings::default()
        },
    );
    // Let the first two pages through, then fail everything. The engine reads page N+1 while
    // it commits page N, so the fault set when page 1 is committed hits page 3.
    let before = sim.faults().api_requests();
    struct FailAfter<'a> {
        sim: &'a psa_sim::Simulator,
        pages: usize,
        seen: AtomicUsize,
    }
    impl ProgressSink for FailAfter<'_> {
        fn event(&self, e: &Progress<'_>) {
            if let Progress::Page { .. } = e
                && self.seen.fetch_add(1, Ordering::SeqCst) + 1 == self.pages
            {
                self.sim.faults().set_server_errors(1, 503);
            }
        }
    }
    let failing = FailAfter {
        sim: &sim,
        pages: 1,
        seen: AtomicUsize::new(0),
    };
    let failed = engine2
        .sync_entity(&conn, Entity::Contacts, SyncRequest::full(), &failing)
        .await
        .unwrap();
    assert_eq!(failed.status, RunStatus::Failed, "{failed:?}");
    assert_eq!(failed.pages, 2);
    let error = failed.error.as_deref().unwrap();
    assert!(error.contains("unavailable"), "{error}");
    // The count the connector asks for with the sweep's first page, 2 pages, and the first
    // try and 2 retries of the third.
    assert_eq!(sim.faults().api_requests() - before, 6);
    let state = store.sync_state("acme", Entity::Contacts).await.unwrap();
    assert!(state.in_progress.is_some(), "the checkpoint is kept");

    // The PSA is back: the next run resumes the failed one from page 3.
    sim.faults().clear();
    let before = sim.faults().api_requests();
    let resumed = engine2
        .sync_entity(
            &conn,
            Entity::Contacts,
            SyncRequest::incremental(),
            &NoProgress,
        )
        .await
        .unwrap();
    assert_eq!(resumed.id, failed.id);
    assert_eq!(resumed.status, RunStatus::Completed, "{resumed:?}");
    assert_eq!(resumed.mode, SyncMode::Full);
    assert_eq!(resumed.resumed, 1);
    assert_eq!(resumed.error, None);
    assert_eq!(resumed.pages, total_pages);
    assert_eq!(
        sim.faults().api_requests() - before,
        total_pages - 2,
        "only the pages after the checkpoint are read"
    );
    assert_eq!(resumed.updated, 1, "the touched contact");
    assert_eq!(resumed.deleted, 0);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_record_sync_writes_like_any_page() {
    let sim = simulator(4, None).await;
    let conn = connect(&sim, "acme").await;
    let (engine, store) = engine(50);
    let ids = sim_ids(&sim, Entity::Contacts);
    let id = &ids[1];

    let r = engine
        .sync_record(&conn, Entity::Contacts, id)
        .await
        .unwrap();
    assert_eq!((r.change, r.found), (Some(ChangeKind::Created), true));
    let r = engine
        .sync_record(&conn, Entity::Contacts, id)
        .await
        .unwrap();
    assert_eq!(r.change, None, "unchanged: no event");
    sim.state()
        .touch(psa_sim::Entity::Contact, id.parse().unwrap());
    let r = engine
        .sync_record(&conn, Entity::Contacts, id)
        .await
        .unwrap();
    assert_eq!(r.change, Some(ChangeKind::Updated));
    sim.state()
        .delete(psa_sim::Entity::Contact, id.parse().unwrap());
    let r = engine
        .sync_record(&conn, Entity::Contacts, id)
        .await
        .unwrap();
    assert_eq!((r.change, r.found), (Some(ChangeKind::Deleted), false));
    let kinds: Vec<ChangeKind> = changes_after(store.as_ref(), "acme", 0)
        .await
        .iter()
        .map(|c| c.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            ChangeKind::Created,
            ChangeKind::Updated,
            ChangeKind::Deleted
        ]
    );
    sim.shutdown().await;
}

/// Counts runs in progress at once.
#[derive(Default)]
struct Concurrency {
    now: Mutex<(usize, usize)>,
}

impl ProgressSink for Concurrency {
    fn event(&self, e: &Progress<'_>) {
        let mut n = self.now.lock().unwrap();
        match e {
            Progress::Started { .. } => {
                n.0 += 1;
                n.1 = n.1.max(n.0);
            }
            Progress::Finished { .. } => n.0 -= 1,
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_sync_concurrently_within_the_global_limit() {
    let sim = simulator(3, None).await;
    sim.faults().set_delay_ms(30);
    let a = connect(&sim, "a").await;
    let b = connect(&sim, "b").await;
    let c = connect(&sim, "c").await;
    let expected = sim_ids(&sim, Entity::Contacts).len();
    for limit in [1, 3] {
        let store: Arc<dyn RecordStore> = Arc::new(SledStore::temporary().unwrap());
        let engine = Arc::new(SyncEngine::new(
            store.clone(),
            SyncSettings {
                page_size: Some(5),
                max_concurrent: limit,
                ..SyncSettings::default()
            },
        ));
        let sink = Arc::new(Concurrency::default());
        let results = engine
            .sync_connections(
                vec![a.clone(), b.clone(), c.clone()],
                &[Entity::Contacts],
                SyncRequest::full(),
                sink.clone(),
            )
            .await;
        let ids: Vec<&str> = results.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        for (id, r) in &results {
            let r = r.as_ref().unwrap();
            assert!(r.all_completed(), "{id}: {r:?}");
            assert_eq!(r.runs[0].created as usize, expected);
            assert_eq!(
                store.count(id, Entity::Contacts).await.unwrap() as usize,
                expected
            );
        }
        let max = sink.now.lock().unwrap().1;
        assert!(max <= limit, "limit {limit}, {max} at once");
        if limit == 3 {
            assert!(max >= 2, "connections ran at the same time");
        }
    }

    // One run per (connection, entity) at a time: two requests for the same one queue, and the
    // second sees the first's records (nothing created twice).
    let (engine, store) = engine(5);
    let (r1, r2) = tokio::join!(
        engine.sync_entity(&a, Entity::Contacts, SyncRequest::full(), &NoProgress),
        engine.sync_entity(&a, Entity::Contacts, SyncRequest::full(), &NoProgress),
    );
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    assert_eq!(r1.created + r2.created, expected as u64);
    assert_eq!(r1.unchanged + r2.unchanged, expected as u64);
    assert_eq!(last_seq(store.as_ref(), "a").await as usize, expected);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_connection_covers_every_entity_and_feeds_the_views() {
    let sim = simulator(5, None).await;
    let conn = connect(&sim, "acme").await;
    let (engine, store) = engine(100);
    let result = engine
        .sync_connection(&conn, &Entity::ALL, SyncRequest::incremental(), &NoProgress)
        .await
        .unwrap();
    assert!(result.all_completed(), "{result:?}");
    assert!(result.skipped.is_empty(), "{result:?}");
    let entities: Vec<Entity> = result.runs.iter().map(|r| r.entity).collect();
    assert_eq!(entities, Entity::ALL);
    for entity in [
        Entity::Contacts,
        Entity::Agreements,
        Entity::Configurations,
        Entity::Tickets,
    ] {
        assert_eq!(
            numeric_sorted(stored_ids(store.as_ref(), "acme", entity).await),
            sim_ids(&sim, entity),
            "{entity}"
        );
    }
    // Agreements are stored with their lines, in WIT field names.
    let agreements = psahost_workflows::views::load_all(
        store.as_ref(),
        "acme",
        Entity::Agreements,
        psahost_workflows::records::agreement_from_json,
    )
    .await
    .unwrap();
    let lines: usize = agreements.iter().map(|a| a.lines.len()).sum();
    assert_eq!(lines, sim.state().count(psa_sim::Entity::AgreementLine));

    // The views run on what was synced.
    let day = psahost_workflows::views::mrr::parse_day("2026-05-01").unwrap();
    let mrr = psahost_workflows::views::mrr_from_store(store.as_ref(), "acme", day)
        .await
        .unwrap();
    let counted: usize = mrr.companies.iter().map(|c| c.agreements.len()).sum();
    assert_eq!(
        counted + mrr.excluded.iter().filter(|e| e.line_id.is_none()).count(),
        agreements.len()
    );
    let eligible = psahost_workflows::views::eligible_from_store(store.as_ref(), "acme")
        .await
        .unwrap();
    assert_eq!(
        eligible.len() as u64,
        store.count("acme", Entity::Companies).await.unwrap()
    );
    assert!(eligible.iter().all(|e| e.eligible == e.reason.is_none()));
    sim.shutdown().await;
}

/// A connection of the hostile test plugin whose `list-companies` pages with `attack`.
async fn hostile(attack: &str, count: &str) -> psahost_sandbox::connector::Connection {
    hostile_with(&[("attack", attack), ("count", count)]).await
}

/// A connection of the hostile test plugin with `pairs` as its settings.
async fn hostile_with(pairs: &[(&str, &str)]) -> psahost_sandbox::connector::Connection {
    use psahost_sandbox::capabilities::ConnectionPolicy;
    use psahost_sandbox::capabilities::kv::KvStore;
    use psahost_sandbox::capabilities::settings::Settings;
    use psahost_sandbox::runtime::{PluginSource, Runtime, RuntimeConfig};
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(psahost_testkit::cache_dir()),
        max_instances: 4,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let plugin = runtime
        .load(PluginSource::File(plugin_artifacts::HOSTILE_PATH.into()))
        .await
        .unwrap();
    let mut settings = Settings::default();
    for (name, value) in pairs {
        settings.insert(*name, *value, false);
    }
    let policy = ConnectionPolicy {
        grant: Default::default(),
        http: Default::default(),
        kv: Default::default(),
        log: Default::default(),
    };
    let kv = KvStore::temporary().unwrap();
    psahost_sandbox::connector::Connection::open(runtime, plugin, "hostile", settings, &policy, &kv)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_cycle_fails_the_run() {
    let conn = hostile("cursor-cycle", "3").await;
    let (engine, _store) = engine(10);
    let run = engine
        .sync_entity(&conn, Entity::Companies, SyncRequest::full(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    let error = run.error.unwrap_or_default();
    assert!(error.contains("cycle"), "{error}");
    assert!(run.pages <= 3, "{}", run.pages);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_paging_fails_the_run_at_its_bounds() {
    let conn = hostile("cursor-endless", "5").await;
    let store: Arc<dyn RecordStore> = Arc::new(SledStore::temporary().unwrap());
    let engine = SyncEngine::new(
        store.clone(),
        SyncSettings {
            max_pages_per_run: 30,
            ..settings(10)
        },
    );
    let run = engine
        .sync_entity(&conn, Entity::Companies, SyncRequest::full(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    assert!(
        run.error
            .as_deref()
            .unwrap_or_default()
            .contains("sync.max-pages-per-run"),
        "{run:?}"
    );
    assert_eq!(run.pages, 30);
    let engine = SyncEngine::new(
        Arc::new(SledStore::temporary().unwrap()),
        SyncSettings {
            max_records_per_run: 42,
            ..settings(10)
        },
    );
    let run = engine
        .sync_entity(&conn, Entity::Companies, SyncRequest::full(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    assert!(
        run.error
            .as_deref()
            .unwrap_or_default()
            .contains("sync.max-records-per-run"),
        "{run:?}"
    );
    assert_eq!(run.created, 40);
    // Pages of fat records: the run stops at its byte bound.
    let fat = hostile_with(&[("attack", "big-page"), ("count", "5"), ("size", "100000")]).await;
    let engine = SyncEngine::new(
        Arc::new(SledStore::temporary().unwrap()),
        SyncSettings {
            max_bytes_per_run: 300_000,
            ..settings(10)
        },
    );
    let run = engine
        .sync_entity(&fat, Entity::Companies, SyncRequest::full(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    assert!(
        run.error
            .as_deref()
            .unwrap_or_default()
            .contains("sync.max-bytes-per-run"),
        "{run:?}"
    );
}

/// A store written by an older host kept each record as its JSON value's canonical text (keys
/// sorted, `raw` parsed and serialised again). The sync now writes the connector's text as it
/// comes; an upgraded host syncing the same PSA must see every record unchanged: no change
/// event, the same sequence numbers, and then hash comparisons again (the texts kept).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_stored_by_an_older_host_are_unchanged_after_an_upgrade() {
    let sim = simulator(40, None).await;
    let conn = connect(&sim, "acme").await;
    let (engine, store) = engine(25);
    let full = || SyncRequest::full();
    let first = engine
        .sync_entity(&conn, Entity::Companies, full(), &NoProgress)
        .await
        .unwrap();
    assert!(first.created > 30, "{first:?}");

    // Every record back in the text an older host wrote (the canonical form of its value).
    let mut page = store
        .list("acme", Entity::Companies, Default::default())
        .await
        .unwrap();
    let mut old = Vec::new();
    loop {
        for r in &page.records {
            old.push(psahost_store::RecordWrite::new(r.id.clone(), &r.record));
        }
        let Some(after) = page.next.clone() else {
            break;
        };
        page = store
            .list(
                "acme",
                Entity::Companies,
                psahost_store::ListQuery {
                    after: Some(after),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    assert_eq!(old.len() as u64, first.created);
    let before = store
        .get("acme", Entity::Companies, &old[0].id)
        .await
        .unwrap()
        .unwrap();
    let outcome = store
        .commit(psahost_store::PageCommit {
            connection: "acme".into(),
            entity: Entity::Companies,
            upserts: old,
            deletions: Vec::new(),
            mark_seen: false,
            checkpoint: None,
        })
        .await
        .unwrap();
    assert_eq!(outcome.unchanged, first.created, "{outcome:?}");
    let canonical = store
        .get("acme", Entity::Companies, &before.id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        canonical.hash, before.hash,
        "the older host's text is stored"
    );
    let seq = last_seq(store.as_ref(), "acme").await;

    // The upgraded host's sync: nothing changed, and the connector's texts are kept again.
    let second = engine
        .sync_entity(&conn, Entity::Companies, full(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        (
            second.created,
            second.updated,
            second.deleted,
            second.unchanged
        ),
        (0, 0, 0, first.created),
        "{second:?}"
    );
    assert_eq!(
        last_seq(store.as_ref(), "acme").await,
        seq,
        "no change event"
    );
    let after = store
        .get("acme", Entity::Companies, &before.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((after.hash, after.seq), (before.hash, before.seq));
}
