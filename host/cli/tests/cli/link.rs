//! `psahost link` as an operator runs it, on the store a real `psahost sync` filled from the
//! simulator: a dry run stores nothing, a real run stores the match, `link list` shows it,
//! `link remove` removes it (and says so when there is nothing to remove), and bad input names
//! its line; the connection's configured rule set is used.

use crate::{Out, run};
use psahost_store::Entity;
use psahost_testkit::sync::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_customers_list_and_remove_on_the_synced_store() {
    let sim = simulator(12, Some(0)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim, 50);
    let synced = run(&config, &["sync", "sim"]).await;
    assert_eq!(synced.code, Some(0), "{}\n{}", synced.stdout, synced.stderr);

    // A customer of a company's name and one of no company.
    let id = sim_ids(&sim, Entity::Companies)[0].clone();
    let company = sim
        .state()
        .get(psa_sim::Entity::Company, id.parse().unwrap())
        .unwrap();
    let name = company["name"].as_str().unwrap().to_string();
    let input = dir.path().join("customers.jsonl");
    std::fs::write(
        &input,
        format!(
            "{}\n{}\n",
            serde_json::json!({"id": "t-1", "name": name}),
            serde_json::json!({"id": "t-2", "name": "Nonexistent Widgets GmbH", "emails": ["owner@gmail.com"]}),
        ),
    )
    .unwrap();
    let input = input.to_str().unwrap();
    let line = |out: &Out, customer: &str| -> String {
        out.stdout
            .lines()
            .find(|l| l.starts_with(customer))
            .unwrap_or_else(|| panic!("no line for {customer}: {}", out.stdout))
            .to_string()
    };

    let dry = run(
        &config,
        &["link", "customers", "sim", "--input", input, "--dry-run"],
    )
    .await;
    assert_eq!(dry.code, Some(0), "{}\n{}", dry.stdout, dry.stderr);
    let t1 = line(&dry, "t-1");
    assert!(
        t1.contains("matched") && t1.contains(&id) && !t1.contains("stored"),
        "{t1}"
    );
    assert!(line(&dry, "t-2").contains("none"), "{}", dry.stdout);
    assert!(
        dry.stdout
            .contains("1 matched (dry run: nothing stored), 0 ambiguous, 1 none, 0 errors"),
        "{}",
        dry.stdout
    );
    let listed = run(&config, &["link", "list", "sim"]).await;
    assert_eq!(listed.code, Some(0), "{}", listed.stderr);
    assert_eq!(listed.stdout.trim(), "0 links", "a dry run stores nothing");

    let real = run(&config, &["link", "customers", "sim", "--input", input]).await;
    assert_eq!(real.code, Some(0), "{}\n{}", real.stdout, real.stderr);
    assert!(line(&real, "t-1").contains(", stored"), "{}", real.stdout);
    let listed = run(&config, &["link", "list", "sim"]).await;
    assert_eq!(listed.code, Some(0), "{}", listed.stderr);
    let t1 = line(&listed, "t-1");
    assert!(
        t1.contains(&format!("-> {id}")) && t1.contains("by name"),
        "{t1}"
    );
    assert!(listed.stdout.contains("1 links"), "{}", listed.stdout);
    let json = run(&config, &["link", "list", "sim", "--json"]).await;
    let links: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(links[0]["company-id"], id.as_str());
    assert_eq!(links[0]["status"], "linked");

    let removed = run(&config, &["link", "remove", "sim", "t-1"]).await;
    assert_eq!(removed.code, Some(0), "{}", removed.stderr);
    assert!(
        removed
            .stdout
            .contains("removed the link of customer `t-1`"),
        "{}",
        removed.stdout
    );
    let listed = run(&config, &["link", "list", "sim"]).await;
    assert_eq!(listed.stdout.trim(), "0 links");
    let again = run(&config, &["link", "remove", "sim", "t-1"]).await;
    assert_ne!(again.code, Some(0));
    assert!(
        again
            .stderr
            .contains("customer `t-1` has no link in connection `sim`"),
        "{}",
        again.stderr
    );

    // Bad input: the error names the line and the field, and nothing is linked.
    std::fs::write(
        dir.path().join("bad.jsonl"),
        "{\"id\": \"a\", \"name\": \"A\"}\n{\"id\": \"b\", \"fax\": \"1\"}\n",
    )
    .unwrap();
    let bad = dir.path().join("bad.jsonl");
    let bad = run(
        &config,
        &["link", "customers", "sim", "--input", bad.to_str().unwrap()],
    )
    .await;
    assert_ne!(bad.code, Some(0));
    assert!(
        bad.stderr.contains("line 2") && bad.stderr.contains("fax"),
        "{}",
        bad.stderr
    );
    assert_eq!(
        run(&config, &["link", "list", "sim"]).await.stdout.trim(),
        "0 links"
    );

    // The connection's `[connections.sim.linking]` rule set replaces the built-in one: by
    // phone alone, the customer known by name only matches nothing.
    std::fs::write(
        dir.path().join("phones.toml"),
        "[[identifier]]\nname = \"phone\"\nsubject = \"phone\"\ncandidate = \"phone\"\ncompare = \"phone\"\n",
    )
    .unwrap();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[connections.sim.linking]\ncustomers-rules = \"phones.toml\"\n");
    std::fs::write(&config, text).unwrap();
    let by_phone = run(
        &config,
        &["link", "customers", "sim", "--input", input, "--dry-run"],
    )
    .await;
    assert_eq!(by_phone.code, Some(0), "{}", by_phone.stderr);
    assert!(
        line(&by_phone, "t-1").contains("none"),
        "{}",
        by_phone.stdout
    );
    sim.shutdown().await;
}
