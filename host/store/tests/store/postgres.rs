//! `PgStore`: the conformance suite, each test in its own schema, and its own machinery
//! (migrations, server-side failures, connection errors).

use psahost_pgtest::{self as pg_server, PgFactory, new_schema, open, raw_client};
use psahost_store::{
    Entity, PG_SCHEMA_VERSION, PageCommit, PgOptions, PgStore, RecordStore, RecordWrite,
};
use serde_json::json;

psahost_store::store_conformance_tests!(PgFactory::new());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_apply_once_and_a_newer_schema_is_refused() {
    let f = PgFactory::new();
    // Replicas starting together: every one connects, the migration is applied once.
    let opens = (0..4).map(|_| {
        let schema = f.schema.clone();
        async move { open(&schema).await }
    });
    for store in futures_join(opens).await {
        assert_eq!(
            store.unwrap().schema_version().await.unwrap(),
            PG_SCHEMA_VERSION
        );
    }
    let raw = raw_client(&f.schema).await;
    let versions: Vec<i32> = raw
        .query("SELECT version FROM schema_version ORDER BY version", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, (1..=PG_SCHEMA_VERSION).collect::<Vec<_>>());

    raw.execute(
        "INSERT INTO schema_version (version, description) VALUES ($1, 'from the future')",
        &[&(PG_SCHEMA_VERSION + 1)],
    )
    .await
    .unwrap();
    let err = open(&f.schema).await.unwrap_err().to_string();
    assert!(
        err.contains(&format!("schema version {}", PG_SCHEMA_VERSION + 1))
            && err.contains("newer than this psahost"),
        "{err}"
    );
}

async fn futures_join<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_the_server_refuses_leaves_nothing() {
    let f = PgFactory::new();
    let s = open(&f.schema).await.unwrap();
    let write = |id: &str| RecordWrite::new(id, &json!({"id": id}));
    let page = |ids: &[&str]| PageCommit {
        connection: "acme".into(),
        entity: Entity::Companies,
        upserts: ids.iter().map(|id| write(id)).collect(),
        deletions: vec![],
        mark_seen: true,
        checkpoint: None,
    };
    // PostgreSQL text cannot hold a zero byte: the server refuses the page.
    let err = s.commit(page(&["1", "2", "bad\0id"])).await.unwrap_err();
    assert!(format!("{err:#}").contains("0x00"), "{err:#}");
    assert_eq!(s.count("acme", Entity::Companies).await.unwrap(), 0);
    assert!(s.changes("acme", 0, 10).await.unwrap().is_empty());
    assert!(
        s.sweep_diff("acme", Entity::Companies)
            .await
            .unwrap()
            .unseen
            .is_empty()
    );
    let out = s.commit(page(&["1"])).await.unwrap();
    assert_eq!(out.last_seq, 1, "the refused page gave its numbers back");
}

