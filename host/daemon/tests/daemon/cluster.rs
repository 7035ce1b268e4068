//! Several replicas (`[cluster]`) in process, sharing one PostgreSQL schema (the tests' own
//! server, or `PSAHOST_TEST_DATABASE_URL`), each with its own data directory, against one
//! simulator with several connections: the connections are split, a replica leaving hands its
//! connections over, a replica whose lease was taken over cannot write, and the API routes
//! "sync now" to the owner by naming it.

use psahost_config::Config;
use psahost_daemon::Daemon;
use psahost_store::{Entity, PgStore, RecordStore, StaleLease};
use psahost_testkit::daemon::{check_answer, openapi_path};
use psahost_testkit::sync::{last_seq, simulator};
use psahost_workflows::sync::{NoProgress, SyncRequest};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 6;
const LEASE: Duration = Duration::from_secs(2);

fn connection_ids() -> Vec<String> {
    (0..CONNECTIONS).map(|i| format!("sim-{i}")).collect()
}

/// A shared schema, migrated once before the replicas start (they would race to create it),
/// and a store of the test's own to look at it.
/// The factory drops the schema when it goes (on a server that is not the tests' own).
async fn shared_schema() -> (psahost_pgtest::PgFactory, PgStore) {
    let factory = psahost_pgtest::PgFactory::new();
    let store = psahost_pgtest::open(&factory.schema)
        .await
        .expect("PgStore opens");
    (factory, store)
}

/// The configuration of replica `replica` in `dir`: the connections against `sim`, the shared
/// schema; companies synced hourly when `scheduled`.
async fn write_config(
    dir: &Path,
    sim: &psa_sim::Simulator,
    schema: &str,
    replica: &str,
    scheduled: bool,
) -> PathBuf {
    let url = tokio::task::spawn_blocking(psahost_pgtest::url)
        .await
        .unwrap();
    let ids = connection_ids();
    let mut extra = "\n[sync]\npage-size = 50\n".to_string();
    if scheduled {
        for id in &ids {
            extra.push_str(&format!(
                "\n[connections.{id}.schedule]\ncompanies = \"1h\"\n"
            ));
        }
    }
    psahost_testkit::daemon::cluster_config(dir, sim, (url, schema), replica, &ids, &extra)
}

/// Starts replica `name` in a directory of its own.
async fn replica(
    sim: &psa_sim::Simulator,
    schema: &str,
    name: &str,
) -> (Arc<Daemon>, tempfile::TempDir) {
    scheduled_replica(sim, schema, name, false).await
}

/// Starts replica `name` in a directory of its own, its connections' companies scheduled
/// hourly when `scheduled`.
async fn scheduled_replica(
    sim: &psa_sim::Simulator,
    schema: &str,
    name: &str,
    scheduled: bool,
) -> (Arc<Daemon>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), sim, schema, name, scheduled).await;
    let daemon = Daemon::open(Config::load(&path).expect("config"))
        .await
        .expect("daemon opens");
    (daemon, dir)
}

/// The owners of every connection by the daemons' own view: connection -> replicas owning it.
fn owners(daemons: &[&Arc<Daemon>]) -> BTreeMap<String, Vec<String>> {
    connection_ids()
        .into_iter()
        .map(|id| {
            let owning = daemons
                .iter()
                .filter(|d| d.owns(&id))
                .map(|d| d.cluster().unwrap().config().replica.clone())
                .collect();
            (id, owning)
        })
        .collect()
}

