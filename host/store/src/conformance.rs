//! The store conformance suite: the contract of [`RecordStore`] as tests any backend must pass.
//!
//! Each test is a public async function taking a [`StoreFactory`] (which opens a fresh, empty
//! store, and reopens the same data when called again). A backend runs the whole suite with
//! [`store_conformance_tests!`](crate::store_conformance_tests), one `#[tokio::test]` per
//! function:
//!
//! ```text
//! mod sled {
//!     psahost_store::store_conformance_tests!(crate::SledFactory::new());
//! }
//! ```
//!
//! A third backend's checklist is this module: implement [`RecordStore`], write a factory, run
//! the macro. Tests of one backend's own machinery (files, schema migrations) stay with it.

use crate::{
    ChangeKind, Checkpoint, Entity, ListQuery, PageCommit, RecordPage, RecordStore, RecordWrite,
    RunRecord, RunStatus, StoreFuture, SyncMode, SyncState,
};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// Opens the store under test.
pub trait StoreFactory: Send + Sync {
    /// The store: empty on the first call; later calls (after the earlier store was dropped)
    /// open the same data again, as a restarted process would.
    fn open(&self) -> StoreFuture<'_, Arc<dyn RecordStore>>;
}

/// Runs every test of the suite as a `#[tokio::test]` (multi-threaded) with the factory that
/// `$factory` makes (evaluated once per test).
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:expr) => {
        $crate::store_conformance_tests!(@each $factory;
            events_and_sequence_numbers,
            repeated_ids_in_one_page,
            the_same_record_in_other_words_is_unchanged,
            sequences_are_per_connection,
            changes_after_a_sequence,
            list_filters_and_pages,
            list_orders_ids_by_bytes,
            checkpoint_seen_and_runs_commit_together,
            sweep_diff_tracks_the_current_sweep,
            sync_state_and_runs,
            concurrent_commits_stay_gapless,
            interrupted_commit_applies_whole_or_not_at_all,
            reopening_keeps_data_and_sequence,
            links_are_set_listed_and_removed,
            audit_trail_is_numbered_per_connection,
            connections_whose_ids_are_prefixes_of_each_other_are_isolated,
            commits_of_several_connections_at_once_stay_gapless,
        );
    };
    (@each $factory:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let factory = $factory;
                $crate::conformance::$name(&factory).await;
            }
        )*
    };
}

const CONN: &str = "acme";

fn write(id: &str, v: Value) -> RecordWrite {
    RecordWrite::new(id, &v)
}

fn page(entity: Entity, upserts: Vec<RecordWrite>, deletions: Vec<&str>) -> PageCommit {
    PageCommit {
        connection: CONN.into(),
        entity,
        upserts,
        deletions: deletions.into_iter().map(Into::into).collect(),
        mark_seen: false,
        checkpoint: None,
    }
}

fn companies(upserts: Vec<RecordWrite>, deletions: Vec<&str>) -> PageCommit {
    page(Entity::Companies, upserts, deletions)
}

fn summary(changes: &[crate::Change]) -> Vec<(u64, String, ChangeKind)> {
    changes
        .iter()
        .map(|c| (c.seq, c.id.clone(), c.kind))
        .collect()
}

fn ids(p: &RecordPage) -> Vec<String> {
    p.records.iter().map(|r| r.id.clone()).collect()
}

/// Created, updated, unchanged and deleted records: their counts, sequence numbers and events.
pub async fn events_and_sequence_numbers(f: &dyn StoreFactory) {
    let s = f.open().await.unwrap();
    let a = json!({"id": "1", "name": "A", "updated-at": "2026-01-01T00:00:00Z"});
    let b = json!({"id": "2", "name": "B", "updated-at": "2026-01-02T00:00:00Z"});
    let out = s
        .commit(companies(
            vec![write("1", a.clone()), write("2", b.clone())],
            vec![],
        ))
        .await
        .unwrap();
    assert_eq!(
        (
            out.created,
            out.updated,
            out.unchanged,
            out.deleted,
            out.last_seq
        ),
        (2, 0, 0, 0, 2)
    );
    assert_eq!(out.run, None);
    let first = s.get(CONN, Entity::Companies, "1").await.unwrap().unwrap();
    assert_eq!(
        (first.entity, first.id.as_str(), first.seq),
        (Entity::Companies, "1", 1)
    );
    assert_eq!(first.record, a);
    assert_eq!(first.hash.len(), 64, "a hex SHA-256");
    let second = s.get(CONN, Entity::Companies, "2").await.unwrap().unwrap();
    assert_ne!(first.hash, second.hash);

    let b2 = json!({"id": "2", "name": "B2", "updated-at": "2026-01-03T00:00:00Z"});
    let out = s
        .commit(companies(
            vec![write("1", a.clone()), write("2", b2.clone())],
            vec![],
        ))
        .await
        .unwrap();
    assert_eq!(
        (out.created, out.updated, out.unchanged, out.last_seq),
        (0, 1, 1, 3)
    );
    assert_eq!(
        s.get(CONN, Entity::Companies, "1").await.unwrap().unwrap(),
        first,
        "an unchanged record keeps its seq, time and hash"
    );
    let updated = s.get(CONN, Entity::Companies, "2").await.unwrap().unwrap();
    assert_eq!((updated.seq, &updated.record), (3, &b2));
    assert!(updated.changed_at >= second.changed_at);

    // A page of unchanged records changes nothing, not even the sequence.
    let out = s
        .commit(companies(vec![write("1", a.clone())], vec![]))
        .await
        .unwrap();
    assert_eq!((out.unchanged, out.last_seq), (1, 3));

    // Deleting absent ids is ignored.
    let out = s.commit(companies(vec![], vec!["1", "404"])).await.unwrap();
    assert_eq!((out.deleted, out.last_seq), (1, 4));
    assert!(s.get(CONN, Entity::Companies, "1").await.unwrap().is_none());
    // The same id of another entity is another record.
    assert!(s.get(CONN, Entity::Contacts, "2").await.unwrap().is_none());

    let changes = s.changes(CONN, 0, 100).await.unwrap();
    assert_eq!(
        summary(&changes),
        vec![
            (1, "1".into(), ChangeKind::Created),
            (2, "2".into(), ChangeKind::Created),
            (3, "2".into(), ChangeKind::Updated),
            (4, "1".into(), ChangeKind::Deleted),
        ]
    );
    assert!(changes.iter().all(|c| c.entity == Entity::Companies));
    // A record's time is its change's (to the millisecond: sled keeps records' in ms).
    let close = |a: time::OffsetDateTime, b: time::OffsetDateTime| {
        (a - b).abs() < time::Duration::milliseconds(1)
    };
    assert!(close(changes[0].at, first.changed_at));
    assert!(close(changes[2].at, updated.changed_at));

    // A record created again after its deletion is created.
    let out = s
        .commit(companies(vec![write("1", a.clone())], vec![]))
        .await
        .unwrap();
    assert_eq!((out.created, out.last_seq), (1, 5));
}

