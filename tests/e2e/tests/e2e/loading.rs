//! Loading rejects what is not a psahost plugin, with messages that say what to do.

use psahost_e2e::*;
use psahost_sandbox::bindings::ContractVersion;
use psahost_sandbox::bindings::psa::connector::types::{
    ConfigurationChanges, Error as PsaError, PageRequest,
};
use psahost_sandbox::capabilities::kv::KvStore;
use psahost_sandbox::connector::Connection;
use psahost_sandbox::connector::ConnectorError;
use psahost_sandbox::runtime::{LoadError, PluginKind, PluginSource};
use std::time::Duration;

async fn load_bytes(bytes: Vec<u8>) -> LoadError {
    let rt = runtime(64 << 20, Duration::from_secs(10));
    match rt
        .load(PluginSource::Bytes {
            name: "test.wasm".into(),
            bytes: bytes.into(),
        })
        .await
    {
        Ok(p) => panic!("loaded {} unexpectedly", p.id()),
        Err(e) => e,
    }
}

#[tokio::test]
async fn a_text_file_is_not_wasm() {
    let e = load_bytes(b"#!/bin/sh\necho hi\n".to_vec()).await;
    assert!(matches!(e, LoadError::NotWasm { .. }), "{e:?}");
    assert!(
        e.to_string().contains("test.wasm") && e.to_string().contains("not a WebAssembly file"),
        "{e}"
    );
}

#[tokio::test]
async fn a_core_module_is_not_a_component() {
    let e = load_bytes(wat::parse_str("(module (func (export \"run\")))").unwrap()).await;
    assert!(matches!(e, LoadError::NotComponent { .. }), "{e:?}");
    assert!(e.to_string().contains("wasm32-wasip2"), "{e}");
}