/// Polls `check` every 50 ms until it holds, or panics after `timeout` with `what` and the
/// last state.
async fn wait_until<T: std::fmt::Debug>(
    timeout: Duration,
    what: &str,
    mut state: impl FnMut() -> T,
    check: impl Fn(&T) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let s = state();
        if check(&s) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The stable assignment over `live`: each connection owned by the replica the bounded-load
/// rendezvous hash names.
fn expected(live: &[&str]) -> BTreeMap<String, Vec<String>> {
    let live: BTreeSet<String> = live.iter().map(|s| s.to_string()).collect();
    let ids = connection_ids();
    psahost_daemon::cluster::assignment(ids.iter().map(String::as_str), &live)
        .into_iter()
        .map(|(id, owner)| (id, vec![owner]))
        .collect()
}

fn each_once(owners: &BTreeMap<String, Vec<String>>) -> bool {
    owners.values().all(|o| o.len() == 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_split_between_replicas_each_owned_once() {
    let sim = simulator(5, None).await;
    let (factory, pg) = shared_schema().await;
    let schema = factory.schema.clone();
    let (a, _da) = replica(&sim, &schema, "replica-a").await;
    let (b, _db) = replica(&sim, &schema, "replica-b").await;
    let (c, _dc) = replica(&sim, &schema, "replica-c").await;
    let all = [&a, &b, &c];
    // Stable: every connection owned exactly once, by the replica the rendezvous hash names.
    let expected = expected(&["replica-a", "replica-b", "replica-c"]);
    wait_until(
        LEASE * 5,
        "each connection owned by its replica",
        || owners(&all),
        |o| *o == expected,
    )
    .await;
    let shares: BTreeSet<usize> = all.iter().map(|d| d.leases().len()).collect();
    assert!(
        all.iter().map(|d| d.leases().len()).sum::<usize>() == CONNECTIONS,
        "{shares:?}"
    );
    // The shared table agrees: each held lease is the one in the table, unexpired.
    let table = pg.leases().await.unwrap();
    for d in all {
        for lease in d.leases() {
            let row = table
                .iter()
                .find(|l| l.connection == lease.connection)
                .expect("a lease row");
            assert_eq!(
                (&row.owner, row.epoch),
                (&lease.owner, lease.epoch),
                "{row:?}"
            );
        }
        let ready = d.readiness();
        let cluster = ready.cluster.expect("a cluster status");
        assert!(cluster.joined && ready.ready, "{cluster:?}");
        assert_eq!(cluster.peers.len(), 2, "{cluster:?}");
        // Each replica's metrics: its own leases and peers.
        let metrics = d.metrics().encode();
        assert!(
            metrics.contains(&format!(
                "psahost_cluster_leases_held {}\n",
                d.leases().len()
            )) && metrics.contains("psahost_cluster_peers 2\n")
                && metrics.contains("psahost_cluster_lease_changes_total{change=\"taken\"}"),
            "{metrics}"
        );
    }
    // A lease lost behind a's back (lapsed in the table): a notices at its next renewal and
    // takes the connection again, at a new epoch (its writes under the old one are refused).
    let lost = a.leases()[0].clone();
    let client = psahost_pgtest::raw_client(&schema).await;
    let n = client
        .execute(
            "UPDATE leases SET expires_at = '-infinity' WHERE connection = $1",
            &[&lost.connection],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    wait_until(
        LEASE * 3,
        "a holding the lost lease again at a new epoch",
        || a.leases(),
        |held| {
            held.iter()
                .any(|l| l.connection == lost.connection && l.epoch > lost.epoch)
        },
    )
    .await;
    for d in all {
        d.leave_cluster().await;
    }
    assert!(pg.live_replicas().await.unwrap().is_empty());
    assert!(all.iter().all(|d| d.leases().is_empty()));
    sim.shutdown().await;
}

/// Serves `daemon`'s API (its `run` leaves the cluster when stopped).
use crate::serve_daemon as serve;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_is_forwarded_to_the_owner_and_a_stopped_replica_hands_over() {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(openapi_path()).unwrap()).unwrap();
    let sim = simulator(5, None).await;
    let (factory, pg) = shared_schema().await;
    let schema = factory.schema.clone();
    let (a, _da) = replica(&sim, &schema, "replica-a").await;
    let (b, _db) = replica(&sim, &schema, "replica-b").await;
    let (api_a, stop_a, task_a) = serve(&a).await;
    let (api_b, stop_b, task_b) = serve(&b).await;
    let stable = expected(&["replica-a", "replica-b"]);
    wait_until(
        LEASE * 5,
        "each connection owned by its replica",
        || owners(&[&a, &b]),
        |o| *o == stable,
    )
    .await;
    // Two replicas over six connections: with this hash both get some (a fixed assignment).
    let of_a: Vec<String> = a.leases().into_iter().map(|l| l.connection).collect();
    let of_b: Vec<String> = b.leases().into_iter().map(|l| l.connection).collect();
    assert!(!of_a.is_empty() && !of_b.is_empty(), "{of_a:?} {of_b:?}");

    let ready = api_a.get("/ready").await;
    check_answer(&doc, "get", "/ready", &ready);
    assert_eq!(
        ready.body["cluster"]["replica"], "replica-a",
        "{}",
        ready.text
    );
    assert_eq!(
        ready.body["cluster"]["peers"],
        serde_json::json!(["replica-b"])
    );
    let shown: Vec<&str> = ready.body["cluster"]["leases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["connection"].as_str().unwrap())
        .collect();
    assert_eq!(shown, of_a);

    // A request that arrives forwarded at a replica that does not own the connection (the
    // replicas rebalancing) is refused, never forwarded again: 409, and nothing synced.
    let theirs = &of_b[0];
    let post = reqwest::Method::POST;
    let sync_path = format!("/v1/connections/{theirs}/sync?entity=companies");
    let (refused, headers) = api_a
        .send_with_headers(
            post.clone(),
            &sync_path,
            &[("psahost-forwarded-by", "replica-c")],
        )
        .await;
    check_answer(&doc, "post", "/v1/connections/{id}/sync", &refused);
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(refused.body["error"]["code"], "not-owner");
    assert_eq!(headers["psahost-replica"], "replica-a");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("replica-c") && message.contains(theirs.as_str()),
        "{message}"
    );
    assert_eq!(last_seq(&pg, theirs).await, 0, "nothing synced by a");
    // Sync now of b's connection sent to a: a forwards it to b, the owner, and relays b's
    // answer, which says where it ran.
    let (synced, headers) = api_a.send_with_headers(post.clone(), &sync_path, &[]).await;
    check_answer(&doc, "post", "/v1/connections/{id}/sync", &synced);
    assert_eq!(synced.status, 200, "{}", synced.text);
    assert_eq!(
        (
            headers["psahost-replica"].to_str().unwrap(),
            headers["psahost-forwarded-by"].to_str().unwrap()
        ),
        ("replica-b", "replica-a")
    );
    assert!(last_seq(&pg, theirs).await > 0);
    let ran_on_b = synced_by(&b);
    assert!(ran_on_b.contains(theirs.as_str()), "{ran_on_b:?}");
    assert!(!synced_by(&a).contains(theirs.as_str()), "a ran nothing");
    // The same through `sync/{entity}`; and a's own connections run on a, not forwarded.
    let (synced, headers) = api_a
        .send_with_headers(
            post.clone(),
            &format!("/v1/connections/{theirs}/sync/companies"),
            &[],
        )
        .await;
    check_answer(&doc, "post", "/v1/connections/{id}/sync/{entity}", &synced);
    assert_eq!(synced.status, 200, "{}", synced.text);
    assert_eq!(headers["psahost-replica"], "replica-b");
    // A write that is not a POST (the delivery settings' DELETE) is forwarded too, with its
    // method.
    let (cleared, headers) = api_a
        .send_with_headers(
            reqwest::Method::DELETE,
            &format!("/v1/connections/{theirs}/delivery/settings"),
            &[],
        )
        .await;
    check_answer(
        &doc,
        "delete",
        "/v1/connections/{id}/delivery/settings",
        &cleared,
    );
    assert_eq!(cleared.status, 200, "{}", cleared.text);
    assert_eq!(headers["psahost-replica"], "replica-b");
    let mine = &of_a[0];
    let (synced, headers) = api_a
        .send_with_headers(
            post.clone(),
            &format!("/v1/connections/{mine}/sync?entity=companies"),
            &[],
        )
        .await;
    assert_eq!(synced.status, 200, "{}", synced.text);
    assert_eq!(headers["psahost-replica"], "replica-a");
    assert!(headers.get("psahost-forwarded-by").is_none());
    // Reads are served by any replica from the shared store.
    let (records, headers) = api_a
        .send_with_headers(
            reqwest::Method::GET,
            &format!("/v1/connections/{theirs}/records/companies"),
            &[],
        )
        .await;
    assert_eq!(records.status, 200, "{}", records.text);
    assert_eq!(headers["psahost-replica"], "replica-a");
    assert!(!records.body["records"].as_array().unwrap().is_empty());

    // a stops gracefully: b holds everything well within a lease.
    stop_a.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), task_a)
        .await
        .expect("a stops")
        .unwrap()
        .unwrap();
    let stopped = Instant::now();
    wait_until(
        LEASE * 3,
        "b owning every connection",
        || owners(&[&b]),
        each_once,
    )
    .await;
    assert!(
        stopped.elapsed() < LEASE,
        "taken over after {:?}, not within a lease",
        stopped.elapsed()
    );
    assert_eq!(b.leases().len(), CONNECTIONS);
    let ready = api_b.get("/ready").await;
    check_answer(&doc, "get", "/ready", &ready);
    assert_eq!(
        ready.body["cluster"]["peers"],
        serde_json::json!([]),
        "{}",
        ready.text
    );

    stop_b.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), task_b)
        .await
        .expect("b stops")
        .unwrap()
        .unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_paused_past_its_lease_cannot_write() {
    let sim = simulator(5, None).await;
    let (factory, pg) = shared_schema().await;
    let schema = factory.schema.clone();
    let (a, _da) = replica(&sim, &schema, "replica-a").await;
    let (b, _db) = replica(&sim, &schema, "replica-b").await;
    let stable = expected(&["replica-a", "replica-b"]);
    wait_until(
        LEASE * 5,
        "each connection owned by its replica",
        || owners(&[&a, &b]),
        |o| *o == stable,
    )
    .await;
    let mine = a.leases()[0].connection.clone();
    let theirs = b.leases()[0].connection.clone();
    let sync = |d: &Arc<Daemon>, id: &str| {
        let d = d.clone();
        let id = id.to_string();
        async move {
            let conn = d.connection(&id).expect("open");
            d.engine()
                .sync_entity(&conn, Entity::Companies, SyncRequest::full(), &NoProgress)
                .await
        }
    };
    // a writes its own connection; it cannot write b's (it holds no lease of it).
    sync(&a, &mine).await.expect("the owner writes");
    let seq = last_seq(&pg, &mine).await;
    assert!(seq > 0);
    let err = sync(&a, &theirs)
        .await
        .expect_err("a non-owner's write is refused");
    let stale = err.downcast_ref::<StaleLease>().expect("a typed refusal");
    assert_eq!(
        (stale.epoch, stale.current.contains("replica-b")),
        (0, true),
        "{stale:?}"
    );
    let message = stale.to_string();
    assert!(
        message.contains("holds no lease") && message.contains(theirs.as_str()),
        "{message}"
    );
    assert_eq!(last_seq(&pg, &theirs).await, 0);

    // a freezes (no renewal, no release); after its lease, b takes its connections over.
    let frozen = Instant::now();
    a.cluster().unwrap().freeze();
    wait_until(
        LEASE * 4,
        "b owning a's connection",
        || b.owns(&mine),
        |owned| *owned,
    )
    .await;
    assert!(
        frozen.elapsed() >= LEASE - Duration::from_millis(100),
        "{:?}",
        frozen.elapsed()
    );
    assert!(!a.owns(&mine), "a's own view lapsed with its lease");
    // a resumes and writes under its old lease: refused, and nothing of it is stored.
    let err = sync(&a, &mine).await.expect_err("a stale write is refused");
    let stale = err.downcast_ref::<StaleLease>().expect("a typed refusal");
    assert!(
        stale.epoch >= 1 && stale.current.contains("replica-b"),
        "{stale:?}"
    );
    assert_eq!(
        last_seq(&pg, &mine).await,
        seq,
        "nothing written after the takeover"
    );
    let runs = pg.runs(&mine, 10).await.unwrap();
    assert_eq!(runs.len(), 1, "only a's run before the takeover: {runs:?}");
    // Its new owner syncs it.
    sync(&b, &mine).await.expect("the new owner writes");
    assert_eq!(pg.runs(&mine, 10).await.unwrap().len(), 2);
    b.leave_cluster().await;
    sim.shutdown().await;
}

