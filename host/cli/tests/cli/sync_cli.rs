//! `psahost sync` as an operator runs it: summaries, the held mass delete and how to force it,
//! one-record sync, a rate limit outlasting `--max-wait`, and exit codes.

use crate::run;
use psahost_store::Entity;
use psahost_testkit::sync::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_command_reports_held_deletions_and_exit_codes() {
    let sim = simulator(30, None).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim, 50);

    let help = run(&config, &["sync", "--help"]).await;
    assert_eq!(help.code, Some(0), "{}", help.stderr);
    for text in [
        "--entity",
        "--full",
        "--allow-mass-delete",
        "--record",
        "Exit codes",
    ] {
        assert!(help.stdout.contains(text), "{text}: {}", help.stdout);
    }

    // Sync now: every entity, one summary line each.
    let first = run(&config, &["sync", "sim"]).await;
    assert_eq!(first.code, Some(0), "{}\n{}", first.stdout, first.stderr);
    for entity in Entity::ALL {
        let line = first
            .stdout
            .lines()
            .find(|l| l.starts_with(entity.name()))
            .unwrap_or_else(|| panic!("no line for {entity}: {}", first.stdout));
        assert!(
            line.contains("full") && line.contains("completed"),
            "{line}"
        );
    }
    let contacts = sim_ids(&sim, Entity::Contacts);
    let created = format!("created {}", contacts.len());
    assert!(first.stdout.contains(&created), "{}", first.stdout);

    // A third of the contacts disappear: the sweep is held, exit code 3, the way out is named.
    let lost: Vec<&String> = contacts.iter().step_by(3).collect();
    for id in &lost {
        sim.state()
            .delete(psa_sim::Entity::Contact, id.parse().unwrap());
    }
    let held = run(&config, &["sync", "sim", "--entity", "contacts", "--full"]).await;
    assert_eq!(held.code, Some(3), "{}\n{}", held.stdout, held.stderr);
    assert!(held.stdout.contains("held"), "{}", held.stdout);
    assert!(
        held.stdout.contains(&format!(
            "did not see {} of the {} stored contacts",
            lost.len(),
            contacts.len()
        )),
        "{}",
        held.stdout
    );
    assert!(
        held.stdout.contains("nothing was deleted"),
        "{}",
        held.stdout
    );
    assert!(held.stdout.contains(lost[0].as_str()), "{}", held.stdout);
    assert!(
        held.stdout
            .contains("psahost sync sim --entity contacts --full --allow-mass-delete"),
        "{}",
        held.stdout
    );
    let forced = run(
        &config,
        &[
            "sync",
            "sim",
            "--entity",
            "contacts",
            "--full",
            "--allow-mass-delete",
        ],
    )
    .await;
    assert_eq!(forced.code, Some(0), "{}\n{}", forced.stdout, forced.stderr);
    assert!(
        forced.stdout.contains(&format!("deleted {}", lost.len())),
        "{}",
        forced.stdout
    );

    // One record by id.
    let id = sim.state().read(|d| {
        d.companies
            .values()
            .find(|c| !c.deleted)
            .map(|c| c.id.to_string())
            .unwrap()
    });
    sim.state()
        .touch(psa_sim::Entity::Company, id.parse().unwrap());
    let one = run(
        &config,
        &["sync", "sim", "--entity", "companies", "--record", &id],
    )
    .await;
    assert_eq!(one.code, Some(0), "{}", one.stderr);
    assert_eq!(
        one.stdout.trim(),
        format!("companies `{id}` of `sim`: updated")
    );
    let bad = run(&config, &["sync", "sim", "--record", &id]).await;
    assert_eq!(bad.code, Some(1));
    assert!(
        bad.stderr.contains("exactly one --entity"),
        "{}",
        bad.stderr
    );

    // A rate limit longer than --max-wait: exit code 4, resumable.
    sim.faults().set_too_many_requests(1, 30);
    let limited = run(
        &config,
        &["sync", "sim", "--entity", "tickets", "--max-wait", "1s"],
    )
    .await;
    assert_eq!(
        limited.code,
        Some(4),
        "{}\n{}",
        limited.stdout,
        limited.stderr
    );
    assert!(
        limited.stdout.contains("suspended") && limited.stdout.contains("rate limited until"),
        "{}",
        limited.stdout
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_command_waits_out_a_short_rate_limit() {
    let sim = simulator(40, None).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim, 10);
    // Every 4th request is answered 429 with Retry-After: 1; the command waits and resumes.
    sim.faults().set_too_many_requests(4, 1);
    let out = run(&config, &["sync", "sim", "--entity", "contacts", "--full"]).await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let contacts = sim_ids(&sim, Entity::Contacts).len();
    assert!(
        out.stdout.contains(&format!("created {contacts},")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("resumed"), "{}", out.stdout);
    sim.shutdown().await;
}

/// `store compact` after syncs: the records read the same afterwards, both embedded stores are
/// reported, and a store with nothing in it yet is named as none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_compact_keeps_what_was_synced() {
    let sim = simulator(30, None).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim, 50);

    let help = run(&config, &["store", "compact", "--help"]).await;
    assert_eq!(help.code, Some(0), "{}", help.stderr);
    assert!(
        help.stdout.contains("stop `psahost serve` first"),
        "{}",
        help.stdout
    );

    let none = run(&config, &["store", "compact"]).await;
    assert_eq!(none.code, Some(0), "{}", none.stderr);
    assert!(
        none.stdout.contains("none (nothing to compact)"),
        "{}",
        none.stdout
    );

    for _ in 0..3 {
        let sync = run(&config, &["sync", "sim", "--full"]).await;
        assert_eq!(sync.code, Some(0), "{}\n{}", sync.stdout, sync.stderr);
    }
    let list = ["records", "list", "sim", "contacts", "--limit", "1000"];
    let before = run(&config, &list).await;
    assert_eq!(before.code, Some(0), "{}", before.stderr);
    assert!(before.stdout.contains("\"records\""), "{}", before.stdout);

    let compact = run(&config, &["store", "compact"]).await;
    assert_eq!(
        compact.code,
        Some(0),
        "{}\n{}",
        compact.stdout,
        compact.stderr
    );
    for store in ["record store", "kv store"] {
        assert!(
            compact
                .stdout
                .lines()
                .any(|l| l.starts_with(store) && l.contains("entries in")),
            "{store}: {}",
            compact.stdout
        );
    }
    let after = run(&config, &list).await;
    assert_eq!(after.stdout, before.stdout);
}

/// A reader that goes away (`psahost records list ... | head`) drops the rest of the output
/// quietly: the command ends with its own status (0 here), not with a panic's backtrace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_to_a_reader_that_went_away_ends_quietly() {
    use tokio::io::AsyncReadExt;
    let sim = simulator(30, None).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim, 50);
    let sync = run(&config, &["sync", "sim", "--entity", "contacts"]).await;
    assert_eq!(sync.code, Some(0), "{}\n{}", sync.stdout, sync.stderr);
    let list = ["records", "list", "sim", "contacts", "--limit", "1000"];
    let whole = run(&config, &list).await;
    assert!(
        whole.stdout.len() > 1 << 16,
        "more than a pipe holds, so the write meets the closed pipe: {} bytes",
        whole.stdout.len()
    );

    let mut child = psahost_testkit::sync::psahost_command(crate::psahost_bin(), &config, &list)
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