#[tokio::test]
async fn connection_errors_are_clear_and_never_show_the_password() {
    let err = PgStore::connect(
        "postgresql://psahost:hunter2@127.0.0.1:1/psahost",
        PgOptions::default(),
    )
    .await
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("cannot connect to the PostgreSQL record store"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");

    let err = PgStore::connect("postgresql://a:hunter2@[bad", PgOptions::default())
        .await
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("not valid") && !text.contains("hunter2"),
        "{text}"
    );

    let err = PgStore::connect(
        pg_server::url(),
        PgOptions {
            schema: Some("Robert'); DROP TABLE x".into()),
            ..PgOptions::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not a schema name"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_in_two_schemas_are_apart() {
    let (a, b) = (new_schema(), new_schema());
    let (fa, fb) = (PgFactory { schema: a }, PgFactory { schema: b });
    let sa = open(&fa.schema).await.unwrap();
    let sb = open(&fb.schema).await.unwrap();
    sa.commit(PageCommit {
        connection: "acme".into(),
        entity: Entity::Companies,
        upserts: vec![RecordWrite::new("1", &json!({}))],
        deletions: vec![],
        mark_seen: false,
        checkpoint: None,
    })
    .await
    .unwrap();
    assert_eq!(sa.count("acme", Entity::Companies).await.unwrap(), 1);
    assert_eq!(sb.count("acme", Entity::Companies).await.unwrap(), 0);
}

/// The server stopped under the store and started again: commits fail cleanly while it is
/// down (nothing half-applied), and the store carries on afterwards with the same sequence.
/// Needs a server of its own (it is restarted), so the PostgreSQL binaries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_fails_commits_cleanly_then_they_resume() {
    let server = tokio::task::spawn_blocking(|| {
        let server = pg_server::Instance::create()?;
        server.start()?;
        Ok::<_, String>(server)
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("{e}"));
    let store = PgStore::connect(&server.url(), PgOptions::default())
        .await
        .unwrap();
    let page = |from: usize| PageCommit {
        connection: "acme".into(),
        entity: Entity::Companies,
        upserts: (from..from + 10)
            .map(|i| RecordWrite::new(i.to_string(), &json!({"i": i})))
            .collect(),
        deletions: vec![],
        mark_seen: false,
        checkpoint: None,
    };
    assert_eq!(store.commit(page(0)).await.unwrap().last_seq, 10);

    let server = tokio::task::spawn_blocking(move || server.stop().map(|_| server))
        .await
        .unwrap()
        .unwrap();
    let err = store.commit(page(10)).await.unwrap_err();
    assert!(format!("{err:#}").contains("PostgreSQL"), "{err:#}");
    assert!(store.count("acme", Entity::Companies).await.is_err());

    let server = tokio::task::spawn_blocking(move || server.start().map(|_| server))
        .await
        .unwrap()
        .unwrap();
    let out = store.commit(page(10)).await.unwrap();
    assert_eq!((out.created, out.last_seq), (10, 20));
    let feed = store.changes("acme", 0, 100).await.unwrap();
    assert_eq!(
        feed.iter().map(|c| c.seq).collect::<Vec<_>>(),
        (1..=20).collect::<Vec<u64>>()
    );
    drop(server);
}

/// Leases: one owner at a time, renewal, loss at expiry to another replica with a higher
/// epoch, release; and fencing: a replica paused past its lease cannot write once another took
/// the connection over, while the new owner can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_have_one_owner_and_fence_stale_writers() {
    use psahost_store::StaleLease;
    use std::time::Duration;
    let f = PgFactory::new();
    // Two replicas: two stores (pools) over one database.
    let a = open(&f.schema).await.unwrap();
    let b = open(&f.schema).await.unwrap();
    let long = Duration::from_secs(60);

    let lease_a = a
        .acquire_lease("acme", "replica-a", long)
        .await
        .unwrap()
        .expect("free");
    assert_eq!((lease_a.owner.as_str(), lease_a.epoch), ("replica-a", 1));
    assert_eq!(
        b.acquire_lease("acme", "replica-b", long).await.unwrap(),
        None
    );
    let renewed = a
        .renew_lease(&lease_a, long)
        .await
        .unwrap()
        .expect("still held");
    assert_eq!(renewed.epoch, 1);
    assert!(renewed.expires_at >= lease_a.expires_at);
    a.fence(&lease_a);

    let page = |id: &str| PageCommit {
        connection: "acme".into(),
        entity: Entity::Companies,
        upserts: vec![RecordWrite::new(id, &json!({"id": id}))],
        deletions: vec![],
        mark_seen: false,
        checkpoint: None,
    };
    a.commit(page("1")).await.expect("the owner writes");

    // Replica a pauses past its lease (here: a short lease, then a wait); b takes over.
    let short = a
        .acquire_lease("globex", "replica-a", Duration::from_millis(200))
        .await
        .unwrap()
        .expect("free");
    a.fence(&short);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let lease_b = b
        .acquire_lease("globex", "replica-b", long)
        .await
        .unwrap()
        .expect("expired: b takes it");
    assert_eq!(lease_b.epoch, short.epoch + 1);
    assert_eq!(
        a.renew_lease(&short, long).await.unwrap(),
        None,
        "a lost it"
    );
    let err = a
        .commit(PageCommit {
            connection: "globex".into(),
            ..page("7")
        })
        .await
        .expect_err("a stale writer is refused");
    let stale = err.downcast_ref::<StaleLease>().expect("a typed refusal");
    assert_eq!(
        (stale.epoch, stale.owner.as_str()),
        (short.epoch, "replica-a")
    );
    assert!(err.to_string().contains("replica-b"), "{err}");
    assert_eq!(
        a.count("globex", Entity::Companies).await.unwrap(),
        0,
        "nothing written"
    );
    // A workflow's intents (links) and its audit trail are fenced alike.
    let err = a
        .set_link(
            "globex",
            "deliveries",
            "alert-1",
            Some(json!({"intent": "create"})),
        )
        .await
        .expect_err("a stale writer's link is refused");
    assert!(err.downcast_ref::<StaleLease>().is_some(), "{err:#}");
    let err = a
        .append_audit("globex", json!({"wrote": "ticket"}))
        .await
        .expect_err("a stale writer's audit entry is refused");
    assert!(err.downcast_ref::<StaleLease>().is_some(), "{err:#}");
    assert_eq!(
        a.get_link("globex", "deliveries", "alert-1").await.unwrap(),
        None
    );
    assert!(a.audit("globex", 0, 0).await.unwrap().is_empty());
    b.fence(&lease_b);
    b.commit(PageCommit {
        connection: "globex".into(),
        ..page("7")
    })
    .await
    .expect("the new owner writes");
    assert_eq!(b.count("globex", Entity::Companies).await.unwrap(), 1);
    b.set_link(
        "globex",
        "deliveries",
        "alert-1",
        Some(json!({"intent": "create"})),
    )
    .await
    .expect("the new owner writes links");
    assert_eq!(
        b.append_audit("globex", json!({"wrote": "ticket"}))
            .await
            .unwrap(),
        1
    );

    // A graceful stop releases at once; the next owner gets a new epoch.
    assert!(a.release_lease(&lease_a).await.unwrap());
    let released = b.leases().await.expect("a released lease reads as expired");
    let acme = released.iter().find(|l| l.connection == "acme").unwrap();
    assert!(
        acme.expires_at < time::OffsetDateTime::now_utc(),
        "{acme:?}"
    );
    let lease_b2 = b
        .acquire_lease("acme", "replica-b", long)
        .await
        .unwrap()
        .expect("released");
    assert_eq!(lease_b2.epoch, 2);
    let all = b.leases().await.unwrap();
    assert_eq!(
        all.iter()
            .map(|l| (l.connection.as_str(), l.owner.as_str(), l.epoch))
            .collect::<Vec<_>>(),
        [
            ("acme", "replica-b", 2),
            ("globex", "replica-b", lease_b.epoch)
        ]
    );
    // Replicas: live while their heartbeat lasts, gone at once when they leave.
    a.heartbeat("replica-a", long, Some("http://127.0.0.1:8081"))
        .await
        .unwrap();
    b.heartbeat("replica-b", Duration::from_millis(200), None)
        .await
        .unwrap();
    let live = a.live_replicas().await.unwrap();
    assert_eq!(
        live.into_iter().collect::<Vec<_>>(),
        ["replica-a", "replica-b"]
    );
    // Each heartbeat says where the replica serves its API (forwarding), or that it does not.
    assert_eq!(
        b.replica_address("replica-a").await.unwrap().as_deref(),
        Some("http://127.0.0.1:8081")
    );
    assert_eq!(a.replica_address("replica-b").await.unwrap(), None);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        a.live_replicas().await.unwrap().len(),
        1,
        "b's heartbeat lapsed"
    );
    assert_eq!(a.replica_address("nobody").await.unwrap(), None);
    a.leave("replica-a").await.unwrap();
    assert!(b.live_replicas().await.unwrap().is_empty());
    // Out-of-range lease lengths are refused.
    assert!(
        b.acquire_lease("x", "replica-b", Duration::ZERO)
            .await
            .is_err()
    );
}

