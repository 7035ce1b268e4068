//! The `psahost` binary: help everywhere, clear errors for bad input, inspect and call.

use std::path::Path;
use std::process::{Command, Output};

fn psahost(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_psahost"))
        .args(args)
        .env(
            "PSAHOST_CACHE_DIR",
            std::env::temp_dir().join("psahost-test-cache"),
        )
        .env_remove("PSAHOST_CONFIG")
        .output()
        .expect("run psahost")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["plugin", "--help"],
        vec!["plugin", "inspect", "--help"],
        vec!["plugin", "call", "--help"],
        vec!["connection", "--help"],
        vec!["connection", "test", "--help"],
        vec!["connection", "list", "--help"],
    ] {
        let out = psahost(&args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let help = text(&out.stdout);
        assert!(help.contains("Usage: psahost"), "{args:?}:\n{help}");
    }
}

/// A connector built for contract 0.1.0 is inspected as one; a current one shows its datasets.
#[test]
fn inspect_shows_the_contract_version_and_datasets() {
    let out = psahost(&[
        "plugin",
        "inspect",
        plugin_artifacts::CONNECTWISE_MANAGE_V0_1_0_PATH,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let old = text(&out.stdout);
    assert!(
        old.contains("psa:connector@0.1.0") && old.contains("datasets: (none)"),
        "{old}"
    );
    let out = psahost(&["plugin", "inspect", plugin_artifacts::AUTOTASK_PATH]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let current = text(&out.stdout);
    assert!(current.contains("psa:connector@0.2.0"), "{current}");
    assert!(
        current.contains("time-entries") && current.contains("sla-results"),
        "{current}"
    );
    assert!(current.contains("companies 500 (incremental)"), "{current}");
}

#[test]
fn inspect_shows_the_contract() {
    let out = psahost(&[
        "plugin",
        "inspect",
        plugin_artifacts::HOSTILE_PATH,
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["id"], "hostile");
    assert_eq!(json["kind"], "connector");
    assert_eq!(json["wit"], "psa:connector@0.2.0");
    assert_eq!(json["outbound-hosts"][0], "http://{target}");
    assert!(
        json["settings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "token" && s["secret"] == true)
    );
    let out = psahost(&["plugin", "inspect", "builtin:connectwise-manage"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("connectwise-manage"));
}

#[test]
fn call_runs_an_export_and_reports_errors() {
    let out = psahost(&[
        "plugin",
        "call",
        plugin_artifacts::HOSTILE_PATH,
        "list-companies",
        "--setting",
        "attack=none",
        "--setting",
        "count=3",
        "--arg",
        r#"{"page-size": 2}"#,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["ok"]["items"].as_array().unwrap().len(), 2);

    let out = psahost(&[
        "plugin",
        "call",
        plugin_artifacts::HOSTILE_PATH,
        "test-connection",
        "--setting",
        "attack=spin",
        "--timeout",
        "300ms",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("deadline of 300 ms"),
        "{}",
        text(&out.stderr)
    );

    let out = psahost(&[
        "plugin",
        "call",
        plugin_artifacts::HOSTILE_PATH,
        "list-companies",
        "--setting",
        "attack=none",
        "--arg",
        r#"{"page-sise": 2}"#,
    ]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("unknown field `page-sise`") && err.contains("page-size"),
        "{err}"
    );
}

#[test]
fn bad_plugin_files_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.wasm");
    std::fs::write(&notes, "hello").unwrap();
    let out = psahost(&["plugin", "inspect", notes.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("notes.wasm") && err.contains("not a WebAssembly file"),
        "{err}"
    );

    let out = psahost(&["plugin", "inspect", "/nonexistent/x.wasm"]);
    assert!(
        text(&out.stderr).contains("cannot read plugin `/nonexistent/x.wasm`"),
        "{}",
        text(&out.stderr)
    );

    let out = psahost(&["plugin", "inspect", "builtin:halo"]);
    assert!(
        text(&out.stderr).contains("bundled: connectwise-manage"),
        "{}",
        text(&out.stderr)
    );
}

fn write_config(dir: &Path, body: &str) -> String {
    let path = dir.join("psahost.toml");
    std::fs::write(&path, body).unwrap();
    path.to_str().unwrap().to_string()
}

/// A `psahost.toml` in `dir` with connection `acme` of the hostile plugin, its settings
/// `settings` (the inside of a TOML inline table), every requested host granted.
fn hostile_connection(dir: &Path, settings: &str) -> String {
    write_config(
        dir,
        &format!(
            "[runtime]\ndata-dir = \"data\"\n\n[plugins.hostile]\npath = {:?}\n\n\
             [connections.acme]\nplugin = \"hostile\"\nsettings = {{ {settings} }}\n\
             grant = {{ hosts = [\"requested\"] }}\n",
            plugin_artifacts::HOSTILE_PATH
        ),
    )
}

#[test]
fn a_config_typo_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[runtime]\ndata-dir = \"data\"\ncall-timout = \"5s\"\n",
    );
    let out = psahost(&["--config", &config, "connection", "list"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("psahost.toml") && err.contains("line 3") && err.contains("call-timout"),
        "{err}"
    );

    let out = psahost(&["connection", "list"]);
    assert!(
        text(&out.stderr).contains("--config"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn connection_test_reports_the_setting_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let config = hostile_connection(
        dir.path(),
        r#"attack = "log-secret", token = "${env:PSAHOST_TEST_TOKEN}""#,
    );
    let out = Command::new(env!("CARGO_BIN_EXE_psahost"))
        .args(["--config", &config, "connection", "test", "acme"])
        .env("PSAHOST_TEST_TOKEN", "tok-5ecret")
        .env(
            "PSAHOST_CACHE_DIR",
            std::env::temp_dir().join("psahost-test-cache"),
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("setting `token`") && err.contains("[redacted]"),
        "{err}"
    );
    assert!(
        !err.contains("tok-5ecret") && !text(&out.stdout).contains("tok-5ecret"),
        "{err}"
    );
    assert!(
        dir.path().join("data/kv").exists(),
        "the kv store lives in data-dir"
    );
}

/// Whether `text` holds anything a terminal would act on: C0/C1 controls but the line breaks
/// between lines, DEL, or bidi overrides and isolates.
fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

#[test]
fn plugin_text_never_reaches_the_terminal_raw() {
    // `plugin inspect`: the hostile plugin's `banner` setting describes itself with a CR, an
    // erase-line sequence, a fake verdict, a bell, a line break, a C1 CSI and a bidi override.
    for json in [false, true] {
        let mut args = vec!["plugin", "inspect", plugin_artifacts::HOSTILE_PATH];
        if json {
            args.push("--json");
        }
        let out = psahost(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let shown = text(&out.stdout);
        assert_eq!(raw_controls(&shown), Vec::<char>::new(), "{shown}");
        assert!(
            !shown.lines().any(|l| l.starts_with("ok: connected")),
            "a forged line:\n{shown}"
        );
        if json {
            let value: serde_json::Value = serde_json::from_str(&shown).expect("still JSON");
            let banner = value["settings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == "banner")
                .expect("banner setting");
            assert!(
                banner["description"]
                    .as_str()
                    .unwrap()
                    .starts_with("\r\u{1b}[2K"),
                "the JSON value itself is intact"
            );
        } else {
            assert!(shown.contains("\\r\\u{1b}[2Kok: all checks passed\\u{7}\\nok: connected"));
        }
    }

    // `connection test`: the message and details of a success, and the error of a failure.
    let dir = tempfile::tempdir().unwrap();
    for (value, ok) in [("", true), ("fail", false)] {
        let config = hostile_connection(
            dir.path(),
            &format!(r#"attack = "terminal", value = "{value}""#),
        );
        let out = psahost(&["--config", &config, "connection", "test", "acme"]);
        assert_eq!(out.status.success(), ok, "{}", text(&out.stderr));
        for shown in [text(&out.stdout), text(&out.stderr)] {
            assert_eq!(raw_controls(&shown), Vec::<char>::new(), "{shown}");
            assert!(
                !shown.lines().any(|l| l.starts_with("ok: connected")),
                "a forged line:\n{shown}"
            );
        }
        let shown = if ok {
            text(&out.stdout)
        } else {
            text(&out.stderr)
        };
        assert!(shown.contains("\\u{1b}[2Kok: all checks passed"), "{shown}");
        if ok {
            assert!(shown.contains("\\u009b2J\\u202eexe.txt"), "{shown}");
        }
    }
}

#[test]
fn a_component_slow_or_hungry_to_compile_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slow.wasm");
    std::fs::write(&path, psahost_testkit::slow_to_compile(12_000)).unwrap();
    let path = path.to_str().unwrap();

    let out = psahost(&[
        "plugin",
        "inspect",
        path,
        "--no-cache",
        "--compile-timeout",
        "1s",
    ]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("slow.wasm")
            && err.contains("runtime.compile-timeout")
            && err.contains("1000 ms"),
        "{err}"
    );

    let out = psahost(&[
        "plugin",
        "inspect",
        path,
        "--no-cache",
        "--compile-memory",
        "48MiB",
        "--compile-timeout",
        "10min",
    ]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("slow.wasm") && err.contains("runtime.compile-memory"),
        "{err}"
    );
}

#[test]
fn plugin_new_writes_a_connector_crate() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("halo");
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/sdk");
    let target_arg = target.to_str().unwrap();
    let out = psahost(&[
        "plugin",
        "new",
        "halo-psa",
        "--dir",
        target_arg,
        "--sdk-path",
        sdk.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifest = std::fs::read_to_string(target.join("Cargo.toml")).unwrap();
    let lib = std::fs::read_to_string(target.join("src/lib.rs")).unwrap();
    assert!(manifest.contains("name = \"halo-psa\"") && manifest.contains("psa-sdk = { path = "));
    assert!(lib.contains("struct HaloPsa;") && lib.contains("id: \"halo-psa\".into()"));
    assert!(
        !manifest.contains("{{") && !lib.contains("{{"),
        "a placeholder was left"
    );
    // Every operation of the contract has its skeleton.
    for op in [
        "fn test_connection",
        "fn list_companies",
        "fn get_company",
        "fn list_contacts",
        "fn get_contact",
        "fn list_agreements",
        "fn get_agreement",
        "fn list_configurations",
        "fn get_configuration",
        "fn list_tickets",
        "fn get_ticket",
        "fn list_references",
        "fn create_ticket",
        "fn add_ticket_note",
        "fn find_open_tickets",
        "fn create_configuration",
        "fn update_configuration",
        "fn set_contract_service_quantity",
    ] {
        assert!(lib.contains(op), "no `{op}` in the new crate");
    }

    // Never over what is there; a name that cannot be an id or a crate.
    let out = psahost(&["plugin", "new", "halo-psa", "--dir", target_arg]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("is not empty"),
        "{}",
        text(&out.stderr)
    );
    for bad in ["HaloPSA", "7psa", "halo_psa"] {
        let out = psahost(&[
            "plugin",
            "new",
            bad,
            "--dir",
            dir.path().join(bad).to_str().unwrap(),
        ]);
        assert!(!out.status.success(), "{bad}");
        assert!(
            text(&out.stderr).contains("lowercase kebab-case"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_compiled_plugin_is_kept_and_a_damaged_copy_is_compiled_again() {
    let cache = tempfile::tempdir().unwrap();
    let inspect = || {
        Command::new(env!("CARGO_BIN_EXE_psahost"))
            .args(["plugin", "inspect", "builtin:autotask"])
            .env("PSAHOST_CACHE_DIR", cache.path())
            .env_remove("PSAHOST_CONFIG")
            .output()
            .expect("run psahost")
    };
    let first = inspect();
    assert!(first.status.success(), "{}", text(&first.stderr));
    let kept: Vec<_> = std::fs::read_dir(cache.path().join("psahost-artifacts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let name = kept[0].file_name().unwrap().to_str().unwrap().to_string();
    let sha256 = text(&first.stdout)
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("sha256:")
                .map(|s| s.trim().to_string())
        })
        .expect("inspect shows the sha256");
    assert!(name.starts_with(&format!("{sha256}-")), "{name}");
    assert!(name.ends_with(".cwasm"), "{name}");
    let size = std::fs::metadata(&kept[0]).unwrap().len();

    // The next start maps the kept artifact: the same plugin.
    let second = inspect();
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert_eq!(text(&second.stdout), text(&first.stdout));

    // A damaged artifact is refused by wasmtime's checks, compiled again and kept again.
    std::fs::write(&kept[0], b"not an artifact").unwrap();
    let third = inspect();
    assert!(third.status.success(), "{}", text(&third.stderr));
    assert_eq!(text(&third.stdout), text(&first.stdout));
    assert!(
        text(&third.stderr).contains("does not load"),
        "{}",
        text(&third.stderr)
    );
    assert_eq!(std::fs::metadata(&kept[0]).unwrap().len(), size);
}
