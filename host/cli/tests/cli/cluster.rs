//! `psahost serve` as three replicas (three processes) over one PostgreSQL schema and one
//! simulator: a joining replica takes its share; SIGKILL of a connection's owner in the middle
//! of a sync: another replica takes the connection over once the lease lapses and finishes the
//! run from its checkpoint, and the change feed ends with every record once and no gap; SIGSTOP
//! of an owner past its lease, then SIGCONT: its pending writes are refused and nothing is
//! written twice. Three replicas running a schedule through a replica leaving and one joining:
//! every connection synced exactly once per period.

use psahost_store::{ChangeKind, Entity, PgStore, RecordStore, RunStatus};
use psahost_testkit::daemon::{Served, cluster_config};
use psahost_testkit::sync::{listed_company_ids, simulator};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 6;
const LEASE: Duration = Duration::from_secs(2);
const COMPANIES: usize = 120;

fn connection_ids() -> Vec<String> {
    (0..CONNECTIONS).map(|i| format!("sim-{i}")).collect()
}

/// The configuration of replica `replica`: every connection against `sim`, small pages.
fn write_config(dir: &Path, sim: &psa_sim::Simulator, schema: &str, replica: &str) -> PathBuf {
    cluster_config(
        dir,
        sim,
        (psahost_pgtest::url(), schema),
        replica,
        &connection_ids(),
        "\n[sync]\npage-size = 10\n",
    )
}

/// The unexpired leases: connection -> owner.
async fn owners(pg: &PgStore) -> BTreeMap<String, String> {
    let now = time::OffsetDateTime::now_utc();
    pg.leases()
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.expires_at > now)
        .map(|l| (l.connection, l.owner))
        .collect()
}

/// What the bounded-load rendezvous hash gives each of `live`: connection -> owner.
fn fair(live: &[&str]) -> BTreeMap<String, String> {
    let replicas: BTreeSet<String> = live.iter().map(|s| s.to_string()).collect();
    let ids = connection_ids();
    psahost_daemon::cluster::assignment(ids.iter().map(String::as_str), &replicas)
}