/// The connectors' kv namespaces in PostgreSQL: values by key, namespaces apart, a byte count
/// kept with every write, the quota refusing what would grow past it (not what shrinks),
/// prefixes matched literally, and everything seen by another store (replica) at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kv_namespaces_are_shared_counted_and_capped() {
    let f = PgFactory::new();
    let a = open(&f.schema).await.unwrap();
    let b = open(&f.schema).await.unwrap();
    assert_eq!(a.kv_get("acme", "token").await.unwrap(), None);
    assert!(a.kv_set("acme", "token", b"abc", 100).await.unwrap());
    assert!(a.kv_set("globex", "token", b"other", 100).await.unwrap());
    assert_eq!(
        b.kv_get("acme", "token").await.unwrap().as_deref(),
        Some(&b"abc"[..]),
        "another replica reads it"
    );
    assert_eq!(b.kv_used_bytes("acme").await.unwrap(), 5 + 3);
    // Replacing counts the difference; the quota refuses growth past it, not shrinking.
    assert!(a.kv_set("acme", "token", &[7; 40], 100).await.unwrap());
    assert_eq!(a.kv_used_bytes("acme").await.unwrap(), 45);
    assert!(!a.kv_set("acme", "more", &[1; 60], 100).await.unwrap());
    assert_eq!(a.kv_get("acme", "more").await.unwrap(), None, "refused");
    assert_eq!(a.kv_used_bytes("acme").await.unwrap(), 45);
    assert!(
        a.kv_set("acme", "token", b"x", 10).await.unwrap(),
        "shrinks"
    );
    assert!(a.kv_set("acme", "50%_off", b"", 100).await.unwrap());
    assert!(a.kv_set("acme", "50x_off", b"", 100).await.unwrap());
    assert_eq!(a.kv_keys("acme", "50%").await.unwrap(), ["50%_off"]);
    assert_eq!(
        a.kv_keys("acme", "").await.unwrap(),
        ["50%_off", "50x_off", "token"]
    );
    a.kv_delete("acme", "token").await.unwrap();
    a.kv_delete("acme", "token").await.unwrap();
    assert_eq!(a.kv_used_bytes("acme").await.unwrap(), 14);
    assert_eq!(b.kv_keys("globex", "").await.unwrap(), ["token"]);
    // Concurrent writers of one namespace keep the count exact.
    let writes = (0..20).map(|n| {
        let (a, b) = (a.clone(), b.clone());
        tokio::spawn(async move {
            let store = if n % 2 == 0 { a } else { b };
            store
                .kv_set("initech", &format!("k{n:02}"), &[0; 10], 1000)
                .await
                .unwrap()
        })
    });
    for w in writes.collect::<Vec<_>>() {
        assert!(w.await.unwrap());
    }
    assert_eq!(a.kv_used_bytes("initech").await.unwrap(), 20 * (3 + 10));
}

