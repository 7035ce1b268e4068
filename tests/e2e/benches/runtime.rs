//! Instantiate + call of connector exports on the pooling allocator.
//!
//! Run: `cargo bench -p psahost-e2e --bench runtime`. Each iteration creates a fresh store,
//! instantiates the component from its `InstancePre` (a pooling slot), calls one export and drops
//! the store, exactly as every call of the host does.

use criterion::{Criterion, criterion_group, criterion_main};
use psahost::bindings::psa::connector::types::ReferenceKind;
use psahost::capabilities::kv::KvStore;
use psahost::runtime::AllocatorKind;
use psahost_e2e::*;
use std::time::Duration;

fn instantiate_and_call(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let runtime = runtime(64 << 20, Duration::from_secs(30));
    assert_eq!(
        runtime.allocator(),
        AllocatorKind::Pooling,
        "the benchmark measures the pooling allocator"
    );
    let kv = KvStore::temporary().unwrap();

    let hostile = rt.block_on(load(&runtime, HOSTILE_PATH));
    let conn = connect(
        &runtime,
        &hostile,
        "bench",
        settings(&[("attack", "none")], &[]),
        &grant(&[]),
        &kv,
    );
    let mut group = c.benchmark_group("instantiate+call");
    group.bench_function("hostile test-connection (one settings import)", |b| {
        b.to_async(&rt)
            .iter(|| async { conn.test_connection().await.unwrap() })
    });

    let cw = rt.block_on(load(&runtime, CONNECTWISE_MANAGE_PATH));
    let cw_conn = connect(
        &runtime,
        &cw,
        "bench-cw",
        settings(
            &[
                ("site", "api-na.myconnectwise.net"),
                ("company-id", "acme"),
                ("public-key", "pub"),
                ("private-key", "priv"),
                ("client-id", "00000000-0000-0000-0000-000000000000"),
            ],
            &["private-key"],
        ),
        &grant(&["https://api-na.myconnectwise.net"]),
        &kv,
    );
    group.bench_function(
        "connectwise-manage list-references (answered without I/O)",
        |b| {
            b.to_async(&rt).iter(|| async {
                cw_conn
                    .list_references(ReferenceKind::TicketCategory)
                    .await
                    .unwrap_err()
            })
        },
    );
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = instantiate_and_call
}
criterion_main!(benches);
