//! Instantiate + call of connector exports on the pooling allocator, and a full paged pull from
//! the simulator through the ConnectWise connector.
//!
//! Run: `cargo bench -p psahost-e2e --bench runtime`. Each instantiate+call iteration creates a
//! fresh store, instantiates the component from its `InstancePre` (a pooling slot), calls one
//! export and drops the store, exactly as every call of the host does. Each paged-pull iteration
//! reads every company of a 5,000-company simulator in pages of 1,000 (one sandboxed call and
//! one HTTP request over loopback per page, JSON mapped to the WIT records in the guest).
//!
//! Next to the connector's calls, in the same run: an empty component (one core module, one
//! export returning a constant, built here from WAT) loaded with the same engine, pooling
//! allocator and linker and called through the same path (`Runtime::call_bare`), the floor of
//! what the sandbox costs per call. Target: the connector's instantiate + call within 1.2x of it.
//! And two Rust components (the connector, the example rule) instantiated and dropped through
//! the same path without calling any export: what a Rust wasip2 component's shape costs alone.

use criterion::{Criterion, criterion_group, criterion_main};
use psahost_e2e::*;
use psahost_sandbox::bindings::psa::connector::types::ReferenceKind;
use psahost_sandbox::capabilities::kv::KvStore;
use psahost_sandbox::runtime::AllocatorKind;
use std::time::Duration;

/// The smallest component with one export: `run() -> u32`.
const EMPTY_COMPONENT: &str = r#"
(component
  (core module $m
    (func (export "run") (result i32) i32.const 7))
  (core instance $i (instantiate $m))
  (func (export "run") (result u32) (canon lift (core func $i "run"))))
"#;

/// A connection of the ConnectWise connector built at `path`, with settings that answer
/// `list-references` without I/O.
fn connectwise_offline(
    rt: &tokio::runtime::Runtime,
    runtime: &std::sync::Arc<psahost_sandbox::runtime::Runtime>,
    kv: &KvStore,
    path: &str,
) -> psahost_sandbox::connector::Connection {
    let cw = rt.block_on(load(runtime, path));
    connect(
        runtime,
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
        kv,
    )
}

/// The connector's `list-references` of a kind ConnectWise has no list of: answered
/// (`unsupported`) without I/O.
async fn list_references_offline(conn: &psahost_sandbox::connector::Connection) {
    conn.list_references(ReferenceKind::TicketCategory)
        .await
        .unwrap_err();
}

/// One call of the empty component's `run`, through the path of every plugin call.
async fn run_empty(
    runtime: &psahost_sandbox::runtime::Runtime,
    empty: &psahost_sandbox::runtime::BareComponent,
) {
    let answer = runtime
        .call_bare(empty, "run", |store, instance| {
            Box::pin(async move {
                let run = instance.get_typed_func::<(), (u32,)>(&mut *store, "run")?;
                let (answer,) = run.call_async(&mut *store, ()).await?;
                Ok(answer)
            })
        })
        .await
        .unwrap();
    assert_eq!(answer, 7);
}

/// The connector's component instantiated and dropped through the same path, no export called:
/// what instantiating a Rust wasip2 component costs by itself.
async fn instantiate_only(
    runtime: &psahost_sandbox::runtime::Runtime,
    component: &psahost_sandbox::runtime::BareComponent,
) {
    runtime
        .call_bare(component, "none", |_, _| Box::pin(async { Ok(()) }))
        .await
        .unwrap();
}

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
    let empty = runtime
        .load_bare("empty", EMPTY_COMPONENT.as_bytes())
        .expect("the empty component");
    group.bench_function("empty component run (no import, no memory)", |b| {
        b.to_async(&rt).iter(|| run_empty(&runtime, &empty))
    });
    group.bench_function("hostile test-connection (one settings import)", |b| {
        b.to_async(&rt)
            .iter(|| async { conn.test_connection().await.unwrap() })
    });

    let cw_conn = connectwise_offline(&rt, &runtime, &kv, CONNECTWISE_MANAGE_PATH);
    group.bench_function(
        "connectwise-manage list-references (answered without I/O)",
        |b| {
            b.to_async(&rt)
                .iter(|| async { list_references_offline(&cw_conn).await })
        },
    );
    group.finish();
}

