//! `SledStore`: the conformance suite, each test in its own directory.

use psahost_store::conformance::StoreFactory;
use psahost_store::{RecordStore, SledStore, StoreFuture};
use std::sync::Arc;

/// A sled store in a temporary directory (reopened in place).
pub struct SledFactory {
    dir: tempfile::TempDir,
}

impl SledFactory {
    pub fn new() -> SledFactory {
        SledFactory {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }
}

impl StoreFactory for SledFactory {
    fn open(&self) -> StoreFuture<'_, Arc<dyn RecordStore>> {
        Box::pin(async move {
            let store: Arc<dyn RecordStore> = Arc::new(SledStore::open(self.dir.path())?);
            Ok(store)
        })
    }
}

psahost_store::store_conformance_tests!(SledFactory::new());

#[tokio::test]
async fn a_temporary_store_works_and_starts_empty() {
    let s = SledStore::temporary().unwrap();
    assert!(s.changes("acme", 0, 10).await.unwrap().is_empty());
    assert_eq!(s.next_run_id().await.unwrap(), 1);
}

/// A store of layout 1 (eight trees per connection, `records/C` ... `audit/C`, keys without a
/// connection prefix, no `format` key), written with raw sled calls in that layout's encoding,
/// opens with everything in it moved into the shared trees; an interrupted migration (part of a
/// tree moved, the tree not dropped) finishes without duplicating anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_of_the_per_connection_layout_is_migrated_at_open() {
    use psahost_store::{
        Change, ChangeKind, Entity, ListQuery, PageCommit, RecordWrite, RunRecord, SyncMode,
        SyncState,
    };
    use serde_json::{Value, json};
    use sha2::{Digest, Sha256};
    use time::OffsetDateTime;

    let dir = tempfile::tempdir().unwrap();
    let at = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
    let record = |seq: u64, json: &Value| {
        let body = serde_json::to_vec(json).unwrap();
        let mut v = Sha256::digest(&body).to_vec();
        v.extend_from_slice(&seq.to_be_bytes());
        v.extend_from_slice(&(at.unix_timestamp() * 1000).to_be_bytes());
        v.extend_from_slice(&body);
        v
    };
    let change = |seq: u64, id: &str| {
        serde_json::to_vec(&Change {
            seq,
            entity: Entity::Companies,
            id: id.into(),
            kind: ChangeKind::Created,
            at,
        })
        .unwrap()
    };
    let run = RunRecord::new(7, Entity::Companies, SyncMode::Full);
    let state = SyncState {
        last_run: Some(7),
        ..SyncState::default()
    };
    {
        let db = sled::open(dir.path()).unwrap();
        for _ in 0..7 {
            db.generate_id().unwrap(); // run ids 1..=7 were handed out
        }
        let tree = |kind: &str, c: &str| db.open_tree(format!("{kind}/{c}")).unwrap();
        let records = tree("records", "a");
        records
            .insert(b"companies\x001", record(1, &json!({"n": 1})))
            .unwrap();
        records
            .insert(b"companies\x002", record(2, &json!({"n": 2})))
            .unwrap();
        let changes = tree("changes", "a");
        changes.insert(1u64.to_be_bytes(), change(1, "1")).unwrap();
        changes.insert(2u64.to_be_bytes(), change(2, "2")).unwrap();
        tree("meta", "a")
            .insert(b"seq", &2u64.to_be_bytes()[..])
            .unwrap();
        tree("state", "a")
            .insert(b"companies", serde_json::to_vec(&state).unwrap())
            .unwrap();
        tree("seen", "a")
            .insert(b"companies\x001", &[] as &[u8])
            .unwrap();
        tree("runs", "a")
            .insert(7u64.to_be_bytes(), serde_json::to_vec(&run).unwrap())
            .unwrap();
        tree("links", "a")
            .insert(
                b"customers\0t-1",
                serde_json::to_vec(&json!({"company-id": "1"})).unwrap(),
            )
            .unwrap();
        tree("audit", "a")
            .insert(
                1u64.to_be_bytes(),
                serde_json::to_vec(&json!({"w": "x"})).unwrap(),
            )
            .unwrap();
        tree("records", "ab")
            .insert(b"companies\x001", record(1, &json!({"n": "ab"})))
            .unwrap();
        tree("changes", "ab")
            .insert(1u64.to_be_bytes(), change(1, "1"))
            .unwrap();
        tree("meta", "ab")
            .insert(b"seq", &1u64.to_be_bytes()[..])
            .unwrap();
        // An interrupted migration: `changes/a`'s first entry was moved already (under `a`'s
        // prefix, the id's length then its bytes) and the old tree is still there.
        db.open_tree("changes")
            .unwrap()
            .insert(b"\0\0\0\x01a\0\0\0\0\0\0\0\x01", change(1, "1"))
            .unwrap();
        db.flush().unwrap();
    }

    let s = SledStore::open(dir.path()).unwrap();
    let one = s.get("a", Entity::Companies, "1").await.unwrap().unwrap();
    assert_eq!(
        (one.record, one.seq, one.changed_at, one.hash),
        (
            json!({"n": 1}),
            1,
            at,
            hex::encode(Sha256::digest(br#"{"n":1}"#))
        )
    );
    let page = s
        .list("a", Entity::Companies, ListQuery::default())
        .await
        .unwrap();
    assert_eq!(page.records.len(), 2);
    assert_eq!(s.count("ab", Entity::Companies).await.unwrap(), 1);
    assert_eq!(
        s.get("ab", Entity::Companies, "1")
            .await
            .unwrap()
            .unwrap()
            .record,
        json!({"n": "ab"})
    );
    let feed = s.changes("a", 0, 100).await.unwrap();
    assert_eq!(
        feed.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [1, 2],
        "no change twice"
    );
    assert_eq!(s.sync_state("a", Entity::Companies).await.unwrap(), state);
    assert_eq!(s.run("a", 7).await.unwrap(), Some(run.clone()));
    assert_eq!(s.runs("a", 10).await.unwrap(), vec![run]);
    assert_eq!(
        s.sweep_diff("a", Entity::Companies).await.unwrap().unseen,
        vec!["2".to_string()]
    );
    assert_eq!(
        s.get_link("a", "customers", "t-1").await.unwrap(),
        Some(json!({"company-id": "1"}))
    );
    assert_eq!(
        s.audit("a", 0, 0).await.unwrap(),
        vec![(1, json!({"w": "x"}))]
    );
    assert_eq!(s.append_audit("a", json!({"w": "y"})).await.unwrap(), 2);
    assert!(
        s.next_run_id().await.unwrap() > 7,
        "run ids keep increasing"
    );
    // The sequences continue without a gap.
    let out = s
        .commit(PageCommit {
            connection: "a".into(),
            entity: Entity::Companies,
            upserts: vec![RecordWrite::new("3", &json!({"n": 3}))],
            deletions: vec!["1".into()],
            mark_seen: false,
            checkpoint: None,
        })
        .await
        .unwrap();
    assert_eq!((out.created, out.deleted, out.last_seq), (1, 1, 4));
    assert_eq!(
        s.changes("a", 0, 100)
            .await
            .unwrap()
            .iter()
            .map(|c| c.seq)
            .collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    let mut ab = PageCommit {
        connection: "ab".into(),
        entity: Entity::Companies,
        upserts: vec![RecordWrite::new("2", &json!({"n": "ab2"}))],
        deletions: vec![],
        mark_seen: false,
        checkpoint: None,
    };
    assert_eq!(s.commit(ab.clone()).await.unwrap().last_seq, 2);
    drop(s);

    // The old trees are gone and the layout version is written.
    {
        let db = sled::open(dir.path()).unwrap();
        let names: Vec<String> = db
            .tree_names()
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        assert!(!names.iter().any(|n| n.contains('/')), "{names:?}");
        assert_eq!(
            db.get("format").unwrap().as_deref(),
            Some(&2u64.to_be_bytes()[..])
        );
    }
    // Reopened: nothing moves again, nothing is lost.
    let s = SledStore::open(dir.path()).unwrap();
    assert_eq!(s.changes("a", 0, 100).await.unwrap().len(), 4);
    ab.upserts[0].id = "3".into();
    assert_eq!(s.commit(ab).await.unwrap().last_seq, 3);
    drop(s);

    // A store of a newer layout is refused, naming its directory.
    {
        let db = sled::open(dir.path()).unwrap();
        db.insert("format", &3u64.to_be_bytes()[..]).unwrap();
        db.flush().unwrap();
    }
    let e = SledStore::open(dir.path())
        .err()
        .expect("a newer layout is refused");
    let text = format!("{e:#}");
    assert!(text.contains(&dir.path().display().to_string()), "{text}");
    assert!(
        text.contains("layout version 3, newer than this psahost knows (2)"),
        "{text}"
    );
}

/// Everything a store holds for `connection` that a compaction must keep: every record of
/// companies (in pages), the whole change feed, the sync state.
async fn contents(store: &SledStore, connection: &str) -> String {
    use psahost_store::{Entity, ListQuery};
    let mut out = String::new();
    let mut after = None;
    loop {
        let page = store
            .list(
                connection,
                Entity::Companies,
                ListQuery {
                    after,
                    limit: 1000,
                    ..ListQuery::default()
                },
            )
            .await
            .unwrap();
        out += &format!("{:?}\n", page.records);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    out += &format!(
        "{:?}\n",
        store.changes(connection, 0, 1_000_000).await.unwrap()
    );
    out += &format!(
        "{:?}\n",
        store
            .sync_state(connection, Entity::Companies)
            .await
            .unwrap()
    );
    out
}

/// A store whose records were rewritten many times holds the same records, change feed and
/// state after `compact_sled`, in less space; it refuses while the store is open; and a
/// compaction that stopped between its two renames makes the store refuse to open (rather than
/// start empty) until compacting again finishes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compacted_store_holds_the_same_data_in_less_space() {
    use psahost_store::compact::{check_not_interrupted, compact_sled};
    use psahost_store::{Entity, PageCommit, RecordWrite};
    use serde_json::json;

    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("store");
    {
        let store = SledStore::open(&dir).unwrap();
        for round in 0..6 {
            let upserts = (0..2000)
                .map(|i| {
                    RecordWrite::new(
                        format!("{i}"),
                        &json!({"name": format!("company {i} round {round}"), "notes": "x".repeat(400)}),
                    )
                })
                .collect();
            store
                .commit(PageCommit {
                    connection: "acme".into(),
                    entity: Entity::Companies,
                    upserts,
                    deletions: if round == 5 { vec!["7".into()] } else { vec![] },
                    mark_seen: false,
                    checkpoint: None,
                })
                .await
                .unwrap();
        }
        store.flush().await.unwrap();
    }
    let before = contents(&SledStore::open(&dir).unwrap(), "acme").await;
    assert!(before.contains("round 5"), "the last round is stored");

    // While the store is open, nothing happens.
    {
        let open = SledStore::open(&dir).unwrap();
        let e = format!("{:#}", compact_sled(&dir, &mut |_| {}).unwrap_err());
        assert!(e.contains("stop the `psahost serve`"), "{e}");
        assert!(!root.path().join("store.compacting").exists());
        drop(open);
    }

    let mut seen = Vec::new();
    let report = compact_sled(&dir, &mut |n| seen.push(n)).unwrap();
    assert!(report.entries > 2000, "{report:?}");
    assert_eq!(seen.last(), Some(&report.entries));
    assert!(
        report.replaced && report.bytes_after < report.bytes_before,
        "the copy is smaller and took the original's place: {report:?}"
    );
    assert_eq!(
        std::fs::read_dir(root.path()).unwrap().count(),
        1,
        "only the store is left"
    );
    assert_eq!(
        contents(&SledStore::open(&dir).unwrap(), "acme").await,
        before
    );

    // Again: never larger than it was, and nothing left beside it.
    let again = compact_sled(&dir, &mut |_| {}).unwrap();
    assert!(again.bytes_after <= again.bytes_before, "{again:?}");
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    assert_eq!(
        contents(&SledStore::open(&dir).unwrap(), "acme").await,
        before
    );

    // Stopped between the renames: the original moved aside, the verified copy beside it.
    let (aside, copy) = (
        root.path().join("store.before-compact"),
        root.path().join("store.compacting"),
    );
    std::fs::rename(&dir, &aside).unwrap();
    copy_dir(&aside, &copy);
    let e = check_not_interrupted(&dir).unwrap_err().to_string();
    assert!(e.contains("run `psahost store compact` again"), "{e}");
    let e = format!("{:#}", SledStore::open(&dir).err().unwrap());
    assert!(e.contains("run `psahost store compact` again"), "{e}");
    assert!(!dir.exists(), "no empty store was created");
    let finished = compact_sled(&dir, &mut |_| {}).unwrap();
    assert_eq!(finished.entries, report.entries);
    assert!(!aside.exists() && !copy.exists());
    assert_eq!(
        contents(&SledStore::open(&dir).unwrap(), "acme").await,
        before
    );

    // Stopped there, and the copy then removed by hand: the original is put back.
    std::fs::rename(&dir, &aside).unwrap();
    assert!(SledStore::open(&dir).is_err());
    let restored = compact_sled(&dir, &mut |_| {}).unwrap();
    assert!(!restored.replaced && restored.entries == report.entries);
    assert!(!aside.exists());
    assert_eq!(
        contents(&SledStore::open(&dir).unwrap(), "acme").await,
        before
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
