//! The data commands against a running daemon (`--api`) and directly on the store: `psahost
//! records list|get|changes`, `psahost mrr`, `psahost eligible`, with the same answers both
//! ways; the store held by the daemon is named with the way out; `--help` everywhere.

use psahost_testkit::daemon::*;
use serde_json::Value;

use crate::{Out, run as psahost};

fn json(out: &Out) -> Value {
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_commands_via_api_and_store() {
    let sim = psa_sim::Simulator::start(psa_sim::SimConfig::connectwise(10, 7))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim, &ConfigSpec::default());

    for args in [
        vec!["serve", "--help"],
        vec!["records", "--help"],
        vec!["records", "list", "--help"],
        vec!["records", "get", "--help"],
        vec!["records", "changes", "--help"],
        vec!["mrr", "--help"],
        vec!["eligible", "--help"],
    ] {
        let out = psahost(&config, &args).await;
        assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
        assert!(out.stdout.contains("Usage"), "{args:?}: {}", out.stdout);
        if args[0] != "serve" && args.len() == 3 || args[0] == "mrr" || args[0] == "eligible" {
            assert!(
                out.stdout.contains("--api") && out.stdout.contains("--token"),
                "{args:?}: {}",
                out.stdout
            );
        }
    }

    let served = Served::start(crate::psahost_bin(), &config, &[]).await;
    let api_url = served.api.base.clone();
    let synced = served.api.post("/v1/connections/sim/sync").await;
    assert_eq!(synced.body["all-completed"], true, "{}", synced.text);
    let remote = |args: &[&str]| {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.extend([
            "--api".into(),
            api_url.clone(),
            "--token".into(),
            TOKEN.into(),
        ]);
        v
    };
    let run = |args: Vec<String>| {
        let config = config.clone();
        async move {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            psahost(&config, &refs).await
        }
    };

    let list_args = ["records", "list", "sim", "companies", "--limit", "3"];
    let via_api = json(&run(remote(&list_args)).await);
    assert_eq!(via_api["records"].as_array().unwrap().len(), 3);
    let first = via_api["records"][0]["id"].as_str().unwrap().to_string();
    let get_args = ["records", "get", "sim", "companies", first.as_str()];
    let got = json(&run(remote(&get_args)).await);
    assert_eq!(got["id"], first.as_str());
    let changes_args = ["records", "changes", "sim", "--after", "2", "--limit", "5"];
    // (read before the syncs below, which only read again: no new changes)
    let changes = json(&run(remote(&changes_args)).await);
    assert_eq!(changes["changes"][0]["seq"], 3);
    assert_eq!(changes["next-after"], 7);
    let mrr_args = ["mrr", "sim", "--day", "2026-06-01", "--json"];
    let mrr_api = json(&run(remote(&mrr_args)).await);
    let served_mrr = served
        .api
        .get("/v1/connections/sim/mrr?day=2026-06-01")
        .await;
    assert_eq!(mrr_api, served_mrr.body);
    let table = run(remote(&["mrr", "sim", "--day", "2026-06-01"])).await;
    assert!(table.stdout.contains("total"), "{}", table.stdout);
    let eligible_args = ["eligible", "sim", "--json"];
    let eligible_api = json(&run(remote(&eligible_args)).await);
    let all = run(remote(&["eligible", "sim", "--all"])).await;
    assert!(all.stdout.contains("companies eligible"), "{}", all.stdout);

    // `psahost sync --api`: the daemon syncs, the same summary lines.
    let sync = run(remote(&["sync", "sim", "--entity", "companies", "--full"])).await;
    assert_eq!(sync.code, Some(0), "{}\n{}", sync.stdout, sync.stderr);
    assert!(
        sync.stdout.starts_with("companies")
            && sync.stdout.contains("full")
            && sync.stdout.contains("completed"),
        "{}",
        sync.stdout
    );
    let one = run(remote(&[
        "sync",
        "sim",
        "--entity",
        "companies",
        "--record",
        first.as_str(),
    ]))
    .await;
    assert_eq!(one.code, Some(0), "{}", one.stderr);
    assert!(one.stdout.contains("unchanged"), "{}", one.stdout);

    // A wrong token is the API's 401, said plainly.
    let wrong = psahost(
        &config,
        &[
            "records",
            "list",
            "sim",
            "companies",
            "--api",
            &api_url,
            "--token",
            "nope-nope-nope-nope",
        ],
    )
    .await;
    assert_eq!(wrong.code, Some(1));
    assert!(
        wrong.stderr.contains("401") && wrong.stderr.contains("unauthorized"),
        "{}",
        wrong.stderr
    );
    // While the daemon holds the store, the direct way names the way out.
    let held = psahost(&config, &list_args).await;
    assert_eq!(held.code, Some(1));
    assert!(held.stderr.contains("--api"), "{}", held.stderr);

    let (code, log) = served.terminate().await;
    assert_eq!(code, Some(0), "{log}");

    // Directly on the store: the same answers.
    assert_eq!(json(&psahost(&config, &list_args).await), via_api);
    assert_eq!(json(&psahost(&config, &get_args).await), got);
    assert_eq!(json(&psahost(&config, &changes_args).await), changes);
    assert_eq!(json(&psahost(&config, &mrr_args).await), mrr_api);
    assert_eq!(json(&psahost(&config, &eligible_args).await), eligible_api);
    let missing = psahost(&config, &["records", "get", "sim", "companies", "999999"]).await;
    assert_eq!(missing.code, Some(1));
    assert!(
        missing.stderr.contains("no companies `999999`"),
        "{}",
        missing.stderr
    );
    let unknown = psahost(&config, &["mrr", "nope"]).await;
    assert!(
        unknown.stderr.contains("no connection `nope`"),
        "{}",
        unknown.stderr
    );
    sim.shutdown().await;
}
