//! A secret set in settings never appears in the logs, even at trace level.
//!
//! The capture is the process's global subscriber: no other test of this binary may install a
//! subscriber (a thread-local one would race with tracing's callsite interest cache).

use psahost_e2e::*;
use psahost_sandbox::capabilities::kv::KvStore;
use psahost_sandbox::connector::ConnectorError;
use std::time::Duration;

const MIB: u64 = 1024 * 1024;

fn message(result: Result<impl std::fmt::Debug, ConnectorError>) -> ConnectorError {
    result.expect_err("the call should fail")
}

#[tokio::test]
async fn a_secret_never_appears_in_the_logs_at_trace_level() {
    let logs = LogCapture::install_global();
    let server = TestServer::start().await;
    let rt = runtime(64 * MIB, Duration::from_secs(20));
    let plugin = load(&rt, HOSTILE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let secret = "s3cr3t-T0ken-4f9a";
    let target = server.origin.trim_start_matches("http://");
    let conn = connect(
        &rt,
        &plugin,
        "leaky",
        settings(
            &[
                ("attack", "log-secret"),
                ("token", secret),
                ("target", target),
                ("url", &format!("{}/auth", server.origin)),
            ],
            &[],
        ),
        &grant(&[&server.origin]),
        &kv,
    );
    let err = message(conn.test_connection().await);
    // The plugin did send it where it belongs...
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![("/auth".to_string(), Some(format!("Bearer {secret}")))]
    );
    // ...but no log line and no error shows it.
    let text = logs.text();
    assert!(
        text.contains("token=[redacted]"),
        "logs were captured:\n{text}"
    );
    for source in ["source=\"log\"", "source=\"stdout\"", "source=\"stderr\""] {
        assert!(text.contains(source), "missing {source} in:\n{text}");
    }
    assert!(
        !text.contains(secret),
        "the secret leaked into the logs:\n{text}"
    );
    let shown = err.to_string();
    assert!(
        shown.contains("[redacted]") && !shown.contains(secret),
        "{shown}"
    );
}

#[tokio::test]
async fn a_secret_never_appears_in_a_connection_open_error() {
    use psahost_sandbox::connector::Connection;
    let rt = runtime(64 * MIB, Duration::from_secs(20));
    let plugin = load(&rt, HOSTILE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    // `target` is an operator secret (a `${env:}` reference, say) that does not make the
    // plugin's `http://{target}` an origin: the parser's complaint would quote it.
    for value in ["TOPSECRET-4242:", "TOP:SECRET4242", "TOPSECRET4242:99999"] {
        let err = Connection::open(
            rt.clone(),
            plugin.clone(),
            "leaky",
            settings(&[("attack", "none"), ("target", value)], &["target"]),
            &grant(&[]),
            &kv,
        )
        .err()
        .expect("the pattern is not an origin");
        let text = format!("{err:#} {err:?}");
        assert!(
            !text.contains("SECRET") && !text.contains("4242"),
            "{value}: {text}"
        );
        assert!(text.contains("outbound host"), "{text}");
    }
}

#[tokio::test]
async fn guest_text_cannot_forge_a_log_line() {
    let logs = LogCapture::install_global();
    let rt = runtime(64 * MIB, Duration::from_secs(20));
    let plugin = load(&rt, HOSTILE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let conn = connect(
        &rt,
        &plugin,
        "forger",
        settings(&[("attack", "log-forge")], &[]),
        &grant(&[]),
        &kv,
    );
    conn.test_connection().await.unwrap();
    // A panic message reaches the log through stderr (and names in a trap's backtrace through
    // the host's warning): each forged line stays inside a line of the plugin's own.
    let trap = connect(
        &rt,
        &plugin,
        "trap-forger",
        settings(&[("attack", "trap-forge")], &[]),
        &grant(&[]),
        &kv,
    );
    assert!(trap.test_connection().await.is_err());
    let text = logs.text();
    assert!(text.contains("connection=\"trap-forger\""), "{text}");
    assert!(
        text.contains(r"innocent\n2026-01-01T00:00:00Z  INFO psahost::guest"),
        "{text}"
    );
    assert!(text.contains(r"out\rforged\u{1b}[31m"), "{text}");
    for line in text.lines() {
        assert!(
            !line.starts_with("2026-01-01T00:00:00Z"),
            "a forged line: {line}"
        );
    }
    assert!(!text.contains(['\x1b', '\x07', '\r']), "{text:?}");
}

#[tokio::test]
async fn log_volume_is_capped_per_line_and_per_call() {
    let logs = LogCapture::install_global();
    let rt = runtime(64 * MIB, Duration::from_secs(60));
    let plugin = load(&rt, HOSTILE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let flood = connect(
        &rt,
        &plugin,
        "flood",
        settings(
            &[("attack", "log-flood"), ("count", "500"), ("size", "65536")],
            &[],
        ),
        &grant(&[]),
        &kv,
    );
    flood.test_connection().await.unwrap();
    // The guest asks for a denied request 3,000 times: the host's WARN per request is
    // budgeted the same way.
    let deny = connect(
        &rt,
        &plugin,
        "denier",
        settings(
            &[
                ("attack", "denied-flood"),
                ("count", "3000"),
                ("target", "127.0.0.1:9"),
                ("url", "http://127.0.0.1:9/x"),
            ],
            &[],
        ),
        &grant(&[]),
        &kv,
    );
    deny.test_connection().await.unwrap();
    let text = logs.text();
    for connection in ["flood", "denier"] {
        let tag = format!("connection=\"{connection}\"");
        let lines: Vec<&str> = text.lines().filter(|l| l.contains(&tag)).collect();
        assert!(
            (1000..=1002).contains(&lines.len()),
            "{connection}: {} lines",
            lines.len()
        );
        let notices: Vec<&&str> = lines
            .iter()
            .filter(|l| l.contains("suppressed") && l.contains("log lines of this call"))
            .collect();
        assert_eq!(notices.len(), 1, "{connection}");
        assert!(
            lines.iter().all(|l| l.len() < 4096 + 512),
            "{connection}: a line of {} bytes",
            lines.iter().map(|l| l.len()).max().unwrap()
        );
    }
}