/// The connections in `daemon`'s metrics that ran a sync.
fn synced_by(daemon: &Daemon) -> BTreeSet<String> {
    daemon
        .metrics()
        .encode()
        .lines()
        .filter(|l| l.starts_with("psahost_sync_runs_total{"))
        .filter_map(|l| {
            let rest = l.split("connection=\"").nth(1)?;
            Some(rest.split('"').next()?.to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_syncs_run_on_the_owner_only_once_each() {
    let sim = simulator(5, None).await;
    let (factory, pg) = shared_schema().await;
    let schema = factory.schema.clone();
    let (a, _da) = scheduled_replica(&sim, &schema, "replica-a", true).await;
    let (b, _db) = scheduled_replica(&sim, &schema, "replica-b", true).await;
    let stable = expected(&["replica-a", "replica-b"]);
    wait_until(
        LEASE * 5,
        "each connection owned by its replica",
        || owners(&[&a, &b]),
        |o| *o == stable,
    )
    .await;
    // The schedulers start with the leases settled (before, the first replica holds them all).
    let (_api_a, stop_a, task_a) = serve(&a).await;
    let (_api_b, stop_b, task_b) = serve(&b).await;
    let started = Instant::now();
    for id in connection_ids() {
        loop {
            let runs = pg.runs(&id, 10).await.unwrap();
            if runs
                .iter()
                .any(|r| r.status == psahost_store::RunStatus::Completed)
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{id} not synced: {runs:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    for id in connection_ids() {
        assert_eq!(pg.runs(&id, 10).await.unwrap().len(), 1, "{id}: one run");
    }
    let owned = |name: &str| -> BTreeSet<String> {
        stable
            .iter()
            .filter(|(_, o)| o[0] == name)
            .map(|(id, _)| id.clone())
            .collect()
    };
    assert_eq!(synced_by(&a), owned("replica-a"));
    assert_eq!(synced_by(&b), owned("replica-b"));
    for (stop, task) in [(stop_a, task_a), (stop_b, task_b)] {
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(15), task)
            .await
            .expect("stops")
            .unwrap()
            .unwrap();
    }
    assert!(pg.live_replicas().await.unwrap().is_empty());
    sim.shutdown().await;
}
