//! `psahost plugin call ... --all-pages`: a list export followed from cursor to cursor.

use psahost_store::Entity;
use psahost_testkit::sync::{cw_settings, sim_ids, simulator};

#[tokio::test]
async fn all_pages_prints_every_record_once_as_json_lines() {
    let sim = simulator(23, None).await;
    let mut args: Vec<String> = [
        "plugin",
        "call",
        "builtin:connectwise-manage",
        "list-contacts",
        "--all-pages",
        "--arg",
        r#"{"page-size": 5}"#,
        "--allow-host",
        &sim.origin(),
    ]
    .map(String::from)
    .to_vec();
    for (name, value) in cw_settings(&sim) {
        args.push("--setting".into());
        args.push(format!("{name}={value}"));
    }
    let out = tokio::process::Command::new(crate::psahost_bin())
        .args(&args)
        .env("PSAHOST_CACHE_DIR", psahost_testkit::cache_dir())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ids: Vec<String> = stdout
        .lines()
        .map(|line| {
            let record: serde_json::Value =
                serde_json::from_str(line).expect("one JSON record a line");
            record["id"].as_str().expect("an id").to_string()
        })
        .collect();
    let expected = sim_ids(&sim, Entity::Contacts);
    assert_eq!(ids.len(), expected.len(), "{stdout}");
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "no duplicates: {stdout}");
    // A connector may end on a full page and learn it was the last from an empty one.
    let pages = expected.len().div_ceil(5);
    assert!(
        [pages, pages + 1].iter().any(|p| stderr.contains(&format!(
            "{p} pages, {} records, 0 duplicate ids",
            expected.len()
        ))),
        "{stderr}"
    );
    let mut expected = expected;
    expected.sort();
    assert_eq!(sorted, expected, "the simulator's contacts, each once");

    // Not a page request: a clear error.
    let out = tokio::process::Command::new(crate::psahost_bin())
        .args([
            "plugin",
            "call",
            "builtin:connectwise-manage",
            "list-companies",
            "--all-pages",
        ])
        .env("PSAHOST_CACHE_DIR", psahost_testkit::cache_dir())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--all-pages needs exactly one `--arg`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
