//! Plugin identity in the daemon: a plugin names itself in `describe`, and logs, metrics and
//! the API show that name, so no plugin may pass for another. Two plugins of one host never
//! carry the same id (unless they are the same component), and a file plugin never carries a
//! bundled connector's id unless it is that connector or the operator says it replaces it;
//! a hot reload is held to the same rules.

use psahost_config::Config;
use psahost_daemon::Daemon;
use psahost_daemon::reload::ReloadOutcome;
use psahost_sandbox::runtime::BundledPlugins;
use psahost_testkit::{cache_dir, component_variant};
use std::path::Path;

fn config(dir: &Path, plugins: &[(&str, &Path, bool)], bundled: BundledPlugins) -> Config {
    let mut text = format!(
        "[runtime]\ndata-dir = \"data\"\ncache-dir = {:?}\n",
        cache_dir().display().to_string()
    );
    for (id, path, replaces) in plugins {
        text.push_str(&format!(
            "\n[plugins.{id}]\npath = {:?}\n",
            path.display().to_string()
        ));
        if *replaces {
            text.push_str("replaces-builtin = true\n");
        }
    }
    let path = dir.join("psahost.toml");
    std::fs::write(&path, &text).unwrap();
    let mut config = Config::load(&path).expect("config");
    config.runtime.bundled = bundled;
    config
}

fn error_of(daemon: &Daemon, id: &str) -> String {
    let status = daemon.plugins()[id].status();
    assert!(!status.loaded, "plugin `{id}` should have been refused");
    status.error.unwrap_or_default()
}

#[tokio::test]
async fn two_plugins_cannot_carry_the_same_id() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = std::fs::read(plugin_artifacts::HOSTILE_PATH).unwrap();
    let twin = dir.path().join("twin.wasm");
    std::fs::write(&twin, component_variant(&hostile, "twin")).unwrap();
    let copy = dir.path().join("copy.wasm");
    std::fs::write(&copy, &hostile).unwrap();
    let flawed = dir.path().join("flawed.wasm");
    std::fs::write(
        &flawed,
        std::fs::read(plugin_artifacts::FLAWED_PATH).unwrap(),
    )
    .unwrap();
    let daemon = Daemon::open(config(
        dir.path(),
        &[
            (
                "a-hostile",
                Path::new(plugin_artifacts::HOSTILE_PATH),
                false,
            ),
            ("b-copy", &copy, false),
            ("c-twin", &twin, false),
            ("d-flawed", &flawed, false),
        ],
        BundledPlugins::default(),
    ))
    .await
    .expect("daemon opens");
    assert!(daemon.plugins()["a-hostile"].status().loaded);
    assert!(
        daemon.plugins()["b-copy"].status().loaded,
        "the same component twice is no impostor"
    );
    let err = error_of(&daemon, "c-twin");
    assert!(
        err.contains("says it is `hostile`, like plugin `a-hostile`")
            && err.contains("unique per host"),
        "{err}"
    );
    assert!(daemon.plugins()["d-flawed"].status().loaded);

    // A new version of `d-flawed` that claims `hostile` is refused; the old one keeps running.
    std::fs::write(&flawed, component_variant(&hostile, "reloaded")).unwrap();
    let mut outcome = ReloadOutcome::Unchanged;
    for _ in 0..2 {
        // The first look sees the file change, the second (same stamp) loads it.
        outcome = daemon.check_plugin("d-flawed").await;
    }
    match outcome {
        ReloadOutcome::Rejected { error } => {
            assert!(error.contains("unique per host"), "{error}")
        }
        other => panic!("the impostor's reload was not rejected: {other:?}"),
    }
    let status = daemon.plugins()["d-flawed"].status();
    assert_eq!(status.plugin_id.as_deref(), Some("flawed"));
}

#[tokio::test]
async fn a_file_plugin_cannot_pass_for_a_bundled_connector() {
    let hostile: &'static [u8] = std::fs::read(plugin_artifacts::HOSTILE_PATH)
        .unwrap()
        .leak();
    let flawed: &'static [u8] = std::fs::read(plugin_artifacts::FLAWED_PATH).unwrap().leak();
    let hostile_path = Path::new(plugin_artifacts::HOSTILE_PATH);

    // The program bundles another component under the id `hostile`.
    let other_bundled = BundledPlugins(vec![("hostile", flawed)].leak());
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::open(config(
        dir.path(),
        &[("impostor", hostile_path, false)],
        other_bundled,
    ))
    .await
    .expect("daemon opens");
    let err = error_of(&daemon, "impostor");
    assert!(
        err.contains("the id of a bundled connector")
            && err.contains("plugins.impostor.replaces-builtin = true"),
        "{err}"
    );

    // The operator says it replaces the bundled one.
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::open(config(
        dir.path(),
        &[("replacement", hostile_path, true)],
        other_bundled,
    ))
    .await
    .expect("daemon opens");
    assert!(daemon.plugins()["replacement"].status().loaded);

    // The file is the bundled component itself.
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::open(config(
        dir.path(),
        &[("same", hostile_path, false)],
        BundledPlugins(vec![("hostile", hostile)].leak()),
    ))
    .await
    .expect("daemon opens");
    assert!(daemon.plugins()["same"].status().loaded);
}

/// `Daemon::start` answers while a plugin compiles: the slow one is reported as loading, the
/// daemon as not ready, health stays up; once loaded, the slow component (no psahost exports)
/// is refused with its reason and the other plugin serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_answers_while_plugins_compile() {
    let dir = tempfile::tempdir().unwrap();
    let slow = dir.path().join("slow.wasm");
    // Unique bytes each run, so the compilation cache never has it.
    let run = format!("{:?}", std::time::SystemTime::now());
    let component = component_variant(&psahost_testkit::slow_to_compile(6_000), &run);
    std::fs::write(&slow, component).unwrap();
    let daemon = Daemon::start(config(
        dir.path(),
        &[
            (
                "a-hostile",
                Path::new(plugin_artifacts::HOSTILE_PATH),
                false,
            ),
            ("b-slow", &slow, false),
        ],
        BundledPlugins::default(),
    ))
    .await
    .expect("daemon starts");
    assert!(
        daemon.plugins()["b-slow"].status().loading,
        "the slow plugin is still compiling when start returns"
    );
    let readiness = daemon.readiness();
    assert!(!readiness.ready);
    assert_eq!(
        readiness
            .plugins_not_loaded
            .get("b-slow")
            .map(String::as_str),
        Some("loading (compiling)")
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = daemon.clone();
    let task = tokio::spawn(async move {
        running
            .run(
                listener,
                async {
                    let _ = stopped.await;
                },
                psahost_daemon::RunOptions::default(),
            )
            .await
    });
    let health = reqwest::get(format!("{base}/health"))
        .await
        .expect("health answers");
    assert_eq!(health.status(), 200);
    assert!(
        daemon.plugins()["b-slow"].status().loading,
        "health answered while the plugin compiled"
    );

    daemon.plugins_loaded().await;
    let slow = daemon.plugins()["b-slow"].status();
    assert!(!slow.loading && !slow.loaded);
    assert!(
        slow.error
            .unwrap_or_default()
            .contains("not a psahost plugin"),
        "refused for what it is"
    );
    assert!(daemon.plugins()["a-hostile"].status().loaded);
    let _ = stop.send(());
    task.await.unwrap().expect("clean stop");
}
