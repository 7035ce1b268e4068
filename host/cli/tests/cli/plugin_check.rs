//! `psahost plugin check FILE --setting ... --grant ORIGIN`: the conformance suite against a
//! vendor's own server, here the tiny-psa connector and the fake Tiny PSA server the
//! conformance crate's tests use.

#[path = "../../../conformance/tests/conformance/tiny_server.rs"]
mod tiny_server;

use plugin_artifacts::TINY_PSA_PATH;
use std::process::Output;

async fn plugin_check(args: &[&str]) -> Output {
    tokio::process::Command::new(crate::psahost_bin())
        .args(["plugin", "check", TINY_PSA_PATH])
        .args(args)
        .env("TINY_PSA_KEY", tiny_server::API_KEY)
        .env("PSAHOST_CACHE_DIR", psahost_testkit::cache_dir())
        .env_remove("PSAHOST_CONFIG")
        .output()
        .await
        .expect("psahost runs")
}

/// The line of check `name` in the table.
fn line<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no line for `{name}`:\n{stdout}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn check_passes_the_connector_and_fails_its_defect_against_its_server() {
    let server = tiny_server::start().await;
    let url = format!("url={}", server.origin);
    let common = [
        "--setting",
        &url,
        // A reference: the key comes from the environment and is secret.
        "--setting",
        "api-key=${env:TINY_PSA_KEY}",
        "--grant",
        &server.origin,
    ];
    let out = plugin_check(&common).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with(&format!(
            "conformance of tiny-psa 0.1.0 against {}",
            server.origin
        )),
        "{stdout}"
    );
    for name in [
        "test-connection: wrong `api-key`",
        "companies: paging",
        "contacts: updated-since",
        "fault: 429 Too Many Requests",
        "fault: timeout",
    ] {
        assert!(line(&stdout, name).contains(" pass "), "{stdout}");
    }
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    assert!(
        !stdout.contains(tiny_server::API_KEY) && !stderr.contains(tiny_server::API_KEY),
        "the key is never shown:\n{stdout}\n{stderr}"
    );

    let mut flawed = common.to_vec();
    flawed.extend(["--setting", "defect=ignore-updated-since"]);
    let out = plugin_check(&flawed).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        line(&stdout, "companies: updated-since").contains(" FAIL "),
        "{stdout}"
    );
    assert!(stdout.contains(" 1 failed"), "{stdout}");
}

#[tokio::test]
async fn check_without_a_grant_or_simulator_says_what_to_pass() {
    let out = plugin_check(&["--setting", "url=http://127.0.0.1:9"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("--grant ORIGIN"), "{stderr}");
    assert!(stderr.contains("--sim DIALECT"), "{stderr}");
    let out = plugin_check(&["--sim", "autotask", "--grant", "http://127.0.0.1:9"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "clap refuses: {stderr}");
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}

/// `--connection ID` takes the settings and grant of a configured connection; `--setting`
/// adds to them.
#[tokio::test(flavor = "multi_thread")]
async fn check_takes_a_connection_of_the_configuration() {
    let server = tiny_server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("psahost.toml");
    std::fs::write(
        &config,
        format!(
            "[runtime]\ndata-dir = \"data\"\n\n[plugins.tiny]\npath = {path:?}\n\n\
             [connections.tiny-test]\nplugin = \"tiny\"\n\
             settings = {{ url = {origin:?}, api-key = \"${{env:TINY_PSA_KEY}}\" }}\n\
             grant = {{ hosts = [{origin:?}] }}\n",
            path = TINY_PSA_PATH,
            origin = server.origin,
        ),
    )
    .unwrap();
    let out = plugin_check(&[
        "--config",
        config.to_str().unwrap(),
        "--connection",
        "tiny-test",
        "--setting",
        "defect=429-as-remote",
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let failed: Vec<&str> = stdout.lines().filter(|l| l.contains(" FAIL ")).collect();
    assert_eq!(failed.len(), 1, "{stdout}");
    assert!(
        failed[0].starts_with("fault: 429 Too Many Requests"),
        "{stdout}"
    );
    assert!(
        line(&stdout, "companies: paging").contains(" pass "),
        "{stdout}"
    );
}