/// Microseconds per call of `call`, called `calls` times in a row.
async fn per_call(calls: u32, mut call: impl AsyncFnMut()) -> f64 {
    let started = std::time::Instant::now();
    for _ in 0..calls {
        call().await;
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(calls)
}

/// The empty component and the connector's `list-references` called in alternation (rounds of
/// 200 calls each), so both see the same load: prints each one's median time per call over the
/// rounds and their ratio (target: at most 1.2).
fn ratio_to_empty(_: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let runtime = runtime(64 << 20, Duration::from_secs(30));
    let kv = KvStore::temporary().unwrap();
    let empty = runtime
        .load_bare("empty", EMPTY_COMPONENT.as_bytes())
        .expect("the empty component");
    let cw_conn = connectwise_offline(&rt, &runtime, &kv, CONNECTWISE_MANAGE_PATH);
    // The same connector built for contract 0.1.0: its calls go through the 0.1.0 bindings.
    let cw_old = connectwise_offline(&rt, &runtime, &kv, CONNECTWISE_MANAGE_V0_1_0_PATH);
    let cw_bytes = std::fs::read(CONNECTWISE_MANAGE_PATH).expect("the connector's component");
    let cw_bare = runtime
        .load_bare("connectwise-manage", &cw_bytes)
        .expect("the connector as a bare component");
    let rule_bytes = std::fs::read(EXAMPLE_RULE_PATH).expect("the example rule's component");
    let rule_bare = runtime
        .load_bare("example-rule", &rule_bytes)
        .expect("the example rule as a bare component");
    const CALLS: u32 = 200;
    let rounds = std::env::var("PSAHOST_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30usize);
    let (mut empty_us, mut cw_us, mut old_us, mut bare_us, mut rule_us) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    rt.block_on(async {
        for round in 0..=rounds {
            let e = per_call(CALLS, async || run_empty(&runtime, &empty).await).await;
            let c = per_call(CALLS, async || list_references_offline(&cw_conn).await).await;
            let o = per_call(CALLS, async || list_references_offline(&cw_old).await).await;
            let b = per_call(CALLS, async || instantiate_only(&runtime, &cw_bare).await).await;
            let r = per_call(CALLS, async || instantiate_only(&runtime, &rule_bare).await).await;
            // The first round warms them up.
            if round > 0 {
                empty_us.push(e);
                cw_us.push(c);
                old_us.push(o);
                bare_us.push(b);
                rule_us.push(r);
            }
        }
    });
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (e, c, o, b, r) = (
        median(&mut empty_us),
        median(&mut cw_us),
        median(&mut old_us),
        median(&mut bare_us),
        median(&mut rule_us),
    );
    println!(
        "\ninstantiate+call, alternating, {rounds} rounds of {CALLS} calls (median µs per call):\n\
         empty component run                 {e:8.1} µs\n\
         connectwise-manage list-references  {c:8.1} µs\n\
         ratio connector / empty             {:8.2} (target <= 1.2)\n\
         the same, built for contract 0.1.0  {o:8.1} µs\n\
         instantiated only, no export called (Rust wasip2 components):\n\
         connectwise-manage ({:4} KB)        {b:8.1} µs ({:.2}x the empty run)\n\
         example-rule ({:4} KB)              {r:8.1} µs ({:.2}x the empty run)\n",
        c / e,
        cw_bytes.len() / 1000,
        b / e,
        rule_bytes.len() / 1000,
        r / e
    );
}

fn paged_pull(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let sim = rt
        .block_on(psa_sim::Simulator::start(psa_sim::SimConfig::connectwise(
            5_000, 1,
        )))
        .unwrap();
    let runtime = runtime(64 << 20, Duration::from_secs(30));
    let kv = KvStore::temporary().unwrap();
    let plugin = rt.block_on(load(&runtime, CONNECTWISE_MANAGE_PATH));
    let credentials = &sim.config().credentials;
    let conn = connectwise(
        &runtime,
        &plugin,
        &sim,
        "bench-pull",
        (&credentials.public_key, &credentials.private_key),
        &kv,
    );
    let expected = sim
        .state()
        .read(|d| d.companies.values().filter(|c| !c.deleted).count());
    let mut group = c.benchmark_group("paged pull");
    group.sample_size(20);
    group.throughput(criterion::Throughput::Elements(expected as u64));
    group.bench_function(
        "connectwise-manage companies, 5,000 in pages of 1,000",
        |b| {
            b.to_async(&rt).iter(|| async {
                let (items, _) = pull_all(1000, None, |p| {
                    let conn = conn.clone();
                    async move {
                        conn.list_companies(p)
                            .await
                            .map(|r| (r.items, r.next_cursor))
                    }
                })
                .await
                .unwrap();
                assert_eq!(items.len(), expected);
            })
        },
    );
    group.finish();
    rt.block_on(sim.shutdown());
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = instantiate_and_call, ratio_to_empty, paged_pull
}
criterion_main!(benches);
