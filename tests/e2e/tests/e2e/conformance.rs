//! The conformance suite passes the real connectors and fails deliberately broken ones.

use psa_sim::Dialect;
use psahost_conformance::{CheckOptions, Outcome, Report, check_connector};
use psahost_e2e::*;
use psahost_sandbox::runtime::PluginSource;
use std::time::Duration;

async fn check(source: PluginSource, dialect: Dialect, settings: &[(&str, &str)]) -> Report {
    check_with_plugin(source, dialect, settings).await.0
}

/// The report, and the checks a connector skips by design: `updated-since` of the datasets it
/// declares as full sweeps only.
async fn check_with_plugin(
    source: PluginSource,
    dialect: Dialect,
    settings: &[(&str, &str)],
) -> (Report, Vec<String>) {
    let rt = runtime(64 << 20, Duration::from_secs(30));
    let plugin = rt.load(source).await.expect("load");
    let by_design = plugin
        .connector_info()
        .expect("a connector")
        .datasets
        .iter()
        .filter(|d| !d.updated_since)
        .map(|d| format!("{}: updated-since", d.name))
        .collect();
    let mut options = CheckOptions::new(dialect);
    options.settings = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let report = check_connector(&rt, &plugin, &options)
        .await
        .expect("the suite runs");
    (report, by_design)
}

fn failed(report: &Report) -> Vec<String> {
    report.failures().map(|c| c.name.clone()).collect()
}

fn skipped(report: &Report) -> Vec<&str> {
    report
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::Skip)
        .map(|c| c.name.as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_connectwise_connector_passes() {
    let report = check(
        PluginSource::File(CONNECTWISE_MANAGE_PATH.into()),
        Dialect::ConnectWise,
        &[],
    )
    .await;
    assert!(report.passed(), "{}", report.table());
    // Every part of the contract was exercised, not skipped.
    assert!(
        report.checks.iter().all(|c| c.outcome == Outcome::Pass),
        "{}",
        report.table()
    );
    assert!(report.checks.len() >= 20, "{}", report.table());
}

/// A connector a vendor built against contract 0.1.0 (a frozen artifact, never rebuilt) passes
/// the whole suite on this host: its records reach the host through the 0.1.0 adapter.
#[tokio::test(flavor = "multi_thread")]
async fn the_connectwise_connector_built_for_contract_0_1_0_passes() {
    let report = check(
        PluginSource::File(CONNECTWISE_MANAGE_V0_1_0_PATH.into()),
        Dialect::ConnectWise,
        &[],
    )
    .await;
    assert!(report.passed(), "{}", report.table());
    assert!(
        report.checks.iter().all(|c| c.outcome == Outcome::Pass),
        "{}",
        report.table()
    );
    assert!(report.checks.len() >= 20, "{}", report.table());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_autotask_connector_passes() {
    let (report, by_design) = check_with_plugin(
        PluginSource::File(AUTOTASK_PATH.into()),
        Dialect::Autotask,
        &[],
    )
    .await;
    assert!(report.passed(), "{}", report.table());
    // Contracts and six datasets have no modification time in Autotask: the only acceptable
    // skips.
    assert_eq!(by_design.len(), 6, "{by_design:?}");
    let mut expected = vec!["agreements: updated-since".to_string()];
    expected.extend(by_design);
    assert_eq!(skipped(&report), expected, "{}", report.table());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_kaseya_bms_connector_passes() {
    let (report, by_design) = check_with_plugin(
        PluginSource::File(KASEYA_BMS_PATH.into()),
        Dialect::KaseyaBms,
        &[],
    )
    .await;
    assert!(report.passed(), "{}", report.table());
    // BMS has no configuration items: the only acceptable skip.
    let mut expected = vec!["configurations: paging".to_string()];
    expected.extend(by_design);
    assert_eq!(skipped(&report), expected, "{}", report.table());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_flawed_connector_passes_without_its_defect() {
    let report = check(
        PluginSource::File(FLAWED_PATH.into()),
        Dialect::ConnectWise,
        &[("defect", "none")],
    )
    .await;
    assert!(report.passed(), "{}", report.table());
}

#[tokio::test(flavor = "multi_thread")]
async fn each_defect_is_caught() {
    for (defect, check_name) in [
        ("skip-page", "companies: paging"),
        ("ignore-updated-since", "companies: updated-since"),
        ("wrong-error-kind", "test-connection: wrong `private-key`"),
    ] {
        let report = check(
            PluginSource::File(FLAWED_PATH.into()),
            Dialect::ConnectWise,
            &[("defect", defect)],
        )
        .await;
        assert!(!report.passed(), "{defect} passed:\n{}", report.table());
        assert_eq!(
            failed(&report),
            vec![check_name.to_string()],
            "{defect}:\n{}",
            report.table()
        );
    }
}