async fn wait_for<T: std::fmt::Debug>(
    what: &str,
    timeout: Duration,
    mut probe: impl AsyncFnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let started = Instant::now();
    loop {
        let value = probe().await;
        if done(&value) {
            return value;
        }
        assert!(
            started.elapsed() < timeout,
            "timed out waiting for {what}: {value:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The change feed of `connection` is gapless and holds one `created` event per simulator
/// company, and nothing else.
async fn feed_has_each_company_once(pg: &PgStore, connection: &str, expected: &[String]) {
    let changes = pg.changes(connection, 0, 100_000).await.unwrap();
    let seqs: Vec<u64> = changes.iter().map(|c| c.seq).collect();
    assert_eq!(
        seqs,
        (1..=changes.len() as u64).collect::<Vec<_>>(),
        "{connection}: a gapless feed"
    );
    let mut created: Vec<String> = changes
        .iter()
        .filter(|c| c.entity == Entity::Companies && c.kind == ChangeKind::Created)
        .map(|c| c.id.clone())
        .collect();
    created.sort();
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(created, want, "{connection}: every company created once");
    assert_eq!(changes.len(), expected.len(), "{connection}: nothing else");
    assert_eq!(
        pg.count(connection, Entity::Companies).await.unwrap() as usize,
        expected.len()
    );
}

fn signal(served: &Served, name: &str) {
    let pid = served.child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &pid])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

/// Starts a sync now of `connection`'s companies through `served` (forwarded to the owner)
/// in the background, and waits until `pages` pages are committed.
async fn sync_in_background(pg: &PgStore, served: &Served, connection: &str, pages: u64) {
    let api = served.api.clone();
    let path = format!("/v1/connections/{connection}/sync?entity=companies");
    // The answer may never come (its owner is killed): only the progress in the store counts.
    tokio::spawn(async move { api.post(&path).await });
    wait_for(
        "pages committed",
        Duration::from_secs(60),
        async || pg.changes(connection, 0, 100_000).await.unwrap().len() as u64,
        |n| *n >= pages * 10,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_join_take_over_a_killed_owner_and_fence_a_stopped_one() {
    let sim = simulator(COMPANIES, None).await;
    let expected = listed_company_ids(&sim);
    assert!(expected.len() > COMPANIES / 2, "{}", expected.len());
    let factory = psahost_pgtest::PgFactory::new();
    // Migrated once before the replicas start.
    let pg = psahost_pgtest::open(&factory.schema).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bin = crate::psahost_bin();
    let start = |name: &str| {
        let config = write_config(dir.path(), &sim, &factory.schema, name);
        async move { Served::start(bin, &config, &[]).await }
    };

    // Two replicas, then a third joins and takes its share: the rendezvous assignment.
    let a = start("replica-a").await;
    let b = start("replica-b").await;
    let two = fair(&["replica-a", "replica-b"]);
    wait_for(
        "two replicas sharing every connection",
        LEASE * 10,
        async || owners(&pg).await,
        |o| *o == two,
    )
    .await;
    let c = start("replica-c").await;
    let three = fair(&["replica-a", "replica-b", "replica-c"]);
    for r in ["replica-a", "replica-b", "replica-c"] {
        let share = three.values().filter(|o| *o == r).count();
        assert_eq!(share, CONNECTIONS / 3, "an even share for {r}: {three:?}");
    }
    wait_for(
        "three replicas sharing every connection",
        LEASE * 10,
        async || owners(&pg).await,
        |o| *o == three,
    )
    .await;
    let mut served: BTreeMap<&str, Served> =
        [("replica-a", a), ("replica-b", b), ("replica-c", c)].into();

    // SIGKILL of an owner in the middle of a sync of one of its connections.
    sim.faults().set_delay_ms(60);
    let victim = "replica-c";
    let doomed = three
        .iter()
        .find(|(_, o)| *o == victim)
        .map(|(c, _)| c.clone())
        .unwrap();
    sync_in_background(&pg, &served["replica-a"], &doomed, 3).await;
    let mut killed = served.remove(victim).unwrap();
    killed.child.kill().await.expect("SIGKILL");
    let killed_at = Instant::now();
    let after_kill = wait_for(
        "the killed replica's connections taken over",
        LEASE * 10,
        async || owners(&pg).await,
        |o| o.len() == CONNECTIONS && o.values().all(|r| r != victim),
    )
    .await;
    eprintln!(
        "taken over {:?} after the SIGKILL (lease {LEASE:?})",
        killed_at.elapsed()
    );
    assert_eq!(after_kill, fair(&["replica-a", "replica-b"]));
    let partial = pg.changes(&doomed, 0, 100_000).await.unwrap().len();
    assert!(
        partial < COMPANIES,
        "killed mid-sync: {partial} of {COMPANIES}"
    );
    // A sync now (sent to any replica, forwarded to the new owner) resumes the run.
    sim.faults().set_delay_ms(0);
    let answer = served["replica-b"]
        .api
        .post(&format!("/v1/connections/{doomed}/sync?entity=companies"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["all-completed"], true, "{}", answer.text);
    feed_has_each_company_once(&pg, &doomed, &expected).await;
    // The connector's saved state (the ConnectWise codebase it caches) is in the shared
    // store, where the new owner found it; no replica keeps a kv of its own.
    assert!(
        !pg.kv_keys(&doomed, "").await.unwrap().is_empty(),
        "the connector's kv is in PostgreSQL"
    );
    for replica in ["replica-a", "replica-b", "replica-c"] {
        let own = dir.path().join(format!("data-{replica}/kv"));
        assert!(!own.exists(), "{} exists", own.display());
    }

    // SIGSTOP of an owner in the middle of a sync, past its lease; another finishes the run;
    // SIGCONT: the stopped replica's pending writes are refused.
    sim.faults().set_delay_ms(60);
    let paused = "replica-a";
    let frozen = after_kill
        .iter()
        .find(|(_, o)| *o == paused)
        .map(|(c, _)| c.clone())
        .unwrap();
    sync_in_background(&pg, &served["replica-b"], &frozen, 3).await;
    signal(&served[paused], "STOP");
    let taken = wait_for(
        "the stopped replica's connections taken over",
        LEASE * 10,
        async || owners(&pg).await,
        |o| o.len() == CONNECTIONS && o.values().all(|r| r != paused),
    )
    .await;
    assert!(taken.values().all(|r| r == "replica-b"), "{taken:?}");
    sim.faults().set_delay_ms(0);
    let answer = served["replica-b"]
        .api
        .post(&format!("/v1/connections/{frozen}/sync?entity=companies"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["all-completed"], true, "{}", answer.text);
    let done = pg.changes(&frozen, 0, 100_000).await.unwrap().len();
    signal(&served[paused], "CONT");
    // The woken replica's run goes on where it was stopped, and the database refuses its next
    // write (it logs so); its leases are lost.
    let woken = &served[paused];
    wait_for(
        "the woken replica's pending write refused",
        LEASE * 10,
        async || woken.log_text(),
        |log| log.contains(&format!("`{frozen}`")) && log.contains("its write was refused"),
    )
    .await;
    // It rejoins and takes its share back.
    wait_for(
        "the woken replica back with its share",
        LEASE * 10,
        async || owners(&pg).await,
        |o| *o == fair(&["replica-a", "replica-b"]),
    )
    .await;
    assert_eq!(
        pg.changes(&frozen, 0, 100_000).await.unwrap().len(),
        done,
        "nothing written after the run finished"
    );
    feed_has_each_company_once(&pg, &frozen, &expected).await;

    for (_, s) in served {
        let (code, log) = s.terminate().await;
        assert_eq!(code, Some(0), "{log}");
    }
    sim.shutdown().await;
}

/// The schedule's interval in [`every_connection_synced_once_per_period`].
const PERIOD: Duration = Duration::from_secs(3);

/// Waits `periods` schedule periods.
async fn periods(periods: u32) {
    tokio::time::sleep(PERIOD * periods).await;
}

/// Three replicas syncing six connections on a schedule (`companies = "3s"`), through a
/// graceful leave of one replica and its return (two rebalances): every connection is synced
/// exactly once per period. The scheduler's period is "the interval after the last run's end"
/// (see `scheduler.rs`), wherever that run ran, so over the whole test, from the runs in the
/// shared store, for each connection and each two consecutive runs:
/// - the next started at least one interval after the previous ended: no replica synced a
///   connection another had just synced (two owners would run within one period, or at once);
/// - the next started before a second interval was over: no period was skipped, not even
///   while the connection moved between replicas (the slack, one interval, covers a lease
///   handoff: a release, the taker's next round and its scheduler's look, about a second);
///
/// and each connection's last run ended less than two intervals before the observation ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_synced_once_per_period() {
    let sim = simulator(20, None).await;
    let factory = psahost_pgtest::PgFactory::new();
    let pg = psahost_pgtest::open(&factory.schema).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bin = crate::psahost_bin();
    let mut extra = String::from("\n[sync]\npage-size = 10\n");
    for id in connection_ids() {
        extra.push_str(&format!(
            "\n[connections.{id}.schedule]\ncompanies = \"{}s\"\n",
            PERIOD.as_secs()
        ));
    }
    let start = |name: &str| {
        let config = cluster_config(
            dir.path(),
            &sim,
            (psahost_pgtest::url(), &factory.schema),
            name,
            &connection_ids(),
            &extra,
        );
        async move { Served::start(bin, &config, &[]).await }
    };
    let all = ["replica-a", "replica-b", "replica-c"];
    let mut served: BTreeMap<&str, Served> = BTreeMap::new();
    for name in all {
        served.insert(name, start(name).await);
    }
    wait_for(
        "three replicas sharing every connection",
        LEASE * 10,
        async || owners(&pg).await,
        |o| *o == fair(&all),
    )
    .await;
    periods(4).await;

    // replica-c leaves gracefully: its connections move to the two others.
    let (code, log) = served.remove("replica-c").unwrap().terminate().await;
    assert_eq!(code, Some(0), "{log}");
    wait_for(
        "two replicas sharing every connection",
        LEASE * 10,
        async || owners(&pg).await,
        |o| *o == fair(&["replica-a", "replica-b"]),
    )
    .await;
    periods(3).await;

    // It comes back and takes its share again.
    served.insert("replica-c", start("replica-c").await);
    wait_for(
        "three replicas sharing every connection again",
        LEASE * 10,
        async || owners(&pg).await,
        |o| *o == fair(&all),
    )
    .await;
    periods(3).await;
    let observed_until = time::OffsetDateTime::now_utc();
    for (_, s) in served {
        let (code, log) = s.terminate().await;
        assert_eq!(code, Some(0), "{log}");
    }
    sim.shutdown().await;

    let period = time::Duration::try_from(PERIOD).unwrap();
    for id in connection_ids() {
        let mut runs = pg.runs(&id, 1000).await.unwrap();
        runs.sort_by_key(|r| r.started_at);
        let summary: Vec<String> = runs
            .iter()
            .map(|r| {
                format!(
                    "{} {} {}..{:?}",
                    r.id,
                    r.status.name(),
                    r.started_at,
                    r.finished_at
                )
            })
            .collect();
        // 10 periods observed at least (plus the start-ups): one run at once, then one a
        // period, each period at most two intervals long.
        assert!(runs.len() >= 6, "{id}: {} runs: {summary:#?}", runs.len());
        for r in &runs {
            assert_eq!(r.status, RunStatus::Completed, "{id}: {summary:#?}");
            assert_eq!(r.entity, Entity::Companies);
        }
        for pair in runs.windows(2) {
            let ended = pair[0].finished_at.expect("a completed run has ended");
            let gap = pair[1].started_at - ended;
            assert!(
                gap >= period,
                "{id}: run {} started {gap} after run {} ended, within one period: synced twice; {summary:#?}",
                pair[1].id,
                pair[0].id
            );
            assert!(
                gap < period * 2,
                "{id}: run {} started {gap} after run {} ended: a period was skipped; {summary:#?}",
                pair[1].id,
                pair[0].id
            );
        }
        let gaps: Vec<f64> = runs
            .windows(2)
            .map(|p| (p[1].started_at - p[0].finished_at.unwrap()).as_seconds_f64())
            .collect();
        eprintln!(
            "{id}: {} runs, from a run's end to the next's start {:.3} s to {:.3} s",
            runs.len(),
            gaps.iter().copied().fold(f64::INFINITY, f64::min),
            gaps.iter().copied().fold(0.0, f64::max)
        );
        let last = runs.last().unwrap().finished_at.unwrap();
        assert!(
            observed_until - last < period * 2,
            "{id}: no run in the last two periods before {observed_until}: {summary:#?}"
        );
    }
}
