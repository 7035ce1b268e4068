//! Crash safety of `psahost sync`: SIGKILL the process in the middle of a full sweep, start it
//! again, and every simulator record is stored exactly once, with exactly one `created` event.

use psahost_store::Entity;
use psahost_store::{ChangeKind, RecordStore, RunStatus, SledStore, SyncMode};
use psahost_testkit::sync::*;
use std::path::Path;
use std::time::{Duration, Instant};

fn sync_command(config: &Path) -> tokio::process::Command {
    psahost_command(
        crate::psahost_bin(),
        config,
        &["sync", "sim", "--entity", "configurations", "--full"],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_sync_then_resume_loses_and_duplicates_nothing() {
    let sim = simulator(20, Some(300)).await;
    let expected = sim_ids(&sim, Entity::Configurations);
    assert_eq!(expected.len(), 300);
    // Slow responses keep the sync busy long enough to be killed in the middle.
    sim.faults().set_delay_ms(40);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim, 10);

    // First run: killed once at least 12 pages were asked for.
    let mut child = sync_command(&config).spawn().expect("start psahost sync");
    let started = Instant::now();
    while sim.faults().api_requests() < 12 {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().await.unwrap();
            panic!(
                "psahost sync ended before it was killed ({status}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "psahost sync made no progress"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().await.expect("SIGKILL");
    let status = child.wait().await.unwrap();
    assert!(!status.success(), "killed: {status}");
    let requests_before_kill = sim.faults().api_requests();

    // The store holds the committed pages and the checkpoint of the unfinished sweep.
    let store_dir = dir.path().join("data/store");
    let run_id = {
        let store = SledStore::open(&store_dir).expect("the store opens after a SIGKILL");
        let stored = store.count("sim", Entity::Configurations).await.unwrap();
        assert!(
            stored > 0 && (stored as usize) < expected.len(),
            "killed mid-sync: {stored} of {} stored",
            expected.len()
        );
        let state = store
            .sync_state("sim", Entity::Configurations)
            .await
            .unwrap();
        let cursor = state.in_progress.expect("an unfinished sweep");
        assert_eq!(cursor.mode, SyncMode::Full);
        assert!(cursor.cursor.is_some());
        let run = store.run("sim", cursor.run_id).await.unwrap().unwrap();
        assert_eq!(run.status, RunStatus::Running);
        assert_eq!(run.created, stored, "the run counts what was committed");
        assert_eq!(run.pages * 10, stored, "whole pages only");
        cursor.run_id
    };

    // Second run: resumes and completes.
    sim.faults().set_delay_ms(0);
    let out = sync_command(&config).output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("configurations") && stdout.contains("completed"),
        "{stdout}"
    );
    assert!(stdout.contains("resumed 1x"), "{stdout}");

    let store = SledStore::open(&store_dir).unwrap();
    assert_eq!(
        numeric_sorted(stored_ids(&store, "sim", Entity::Configurations).await),
        expected,
        "every simulator record is stored"
    );
    let changes = changes_after(&store, "sim", 0).await;
    assert_eq!(changes.len(), expected.len(), "no extra events");
    let kinds = kinds_by_record(&changes);
    assert_eq!(kinds.len(), expected.len());
    assert!(
        kinds.values().all(|k| k == &vec![ChangeKind::Created]),
        "exactly one created event per record"
    );
    let runs = store.runs("sim", 10).await.unwrap();
    assert_eq!(runs.len(), 1, "one run, resumed: {runs:?}");
    let run = &runs[0];
    assert_eq!(run.id, run_id);
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!((run.resumed, run.created, run.unchanged), (1, 300, 0));
    // Resumed, not restarted: each page was asked for once, plus those the process had read but
    // not committed when it died (the engine commits page N while it reads page N+1: at most
    // two), plus the count the connector asks for with a sweep's first page. A restarted sweep
    // would ask for 30 pages again.
    let requests = sim.faults().api_requests();
    assert!(
        requests <= run.pages + 3,
        "{requests} requests for {} pages ({requests_before_kill} before the kill)",
        run.pages
    );
    let state = store
        .sync_state("sim", Entity::Configurations)
        .await
        .unwrap();
    assert!(state.in_progress.is_none() && state.last_full_sweep.is_some());
    sim.shutdown().await;
}