/// An id twice in a page: applied in order, like two pages.
pub async fn repeated_ids_in_one_page(f: &dyn StoreFactory) {
    let s = f.open().await.unwrap();
    let out = s
        .commit(companies(
            vec![
                write("1", json!({"v": 1})),
                write("1", json!({"v": 1})),
                write("1", json!({"v": 2})),
                write("2", json!({"v": 1})),
            ],
            vec!["2", "2"],
        ))
        .await
        .unwrap();
    assert_eq!(
        (
            out.created,
            out.updated,
            out.unchanged,
            out.deleted,
            out.last_seq
        ),
        (2, 1, 1, 1, 4)
    );
    assert_eq!(
        summary(&s.changes(CONN, 0, 10).await.unwrap()),
        vec![
            (1, "1".into(), ChangeKind::Created),
            (2, "1".into(), ChangeKind::Updated),
            (3, "2".into(), ChangeKind::Created),
            (4, "2".into(), ChangeKind::Deleted),
        ]
    );
    let one = s.get(CONN, Entity::Companies, "1").await.unwrap().unwrap();
    assert_eq!((one.seq, one.record), (2, json!({"v": 2})));
    assert!(s.get(CONN, Entity::Companies, "2").await.unwrap().is_none());
    assert_eq!(s.count(CONN, Entity::Companies).await.unwrap(), 1);
}