/// Leases taken, renewed and released in batches (a replica holding thousands of connections)
/// keep the rules of one at a time: a lease another replica holds unexpired is not taken, an
/// expired one is not renewed, a lease given up or lost is not released, and taking one back
/// raises its epoch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_in_batches_keep_the_rules_of_one_lease() {
    use std::time::Duration;
    let f = PgFactory::new();
    let a = open(&f.schema).await.unwrap();
    let b = open(&f.schema).await.unwrap();
    let long = Duration::from_secs(60);
    let ids = |leases: &[psahost_store::Lease]| {
        let mut ids: Vec<(String, u64)> = leases
            .iter()
            .map(|l| (l.connection.clone(), l.epoch))
            .collect();
        ids.sort();
        ids
    };
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    let held_a = a
        .acquire_leases(&names(&["c", "a", "b", "a"]), "replica-a", long)
        .await
        .unwrap();
    assert_eq!(
        ids(&held_a),
        [("a".into(), 1), ("b".into(), 1), ("c".into(), 1)]
    );
    assert!(held_a.iter().all(|l| l.owner == "replica-a"));
    let held_b = b
        .acquire_leases(&names(&["b", "d"]), "replica-b", long)
        .await
        .unwrap();
    assert_eq!(ids(&held_b), [("d".into(), 1)], "b is replica-a's");

    let short = a
        .acquire_leases(&names(&["e"]), "replica-a", Duration::from_millis(200))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let all: Vec<_> = held_a.iter().chain(&short).cloned().collect();
    let renewed = a.renew_leases(&all, long).await.unwrap();
    assert_eq!(
        ids(&renewed),
        [("a".into(), 1), ("b".into(), 1), ("c".into(), 1)],
        "e expired: not renewed"
    );
    assert!(renewed.iter().all(|l| l.expires_at >= held_a[0].expires_at));

    let lease_a = held_a.iter().find(|l| l.connection == "a").unwrap().clone();
    let stale = psahost_store::Lease {
        epoch: 7,
        ..held_a.iter().find(|l| l.connection == "b").unwrap().clone()
    };
    assert_eq!(
        a.release_leases(&[lease_a, stale]).await.unwrap(),
        ["a"],
        "only a lease still held at its epoch is released"
    );
    let taken_back = b
        .acquire_leases(&names(&["a", "b", "e"]), "replica-b", long)
        .await
        .unwrap();
    assert_eq!(
        ids(&taken_back),
        [("a".into(), 2), ("e".into(), 2)],
        "released and expired leases change hands with a higher epoch; b is still replica-a's"
    );
}
