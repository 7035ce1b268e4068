//! The any-PSA conformance suite (`check_any`) against a connector for a PSA the host has no
//! simulator dialect for (`plugins/tiny-psa`) and a fake server for it: the connector passes,
//! and each of its deliberate defects fails exactly the check that names it.

mod tiny_server;

use plugin_artifacts::TINY_PSA_PATH;
use psahost_conformance::{AnyOptions, Outcome, Report, check_any};
use psahost_sandbox::capabilities::http::{Grant, OriginPattern};
use psahost_sandbox::capabilities::settings::Settings;
use psahost_sandbox::runtime::{Plugin, PluginSource, Runtime, RuntimeConfig};
use std::sync::Arc;
use std::time::Duration;

async fn tiny_psa() -> (Arc<Runtime>, Arc<Plugin>) {
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(psahost_testkit::cache_dir()),
        memory_limit: 64 << 20,
        call_timeout: Duration::from_secs(30),
        ..RuntimeConfig::default()
    })
    .expect("a runtime");
    let plugin = runtime
        .load(PluginSource::File(TINY_PSA_PATH.into()))
        .await
        .expect("the tiny-psa connector loads");
    (runtime, plugin)
}

fn options(origin: &str, defect: &str) -> AnyOptions {
    let mut settings = Settings::default();
    settings.insert("url", origin, false);
    settings.insert("api-key", tiny_server::API_KEY, true);
    settings.insert("defect", defect, false);
    let grant = Grant {
        origins: vec![OriginPattern::parse(origin).expect("an origin")],
        ..Grant::default()
    };
    AnyOptions::new(settings, grant)
}

/// The report on the connector with `defect` against a fresh server, and the server.
async fn check(defect: &str) -> (Report, tiny_server::TinyServer) {
    let server = tiny_server::start().await;
    let (runtime, plugin) = tiny_psa().await;
    let report = check_any(&runtime, &plugin, &options(&server.origin, defect))
        .await
        .expect("the suite runs");
    (report, server)
}

fn outcome<'a>(report: &'a Report, name: &str) -> Option<&'a Outcome> {
    report
        .checks
        .iter()
        .find(|c| c.name == name)
        .map(|c| &c.outcome)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tiny_connector_passes_against_its_server() {
    let (report, server) = check("none").await;
    assert!(report.passed(), "{}", report.table());
    // What needs no knowledge of the data was exercised, not skipped.
    for name in [
        "describe",
        "test-connection: good credentials",
        "test-connection: wrong `api-key`",
        "companies: paging",
        "companies: get by id",
        "companies: updated-since",
        "contacts: paging",
        "contacts: get by id",
        "contacts: updated-since",
        "fault: 429 Too Many Requests",
        "fault: 503 Service Unavailable",
        "fault: timeout",
        "fault: truncated body",
        "fault: oversized body",
        "declared operations",
    ] {
        assert_eq!(
            outcome(&report, name),
            Some(&Outcome::Pass),
            "{name}\n{}",
            report.table()
        );
    }
    // Writes create records on the vendor's server: only when asked for.
    assert_eq!(
        outcome(&report, "writes: ticket and note"),
        Some(&Outcome::Skip)
    );
    assert!(server.tickets().is_empty(), "no ticket was created");
    assert!(report.table().contains("against http://127.0.0.1:"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_writes_are_checked_when_asked_for() {
    let server = tiny_server::start().await;
    let (runtime, plugin) = tiny_psa().await;
    let mut options = options(&server.origin, "none");
    options.writes = true;
    let report = check_any(&runtime, &plugin, &options)
        .await
        .expect("the suite runs");
    assert_eq!(
        outcome(&report, "writes: ticket and note"),
        Some(&Outcome::Pass),
        "{}",
        report.table()
    );
    let tickets = server.tickets();
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    assert!(
        tickets[0]["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("conformance check ")),
        "{tickets:?}"
    );
    assert_eq!(tickets[0]["notes"][0]["text"], "Checked by psahost.");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_defect_fails_exactly_the_check_that_names_it() {
    for (defect, check_name) in [
        ("duplicate-across-pages", "companies: paging"),
        ("ignore-updated-since", "companies: updated-since"),
        ("429-as-remote", "fault: 429 Too Many Requests"),
    ] {
        let (report, _) = check(defect).await;
        let failed: Vec<&str> = report.failures().map(|c| c.name.as_str()).collect();
        assert_eq!(failed, [check_name], "{defect}\n{}", report.table());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_options_are_checked_before_anything_is_sent() {
    let (runtime, plugin) = tiny_psa().await;
    // Port 9 (discard) has no server: the suite must refuse before any request.
    let mut wrong = options("http://127.0.0.1:9", "none");
    wrong.corrupt = Some(vec!["password".into()]);
    let e = check_any(&runtime, &plugin, &wrong).await.unwrap_err();
    assert!(e.to_string().contains("`password` is not a setting"), "{e}");
    assert!(e.to_string().contains("`api-key`"), "{e}");
    let mut ungranted = options("http://127.0.0.1:9", "none");
    ungranted.grant = Grant::default();
    let e = check_any(&runtime, &plugin, &ungranted).await.unwrap_err();
    assert!(e.to_string().contains("--grant"), "{e}");
}
