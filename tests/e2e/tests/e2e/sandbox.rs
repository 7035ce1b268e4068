//! The sandbox against small hostile plugins: deadlines, memory caps, grants, private
//! addresses, response caps, traps and kv isolation. Secret redaction is in `secrets.rs`.

use psahost_e2e::*;
use psahost_sandbox::bindings::psa::connector::types::Error as PsaError;
use psahost_sandbox::capabilities::kv::KvStore;
use psahost_sandbox::connector::ConnectorError;
use psahost_sandbox::runtime::CallError;
use std::time::{Duration, Instant};

const MIB: u64 = 1024 * 1024;

fn message(result: Result<impl std::fmt::Debug, ConnectorError>) -> ConnectorError {
    result.expect_err("the call should fail")
}

#[tokio::test]
async fn an_infinite_loop_ends_at_the_deadline() {
    let rt = runtime(64 * MIB, Duration::from_millis(500));
    let plugin = load(&rt, HOSTILE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let conn = connect(
        &rt,
        &plugin,
        "spin",
        settings(&[("attack", "spin")], &[]),
        &grant(&[]),
        &kv,
    );
    let started = Instant::now();
    let err = message(conn.test_connection().await);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            err,
            ConnectorError::Call(CallError::Deadline { limit_ms: 500, .. })
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("deadline of 500 ms") && text.contains("hostile"),
        "{text}"
    );
}