/// A record's text in other words (key order, spacing, escapes: what a store written before
/// texts were kept as they come holds, or a PSA reordering its keys) is the same record: no
/// event, and its new text is kept so the next comparison is by hash. A real change after it,
/// or in the same page, is still one.
pub async fn the_same_record_in_other_words_is_unchanged(f: &dyn StoreFactory) {
    let s = f.open().await.unwrap();
    let text = |id: &str, t: &str| RecordWrite::from_text(id, t.to_string());
    s.commit(companies(
        vec![
            text(
                "1",
                r#"{"id":"1","name":"A","raw":{"b":2,"a":[1.5,"\u00e9"]}}"#,
            ),
            text("2", r#"{"id":"2","name":"B"}"#),
        ],
        vec![],
    ))
    .await
    .unwrap();
    let before = s.get(CONN, Entity::Companies, "1").await.unwrap().unwrap();
    let out = s
        .commit(companies(
            vec![
                text(
                    "1",
                    r#"{"raw": {"a": [15e-1, "é"], "b": 2}, "name": "A", "id": "1"}"#,
                ),
                // Restated, then changed in the same page: one update.
                text("2", r#"{ "name":"B","id":"2" }"#),
                text("2", r#"{"id":"2","name":"B2"}"#),
            ],
            vec![],
        ))
        .await
        .unwrap();
    assert_eq!(
        (out.created, out.updated, out.unchanged, out.last_seq),
        (0, 1, 2, 3)
    );
    let after = s.get(CONN, Entity::Companies, "1").await.unwrap().unwrap();
    assert_eq!(
        (after.seq, after.changed_at, &after.record),
        (before.seq, before.changed_at, &before.record),
        "the same record keeps its change"
    );
    assert_ne!(after.hash, before.hash, "its new text is kept");
    // Now compared by hash: unchanged again; a real change is an update.
    let out = s
        .commit(companies(
            vec![text(
                "1",
                r#"{"raw": {"a": [15e-1, "é"], "b": 2}, "name": "A", "id": "1"}"#,
            )],
            vec![],
        ))
        .await
        .unwrap();
    assert_eq!((out.unchanged, out.last_seq), (1, 3));
    let out = s
        .commit(companies(
            vec![text("1", r#"{"id":"1","name":"A","raw":{"b":3}}"#)],
            vec![],
        ))
        .await
        .unwrap();
    assert_eq!((out.updated, out.last_seq), (1, 4));
    assert_eq!(
        summary(&s.changes(CONN, 0, 10).await.unwrap()),
        vec![
            (1, "1".into(), ChangeKind::Created),
            (2, "2".into(), ChangeKind::Created),
            (3, "2".into(), ChangeKind::Updated),
            (4, "1".into(), ChangeKind::Updated),
        ]
    );
    assert_eq!(
        s.get(CONN, Entity::Companies, "2")
            .await
            .unwrap()
            .unwrap()
            .record,
        json!({"id": "2", "name": "B2"})
    );
}

/// Each connection has its own sequence and records; entities of one connection share it.
pub async fn sequences_are_per_connection(f: &dyn StoreFactory) {
    let s = f.open().await.unwrap();
    s.commit(companies(vec![write("1", json!({"a": 1}))], vec![]))
        .await
        .unwrap();
    let out = s
        .commit(page(
            Entity::Contacts,
            vec![write("1", json!({"a": 1}))],
            vec![],
        ))
        .await
        .unwrap();
    assert_eq!(
        out.last_seq, 2,
        "entities of a connection share its sequence"
    );
    let mut other = companies(vec![write("1", json!({"a": 2}))], vec![]);
    other.connection = "globex".into();
    let out = s.commit(other).await.unwrap();
    assert_eq!(
        (out.created, out.last_seq),
        (1, 1),
        "another connection has its own records and sequence"
    );
    assert_eq!(
        s.get("globex", Entity::Companies, "1")
            .await
            .unwrap()
            .unwrap()
            .record,
        json!({"a": 2})
    );
    assert_eq!(
        s.get(CONN, Entity::Companies, "1")
            .await
            .unwrap()
            .unwrap()
            .record,
        json!({"a": 1})
    );
    let feed = s.changes(CONN, 0, 10).await.unwrap();
    assert_eq!(
        feed.iter().map(|c| (c.seq, c.entity)).collect::<Vec<_>>(),
        vec![(1, Entity::Companies), (2, Entity::Contacts)]
    );
    assert_eq!(s.changes("globex", 0, 10).await.unwrap().len(), 1);
    assert!(s.changes("nobody", 0, 10).await.unwrap().is_empty());
    assert_eq!(s.count("nobody", Entity::Companies).await.unwrap(), 0);
}

/// `changes(after, limit)`: the feed after a number, in order, at most `limit`.
pub async fn changes_after_a_sequence(f: &dyn StoreFactory) {
    let s = f.open().await.unwrap();
    for i in 0..5 {
        let recs = (0..5)
            .map(|j| write(&format!("{i}-{j}"), json!({"n": j})))
            .collect();
        s.commit(companies(recs, vec![])).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let batch = s.changes(CONN, after, 7).await.unwrap();
        assert!(batch.len() <= 7);
        let Some(last) = batch.last() else { break };
        after = last.seq;
        seen.extend(batch.iter().map(|c| c.seq));
    }
    assert_eq!(seen, (1..=25).collect::<Vec<u64>>());
    assert_eq!(s.changes(CONN, 2, 1).await.unwrap()[0].seq, 3);
    assert!(s.changes(CONN, 25, 10).await.unwrap().is_empty());
    assert!(s.changes(CONN, 0, 0).await.unwrap().is_empty());
    assert!(s.changes(CONN, u64::MAX, 10).await.unwrap().is_empty());
}

/// `list`: field filters (nested, string against number or boolean), `updated_since`, pages.
pub async fn list_filters_and_pages(f: &dyn StoreFactory) {
    let s = f.open().await.unwrap();
    let recs = (1..=5)
        .map(|i| {
            write(
                &i.to_string(),
                json!({
                    "id": i.to_string(),
                    "active": i % 2 == 1,
                    "count": i,
                    "status": {"id": "1", "name": if i < 4 { "Active" } else { "Gone" }},
                    "updated-at": format!("2026-01-0{i}T00:00:00Z"),
                }),
            )
        })
        .collect();
    s.commit(companies(recs, vec![])).await.unwrap();
    // Another entity with the same ids stays apart.
    s.commit(page(
        Entity::Contacts,
        vec![write("1", json!({"id": "1"}))],
        vec![],
    ))
    .await
    .unwrap();
    assert_eq!(s.count(CONN, Entity::Companies).await.unwrap(), 5);
    assert_eq!(s.count(CONN, Entity::Contacts).await.unwrap(), 1);

    let q = ListQuery {
        limit: 2,
        ..ListQuery::default()
    };
    let p1 = s.list(CONN, Entity::Companies, q.clone()).await.unwrap();
    assert_eq!(
        (ids(&p1), p1.next.as_deref()),
        (vec!["1".into(), "2".into()], Some("2"))
    );
    let p2 = s
        .list(
            CONN,
            Entity::Companies,
            ListQuery {
                after: p1.next.clone(),
                ..q.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&p2), vec!["3", "4"]);
    let p3 = s
        .list(
            CONN,
            Entity::Companies,
            ListQuery {
                after: p2.next.clone(),
                ..q.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!((ids(&p3), p3.next), (vec!["5".to_string()], None));
    // A page that ends exactly at the last record has no next.
    let exact = s
        .list(
            CONN,
            Entity::Companies,
            ListQuery {
                limit: 5,
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((exact.records.len(), exact.next), (5, None));
    // Limit 0: the default (100).
    let all = s
        .list(CONN, Entity::Companies, ListQuery::default())
        .await
        .unwrap();
    assert_eq!((all.records.len(), all.next), (5, None));
    assert_eq!(all.records[2].record["count"], json!(3));

    let filtered = s
        .list(
            CONN,
            Entity::Companies,
            ListQuery {
                equals: vec![
                    ("active".into(), json!("true")),
                    ("status/name".into(), json!("Active")),
                ],
                updated_since: Some(crate::parse_time("2026-01-02T00:00:00Z").unwrap()),
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&filtered), vec!["3"]);
    let by_number = |v: Value| ListQuery {
        equals: vec![("count".into(), v)],
        ..ListQuery::default()
    };
    for v in [json!(4), json!("4")] {
        let p = s.list(CONN, Entity::Companies, by_number(v)).await.unwrap();
        assert_eq!(ids(&p), vec!["4"]);
    }
    let absent = s
        .list(
            CONN,
            Entity::Companies,
            ListQuery {
                equals: vec![("status/missing".into(), json!("x"))],
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(absent.records.is_empty());
    // Filtered pages: `next` is the last returned id, and the next page starts after it.
    let active = ListQuery {
        equals: vec![("active".into(), json!(true))],
        limit: 2,
        ..ListQuery::default()
    };
    let a1 = s
        .list(CONN, Entity::Companies, active.clone())
        .await
        .unwrap();
    assert_eq!(
        (ids(&a1), a1.next.as_deref()),
        (vec!["1".into(), "3".into()], Some("3"))
    );
    let a2 = s
        .list(
            CONN,
            Entity::Companies,
            ListQuery {
                after: a1.next,
                ..active
            },
        )
        .await
        .unwrap();
    assert_eq!((ids(&a2), a2.next), (vec!["5".to_string()], None));
    // Since the last record's time: only it; records without a readable time never match.
    s.commit(companies(
        vec![write("6", json!({"updated-at": "not a time"}))],
        vec![],
    ))
    .await
    .unwrap();
    let since = s
        .list(
            CONN,
            Entity::Companies,
            ListQuery {
                updated_since: Some(crate::parse_time("2026-01-05T00:00:00Z").unwrap()),
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&since), vec!["5"]);
}

/// `list` orders ids by their bytes (not numerically, not by locale), across filter batches.
pub async fn list_orders_ids_by_bytes(f: &dyn StoreFactory) {
    let s = f.open().await.unwrap();
    let mut ids_in = vec!["9", "10", "a", "B", "_", "é", "Z9", "1000"];
    let recs = ids_in
        .iter()
        .map(|id| write(id, json!({"keep": true})))
        .chain((0..1200).map(|i| write(&format!("x{i:05}"), json!({"keep": i % 600 == 0}))))
        .collect();
    s.commit(companies(recs, vec![])).await.unwrap();
    ids_in.extend(["x00000", "x00600"]);
    ids_in.sort_unstable(); // byte order
    let mut got = Vec::new();
    let mut after = None;
    loop {
        let p = s
            .list(
                CONN,
                Entity::Companies,
                ListQuery {
                    equals: vec![("keep".into(), json!(true))],
                    after: after.clone(),
                    limit: 3,
                    ..ListQuery::default()
                },
            )
            .await
            .unwrap();
        got.extend(ids(&p));
        match p.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(got, ids_in);
    let diff = s.sweep_diff(CONN, Entity::Companies).await.unwrap();
    let mut sorted = diff.unseen.clone();
    sorted.sort_unstable();
    assert_eq!(diff.unseen, sorted, "sweep_diff lists ids in byte order");
}

fn checkpoint(run: &RunRecord, state: &SyncState) -> Checkpoint {
    Checkpoint {
        state: state.clone(),
        run: run.clone(),
    }
}

/// A page's records, seen ids, checkpoint and run counts are committed together.
pub async fn checkpoint_seen_and_runs_commit_together(f: &dyn StoreFactory) {
    let s = f.open().await.unwrap();
    let id = s.next_run_id().await.unwrap();
    let run = RunRecord::new(id, Entity::Companies, SyncMode::Full);
    let state = SyncState {
        last_run: Some(id),
        ..SyncState::default()
    };
    s.save_run(CONN, checkpoint(&run, &state), true)
        .await
        .unwrap();
    assert_eq!(s.run(CONN, id).await.unwrap().unwrap(), run);
    s.commit(companies(
        vec![write("1", json!({"a": 1})), write("2", json!({"a": 2}))],
        vec![],
    ))
    .await
    .unwrap();
    let mut p = companies(
        vec![write("2", json!({"a": 2})), write("3", json!({"a": 3}))],
        vec![],
    );
    p.mark_seen = true;
    let mut run1 = run.clone();
    run1.pages = 1;
    run1.created = 10; // counts already in the run are kept and added to
    let state1 = SyncState {
        last_run: Some(id),
        in_progress: Some(crate::RunCursor {
            run_id: id,
            mode: SyncMode::Full,
            updated_since: None,
            cursor: Some("page-2".into()),
            max_updated_at: Some(crate::parse_time("2026-01-02T03:04:05.123456789Z").unwrap()),
            paged: false,
        }),
        ..SyncState::default()
    };
    p.checkpoint = Some(checkpoint(&run1, &state1));
    let out = s.commit(p).await.unwrap();
    let saved = out.run.unwrap();
    assert_eq!(
        (saved.pages, saved.created, saved.unchanged, saved.updated),
        (1, 11, 1, 0)
    );
    assert_eq!(s.run(CONN, id).await.unwrap().unwrap(), saved);
    assert_eq!(s.sync_state(CONN, Entity::Companies).await.unwrap(), state1);
    assert_eq!(
        s.sync_state(CONN, Entity::Contacts).await.unwrap(),
        SyncState::default()
    );
    let diff = s.sweep_diff(CONN, Entity::Companies).await.unwrap();
    assert_eq!((diff.stored, diff.unseen), (3, vec!["1".to_string()]));

    // A new sweep forgets what the previous one saw.
    let mut done = saved.clone();
    done.status = RunStatus::Completed;
    s.save_run(CONN, checkpoint(&done, &SyncState::default()), true)
        .await
        .unwrap();
    assert_eq!(
        s.sweep_diff(CONN, Entity::Companies)
            .await
            .unwrap()
            .unseen
            .len(),
        3
    );
    assert_eq!(s.runs(CONN, 10).await.unwrap(), vec![done]);
}

/// Seen ids belong to one (connection, entity) and last until a save clears them.
pub async fn sweep_diff_tracks_the_current_sweep(f: &dyn StoreFactory) {
    let s = f.open().await.unwrap();
    let empty = s.sweep_diff(CONN, Entity::Companies).await.unwrap();
    assert_eq!((empty.stored, empty.unseen.len()), (0, 0));
    let recs = |ids: &[&str]| ids.iter().map(|id| write(id, json!({"id": id}))).collect();
    s.commit(companies(recs(&["1", "2", "3", "4"]), vec![]))
        .await
        .unwrap();
    s.commit(page(Entity::Contacts, recs(&["1", "2"]), vec![]))
        .await
        .unwrap();
    let mut seen = companies(recs(&["2", "9"]), vec![]);
    seen.mark_seen = true;
    s.commit(seen).await.unwrap();
    let mut seen = companies(recs(&["4"]), vec![]);
    seen.mark_seen = true;
    s.commit(seen).await.unwrap();
    // Not marked: not seen.
    s.commit(companies(recs(&["3"]), vec![])).await.unwrap();
    let diff = s.sweep_diff(CONN, Entity::Companies).await.unwrap();
    assert_eq!(
        (diff.stored, diff.unseen),
        (5, vec!["1".to_string(), "3".to_string()])
    );
    let contacts = s.sweep_diff(CONN, Entity::Contacts).await.unwrap();
    assert_eq!(contacts.unseen, vec!["1", "2"]);
    let mut other = companies(recs(&["1"]), vec![]);
    other.connection = "globex".into();
    other.mark_seen = true;
    s.commit(other).await.unwrap();
    assert_eq!(
        s.sweep_diff(CONN, Entity::Companies).await.unwrap().unseen,
        vec!["1", "3"],
        "another connection's sweep is its own"
    );
    // Deleting the unseen ones leaves nothing unseen.
    s.commit(companies(vec![], vec!["1", "3"])).await.unwrap();
    let diff = s.sweep_diff(CONN, Entity::Companies).await.unwrap();
    assert_eq!((diff.stored, diff.unseen.len()), (3, 0));
    // Saving without clearing keeps the seen ids; clearing forgets this entity's only.
    let run = RunRecord::new(
        s.next_run_id().await.unwrap(),
        Entity::Companies,
        SyncMode::Full,
    );
    s.save_run(CONN, checkpoint(&run, &SyncState::default()), false)
        .await
        .unwrap();
    assert!(
        s.sweep_diff(CONN, Entity::Companies)
            .await
            .unwrap()
            .unseen
            .is_empty()
    );
    let mut seen_contacts = page(Entity::Contacts, recs(&["1"]), vec![]);
    seen_contacts.mark_seen = true;
    s.commit(seen_contacts).await.unwrap();
    s.save_run(CONN, checkpoint(&run, &SyncState::default()), true)
        .await
        .unwrap();
    assert_eq!(
        s.sweep_diff(CONN, Entity::Companies).await.unwrap().unseen,
        vec!["2", "4", "9"]
    );
    assert_eq!(
        s.sweep_diff(CONN, Entity::Contacts).await.unwrap().unseen,
        vec!["2"]
    );

    // In a sweep that was started (above): what its pages create or change is seen, what
    // another commit writes is not until the sweep's pages see it again.
    let rec = |id: &str, v: u32| vec![write(id, json!({"id": id, "v": v}))];
    let sweep = |upserts| PageCommit {
        mark_seen: true,
        ..companies(upserts, vec![])
    };
    s.commit(sweep(rec("20", 1))).await.unwrap(); // created by the sweep
    s.commit(sweep(rec("2", 1))).await.unwrap(); // changed by the sweep
    s.commit(companies(rec("21", 1), vec![])).await.unwrap(); // created by another commit
    s.commit(companies(rec("4", 1), vec![])).await.unwrap(); // changed by another commit
    s.commit(companies(rec("9", 1), vec![])).await.unwrap(); // changed, then seen changed
    s.commit(sweep(rec("9", 2))).await.unwrap();
    s.commit(companies(rec("22", 1), vec![])).await.unwrap(); // created, then seen unchanged
    s.commit(sweep(rec("22", 1))).await.unwrap();
    assert_eq!(
        s.sweep_diff(CONN, Entity::Companies).await.unwrap().unseen,
        vec!["21", "4"]
    );
}

/// Sync state per (connection, entity); run ids increase; runs newest first, per connection.
pub async fn sync_state_and_runs(f: &dyn StoreFactory) {
    let s = f.open().await.unwrap();
    assert_eq!(
        s.sync_state(CONN, Entity::Tickets).await.unwrap(),
        SyncState::default()
    );
    assert!(s.runs(CONN, 10).await.unwrap().is_empty());
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(s.next_run_id().await.unwrap());
    }
    assert!(ids[0] >= 1, "run ids start at 1");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(s.run(CONN, ids[0]).await.unwrap().is_none());

    let t = |s: &str| crate::parse_time(s).unwrap();
    let mut runs = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let entity = Entity::ALL[i % 2];
        let mut run = RunRecord::new(*id, entity, SyncMode::Incremental);
        run.status = [RunStatus::Completed, RunStatus::Held, RunStatus::Failed][i % 3];
        run.error = (i == 2).then(|| "the PSA said no: \"\\u0000\" \u{0}".to_string());
        run.finished_at = Some(t("2026-02-03T04:05:06.789123456Z"));
        run.held = (i == 1).then(|| crate::HeldDeletion {
            would_delete: 7,
            stored: 9,
            max_share: 0.5,
            floor: 3,
            sample: vec!["a".into(), "b".into()],
        });
        let state = SyncState {
            high_water: Some(t("2026-01-01T00:00:00.000001Z")),
            last_full_sweep: Some(t("2025-12-31T23:59:59Z")),
            suspended_until: None,
            last_run: Some(*id),
            in_progress: None,
        };
        let connection = if i == 4 { "globex" } else { CONN };
        s.save_run(connection, checkpoint(&run, &state), false)
            .await
            .unwrap();
        assert_eq!(s.sync_state(connection, entity).await.unwrap(), state);
        runs.push(run);
    }
    let acme: Vec<RunRecord> = runs[..4].iter().rev().cloned().collect();
    assert_eq!(s.runs(CONN, 10).await.unwrap(), acme);
    assert_eq!(s.runs(CONN, 2).await.unwrap(), acme[..2].to_vec());
    assert_eq!(s.runs("globex", 10).await.unwrap(), vec![runs[4].clone()]);
    assert_eq!(s.run(CONN, ids[2]).await.unwrap().unwrap(), runs[2]);
    assert!(s.run("globex", ids[2]).await.unwrap().is_none());
    // Saving a run again replaces it.
    let mut again = runs[0].clone();
    again.resumed = 3;
    again.status = RunStatus::Suspended;
    again.suspended_until = Some(t("2030-01-01T00:00:00Z"));
    s.save_run(CONN, checkpoint(&again, &SyncState::default()), false)
        .await
        .unwrap();
    assert_eq!(s.run(CONN, ids[0]).await.unwrap().unwrap(), again);
    assert_eq!(s.runs(CONN, 10).await.unwrap().len(), 4);
    assert_eq!(
        s.sync_state(CONN, again.entity).await.unwrap(),
        SyncState::default()
    );
}

/// Pages of two entities of one connection committed at once, many times, while a consumer
/// follows the feed: every number once, in order, each page's events contiguous, and the
/// consumer never sees a number before the ones below it.
pub async fn concurrent_commits_stay_gapless(f: &dyn StoreFactory) {
    const PAGES: usize = 12;
    const PER_PAGE: usize = 15;
    let s = f.open().await.unwrap();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let consumer = {
        let s = s.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut last = 0u64;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let batch = s.changes(CONN, last, 50).await.unwrap();
                for c in &batch {
                    assert_eq!(c.seq, last + 1, "the feed skipped past a number");
                    last = c.seq;
                }
                if batch.is_empty() {
                    if finished {
                        return last;
                    }
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    let mut writers = Vec::new();
    for entity in [Entity::Companies, Entity::Contacts] {
        for p in 0..PAGES {
            let s = s.clone();
            writers.push(tokio::spawn(async move {
                let recs = (0..PER_PAGE)
                    .map(|i| write(&format!("{p}-{i}"), json!({"p": p, "i": i})))
                    .collect();
                let out = s.commit(page(entity, recs, vec![])).await.unwrap();
                assert_eq!(out.created, PER_PAGE as u64);
                out.last_seq
            }));
        }
    }
    let mut lasts = Vec::new();
    for w in writers {
        lasts.push(w.await.unwrap());
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let total = (2 * PAGES * PER_PAGE) as u64;
    assert_eq!(consumer.await.unwrap(), total);
    lasts.sort_unstable();
    assert_eq!(
        lasts,
        (1..=(2 * PAGES) as u64)
            .map(|k| k * PER_PAGE as u64)
            .collect::<Vec<_>>(),
        "each page got a contiguous block of numbers"
    );
    let feed = s.changes(CONN, 0, 10_000).await.unwrap();
    assert_eq!(
        feed.iter().map(|c| c.seq).collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>()
    );
    let distinct: HashSet<(Entity, &str)> =
        feed.iter().map(|c| (c.entity, c.id.as_str())).collect();
    assert_eq!(distinct.len(), total as usize, "every record once");
    for c in &feed {
        let block = (c.seq - 1) / PER_PAGE as u64;
        let first = &feed[(block * PER_PAGE as u64) as usize];
        assert_eq!(
            (c.entity, c.id.split('-').next()),
            (first.entity, first.id.split('-').next()),
            "a page's events are contiguous"
        );
    }
    let out = s
        .commit(companies(vec![write("last", json!({}))], vec![]))
        .await
        .unwrap();
    assert_eq!(out.last_seq, total + 1);
}

/// A commit whose future is dropped at any point (a cancelled sync, a timeout) applies entirely
/// or not at all: records, events, seen ids, checkpoint and the sequence.
pub async fn interrupted_commit_applies_whole_or_not_at_all(f: &dyn StoreFactory) {
    let s = f.open().await.unwrap();
    let mut applied = 0u64;
    let mut expected_seq = 0u64;
    for attempt in 0..30u64 {
        let id = s.next_run_id().await.unwrap();
        let mut run = RunRecord::new(id, Entity::Companies, SyncMode::Full);
        run.pages = attempt + 1;
        let state = SyncState {
            last_run: Some(id),
            ..SyncState::default()
        };
        let mut p = companies(
            (0..40)
                .map(|i| write(&format!("{attempt}-{i}"), json!({"a": attempt, "i": i})))
                .collect(),
            vec![],
        );
        p.mark_seen = true;
        p.checkpoint = Some(checkpoint(&run, &state));
        // From "before it starts" to "long after it finished".
        let delay = Duration::from_micros(attempt * attempt * 40);
        let finished = tokio::time::timeout(delay, s.commit(p)).await.is_ok();
        // A dropped commit may still finish (sled's blocking thread, PostgreSQL's COMMIT on
        // its way): wait until two reads agree.
        let mut last_read = None;
        let (stored, state_now, run_now, feed, unseen) = loop {
            tokio::time::sleep(Duration::from_millis(30)).await;
            let read = (
                s.count(CONN, Entity::Companies).await.unwrap(),
                s.sync_state(CONN, Entity::Companies).await.unwrap(),
                s.run(CONN, id).await.unwrap(),
                s.changes(CONN, expected_seq, 1000).await.unwrap(),
                s.sweep_diff(CONN, Entity::Companies).await.unwrap().unseen,
            );
            if last_read.as_ref() == Some(&read) {
                break read;
            }
            last_read = Some(read);
        };
        let whole = stored == applied + 40
            && state_now == state
            && run_now.as_ref().map(|r| (r.pages, r.created)) == Some((attempt + 1, 40))
            && feed.len() == 40
            && unseen.is_empty();
        let nothing = stored == applied && run_now.is_none() && feed.is_empty();
        assert!(
            whole || nothing,
            "attempt {attempt} (finished: {finished}) left a partial commit: {stored} records \
             stored (before: {applied}), run {run_now:?}, {} events",
            feed.len()
        );
        assert!(!finished || whole, "a commit that returned is applied");
        if whole {
            applied += 40;
            expected_seq += 40;
            assert_eq!(feed.first().map(|c| c.seq), Some(expected_seq - 39));
        }
    }
    // The sequence continues after the last applied commit, without a gap.
    let out = s
        .commit(companies(vec![write("after", json!({}))], vec![]))
        .await
        .unwrap();
    assert_eq!(out.last_seq, expected_seq + 1);
    let feed = s.changes(CONN, 0, 100_000).await.unwrap();
    assert_eq!(
        feed.iter().map(|c| c.seq).collect::<Vec<_>>(),
        (1..=expected_seq + 1).collect::<Vec<_>>()
    );
}

/// Records, the sequence, state and runs survive closing and reopening the store.
pub async fn reopening_keeps_data_and_sequence(f: &dyn StoreFactory) {
    let run_id;
    {
        let s = f.open().await.unwrap();
        run_id = s.next_run_id().await.unwrap();
        let mut p = companies(vec![write("1", json!({"a": 1}))], vec![]);
        p.checkpoint = Some(checkpoint(
            &RunRecord::new(run_id, Entity::Companies, SyncMode::Full),
            &SyncState {
                last_run: Some(run_id),
                ..SyncState::default()
            },
        ));
        s.commit(p).await.unwrap();
        s.flush().await.unwrap();
    }
    let s = f.open().await.unwrap();
    assert_eq!(
        s.get(CONN, Entity::Companies, "1")
            .await
            .unwrap()
            .unwrap()
            .record,
        json!({"a": 1})
    );
    assert_eq!(
        s.sync_state(CONN, Entity::Companies)
            .await
            .unwrap()
            .last_run,
        Some(run_id)
    );
    assert!(s.run(CONN, run_id).await.unwrap().is_some());
    assert!(s.next_run_id().await.unwrap() > run_id);
    let out = s
        .commit(companies(vec![write("2", json!({"a": 2}))], vec![]))
        .await
        .unwrap();
    assert_eq!(out.last_seq, 2, "the sequence continues after a restart");
}

/// Links are set, replaced, listed by key in pages (per connection and kind), removed, kept
/// across a reopen, and never touch the change feed.
pub async fn links_are_set_listed_and_removed(f: &dyn StoreFactory) {
    let store = f.open().await.unwrap();
    let link = |company: &str| json!({"company-id": company, "decided-by": "name"});
    assert!(
        !store
            .set_link(CONN, "customers", "t-2", Some(link("20")))
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_link(CONN, "customers", "t-1", Some(link("10")))
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_link(CONN, "customers", "t-3", Some(link("30")))
            .await
            .unwrap()
    );
    // Replacing says a link was there.
    assert!(
        store
            .set_link(CONN, "customers", "t-1", Some(link("11")))
            .await
            .unwrap()
    );
    // Other kinds and connections are apart.
    store
        .set_link(CONN, "devices", "t-1", Some(link("99")))
        .await
        .unwrap();
    store
        .set_link("other", "customers", "t-1", Some(link("98")))
        .await
        .unwrap();

    let all = store.links(CONN, "customers", None, 0).await.unwrap();
    assert_eq!(
        all,
        [
            ("t-1".to_string(), link("11")),
            ("t-2".to_string(), link("20")),
            ("t-3".to_string(), link("30"))
        ]
    );
    let first = store.links(CONN, "customers", None, 2).await.unwrap();
    assert_eq!(first.len(), 2);
    let rest = store
        .links(CONN, "customers", Some(first[1].0.clone()), 2)
        .await
        .unwrap();
    assert_eq!(rest, [("t-3".to_string(), link("30"))]);

    assert!(
        store
            .set_link(CONN, "customers", "t-2", None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_link(CONN, "customers", "t-2", None)
            .await
            .unwrap(),
        "already gone"
    );
    assert!(
        store.changes(CONN, 0, 100).await.unwrap().is_empty(),
        "links are not records"
    );
    store.flush().await.unwrap();
    drop(store);
    let store = f.open().await.unwrap();
    let keys: Vec<String> = store
        .links(CONN, "customers", None, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["t-1", "t-3"]);
    assert_eq!(
        store.get_link(CONN, "customers", "t-3").await.unwrap(),
        Some(link("30"))
    );
    assert_eq!(
        store.get_link(CONN, "customers", "t-2").await.unwrap(),
        None
    );
    assert_eq!(
        store.get_link(CONN, "devices", "t-3").await.unwrap(),
        None,
        "kinds are apart"
    );
    assert_eq!(
        store.links("other", "customers", None, 0).await.unwrap(),
        [("t-1".to_string(), link("98"))]
    );
}

/// The audit trail numbers its entries 1, 2, 3, ... per connection, also under concurrent
/// appends, lists them after a sequence number in pages, keeps them across a reopen, and never
/// touches the change feed.
pub async fn audit_trail_is_numbered_per_connection(f: &dyn StoreFactory) {
    let store = f.open().await.unwrap();
    assert!(store.audit(CONN, 0, 0).await.unwrap().is_empty());
    let entry = |n: u64| json!({"workflow": "test", "n": n});
    assert_eq!(store.append_audit(CONN, entry(1)).await.unwrap(), 1);
    assert_eq!(store.append_audit(CONN, entry(2)).await.unwrap(), 2);
    assert_eq!(
        store.append_audit("other", entry(100)).await.unwrap(),
        1,
        "numbered per connection"
    );
    let appends = (3..=22).map(|n| {
        let store = store.clone();
        tokio::spawn(async move { store.append_audit(CONN, entry(n)).await.unwrap() })
    });
    let mut numbers = Vec::new();
    for task in appends.collect::<Vec<_>>() {
        numbers.push(task.await.unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        (3..=22).collect::<Vec<u64>>(),
        "gapless and unique"
    );

    let all = store.audit(CONN, 0, 1000).await.unwrap();
    assert_eq!(all.len(), 22);
    assert_eq!(all[0], (1, entry(1)));
    assert_eq!(all[1], (2, entry(2)));
    assert!(all.windows(2).all(|w| w[0].0 + 1 == w[1].0));
    let page = store.audit(CONN, 20, 0).await.unwrap();
    assert_eq!(
        page.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        [21, 22]
    );
    assert_eq!(store.audit(CONN, 5, 2).await.unwrap().len(), 2);
    assert!(store.audit(CONN, u64::MAX, 0).await.unwrap().is_empty());
    assert!(
        store.changes(CONN, 0, 100).await.unwrap().is_empty(),
        "the audit trail has no change events"
    );
    store.flush().await.unwrap();
    drop(store);
    let store = f.open().await.unwrap();
    assert_eq!(store.audit(CONN, 21, 0).await.unwrap().len(), 1);
    assert_eq!(store.append_audit(CONN, entry(23)).await.unwrap(), 23);
    assert_eq!(store.audit("other", 0, 0).await.unwrap(), [(1, entry(100))]);
}

/// Connections whose ids are prefixes of one another (`a`, `ab`, `a/b`) see only their own
/// records, feed, sync state, seen ids, runs, links and audit trail: a backend that keys shared
/// tables or trees by connection must not let a prefix scan of `a` reach `ab`.
pub async fn connections_whose_ids_are_prefixes_of_each_other_are_isolated(f: &dyn StoreFactory) {
    let s = f.open().await.unwrap();
    let names = ["a", "ab", "a/b", "b"];
    let mut runs = Vec::new();
    for (n, name) in names.iter().enumerate() {
        let id = s.next_run_id().await.unwrap();
        let run = RunRecord::new(id, Entity::Companies, SyncMode::Full);
        let state = SyncState {
            last_run: Some(id),
            ..SyncState::default()
        };
        let mut p = companies(
            (0..=n)
                .map(|i| write(&format!("{i}"), json!({"connection": name})))
                .collect(),
            vec![],
        );
        p.connection = name.to_string();
        p.mark_seen = true;
        p.checkpoint = Some(checkpoint(&run, &state));
        let out = s.commit(p).await.unwrap();
        assert_eq!(out.last_seq, n as u64 + 1, "`{name}` has its own sequence");
        runs.push(out.run.unwrap());
        s.set_link(name, "customers", "t", Some(json!({"of": name})))
            .await
            .unwrap();
        assert_eq!(s.append_audit(name, json!({"of": name})).await.unwrap(), 1);
    }
    // Writes of `a` after the others' do not move into their ranges either.
    let mut more = companies(vec![write("x", json!({"connection": "a"}))], vec!["0"]);
    more.connection = "a".into();
    assert_eq!(s.commit(more).await.unwrap().last_seq, 3);

    for (n, name) in names.iter().enumerate() {
        let page = s
            .list(name, Entity::Companies, ListQuery::default())
            .await
            .unwrap();
        assert!(
            page.records
                .iter()
                .all(|r| r.record == json!({"connection": name})),
            "`{name}` lists only its records"
        );
        let count = s.count(name, Entity::Companies).await.unwrap();
        assert_eq!(count, page.records.len() as u64);
        let feed = s.changes(name, 0, 100).await.unwrap();
        let expected = if *name == "a" { 3 } else { n + 1 };
        assert_eq!(
            feed.iter().map(|c| c.seq).collect::<Vec<_>>(),
            (1..=expected as u64).collect::<Vec<_>>(),
            "`{name}`'s feed is its own"
        );
        if *name == "a" {
            assert_eq!((count, feed[2].kind), (1, ChangeKind::Deleted));
        } else {
            assert_eq!(count, n as u64 + 1);
        }
        assert_eq!(
            s.get(name, Entity::Companies, &n.to_string())
                .await
                .unwrap()
                .map(|r| r.record),
            (*name != "a").then(|| json!({"connection": name}))
        );
        assert_eq!(
            s.sync_state(name, Entity::Companies)
                .await
                .unwrap()
                .last_run,
            Some(runs[n].id)
        );
        assert_eq!(s.runs(name, 10).await.unwrap(), vec![runs[n].clone()]);
        for (m, other) in runs.iter().enumerate() {
            assert_eq!(
                s.run(name, other.id).await.unwrap().is_some(),
                m == n,
                "`{name}` reads only its own runs"
            );
        }
        let diff = s.sweep_diff(name, Entity::Companies).await.unwrap();
        assert_eq!(diff.stored, count);
        let expected_unseen: Vec<String> = if *name == "a" {
            vec!["x".into()]
        } else {
            Vec::new()
        };
        assert_eq!(diff.unseen, expected_unseen, "`{name}`'s seen ids");
        assert_eq!(
            s.links(name, "customers", None, 0).await.unwrap(),
            vec![("t".to_string(), json!({"of": name}))]
        );
        assert_eq!(
            s.audit(name, 0, 0).await.unwrap(),
            vec![(1, json!({"of": name}))]
        );
    }
    for name in ["", "a\u{ff}", "aa"] {
        assert!(s.changes(name, 0, 10).await.unwrap().is_empty());
        assert!(s.runs(name, 10).await.unwrap().is_empty());
        assert!(s.audit(name, 0, 0).await.unwrap().is_empty());
        assert_eq!(s.count(name, Entity::Companies).await.unwrap(), 0);
    }
}

/// Several connections committing at the same time (as the scheduler's syncs do): each
/// connection's feed is gapless, every page got a contiguous block of its connection's numbers,
/// and no record or event lands in another connection.
pub async fn commits_of_several_connections_at_once_stay_gapless(f: &dyn StoreFactory) {
    const CONNECTIONS: usize = 6;
    const PAGES: usize = 8;
    const PER_PAGE: usize = 10;
    let s = f.open().await.unwrap();
    let name = |c: usize| "c".repeat(c + 1); // `c`, `cc`, ...: prefixes of one another
    let mut writers = Vec::new();
    for c in 0..CONNECTIONS {
        for p in 0..PAGES {
            let s = s.clone();
            let connection = name(c);
            writers.push(tokio::spawn(async move {
                let recs = (0..PER_PAGE)
                    .map(|i| write(&format!("{p}-{i}"), json!({"c": connection, "p": p})))
                    .collect();
                let mut page = companies(recs, vec![]);
                page.connection = connection.clone();
                let out = s.commit(page).await.unwrap();
                assert_eq!(out.created, PER_PAGE as u64);
                (c, out.last_seq)
            }));
        }
    }
    let mut lasts = vec![Vec::new(); CONNECTIONS];
    for w in writers {
        let (c, last) = w.await.unwrap();
        lasts[c].push(last);
    }
    let total = (PAGES * PER_PAGE) as u64;
    for (c, mut lasts) in lasts.into_iter().enumerate() {
        let connection = name(c);
        lasts.sort_unstable();
        assert_eq!(
            lasts,
            (1..=PAGES as u64)
                .map(|k| k * PER_PAGE as u64)
                .collect::<Vec<_>>(),
            "`{connection}`: each page got a contiguous block of numbers"
        );
        let feed = s.changes(&connection, 0, 10_000).await.unwrap();
        assert_eq!(
            feed.iter().map(|c| c.seq).collect::<Vec<_>>(),
            (1..=total).collect::<Vec<_>>(),
            "`{connection}`'s feed is gapless"
        );
        let distinct: HashSet<&str> = feed.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(distinct.len(), total as usize, "every record once");
        let page = s
            .list(
                &connection,
                Entity::Companies,
                ListQuery {
                    limit: 1000,
                    ..ListQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.records.len() as u64, total);
        assert!(
            page.records
                .iter()
                .all(|r| r.record["c"] == json!(connection))
        );
    }
}