#[tokio::test]
async fn a_component_of_another_world_is_refused() {
    let e =
        load_bytes(wat::parse_str("(component (core module $m) (instance $i) )").unwrap()).await;
    assert!(matches!(e, LoadError::WrongWorld { .. }), "{e:?}");
    assert!(e.to_string().contains("psa:connector/connector-api"), "{e}");
    let e = load_bytes(
        wat::parse_str(r#"(component (instance $i) (export "wasi:cli/run@0.2.0" (instance $i)))"#)
            .unwrap(),
    )
    .await;
    assert!(e.to_string().contains("wasi:cli/run@0.2.0"), "{e}");
}

#[tokio::test]
async fn an_unsupported_wit_version_is_refused_with_the_supported_range_named() {
    for version in ["0.3.0", "1.0.0", "0.0.9"] {
        let e = load_bytes(
            wat::parse_str(format!(
                r#"(component (instance $i) (export "psa:connector/connector-api@{version}" (instance $i)))"#
            ))
            .unwrap(),
        )
        .await;
        assert!(
            matches!(e, LoadError::UnsupportedVersion { .. }),
            "{version}: {e:?}"
        );
        let text = e.to_string();
        assert!(
            text.contains(&format!("psa:connector@{version}"))
                && text.contains("0.1.x and 0.2.x")
                && text.contains("psa:connector@0.2.0"),
            "{text}"
        );
    }
}

/// A component exporting the connector interface by name, but whose functions have other types,
/// is refused when it loads (the load type-checks every export; a call type-checks only its own).
/// Components with every export of the connector interface, of either contract version, whose
/// `describe` has the contract's type (and traps if called) and whose `test-connection` answers
/// a `u32` (fixtures/ill-typed/README.md says how they were made). The load type-checks every
/// export before it calls `describe`, so the wrong type is what refuses them, not the trap.
#[tokio::test]
async fn a_connector_whose_exports_have_other_types_is_refused_at_load() {
    for version in ["0.2.0", "0.1.0"] {
        let file = format!(
            "{}/fixtures/ill-typed/test-connection-ill-typed-{version}.wasm",
            env!("CARGO_MANIFEST_DIR")
        );
        let e = load_bytes(std::fs::read(&file).unwrap()).await;
        assert!(matches!(e, LoadError::Describe { .. }), "{version}: {e:?}");
        let message = e.to_string();
        assert!(message.contains("test.wasm"), "{version}: {message}");
        assert!(message.contains("type mismatch"), "{version}: {message}");
        assert!(!message.contains("unreachable"), "{version}: {message}");
    }
}

#[tokio::test]
async fn a_matching_rule_loads_but_cannot_be_a_connection() {
    let rt = runtime(64 << 20, Duration::from_secs(10));
    let rule = load(&rt, EXAMPLE_RULE_PATH).await;
    assert_eq!(rule.kind(), PluginKind::MatchingRule);
    assert_eq!(rule.id(), "neighbouring-mac-same-model");
    let kv = KvStore::temporary().unwrap();
    let err = Connection::open(rt.clone(), rule, "x", settings(&[], &[]), &grant(&[]), &kv)
        .err()
        .expect("a rule is not a connector");
    assert!(
        err.to_string().contains("matching rule, not a connector"),
        "{err}"
    );
}

#[tokio::test]
async fn a_pinned_hash_is_checked_before_anything_runs() {
    let rt = runtime(64 << 20, Duration::from_secs(10));
    let e = rt
        .load_pinned(
            PluginSource::File(HOSTILE_PATH.into()),
            Some(&"0".repeat(64)),
        )
        .await
        .err()
        .expect("the pin does not match");
    assert!(matches!(e, LoadError::HashMismatch { .. }), "{e:?}");
    let plugin = load(&rt, HOSTILE_PATH).await;
    rt.load_pinned(
        PluginSource::File(HOSTILE_PATH.into()),
        Some(plugin.sha256()),
    )
    .await
    .expect("the right pin loads");
}

#[tokio::test]
async fn connection_settings_are_checked_against_describe() {
    let rt = runtime(64 << 20, Duration::from_secs(10));
    let plugin = load(&rt, HOSTILE_PATH).await;
    let kv = KvStore::temporary().unwrap();
    let open = |pairs: &[(&str, &str)]| {
        Connection::open(
            rt.clone(),
            plugin.clone(),
            "c",
            settings(pairs, &[]),
            &grant(&[]),
            &kv,
        )
        .err()
        .map(|e| format!("{e:#}"))
    };
    let missing = open(&[]).expect("attack is required");
    assert!(missing.contains("requires setting `attack`"), "{missing}");
    let typo = open(&[("attack", "x"), ("tokn", "y")]).expect("unknown setting");
    assert!(typo.contains("`tokn`") && typo.contains("token"), "{typo}");
    assert!(open(&[("attack", "x")]).is_none());
}

#[tokio::test]
async fn an_oversized_component_is_refused_before_it_is_compiled() {
    let limit = 100_000;
    let rt = psahost_sandbox::runtime::Runtime::new(psahost_sandbox::runtime::RuntimeConfig {
        cache_dir: None,
        max_component_size: limit,
        max_instances: 2,
        ..Default::default()
    })
    .expect("runtime");
    let size = std::fs::metadata(CONNECTWISE_MANAGE_PATH).unwrap().len();
    assert!(size > limit, "the connector is {size} bytes");
    let from_file = rt
        .load(PluginSource::File(CONNECTWISE_MANAGE_PATH.into()))
        .await
        .err()
        .expect("refused");
    let bytes = std::fs::read(CONNECTWISE_MANAGE_PATH).unwrap();
    let from_bytes = rt
        .load(PluginSource::Bytes {
            name: "big.wasm".into(),
            bytes: bytes.into(),
        })
        .await
        .err()
        .expect("refused");
    for e in [from_file, from_bytes] {
        assert!(
            matches!(e, LoadError::TooLarge { size: s, limit: l, .. } if s == size && l == limit),
            "{e:?}"
        );
        assert!(
            e.to_string().contains("runtime.max-component-size"),
            "the error names the key: {e}"
        );
    }
    // Within the limit the same component loads.
    let rt = runtime(64 << 20, Duration::from_secs(10));
    rt.load(PluginSource::File(CONNECTWISE_MANAGE_PATH.into()))
        .await
        .expect("loads under the default limit");
}

/// The same rule, as built today and as built for contract 0.1.0, gives the same verdicts.
#[tokio::test]
async fn the_example_rule_matches_another_interface_of_a_device() {
    let rt = runtime(64 << 20, Duration::from_secs(10));
    for path in [EXAMPLE_RULE_PATH, EXAMPLE_RULE_V0_1_0_PATH] {
        example_rule_verdicts(&rt, path).await;
    }
    let old = load(&rt, EXAMPLE_RULE_V0_1_0_PATH).await;
    assert_eq!(old.wit_version(), "psa:connector@0.1.0");
    assert_eq!(old.contract(), ContractVersion::V0_1);
}

async fn example_rule_verdicts(rt: &std::sync::Arc<psahost_sandbox::runtime::Runtime>, path: &str) {
    let rule = load(rt, path).await;
    let subject = serde_json::json!({
        "kind": "device", "id": "laptop-1", "raw": "{}",
        "fields": [["mac-address", "F8:75:A4:10:20:31"], ["model", "ThinkPad T14 Gen 3"]],
    });
    let candidates = serde_json::json!([
        {"entity": "configuration", "id": "10", "raw": "{}",
         "fields": [["mac-address", "f8-75-a4-10-20-2f"], ["model", "thinkpad-t14-gen3"]]},
        {"entity": "configuration", "id": "11", "raw": "{}",
         "fields": [["mac-address", "f8-75-a4-10-20-30"], ["model", "ThinkPad X1"]]},
    ]);
    let verdicts = psahost_sandbox::connector::call_json(
        rt,
        &rule,
        None,
        "evaluate",
        vec![subject, candidates],
    )
    .await
    .expect("evaluate runs");
    let verdicts = verdicts.as_array().expect("a list of verdicts");
    let by_id = |id: &str| {
        verdicts
            .iter()
            .find(|v| v["candidate-id"] == id)
            .expect("a verdict each")
    };
    assert_eq!(by_id("10")["matched"], true, "{verdicts:?}");
    assert_eq!(by_id("10")["score"], 70);
    assert_eq!(by_id("11")["matched"], false);
    assert!(
        by_id("11")["reason"]
            .as_str()
            .unwrap()
            .contains("models differ")
    );
}

/// A connector built for contract 0.1.0 loads as one: its description has the 0.2.0 additions
/// empty, and what 0.1.0 cannot express is answered by the host without calling it.
#[tokio::test]
async fn a_connector_built_for_contract_0_1_0_loads_and_is_adapted() {
    let rt = runtime(64 << 20, Duration::from_secs(10));
    let plugin = load(&rt, CONNECTWISE_MANAGE_V0_1_0_PATH).await;
    assert_eq!(plugin.wit_version(), "psa:connector@0.1.0");
    assert_eq!(plugin.export_name(), "psa:connector/connector-api@0.1.0");
    assert_eq!(plugin.contract(), ContractVersion::V0_1);
    let info = plugin.connector_info().expect("a connector");
    assert_eq!(info.id, "connectwise-manage");
    assert!(info.datasets.is_empty() && info.paging.is_empty());
    let kv = KvStore::temporary().unwrap();
    let conn = Connection::open(
        rt.clone(),
        plugin.clone(),
        "old",
        settings(
            &[
                ("site", "127.0.0.1:9"),
                ("company-id", "x"),
                ("public-key", "p"),
                ("private-key", "k"),
                ("client-id", "c"),
            ],
            &["private-key"],
        ),
        &grant(&[]),
        &kv,
    )
    .expect("opens");
    match conn
        .list_dataset("time-entries", PageRequest::first(10))
        .await
    {
        Err(ConnectorError::Psa(PsaError::InvalidInput(p))) => {
            assert_eq!(p.field, "dataset");
            assert!(p.message.contains("0.1.x"), "{}", p.message);
        }
        other => panic!("expected invalid-input, got {other:?}"),
    }
    let changes = ConfigurationChanges {
        configuration_type_id: Some("4".into()),
        ..ConfigurationChanges::none()
    };
    match conn.update_configuration("1".into(), changes).await {
        Err(ConnectorError::Psa(PsaError::Unsupported(m))) => {
            assert!(m.contains("type") && m.contains("0.2.0"), "{m}")
        }
        other => panic!("expected unsupported, got {other:?}"),
    }
    // Nothing was sent: the host answered both in the plugin's place.
    let stats = &conn.capabilities().http.stats;
    assert_eq!(stats.requests.load(std::sync::atomic::Ordering::Relaxed), 0);
    assert_eq!(stats.denied.load(std::sync::atomic::Ordering::Relaxed), 0);
}