#[tokio::test]
async fn a_memory_bomb_hits_the_cap() {
    let rt = runtime(32 * MIB, Duration::from_secs(20));
    let plugin = load(&rt, HOSTILE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let conn = connect(
        &rt,
        &plugin,
        "bomb",
        settings(&[("attack", "memory")], &[]),
        &grant(&[]),
        &kv,
    );
    let err = message(conn.test_connection().await);
    assert!(
        matches!(
            err,
            ConnectorError::Call(CallError::MemoryCap { cap_mib: 32, .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("memory cap of 32 MiB"), "{err}");
}

#[tokio::test]
async fn a_trap_fails_its_call_and_the_next_call_succeeds() {
    let rt = runtime(64 * MIB, Duration::from_secs(20));
    let plugin = load(&rt, HOSTILE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let bad = connect(
        &rt,
        &plugin,
        "bad",
        settings(&[("attack", "trap")], &[]),
        &grant(&[]),
        &kv,
    );
    let err = message(bad.test_connection().await);
    match &err {
        ConnectorError::Call(CallError::Trap { message, .. }) => {
            assert!(message.contains("unreachable"), "{message}")
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    // Same plugin, same runtime, even the same connection: a fresh instance each call.
    let good = connect(
        &rt,
        &plugin,
        "good",
        settings(&[("attack", "none")], &[]),
        &grant(&[]),
        &kv,
    );
    let report = good
        .test_connection()
        .await
        .expect("the next call succeeds");
    assert_eq!(report.message, "nothing to do");
    assert!(bad.test_connection().await.is_err());
    assert!(good.test_connection().await.is_ok());
}

fn forbidden(err: ConnectorError) -> String {
    match err {
        ConnectorError::Psa(PsaError::Forbidden(p)) => p.message,
        other => panic!("expected forbidden, got {other:?}"),
    }
}

#[tokio::test]
async fn a_host_outside_the_grant_is_denied() {
    let server = TestServer::start().await;
    let rt = runtime(64 * MIB, Duration::from_secs(20));
    let plugin = load(&rt, HOSTILE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let target = server.origin.trim_start_matches("http://");
    // The plugin may request the server, but the operator granted another origin.
    let conn = connect(
        &rt,
        &plugin,
        "outside",
        settings(
            &[
                ("attack", "fetch"),
                ("target", target),
                ("url", &format!("{}/x", server.origin)),
            ],
            &[],
        ),
        &grant(&["https://api-na.myconnectwise.net"]),
        &kv,
    );
    let m = forbidden(message(conn.test_connection().await));
    assert!(m.contains(&server.origin) && m.contains("grant"), "{m}");
    // Granted, but not requested by the plugin.
    let conn = connect(
        &rt,
        &plugin,
        "unrequested",
        settings(
            &[
                ("attack", "fetch"),
                ("target", "example.com"),
                ("url", &format!("{}/x", server.origin)),
            ],
            &[],
        ),
        &grant(&[&server.origin]),
        &kv,
    );
    let m = forbidden(message(conn.test_connection().await));
    assert!(m.contains("requested"), "{m}");
    assert!(
        server.seen.lock().unwrap().is_empty(),
        "no request reached the server"
    );
    // Both requested and granted: it goes through.
    let conn = connect(
        &rt,
        &plugin,
        "allowed",
        settings(
            &[
                ("attack", "fetch"),
                ("target", target),
                ("url", &format!("{}/x", server.origin)),
            ],
            &[],
        ),
        &grant(&[&server.origin]),
        &kv,
    );
    let report = conn.test_connection().await.expect("granted request");
    assert_eq!(report.message, "status 200 with 2 bytes");
}

#[tokio::test]
async fn private_addresses_are_denied_unless_granted() {
    let rt = runtime(64 * MIB, Duration::from_secs(20));
    let plugin = load(&rt, HOSTILE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let mut policy = grant(&[]);
    policy.grant.all_requested = true; // "grant what the plugin requests"
    for (target, url) in [
        ("169.254.169.254", "http://169.254.169.254/latest/meta-data"),
        ("10.0.0.1", "http://10.0.0.1/"),
        ("[::1]:9", "http://[::1]:9/"),
        // IPv6 forms around an IPv4 address are what that address is.
        ("[::127.0.0.1]:9", "http://[::127.0.0.1]:9/"),
        ("[64:ff9b::a00:1]:9", "http://[64:ff9b::a00:1]:9/"),
        ("[2002:7f00:1::1]:9", "http://[2002:7f00:1::1]:9/"),
    ] {
        let conn = connect(
            &rt,
            &plugin,
            "private",
            settings(
                &[("attack", "fetch"), ("target", target), ("url", url)],
                &[],
            ),
            &policy,
            &kv,
        );
        let m = forbidden(message(conn.test_connection().await));
        assert!(
            m.contains("private, loopback or link-local"),
            "{target}: {m}"
        );
    }
    // A name is checked after resolution: localhost resolves to loopback.
    let conn = connect(
        &rt,
        &plugin,
        "named",
        settings(
            &[
                ("attack", "fetch"),
                ("target", "localhost:9"),
                ("url", "http://localhost:9/"),
            ],
            &[],
        ),
        &policy,
        &kv,
    );
    let m = forbidden(message(conn.test_connection().await));
    assert!(m.contains("localhost") && m.contains("127.0.0.1"), "{m}");
}

#[tokio::test]
async fn an_oversized_response_is_refused() {
    let server = TestServer::start().await;
    let rt = runtime(64 * MIB, Duration::from_secs(20));
    let plugin = load(&rt, HOSTILE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let target = server.origin.trim_start_matches("http://");
    let mut policy = grant(&[&server.origin]);
    policy.http.max_response_bytes = MIB;
    let fetch = |n: u64| {
        settings(
            &[
                ("attack", "fetch"),
                ("target", target),
                ("url", &format!("{}/bytes/{n}", server.origin)),
            ],
            &[],
        )
    };
    let small = connect(&rt, &plugin, "small", fetch(MIB), &policy, &kv);
    assert_eq!(
        small.test_connection().await.unwrap().message,
        format!("status 200 with {MIB} bytes")
    );
    let big = connect(&rt, &plugin, "big", fetch(MIB + 1), &policy, &kv);
    match message(big.test_connection().await) {
        ConnectorError::Psa(PsaError::Remote(r)) => {
            assert_eq!(r.code.as_deref(), Some("response-too-large"));
            assert!(r.message.contains(&MIB.to_string()), "{}", r.message);
        }
        other => panic!("expected response-too-large, got {other:?}"),
    }
}

#[tokio::test]
async fn one_connection_cannot_read_another_connections_kv() {
    let rt = runtime(64 * MIB, Duration::from_secs(20));
    let plugin = load(&rt, HOSTILE_PATH).await;
    let dir = tempfile::tempdir().unwrap();
    let kv = KvStore::open(dir.path()).unwrap();
    let write = connect(
        &rt,
        &plugin,
        "tenant-a",
        settings(
            &[
                ("attack", "kv-write"),
                ("key", "token"),
                ("value", "a-secret"),
            ],
            &[],
        ),
        &grant(&[]),
        &kv,
    );
    write.test_connection().await.unwrap();
    let read_a = connect(
        &rt,
        &plugin,
        "tenant-a",
        settings(&[("attack", "kv-read"), ("key", "token")], &[]),
        &grant(&[]),
        &kv,
    );
    assert_eq!(
        read_a.test_connection().await.unwrap().message,
        "token = Some(\"a-secret\")"
    );
    let read_b = connect(
        &rt,
        &plugin,
        "tenant-b",
        settings(&[("attack", "kv-read"), ("key", "token")], &[]),
        &grant(&[]),
        &kv,
    );
    assert_eq!(
        read_b.test_connection().await.unwrap().message,
        "token = None"
    );
    // And the value survives the store being reopened.
    drop((write, read_a, read_b));
    kv.flush().await.unwrap();
}

#[tokio::test]
async fn fresh_endpoint_labels_do_not_grow_the_host() {
    use std::sync::atomic::Ordering;
    let server = TestServer::start().await;
    let rt = runtime(64 * MIB, Duration::from_secs(20));
    let plugin = load(&rt, HOSTILE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let target = server.origin.trim_start_matches("http://");
    let conn = connect(
        &rt,
        &plugin,
        "labels",
        settings(
            &[
                ("attack", "endpoint-flood"),
                ("target", target),
                ("url", &format!("{}/x", server.origin)),
                ("count", "8"),
            ],
            &[],
        ),
        &grant(&[&server.origin]),
        &kv,
    );
    conn.test_connection().await.unwrap();
    // Every 4 MiB label was refused a scope of its own (and counted); the requests still went
    // out, under one shared overflow budget.
    let stats = &conn.capabilities().http.stats;
    assert_eq!(stats.rejected_endpoint_labels.load(Ordering::Relaxed), 8);
    assert_eq!(server.seen.lock().unwrap().len(), 8);
}

/// Set in the child process of `a_proxy_in_the_environment_is_ignored`.
const PROXY_CHILD: &str = "PSAHOST_E2E_PROXY_CHILD";

#[test]
fn a_proxy_in_the_environment_is_ignored() {
    // The environment is the process's: the attack runs in a child process of this test binary,
    // started with every proxy variable pointing at a listener that must see no connection.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let proxy = format!("http://{}", listener.local_addr().unwrap());
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child.args([
        "sandbox::proxy_child_fetches_loopback",
        "--exact",
        "--nocapture",
    ]);
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        child.env(var, &proxy);
    }
    child.env_remove("NO_PROXY").env_remove("no_proxy");
    let out = child.env(PROXY_CHILD, "1").output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("1 passed"),
        "child:\n{text}"
    );
    assert!(
        listener.accept().is_err(),
        "the proxy saw a connection:\n{text}"
    );
}

#[tokio::test]
async fn proxy_child_fetches_loopback() {
    if std::env::var_os(PROXY_CHILD).is_none() {
        return; // only meaningful in the child process started above
    }
    let rt = runtime(64 * MIB, Duration::from_secs(20));
    let plugin = load(&rt, HOSTILE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let mut policy = grant(&[]);
    policy.grant.all_requested = true;
    let conn = connect(
        &rt,
        &plugin,
        "proxied",
        settings(
            &[
                ("attack", "fetch"),
                ("target", "localhost:9"),
                ("url", "http://localhost:9/"),
            ],
            &[],
        ),
        &policy,
        &kv,
    );
    let m = forbidden(message(conn.test_connection().await));
    assert!(m.contains("localhost") && m.contains("127.0.0.1"), "{m}");
}

#[tokio::test]
async fn a_plugin_cannot_request_a_public_suffix_wildcard_or_any_port() {
    use psahost_sandbox::connector::Connection;
    let rt = runtime(64 * MIB, Duration::from_secs(20));
    let plugin = load(&rt, HOSTILE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let mut policy = grant(&[]);
    policy.grant.all_requested = true;
    for (target, expected) in [
        ("*.com", "public suffix"),
        ("*.co.uk", "public suffix"),
        ("*.com:*", "public suffix"),
        ("127.0.0.1:*", "only an operator"),
        ("api.example.com:*", "only an operator"),
    ] {
        let err = Connection::open(
            rt.clone(),
            plugin.clone(),
            "greedy",
            settings(&[("attack", "none"), ("target", target)], &[]),
            &policy,
            &kv,
        )
        .err()
        .unwrap_or_else(|| panic!("{target} was accepted"));
        assert!(format!("{err:#}").contains(expected), "{target}: {err:#}");
    }
}

#[tokio::test]
async fn a_kv_write_stays_when_the_call_then_traps() {
    // The documented rule: kv writes are not rolled back with the call (like a request sent).
    let rt = runtime(64 * MIB, Duration::from_secs(20));
    let plugin = load(&rt, HOSTILE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let trap = connect(
        &rt,
        &plugin,
        "tenant",
        settings(
            &[("attack", "kv-then-trap"), ("key", "k"), ("value", "v1")],
            &[],
        ),
        &grant(&[]),
        &kv,
    );
    assert!(matches!(
        message(trap.test_connection().await),
        ConnectorError::Call(CallError::Trap { .. })
    ));
    let read = connect(
        &rt,
        &plugin,
        "tenant",
        settings(&[("attack", "kv-read"), ("key", "k")], &[]),
        &grant(&[]),
        &kv,
    );
    assert_eq!(
        read.test_connection().await.unwrap().message,
        "k = Some(\"v1\")"
    );
    assert_eq!(read.capabilities().kv.used_bytes().await.unwrap(), 1 + 2);
}

#[tokio::test]
async fn a_page_larger_than_asked_is_refused() {
    use psahost_sandbox::bindings::psa::connector::types::PageRequest;
    use psahost_sandbox::runtime::{PluginSource, Runtime, RuntimeConfig};
    let rt = Runtime::new(RuntimeConfig {
        cache_dir: Some(cache_dir()),
        max_instances: 4,
        max_result_bytes: 2 * MIB,
        ..RuntimeConfig::default()
    })
    .unwrap();
    struct Outcomes(std::sync::Mutex<Vec<String>>);
    impl psahost_sandbox::runtime::CallObserver for Outcomes {
        fn call_finished(&self, _: &str, _: &str, outcome: &str, _: Duration) {
            self.0.lock().unwrap().push(outcome.to_string());
        }
    }
    let outcomes = std::sync::Arc::new(Outcomes(Default::default()));
    rt.set_observer(outcomes.clone());
    let plugin = rt
        .load(PluginSource::File(HOSTILE_PATH.into()))
        .await
        .unwrap();
    let kv = KvStore::temporary().unwrap();
    let page = |size| PageRequest {
        cursor: None,
        updated_since: None,
        page_size: size,
    };
    // 5,000 records for a page of 250.
    let many = connect(
        &rt,
        &plugin,
        "many",
        settings(&[("attack", "big-page"), ("count", "5000")], &[]),
        &grant(&[]),
        &kv,
    );
    match many.list_companies(page(250)).await {
        Err(ConnectorError::Call(CallError::ResultTooLarge { message, .. })) => {
            assert!(
                message.contains("5000 records for a page of 250"),
                "{message}"
            )
        }
        other => panic!(
            "expected result-too-large, got {:?}",
            other.map(|p| p.items.len())
        ),
    }
    // Few records, each with 1 MiB of text.
    let fat = connect(
        &rt,
        &plugin,
        "fat",
        settings(
            &[("attack", "big-page"), ("count", "3"), ("size", "1048576")],
            &[],
        ),
        &grant(&[]),
        &kv,
    );
    match fat.list_companies(page(250)).await {
        Err(ConnectorError::Call(e @ CallError::ResultTooLarge { .. })) => {
            assert!(e.to_string().contains("runtime.max-result-size"), "{e}")
        }
        other => panic!(
            "expected result-too-large, got {:?}",
            other.map(|p| p.items.len())
        ),
    }
    // Within both limits, the page goes through.
    let fine = connect(
        &rt,
        &plugin,
        "fine",
        settings(&[("attack", "none"), ("count", "10")], &[]),
        &grant(&[]),
        &kv,
    );
    assert_eq!(
        fine.list_companies(page(250)).await.unwrap().items.len(),
        10
    );
    // Metrics count the refused pages' calls as such.
    assert_eq!(
        *outcomes.0.lock().unwrap(),
        ["result-too-large", "result-too-large", "ok"]
    );
}

/// A picklist or a ticket search is not paged: the host still bounds what it takes from it,
/// in entries and in text.
#[tokio::test]
async fn an_oversized_picklist_is_refused() {
    use psahost_sandbox::bindings::psa::connector::types::ReferenceKind;
    use psahost_sandbox::connector::MAX_UNPAGED_ITEMS;
    use psahost_sandbox::runtime::{PluginSource, Runtime, RuntimeConfig};
    let rt = Runtime::new(RuntimeConfig {
        cache_dir: Some(cache_dir()),
        max_instances: 4,
        max_result_bytes: 2 * MIB,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let plugin = rt
        .load(PluginSource::File(HOSTILE_PATH.into()))
        .await
        .unwrap();
    let kv = KvStore::temporary().unwrap();
    let picklist = |name: &str, count: usize, size: usize| {
        connect(
            &rt,
            &plugin,
            name,
            settings(
                &[
                    ("attack", "none"),
                    ("count", &count.to_string()),
                    ("size", &size.to_string()),
                ],
                &[],
            ),
            &grant(&[]),
            &kv,
        )
    };
    let refused = |result: Result<Vec<_>, ConnectorError>| match result {
        Err(ConnectorError::Call(CallError::ResultTooLarge { message, .. })) => message,
        other => panic!(
            "expected result-too-large, got {:?}",
            other.map(|v| v.len())
        ),
    };
    let message = refused(
        picklist("many", MAX_UNPAGED_ITEMS + 1, 2)
            .list_references(ReferenceKind::TicketStatus)
            .await,
    );
    assert!(message.contains("at most 100000"), "{message}");
    let message = refused(
        picklist("large", 3, MIB as usize)
            .list_references(ReferenceKind::TicketStatus)
            .await,
    );
    assert!(message.contains("runtime.max-result-size"), "{message}");
    let fine = picklist("fine", 50, 100)
        .list_references(ReferenceKind::TicketStatus)
        .await
        .expect("a normal picklist");
    assert_eq!(fine.len(), 50);
}
